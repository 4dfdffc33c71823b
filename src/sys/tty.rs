//! Terminals, fd passing and event waiting: termios and window sizes, the
//! pseudo-terminal calls (ptmx, TIOCGPTPEER, TIOCSCTTY), sessions, SCM_RIGHTS
//! over a socketpair, poll(2) and signalfd(2). Thin wrappers, as in mod.rs:
//! errno captured at the failing call, EINTR retried in `retry`.
use super::{close, cptr, cvt, retry, Errno, Fd, SigSet};
use core::ffi::{c_int, c_void};
use core::mem::{size_of, zeroed};

/// The window size: rows, columns, and the two pixel sizes (struct winsize).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Winsize(pub [u16; 4]);

/// A terminal's settings (struct termios), opaque to the rest of mydocker.
#[derive(Clone, Copy)]
pub struct Termios(libc::termios);

/// The result as an int (an fd for TIOCGPTPEER): a Result of one travels
/// in a register, one of a c_long through memory.
fn ioctl(fd: Fd, req: libc::c_ulong, arg: *mut c_void) -> Result<c_int, Errno> {
    // SAFETY: every caller passes a request whose argument is `arg` as the
    // kernel expects it (a pointer to a live value of the right type, or an
    // integer cast to a pointer).
    retry(|| unsafe { sc!(libc::SYS_ioctl, fd, req, arg) }).map(|r| r as c_int)
}

/// Whether `fd` is a terminal (TCGETS succeeds on it).
pub fn is_tty(fd: Fd) -> bool {
    termios(fd).is_ok()
}

pub fn termios(fd: Fd) -> Result<Termios, Errno> {
    // SAFETY: an all-zero termios is a valid value to be overwritten.
    let mut t: libc::termios = unsafe { zeroed() };
    ioctl(fd, libc::TCGETS as _, (&mut t as *mut libc::termios).cast())?;
    Ok(Termios(t))
}

/// Sets `t` on `fd` at once (TCSETS).
pub fn set_termios(fd: Fd, t: &Termios) -> Result<(), Errno> {
    ioctl(fd, libc::TCSETS as _, (&t.0 as *const libc::termios).cast_mut().cast()).map(|_| ())
}

impl Termios {
    /// Raw mode as cfmakeraw(3) (and docker's CLI) define it: no echo, no
    /// line editing, no signal characters, no CR/NL translation, 8 bits.
    /// Every key then reaches the container's own terminal, which does all
    /// of that itself.
    /// (In place: a termios returned by value is copied; out of line: it
    /// would be inlined twice into relay::run.)
    #[inline(never)]
    pub fn make_raw(&mut self) {
        let t = &mut self.0;
        t.c_iflag &= !(libc::IGNBRK
            | libc::BRKINT
            | libc::PARMRK
            | libc::ISTRIP
            | libc::INLCR
            | libc::IGNCR
            | libc::ICRNL
            | libc::IXON);
        t.c_oflag &= !libc::OPOST;
        t.c_lflag &= !(libc::ECHO | libc::ECHONL | libc::ICANON | libc::ISIG | libc::IEXTEN);
        t.c_cflag &= !(libc::CSIZE | libc::PARENB);
        t.c_cflag |= libc::CS8;
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VTIME] = 0;
    }
}

/// The terminal settings to put back if mydocker dies of a bug (the panic
/// handler reads them): (fd, settings), or fd -1.
static mut RESTORE: (Fd, Option<Termios>) = (-1, None);

/// Puts the caller's terminal in raw mode until the guard is dropped (on
/// every return path of its owner), or `restore_on_panic` runs. The saved
/// settings live only in RESTORE: the guard is the fd alone (no 60-byte
/// copies through Results and Options).
pub struct RawMode {
    fd: Fd,
}

impl RawMode {
    pub fn enter(fd: Fd) -> Result<RawMode, Errno> {
        let mut t = termios(fd)?;
        // SAFETY: mydocker's parent is single-threaded and this static is
        // only touched here, in `saved`, in Drop, and by the panic handler,
        // which runs on this same thread.
        unsafe { *core::ptr::addr_of_mut!(RESTORE) = (fd, Some(t)) };
        let guard = RawMode { fd };
        // On failure the guard's drop puts back what may have changed.
        t.make_raw();
        set_termios(fd, &t)?;
        Ok(guard)
    }

    /// Raw again, after a job-control stop: the caller's shell put its own
    /// settings back while mydocker was stopped.
    pub fn again(&self) {
        if let (_, Some(mut t)) = saved() {
            t.make_raw();
            let _ = set_termios(self.fd, &t);
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // TCSETS, no drain (TCSETSW): output already queued was processed when it
        // was written, and a terminal that does not read must not keep
        // mydocker from exiting.
        restore_on_panic();
        // SAFETY: as in enter().
        unsafe { *core::ptr::addr_of_mut!(RESTORE) = (-1, None) };
    }
}

/// What RESTORE holds.
fn saved() -> (Fd, Option<Termios>) {
    // SAFETY: as in RawMode::enter (single thread).
    unsafe { *core::ptr::addr_of!(RESTORE) }
}

/// For the panic handler (and RawMode's drop): gives the caller's terminal
/// its settings back.
pub fn restore_on_panic() {
    if let (fd, Some(t)) = saved() {
        let _ = set_termios(fd, &t);
    }
}

pub fn winsize(fd: Fd) -> Result<Winsize, Errno> {
    let mut w = Winsize::default();
    ioctl(fd, libc::TIOCGWINSZ as _, w.0.as_mut_ptr().cast())?;
    Ok(w)
}

/// TIOCSWINSZ: the kernel sends SIGWINCH to the terminal's foreground
/// process group when the size changes.
pub fn set_winsize(fd: Fd, w: Winsize) -> Result<(), Errno> {
    let mut w = w;
    ioctl(fd, libc::TIOCSWINSZ as _, w.0.as_mut_ptr().cast()).map(|_| ())
}

/// Opens the pseudo-terminal multiplexer at `ptmx` (NUL-terminated) and
/// unlocks the new pair: (master, pty number N of /dev/pts/N).
pub fn open_ptmx(ptmx: &[u8]) -> Result<(Fd, u32), Errno> {
    let p = cptr(ptmx)?;
    // SAFETY: p is NUL-terminated.
    let m =
        retry(|| unsafe { sc!(libc::SYS_openat, libc::AT_FDCWD, p, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) })?
            as Fd;
    let mut unlock: c_int = 0;
    let mut n: libc::c_uint = 0;
    let r = ioctl(m, libc::TIOCSPTLCK as _, (&mut unlock as *mut c_int).cast())
        .and_then(|_| ioctl(m, libc::TIOCGPTN as _, (&mut n as *mut libc::c_uint).cast()));
    match r {
        Ok(_) => Ok((m, n)),
        Err(e) => {
            close(m);
            Err(e)
        }
    }
}

/// Opens the slave of `master`: through the master itself (TIOCGPTPEER,
/// Linux 4.13+), which cannot be misled by whatever sits at a path; by
/// `path` (NUL-terminated /dev/pts/N) on older kernels.
pub fn open_peer(master: Fd, path: &[u8]) -> Result<Fd, Errno> {
    let flags = (libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) as libc::c_ulong;
    match ioctl(master, libc::TIOCGPTPEER as _, flags as *mut c_void) {
        Ok(fd) => Ok(fd),
        Err(Errno(libc::EINVAL | libc::ENOTTY)) => {
            let p = cptr(path)?;
            // SAFETY: p is NUL-terminated.
            retry(|| unsafe { sc!(libc::SYS_openat, libc::AT_FDCWD, p, flags as c_int) }).map(|f| f as Fd)
        }
        Err(e) => Err(e),
    }
}

/// Makes `fd`, a terminal, the controlling terminal of the calling session
/// leader (TIOCSCTTY; never stealing one that belongs to another session).
pub fn set_ctty(fd: Fd) -> Result<(), Errno> {
    ioctl(fd, libc::TIOCSCTTY as _, core::ptr::null_mut()).map(|_| ())
}

/// setsid(2): a new session without a controlling terminal.
pub fn setsid() -> Result<(), Errno> {
    // SAFETY: plain syscall without arguments.
    cvt(unsafe { sc!(libc::SYS_setsid) }).map(|_| ())
}

/// dup3(2) onto `to` (clearing close-on-exec there); `to == from` is fine.
pub fn dup_to(from: Fd, to: Fd) -> Result<(), Errno> {
    if from == to {
        // SAFETY: F_SETFD with a plain integer.
        return cvt(unsafe { sc!(libc::SYS_fcntl, from, libc::F_SETFD, 0) }).map(|_| ());
    }
    // SAFETY: plain syscall with integer arguments.
    retry(|| unsafe { sc!(libc::SYS_dup3, from, to, 0) }).map(|_| ())
}

pub fn fchown(fd: Fd, uid: u32, gid: u32) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { sc!(libc::SYS_fchown, fd, uid, gid) }).map(|_| ())
}

/// Adds O_NONBLOCK to an fd whose open file description is ours alone.
pub fn set_nonblock(fd: Fd) -> Result<(), Errno> {
    // SAFETY: F_GETFL/F_SETFL with plain integers.
    let fl = cvt(unsafe { sc!(libc::SYS_fcntl, fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { sc!(libc::SYS_fcntl, fd, libc::F_SETFL, fl | libc::O_NONBLOCK as libc::c_long) }).map(|_| ())
}

/// A connected pair of Unix stream sockets, both close-on-exec.
pub fn socketpair() -> Result<(Fd, Fd), Errno> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds is a valid array of two ints. Raw syscalls here and for
    // sendmsg/recvmsg: musl's wrappers (0.6 KB) only repack msghdr's
    // padding, which is zero in ours (zeroed) and little-endian targets read
    // as the kernel's size_t fields.
    cvt(unsafe {
        sc!(libc::SYS_socketpair, libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr())
    })?;
    Ok((fds[0], fds[1]))
}

/// A Unix stream socket connected to `path` (an OCI --console-socket),
/// close-on-exec. ENAMETOOLONG past sun_path's 107 bytes.
pub fn connect_unix(path: &[u8]) -> Result<Fd, Errno> {
    // SAFETY: an all-zero sockaddr_un is valid.
    let mut a: libc::sockaddr_un = unsafe { zeroed() };
    if path.is_empty() || path.len() >= a.sun_path.len() || path.contains(&0) {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    a.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &c) in a.sun_path.iter_mut().zip(path) {
        *d = c as libc::c_char;
    }
    // SAFETY: plain socket(2).
    let fd = cvt(unsafe { sc!(libc::SYS_socket, libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })? as Fd;
    let len = (size_of::<libc::sa_family_t>() + path.len() + 1) as libc::socklen_t;
    // SAFETY: a is a valid sockaddr_un of at least `len` bytes.
    match retry(|| unsafe { sc!(libc::SYS_connect, fd, &a as *const libc::sockaddr_un, len) }) {
        Ok(_) => Ok(fd),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

// The raw sendmsg/recvmsg above rely on it (see socketpair).
const _: () = assert!(cfg!(target_endian = "little"), "msghdr padding is read as size_t: little-endian targets only");

/// Room for one fd in a control message (CMSG_SPACE(sizeof(int)), 8-aligned).
#[repr(C, align(8))]
struct OneFd([u8; 24]);

/// A message of one buffer `iov` and the control room `cbuf`.
fn one_fd_msg(iov: &mut libc::iovec, cbuf: &mut OneFd) -> libc::msghdr {
    // SAFETY: an all-zero msghdr is valid (no name, no iov, no control).
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = cbuf.0.len() as _;
    msg
}

/// Sends `fd` (SCM_RIGHTS) with `data` (at least one byte) over `sock`.
pub fn send_fd(sock: Fd, fd: Fd, data: &[u8]) -> Result<(), Errno> {
    let mut cbuf = OneFd([0; 24]);
    let mut iov = libc::iovec { iov_base: data.as_ptr().cast_mut().cast(), iov_len: data.len() };
    let msg = one_fd_msg(&mut iov, &mut cbuf);
    // SAFETY: msg points at cbuf, large enough for one cmsghdr and an int
    // (CMSG_SPACE(4) = 24 on 64-bit); CMSG_FIRSTHDR/CMSG_DATA stay inside it.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<c_int>() as u32) as _;
        (libc::CMSG_DATA(c) as *mut c_int).write_unaligned(fd);
    }
    // SAFETY: msg and everything it points at are live for the call.
    let n = retry(|| unsafe { sc!(libc::SYS_sendmsg, sock, &msg as *const libc::msghdr, libc::MSG_NOSIGNAL) })?;
    if n as usize == data.len() {
        Ok(())
    } else {
        Err(Errno(libc::EPROTO))
    }
}

/// Receives one fd sent by `send_fd` and its data into `data`: Ok(None) at
/// EOF (the sender closed without sending). A message carrying anything but
/// exactly one fd is refused (EPROTO) and whatever fds came are closed.
pub fn recv_fd(sock: Fd, data: &mut [u8]) -> Result<Option<(Fd, usize)>, Errno> {
    let mut cbuf = OneFd([0; 24]);
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    let mut msg = one_fd_msg(&mut iov, &mut cbuf);
    // SAFETY: msg and the buffers it points at are live and writable.
    let n = retry(|| unsafe { sc!(libc::SYS_recvmsg, sock, &mut msg as *mut libc::msghdr, libc::MSG_CMSG_CLOEXEC) })?
        as usize;
    // Up to two fds fit cbuf; more make the kernel set MSG_CTRUNC and
    // close the rest itself.
    let mut fds = [-1 as c_int; 2];
    let mut nfds = 0;
    // SAFETY: the kernel filled at most msg_controllen bytes of cbuf;
    // CMSG_FIRSTHDR returns null when no header fits, and only as many ints
    // as the header's length covers (at most the two cbuf holds) are read.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if !c.is_null() && (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
            let room = ((*c).cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
            nfds = (room / size_of::<c_int>()).min(fds.len());
            for (i, fd) in fds.iter_mut().enumerate().take(nfds) {
                *fd = (libc::CMSG_DATA(c) as *const c_int).add(i).read_unaligned();
            }
        }
    }
    match (n, nfds, msg.msg_flags & libc::MSG_CTRUNC) {
        (0, 0, 0) => Ok(None),
        (n, 1, 0) if n > 0 => Ok(Some((fds[0], n))),
        _ => {
            for &fd in &fds[..nfds] {
                close(fd);
            }
            Err(Errno(libc::EPROTO))
        }
    }
}

/// One entry for `poll`: a negative fd is skipped by the kernel.
pub type PollFd = libc::pollfd;

pub fn pollfd(fd: Fd, events: i16) -> PollFd {
    PollFd { fd, events, revents: 0 }
}

pub const IN: i16 = libc::POLLIN;
pub const OUT: i16 = libc::POLLOUT;
/// Readable, hung up or failed: a read will not block.
pub const READY: i16 = libc::POLLIN | libc::POLLHUP | libc::POLLERR;

/// poll(2); `ms`: the timeout, -1 for none. Ok(0): it timed out.
pub fn poll(fds: &mut [PollFd], ms: i32) -> Result<usize, Errno> {
    let t = libc::timespec { tv_sec: (ms / 1000) as _, tv_nsec: (ms % 1000 * 1_000_000) as _ };
    let timeout = if ms < 0 { core::ptr::null() } else { &t as *const libc::timespec };
    // SAFETY: fds is a valid array of fds.len() pollfd structs, timeout
    // null or a valid timespec; no signal mask.
    retry(|| unsafe { sc!(libc::SYS_ppoll, fds.as_mut_ptr(), fds.len(), timeout, 0, 0) }).map(|n| n as usize)
}

/// A signalfd(2) for `set` (which must stay blocked), non-blocking and
/// close-on-exec.
pub fn signalfd(set: SigSet) -> Result<Fd, Errno> {
    // SAFETY: a valid 8-byte kernel sigset.
    cvt(unsafe { sc!(libc::SYS_signalfd4, -1i32, &set.0 as *const u64, 8, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) })
        .map(|f| f as Fd)
}

/// Takes one pending signal from a (non-blocking) signalfd: None when
/// none is pending (or the read failed: the caller polls again).
pub fn read_signal(fd: Fd) -> Option<c_int> {
    // struct signalfd_siginfo: 128 bytes, ssi_signo (u32) first.
    let mut buf = [0u32; 32];
    // SAFETY: buf is a valid writable buffer of 128 bytes.
    let n = retry(|| unsafe { sc!(libc::SYS_read, fd, buf.as_mut_ptr(), 128) });
    (n == Ok(128)).then_some(buf[0] as c_int)
}

/// One write(2): how many bytes were taken (EAGAIN on a full non-blocking fd).
pub fn write_some(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: buf is a valid readable slice for buf.len() bytes.
    retry(|| unsafe { sc!(libc::SYS_write, fd, buf.as_ptr(), buf.len()) }).map(|n| n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Fd, Fd) {
        socketpair().unwrap()
    }

    #[test]
    fn one_fd_crosses_with_its_data() {
        let (a, b) = pair();
        let (r, w) = super::super::pipe().unwrap();
        send_fd(a, w, b"/dev/pts/3").unwrap();
        let mut data = [0u8; 24];
        let (got, n) = recv_fd(b, &mut data).unwrap().unwrap();
        assert_eq!(&data[..n], b"/dev/pts/3");
        assert_ne!(got, w);
        // It is the same pipe: what goes in at the received end comes out.
        super::super::write_all(got, b"x").unwrap();
        let mut one = [0u8; 1];
        assert_eq!(super::super::read(r, &mut one), Ok(1));
        for fd in [a, b, r, w, got] {
            close(fd);
        }
    }

    #[test]
    fn eof_without_a_message_is_none() {
        let (a, b) = pair();
        close(a);
        assert_eq!(recv_fd(b, &mut [0u8; 24]), Ok(None));
        close(b);
    }

    #[test]
    fn a_message_without_exactly_one_fd_is_refused() {
        let (a, b) = pair();
        // Data but no fd.
        super::super::write_all(a, b"no fd").unwrap();
        assert_eq!(recv_fd(b, &mut [0u8; 24]), Err(Errno(libc::EPROTO)));
        // Two fds in one message: refused, and the ones that came closed.
        let (r, w) = super::super::pipe().unwrap();
        #[repr(C, align(8))]
        struct Two([u8; 24]);
        let mut cbuf = Two([0; 24]);
        let data = b"2";
        let mut iov = libc::iovec { iov_base: data.as_ptr().cast_mut().cast(), iov_len: 1 };
        // SAFETY: a zeroed msghdr is valid; cbuf holds CMSG_SPACE(8) = 24
        // bytes for one header with two ints.
        unsafe {
            let mut msg: libc::msghdr = zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = cbuf.0.as_mut_ptr().cast();
            msg.msg_controllen = 24;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(8) as _;
            let p = libc::CMSG_DATA(c) as *mut c_int;
            p.write_unaligned(r);
            p.add(1).write_unaligned(w);
            assert_eq!(libc::sendmsg(a, &msg, 0), 1);
        }
        assert_eq!(recv_fd(b, &mut [0u8; 24]), Err(Errno(libc::EPROTO)));
        // The received copy of `w` is closed: with ours gone too, the pipe
        // reads EOF (a leaked copy would make it EAGAIN).
        close(w);
        set_nonblock(r).unwrap();
        assert_eq!(super::super::read(r, &mut [0u8; 1]), Ok(0));
        for fd in [a, b, r] {
            close(fd);
        }
    }

    #[test]
    fn raw_mode_is_cfmakeraw() {
        // SAFETY: an all-zero termios is valid; cfmakeraw only edits it.
        let (mut want, mut t): (libc::termios, libc::termios) = unsafe { (zeroed(), zeroed()) };
        for x in [&mut want, &mut t] {
            x.c_iflag = !0;
            x.c_oflag = !0;
            x.c_lflag = !0;
            x.c_cflag = !0 & !libc::CSIZE;
        }
        // SAFETY: a valid termios.
        unsafe { libc::cfmakeraw(&mut want) };
        let mut got = Termios(t);
        got.make_raw();
        let got = got.0;
        assert_eq!(
            (got.c_iflag, got.c_oflag, got.c_lflag, got.c_cflag),
            (want.c_iflag, want.c_oflag, want.c_lflag, want.c_cflag)
        );
        assert_eq!((got.c_cc[libc::VMIN], got.c_cc[libc::VTIME]), (1, 0));
    }

    #[test]
    fn a_blocked_signal_is_read_from_the_signalfd() {
        let set = SigSet::of(&[libc::SIGUSR2]);
        // The mask is per thread; the signal goes to this thread only.
        let old = super::super::set_sigmask(set);
        let fd = signalfd(set).unwrap();
        assert_eq!(read_signal(fd), None);
        // SAFETY: a signal to this very thread, blocked here.
        unsafe { sc!(libc::SYS_tgkill, libc::getpid(), libc::gettid(), libc::SIGUSR2) };
        assert_eq!(read_signal(fd), Some(libc::SIGUSR2));
        assert_eq!(read_signal(fd), None);
        close(fd);
        super::super::set_sigmask(old);
    }
}
