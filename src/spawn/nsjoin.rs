//! Namespaces joined by path (config.json `linux.namespaces[].path`, a
//! pod's, and every namespace of the container for `exec`). The parent
//! opens each path and checks its type (NS_GET_NSTYPE) before clone, so a
//! wrong path is a plain error before any container exists; the child then
//! enters them (child::join_namespaces), the mount namespace last. The PID
//! namespace is entered here, by the parent: setns(CLONE_NEWPID) only
//! places the children made afterwards, and clone comes next.
use crate::child::{Joins, MAX_JOINS};
use crate::out::Line;
use crate::sys::{self, Errno};



/// One line `mydocker: setns: <type> namespace '<path>': <why>`; 125.
fn bad(ty: i32, path: &[u8], why: &[u8]) -> i32 {
    Line::new().s(b"mydocker: setns: ").s(crate::model::ns_name(ty)).s(b" namespace '").arg(path).s(b"': ").s(why).emit(2);
    125
}

/// Opens and checks every (CLONE_NEW* type, path) of `list`; enters the
/// PID one. Returns what the child enters, in order, the mount namespace
/// last. On error: reported, every fd closed, the exit code.
pub fn open(list: &[(i32, &[u8])]) -> Result<Joins, i32> {
    let mut j = Joins::NONE;
    for (i, &(ty, path)) in list.iter().enumerate() {
        if let Err(code) = one(ty, path, i as u32, &mut j) {
            close(&j);
            return Err(code);
        }
    }
    // The mount namespace last (it is there at most once: config.rs).
    // (Bubbled to the end: a rotate costs a memmove's worth of code.)
    let fds = j.fds.get_mut(..j.n).unwrap_or_default();
    for k in 1..fds.len() {
        if fds[k - 1].1 == libc::CLONE_NEWNS {
            fds.swap(k - 1, k);
        }
    }
    Ok(j)
}

#[inline(never)]
fn one(ty: i32, path: &[u8], index: u32, j: &mut Joins) -> Result<(), i32> {
    let fd = sys::openat(sys::CWD, path, libc::O_RDONLY).map_err(|e| bad(ty, path, sys::strerror(e)))?;
    let checked = match sys::oci::ns_type(fd) {
        Ok(t) if t == ty => Ok(()),
        Ok(t) => Err(t),
        // ENOTTY/EINVAL: not an nsfs file at all.
        Err(_) => Err(0),
    };
    if let Err(t) = checked {
        sys::close(fd);
        let why: &[u8] = if t == 0 { b"not a namespace file" } else { b"a namespace of another type" };
        return Err(bad(ty, path, why));
    }
    if ty == libc::CLONE_NEWPID {
        let r = sys::oci::setns(fd, ty);
        sys::close(fd);
        return r.map_err(|e: Errno| bad(ty, path, sys::strerror(e)));
    }
    let Some(slot) = j.fds.get_mut(j.n) else {
        sys::close(fd);
        return Err(bad(ty, path, b"too many namespace paths"));
    };
    *slot = (fd, ty, index);
    j.n += 1;
    Ok(())
}

/// Closes the parent's copies once the child has its own.
pub fn close(j: &Joins) {
    for &(fd, _, _) in j.fds.get(..j.n).unwrap_or(&[]) {
        sys::close(fd);
    }
}

const _: () = assert!(MAX_JOINS >= crate::model::NS_FLAGS.len());
