//! What the OCI lifecycle needs of the kernel beyond the run path: state
//! directory files (unlink, rename, mkfifo), namespace files (type check,
//! setns).
#![allow(unsafe_code)]

use super::{at, cvt, retry, with_cstr, Errno, Fd};
use core::ffi::c_int;

pub fn unlinkat(dir: Fd, path: &[u8]) -> Result<(), Errno> {
    cvt(at(libc::SYS_unlinkat, dir, path, 0, 0)).map(|_| ())
}

/// rename(2) within one directory: how state files are replaced atomically.
pub fn renameat(dir: Fd, from: &[u8], to: &[u8]) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated on with_cstr's stacks.
    with_cstr(from, |f| with_cstr(to, |t| cvt(unsafe { sc!(libc::SYS_renameat2, dir, f, dir, t, 0) }))).map(|_| ())
}

pub fn mkfifoat(dir: Fd, path: &[u8], mode: u32) -> Result<(), Errno> {
    cvt(at(libc::SYS_mknodat, dir, path, (libc::S_IFIFO | mode) as usize, 0)).map(|_| ())
}

/// mkdir(2) with a mode.
pub fn mkdir_mode(dir: Fd, path: &[u8], mode: u32) -> Result<(), Errno> {
    cvt(at(libc::SYS_mkdirat, dir, path, mode as usize, 0)).map(|_| ())
}

/// The CLONE_NEW* type of a namespace file (ioctl NS_GET_NSTYPE).
#[allow(dead_code)] // namespace paths and the console socket come next
pub fn ns_type(fd: Fd) -> Result<c_int, Errno> {
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // SAFETY: an ioctl without an argument pointer.
    cvt(unsafe { sc!(libc::SYS_ioctl, fd, NS_GET_NSTYPE) }).map(|t| t as c_int)
}

#[allow(dead_code)] // namespace paths and the console socket come next
pub fn setns(fd: Fd, nstype: c_int) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { sc!(libc::SYS_setns, fd, nstype) }).map(|_| ())
}

/// unshare(2).
pub fn unshare(flags: c_int) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { sc!(libc::SYS_unshare, flags) }).map(|_| ())
}

/// setdomainname(2).
pub fn setdomainname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: name is a valid slice of name.len() bytes.
    cvt(unsafe { sc!(libc::SYS_setdomainname, name.as_ptr(), name.len()) }).map(|_| ())
}

/// getuid(2).
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { sc!(libc::SYS_getuid) as u32 }
}

/// getcwd(2) into `buf`; the length without the NUL.
pub fn getcwd(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is a valid writable slice of buf.len() bytes.
    let n = cvt(unsafe { sc!(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) })? as usize;
    Ok(n.saturating_sub(1))
}

/// write(2) of a whole small buffer to a non-blocking fd, once.
pub fn write_once(fd: Fd, b: &[u8]) -> Result<usize, Errno> {
    // SAFETY: b is a valid readable slice.
    retry(|| unsafe { sc!(libc::SYS_write, fd, b.as_ptr(), b.len()) }).map(|n| n as usize)
}
