//! Running inside a chroot: there `/` is a directory, not the root of a
//! mount, and the kernel refuses to change its propagation (EINVAL). The
//! fix is to bind it onto itself and enter the bind, as switch_root enters
//! a moved root — but only where that bind cannot show on the host: in our
//! new mount namespace the mount around the chroot is a copy of the host's,
//! and if that one is shared, a mount made on it propagates to the host's.
//! Whether it is shared is asked with statmount(2) (Linux 6.8), which,
//! unlike mountinfo, answers for a mount outside the chroot.
#![allow(unsafe_code)]

use super::{chdir, cvt, Errno};
use core::ffi::c_char;

const STATX_MNT_ID_UNIQUE: u32 = 0x4000;
const SYS_STATMOUNT: libc::c_long = 457;
const STATMOUNT_MNT_BASIC: u64 = 0x2;
/// struct statmount: `mask` at byte 8, `mnt_propagation` at byte 72.
const SM_MASK: usize = 8;
const SM_PROPAGATION: usize = 72;

/// struct mnt_id_req, version 0.
#[repr(C)]
struct MntIdReq {
    size: u32,
    spare: u32,
    mnt_id: u64,
    param: u64,
}

/// Whether the mount holding `/` propagates mount events to peers (is
/// shared). Err(ENOSYS) when this kernel cannot tell (before 6.8).
fn root_mount_shared() -> Result<bool, Errno> {
    // SAFETY: an all-zero statx is a valid value to be filled.
    let mut st: libc::statx = unsafe { core::mem::zeroed() };
    let slash = b"/\0".as_ptr() as *const c_char;
    // SAFETY: slash is NUL-terminated, st is a writable statx.
    cvt(unsafe { sc!(libc::SYS_statx, libc::AT_FDCWD, slash, 0, STATX_MNT_ID_UNIQUE, &mut st as *mut libc::statx) })?;
    if st.stx_mask & STATX_MNT_ID_UNIQUE == 0 {
        return Err(Errno(libc::ENOSYS));
    }
    let req = MntIdReq { size: 24, spare: 0, mnt_id: st.stx_mnt_id, param: STATMOUNT_MNT_BASIC };
    let mut buf = [0u64; 64];
    // SAFETY: req is a valid mnt_id_req of the size it states; buf is
    // writable for the length passed.
    cvt(unsafe { sc!(SYS_STATMOUNT, &req as *const MntIdReq, buf.as_mut_ptr(), 512usize, 0) })?;
    if buf[SM_MASK / 8] & STATMOUNT_MNT_BASIC == 0 {
        return Err(Errno(libc::ENOSYS));
    }
    Ok(buf[SM_PROPAGATION / 8] & libc::MS_SHARED as u64 != 0)
}

/// Makes `/` (a directory inside a chroot) the root of a mount of its own:
/// binds it onto itself (recursively, so mounts below it stay), enters the
/// bind (`/..` walks onto a mount stacked on the root; chroot(".") makes it
/// the root) and returns to the same working directory inside it. Refuses
/// with EINVAL, changing nothing, when the bind could propagate to the
/// host: the mount around `/` is shared, or the kernel cannot tell.
#[inline(never)]
pub fn rebind_root() -> Result<(), Errno> {
    if root_mount_shared().unwrap_or(true) {
        return Err(Errno(libc::EINVAL));
    }
    let mut cwd = [0u8; 4096];
    // The raw syscall (NUL-terminated), not musl's getcwd: that one links
    // strdup and a malloc (~1 KB) for a NULL buffer we never pass.
    let have_cwd = super::fds::getcwd(&mut cwd).is_ok() && cwd[0] == b'/';
    let slash = b"/\0".as_ptr() as *const c_char;
    let dot = b".\0".as_ptr() as *const c_char;
    let flags = (libc::MS_BIND | libc::MS_REC) as libc::c_ulong;
    // SAFETY: NUL-terminated paths, null fstype and data (a bind needs none).
    cvt(unsafe { sc!(libc::SYS_mount, slash, slash, 0, flags, 0) })?;
    chdir(b"/..\0")?;
    // SAFETY: dot is NUL-terminated.
    cvt(unsafe { sc!(libc::SYS_chroot, dot) })?;
    match cwd.iter().position(|&c| c == 0) {
        Some(end) if have_cwd => chdir(&cwd[..=end]),
        _ => chdir(b"/\0"),
    }
}
