//! The child: everything between clone(2) and execve(2).
//!
//! Contract — this is the only code that runs on the clone stack:
//! - no heap allocation (there is none in the binary), no locks, no panics:
//!   slices are taken with checked accessors, never indexed blindly;
//! - only raw syscalls (through `sys`) on memory prepared before clone: the
//!   Ctx below, the hostname, the mount table, and the receive arena the
//!   parent mapped;
//! - a plain attached run's child runs on the parent's own memory while
//!   the parent sleeps until its execve (CLONE_VM | CLONE_VFORK, see
//!   spawn::shared_memory): so it writes nothing but its own stack and the
//!   receive arena, changes nothing the parent reads afterwards, and on
//!   that path never waits for the parent;
//! - every failure is reported to the parent as (step, errno, table entry)
//!   on the close-on-exec error pipe, then the child exits; EOF on that pipe
//!   tells the parent execve succeeded.
use crate::console::{self, Console};
use crate::err::{Error, Step};
use crate::frame::{self, HEADER};
use crate::fsops;
use crate::model::{CapSets, Caps, Container, Mode, Rlimit, User};
use crate::mounts::{Op, Table};
use crate::path::Search;
use crate::plan::Inherited;
use crate::sys::{self, Errno, Fd, Map, SigSet};
use core::convert::Infallible;
use core::num::NonZeroU64;

/// A failure and the mount-table entry (cgroup slot, namespace, sysctl)
/// it concerns, 0 when none — packed in one register, so every step hands
/// it back without a memory round trip: the step in bits 0-7 (never 0),
/// errno in bits 8-31, the entry in bits 32-63.
#[derive(Clone, Copy)]
struct Report(NonZeroU64);

impl From<Error> for Report {
    fn from(e: Error) -> Report {
        Report::at(e.step, e.errno, 0)
    }
}

impl Report {
    fn at(step: Step, errno: Errno, entry: usize) -> Report {
        let v = step as u64 | (errno.0 as u32 as u64 & 0xff_ffff) << 8 | (entry as u32 as u64) << 32;
        Report(NonZeroU64::new(v).unwrap_or(NonZeroU64::MIN))
    }

    /// The wire report (err::WIRE): step, errno, entry as native u32s.
    fn wire(self) -> [u8; crate::err::WIRE] {
        let v = self.0.get();
        let [a, b, c, d] = (v as u32 & 0xff).to_ne_bytes();
        let [e, f, g, h] = ((v as u32) >> 8).to_ne_bytes();
        let [i, j, k, l] = ((v >> 32) as u32).to_ne_bytes();
        [a, b, c, d, e, f, g, h, i, j, k, l]
    }
}

/// What clone hands the child: the plan it follows (read only), and the
/// only memory of mydocker's it writes besides its own stack.
pub struct Child<'a> {
    pub ctx: Ctx<'a>,
    /// Receive arena, sized by the parent from the frame it will send.
    pub arena: &'a mut Map,
    /// The failure report, also left here: a child sharing mydocker's
    /// memory (spawn::shared_memory) writes it into the parent's own
    /// Child, which needs no allocation — the pipe write can fail (ENOMEM
    /// in a memory cgroup too small for a pipe buffer) and leave the
    /// parent with nothing. All zeros: no failure.
    pub report: [u8; crate::err::WIRE],
}

/// The child's plan: the container as the front end described it, and
/// what spawn prepared for it before clone.
pub struct Ctx<'a> {
    /// The container: domainname, apparmor, namespaces created at clone
    /// (c.ns.new), user, no_new_privs, rlimits, sysctl, oom_score_adj,
    /// mode, preserve_fds, init are read from it as the front end set them.
    pub c: &'a Container<'a>,
    /// Pipe ends: the frame arrives on frame_r, errors leave on err_w
    /// (every other fd is closed first thing, the parent's ends included).
    pub frame_r: Fd,
    pub err_w: Fd,
    /// None: the hostname is left as it is (OCI without one).
    pub hostname: Option<&'a [u8]>,
    /// The receive arena's frame payload and pointer table capacities.
    pub payload_cap: usize,
    pub ptrs_cap: usize,
    /// What mydocker inherited that the command must not.
    pub inherited: Inherited,
    /// The filesystem steps, and -w.
    pub fs: &'a Table<'a>,
    /// The capability sets the command ends with; None: leave them all
    /// (--privileged).
    pub caps: Option<CapSets>,
    /// The syscall filter, compiled before clone (None: unconfined).
    pub seccomp: Option<crate::seccomp::Program<'a>>,
    /// The cgroup files to join through, and every cgroupfs fd to close.
    pub cgroups: crate::cgroup::ChildFds<'a>,
    /// -t: the container's own terminal (console.rs).
    pub console: Option<Console>,
    /// Namespaces joined by path: fds opened (and their type checked) by
    /// the parent, in the order they are entered (mount last).
    pub joins: Joins,
}

/// Most namespace paths a container joins (all but user and time).
pub const MAX_JOINS: usize = 8;

/// Namespace fds to setns into: (fd, CLONE_NEW* type, index in the
/// model's Namespaces.join for the error message).
#[derive(Clone, Copy)]
pub struct Joins {
    pub fds: [(Fd, i32, u32); MAX_JOINS],
    pub n: usize,
}

impl Joins {
    /// All zeros (only the first `n` are ever read): built by a memset,
    /// not copied from a constant.
    pub const NONE: Joins = Joins { fds: [(0, 0, 0); MAX_JOINS], n: 0 };
}

/// Entry point on the clone stack. Never returns: execs or exits 125.
pub fn main(c: &mut Child) -> i32 {
    let Err(r) = setup_and_exec(&c.ctx, c.arena);
    c.report = r.wire();
    let _ = sys::write_all(c.ctx.err_w, &c.report);
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
/// fsops.rs for how each step is made, symlinks resolved inside the rootfs).
fn filesystem(t: &Table, scratch: &mut [u8]) -> Result<(), Report> {
    let mut walk = fsops::Walk::new(t);
    let es = t.entries();
    let mut i = 0;
    while let Some(e) = es.get(i) {
        // A bind and the read-only remount after it run as one step.
        let ro = fsops::ro_bind(es, i);
        match step(&mut walk, t, i, ro, scratch) {
            Err(Errno(libc::ENOENT)) if e.optional => {}
            Err(errno) => return Err(Report::at(Step::Mount, errno, i)),
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

/// One step of the walk, apart from the loop: the loop's registers and
/// the step's then do not crowd one frame (smaller code).
#[inline(never)]
fn step(walk: &mut fsops::Walk, t: &Table, i: usize, ro: bool, scratch: &mut [u8]) -> Result<(), Errno> {
    walk.step(t, i, ro, scratch)
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

/// Resource limits and the OOM score: before the privileges go, as raising
/// a hard limit or lowering the score needs CAP_SYS_RESOURCE.
fn limits(rlimits: &[Rlimit], oom_score_adj: Option<i32>) -> Result<(), Report> {
    for (i, r) in rlimits.iter().enumerate() {
        // The entry: the parent names the type (a soft above its hard is EINVAL).
        sys::proc::set_rlimit(r.resource, r.soft, r.hard).map_err(|e| Report::at(Step::Rlimits, e, i))?;
    }
    if let Some(adj) = oom_score_adj {
        // "-1000".."1000" in one write (procfs parses each write whole).
        let d = crate::limits::Dec::new(adj.unsigned_abs() as u64);
        let d = d.as_bytes();
        let mut b = [b'-'; 21];
        for (to, &c) in b[1..].iter_mut().zip(d) {
            *to = c;
        }
        let b = b.get(if adj < 0 { 0 } else { 1 }..=d.len()).unwrap_or(&[]);
        write_to(proc_self(b"/proc/self/oom_score_adj"), b).map_err(Error::at(Step::OomScore))?;
    }
    Ok(())
}

/// The user (setgroups, setgid, setuid — each needs the privilege the next
/// gives up), then the capability sets themselves. Without keep_caps a
/// non-root user has lost them all at setuid already; root keeps the chosen
/// sets. docker's inheritable set stays empty (moby CVE-2022-24769).
fn privileges(user: User, caps: Option<CapSets>, keep_caps: bool) -> Result<(), Report> {
    if let Some((uid, gid)) = user.ids {
        if keep_caps && uid != 0 {
            sys::proc::keep_caps().map_err(Error::at(Step::User))?;
        }
        sys::become_user(uid, gid, user.groups).map_err(Error::at(Step::User))?;
    }
    if let Some(c) = caps {
        let root = user.ids.map_or(true, |(u, _)| u == 0);
        let none = CapSets { bounding: 0, effective: 0, permitted: 0, inheritable: 0, ambient: 0 };
        let c = if root || keep_caps { c } else { none };
        sys::proc::capset3(c.effective, c.permitted, c.inheritable).map_err(Error::at(Step::Caps))?;
        if c.ambient != 0 {
            sys::proc::raise_ambient(c.ambient).map_err(Error::at(Step::Caps))?;
        }
    }
    if let Some(m) = user.umask {
        sys::proc::umask(m);
    }
    Ok(())
}

/// Ties the container's life to mydocker's: PR_SET_PDEATHSIG(SIGKILL), then
/// a check that mydocker is not gone already. The prctl alone cannot tell
/// (across a new PID namespace getppid() is 0 either way). The error pipe
/// can: the parent holds its read end until we are gone, our copy is closed
/// (close_all_but), and the kernel closes a dying process's files before it
/// sends the death signals. So after the prctl, either mydocker is alive
/// (and its death will signal us), or its death signal is on its way, or
/// its read end is already closed — which poll shows as POLLERR on our
/// write end `err_w`. No window is left.
fn tie_to_parent(err_w: Fd) -> Result<(), Error> {
    sys::die_with_parent(libc::SIGKILL).map_err(Error::at(Step::DeathSig))?;
    if sys::no_reader(err_w, false) {
        return Err(Error { step: Step::DeathSig, errno: Errno(libc::ESRCH) });
    }
    Ok(())
}

/// `/` made recursively private. Inside a chroot `/` is a directory, not
/// the root of a mount (EINVAL): it is first bound onto itself and entered
/// (sys::chroot::rebind_root, which refuses where the bind could show on
/// the host), as the initramfs path moves the rootfs over `/`.
fn private_root() -> Result<(), Error> {
    let rprivate = || sys::mount(None, b"/\0", None, (libc::MS_REC | libc::MS_PRIVATE) as u64, b"");
    match rprivate() {
        Err(Errno(libc::EINVAL)) => {}
        r => return r.map_err(Error::at(Step::MountPrivate)),
    }
    sys::chroot::rebind_root().map_err(Error::at(Step::RootBind))?;
    rprivate().map_err(Error::at(Step::MountPrivate))
}

fn bad_frame() -> Error {
    Error { step: Step::Frame, errno: Errno(libc::EBADMSG) }
}

/// Joins every cgroup the child was not born in: "0" (this task) into each
/// `tasks` (v1) or `cgroup.procs` (v2 without CLONE_INTO_CGROUP). A task
/// moving itself skips the lock and RCU wait a move by another process
/// costs (see cgroup::Cgroups::open_joins). The join fds, and every other
/// cgroupfs fd, go with all the rest right after (close_all_but): none
/// stays open in the container.
fn join_cgroups(c: &crate::cgroup::ChildFds) -> Result<(), Report> {
    for (i, &fd) in c.join.iter().enumerate() {
        if fd >= 0 {
            sys::write_all(fd, b"0").map_err(|e| Report::at(Step::Join, e, i))?;
        }
    }
    Ok(())
}

/// Enters each namespace in `j`, in order, closing each fd. The mount
/// namespace comes last (spawn orders it so): entering it changes what
/// every later path names. The PID namespace is not among them: setns
/// there only moves a process's future children, so the parent enters it
/// before clone.
fn join_namespaces(j: &Joins) -> Result<(), Report> {
    for &(fd, ty, index) in j.fds.get(..j.n).unwrap_or(&[]) {
        let r = sys::oci::setns(fd, ty);
        sys::close(fd);
        r.map_err(|e| Report::at(Step::Setns, e, index as usize))?;
    }
    Ok(())
}

/// The whole way from clone to execve, step by step; each step's own
/// comment says why it comes where it does.
fn setup_and_exec(ctx: &Ctx, arena: &mut Map) -> Result<Infallible, Report> {
    enter(ctx)?;
    isolate(ctx)?;
    // The arena: the frame area, the pointer tables, and a PATH_MAX scratch
    // buffer (mkdir -p now, the PATH search later).
    let (area, ptrs, pathbuf) = arena.split(HEADER + ctx.payload_cap, ctx.ptrs_cap).ok_or_else(bad_frame)?;
    build(ctx, pathbuf)?;
    let cmd = receive(ctx, area, ptrs)?;
    workdir(ctx.fs, pathbuf)?;
    become_user(ctx)?;
    if ctx.c.init {
        init()?;
    }
    last_steps(ctx)?;
    exec(ctx, &cmd, pathbuf)
}

impl Ctx<'_> {
    /// OCI create's exec fifo (-1: none).
    fn fifo(&self) -> Fd {
        self.created().0
    }

    /// OCI create's exec fifo and ack pipe (-1, -1: none).
    fn created(&self) -> (Fd, Fd) {
        if let Mode::Created { fifo, ack } = self.c.mode {
            (fifo, ack)
        } else {
            (-1, -1)
        }
    }

    /// Tied to mydocker's life: `run`, an attached exec, and OCI create
    /// until the child is ready (see exec).
    fn attached(&self) -> bool {
        matches!(self.c.mode, Mode::Attached | Mode::Exec { detach: false } | Mode::Created { .. })
    }
}

/// Into the container's cgroups and namespaces, before anything else.
#[inline(never)]
fn enter(ctx: &Ctx) -> Result<(), Report> {
    // First of all, into the cgroups: nothing of the container runs outside
    // its limits, and a failed join ends it before anything else happened.
    join_cgroups(&ctx.cgroups)?;
    // A cgroup namespace of its own is made only now, once the child is in
    // its cgroups (spawn leaves CLONE_NEWCGROUP out of clone): its root is
    // then the container's cgroup, as runc makes it.
    if ctx.c.ns.new & libc::CLONE_NEWCGROUP != 0 {
        sys::oci::unshare(libc::CLONE_NEWCGROUP).map_err(Error::at(Step::Setns))?;
    }
    // Then into the namespaces given by path (a pod's, or the container's
    // own for exec), before anything is set up in them.
    join_namespaces(&ctx.joins)
}

/// Cuts what ties the child to mydocker's caller: its fds, its session,
/// the propagation of its mounts; and ties it to mydocker itself.
#[inline(never)]
fn isolate(ctx: &Ctx) -> Result<(), Report> {
    // Before any path the user gave is resolved (volume targets, the
    // working directory, the command), every fd but the pipe ends (and the
    // OCI exec fifo, the -t console socket) still needed goes: one inherited from the caller or
    // opened by mydocker could otherwise be reached through /proc/self/fd/N
    // and lead out of the container (runc CVE-2024-21626). This closes the
    // parent's frame write end too, whose copy here would keep our frame
    // read from ever seeing EOF if the parent died.
    let console_sock = ctx.console.map_or(-1, |c| c.sock);
    let (fifo, ack) = ctx.created();
    close_fds(ctx, &[ctx.frame_r, ctx.err_w, fifo, ack, console_sock])?;
    // If mydocker is killed, take the container down with it instead of
    // leaving an orphan. Set before the frame read: a parent that died
    // earlier shows up there as EOF. An OCI container must outlive
    // `create` (its caller's subreaper reaps it): tied only until it is
    // ready — a create killed before then leaves no process nobody can name.
    if ctx.attached() {
        tie_to_parent(ctx.err_w)?;
    }
    // OCI: device nodes and directories get the modes config.json names;
    // the process's own umask is set before execve. run in an image: what
    // it makes there (-w, volume targets) gets docker's modes (umask 022),
    // not the caller's umask (077 made a -w a -u user could not enter).
    let early = if ctx.c.mode != Mode::Attached { Some(0) } else { ctx.c.user.umask };
    if let Some(m) = early {
        sys::proc::umask(m);
    }
    // A session of its own, without a controlling terminal: the caller's
    // terminal, still fds 0-2 without -t, is then not the container's
    // controlling terminal, and TIOCSTI on it fails with EPERM (without
    // CAP_SYS_ADMIN) instead of queueing input the caller's shell would run
    // after mydocker exits (bubblewrap CVE-2017-5226). Never fails here: a
    // new child is not a process-group leader.
    sys::tty::setsid().map_err(Error::at(Step::Session))?;
    // / must be private before anything is mounted: on a shared root the
    // new /proc would propagate into the host's mount namespace and hide the
    // host's own /proc (the original mydocker's bug), and pivot_root refuses
    // a shared parent mount.
    // Not for exec: the mount namespace is the running container's, and its
    // propagation is what its config made it.
    if !matches!(ctx.c.mode, Mode::Exec { .. }) {
        private_root()?;
    }
    Ok(())
}

/// Every fd but 0-2, the first preserve_fds after them and `keep`.
fn close_fds(ctx: &Ctx, keep: &[Fd]) -> Result<(), Error> {
    sys::fds::close_all_but(3 + ctx.c.preserve_fds, keep).map_err(Error::at(Step::CloseFds))
}

/// The container's world, while the child is still privileged: sysctls,
/// filesystem, terminal, names, network, limits; then the privileges that
/// nothing still to come needs.
#[inline(never)]
fn build(ctx: &Ctx, pathbuf: &mut [u8]) -> Result<(), Report> {
    // OCI sysctls, before the filesystem: /proc/sys is still the host's
    // mount here, but what it shows (net.*, the IPC and UTS keys) follows
    // the namespaces of the writer, which are the container's already; and
    // the container's /proc/sys may end up read-only (readonlyPaths).
    for (i, &(path, value)) in ctx.c.sysctl.iter().enumerate() {
        write_to(sys::openat(sys::CWD, path, libc::O_WRONLY), value).map_err(|e| Report::at(Step::Sysctl, e, i))?;
    }
    // A /proc of the new PID namespace, so the command sees itself as PID 1;
    // with --rootfs the whole filesystem, ending in pivot_root.
    filesystem(ctx.fs, pathbuf)?;
    // -t: after the filesystem (the container's devpts is mounted and /dev
    // is its own) and while still privileged (bind at /dev/console, chown).
    if let Some(c) = &ctx.console {
        console::setup(c).map_err(Error::at(Step::Console))?;
    }
    if let Some(h) = ctx.hostname {
        sys::sethostname(h).map_err(Error::at(Step::Hostname))?;
    }
    if let Some(d) = ctx.c.domainname {
        sys::oci::setdomainname(d).map_err(Error::at(Step::Hostname))?;
    }
    if ctx.c.ns.new & libc::CLONE_NEWNET != 0 {
        sys::loopback_up().map_err(Error::at(Step::Loopback))?;
    }
    limits(ctx.c.rlimits, ctx.c.oom_score_adj)?;
    // The bounding set (needs CAP_SETPCAP) and no_new_privs can go now:
    // neither takes an effective capability away from the steps still to
    // come.
    if let Some(c) = ctx.caps {
        sys::drop_bounding(ctx.inherited.bounding & !c.bounding, ctx.inherited.ambient != 0)
            .map_err(Error::at(Step::Caps))?;
    }
    if ctx.c.no_new_privs {
        sys::no_new_privs().map_err(Error::at(Step::Caps))?;
    }
    Ok(())
}

/// The command, as the frame carries it: argv and envp point into the
/// arena.
struct Command<'a> {
    s: frame::Strings<'a>,
    argv: &'a [*const libc::c_char],
    envp: &'a [*const libc::c_char],
}

/// Reads and checks the frame into `area` and `ptrs`, then closes every fd
/// the command must not get.
#[inline(never)]
fn receive<'a>(ctx: &Ctx, area: &'a mut [u8], ptrs: &'a mut [*const libc::c_char]) -> Result<Command<'a>, Report> {
    // The frame: in the pipe before clone when it fits PIPE_BUF, so this
    // read does not wait; larger ones are written right after clone.
    // One read for the whole frame: the parent told us its exact size.
    let n = sys::read_full(ctx.frame_r, area).map_err(Error::at(Step::Frame))?;
    let area = &area[..];
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
    // too: from here on only 0, 1, 2 and the close-on-exec error pipe (and
    // exec fifo) are open, in PID 1, in the --init reaper and in the command.
    let (fifo, ack) = ctx.created();
    close_fds(ctx, &[ctx.err_w, fifo, ack])?;
    Ok(Command { s, argv, envp })
}

/// -w, entered (made if missing, but by exec; a file there is an error,
/// ENOTDIR); then a check that the working directory is inside the root.
fn workdir(fs: &Table, pathbuf: &mut [u8]) -> Result<(), Report> {
    if let Some(w) = fs.workdir {
        let w = fs.cstr(w);
        match sys::chdir(w) {
            Err(Errno(libc::ENOENT)) if !fs.enter_only => mkdir_p(w, pathbuf).and_then(|_| sys::chdir(w)),
            r => r,
        }
        .map_err(Error::at(Step::Workdir))?;
    }
    if fs.workdir.is_some() || fs.inner > 0 {
        inside_root(pathbuf).map_err(Error::at(Step::Cwd))?;
    }
    Ok(())
}

/// The filter (without no_new_privs), then the user and capabilities.
fn become_user(ctx: &Ctx) -> Result<(), Report> {
    // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN in the
    // effective set: so before the privileges go (runc does the same).
    // With it, as late as possible (last_steps), so the filter sees the
    // fewest of our own syscalls.
    if !ctx.c.no_new_privs {
        load_seccomp(ctx.seccomp)?;
    }
    // Privileges last, after everything that needs them (the bounding set
    // and no_new_privs went before the frame read).
    // OCI's explicit sets are kept across the switch to a non-root user;
    // docker's non-root user ends with none.
    privileges(ctx.c.user, ctx.caps, matches!(ctx.c.caps, Caps::Sets(_)))?;
    // The kernel clears the death signal when the effective user or group
    // changes (commit_creds): after -u it must be set again, and checked
    // again, or a killed mydocker leaves this container running.
    if ctx.attached() && ctx.c.user.ids.is_some() {
        tie_to_parent(ctx.err_w)?;
    }
    Ok(())
}

/// --init: PID 1 stays ours, a reaper; the command becomes PID 2, which
/// returns from here.
#[inline(never)]
fn init() -> Result<(), Error> {
    // Every signal is blocked so each one queues for sigwait (a namespace
    // init ignores signals it has no handler for, but a blocked one is
    // still queued for it).
    sys::set_sigmask(SigSet::ALL);
    // The reaper is not dumpable (since clone: spawn::launch says why), so
    // the container cannot open its /proc/1/fd, cwd or mem, nor ptrace it.
    let cmd = sys::fork().map_err(Error::at(Step::Init))?;
    if cmd != 0 {
        // The command has its own copy of mydocker's argv and environment:
        // the reaper's, which the container can read in /proc/1/cmdline
        // (host paths, -e values), go.
        sys::wipe_args(b"mydocker-init");
        // The reaper needs no fd at all: not even 0, 1, 2, which would
        // keep a pipe the command writes to open after it is gone.
        let _ = sys::fds::close_all_but(0, &[]);
        sys::exit(reap(cmd));
    }
    Ok(())
}

/// In the process that execs: its terminal, default signal dispositions
/// and an empty mask, its AppArmor profile, and the filter last.
fn last_steps(ctx: &Ctx) -> Result<(), Report> {
    // The command's controlling terminal is the container's (-t), in a
    // session without the --init reaper.
    if ctx.console.is_some() {
        console::take(ctx.c.init).map_err(Error::at(Step::Console))?;
    }
    // The command starts with default dispositions and an empty mask,
    // whatever mydocker's caller had set. Handlers cannot survive the execve
    // that started mydocker, and mydocker installs none, so the only
    // dispositions left to undo are the SIG_IGN ones the parent found.
    // OCI create's process waits for `start` as its PID namespace's init,
    // which ignores the signals it has no handler for: `kill ID TERM` would
    // leave it waiting, where runc's init (a Go program) dies. So there each
    // signal whose default ends a process ends it by a handler (exit
    // 128+N), set while all are still blocked; execve resets them.
    let created = ctx.fifo() >= 0;
    for sig in 1..65 {
        let _ = if created && crate::signals::terminates(sig) {
            sys::exit_on(sig)
        } else if ctx.inherited.ignored & (1u64 << (sig - 1)) != 0 {
            sys::sig_default(sig)
        } else {
            Ok(())
        };
    }
    // Unblocked last: with default dispositions, a signal forwarded before
    // execve is ignored by a PID-namespace init, it cannot kill us half-set-up.
    sys::set_sigmask(SigSet::of(&[]));
    if let Some(a) = ctx.c.apparmor {
        // Takes effect at execve (change_onexec); the kernel's own file
        // since 5.8, the shared one before.
        let fd = match proc_self(b"/proc/self/attr/apparmor/exec") {
            Err(Errno(libc::ENOENT)) => proc_self(b"/proc/self/attr/exec"),
            r => r,
        };
        write_to(fd, a).map_err(Error::at(Step::Caps))?;
    }
    // The filter last: only execve follows (OCI create: in exec, after
    // the wait for `start`).
    if ctx.c.no_new_privs && ctx.fifo() < 0 {
        load_seccomp(ctx.seccomp)?;
    }
    Ok(())
}

/// execve, through the PATH search; OCI create first waits for `start`.
fn exec(ctx: &Ctx, cmd: &Command, pathbuf: &mut [u8]) -> Result<Infallible, Report> {
    let exec = Error::at(Step::Exec);
    if let Mode::Created { fifo, ack } = ctx.c.mode {
        // OCI create: the command is looked up now (a missing one is a
        // create error, as in runc); then the parent hears "ready" and
        // `start` lets us go.
        let n = find(cmd, pathbuf, false).map_err(&exec)?;
        // Untied just before "ready" (create exits once it has recorded
        // us), but we go on only once create says the record is in: EOF
        // instead — create died before — ends us, as runc's init ends on
        // EOF from its parent. Nothing could have named us (breaker4 15:32).
        sys::die_with_parent(0).map_err(Error::at(Step::DeathSig))?;
        sys::write_all(ctx.err_w, &[0; crate::err::WIRE]).map_err(Error::at(Step::Fifo))?;
        // Waiting, it shows the container (a pod sharing the PID namespace)
        // its /proc/PID/cmdline, which needs no access right: not the
        // caller's command line (host paths), nor its environment in our
        // memory. Nothing below reads them (the command is in the arena).
        sys::wipe_args(b"mydocker-init");
        if sys::read(ack, &mut [0]) != Ok(1) {
            sys::exit(125);
        }
        sys::close(ack);
        // From here on nobody reads the error pipe: failures are exit codes.
        match sys::proc::wait_byte(fifo) {
            Ok(true) => {}
            _ => sys::exit(125),
        }
        // The filter only now, right before execve: a profile made for
        // runc's init (recorded per app) need not allow our lookup, our
        // fifo read and the rest we did since last_steps.
        let e = match if ctx.c.no_new_privs { load_seccomp(ctx.seccomp) } else { Ok(()) } {
            Err(e) => e,
            Ok(()) => exec(sys::execve(pathbuf.get(..n).unwrap_or(&[]), cmd.argv, cmd.envp)),
        };
        // Nobody reads the pipe any more: the line goes to the container's
        // stderr (its log under conmon or the shim), as runc's init writes
        // it — else a binary changed since create just ends, unexplained.
        // ENOENT for the file found above: its interpreter or loader.
        if e == (Error { step: Step::Exec, errno: Errno(libc::ENOENT) }) {
            crate::err::no_interpreter(cmd.s.argv0);
        } else {
            e.report((e.step == Step::Exec).then_some(cmd.s.argv0));
        }
        sys::exit(e.exit_code());
    }
    let e = find(cmd, pathbuf, true).err().unwrap_or(Errno(libc::ENOENT));
    // execve says ENOENT too when a file it found has a #! interpreter or
    // ELF loader that is missing: entry 1 tells the parent it was found.
    let found = e.0 == libc::ENOENT && find(cmd, pathbuf, false).is_ok();
    Err(Report::at(Step::Exec, e, found as usize))
}

/// /proc/self/... opened for writing, checked to be procfs's own file:
/// after pivot_root (or exec's setns) /proc is the container's path, which
/// an image can make a symlink into a later mount, and a setting written
/// there would silently be lost (runc CVE-2019-16884). EMEDIUMTYPE if it
/// is not. O_NONBLOCK: a FIFO planted there fails instead of blocking.
fn proc_self(path: &[u8]) -> Result<Fd, Errno> {
    let fd = sys::openat(sys::CWD, path, libc::O_WRONLY | libc::O_NONBLOCK)?;
    if sys::mnt::on_procfs(fd) {
        return Ok(fd);
    }
    sys::close(fd);
    Err(Errno(libc::EMEDIUMTYPE))
}

/// Writes `data` to the file just opened as `fd`, and closes it.
fn write_to(fd: Result<Fd, Errno>, data: &[u8]) -> Result<(), Errno> {
    let fd = fd?;
    let r = sys::write_all(fd, data);
    sys::close(fd);
    r
}

fn load_seccomp(p: Option<crate::seccomp::Program>) -> Result<(), Error> {
    match p {
        Some(p) => sys::seccomp_load(p.insns, p.flags).map_err(Error::at(Step::Seccomp)),
        None => Ok(()),
    }
}

/// Tries each candidate of the execvp(3) search for the command: execve
/// itself (`run`), or a check that it would succeed; returns the length of
/// the first that passes, left in `buf`. execvp semantics: EACCES from any
/// candidate wins over "not found"; any other error stops the search.
fn find(cmd: &Command, buf: &mut [u8], run: bool) -> Result<usize, Errno> {
    let attempt = |p: &[u8]| if run { Err(sys::execve(p, cmd.argv, cmd.envp)) } else { sys::proc::executable(p) };
    let mut search = Search::new(cmd.s.argv0, cmd.s.path);
    let mut err = Errno(libc::ENOENT);
    let mut denied = false;
    while let Some(c) = search.next(buf) {
        let e = match c {
            Ok(n) => match attempt(buf.get(..n).unwrap_or(&[])) {
                Ok(()) => return Ok(n),
                Err(e) => e,
            },
            Err(e) => e,
        };
        match e.0 {
            libc::EACCES => denied = true,
            libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG => err = e,
            _ => return Err(e),
        }
    }
    Err(if denied { Errno(libc::EACCES) } else { err })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_report_goes_on_the_wire_as_the_parent_decodes_it() {
        for (step, errno, entry) in [
            (Step::Random, 1, 0),
            (Step::Mount, libc::ENOENT, 127),
            (Step::Join, libc::ENOMEM, 5),
            (Step::Sysctl, 4095, u32::MAX as usize),
            (Step::Exec, libc::EACCES, 0),
        ] {
            let e = Error { step, errno: Errno(errno) };
            let wire = Report::at(step, Errno(errno), entry).wire();
            assert_eq!(wire, e.encode(entry as u32));
            assert_eq!(Error::decode(&wire), (e, entry as u32));
            assert_eq!(Report::from(e).wire(), e.encode(0));
        }
    }
}
