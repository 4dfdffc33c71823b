//! What the OCI lifecycle needs of the kernel beyond the run path: state
//! directory files (unlink, rename, mkfifo), namespace files (type check,
//! setns), and the console socket (one fd over SCM_RIGHTS).
#![allow(unsafe_code)]

use super::{cvt, retry, with_cstr, Errno, Fd};
use core::ffi::c_int;

pub fn unlinkat(dir: Fd, path: &[u8]) -> Result<(), Errno> {
    // SAFETY: p is a NUL-terminated path on with_cstr's stack.
    with_cstr(path, |p| cvt(unsafe { libc::unlinkat(dir, p, 0) } as libc::c_long).map(|_| ()))
}

/// rename(2) within one directory: how state files are replaced atomically.
pub fn renameat(dir: Fd, from: &[u8], to: &[u8]) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated on with_cstr's stacks.
    with_cstr(from, |f| with_cstr(to, |t| cvt(unsafe { libc::renameat(dir, f, dir, t) } as libc::c_long)))
        .map(|_| ())
}

pub fn mkfifoat(dir: Fd, path: &[u8], mode: u32) -> Result<(), Errno> {
    // SAFETY: p is a NUL-terminated path on with_cstr's stack.
    with_cstr(path, |p| {
        cvt(unsafe { libc::mknodat(dir, p, libc::S_IFIFO | mode as libc::mode_t, 0) } as libc::c_long)
    })
    .map(|_| ())
}

/// mkdir(2) with a mode.
pub fn mkdir_mode(dir: Fd, path: &[u8], mode: u32) -> Result<(), Errno> {
    // SAFETY: p is a NUL-terminated path on with_cstr's stack.
    with_cstr(path, |p| cvt(unsafe { libc::mkdirat(dir, p, mode as libc::mode_t) } as libc::c_long)).map(|_| ())
}

/// The CLONE_NEW* type of a namespace file (ioctl NS_GET_NSTYPE).
#[allow(dead_code)] // namespace paths and the console socket come next
pub fn ns_type(fd: Fd) -> Result<c_int, Errno> {
    const NS_GET_NSTYPE: libc::c_ulong = 0xb703;
    // SAFETY: an ioctl without an argument pointer.
    cvt(unsafe { libc::ioctl(fd, NS_GET_NSTYPE as _) } as libc::c_long).map(|t| t as c_int)
}

#[allow(dead_code)] // namespace paths and the console socket come next
pub fn setns(fd: Fd, nstype: c_int) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { libc::syscall(libc::SYS_setns, fd, nstype) }).map(|_| ())
}

/// Sends `fd` over the connected unix socket `sock` in one message whose
/// data is `name` (runc sends the pty's path; receivers want one
/// SCM_RIGHTS fd and a short name).
#[allow(dead_code)] // namespace paths and the console socket come next
pub fn send_fd(sock: Fd, name: &[u8], fd: Fd) -> Result<(), Errno> {
    #[repr(C)]
    struct Cmsg {
        hdr: libc::cmsghdr,
        fd: c_int,
        // CMSG_SPACE rounds to the size of a long.
        _pad: c_int,
    }
    // SAFETY: an all-zero cmsghdr/msghdr is valid; the fields are set below.
    let mut c: Cmsg = unsafe { core::mem::zeroed() };
    c.hdr.cmsg_len = (core::mem::size_of::<libc::cmsghdr>() + core::mem::size_of::<c_int>()) as _;
    c.hdr.cmsg_level = libc::SOL_SOCKET;
    c.hdr.cmsg_type = libc::SCM_RIGHTS;
    c.fd = fd;
    let mut iov = libc::iovec { iov_base: name.as_ptr() as *mut _, iov_len: name.len() };
    // SAFETY: as above.
    let mut m: libc::msghdr = unsafe { core::mem::zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    m.msg_control = (&mut c as *mut Cmsg).cast();
    m.msg_controllen = core::mem::size_of::<Cmsg>() as _;
    // SAFETY: m points at live iov, name and control buffers for the call.
    retry(|| unsafe { libc::sendmsg(sock, &m, 0) as libc::c_long }).map(|_| ())
}

/// A unix stream socket connected to `path`.
pub fn connect_unix(path: &[u8]) -> Result<Fd, Errno> {
    // SAFETY: an all-zero sockaddr_un is valid; the path is copied in below.
    let mut a: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    if path.len() >= a.sun_path.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    a.sun_family = libc::AF_UNIX as _;
    for (d, &s) in a.sun_path.iter_mut().zip(path) {
        *d = s as _;
    }
    // SAFETY: plain syscall with integer arguments.
    let fd = cvt(unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) } as libc::c_long)?
        as Fd;
    let len = core::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: a is a valid sockaddr_un of `len` bytes.
    match retry(|| unsafe { libc::connect(fd, (&a as *const libc::sockaddr_un).cast(), len) as libc::c_long }) {
        Ok(_) => Ok(fd),
        Err(e) => {
            super::close(fd);
            Err(e)
        }
    }
}

/// getuid(2).
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

/// getcwd(2) into `buf`; the length without the NUL.
pub fn getcwd(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is a valid writable slice of buf.len() bytes.
    let n = cvt(unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) })? as usize;
    Ok(n.saturating_sub(1))
}

/// write(2) of a whole small buffer to a non-blocking fd, once.
pub fn write_once(fd: Fd, b: &[u8]) -> Result<usize, Errno> {
    // SAFETY: b is a valid readable slice.
    retry(|| unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) as libc::c_long }).map(|n| n as usize)
}
