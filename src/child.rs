//! The child: everything between clone(2) and execve(2).
//!
//! Contract — this is the only code that runs on the clone stack:
//! - no heap allocation (there is none in the binary), no locks, no panics:
//!   slices are taken with checked accessors, never indexed blindly;
//! - only raw syscalls (through `sys`) on memory prepared before clone: the
//!   Ctx below, the hostname, the mount table, and the receive arena the
//!   parent mapped;
//! - every failure is reported to the parent as (step, errno, table entry)
//!   on the close-on-exec error pipe, then the child exits; EOF on that pipe
//!   tells the parent execve succeeded.
use crate::err::{Error, Step};
use crate::frame::{self, HEADER};
use crate::fsops;
use crate::mounts::{Op, Table};
use crate::path::Search;
use crate::plan::Inherited;
use crate::sys::{self, Errno, Fd, Map, SigSet};
use core::convert::Infallible;

/// A failure and the mount-table entry it concerns (0 when none).
struct Report(Error, u32);

impl From<Error> for Report {
    fn from(e: Error) -> Report {
        Report(e, 0)
    }
}

pub struct Ctx<'a> {
    /// Pipe ends: the frame arrives on frame_r, errors leave on err_w
    /// (every other fd is closed first thing, the parent's ends included).
    pub frame_r: Fd,
    pub err_w: Fd,
    pub hostname: &'a [u8],
    /// Receive arena, sized by the parent from the frame it will send.
    pub arena: &'a mut Map,
    pub payload_cap: usize,
    pub ptrs_cap: usize,
    /// What mydocker inherited that the command must not.
    pub inherited: Inherited,
    /// The filesystem steps, and -w.
    pub fs: &'a Table<'a>,
    /// -u: (uid, gid).
    pub user: Option<(u32, u32)>,
    /// Capabilities kept (bounding, effective, permitted).
    pub caps: u64,
    /// --privileged: no capability drop, no no_new_privs.
    pub privileged: bool,
    /// --init: a reaper as PID 1, the command as PID 2.
    pub init: bool,
}

/// Entry point on the clone stack. Never returns: execs or exits 125.
pub fn main(ctx: &mut Ctx) -> i32 {
    let Err(Report(e, i)) = setup_and_exec(ctx);
    let _ = sys::write_all(ctx.err_w, &e.encode(i));
    sys::exit(125)
}

/// The --init loop: forward every signal to the command, reap every child
/// (orphans included), and exit with the command's status once it is gone;
/// the kernel then ends whatever is left of the namespace.
fn reap(cmd: libc::pid_t) -> i32 {
    loop {
        match sys::sigwait(SigSet::ALL) {
            Ok(libc::SIGCHLD) => {
                while let Ok(Some((pid, status))) = sys::reap_any() {
                    if pid == cmd {
                        return crate::err::status_code(status);
                    }
                }
            }
            Ok(sig) => {
                let _ = sys::kill(cmd, sig);
            }
            Err(_) => {}
        }
    }
}

/// mkdir -p of a NUL-terminated path, through `scratch` (no allocation).
fn mkdir_p(path: &[u8], scratch: &mut [u8]) -> Result<(), Errno> {
    let n = path.len();
    let b = scratch.get_mut(..n).ok_or(Errno(libc::ENAMETOOLONG))?;
    b.copy_from_slice(path);
    for i in 1..n.saturating_sub(1) {
        if b[i] == b'/' {
            b[i] = 0;
            sys::mkdir_ok(&b[..=i])?;
            b[i] = b'/';
        }
    }
    sys::mkdir_ok(b)
}

/// Walks the mount table (see mounts.rs for what and why in this order,
/// fsops.rs for how each step is made without following symlinks).
fn filesystem(t: &Table, scratch: &mut [u8]) -> Result<(), Report> {
    let mut walk = fsops::Walk::new(t);
    let es = t.entries();
    let mut i = 0;
    while let Some(e) = es.get(i) {
        // A bind and the read-only remount after it run as one step.
        let ro = fsops::ro_bind(es, i);
        match walk.step(t, i, ro, scratch) {
            Err(Errno(libc::ENOENT)) if e.optional => {}
            Err(errno) => return Err(Report(Error { step: Step::Mount, errno }, i as u32)),
            Ok(()) => {}
        }
        // -w is made right after pivot_root, inside the new root, before
        // --read-only can take that root's writability away (as runc does).
        if let (Op::Pivot, Some(w)) = (e.op, t.workdir) {
            mkdir_p(t.cstr(w), scratch).map_err(Error::at(Step::Workdir))?;
        }
        i += if ro { 2 } else { 1 };
    }
    Ok(())
}

/// Checks that the working directory lies inside the container's root:
/// chdir through a magic link (/proc/self/fd/N of a directory fd the
/// caller passed in) can land outside it, and then getcwd(2) prefixes
/// "(unreachable)" or fails. ENOENT for such a directory.
fn inside_root(buf: &mut [u8]) -> Result<(), Errno> {
    let n = sys::fds::getcwd(buf)?;
    match buf.get(..n) {
        Some([b'/', ..]) => Ok(()),
        _ => Err(Errno(libc::ENOENT)),
    }
}

fn bad_frame() -> Error {
    Error { step: Step::Frame, errno: Errno(libc::EBADMSG) }
}

fn setup_and_exec(ctx: &mut Ctx) -> Result<Infallible, Report> {
    // First, before any path the user gave is resolved (volume targets,
    // the working directory, the command): every fd but the two pipe ends
    // still needed goes. An fd inherited from the caller or opened by
    // mydocker (a cgroup directory) could otherwise be reached through
    // /proc/self/fd/N and lead out of the container (runc CVE-2024-21626).
    // This also closes the parent's frame write end, whose copy here would
    // keep our frame read from ever seeing EOF if the parent died.
    sys::fds::close_all_but(3, &[ctx.frame_r, ctx.err_w]).map_err(Error::at(Step::CloseFds))?;
    // If mydocker is killed, take the container down with it instead of
    // leaving an orphan. Set before the frame read: a parent that died
    // earlier shows up there as EOF.
    sys::die_with_parent().map_err(Error::at(Step::DeathSig))?;
    // / must be private before anything is mounted: on a shared root the
    // new /proc would propagate into the host's mount namespace and hide the
    // host's own /proc (the original mydocker's bug), and pivot_root refuses
    // a shared parent mount.
    sys::mount(None, b"/\0", None, (libc::MS_REC | libc::MS_PRIVATE) as u64, b"")
        .map_err(Error::at(Step::MountPrivate))?;
    // The arena: the frame area, the pointer tables, and a PATH_MAX scratch
    // buffer (mkdir -p now, the PATH search later).
    let bad = || Report(bad_frame(), 0);
    let (area, ptrs, pathbuf) = ctx.arena.split(HEADER + ctx.payload_cap, ctx.ptrs_cap).ok_or_else(bad)?;
    // A /proc of the new PID namespace, so the command sees itself as PID 1;
    // with --rootfs the whole filesystem, ending in pivot_root.
    filesystem(ctx.fs, pathbuf)?;
    sys::sethostname(ctx.hostname).map_err(Error::at(Step::Hostname))?;
    sys::loopback_up().map_err(Error::at(Step::Loopback))?;
    // The bounding set (needs CAP_SETPCAP) and no_new_privs can go now:
    // neither takes an effective capability away from the steps still to
    // come, and done before the frame read they overlap with the parent's
    // cgroup work instead of adding to the path to execve.
    if !ctx.privileged {
        sys::drop_bounding(ctx.inherited.bounding & !ctx.caps, ctx.inherited.ambient != 0)
            .map_err(Error::at(Step::Caps))?;
        sys::no_new_privs().map_err(Error::at(Step::Caps))?;
    }

    // The frame is the parent's go-ahead: it is sent only once the parent
    // has finished its own setup (put us in our cgroups; with none to join,
    // it was in the pipe before clone), so nothing after this point runs
    // outside them.
    // One read for the whole frame: the parent told us its exact size.
    let n = sys::read_full(ctx.frame_r, area).map_err(Error::at(Step::Frame))?;
    let hb: &[u8; HEADER] = area.get(..HEADER).and_then(|b| b.try_into().ok()).ok_or_else(bad_frame)?;
    let h = frame::header(hb, ctx.payload_cap).map_err(|_| bad_frame())?;
    // Exactly the frame: a short read is a truncated frame, and the parent
    // closes its end after the last byte, so nothing can follow it.
    if n != HEADER + h.len as usize {
        return Err(bad_frame().into());
    }
    let payload = area.get(HEADER..n).ok_or_else(bad_frame)?;
    let ptrs = ptrs.get_mut(..h.ptrs()).ok_or_else(bad_frame)?;
    let s = frame::strings(payload, &h, ptrs).map_err(|_| bad_frame())?;
    let (argv, envp) = ptrs.split_at(h.argc as usize + 1);
    // The frame pipe, and whatever setup opened (the loopback socket), go
    // too: from here on only 0, 1, 2 and the close-on-exec error pipe are
    // open, in PID 1, in the --init reaper and in the command.
    sys::fds::close_all_but(3, &[ctx.err_w]).map_err(Error::at(Step::CloseFds))?;

    if let Some(w) = ctx.fs.workdir {
        let w = ctx.fs.cstr(w);
        // Created if missing; a file there is an error (ENOTDIR).
        match sys::chdir(w) {
            Err(Errno(libc::ENOENT)) => mkdir_p(w, pathbuf).and_then(|_| sys::chdir(w)),
            r => r,
        }
        .map_err(Error::at(Step::Workdir))?;
    }
    if ctx.fs.workdir.is_some() || ctx.fs.inner > 0 {
        inside_root(pathbuf).map_err(Error::at(Step::Cwd))?;
    }
    // Privileges last, after everything that needs them (the bounding set
    // and no_new_privs went before the frame read): the user (setgroups,
    // setgid, setuid — each needs the privilege the next gives up), then the
    // capability sets themselves. A non-root user has lost them all at
    // setuid already; root keeps the chosen set. Inheritable stays empty
    // (moby CVE-2022-24769).
    if let Some((uid, gid)) = ctx.user {
        sys::become_user(uid, gid).map_err(Error::at(Step::User))?;
    }
    if !ctx.privileged {
        let keep = if ctx.user.map_or(true, |(u, _)| u == 0) { ctx.caps } else { 0 };
        sys::capset(keep).map_err(Error::at(Step::Caps))?;
    }
    if ctx.init {
        // --init: PID 1 stays ours, a reaper; the command becomes PID 2.
        // Every signal is blocked so each one queues for sigwait (a
        // namespace init ignores signals it has no handler for, but a
        // blocked one is still queued for it).
        sys::set_sigmask(SigSet::ALL);
        // Not dumpable: the container cannot open the reaper's /proc/1/fd,
        // cwd or mem, nor ptrace it. Set before the fork so a failure is
        // reported; the command's execve makes it dumpable again.
        sys::fds::not_dumpable().map_err(Error::at(Step::Init))?;
        let cmd = sys::fork().map_err(Error::at(Step::Init))?;
        if cmd != 0 {
            // The reaper needs no fd at all: not even 0, 1, 2, which would
            // keep a pipe the command writes to open after it is gone.
            let _ = sys::fds::close_all_but(0, &[]);
            sys::exit(reap(cmd));
        }
    }
    // The command starts with default dispositions and an empty mask,
    // whatever mydocker's caller had set. Handlers cannot survive the execve
    // that started mydocker, and mydocker installs none, so the only
    // dispositions left to undo are the SIG_IGN ones the parent found.
    for sig in 1..=64 {
        if ctx.inherited.ignored & (1u64 << (sig - 1)) != 0 && sig != libc::SIGKILL && sig != libc::SIGSTOP {
            let _ = sys::sig_default(sig);
        }
    }
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
            _ => return Err(Error { step: Step::Exec, errno: e }.into()),
        }
    }
    Err(Error { step: Step::Exec, errno: if denied { Errno(libc::EACCES) } else { err } }.into())
}
