//! The container's filesystem as a table of steps, built before clone
//! without syscalls; the child only walks it (child.rs). Every path the child
//! needs is joined here into one fixed text buffer, NUL-terminated, so the
//! child allocates nothing and formats nothing.
//!
//! With --rootfs R, in order (the order matters, see the comments below):
//! bind R onto itself; /proc (masked and read-only paths); /sys read-only;
//! /dev as a small tmpfs with its nodes, pts, shm and links; volumes; tmpfs
//! mounts; pivot_root into R; then, with --read-only, R remounted read-only.
//! Without --rootfs: only /proc over the host's /proc (in the container's
//! own mount namespace), as before.
use crate::limits::Why;

pub const MAX_ENTRIES: usize = 128;
pub const TEXT_CAP: usize = 64 * 1024;
pub const MAX_VOLUMES: usize = 32;
pub const MAX_TMPFS: usize = 16;

const NOSUID: u64 = libc::MS_NOSUID as u64;
const NODEV: u64 = libc::MS_NODEV as u64;
const NOEXEC: u64 = libc::MS_NOEXEC as u64;
const RDONLY: u64 = libc::MS_RDONLY as u64;

/// What a step does; the strings it needs are in its entry's spans.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    /// mount(src, target, ...) with the filesystem type, flags and data of
    /// FS[n] (a small index keeps the table compact).
    Mount(u8),
    /// A bind mount of src (recursive with `rec`).
    Bind { rec: bool },
    /// Remount an existing mount read-only (MS_BIND|MS_REMOUNT|MS_RDONLY),
    /// keeping `flags`.
    RemountRo { flags: u64 },
    /// A device node (the default ones, --device, OCI linux.devices):
    /// mknod(target, mode, makedev(major, minor)) after making its parent
    /// directories, owned by uid:gid with exactly `mode` (chown and chmod
    /// after mknod: the umask cuts mknod's). One already there is kept;
    /// where the kernel refuses mknod, an empty file with src (the host's
    /// node) bound onto it.
    HostNode { mode: u32, major: u32, minor: u32, uid: u32, gid: u32 },
    /// symlink(src, target).
    Symlink,
    /// pivot_root into target and detach the old root.
    Pivot,
    /// mount(src, target, fstype, flags, data) with the type and data in
    /// the table's text (OCI mounts; data may be empty); with `copy`
    /// (tmpcopyup), what the target held is copied into the new mount.
    Fs { fstype: Span, data: Span, flags: u64, copy: bool },
    /// mount(NULL, target, NULL, flags, NULL): a remount (MS_REMOUNT|MS_BIND
    /// with the wanted flags) or a propagation change (MS_SHARED, ...).
    Flags { flags: u64 },
    /// An OCI masked path: /dev/null bound over a file, an empty read-only
    /// tmpfs over a directory; a missing path is skipped.
    Mask,
    /// OCI recursive mount options (rro, rnoexec, ...): mount_setattr(2)
    /// with AT_RECURSIVE on the mount at the target, MOUNT_ATTR_* bits.
    Attr { set: u32, clr: u32 },
}

/// What the target must be before the step: made if missing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Make {
    Nothing,
    Dir,
    File,
}

/// Where a step comes from, for error messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Rootfs,
    Proc,
    Masked,
    ReadOnlyPath,
    Sys,
    Dev,
    Volume,
    Tmpfs,
    Pivot,
    ReadOnlyRoot,
    /// An entry of config.json's mounts.
    Config,
    /// A device node of config.json (or a default one).
    Device,
}

impl Kind {
    /// Whether the step's target lies inside the rootfs (so its symlinks
    /// are resolved inside it).
    pub fn inside(self) -> bool {
        !matches!(self, Kind::Rootfs | Kind::Pivot | Kind::ReadOnlyRoot)
    }

    /// In the order of the variants, packed (a match would keep a
    /// pointer and a length per label).
    pub fn label(self) -> &'static [u8] {
        const LABELS: &[u8] = b"rootfs|proc|masked path|read-only path|sysfs|/dev|volume|tmpfs|pivot_root|\
read-only rootfs|config.json mount|device";
        crate::words::nth_of(LABELS, b'|', self as usize)
    }
}

/// A NUL-terminated string in the table's text: [off, off+len) plus the NUL.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Span {
    pub off: u32,
    pub len: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Entry {
    pub op: Op,
    pub src: Option<Span>,
    pub target: Span,
    pub make: Make,
    /// ENOENT on the target is not an error (paths a kernel may lack).
    pub optional: bool,
    pub kind: Kind,
}

/// How a step is made and told: what its target must be, whether a
/// missing target is fine, where it comes from (one small argument).
pub type How = (Make, bool, Kind);

/// The table lives in buffers the caller provides: tiny ones on the stack
/// for a plain run, a mapped region when there is a rootfs to describe.
pub struct Table<'t> {
    entries: &'t mut [Entry],
    n: usize,
    text: &'t mut [u8],
    used: usize,
    /// -w, NUL-terminated in `text`.
    pub workdir: Option<Span>,
    /// The working directory is entered, never made: OCI exec, as runc's
    /// setns init only chdirs (run -w and create make a missing one).
    pub enter_only: bool,
    /// Length of the rootfs prefix of the targets inside it (0: none).
    pub inner: u32,
    /// The first overflow (`put`, `push`): builders add without checking
    /// each step and ask `check` once at the end.
    full: Option<Why>,
}

/// An unused slot. All zeros (Op::Mount(0), no source, every field's
/// first variant): a table is filled by a memset, not copies of a constant.
pub const EMPTY: Entry = Entry {
    op: Op::Mount(0),
    src: None,
    target: Span { off: 0, len: 0 },
    make: Make::Nothing,
    optional: false,
    kind: Kind::Rootfs,
};

/// A parsed -v SRC:DST[:ro|rw].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Volume<'a> {
    pub src: &'a [u8],
    pub dst: &'a [u8],
    pub ro: bool,
}

pub fn parse_volume(spec: &[u8]) -> Result<Volume<'_>, Why> {
    let mut f = spec.splitn(3, crate::words::on(b':'));
    let src = f.next().unwrap_or(&[]);
    let dst = f.next().ok_or(b"a volume is SRC:DST[:ro|rw]" as Why)?;
    let ro = match f.next() {
        None | Some(b"rw") => false,
        Some(b"ro") => true,
        Some(_) => return Err(b"unknown volume mode: use ro or rw"),
    };
    if !src.starts_with(b"/") {
        return Err(b"the volume source must be an absolute path");
    }
    if !dst.starts_with(b"/") {
        return Err(b"the volume destination must be an absolute path");
    }
    if has_dotdot(dst) {
        return Err(b"the volume destination may not contain '..'");
    }
    not_root(dst)?;
    Ok(Volume { src, dst, ro })
}

/// How deep below "/" the path `p` is: its components that name something
/// ("" and "." do not; ".." is refused before). It ends at the first ':',
/// so a --tmpfs spec gives its path's.
fn depth(p: &[u8]) -> usize {
    let (mut n, mut prev) = (0, b'/');
    for (i, &c) in p.iter().enumerate() {
        if c == b':' {
            break;
        }
        if prev == b'/' && c != b'/' && !(c == b'.' && matches!(p.get(i + 1), None | Some(b'/' | b':'))) {
            n += 1;
        }
        prev = c;
    }
    n
}

/// A mount onto the container's root has no effect (it goes on top of the
/// rootfs bind, which pivot_root keeps as the root): refused, in docker's
/// words, for "/", "//", "/." alike.
fn not_root(p: &[u8]) -> Result<(), Why> {
    if depth(p) == 0 {
        return Err(b"destination can't be '/'");
    }
    Ok(())
}

/// --tmpfs PATH[:OPTIONS] (docker's spelling, split at the first ':'):
/// the mount point, and the mount(2) flags — nosuid and nodev, then each
/// flag word of OPTIONS (ro, noexec, exec, nodev, dev, ...: the OCI mount
/// words, oci::mounts::flag_word) in turn. The other options must be
/// tmpfs's own as docker allows them (size=, mode=, uid=, gid=, nr_inodes=,
/// nr_blocks=, mpol=); they are copied joined by commas into `data` (at
/// least as long as `spec`; empty: only checked), their length returned.
pub fn parse_tmpfs<'a>(spec: &'a [u8], data: &mut [u8]) -> Result<(&'a [u8], u64, usize), Why> {
    let mut f = spec.splitn(2, crate::words::on(b':'));
    let path = f.next().unwrap_or(b"");
    check_inner_path(path)?;
    not_root(path)?;
    // docker's defaults for --tmpfs (moby's ProcessFlagTmpfs), which the
    // words may undo (`exec`, `suid`, `dev`).
    let mut flags = (NOSUID | NODEV | NOEXEC) as u32;
    let mut n = 0;
    for w in f.next().unwrap_or(b"").split(crate::words::on(b',')).filter(|w| !w.is_empty()) {
        if let Some(f) = crate::oci::mounts::flag_word(flags, w) {
            flags = f;
            continue;
        }
        let key = w.iter().position(|&c| c == b'=').map_or(w, |i| &w[..i]);
        if key.len() == w.len() || crate::words::find(b"size mode uid gid nr_inodes nr_blocks mpol", key).is_none() {
            return Err(b"unknown option (mount flags, size=, mode=, uid=, gid=, nr_inodes=, nr_blocks=, mpol=)");
        }
        let comma = usize::from(n > 0);
        if let Some(d) = data.get_mut(n..n + comma + w.len()) {
            d[0] = b',';
            d[comma..].copy_from_slice(w);
        }
        n += comma + w.len();
    }
    Ok((path, flags as u64, n))
}

/// A path inside the container: absolute, no "..".
pub fn check_inner_path(p: &[u8]) -> Result<(), Why> {
    if !p.starts_with(b"/") {
        return Err(b"must be an absolute path");
    }
    if has_dotdot(p) {
        return Err(b"may not contain '..'");
    }
    // Refused before anything is made: -w's directories would be made up
    // to where the kernel says ENAMETOOLONG, then left in the image.
    if p.len() >= 4096 {
        return Err(b"too long (PATH_MAX: 4096 bytes)");
    }
    Ok(())
}

fn has_dotdot(p: &[u8]) -> bool {
    p.split(crate::words::on(b'/')).any(|c| c == b"..")
}

/// What the table is built from (all syntax-checked by the CLI).
pub struct Spec<'a> {
    pub rootfs: Option<&'a [u8]>,
    pub volumes: &'a [Volume<'a>],
    /// Whether each volume's source is a directory (else a file).
    pub volume_is_dir: &'a [bool],
    pub tmpfs: &'a [&'a [u8]],
    pub read_only: bool,
    pub workdir: Option<&'a [u8]>,
    /// --privileged: no masked or read-only paths, /sys read-write.
    pub privileged: bool,
    /// Device nodes to make (--device, OCI linux.devices).
    pub devices: &'a [crate::model::Device<'a>],
}

/// When a system step applies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    Always,
    /// Not with --privileged: masked and read-only paths, read-only /sys.
    Hardened,
    Privileged,
}

/// A system step of the rootfs layout, as written in `system!` below:
/// (when, op, "SOURCE TARGET", make, optional, kind), the target inside
/// the rootfs, the source "@" for the target itself; a lone "PATH" is the
/// host's PATH at the same path inside; "" is no source, the step
/// before's target (its read-only remount). The
/// paths are kept apart, a line each in PATHS (a slice per step would cost
/// 16 bytes of the table); SYSTEM holds the rest. Order matters: each mount
/// point must exist when its step runs (/proc before its masks, /dev before
/// its nodes).
type Step = (When, Sop, Make, bool, Kind);

/// A step's source and target, from its line of PATHS.
fn paths(p: &'static [u8]) -> (&'static [u8], &'static [u8]) {
    match p.iter().position(|&c| c == b' ') {
        Some(cut) => (&p[..cut], &p[cut + 1..]),
        None => (p, p),
    }
}

/// The system steps with their paths: SYSTEM, and PATHS in the same order.
fn system() -> impl Iterator<Item = (&'static Step, &'static [u8])> {
    PATHS.split(crate::words::on(b'\n')).enumerate().map_while(|(i, p)| Some((SYSTEM.get(i)?, p)))
}

macro_rules! system {
    ($(($w:expr, $op:expr, $p:literal, $m:expr, $o:expr, $k:expr),)*) => {
        static SYSTEM: &[Step] = &[$(($w, $op, $m, $o, $k)),*];
        const PATHS: &[u8] = concat!($($p, "\n"),*).as_bytes();
    };
}

/// A system step's operation, in 3 bytes (an `Op` takes 32 and SYSTEM is
/// rodata in the binary); `op()` expands it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sop {
    Mount(u8),
    Bind,
    RBind,
    /// Remount read-only keeping nosuid, nodev, noexec.
    Ro,
    /// A 0666 character device owned by root: (major, minor).
    Node(u8, u8),
    Link,
}

impl Sop {
    const fn op(self) -> Op {
        match self {
            Sop::Mount(n) => Op::Mount(n),
            Sop::Bind => Op::Bind { rec: false },
            Sop::RBind => Op::Bind { rec: true },
            Sop::Ro => Op::RemountRo { flags: NSV },
            Sop::Node(major, minor) => {
                Op::HostNode { mode: libc::S_IFCHR | 0o666, major: major as u32, minor: minor as u32, uid: 0, gid: 0 }
            }
            Sop::Link => Op::Symlink,
        }
    }
}

const NSV: u64 = NOSUID | NODEV | NOEXEC;

/// The filesystems mounted: "type|data|" each, NUL-terminated strings
/// (data empty: none), their flags in FS_FLAGS (all in the low byte). One
/// string instead of two 16-byte slices and a word per filesystem.
const FS_TEXT: &[u8] = b"proc\0||sysfs\0||sysfs\0||tmpfs\0|size=0\0|tmpfs\0|mode=755,size=64k\0|\
devpts\0|newinstance,ptmxmode=0666,mode=0620\0|tmpfs\0|mode=1777,size=64m\0|tmpfs\0|mode=1777\0";
const FS_FLAGS: [u8; 8] = [
    NSV as u8,
    (RDONLY | NSV) as u8,
    NSV as u8,
    (RDONLY | NSV) as u8,
    (NOSUID | NOEXEC) as u8,
    (NOSUID | NOEXEC) as u8,
    NSV as u8,
    // --tmpfs PATH: docker's noexec, nosuid, nodev (parse_tmpfs's too).
    NSV as u8,
];

/// Filesystem `n` of Op::Mount: (type, flags, data).
pub fn fs(n: u8) -> (&'static [u8], u64, &'static [u8]) {
    let i = n as usize & 7;
    let part = |k| crate::words::nth_of(FS_TEXT, b'|', 2 * i + k);
    (part(0), FS_FLAGS[i] as u64, part(1))
}
const PROC: Sop = Sop::Mount(0);
const SYSFS_RO: Sop = Sop::Mount(1);
const SYSFS_RW: Sop = Sop::Mount(2);
const EMPTY_RO: Sop = Sop::Mount(3);
const DEVFS: Sop = Sop::Mount(4);
const PTS: Sop = Sop::Mount(5);
const SHM: Sop = Sop::Mount(6);
const TMPFS: Sop = Sop::Mount(7);
const BIND: Sop = Sop::Bind;
const RBIND: Sop = Sop::RBind;
const RO: Sop = Sop::Ro;
const fn node(major: u8, minor: u8) -> Sop {
    Sop::Node(major, minor)
}

use Kind::*;
use Make::{Dir, Nothing as No};
use When::*;

system! {
    (Always, PROC, "proc /proc", Dir, false, Proc),
    // docker's masked /proc paths (moby daemon/pkg/oci/defaults.go): files
    // get /dev/null bound over them, directories an empty read-only tmpfs.
    (Hardened, EMPTY_RO, "tmpfs /proc/acpi", No, true, Masked),
    (Hardened, EMPTY_RO, "tmpfs /proc/asound", No, true, Masked),
    (Hardened, BIND, "/dev/null /proc/interrupts", No, true, Masked),
    (Hardened, BIND, "/dev/null /proc/kcore", No, true, Masked),
    (Hardened, BIND, "/dev/null /proc/keys", No, true, Masked),
    (Hardened, BIND, "/dev/null /proc/latency_stats", No, true, Masked),
    (Hardened, BIND, "/dev/null /proc/sched_debug", No, true, Masked),
    (Hardened, EMPTY_RO, "tmpfs /proc/scsi", No, true, Masked),
    (Hardened, BIND, "/dev/null /proc/timer_list", No, true, Masked),
    (Hardened, BIND, "/dev/null /proc/timer_stats", No, true, Masked),
    // docker's read-only /proc paths: bound onto themselves, remounted read-only.
    (Hardened, RBIND, "@ /proc/sys", No, true, ReadOnlyPath),
    (Hardened, RO, "", No, true, ReadOnlyPath),
    (Hardened, RBIND, "@ /proc/sysrq-trigger", No, true, ReadOnlyPath),
    (Hardened, RO, "", No, true, ReadOnlyPath),
    (Hardened, RBIND, "@ /proc/irq", No, true, ReadOnlyPath),
    (Hardened, RO, "", No, true, ReadOnlyPath),
    (Hardened, RBIND, "@ /proc/bus", No, true, ReadOnlyPath),
    (Hardened, RO, "", No, true, ReadOnlyPath),
    (Hardened, RBIND, "@ /proc/fs", No, true, ReadOnlyPath),
    (Hardened, RO, "", No, true, ReadOnlyPath),
    (Hardened, SYSFS_RO, "sysfs /sys", Dir, false, Sys),
    (Privileged, SYSFS_RW, "sysfs /sys", Dir, false, Sys),
    (Hardened, EMPTY_RO, "tmpfs /sys/firmware", No, true, Masked),
    // RAPL energy counters: a power side channel (CVE-2020-8694).
    (Hardened, EMPTY_RO, "tmpfs /sys/devices/virtual/powercap", No, true, Masked),
    // /dev: a small tmpfs with the nodes a program expects.
    (Always, DEVFS, "tmpfs /dev", Dir, false, Dev),
    (Always, node(1, 3), "/dev/null", No, false, Dev),
    (Always, node(1, 5), "/dev/zero", No, false, Dev),
    (Always, node(1, 7), "/dev/full", No, false, Dev),
    (Always, node(1, 8), "/dev/random", No, false, Dev),
    (Always, node(1, 9), "/dev/urandom", No, false, Dev),
    (Always, node(5, 0), "/dev/tty", No, false, Dev),
    (Always, PTS, "devpts /dev/pts", Dir, false, Dev),
    (Always, SHM, "shm /dev/shm", Dir, false, Dev),
    (Always, Sop::Link, "/proc/self/fd /dev/fd", No, false, Dev),
    (Always, Sop::Link, "/proc/self/fd/0 /dev/stdin", No, false, Dev),
    (Always, Sop::Link, "/proc/self/fd/1 /dev/stdout", No, false, Dev),
    (Always, Sop::Link, "/proc/self/fd/2 /dev/stderr", No, false, Dev),
    (Always, Sop::Link, "pts/ptmx /dev/ptmx", No, false, Dev),
}

impl<'t> Table<'t> {
    pub fn new(entries: &'t mut [Entry], text: &'t mut [u8]) -> Table<'t> {
        Table { entries, n: 0, text, used: 0, workdir: None, enter_only: false, inner: 0, full: None }
    }

    /// The bytes of a span, without the NUL.
    pub fn str(&self, s: Span) -> &[u8] {
        &self.text[s.off as usize..(s.off + s.len) as usize]
    }

    /// The bytes of a span with its NUL, for syscalls.
    pub fn cstr(&self, s: Span) -> &[u8] {
        &self.text[s.off as usize..(s.off + s.len + 1) as usize]
    }

    /// Appends the concatenation of `parts` and a NUL. On overflow (or a
    /// NUL inside a part) an empty span, and `check` fails.
    #[inline(never)]
    pub(crate) fn put(&mut self, parts: &[&[u8]]) -> Span {
        // One pass: copied after `used`, which moves only once all fitted.
        let off = self.used;
        let mut n = off;
        for p in parts {
            match self.text.get_mut(n..n + p.len()) {
                Some(d) if !p.contains(&0) => d.copy_from_slice(p),
                _ => return self.overflow(),
            }
            n += p.len();
        }
        let Some(nul) = self.text.get_mut(n) else { return self.overflow() };
        *nul = 0;
        self.used = n + 1;
        Span { off: off as u32, len: (n - off) as u32 }
    }

    #[cold]
    fn overflow(&mut self) -> Span {
        self.full.get_or_insert(b"mount paths too long (64 KiB in all)");
        Span::default()
    }

    /// `put` of one string.
    #[inline(never)]
    pub(crate) fn text(&mut self, s: &[u8]) -> Span {
        self.put(&[s])
    }

    /// `put` of two strings: mostly a path `p` inside the rootfs `r`.
    #[inline(never)]
    pub(crate) fn join(&mut self, r: &[u8], p: &[u8]) -> Span {
        self.put(&[r, p])
    }

    /// Appends a step; on overflow `check` fails.
    #[inline(never)]
    pub(crate) fn push(&mut self, op: Op, src: Option<Span>, target: Span, (make, optional, kind): How) {
        if let Some(e) = self.entries.get_mut(self.n) {
            *e = Entry { op, src, target, make, optional, kind };
            self.n += 1;
        } else {
            self.full.get_or_insert(b"too many mounts (limit 128)");
        }
    }

    /// Whether everything added fitted: the first overflow otherwise.
    pub fn check(&self) -> Result<(), Why> {
        self.full.map_or(Ok(()), Err)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries[..self.n]
    }

    /// "<target> (<kind>)" for entry `i`, for error messages.
    pub fn describe<'b>(&self, i: usize, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let e = self.entries().get(i)?;
        let t = self.str(e.target);
        let l = e.kind.label();
        let n = t.len().min(buf.len().saturating_sub(l.len() + 3));
        let n = crate::cgroup::join(buf, &[&t[..n], b" (", l, b")"]);
        Some(&buf[..n])
    }
}

/// Builds the table. `r` is the rootfs with no trailing '/'.
#[inline(never)]
pub fn build(t: &mut Table<'_>, spec: &Spec) -> Result<(), Why> {
    if let Some(w) = spec.workdir {
        t.workdir = Some(t.text(w));
    }
    let Some(r) = spec.rootfs else {
        // No rootfs: a fresh /proc over the host's, in our own mount namespace.
        let p = t.text(b"/proc");
        let procfs = t.text(b"proc");
        t.push(PROC.op(), Some(procfs), p, (Make::Nothing, false, Kind::Proc));
        return t.check();
    };
    let root = bind_rootfs(t, r);
    let mut last: &[u8] = b"";
    for (&(when, op, make, optional, kind), p) in system() {
        if when != When::Always && (when == When::Privileged) != spec.privileged {
            continue;
        }
        let (src, mut dst) = paths(p);
        if dst.is_empty() {
            dst = last;
        }
        last = dst;
        let target = t.join(r, dst);
        let src = match src {
            b"" => None,
            b"@" => Some(target),
            s => Some(t.text(s)),
        };
        t.push(op.op(), src, target, (make, optional, kind));
    }
    let tmpfs = t.text(b"tmpfs");

    // Device nodes, in the fresh /dev (or wherever asked), before volumes.
    for d in spec.devices {
        device(t, r, d);
    }

    // Volumes and tmpfs after the system mounts, so they may cover part of
    // them; among themselves parents first, whatever the flag order, as
    // docker sorts them (by the depth of the destination): a mount below
    // another lands on it instead of being hidden by it. At one depth none
    // can hold another: flag order (two on one path: the last one shows).
    // From depth 0: every mount has a depth, so the loop ends whatever
    // the caller checked ("/" is refused before: none is found there).
    let (mut d, mut left) = (0, spec.volumes.len() + spec.tmpfs.len());
    while left > 0 {
        left -= user_mounts(t, r, spec, tmpfs, d)?;
        d += 1;
    }

    t.push(Op::Pivot, None, root, (Make::Nothing, false, Kind::Pivot));
    if spec.read_only {
        // After pivot_root, "/" is the rootfs bind: remounting it affects
        // that mount alone; /proc, /dev, volumes and tmpfs stay as asked.
        let slash = t.text(b"/");
        t.push(Op::RemountRo { flags: 0 }, None, slash, (Make::Nothing, false, Kind::ReadOnlyRoot));
    }
    t.check()
}

/// The volumes, then the tmpfs mounts, whose destination is `d`
/// components deep; how many.
fn user_mounts(t: &mut Table<'_>, r: &[u8], spec: &Spec, tmpfs: Span, d: usize) -> Result<usize, Why> {
    let mut n = 0;
    for (v, &dir) in spec.volumes.iter().zip(spec.volume_is_dir) {
        if depth(v.dst) != d {
            continue;
        }
        n += 1;
        let src = t.text(v.src);
        let dst = t.join(r, v.dst);
        t.push(Op::Bind { rec: true }, Some(src), dst, (if dir { Make::Dir } else { Make::File }, false, Kind::Volume));
        if v.ro {
            // A bind mount is made read-only by remounting it.
            t.push(Op::RemountRo { flags: 0 }, None, dst, (Make::Nothing, false, Kind::Volume));
        }
    }
    for &p in spec.tmpfs {
        if depth(p) != d {
            continue;
        }
        n += 1;
        // The data is never longer than the spec: a copy of it is the room
        // parse_tmpfs writes the data into, NUL-terminated after.
        let room = t.text(p);
        let d = t.text.get_mut(room.off as usize..).unwrap_or_default();
        let (path, flags, n) = parse_tmpfs(p, d)?;
        if let Some(nul) = d.get_mut(n) {
            *nul = 0;
        }
        let dst = t.join(r, path);
        let op = if path == p {
            TMPFS.op()
        } else {
            Op::Fs { fstype: tmpfs, data: Span { off: room.off, len: n as u32 }, flags, copy: false }
        };
        t.push(op, Some(tmpfs), dst, (Make::Dir, false, Kind::Tmpfs));
    }
    Ok(n)
}

/// The first step of every rootfs table (both front ends): the rootfs
/// bound onto itself, as pivot_root needs the new root to be a mount
/// point. Returns the rootfs's span (pivot_root's target).
pub fn bind_rootfs(t: &mut Table, r: &[u8]) -> Span {
    t.inner = r.len() as u32;
    let root = t.text(r);
    t.push(RBIND.op(), Some(root), root, (Make::Nothing, false, Kind::Rootfs));
    root
}

/// A device node at `r` + its path. Where mknod is refused, the host's
/// node of the same path is bound onto an empty file instead (as runc
/// does).
#[inline(never)]
pub fn device(t: &mut Table, r: &[u8], d: &crate::model::Device) {
    let src = t.text(d.path);
    let dst = t.join(r, d.path);
    let op = Op::HostNode { mode: d.kind | (d.mode & 0o7777), major: d.major, minor: d.minor, uid: d.uid, gid: d.gid };
    t.push(op, Some(src), dst, (Make::Nothing, false, Kind::Device));
}

/// The default nodes and links of /dev (docker's, and runtime-spec's
/// "Default Devices") from SYSTEM, for a config.json rootfs whose /dev is
/// not the host's. With `keep`, a link already there stays (the rootfs's
/// own /dev: runc ignores EEXIST there).
pub fn default_devices(t: &mut Table, r: &[u8], keep: bool) {
    for (step, p) in system().filter(|s| matches!(s.0 .1, Sop::Node(..) | Sop::Link)) {
        let (op, (src, dst)) = (step.1, paths(p));
        let target = t.join(r, dst);
        if keep && op == Sop::Link && crate::sys::exists_nofollow(t.str(target)) {
            continue;
        }
        let src = t.text(src);
        t.push(op.op(), Some(src), target, (Make::Nothing, false, Kind::Device));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Spec with nothing asked: tests name only what they ask for.
    const NO_SPEC: Spec<'static> = Spec {
        rootfs: None,
        volumes: &[],
        volume_is_dir: &[],
        tmpfs: &[],
        read_only: false,
        workdir: None,
        privileged: false,
        devices: &[],
    };

    macro_rules! table {
        ($t:ident) => {
            let mut entries = [EMPTY; MAX_ENTRIES];
            let mut text = vec![0u8; TEXT_CAP];
            #[allow(unused_mut)]
            let mut $t = Table::new(&mut entries, &mut text);
        };
    }

    fn targets(t: &Table) -> Vec<(Kind, String)> {
        t.entries().iter().map(|e| (e.kind, String::from_utf8_lossy(t.str(e.target)).into_owned())).collect()
    }

    #[test]
    fn each_kind_is_named_by_its_own_label() {
        use Kind::*;
        let all = [Rootfs, Proc, Masked, ReadOnlyPath, Sys, Dev, Volume, Tmpfs, Pivot, ReadOnlyRoot, Config, Device];
        let got: Vec<&[u8]> = all.iter().map(|k| k.label()).collect();
        let want: [&[u8]; 12] = [
            b"rootfs", b"proc", b"masked path", b"read-only path", b"sysfs", b"/dev", b"volume", b"tmpfs",
            b"pivot_root", b"read-only rootfs", b"config.json mount", b"device",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn tmpfs_specs_split_into_path_flags_and_data() {
        let mut d = [0u8; 64];
        let nsd = NOSUID | NODEV | NOEXEC;
        assert_eq!(parse_tmpfs(b"/run", &mut d), Ok((&b"/run"[..], nsd, 0)));
        let r = parse_tmpfs(b"/run:size=1m,noexec,,mode=700", &mut d).unwrap();
        assert_eq!((r.0, r.1), (&b"/run"[..], nsd));
        assert_eq!(parse_tmpfs(b"/run:exec", &mut d).unwrap().1, NOSUID | NODEV);
        assert_eq!(&d[..r.2], b"size=1m,mode=700");
        // Words apply in turn; "suid", "dev", "exec" clear.
        let r = parse_tmpfs(b"/t:ro,suid,dev,noexec,exec,uid=1,gid=2,nr_inodes=9", &mut d).unwrap();
        assert_eq!((r.1, &d[..r.2]), (RDONLY, &b"uid=1,gid=2,nr_inodes=9"[..]));
        // Checked without a buffer (the CLI): same answer.
        assert_eq!(parse_tmpfs(b"/t:ro,size=1m", &mut []), Ok((&b"/t"[..], nsd | RDONLY, 7)));
        for bad in [&b"/run:bogus"[..], b"/run:size", b"/run:shared", b"/run:=1", b"run:size=1m"] {
            assert!(parse_tmpfs(bad, &mut []).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        for root in [&b"/"[..], b"//", b"/.", b"/./:size=1m"] {
            assert_eq!(parse_tmpfs(root, &mut []), Err(&b"destination can't be '/'"[..]));
        }
    }

    #[test]
    fn a_volume_onto_the_root_is_refused() {
        for root in [&b"/a:/"[..], b"/a:/:ro", b"/a://", b"/a:/./"] {
            assert_eq!(parse_volume(root), Err(&b"destination can't be '/'"[..]));
        }
        assert!(parse_volume(b"/a:/.b").is_ok());
    }

    #[test]
    fn volume_specs() {
        assert_eq!(parse_volume(b"/srv:/data"), Ok(Volume { src: b"/srv", dst: b"/data", ro: false }));
        assert_eq!(
            parse_volume(b"/etc/hosts:/etc/hosts:ro"),
            Ok(Volume { src: b"/etc/hosts", dst: b"/etc/hosts", ro: true })
        );
        assert_eq!(parse_volume(b"/a:/b:rw").unwrap().ro, false);
        for bad in [&b"/srv"[..], b"srv:/data", b"/srv:data", b"/srv:/data:rx", b"/srv:/../etc", b"", b":/x"] {
            assert!(parse_volume(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn without_rootfs_only_proc_is_mounted() {
        table!(t);
        build(&mut t, &NO_SPEC).unwrap();
        assert_eq!(targets(&t), vec![(Kind::Proc, "/proc".to_string())]);
        assert_eq!(t.cstr(t.entries()[0].target), b"/proc\0");
    }

    #[test]
    fn the_rootfs_table_is_in_the_order_that_works() {
        table!(t);
        let vols = [Volume { src: b"/srv/data", dst: b"/data", ro: true }];
        let tmp: [&[u8]; 2] = [b"/tmp", b"/run:noexec,size=1m,mode=1700"];
        build(
            &mut t,
            &Spec {
                rootfs: Some(b"/r"),
                volumes: &vols,
                volume_is_dir: &[true],
                tmpfs: &tmp,
                read_only: true,
                workdir: Some(b"/w"),
                ..NO_SPEC
            },
        )
        .unwrap();
        let k: Vec<Kind> = t.entries().iter().map(|e| e.kind).collect();
        // rootfs bind first, pivot and the read-only remount last.
        assert_eq!(k[0], Kind::Rootfs);
        assert_eq!(*k.last().unwrap(), Kind::ReadOnlyRoot);
        assert_eq!(k[k.len() - 2], Kind::Pivot);
        let tg = targets(&t);
        let pos = |s: &str| tg.iter().position(|(_, x)| x == s).unwrap();
        assert!(pos("/r/proc") < pos("/r/proc/kcore"));
        assert!(pos("/r/sys") < pos("/r/sys/firmware"));
        assert!(pos("/r/dev") < pos("/r/dev/null"));
        assert!(pos("/r/dev") < pos("/r/data"), "volumes after the system mounts");
        assert_eq!(tg.iter().filter(|(_, x)| x == "/r/data").count(), 2, "bind, then the read-only remount");
        assert!(tg.contains(&(Kind::Tmpfs, "/r/tmp".into())));
        assert!(t.entries().iter().any(|e| e.kind == Kind::Tmpfs && e.op == TMPFS.op()), "no options: as ever");
        let opt = t.entries().iter().find(|e| t.str(e.target) == b"/r/run").unwrap();
        let Op::Fs { fstype, data, flags, .. } = opt.op else { panic!("{:?}", opt.op) };
        assert_eq!((t.str(fstype), t.cstr(data), flags), (&b"tmpfs"[..], &b"size=1m,mode=1700\0"[..], NSV));
        let nodes: Vec<&str> =
            tg.iter().filter(|(k, x)| *k == Kind::Dev && x.starts_with("/r/dev/")).map(|(_, x)| &x[7..]).collect();
        assert_eq!(
            nodes,
            [
                "null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "fd", "stdin", "stdout", "stderr",
                "ptmx"
            ]
        );
    }

    #[test]
    fn privileged_has_no_masked_or_read_only_paths() {
        table!(t);
        build(
            &mut t,
            &Spec {
                rootfs: Some(b"/r"),
                privileged: true,
                ..NO_SPEC
            },
        )
        .unwrap();
        assert!(!t.entries().iter().any(|e| matches!(e.kind, Kind::Masked | Kind::ReadOnlyPath)));
        let sys = t.entries().iter().find(|e| e.kind == Kind::Sys).unwrap();
        assert_eq!(sys.op, SYSFS_RW.op());
        assert_eq!(fs(2).1 & RDONLY, 0);
        assert_eq!(fs(5), (&b"devpts\0"[..], NOSUID | NOEXEC, &b"newinstance,ptmxmode=0666,mode=0620\0"[..]));
        assert_eq!(fs(0), (&b"proc\0"[..], NSV, &b""[..]));
        assert_eq!(fs(7), (&b"tmpfs\0"[..], NSV, &b"mode=1777\0"[..]));
    }

    #[test]
    fn overflowing_the_table_is_an_error() {
        let long = vec![b'a'; 4000];
        let mut v = vec![];
        let dst: Vec<u8> = [b"/".as_slice(), &long].concat();
        for _ in 0..MAX_VOLUMES {
            v.push(Volume { src: &dst, dst: &dst, ro: false });
        }
        let dirs = vec![true; v.len()];
        table!(t);
        let r = build(
            &mut t,
            &Spec {
                rootfs: Some(b"/r"),
                volumes: &v,
                volume_is_dir: &dirs,
                ..NO_SPEC
            },
        );
        assert_eq!(r, Err(&b"mount paths too long (64 KiB in all)"[..]));
    }

    #[test]
    fn inner_paths_are_absolute_without_dotdot() {
        assert!(check_inner_path(b"/data").is_ok());
        assert!(check_inner_path(b"data").is_err());
        assert!(check_inner_path(b"/a/../b").is_err());
    }

    #[test]
    fn device_nodes_are_made_after_dev_and_before_volumes() {
        table!(t);
        let kvm = crate::model::Device {
            path: b"/dev/virt/kvm",
            kind: libc::S_IFCHR,
            major: 10,
            minor: 232,
            mode: 0o660,
            uid: 0,
            gid: 7,
        };
        build(
            &mut t,
            &Spec {
                rootfs: Some(b"/r"),
                volumes: &[Volume { src: b"/srv", dst: b"/data", ro: false }],
                volume_is_dir: &[true],
                devices: &[kvm],
                ..NO_SPEC
            },
        )
        .unwrap();
        let e = t.entries();
        let d = e.iter().position(|e| e.kind == Kind::Device).unwrap();
        assert_eq!(e[d].op, Op::HostNode { mode: libc::S_IFCHR | 0o660, major: 10, minor: 232, uid: 0, gid: 7 });
        assert_eq!(t.str(e[d].target), b"/r/dev/virt/kvm");
        assert_eq!(t.str(e[d].src.unwrap()), b"/dev/virt/kvm");
        assert!(e[..d].iter().any(|e| e.op == DEVFS.op()), "after /dev is mounted");
        assert!(e[d..].iter().any(|e| e.kind == Kind::Volume), "before the volumes");
    }
    #[test]
    fn user_mounts_go_on_parents_first_whatever_the_flag_order() {
        table!(t);
        let v = |dst: &'static [u8]| Volume { src: b"/srv", dst, ro: false };
        let vols = [v(b"/x/y/"), v(b"//x"), v(b"/b/./c")];
        let tmp: [&[u8]; 3] = [b"/x/y/z:size=1m", b"/./a/", b"/t:mode=1777"];
        let spec = Spec {
            rootfs: Some(b"/r"),
            volumes: &vols,
            volume_is_dir: &[true; 3],
            tmpfs: &tmp,
            ..NO_SPEC
        };
        build(&mut t, &spec).unwrap();
        let user: Vec<String> =
            targets(&t).into_iter().filter(|(k, _)| matches!(k, Kind::Volume | Kind::Tmpfs)).map(|(_, p)| p).collect();
        assert_eq!(user, ["/r//x", "/r/./a/", "/r/t", "/r/x/y/", "/r/b/./c", "/r/x/y/z"]);
        assert_eq!((depth(b"/"), depth(b"/./"), depth(b"//a/.b/./c:/d")), (0, 0, 3));
    }
}
