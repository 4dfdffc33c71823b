//! cgroups as plain file writes into cgroupfs, v1 and v2, discovered at run
//! time.
//!
//! Discovery parses /proc/self/cgroup (where the caller sits) and
//! /proc/self/mountinfo (where each hierarchy is mounted, and at which
//! root). Per controller, a v1 hierarchy that has it wins (pure v1 and
//! hybrid hosts); otherwise the cgroup2 mount is used (pure v2). A mount
//! that another mount hides is passed over (`Layout::mount_line`), so what
//! discovery returns is reachable. The parsers are pure and fed line by
//! line, so tests give them fixture text.
//!
//! Where the hierarchies sit where distributions mount them
//! (/sys/fs/cgroup/<controller>, or /sys/fs/cgroup for v2), a few files only
//! a hierarchy's root has prove it, and mountinfo is not read at all: right
//! after a container exits, its mount namespace is still being torn down
//! and the first mountinfo read waits 30-60 µs for it (`Layout::guess`).
//!
//! Placement: `<parent>/mydocker/<id>` in every hierarchy a limit needs;
//! <parent> is the caller's own cgroup (so the caller's limits still apply)
//! or --cgroup-parent. All file work goes through directory fds
//! (`v1::create(parent_fd, …)`), so unit tests run it on a temp dir.
pub mod freeze;
pub mod res;
pub mod text;
pub mod v1;
pub mod v2;

use crate::cli::Limits;
use crate::devices::Policy;
use crate::out::Line;
use crate::sys::{self, Errno, Fd};
use core::num::NonZeroU8;
pub use text::P;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ctrl {
    Memory = 0,
    Cpu = 1,
    Cpuset = 2,
    Pids = 3,
    /// The device policy (devices.rs): the v1 `devices` controller; on v2
    /// no controller, a BPF program attached to the cgroup.
    Devices = 4,
    /// OCI pause/resume: the v1 freezer hierarchy; on v2 no controller,
    /// files every cgroup has. Only OCI create makes a cgroup for it.
    Freezer = 5,
}

pub const NCTRL: usize = 6;
pub const CTRLS: [Ctrl; NCTRL] = [Ctrl::Memory, Ctrl::Cpu, Ctrl::Cpuset, Ctrl::Pids, Ctrl::Devices, Ctrl::Freezer];

impl Ctrl {
    pub fn name(self) -> &'static [u8] {
        // Ctrl's order is text::P's from MEMORY on.
        text::text(P::MEMORY as u8 + self as u8)
    }
}

/// Which controllers a set of limits needs.
pub type Need = [bool; NCTRL];

/// What a set of limits and a device policy (when there is one) need.
pub fn needed(l: &Limits, devices: bool) -> Need {
    res::Resources::of(l).need(devices)
}

/// A cgroup failure: what was being done, on which file, and why — each a
/// phrase of `text` by index (see there: 8 bytes instead of 56).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fail {
    pub errno: Errno,
    /// Never P::NONE: that zero is the niche that makes a `Res<()>` 8 bytes,
    /// returned in a register rather than through memory.
    what: NonZeroU8,
    file: u8,
    /// Overrides strerror when the errno alone would mislead (NONE: none).
    why: u8,
}

pub type Res<T> = Result<T, Fail>;

pub fn fail(what: P, file: P) -> impl Fn(Errno) -> Fail {
    move |errno| Fail::new(what as u8, file as u8, errno)
}

impl Fail {
    pub const fn new(what: u8, file: u8, errno: Errno) -> Fail {
        // (Every caller names a step: the MIN fallback is never taken.)
        let what = match NonZeroU8::new(what) {
            Some(w) => w,
            None => NonZeroU8::MIN,
        };
        Fail { errno, what, file, why: P::NONE as u8 }
    }

    /// The same failure, explained by `why` instead of strerror.
    pub const fn because(self, why: P) -> Fail {
        Fail { why: why as u8, ..self }
    }

    pub fn what(&self) -> &'static [u8] {
        text::text(self.what.get())
    }

    pub fn file(&self) -> &'static [u8] {
        text::text(self.file)
    }

    /// Whether the parent cgroup could not be opened (--cgroup-parent's
    /// caller names it: this value cannot hold a path).
    pub fn at_parent(&self) -> bool {
        self.what.get() == P::OPENING_PARENT as u8
    }

    /// The explanation that overrides strerror, if there is one.
    pub fn why(&self) -> Option<&'static [u8]> {
        (self.why != 0).then(|| text::text(self.why))
    }

    /// The explanation, or strerror(errno).
    pub fn reason(&self) -> &'static [u8] {
        self.why().unwrap_or(sys::strerror(self.errno))
    }

    /// What to do about it, for the errnos whose strerror misleads ("").
    pub fn advice(&self) -> &'static [u8] {
        const PROCS: u8 = P::PROCS as u8;
        const TASKS: u8 = P::TASKS as u8;
        const SUBTREE: u8 = P::SUBTREE as u8;
        const V1_MEM: u8 = P::V1_FILES as u8;
        const V2_MEM: u8 = P::V2_FILES as u8;
        const CPUS: u8 = P::CPUS as u8;
        const MEMS: u8 = P::MEMS as u8;
        match (self.errno.0, self.file) {
            (libc::ENOSPC, PROCS | TASKS) => b"cpuset.cpus or cpuset.mems of the cgroup is empty",
            (libc::EBUSY, SUBTREE) => {
                b"the parent cgroup holds processes (cgroup v2 no-internal-processes rule): \
                  run mydocker from a leaf cgroup's child or pass --cgroup-parent with a cgroup that has none"
            }
            (libc::EBUSY, V1_MEM | V2_MEM) => b"the limit is below current usage",
            // The kernel's answer to CPUs or nodes its parent lacks (empty
            // ones are filled first: see descend): not a permission problem.
            (libc::EACCES, CPUS | MEMS) => b"not within the parent cgroup's",
            (libc::EACCES | libc::EPERM | libc::EROFS, _) => b"are you root? is cgroupfs mounted read-write?",
            _ => b"",
        }
    }

    pub fn report(&self) {
        let mut l = Line::new();
        l.s(b"mydocker: cgroup: ").s(self.what());
        if self.file != P::NONE as u8 {
            l.s(b": ").s(self.file());
        }
        l.s(b": ").s(self.reason());
        // A `why` of its own already says what to do.
        let a = if self.why != 0 { &b""[..] } else { self.advice() };
        if !a.is_empty() {
            l.s(b" (").s(a).s(b")");
        }
        l.emit(2);
    }
}

/// Room for every path discovery keeps — mount points, their roots, the
/// caller's cgroups and the others' names — in one buffer, each distinct path once (they are
/// usually "/" and one and the same cgroup). Small on purpose: every page
/// of a frame is touched on each run with limits or a device policy (stack
/// probes), a fault each, then copied at clone; a 1 KiB buffer per path
/// made discovery 68 KiB of stack. A layout that does not fit is an error
/// (`Layout::targets`: ENAMETOOLONG), never a truncation.
pub const TEXT_CAP: usize = 3072;

/// A path kept in a Layout's text: read it with `Layout::path`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Span {
    at: u16,
    len: u16,
}

/// Copies `s` into `out`, undoing mountinfo's octal escapes (\040 space,
/// \011 tab, \012 newline, \134 backslash) when `escaped`; the length, or
/// None when it does not fit.
fn unescape(s: &[u8], escaped: bool, out: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    let mut rest = s;
    while let Some((&first, tail)) = rest.split_first() {
        let mut c = first;
        rest = tail;
        if let (b'\\', true, [a @ b'0'..=b'7', b @ b'0'..=b'7', d @ b'0'..=b'7', more @ ..]) = (first, escaped, tail) {
            c = (a - b'0') * 64 + (b - b'0') * 8 + (d - b'0');
            rest = more;
        }
        *out.get_mut(n)? = c;
        n += 1;
    }
    Some(n)
}

/// The fields of one /proc/self/mountinfo line that discovery needs
/// (still escaped). See proc(5): optional fields end with a lone "-".
#[derive(Debug, PartialEq, Eq)]
pub struct MountLine<'a> {
    pub root: &'a [u8],
    pub mountpoint: &'a [u8],
    pub fstype: &'a [u8],
    pub superopts: &'a [u8],
}

pub fn parse_mountinfo_line(line: &[u8]) -> Option<MountLine<'_>> {
    let mut f = line.split(crate::words::on(b' ')).filter(|s| !s.is_empty());
    // id, parent, dev, root, mount point, options (one loop: each
    // `next` written out is the whole split iterator inlined again).
    let mut fixed = [&b""[..]; 6];
    for slot in fixed.iter_mut() {
        *slot = f.next()?;
    }
    // Zero or more optional fields, then the separator.
    f.by_ref().find(|&w| w == b"-")?;
    let fstype = f.next()?;
    let _source = f.next()?;
    let superopts = f.next().unwrap_or(b"");
    Some(MountLine { root: fixed[3], mountpoint: fixed[4], fstype, superopts })
}

#[inline(never)]
pub fn has_opt(list: &[u8], name: &[u8]) -> bool {
    list.split(crate::words::on(b',')).any(|o| o == name)
}

/// One /proc/self/cgroup line: "hierarchy-id:controller-list:path"; the v2
/// entry is "0::path". The path may itself contain ':'.
pub fn parse_cgroup_line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut f = line.splitn(3, crate::words::on(b':'));
    Some((f.next()?, f.next()?, f.next()?))
}

#[derive(Clone, Copy)]
pub struct Mount {
    pub point: Span,
    pub root: Span,
}

/// A hierarchy without mydocker's controllers (name=systemd, cpuacct,
/// blkio, net_cls, ...; OCI create puts its containers there too).
#[derive(Clone, Copy)]
pub struct Other {
    /// Its controllers or name=, as /proc/self/cgroup lists them.
    names: Span,
    /// The caller's cgroup there.
    pub caller: Span,
    /// The first reachable mount whose options hold every one of `names`;
    /// None: not mounted, or hidden.
    pub mount: Option<Mount>,
}

/// What discovery found.
pub struct Layout {
    text: [u8; TEXT_CAP],
    used: usize,
    pub v1: [Option<Mount>; NCTRL],
    pub v2: Option<Mount>,
    /// The caller's cgroup per v1 controller, and in the v2 hierarchy.
    pub caller_v1: [Option<Span>; NCTRL],
    pub caller_v2: Option<Span>,
    /// The paths did not fit TEXT_CAP.
    pub overflow: bool,
    /// Two of our controllers share one v1 hierarchy (a /proc/self/cgroup
    /// line lists both): only mountinfo tells their common mount point.
    pub shared: bool,
    /// The v1 hierarchies without our controllers, in /proc/self/cgroup's
    /// order (`others()`); kept only when `all`.
    others: [Other; MAX_HIER],
    n_others: usize,
    /// Set before discovery to keep every hierarchy, the others too (OCI
    /// create joins them all); mountinfo is then always read.
    pub all: bool,
}

/// The text of the /proc/self/ns/cgroup link in the initial cgroup
/// namespace: its inode number is the kernel's PROC_CGROUP_INIT_INO,
/// 0xEFFFFFFB. Elsewhere /proc/self/cgroup paths are relative to another
/// root than the mounts', and only mountinfo knows.
pub const INIT_CGROUP_NS_LINK: &[u8] = b"cgroup:[4026531835]";

/// A file only the root of a v1 hierarchy with the controller has ("":
/// pids has none, its files are all NOT_ON_ROOT).
fn v1_root_file(c: Ctrl) -> &'static [u8] {
    use P::*;
    text::of([V1_FILES, V1_SHARES, CPUS, NONE, DEVICES_LIST, NONE][c as usize])
}

impl Layout {
    pub fn new() -> Layout {
        Self::EMPTY
    }

    /// No path and no mount: a constant of zero bytes, so `new` is one
    /// memset (built field by field, only the Options' tags were written,
    /// one loop per array).
    const EMPTY: Layout = Layout {
        text: [0; TEXT_CAP],
        used: 0,
        v1: [None; NCTRL],
        v2: None,
        caller_v1: [None; NCTRL],
        caller_v2: None,
        overflow: false,
        shared: false,
        others: [Other { names: Span { at: 0, len: 0 }, caller: Span { at: 0, len: 0 }, mount: None }; MAX_HIER],
        n_others: 0,
        all: false,
    };

    /// The hierarchies without our controllers (kept when `all`).
    pub fn others(&self) -> &[Other] {
        &self.others[..self.n_others]
    }

    /// Fills the mounts of the needed controllers without mountinfo, where
    /// they are where distributions put them: a v1 controller at
    /// /sys/fs/cgroup/<name> holding `release_agent` (only a hierarchy's
    /// root has it) and the controller's root file; v2 at /sys/fs/cgroup
    /// with `cgroup.controllers` but no `cgroup.type` (a v2 root). Each
    /// proven mount is kept as its mountinfo line would be. Called after
    /// /proc/self/cgroup was fed, in the initial cgroup namespace. False
    /// when unsure; mountinfo then decides (what was proven stays).
    pub fn guess(&mut self, need: &Need, exists: impl Fn(&[u8]) -> bool) -> bool {
        // What cannot be proven is known before anything is probed.
        let mut v2 = false;
        for c in CTRLS.iter().copied().filter(|&c| need[c as usize]) {
            if self.caller_v1[c as usize].is_some() {
                if self.shared || v1_root_file(c).is_empty() {
                    return false;
                }
            } else if self.caller_v2.is_some() {
                v2 = true;
            } else {
                return false;
            }
        }
        // One check of the v2 root serves every controller there.
        if v2 && (!exists(b"/sys/fs/cgroup/cgroup.controllers") || exists(b"/sys/fs/cgroup/cgroup.type")) {
            return false;
        }
        let v1 = CTRLS.map(|c| need[c as usize] && self.caller_v1[c as usize].is_some());
        let mut p = [0u8; 64];
        for c in CTRLS.iter().copied().filter(|&c| v1[c as usize]) {
            // "/sys/fs/cgroup/<name>/", then each file after it.
            let d = join(&mut p, &[b"/sys/fs/cgroup/", c.name(), b"/"]);
            for file in [&b"release_agent"[..], v1_root_file(c)] {
                let n = d + join(&mut p[d..], &[file]);
                if !exists(&p[..n]) {
                    return false;
                }
            }
            if self.v1[c as usize].is_none() {
                self.v1[c as usize] = self.usual(&p[..d - 1]);
            }
        }
        if v2 && self.v2.is_none() {
            self.v2 = self.usual(b"/sys/fs/cgroup");
        }
        true
    }

    /// A hierarchy's root mounted at `point`, kept as mountinfo's line
    /// for it would keep it (see `mount_line`).
    fn usual(&mut self, point: &[u8]) -> Option<Mount> {
        self.mount(&MountLine { root: b"/", mountpoint: point, fstype: b"", superopts: b"" })
    }

    /// A path kept in the layout.
    pub fn path(&self, s: Span) -> &[u8] {
        &self.text[s.at as usize..(s.at + s.len) as usize]
    }

    /// Keeps `s`, undoing mountinfo's octal escapes (\040 space, \011 tab,
    /// \012 newline, \134 backslash) when `escaped`, once: a path kept
    /// before is shared. None, and `overflow` set, when the text is full.
    fn keep(&mut self, s: &[u8], escaped: bool) -> Option<Span> {
        let start = self.used;
        let Some(len) = unescape(s, escaped, &mut self.text[start..]) else {
            self.overflow = true;
            return None;
        };
        let n = start + len;
        let (old, new) = self.text.split_at(start);
        let new = &new[..len];
        // Kept before: the first place `old` holds it (an empty path: 0).
        let found = if len == 0 { Some(0) } else { old.windows(len).position(|w| w == new) };
        let at = match found {
            Some(a) => a,
            None => {
                self.used = n;
                start
            }
        };
        Some(Span { at: at as u16, len: len as u16 })
    }

    fn mount(&mut self, m: &MountLine) -> Option<Mount> {
        Some(Mount { point: self.keep(m.mountpoint, true)?, root: self.keep(m.root, true)? })
    }

    /// Feeds one mountinfo line (after /proc/self/cgroup's, which name the
    /// `others`): the first reachable mount of a hierarchy wins, for the
    /// controllers `need` names, cgroup2 and the others. `reachable` says
    /// whether a mount point (unescaped) is that mount's filesystem: a mount
    /// another one hides (a tmpfs over a hybrid host's cgroup2, as make
    /// bench's private mount namespace puts there for crun) would give
    /// plain directories for cgroups, with no join file and limits written
    /// into files nobody reads. Asked once per mount that would be kept.
    pub fn mount_line(&mut self, line: &[u8], need: &Need, reachable: impl Fn(&[u8]) -> bool) {
        let Some(m) = parse_mountinfo_line(line) else { return };
        let (v1, v2) = (m.fstype == b"cgroup", m.fstype == b"cgroup2" && self.v2.is_none());
        let ours =
            CTRLS.map(|c| v1 && need[c as usize] && self.v1[c as usize].is_none() && has_opt(m.superopts, c.name()));
        let other = self.others().iter().position(|o| {
            v1 && o.mount.is_none() && self.path(o.names).split(crate::words::on(b',')).all(|n| has_opt(m.superopts, n))
        });
        if !v2 && other.is_none() && !ours.contains(&true) {
            return;
        }
        let used = self.used;
        let Some(mount) = self.mount(&m).filter(|x| reachable(self.path(x.point))) else {
            self.used = used;
            return;
        };
        for c in CTRLS.iter().filter(|&&c| ours[c as usize]) {
            self.v1[*c as usize] = Some(mount);
        }
        if let Some(i) = other {
            self.others[i].mount = Some(mount);
        }
        if v2 {
            self.v2 = Some(mount);
        }
    }

    /// Feeds one /proc/self/cgroup line.
    pub fn cgroup_line(&mut self, line: &[u8]) {
        let Some((id, ctrls, path)) = parse_cgroup_line(line) else { return };
        let Some(p) = self.keep(path, false) else { return };
        if id == b"0" && ctrls.is_empty() {
            self.caller_v2 = Some(p);
            return;
        }
        let n = CTRLS.iter().filter(|c| has_opt(ctrls, c.name())).count();
        self.shared |= n > 1;
        for &c in CTRLS.iter() {
            if has_opt(ctrls, c.name()) {
                self.caller_v1[c as usize] = Some(p);
            }
        }
        // Beyond MAX_HIER: left out (a container joins at most that many).
        if n > 0 || !self.all || self.n_others == MAX_HIER {
            return;
        }
        let Some(names) = self.keep(ctrls, false) else { return };
        self.others[self.n_others] = Other { names, caller: p, mount: None };
        self.n_others += 1;
    }

    /// Decides, per needed controller, which hierarchy and which parent
    /// cgroup (relative to the mount point) to use. Controllers that share
    /// a hierarchy share one Target.
    pub fn targets<'a>(&'a self, need: &Need, parent: Option<&'a [u8]>) -> Res<Targets<'a>> {
        self.targets_of(need, need, parent)
    }

    /// Like `targets`, for the controllers `want`; those of them not in
    /// `must` are left out, not refused, where they cannot be placed (OCI
    /// create makes a cgroup in every hierarchy there is).
    pub fn targets_of<'a>(&'a self, want: &Need, must: &Need, parent: Option<&'a [u8]>) -> Res<Targets<'a>> {
        let mut t = Targets { n: 0, t: [Target::EMPTY; NCTRL] };
        if self.overflow {
            return Err(fail(P::DISCOVERY, P::MOUNTINFO)(Errno(libc::ENAMETOOLONG)));
        }
        let cs = self.v1[Ctrl::Cpuset as usize].map(|m| self.path(m.point));
        for &c in CTRLS.iter() {
            if !want[c as usize] {
                continue;
            }
            let (mount, rel, v2) = match self.place(c, parent) {
                Ok(p) => p,
                Err(f) if must[c as usize] => return Err(f),
                Err(_) => continue,
            };
            match t.t[..t.n].iter_mut().find(|x| x.mount == mount) {
                Some(x) => x.ctrls[c as usize] = true,
                None => {
                    let x = &mut t.t[t.n];
                    x.mount = mount;
                    x.rel = rel;
                    x.v2 = v2;
                    x.ctrls[c as usize] = true;
                    // cpuset co-mounted with a controller asked for: its
                    // new cgroups need cpus and mems, limited or not.
                    x.ctrls[Ctrl::Cpuset as usize] |= !v2 && Some(mount) == cs;
                    t.n += 1;
                }
            }
        }
        Ok(t)
    }

    /// The hierarchy of controller `c`: its mount point, the parent cgroup
    /// relative to it, and whether it is cgroup2.
    fn place<'a>(&'a self, c: Ctrl, parent: Option<&'a [u8]>) -> Res<(&'a [u8], &'a [u8], bool)> {
        // Ctrl's order is text::P's from MEMORY on.
        let what = P::MEMORY as u8 + c as u8;
        let no = |file: P, errno, why| Fail::new(what, file as u8, Errno(errno)).because(why);
        let (m, caller, v2) = match (&self.v1[c as usize], &self.v2) {
            (Some(m), _) => (m, self.caller_v1[c as usize], false),
            (None, Some(m)) => (m, self.caller_v2, true),
            (None, None) => return Err(no(P::NONE, libc::ENODEV, P::NO_CONTROLLER)),
        };
        let rel = match parent {
            Some(p) => p.strip_prefix(&b"/"[..]).unwrap_or(p),
            None => {
                let caller = caller.ok_or(no(P::PROC_CGROUP, libc::ENOENT, P::NOT_LISTED))?;
                relative(self.path(caller), self.path(m.root)).ok_or(no(P::PROC_CGROUP, libc::ENOENT, P::OUTSIDE))?
            }
        };
        let mount = self.path(m.point);
        // "<mount>/<rel>/mydocker/<id>/<file>" must stay a path the kernel takes.
        if mount.len() + rel.len() + 64 >= PATH_MAX {
            return Err(Fail::new(what, P::NONE as u8, Errno(libc::ENAMETOOLONG)));
        }
        Ok((mount, rel, v2))
    }
}

/// The kernel's PATH_MAX: the longest path one syscall takes.
const PATH_MAX: usize = 4096;

/// The caller's cgroup path relative to a mount whose root is `root`
/// (without a leading '/'); None if the cgroup is not below that root.
pub fn relative<'a>(path: &'a [u8], root: &[u8]) -> Option<&'a [u8]> {
    let root = root.strip_suffix(b"/").unwrap_or(root);
    let rest = path.strip_prefix(root)?;
    if !rest.is_empty() && rest[0] != b'/' {
        return None;
    }
    Some(rest.strip_prefix(&b"/"[..]).unwrap_or(rest))
}

/// One hierarchy to create a cgroup in (paths borrowed from the Layout, or
/// from --cgroup-parent).
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub mount: &'a [u8],
    /// The parent cgroup, relative to the mount point ("" = the mount's root).
    pub rel: &'a [u8],
    pub v2: bool,
    pub ctrls: Need,
}

impl Target<'_> {
    const EMPTY: Target<'static> = Target { mount: b"", rel: b"", v2: false, ctrls: [false; NCTRL] };
}

pub struct Targets<'a> {
    pub n: usize,
    pub t: [Target<'a>; NCTRL],
}

// ---- file helpers, relative to directory fds ----

pub fn open_dir(dir: Fd, path: &[u8]) -> Result<Fd, Errno> {
    sys::openat(dir, if path.is_empty() { b"." } else { path }, libc::O_RDONLY | libc::O_DIRECTORY)
}

#[inline(never)]
pub fn write_file(dir: Fd, file: &'static [u8], data: &[u8]) -> Result<(), Errno> {
    // O_CREAT|O_TRUNC are no-ops on cgroupfs control files (they exist from
    // mkdir on); they let the same code fill a fake tree in unit tests.
    let fd = sys::openat(dir, file, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC)?;
    // cgroupfs takes a value in one write(2); a short write is an error.
    let r = sys::write_all(fd, data);
    sys::close(fd);
    r
}

/// Reads a small file into `buf`; returns the bytes read.
#[inline(never)]
pub fn read_file<'b>(dir: Fd, file: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let fd = sys::openat(dir, file, libc::O_RDONLY)?;
    let r = sys::read_full(fd, buf);
    sys::close(fd);
    let n = r?;
    Ok(buf.get(..n).unwrap_or(&[]))
}

/// Whether the directory `dir` has `file` (opened O_PATH, nothing read).
pub fn has(dir: Fd, file: &[u8]) -> bool {
    sys::openat(dir, file, libc::O_PATH).map(sys::close).is_ok()
}

/// mkdir that accepts an existing directory (the shared `mydocker` level).
pub fn mkdir_shared(dir: Fd, name: &[u8]) -> Result<(), Errno> {
    match sys::mkdirat(dir, name) {
        Err(Errno(libc::EEXIST)) => Ok(()),
        r => r,
    }
}

/// The value of `key` in a flat keyed file such as memory.events
/// ("oom_kill 3\n").
pub fn keyed(text: &[u8], key: &[u8]) -> Option<u64> {
    text.split(crate::words::on(b'\n')).find_map(|l| {
        let mut f = l.split(crate::words::on(b' '));
        if f.next()? == key {
            crate::limits::parse_u64(f.next()?)
        } else {
            None
        }
    })
}

/// Streams the lines of a file through `f` with a fixed buffer. A line
/// longer than the buffer is an error (E2BIG), never a truncation.
/// (`f` is dynamic: one copy of this loop serves every caller.)
pub fn for_each_line(path: &[u8], buf: &mut [u8], f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
    let fd = sys::openat(sys::CWD, path, libc::O_RDONLY)?;
    let mut have = 0;
    let r = loop {
        let n = match sys::read(fd, &mut buf[have..]) {
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        if n == 0 {
            if have > 0 {
                f(&buf[..have]);
            }
            break Ok(());
        }
        have += n;
        let mut start = 0;
        while let Some(i) = buf[start..have].iter().position(|&c| c == b'\n') {
            f(&buf[start..start + i]);
            start += i + 1;
        }
        buf.copy_within(start..have, 0);
        have -= start;
        if have == buf.len() {
            break Err(Errno(libc::E2BIG));
        }
    };
    sys::close(fd);
    r
}

/// Concatenates `parts` into `out`; the length written (what does not fit
/// is cut: callers size `out` for the longest parts they can be given).
pub fn join(out: &mut [u8], parts: &[&[u8]]) -> usize {
    let mut n = 0;
    for p in parts {
        let m = p.len().min(out.len() - n);
        out[n..n + m].copy_from_slice(&p[..m]);
        n += m;
    }
    n
}

/// Reads what discovery needs for the `need`ed controllers from
/// /proc/self/cgroup and, unless `Layout::guess` proves the usual mounts,
/// /proc/self/mountinfo, into `l` (a fresh Layout). Filled in place rather
/// than returned: a Layout passed through Results is copied, and every
/// copy is stack pages touched on each run with limits.
#[inline(never)]
pub fn discover(l: &mut Layout, need: &Need) -> Res<()> {
    callers(l)?;
    if !l.all && in_initial_cgroup_ns() && l.guess(need, sys::exists_nofollow) {
        return Ok(());
    }
    mountinfo(l, need)
}

/// Feeds every line of /proc/self/cgroup to `l`. A frame of its own: its
/// line buffer and the path buffers of guess's probes then share stack
/// pages instead of adding up.
#[inline(never)]
fn callers(l: &mut Layout) -> Res<()> {
    // One page holds any line whose path fits the Layout's text.
    let mut buf = [0u8; 4096];
    for_each_line(b"/proc/self/cgroup", &mut buf, &mut |line| l.cgroup_line(line))
        .map_err(fail(P::DISCOVERY, P::PROC_CGROUP))
}

/// Whether this process is in the initial cgroup namespace, where
/// /proc/self/cgroup paths start at the hierarchies' roots. readlink, not
/// stat: the link's text names the namespace without the nsfs inode a
/// stat through the link looks up (6 µs less after idle).
fn in_initial_cgroup_ns() -> bool {
    let mut buf = [0u8; 32];
    sys::readlink(b"/proc/self/ns/cgroup", &mut buf).map_or(false, |t| t == INIT_CGROUP_NS_LINK)
}

/// Feeds every line of /proc/self/mountinfo to `l`, each mount kept
/// checked on its filesystem (sys::mnt::is_cgroupfs). Apart from
/// discover: its line buffer (overlay mounts make long lines) is stack
/// that only unusual hosts touch.
#[inline(never)]
fn mountinfo(l: &mut Layout, need: &Need) -> Res<()> {
    let mut buf = [0u8; 8192];
    for_each_line(b"/proc/self/mountinfo", &mut buf, &mut |line| l.mount_line(line, need, sys::mnt::is_cgroupfs))
        .map_err(fail(P::DISCOVERY, P::MOUNTINFO))
}

fn is_id(name: &[u8]) -> bool {
    name.len() == crate::plan::ID_LEN && name.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// `mydocker gc`: removes the container cgroups left by runs that were
/// killed (SIGKILL leaves no chance to clean up; PR_SET_PDEATHSIG has ended
/// their processes): every `mydocker/<id>` that no live mydocker owns (see
/// `make`: gc can lock it) and with no process in it, in every hierarchy —
/// the moment its owner and its processes are gone, whatever its age.
/// Prints each path it removes.
/// Never inlined: its buffers must not enlarge the stack frame of `run`,
/// whose every page is touched (stack probes) and copied at clone.
#[inline(never)]
pub fn gc(parent: Option<&[u8]>) -> Res<()> {
    let mut l = Layout::new();
    discover(&mut l, &[true; NCTRL])?;
    // Every hierarchy of a controller docker-style runs use, once; one
    // this host lacks has nothing to collect.
    let mut want = [true; NCTRL];
    want[Ctrl::Freezer as usize] = false;
    let t = l.targets_of(&want, &[false; NCTRL], parent)?;
    for t in &t.t[..t.n] {
        let mut p = [0u8; PATH_MAX];
        let sep: &[u8] = if t.rel.is_empty() { b"" } else { b"/" };
        let n = join(&mut p, &[t.mount, sep, t.rel, b"/mydocker"]);
        let dir = match open_dir(sys::CWD, &p[..n]) {
            Ok(fd) => fd,
            Err(Errno(libc::ENOENT)) => continue,
            Err(e) => return Err(fail(P::GC_OPENING, P::MYDOCKER)(e)),
        };
        let r = sweep(dir, &p[..n]);
        sys::close(dir);
        r?;
    }
    Ok(())
}

/// Holding `mydocker` exclusively, removes each `<id>` below it that can be
/// locked (no mydocker owns it) and holds no process. The exclusive lock
/// waits for creators between mkdir and their own lock (microseconds), and
/// keeps new ones out meanwhile.
fn sweep(dir: Fd, path: &[u8]) -> Res<()> {
    sys::flock(dir, libc::LOCK_EX).map_err(fail(P::GC_LOCKING, P::MYDOCKER))?;
    let mut buf = [0u8; 4096];
    sys::each_name(dir, &mut buf, &mut |name| {
        if !is_id(name) {
            return;
        }
        let Ok(cg) = open_dir(dir, name) else { return };
        // EWOULDBLOCK: its mydocker lives.
        let owned = sys::flock(cg, libc::LOCK_EX | libc::LOCK_NB).is_err();
        let mut procs = [0u8; 64];
        let empty = !owned && read_file(cg, b"cgroup.procs", &mut procs).map_or(false, |t| t.is_empty());
        sys::close(cg);
        if empty && sys::rmdirat(dir, name).is_ok() {
            Line::new().s(b"removed ").arg(path).s(b"/").arg(name).emit(1);
        }
    })
    .map_err(fail(P::GC_READING, P::MYDOCKER))
}

/// What the memory limit's OOM killer did during a run (see `oom_kills`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OomCount {
    pub n: u64,
    /// false: `n` counts times the limit was hit (memory.failcnt), not kills.
    pub exact: bool,
}

/// What a run's exit says about the memory limit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OomVerdict {
    /// The OOM killer did nothing (or there is no memory limit).
    None,
    /// PID 1 died of SIGKILL and the OOM killer struck during the run: the
    /// container was killed by its limit (exit 137 and the OOM line).
    Killed,
    /// The OOM killer killed `n` processes but PID 1 ended otherwise: its
    /// status stands, and one line says how many were killed.
    Survived(u64),
}

/// The verdict from how PID 1 ended and what the OOM killer did. A
/// count that went up while PID 1 died of SIGKILL is the OOM killer's work
/// (nothing else in mydocker sends SIGKILL to a running container); any
/// other ending is PID 1's own, even if the killer took some of its
/// children (docker records that as a flag, not a status).
pub fn oom_verdict(pid1_sigkilled: bool, count: Option<OomCount>) -> OomVerdict {
    match count {
        Some(c) if c.n > 0 && pid1_sigkilled => OomVerdict::Killed,
        Some(c) if c.n > 0 && c.exact => OomVerdict::Survived(c.n),
        _ => OomVerdict::None,
    }
}

/// A created container cgroup: its fd and its parent's (the one holding
/// `mydocker/`), through which it is removed.
#[derive(Clone, Copy)]
pub struct Made {
    pub parent: Fd,
    pub cg: Fd,
    pub v2: bool,
    pub ctrls: Need,
}

/// Every cgroup created for one container; removed on drop.
pub struct Cgroups {
    id: [u8; crate::plan::ID_LEN],
    made: [Option<Made>; NCTRL],
    /// Per made cgroup, the file the child writes "0" into to join it
    /// (`tasks` on v1, `cgroup.procs` on v2 without CLONE_INTO_CGROUP), or
    /// -1. Opened by the parent before clone, closed by it right after.
    joins: [Fd; NCTRL],
}

/// What the child needs of the cgroups: the files to join through (-1 =
/// none). It closes them, with every other fd it does not need, right
/// after the joins (child.rs): no cgroupfs fd stays open in the container.
/// Borrowed, not copied: OCI create joins up to MAX_HIER hierarchies.
#[derive(Clone, Copy)]
pub struct ChildFds<'a> {
    pub join: &'a [Fd],
}

/// Most hierarchies a container joins: OCI create joins every one mounted
/// (v1 has 13 controllers and named hierarchies, a hybrid host cgroup2 too).
pub const MAX_HIER: usize = 16;

impl ChildFds<'_> {
    pub const NONE: ChildFds<'static> = ChildFds { join: &[] };
}

impl Cgroups {
    pub fn none(id: [u8; crate::plan::ID_LEN]) -> Cgroups {
        Cgroups { id, made: [None; NCTRL], joins: [-1; NCTRL] }
    }

    /// Creates `<parent>/mydocker/<id>` with its limits (and the device
    /// policy, where a target has Ctrl::Devices) in every target.
    #[inline(never)]
    pub fn create(&mut self, targets: &Targets, l: &Limits, dev: &Policy) -> Res<()> {
        for t in &targets.t[..targets.n] {
            // One open for the parent cgroup: "<mount point>/<rel>"; in the
            // v1 cpuset hierarchy level by level from its root, each empty
            // level filled on the way (--cgroup-parent may name new ones).
            let mut p = [0u8; PATH_MAX];
            let n = join(&mut p, &[t.mount, b"/", t.rel]);
            let cs = !t.v2 && t.ctrls[Ctrl::Cpuset as usize];
            let pfd = descend(&p[..n], if cs { t.mount.len() } else { n }, false, false, cs, &t.ctrls)?;
            // At most one target per slot: targets.n <= NCTRL.
            if let Some(slot) = self.made.iter_mut().find(|m| m.is_none()) {
                *slot = Some(create(pfd, &self.id, &t.ctrls, l, dev, t.v2)?);
            }
        }
        Ok(())
    }

    /// The container's cgroup v2 fd, if it has one: the child can then be
    /// born in it (clone3 with CLONE_INTO_CGROUP) and joins only its v1
    /// cgroups itself.
    pub fn v2(&self) -> Option<Fd> {
        self.made.iter().flatten().find(|m| m.v2).map(|m| m.cg)
    }

    /// Opens, in every cgroup the child is not born in, the file it joins
    /// through: v1 `tasks`, where a single-threaded task writing "0" (itself)
    /// skips the cgroup_threadgroup_rwsem and the RCU grace period a write of
    /// another pid into cgroup.procs waits for after idle (see
    /// cgroup_procs_write_start in kernel/cgroup/cgroup.c); v2 `cgroup.procs`
    /// (cgroup.threads would be lock-free too, but only moves threads within
    /// one threaded subtree). `born_in`: clone3 put the child in the v2
    /// cgroup already (CLONE_INTO_CGROUP).
    pub fn open_joins(&mut self, born_in: bool) -> Res<()> {
        for (i, m) in self.made.iter().enumerate() {
            let Some(m) = m else { continue };
            if (m.v2 && born_in) || self.joins[i] >= 0 {
                continue;
            }
            let file = join_file(m.v2);
            self.joins[i] = sys::openat(m.cg, file, libc::O_WRONLY).map_err(|e| self.join_failed(i, e))?;
        }
        Ok(())
    }

    /// The fds the child joins through (see ChildFds).
    pub fn child_fds(&self) -> [Fd; NCTRL] {
        self.joins
    }

    /// Closes the parent's copies of the join files (after clone).
    pub fn close_joins(&mut self) {
        for fd in self.joins.iter_mut() {
            sys::close(*fd);
            *fd = -1;
        }
    }

    /// The failure the child reported for join slot `slot`, naming the
    /// hierarchy and the file.
    pub fn join_failed(&self, slot: usize, errno: Errno) -> Fail {
        let m = self.made.get(slot).copied().flatten();
        let v2 = m.map_or(false, |m| m.v2);
        // Ctrl's order is text::P's from JOIN_MEMORY on.
        let what = match m.and_then(|m| CTRLS.iter().copied().find(|&c| m.ctrls[c as usize])) {
            _ if v2 => P::JOIN_V2 as u8,
            Some(c) => P::JOIN_MEMORY as u8 + c as u8,
            None => P::JOIN_ANY as u8,
        };
        Fail::new(what, if v2 { P::PROCS } else { P::TASKS } as u8, errno)
    }

    /// How many processes the memory limit's OOM killer killed during the
    /// run: v2 memory.events `oom_kill`, v1 memory.oom_control `oom_kill`
    /// (Linux 4.13+); before 4.13 only memory.failcnt (times the limit was
    /// hit, not kills: `exact` is false). None without a memory cgroup.
    /// Read once, after the container is gone. The count before the start
    /// is 0 by construction: the cgroup was made by our own mkdir, and the
    /// kernel starts every counter of a new cgroup at 0 — reading it would
    /// cost 3 syscalls on every run to learn 0. (A caller that adopts an
    /// existing cgroup must read it before the start and subtract.)
    pub fn oom_kills(&self) -> Option<OomCount> {
        let m = self.made.iter().flatten().find(|m| m.ctrls[Ctrl::Memory as usize])?;
        let mut buf = [0u8; 1024];
        let file: &[u8] = if m.v2 { b"memory.events" } else { b"memory.oom_control" };
        if let Some(n) = read_file(m.cg, file, &mut buf).ok().and_then(|t| keyed(t, b"oom_kill")) {
            return Some(OomCount { n, exact: true });
        }
        let t = read_file(m.cg, b"memory.failcnt", &mut buf).ok()?;
        let n = crate::limits::parse_u64(t.strip_suffix(b"\n").unwrap_or(t))?;
        Some(OomCount { n, exact: false })
    }

    /// Kills whatever is left in each cgroup and removes it, retrying EBUSY
    /// for up to a second. Says so if a directory cannot be removed.
    pub fn remove(&mut self) {
        for slot in self.made.iter_mut() {
            let Some(m) = slot.take() else { continue };
            if let Err(e) = remove_one(&m, &self.id) {
                let what: &'static [u8] =
                    if m.v2 { b"removing the container cgroup (v2)" } else { b"removing the container cgroup (v1)" };
                let mut l = Line::new();
                l.s(b"mydocker: cgroup: ").s(what).s(b": mydocker/").s(&self.id).s(b": ").s(sys::strerror(e));
                l.emit(2);
            }
            sys::close(m.cg);
            sys::close(m.parent);
        }
        self.close_joins();
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The file a task joins a cgroup through by writing "0" (see open_joins).
pub fn join_file(v2: bool) -> &'static [u8] {
    if v2 {
        b"cgroup.procs"
    } else {
        b"tasks"
    }
}

/// SIGKILLs every process listed in cgroup.procs; returns how many.
fn kill_all(cg: Fd) -> usize {
    let mut buf = [0u8; 4096];
    let Ok(text) = read_file(cg, b"cgroup.procs", &mut buf) else { return 0 };
    let mut n = 0;
    for p in text.split(crate::words::on(b'\n')).filter_map(crate::limits::parse_u64) {
        let _ = sys::kill(p as libc::pid_t, libc::SIGKILL);
        n += 1;
    }
    n
}

/// "mydocker/<id>": where a container cgroup lives below its parent.
pub fn sub_path<'b>(id: &[u8], b: &'b mut [u8; 64]) -> &'b [u8] {
    let n = join(b, &[b"mydocker/", id]);
    &b[..n]
}

/// rmdir first — the container's processes are normally gone with its PID
/// namespace — and only on EBUSY kill what is left and retry.
fn remove_one(m: &Made, id: &[u8]) -> Result<(), Errno> {
    let mut b = [0u8; 64];
    rmdir_busy(m.parent, sub_path(id, &mut b), true)
}

/// rmdir of the cgroup `path` below `dir` and of every cgroup below it,
/// deepest first, as runc's RemovePath: the payload (in a cgroup namespace)
/// or a manager in the container may have made some, and a cgroup with
/// cgroups below it is busy (EBUSY). A level busy with processes only is
/// retried for up to a second in all, with `kill` its processes SIGKILLed
/// before each retry; ENOENT counts as removed. The error of the level that
/// stays. No recursion: one path buffer, entered and left a level at a time.
pub fn rmdir_busy(dir: Fd, path: &[u8], kill: bool) -> Result<(), Errno> {
    let mut p = [0u8; 4352];
    let top = join(&mut p, &[path]);
    let (mut n, mut waits) = (top, 200);
    // Bounded even if the payload keeps making cgroups.
    for _ in 0..100_000 {
        match sys::rmdirat(dir, &p[..n]) {
            Ok(()) | Err(Errno(libc::ENOENT)) if n == top => return Ok(()),
            // Back to the level above.
            Ok(()) | Err(Errno(libc::ENOENT)) => {
                n = p[..n].iter().rposition(|&c| c == b'/').unwrap_or(top);
                continue;
            }
            Err(Errno(libc::EBUSY)) if waits > 0 => {}
            Err(e) => return Err(e),
        }
        let fd = open_dir(dir, &p[..n])?;
        // rmdir of each entry: files refuse (ENOTDIR), empty cgroups go; the
        // last that stays busy is entered (a cut path fails: ENOENT).
        let mut below = 0;
        let mut buf = [0u8; 1024];
        let _ = sys::each_name(fd, &mut buf, &mut |name| {
            if sys::rmdirat(fd, name) == Err(Errno(libc::EBUSY)) {
                below = join(&mut p[n..], &[b"/", name]);
            }
        });
        if below == 0 {
            if kill {
                kill_all(fd);
            }
            waits -= 1;
            sys::sleep_ms(5);
        }
        sys::close(fd);
        n += below;
    }
    Err(Errno(libc::EBUSY))
}

/// Makes `mydocker/<id>` below `parent`, creating the shared `mydocker`
/// level the first time; returns the new cgroup's fd, locked.
///
/// Ownership: the returned fd holds an exclusive flock on the cgroup
/// directory for as long as it is open — the owning mydocker's whole life
/// (close-on-exec, so the command never holds it). gc takes only cgroups
/// it can lock (`sweep`). Between mkdir and that lock another process could
/// take the new, empty, unlocked directory; so the creator holds a shared
/// lock on `mydocker` from before the mkdir until its own lock is held,
/// and gc sweeps holding `mydocker` exclusively: gc sees either no
/// directory or a locked one. Four syscalls per hierarchy (open and close
/// `mydocker`, two flocks); closing `mydocker` drops the shared lock.
pub fn make(parent: Fd, id: &[u8]) -> Res<Fd> {
    let md = match open_dir(parent, b"mydocker") {
        Err(Errno(libc::ENOENT)) => {
            mkdir_shared(parent, b"mydocker").map_err(fail(P::CREATING, P::MYDOCKER))?;
            open_dir(parent, b"mydocker")
        }
        r => r,
    }
    .map_err(fail(P::OPENING, P::MYDOCKER))?;
    let r = make_locked(md, id);
    sys::close(md);
    r
}

fn make_locked(md: Fd, id: &[u8]) -> Res<Fd> {
    sys::flock(md, libc::LOCK_SH).map_err(fail(P::LOCKING, P::MYDOCKER))?;
    sys::mkdirat(md, id).map_err(fail(P::CREATING_CG, P::NONE))?;
    let cg = open_dir(md, id).map_err(fail(P::OPENING_CG, P::NONE));
    // Nobody else can hold it: gc would need `mydocker` exclusively first.
    let locked = cg.and_then(|fd| match sys::flock(fd, libc::LOCK_EX | libc::LOCK_NB) {
        Ok(()) => Ok(fd),
        Err(e) => {
            sys::close(fd);
            Err(fail(P::LOCKING_CG, P::NONE)(e))
        }
    });
    if locked.is_err() {
        let _ = sys::rmdirat(md, id);
    }
    locked
}

/// Opens the cgroup directory `path`: `path[..from]` at once, then each
/// '/'-separated level after it in turn, made ready for a cgroup below it:
/// with `make` a missing level is made, on v2 (`v2`) after enabling the
/// controllers `ctrls` in its parent; in the v1 cpuset hierarchy
/// (`cpuset`) each level's empty cpuset.mems and cpuset.cpus are filled
/// from the level above before going deeper (runc's cpusetEnsureParent): a
/// v1 cpuset made by mkdir is empty, and then no task may join it (ENOSPC)
/// nor a child's value be written (EACCES). So every empty level gets the
/// values of its nearest non-empty ancestor, top-down; `path[..from]` must
/// have them (a hierarchy's root, or a cgroup a process is in, always has).
/// OCI create makes cgroupsPath this way; run walks --cgroup-parent.
pub fn descend(path: &[u8], from: usize, make: bool, v2: bool, cpuset: bool, ctrls: &Need) -> Res<Fd> {
    let mut cur = open_dir(sys::CWD, &path[..from.max(1)]).map_err(fail(P::OPENING_PARENT, P::NONE))?;
    for name in path[from..].split(crate::words::on(b'/')).filter(|n| !n.is_empty()) {
        let r = step(cur, name, make, v2, cpuset, ctrls);
        sys::close(cur);
        cur = r?;
    }
    Ok(cur)
}

/// One level of `descend`: `name` below `dir`, its fd.
fn step(dir: Fd, name: &[u8], make: bool, v2: bool, cpuset: bool, ctrls: &Need) -> Res<Fd> {
    if make {
        if v2 {
            v2::enable(dir, ctrls, false)?;
        }
        mkdir_shared(dir, name).map_err(fail(P::CREATING_A, P::NONE))?;
    }
    let fd = open_dir(dir, name).map_err(fail(if make { P::OPENING_A } else { P::OPENING_PARENT }, P::NONE))?;
    match cpuset.then(|| v1::fill(dir, fd)) {
        Some(Err(f)) => {
            sys::close(fd);
            Err(f)
        }
        _ => Ok(fd),
    }
}

/// Makes the cgroup `name` below `pfd` if missing, ready for a cgroup
/// below it (see `descend`): docker-style runs make `mydocker` this way.
pub fn level(pfd: Fd, name: &[u8], v2: bool, cpuset: bool, ctrls: &Need) -> Res<()> {
    step(pfd, name, true, v2, cpuset, ctrls).map(sys::close)
}

/// Creates `mydocker/<id>` under `parent` (a directory fd in one hierarchy,
/// owned from here on) with the limits of the controllers `ctrls` names. A
/// failure leaves nothing behind (but an empty shared `mydocker`).
pub fn create(parent: Fd, id: &[u8], ctrls: &Need, l: &Limits, dev: &Policy, v2: bool) -> Res<Made> {
    // Before the container's cgroup exists, the shared `mydocker` level:
    // on v2 with the controllers enabled in the parent and in it; on v1
    // cpuset filled from the parent, since the container's group copies
    // from it (elsewhere `make` creates it when missing).
    let r = match (v2, ctrls[Ctrl::Cpuset as usize]) {
        (true, _) => v2::prepare(parent, ctrls),
        (false, cpuset) if cpuset => level(parent, b"mydocker", false, true, ctrls),
        _ => Ok(()),
    }
    .and_then(|_| make(parent, id));
    let cg = match r {
        Ok(cg) => cg,
        Err(f) => {
            sys::close(parent);
            return Err(f);
        }
    };
    // v1 cpuset: mems from the shared level (filled by `level`) before
    // cpus, or no task may join; cpus too when no limit sets them (a
    // hierarchy shared with a limited controller).
    let cs = !v2 && ctrls[Ctrl::Cpuset as usize];
    let r = match cs {
        true => v1::inherit(parent, b"mydocker/cpuset.mems", cg, P::MEMS),
        false => Ok(()),
    }
    .and_then(|_| match cs && l.cpuset.is_none() {
        true => v1::inherit(parent, b"mydocker/cpuset.cpus", cg, P::CPUS),
        false => Ok(()),
    })
    .and_then(|_| res::write(cg, v2, ctrls, &res::Resources::of(l), dev));
    if let Err(f) = r {
        sys::close(cg);
        let mut b = [0u8; 64];
        let _ = sys::rmdirat(parent, sub_path(id, &mut b));
        sys::close(parent);
        return Err(f);
    }
    Ok(Made { parent, cg, v2, ctrls: *ctrls })
}

#[cfg(test)]
pub mod tests;
