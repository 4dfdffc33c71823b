//! How the child executes the mount table's steps (child side: no
//! allocation, syscalls on the table and a scratch buffer only).
//!
//! Targets inside the rootfs are never mounted by path: each is opened
//! from the rootfs's own fd with its symlinks resolved inside the rootfs
//! (openat2 RESOLVE_IN_ROOT, or one O_NOFOLLOW component at a time,
//! links followed by `walk`, before Linux 5.6 or where something must be
//! made), and the mount goes onto that fd — so a process rewriting the
//! rootfs meanwhile cannot swap in a symlink that leads out between the
//! check and the mount. Binds are detached
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
    // An OCI tmpfs's target is opened before the walk may make it, to
    // take its mode (see tmpfs_target); opened so, it is the target.
    let (at, mode) = match tmpfs_target(t, e, root, rel, scratch) {
        Some((at, mode)) => (at, Some(mode)),
        None => (open_target(root, rel, make, scratch)?, None),
    };
    // A user's mount (volume, --tmpfs, config.json) that resolves through
    // symlinks to the root itself would only cover the rootfs's own bind
    // ("/" itself is refused when parsed): EXDEV. The system steps are
    // not asked (two fstat(2) each, on every run).
    if make != Make::Nothing && matches!(e.kind, Kind::Volume | Kind::Tmpfs | Kind::Config) && mnt::same_file(at.0, root) {
        return Err(Errno(libc::EXDEV));
    }
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
    let data = tmpfs_data(mode, data, scratch);
    fchdir(at.0).and_then(|_| sys::mount(src, b".\0", Some(fstype), flags, data))?;
    match old {
        Some(old) => copy_tree(old.0, open_target(root, rel, Make::Nothing, scratch)?.0, COPY_DEPTH),
        None => Ok(()),
    }
}

/// runc's rule (rootfs_linux.go, createOpenMountpoint): an OCI tmpfs on a
/// directory that was there takes its mode ("mode=0NNN" before the
/// options, so a mode= given still wins), not tmpfs's 1777 — an image's
/// root-only /run stays so under podman --read-only or --tmpfs; one on a
/// directory the walk makes stays 1777. `e` an OCI tmpfs whose target is
/// there: that target, opened, and its mode; else None (the caller's walk
/// opens or makes it).
#[inline(never)]
fn tmpfs_target(t: &Table, e: &Entry, root: Fd, rel: &[u8], scratch: &mut [u8]) -> Option<(OwnedFd, u32)> {
    let (Op::Fs { fstype, .. }, Kind::Config) = (e.op, e.kind) else { return None };
    let at = (t.cstr(fstype) == b"tmpfs\0").then(|| open_target(root, rel, Make::Nothing, scratch).ok())??;
    let mode = copy::stat_in(at.0, b".\0").ok()?.st_mode;
    Some((at, mode))
}

/// "mode=0NNN" (`mode`'s permission bits) then ",<data>", in `buf`;
/// `data`: NUL-terminated or empty. No mode, or too long for `buf`:
/// `data` as given.
#[inline(never)]
fn tmpfs_data<'a>(mode: Option<u32>, data: &'a [u8], buf: &'a mut [u8]) -> &'a [u8] {
    let n = data.len() + 10;
    let (Some(mode), Some(out)) = (mode, buf.get_mut(..n)) else { return data };
    // Bits 11..0 at 28..17: each octal digit brought to 31..29 in turn.
    let mut m = mode << 17;
    for (i, c) in out.iter_mut().enumerate() {
        *c = match i {
            0..5 => b"mode="[i],
            5..9 => {
                m <<= 3;
                b'0' + (m >> 29 & 7) as u8
            }
            9 if n == 10 => 0,
            9 => b',',
            _ => data[i - 10],
        };
    }
    out
}

/// How deep tmpcopyup copies: each level keeps a directory listing buffer
/// and two fds while the levels below it are copied (the child's stack is
/// 64 KiB). Deeper is ENAMETOOLONG, whose advice (err.rs) says the limit.
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
    let (dir, name) = parent(root, rel, scratch)?;
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

/// Opens the target `rel` (absolute, NUL-terminated) inside `root` with
/// its symlinks resolved inside `root` — images link /var/run -> /run and
/// /lib -> usr/lib, and runc (securejoin) and crun (openat2
/// RESOLVE_IN_ROOT) follow them, clamped to the root — making it first (a
/// directory or an empty file, and the directories on the way, where the
/// links lead) as `make` says.
fn open_target(root: Fd, rel: &[u8], make: Make, scratch: &mut [u8]) -> Result<OwnedFd, Errno> {
    find(root, strip(rel), make, scratch)
}

/// `path` (absolute, no NUL) opened inside `root`: by openat2, else (a
/// missing part to make, or before Linux 5.6) by `walk`. It is copied to
/// the end of `buf`, NUL-terminated, where the walk keeps what it has not
/// resolved yet.
fn find(root: Fd, path: &[u8], make: Make, buf: &mut [u8]) -> Result<OwnedFd, Errno> {
    let s = buf.len().checked_sub(path.len() + 1).ok_or(Errno(libc::ENAMETOOLONG))?;
    buf[s..s + path.len()].copy_from_slice(path);
    buf[s + path.len()] = 0;
    match mnt::resolve_in(root, &buf[s..]) {
        Ok(fd) => Ok(OwnedFd(fd)),
        Err(Errno(libc::ENOENT)) if make != Make::Nothing => walk(root, buf, s, make),
        // EAGAIN: a mount or rename anywhere on the host while openat2
        // resolved a ".." (it cannot then tell the root was not left);
        // the walk's ".." is lexical.
        Err(Errno(libc::ENOSYS | libc::EAGAIN)) => walk(root, buf, s, make),
        Err(e) => Err(e),
    }
}

/// Opens the directory holding the last component of `rel` (absolute,
/// NUL-terminated, inside `root`), making missing directories. Returns it
/// and that component, NUL-terminated (a slice of `rel`).
fn parent<'r>(root: Fd, rel: &'r [u8], scratch: &mut [u8]) -> Result<(OwnedFd, &'r [u8]), Errno> {
    let cut = rel.iter().rposition(|&c| c == b'/').ok_or(Errno(libc::EINVAL))?;
    // "/x": its directory is "/", the root.
    Ok((find(root, &rel[..cut.max(1)], Make::Dir, scratch)?, &rel[cut + 1..]))
}

/// Most symlinks one path may cross: the kernel's (ELOOP after 40).
const MAX_LINKS: u8 = 40;

/// `buf[s..]` (a path, then a NUL ending `buf`) resolved from `root` a
/// component at a time, as RESOLVE_IN_ROOT does: each opened O_NOFOLLOW,
/// made first as `make` says if missing (directories on the way); a
/// symlink read and its target put in front of the rest (an absolute one
/// restarts at the root). The resolved part is kept at the front of `buf`
/// ("a/b/"): ".." drops its last component and restarts at the root with
/// it in front of the rest, so no fd ever climbs — never above the root,
/// even if a directory is moved meanwhile.
fn walk(root: Fd, buf: &mut [u8], mut s: usize, make: Make) -> Result<OwnedFd, Errno> {
    let e = buf.len() - 1;
    let top = || mnt::open_nofollow(root, b".\0").map(|f| OwnedFd(f.0));
    let (mut cur, mut r, mut links) = (top()?, 0usize, 0);
    while s < e {
        let at = s;
        let k = buf[at..e].iter().position(|&c| c == b'/').map_or(e, |i| at + i);
        s = (k + 1).min(e);
        let c = &buf[at..k];
        if c == b".." {
            let p = buf[..r.saturating_sub(1)].iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
            buf.copy_within(0..p, s - p);
            (s, r, cur) = (s - p, 0, top()?);
            continue;
        }
        if c.is_empty() || c == b"." {
            continue;
        }
        // The component NUL-terminated in place (its '/' put back below,
        // where it is kept); links are read into the gap before it.
        buf[k] = 0;
        let (gap, rest) = buf.split_at_mut(at);
        let n = &rest[..=k - at];
        let got = match mnt::open_nofollow(cur.0, n) {
            Err(Errno(libc::ENOENT)) if make != Make::Nothing => {
                if s == e && make == Make::File {
                    mnt::create_in(cur.0, n)?;
                } else {
                    mnt::mkdir_in(cur.0, n)?;
                }
                mnt::open_nofollow(cur.0, n)
            }
            r => r,
        };
        match got {
            Ok((fd, dir)) => {
                cur = OwnedFd(fd);
                if s < e {
                    if !dir {
                        return Err(Errno(libc::ENOTDIR));
                    }
                    // "c/" onto the resolved part.
                    buf[k] = b'/';
                    buf.copy_within(at..s, r);
                    r += s - at;
                }
            }
            // A symlink: its target read into the gap between the
            // resolved part and the rest, then moved against the rest
            // with a '/'.
            Err(Errno(libc::ELOOP)) if links < MAX_LINKS => {
                links += 1;
                let t = copy::readlink_in(cur.0, n, &mut gap[r..])?.len();
                buf[r + t - 1] = b'/';
                buf.copy_within(r..r + t, s - t);
                s -= t;
                if buf[s] == b'/' {
                    (r, cur) = (0, top()?);
                }
            }
            Err(e) => return Err(e),
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

    /// A scratch "rootfs" with a directory, a file, and symlinks: to the
    /// directory (relative), to `out` (a host directory beside it, by its
    /// absolute path), up and out ("/d/../../.."), to the root, a loop, a
    /// dangling /var/run -> /run, and chains of 40 and 41 links.
    fn tree(tag: &str) -> (std::path::PathBuf, std::path::PathBuf, OwnedFd) {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("mydocker-fsops-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (r, out) = (base.join("r"), base.join("out"));
        std::fs::create_dir_all(r.join("d")).unwrap();
        std::fs::create_dir_all(r.join("var")).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(r.join("f"), "").unwrap();
        symlink(&out, r.join("abs")).unwrap();
        symlink("d", r.join("rel")).unwrap();
        symlink("/d/../../..", r.join("up")).unwrap();
        symlink("/", r.join("top")).unwrap();
        symlink("loop", r.join("loop")).unwrap();
        symlink("/run", r.join("var/run")).unwrap();
        for i in 0..41 {
            symlink(if i == 0 { "d".into() } else { format!("l{}", i - 1) }, r.join(format!("l{i}"))).unwrap();
        }
        let fd = sys::openat(sys::CWD, r.as_os_str().as_encoded_bytes(), libc::O_PATH | libc::O_DIRECTORY).unwrap();
        (base, out, OwnedFd(fd))
    }

    fn kind(fd: &OwnedFd) -> sys::FileKind {
        mnt::kind_of(fd.0).unwrap().0
    }

    #[test]
    fn targets_follow_symlinks_inside_the_root_and_never_leave_it() {
        let (base, out, root) = tree("targets");
        let r = base.join("r");
        let mut scratch = [0u8; 4096];
        let mut t = |p: &[u8], m: Make| open_target(root.0, p, m, &mut scratch).map(|f| kind(&f));
        assert_eq!(t(b"/rel\0", Make::Nothing), Ok(sys::FileKind::Dir));
        assert_eq!(t(b"/new/deep/dir\0", Make::Dir), Ok(sys::FileKind::Dir));
        assert_eq!(t(b"/var/run/secrets/x\0", Make::Dir), Ok(sys::FileKind::Dir));
        assert_eq!(t(b"/rel/file\0", Make::File), Ok(sys::FileKind::File));
        assert_eq!(t(b"/up/d/upped\0", Make::Dir), Ok(sys::FileKind::Dir));
        // The host directory's path, made again inside the root.
        let host = out.to_str().unwrap();
        assert_eq!(t(b"/abs/x\0", Make::Dir), Ok(sys::FileKind::Dir));
        assert!(r.join(&host[1..]).join("x").is_dir() && r.join("new/deep/dir").is_dir());
        assert!(r.join("run/secrets/x").is_dir() && r.join("d/file").is_file() && r.join("d/upped").is_dir());
        assert_eq!(t(b"/loop/x\0", Make::Dir), Err(Errno(libc::ELOOP)));
        assert_eq!(t(b"/l40\0", Make::Nothing), Err(Errno(libc::ELOOP)));
        assert_eq!(t(b"/l39\0", Make::Nothing), Ok(sys::FileKind::Dir));
        // Clamped: the root itself (inside() refuses a user's mount there).
        for p in [&b"/top\0"[..], b"/up\0", b"/d/..\0", b"/\0"] {
            assert!(mnt::same_file(open_target(root.0, p, Make::Dir, &mut [0u8; 512]).unwrap().0, root.0), "{p:?}");
        }
        assert_eq!(t(b"/missing\0", Make::Nothing), Err(Errno(libc::ENOENT)));
        assert_eq!(t(b"/f/x\0", Make::Dir), Err(Errno(libc::ENOTDIR)));
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "made outside the rootfs");
        std::fs::remove_dir_all(&base).unwrap();
    }

    /// The walk (before Linux 5.6, and where something is made) opens what
    /// openat2 RESOLVE_IN_ROOT opens, or fails as it does.
    #[test]
    fn the_walk_resolves_symlinks_as_openat2_in_root_does() {
        let (base, out, root) = tree("walk");
        let walked = |p: &str, m: Make| {
            let mut buf = [0u8; 512];
            let s = buf.len() - p.len() - 1;
            buf[s..s + p.len()].copy_from_slice(p.as_bytes());
            walk(root.0, &mut buf, s, m)
        };
        // /abs/f: the host directory's path inside the root.
        let inner = base.join("r").join(&out.to_str().unwrap()[1..]);
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(inner.join("f"), "").unwrap();
        for p in [
            "/rel", "rel/", "/d/../rel/../f", "/../../../d", "/up", "/up/d", "/top/rel", "/abs/f", "/l39", "/l40",
            "/loop", "/var/run", "/missing/x", "/f/x", "/rel/.", "//d//",
        ] {
            // EAGAIN: a mount or rename elsewhere during a ".."; retried.
            let by_kernel = (0..1000)
                .map(|_| mnt::resolve_in(root.0, format!("{p}\0").as_bytes()))
                .find(|r| *r != Err(Errno(libc::EAGAIN)))
                .unwrap();
            match (walked(p, Make::Nothing), by_kernel) {
                (Ok(a), Ok(b)) => assert!(mnt::same_file(a.0, b), "{p}"),
                (a, b) => assert_eq!(a.map(|f| f.0).err(), b.err(), "{p}"),
            }
        }
        // Made where the links lead: /var/run -> /run, missing.
        assert_eq!(kind(&walked("/var/run/a/b", Make::Dir).unwrap()), sys::FileKind::Dir);
        assert_eq!(kind(&walked("/var/run/a/f", Make::File).unwrap()), sys::FileKind::File);
        assert!(base.join("r/run/a/b").is_dir() && base.join("r/run/a/f").is_file());
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "made outside the rootfs");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
