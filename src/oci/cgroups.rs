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
use super::config::{refuse, set, Fields, Res as CRes};
use crate::cgroup::res::Knob;
use crate::cgroup::{self, join, ChildFds, Ctrl, Need, CTRLS, NCTRL};
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

/// linux.resources numbers, in Knob order (packed as config::SHAPES: the
/// object and the key come from the field's path), and which of them may
/// be negative (-1: unlimited), a bit per Knob.
const NUMS: &[u8] = b"0linux.resources.memory.limit:n 3reservation:n 3swap:n 3swappiness:n 3disableOOMKiller:b \
2cpu.shares:n 3period:n 3quota:n 3burst:n 2pids.limit:n";
const NEG: u32 = 1 << Knob::Memory as u32
    | 1 << Knob::Reservation as u32
    | 1 << Knob::Swap as u32
    | 1 << Knob::Quota as u32
    | 1 << Knob::Pids as u32;
/// The knobs whose 0 means "not set", as runc reads them (Go's zero value:
/// it writes memory, reservation, swap, shares, period and quota only when
/// non-zero).
const ZERO_UNSET: u32 = 1 << Knob::Memory as u32
    | 1 << Knob::Reservation as u32
    | 1 << Knob::Swap as u32
    | 1 << Knob::Shares as u32
    | 1 << Knob::Period as u32
    | 1 << Knob::Quota as u32;

/// The value at `field` ("linux.resources.x.y") of the LinuxResources
/// object `r`; None when absent or null.
fn at<'a>(r: Option<Value<'a>>, field: &[u8]) -> Option<Value<'a>> {
    let mut v = r?;
    for k in field["linux.resources.".len()..].split(crate::words::on(b'.')) {
        v = v.get_bytes(k)?;
    }
    Some(v).filter(|v| !v.is_null())
}

/// A CPU or memory-node list ("0-2,5"); empty is unset.
fn list<'a>(r: Option<Value<'a>>, field: &'static [u8]) -> CRes<Option<&'a [u8]>> {
    match at(r, field).map(|v| v.as_bytes()) {
        None => Ok(None),
        Some(Some(b)) if b.is_empty() => Ok(None),
        Some(Some(b)) if b.iter().all(|c| c.is_ascii_digit() || *c == b'-' || *c == b',') => Ok(Some(b)),
        _ => refuse(field, b"not a CPU or node list"),
    }
}

/// What mydocker cannot apply (packed as config::SHAPES); the cpu ones
/// (after the first 3) may be 0, the same as unset.
const UNSUPPORTED: &[u8] = b"0linux.resources.blockIO:o 2network:a 2rdma:o 2cpu.realtimeRuntime:n 3realtimePeriod:n 3idle:n";

/// Reads linux.resources; device rules into `rules` (config's first, then
/// runc's defaults and an allow for each linux.devices node, so what the
/// runtime makes is usable).
pub fn resources<'a>(linux: Option<Value<'a>>, rules: &mut Policy) -> CRes<Resources<'a>> {
    resources_of(linux.and_then(|l| l.get("resources")), rules)
}

/// A LinuxResources object itself (config.json's linux.resources, or what
/// `update --resources` reads).
pub fn resources_of<'a>(r: Option<Value<'a>>, rules: &mut Policy) -> CRes<Resources<'a>> {
    let mut buf = [0u8; 64];
    let mut f = Fields::new(UNSUPPORTED, &mut buf);
    let mut i = 0;
    while let Some((field, _)) = f.next() {
        let v = at(r, f.path());
        if set(v) && (i < 3 || v.and_then(|v| v.as_i64()) != Some(0)) {
            return refuse(field, b"not supported");
        }
        i += 1;
    }
    // memory.kernel and kernelTCP are deprecated in the spec and gone from
    // kernels since 5.x/6.x: accepted and not applied, as runc and crun do.
    let unified = at(r, b"linux.resources.unified");
    let mut res = Resources {
        cg: cgroup::res::Resources {
            cpus: list(r, b"linux.resources.cpu.cpus")?,
            mems: list(r, b"linux.resources.cpu.mems")?,
            ..cgroup::res::Resources::NONE
        },
        unified: unified.filter(|_| set(unified)),
    };
    // runc's rule: cgroup v2 files only on a cgroup v2 host (a hybrid one
    // counts as v1), else a limit asked for would be dropped.
    if res.unified.is_some() && !sys::exists_nofollow(b"/sys/fs/cgroup/cgroup.controllers") {
        return refuse(b"linux.resources.unified", b"cannot use unified on cgroup v1");
    }
    let mut f = Fields::new(NUMS, &mut buf);
    let mut k = 0;
    while let Some((field, _)) = f.next() {
        k += 1;
        let k = k - 1;
        let Some(v) = at(r, f.path()) else { continue };
        res.cg.num[k] = match v.as_i64() {
            // disableOOMKiller: a switch, 1 when on.
            _ if k == Knob::NoOom as usize => v.as_bool().filter(|&b| b).map(|_| 1),
            // pids: 0 or less is unlimited (runtime-spec).
            Some(n) if k == Knob::Pids as usize => Some(if n <= 0 { -1 } else { n }),
            Some(0) if ZERO_UNSET & 1 << k != 0 => None,
            Some(n) if n < 0 && NEG & 1 << k == 0 => return refuse(field, b"must not be negative"),
            Some(n) => Some(n),
            None => return refuse(field, b"not an integer"),
        };
    }
    let Some(list) = at(r, b"linux.resources.devices") else { return Ok(res) };
    for d in list.items() {
        let bad = super::config::Refusal { field: b"linux.resources.devices", why: b"malformed rule" };
        let ty = match d.get("type").and_then(|t| t.as_bytes()) {
            None | Some(b"a") => Type::All,
            Some(b"c") => Type::Char,
            Some(b"b") => Type::Block,
            _ => return Err(bad),
        };
        // An absent or empty access is refused, as runc and crun do: it
        // is no "rwm" (a bare {"allow": true} would open every device).
        let why = b"access: one or more of r, w, m";
        let access = d.get("access").and_then(|a| a.as_bytes()).and_then(devices::parse_access).ok_or(super::config::Refusal { why, ..bad })?;
        let allow = d.get("allow").and_then(|a| a.as_bool()).ok_or(bad)?;
        let (Some(major), Some(minor)) = (dev_num(d, "major"), dev_num(d, "minor")) else { return Err(bad) };
        let rule = Rule { ty, major, minor, access, allow };
        rules.push(rule).map_err(|why| super::config::Refusal { field: b"linux.resources.devices", why })?;
    }
    Ok(res)
}

/// A rule's major or minor number: Some(None) for any (absent, null or
/// -1), None when malformed.
fn dev_num(d: Value, k: &str) -> Option<Option<u32>> {
    match d.get(k).filter(|v| !v.is_null()).map(|v| v.as_i64()) {
        None | Some(Some(-1)) => Some(None),
        Some(Some(n)) if (0..=u32::MAX as i64).contains(&n) => Some(Some(n as u32)),
        _ => None,
    }
}

/// Appends runc's always-allowed nodes and one rule per linux.devices
/// node, after the config's rules (the last match wins).
pub fn default_rules(linux: Option<Value>, rules: &mut Policy) -> CRes<()> {
    let full = |why| super::config::Refusal { field: b"linux.resources.devices", why };
    for r in devices::DOCKER_DEFAULT.iter() {
        rules.push(*r).map_err(full)?;
    }
    let Some(list) = linux.and_then(|l| l.get("devices")) else { return Ok(()) };
    for d in list.items() {
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
    pub n: usize,
    /// The join file of each (tasks / cgroup.procs), opened for the child.
    pub joins: [Fd; cgroup::MAX_HIER],
    /// Their absolute paths, NUL-separated (for the state record); one
    /// that was there before ends in '/', a cgroup2 one follows an empty
    /// entry (state::Record::cgroup_dirs_v2).
    pub paths: [u8; 4096],
    pub plen: usize,
    /// Where each path is appended before its cgroup is made (see `one`).
    log: Fd,
}

impl Made {
    pub fn child_fds(&self) -> ChildFds<'_> {
        ChildFds { join: &self.joins[..self.n] }
    }

    /// Closes the join files (the cgroups stay).
    pub fn close(&mut self) {
        for i in 0..self.n {
            sys::close(self.joins[i]);
        }
        self.n = 0;
    }

    /// Removes the cgroups (a failed create).
    pub fn remove(&mut self) {
        self.close();
        for d in self.paths[..self.plen].split(crate::words::on(0)).filter(|d| !d.is_empty() && !d.ends_with(b"/")) {
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

/// Writes the resources into the cgroup `cg` (one hierarchy): the limits
/// through the one cgroup writer, then, on v2, `unified` as given.
pub(super) fn write(cg: Fd, v2: bool, ctrls: &Need, r: &Resources, policy: &Policy) -> Result<(), Fail> {
    // A memory limit below the usage: EBUSY ("Resource busy") says why
    // only with the advice (runc: 'unable to set memory limit ...').
    cgroup::res::write(cg, v2, ctrls, &r.cg, policy)
        .map_err(|f| (f.file(), if f.errno.0 == libc::EBUSY && !f.advice().is_empty() { f.advice() } else { f.reason() }))?;
    if let (true, Some(u)) = (v2, r.unified) {
        for (k, v) in u.members() {
            let (Some(val), true) = (v.as_bytes(), !k.as_bytes().contains(&b'/') && k.as_bytes().first() != Some(&b'.')) else {
                return Err((b"linux.resources.unified", b"a key must be a cgroup file name and its value a string"));
            };
            let fd = sys::openat(cg, k.as_bytes(), libc::O_WRONLY).map_err(|e| (&b"linux.resources.unified"[..], why(e)))?;
            let r = sys::write_all(fd, val);
            sys::close(fd);
            r.map_err(|e| (&b"linux.resources.unified"[..], why(e)))?;
        }
    }
    Ok(())
}

/// Makes the container's cgroups at `path` with `r` and `policy`, each
/// path listed first in the file `cgroups` of the state directory `state`.
#[inline(never)]
pub fn make(path: &[u8], r: &Resources, policy: &Policy, state: Fd) -> Result<Made, Fail> {
    let log = sys::openat(state, b"cgroups", libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_APPEND)
        .map_err(|e| (&b"listing it in the state directory"[..], why(e)))?;
    let mut m = Made { n: 0, joins: [-1; cgroup::MAX_HIER], paths: [0; 4096], plen: 0, log };
    let done = fill(&mut m, path, r, policy);
    sys::close(log);
    match done {
        Ok(()) => Ok(m),
        Err(f) => {
            m.remove();
            Err(f)
        }
    }
}

fn fill(m: &mut Made, path: &[u8], r: &Resources, policy: &Policy) -> Result<(), Fail> {
    let need = r.cg.need(!policy.rules().is_empty());
    let mut l = cgroup::Layout::new();
    let no = |f: cgroup::Fail| (f.what(), f.why().unwrap_or(b"controller not available"));
    // Every hierarchy, those without our controllers too (`others`).
    l.all = true;
    cgroup::discover(&mut l, &[true; NCTRL]).map_err(no)?;
    let abs = path.starts_with(&b"/"[..]);
    let root: Option<&[u8]> = if abs { Some(b"/") } else { None };
    let mut body = path.strip_prefix(&b"/"[..]).unwrap_or(path);
    while let Some(b) = body.strip_suffix(b"/") {
        body = b;
    }
    // A cgroup in every hierarchy of mydocker's controllers there is (the
    // freezer's too, for pause; on v2 one holds them all): every one lists
    // every process (ps, kill --all). The controllers the resources need
    // must be there.
    let t = l.targets_of(&[true; NCTRL], &need, root).map_err(no)?;
    let mut v2 = false;
    for t in &t.t[..t.n] {
        // What this hierarchy has and the resources need: enabled at each
        // level on v2 (a hybrid host's cgroup2 may hold only the freezer),
        // then written.
        let mut here = t.ctrls;
        for &c in CTRLS.iter() {
            here[c as usize] &= need[c as usize];
        }
        let cpuset = !t.v2 && t.ctrls[Ctrl::Cpuset as usize];
        one(m, t.mount, t.rel, body, t.v2, cpuset, &here, r, policy)?;
        v2 |= t.v2;
    }
    others(m, &l, body, abs, v2, policy)
}

/// Makes the container's cgroup `<point>/<rel>/<body>` (`point`: a mount
/// point, as the Layout keeps it; `rel`: the parent below it),
/// records it in `m.paths`, writes the resources of `here` and opens its
/// join file for the child.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn one(m: &mut Made, point: &[u8], rel: &[u8], body: &[u8], v2: bool, cpuset: bool, here: &Need, r: &Resources, policy: &Policy) -> Result<(), Fail> {
    // The empty entry before a cgroup2 directory (paths start zeroed): exec
    // then opens its join file without probing for a v1 `tasks`.
    m.plen += v2 as usize;
    let at = m.plen;
    let out = &mut m.paths[at..];
    // What does not fit fills `out`, leaving no room for the rest: "too
    // long" below.
    let mut from = join(out, &[point]);
    if !rel.is_empty() {
        from += join(&mut out[from..], &[b"/", rel]);
    }
    let n = from + join(&mut out[from..], &[b"/", body]);
    if at + n + 2 >= m.paths.len() || m.n == cgroup::MAX_HIER {
        return Err((b"linux.cgroupsPath", b"too long, or too many cgroup hierarchies"));
    }
    // A cgroup already there may hold processes that are not the
    // container's: recorded with a trailing '/', it is neither removed by
    // a failed create nor emptied by killing at delete. Whose it is, only
    // the mkdir's own result tells (EEXIST: another's, made perhaps by a
    // create racing with this one since any look before it), so it is
    // listed as found until that mkdir succeeds.
    m.paths[at + n] = b'/';
    m.plen += n + 2;
    // Written down before it exists: a create killed from here on leaves
    // delete -f (what runc's clients run after a failed create) the list of
    // what to empty and remove, though the record never got written
    // (ctl::remove_unrecorded; a found one is removed when empty). The name
    // alone could not find it: it is random, below the caller's cgroup.
    sys::write_all(m.log, &m.paths[at..m.plen]).map_err(|e| (&b"listing it in the state directory"[..], why(e)))?;
    // mkdir -p of the levels below mount + rel, the last one by itself.
    let cut = m.paths[at..at + n].iter().rposition(|&c| c == b'/').unwrap_or(from);
    let parent = cgroup::descend(&m.paths[at..at + cut], from, true, v2, cpuset, here);
    let cg = parent
        .and_then(|parent| {
            // Its other errors come again from the mkdir in descend, said there.
            let made = sys::mkdirat(parent, &m.paths[at + cut + 1..at + n]).is_ok();
            sys::close(parent);
            if made {
                m.plen -= 1;
                m.paths[at + n] = 0;
                // Listed again, as ours. A failed write is no matter: a found
                // one is removed too when empty, as it is before anything joins.
                let _ = sys::write_all(m.log, &m.paths[at..m.plen]);
            }
            cgroup::descend(&m.paths[at..at + n], cut, true, v2, cpuset, here)
        })
        .map_err(|f| (f.what(), f.reason()))?;
    let join = write(cg, v2, here, r, policy)
        .and_then(|_| sys::openat(cg, cgroup::join_file(v2), libc::O_WRONLY).map_err(|e| (&b"opening the cgroup's join file"[..], why(e))));
    // Only the join file stays open (for the child).
    sys::close(cg);
    m.joins[m.n] = join?;
    m.n += 1;
    Ok(())
}

/// The container's cgroup, with no resources, in every other hierarchy
/// discovery found (`l`: reachable ones only): v1 ones without mydocker's
/// controllers (cpuacct, blkio, net_cls, perf_event, hugetlb,
/// name=systemd, ...) and, on a hybrid host, cgroup2 last (`v2`: fill made
/// one there already). runc joins them all (libcontainer/cgroups/fs: its
/// list ends with name=systemd, and "" for a hybrid host's cgroup2), so
/// what is read there — cpuacct.usage for podman stats, cadvisor and CRI
/// stats — is the container's own, not its caller's. `abs`: cgroupsPath is
/// absolute (from each mount's root), else below the caller's own cgroup
/// there. `policy`: only passed on (nothing is written).
fn others(m: &mut Made, l: &cgroup::Layout, body: &[u8], abs: bool, v2: bool, policy: &Policy) -> Result<(), Fail> {
    let v1 = l.others().iter().map(|o| (o.mount, Some(o.caller), false));
    let cgroup2 = (l.v2.filter(|_| !v2), l.caller_v2, true);
    for (mount, caller, is_v2) in v1.chain([cgroup2]) {
        let (Some(mount), Some(caller)) = (mount, caller) else { continue };
        let rel = if abs { Some(&b""[..]) } else { cgroup::relative(l.path(caller), l.path(mount.root)) };
        let Some(rel) = rel else {
            return Err((b"/proc/self/cgroup", b"the caller's cgroup is outside a hierarchy's mount"));
        };
        one(m, l.path(mount.point), rel, body, is_v2, false, &[false; NCTRL], &NO_RES, policy)?;
    }
    Ok(())
}

/// No resources: what `others` writes.
const NO_RES: Resources = Resources { cg: cgroup::res::Resources::NONE, unified: None };

#[cfg(test)]
mod tests {
    use super::*;

    /// resources_of's verdict on `json`: Ok, or the refused field's name and why.
    fn verdict(json: &str) -> Result<(), (String, String)> {
        let mut t = json.as_bytes().to_vec();
        let mut nodes = [crate::json::Node::EMPTY; 64];
        let doc = crate::json::parse(&mut t, &mut nodes).unwrap();
        let mut rules = Policy::new();
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        resources_of(Some(doc.root()), &mut rules).map(drop).map_err(|r| {
            let mut buf = [0u8; 64];
            (s(super::super::config::name(r.field, &mut buf)), s(r.why))
        })
    }

    #[test]
    fn refusals_name_the_resource_in_full() {
        let no = |f: &str, why: &str| Err((f.to_string(), why.to_string()));
        assert_eq!(verdict(r#"{"memory":{"limit":1048576,"swap":-1},"pids":{"limit":0}}"#), Ok(()));
        assert_eq!(verdict(r#"{"memory":{"reservation":-5}}"#), Ok(()), "may be negative");
        assert_eq!(verdict(r#"{"cpu":{"shares":-2}}"#), no("linux.resources.cpu.shares", "must not be negative"));
        assert_eq!(verdict(r#"{"cpu":{"period":-1}}"#), no("linux.resources.cpu.period", "must not be negative"));
        assert_eq!(verdict(r#"{"pids":{"limit":1.5}}"#), no("linux.resources.pids.limit", "not an integer"));
        assert_eq!(verdict(r#"{"memory":{"swappiness":"x"}}"#), no("linux.resources.memory.swappiness", "not an integer"));
        assert_eq!(verdict(r#"{"rdma":{"x":{}}}"#), no("linux.resources.rdma", "not supported"));
        assert_eq!(verdict(r#"{"cpu":{"idle":0}}"#), Ok(()), "a cpu one may be 0");
        assert_eq!(verdict(r#"{"cpu":{"realtimePeriod":5}}"#), no("linux.resources.cpu.realtimePeriod", "not supported"));
        assert_eq!(verdict(r#"{"cpu":{"cpus":"0-1,x"}}"#), no("linux.resources.cpu.cpus", "not a CPU or node list"));
    }
}
