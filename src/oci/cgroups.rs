//! linux.cgroupsPath and linux.resources: the container's cgroup at that
//! path in every hierarchy (the v1 ones of memory, cpu, cpuset, pids,
//! devices and freezer that exist, or cgroup2), with the resources written before any
//! process is in it; the child joins them itself (cgroup::ChildFds), first
//! thing after clone. The directories are recorded in the state for ps,
//! kill --all, pause and delete.
//!
//! Paths: an absolute cgroupsPath is taken from each hierarchy's root (as
//! runc and crun do with cgroupfs); a relative one, and the default
//! `<id>`, from the caller's own cgroup. Missing levels are made: on v2
//! with the needed controllers enabled at each, on v1 cpuset with cpus and
//! mems copied down (a new v1 cpuset group starts empty).
use super::config::{refuse, set, Res as CRes};
use crate::cgroup::res::Knob;
use crate::cgroup::{self, join, open_dir, ChildFds, Ctrl, Need, CTRLS, NCTRL};
use crate::devices::{self, Policy, Rule, Type};
use crate::json::Value;
use crate::sys::{self, Errno, Fd};

/// linux.resources, as far as mydocker applies them: the limits (the same
/// description the docker-style flags fill) and the v2 files written as
/// given (`unified`).
#[derive(Clone, Copy)]
pub struct Resources<'a> {
    pub cg: cgroup::res::Resources<'a>,
    pub unified: Option<Value<'a>>,
}

/// linux.resources numbers: (field, knob, whether it may be negative).
/// The object and the key come from the field's name.
const NUMS: [(&str, Knob, bool); cgroup::res::NKNOB] = [
    ("linux.resources.memory.limit", Knob::Memory, true),
    ("linux.resources.memory.reservation", Knob::Reservation, true),
    ("linux.resources.memory.swap", Knob::Swap, true),
    ("linux.resources.memory.swappiness", Knob::Swappiness, false),
    ("linux.resources.memory.disableOOMKiller", Knob::NoOom, false),
    ("linux.resources.cpu.shares", Knob::Shares, false),
    ("linux.resources.cpu.quota", Knob::Quota, true),
    ("linux.resources.cpu.period", Knob::Period, false),
    ("linux.resources.pids.limit", Knob::Pids, true),
];

fn list<'a>(v: Option<Value<'a>>, field: &'static [u8]) -> CRes<Option<&'a [u8]>> {
    match v.filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => match v.as_bytes() {
            Some(b) if b.is_empty() => Ok(None),
            Some(b) if b.iter().all(|c| c.is_ascii_digit() || *c == b'-' || *c == b',') => Ok(Some(b)),
            _ => refuse(field, b"not a CPU or node list"),
        },
    }
}

/// Reads linux.resources; device rules into `rules` (config's first, then
/// runc's defaults and an allow for each linux.devices node, so what the
/// runtime makes is usable).
pub fn resources<'a>(linux: Option<Value<'a>>, rules: &mut Policy) -> CRes<Resources<'a>> {
    resources_of(linux.and_then(|l| l.get("resources")), rules)
}

/// A LinuxResources object itself (config.json's linux.resources, or what
/// `update --resources` reads).
pub fn resources_of<'a>(r: Option<Value<'a>>, rules: &mut Policy) -> CRes<Resources<'a>> {
    let g = |k: &str| r.and_then(|r| r.get(k));
    for (k, f) in [
        ("blockIO", &b"linux.resources.blockIO"[..]),
        ("network", b"linux.resources.network"),
        ("rdma", b"linux.resources.rdma"),
    ] {
        if set(g(k)) {
            return refuse(f, b"not supported");
        }
    }
    // memory.kernel and kernelTCP are deprecated in the spec and gone from
    // kernels since 5.x/6.x: accepted and not applied, as runc and crun do.
    let c = g("cpu");
    let cg = |k: &str| c.and_then(|c| c.get(k));
    for (k, f) in [
        ("realtimeRuntime", &b"linux.resources.cpu.realtimeRuntime"[..]),
        ("realtimePeriod", b"linux.resources.cpu.realtimePeriod"),
        ("idle", b"linux.resources.cpu.idle"),
    ] {
        if set(cg(k)) && cg(k).and_then(|v| v.as_i64()) != Some(0) {
            return refuse(f, b"not supported");
        }
    }
    let mut res = Resources {
        cg: cgroup::res::Resources {
            cpus: list(cg("cpus"), b"linux.resources.cpu.cpus")?,
            mems: list(cg("mems"), b"linux.resources.cpu.mems")?,
            ..cgroup::res::Resources::NONE
        },
        unified: g("unified").filter(|u| set(Some(*u))),
    };
    for (field, k, neg) in NUMS {
        let (obj, key) = field["linux.resources.".len()..].split_once('.').unwrap_or_default();
        let Some(v) = g(obj).and_then(|o| o.get(key)).filter(|v| !v.is_null()) else { continue };
        res.cg.num[k as usize] = match v.as_i64() {
            // disableOOMKiller: a switch, 1 when on.
            _ if k == Knob::NoOom => v.as_bool().filter(|&b| b).map(|_| 1),
            // pids: 0 or less is unlimited (runtime-spec).
            Some(n) if k == Knob::Pids => Some(if n <= 0 { -1 } else { n }),
            Some(n) if n < 0 && !neg => return refuse(field.as_bytes(), b"must not be negative"),
            Some(n) => Some(n),
            None => return refuse(field.as_bytes(), b"not an integer"),
        };
    }
    for d in g("devices").into_iter().flat_map(|d| d.items()) {
        let bad = super::config::Refusal { field: b"linux.resources.devices", why: b"malformed rule" };
        let ty = match d.get("type").and_then(|t| t.as_bytes()) {
            None | Some(b"a") => Type::All,
            Some(b"c") => Type::Char,
            Some(b"b") => Type::Block,
            _ => return Err(bad),
        };
        let id = |k: &str| match d.get(k).filter(|v| !v.is_null()).map(|v| v.as_i64()) {
            None | Some(Some(-1)) => Ok(None),
            Some(Some(n)) if (0..=u32::MAX as i64).contains(&n) => Ok(Some(n as u32)),
            _ => Err(bad),
        };
        let access = match d.get("access").and_then(|a| a.as_bytes()) {
            None | Some(b"") => devices::RWM,
            Some(a) => devices::parse_access(a).ok_or(bad)?,
        };
        let allow = d.get("allow").and_then(|a| a.as_bool()).ok_or(bad)?;
        let rule = Rule { ty, major: id("major")?, minor: id("minor")?, access, allow };
        rules.push(rule).map_err(|why| super::config::Refusal { field: b"linux.resources.devices", why })?;
    }
    Ok(res)
}

/// Appends runc's always-allowed nodes and one rule per linux.devices
/// node, after the config's rules (the last match wins).
pub fn default_rules(linux: Option<Value>, rules: &mut Policy) -> CRes<()> {
    let full = |why| super::config::Refusal { field: b"linux.resources.devices", why };
    for r in devices::DOCKER_DEFAULT {
        rules.push(r).map_err(full)?;
    }
    for d in linux.and_then(|l| l.get("devices")).into_iter().flat_map(|d| d.items()) {
        let ty = match d.get("type").and_then(|t| t.as_bytes()) {
            Some(b"b") => Type::Block,
            Some(b"c") | Some(b"u") => Type::Char,
            _ => continue,
        };
        let n = |k: &str| d.get(k).and_then(|v| v.as_u32());
        rules.push(Rule::allow(ty, n("major"), n("minor"), devices::RWM)).map_err(full)?;
    }
    Ok(())
}

/// The container's cgroups, made.
pub struct Made {
    /// Per hierarchy: the cgroup's fd, whether it is v2, its controllers.
    pub cg: [(Fd, bool, Need); NCTRL],
    pub n: usize,
    /// The join file of each (tasks / cgroup.procs), opened for the child.
    pub joins: [Fd; NCTRL],
    /// Their absolute paths, NUL-separated (for the state record).
    pub paths: [u8; 4096],
    pub plen: usize,
}

impl Made {
    pub fn child_fds(&self) -> ChildFds {
        let mut c = ChildFds::NONE;
        c.join[..self.n].copy_from_slice(&self.joins[..self.n]);
        c
    }

    /// Closes the fds (the cgroups stay).
    pub fn close(&mut self) {
        for i in 0..self.n {
            sys::close(self.cg[i].0);
            sys::close(self.joins[i]);
        }
        self.n = 0;
    }

    /// Removes the cgroups (a failed create).
    pub fn remove(&mut self) {
        self.close();
        for d in self.paths[..self.plen].split(|&c| c == 0).filter(|d| !d.is_empty()) {
            let _ = sys::rmdirat(sys::CWD, d);
        }
        self.plen = 0;
    }
}

/// A one-line failure: what, and why.
pub type Fail = (&'static [u8], &'static [u8]);

fn why(e: Errno) -> &'static [u8] {
    sys::strerror(e)
}

/// mkdir -p of the cgroup directory `abs`, the levels after byte `from`
/// (the '/' that starts the first one that may be missing), preparing each
/// level for the next: v2 controllers enabled, v1 cpuset values copied down
/// (`cpuset`: this is the v1 cpuset hierarchy).
fn make_levels(abs: &[u8], from: usize, v2: bool, cpuset: bool, need: &Need) -> Result<(), Fail> {
    let mut i = from;
    loop {
        let end = abs[i + 1..].iter().position(|&c| c == b'/').map_or(abs.len(), |p| i + 1 + p);
        let level = &abs[..end];
        let parent = &abs[..i.max(1)];
        let pfd = open_dir(sys::CWD, parent).map_err(|e| (&b"opening a parent cgroup"[..], why(e)))?;
        let r = (|| {
            if v2 {
                // Only the level above the container's needs them for the
                // container; every level above that for the one below.
                cgroup::v2::enable(pfd, need, false).map_err(|f| (f.what, f.why.unwrap_or(b"cannot enable controllers")))?;
            }
            let name = &level[i + 1..];
            match sys::mkdirat(pfd, name) {
                Ok(()) | Err(Errno(libc::EEXIST)) => {}
                Err(e) => return Err((&b"creating a cgroup"[..], why(e))),
            }
            if cpuset {
                let fd = open_dir(pfd, name).map_err(|e| (&b"opening a cgroup"[..], why(e)))?;
                let r = cgroup::v1::inherit(pfd, b"cpuset.mems", fd, b"cpuset.mems")
                    .and_then(|_| cgroup::v1::inherit(pfd, b"cpuset.cpus", fd, b"cpuset.cpus"));
                sys::close(fd);
                r.map_err(|f| (f.what, f.why.unwrap_or(b"cannot copy cpuset")))?;
            }
            Ok(())
        })();
        sys::close(pfd);
        r?;
        if end == abs.len() {
            return Ok(());
        }
        i = end;
    }
}

/// Writes the resources into the cgroup `cg` (one hierarchy): the limits
/// through the one cgroup writer, then, on v2, `unified` as given.
pub(super) fn write(cg: Fd, v2: bool, ctrls: &Need, r: &Resources, policy: &Policy) -> Result<(), Fail> {
    cgroup::res::write(cg, v2, ctrls, &r.cg, policy).map_err(|f| (f.file, f.why.unwrap_or(why(f.errno))))?;
    if let (true, Some(u)) = (v2, r.unified) {
        for (k, v) in u.members() {
            let (Some(val), true) = (v.as_bytes(), !k.as_bytes().contains(&b'/') && k.as_bytes().first() != Some(&b'.')) else {
                return Err((b"linux.resources.unified", b"a key must be a cgroup file name and its value a string"));
            };
            let mut name = [0u8; 256];
            let n = join(&mut name, &[k.as_bytes()]);
            let fd = sys::openat(cg, &name[..n], libc::O_WRONLY).map_err(|e| (&b"linux.resources.unified"[..], why(e)))?;
            let r = sys::write_all(fd, val);
            sys::close(fd);
            r.map_err(|e| (&b"linux.resources.unified"[..], why(e)))?;
        }
    }
    Ok(())
}

/// Makes the container's cgroups at `path` with `r` and `policy`.
#[inline(never)]
pub fn make(path: &[u8], r: &Resources, policy: &Policy) -> Result<Made, Fail> {
    let need = r.cg.need(!policy.rules().is_empty());
    let mut l = cgroup::Layout::new();
    cgroup::discover(&mut l, &[true; NCTRL]).map_err(|f| (f.what, f.why.unwrap_or(b"cgroup discovery failed")))?;
    let mut m = Made { cg: [(-1, false, [false; NCTRL]); NCTRL], n: 0, joins: [-1; NCTRL], paths: [0; 4096], plen: 0 };
    let abs = path.starts_with(b"/");
    // One hierarchy per controller that exists (pids first: ps and kill
    // --all read the first directory), each made once; the freezer's too,
    // for pause (on v2 every cgroup has its files).
    let order = [Ctrl::Pids, Ctrl::Memory, Ctrl::Cpu, Ctrl::Cpuset, Ctrl::Devices, Ctrl::Freezer];
    for c in order {
        let mut one = [false; NCTRL];
        one[c as usize] = true;
        let t = match l.targets(&one, if abs { Some(b"/") } else { None }) {
            Ok(t) => t.t[0],
            Err(_) if !need[c as usize] => continue,
            Err(f) => {
                m.remove();
                return Err((f.what, f.why.unwrap_or(b"controller not available")));
            }
        };
        if let Some(k) = m.cg[..m.n].iter().position(|x| x.1 == t.v2 && t.v2) {
            // cgroup2 holds every controller: one cgroup.
            m.cg[k].2[c as usize] = true;
            continue;
        }
        let mut p = [0u8; 2200];
        let rel = t.rel;
        let sep: &[u8] = if rel.is_empty() { b"" } else { b"/" };
        let body = path.strip_prefix(b"/").unwrap_or(path);
        let n = join(&mut p, &[t.mount, b"/", rel, sep, body]);
        if n >= p.len() - 1 || m.plen + n + 1 > m.paths.len() {
            m.remove();
            return Err((b"linux.cgroupsPath", b"too long"));
        }
        if let Some(k) = m.paths[..m.plen].split(|&b| b == 0).position(|d| d == &p[..n]) {
            // Co-mounted controllers (cpu,cpuacct) share one directory.
            m.cg[k].2[c as usize] = true;
            continue;
        }
        let from = t.mount.len() + if rel.is_empty() { 0 } else { 1 + rel.len() };
        let mut n_all = need;
        n_all[Ctrl::Devices as usize] = false;
        let cpuset = !t.v2 && t.ctrls[Ctrl::Cpuset as usize];
        if let Err(f) = make_levels(&p[..n], from, t.v2, cpuset, &n_all) {
            m.remove();
            return Err(f);
        }
        m.paths[m.plen..m.plen + n].copy_from_slice(&p[..n]);
        m.plen += n + 1;
        let cg = match open_dir(sys::CWD, &p[..n]) {
            Ok(fd) => fd,
            Err(e) => {
                m.remove();
                return Err((b"opening the container cgroup", why(e)));
            }
        };
        let mut ctrls = [false; NCTRL];
        ctrls[c as usize] = true;
        m.cg[m.n] = (cg, t.v2, ctrls);
        m.n += 1;
    }
    for i in 0..m.n {
        let (cg, v2, ctrls) = m.cg[i];
        let mut ctrls = ctrls;
        for c in CTRLS {
            ctrls[c as usize] &= need[c as usize];
        }
        let res = write(cg, v2, &ctrls, r, policy).and_then(|_| {
            let file: &[u8] = if v2 { b"cgroup.procs" } else { b"tasks" };
            sys::openat(cg, file, libc::O_WRONLY).map_err(|e| (&b"opening the cgroup's join file"[..], why(e)))
        });
        match res {
            Ok(fd) => m.joins[i] = fd,
            Err(f) => {
                m.remove();
                return Err(f);
            }
        }
    }
    Ok(m)
}
