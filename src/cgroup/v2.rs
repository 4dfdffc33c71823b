//! cgroup v2: one unified hierarchy. Controllers must be enabled in the
//! parent's cgroup.subtree_control at every level down to the container.
use super::{fail, join, read_file, write_file, Ctrl, Fail, Need, Res, CTRLS, P};
use crate::devices::{Policy, MAX_INSNS};
use crate::sys::{Errno, Fd};

fn listed(list: &[u8], name: &[u8]) -> bool {
    crate::words::find(list.strip_suffix(b"\n").unwrap_or(list), name).is_some()
}

/// Whether `c` is a v2 controller, enabled in cgroup.subtree_control.
fn controller(c: Ctrl) -> bool {
    (c as usize) < Ctrl::Devices as usize
}

/// Enables `ctrls` for the children of `dir`, checking first that `dir`
/// has them at all. Only missing ones are written: re-enabling is a no-op
/// we need not risk on a parent that holds processes.
pub(crate) fn enable(dir: Fd, ctrls: &Need, shared: bool) -> Res<()> {
    // Devices and Freezer are no v2 controllers (a BPF program; files every
    // cgroup has): with nothing else, nothing to enable and nothing to read.
    if !CTRLS.iter().any(|&c| controller(c) && ctrls[c as usize]) {
        return Ok(());
    }
    // The cgroup itself, or the shared `mydocker` level below it.
    let (list, ctl): (&'static [u8], &'static [u8]) = if shared {
        (b"mydocker/cgroup.controllers", b"mydocker/cgroup.subtree_control")
    } else {
        (b"cgroup.controllers", b"cgroup.subtree_control")
    };
    let mut buf = [0u8; 512];
    let avail = read_file(dir, list, &mut buf).map_err(fail(P::READING, P::CONTROLLERS))?;
    let mut cur = [0u8; 512];
    let cur = read_file(dir, ctl, &mut cur).map_err(fail(P::READING, P::SUBTREE))?;
    // One write for all: "+memory +cpu +pids".
    let mut w = [0u8; 64];
    let mut n = 0;
    for &c in CTRLS.iter() {
        if !ctrls[c as usize] || !controller(c) || listed(cur, c.name()) {
            continue;
        }
        if !listed(avail, c.name()) {
            // Ctrl's order is text::P's from MEMORY on.
            let what = P::MEMORY as u8 + c as u8;
            return Err(Fail::new(what, P::CONTROLLERS as u8, Errno(libc::ENODEV)).because(P::NOT_IN_PARENT));
        }
        let sep: &[u8] = if n > 0 { b" +" } else { b"+" };
        n += join(&mut w[n..], &[sep, c.name()]);
    }
    if n > 0 {
        write_file(dir, ctl, &w[..n]).map_err(fail(P::ENABLING, P::SUBTREE))?;
    }
    Ok(())
}

/// Before the container's cgroup exists: the controllers enabled in the
/// parent and in the shared `mydocker` level.
pub fn prepare(parent: Fd, ctrls: &Need) -> Res<()> {
    super::level(parent, b"mydocker", true, false, ctrls)?;
    enable(parent, ctrls, true)
}

/// The device policy as a BPF_PROG_TYPE_CGROUP_DEVICE program, attached to
/// the container's cgroup before any process is in it.
#[inline(never)]
pub(super) fn devices(cg: Fd, dev: &Policy) -> Res<()> {
    let mut prog = [0u64; MAX_INSNS];
    // The one way a program fails to build: it does not fit MAX_INSNS.
    let n = dev
        .program(&mut prog)
        .map_err(|_| fail(P::BUILDING_PROG, P::NONE)(Errno(libc::E2BIG)).because(P::PROG_TOO_LONG))?;
    crate::sys::attach_device_program(cg, &prog[..n]).map_err(|e| {
        let f = fail(P::ATTACHING_PROG, P::NONE)(e);
        match e.0 {
            libc::EPERM => f.because(P::PROG_EPERM),
            libc::EINVAL | libc::EACCES => f.because(P::PROG_REFUSED),
            _ => f,
        }
    })
}
