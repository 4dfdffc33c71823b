//! cgroup v1: one directory per hierarchy (memory, cpu[,cpuacct], cpuset,
//! pids), limits as one file each.
use super::{fail, mkdir_shared, read_file, write_file, write_nums, Ctrl, Need, Res};
use crate::cli::Limits;
use crate::devices::Policy;
use crate::limits::{quota_us, CFS_PERIOD_US};
use crate::sys::{self, Errno, Fd};

/// Copies a cpuset file into `to` when `to`'s is empty: a new v1 cpuset
/// group starts with empty cpus and mems, and no task may join it until both
/// are set (ENOSPC — the original mydocker's bug). `from` is read relative
/// to `dir`, so "mydocker/cpuset.mems" works without opening `mydocker`.
pub(crate) fn inherit(dir: Fd, from: &[u8], to_dir: Fd, to: &'static [u8]) -> Res<()> {
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

/// Before the container's cgroup exists: with cpuset, fill the shared
/// `mydocker` level from the parent, since the container's group copies
/// from it.
pub fn prepare(parent: Fd, ctrls: &Need) -> Res<()> {
    if !ctrls[Ctrl::Cpuset as usize] {
        return Ok(());
    }
    mkdir_shared(parent, b"mydocker").map_err(fail(b"creating", b"mydocker"))?;
    let md = super::open_dir(parent, b"mydocker").map_err(fail(b"opening", b"mydocker"))?;
    let r = inherit(parent, b"cpuset.cpus", md, b"cpuset.cpus")
        .and_then(|_| inherit(parent, b"cpuset.mems", md, b"cpuset.mems"));
    sys::close(md);
    r
}

/// Writes the limits of the controllers `ctrls` names into `cg`, the new
/// `mydocker/<id>` under `parent` in one v1 hierarchy.
pub fn limits(parent: Fd, cg: Fd, ctrls: &Need, l: &Limits, dev: &Policy) -> Res<()> {
    let has = |c: Ctrl| ctrls[c as usize];
    if has(Ctrl::Devices) {
        devices(cg, dev)?;
    }
    if let (Some((list, _)), true) = (l.cpuset, has(Ctrl::Cpuset)) {
        // mems before cpus before any task: the order the kernel demands.
        inherit(parent, b"mydocker/cpuset.mems", cg, b"cpuset.mems")?;
        write_file(cg, b"cpuset.cpus", list).map_err(fail(b"setting", b"cpuset.cpus"))?;
    }
    let mem = l.memory.filter(|_| has(Ctrl::Memory)).map(|m| m.0);
    let cpu = |x: Option<u64>| x.filter(|_| has(Ctrl::Cpu));
    write_nums(
        cg,
        &[
            mem.map(|b| (&b"memory.limit_in_bytes"[..], b, false)),
            // With swap accounting, the same value for memory+swap, so swap
            // is no way around the limit. Written second: it may never be
            // below memory.limit_in_bytes. Absent without swap accounting.
            mem.map(|b| (&b"memory.memsw.limit_in_bytes"[..], b, true)),
            cpu(l.shares).map(|n| (&b"cpu.shares"[..], n, false)),
            cpu(l.cpus).map(|_| (&b"cpu.cfs_period_us"[..], CFS_PERIOD_US, false)),
            cpu(l.cpus).map(|m| (&b"cpu.cfs_quota_us"[..], quota_us(m), false)),
            l.pids.filter(|_| has(Ctrl::Pids)).map(|n| (&b"pids.max"[..], n, false)),
        ],
    )
}

/// The device policy as devices.deny / devices.allow lines (see
/// Policy::v1_lines), one write(2) each through one fd per file: the kernel
/// takes one rule per write. (O_CREAT is a no-op on cgroupfs, where both
/// files exist from mkdir on; it lets a unit test use a fake tree.)
fn devices(cg: Fd, dev: &Policy) -> Res<()> {
    const FLAGS: i32 = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND;
    let deny = sys::openat(cg, b"devices.deny", FLAGS).map_err(fail(b"setting the device policy", b"devices.deny"))?;
    let allow = match sys::openat(cg, b"devices.allow", FLAGS) {
        Ok(fd) => fd,
        Err(e) => {
            sys::close(deny);
            return Err(fail(b"setting the device policy", b"devices.allow")(e));
        }
    };
    let mut at: &'static [u8] = b"";
    let r = dev.v1_lines(&mut |file, line| {
        at = file;
        sys::write_all(if file == b"devices.allow" { allow } else { deny }, line)
    });
    sys::close(deny);
    sys::close(allow);
    r.map_err(fail(b"setting the device policy", at))
}
