//! `start`, `kill`, `delete`: runc's contract, runc's words where clients
//! match on them ("container does not exist", "container not running").
use super::flags::{self, Flags};
use super::state::{self, Record, Status};
use super::{fail, fail1, fail2, fail3, fail_e, fail_io, Global};
use crate::cli::Args;
use crate::sys::{self, Errno, Fd};

/// The open state of one container: its directory and its record (read
/// into `buf`).
pub struct Opened<'b> {
    pub root: Fd,
    pub dir: Fd,
    pub rec: Record<'b>,
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        sys::close(self.dir);
        sys::close(self.root);
    }
}

/// Opens container `id`'s state; the error is runc's "container does not
/// exist" (or why the state cannot be read), already reported.
pub fn open<'b>(g: &Global, id: &[u8], buf: &'b mut [u8], quiet: bool) -> Result<Opened<'b>, i32> {
    let missing = |quiet: bool| if quiet { 1 } else { fail2(b"container does not exist: ", id) };
    if !state::valid_id(id) {
        return Err(missing(quiet));
    }
    let root = g.open_root(false).map_err(|_| missing(quiet))?;
    let dir = match sys::openat(root, id, libc::O_RDONLY | libc::O_DIRECTORY) {
        Ok(d) => d,
        Err(_) => {
            sys::close(root);
            return Err(missing(quiet));
        }
    };
    let read = state::read_all(dir, b"state", buf);
    // E2BIG (too long to be ours) is a damaged record too.
    let found = !matches!(read, Err(Errno(libc::ENOENT)));
    match read.ok().and_then(Record::decode) {
        Some(rec) => Ok(Opened { root, dir, rec }),
        None => {
            sys::close(dir);
            sys::close(root);
            Err(if found && !quiet { fail3(b"container ", id, UNREADABLE) } else { missing(quiet) })
        }
    }
}

/// A record that is there but does not decode: a power cut after the
/// rename, before the data reached the disk, or another version's.
const UNREADABLE: &[u8] =
    b": its state record is unreadable (empty, cut short, or another mydocker's): delete --force removes it";

/// The flags `f` (at most one: delete --force, ps --format) and exactly
/// one positional argument: the id and that flag's value.
pub fn one_id<'a>(args: &'a dyn Args, from: usize, f: Flags) -> Result<(&'a [u8], Option<&'a [u8]>), i32> {
    // Borrowed, not moved out of the Result: a move copies the whole table.
    let parsed = flags::parse_for(args, from, f);
    let p = parsed.as_ref().map_err(|c| *c)?;
    match p.positional() {
        [id] => Ok((id, p.vals[0])),
        _ => Err(fail3(b"usage: ", super::command(), b" ID")),
    }
}

pub fn start(g: &Global, args: &dyn Args, from: usize) -> i32 {
    match one_id(args, from, flags::NONE) {
        Ok((id, _)) => start_id(g, id),
        Err(code) => code,
    }
}

/// Releases a created container: one byte into its exec fifo (crun's
/// protocol), the fifo removed first so `state` says running at once.
pub fn start_id(g: &Global, id: &[u8]) -> i32 {
    let mut buf = [0u8; 16384];
    let opened = open(g, id, &mut buf, false);
    let o = match &opened {
        Ok(o) => o,
        Err(code) => return *code,
    };
    match state::status(o.dir, &o.rec) {
        Status::Created => {}
        Status::Stopped => return fail1(b"cannot start a container that has stopped"),
        // runc's start.go: its fifo would take the byte, but the process
        // could not run before a resume.
        Status::Paused => return fail1(b"cannot start a container in the paused state"),
        Status::Running => return fail1(b"cannot start an already running container"),
    }
    // ENXIO: nobody holds the read end: the process is gone, or a start
    // racing with this one released it after our status check and it has
    // exec'd (the read end is close-on-exec) — the status tells which.
    // ENOENT: such a start took the fifo after our status check.
    let fd = match sys::openat(o.dir, b"exec.fifo", libc::O_WRONLY | libc::O_NONBLOCK) {
        Ok(fd) => fd,
        Err(Errno(libc::ENXIO)) if state::status(o.dir, &o.rec) == Status::Running => {
            return fail1(b"cannot start an already running container")
        }
        Err(Errno(libc::ENXIO)) => return fail1(b"container not running"),
        Err(Errno(libc::ENOENT)) => return fail1(b"cannot start an already running container"),
        Err(e) => return fail_e(b"exec.fifo", e),
    };
    // The unlink is the claim: of starts racing past the status check,
    // only the one that removes the fifo writes to it (runc: exactly one
    // start succeeds).
    if sys::oci::unlinkat(o.dir, b"exec.fifo").is_err() {
        sys::close(fd);
        return fail1(b"cannot start an already running container");
    }
    let r = sys::oci::write_once(fd, b"0");
    // Returns once the command runs, as runc's start (it reads the fifo to
    // EOF): the container's read end is close-on-exec, so the fifo has no
    // reader left once it has exec'd (or died). A client's next step — exec
    // into it, /proc/PID — then sees the command, not mydocker.
    if r == Ok(1) {
        while !sys::no_reader(fd, true) {}
    }
    sys::close(fd);
    match r {
        Ok(1) => 0,
        Ok(_) => fail1(b"exec.fifo: short write"),
        Err(e) => fail_e(b"exec.fifo", e),
    }
}

/// Signal names as runc's kill takes them (a number, NAME or SIGNAME):
/// word i is signal i + 1; IOT, last, is another name of ABRT (6).
/// (signal(7): SYS is 31 on x86_64 and aarch64.)
const SIGNALS: &[u8] = b"HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT \
STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS IOT";

/// 0 too: runc sends it, kill(2)'s "is it alive?" (0 while the
/// container's process exists, 'container not running' once it stopped).
pub fn parse_signal(s: &[u8]) -> Option<i32> {
    if let Some(n) = crate::limits::parse_u64(s) {
        return (n <= 64).then_some(n as i32);
    }
    crate::words::find_upper(SIGNALS, b"SIG", s).map(|i| if i == 31 { libc::SIGABRT } else { i as i32 + 1 })
}

const KILL_FLAGS: Flags = Flags { names: b"all a", takes: 0 };

pub fn kill(g: &Global, args: &dyn Args, from: usize) -> i32 {
    let parsed = flags::parse_for(args, from, KILL_FLAGS);
    let p = match &parsed {
        Ok(p) => p,
        Err(code) => return *code,
    };
    let (id, sig) = match p.positional() {
        [id] => (*id, &b"TERM"[..]),
        [id, s] => (*id, *s),
        _ => return fail1(b"usage: kill [--all] ID [SIGNAL]"),
    };
    let Some(sig) = parse_signal(sig) else { return fail2(b"invalid signal: ", sig) };
    let mut buf = [0u8; 16384];
    let opened = open(g, id, &mut buf, false);
    let o = match &opened {
        Ok(o) => o,
        Err(code) => return *code,
    };
    let st = state::status(o.dir, &o.rec);
    if st == Status::Stopped {
        return fail1(b"container not running");
    }
    let r = if p.has(0) && signal_cgroup(&o.rec, sig) > 0 { Ok(()) } else { sys::kill(o.rec.pid, sig) };
    // A frozen task dies of SIGKILL only once thawed (v1 freezer): runc
    // thaws a paused container after sending it, so the kill lands.
    if st == Status::Paused && sig == libc::SIGKILL {
        super::pause::thaw_all(&o.rec);
    }
    match r {
        Ok(()) => 0,
        Err(Errno(libc::ESRCH)) => fail1(b"container not running"),
        Err(e) => fail1(sys::strerror(e)),
    }
}

/// Sends `sig` to every process in the container's first cgroup; how many.
pub fn signal_cgroup(rec: &Record, sig: i32) -> usize {
    let mut n = 0;
    let Some(d) = rec.cgroup_dirs().next() else { return 0 };
    pids(d, &mut |pid| {
        let _ = sys::kill(pid, sig);
        n += 1;
    });
    n
}

/// Calls `f` with each pid in cgroup.procs of the cgroup at `dir`.
pub fn pids(dir: &[u8], f: &mut dyn FnMut(i32)) {
    let mut path = [0u8; 4200];
    let n = crate::cgroup::join(&mut path, &[dir, b"/cgroup.procs"]);
    let mut buf = [0u8; 4096];
    let _ = crate::cgroup::for_each_line(&path[..n], &mut buf, &mut |l| {
        if let Some(p) = crate::limits::parse_u64(l) {
            f(p as i32);
        }
    });
}

const DELETE_FLAGS: Flags = Flags { names: b"force f", takes: 0 };

pub fn delete(g: &Global, args: &dyn Args, from: usize) -> i32 {
    match one_id(args, from, DELETE_FLAGS) {
        Ok((id, force)) => delete_id(g, id, force.is_some(), true),
        Err(code) => code,
    }
}

/// `again`: whether a record that turns up meanwhile (a create under way
/// wrote it) is worth one more open; a record still unreadable then is
/// damaged: said, or with `force` removed as if there were none.
fn delete_id(g: &Global, id: &[u8], force: bool, again: bool) -> i32 {
    let mut buf = [0u8; 16384];
    let opened = open(g, id, &mut buf, true);
    let o = match &opened {
        Ok(o) => o,
        Err(_) => match remove_unrecorded(g, id, force && !again) {
            // A create that was under way has its record now: delete that.
            Some(true) if again => return delete_id(g, id, force, false),
            Some(true) => return fail3(b"container ", id, UNREADABLE),
            // runc: an unknown id with --force is not an error.
            Some(false) if force => return 0,
            Some(false) => return fail2(b"container does not exist: ", id),
            None => return 1,
        },
    };
    // Held until the container is gone (closing `dir` lets go): a pause
    // meanwhile waits, then finds it stopped — else it could freeze the
    // dying container after our thaw, for good (pause.rs).
    if !lock(o.dir, id) {
        return 1;
    }
    let shared = shared_pid(o.dir);
    match state::status(o.dir, &o.rec) {
        Status::Stopped => {}
        // runc deletes a created container without --force: it never ran.
        Status::Created => stop(&o.rec, shared),
        s if force => {
            let _ = s;
            stop(&o.rec, shared)
        }
        s => {
            return fail(&[b"cannot delete container ", id, b" that is not stopped: ", s.name()]);
        }
    }
    finish(o, id, shared)
}

/// A state directory without a record — a create killed before it wrote
/// one — is removed, as runc's delete does, so the id can be used again;
/// with the cgroups its create listed (oci::cgroups::one) and what may
/// still run in them (its container's process ends on create's death by
/// itself, child.rs, but perhaps not yet).
/// A create still under way holds the directory's lock until its record
/// is in: waited for. Some(true): the record is there then; None: a cgroup
/// is left (said), the directory kept for a later delete.
/// `damaged`: a record that is there counts as none.
fn remove_unrecorded(g: &Global, id: &[u8], damaged: bool) -> Option<bool> {
    let mut r = Some(false);
    if !state::valid_id(id) {
        return r;
    }
    let Ok(root) = g.open_root(false) else { return r };
    if let Ok(dir) = sys::openat(root, id, libc::O_RDONLY | libc::O_DIRECTORY) {
        let mut buf = [0u8; 4200];
        if !lock(dir, id) {
            r = None;
        } else if !damaged && sys::openat(dir, b"state", libc::O_PATH).map(sys::close).is_ok() {
            r = Some(true);
        } else if state::read_all(dir, b"cgroups", &mut buf).map_or(false, |l| remove_cgroups(l, true)) {
            r = None;
        } else {
            let _ = state::remove(root, id, dir);
        }
        sys::close(dir);
    }
    sys::close(root);
    r
}

/// Takes the state directory's lock, waiting up to 10 s (what delete gives
/// a container to die): a create stopped or stuck (a hung volume source) in
/// the middle must not hang delete for good; runc's delete never waits.
/// false (said): still held.
#[inline(never)]
fn lock(dir: sys::Fd, id: &[u8]) -> bool {
    for _ in 0..1000 {
        if sys::flock(dir, libc::LOCK_EX | libc::LOCK_NB) != Err(Errno(libc::EWOULDBLOCK)) {
            return true;
        }
        sys::sleep_ms(10);
    }
    fail3(b"container ", id, b": busy for 10 s (a create under way?)");
    false
}

/// Whether the container has no pid namespace of its own (create left the
/// mark SHARED_PID): runc's !IsPrivate(NEWPID), from the config, not from
/// the process — a stopped container has none left to look at.
fn shared_pid(dir: Fd) -> bool {
    crate::cgroup::has(dir, state::SHARED_PID)
}

/// SIGKILL to the container (every process of its cgroup too) and wait, up
/// to 10 s as runc does, until its process is gone (or a zombie: its
/// reaper is the caller's business).
fn stop(rec: &Record, shared: bool) {
    // The init of its own pid namespace: its death ends the rest (the
    // kernel), and a cgroup-wide kill could hit another container given the
    // same cgroupsPath (runc kills the init only then). Nor in a cgroup
    // create found (it may hold others' processes).
    if shared && rec.cgroup_dirs().all(ours) {
        signal_cgroup(rec, libc::SIGKILL);
    }
    let _ = sys::kill(rec.pid, libc::SIGKILL);
    // A paused container's tasks die only once thawed (v1 freezer).
    super::pause::thaw_all(rec);
    for _ in 0..1000 {
        if !state::alive(rec) {
            return;
        }
        sys::sleep_ms(10);
    }
}

/// Removes the cgroups and the state directory. A cgroup of the
/// container's own that cannot be removed fails the delete and keeps the
/// record (runc's way), so that a later delete can finish: without it, no
/// command would find the cgroup again.
fn finish(o: &Opened, id: &[u8], kill: bool) -> i32 {
    if remove_cgroups(o.rec.cgroups, kill) {
        return 1;
    }
    match state::remove(o.root, id, o.dir) {
        // ENOENT: a concurrent delete removed it first; it is gone either way.
        Ok(()) | Err(Errno(libc::ENOENT)) => 0,
        Err(e) => fail_io(b"removing the state of ", id, e),
    }
}

/// Whether create made the cgroup `d` (state::Record::cgroups).
fn ours(d: &[u8]) -> bool {
    !d.ends_with(b"/")
}

/// remove_cgroup of each directory in `list` (NUL-separated, as
/// state::Record::cgroups); whether one of the container's own is left.
fn remove_cgroups(list: &[u8], kill: bool) -> bool {
    let mut left = false;
    for d in list.split(crate::words::on(0)).filter(|d| !d.is_empty()) {
        left |= remove_cgroup(d, kill);
    }
    left
}

/// Removes a container cgroup create made, with the cgroups below it
/// (cgroup::rmdir_busy: `kill`, its processes are killed while they
/// linger); whether it is left (said in one line). One create found there
/// belongs to others too: one rmdir takes it only when empty, and nothing
/// below it is touched (runc's cgroups are all its own).
fn remove_cgroup(d: &[u8], kill: bool) -> bool {
    if !ours(d) {
        let _ = sys::rmdirat(sys::CWD, d);
        return false;
    }
    match crate::cgroup::rmdir_busy(sys::CWD, d, kill) {
        Ok(()) => false,
        Err(e) => fail_io(b"removing cgroup ", d, e) != 0,
    }
}

/// What `run` without --detach does once the container exited.
pub fn destroy(g: &Global, id: &[u8]) {
    let mut buf = [0u8; 16384];
    if let Ok(o) = &open(g, id, &mut buf, true) {
        finish(o, id, shared_pid(o.dir));
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_as_number_name_or_signame() {
        assert_eq!(parse_signal(b"9"), Some(9));
        assert_eq!(parse_signal(b"KILL"), Some(9));
        assert_eq!(parse_signal(b"SIGTERM"), Some(15));
        assert_eq!(parse_signal(b"sigusr1"), Some(10));
        assert_eq!(parse_signal(b"0"), Some(0));
        assert_eq!(parse_signal(b"65"), None);
        assert_eq!(parse_signal(b"NOPE"), None);
        assert_eq!((parse_signal(b"IOT"), parse_signal(b"SIGPWR"), parse_signal(b"hup")), (Some(6), Some(30), Some(1)));
        assert_eq!(
            (parse_signal(b"SIGSYS"), parse_signal(b"sys"), parse_signal(b"SIGSTKFLT")),
            (Some(31), Some(31), Some(16))
        );
    }
}
