//! cgroup v1: one directory per hierarchy (memory, cpu[,cpuacct], cpuset,
//! pids, devices, freezer). Here: what only v1 has (cpuset copied down,
//! the device policy as devices.allow/deny lines); limits: res.rs.
use super::{fail, read_file, write_file, Res, P};
use crate::devices::Policy;
use crate::sys::{self, Errno, Fd};

/// Copies a cpuset file into `name` (P::MEMS or P::CPUS) when that is empty: a new v1 cpuset
/// group starts with empty cpus and mems, and no task may join it until both
/// are set (ENOSPC — the original mydocker's bug). `from` is read relative
/// to `dir`, so "mydocker/cpuset.mems" works without opening `mydocker`.
pub(crate) fn inherit(dir: Fd, from: &[u8], to_dir: Fd, name: P) -> Res<()> {
    let to = super::text::of(name);
    // One page for both reads: what `to` has, then the parent's value.
    let mut buf = [0u8; 4096];
    // (A missing file reads as empty: cgroupfs always has it; a test's fake tree may not.)
    let have = match read_file(to_dir, to, &mut buf) {
        Err(Errno(libc::ENOENT)) => &[][..],
        r => r.map_err(fail(P::READING, name))?,
    };
    if !have.iter().all(|c| c.is_ascii_whitespace()) {
        return Ok(());
    }
    let v = read_file(dir, from, &mut buf).map_err(fail(P::READING_PARENTS, name))?;
    write_file(to_dir, to, v).map_err(fail(P::COPYING_PARENTS, name))
}

/// Fills `to`'s empty cpuset.mems, then cpuset.cpus, from `from` (its
/// parent directory's fd).
pub(crate) fn fill(from: Fd, to: Fd) -> Res<()> {
    inherit(from, b"cpuset.mems", to, P::MEMS).and_then(|_| inherit(from, b"cpuset.cpus", to, P::CPUS))
}

/// The device policy as devices.deny / devices.allow lines (see
/// Policy::v1_lines), one write(2) each through one fd per file: the kernel
/// takes one rule per write. (O_CREAT is a no-op on cgroupfs, where both
/// files exist from mkdir on; it lets a unit test use a fake tree.)
pub(super) fn devices(cg: Fd, dev: &Policy) -> Res<()> {
    const FLAGS: i32 = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND;
    let deny = sys::openat(cg, b"devices.deny", FLAGS).map_err(fail(P::DEVICE_POLICY, P::DEVICES_DENY))?;
    let allow = match sys::openat(cg, b"devices.allow", FLAGS) {
        Ok(fd) => fd,
        Err(e) => {
            sys::close(deny);
            return Err(fail(P::DEVICE_POLICY, P::DEVICES_ALLOW)(e));
        }
    };
    let mut at = P::DEVICES_DENY;
    let r = dev.v1_lines(&mut |file, line| {
        let a = file == b"devices.allow";
        at = if a { P::DEVICES_ALLOW } else { P::DEVICES_DENY };
        sys::write_all(if a { allow } else { deny }, line)
    });
    sys::close(deny);
    sys::close(allow);
    r.map_err(fail(P::DEVICE_POLICY, at))
}
