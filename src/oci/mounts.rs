//! config.json's filesystem as mydocker's mount table (crate::mounts::Table,
//! walked by the child): the rootfs bound onto itself, `mounts` in order,
//! the default devices and links (runtime-spec "Default Devices"), masked
//! and read-only paths, pivot_root, root.readonly, rootfsPropagation.
//!
//! Mount options (runtime-spec config.md's table): flags become mount(2)
//! flags, propagation words a second mount(2) call, bind mounts with flags
//! a remount; anything unknown is passed to the filesystem as data, as the
//! spec asks (`mode=755`, `size=65536k`, `newinstance`, `gid=5`, ...).
use super::config::{refuse, Refusal, Res};
use crate::json::Value;
use crate::mounts::{Kind, Make, Op, Table};

const RDONLY: u64 = libc::MS_RDONLY as u64;
const NOSUID: u64 = libc::MS_NOSUID as u64;
const NODEV: u64 = libc::MS_NODEV as u64;
const NOEXEC: u64 = libc::MS_NOEXEC as u64;
const BIND: u64 = libc::MS_BIND as u64;
const REC: u64 = libc::MS_REC as u64;
const REMOUNT: u64 = libc::MS_REMOUNT as u64;

/// (option, flags set, flags cleared). Clearing words ("rw", "suid") undo
/// an earlier setting word.
pub const FLAGS: [(&[u8], u64, u64); 26] = [
    (b"ro", RDONLY, 0),
    (b"rw", 0, RDONLY),
    (b"nosuid", NOSUID, 0),
    (b"suid", 0, NOSUID),
    (b"nodev", NODEV, 0),
    (b"dev", 0, NODEV),
    (b"noexec", NOEXEC, 0),
    (b"exec", 0, NOEXEC),
    (b"sync", libc::MS_SYNCHRONOUS as u64, 0),
    (b"async", 0, libc::MS_SYNCHRONOUS as u64),
    (b"dirsync", libc::MS_DIRSYNC as u64, 0),
    (b"remount", REMOUNT, 0),
    (b"mand", libc::MS_MANDLOCK as u64, 0),
    (b"nomand", 0, libc::MS_MANDLOCK as u64),
    (b"atime", 0, libc::MS_NOATIME as u64),
    (b"noatime", libc::MS_NOATIME as u64, 0),
    (b"diratime", 0, libc::MS_NODIRATIME as u64),
    (b"nodiratime", libc::MS_NODIRATIME as u64, 0),
    (b"relatime", libc::MS_RELATIME as u64, 0),
    (b"norelatime", 0, libc::MS_RELATIME as u64),
    (b"strictatime", libc::MS_STRICTATIME as u64, 0),
    (b"nostrictatime", 0, libc::MS_STRICTATIME as u64),
    (b"bind", BIND, 0),
    (b"rbind", BIND | REC, 0),
    (b"nosymfollow", 256, 0),
    (b"silent", libc::MS_SILENT as u64, 0),
];

/// Propagation words → the flags of their own mount(2) call.
pub const PROPAGATION: [(&[u8], u64); 8] = [
    (b"private", libc::MS_PRIVATE as u64),
    (b"rprivate", (libc::MS_PRIVATE | libc::MS_REC) as u64),
    (b"shared", libc::MS_SHARED as u64),
    (b"rshared", (libc::MS_SHARED | libc::MS_REC) as u64),
    (b"slave", libc::MS_SLAVE as u64),
    (b"rslave", (libc::MS_SLAVE | libc::MS_REC) as u64),
    (b"unbindable", libc::MS_UNBINDABLE as u64),
    (b"runbindable", (libc::MS_UNBINDABLE | libc::MS_REC) as u64),
];

/// One mount's options: flags, propagation, and the rest as data
/// ("a,b,c" in `data`, its length returned).
pub struct Options {
    pub flags: u64,
    pub propagation: u64,
    pub data_len: usize,
}

/// Parses mount options; unknown ones are joined into `data` with commas.
#[inline(never)]
pub fn options(opts: Option<Value>, data: &mut [u8]) -> Res<Options> {
    let mut o = Options { flags: 0, propagation: 0, data_len: 0 };
    for v in opts.into_iter().flat_map(|v| v.items()) {
        let Some(w) = v.as_bytes().filter(|w| !w.contains(&0)) else {
            return refuse(b"mounts.options", b"not an array of strings");
        };
        if let Some(&(_, set, clear)) = FLAGS.iter().find(|(n, _, _)| *n == w) {
            o.flags = (o.flags & !clear) | set;
        } else if let Some(&(_, p)) = PROPAGATION.iter().find(|(n, _)| *n == w) {
            o.propagation = p;
        } else if w == b"tmpcopyup" {
            // runc's extension (copy the image's files into the tmpfs);
            // podman sets it for /run-like tmpfs mounts only when asked.
            return refuse(b"mounts.options", b"tmpcopyup is not supported");
        } else if matches!(w, b"idmap" | b"ridmap" | b"rro") || w.starts_with(b"rro") {
            return refuse(b"mounts.options", b"idmapped and recursive read-only mounts are not supported");
        } else {
            let sep = (o.data_len > 0) as usize;
            let end = o.data_len + sep + w.len();
            if end >= data.len() {
                return refuse(b"mounts.options", b"filesystem options too long (limit 4 KiB)");
            }
            if sep == 1 {
                data[o.data_len] = b',';
            }
            data[o.data_len + sep..end].copy_from_slice(w);
            o.data_len = end;
        }
    }
    Ok(o)
}

fn full(_: &[u8]) -> Refusal {
    Refusal { field: b"mounts", why: b"too many mounts or paths too long (128 steps, 64 KiB of paths)" }
}

/// A path inside the container: absolute, no "..", no NUL.
fn inner<'a>(p: Option<Value<'a>>, field: &'static [u8]) -> Res<&'a [u8]> {
    match p.and_then(|p| p.as_bytes()) {
        Some(p) if p.starts_with(b"/") && !p.contains(&0) && crate::mounts::check_inner_path(p).is_ok() => Ok(p),
        _ => refuse(field, b"not an absolute path without '..'"),
    }
}

/// Whether the host path is a directory (binds of files get a file as
/// their mount point). A missing source is the mount's error, at create.
fn is_dir(p: &[u8]) -> bool {
    !matches!(crate::sys::kind(p), Ok(crate::sys::FileKind::File | crate::sys::FileKind::Other))
}

/// One entry of `mounts`.
#[inline(never)]
fn mount(m: Value, r: &[u8], bundle: &[u8], cgroups: &[u8], t: &mut Table) -> Res<()> {
    let dst = inner(m.get("destination"), b"mounts.destination")?;
    let ty = m.get("type").and_then(|v| v.as_bytes()).unwrap_or(b"");
    let src = m.get("source").and_then(|v| v.as_bytes()).unwrap_or(b"");
    if ty.contains(&0) || src.contains(&0) {
        return refuse(b"mounts", b"NUL byte in type or source");
    }
    let mut data = [0u8; 4096];
    let o = options(m.get("options"), &mut data)?;
    let target = t.put(&[r, dst]).map_err(full)?;
    let bind = o.flags & BIND != 0 || ty == b"bind";
    if bind {
        // Relative sources are relative to the bundle.
        let s = if src.starts_with(b"/") { t.put(&[src]) } else { t.put(&[bundle, b"/", src]) }.map_err(full)?;
        let make = if is_dir(t.str(s)) { Make::Dir } else { Make::File };
        t.push(Op::Bind { rec: o.flags & REC != 0 }, Some(s), target, make, false, Kind::Config).map_err(full)?;
        // Read-only: the walk makes the bind and this remount one
        // read-only bind (every submount too).
        if o.flags & RDONLY != 0 {
            t.push(Op::RemountRo { flags: 0 }, None, target, Make::Nothing, false, Kind::Config).map_err(full)?;
        }
        // Other flags on a bind mount take a remount (the kernel ignores
        // them on the bind itself).
        let rest = o.flags & !(BIND | REC | REMOUNT | RDONLY);
        if rest != 0 {
            let flags = BIND | REMOUNT | rest | (o.flags & RDONLY);
            t.push(Op::Flags { flags }, None, target, Make::Nothing, false, Kind::Config).map_err(full)?;
        }
    } else if ty == b"cgroup" {
        cgroup(target, o.flags, cgroups, t)?;
    } else {
        if ty.is_empty() {
            return refuse(b"mounts.type", b"missing");
        }
        let fstype = t.put(&[ty]).map_err(full)?;
        let s = t.put(&[if src.is_empty() { ty } else { src }]).map_err(full)?;
        let d = t.put(&[&data[..o.data_len]]).map_err(full)?;
        t.push(Op::Fs { fstype, data: d, flags: o.flags }, Some(s), target, Make::Dir, false, Kind::Config)
            .map_err(full)?;
    }
    if o.propagation != 0 {
        t.push(Op::Flags { flags: o.propagation }, None, target, Make::Nothing, false, Kind::Config).map_err(full)?;
    }
    Ok(())
}

/// A `cgroup` mount: cgroup2 where the host has it at /sys/fs/cgroup (the
/// container's own cgroup namespace, when it has one, is its root).
/// Otherwise, on cgroup v1 and hybrid hosts, as runc does: a tmpfs, the
/// container's own cgroup of each v1 hierarchy bound read-only at
/// <target>/<hierarchy> (`cgroups`: those directories, NUL-separated, each
/// below /sys/fs/cgroup/<hierarchy>), a link per co-mounted controller
/// ("cpu" → "cpu,cpuacct"), then the tmpfs remounted read-only.
fn cgroup(target: crate::mounts::Span, flags: u64, cgroups: &[u8], t: &mut Table) -> Res<()> {
    const NSX: u64 = NOSUID | NODEV | NOEXEC;
    if crate::sys::exists_nofollow(b"/sys/fs/cgroup/cgroup.controllers") {
        let fstype = t.put(&[b"cgroup2"]).map_err(full)?;
        let d = t.put(&[b""]).map_err(full)?;
        let op = Op::Fs { fstype, data: d, flags: flags | RDONLY | NSX };
        return t.push(op, Some(fstype), target, Make::Dir, false, Kind::Config).map_err(full);
    }
    let fstype = t.put(&[b"tmpfs"]).map_err(full)?;
    let d = t.put(&[b"mode=755"]).map_err(full)?;
    let op = Op::Fs { fstype, data: d, flags: NSX };
    t.push(op, Some(fstype), target, Make::Dir, false, Kind::Config).map_err(full)?;
    let base = t.str(target).len();
    let mut base_buf = [0u8; 4096];
    let b = base_buf.get_mut(..base).ok_or(Refusal { field: b"mounts", why: b"path too long" })?;
    b.copy_from_slice(t.str(target));
    for dir in cgroups.split(|&c| c == 0).filter(|d| !d.is_empty()) {
        let Some(rest) = dir.strip_prefix(b"/sys/fs/cgroup/") else { continue };
        let name = rest.split(|&c| c == b'/').next().unwrap_or(b"");
        if name.is_empty() {
            continue;
        }
        let src = t.put(&[dir]).map_err(full)?;
        let at = t.put(&[&base_buf[..base], b"/", name]).map_err(full)?;
        t.push(Op::Bind { rec: false }, Some(src), at, Make::Dir, false, Kind::Config).map_err(full)?;
        t.push(Op::RemountRo { flags: 0 }, None, at, Make::Nothing, false, Kind::Config).map_err(full)?;
        if name.contains(&b',') {
            for alias in name.split(|&c| c == b',') {
                let to = t.put(&[name]).map_err(full)?;
                let link = t.put(&[&base_buf[..base], b"/", alias]).map_err(full)?;
                t.push(Op::Symlink, Some(to), link, Make::Nothing, false, Kind::Config).map_err(full)?;
            }
        }
    }
    let ro = Op::Flags { flags: REMOUNT | RDONLY | NSX | (flags & libc::MS_RELATIME as u64) };
    t.push(ro, None, target, Make::Nothing, false, Kind::Config).map_err(full)
}

/// The devices every container gets (runtime-spec "Default Devices").
const DEFAULT_DEVICES: [(&[u8], u32, u32); 6] = [
    (b"/dev/null", 1, 3),
    (b"/dev/zero", 1, 5),
    (b"/dev/full", 1, 7),
    (b"/dev/random", 1, 8),
    (b"/dev/urandom", 1, 9),
    (b"/dev/tty", 5, 0),
];

const LINKS: [(&[u8], &[u8]); 5] = [
    (b"/proc/self/fd", b"/dev/fd"),
    (b"/proc/self/fd/0", b"/dev/stdin"),
    (b"/proc/self/fd/1", b"/dev/stdout"),
    (b"/proc/self/fd/2", b"/dev/stderr"),
    (b"pts/ptmx", b"/dev/ptmx"),
];

#[inline(never)]
fn device(t: &mut Table, r: &[u8], path: &[u8], mode: u32, major: u32, minor: u32, uid: u32, gid: u32) -> Res<()> {
    let target = t.put(&[r, path]).map_err(full)?;
    // The host's node of the same path, bound where mknod is refused.
    let host = t.put(&[path]).map_err(full)?;
    let op = Op::HostNode { mode, major, minor, uid, gid };
    t.push(op, Some(host), target, Make::Nothing, false, Kind::Device).map_err(full)
}

/// linux.devices: nodes made in the container's /dev.
#[inline(never)]
fn devices(linux: Option<Value>, r: &[u8], t: &mut Table) -> Res<()> {
    for d in linux.and_then(|l| l.get("devices")).into_iter().flat_map(|d| d.items()) {
        let path = inner(d.get("path"), b"linux.devices.path")?;
        let kind = match d.get("type").and_then(|v| v.as_bytes()) {
            Some(b"c") | Some(b"u") => libc::S_IFCHR,
            Some(b"b") => libc::S_IFBLK,
            Some(b"p") => libc::S_IFIFO,
            _ => return refuse(b"linux.devices.type", b"not one of c, u, b, p"),
        };
        let num = |k| d.get(k).and_then(|v| v.as_u32());
        let mode = num("fileMode").unwrap_or(0o666) & 0o7777;
        let (major, minor) = (num("major").unwrap_or(0), num("minor").unwrap_or(0));
        device(t, r, path, kind | mode, major, minor, num("uid").unwrap_or(0), num("gid").unwrap_or(0))?;
    }
    Ok(())
}

/// Builds the whole table for `rootfs` (no trailing '/').
#[inline(never)]
/// `cgroups`: the container's cgroup directories, NUL-separated (the v1
/// `cgroup` mount binds them).
pub fn build(root: Value, r: &[u8], bundle: &[u8], cwd: &[u8], cgroups: &[u8], t: &mut Table) -> Res<()> {
    t.workdir = Some(t.put(&[cwd]).map_err(full)?);
    t.inner = r.len() as u32;
    let rootfs = t.put(&[r]).map_err(full)?;
    // pivot_root needs the new root to be a mount point: bind it onto itself.
    t.push(Op::Bind { rec: true }, Some(rootfs), rootfs, Make::Nothing, false, Kind::Rootfs).map_err(full)?;
    let (mut dev_bound, mut dev_mounted) = (false, false);
    for m in root.get("mounts").into_iter().flat_map(|m| m.items()) {
        mount(m, r, bundle, cgroups, t)?;
        let bind = m.get("type").and_then(|v| v.as_bytes()) == Some(b"bind");
        let dev = m.get("destination").and_then(|v| v.as_bytes()) == Some(b"/dev");
        dev_bound |= bind && dev;
        dev_mounted |= dev;
    }
    // The default devices, unless /dev is the host's (bound in).
    if !dev_bound {
        for (p, major, minor) in DEFAULT_DEVICES {
            device(t, r, p, libc::S_IFCHR | 0o666, major, minor, 0, 0)?;
        }
        for (to, at) in LINKS {
            let target = t.put(&[r, at]).map_err(full)?;
            // On the rootfs's own /dev (no /dev mount), what is there stays
            // (runc ignores EEXIST here).
            if !dev_mounted && crate::sys::exists_nofollow(t.str(target)) {
                continue;
            }
            let src = t.put(&[to]).map_err(full)?;
            t.push(Op::Symlink, Some(src), target, Make::Nothing, false, Kind::Device).map_err(full)?;
        }
    }
    let linux = root.get("linux");
    devices(linux, r, t)?;
    for p in linux.and_then(|l| l.get("maskedPaths")).into_iter().flat_map(|m| m.items()) {
        let p = inner(Some(p), b"linux.maskedPaths")?;
        let target = t.put(&[r, p]).map_err(full)?;
        t.push(Op::Mask, None, target, Make::Nothing, true, Kind::Masked).map_err(full)?;
    }
    for p in linux.and_then(|l| l.get("readonlyPaths")).into_iter().flat_map(|m| m.items()) {
        let p = inner(Some(p), b"linux.readonlyPaths")?;
        let target = t.put(&[r, p]).map_err(full)?;
        t.push(Op::Bind { rec: true }, Some(target), target, Make::Nothing, true, Kind::ReadOnlyPath).map_err(full)?;
        let ro = Op::RemountRo { flags: NOSUID | NODEV | NOEXEC };
        t.push(ro, None, target, Make::Nothing, true, Kind::ReadOnlyPath).map_err(full)?;
    }
    t.push(Op::Pivot, None, rootfs, Make::Nothing, false, Kind::Pivot).map_err(full)?;
    let slash = t.put(&[b"/"]).map_err(full)?;
    if root.get("root").and_then(|v| v.get("readonly")).and_then(|v| v.as_bool()) == Some(true) {
        t.push(Op::Flags { flags: BIND | REMOUNT | RDONLY }, None, slash, Make::Nothing, false, Kind::ReadOnlyRoot)
            .map_err(full)?;
    }
    match linux.and_then(|l| l.get("rootfsPropagation")) {
        None => {}
        Some(v) if v.is_null() => {}
        Some(v) => {
            let w = v.as_bytes().unwrap_or(b"");
            let Some(&(_, p)) = PROPAGATION.iter().find(|(n, _)| *n == w) else {
                return refuse(b"linux.rootfsPropagation", b"not a propagation mode");
            };
            t.push(Op::Flags { flags: p | REC }, None, slash, Make::Nothing, false, Kind::Rootfs).map_err(full)?;
        }
    }
    Ok(())
}
