//! How the child executes the mount table's steps (child side: no
//! allocation, syscalls on the table and a scratch buffer only).
//!
//! Targets inside the rootfs are never mounted by path: each is opened
//! from the rootfs's own fd without following any symlink (openat2
//! RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS, or one O_NOFOLLOW component at a
//! time before Linux 5.6 or where something must be made), and the mount
//! goes onto that fd — so a process rewriting the rootfs meanwhile cannot
//! swap a symlink in between the check and the mount. Binds are detached
//! copies (open_tree) attached to the fd (move_mount); filesystems are
//! mounted on "." after fchdir to it.
//!
//! Read-only keeps every other flag and covers every mount below:
//! mount_setattr(MOUNT_ATTR_RDONLY, AT_RECURSIVE) on the detached copy,
//! before it is attached, so it is never writable in the container. Before
//! Linux 5.12 a read-only bind is made without the mounts below its source
//! (nothing below it is then writable) and remounted with the flags
//! statfs(2) reports.
use crate::mounts::{fs, Entry, Kind, Make, Op, Table};
use crate::sys::fds::{fchdir, OwnedFd};
use crate::sys::mnt;
use crate::sys::copy;
use crate::sys::{self, Errno, Fd};

const BIND: u64 = libc::MS_BIND as u64;
const REC: u64 = libc::MS_REC as u64;
const REMOUNT_RO: u64 = (libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY) as u64;

/// Whether entry `i` is a bind that entry i+1 remounts read-only: the two
/// run as one read-only bind.
pub fn ro_bind(es: &[Entry], i: usize) -> bool {
    match (es.get(i), es.get(i + 1)) {
        (Some(b), Some(r)) => matches!(b.op, Op::Bind { .. }) && matches!(r.op, Op::RemountRo { .. }) && r.target == b.target,
        _ => false,
    }
}

/// The walk's state: the rootfs, once it is bound onto itself.
pub struct Walk {
    root: Option<OwnedFd>,
    /// --read-only: the rootfs's own submounts are made read-only with it.
    ro_root: bool,
}

impl Walk {
    pub fn new(t: &Table) -> Walk {
        Walk { root: None, ro_root: t.entries().iter().any(|e| e.kind == Kind::ReadOnlyRoot) }
    }

    /// Runs entry `i` (and, with `ro`, the read-only remount after it).
    pub fn step(&mut self, t: &Table, i: usize, ro: bool, scratch: &mut [u8]) -> Result<(), Errno> {
        let Some(e) = t.entries().get(i) else { return Ok(()) };
        let target = t.cstr(e.target);
        let src = e.src.map(|s| t.cstr(s));
        match (&self.root, e.kind) {
            (None, Kind::Rootfs) => {
                self.root = Some(bind_rootfs(target, self.ro_root)?);
                Ok(())
            }
            (Some(root), Kind::Pivot) => fchdir(root.0).and_then(|_| sys::pivot_here()),
            (Some(root), Kind::ReadOnlyRoot) => remount_ro(root.0, false),
            (Some(root), k) if k.inside() => {
                let rel = target.get(t.inner as usize..).ok_or(Errno(libc::EINVAL))?;
                let itself = e.src == Some(e.target);
                inside(t, root.0, e, if itself { None } else { src }, rel, ro, scratch)
            }
            // No rootfs: /proc over the host's, by path as always.
            _ => match e.op {
                Op::Mount(n) => {
                    let (fstype, flags, data) = fs(n);
                    sys::mount(src, target, Some(fstype), flags, data)
                }
                // OCI rootfsPropagation, on "/" after pivot_root.
                Op::Flags { flags } => sys::mount(None, target, None, flags, b""),
                _ => Err(Errno(libc::EINVAL)),
            },
        }
    }
}

/// Binds the rootfs onto itself (pivot_root needs a mount point) and
/// returns the new mount's root. With --read-only every mount below it is
/// made read-only now, before anything is mounted on top (/proc, volumes
/// stay as asked), and the rootfs itself at the end (its mount points are
/// still made in it meanwhile) — unless it was read-only already.
fn bind_rootfs(r: &[u8], ro_root: bool) -> Result<OwnedFd, Errno> {
    let tree = match mnt::clone_tree(sys::CWD, Some(r), true) {
        Ok(t) => OwnedFd(t),
        Err(Errno(libc::ENOSYS)) => {
            // Before Linux 5.2: by path; read-only without the submounts.
            sys::mount(Some(r), r, None, BIND | if ro_root { 0 } else { REC }, b"")?;
            return open_dir(sys::CWD, r);
        }
        Err(e) => return Err(e),
    };
    if ro_root {
        let was_ro = mnt::mount_flags(tree.0)? & libc::MS_RDONLY as u64 != 0;
        match mnt::set_rdonly(tree.0, true, true) {
            Ok(()) if !was_ro => mnt::set_rdonly(tree.0, false, false)?,
            Ok(()) => {}
            Err(Errno(libc::ENOSYS)) => return bind_flat(r),
            Err(e) => return Err(e),
        }
    }
    let at = open_dir(sys::CWD, r)?;
    mnt::attach(tree.0, at.0)?;
    // The tree's fd now names the attached mount's root.
    Ok(tree)
}

/// Before Linux 5.12, --read-only binds the rootfs without its submounts.
fn bind_flat(r: &[u8]) -> Result<OwnedFd, Errno> {
    let tree = OwnedFd(mnt::clone_tree(sys::CWD, Some(r), false)?);
    let at = open_dir(sys::CWD, r)?;
    mnt::attach(tree.0, at.0)?;
    Ok(tree)
}

fn open_dir(dir: Fd, path: &[u8]) -> Result<OwnedFd, Errno> {
    sys::openat(dir, path.strip_suffix(b"\0").unwrap_or(path), libc::O_PATH | libc::O_DIRECTORY).map(OwnedFd)
}

/// One step whose target `rel` (absolute, NUL-terminated) lies inside the
/// rootfs `root`. `src` None: the target bound onto itself.
fn inside(t: &Table, root: Fd, e: &Entry, src: Option<&[u8]>, rel: &[u8], ro: bool, scratch: &mut [u8]) -> Result<(), Errno> {
    let make = match e.op {
        // Made in their parent directory: nothing to open.
        Op::Symlink | Op::HostNode { .. } => return node(root, e, src, rel, scratch),
        Op::Pivot => return Err(Errno(libc::EINVAL)),
        // Steps on a mount already there.
        Op::Flags { .. } | Op::Mask | Op::Attr { .. } => Make::Nothing,
        _ => e.make,
    };
    let at = open_target(root, rel, make, scratch)?;
    // What else than a bind or remount mounts a filesystem on the opened
    // target: (source, type, flags, data).
    let (src, fstype, flags, data) = match e.op {
        Op::Bind { rec } => {
            if bind(src, at.0, rec, ro)? {
                // Before Linux 5.2: the new mount is reached by resolving
                // the target again, then remounted read-only.
                let on_top = open_target(root, rel, Make::Nothing, scratch)?;
                legacy_remount_ro(on_top.0)?;
            }
            return Ok(());
        }
        Op::RemountRo { .. } => return remount_ro(at.0, true),
        Op::Attr { set, clr } => return mnt::set_attr(at.0, true, set as u64, clr as u64),
        // A remount or propagation change of the mount on the target (a
        // file or a directory: through its /proc/self/fd path).
        Op::Flags { flags } => {
            let mut p = [0u8; 32];
            return sys::mount(None, mnt::fd_path(at.0, &mut p), None, flags, b"");
        }
        Op::Mount(n) => {
            let (fstype, flags, data) = fs(n);
            (src, fstype, flags, data)
        }
        // An OCI mount: the filesystem on the opened target.
        Op::Fs { fstype, data, flags, .. } => {
            (src, t.cstr(fstype), flags, if data.len == 0 { &b""[..] } else { t.cstr(data) })
        }
        // Op::Mask (the others returned above), an OCI masked path: an
        // empty read-only tmpfs over a directory, /dev/null over anything
        // else.
        _ => {
            if mnt::kind_of(at.0)?.0 != sys::FileKind::Dir {
                return bind(Some(b"/dev/null\0"), at.0, false, false).map(|_| ());
            }
            (Some(&b"tmpfs\0"[..]), &b"tmpfs\0"[..], libc::MS_RDONLY as u64, &b"size=0\0"[..])
        }
    };
    // tmpcopyup (runc's and crun's extension; podman's --tmpfs and
    // --read-only): what the rootfs had at the target, opened before the
    // new filesystem covers it, is copied into it (the target resolved
    // again).
    let old = match e.op {
        Op::Fs { copy: true, .. } => Some(OwnedFd(copy::open_in(at.0, b".\0", libc::O_RDONLY | libc::O_DIRECTORY)?)),
        _ => None,
    };
    fchdir(at.0).and_then(|_| sys::mount(src, b".\0", Some(fstype), flags, data))?;
    match old {
        Some(old) => copy_tree(old.0, open_target(root, rel, Make::Nothing, scratch)?.0, COPY_DEPTH),
        None => Ok(()),
    }
}

/// How deep tmpcopyup copies: each level keeps a directory listing buffer
/// and two fds while the levels below it are copied (the child's stack is
/// 64 KiB). Deeper is ENAMETOOLONG.
const COPY_DEPTH: u8 = 16;

/// Copies the entries of directory `from` (readable) into `to`:
/// directories, files, symlinks and nodes, with their modes and owners.
fn copy_tree(from: Fd, to: Fd, depth: u8) -> Result<(), Errno> {
    let mut buf = [0u8; 512];
    let mut r = Ok(());
    sys::each_name(from, &mut buf, &mut |name| {
        if r.is_ok() && name != b"." && name != b".." {
            r = copy_one(from, to, name, depth);
        }
    })?;
    r
}

fn copy_one(from: Fd, to: Fd, name: &[u8], depth: u8) -> Result<(), Errno> {
    let mut c = [0u8; 256];
    let c = c.get_mut(..name.len() + 1).ok_or(Errno(libc::ENAMETOOLONG))?;
    c[..name.len()].copy_from_slice(name);
    let c = &*c;
    let st = copy::stat_in(from, c)?;
    let (mode, uid, gid) = (st.st_mode, st.st_uid, st.st_gid);
    let dir = match mode & libc::S_IFMT {
        libc::S_IFDIR => {
            mnt::mkdir_in(to, c)?;
            libc::O_DIRECTORY
        }
        libc::S_IFREG => 0,
        libc::S_IFLNK => return copy_link(from, to, c, uid, gid),
        _ => {
            sys::mknod_at(to, c, mode, libc::major(st.st_rdev), libc::minor(st.st_rdev))?;
            return sys::own_at(to, c, mode, uid, gid);
        }
    };
    // A directory's entries, or a file's contents.
    let s = OwnedFd(copy::open_in(from, c, libc::O_RDONLY | dir)?);
    let d = OwnedFd(copy::open_in(to, c, if dir != 0 { libc::O_RDONLY | dir } else { libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL })?);
    match dir {
        0 => copy::send_all(d.0, s.0)?,
        _ => copy_tree(s.0, d.0, depth.checked_sub(1).ok_or(Errno(libc::ENAMETOOLONG))?)?,
    }
    sys::own_at(to, c, mode, uid, gid)
}

/// A symlink: its target read into a buffer of this frame only (not kept
/// on the stack while deeper levels are copied).
#[inline(never)]
fn copy_link(from: Fd, to: Fd, c: &[u8], uid: u32, gid: u32) -> Result<(), Errno> {
    let mut buf = [0u8; 4096];
    mnt::symlink_in(copy::readlink_in(from, c, &mut buf)?, to, c)?;
    copy::chown_in(to, c, uid, gid)
}

/// A symlink or a device node at `rel`, made in its parent directory. A
/// device node gets its exact mode and owner (0666 for the default ones
/// whatever the umask, so any -u user can use them, as docker's); where
/// the kernel will not let us make device nodes, the host's is bound onto
/// an empty file instead.
fn node(root: Fd, e: &Entry, src: Option<&[u8]>, rel: &[u8], scratch: &mut [u8]) -> Result<(), Errno> {
    let (dir, name) = parent(root, rel, true, scratch)?;
    let Op::HostNode { mode, major, minor, uid, gid } = e.op else {
        return mnt::symlink_in(src.unwrap_or(b"\0"), dir.0, name);
    };
    match sys::mknod_at(dir.0, name, mode, major, minor) {
        Ok(()) => sys::own_at(dir.0, name, mode, uid, gid),
        // Already there (a rootfs whose /dev is no fresh tmpfs, a
        // second run of a bundle): kept as it is, as runc does —
        // what it may open is the device policy's answer anyway.
        Err(Errno(libc::EEXIST)) => Ok(()),
        Err(Errno(libc::EPERM)) => {
            mnt::create_in(dir.0, name)?;
            let fd = OwnedFd(mnt::open_nofollow(dir.0, name)?.0);
            bind(src, fd.0, false, false).map(|_| ())
        }
        Err(e) => Err(e),
    }
}

/// Binds `src` (a host path; None: `to` itself) onto the object `to`;
/// with `ro`, read-only before it is attached. Ok(true): before Linux 5.2,
/// the bind is made but the caller still has to make it read-only.
fn bind(src: Option<&[u8]>, to: Fd, rec: bool, ro: bool) -> Result<bool, Errno> {
    let tree = match mnt::clone_tree(if src.is_some() { sys::CWD } else { to }, src, rec) {
        Ok(t) => OwnedFd(t),
        Err(Errno(libc::ENOSYS)) => return legacy_bind(src, to, rec, ro),
        Err(e) => return Err(e),
    };
    if ro {
        match mnt::set_rdonly(tree.0, true, true) {
            Ok(()) => {}
            // 5.2 to 5.11: attach a copy without submounts, then remount
            // that one mount through its fd.
            Err(Errno(libc::ENOSYS)) => {
                drop(tree);
                let flat = OwnedFd(mnt::clone_tree(if src.is_some() { sys::CWD } else { to }, src, false)?);
                mnt::attach(flat.0, to)?;
                return legacy_remount_ro(flat.0).map(|_| false);
            }
            Err(e) => return Err(e),
        }
    }
    mnt::attach(tree.0, to).map(|_| false)
}

/// Before Linux 5.2: mount(2) through /proc/self/fd/N; a read-only one
/// without the mounts below its source.
fn legacy_bind(src: Option<&[u8]>, to: Fd, rec: bool, ro: bool) -> Result<bool, Errno> {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    let target = mnt::fd_path(to, &mut a);
    let from = match src {
        Some(s) => s,
        None => mnt::fd_path(to, &mut b),
    };
    sys::mount(Some(from), target, None, BIND | if rec && !ro { REC } else { 0 }, b"")?;
    Ok(ro)
}

fn strip(p: &[u8]) -> &[u8] {
    p.strip_suffix(b"\0").unwrap_or(p)
}

/// Makes the mount whose root `fd` names read-only, keeping its other
/// flags; `recursive`, every mount below it too.
fn remount_ro(fd: Fd, recursive: bool) -> Result<(), Errno> {
    match mnt::set_rdonly(fd, recursive, true) {
        Err(Errno(libc::ENOSYS)) => legacy_remount_ro(fd),
        r => r,
    }
}

/// MS_REMOUNT|MS_BIND|MS_RDONLY repeating every flag statfs(2) reports
/// (a bind remount resets the flags it is not given).
fn legacy_remount_ro(fd: Fd) -> Result<(), Errno> {
    let flags = mnt::mount_flags(fd)?;
    let mut p = [0u8; 32];
    sys::mount(None, mnt::fd_path(fd, &mut p), None, REMOUNT_RO | flags, b"")
}

/// Opens the target `rel` inside `root` without following symlinks,
/// making it first (a directory or an empty file) as `make` says.
fn open_target(root: Fd, rel: &[u8], make: Make, scratch: &mut [u8]) -> Result<OwnedFd, Errno> {
    match mnt::resolve_in(root, rel, false) {
        Ok(fd) => return Ok(OwnedFd(fd)),
        Err(Errno(libc::ENOENT)) if make != Make::Nothing => {}
        Err(Errno(libc::ENOSYS)) => {}
        Err(e) => return Err(e),
    }
    let (dir, name) = parent(root, rel, make != Make::Nothing, scratch)?;
    match mnt::open_nofollow(dir.0, name) {
        Err(Errno(libc::ENOENT)) if make != Make::Nothing => {
            if make == Make::Dir {
                mnt::mkdir_in(dir.0, name)?;
            } else {
                mnt::create_in(dir.0, name)?;
            }
            mnt::open_nofollow(dir.0, name)
        }
        r => r,
    }
    .map(|(fd, _)| OwnedFd(fd))
}

/// Opens the directory holding the last component of `rel` (absolute,
/// NUL-terminated, inside `root`) without following symlinks, making
/// missing directories with `mkdirs`. Returns it and the last component,
/// NUL-terminated, in `scratch`.
fn parent<'s>(root: Fd, rel: &[u8], mkdirs: bool, scratch: &'s mut [u8]) -> Result<(OwnedFd, &'s [u8]), Errno> {
    let body = strip(rel);
    let body = body.strip_suffix(b"/").unwrap_or(body);
    let cut = body.iter().rposition(|&c| c == b'/').ok_or(Errno(libc::EINVAL))?;
    let (dir, name) = (&body[..cut], &body[cut + 1..]);
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno(libc::EINVAL));
    }
    // scratch: [dir path or one component, NUL | name, NUL]
    let half = scratch.len() / 2;
    let (a, b) = scratch.split_at_mut(half);
    let nb = b.get_mut(..name.len() + 1).ok_or(Errno(libc::ENAMETOOLONG))?;
    nb[..name.len()].copy_from_slice(name);
    nb[name.len()] = 0;
    let d = a.get_mut(..dir.len() + 2).ok_or(Errno(libc::ENAMETOOLONG))?;
    d[0] = b'/';
    d[1..=dir.len()].copy_from_slice(dir);
    d[dir.len() + 1] = 0;
    let fast = match mnt::resolve_in(root, &d[..dir.len() + 2], true) {
        Ok(fd) => Some(OwnedFd(fd)),
        Err(Errno(libc::ENOENT)) if mkdirs => None,
        Err(Errno(libc::ENOSYS)) => None,
        Err(e) => return Err(e),
    };
    let fd = match fast {
        Some(fd) => fd,
        None => walk(root, dir, mkdirs, a)?,
    };
    Ok((fd, &b[..name.len() + 1]))
}

/// One component at a time from `root`, each opened O_NOFOLLOW (a symlink
/// is ELOOP) and made first with `mkdirs`.
fn walk(root: Fd, dir: &[u8], mkdirs: bool, buf: &mut [u8]) -> Result<OwnedFd, Errno> {
    let mut cur = OwnedFd(mnt::open_nofollow(root, b".\0")?.0);
    for c in dir.split(crate::words::on(b'/')).filter(|c| !c.is_empty() && *c != b".") {
        // Targets come without "..", but this walk must not climb out of
        // the root whatever it is given.
        if c == b".." {
            return Err(Errno(libc::EINVAL));
        }
        let n = buf.get_mut(..c.len() + 1).ok_or(Errno(libc::ENAMETOOLONG))?;
        n[..c.len()].copy_from_slice(c);
        n[c.len()] = 0;
        let (next, is_dir) = match mnt::open_nofollow(cur.0, n) {
            Err(Errno(libc::ENOENT)) if mkdirs => mnt::mkdir_in(cur.0, n).and_then(|_| mnt::open_nofollow(cur.0, n)),
            r => r,
        }?;
        cur = OwnedFd(next);
        if !is_dir {
            return Err(Errno(libc::ENOTDIR));
        }
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mounts::{Span, EMPTY};

    fn e(op: Op, off: u32) -> Entry {
        Entry { op, target: Span { off, len: 4 }, ..EMPTY }
    }

    #[test]
    fn a_bind_and_the_remount_of_its_own_target_are_one_read_only_bind() {
        let ro = Op::RemountRo { flags: 0 };
        let bind = Op::Bind { rec: true };
        let es = [e(bind, 0), e(ro, 0), e(bind, 8), e(ro, 16), e(ro, 16), e(bind, 24)];
        let got: Vec<bool> = (0..es.len()).map(|i| ro_bind(&es, i)).collect();
        assert_eq!(got, [true, false, false, false, false, false]);
    }

    /// A scratch "rootfs" with a directory, a file, and symlinks leading
    /// out of it (to `out`, a directory beside it).
    fn tree(tag: &str) -> (std::path::PathBuf, std::path::PathBuf, OwnedFd) {
        let base = std::env::temp_dir().join(format!("mydocker-fsops-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (r, out) = (base.join("r"), base.join("out"));
        std::fs::create_dir_all(r.join("d")).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(r.join("f"), "").unwrap();
        std::os::unix::fs::symlink(&out, r.join("abs")).unwrap();
        std::os::unix::fs::symlink("d", r.join("rel")).unwrap();
        let fd = sys::openat(sys::CWD, r.as_os_str().as_encoded_bytes(), libc::O_PATH | libc::O_DIRECTORY).unwrap();
        (base, out, OwnedFd(fd))
    }

    fn kind(fd: &OwnedFd) -> sys::FileKind {
        mnt::kind_of(fd.0).unwrap().0
    }

    #[test]
    fn targets_are_made_and_opened_without_following_any_symlink() {
        let (base, out, root) = tree("targets");
        let mut scratch = [0u8; 4096];
        let t = |p: &[u8], m: Make, s: &mut [u8]| open_target(root.0, p, m, s);
        assert_eq!(kind(&t(b"/d\0", Make::Nothing, &mut scratch).unwrap()), sys::FileKind::Dir);
        assert_eq!(kind(&t(b"/new/deep/dir\0", Make::Dir, &mut scratch).unwrap()), sys::FileKind::Dir);
        assert_eq!(kind(&t(b"/new/file\0", Make::File, &mut scratch).unwrap()), sys::FileKind::File);
        assert!(base.join("r/new/deep/dir").is_dir() && base.join("r/new/file").is_file());
        for p in [&b"/abs/x\0"[..], b"/abs\0", b"/rel/x\0", b"/rel\0", b"/d/../abs/x\0"] {
            for m in [Make::Nothing, Make::Dir, Make::File] {
                let r = t(p, m, &mut scratch);
                assert!(matches!(r, Err(Errno(libc::ELOOP))), "{:?} {m:?}: {:?}", p, r.map(|f| f.0));
            }
        }
        assert_eq!(t(b"/missing\0", Make::Nothing, &mut scratch).err(), Some(Errno(libc::ENOENT)));
        assert_eq!(t(b"/f/x\0", Make::Dir, &mut scratch).err(), Some(Errno(libc::ENOTDIR)));
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "made outside the rootfs");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn the_walk_for_kernels_without_openat2_refuses_symlinks_too() {
        let (base, out, root) = tree("walk");
        let mut buf = [0u8; 256];
        assert_eq!(kind(&walk(root.0, b"d", false, &mut buf).unwrap()), sys::FileKind::Dir);
        assert_eq!(kind(&walk(root.0, b"/made/here", true, &mut buf).unwrap()), sys::FileKind::Dir);
        assert!(base.join("r/made/here").is_dir());
        for p in [&b"abs"[..], b"abs/x", b"rel", b"rel/x", b"/./rel/x"] {
            assert_eq!(walk(root.0, p, true, &mut buf).err(), Some(Errno(libc::ELOOP)), "{p:?}");
        }
        // ".." could climb out of the root: the walk refuses it (openat2
        // clamps it at the root instead).
        assert_eq!(walk(root.0, b"d/../../out", true, &mut buf).err(), Some(Errno(libc::EINVAL)));
        assert_eq!(walk(root.0, b"f/x", true, &mut buf).err(), Some(Errno(libc::ENOTDIR)));
        assert_eq!(walk(root.0, b"nope", false, &mut buf).err(), Some(Errno(libc::ENOENT)));
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "made outside the rootfs");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
