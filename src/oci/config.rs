//! config.json → the container model. Every field the default configs of
//! podman, containerd (ctr and CRI) and `runc spec` carry is honoured; any
//! other field that is set and would change behaviour is refused with one
//! line naming it (runtime-spec: a property that cannot be applied is an
//! error). Unknown keys are ignored, as the spec asks.
//!
//! Pure apart from one stat per bind-mount source (file or directory?): the
//! document and every table come from the caller; `Refusal` names the field.
use crate::caps;
use crate::cli::Args;
use crate::json::{self, Kind, Value};
use crate::model::{self, Rlimit, User};


/// `field!(b"process.args")`: the name of a SHAPES field (see `field`).
macro_rules! field {
    ($p:literal) => {
        const { $crate::oci::config::shape_field($p) }
    };
}
#[allow(unused_imports)]
pub(crate) use field;

/// A config.json field mydocker cannot apply, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static [u8],
    pub why: &'static [u8],
}

pub type Res<T> = Result<T, Refusal>;

pub fn refuse<T>(field: &'static [u8], why: &'static [u8]) -> Res<T> {
    Err(Refusal { field, why })
}

/// A JSON array of strings as an argument list (process.args, .env).
#[derive(Clone, Copy)]
pub struct Strs<'a> {
    v: Option<Value<'a>>,
    n: usize,
}

impl<'a> Strs<'a> {
    pub const NONE: Strs<'static> = Strs { v: None, n: 0 };

    /// Every element must be a string without NUL bytes.
    pub fn of(v: Option<Value<'a>>, field: &'static [u8]) -> Res<Strs<'a>> {
        let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(Strs { v: None, n: 0 }) };
        if v.kind() != Kind::Arr {
            return refuse(field, b"not an array of strings");
        }
        let mut n = 0;
        for s in v.items() {
            match s.as_bytes() {
                Some(b) if !b.contains(&0) => n += 1,
                _ => return refuse(field, b"not an array of strings without NUL bytes"),
            }
        }
        Ok(Strs { v: Some(v), n })
    }
}

impl Args for Strs<'_> {
    fn count(&self) -> usize {
        self.n
    }
    fn arg(&self, i: usize) -> &[u8] {
        self.v.and_then(|v| v.items().nth(i)).and_then(|s| s.as_bytes()).unwrap_or(b"")
    }
}

pub const MAX_RLIMITS: usize = 16;
pub const MAX_GROUPS: usize = 64;
pub const MAX_JOINS: usize = 8;

/// RLIMIT_* names without the prefix, in resource-number order
/// (asm-generic; the same on x86_64 and aarch64).
pub const RLIMITS: &[u8] = b"CPU FSIZE DATA STACK CORE RSS NPROC NOFILE MEMLOCK AS LOCKS SIGPENDING MSGQUEUE NICE RTPRIO RTTIME";

/// What a config holds beyond the model's borrowed slices: the tables the
/// model points into.
pub struct Store<'a> {
    pub rlimits: [Rlimit; MAX_RLIMITS],
    pub nrlimits: usize,
    pub groups: [u32; MAX_GROUPS],
    pub ngroups: usize,
    pub joins: [(i32, &'a [u8]); MAX_JOINS],
    pub njoins: usize,
    pub args: Strs<'a>,
    pub env: Strs<'a>,
}

impl Store<'_> {
    /// An empty store, built in place: as a `const` it would be a 952-byte
    /// constant in the binary, copied in (its empty slices are not zeros).
    #[inline(never)]
    pub fn new() -> Store<'static> {
        Store {
            rlimits: [Rlimit { resource: 0, soft: 0, hard: 0 }; MAX_RLIMITS],
            nrlimits: 0,
            groups: [0; MAX_GROUPS],
            ngroups: 0,
            joins: [(0, b""); MAX_JOINS],
            njoins: 0,
            args: Strs::NONE,
            env: Strs::NONE,
        }
    }
}

/// What the process section says, besides what goes into the Store.
pub struct Process<'a> {
    pub cwd: &'a [u8],
    pub user: (u32, u32),
    pub umask: Option<u32>,
    pub caps: crate::model::CapSets,
    pub no_new_privs: bool,
    pub oom_score_adj: Option<i32>,
    pub terminal: bool,
    /// consoleSize: (height, width), the terminal's first size.
    pub console: Option<(u16, u16)>,
}

/// A field that is present and not null (and, for arrays and objects, not
/// empty): set, so it would change behaviour.
pub fn set(v: Option<Value>) -> bool {
    match v {
        None => false,
        Some(v) => match v.kind() {
            Kind::Null => false,
            Kind::Arr => v.items().next().is_some(),
            Kind::Obj => v.members().next().is_some(),
            _ => true,
        },
    }
}

/// The member of `parent` that `field` names (its last component).
#[inline(never)]
fn at<'a>(parent: Option<Value<'a>>, field: &[u8]) -> Option<Value<'a>> {
    parent.and_then(|p| p.get_bytes(leaf(field)))
}

/// The number at `field` of `parent`, if there is one.
fn u32_of(parent: Option<Value>, field: &'static [u8]) -> Res<Option<u32>> {
    match at(parent, field).filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => v.as_u32().map(Some).ok_or(Refusal { field, why: b"not a number in 0..=4294967295" }),
    }
}

fn cap_set(v: Option<Value>, field: &'static [u8]) -> Res<u64> {
    let mut m = 0;
    for name in json::items_in(v) {
        let Some(n) = name.as_bytes() else { return refuse(field, b"not an array of capability names") };
        // A capability this build does not know is left out (never granted).
        m |= caps::parse(n).filter(|&c| c != caps::ALL).unwrap_or(0);
    }
    Ok(m)
}

/// The five capability sets, as config.json names them.
const CAP_SETS: &[u8] = b"process.capabilities.bounding process.capabilities.effective process.capabilities.permitted \
process.capabilities.inheritable process.capabilities.ambient";
/// Fields that would change behaviour and are not applied: refused when set.
const PROCESS_UNSUPPORTED: &[u8] = b"process.ioPriority process.scheduler process.execCPUAffinity process.commandLine";
const LINUX_UNSUPPORTED: &[u8] = b"linux.uidMappings linux.gidMappings linux.intelRdt linux.netDevices linux.personality \
linux.timeOffsets linux.memoryPolicy";

/// The last component of a dotted field name or SHAPES field (`name`
/// in its last word): the key it is read by.
fn leaf(field: &[u8]) -> &[u8] {
    match field.rsplit(crate::words::on(b' ')).next() {
        Some([b'0'..=b'9', n @ .., b':', _]) => n,
        _ => field.rsplit(crate::words::on(b'.')).next().unwrap_or(field),
    }
}

/// process.*: args and env into `st`, the rest returned.
#[inline(never)]
pub fn process<'a>(p: Value<'a>, st: &mut Store<'a>) -> Res<Process<'a>> {
    st.args = Strs::of(p.get("args"), field!(b"process.args"))?;
    if st.args.count() == 0 || st.args.arg(0).is_empty() {
        return refuse(field!(b"process.args"), b"no command given");
    }
    st.env = Strs::of(p.get("env"), field!(b"process.env"))?;
    // runc refuses it too: getenv in every libc reads NAME=value.
    if json::list(Some(p), "env").any(|e| !e.as_bytes().unwrap_or(b"").contains(&b'=')) {
        return refuse(field!(b"process.env"), b"invalid environment variable: an entry without '='");
    }
    let cwd = match p.get("cwd") {
        None => b"/" as &[u8],
        Some(c) => match c.as_bytes() {
            Some(c) if c.starts_with(b"/") && !c.contains(&0) => c,
            _ => return refuse(field!(b"process.cwd"), b"not an absolute path"),
        },
    };
    let u = p.get("user");
    let uid = u32_of(u, field!(b"process.user.uid"))?.unwrap_or(0);
    let gid = u32_of(u, field!(b"process.user.gid"))?.unwrap_or(0);
    let umask = u32_of(u, field!(b"process.user.umask"))?;
    for g in json::list(u, "additionalGids") {
        let g = g.as_u32().ok_or(Refusal { field: field!(b"process.user.additionalGids"), why: b"not a group id" })?;
        *st.groups.get_mut(st.ngroups).ok_or(Refusal {
            field: field!(b"process.user.additionalGids"),
            why: b"too many groups (limit 64)",
        })? = g;
        st.ngroups += 1;
    }
    if set(u.and_then(|u| u.get("username"))) {
        // Windows only; never a Linux config.
        return refuse(b"process.user.username", b"not supported on Linux");
    }
    let c = p.get("capabilities");
    let mut sets = [0u64; 5];
    for (set, f) in sets.iter_mut().zip(CAP_SETS.split(crate::words::on(b' '))) {
        *set = cap_set(at(c, f), f)?;
    }
    let [bounding, effective, permitted, inheritable, ambient] = sets;
    // The kernel raises an ambient capability only if it is permitted and
    // inheritable: else prctl's bare EPERM at start (runc ignores it and
    // runs without; a set asked for and not applied is refused here).
    if ambient & !(permitted & inheritable) != 0 {
        return refuse(&CAP_SETS[CAP_SETS.len() - 28..], b"not all in permitted and inheritable");
    }
    let caps = crate::model::CapSets { bounding, effective, permitted, inheritable, ambient };
    for r in json::list(Some(p), "rlimits") {
        let ty = r.get("type").and_then(|t| t.as_bytes()).unwrap_or(b"");
        let Some(res) = ty.strip_prefix(&b"RLIMIT_"[..]).and_then(|t| crate::words::find(RLIMITS, t)) else {
            return refuse(field!(b"process.rlimits"), b"unknown rlimit type");
        };
        let num = |k| r.get(k).and_then(|v| v.as_u64());
        let (Some(hard), Some(soft)) = (num("hard"), num("soft")) else {
            return refuse(field!(b"process.rlimits"), b"hard and soft must be numbers");
        };
        if st.rlimits[..st.nrlimits].iter().any(|x| x.resource == res as u32) {
            return refuse(field!(b"process.rlimits"), b"the same type twice");
        }
        // No fd at all: the child's polls after the limits (the exec fifo,
        // its parent check) fail EINVAL (nfds above it), and the command
        // could not open one either; runc fails too, at create.
        if res == libc::RLIMIT_NOFILE as usize && soft == 0 {
            return refuse(field!(b"process.rlimits"), b"RLIMIT_NOFILE soft 0 leaves no fd to start the process");
        }
        st.rlimits[st.nrlimits] = Rlimit { resource: res as u32, soft, hard };
        st.nrlimits += 1;
    }
    let oom = match p.get("oomScoreAdj").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match v.as_i64() {
            Some(n) if (-1000..=1000).contains(&n) => Some(n as i32),
            _ => return refuse(field!(b"process.oomScoreAdj"), b"not a number in -1000..=1000"),
        },
    };
    let terminal = p.get("terminal").and_then(|t| t.as_bool()).unwrap_or(false);
    let console = p.get("consoleSize").map(|s| {
        let d = |k| s.get(k).and_then(|v| v.as_u64()).map_or(0, |v| v.min(u16::MAX as u64) as u16);
        (d("height"), d("width"))
    });
    for f in PROCESS_UNSUPPORTED.split(crate::words::on(b' ')) {
        if set(p.get_bytes(leaf(f))) {
            return refuse(f, b"not supported");
        }
    }
    Ok(Process {
        cwd,
        user: (uid, gid),
        umask,
        caps,
        no_new_privs: p.get("noNewPrivileges").and_then(|v| v.as_bool()).unwrap_or(false),
        oom_score_adj: oom,
        terminal,
        console,
    })
}

/// linux.namespaces → (new CLONE_NEW* flags, joins by path into `st`).
#[inline(never)]
pub fn namespaces<'a>(ns: Option<Value<'a>>, st: &mut Store<'a>) -> Res<i32> {
    let mut new = 0;
    let mut seen = 0;
    for n in json::items_in(ns) {
        let ty = n.get("type").and_then(|t| t.as_bytes()).unwrap_or(b"");
        let Some(flag) = crate::words::find(model::NS_NAMES, ty).map(|i| model::NS_FLAGS[i]) else {
            return refuse(field!(b"linux.namespaces"), b"unknown namespace type");
        };
        if flag == libc::CLONE_NEWUSER || flag == 0x80 {
            return refuse(field!(b"linux.namespaces"), b"user and time namespaces are not supported");
        }
        if seen & flag != 0 {
            return refuse(field!(b"linux.namespaces"), b"a namespace type is listed twice");
        }
        seen |= flag;
        match n.get("path").filter(|p| !p.is_null()) {
            None => new |= flag,
            Some(p) => {
                let path = p.as_bytes().filter(|p| p.starts_with(b"/") && !p.contains(&0));
                let Some(path) = path else { return refuse(b"linux.namespaces.path", b"not an absolute path") };
                st.joins[st.njoins] = (flag, path);
                st.njoins += 1;
            }
        }
    }
    if seen & libc::CLONE_NEWNS == 0 {
        return refuse(field!(b"linux.namespaces"), b"a mount namespace is required");
    }
    Ok(new)
}

/// Everything else under the top level and `linux` that would change
/// behaviour and is not applied: refused by name.
#[inline(never)]
pub fn unsupported(root: Value) -> Res<()> {
    if set(root.get("hooks")) {
        return refuse(b"hooks", b"hooks are not supported");
    }
    let linux = root.get("linux");
    let l = |k: &str| linux.and_then(|l| l.get(k));
    for f in LINUX_UNSUPPORTED.split(crate::words::on(b' ')) {
        if set(at(linux, f)) {
            return refuse(f, b"not supported");
        }
    }
    if set(l("seccomp").and_then(|s| s.get("listenerPath"))) {
        return refuse(b"linux.seccomp.listenerPath", b"seccomp notification is not supported");
    }
    for m in json::list(Some(root), "mounts") {
        if set(m.get("uidMappings")) || set(m.get("gidMappings")) {
            return refuse(b"mounts.uidMappings", b"idmapped mounts are not supported");
        }
    }
    Ok(())
}

pub const MAX_SYSCTL: usize = 32;

/// The IPC sysctls outside fs.mqueue.* (packed words).
const IPC_SYSCTLS: &[u8] =
    b"kernel.msgmax kernel.msgmnb kernel.msgmni kernel.sem kernel.shmall kernel.shmmax kernel.shmmni kernel.shm_rmid_forced";

/// Whether a sysctl belongs to a namespace the container has its own of
/// (runc's list): IPC ones need a new IPC namespace, net.* a new network
/// namespace, kernel.hostname/domainname a new UTS namespace.
fn namespaced(key: &[u8], new: i32) -> bool {
    let ns = if crate::words::find(IPC_SYSCTLS, key).is_some() || key.starts_with(b"fs.mqueue.") {
        libc::CLONE_NEWIPC
    } else if key.starts_with(b"net.") {
        libc::CLONE_NEWNET
    } else if key == b"kernel.hostname" || key == b"kernel.domainname" {
        libc::CLONE_NEWUTS
    } else {
        0
    };
    new & ns != 0
}

/// linux.sysctl → ("/proc/sys/a/b/c", value) pairs; the paths are
/// written into `text`. Keys outside the container's namespaces are refused.
// Not inlined: measured smaller as a call (issue 12, size).
#[inline(never)]
pub fn sysctl<'t>(
    linux: Option<Value<'t>>,
    new: i32,
    mut text: &'t mut [u8],
    out: &mut [(&'t [u8], &'t [u8]); MAX_SYSCTL],
) -> Res<usize> {
    let mut n = 0;
    for (k, v) in json::members_in(linux.and_then(|l| l.get("sysctl"))) {
        let key = k.as_bytes();
        let Some(val) = v.as_bytes().filter(|v| !v.contains(&0)) else {
            return refuse(field!(b"linux.sysctl"), b"values must be strings");
        };
        if key.is_empty() || key.contains(&b'/') || key.split(crate::words::on(b'.')).any(|c| c.is_empty() || c == b"..") {
            return refuse(field!(b"linux.sysctl"), b"not a sysctl name");
        }
        if !namespaced(key, new) {
            return refuse(field!(b"linux.sysctl"), b"a sysctl outside the container's own namespaces");
        }
        // "/proc/sys/" + key with '.' as '/' + NUL, cut from the front of
        // `text` (the pieces keep its lifetime).
        let len = b"/proc/sys/".len() + key.len();
        let (Some(slot), true) = (out.get_mut(n), len < text.len()) else {
            return refuse(field!(b"linux.sysctl"), b"too many (limit 32, 4 KiB of names)");
        };
        let (p, rest) = core::mem::take(&mut text).split_at_mut(len + 1);
        text = rest;
        let (path, key_part) = p.split_at_mut(10);
        path.copy_from_slice(b"/proc/sys/");
        for (d, &c) in key_part.iter_mut().zip(key) {
            *d = if c == b'.' { b'/' } else { c };
        }
        p[len] = 0;
        // Without the NUL: sys::openat adds it.
        *slot = (&p[..len], val);
        n += 1;
    }
    Ok(n)
}

/// process.apparmorProfile as "exec <profile>" when the host has AppArmor
/// enabled; ignored otherwise (as runc and crun do: there is nothing to
/// confine with).
pub fn apparmor<'b>(p: Value, buf: &'b mut [u8; 512]) -> Res<Option<&'b [u8]>> {
    let Some(prof) = p.get("apparmorProfile").and_then(|v| v.as_bytes()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let mut on = [0u8; 4];
    let fd = crate::sys::openat(crate::sys::CWD, b"/sys/module/apparmor/parameters/enabled", libc::O_RDONLY);
    let enabled = fd.map_or(false, |fd| {
        let r = crate::sys::read(fd, &mut on);
        crate::sys::close(fd);
        r.is_ok() && on[0] == b'Y'
    });
    if !enabled {
        return Ok(None);
    }
    if prof.len() > 400 || prof.contains(&0) {
        return refuse(field!(b"process.apparmorProfile"), b"not a profile name");
    }
    let n = crate::cgroup::join(buf, &[b"exec ", prof]);
    Ok(Some(&buf[..n]))
}

/// The user as the model wants it.
pub fn user<'a>(p: &Process, st: &'a Store) -> User<'a> {
    // runc's default umask when the config names none.
    User { ids: Some(p.user), groups: &st.groups[..st.ngroups], umask: Some(p.umask.unwrap_or(0o022)) }
}

/// The root filesystem path: root.path, joined to the bundle when relative.
#[inline(never)]
pub fn rootfs<'b>(root: Option<Value>, bundle: &[u8], buf: &'b mut [u8]) -> Res<&'b [u8]> {
    let p = root.and_then(|r| r.get("path")).and_then(|p| p.as_bytes());
    let Some(p) = p.filter(|p| !p.is_empty() && !p.contains(&0)) else {
        return refuse(field!(b"root.path"), b"missing");
    };
    let parts: [&[u8]; 3] = if p.starts_with(b"/") { [p, b"", b""] } else { [bundle, b"/", p] };
    let n = crate::cgroup::join(buf, &parts);
    if n != parts.iter().map(|x| x.len()).sum::<usize>() || n >= 4096 {
        return refuse(field!(b"root.path"), b"too long");
    }
    let mut r = &buf[..n];
    while r.len() > 1 && r.ends_with(b"/") {
        r = &r[..r.len() - 1];
    }
    Ok(r)
}

/// The JSON type of every field mydocker reads (runtime-spec's schema):
/// a field of another type is refused, never half-read — `root.readonly:
/// "yes"` or a string `linux.maskedPaths` must not quietly leave the
/// container unprotected. `*` is every element of an array (or value of an
/// object); null counts as absent, as in Go's decoders.
///
/// Packed words `Nname:k`, k one of a(rray) o(bject) s(tring) b(ool)
/// n(umber): the field's path is the first N components of the previous
/// word's path, then `name` (`0linux:o 1sysctl:o 2*:s` is linux,
/// linux.sysctl, linux.sysctl.*): 817 bytes instead of 1,825 written out.
/// A refusal names a field by the prefix of SHAPES that ends with its word
/// (see `name`).
const SHAPES: &[u8] = b"0root:o 1path:s 1readonly:b 0mounts:a 1*:o 2destination:s 2type:s 2source:s 2options:a 3*:s 0process:o \
1terminal:b 1consoleSize:o 2height:n 2width:n 1user:o 2uid:n 2gid:n 2umask:n 2additionalGids:a 3*:n \
1args:a 1env:a 1cwd:s 1capabilities:o 2*:a 3*:s 1rlimits:a 2*:o 3type:s 3hard:n 3soft:n \
1noNewPrivileges:b 1apparmorProfile:s 1oomScoreAdj:n 0hostname:s 0domainname:s 0annotations:o 1*:s \
0linux:o 1namespaces:a 2*:o 3type:s 3path:s 1maskedPaths:a 2*:s 1readonlyPaths:a 2*:s 1sysctl:o 2*:s \
1devices:a 2*:o 3path:s 3type:s 3major:n 3minor:n 3fileMode:n 3uid:n 3gid:n 1cgroupsPath:s 1resources:o \
2devices:a 3*:o 4allow:b 4type:s 4access:s 4major:n 4minor:n 2memory:o 3limit:n 3reservation:n 3swap:n \
3swappiness:n 3disableOOMKiller:b 2cpu:o 2pids:o 3limit:n 2unified:o 3*:s 1rootfsPropagation:s \
1seccomp:o 1mountLabel:s";

/// Applies the SHAPES word `w` (`Nname:k`) to the path `buf[..len]` (the
/// previous word's); the new path's length. Paths fit: the longest is 38
/// bytes.
const fn step(buf: &mut [u8; 64], len: usize, w: &[u8]) -> usize {
    let keep = (w[0] - b'0') as usize;
    // After `keep` components: at the keep-th '.' (0 when none are kept).
    let mut at = 0;
    let mut dots = 0;
    while keep > 0 && at < len {
        if buf[at] == b'.' {
            dots += 1;
            if dots == keep {
                break;
            }
        }
        at += 1;
    }
    if keep > 0 {
        buf[at] = b'.';
        at += 1;
    }
    let mut i = 1;
    while i + 2 < w.len() {
        buf[at] = w[i];
        at += 1;
        i += 1;
    }
    at
}

/// The end of the SHAPES word that starts at `i`.
const fn word_end(i: usize) -> usize {
    let mut end = i;
    while end < SHAPES.len() && SHAPES[end] != b' ' {
        end += 1;
    }
    end
}

/// A SHAPES field by its path, found at compile time (a missing name does
/// not compile): `field!(b"process.args")`. The field is the prefix of
/// SHAPES up to the end of its word, so its text is stored once, whoever
/// refuses it; `name` writes the path out.
pub const fn shape_field(path: &[u8]) -> &'static [u8] {
    let mut buf = [0u8; 64];
    let mut len = 0;
    let mut i = 0;
    while i < SHAPES.len() {
        let end = word_end(i);
        len = step(&mut buf, len, SHAPES.split_at(end).0.split_at(i).1);
        let mut j = 0;
        while len == path.len() && j < len && buf[j] == path[j] {
            j += 1;
        }
        if len == path.len() && j == len {
            return SHAPES.split_at(end).0;
        }
        i = end + 1;
    }
    panic!("not a SHAPES field")
}

/// A walk over a packed field list in SHAPES' format (`Nname:k` words):
/// each field as the prefix of the list that ends with its word (what a
/// refusal names, see `name`), its kind letter, and its path written out
/// into `buf` (`path`).
pub struct Fields<'b> {
    list: &'static [u8],
    next: usize,
    buf: &'b mut [u8; 64],
    len: usize,
}

impl<'b> Fields<'b> {
    pub fn new(list: &'static [u8], buf: &'b mut [u8; 64]) -> Fields<'b> {
        Fields { list, next: 0, buf, len: 0 }
    }

    /// The next field and its kind letter; None at the end.
    #[inline(never)]
    pub fn next(&mut self) -> Option<(&'static [u8], u8)> {
        let (done, rest) = self.list.split_at_checked(self.next)?;
        let w = rest.split(crate::words::on(b' ')).next()?;
        self.len = step(self.buf, self.len, w);
        let field = self.list.split_at(done.len() + w.len()).0;
        self.next = field.len() + 1;
        Some((field, w[w.len() - 1]))
    }

    /// The path of the last field `next` gave.
    pub fn path(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A refused field's name as printed: a packed one (a prefix of SHAPES or
/// another list in its format, see `Fields`) written out into `buf`, any
/// other as it is.
pub fn name<'b>(field: &'static [u8], buf: &'b mut [u8; 64]) -> &'b [u8] {
    if !field.first().is_some_and(u8::is_ascii_digit) {
        return field;
    }
    let mut f = Fields::new(field, buf);
    while f.next().is_some() {}
    let len = f.len;
    &buf[..len]
}

impl Refusal {
    /// One line `mydocker: <command>: <prefix><field>: <why>`; returns 1.
    #[inline(never)]
    pub fn report(&self, prefix: &[u8]) -> i32 {
        let mut buf = [0u8; 64];
        super::fail(&[prefix, name(self.field, &mut buf), b": ", self.why])
    }
}

/// Checks `root` against SHAPES; the first field of another type is refused.
// Not inlined: measured smaller as a call (issue 12, size).
#[inline(never)]
pub fn shapes(root: Value) -> Res<()> {
    let mut buf = [0u8; 64];
    let mut f = Fields::new(SHAPES, &mut buf);
    while let Some((field, k)) = f.next() {
        let (want, why): (Kind, &[u8]) = match k {
            b'a' => (Kind::Arr, b"must be an array"),
            b'o' => (Kind::Obj, b"must be an object"),
            b's' => (Kind::Str, b"must be a string"),
            b'b' => (Kind::Bool, b"must be true or false"),
            _ => (Kind::Num, b"must be a number"),
        };
        if !shaped(root, f.path(), want) {
            return refuse(field, why);
        }
    }
    Ok(())
}

fn shaped(v: Value, path: &[u8], want: Kind) -> bool {
    let (seg, rest) = match path.iter().position(|&c| c == b'.') {
        Some(i) => (&path[..i], Some(&path[i + 1..])),
        None => (path, None),
    };
    let each = |c: Value| rest.map_or(c.is_null() || c.kind() == want, |r| shaped(c, r, want));
    match (seg, v.kind()) {
        (b"*", Kind::Arr) => v.items().all(each),
        (b"*", Kind::Obj) => v.members().all(|(_, c)| each(c)),
        (b"*", _) => true,
        (key, Kind::Obj) => v.get_bytes(key).map_or(true, each),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shapes_field_is_written_out_and_found_again_by_its_name() {
        let mut end = 0;
        let mut names = Vec::new();
        for w in SHAPES.split(|&c| c == b' ') {
            end += w.len() + 1;
            let field = &SHAPES[..end - 1];
            let mut buf = [0u8; 64];
            let n = name(field, &mut buf).to_vec();
            assert!(!n.is_empty() && !n.starts_with(b".") && !n.contains(&b':'), "{:?}", String::from_utf8_lossy(&n));
            assert_eq!(shape_field(&n), field, "{:?}", String::from_utf8_lossy(&n));
            assert_eq!(leaf(field), n.rsplit(|&c| c == b'.').next().unwrap());
            names.push(n);
        }
        assert_eq!(names.len(), 82);
        let all: Vec<String> = names.iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect();
        for want in ["root.readonly", "process.user.additionalGids.*", "linux.resources.devices.*.allow", "linux.mountLabel"] {
            assert!(all.iter().any(|n| n == want), "{want} missing");
        }
        let mut buf = [0u8; 64];
        assert_eq!(name(field!(b"linux.sysctl"), &mut buf), b"linux.sysctl");
        assert_eq!(name(b"hooks", &mut buf), b"hooks", "other names are printed as they are");
    }

    #[test]
    fn a_field_of_another_type_is_refused_by_its_written_out_name() {
        let mut text = br#"{"root":{"path":"r"},"linux":{"resources":{"devices":[{"allow":"yes"}]}}}"#.to_vec();
        let mut nodes = [crate::json::Node::EMPTY; 64];
        let doc = crate::json::parse(&mut text, &mut nodes).unwrap();
        let r = shapes(doc.root()).unwrap_err();
        let mut buf = [0u8; 64];
        assert_eq!((name(r.field, &mut buf), r.why), (&b"linux.resources.devices.*.allow"[..], &b"must be true or false"[..]));
    }

    fn sysctls(json: &str, new: i32, text: &mut [u8]) -> Result<Vec<(String, String)>, &'static [u8]> {
        let mut t = json.as_bytes().to_vec();
        let mut nodes = [crate::json::Node::EMPTY; 256];
        let doc = crate::json::parse(&mut t, &mut nodes).unwrap();
        let mut out = [(&b""[..], &b""[..]); MAX_SYSCTL];
        let n = sysctl(Some(doc.root()), new, text, &mut out).map_err(|r| r.why)?;
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        Ok(out[..n].iter().map(|&(p, v)| (s(p), s(v))).collect())
    }

    #[test]
    fn sysctls_become_proc_paths_within_the_containers_namespaces_and_limits() {
        let all = libc::CLONE_NEWIPC | libc::CLONE_NEWNET | libc::CLONE_NEWUTS;
        let j = r#"{"sysctl":{"net.ipv4.ip_forward":"1","kernel.shmmax":"9","fs.mqueue.msg_max":"5","kernel.hostname":"h"}}"#;
        let got = sysctls(j, all, &mut [0u8; 4096]).unwrap();
        let want = [
            ("/proc/sys/net/ipv4/ip_forward", "1"),
            ("/proc/sys/kernel/shmmax", "9"),
            ("/proc/sys/fs/mqueue/msg_max", "5"),
            ("/proc/sys/kernel/hostname", "h"),
        ];
        assert_eq!(got, want.map(|(p, v)| (p.to_string(), v.to_string())));
        let outside = b"a sysctl outside the container's own namespaces";
        assert_eq!(sysctls(j, all & !libc::CLONE_NEWNET, &mut [0u8; 4096]), Err(&outside[..]));
        assert_eq!(sysctls(r#"{"sysctl":{"kernel.shmmaxx":"1"}}"#, all, &mut [0u8; 4096]), Err(&outside[..]));
        assert_eq!(sysctls(r#"{"sysctl":{"net..x":"1"}}"#, all, &mut [0u8; 4096]), Err(&b"not a sysctl name"[..]));
        assert_eq!(sysctls(r#"{"sysctl":{"net.x":1}}"#, all, &mut [0u8; 4096]), Err(&b"values must be strings"[..]));
        // "/proc/sys/net/x" and its NUL: 16 bytes fit in 16, not in 15.
        let one = r#"{"sysctl":{"net.x":"1"}}"#;
        assert_eq!(sysctls(one, all, &mut [0u8; 16]).unwrap().len(), 1);
        let full = b"too many (limit 32, 4 KiB of names)";
        assert_eq!(sysctls(one, all, &mut [0u8; 15]), Err(&full[..]));
        let many: Vec<String> = (0..33).map(|i| format!(r#""net.k{i}":"v""#)).collect();
        let many = format!(r#"{{"sysctl":{{{}}}}}"#, many.join(","));
        assert_eq!(sysctls(&many, all, &mut [0u8; 4096]), Err(&full[..]));
    }
}
