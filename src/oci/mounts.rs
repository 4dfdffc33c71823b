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
use crate::json::{Items, Value};
use crate::mounts::{Kind, Make, Op, Span, Table};

const RDONLY: u32 = libc::MS_RDONLY as u32;
const NOSUID: u32 = libc::MS_NOSUID as u32;
const NODEV: u32 = libc::MS_NODEV as u32;
const NOEXEC: u32 = libc::MS_NOEXEC as u32;
const BIND: u32 = libc::MS_BIND as u32;
const REC: u32 = libc::MS_REC as u32;
const REMOUNT: u32 = libc::MS_REMOUNT as u32;
const NSX: u32 = NOSUID | NODEV | NOEXEC;

/// Every mount option word mydocker knows (runtime-spec config.md's
/// table, and runc's flag words): the flag words, then from PROPAGATION_AT
/// the propagation words (each a mount(2) call of its own), the recursive
/// ones, and last tmpcopyup (so `features` lists them all, as runc's does).
pub const WORDS: &[u8] = b"ro rw nosuid suid nodev dev noexec exec sync async dirsync remount mand nomand \
atime noatime diratime nodiratime relatime norelatime strictatime nostrictatime bind rbind nosymfollow silent \
iversion noiversion lazytime nolazytime acl noacl symfollow loud defaults \
private rprivate shared rshared slave rslave unbindable runbindable \
rro rrw rnosuid rsuid rnodev rdev rnoexec rexec rnodiratime rdiratime rrelatime rnorelatime rnoatime ratime \
rstrictatime rnostrictatime rnosymfollow rsymfollow tmpcopyup";
const PROPAGATION_AT: usize = 35;
/// From here on WORDS are the recursive options (runc's and crun's, by
/// mount_setattr(2) with AT_RECURSIVE), in pairs: the word that sets one
/// MOUNT_ATTR_* bit of RATTR, then the word that clears it.
const RECURSIVE_AT: usize = 43;
/// MOUNT_ATTR_RDONLY, NOSUID, NODEV, NOEXEC, NODIRATIME, RELATIME (0),
/// NOATIME, STRICTATIME, NOSYMFOLLOW.
const RATTR: [u32; 9] = [1, 2, 4, 8, 0x80, 0, 0x10, 0x20, 0x20_0000];
/// MOUNT_ATTR__ATIME: the access-time setting is one value in these bits;
/// setting one clears them all first (mount_setattr(2)).
const ATIME: u32 = 0x70;

/// The MS_* flags of each word of WORDS (every one fits in 32 bits).
const FLAG: [u32; 43] = [
    RDONLY,
    RDONLY,
    NOSUID,
    NOSUID,
    NODEV,
    NODEV,
    NOEXEC,
    NOEXEC,
    libc::MS_SYNCHRONOUS as u32,
    libc::MS_SYNCHRONOUS as u32,
    libc::MS_DIRSYNC as u32,
    REMOUNT,
    libc::MS_MANDLOCK as u32,
    libc::MS_MANDLOCK as u32,
    libc::MS_NOATIME as u32,
    libc::MS_NOATIME as u32,
    libc::MS_NODIRATIME as u32,
    libc::MS_NODIRATIME as u32,
    libc::MS_RELATIME as u32,
    libc::MS_RELATIME as u32,
    libc::MS_STRICTATIME as u32,
    libc::MS_STRICTATIME as u32,
    BIND,
    BIND | REC,
    256, // MS_NOSYMFOLLOW
    libc::MS_SILENT as u32,
    libc::MS_I_VERSION as u32,
    libc::MS_I_VERSION as u32,
    libc::MS_LAZYTIME as u32,
    libc::MS_LAZYTIME as u32,
    libc::MS_POSIXACL as u32,
    libc::MS_POSIXACL as u32,
    256, // symfollow
    libc::MS_SILENT as u32, // loud
    0,   // defaults: clears nothing
    libc::MS_PRIVATE as u32,
    (libc::MS_PRIVATE | libc::MS_REC) as u32,
    libc::MS_SHARED as u32,
    (libc::MS_SHARED | libc::MS_REC) as u32,
    libc::MS_SLAVE as u32,
    (libc::MS_SLAVE | libc::MS_REC) as u32,
    libc::MS_UNBINDABLE as u32,
    (libc::MS_UNBINDABLE | libc::MS_REC) as u32,
];

/// Bit i set: word i clears its flags ("rw", "suid", "atime", ...) instead
/// of setting them, undoing an earlier setting word (from 26: noiversion,
/// nolazytime, noacl, symfollow, loud, and defaults, which clears nothing).
const CLEARS: u64 =
    1 << 1 | 1 << 3 | 1 << 5 | 1 << 7 | 1 << 9 | 1 << 13 | 1 << 14 | 1 << 16 | 1 << 19 | 1 << 21 | 0b1_1110_1010 << 26;

/// `flags` with the flag word `w` applied (set, or cleared by "rw",
/// "exec", ...); None for any other word (propagation ones included). The
/// docker side's --tmpfs options use it too.
pub fn flag_word(flags: u32, w: &[u8]) -> Option<u32> {
    let i = crate::words::find(WORDS, w).filter(|&i| i < PROPAGATION_AT)?;
    Some(if CLEARS >> i & 1 != 0 { flags & !FLAG[i] } else { flags | FLAG[i] })
}

/// The flags of a propagation word.
fn propagation(w: &[u8]) -> Option<u32> {
    crate::words::find(WORDS, w).filter(|&i| i >= PROPAGATION_AT).and_then(|i| FLAG.get(i).copied())
}

/// One mount's options: flags, propagation, and the rest as data
/// ("a,b,c" in `data`, its length returned).
pub struct Options {
    pub flags: u32,
    pub propagation: u32,
    pub data_len: usize,
    /// tmpcopyup.
    pub copy: bool,
    /// Recursive options: MOUNT_ATTR_* bits to set and to clear.
    pub rset: u32,
    pub rclr: u32,
}

/// The elements of the array `key` of `v`: none when either is absent
/// (`obj`, any object, has no elements). Cheaper than a flattening
/// iterator over the Option.
fn list<'a>(v: Option<Value<'a>>, key: &str, obj: Value<'a>) -> Items<'a> {
    v.and_then(|v| v.get(key)).unwrap_or(obj).items()
}

/// Parses the options of mount `m`; unknown ones are joined into `data`
/// with commas.
pub fn options(m: Value, data: &mut [u8]) -> Res<Options> {
    let mut o = Options { flags: 0, propagation: 0, data_len: 0, copy: false, rset: 0, rclr: 0 };
    // Each unknown word is copied with a comma after it; the last comma
    // is dropped at the end.
    let mut used = 0;
    for v in list(Some(m), "options", m) {
        let Some(w) = v.as_bytes().filter(|w| !w.contains(&0)) else {
            return refuse(b"mounts.options", b"not an array of strings");
        };
        let known = crate::words::find(WORDS, w);
        if w == b"tmpcopyup" {
            // runc's extension: what the rootfs has at the target is copied
            // into the new filesystem (podman: every --tmpfs, and the tmpfs
            // mounts of --read-only).
            o.copy = true;
        } else if let Some(i) = known.filter(|&i| i >= RECURSIVE_AT) {
            let k = (i - RECURSIVE_AT) / 2;
            let bit = RATTR.get(k).copied().unwrap_or(0);
            let mask = if (5..8).contains(&k) { ATIME } else { bit };
            if (i - RECURSIVE_AT) % 2 == 1 {
                // rrw, rsuid, ...; ratime, rnorelatime and rnostrictatime
                // back to relatime, the kernel's default.
                o.rset &= !mask;
                o.rclr |= mask;
            } else {
                o.rset = o.rset & !mask | bit;
                o.rclr = if mask == ATIME { o.rclr | ATIME } else { o.rclr & !bit };
            }
        } else if let Some(i) = known.filter(|&i| i >= PROPAGATION_AT) {
            o.propagation = FLAG[i];
        } else if let Some(f) = flag_word(o.flags, w) {
            o.flags = f;
        } else if crate::words::find(b"idmap ridmap", w).is_some() {
            return refuse(b"mounts.options", b"idmapped mounts are not supported");
        } else {
            let end = used + w.len() + 1;
            if end > data.len() {
                return refuse(b"mounts.options", b"filesystem options too long (limit 4 KiB)");
            }
            data[used..end - 1].copy_from_slice(w);
            data[end - 1] = b',';
            used = end;
        }
    }
    o.data_len = used.saturating_sub(1);
    Ok(o)
}

/// A path inside the container: absolute, no "..", no NUL.
fn inner<'a>(p: Option<Value<'a>>, field: &'static [u8]) -> Res<&'a [u8]> {
    match p.and_then(|p| p.as_bytes()) {
        Some(p) if !p.contains(&0) && crate::mounts::check_inner_path(p).is_ok() => Ok(p),
        _ => refuse(field, b"not an absolute path without '..'"),
    }
}

/// The string at `key` of `v`; empty when absent.
fn text<'a>(v: Value<'a>, key: &str) -> &'a [u8] {
    v.get(key).and_then(|v| v.as_bytes()).unwrap_or(b"")
}

/// Whether the host path is a directory (binds of files get a file as
/// their mount point). A missing source is the mount's error, at create.
fn is_dir(p: &[u8]) -> bool {
    !matches!(crate::sys::kind(p), Ok(crate::sys::FileKind::File | crate::sys::FileKind::Other))
}

/// A step on a mount already made at `target` (a remount, a propagation
/// change), config.json's.
#[inline(never)]
fn then(t: &mut Table, op: Op, target: Span) {
    t.push(op, None, target, (Make::Nothing, false, Kind::Config))
}

/// `mount(2)` flags on the mount at `target`.
fn flags(t: &mut Table, flags: u32, target: Span) {
    then(t, Op::Flags { flags: flags as u64 }, target)
}

/// A filesystem `fstype` (source `src`, data `data`) mounted at `target`.
#[inline(never)]
fn fs(t: &mut Table, fstype: &[u8], src: &[u8], data: &[u8], flags: u32, copy: bool, target: Span) {
    let (fstype, src, data) = (t.text(fstype), t.text(src), t.text(data));
    t.push(Op::Fs { fstype, data, flags: flags as u64, copy }, Some(src), target, (Make::Dir, false, Kind::Config))
}

/// One entry of `mounts`.
#[inline(never)]
fn mount(m: Value, r: &[u8], bundle: &[u8], cgroups: &[u8], t: &mut Table) -> Res<()> {
    let dst = inner(m.get("destination"), b"mounts.destination")?;
    let (ty, src) = (text(m, "type"), text(m, "source"));
    if ty.contains(&0) || src.contains(&0) {
        return refuse(b"mounts", b"NUL byte in type or source");
    }
    let mut data = [0u8; 4096];
    let o = options(m, &mut data)?;
    let f = o.flags;
    let target = t.join(r, dst);
    if f & BIND != 0 || ty == b"bind" {
        // Relative sources are relative to the bundle.
        let s = match src.starts_with(b"/") {
            true => t.text(src),
            false => t.put(&[bundle, b"/", src]),
        };
        let make = if is_dir(t.str(s)) { Make::Dir } else { Make::File };
        t.push(Op::Bind { rec: f & REC != 0 }, Some(s), target, (make, false, Kind::Config));
        // Read-only: the walk makes the bind and this remount one
        // read-only bind (every submount too).
        if f & RDONLY != 0 {
            then(t, Op::RemountRo { flags: 0 }, target);
        }
        // Other flags on a bind mount take a remount (the kernel ignores
        // them on the bind itself).
        let rest = f & !(BIND | REC | REMOUNT | RDONLY);
        if rest != 0 {
            flags(t, BIND | REMOUNT | rest | (f & RDONLY), target);
        }
    } else if ty == b"cgroup" {
        cgroup(r, dst, target, f, cgroups, t);
    } else if ty.is_empty() {
        return refuse(b"mounts.type", b"missing");
    } else {
        fs(t, ty, if src.is_empty() { ty } else { src }, &data[..o.data_len], f, o.copy, target);
    }
    if o.propagation != 0 {
        flags(t, o.propagation, target);
    }
    // Last, as runc: the recursive options cover whatever was mounted.
    if o.rset | o.rclr != 0 {
        then(t, Op::Attr { set: o.rset, clr: o.rclr }, target);
    }
    Ok(())
}

/// A `cgroup` mount at `target` (`r` + `dst`): cgroup2 where the host has
/// it at /sys/fs/cgroup (the container's own cgroup namespace, when it has
/// one, is its root). Otherwise, on cgroup v1 and hybrid hosts, as runc
/// does: a tmpfs, the container's own cgroup of each v1 hierarchy bound
/// read-only at <target>/<hierarchy> (`cgroups`: those directories,
/// NUL-separated, each below /sys/fs/cgroup/<hierarchy>), a link per
/// co-mounted controller ("cpu" → "cpu,cpuacct"), then the tmpfs
/// remounted read-only.
fn cgroup(r: &[u8], dst: &[u8], target: Span, f: u32, cgroups: &[u8], t: &mut Table) {
    if crate::sys::exists_nofollow(b"/sys/fs/cgroup/cgroup.controllers") {
        return fs(t, b"cgroup2", b"cgroup2", b"", f | RDONLY | NSX, false, target);
    }
    fs(t, b"tmpfs", b"tmpfs", b"mode=755", NSX, false, target);
    for dir in cgroups.split(crate::words::on(0)) {
        let Some(rest) = dir.strip_prefix(&b"/sys/fs/cgroup/"[..]) else { continue };
        let name = rest.split(crate::words::on(b'/')).next().unwrap_or(b"");
        // Not a hybrid host's cgroup2, which systemd mounts at "unified"
        // (runc binds the v1 hierarchies only).
        if name.is_empty() || name == b"unified" {
            continue;
        }
        let src = t.text(dir);
        let at = under(t, r, dst, name);
        t.push(Op::Bind { rec: false }, Some(src), at, (Make::Dir, false, Kind::Config));
        then(t, Op::RemountRo { flags: 0 }, at);
        if name.contains(&b',') {
            for alias in name.split(crate::words::on(b',')) {
                let to = t.text(name);
                let link = under(t, r, dst, alias);
                t.push(Op::Symlink, Some(to), link, (Make::Nothing, false, Kind::Config));
            }
        }
    }
    flags(t, REMOUNT | RDONLY | NSX | (f & libc::MS_RELATIME as u32), target);
}

/// `r` + `dst` + "/" + `name` in the table's text.
#[inline(never)]
fn under(t: &mut Table, r: &[u8], dst: &[u8], name: &[u8]) -> Span {
    t.put(&[r, dst, b"/", name])
}

/// The number at `key` of `v`; `or` when absent.
#[inline(never)]
fn u32_at(v: Value, key: &str, or: u32) -> u32 {
    v.get(key).and_then(|v| v.as_u32()).unwrap_or(or)
}

/// linux.devices: nodes made in the container's /dev.
#[inline(never)]
fn devices(linux: Option<Value>, root: Value, r: &[u8], t: &mut Table) -> Res<()> {
    for d in list(linux, "devices", root) {
        let path = inner(d.get("path"), b"linux.devices.path")?;
        let kind = match text(d, "type") {
            b"c" | b"u" => libc::S_IFCHR,
            b"b" => libc::S_IFBLK,
            b"p" => libc::S_IFIFO,
            _ => return refuse(b"linux.devices.type", b"not one of c, u, b, p"),
        };
        let dev = crate::model::Device {
            path,
            kind,
            major: u32_at(d, "major", 0),
            minor: u32_at(d, "minor", 0),
            mode: u32_at(d, "fileMode", 0o666),
            uid: u32_at(d, "uid", 0),
            gid: u32_at(d, "gid", 0),
        };
        crate::mounts::device(t, r, &dev);
    }
    Ok(())
}

/// The mount table's size for a config.json of `len` bytes: (entries, text
/// bytes). Sized from the config, not fixed: podman --privileged binds
/// every host /dev node (100+ on an ordinary host). Each mount, device,
/// masked or read-only path adds at most 4 entries and 2 paths of at most
/// `prefix` (rootfs + bundle) bytes plus its own text, which the config's
/// length bounds; MAX_ENTRIES / TEXT_CAP cover the rest (the default
/// devices, a v1 cgroup mount's hierarchies). Mapped, not touched: unused
/// pages cost nothing.
pub fn table_size(root: Value, prefix: usize, len: usize) -> (usize, usize) {
    let linux = root.get("linux");
    let items = list(Some(root), "mounts", root).count()
        + ["devices", "maskedPaths", "readonlyPaths"].iter().map(|k| list(linux, k, root).count()).sum::<usize>();
    (crate::mounts::MAX_ENTRIES + 4 * items, crate::mounts::TEXT_CAP + len + items * 2 * (prefix + 2))
}

/// Builds the whole table for `rootfs` (no trailing '/'). `cgroups`: the
/// container's cgroup directories, NUL-separated (the v1 `cgroup` mount
/// binds them).
#[inline(never)]
pub fn build(root: Value, r: &[u8], bundle: &[u8], cwd: &[u8], cgroups: &[u8], t: &mut Table) -> Res<()> {
    t.workdir = Some(t.text(cwd));
    let rootfs = crate::mounts::bind_rootfs(t, r);
    let (mut dev_bound, mut dev_mounted) = (false, false);
    for m in list(Some(root), "mounts", root) {
        mount(m, r, bundle, cgroups, t)?;
        let dev = text(m, "destination") == b"/dev";
        dev_bound |= dev && text(m, "type") == b"bind";
        dev_mounted |= dev;
    }
    // The default devices, unless /dev is the host's (bound in). On the
    // rootfs's own /dev (no /dev mount), links already there stay.
    if !dev_bound {
        crate::mounts::default_devices(t, r, !dev_mounted);
    }
    let linux = root.get("linux");
    devices(linux, root, r, t)?;
    for p in list(linux, "maskedPaths", root) {
        let target = t.join(r, inner(Some(p), b"linux.maskedPaths")?);
        t.push(Op::Mask, None, target, (Make::Nothing, true, Kind::Masked));
    }
    for p in list(linux, "readonlyPaths", root) {
        let target = t.join(r, inner(Some(p), b"linux.readonlyPaths")?);
        t.push(Op::Bind { rec: true }, Some(target), target, (Make::Nothing, true, Kind::ReadOnlyPath));
        t.push(Op::RemountRo { flags: NSX as u64 }, None, target, (Make::Nothing, true, Kind::ReadOnlyPath));
    }
    t.push(Op::Pivot, None, rootfs, (Make::Nothing, false, Kind::Pivot));
    let slash = t.text(b"/");
    if root.get("root").and_then(|v| v.get("readonly")).and_then(|v| v.as_bool()) == Some(true) {
        let op = Op::Flags { flags: (BIND | REMOUNT | RDONLY) as u64 };
        t.push(op, None, slash, (Make::Nothing, false, Kind::ReadOnlyRoot));
    }
    if let Some(v) = linux.and_then(|l| l.get("rootfsPropagation")).filter(|v| !v.is_null()) {
        let Some(p) = propagation(v.as_bytes().unwrap_or(b"")) else {
            return refuse(b"linux.rootfsPropagation", b"not a propagation mode");
        };
        t.push(Op::Flags { flags: (p | REC) as u64 }, None, slash, (Make::Nothing, false, Kind::Rootfs));
    }
    t.check().map_err(|why| Refusal { field: b"mounts", why })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_options(opts: &str) -> Res<(u32, u32, String)> {
        let mut text = format!("{{\"options\":{opts}}}").into_bytes();
        let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(text.len())];
        let doc = crate::json::parse(&mut text, &mut nodes).unwrap();
        let mut data = [0u8; 4096];
        let o = options(doc.root(), &mut data)?;
        Ok((o.flags, o.propagation, String::from_utf8(data[..o.data_len].to_vec()).unwrap()))
    }

    #[test]
    fn recursive_options_set_and_clear_mount_attributes() {
        let attrs = |opts: &str| {
            let mut text = format!("{{\"options\":{opts}}}").into_bytes();
            let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(text.len())];
            let doc = crate::json::parse(&mut text, &mut nodes).unwrap();
            let o = options(doc.root(), &mut [0u8; 64]).unwrap();
            (o.rset, o.rclr, o.flags, o.data_len)
        };
        assert_eq!(attrs(r#"["rbind","rnoexec","rnosuid"]"#), (0xa, 0, BIND | REC, 0));
        assert_eq!(attrs(r#"["rro","rnodev","rrw"]"#), (4, 1, 0, 0));
        assert_eq!(attrs(r#"["rexec"]"#), (0, 8, 0, 0));
        // The access time is one value: setting one clears them all first.
        assert_eq!(attrs(r#"["rnoatime"]"#), (0x10, 0x70, 0, 0));
        assert_eq!(attrs(r#"["rstrictatime","rnodiratime"]"#), (0xa0, 0x70, 0, 0));
        assert_eq!(attrs(r#"["rnoatime","ratime"]"#), (0, 0x70, 0, 0));
        assert_eq!(attrs(r#"["rrelatime"]"#), (0, 0x70, 0, 0));
        assert_eq!(attrs(r#"["rnosymfollow"]"#), (0x20_0000, 0, 0, 0));
    }

    #[test]
    fn option_words_set_clear_propagate_or_become_filesystem_data() {
        let (f, p, d) =
            parse_options(r#"["ro","nosuid","rw","noatime","atime","rbind","rslave","mode=755","size=1k"]"#).unwrap();
        assert_eq!(f, NOSUID | BIND | REC, "rw undoes ro, atime undoes noatime");
        assert_eq!(p, (libc::MS_SLAVE | libc::MS_REC) as u32);
        assert_eq!(d, "mode=755,size=1k");
        assert_eq!(parse_options("[]").unwrap(), (0, 0, String::new()));
        // Every word is known, and the features list is this table.
        for (i, w) in WORDS.split(|&c| c == b' ').enumerate().take(RECURSIVE_AT) {
            let json = format!("[\"{}\"]", String::from_utf8_lossy(w));
            let (f, p, d) = parse_options(&json).unwrap();
            assert!(d.is_empty() && (f | p != 0 || CLEARS >> i & 1 != 0), "{json}");
        }
        assert_eq!(FLAG.len(), RECURSIVE_AT);
        assert_eq!(WORDS.split(|&c| c == b' ').count(), RECURSIVE_AT + 2 * RATTR.len() + 1);
        // runc's flag words: iversion sets MS_I_VERSION, symfollow undoes
        // nosymfollow, defaults changes nothing.
        assert_eq!(parse_options(r#"["iversion","nosymfollow","symfollow","defaults"]"#).unwrap(), (libc::MS_I_VERSION as u32, 0, String::new()));
        assert_eq!(parse_options(r#"["lazytime","acl","silent","nolazytime","loud"]"#).unwrap().0, libc::MS_POSIXACL as u32);
        assert!(parse_options(r#"["tmpcopyup"]"#).is_ok());
        assert!(parse_options(r#"["rro"]"#).is_ok());
        assert!(parse_options(r#"["idmap"]"#).is_err());
    }
}
