//! `pause` and `resume`: every task of the container frozen or thawed
//! through its cgroups' freezer (v1 `freezer.state`, v2 `cgroup.freeze`;
//! cgroup::freeze). runc's rules: pause needs a created or running
//! container, resume a paused one; `state` then says `paused`.
use super::ctl;
use super::flags;
use super::state::{self, Status};
use super::{fail, Global};
use crate::cgroup::freeze::{self, Kind};
use crate::cli::Args;
use crate::sys::{self, Errno};

pub fn pause(g: &Global, args: &dyn Args, from: usize) -> i32 {
    set(g, args, from, true)
}

pub fn resume(g: &Global, args: &dyn Args, from: usize) -> i32 {
    set(g, args, from, false)
}

fn set(g: &Global, args: &dyn Args, from: usize, on: bool) -> i32 {
    let cmd: &[u8] = if on { b"pause" } else { b"resume" };
    let p = match flags::parse(args, from, &[]) {
        Ok(p) => p,
        Err(b) => return fail(cmd, &[b.why, b": ", b.arg]),
    };
    let [id] = p.positional() else { return fail(cmd, &[b"usage: ", cmd, b" ID"]) };
    let mut buf = [0u8; 16384];
    let o = match ctl::open(g, id, &mut buf, cmd, false) {
        Ok(o) => o,
        Err(code) => return code,
    };
    match (on, state::status(o.dir, &o.rec)) {
        (true, Status::Running | Status::Created) | (false, Status::Paused) => {}
        (true, Status::Paused) => return fail(cmd, &[b"container already paused"]),
        (false, Status::Running | Status::Created) => return fail(cmd, &[b"container not paused"]),
        (_, Status::Stopped) => return fail(cmd, &[b"container not running"]),
    }
    let mut done = 0;
    for d in o.rec.cgroup_dirs() {
        let dir = match crate::cgroup::open_dir(sys::CWD, d) {
            Ok(dir) => dir,
            Err(e) => return fail(cmd, &[b"cgroup ", d, b": ", sys::strerror(e)]),
        };
        let r = match kind(dir) {
            Some(k) => freeze::set(dir, k, on, freeze::TRIES).map(|_| done += 1),
            None => Ok(()),
        };
        sys::close(dir);
        if let Err(f) = r {
            let why = f.why.unwrap_or(sys::strerror(f.errno));
            return fail(cmd, &[d, b"/", f.file, b": ", why]);
        }
    }
    if done == 0 {
        return fail(cmd, &[b"the container has no freezer cgroup"]);
    }
    0
}

/// Which freezer the cgroup directory has, if any: v1's freezer.state, or
/// v2's cgroup.freeze (absent in the v2 root and on kernels before 5.2).
fn kind(dir: crate::sys::Fd) -> Option<Kind> {
    let has = |f: &[u8]| match sys::openat(dir, f, libc::O_PATH) {
        Ok(fd) => {
            sys::close(fd);
            true
        }
        Err(Errno(_)) => false,
    };
    if has(b"freezer.state") {
        Some(Kind::V1)
    } else if has(b"cgroup.freeze") {
        Some(Kind::V2)
    } else {
        None
    }
}
