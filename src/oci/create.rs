//! `create` and OCI `run`: the container is set up from the bundle and left
//! waiting before execve; `create` writes the state and the pid file and
//! exits 0, `run` also starts it (and, without --detach, waits for it).
//!
//! Order (each step undone when a later one fails): the state directory
//! (mkdir: the atomic "id already exists" check), config.json read and
//! mapped to the model (refusals name the field), the exec fifo, the
//! cgroups, clone (spawn::create returns once the child reports ready —
//! after every mount, the privileges and the command lookup), then the
//! state record, the annotations, a copy of config.json and the pid file,
//! each written to a temp file and renamed.
use super::cgroups;
use super::config::{self, Refusal, Store};
use super::flags::{self, Flags};
use super::state::{self, Record};
use super::{fail, fail1, fail2, fail3, fail_e, fail_io, Global};
use crate::cli::Args;
use crate::devices::Policy;
use crate::json;
use crate::model::{Container, Env, Fs, Mode, Mounts, Namespaces, Process};
use crate::mounts::{self, Entry, Table};
use crate::sys::{self, Errno, Fd, Map};

pub(super) const FLAGS: Flags =
    Flags { names: b"bundle b|pid-file|console-socket|no-pivot|no-new-keyring|preserve-fds|detach d", takes: 0b100111 };
pub(super) const BUNDLE: usize = 0;
const PID_FILE: usize = 1;
const CONSOLE: usize = 2;
const PRESERVE: usize = 5;
const DETACH: usize = 6;

pub fn create(g: &Global, args: &dyn Args, from: usize) -> i32 {
    match setup(g, args, from, false) {
        Ok(_) => 0,
        Err(code) => code,
    }
}

/// OCI `run`: create, start, and without --detach wait for the container
/// and delete it, exiting with its status.
pub fn run(g: &Global, args: &dyn Args, from: usize) -> i32 {
    let (pid, id, detach, relay) = match setup(g, args, from, true) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let code = super::ctl::start_id(g, id);
    if code != 0 || detach {
        sys::close(relay);
        return code;
    }
    // We are the container's parent: wait for it like `mydocker run` does
    // (relaying its terminal, when we hold its master).
    let status = match relay {
        -1 => crate::spawn::forward_and_wait(pid),
        sock => crate::spawn::with_terminal(pid, sock, true),
    };
    super::ctl::destroy(g, id);
    status.map_or_else(|c| c, crate::err::status_code)
}

/// A path made absolute against the working directory (a relative one
/// loses its "./" and trailing slashes).
fn absolute<'b>(p: &[u8], buf: &'b mut [u8; 4096]) -> Result<&'b [u8], Errno> {
    let rel = !p.starts_with(b"/");
    let (c, sep, rest): (usize, &[u8], &[u8]) = match rel {
        false => (0, b"", p),
        true => (sys::oci::getcwd(buf)?, b"/", if p == b"." { b"" } else { p.strip_prefix(b"./").unwrap_or(p) }),
    };
    let n = c + crate::cgroup::join(&mut buf[c..], &[sep, rest]);
    if n != c + sep.len() + rest.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    let mut r = &buf[..n];
    while rel && r.len() > 1 && r.ends_with(b"/") {
        r = &r[..r.len() - 1];
    }
    Ok(r)
}

/// Everything create does; returns the pid, the id and --detach.
/// and the socket the terminal's master comes on when `run` relays it (-1:
/// none).
fn setup<'a>(g: &Global, args: &'a dyn Args, from: usize, run: bool) -> Result<(libc::pid_t, &'a [u8], bool, Fd), i32> {
    // Borrowed, not moved out of the Result: a move copies the whole table.
    let parsed = flags::parse_for(args, from, FLAGS);
    let p = match &parsed {
        Ok(p) => p,
        Err(code) => return Err(*code),
    };
    let [id] = p.positional() else {
        return Err(fail(&[b"usage: ", super::command(), b" [--bundle DIR] [--pid-file FILE] ID"]));
    };
    let id: &'a [u8] = id;
    if !state::valid_id(id) {
        return Err(fail(&[b"invalid container id '", id, b"': use [A-Za-z0-9_+.-]"]));
    }
    let preserve = match p.vals[PRESERVE] {
        None => 0,
        Some(v) => match crate::limits::parse_u64(v) {
            Some(n) if n < 1 << 20 => n as i32,
            _ => return Err(fail3(b"--preserve-fds '", v, b"': not a number of fds")),
        },
    };
    let mut bbuf = [0u8; 4096];
    let bundle = absolute(p.vals[BUNDLE].unwrap_or(b"."), &mut bbuf).map_err(|e| fail_e(b"--bundle", e))?;
    let root = g.open_root(true).map_err(|e| fail_io(b"state directory ", g.root(), e))?;
    // Signals blocked before anything is made, as `run` does (spawn::launch
    // blocks the same set): a TERM while the cgroups exist but the record
    // does not would leave them where no command finds them.
    sys::set_sigmask(crate::signals::WAITED);
    match sys::oci::mkdir_mode(root, id, 0o711) {
        Ok(()) => {}
        Err(Errno(libc::EEXIST)) => return Err(fail2(b"container with id exists: ", id)),
        Err(e) => return Err(fail_io(b"creating the state of ", id, e)),
    }
    let dir = match sys::openat(root, id, libc::O_RDONLY | libc::O_DIRECTORY) {
        Ok(d) => d,
        Err(e) => {
            let _ = sys::rmdirat(root, id);
            return Err(fail_io(b"opening the state of ", id, e));
        }
    };
    // Held until the record is in (or the directory gone): a delete of
    // this id meanwhile waits instead of removing a directory without a
    // record that a live container is about to get (ctl::remove_unrecorded).
    let _ = sys::flock(dir, libc::LOCK_EX);
    let detach = p.has(DETACH);
    let mut relay = -1;
    let attached = (run && !detach).then_some(&mut relay);
    let r = build_and_spawn(id, bundle, dir, preserve, p.vals[PID_FILE], p.vals[CONSOLE], attached);
    if r.is_err() {
        sys::close(relay);
        let _ = state::remove(root, id, dir);
    }
    let _ = sys::flock(dir, libc::LOCK_UN);
    r.map(|pid| (pid, id, detach, relay))
}

fn refused(r: Refusal) -> i32 {
    r.report(b"config.json: ")
}

// Not inlined into setup: measured smaller as a call (issue 12, size).
#[inline(never)]
fn build_and_spawn(
    id: &[u8],
    bundle: &[u8],
    dir: Fd,
    preserve_fds: i32,
    pid_file: Option<&[u8]>,
    console: Option<&[u8]>,
    relay: Option<&mut Fd>,
) -> Result<libc::pid_t, i32> {
    // config.json mapped twice: once to parse (strings are decoded in
    // place), once untouched (annotations and the saved copy are byte for
    // byte).
    let keep = relay.is_none();
    let mut buf = [0u8; 4200];
    let n = crate::cgroup::join(&mut buf, &[bundle, b"/config.json"]);
    let path = &buf[..n];
    let mut nodes = None;
    let doc = sys::map_file(path)
        .map_err(super::exec::Unreadable::Sys)
        .and_then(|pristine| Ok((pristine, super::exec::load(path, &mut nodes)?)));
    let (pristine, doc) = doc.map_err(|u| u.report(b"config.json: ", path))?;
    let root = doc.root();
    if root.kind() != json::Kind::Obj {
        return Err(fail1(b"config.json: not a JSON object"));
    }
    config::shapes(root).map_err(|r| refused(r))?;
    config::unsupported(root).map_err(|r| refused(r))?;
    let mut st = Store::new();
    let process = root.get("process").ok_or_else(|| refused(Refusal { field: b"process", why: b"missing" }))?;
    let proc_r = config::process(process, &mut st);
    let proc_ = match &proc_r {
        Ok(p) => p,
        Err(r) => return Err(refused(*r)),
    };
    // A terminal's master goes to the console socket, as runc sends it.
    // (With the caller's window size when relayed: runc resizes to its
    // terminal too, not to consoleSize.)
    let (console, relayed_size) = match (proc_.terminal, console, relay) {
        (true, Some(path), _) => {
            (Some(sys::tty::connect_unix(path).map_err(|e| fail_io(b"--console-socket ", path, e))?), None)
        }
        // An attached `run` relays the terminal itself, as runc does (the
        // caller's stdin must be one, as for `mydocker run -t`).
        (true, None, Some(mine)) => {
            if !sys::tty::is_tty(0) {
                return Err(fail1(crate::console::NOT_A_TTY));
            }
            let (m, theirs) = sys::tty::socketpair().map_err(|e| fail_e(b"socketpair", e))?;
            *mine = m;
            (Some(theirs), sys::tty::winsize(0).ok())
        }
        (true, None, None) => {
            return Err(refused(Refusal { field: b"process.terminal", why: b"needs --console-socket" }))
        }
        (false, Some(_), _) => return Err(fail1(b"--console-socket: process.terminal is not set")),
        (false, None, _) => (None, None),
    };
    let linux = root.get("linux");
    let ns_new = config::namespaces(linux.and_then(|l| l.get("namespaces")), &mut st).map_err(|r| refused(r))?;
    let mut sysctl_text = [0u8; 4096];
    let mut sysctl = [(&b""[..], &b""[..]); config::MAX_SYSCTL];
    let nsysctl = config::sysctl(linux, ns_new, &mut sysctl_text, &mut sysctl).map_err(|r| refused(r))?;
    let mut policy = Policy::new();
    let res_r = cgroups::resources(linux, &mut policy);
    let res = match &res_r {
        Ok(r) => r,
        Err(r) => return Err(refused(*r)),
    };
    if res.cg.cpus.is_some() {
        crate::cgroup::res::online_cpus(super::command(), b"linux.resources.cpu.cpus", res.cg.cpus).ok_or(1)?;
    }
    // Always, as runc: its device rules start from deny-all and end with its
    // always-allowed nodes and linux.devices, whether or not the config has
    // rules of its own — else a container with CAP_MKNOD could make and open
    // any host device.
    cgroups::default_rules(linux, &mut policy).map_err(|r| refused(r))?;
    // Without a cgroupsPath: "<id>-<12 hex>" under the caller's own cgroup.
    // Random, not the id alone: ids are unique only within one --root, and
    // two containers must never share (and delete) one cgroup.
    let mut dflt = [0u8; 1100];
    let cg_path: &[u8] = match linux.and_then(|l| l.get("cgroupsPath")).and_then(|p| p.as_bytes()) {
        Some(p) if !p.is_empty() && valid_cgroup_path(p) => p,
        Some(p) if !p.is_empty() => {
            let why = b"not a cgroup path below the hierarchy's root (systemd slice:prefix:name paths need --systemd-cgroup, which is not supported)";
            return Err(refused(Refusal { field: b"linux.cgroupsPath", why }));
        }
        _ => {
            let rnd = sys::random6().map_err(|e| fail_e(b"getrandom", e))?;
            let n = crate::cgroup::join(&mut dflt, &[id, b"-", &crate::plan::container_id(rnd)]);
            &dflt[..n]
        }
    };
    // A uts namespace of the container's own: new, or joined by path (runc
    // sets the names there too).
    let own_uts = ns_new & libc::CLONE_NEWUTS != 0 || st.joins[..st.njoins].iter().any(|j| j.0 == libc::CLONE_NEWUTS);
    let hostname = uts_name(root.get("hostname"), b"hostname", own_uts).map_err(|r| refused(r))?;
    let domainname = uts_name(root.get("domainname"), b"domainname", own_uts).map_err(|r| refused(r))?;
    let mut abuf = [0u8; 512];
    let apparmor = config::apparmor(process, &mut abuf).map_err(|r| refused(r))?;
    let mut rbuf = [0u8; 4096];
    let rootfs = config::rootfs(root.get("root"), bundle, &mut rbuf).map_err(|r| refused(r))?;
    match sys::kind(rootfs) {
        Ok(sys::FileKind::Dir) => {}
        Ok(_) => return Err(fail3(b"root.path ", rootfs, b": not a directory")),
        Err(e) => return Err(fail_io(b"root.path ", rootfs, e)),
    }
    let (nent, ntext) = super::mounts::table_size(root, rootfs.len() + bundle.len(), pristine.len());
    let size = nent * core::mem::size_of::<Entry>() + ntext;
    let mut tmap = Map::new(size, false).map_err(|e| fail_e(b"mount table", e))?;
    let (entries, ttext) = tmap.typed(nent, mounts::EMPTY).ok_or_else(|| fail1(b"mount table: no memory"))?;
    let mut table = Table::new(entries, ttext);
    // create's word to its container's process that the record is in
    // (child.rs; model::Mode::Created). Closed at exit on every way out.
    let (ack, acked) = sys::pipe().map_err(|e| fail_e(b"pipe", e))?;
    // No pid namespace of its own: delete must then kill every process of
    // its cgroups (ctl::shared_pid). Marked before the record and the
    // cgroups, so no container is ever without its mark.
    if ns_new & libc::CLONE_NEWPID == 0 {
        sys::openat(dir, state::SHARED_PID, libc::O_WRONLY | libc::O_CREAT)
            .map(sys::close)
            .map_err(|e| fail_io(b"writing ", state::SHARED_PID, e))?;
    }
    // The cgroups before the mount table: a v1 `cgroup` mount binds them.
    // Borrowed, not moved out of the Result: a move copies its 4 KiB.
    let mut made_r = cgroups::make(cg_path, res, &policy, dir);
    let made = match &mut made_r {
        Ok(m) => m,
        Err((what, why)) => return Err(fail(&[b"cgroup ", cg_path, b": ", what, b": ", why])),
    };
    let built = super::mounts::build(root, rootfs, bundle, proc_.cwd, &made.paths[..made.plen], &mut table);
    if let Err(r) = built {
        made.remove();
        return Err(refused(r));
    }
    let fifo = sys::oci::mkfifoat(dir, b"exec.fifo", 0o600)
        .and_then(|_| sys::openat(dir, b"exec.fifo", libc::O_RDONLY | libc::O_NONBLOCK))
        .map_err(|e| {
            made.remove();
            fail_e(b"exec.fifo", e)
        })?;

    let mut c = container(id, proc_, &st, linux, apparmor, console, &table, Mode::Created { fifo, ack });
    c.ns = Namespaces { new: ns_new, join: &st.joins[..st.njoins] };
    c.hostname = hostname;
    c.domainname = domainname;
    c.fs.rootfs = Some(rootfs);
    c.sysctl = &sysctl[..nsysctl];
    c.preserve_fds = preserve_fds;
    c.cgroup_fds = Some(made.child_fds());
    if let (Some(w), Some((fd, _))) = (relayed_size, c.console_socket) {
        c.console_socket = Some((fd, (w.0[0], w.0[1])));
    }
    let pid = crate::spawn::create(&c);
    if let Some(fd) = console {
        sys::close(fd);
    }
    let pid = match pid {
        Ok(pid) => pid,
        Err(_) => {
            made.remove();
            return Err(1);
        }
    };
    sys::close(fifo);
    made.close();
    let cgs = &made.paths[..made.plen];
    // Last, the keeper (sys::keeper): unprotected, the container must not
    // run. An attached `run` needs none: it waits for the container.
    let saved = save(dir, id, pid, bundle, rootfs, pristine, root.get("annotations"), pid_file, cgs).and_then(|_| {
        if keep {
            sys::keeper::keep(pid).map_err(|e| fail_e(b"keeper", e))
        } else {
            Ok(())
        }
    });
    if let Err(code) = saved {
        let _ = sys::kill(pid, libc::SIGKILL);
        // Gone once SIGKILL is delivered: its cgroups can then go.
        for _ in 0..100 {
            if state::proc_start(pid).is_none() {
                break;
            }
            sys::sleep_ms(10);
        }
        made.remove();
        return Err(code);
    }
    // Not read any more; the keeper, which shares our memory, must not pin
    // config.json's mount nor what parsing it took (its node table is 8
    // bytes per byte of config.json: MBs for large annotations).
    sys::unmap(root.raw());
    sys::unmap(pristine);
    if let Some(m) = nodes {
        m.unmap();
    }
    tmap.unmap();
    let _ = sys::write_all(acked, b"1");
    sys::close(acked);
    Ok(pid)
}

/// The container `create` and `exec` hand to spawn: config.json's process
/// settings (`p`, `st`, the AppArmor line), the filter of its
/// `linux.seccomp` (compiled by spawn for the kept capabilities), the
/// mount table, nothing docker-style. The caller sets the rest of its own
/// (namespaces, rootfs, sysctl, cgroups, ...).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub(super) fn container<'a>(
    id: &'a [u8],
    p: &config::Process<'a>,
    st: &'a Store<'a>,
    linux: Option<json::Value<'a>>,
    apparmor: Option<&'a [u8]>,
    console: Option<Fd>,
    table: &'a Table<'a>,
    mode: Mode,
) -> Container<'a> {
    Container {
        id: Some(id),
        ns: Namespaces { new: 0, join: &[] },
        hostname: None,
        domainname: None,
        apparmor,
        process: Process { args: &st.args, from: 0, env: Env::List(&st.env), cwd: Some(p.cwd) },
        fs: Fs { rootfs: None, read_only: false, mounts: Mounts::Table(table) },
        user: config::user(p, st),
        caps: crate::model::Caps::Sets(p.caps),
        no_new_privs: p.no_new_privs,
        rlimits: &st.rlimits[..st.nrlimits],
        sysctl: &[],
        oom_score_adj: p.oom_score_adj,
        limits: crate::cli::Limits::NONE,
        cgroup_parent: None,
        devices: &[],
        // The container's device policy is its cgroup's, set by create.
        device_rules: None,
        seccomp: match linux.and_then(|l| l.get("seccomp")).filter(|v| !v.is_null()) {
            Some(v) => crate::seccomp::Profile::Json(v),
            None => crate::seccomp::Profile::Unconfined,
        },
        terminal: console.is_some(),
        interactive: false,
        console_socket: console.map(|fd| (fd, p.console.unwrap_or((0, 0)))),
        init: false,
        mode,
        preserve_fds: 0,
        cgroup_fds: None,
        pid_file: None,
    }
}

/// hostname or domainname: at most 64 bytes, and only in a uts namespace
/// of the container's own; "" is not set (runc: the namespace keeps the
/// name it was made with).
fn uts_name<'a>(v: Option<json::Value<'a>>, field: &'static [u8], own_uts: bool) -> Result<Option<&'a [u8]>, Refusal> {
    match v.filter(|h| !h.is_null()).map(|h| h.as_bytes()) {
        None | Some(Some(b"")) => Ok(None),
        Some(Some(h)) if h.len() <= 64 && !h.contains(&0) && own_uts => Ok(Some(h)),
        Some(_) => Err(Refusal { field, why: b"needs a uts namespace of the container's own, and at most 64 bytes" }),
    }
}

/// A cgroupfs path: '/'-separated names, none of them "." or "..", and at
/// least one: "/" would be each hierarchy's root, where the container's
/// limits and device policy would reach every process of the host.
fn valid_cgroup_path(p: &[u8]) -> bool {
    !p.contains(&0)
        && !p.contains(&b':')
        && p.iter().any(|&c| c != b'/')
        && p.split(crate::words::on(b'/')).all(|c| c != b"." && c != b"..")
}

/// The state record, the annotations, the config copy and the pid file.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn save(
    dir: Fd,
    id: &[u8],
    pid: libc::pid_t,
    bundle: &[u8],
    rootfs: &[u8],
    pristine: &[u8],
    annotations: Option<json::Value>,
    pid_file: Option<&[u8]>,
    cgroups: &[u8],
) -> Result<(), i32> {
    let created = super::jw::now();
    let rec = Record {
        pid,
        start: state::proc_start(pid).unwrap_or(0),
        created: &created,
        bundle,
        rootfs,
        owner: sys::oci::uid(),
        cgroups,
    };
    let mut buf = [0u8; 16384];
    let n = rec.encode(&mut buf).ok_or_else(|| fail3(b"state of ", id, b": paths too long"))?;
    let w = |name: &[u8], data: &[u8]| state::write_atomic(dir, name, data).map_err(|e| fail_io(b"writing ", name, e));
    if let Some(a) = annotations.filter(|a| a.kind() == json::Kind::Obj) {
        w(b"annotations", pristine.get(a.span()).unwrap_or(b"{}"))?;
    }
    w(b"config.json", pristine)?;
    w(b"state", &buf[..n])?;
    if let Some(p) = pid_file {
        write_pid_file(p, pid).map_err(|e| fail_io(b"--pid-file ", p, e))?;
    }
    Ok(())
}

/// The pid file as runc writes it: the number, no newline, through a temp
/// file in the same directory renamed over the target (state::write_atomic).
#[inline(never)]
pub(crate) fn write_pid_file(path: &[u8], pid: libc::pid_t) -> Result<(), Errno> {
    let (dirpath, name) = match path.iter().rposition(|&c| c == b'/') {
        Some(0) => (&b"/"[..], &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&b"."[..], path),
    };
    let dir = sys::openat(sys::CWD, dirpath, libc::O_RDONLY | libc::O_DIRECTORY)?;
    let r = state::write_atomic(dir, name, crate::limits::Dec::new(pid as u64).as_bytes());
    sys::close(dir);
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cgroups_path_must_name_a_cgroup_below_the_hierarchys_root() {
        for ok in [&b"a"[..], b"/a/b", b"a/b/", b"//a"] {
            assert!(super::valid_cgroup_path(ok), "{ok:?}");
        }
        for bad in [&b"/"[..], b"//", b"/../a", b"a/./b", b"s.slice:p:n", b"a\0b"] {
            assert!(!super::valid_cgroup_path(bad), "{bad:?}");
        }
    }
}
