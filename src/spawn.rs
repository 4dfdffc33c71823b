//! The parent side of `run`: plan, map, clone, send the frame, learn whether
//! execve succeeded, then forward signals and wait.
//!
//! Sequence (see README "How run works"):
//! 1. plan: id, hostname, frame size; one mapping for the child's stack
//!    (with a guard page), its receive arena and the frame — every buffer
//!    the child will touch exists before clone;
//! 2. two close-on-exec pipes: frame (parent → child), error (child → parent);
//! 3. every signal but the job-control stops is blocked from the start
//!    (signals.rs decides what each one does); one that would end a
//!    process and arrived before clone ends the run there, 128+N;
//! 4. the child joins its cgroups itself, first thing (where clone3 could
//!    not start it in them), through files opened here before clone;
//! 5. the frame went into the pipe before clone (a larger one follows
//!    clone); forward signals until the child exits;
//! 6. read the error pipe: EOF = execve succeeded and the status is the
//!    command's; 12 bytes = (step, errno, mount entry) and the exit code
//!    that goes with it.
use crate::caps;
use crate::cgroup::{self, Cgroups};
use crate::child::{self, Child, Ctx};
use crate::console::{self, Console};
use crate::sys::tty::Winsize;
use crate::cli::Limits;
use crate::devices::{self, Policy};
use crate::err::{self, Error, Step};
use crate::frame::Encoder;
use crate::limits::Dec;
use crate::model::{CapSets, Caps, Container, Mode, Mounts};
use crate::mounts::{self, Entry, Table, Volume, MAX_ENTRIES, MAX_VOLUMES, TEXT_CAP};
use crate::out::Line;
use crate::plan::{self, Inherited};
use crate::signals;
use crate::sys::{self, Errno, Map, SigSet};

mod nsjoin;

/// The child's stack. It runs a few small frames (the largest locals are a
/// 24-byte header and a 40-byte ifreq); 64 KiB leaves a wide margin and a
/// PROT_NONE guard page below turns any overflow into a fault.
const STACK_SIZE: usize = 64 * 1024;

/// Writes of at most this many bytes to an empty pipe never block (POSIX
/// PIPE_BUF; even a pipe shrunk to one buffer by pipe-user-pages-soft holds
/// a page).
const PIPE_BUF: usize = 4096;

/// Held blocked from the start of `run` and taken by the wait loops (here
/// and relay.rs): every signal but the job-control stops (see signals.rs
/// for what each does).
pub const WAITED: SigSet = signals::WAITED;

fn fail(e: Error) -> i32 {
    e.report(None);
    e.exit_code()
}

/// Runs the container `c` describes, attached: returns the exit code.
pub fn run(c: &Container) -> i32 {
    launch(c, &mut 0)
}

/// Runs an attached OCI exec: Ok(the exit code) once its command ran
/// (execve succeeded), Err(the code) when it failed before (reported) —
/// runc exits 255 then, not with a status the command never had.
pub fn run_started(c: &Container) -> Result<i32, i32> {
    let mut pid = 0;
    let code = launch(c, &mut pid);
    if pid > 0 { Ok(code) } else { Err(code) }
}

/// Creates the container `c` describes (Mode::Created): returns the host
/// pid of its process, set up and waiting for `start` on the exec fifo, or
/// the exit code after the failure was reported. For a detached OCI exec
/// (Mode::Exec { detach: true }): its pid once execve succeeded.
pub fn create(c: &Container) -> Result<libc::pid_t, i32> {
    let mut pid = 0;
    match launch(c, &mut pid) {
        0 if pid > 0 => Ok(pid),
        code => Err(if code == 0 { 125 } else { code }),
    }
}

/// Attached: runs the container to its end and returns the exit code.
/// Created: returns 0 with `created` set to the pid once the child reports
/// that it is ready. Exec detached: the same once execve succeeded.
fn launch(c: &Container, created: &mut libc::pid_t) -> i32 {
    // -t relays the caller's terminal; without one there is nothing to
    // relay (docker says the same, in the same words).
    // (An attached OCI exec --tty too; with a console socket the master
    // goes there instead.)
    let relayed =
        c.terminal && c.console_socket.is_none() && matches!(c.mode, Mode::Attached | Mode::Exec { detach: false });
    if relayed && !sys::tty::is_tty(0) {
        Line::new().s(b"mydocker: run: ").s(console::NOT_A_TTY).emit(2);
        return 125;
    }
    // First of all, the signals we forward wait, blocked, to be taken by
    // sigwait: one that arrives while cgroups are being made must neither
    // kill mydocker (leaving them behind) nor be lost. The child inherits
    // this mask (no handlers exist to run in it) and clears it before execve.
    sys::set_sigmask(WAITED);
    let rnd = match sys::random6() {
        Ok(r) => r,
        Err(e) => return fail(Error { step: Step::Random, errno: e }),
    };
    let id = plan::container_id(rnd);
    // docker-style containers are named by the random id; an OCI one keeps
    // its hostname unless the config sets one.
    let hostname = if c.id.is_none() { Some(c.hostname.unwrap_or(&id)) } else { c.hostname };

    // The filesystem plan: tiny buffers on the stack for a plain run, a
    // mapped region (zero pages until written) when a rootfs is described —
    // not a big array on the stack: every page of a frame is touched (stack
    // probes) on every run, and then copied at clone.
    // (A plain run's table is /proc and -w: a long -w goes to the mapping.)
    let mut few = [mounts::EMPTY; 2];
    let mut few_text = [0u8; 256];
    let long_workdir = c.process.cwd.is_some_and(|w| w.len() + 16 > few_text.len());
    let mut text_map: Map;
    let built = matches!(c.fs.mounts, Mounts::Table(_));
    let mut fs = if (c.fs.rootfs.is_some() || long_workdir) && !built {
        let size = MAX_ENTRIES * core::mem::size_of::<Entry>() + TEXT_CAP;
        text_map = match Map::new(size, false) {
            Ok(m) => m,
            Err(e) => return fail(Error { step: Step::Map, errno: e }),
        };
        let Some((many, text)) = text_map.typed(MAX_ENTRIES, mounts::EMPTY) else {
            return fail(Error { step: Step::Map, errno: Errno(libc::ENOMEM) });
        };
        Table::new(many, text)
    } else {
        Table::new(&mut few, &mut few_text)
    };
    // Checked before any cgroup exists: a missing rootfs or volume source
    // is the user's mistake to hear about first.
    if !built {
        if let Err(code) = filesystem(c, &mut fs) {
            return code;
        }
    }
    // A front end that built the table itself (OCI) hands it over whole.
    let fs: &Table = match c.fs.mounts {
        Mounts::Table(t) => t,
        _ => &fs,
    };

    // Cgroups are made before clone, so every mistake in them is reported
    // before a container exists; dropping `cgs` removes them on every path.
    // A device policy needs a cgroup too: every docker-style --rootfs
    // container has one.
    let mut cgs = Cgroups::none(id);
    if (c.limits.any() || c.device_rules.is_some()) && c.cgroup_fds.is_none() {
        if let Err(code) = make_cgroups(&c.limits, c.cgroup_parent, c.device_rules, &mut cgs) {
            return code;
        }
    }
    // Namespaces given by path: opened and checked now, while a mistake is
    // still a plain error; the child enters them. (Close-on-exec; an early
    // return below ends mydocker, which closes them.)
    let joins = match nsjoin::open(c.ns.join) {
        Ok(j) => j,
        Err(code) => return code,
    };

    // Size the frame, then map one region for everything the child will
    // touch — [guard page | stack | receive arena | frame] — and encode.
    let mut count = Encoder::counting();
    plan::frame(&c.process, hostname.unwrap_or(b""), &mut count);
    let counted = count.header();
    let len = match count.finish() {
        Ok(n) => n,
        Err(_) => {
            Line::new().s(b"mydocker: frame: command line and environment do not fit one frame (limit 4 GiB)").emit(2);
            return 125;
        }
    };
    let arena_len = plan::arena_size(&counted);
    let total = arena_len.and_then(|a| sys::carve_size(STACK_SIZE, a, len)).ok_or(Errno(libc::ENOMEM));
    let mut all = match total.and_then(|t| Map::new(t, true)) {
        Ok(m) => m,
        Err(e) => return fail(Error { step: Step::Map, errno: e }),
    };
    let Some((stack, mut arena, fbytes)) = all.carve(STACK_SIZE, arena_len.unwrap_or(0)) else {
        return fail(Error { step: Step::Map, errno: Errno(libc::ENOMEM) });
    };
    let fbytes = &mut fbytes[..len];
    let mut enc = Encoder::into(fbytes);
    plan::frame(&c.process, hostname.unwrap_or(b""), &mut enc);
    // The second pass must say what the first counted (the child sizes its
    // buffers from that).
    let h = enc.header();
    if h != counted || enc.finish() != Ok(len) {
        return fail(Error { step: Step::Send, errno: Errno(libc::EPROTO) });
    }
    // A container cannot get a capability mydocker lacks itself.
    let inherited = inherited();
    let kept = match kept_caps(c.caps, inherited.permitted) {
        Ok(k) => k,
        Err(code) => return code,
    };
    // The syscall filter, for the capabilities the container keeps (docker
    // evaluates its profile's capability rules against them too).
    // docker's default comes prebuilt; any other profile is compiled into a
    // fresh mapping, not this frame (see seccomp::prepare).
    let bounding = kept.map_or(inherited.bounding, |k| k.bounding);
    let Ok(seccomp) = crate::seccomp::prepare(c.seccomp, bounding, inherited.seccomp != 0) else {
        return 125;
    };
    let pipes = sys::pipe().and_then(|f| match sys::pipe() {
        Ok(e) => Ok((f, e)),
        Err(x) => {
            sys::close(f.0);
            sys::close(f.1);
            Err(x)
        }
    });
    let ((frame_r, mut frame_w), (err_r, err_w)) = match pipes {
        Ok(p) => p,
        Err(e) => return fail(Error { step: Step::Pipe, errno: e }),
    };
    // All four, for the early returns to close (one array, not one built
    // at each return).
    let mut pipes = [frame_r, frame_w, err_r, err_w];
    // The frame waits for nothing (the child joins its cgroups itself): it
    // goes into the pipe now, before clone, whenever it fits. The child then
    // never waits for it, and the parent goes straight to sleep after
    // clone, which matters: the new child usually starts on the parent's
    // CPU and runs only once the parent sleeps (and every page the parent
    // writes after clone is a copy-on-write fault). Up to PIPE_BUF bytes
    // always fit an empty pipe, so this write cannot block with no reader.
    let mut sent = Ok(());
    if fbytes.len() <= PIPE_BUF {
        if let Err(e) = sys::write_all(frame_w, fbytes) {
            close_all(&pipes);
            return fail(Error { step: Step::Send, errno: e });
        }
        sys::close(frame_w);
        frame_w = -1;
        pipes[1] = -1;
    }
    // -t, or OCI's console socket: the container's own terminal.
    let console = match console(c, relayed) {
        Ok(con) => con,
        Err(e) => return fail(Error { step: Step::Console, errno: e }),
    };
    // The join fds the child gets (ChildFds borrows them): after the first
    // open_joins, and after the second for a clone without CLONE_INTO_CGROUP.
    let (j1, j2);
    let mut cx = Child {
        ctx: Ctx {
            c,
            frame_r,
            err_w,
            hostname,
            payload_cap: h.len as usize,
            ptrs_cap: h.ptrs(),
            fs,
            inherited,
            caps: kept,
            seccomp,
            cgroups: crate::cgroup::ChildFds::NONE,
            console,
            joins,
        },
        arena: &mut arena,
        report: [0; err::WIRE],
    };

    // An inherited SIG_IGN for SIGCHLD would make the kernel reap the child
    // for us and sigwait would never see it exit.
    if cx.ctx.inherited.ignored & (1 << (libc::SIGCHLD - 1)) != 0 {
        let _ = sys::sig_default(libc::SIGCHLD);
    }
    // clone3 first; on cgroup v2 the child is born in its cgroup
    // (CLONE_INTO_CGROUP). Every other cgroup the child joins itself, first
    // thing, through a file opened here (see Cgroups::open_joins); kernels
    // without CLONE_INTO_CGROUP take musl's clone() and join the v2 cgroup
    // the same way.
    // A signal that arrived before the container exists and would end a
    // process ends the run here, cleanly, with nothing started and (once
    // `cgs` drops) nothing left: a PID 1 without a handler for it would
    // ignore it once started. Others wait for the loop after clone.
    if let Some(sig) = signals::ends_the_run(sys::sigpending()) {
        close_all(&pipes);
        Line::new()
            .s(b"mydocker: run: signal ")
            .s(Dec::new(sig as u64).as_bytes())
            .s(b" arrived before the container started; nothing was started")
            .emit(2);
        return 128 + sig;
    }
    let cg = cgs.v2();
    if let Err(f) = cgs.open_joins(cg.is_some()) {
        return pipes_closed(&pipes, f);
    }
    j1 = cgs.child_fds();
    cx.ctx.cgroups = c.cgroup_fds.unwrap_or(cgroup::ChildFds { join: &j1 });
    // Not dumpable from here on, so the child is not from its birth: it is
    // visible in the container's PID namespace at once (to an exec'd
    // process, to a pod sharing a created container's), and until its
    // execve its /proc/PID/exe is this host binary — opened there, then
    // reopened for writing once no mydocker runs (runc CVE-2019-5736) —
    // environ the caller's, fd and mem ours. Set here, before clone, not
    // in the child (too late by then): dumpability is the mm's, which
    // clone copies (or shares, CLONE_VM). The command's execve makes it
    // dumpable again; the --init reaper, which never execs, stays so.
    // mydocker itself, never in the container's PID namespace, loses only
    // its core dumps.
    sys::fds::not_dumpable();
    let flags = (c.ns.new & !libc::CLONE_NEWCGROUP) | libc::SIGCHLD | shared_memory(c, frame_w, &cx.ctx);
    let mut cloned = sys::clone3(flags, &stack, cg, &mut cx, child::main);
    if let Err(Errno(libc::ENOSYS | libc::E2BIG | libc::EINVAL)) = cloned {
        if let Err(f) = cgs.open_joins(false) {
            return pipes_closed(&pipes, f);
        }
        j2 = cgs.child_fds();
        cx.ctx.cgroups = c.cgroup_fds.unwrap_or(cgroup::ChildFds { join: &j2 });
        cloned = sys::clone(flags, &stack, &mut cx, child::main);
    }
    cgs.close_joins();
    nsjoin::close(&joins);
    sys::close(frame_r);
    sys::close(err_w);
    // The child's end of our socketpair (an OCI console socket stays the
    // caller's to close).
    let sock = console.filter(|_| relayed).map_or(-1, |c| {
        sys::close(c.sock);
        c.peer
    });
    let pid = match cloned {
        Ok(p) => p,
        Err(e) => {
            sys::close(frame_w);
            sys::close(err_r);
            sys::close(sock);
            return fail(Error { step: Step::Clone, errno: e });
        }
    };

    if frame_w >= 0 {
        sys::pipe_fit(frame_w, fbytes.len());
        sent = sys::write_all(frame_w, fbytes);
        sys::close(frame_w);
    }
    // No separate wait for execve: the error pipe is read once the child is
    // gone. Its write end closed at execve (close-on-exec) or at exit, so it
    // then holds the child's (step, errno) report or nothing — EOF, execve
    // succeeded. This saves a sleep and a wake-up on every run.
    let mut report = [0u8; err::WIRE];
    let oci_create = matches!(c.mode, Mode::Created { .. });
    let (status, got) = if oci_create || matches!(c.mode, Mode::Exec { detach: true }) {
        let got = sys::read_full(err_r, &mut report);
        sys::close(err_r);
        let ready = if oci_create {
            // The child writes one report and stays (ready: all zeros) or
            // exits (a failure): 12 bytes either way, or EOF if it died.
            got == Ok(err::WIRE) && report == [0; err::WIRE]
        } else {
            // Exec detached: EOF, the close-on-exec write end went at
            // execve, the process runs and is not ours to wait for. A
            // report: it failed and exited.
            got == Ok(0) && sent.is_ok()
        };
        if ready {
            *created = pid;
            return 0;
        }
        let status = sys::wait(pid, false).ok().flatten().ok_or(125);
        if oci_create && got == Ok(0) {
            return ended_unready(status);
        }
        (status, got)
    } else {
        // An attached OCI exec's --pid-file, as runc: once the process
        // exists, before the wait; one that cannot be written ends it (the
        // exec failed: 255).
        if let Some(f) = c.pid_file {
            if let Err(e) = crate::oci::create::write_pid_file(f, pid) {
                let _ = sys::kill(pid, libc::SIGKILL);
                return crate::oci::fail_io(b"--pid-file ", f, e);
            }
        }
        let status = if sock >= 0 { with_terminal(pid, sock, c.interactive) } else { forward_and_wait(pid) };
        (status, sys::read_full(err_r, &mut report))
    };
    let code = status.map_or_else(|c| c, err::status_code);
    // PID 1 died of SIGKILL; under --init PID 1 is our reaper, which exits
    // 128+N when the command was killed by signal N.
    let sigkilled = match status {
        Ok(s) => libc::WIFSIGNALED(s) && libc::WTERMSIG(s) == libc::SIGKILL || c.init && code == 128 + libc::SIGKILL,
        Err(_) => false,
    };
    // Nothing in the pipe: execve succeeded — unless a child that shared
    // our memory left its report in cx when the pipe write failed (see
    // Child::report). (One decode for both: it is inlined.)
    let wire = if (got, sent) == (Ok(0), Ok(())) { &cx.report } else { &report };
    let failure = match (got, sent) {
        (Ok(0), Ok(())) if *wire == [0; err::WIRE] => None,
        (Ok(0), Ok(())) | (Ok(err::WIRE), _) => Some(Error::decode(wire)),
        (Ok(0), Err(e)) => Some((Error { step: Step::Send, errno: e }, 0)),
        (Ok(_), _) => Some((Error { step: Step::Report, errno: Errno(libc::EPROTO) }, 0)),
        (Err(e), _) => Some((Error { step: Step::Report, errno: e }, 0)),
    };
    match failure {
        Some((e, index)) => child_failed(c, &cgs, fs, hostname, e, index as usize),
        None => {
            // execve succeeded (see run_started).
            *created = pid;
            oom_report(c, &cgs, code, sigkilled)
        }
    }
}

/// Reports the child's failure `e` (at mount-table entry, cgroup slot or
/// namespace `index`), naming what it concerns; the exit code.
#[inline(never)]
fn child_failed(c: &Container, cgs: &Cgroups, fs: &Table, hostname: Option<&[u8]>, e: Error, index: usize) -> i32 {
    if e.step == Step::Join {
        cgs.join_failed(index, e.errno).report();
        return 125;
    }
    let mut buf = [0u8; 512];
    let what = match e.step {
        Step::Exec => Some(c.process.argv0()),
        Step::Hostname => hostname,
        Step::Mount => fs.describe(index, &mut buf),
        Step::Workdir => c.process.cwd,
        Step::Cwd => c.process.cwd.or(Some(b"/")),
        Step::Setns => c.ns.join.get(index).map(|j| j.1),
        Step::Rlimits => c.rlimits.get(index).map(|r| crate::words::nth(crate::oci::config::RLIMITS, r.resource as usize)),
        _ => None,
    };
    // Named only now, off the hot path: a bind whose source is missing
    // (ENOENT, as a missing target: name the source, as runc does); a
    // filesystem whose options the kernel refused (EINVAL: size=-1,
    // mode=99999, mpol=bogus).
    use crate::mounts::Op;
    let x = fs.entries().get(index).filter(|_| e.step == Step::Mount).map(|x| (x.op, x.src.map(|s| fs.str(s))));
    let said: Option<(&[u8], &[u8], &[u8])> = match (x, e.errno.0) {
        (Some((Op::Bind { .. }, Some(s))), libc::ENOENT) if sys::kind(s).is_err() => Some((b": source ", s, b": No such file or directory")),
        (Some((Op::Fs { data, .. }, _)), libc::EINVAL) if data.len > 0 => Some((b": the kernel refused the options '", fs.str(data), b"'")),
        _ => None,
    };
    if let Some((a, b, c)) = said {
        let mut l = Line::new();
        l.s(b"mydocker: mount: ").arg(what.unwrap_or(b"")).s(a).arg(b).s(c).emit(2);
        return e.exit_code();
    }
    if e.step == Step::Exec && index == 1 {
        // The child found the file (see child::exec): what is missing is
        // what it needs to run, not the command.
        err::no_interpreter(c.process.argv0());
    } else if c.id.is_some() && e.step == Step::Exec && e.errno == Errno(libc::ENOENT) {
        // runc's words, which podman and CRI-O match on.
        let name = c.process.argv0();
        Line::new().s(b"mydocker: exec: \"").arg(name).s(b"\": executable file not found in $PATH").emit(2);
    } else {
        e.report(what);
    }
    e.exit_code()
}

/// The capability sets the container ends with (None: all of mydocker's,
/// --privileged); docker's --cap-add of one mydocker lacks (not in
/// `permitted`) is refused in one line: Err(125).
fn kept_caps(caps: Caps, permitted: u64) -> Result<Option<CapSets>, i32> {
    match caps {
        Caps::Keep => Ok(None),
        Caps::Sets(sets) => Ok(Some(sets)),
        Caps::Docker { add, drop } => match caps::keep(add, drop, permitted) {
            Ok(k) => Ok(Some(CapSets { bounding: k, effective: k, permitted: k, inheritable: 0, ambient: 0 })),
            Err(name) => {
                Err(refused(b"--cap-add", name, b"mydocker itself does not have it (not in its permitted set)"))
            }
        },
    }
}

/// -t: the child sends the master of the container's terminal back on a
/// socketpair made now (console.rs); the caller's window size goes with
/// the plan, so the command starts with it. OCI create: the master goes to
/// the caller's console socket instead. exec: the running container's
/// devpts, and its /dev/console as it is. None: no terminal.
fn console(c: &Container, relayed: bool) -> Result<Option<Console>, Errno> {
    let exec = matches!(c.mode, Mode::Exec { .. });
    let own = c.fs.rootfs.is_some() || exec;
    let (sock, peer, size) = if relayed {
        let (mine, theirs) = sys::tty::socketpair()?;
        (theirs, mine, sys::tty::winsize(0).unwrap_or_default())
    } else if let (true, Some((sock, (rows, cols)))) = (c.terminal, c.console_socket) {
        (sock, -1, Winsize([rows, cols, 0, 0]))
    } else {
        return Ok(None);
    };
    let mut con = Console::new(sock, peer, own, size, c.user.ids);
    con.at_console &= !exec;
    Ok(Some(con))
}

/// CLONE_VM | CLONE_VFORK where that is sound, as musl's posix_spawn
/// does: the child runs on our memory while we sleep in clone until its
/// execve (or exit). Then no page table is copied, no page we touched is
/// made copy-on-write (to be copied at our next write to it), and execve
/// has no copied address space to tear down. Sound here because:
/// - we have nothing to do between clone and the child's execve: the frame
///   is already in the pipe (a larger one is written after clone, so not
///   then), and an attached run only waits afterwards;
/// - the child writes only its own stack, the receive arena and errno
///   (which we read for no call made before it is done), and Ctx is ours
///   to lend while we sleep;
/// - no signal handler exists in mydocker (every disposition is default
///   or ignore), so nothing can run on the shared memory: all but the
///   job-control stops are blocked across clone (WAITED), and the child
///   restores dispositions and its mask itself before execve;
/// - the child's per-process state (creds, namespaces, fd table, cwd,
///   umask, rlimits, seccomp) is its own without CLONE_FILES/FS/THREAD.
/// Not for: --init (PID 1 stays a reaper and never execs, we would sleep
/// for good); OCI create (the child waits for `start`) and exec; a frame
/// written after clone; oom_score_adj (the kernel applies it to every
/// process sharing the memory, mydocker included); -t (its console
/// handshake stays on the copying path the terminal tests prove).
fn shared_memory(c: &Container, frame_w: sys::Fd, ctx: &Ctx) -> i32 {
    let plain = matches!(c.mode, Mode::Attached) && !c.init && ctx.console.is_none();
    if plain && frame_w < 0 && c.oom_score_adj.is_none() {
        libc::CLONE_VM | libc::CLONE_VFORK
    } else {
        0
    }
}

/// The exit status once the memory limit has had its say (see
/// `cgroup::oom_verdict`): 137 and the OOM line only when PID 1 died of
/// SIGKILL and the OOM killer struck during the run; otherwise PID 1's
/// status, with one line when the killer took other processes.
#[inline(never)]
fn oom_report(c: &Container, cgs: &Cgroups, code: i32, sigkilled: bool) -> i32 {
    let limit = c.limits.memory.map_or(&b"?"[..], |m| m.1);
    match cgroup::oom_verdict(sigkilled, cgs.oom_kills()) {
        cgroup::OomVerdict::None => code,
        cgroup::OomVerdict::Killed => {
            Line::new().s(b"mydocker: container killed: out of memory (limit ").arg(limit).s(b")").emit(2);
            137
        }
        cgroup::OomVerdict::Survived(n) => {
            Line::new()
                .s(b"mydocker: out of memory: the limit (")
                .arg(limit)
                .s(b") killed ")
                .s(Dec::new(n).as_bytes())
                .s(if n == 1 { b" process" } else { b" processes" })
                .s(b" in the container; the exit status is PID 1's own")
                .emit(2);
            code
        }
    }
}

/// A created container's process that ended with no report, before it was
/// ready (e.g. SIGKILLed by a memory limit too small for its start-up):
/// one line, and a runtime failure.
fn ended_unready(status: Result<i32, i32>) -> i32 {
    let (what, n, hint): (&[u8], i32, &[u8]) = match status {
        Ok(s) if libc::WIFSIGNALED(s) && libc::WTERMSIG(s) == libc::SIGKILL => (b"killed by signal ", 9, b" (out of memory?)"),
        Ok(s) if libc::WIFSIGNALED(s) => (b"killed by signal ", libc::WTERMSIG(s), b""),
        Ok(s) => (b"exit status ", libc::WEXITSTATUS(s), b""),
        Err(_) => (b"status lost", -1, b""),
    };
    let dec = Dec::new(n as u64);
    let mut l = Line::new();
    l.s(b"mydocker: create: the container's process ended before it was ready: ").s(what);
    l.s(if n >= 0 { dec.as_bytes() } else { b"" }).s(hint).emit(2);
    125
}

/// Closes the pipes of a run that ends before clone, and reports `f`.
#[inline(never)]
fn pipes_closed(fds: &[sys::Fd], f: cgroup::Fail) -> i32 {
    close_all(fds);
    f.report();
    125
}

#[inline(never)]
fn close_all(fds: &[sys::Fd]) {
    for &fd in fds {
        sys::close(fd);
    }
}

/// Makes the container's cgroups and sets its limits. Never inlined: the
/// mount layout and targets (some 30 KiB) must not enlarge the frame of
/// `run`, whose every page is touched (stack probes) and copied at clone
/// on every run, limits or not.
#[inline(never)]
fn make_cgroups(
    limits: &Limits,
    parent: Option<&[u8]>,
    rules: Option<&[devices::Rule]>,
    cgs: &mut Cgroups,
) -> Result<(), i32> {
    check_cpus(limits)?;
    // Built in place: a Policy is 2.5 KiB, and each temporary copy is stack
    // this run touches.
    let mut dev = Policy::new();
    for r in rules.unwrap_or(&[]) {
        if let Err(why) = dev.push(*r) {
            Line::new().s(b"mydocker: run: device rules: ").s(why).emit(2);
            return Err(125);
        }
    }
    // Step by step, not chained through Results: each big value (layout,
    // targets) then exists once in this frame instead of being copied.
    let mut l = cgroup::Layout::new();
    let need = cgroup::needed(limits, rules.is_some());
    let made = match cgroup::discover(&mut l, &need) {
        Ok(()) => match l.targets(&need, parent) {
            Ok(t) => cgs.create(&t, limits, &dev),
            Err(f) => Err(f),
        },
        Err(f) => Err(f),
    };
    made.map_err(|f| {
        match parent.filter(|_| f.at_parent()) {
            // docker makes a missing --cgroup-parent; mydocker does not
            // (README): the line names it, escaped.
            Some(p) => refused(b"--cgroup-parent", p, f.reason()),
            None => {
                f.report();
                125
            }
        }
    })
}

/// One line `mydocker: run: WHAT 'ARG': WHY`; 125.
#[inline(never)]
fn refused(what: &'static [u8], arg: &[u8], why: &'static [u8]) -> i32 {
    err::Usage { cmd: b"run", what, arg, why }.report();
    125
}

/// Checks the host side of --rootfs and --volume (with one clear line, exit
/// 125, before anything is created) and builds the mount table.
#[inline(never)]
fn filesystem(c: &Container, fs: &mut Table) -> Result<(), i32> {
    let Mounts::Docker { volumes, tmpfs, privileged } = c.fs.mounts else { return Ok(()) };
    // (Never an empty `arg`: the CLI refused those.)
    let bad = |what, arg, why| Err(refused(what, arg, why));
    if let Some(root) = c.fs.rootfs {
        let why: &[u8] = match sys::kind(root) {
            Ok(sys::FileKind::Dir) if c.process.default_shell() && !has_default_shell(root) => {
                b"no command given and no /bin/sh in the rootfs"
            }
            Ok(sys::FileKind::Dir) => b"",
            Ok(_) => b"not a directory",
            Err(e) => sys::strerror(e),
        };
        if !why.is_empty() {
            return bad(b"--rootfs", root, why);
        }
    }
    let mut vols = [Volume { src: b"", dst: b"", ro: false }; MAX_VOLUMES];
    let mut dirs = [false; MAX_VOLUMES];
    // cli.rs takes at most MAX_VOLUMES.
    let n = volumes.len().min(MAX_VOLUMES);
    for ((spec, vol), dir) in volumes.iter().zip(&mut vols).zip(&mut dirs) {
        let why = match mounts::parse_volume(spec) {
            Ok(v) => match sys::kind(v.src) {
                Ok(k) => {
                    (*vol, *dir) = (v, k == sys::FileKind::Dir);
                    continue;
                }
                Err(e) => sys::strerror(e),
            },
            Err(_) => b"malformed",
        };
        return bad(b"--volume", spec, why);
    }
    let spec = mounts::Spec {
        rootfs: c.fs.rootfs,
        volumes: vols.get(..n).unwrap_or(&[]),
        volume_is_dir: dirs.get(..n).unwrap_or(&[]),
        tmpfs,
        read_only: c.fs.read_only,
        workdir: c.process.cwd,
        privileged,
        devices: c.devices,
    };
    mounts::build(fs, &spec).or_else(|why| bad(b"--rootfs", c.fs.rootfs.unwrap_or(b""), why))
}

/// Whether the rootfs `root` has the default shell. Apart from
/// `filesystem`, whose frame every run probes, for its path buffer.
#[inline(never)]
fn has_default_shell(root: &[u8]) -> bool {
    let mut p = [0u8; 4200];
    let sh = crate::cli::DEFAULT_SHELL;
    if root.len() + sh.len() > p.len() {
        return false;
    }
    let n = crate::cgroup::join(&mut p, &[root, sh]);
    sys::exists_nofollow(&p[..n])
}

/// What mydocker inherited (signals at SIG_IGN, capability sets), from
/// /proc/self/status; unknown where /proc is not mounted.
#[inline(never)]
fn inherited() -> Inherited {
    let mut buf = [0u8; 4096];
    // One read: procfs hands over the whole (1.5 KiB) file at once.
    let Ok(fd) = sys::openat_c(sys::CWD, c"/proc/self/status", libc::O_RDONLY) else { return Inherited::UNKNOWN };
    let n = sys::read(fd, &mut buf);
    sys::close(fd);
    n.map_or(Inherited::UNKNOWN, |n| Inherited::from_status(&buf[..n]))
}

/// Refuses CPUs that are not online, and more --cpus than there are CPUs,
/// before anything is created.
fn check_cpus(l: &Limits) -> Result<(), i32> {
    if l.cpuset.is_none() && l.cpus.is_none() {
        return Ok(());
    }
    let online = cgroup::res::online_cpus(b"run", b"--cpuset-cpus", l.cpuset.map(|c| c.0)).ok_or(125)?;
    if let Some(milli) = l.cpus {
        if milli > online as u64 * 1000 {
            // The value echoed as a number (what was typed is not kept).
            let (whole, frac) = (Dec::new(milli / 1000), Dec::new(1000 + milli % 1000));
            let mut f = &frac.as_bytes()[1..];
            while let [rest @ .., b'0'] = f {
                f = rest;
            }
            let mut m = Line::new();
            m.s(b"mydocker: run: --cpus '").s(whole.as_bytes()).s(if f.is_empty() { b"" } else { b"." }).s(f);
            m.s(b"': more than the ")
                .s(Dec::new(online as u64).as_bytes())
                .s(b" online CPUs")
                .emit(2);
            return Err(125);
        }
    }
    Ok(())
}

/// -t: takes the master from the child and relays until the container is
/// gone. A child that failed before sending it (EOF) is waited for as
/// usual; its report follows on the error pipe.
#[inline(never)]
pub fn with_terminal(pid: libc::pid_t, sock: sys::Fd, input: bool) -> Result<i32, i32> {
    let got = console::receive(sock);
    sys::close(sock);
    match got {
        Ok(Some(master)) => crate::relay::run(pid, master, input),
        Ok(None) => forward_and_wait(pid),
        Err(e) => {
            // A container whose terminal nobody holds would block on its
            // first lines of output: stop it.
            let _ = sys::kill(pid, libc::SIGKILL);
            let _ = sys::wait(pid, false);
            Err(fail(Error { step: Step::Relay, errno: e }))
        }
    }
}

/// Relays signals to the container's PID 1 until it exits. mydocker never
/// exits before its child: this loop only ends with the child reaped.
/// Ok(wait status), or Err(exit code) when waiting itself failed.
pub fn forward_and_wait(pid: libc::pid_t) -> Result<i32, i32> {
    loop {
        match sys::sigwait(WAITED) {
            Ok(sig) => {
                if let Some(end) = on_signal(pid, sig, None) {
                    return end;
                }
            }
            Err(e) => {
                // Cannot happen with a valid set; still, never abandon the child.
                Error { step: Step::Wait, errno: e }.report(None);
                return sys::wait(pid, false).ok().flatten().ok_or(125);
            }
        }
    }
}

/// Acts on one signal taken while the container runs — what
/// `signals::action` decides, for every loop (sigwait here, the -t relay's
/// signalfd). Some once PID 1 has been reaped: Ok(wait status), or
/// Err(exit code). `master`: the container's terminal under -t.
pub fn on_signal(pid: libc::pid_t, sig: i32, master: Option<sys::Fd>) -> Option<Result<i32, i32>> {
    match signals::action(sig, master.is_some()) {
        signals::Action::Reap => match sys::wait(pid, true) {
            Ok(Some(status)) => Some(Ok(status)),
            Ok(None) => None,
            Err(e) => Some(Err(fail(Error { step: Step::Wait, errno: e }))),
        },
        signals::Action::Resize => {
            if let (Some(m), Ok(w)) = (master, sys::tty::winsize(0)) {
                let _ = sys::tty::set_winsize(m, w);
            }
            None
        }
        signals::Action::Forward => {
            // ESRCH: it exited meanwhile; SIGCHLD follows.
            let _ = sys::kill(pid, sig);
            None
        }
        signals::Action::Drop | signals::Action::Stop => None,
    }
}
