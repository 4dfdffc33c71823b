//! `update --resources FILE|- ID`: new cgroup limits for a live container,
//! as containerd (`ctr task update`, CRI UpdateContainerResources: CPU
//! manager, in-place resize), CRI-O and `podman update` ask for them with a
//! runtime-spec LinuxResources object (`-`: on stdin). The same reader and
//! writer as create (oci::cgroups): only what the object sets is written,
//! into the container's existing cgroups (Record.cgroup_dirs), each file in
//! the hierarchy that has it. Device rules are create's business: ignored
//! here, as runc does.
use super::cgroups;
use super::flags::{self, Flags};
use super::state::{self, Status};
use super::{ctl, fail, fail1, fail3, fail_e, Global};
use crate::cgroup::{has, CTRLS, NCTRL};
use crate::cli::Args;
use crate::devices::Policy;
use crate::json;
use crate::sys::{self, Map};

/// The largest LinuxResources object read from stdin.
const STDIN_MAX: usize = 1 << 20;

/// One file per controller that exists only where the controller is
/// enabled, for the controllers Ctrl 0..4 (memory, cpu, cpuset, pids): in
/// v1 and in v2.
const PROBE_V1: &[u8] = b"memory.limit_in_bytes cpu.shares cpuset.cpus pids.max";
const PROBE_V2: &[u8] = b"memory.max cpu.weight cpuset.cpus pids.max";

pub fn update(g: &Global, args: &dyn Args, from: usize) -> i32 {
    const F: Flags = Flags { names: b"resources r", takes: 1 };
    let parsed = flags::parse(args, from, F);
    let p = match &parsed {
        Ok(p) => p,
        Err(b) => return fail(&[b.why, b": ", b.arg, b" (mydocker takes the limits as --resources FILE|-)"]),
    };
    let ([id], Some(src)) = (p.positional(), p.vals[0]) else {
        return fail1(b"usage: update --resources FILE|- ID");
    };
    let mut buf = [0u8; 16384];
    let opened = ctl::open(g, id, &mut buf, false);
    let o = match &opened {
        Ok(o) => o,
        Err(code) => return *code,
    };
    if state::status(o.dir, &o.rec) == Status::Stopped {
        return fail1(b"container not running");
    }
    // The object: the file, or stdin read into a mapping.
    let mut stdin_map;
    let mut nodes = None;
    let doc = if src == b"-" {
        stdin_map = match Map::new(STDIN_MAX, false) {
            Ok(m) => m,
            Err(e) => return fail_e(b"--resources -", e),
        };
        // The bytes as mapped (zero pages, none touched before the read).
        let Some((_, _, b)) = stdin_map.split(0, 0) else { return fail1(b"--resources -: no memory") };
        let text = match sys::read_full(0, b) {
            Ok(n) if n < STDIN_MAX => &mut b[..n],
            Ok(_) => return fail1(b"--resources -: larger than 1 MiB"),
            Err(e) => return fail_e(b"--resources -", e),
        };
        super::exec::parse_json(text, &mut nodes)
    } else {
        super::exec::load(src, &mut nodes)
    };
    let doc = match doc {
        Ok(d) => d,
        Err(u) => return u.report(b"--resources ", src),
    };
    if doc.root().kind() != json::Kind::Obj {
        return fail1(b"--resources: not a JSON object");
    }
    let mut ignored = Policy::new();
    let res = cgroups::resources_of(Some(doc.root()), &mut ignored);
    let r = match &res {
        Ok(r) => r,
        Err(x) => return x.report(b""),
    };
    if r.cg.cpus.is_some() && crate::cgroup::res::online_cpus(b"update", b"cpu.cpus", r.cg.cpus).is_none() {
        return 1;
    }
    let need = r.cg.need(false);
    let mut done = [false; NCTRL];
    let each = super::pause::each_dir(&o.rec, &mut |dir| {
        let v2 = has(dir, b"cgroup.controllers");
        let mut here = [false; NCTRL];
        for c in 0..4 {
            here[c] = need[c] && has(dir, crate::words::nth(if v2 { PROBE_V2 } else { PROBE_V1 }, c));
            done[c] |= here[c];
        }
        cgroups::write(dir, v2, &here, &r, &ignored)
    });
    if let Err(code) = each {
        return code;
    }
    for &c in CTRLS.iter() {
        if need[c as usize] && !done[c as usize] {
            return fail3(b"the container has no ", c.name(), b" cgroup");
        }
    }
    0
}
