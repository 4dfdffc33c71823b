//! A pseudo-terminal driven from a test, as an interactive shell's
//! terminal would be, and the TIOCSTI attacker: included by the suites that
//! need them (`#[path = "common/pty.rs"] mod pty;`), not by every one, since
//! it adds a hook that runs before main.
#![allow(dead_code)]
use crate::common::*;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the injection role pushes: a command the caller's shell would run.
pub const PAYLOAD: &[u8] = b"echo INJECTED\n";

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

pub fn errname(e: i32) -> String {
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
pub struct Pty {
    pub master: File,
    pub slave: OwnedFd,
}

pub fn pty(rows: u16, cols: u16) -> Pty {
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
    pub fn stdio(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().unwrap())
    }

    /// Starts `cmd` as an interactive shell's foreground job would run on
    /// this terminal: a session leader whose controlling terminal it is.
    pub fn spawn(&self, cmd: Command) -> Child {
        self.spawn_out(cmd, self.stdio())
    }

    /// `spawn` with `stdout` as its stdout (`mydocker run -t … | head`).
    pub fn spawn_out(&self, mut cmd: Command, stdout: Stdio) -> Child {
        cmd.stdin(self.stdio()).stdout(stdout).stderr(self.stdio());
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

    pub fn termios(&self) -> libc::termios {
        // SAFETY: t is a valid termios to fill.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: the slave is an open terminal.
        assert_eq!(unsafe { libc::tcgetattr(self.slave.as_raw_fd(), &mut t) }, 0);
        t
    }

    /// Puts the terminal in raw mode (as a full-screen program would): no
    /// echo, and every queued byte counts for `queued`.
    pub fn make_raw(&self) {
        let mut t = self.termios();
        // SAFETY: t is a valid termios; the slave an open terminal.
        unsafe {
            libc::cfmakeraw(&mut t);
            assert_eq!(libc::tcsetattr(self.slave.as_raw_fd(), libc::TCSANOW, &t), 0);
        }
    }

    /// Bytes waiting in the terminal's input queue: what the caller's shell
    /// would read next.
    pub fn queued(&self) -> i32 {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD takes a pointer to an int.
        assert_eq!(unsafe { libc::ioctl(self.slave.as_raw_fd(), libc::FIONREAD, &mut n) }, 0);
        n
    }

    pub fn resize(&self, rows: u16, cols: u16) {
        let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ takes a pointer to a winsize.
        assert_eq!(unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) }, 0);
    }

    pub fn type_in(&mut self, s: &str) {
        self.master.write_all(s.as_bytes()).unwrap();
    }

    /// Reads what the terminal shows until `needle` appears; the whole
    /// transcript so far is returned (and shown if it never appears).
    pub fn expect(&mut self, seen: &mut String, needle: &str) {
        read_until(&mut self.master, seen, needle)
    }
}

/// Reads what a terminal's master shows until `needle` appears (bounded:
/// a hang fails, with the transcript so far).
pub fn read_until(master: &mut File, seen: &mut String, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "never saw {needle:?}; the terminal showed:\n{seen}");
        let mut p = libc::pollfd { fd: master.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut p, 1, left.as_millis().min(1000) as i32) } <= 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        match master.read(&mut buf) {
            Ok(0) | Err(_) => panic!("terminal closed before {needle:?}; it showed:\n{seen}"),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
}

/// The receiving side of an OCI --console-socket, as conmon has it: one
/// message carrying the master (SCM_RIGHTS) and its name as data.
pub fn recv_master(sock: &std::os::unix::net::UnixStream) -> (File, String) {
    let mut data = [0u8; 64];
    let mut cbuf = [0u64; 4];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    // SAFETY: a zeroed msghdr pointing at live buffers; the control data is
    // read only through the CMSG macros within what the kernel filled.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
        let n = libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        assert!(n > 0, "no message on the console socket: {}", std::io::Error::last_os_error());
        let c = libc::CMSG_FIRSTHDR(&msg);
        assert!(!c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS, "no fd on the console socket");
        let fd = (libc::CMSG_DATA(c) as *const libc::c_int).read_unaligned();
        (File::from_raw_fd(fd), String::from_utf8_lossy(&data[..n as usize]).into_owned())
    }
}

/// Waits for `c` (bounded, so a hang fails instead of stalling the suite).
pub fn finish(c: &mut Child, seen: &str) -> i32 {
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

pub fn md(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args);
    c
}

/// The attacker `cmd` (this binary as MYDOCKER_TTY_ROLE=sti, run by
/// mydocker or directly) started from the caller's terminal: returns its
/// report and how many bytes it left in the caller's input queue.
pub fn attack(mut cmd: Command) -> (String, i32) {
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

pub fn check_refused(args: &[&str], report: &str, queued: i32) {
    for fd in ["fd0=", "fd1=", "fd2=", "tty="] {
        let v = report.split_whitespace().find_map(|w| w.strip_prefix(fd));
        assert!(v.is_some_and(|v| v != "OK"), "{args:?}: {fd} was not refused: {report}");
    }
    assert!(report.contains("fd0=EPERM"), "{args:?}: {report}");
    assert_eq!(queued, 0, "{args:?}: bytes reached the caller's input queue: {report}");
}

/// Compares what matters of two terminal settings.
pub fn same_mode(a: &libc::termios, b: &libc::termios) -> bool {
    (a.c_iflag, a.c_oflag, a.c_cflag, a.c_lflag) == (b.c_iflag, b.c_oflag, b.c_cflag, b.c_lflag)
}

/// Reads `c`'s piped stdout until `needle` appears, then closes it: the
/// reader goes away, as `head` does.
pub fn read_then_close(c: &mut Child, needle: &str) {
    let mut out = c.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => panic!("output ended before {needle:?}: {}", String::from_utf8_lossy(&seen)),
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}
