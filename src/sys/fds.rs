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

/// close_range(2) over [lo, hi]; ENOSYS/EINVAL (before Linux 5.9) closes
/// one by one up to RLIMIT_NOFILE instead.
fn close_span(lo: Fd, hi: Fd) -> Result<(), Errno> {
    if lo > hi {
        return Ok(());
    }
    // SAFETY: plain syscall with integer arguments; closing fds nothing
    // else in this single-threaded process holds a reference to.
    match cvt(unsafe { libc::syscall(libc::SYS_close_range, lo as libc::c_uint, hi as libc::c_uint, 0) }) {
        Ok(_) => Ok(()),
        Err(Errno(libc::ENOSYS | libc::EINVAL)) => {
            let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            // SAFETY: lim is a valid rlimit to fill.
            cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } as libc::c_long)?;
            let max = if lim.rlim_cur > (1 << 20) { 1 << 20 } else { lim.rlim_cur as Fd };
            for fd in lo..=hi.min(max) {
                close(fd);
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Closes every fd from `from` up except those in `keep` (at most 4, any
/// order; negative ones stand for none): whatever mydocker inherited from its caller or opened itself
/// (cgroup directories, pipe ends) is gone before the container resolves a
/// path it was given — /proc/self/fd/N could otherwise lead out of it (the
/// runc CVE-2024-21626 class).
pub fn close_all_but(from: Fd, keep: &[Fd]) -> Result<(), Errno> {
    let mut k = [Fd::MAX; 4];
    let n = keep.len().min(4);
    k[..n].copy_from_slice(&keep[..n]);
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
    cvt(unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) }).map(|n| n as usize)
}

/// PR_SET_DUMPABLE 0: the container (even as root without CAP_SYS_PTRACE)
/// can then neither ptrace this process nor open its /proc/PID/fd, cwd,
/// root or mem.
pub fn not_dumpable() -> Result<(), Errno> {
    // SAFETY: plain prctl with integer arguments.
    cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) } as libc::c_long).map(|_| ())
}

/// fchdir(2).
pub fn fchdir(fd: Fd) -> Result<(), Errno> {
    // SAFETY: plain syscall with an integer argument.
    cvt(unsafe { libc::fchdir(fd) } as libc::c_long).map(|_| ())
}
