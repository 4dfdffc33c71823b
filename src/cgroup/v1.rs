//! cgroup v1: one directory per hierarchy (memory, cpu[,cpuacct], cpuset,
//! pids), limits as one file each.
use super::{fail, make, mkdir_shared, or_undo, read_file, write_file, Ctrl, Fail, Made, Need, Res};
use crate::cli::Limits;
use crate::limits::{quota_us, Dec, CFS_PERIOD_US};
use crate::sys::{self, Errno, Fd};

/// Copies a cpuset file into `to` when `to`'s is empty: a new v1 cpuset
/// group starts with empty cpus and mems, and no task may join it until both
/// are set (ENOSPC — the original mydocker's bug). `from` is read relative
/// to `dir`, so "mydocker/cpuset.mems" works without opening `mydocker`.
fn inherit(dir: Fd, from: &[u8], to_dir: Fd, to: &'static [u8]) -> Res<()> {
    let mut cur = [0u8; 4096];
    // (A missing file reads as empty: cgroupfs always has it; a test's fake tree may not.)
    let have = match read_file(to_dir, to, &mut cur) {
        Err(Errno(libc::ENOENT)) => &[][..],
        r => r.map_err(fail(b"reading", to))?,
    };
    if !have.iter().all(|c| c.is_ascii_whitespace()) {
        return Ok(());
    }
    let mut val = [0u8; 4096];
    let v = read_file(dir, from, &mut val).map_err(fail(b"reading the parent's", to))?;
    write_file(to_dir, to, v).map_err(fail(b"copying the parent's", to))
}

/// Creates `mydocker/<id>` under `parent` (a directory fd in one v1
/// hierarchy, owned from here on) with the limits of the controllers
/// `ctrls` names.
pub fn create(parent: Fd, id: &[u8], ctrls: &Need, l: &Limits) -> Res<Made> {
    let has = |c: Ctrl| ctrls[c as usize];
    let r = (|| {
        if has(Ctrl::Cpuset) {
            // The shared level first: the container's group copies from it.
            mkdir_shared(parent, b"mydocker").map_err(fail(b"creating", b"mydocker"))?;
            let md = super::open_dir(parent, b"mydocker").map_err(fail(b"opening", b"mydocker"))?;
            let r = inherit(parent, b"cpuset.cpus", md, b"cpuset.cpus").and_then(|_| inherit(parent, b"cpuset.mems", md, b"cpuset.mems"));
            sys::close(md);
            r?;
        }
        make(parent, id)
    })();
    let cg = match r {
        Ok(cg) => cg,
        Err(f) => {
            sys::close(parent);
            return Err(f);
        }
    };
    let r = (|| -> Result<(), Fail> {
        if let (Some((list, _)), true) = (l.cpuset, has(Ctrl::Cpuset)) {
            // mems before cpus before any task: the order the kernel demands.
            inherit(parent, b"mydocker/cpuset.mems", cg, b"cpuset.mems")?;
            write_file(cg, b"cpuset.cpus", list).map_err(fail(b"setting", b"cpuset.cpus"))?;
        }
        if let (Some((bytes, _)), true) = (l.memory, has(Ctrl::Memory)) {
            let v = Dec::new(bytes);
            write_file(cg, b"memory.limit_in_bytes", v.as_bytes()).map_err(fail(b"setting", b"memory.limit_in_bytes"))?;
            // With swap accounting, the same value for memory+swap, so swap
            // is no way around the limit. Written second: it may never be
            // below memory.limit_in_bytes. Absent without swap accounting.
            match write_file(cg, b"memory.memsw.limit_in_bytes", v.as_bytes()) {
                Ok(()) | Err(Errno(libc::ENOENT)) => {}
                Err(e) => return Err(fail(b"setting", b"memory.memsw.limit_in_bytes")(e)),
            }
        }
        if let (Some(shares), true) = (l.shares, has(Ctrl::Cpu)) {
            write_file(cg, b"cpu.shares", Dec::new(shares).as_bytes()).map_err(fail(b"setting", b"cpu.shares"))?;
        }
        if let (Some(milli), true) = (l.cpus, has(Ctrl::Cpu)) {
            write_file(cg, b"cpu.cfs_period_us", Dec::new(CFS_PERIOD_US).as_bytes()).map_err(fail(b"setting", b"cpu.cfs_period_us"))?;
            write_file(cg, b"cpu.cfs_quota_us", Dec::new(quota_us(milli)).as_bytes()).map_err(fail(b"setting", b"cpu.cfs_quota_us"))?;
        }
        if let (Some(n), true) = (l.pids, has(Ctrl::Pids)) {
            write_file(cg, b"pids.max", Dec::new(n).as_bytes()).map_err(fail(b"setting", b"pids.max"))?;
        }
        Ok(())
    })();
    if let Err(f) = or_undo(r, parent, cg, id) {
        sys::close(parent);
        return Err(f);
    }
    Ok(Made { parent, cg, v2: false, ctrls: *ctrls })
}
