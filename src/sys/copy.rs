//! The syscalls of tmpcopyup (fsops::copy_tree): a directory entry's
//! metadata, its contents copied without a buffer, a symlink's target. The
//! child makes them on its own stack only. Names are NUL-terminated.
#![allow(unsafe_code)]

use super::{cptr, cvt, retry, Errno, Fd};

/// fstatat(2) of `name` in `dir`, not following a symlink.
pub fn stat_in(dir: Fd, name: &[u8]) -> Result<libc::stat, Errno> {
    let p = cptr(name)?;
    // SAFETY: an all-zero struct stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: p is NUL-terminated; st is writable and of the kernel's layout.
    cvt(unsafe { sc!(libc::SYS_newfstatat, dir, p, &mut st as *mut libc::stat, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(st)
}

/// openat(2) of `name` in `dir` with `flags`, never following a symlink,
/// close-on-exec; a file it creates starts at mode 0600.
pub fn open_in(dir: Fd, name: &[u8], flags: libc::c_int) -> Result<Fd, Errno> {
    let p = cptr(name)?;
    let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: p is NUL-terminated.
    retry(|| unsafe { sc!(libc::SYS_openat, dir, p, flags, 0o600) }).map(|fd| fd as Fd)
}

/// Copies what is left of `from` into `to` with sendfile(2): in the
/// kernel, through no buffer of ours.
pub fn send_all(to: Fd, from: Fd) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments (no offset pointer).
    while retry(|| unsafe { sc!(libc::SYS_sendfile, to, from, 0, 1 << 30) })? > 0 {}
    Ok(())
}

/// readlinkat(2) of `name` in `dir` into `buf`, NUL-terminated; the
/// target's length with its NUL. ENAMETOOLONG when it does not fit.
pub fn readlink_in<'b>(dir: Fd, name: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let p = cptr(name)?;
    // SAFETY: p is NUL-terminated; buf is writable for buf.len() - 1 bytes.
    let n = cvt(unsafe { sc!(libc::SYS_readlinkat, dir, p, buf.as_mut_ptr(), buf.len() - 1) })? as usize;
    if n + 1 >= buf.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    let b = buf.get_mut(..n + 1).ok_or(Errno(libc::ENAMETOOLONG))?;
    b[n] = 0;
    Ok(b)
}

/// fchownat(2) of `name` in `dir` itself, a symlink included.
pub fn chown_in(dir: Fd, name: &[u8], uid: u32, gid: u32) -> Result<(), Errno> {
    let p = cptr(name)?;
    // SAFETY: p is NUL-terminated; integer arguments.
    cvt(unsafe { sc!(libc::SYS_fchownat, dir, p, uid, gid, libc::AT_SYMLINK_NOFOLLOW) }).map(|_| ())
}
