//! Mounting through file descriptors, so the object checked is the object
//! mounted: targets inside a rootfs are opened with every symlink resolved
//! inside it (openat2 RESOLVE_IN_ROOT, or one O_NOFOLLOW component at a
//! time, links read and followed by the caller), then mounted on through
//! that fd — open_tree(2) and
//! move_mount(2) for binds (Linux 5.2), mount_setattr(2) for read-only
//! (Linux 5.12, recursive and keeping every other flag), "/proc/self/fd/N"
//! and a flag-preserving MS_REMOUNT on older kernels.
//! All names are NUL-terminated; every fd returned is close-on-exec.
#![allow(unsafe_code)]

use super::{cptr, cvt, retry, Errno, Fd, FileKind};
use core::ffi::c_char;

const EMPTY: *const c_char = b"\0".as_ptr() as *const c_char;

/// struct open_how (openat2).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// Opens `path` (O_PATH) below `root` as if `root` were "/": symlinks are
/// followed, the last component's too, but an absolute target or ".."
/// never leaves `root` (as runc's securejoin and crun do); /proc's magic
/// links (/proc/self/fd/N, .../root, .../cwd) are refused (ELOOP), as
/// are more than 40 links. Err(ENOSYS) before Linux 5.6, Err(EAGAIN)
/// when a mount or rename anywhere raced a ".." (openat2(2)): the caller
/// walks component by component instead.
pub fn resolve_in(root: Fd, path: &[u8]) -> Result<Fd, Errno> {
    let p = cptr(path)?;
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: p is NUL-terminated; how is a valid open_how of the size passed.
    retry(|| unsafe { sc!(libc::SYS_openat2, root, p, &how as *const OpenHow, core::mem::size_of::<OpenHow>()) })
        .map(|fd| fd as Fd)
}

/// What an fd refers to (fstat, not following: an O_PATH|O_NOFOLLOW fd may
/// be a symlink itself, reported as `FileKind::Other` with `link`).
pub fn kind_of(fd: Fd) -> Result<(FileKind, bool), Errno> {
    let st = fstat(fd)?;
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => (FileKind::Dir, false),
        libc::S_IFREG => (FileKind::File, false),
        libc::S_IFLNK => (FileKind::Other, true),
        _ => (FileKind::Other, false),
    })
}

fn fstat(fd: Fd) -> Result<libc::stat, Errno> {
    // SAFETY: an all-zero struct stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: EMPTY is NUL-terminated, st is writable and of the kernel's
    // layout (as in sys::stat_at).
    cvt(unsafe { sc!(libc::SYS_newfstatat, fd, EMPTY, &mut st as *mut libc::stat, libc::AT_EMPTY_PATH) })?;
    Ok(st)
}

/// Whether `a` and `b` are the same file (device and inode).
pub fn same_file(a: Fd, b: Fd) -> bool {
    match (fstat(a), fstat(b)) {
        (Ok(a), Ok(b)) => (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino),
        _ => false,
    }
}

/// Opens the single component `name` in `dir` (O_PATH) without following
/// it; a symlink there is ELOOP (the caller reads and follows it). Returns the fd and whether it
/// is a directory.
pub fn open_nofollow(dir: Fd, name: &[u8]) -> Result<(Fd, bool), Errno> {
    let p = cptr(name)?;
    // SAFETY: p is NUL-terminated.
    let fd =
        retry(|| unsafe { sc!(libc::SYS_openat, dir, p, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC) })? as Fd;
    match kind_of(fd) {
        Ok((k, false)) => Ok((fd, k == FileKind::Dir)),
        r => {
            super::close(fd);
            Err(r.err().unwrap_or(Errno(libc::ELOOP)))
        }
    }
}

/// mkdirat(2), 0755; an existing entry is fine (the open after it checks
/// what it is).
pub fn mkdir_in(dir: Fd, name: &[u8]) -> Result<(), Errno> {
    let p = cptr(name)?;
    // SAFETY: p is NUL-terminated.
    match cvt(unsafe { sc!(libc::SYS_mkdirat, dir, p, 0o755) }) {
        Ok(_) | Err(Errno(libc::EEXIST)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates an empty file `name` in `dir` (a mount point for a file bind);
/// never follows or opens what is already there.
pub fn create_in(dir: Fd, name: &[u8]) -> Result<(), Errno> {
    let p = cptr(name)?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: p is NUL-terminated.
    match retry(|| unsafe { sc!(libc::SYS_openat, dir, p, flags, 0o644) }) {
        Ok(fd) => {
            super::close(fd as Fd);
            Ok(())
        }
        Err(Errno(libc::EEXIST)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// symlinkat(2): `name` in `dir` pointing at `to`.
pub fn symlink_in(to: &[u8], dir: Fd, name: &[u8]) -> Result<(), Errno> {
    let (a, b) = (cptr(to)?, cptr(name)?);
    // SAFETY: both NUL-terminated.
    cvt(unsafe { sc!(libc::SYS_symlinkat, a, dir, b) }).map(|_| ())
}

const OPEN_TREE_CLONE: u32 = 1;
const AT_RECURSIVE: u32 = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

/// open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount at
/// `path` (host path, symlinks followed) or, with `path` None, at `dir`
/// itself; `recursive` copies the mounts below it too. Err(ENOSYS) before
/// Linux 5.2.
pub fn clone_tree(dir: Fd, path: Option<&[u8]>, recursive: bool) -> Result<Fd, Errno> {
    let p = match path {
        Some(p) => cptr(p)?,
        None => EMPTY,
    };
    let flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as u32
        | if recursive { AT_RECURSIVE } else { 0 }
        | if path.is_none() { libc::AT_EMPTY_PATH as u32 } else { 0 };
    // SAFETY: p is NUL-terminated; integer flags.
    cvt(unsafe { sc!(libc::SYS_open_tree, dir, p, flags) }).map(|fd| fd as Fd)
}

/// move_mount(2) of the detached tree `tree` onto the object `target`.
/// A directory onto a non-directory, or the reverse, is EINVAL there
/// (mount(2) says ENOTDIR): told as ENOTDIR (the target is not a
/// directory) or EISDIR (it is one), as runc's "not a directory".
pub fn attach(tree: Fd, target: Fd) -> Result<(), Errno> {
    // SAFETY: EMPTY is NUL-terminated; integer flags.
    let r = cvt(unsafe {
        sc!(libc::SYS_move_mount, tree, EMPTY, target, EMPTY, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
    });
    let dir = |fd| kind_of(fd).map_or(false, |k| k.0 == FileKind::Dir);
    match r {
        Err(Errno(libc::EINVAL)) if dir(tree) != dir(target) => {
            Err(Errno(if dir(target) { libc::EISDIR } else { libc::ENOTDIR }))
        }
        r => r.map(|_| ()),
    }
}

/// struct mount_attr (mount_setattr).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_RDONLY: u64 = 1;

/// mount_setattr(2): sets (`on`) or clears MOUNT_ATTR_RDONLY on the mount
/// at `fd` (and, `recursive`, on every mount below it), leaving every other
/// flag as it is. Err(ENOSYS) before Linux 5.12.
pub fn set_rdonly(fd: Fd, recursive: bool, on: bool) -> Result<(), Errno> {
    let (set, clr) = if on { (MOUNT_ATTR_RDONLY, 0) } else { (0, MOUNT_ATTR_RDONLY) };
    set_attr(fd, recursive, set, clr)
}

/// mount_setattr(2): the MOUNT_ATTR_* bits `set` set and `clr` cleared on
/// the mount at `fd` (and, `recursive`, every mount below it).
pub fn set_attr(fd: Fd, recursive: bool, set: u64, clr: u64) -> Result<(), Errno> {
    let attr = MountAttr { attr_set: set, attr_clr: clr, propagation: 0, userns_fd: 0 };
    let flags = libc::AT_EMPTY_PATH as u32 | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: EMPTY is NUL-terminated; attr is a valid mount_attr of the size passed.
    cvt(unsafe {
        sc!(libc::SYS_mount_setattr, fd, EMPTY, flags, &attr as *const MountAttr, core::mem::size_of::<MountAttr>(),)
    })
    .map(|_| ())
}

/// fstatfs(2) of `fd`: the kernel's struct statfs on 64-bit machines, 15
/// words (f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree,
/// f_fsid, f_namelen, f_frsize, f_flags, f_spare[4]). The raw call, not
/// fstatvfs(3): the libc crate's glibc statfs has no f_flags (the fuzz
/// targets build against glibc), and musl's fstatvfs is 200 bytes.
#[inline(never)]
fn statfs(fd: Fd) -> Result<[u64; 15], Errno> {
    let mut st = [0u64; 15];
    // SAFETY: st is 120 writable bytes, the size of that struct.
    cvt(unsafe { sc!(libc::SYS_fstatfs, fd, st.as_mut_ptr()) })?;
    Ok(st)
}

/// Whether `path` is on a cgroup or cgroup2 filesystem (statfs(2)'s
/// f_type: CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC): false when it is
/// another mount's (one over it hides it) or cannot be reached. One
/// statfs(2), nothing opened.
pub fn is_cgroupfs(path: &[u8]) -> bool {
    let mut st = [0u64; 15];
    // SAFETY: p is NUL-terminated (with_cstr); st is 120 writable bytes,
    // the kernel's struct statfs on 64-bit machines (see statfs).
    let r = super::with_cstr(path, |p| cvt(unsafe { sc!(libc::SYS_statfs, p, st.as_mut_ptr()) }));
    r.is_ok() && matches!(st[0], 0x0027_e0eb | 0x6367_7270)
}

/// Whether `fd` is on a procfs (statfs(2)'s f_type: PROC_SUPER_MAGIC).
pub fn on_procfs(fd: Fd) -> bool {
    matches!(statfs(fd).map(|st| st[0]), Ok(0x9fa0))
}

/// The mount flags (MS_*) of the mount holding `fd`, from fstatfs(2)'s
/// f_flags: read-only, nosuid, nodev, noexec, synchronous, mandlock and the
/// atime flags — what a legacy MS_REMOUNT must repeat or lose.
pub fn mount_flags(fd: Fd) -> Result<u64, Errno> {
    let f = statfs(fd)?[10];
    // ST_* and MS_* share their bits, but for ST_RELATIME (4096).
    let same = (libc::MS_RDONLY
        | libc::MS_NOSUID
        | libc::MS_NODEV
        | libc::MS_NOEXEC
        | libc::MS_SYNCHRONOUS
        | libc::MS_MANDLOCK
        | libc::MS_NOATIME
        | libc::MS_NODIRATIME) as u64;
    Ok(f & same | if f & 4096 != 0 { libc::MS_RELATIME as u64 } else { 0 })
}

/// "/proc/self/fd/N" (NUL-terminated) in `buf`: the path of an open fd, for
/// the legacy mount(2) calls that take paths only.
pub fn fd_path(fd: Fd, buf: &mut [u8; 32]) -> &[u8] {
    let d = crate::limits::Dec::new(fd.max(0) as u64);
    // 14 + at most 10 digits + 1 bytes: it fits.
    let n = crate::cgroup::join(buf, &[b"/proc/self/fd/", d.as_bytes(), b"\0"]);
    &buf[..n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_paths_are_built_without_allocation() {
        let mut b = [0u8; 32];
        assert_eq!(fd_path(0, &mut b), b"/proc/self/fd/0\0");
        assert_eq!(fd_path(42, &mut b), b"/proc/self/fd/42\0");
        assert_eq!(fd_path(i32::MAX, &mut b), b"/proc/self/fd/2147483647\0");
    }
}
