//! The child: everything between clone(2) and execve(2).
//!
//! Contract — this is the only code that runs on the clone stack:
//! - no heap allocation (there is none in the binary), no locks, no panics:
//!   slices are taken with checked accessors, never indexed blindly;
//! - only raw syscalls (through `sys`) on memory prepared before clone: the
//!   Ctx below, the hostname, and the receive arena the parent mapped;
//! - every failure is reported to the parent as (step, errno) on the
//!   close-on-exec error pipe, then the child exits; EOF on that pipe tells
//!   the parent execve succeeded.
use crate::err::{Error, Step};
use crate::frame::{self, HEADER};
use crate::path::Search;
use crate::sys::{self, Errno, Fd, Map, SigSet};
use core::convert::Infallible;

pub struct Ctx<'a> {
    /// Pipe ends: the frame arrives on frame_r, errors leave on err_w;
    /// frame_w is the parent's, and the child closes its copy.
    pub frame_r: Fd,
    pub frame_w: Fd,
    pub err_w: Fd,
    pub hostname: &'a [u8],
    /// Receive arena, sized by the parent from the frame it will send.
    pub arena: &'a mut Map,
    pub payload_cap: usize,
    pub ptrs_cap: usize,
    /// Signals whose disposition is SIG_IGN (bit N-1 for signal N).
    pub ignored: u64,
}

/// Entry point on the clone stack. Never returns: execs or exits 125.
pub fn main(ctx: &mut Ctx) -> i32 {
    let Err(e) = setup_and_exec(ctx);
    let _ = sys::write_all(ctx.err_w, &e.encode());
    sys::exit(125)
}

fn bad_frame() -> Error {
    Error { step: Step::Frame, errno: Errno(libc::EBADMSG) }
}

fn setup_and_exec(ctx: &mut Ctx) -> Result<Infallible, Error> {
    // Holding the parent's write end would keep our frame read from ever
    // seeing EOF if the parent died. (Its other end, err_r, is close-on-exec
    // and never read here: no need to spend a syscall on it.)
    sys::close(ctx.frame_w);
    // If mydocker is killed, take the container down with it instead of
    // leaving an orphan. Set before the frame read: a parent that died
    // earlier shows up there as EOF.
    sys::die_with_parent().map_err(Error::at(Step::DeathSig))?;
    // / must be private before anything is mounted: on a shared root the
    // new /proc would propagate into the host's mount namespace and hide the
    // host's own /proc (the original mydocker's bug).
    sys::mount(None, b"/\0", None, libc::MS_REC | libc::MS_PRIVATE).map_err(Error::at(Step::MountPrivate))?;
    // A /proc of the new PID namespace, so the command sees itself as PID 1.
    sys::mount(Some(b"proc\0"), b"/proc\0", Some(b"proc\0"), libc::MS_NOEXEC | libc::MS_NOSUID | libc::MS_NODEV)
        .map_err(Error::at(Step::MountProc))?;
    sys::sethostname(ctx.hostname).map_err(Error::at(Step::Hostname))?;
    sys::loopback_up().map_err(Error::at(Step::Loopback))?;

    // The frame is the parent's go-ahead: it is sent only once the parent
    // has finished its own setup (e.g. put us in our cgroups), so nothing
    // after this point runs outside them.
    // One read for the whole frame: the parent told us its exact size.
    let (area, ptrs, pathbuf) = ctx.arena.split(HEADER + ctx.payload_cap, ctx.ptrs_cap).ok_or_else(bad_frame)?;
    let n = sys::read_full(ctx.frame_r, area).map_err(Error::at(Step::Frame))?;
    let hb: &[u8; HEADER] = area.get(..HEADER).and_then(|b| b.try_into().ok()).ok_or_else(bad_frame)?;
    let h = frame::header(hb, ctx.payload_cap).map_err(|_| bad_frame())?;
    // Exactly the frame: a short read is a truncated frame, and the parent
    // closes its end after the last byte, so nothing can follow it.
    if n != HEADER + h.len as usize {
        return Err(bad_frame());
    }
    let payload = area.get(HEADER..n).ok_or_else(bad_frame)?;
    let ptrs = ptrs.get_mut(..h.ptrs()).ok_or_else(bad_frame)?;
    let s = frame::strings(payload, &h, ptrs).map_err(|_| bad_frame())?;
    let (argv, envp) = ptrs.split_at(h.argc as usize + 1);

    // The command starts with default dispositions and an empty mask,
    // whatever mydocker's caller had set. Handlers cannot survive the execve
    // that started mydocker, and mydocker installs none, so the only
    // dispositions left to undo are the SIG_IGN ones the parent found.
    for sig in 1..=64 {
        if ctx.ignored & (1u64 << (sig - 1)) != 0 && sig != libc::SIGKILL && sig != libc::SIGSTOP {
            let _ = sys::sig_default(sig);
        }
    }
    // Only 0, 1 and 2 reach the command (err_w is already close-on-exec).
    sys::cloexec_from(3).map_err(Error::at(Step::CloseFds))?;
    // Unblocked last: with default dispositions, a signal forwarded before
    // execve is ignored by a PID-namespace init, it cannot kill us half-set-up.
    sys::set_sigmask(SigSet::of(&[]));

    // execvp semantics: EACCES from any candidate wins over "not found";
    // any other error stops the search.
    let mut search = Search::new(s.argv0, s.path);
    let mut err = Errno(libc::ENOENT);
    let mut denied = false;
    while let Some(c) = search.next(pathbuf) {
        let e = match c {
            Ok(n) => sys::execve(pathbuf.get(..n).unwrap_or(&[]), argv, envp),
            Err(e) => e,
        };
        match e.0 {
            libc::EACCES => denied = true,
            libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG => err = e,
            _ => return Err(Error { step: Step::Exec, errno: e }),
        }
    }
    Err(Error { step: Step::Exec, errno: if denied { Errno(libc::EACCES) } else { err } })
}
