//! The caller's terminal (issue 11 part 2, the bubblewrap CVE-2017-5226
//! class): the container never has it as its controlling terminal.
//!
//! Every test drives a pseudo-terminal from here (openpty), as an
//! interactive shell's terminal would be: mydocker is started as a session
//! leader with the pty's slave as its controlling terminal and as its 0, 1,
//! 2. No script(1) or tmux needed, so the same tests run in the QEMU guests.
//!
//! The injection attempts run this very test binary inside the container:
//! with MYDOCKER_TTY_ROLE=sti set, it does the attack before main (see
//! `role`) and exits.
mod common;
use common::*;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the injection role pushes: a command the caller's shell would run.
const PAYLOAD: &[u8] = b"echo INJECTED\n";

/// Runs before main in every process of this binary: as the attacker
/// (MYDOCKER_TTY_ROLE=sti), tries TIOCSTI on fds 0, 1, 2 and on /dev/tty,
/// prints one line `STI fd0=<result> fd1=... tty=... END` and exits.
#[used]
#[link_section = ".init_array"]
static ROLE: extern "C" fn() = role;

extern "C" fn role() {
    if std::env::var_os("MYDOCKER_TTY_ROLE").as_deref() != Some(std::ffi::OsStr::new("sti")) {
        return;
    }
    let sti = |fd: i32| -> String {
        for b in PAYLOAD {
            // SAFETY: TIOCSTI takes a pointer to one byte.
            if unsafe { libc::ioctl(fd, libc::TIOCSTI, b as *const u8) } != 0 {
                return errname(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
            }
        }
        "OK".into()
    };
    let mut line = String::from("STI");
    for fd in 0..3 {
        line += &format!(" fd{fd}={}", sti(fd));
    }
    match std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
        Ok(f) => line += &format!(" tty={}", sti(f.as_raw_fd())),
        Err(e) => line += &format!(" tty=open:{}", errname(e.raw_os_error().unwrap_or(0))),
    }
    line += " END\n";
    let _ = std::io::stdout().write_all(line.as_bytes());
    std::process::exit(0);
}

fn errname(e: i32) -> String {
    match e {
        libc::EPERM => "EPERM".into(),
        libc::EIO => "EIO".into(),
        libc::ENXIO => "ENXIO".into(),
        libc::ENOTTY => "ENOTTY".into(),
        libc::EACCES => "EACCES".into(),
        e => format!("errno{e}"),
    }
}

/// A pseudo-terminal pair, both ends close-on-exec (mydocker inherits only
/// the slave, as its 0, 1, 2).
struct Pty {
    master: File,
    slave: OwnedFd,
}

fn pty(rows: u16, cols: u16) -> Pty {
    let (mut m, mut s) = (-1, -1);
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: m and s are valid out-pointers; no name buffer; termios null
    // (defaults); ws is a valid winsize.
    let r = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    for fd in [m, s] {
        // SAFETY: fds we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: both fds are open and now owned by the returned values.
    unsafe { Pty { master: File::from_raw_fd(m), slave: OwnedFd::from_raw_fd(s) } }
}

impl Pty {
    fn stdio(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().unwrap())
    }

    /// Starts `cmd` as an interactive shell's foreground job would run on
    /// this terminal: a session leader whose controlling terminal it is.
    fn spawn(&self, mut cmd: Command) -> Child {
        cmd.stdin(self.stdio()).stdout(self.stdio()).stderr(self.stdio());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.spawn().expect("spawn on the pty")
    }

    fn termios(&self) -> libc::termios {
        // SAFETY: t is a valid termios to fill.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: the slave is an open terminal.
        assert_eq!(unsafe { libc::tcgetattr(self.slave.as_raw_fd(), &mut t) }, 0);
        t
    }

    /// Puts the terminal in raw mode (as a full-screen program would): no
    /// echo, and every queued byte counts for `queued`.
    fn make_raw(&self) {
        let mut t = self.termios();
        // SAFETY: t is a valid termios; the slave an open terminal.
        unsafe {
            libc::cfmakeraw(&mut t);
            assert_eq!(libc::tcsetattr(self.slave.as_raw_fd(), libc::TCSANOW, &t), 0);
        }
    }

    /// Bytes waiting in the terminal's input queue: what the caller's shell
    /// would read next.
    fn queued(&self) -> i32 {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD takes a pointer to an int.
        assert_eq!(unsafe { libc::ioctl(self.slave.as_raw_fd(), libc::FIONREAD, &mut n) }, 0);
        n
    }

    fn resize(&self, rows: u16, cols: u16) {
        let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ takes a pointer to a winsize.
        assert_eq!(unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) }, 0);
    }

    fn type_in(&mut self, s: &str) {
        self.master.write_all(s.as_bytes()).unwrap();
    }

    /// Reads what the terminal shows until `needle` appears; the whole
    /// transcript so far is returned (and shown if it never appears).
    fn expect(&mut self, seen: &mut String, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "never saw {needle:?}; the terminal showed:\n{seen}");
            let mut p = libc::pollfd { fd: self.master.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut p, 1, left.as_millis().min(1000) as i32) } <= 0 {
                continue;
            }
            let mut buf = [0u8; 4096];
            match self.master.read(&mut buf) {
                Ok(0) | Err(_) => panic!("terminal closed before {needle:?}; it showed:\n{seen}"),
                Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
    }
}

/// Waits for `c` (bounded, so a hang fails instead of stalling the suite).
fn finish(c: &mut Child, seen: &str) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = c.kill();
            panic!("mydocker did not exit; the terminal showed:\n{seen}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether a `sleep` with this command line runs (mydocker's own command
/// line may contain the same words).
fn sleeping(cmdline: &[u8]) -> bool {
    processes_with(cmdline).into_iter().any(|p| comm(p) == "sleep")
}

fn rootfs() -> Option<String> {
    let r = std::env::var("MYDOCKER_ROOTFS").ok()?;
    std::path::Path::new(&r).join("bin/busybox").exists().then_some(r)
}

fn md(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args);
    c
}

/// The attacker `cmd` (this binary as MYDOCKER_TTY_ROLE=sti, run by
/// mydocker or directly) started from the caller's terminal: returns its
/// report and how many bytes it left in the caller's input queue.
fn attack(mut cmd: Command) -> (String, i32) {
    let mut t = pty(24, 80);
    t.make_raw();
    cmd.env("MYDOCKER_TTY_ROLE", "sti");
    let mut c = t.spawn(cmd);
    let mut seen = String::new();
    t.expect(&mut seen, " END");
    assert_eq!(finish(&mut c, &seen), 0, "the attacker did not run to the end: {seen}");
    let report = seen.lines().find(|l| l.contains("STI ")).unwrap_or_default().trim().to_string();
    (report, t.queued())
}

#[test]
fn without_t_the_container_cannot_push_input_into_the_callers_terminal() {
    need_root!();
    // The control: the same attacker in the caller's own session succeeds,
    // so this harness does see an injection when there is one.
    let exe = std::env::current_exe().unwrap();
    let (report, queued) = attack(Command::new(&exe));
    if !report.contains("fd0=OK") {
        eprintln!("SKIP {}: TIOCSTI is refused even in the caller's own session here ({report})", module_path!());
        return;
    }
    assert_eq!(queued, PAYLOAD.len() as i32 * 4, "control: {report}");

    let host = exe.display().to_string();
    let vol = format!("{host}:/attacker:ro");
    let mut cases: Vec<Vec<String>> =
        vec![vec!["run".into(), host.clone()], vec!["run".into(), "--init".into(), host.clone()]];
    match rootfs() {
        Some(r) => cases.push(vec!["run".into(), "--rootfs".into(), r, "-v".into(), vol, "/attacker".into()]),
        None => eprintln!("SKIP {}: the --rootfs row (no busybox rootfs in $MYDOCKER_ROOTFS)", module_path!()),
    }
    for case in &cases {
        let args: Vec<&str> = case.iter().map(|s| s.as_str()).collect();
        let (report, queued) = attack(md(&args));
        check_refused(&args, &report, queued);
    }
}

fn check_refused(args: &[&str], report: &str, queued: i32) {
    for fd in ["fd0=", "fd1=", "fd2=", "tty="] {
        let v = report.split_whitespace().find_map(|w| w.strip_prefix(fd));
        assert!(v.is_some_and(|v| v != "OK"), "{args:?}: {fd} was not refused: {report}");
    }
    assert!(report.contains("fd0=EPERM"), "{args:?}: {report}");
    assert_eq!(queued, 0, "{args:?}: bytes reached the caller's input queue: {report}");
}

#[test]
fn with_t_injection_stays_in_the_containers_own_terminal() {
    need_root!();
    let mut t = pty(24, 80);
    let exe = std::env::current_exe().unwrap();
    let mut cmd = md(&["run", "-ti"]);
    cmd.arg(&exe).env("MYDOCKER_TTY_ROLE", "sti");
    let mut c = t.spawn(cmd);
    let mut seen = String::new();
    t.expect(&mut seen, " END");
    assert_eq!(finish(&mut c, &seen), 0, "{seen}");
    // Its own terminal is its controlling terminal, so the push works —
    // into a terminal that ends with the container.
    assert!(seen.contains("fd0=OK"), "{seen}");
    assert_eq!(t.queued(), 0, "bytes reached the caller's input queue: {seen}");
}

#[test]
fn t_without_a_terminal_on_stdin_is_one_line_and_125() {
    need_root!();
    for args in [&["run", "-t", "true"][..], &["run", "-ti", "true"], &["run", "-it", "--rootfs", "/nonexistent", "sh"]] {
        let o = mydocker(args).output().unwrap();
        fails(&o, 125, "mydocker: run: the input device is not a TTY");
        let o = mydocker(args).stdin(Stdio::piped()).output().unwrap();
        fails(&o, 125, "the input device is not a TTY");
    }
    // -i alone still passes stdin as it is.
    let mut c = mydocker(["run", "-i", "cat"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(b"piped\n").unwrap();
    assert_eq!(String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout), "piped\n");
}

/// Compares what matters of two terminal settings.
fn same_mode(a: &libc::termios, b: &libc::termios) -> bool {
    (a.c_iflag, a.c_oflag, a.c_cflag, a.c_lflag) == (b.c_iflag, b.c_oflag, b.c_cflag, b.c_lflag)
}

#[test]
fn ti_rootfs_sh_is_a_job_control_shell_on_a_terminal_of_its_own() {
    need_root!();
    let Some(r) = rootfs() else {
        eprintln!("SKIP {}: no busybox rootfs in $MYDOCKER_ROOTFS (make rootfs)", module_path!());
        return;
    };
    let mut t = pty(40, 100);
    let before = t.termios();
    let mut c = t.spawn(md(&["run", "-ti", "--rootfs", &r, "sh"]));
    let mut seen = String::new();
    // Arithmetic in the markers: the echo of the typed line never matches.
    t.type_in("tty; case $- in *m*) echo JOB$((6*7));; esac; stty size; echo A$((1+1))B\n");
    t.expect(&mut seen, "A2B");
    assert!(seen.contains("/dev/pts/"), "tty did not name a terminal:\n{seen}");
    assert!(!seen.contains("not a tty"), "{seen}");
    assert!(seen.contains("JOB42"), "no job control (set -m off):\n{seen}");
    assert!(seen.contains("40 100"), "the window size did not arrive:\n{seen}");
    assert!(!seen.contains("job control turned off"), "{seen}");
    // While it runs, the caller's terminal is raw: keys go through as is.
    assert!(!same_mode(&t.termios(), &before), "the caller's terminal is not in raw mode");

    // Ctrl-C reaches the foreground job inside (it dies of SIGINT), and
    // the shell lives on.
    t.type_in("sleep 987654\n");
    eventually("sleep to run", || sleeping(b"sleep\0987654"));
    t.type_in("\x03");
    eventually("sleep to end", || !sleeping(b"sleep\0987654"));
    t.type_in("echo rc=$((0+$?))\n");
    t.expect(&mut seen, "rc=130");
    t.type_in("exit 7\n");
    assert_eq!(finish(&mut c, &seen), 7, "{seen}");
    assert!(same_mode(&t.termios(), &before), "the caller's terminal was not restored");
}

#[test]
fn ti_without_rootfs_gets_a_host_pty_that_is_not_the_callers() {
    need_root!();
    let mut t = pty(24, 80);
    // SAFETY: the slave is an open terminal; ptsname of the master.
    let caller = unsafe {
        std::ffi::CStr::from_ptr(libc::ptsname(t.master.as_raw_fd())).to_string_lossy().into_owned()
    };
    let mut c = t.spawn(md(&["run", "-ti", "sh", "-c", "echo T=$(tty) END$((1+1))"]));
    let mut seen = String::new();
    t.expect(&mut seen, "END2");
    assert_eq!(finish(&mut c, &seen), 0, "{seen}");
    let name = seen.split_whitespace().find_map(|w| w.strip_prefix("T=")).unwrap_or("").to_string();
    assert!(name.starts_with("/dev/pts/"), "{seen}");
    assert_ne!(name, caller, "the container got the caller's terminal");
}

#[test]
fn the_callers_terminal_is_restored_on_every_exit_path() {
    need_root!();
    let r = rootfs();
    let mut cases: Vec<(Vec<String>, i32, &str)> = vec![
        (vec!["sh".into(), "-c".into(), "exit 3".into()], 3, ""),
        (vec!["nosuchcommand".into()], 127, "mydocker: exec: nosuchcommand"),
        (vec!["--init".into(), "sleep".into(), "987653".into()], 143, ""),
    ];
    if let Some(r) = &r {
        cases.push((vec!["--rootfs".into(), r.clone(), "-v".into(), "/nonexistent:/x".into(), "true".into()], 125, "mydocker: run: --volume"));
        cases.push((vec!["--rootfs".into(), r.clone(), "-w".into(), "/etc/passwd".into(), "true".into()], 125, "mydocker: workdir: /etc/passwd"));
    } else {
        eprintln!("SKIP {}: the --rootfs rows (no busybox rootfs in $MYDOCKER_ROOTFS)", module_path!());
    }
    for (args, want, says) in cases {
        let mut t = pty(24, 80);
        let before = t.termios();
        let mut all = vec!["run".to_string(), "-ti".into()];
        all.extend(args);
        let a: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
        let mut c = t.spawn(md(&a));
        let mut seen = String::new();
        if want == 143 {
            // Killed through a forwarded signal: TERM to mydocker.
            eventually("sleep to run", || sleeping(b"sleep\0987653"));
            // SAFETY: plain kill of our own child.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        }
        let code = finish(&mut c, &seen);
        // What it printed (the error line among it) shows up on the terminal.
        t.expect(&mut seen, says);
        assert_eq!(code, want, "{a:?}: {seen}");
        assert!(same_mode(&t.termios(), &before), "{a:?}: the caller's terminal was not restored");
    }
}

#[test]
fn window_size_changes_reach_the_container() {
    need_root!();
    let mut t = pty(24, 80);
    let mut c = t.spawn(md(&["run", "-ti", "sh"]));
    let mut seen = String::new();
    t.type_in("stty size; echo A$((1+1))B\n");
    t.expect(&mut seen, "A2B");
    assert!(seen.contains("24 80"), "{seen}");
    // The caller's terminal changes size: its foreground job (mydocker)
    // gets SIGWINCH and passes the size on.
    t.resize(50, 132);
    let mut n = 0;
    while !seen.contains("50 132") {
        n += 1;
        assert!(n < 600, "the new size never arrived:\n{seen}");
        t.type_in(&format!("stty size; echo W{n}$((1+1))\n"));
        t.expect(&mut seen, &format!("W{n}2"));
    }
    t.type_in("exit\n");
    assert_eq!(finish(&mut c, &seen), 0, "{seen}");
}

#[test]
fn everything_the_container_writes_reaches_the_caller() {
    need_root!();
    let mut t = pty(24, 80);
    let script = "i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done; echo LAST$((1+1))";
    let mut c = t.spawn(md(&["run", "-ti", "sh", "-c", script]));
    let mut seen = String::new();
    t.expect(&mut seen, "LAST2");
    assert_eq!(finish(&mut c, &seen), 0);
    for i in [0, 1500, 2999] {
        assert!(seen.contains(&format!("line{i}\r\n")), "line{i} missing");
    }
}

#[test]
fn the_readmes_first_command_line_works_from_a_terminal() {
    need_root!();
    need_ctrl!("memory");
    need_ctrl!("cpuset");
    need_ctrl!("cpu");
    // `-cpuset 1` in the README; CPU 0 exists on every machine.
    let mut t = pty(24, 80);
    let mut c = t.spawn(md(&["run", "-ti", "-m", "100m", "-cpuset", "0", "-cpushare", "512", "/bin/sh"]));
    let mut seen = String::new();
    t.type_in("echo N=$(grep -c /mydocker/ /proc/self/cgroup)X; echo A$((1+1))B; exit 5\n");
    t.expect(&mut seen, "A2B");
    assert_eq!(finish(&mut c, &seen), 5, "{seen}");
    let n = seen.split_whitespace().find_map(|w| w.strip_prefix("N=")?.strip_suffix('X')?.parse::<u32>().ok());
    assert!(n.is_some_and(|n| n >= 1), "not in its cgroups:\n{seen}");
}

#[test]
fn t_without_i_gives_a_terminal_but_leaves_the_callers_input_alone() {
    need_root!();
    let mut t = pty(24, 80);
    // Typed ahead, before mydocker starts: the caller's shell gets it next.
    t.type_in("typed ahead\n");
    // Typed bytes reach the input queue through the kernel's flip buffer,
    // a moment later.
    let queued = "typed ahead\n".len() as i32;
    eventually("the typed line to be queued", || t.queued() == queued);
    let before = t.termios();
    let mut c = t.spawn(md(&["run", "-t", "sh", "-c", "echo T=$(tty) END$((1+1))"]));
    let mut seen = String::new();
    t.expect(&mut seen, "END2");
    assert_eq!(finish(&mut c, &seen), 0, "{seen}");
    assert!(seen.contains("T=/dev/pts/"), "{seen}");
    assert_eq!(t.queued(), queued, "mydocker read the caller's input without -i");
    assert!(same_mode(&t.termios(), &before), "the caller's terminal mode changed without -i");
}
