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
use crate::sys::{self, Errno, Fd};

pub fn pause(g: &Global, args: &dyn Args, from: usize) -> i32 {
    set(g, args, from, true)
}

pub fn resume(g: &Global, args: &dyn Args, from: usize) -> i32 {
    set(g, args, from, false)
}

fn set(g: &Global, args: &dyn Args, from: usize, on: bool) -> i32 {
    let cmd: &[u8] = if on { b"pause" } else { b"resume" };
    let p = match flags::parse(args, from, flags::NONE) {
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
    // cgroup v1: create makes cgroups only in the hierarchies its limits
    // need; the freezer one is made the first time the container pauses.
    let mut rec_buf = [0u8; 16384];
    let mut rec = o.rec;
    if on && !o.rec.cgroup_dirs().any(|d| dir_kind(d).is_some()) {
        match adopt_freezer(o.dir, &o.rec, &mut rec_buf) {
            Ok(r) => rec = r,
            Err(why) => return fail(cmd, &[b"the container has no freezer cgroup: ", why]),
        }
    }
    let mut done = 0;
    for d in rec.cgroup_dirs() {
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
fn kind(dir: Fd) -> Option<Kind> {
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

/// Thaws every frozen cgroup of the container (after a SIGKILL: a task
/// frozen by the v1 freezer dies only once thawed). Best effort.
pub fn thaw_all(rec: &state::Record) {
    for d in rec.cgroup_dirs() {
        let Ok(dir) = crate::cgroup::open_dir(sys::CWD, d) else { continue };
        if let Some(k) = kind(dir) {
            if freeze::frozen(dir, k) != Ok(false) {
                let _ = freeze::set(dir, k, false, freeze::TRIES);
            }
        }
        sys::close(dir);
    }
}

fn dir_kind(d: &[u8]) -> Option<Kind> {
    let dir = crate::cgroup::open_dir(sys::CWD, d).ok()?;
    let k = kind(dir);
    sys::close(dir);
    k
}

/// The v1 freezer hierarchy's mount point and, for the cgroup directory
/// `d`, the mount point of its own hierarchy: (freezer, d's), written into
/// the two buffers; None where there is no freezer hierarchy.
fn mounts_for<'b>(d: &[u8], fz: &'b mut [u8; 512], own: &'b mut [u8; 512]) -> Option<(&'b [u8], &'b [u8])> {
    let (mut nf, mut no) = (0, 0);
    let mut line = [0u8; 4096];
    let _ = crate::cgroup::for_each_line(b"/proc/self/mountinfo", &mut line, &mut |l| {
        let Some(m) = crate::cgroup::parse_mountinfo_line(l) else { return };
        if m.fstype != b"cgroup" || m.mountpoint.len() > 511 {
            return;
        }
        if m.superopts.split(|&c| c == b',').any(|o| o == b"freezer") {
            fz[..m.mountpoint.len()].copy_from_slice(m.mountpoint);
            nf = m.mountpoint.len();
        }
        if d.starts_with(m.mountpoint) && d.get(m.mountpoint.len()) == Some(&b'/') && m.mountpoint.len() > no {
            own[..m.mountpoint.len()].copy_from_slice(m.mountpoint);
            no = m.mountpoint.len();
        }
    });
    (nf > 0 && no > 0).then(|| (&fz[..nf], &own[..no]))
}

/// Makes the container's cgroup in the v1 freezer hierarchy (at the path
/// it has in its other hierarchies), moves every task in, and records the
/// directory in the state, so that resume, state, exec and delete (which
/// removes it) see it. Tasks forked meanwhile by a task not yet moved are
/// caught by the next pass; one with nothing to move ends it.
fn adopt_freezer<'b>(dir: Fd, rec: &state::Record, buf: &'b mut [u8; 16384]) -> Result<state::Record<'b>, &'static [u8]> {
    use crate::cgroup::{join, read_file, write_file};
    let d = rec.cgroup_dirs().next().ok_or(&b"it has no cgroup at all"[..])?;
    let (mut fz, mut own) = ([0u8; 512], [0u8; 512]);
    let (fz, own) = mounts_for(d, &mut fz, &mut own).ok_or(&b"no cgroup v1 freezer hierarchy is mounted"[..])?;
    let mut path = [0u8; 4096];
    let n = join(&mut path, &[fz, &d[own.len()..]]);
    let fdir = &path[..n];
    // mkdir -p, level by level below the hierarchy's root; the levels made
    // here are recorded (deepest first, after the container's own) so that
    // delete removes them too.
    let mut made = [0usize; 32];
    let mut nmade = 0;
    for i in fz.len() + 1..=n {
        if i == n || fdir[i] == b'/' {
            match sys::mkdirat(sys::CWD, &fdir[..i]) {
                Ok(()) if i < n && nmade < made.len() => {
                    made[nmade] = i;
                    nmade += 1;
                }
                Ok(()) | Err(Errno(libc::EEXIST)) => {}
                Err(e) => return Err(sys::strerror(e)),
            }
        }
    }
    let src = crate::cgroup::open_dir(sys::CWD, d).map_err(|e| sys::strerror(e))?;
    let dst = crate::cgroup::open_dir(sys::CWD, fdir).map_err(|e| sys::strerror(e))?;
    let (mut a, mut b) = ([0u8; 8192], [0u8; 8192]);
    let mut r = Ok(());
    for _ in 0..100 {
        let (Ok(from), Ok(there)) = (read_file(src, b"cgroup.procs", &mut a), read_file(dst, b"cgroup.procs", &mut b)) else {
            r = Err(&b"cannot read cgroup.procs"[..]);
            break;
        };
        let mut moved = 0;
        for pid in from.split(|&c| c == b'\n').filter(|p| !p.is_empty()) {
            if !there.split(|&c| c == b'\n').any(|q| q == pid) {
                // ESRCH: it exited meanwhile.
                let _ = write_file(dst, b"cgroup.procs", pid);
                moved += 1;
            }
        }
        if moved == 0 {
            break;
        }
    }
    sys::close(src);
    sys::close(dst);
    r?;
    // The record again, with the new directory last.
    let mut dirs = [0u8; 8192];
    let mut m = join(&mut dirs, &[rec.cgroups, b"\0", fdir]);
    for &i in made[..nmade].iter().rev() {
        let k = join(&mut dirs[m..], &[b"\0", &fdir[..i]]);
        m += k;
    }
    let new = state::Record { cgroups: &dirs[..m], ..*rec };
    let len = new.encode(&mut buf[..]).ok_or(&b"state record too long"[..])?;
    state::write_atomic(dir, b"state", &buf[..len]).map_err(|e| sys::strerror(e))?;
    state::Record::decode(&buf[..len]).ok_or(&b"state record unreadable"[..])
}
