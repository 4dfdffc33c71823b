//! -t, parent side: relay between the container's terminal (the master)
//! and mydocker's own stdin/stdout, take signals from a signalfd meanwhile,
//! and keep the caller's terminal in raw mode only while relaying.
//!
//! One poll loop, fixed buffers, no allocation. The master is non-blocking
//! (its open file description is ours alone); the caller's stdin and stdout
//! are not touched that way (they are shared with the caller's shell).
use crate::err::{Error, Step};
use crate::spawn::{on_signal, WAITED};
use crate::sys::tty::{self, RawMode, IN, OUT, READY};
use crate::sys::{self, Errno, Fd};

/// Relays until the container has exited and its terminal is drained;
/// returns Ok(wait status), or Err(exit code) when waiting failed.
/// `input`: -i, the caller's stdin goes to the container's terminal and the
/// caller's terminal is raw meanwhile (every key, Ctrl-C included, then
/// reaches the container's terminal, whose line discipline turns it into a
/// signal for its foreground job).
pub fn run(pid: libc::pid_t, master: Fd, input: bool) -> Result<i32, i32> {
    let mut sfd = -1;
    let r = tty::set_nonblock(master).and_then(|_| {
        sfd = tty::signalfd(WAITED)?;
        // Dropped before this returns, so before the caller prints
        // anything: restores the caller's settings.
        let raw = if input { RawMode::enter(0).ok() } else { None };
        relay(pid, master, sfd, input, raw.as_ref())
    });
    sys::close(sfd);
    sys::close(master);
    r.unwrap_or_else(|e| {
        // Nothing can be relayed: the container's terminal is hung up (its
        // session gets SIGHUP, the master is closed); wait the plain way.
        Error { step: Step::Relay, errno: e }.report(None);
        crate::spawn::forward_and_wait(pid)
    })
}

/// Input read from stdin and not yet taken by the container's terminal.
struct Pending {
    buf: [u8; 4096],
    off: usize,
    len: usize,
}

/// Ok(what `run` returns), or Err when poll itself fails (with the child
/// not yet reaped).
fn relay(pid: libc::pid_t, master: Fd, sfd: Fd, input: bool, raw: Option<&RawMode>) -> Result<Result<i32, i32>, Errno> {
    let mut out = [0u8; 4096];
    let mut inq = Pending { buf: [0; 4096], off: 0, len: 0 };
    let (mut stdin_open, mut master_open, mut stdout_ok) = (input, true, true);
    let mut status = None;
    loop {
        // Done once the child is reaped and its terminal drained: the
        // slave's last holder is gone with the container's PID namespace,
        // and the master then reads what was left, then EIO.
        if let (Some(done), false) = (status, master_open) {
            return Ok(done);
        }
        let pending = inq.off < inq.len;
        let mut fds = [
            tty::pollfd(sfd, IN),
            tty::pollfd(if master_open { master } else { -1 }, IN | if pending { OUT } else { 0 }),
            tty::pollfd(if stdin_open && !pending { 0 } else { -1 }, IN),
        ];
        if let Err(e) = tty::poll(&mut fds) {
            return status.ok_or(e);
        }
        if fds[0].revents != 0 {
            while let Some(sig) = tty::read_signal(sfd) {
                // `fg` after a stop: the shell had its own settings back.
                if sig == libc::SIGCONT {
                    raw.map(RawMode::again);
                }
                if let Some(done) = on_signal(pid, sig, Some(master)) {
                    status = Some(done);
                }
            }
        }
        if fds[1].revents & READY != 0 {
            match sys::read(master, &mut out) {
                Ok(0) => master_open = false,
                Ok(n) => {
                    // A caller that stopped reading loses the rest, but the
                    // container never blocks on it.
                    stdout_ok = stdout_ok && sys::write_all(1, &out[..n]).is_ok();
                }
                Err(Errno(libc::EAGAIN)) => {}
                // EIO: every slave fd is closed and nothing is left to read.
                Err(_) => master_open = false,
            }
        }
        if fds[1].revents & OUT != 0 {
            match tty::write_some(master, &inq.buf[inq.off..inq.len]) {
                Ok(n) => inq.off += n,
                Err(Errno(libc::EAGAIN)) => {}
                Err(_) => inq.off = inq.len,
            }
        }
        if fds[2].revents & READY != 0 {
            match sys::read(0, &mut inq.buf) {
                Ok(n) if n > 0 => (inq.off, inq.len) = (0, n),
                // EOF or a hung-up terminal: the caller's terminal is gone
                // (raw, it reads 0 only then). The container's is hung up
                // too, as sshd does when its client goes: the session there
                // reads EOF and ends, where a forwarded SIGHUP would not
                // reach a PID 1 without a handler. Else it ran on, orphaned.
                _ => {
                    stdin_open = false;
                    master_open = !hang_up(master);
                }
            }
        }
    }
}

/// Closes the container's terminal master in place (/dev/null takes over
/// its fd number, which `run` still closes once): the kernel hangs the
/// slave up. false if that could not be done (then it stays relayed).
fn hang_up(master: Fd) -> bool {
    let Ok(null) = sys::openat_c(sys::CWD, c"/dev/null", libc::O_RDWR | libc::O_CLOEXEC) else { return false };
    let done = sys::tty::dup_to(null, master).is_ok();
    sys::close(null);
    done
}
