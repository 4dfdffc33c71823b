//! `pause` and `resume`: every task of the container frozen or thawed
//! through its cgroups' freezer (v1 `freezer.state`, v2 `cgroup.freeze`;
//! cgroup::freeze). runc's rules: pause needs a created or running
//! container, resume a paused one; `state` then says `paused`.
use super::ctl;
use super::flags;
use super::state::{self, Status};
use super::{fail, fail1, fail_io, Global};
use crate::cgroup::freeze;
use crate::cli::Args;
use crate::sys::{self, Fd};

pub fn pause(g: &Global, args: &dyn Args, from: usize) -> i32 {
    set(g, args, from, true)
}

pub fn resume(g: &Global, args: &dyn Args, from: usize) -> i32 {
    set(g, args, from, false)
}

fn set(g: &Global, args: &dyn Args, from: usize, on: bool) -> i32 {
    let id = match ctl::one_id(args, from, flags::NONE) {
        Ok((id, _)) => id,
        Err(code) => return code,
    };
    let mut buf = [0u8; 16384];
    let opened = ctl::open(g, id, &mut buf, false);
    let o = match &opened {
        Ok(o) => o,
        Err(code) => return *code,
    };
    // A delete under way holds this lock until the container is gone: the
    // status read after it is "stopped" then, never a dying container to
    // freeze after delete's thaw (ctl::delete). Let go when `dir` closes.
    let _ = sys::flock(o.dir, libc::LOCK_EX);
    match (on, state::status(o.dir, &o.rec)) {
        (true, Status::Running | Status::Created) | (false, Status::Paused) => {}
        (true, Status::Paused) => return fail1(b"container already paused"),
        (false, Status::Running | Status::Created) => return fail1(b"container not paused"),
        (_, Status::Stopped) => return fail1(b"container not running"),
    }
    // create made a cgroup in the v1 freezer hierarchy where there is one.
    // The first freezer only: a hybrid host's cgroup2 (recorded after the
    // v1 ones) has cgroup.freeze too, which runc leaves alone there.
    let mut done = 0;
    let r = each_dir(&o.rec, &mut |dir| match freeze::kind(dir) {
        Some(k) if done == 0 => {
            done += 1;
            freeze::set(dir, k, on, freeze::TRIES).map_err(|f| (f.file(), f.reason()))
        }
        _ => Ok(()),
    });
    if let Err(code) = r {
        return code;
    }
    if done == 0 {
        return fail1(b"the container has no freezer cgroup: create made none (no cgroup v1 freezer hierarchy then, or an older mydocker)");
    }
    0
}

/// Thaws every frozen cgroup of the container (after a SIGKILL: a task
/// frozen by the v1 freezer dies only once thawed). Best effort.
pub fn thaw_all(rec: &state::Record) {
    for d in rec.cgroup_dirs() {
        let Ok(dir) = crate::cgroup::open_dir(sys::CWD, d) else { continue };
        if let Some(k) = freeze::kind(dir) {
            if freeze::frozen(dir, k) != Ok(false) {
                let _ = freeze::set(dir, k, false, freeze::TRIES);
            }
        }
        sys::close(dir);
    }
}

/// Calls `f` with each of the container's cgroup directories, open; a
/// failure (which file, why) becomes the one-line error naming the
/// directory.
pub(super) fn each_dir(
    rec: &state::Record,
    f: &mut dyn FnMut(Fd) -> Result<(), (&'static [u8], &'static [u8])>,
) -> Result<(), i32> {
    for d in rec.cgroup_dirs() {
        let dir = match crate::cgroup::open_dir(sys::CWD, d) {
            Ok(dir) => dir,
            Err(e) => return Err(fail_io(b"cgroup ", d, e)),
        };
        let r = f(dir);
        sys::close(dir);
        if let Err((file, why)) = r {
            return Err(fail(&[d, b"/", file, b": ", why]));
        }
    }
    Ok(())
}
