//! `exec`: one more process in a running container, as runc's clients ask
//! for it — conmon (`podman exec`) and the containerd shim (`ctr task exec`,
//! Kubernetes probes) with `--detach --pid-file P --process F`, CRI-O
//! without `--detach` (mydocker waits and exits with the command's status).
//!
//! The process is a model::Container run by the one spawn/child path:
//! - it joins every namespace of the container's process by path (ns.join,
//!   spawn/nsjoin.rs: ipc, uts, net, cgroup, then mount last, in the
//!   child) — the PID namespace by mydocker itself, before clone:
//!   setns(CLONE_NEWPID) only places the children made afterwards;
//! - it joins every cgroup of the container: the child moves itself in,
//!   first thing after clone, through join files mydocker opened (as OCI
//!   create's init: before any code of the container's runs; nothing is
//!   created, nothing to remove). Forked outside, moved in: pids.max
//!   refuses forks into a cgroup at its limit, not moves (runc's way);
//! - nothing is mounted: the mount namespace is the container's, `/` is
//!   its root, only the working directory is entered;
//! - process settings (args, env, cwd, user, capabilities, noNewPrivileges,
//!   rlimits, terminal) come from `--process FILE`, a runtime-spec Process
//!   object, or else from the container's own config.json with the flags
//!   applied on top (runc's rules).
use super::config::{self, Refusal, Store};
use super::ctl;
use super::flags::{Bad, Flags, Item, Walk};
use super::state::{self, Status};
use super::{fail, fail1, fail3, fail_io, Global};
use crate::cli::Args;
use crate::json;
use crate::model::{Env, Mode};
use crate::mounts::{self, Table};
use crate::sys::{self, Errno, Map};

/// The exec command line, parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct ExecArgs<'a> {
    pub id: &'a [u8],
    pub process: Option<&'a [u8]>,
    pub detach: bool,
    pub pid_file: Option<&'a [u8]>,
    pub console_socket: Option<&'a [u8]>,
    pub tty: bool,
    pub cwd: Option<&'a [u8]>,
    pub user: Option<&'a [u8]>,
    pub preserve_fds: i32,
    /// The flags are args[from..id_at] (the --env values are read from
    /// there again, in order: no table to size); the command is
    /// args[id_at + 1..] (without --process).
    pub from: usize,
    pub id_at: usize,
}

/// The exec flags runc's clients pass; anything else (--cap, --apparmor,
/// --cgroup, …) is an unknown flag: set it in the --process file instead.
/// An empty --process-label is what they pass when there is none.
const FLAGS: Flags = Flags {
    names: b"process p|detach d|pid-file|console-socket|tty t|cwd|env e|user u|preserve-fds|process-label",
    takes: 0b11_1110_1101,
};
const ENV: usize = 6;

/// Parses `args[from..]`: flags up to the container id (the first operand,
/// or what follows `--`); what follows the id is the command, flags or
/// not (as runc: `exec ID sh -c ...`).
pub fn parse<'a, A: Args + ?Sized>(args: &'a A, from: usize) -> Result<ExecArgs<'a>, Bad<'a>> {
    // Each flag's value by its index in FLAGS (the last one given wins).
    let mut vals: [Option<&[u8]>; 10] = [None; 10];
    let mut preserve_fds = 0;
    let mut w = Walk::new(from);
    while let Some(item) = w.next(args, FLAGS) {
        let (k, v, a) = match item? {
            Item::Operand(id) if !id.is_empty() => {
                return Ok(ExecArgs {
                    id,
                    process: vals[0],
                    detach: vals[1].is_some(),
                    pid_file: vals[2],
                    console_socket: vals[3],
                    tty: vals[4].is_some(),
                    cwd: vals[5],
                    user: vals[7],
                    preserve_fds,
                    from,
                    id_at: w.i - 1,
                })
            }
            Item::Operand(_) => break,
            Item::Flag(k, v, a) => (k, v, a),
        };
        match (k, v) {
            (8, Some(v)) => {
                preserve_fds = crate::limits::parse_u64(v)
                    .filter(|&n| n <= 1024)
                    .ok_or(Bad { why: b"not a number of fds (0..=1024)", arg: a })?
                    as i32
            }
            (9, Some(v)) if !v.is_empty() => return Err(Bad { why: b"SELinux labels are not supported", arg: a }),
            _ => vals[k] = v,
        }
    }
    Err(Bad { why: b"usage: exec [flags] ID [COMMAND [ARG...]]", arg: b"" })
}

/// The environment: the process's list, then the --env flags (runc
/// appends them), read from the command line where parse saw them.
struct EnvList<'a> {
    base: &'a dyn Args,
    args: &'a dyn Args,
    from: usize,
}

impl EnvList<'_> {
    /// The n-th --env value (n = usize::MAX: none; counts them instead).
    fn flag(&self, n: usize) -> (usize, &[u8]) {
        let (mut w, mut seen) = (Walk::new(self.from), 0);
        // Up to the id (the first operand): what follows is the command's.
        while let Some(Ok(Item::Flag(k, v, _))) = w.next(self.args, FLAGS) {
            if k == ENV {
                if seen == n {
                    return (seen, v.unwrap_or(b""));
                }
                seen += 1;
            }
        }
        (seen, b"")
    }
}

impl Args for EnvList<'_> {
    fn count(&self) -> usize {
        self.base.count() + self.flag(usize::MAX).0
    }
    fn arg(&self, i: usize) -> &[u8] {
        match i.checked_sub(self.base.count()) {
            None => self.base.arg(i),
            Some(n) => self.flag(n).1,
        }
    }
}

/// The namespaces joined, mount last: once in the container's mount
/// namespace, /proc/<pid> paths would name the container's procfs.
/// (spawn enters the PID one itself before clone: setns(CLONE_NEWPID) only
/// places the children made afterwards.)
const JOINED: [(i32, &[u8]); 6] = [
    (libc::CLONE_NEWPID, b"pid"),
    (libc::CLONE_NEWIPC, b"ipc"),
    (libc::CLONE_NEWUTS, b"uts"),
    (libc::CLONE_NEWNET, b"net"),
    (libc::CLONE_NEWCGROUP, b"cgroup"),
    (libc::CLONE_NEWNS, b"mnt"),
];

/// runc's contract for exec: 1 for a usage error; 255 for anything that
/// kept the process from running (runc's "exec failed", the message said
/// why); otherwise the process's own status (0 once started detached).
pub fn exec(g: &Global, args: &dyn Args, from: usize) -> i32 {
    // Borrowed, not moved out of the Result: a move copies the whole struct.
    let parsed = parse(args, from);
    match &parsed {
        Ok(e) => run(g, args, e).unwrap_or(EXEC_FAILED),
        Err(Bad { why, arg }) => fail3(why, if arg.is_empty() { b"" } else { b": " }, arg),
    }
}

/// runc's exit code when an exec could not run its process.
const EXEC_FAILED: i32 = 255;

/// `mydocker: exec: process: <field>: <why>`; returns 1.
#[inline(never)]
fn refused(r: Refusal) -> i32 {
    r.report(b"process: ")
}

/// Why a JSON file (config.json, --process, --resources) could not be
/// used.
#[derive(Clone, Copy, Debug)]
pub enum Unreadable {
    Sys(Errno),
    /// Its node table does not fit in memory.
    TooLarge,
    Syntax(json::Error),
}

impl Unreadable {
    /// One line `mydocker: <command>: <file><file2>: <why>`, where the file is
    /// named as the user knows it; returns 1.
    #[inline(never)]
    pub fn report(self, file: &[u8], file2: &[u8]) -> i32 {
        match self {
            Unreadable::Sys(e) => fail_io(file, file2, e),
            Unreadable::TooLarge => fail3(file, file2, b": too large"),
            Unreadable::Syntax(e) => {
                let at = crate::limits::Dec::new(e.at as u64);
                fail(&[file, file2, b": byte ", at.as_bytes(), b": ", e.why()])
            }
        }
    }
}

/// A JSON file mapped and parsed (see `parse_json`).
pub fn load<'a>(path: &[u8], nodes: &'a mut Option<Map>) -> Result<json::Doc<'a>, Unreadable> {
    parse_json(sys::map_file(path).map_err(Unreadable::Sys)?, nodes)
}

/// JSON text parsed in place, its node table mapped into `nodes` (sized
/// from the text).
pub fn parse_json<'a>(text: &'a mut [u8], nodes: &'a mut Option<Map>) -> Result<json::Doc<'a>, Unreadable> {
    let n = json::nodes_for(text.len());
    let m = nodes.insert(Map::new(n * core::mem::size_of::<json::Node>(), false).map_err(Unreadable::Sys)?);
    // The container's process never reads the node table (what it needs is
    // prepared in its own memory or points into the text): it does not
    // inherit it, nor keep MBs of it (8 bytes per byte of JSON) until start.
    m.dont_fork();
    let (table, _) = m.typed(n, json::Node::EMPTY).ok_or(Unreadable::TooLarge)?;
    json::parse(text, table).map_err(Unreadable::Syntax)
}

/// Ok: the exit code; Err: a failure already reported.
fn run(g: &Global, args: &dyn Args, e: &ExecArgs) -> Result<i32, i32> {
    let mut buf = [0u8; 16384];
    let opened = ctl::open(g, e.id, &mut buf, false);
    let o = opened.as_ref().map_err(|c| *c)?;
    match state::status(o.dir, &o.rec) {
        Status::Stopped => return Err(fail1(b"cannot exec in a stopped container")),
        Status::Paused => return Err(fail1(b"cannot exec in a paused container")),
        Status::Created | Status::Running => {}
    }
    // The container's config: its seccomp filter (runc installs it on an
    // exec'd process too) and, without --process, its process settings.
    let mut path = [0u8; 4200];
    let n = crate::cgroup::join(&mut path, &[g.root(), b"/", e.id, b"/config.json"]);
    let mut cfg_nodes = None;
    let cfg = load(&path[..n], &mut cfg_nodes).map_err(|u| u.report(b"the container's config.json", b""))?;
    let mut proc_nodes = None;
    let pdoc = match e.process {
        Some(f) => Some(load(f, &mut proc_nodes).map_err(|u| u.report(b"--process ", f))?),
        None => None,
    };
    let pv = match &pdoc {
        Some(d) => d.root(),
        None => cfg.root().get("process").unwrap_or(cfg.root()),
    };
    if pv.kind() != json::Kind::Obj {
        return Err(fail1(b"process: not a JSON object"));
    }
    // Without --process the command comes from the command line, not from
    // the container's args.
    let from_cli = e.process.is_none();
    if from_cli && e.id_at + 1 >= args.count() {
        return Err(fail1(b"no command given"));
    }
    let mut st = Store::new();
    let mut proc_r = config::process(pv, &mut st);
    let p = match &mut proc_r {
        Ok(p) => p,
        Err(r) => return Err(refused(*r)),
    };
    // A terminal of its own (console.rs), as runc: its master goes to the
    // console socket, or attached, it is relayed to our stdin/stdout.
    let terminal = e.tty || (!from_cli && p.terminal);
    let console = match (terminal, e.console_socket) {
        (true, Some(path)) => Some(sys::tty::connect_unix(path).map_err(|x| fail_io(b"--console-socket ", path, x))?),
        (true, None) if e.detach => return Err(fail1(b"--tty with --detach needs --console-socket")),
        (true, None) if !sys::tty::is_tty(0) => return Err(fail1(crate::console::NOT_A_TTY)),
        (false, Some(_)) => return Err(fail1(b"--console-socket needs --tty")),
        _ => None,
    };
    if let Some(c) = e.cwd {
        if !c.starts_with(b"/") || c.contains(&0) {
            return Err(fail3(b"--cwd ", c, b": not an absolute path"));
        }
        p.cwd = c;
    }
    if let Some(u) = e.user {
        p.user = crate::cli::parse_user(u).ok_or_else(|| fail3(b"--user ", u, b": use UID[:GID], numeric"))?;
    }

    // Nothing mounted: only the working directory is entered (inside the
    // container's mount namespace, joined last).
    let mut entries = [mounts::EMPTY; 1];
    let mut text_buf = [0u8; 4200];
    let mut table = Table::new(&mut entries, &mut text_buf);
    table.workdir = Some(table.text(p.cwd));
    table.enter_only = true;
    table.check().map_err(|why| fail(&[b"--cwd: ", why]))?;

    let pid = o.rec.pid;
    let mut text = [0u8; 40 * JOINED.len()];
    let mut joins = [(0, &b""[..]); JOINED.len()];
    let (mut rest, dec) = (&mut text[..], crate::limits::Dec::new(pid as u64));
    for (j, &(flag, name)) in joins.iter_mut().zip(JOINED.iter()) {
        let n = crate::cgroup::join(rest, &[b"/proc/", dec.as_bytes(), b"/ns/", name]);
        let (path, tail) = core::mem::take(&mut rest).split_at_mut(n);
        (*j, rest) = ((flag, &*path), tail);
    }
    let cgroups = join_files(&o.rec)?;
    // The pid really was the container's while we joined: a process that
    // ended and whose pid was reused since has another start time.
    if !state::alive(&o.rec) {
        return Err(fail1(b"container not running"));
    }
    let env = EnvList { base: &st.env, args, from: e.from };
    // The AppArmor profile of the process (FILE's, or the container's).
    let mut abuf = [0u8; 512];
    let apparmor = config::apparmor(pv, &mut abuf).map_err(refused)?;
    // The container's filter, compiled for this process's capabilities.
    let linux = cfg.root().get("linux");
    let mut c =
        super::create::container(e.id, p, &st, linux, apparmor, console, &table, Mode::Exec { detach: e.detach });
    c.ns.join = &joins;
    c.cgroup_fds = Some(crate::cgroup::ChildFds { join: &cgroups.fds[..cgroups.n] });
    if from_cli {
        c.process.args = args;
        c.process.from = e.id_at + 1;
    }
    c.process.env = Env::List(&env);
    c.terminal = terminal;
    c.interactive = true;
    c.preserve_fds = e.preserve_fds;
    if !e.detach {
        // CRI-O's way: wait, and exit with the command's status.
        c.pid_file = e.pid_file;
        return crate::spawn::run_started(&c);
    }
    let pid = crate::spawn::create(&c);
    if let Some(fd) = console {
        sys::close(fd);
    }
    let pid = pid?;
    if let Some(f) = e.pid_file {
        if let Err(x) = super::create::write_pid_file(f, pid) {
            let _ = sys::kill(pid, libc::SIGKILL);
            return Err(fail_io(b"--pid-file ", f, x));
        }
    }
    Ok(0)
}

/// The join file of every cgroup of the container (v1 `tasks`, v2
/// `cgroup.procs`: cgroup::join_file, by the version create recorded),
/// opened for the child to write "0" into; closed on drop.
struct JoinFiles {
    fds: [sys::Fd; crate::cgroup::MAX_HIER],
    n: usize,
}

impl Drop for JoinFiles {
    fn drop(&mut self) {
        for &fd in &self.fds[..self.n] {
            sys::close(fd);
        }
    }
}

fn join_files(rec: &state::Record) -> Result<JoinFiles, i32> {
    let mut j = JoinFiles { fds: [-1; crate::cgroup::MAX_HIER], n: 0 };
    for (d, v2) in rec.cgroup_dirs_v2() {
        if j.n == j.fds.len() {
            return Err(fail1(b"too many cgroups"));
        }
        let f = match crate::cgroup::open_dir(sys::CWD, d) {
            Ok(dir) => {
                // ENOENT on `tasks`: an unmarked cgroup2 directory, from a
                // record made before create marked them.
                let mut v2 = v2;
                let f = loop {
                    match sys::openat(dir, crate::cgroup::join_file(v2), libc::O_WRONLY) {
                        Err(Errno(libc::ENOENT)) if !v2 => v2 = true,
                        f => break f,
                    }
                };
                sys::close(dir);
                f
            }
            Err(Errno(libc::ENOENT)) => continue,
            Err(x) => Err(x),
        };
        j.fds[j.n] = f.map_err(|x| fail_io(b"joining cgroup ", d, x))?;
        j.n += 1;
    }
    Ok(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<ExecArgs<'static>, Bad<'static>> {
        let leaked: &'static [&'static [u8]] = Box::leak(
            v.iter()
                .map(|s| &*Box::leak(s.as_bytes().to_vec().into_boxed_slice()))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        parse(leaked, 0)
    }

    #[test]
    fn conmon_and_shim_command_lines_parse() {
        let e = p(&["--pid-file", "/p", "--process", "/f.json", "--detach", "--preserve-fds", "2", "ctr1"]).unwrap();
        assert_eq!(
            (e.id, e.process, e.pid_file, e.detach, e.preserve_fds),
            (&b"ctr1"[..], Some(&b"/f.json"[..]), Some(&b"/p"[..]), true, 2)
        );
        let e = p(&["--process=/f", "-d", "--pid-file=/p", "x"]).unwrap();
        assert_eq!((e.id, e.detach, e.id_at), (&b"x"[..], true, 3));
    }

    #[test]
    fn what_follows_the_id_is_the_command_even_with_dashes() {
        let e = p(&["-e", "A=1", "--env=B=2", "-u", "1000:1000", "--cwd", "/tmp", "c", "sh", "-c", "echo -e"]).unwrap();
        assert_eq!(e.id, b"c");
        assert_eq!(e.id_at, 7, "the command starts after it");
        // The --env values, after the process's own, in order.
        struct V(&'static [&'static [u8]]);
        impl Args for V {
            fn count(&self) -> usize {
                self.0.len()
            }
            fn arg(&self, i: usize) -> &[u8] {
                self.0.get(i).copied().unwrap_or(b"")
            }
        }
        let args = V(&[b"-e", b"A=1", b"--env=B=2", b"-u", b"1000:1000", b"--cwd", b"/tmp", b"c", b"sh", b"-e"]);
        let base = V(&[b"PATH=/bin"]);
        let env = EnvList { base: &base, args: &args, from: 0 };
        assert_eq!((0..env.count()).map(|i| env.arg(i)).collect::<Vec<_>>(), [&b"PATH=/bin"[..], b"A=1", b"B=2"]);
        assert_eq!((e.user, e.cwd), (Some(&b"1000:1000"[..]), Some(&b"/tmp"[..])));
    }

    #[test]
    fn mistakes_and_refusals_are_named() {
        assert_eq!(p(&["--bogus", "c"]).unwrap_err(), Bad { why: b"unknown flag", arg: b"--bogus" });
        assert_eq!(p(&["--process"]).unwrap_err(), Bad { why: b"flag needs a value", arg: b"--process" });
        assert_eq!(p(&["--detach=maybe", "c"]).unwrap_err(), Bad { why: b"not a boolean", arg: b"--detach=maybe" });
        assert!(p(&["--process-label", "x", "c"]).is_err());
        assert!(p(&["--preserve-fds", "-1", "c"]).is_err());
        assert!(p(&["-d"]).is_err(), "no id");
        // An empty label is what clients pass when there is none.
        assert!(p(&["--process-label", "", "c"]).is_ok());
    }
}
