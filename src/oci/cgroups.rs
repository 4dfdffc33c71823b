//! linux.cgroupsPath and linux.resources: the container's cgroup at that
//! path in every hierarchy (the v1 ones of memory, cpu, cpuset, pids and
//! devices that exist, or cgroup2), with the resources written before any
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
use crate::cgroup::{self, join, open_dir, write_file, ChildFds, Ctrl, Need, CTRLS, NCTRL};
use crate::devices::{self, Policy, Rule, Type};
use crate::json::Value;
use crate::limits::Dec;
use crate::sys::{self, Errno, Fd};

/// linux.resources, as far as mydocker applies them.
#[derive(Clone, Copy)]
pub struct Resources<'a> {
    /// Bytes; -1 = unlimited.
    pub memory: Option<i64>,
    pub reservation: Option<i64>,
    /// memory + swap, bytes (v1 memsw; v2 swap.max = swap - memory).
    pub swap: Option<i64>,
    pub swappiness: Option<u64>,
    /// disableOOMKiller: v1 memory.oom_control (v2 has no such switch).
    pub no_oom: bool,
    pub shares: Option<u64>,
    pub quota: Option<i64>,
    pub period: Option<u64>,
    pub cpus: Option<&'a [u8]>,
    pub mems: Option<&'a [u8]>,
    pub pids: Option<i64>,
    /// cgroup v2 files and values, written as given.
    pub unified: Option<Value<'a>>,
}

fn num(v: Option<Value>, field: &'static [u8]) -> CRes<Option<i64>> {
    match v.filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or(super::config::Refusal { field, why: b"not an integer" }),
    }
}

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
    let m = g("memory");
    let mg = |k: &str| m.and_then(|m| m.get(k));
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
    let u = |v: Option<i64>, f: &'static [u8]| match v {
        Some(n) if n < 0 => refuse(f, b"must not be negative"),
        v => Ok(v.map(|n| n as u64)),
    };
    let res = Resources {
        memory: num(mg("limit"), b"linux.resources.memory.limit")?,
        reservation: num(mg("reservation"), b"linux.resources.memory.reservation")?,
        swap: num(mg("swap"), b"linux.resources.memory.swap")?,
        swappiness: u(num(mg("swappiness"), b"linux.resources.memory.swappiness")?, b"linux.resources.memory.swappiness")?,
        no_oom: mg("disableOOMKiller").and_then(|v| v.as_bool()) == Some(true),
        shares: u(num(cg("shares"), b"linux.resources.cpu.shares")?, b"linux.resources.cpu.shares")?,
        quota: num(cg("quota"), b"linux.resources.cpu.quota")?,
        period: u(num(cg("period"), b"linux.resources.cpu.period")?, b"linux.resources.cpu.period")?,
        cpus: list(cg("cpus"), b"linux.resources.cpu.cpus")?,
        mems: list(cg("mems"), b"linux.resources.cpu.mems")?,
        pids: num(g("pids").and_then(|p| p.get("limit")), b"linux.resources.pids.limit")?,
        unified: g("unified").filter(|u| set(Some(*u))),
    };
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

/// Which controllers the resources need (they must exist); devices when
/// there is a policy.
pub(super) fn needed(r: &Resources, devices: bool) -> Need {
    let mut n = [false; NCTRL];
    n[Ctrl::Memory as usize] =
        r.memory.is_some() || r.reservation.is_some() || r.swap.is_some() || r.swappiness.is_some() || r.no_oom;
    n[Ctrl::Cpu as usize] = r.shares.is_some() || r.quota.is_some() || r.period.is_some();
    n[Ctrl::Cpuset as usize] = r.cpus.is_some() || r.mems.is_some();
    n[Ctrl::Pids as usize] = r.pids.is_some();
    n[Ctrl::Devices as usize] = devices;
    n
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

/// Writes the resources into the cgroup `cg` (one hierarchy).
pub(super) fn write(cg: Fd, v2: bool, ctrls: &Need, r: &Resources, policy: &Policy) -> Result<(), Fail> {
    let has = |c: Ctrl| ctrls[c as usize];
    let w = |file: &'static [u8], v: &[u8]| write_file(cg, file, v).map_err(|e| (file, why(e)));
    // A value, or "unlimited" as the version spells it (v1 -1, v2 max).
    let lim = |v: i64, b: &mut [u8; 24]| -> usize {
        let dec = Dec::new(v.max(0) as u64);
        join(b, &[if v >= 0 { dec.as_bytes() } else if v2 { b"max" } else { b"-1" }])
    };
    let mut b = [0u8; 24];
    if has(Ctrl::Devices) {
        let only = { let mut n = [false; NCTRL]; n[Ctrl::Devices as usize] = true; n };
        let none = crate::cli::Limits::NONE;
        let done = if v2 { cgroup::v2::limits(cg, &only, &none, policy) } else { cgroup::v1::limits(cg, cg, &only, &none, policy) };
        done.map_err(|f| (f.what, f.why.unwrap_or(b"cannot set the device policy")))?;
    }
    if has(Ctrl::Cpuset) {
        // mems before cpus: the order the kernel demands on v1.
        if let Some(m) = r.mems {
            w(b"cpuset.mems", m)?;
        }
        if let Some(c) = r.cpus {
            w(b"cpuset.cpus", c)?;
        }
    }
    if has(Ctrl::Memory) {
        if v2 {
            if let Some(m) = r.memory {
                let n = lim(m, &mut b);
                w(b"memory.max", &b[..n])?;
            }
            if let Some(m) = r.reservation {
                let n = lim(m, &mut b);
                w(b"memory.low", &b[..n])?;
            }
            if let Some(s) = r.swap {
                // OCI's swap is memory + swap; v2 counts swap alone.
                let n = match (s, r.memory) {
                    (s, Some(m)) if s >= 0 && m >= 0 => lim((s - m).max(0), &mut b),
                    (s, _) => lim(s, &mut b),
                };
                match w(b"memory.swap.max", &b[..n]) {
                    Err((_, e)) if e == sys::strerror(Errno(libc::ENOENT)) => {}
                    r => r?,
                }
            }
        } else {
            if let Some(m) = r.memory {
                let n = lim(m, &mut b);
                w(b"memory.limit_in_bytes", &b[..n])?;
            }
            if let Some(m) = r.reservation {
                let n = lim(m, &mut b);
                w(b"memory.soft_limit_in_bytes", &b[..n])?;
            }
            if let Some(s) = r.swap {
                // Absent without swap accounting.
                let n = lim(s, &mut b);
                match write_file(cg, b"memory.memsw.limit_in_bytes", &b[..n]) {
                    Ok(()) | Err(Errno(libc::ENOENT)) => {}
                    Err(e) => return Err((b"memory.memsw.limit_in_bytes", why(e))),
                }
            }
            if let Some(s) = r.swappiness {
                w(b"memory.swappiness", Dec::new(s).as_bytes())?;
            }
            if r.no_oom {
                w(b"memory.oom_control", b"1")?;
            }
        }
    }
    if has(Ctrl::Cpu) {
        if v2 {
            if let Some(s) = r.shares {
                w(b"cpu.weight", Dec::new(crate::limits::shares_to_weight(s)).as_bytes())?;
            }
            if r.quota.is_some() || r.period.is_some() {
                let mut v = [0u8; 48];
                let q = r.quota.unwrap_or(-1);
                let n = lim(q, &mut b);
                let p = Dec::new(r.period.unwrap_or(100_000));
                let m = join(&mut v, &[&b[..n], b" ", p.as_bytes()]);
                w(b"cpu.max", &v[..m])?;
            }
        } else {
            if let Some(s) = r.shares {
                w(b"cpu.shares", Dec::new(s).as_bytes())?;
            }
            if let Some(p) = r.period {
                w(b"cpu.cfs_period_us", Dec::new(p).as_bytes())?;
            }
            if let Some(q) = r.quota {
                let n = lim(q, &mut b);
                w(b"cpu.cfs_quota_us", &b[..n])?;
            }
        }
    }
    if let (true, Some(p)) = (has(Ctrl::Pids), r.pids) {
        let n = lim(if p <= 0 { -1 } else { p }, &mut b);
        w(b"pids.max", &b[..n])?;
    }
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
    let devices = !policy.rules().is_empty();
    let need = needed(r, devices);
    let mut l = cgroup::Layout::new();
    cgroup::discover(&mut l, &[true; NCTRL]).map_err(|f| (f.what, f.why.unwrap_or(b"cgroup discovery failed")))?;
    let mut m = Made { cg: [(-1, false, [false; NCTRL]); NCTRL], n: 0, joins: [-1; NCTRL], paths: [0; 4096], plen: 0 };
    let abs = path.starts_with(b"/");
    // One hierarchy per controller that exists (pids first: ps and kill
    // --all read the first directory), each made once.
    let order = [Ctrl::Pids, Ctrl::Memory, Ctrl::Cpu, Ctrl::Cpuset, Ctrl::Devices];
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
