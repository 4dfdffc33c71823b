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

/// Bytes read from one side and not yet taken by the other: the caller's
/// input for the container's terminal, or its output for our stdout.
struct Pending {
    buf: [u8; 4096],
    off: usize,
    len: usize,
}

impl Pending {
    fn waiting(&self) -> bool {
        self.off < self.len
    }

    /// Writes what `fd` takes of what waits; false if that failed other
    /// than with EAGAIN (full, non-blocking: the rest waits for POLLOUT).
    fn flush(&mut self, fd: Fd) -> bool {
        match tty::write_some(fd, self.buf.get(self.off..self.len).unwrap_or(&[])) {
            Ok(n) => self.off += n,
            Err(e) => return e.0 == libc::EAGAIN,
        }
        true
    }
}

/// How long a container whose caller is gone has, once its terminal is
/// hung up, to end by itself before it is killed (ms).
const GRACE_MS: i32 = 2000;

/// Ok(what `run` returns), or Err when poll itself fails (with the child
/// not yet reaped).
///
/// The caller is gone when its terminal hangs up (the window closed, ssh
/// dropped) or whatever reads our stdout goes away (`| head -2`): nobody
/// can see the container or type into it any more. Its terminal is then
/// hung up too, as sshd does when its client goes: the kernel sends SIGHUP
/// to its session and its reads and writes fail from then on (a forwarded
/// SIGHUP would not do: a PID 1 without a handler ignores it, and writes
/// EIO, not EPIPE, end `yes`). What still runs GRACE_MS later is killed,
/// as the run's end kills what is left: a foreground run leaves nothing
/// running with nobody to read it. The status is what PID 1 ended with:
/// its own, or 137.
fn relay(pid: libc::pid_t, master: Fd, sfd: Fd, input: bool, raw: Option<&RawMode>) -> Result<Result<i32, i32>, Errno> {
    let mut outq = Pending { buf: [0; 4096], off: 0, len: 0 };
    let mut inq = Pending { buf: [0; 4096], off: 0, len: 0 };
    let (mut master_open, mut gone) = (true, false);
    let mut status = None;
    loop {
        let (pend_in, pend_out) = (inq.waiting(), outq.waiting());
        // Done once the child is reaped, its terminal drained (the slave's
        // last holder is gone with the container's PID namespace, and the
        // master then reads what was left, then EIO) and all of it written.
        if let (Some(done), false, false) = (status, master_open, pend_out) {
            return Ok(done);
        }
        let caller = |fd| if gone { -1 } else { fd };
        let mut fds = [
            tty::pollfd(sfd, IN),
            // Not while output waits for our stdout (a slow reader, or a
            // full non-blocking stdout of the caller's): the container's
            // terminal then fills and blocks it, as any slow reader does.
            tty::pollfd(if master_open && !pend_out { master } else { -1 }, IN | if pend_in { OUT } else { 0 }),
            // The caller's terminal: read with -i, else only watched for a
            // hang-up (events 0: POLLHUP comes anyway).
            tty::pollfd(caller(0), if input && !pend_in { IN } else { 0 }),
            // Our stdout: writable again, or POLLERR once a pipe's reader
            // is gone, POLLHUP on a hung-up terminal (nothing on a file).
            tty::pollfd(caller(1), if pend_out { OUT } else { 0 }),
        ];
        // (A signal taken meanwhile restarts the grace: rare, harmless.)
        match tty::poll(&mut fds, if gone { GRACE_MS } else { -1 }) {
            // Not once reaped: the pid may be another process's by now.
            Ok(0) if status.is_none() => {
                let _ = sys::kill(pid, libc::SIGKILL);
            }
            Err(e) => return status.ok_or(e),
            _ => {}
        }
        let mut hup = fds[3].revents & !OUT != 0;
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
            match sys::read(master, &mut outq.buf) {
                Ok(0) => master_open = false,
                Ok(n) => (outq.off, outq.len) = (0, n),
                Err(Errno(libc::EAGAIN)) => {}
                // EIO: every slave fd is closed and nothing is left to read.
                Err(_) => master_open = false,
            }
        }
        // Failing other than full: the reader of our stdout is gone.
        if outq.waiting() && !outq.flush(1) {
            hup = true;
        }
        if fds[1].revents & OUT != 0 && !inq.flush(master) {
            inq.off = inq.len;
        }
        if fds[2].revents & READY != 0 {
            // EOF, an error or no -i: the terminal hung up (raw, it reads
            // 0 only then).
            match if input && !pend_in { sys::read(0, &mut inq.buf) } else { Ok(0) } {
                Ok(n) if n > 0 => (inq.off, inq.len) = (0, n),
                _ => hup = true,
            }
        }
        if hup && !gone {
            gone = true;
            outq.off = outq.len;
            master_open = !hang_up(master);
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
