//! The freezer: OCI `pause`/`resume` and the `paused` status of `state`.
//! v1: `freezer.state` of the container's cgroup in the freezer hierarchy
//! (THAWED, FREEZING, FROZEN); v2: `cgroup.freeze` (0/1) in its unified
//! cgroup, with the outcome in `cgroup.events` ("frozen 0|1").
//! Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst, cgroup-v2.rst.
use super::{fail, keyed, read_file, write_file, Res, P};
use crate::sys::{self, Errno, Fd};

/// Which freezer interface the directory has.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    V1,
    V2,
}

/// Which freezer the cgroup directory has, if any: v1's freezer.state, or
/// v2's cgroup.freeze (absent in the v2 root and on kernels before 5.2).
pub fn kind(dir: Fd) -> Option<Kind> {
    if super::has(dir, b"freezer.state") {
        Some(Kind::V1)
    } else if super::has(dir, b"cgroup.freeze") {
        Some(Kind::V2)
    } else {
        None
    }
}

/// Attempts before giving up on a freeze that does not complete, 1 ms apart.
pub const TRIES: u32 = 2000;

/// Whether the cgroup `dir` is frozen (FREEZING counts as not yet).
pub fn frozen(dir: Fd, kind: Kind) -> Res<bool> {
    let mut buf = [0u8; 512];
    Ok(match kind {
        Kind::V1 => trim(read_file(dir, b"freezer.state", &mut buf).map_err(fail(P::READING, P::FREEZER_STATE))?)
            == b"FROZEN",
        Kind::V2 => {
            let ev = read_file(dir, b"cgroup.events", &mut buf).map_err(fail(P::READING, P::EVENTS))?;
            keyed(ev, b"frozen") == Some(1)
        }
    })
}

/// Freezes (`on`) or thaws every task of the cgroup `dir` and waits until
/// the kernel says it is done: a freeze completes only once every task has
/// stopped, which takes a moment for tasks in uninterruptible sleep. A
/// freeze that does not complete within `tries` ms is undone (the container
/// must not stay half-frozen) and fails with EBUSY.
pub fn set(dir: Fd, kind: Kind, on: bool, tries: u32) -> Res<()> {
    let (file, name, val): (&'static [u8], P, &[u8]) = match (kind, on) {
        (Kind::V1, true) => (b"freezer.state", P::FREEZER_STATE, b"FROZEN"),
        (Kind::V1, false) => (b"freezer.state", P::FREEZER_STATE, b"THAWED"),
        (Kind::V2, true) => (b"cgroup.freeze", P::FREEZE, b"1"),
        (Kind::V2, false) => (b"cgroup.freeze", P::FREEZE, b"0"),
    };
    let what = if on { P::FREEZING } else { P::THAWING };
    for i in 0..tries.max(1) {
        // v1 needs the write repeated: a state stuck in FREEZING moves on
        // only when FROZEN is written again. v2 needs it once.
        if i == 0 || kind == Kind::V1 {
            write_file(dir, file, val).map_err(fail(what, name))?;
        }
        if frozen(dir, kind)? == on {
            return Ok(());
        }
        sys::sleep_ms(1);
    }
    if on {
        let _ = set(dir, kind, false, tries);
    }
    Err(fail(what, name)(Errno(libc::EBUSY)).because(if on { P::NOT_FROZEN } else { P::NOT_THAWED }))
}

fn trim(s: &[u8]) -> &[u8] {
    s.trim_ascii_end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::open_dir;

    fn tmp(tag: &str) -> (std::path::PathBuf, Fd) {
        let p = std::env::temp_dir().join(format!("mydocker-unit-freeze-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        let fd = open_dir(sys::CWD, p.as_os_str().as_encoded_bytes()).unwrap();
        (p, fd)
    }

    #[test]
    fn v1_pause_writes_frozen_and_resume_writes_thawed() {
        let (p, fd) = tmp("v1");
        std::fs::write(p.join("freezer.state"), "THAWED\n").unwrap();
        assert_eq!(frozen(fd, Kind::V1), Ok(false));
        set(fd, Kind::V1, true, 5).unwrap();
        assert_eq!(std::fs::read_to_string(p.join("freezer.state")).unwrap(), "FROZEN");
        assert_eq!(frozen(fd, Kind::V1), Ok(true));
        set(fd, Kind::V1, false, 5).unwrap();
        assert_eq!(std::fs::read_to_string(p.join("freezer.state")).unwrap(), "THAWED");
        sys::close(fd);
        let _ = std::fs::remove_dir_all(&p);
    }

    #[test]
    fn v2_pause_is_done_only_when_cgroup_events_says_frozen() {
        let (p, fd) = tmp("v2");
        // The kernel reports the outcome in cgroup.events; a fake tree that
        // says "frozen 1" is a cgroup whose tasks all stopped.
        std::fs::write(p.join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        set(fd, Kind::V2, true, 5).unwrap();
        assert_eq!(std::fs::read_to_string(p.join("cgroup.freeze")).unwrap(), "1");
        assert_eq!(frozen(fd, Kind::V2), Ok(true));
        sys::close(fd);
        let _ = std::fs::remove_dir_all(&p);
    }

    #[test]
    fn v2_freeze_that_never_completes_is_undone_and_fails_busy() {
        let (p, fd) = tmp("v2stuck");
        std::fs::write(p.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        let e = set(fd, Kind::V2, true, 3).unwrap_err();
        assert_eq!((e.file(), e.errno), (&b"cgroup.freeze"[..], Errno(libc::EBUSY)));
        // Thawed again: the container is not left half-frozen.
        assert_eq!(std::fs::read_to_string(p.join("cgroup.freeze")).unwrap(), "0");
        sys::close(fd);
        let _ = std::fs::remove_dir_all(&p);
    }

    #[test]
    fn missing_freezer_file_is_a_reading_error_naming_the_file() {
        let (p, fd) = tmp("none");
        let e = frozen(fd, Kind::V1).unwrap_err();
        assert_eq!((e.file(), e.errno), (&b"freezer.state"[..], Errno(libc::ENOENT)));
        sys::close(fd);
        let _ = std::fs::remove_dir_all(&p);
    }
}
