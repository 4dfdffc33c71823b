//! Process attributes the child sets before execve: resource limits, umask,
//! the five capability sets, supplementary groups; and the waits of the OCI
//! lifecycle. Same rules as the rest of `sys`: typed wrappers, errno
//! captured at the failing call, nothing allocated.
#![allow(unsafe_code)]

use super::{cptr, cvt, retry, Errno, Fd};

/// prlimit64(0, resource, {soft, hard}): raises or lowers both limits.
pub fn set_rlimit(resource: u32, soft: u64, hard: u64) -> Result<(), Errno> {
    let lim = [soft, hard];
    // SAFETY: lim matches struct rlimit64 (two u64); the old-value pointer
    // is null.
    cvt(unsafe { sc!(libc::SYS_prlimit64, 0, resource, lim.as_ptr(), core::ptr::null_mut::<u64>()) }).map(|_| ())
}

/// Makes RLIMIT_STACK's soft limit at least `need` bytes (the main
/// thread's stack grows up to it), raising it while the hard limit allows;
/// false when it cannot. One prlimit64 when it already is.
pub fn stack_room(need: u64) -> bool {
    let mut lim = [0u64; 2];
    // SAFETY: lim matches struct rlimit64; the new-value pointer is null.
    let _ = unsafe { sc!(libc::SYS_prlimit64, 0, libc::RLIMIT_STACK, core::ptr::null::<u64>(), lim.as_mut_ptr()) };
    lim[0] >= need || set_rlimit(libc::RLIMIT_STACK as u32, need, lim[1]).is_ok()
}

pub fn umask(mask: u32) {
    // SAFETY: umask cannot fail.
    unsafe { sc!(libc::SYS_umask, mask & 0o777) };
}

/// PR_SET_KEEPCAPS: the permitted set survives setuid to a non-root user
/// (the OCI capability sets are then set after the switch).
pub fn keep_caps() -> Result<(), Errno> {
    // SAFETY: plain prctl with integer arguments.
    cvt(unsafe { sc!(libc::SYS_prctl, libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) }).map(|_| ())
}

/// capset(2) with all three sets given.
pub fn capset3(effective: u64, permitted: u64, inheritable: u64) -> Result<(), Errno> {
    // _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
    let hdr = [0x2008_0522u32, 0];
    let (e, p, i) = (effective, permitted, inheritable);
    let data = [e as u32, p as u32, i as u32, (e >> 32) as u32, (p >> 32) as u32, (i >> 32) as u32];
    // SAFETY: hdr and data match struct __user_cap_header_struct and two
    // struct __user_cap_data_struct (effective, permitted, inheritable).
    cvt(unsafe { sc!(libc::SYS_capset, hdr.as_ptr(), data.as_ptr()) }).map(|_| ())
}

/// Raises every capability of `ambient` in the ambient set (each must be
/// permitted and inheritable already); stops at one the kernel does not know.
pub fn raise_ambient(ambient: u64) -> Result<(), Errno> {
    for cap in (0..64u64).filter(|c| ambient & (1 << c) != 0) {
        let raise = libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong;
        // SAFETY: plain prctl with integer arguments.
        match cvt(unsafe { sc!(libc::SYS_prctl, libc::PR_CAP_AMBIENT, raise, cap, 0, 0) }) {
            Ok(_) => {}
            Err(Errno(libc::EINVAL)) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// setgroups(2) with this list (empty: none).
pub fn set_groups(groups: &[u32]) -> Result<(), Errno> {
    // SAFETY: groups is a valid array of gid_t (u32) of groups.len() entries.
    cvt(unsafe { sc!(libc::SYS_setgroups, groups.len(), groups.as_ptr()) }).map(|_| ())
}

/// Whether a NUL-terminated path is a regular file the caller may execute:
/// what execve would say (EACCES for a directory or without an x bit),
/// without executing it.
pub fn executable(path: &[u8]) -> Result<(), Errno> {
    let p = cptr(path)?;
    // SAFETY: an all-zero struct stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: p is NUL-terminated; st is writable and of the kernel's layout.
    cvt(unsafe { sc!(libc::SYS_newfstatat, libc::AT_FDCWD, p, &mut st as *mut libc::stat, 0) })?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Errno(libc::EACCES));
    }
    // SAFETY: p is NUL-terminated; plain syscall. Real ids = effective ids
    // here (the user switch set both).
    cvt(unsafe { sc!(libc::SYS_faccessat, libc::AT_FDCWD, p, libc::X_OK) }).map(|_| ())
}

/// Blocks until `fd` (a fifo's read end, opened non-blocking before any
/// writer existed) has a byte, then reads it. Ok(false): the writer closed
/// without writing.
pub fn wait_byte(fd: Fd) -> Result<bool, Errno> {
    loop {
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: pfd is one valid pollfd; no timeout, no signal mask.
        retry(|| unsafe {
            sc!(libc::SYS_ppoll, &mut pfd as *mut libc::pollfd, 1, core::ptr::null::<u8>(), core::ptr::null::<u8>(), 0)
        })?;
        let mut b = [0u8; 1];
        // SAFETY: b is a valid writable byte.
        match retry(|| unsafe { sc!(libc::SYS_read, fd, b.as_mut_ptr(), 1) }) {
            Ok(1) => return Ok(true),
            Ok(_) if pfd.revents & libc::POLLHUP != 0 => return Ok(false),
            Ok(_) | Err(Errno(libc::EAGAIN)) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// CLOCK_REALTIME as (seconds, nanoseconds).
pub fn realtime() -> (u64, u32) {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: t is a valid timespec to fill. The raw syscall avoids musl's
    // vDSO lookup code.
    unsafe { sc!(libc::SYS_clock_gettime, libc::CLOCK_REALTIME, &mut t as *mut libc::timespec) };
    (t.tv_sec.max(0) as u64, t.tv_nsec as u32)
}
