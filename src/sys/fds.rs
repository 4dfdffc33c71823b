//! File descriptors the child must not hand on: closing every inherited fd
//! but the few it still needs, an owned fd that closes itself, and the
//! process facts the container could otherwise reach through /proc (the
//! working directory, dumpability).
#![allow(unsafe_code)]

use super::{close, cvt, Errno, Fd};

/// An fd the child opened for itself; closed when dropped, on every path.
pub struct OwnedFd(pub Fd);

impl Drop for OwnedFd {
    fn drop(&mut self) {
        close(self.0);
    }
}

/// close_range(2) over [lo, hi]; before Linux 5.9 (ENOSYS/EINVAL) the fds
/// listed in /proc/self/fd, or where /proc is missing every number up to
/// RLIMIT_NOFILE (which may be a million: hence the listing first).
fn close_span(lo: Fd, hi: Fd) -> Result<(), Errno> {
    if lo > hi {
        return Ok(());
    }
    // SAFETY: plain syscall with integer arguments; closing fds nothing
    // else in this single-threaded process holds a reference to.
    match cvt(unsafe { sc!(libc::SYS_close_range, lo as libc::c_uint, hi as libc::c_uint, 0) }) {
        Ok(_) => Ok(()),
        Err(Errno(libc::ENOSYS | libc::EINVAL)) => match close_listed(lo, hi) {
            Err(Errno(libc::ENOENT)) => close_counted(lo, hi),
            r => r,
        },
        Err(e) => Err(e),
    }
}

/// Closes the fds in [lo, hi] that /proc/self/fd lists (ENOENT: no /proc).
/// Closing while listing is fine: the kernel lists by fd number from where
/// it left off.
fn close_listed(lo: Fd, hi: Fd) -> Result<(), Errno> {
    let dir = OwnedFd(super::openat(super::CWD, b"/proc/self/fd", libc::O_RDONLY | libc::O_DIRECTORY)?);
    let mut buf = [0u8; 1024];
    super::each_name(dir.0, &mut buf, &mut |name| match fd_number(name) {
        Some(fd) if fd != dir.0 && (lo..=hi).contains(&fd) => close(fd),
        _ => {}
    })
}

/// A /proc/self/fd entry's name as an fd ("." and ".." are not).
fn fd_number(name: &[u8]) -> Option<Fd> {
    if name.is_empty() || name.len() > 10 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = name.iter().fold(0u64, |v, c| v * 10 + u64::from(c - b'0'));
    Fd::try_from(v).ok()
}

/// Closes every number in [lo, hi] up to RLIMIT_NOFILE.
fn close_counted(lo: Fd, hi: Fd) -> Result<(), Errno> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: lim is a valid rlimit to fill.
    cvt(unsafe { sc!(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE, 0usize, &mut lim as *mut libc::rlimit) })?;
    let max = if lim.rlim_cur > (1 << 20) { 1 << 20 } else { lim.rlim_cur as Fd };
    for fd in lo..=hi.min(max) {
        close(fd);
    }
    Ok(())
}

/// Closes every fd from `from` up except those in `keep` (at most 5, any
/// order; negative ones stand for none): whatever mydocker inherited from its caller or opened itself
/// (cgroup directories, pipe ends) is gone before the container resolves a
/// path it was given — /proc/self/fd/N could otherwise lead out of it (the
/// runc CVE-2024-21626 class).
pub fn close_all_but(from: Fd, keep: &[Fd]) -> Result<(), Errno> {
    let mut k = [Fd::MAX; 5];
    for (d, &fd) in k.iter_mut().zip(keep) {
        *d = fd;
    }
    k.sort_unstable();
    let mut lo = from;
    for &fd in k.iter().filter(|&&fd| fd >= from && fd != Fd::MAX) {
        close_span(lo, fd - 1)?;
        lo = fd + 1;
    }
    close_span(lo, Fd::MAX)
}

/// getcwd(2) as the raw syscall: the length written (with the NUL). The
/// kernel prefixes "(unreachable)" to a directory outside the caller's
/// root — musl's wrapper would turn that into ENOENT; the caller decides.
pub fn getcwd(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is a valid writable slice of buf.len() bytes.
    cvt(unsafe { sc!(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) }).map(|n| n as usize)
}

/// PR_SET_DUMPABLE 0: the container (even as root without CAP_SYS_PTRACE)
/// can then neither ptrace this process (and its clones) nor open its
/// /proc/PID/exe, environ, fd, cwd, root or mem. Cannot fail: 0 is always
/// a valid value (kernel/sys.c).
pub fn not_dumpable() {
    // SAFETY: plain prctl with integer arguments.
    unsafe { sc!(libc::SYS_prctl, libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
}

/// fchdir(2).
pub fn fchdir(fd: Fd) -> Result<(), Errno> {
    // SAFETY: plain syscall with an integer argument.
    cvt(unsafe { sc!(libc::SYS_fchdir, fd) }).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_open(fd: Fd) -> bool {
        // SAFETY: F_GETFD on any number is harmless.
        unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
    }

    #[test]
    fn without_close_range_the_listed_fds_in_the_span_are_closed() {
        // High numbers no other test uses; 0 is always open.
        for fd in [901, 902, 903] {
            // SAFETY: dup2 of fd 0 onto a number we own for this test.
            assert_eq!(unsafe { libc::dup2(0, fd) }, fd);
        }
        close_listed(902, 902).unwrap();
        assert_eq!((is_open(901), is_open(902), is_open(903)), (true, false, true));
        close_counted(901, 901).unwrap();
        close_listed(903, 950).unwrap();
        assert!(!is_open(901) && !is_open(903) && is_open(0));
    }

    #[test]
    fn only_decimal_names_are_fds() {
        assert_eq!(fd_number(b"7"), Some(7));
        assert_eq!(fd_number(b"2147483647"), Some(Fd::MAX));
        for bad in [&b"."[..], b"..", b"", b"2147483648", b"99999999999", b"1a"] {
            assert_eq!(fd_number(bad), None, "{bad:?}");
        }
    }
}
