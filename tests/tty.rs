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
//! `role` in common/pty.rs, shared with tests/ways_out.rs) and exits.
mod common;
#[path = "common/pty.rs"]
mod pty;
use common::*;
use pty::*;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};
use std::process::{Command, Stdio};

/// Whether a `sleep` with this command line runs (mydocker's own command
/// line may contain the same words).
fn sleeping(cmdline: &[u8]) -> bool {
    processes_with(cmdline).into_iter().any(|p| comm(p) == "sleep")
}

fn rootfs() -> Option<String> {
    busybox_rootfs()
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
        // -e: an image run gets none of the caller's environment.
        Some(r) => cases.push(["run", "--rootfs", &r, "-e", "MYDOCKER_TTY_ROLE", "-v", &vol, "/attacker"].map(String::from).to_vec()),
        None => eprintln!("SKIP {}: the --rootfs row (no busybox rootfs in $MYDOCKER_ROOTFS)", module_path!()),
    }
    for case in &cases {
        let args: Vec<&str> = case.iter().map(|s| s.as_str()).collect();
        let (report, queued) = attack(md(&args));
        check_refused(&args, &report, queued);
    }
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

#[test]
fn ti_rootfs_sh_is_a_job_control_shell_on_a_terminal_of_its_own() {
    let r = need_rootfs!();
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
    // The terminal comes from the container's own devpts instance (nothing
    // of the host's ptys there), and is its /dev/console, which opens.
    t.type_in("echo PTS=$(ls /dev/pts | tr '\\n' ,); [ /dev/console -ef $(tty) ] && : >/dev/console && echo CON$((1+1))SOLE\n");
    t.expect(&mut seen, "CON2SOLE");
    assert!(seen.contains("PTS=0,ptmx,"), "not a devpts of its own:\n{seen}");
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

/// The caller's terminal goes away (its window closed, ssh dropped): the
/// container's terminal is hung up too, its shell ends, and mydocker exits
/// instead of leaving the container running, orphaned.
#[test]
fn a_hung_up_callers_terminal_ends_the_containers_session() {
    let r = need_rootfs!();
    let mut t = pty(24, 80);
    let mut c = t.spawn(md(&["run", "-ti", "--rootfs", &r, "sh"]));
    let mut seen = String::new();
    t.type_in("echo UP$((1+1))\n");
    t.expect(&mut seen, "UP2");
    drop(t);
    finish(&mut c, &seen);
}

/// Whatever reads a `-t` run's output goes away (`mydocker run -t yes |
/// head -2`): the container's terminal is hung up and the run ends, by
/// itself (yes's writes fail) or killed when its command lives on (a PID 1
/// ignores the SIGHUP): nothing left running with nobody to read it.
#[test]
fn a_t_run_whose_output_reader_is_gone_ends() {
    need_root!();
    let mut cases = vec![vec!["yes"], vec!["sh", "-c", "echo UP$((1+1)); exec sleep 987650"]];
    let r = rootfs();
    match &r {
        Some(r) => cases.push(vec!["--rootfs", r, "sh", "-c", "echo UP$((1+1)); exec sleep 987650"]),
        None => eprintln!("SKIP {}: the --rootfs row (no busybox rootfs in $MYDOCKER_ROOTFS)", module_path!()),
    }
    for args in cases {
        let t = pty(24, 80);
        let mut cmd = md(&["run", "-t"]);
        cmd.args(&args);
        let mut c = t.spawn_out(cmd, Stdio::piped());
        read_then_close(&mut c, if args[0] == "yes" { "y\r\ny\r\n" } else { "UP2" });
        let code = finish(&mut c, "");
        if args[0] == "yes" {
            // Its own status (1: a write failed), or 137 had it not ended
            // within the grace.
            assert!(code == 1 || code == 137, "{args:?}: {code}");
        } else {
            assert_eq!(code, 137, "{args:?}");
        }
        assert!(!sleeping(b"sleep\0987650"), "{args:?}: left running");
    }
}

/// Our stdout is non-blocking (a file description shared with the caller
/// that another program set O_NONBLOCK) and its reader slow: every byte
/// still arrives, none is dropped on EAGAIN.
#[test]
fn a_t_run_loses_no_output_on_a_full_non_blocking_stdout() {
    need_root!();
    let t = pty(24, 80);
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both fds are ours, now owned.
    let (r, w) = unsafe { (std::fs::File::from_raw_fd(fds[0]), std::os::fd::OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: F_SETFL on an fd we own.
    assert_eq!(unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) }, 0);
    let mut c = t.spawn_out(md(&["run", "-t", "sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x; echo END"]), Stdio::from(w));
    // Slow: the pipe (64 KiB) is full long before this starts reading.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut { r }, &mut got).unwrap();
    assert_eq!(finish(&mut c, ""), 0);
    let xs = got.iter().filter(|&&b| b == b'x').count();
    assert_eq!(xs, 1_000_000, "bytes lost; it ended with {:?}", String::from_utf8_lossy(&got[got.len().saturating_sub(20)..]));
    assert!(got.ends_with(b"END\r\n"), "{:?}", String::from_utf8_lossy(&got[got.len().saturating_sub(20)..]));
}

/// The caller's terminal hangs up under `-t` (with `-i` or without) and
/// the command ignores the hang-up (a PID 1 without a SIGHUP handler): it
/// is killed, and mydocker exits with 137.
#[test]
fn a_hung_up_callers_terminal_ends_a_t_run_whose_command_ignores_it() {
    need_root!();
    for flag in ["-t", "-ti"] {
        let mut t = pty(24, 80);
        let mut c = t.spawn(md(&["run", flag, "sh", "-c", "echo UP$((1+1)); exec sleep 987649"]));
        let mut seen = String::new();
        t.expect(&mut seen, "UP2");
        drop(t);
        assert_eq!(finish(&mut c, &seen), 137, "{flag}");
        assert!(!sleeping(b"sleep\0987649"), "{flag}: left running");
    }
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

/// The state letter of /proc/PID/stat (R, S, T, ...).
fn state(pid: u32) -> char {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    s.rsplit(") ").next().and_then(|r| r.chars().next()).unwrap_or('?')
}

#[test]
fn a_stopped_and_continued_relay_is_raw_again() {
    need_root!();
    let mut t = pty(24, 80);
    let before = t.termios();
    let mut c = t.spawn(md(&["run", "-ti", "sh"]));
    let mut seen = String::new();
    t.type_in("echo A$((1+1))B\n");
    t.expect(&mut seen, "A2B");
    let raw = t.termios();
    assert!(!same_mode(&raw, &before));
    // A job-control stop: mydocker stops like any foreground job, and the
    // caller's shell puts its own settings back meanwhile. (SIGSTOP: here
    // mydocker leads a session of its own, an orphaned process group, for
    // which the kernel drops SIGTSTP.)
    // SAFETY: plain kill of our own child.
    unsafe { libc::kill(c.id() as i32, libc::SIGSTOP) };
    eventually("mydocker to stop", || state(c.id()) == 'T');
    // SAFETY: the slave is an open terminal; before is a valid termios.
    unsafe { libc::tcsetattr(t.slave.as_raw_fd(), libc::TCSANOW, &before) };
    // `fg`: SIGCONT, and the relay is raw again.
    // SAFETY: as above.
    unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
    eventually("raw mode again", || same_mode(&t.termios(), &raw));
    t.type_in("exit 3\n");
    assert_eq!(finish(&mut c, &seen), 3, "{seen}");
    assert!(same_mode(&t.termios(), &before));
}

#[test]
fn ctrl_c_on_the_callers_keyboard_ends_a_command_under_init() {
    need_root!();
    // Under --init the command is PID 2, which a SIGINT ends (a PID 1
    // without a handler would ignore it, as in docker).
    let mut t = pty(24, 80);
    let before = t.termios();
    let mut c = t.spawn(md(&["run", "-ti", "--init", "sleep", "987652"]));
    eventually("sleep to run", || sleeping(b"sleep\0987652"));
    t.type_in("\x03");
    let seen = String::new();
    assert_eq!(finish(&mut c, &seen), 130);
    assert!(same_mode(&t.termios(), &before), "the caller's terminal was not restored");
}

#[test]
fn the_terminal_belongs_to_the_containers_user() {
    let r = need_rootfs!();
    let mut t = pty(24, 80);
    // -u 1000: it can reopen its own terminal, as with runc and docker.
    let script = "echo U=$(stat -c %u:%g $(tty)); echo hi >$(tty) && echo RE$((1+1))OPENED";
    let mut c = t.spawn(md(&["run", "-ti", "--rootfs", &r, "-u", "1000:1000", "sh", "-c", script]));
    let mut seen = String::new();
    t.expect(&mut seen, "RE2OPENED");
    assert_eq!(finish(&mut c, &seen), 0, "{seen}");
    assert!(seen.contains("U=1000:1000"), "{seen}");
}
