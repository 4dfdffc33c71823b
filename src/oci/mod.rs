//! mydocker as an OCI runtime: runc's command line on a bundle.
//!
//! `mydocker [GLOBAL FLAGS] COMMAND [FLAGS] ARGS`, global flags before the
//! command (--root, --log, --log-format, --debug; --systemd-cgroup
//! refused). Every command is a word of COMMANDS with its HANDLERS entry; a handler
//! gets the globals, the whole argv and the index after its name, and
//! returns the exit code (runc's contract: 0, or 1 after one error line on
//! stderr, mirrored as JSON into --log).
//!
//! Files: flags (the subcommand flag parser), state (the state directory
//! and status), config + mounts (config.json → the model), create, ctl
//! (start/kill/delete), query (state/list/ps), info (features/spec/
//! version), log and jw (output).
pub mod cgroups;
pub mod config;
pub mod create;
pub mod ctl;
pub mod exec;
pub mod flags;
pub mod info;
pub mod jw;
pub mod log;
pub mod mounts;
pub mod pause;
pub mod query;
pub mod state;
pub mod update;

use crate::cli::Args;
use crate::out::Line;
use crate::sys::{self, Errno, Fd};
use core::sync::atomic::{AtomicUsize, Ordering};

/// What the global flags say.
pub struct Global {
    root: [u8; 4096],
    root_len: usize,
    pub debug: bool,
}

impl Global {
    /// The state root: --root, else /run/mydocker for root, else
    /// $XDG_RUNTIME_DIR/mydocker (runc's rule: XDG only when not root).
    pub fn root(&self) -> &[u8] {
        &self.root[..self.root_len]
    }

    /// Opens the state root; with `make`, creates it (and its parents)
    /// first, mode 0700.
    pub fn open_root(&self, make: bool) -> Result<Fd, Errno> {
        let r = self.root();
        if make {
            let mut p = [0u8; 4096];
            p[..r.len()].copy_from_slice(r);
            for i in 1..=r.len() {
                if i == r.len() || p[i] == b'/' {
                    match sys::oci::mkdir_mode(sys::CWD, &p[..i], 0o700) {
                        Ok(()) | Err(Errno(libc::EEXIST)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        sys::openat(sys::CWD, r, libc::O_RDONLY | libc::O_DIRECTORY)
    }
}

/// The command running, as its index in COMMANDS (NO_COMMAND before
/// `main` has found it): what every error line names. Set once, so that
/// no handler passes its own name down to each place that may fail (one
/// argument less at ~150 call sites: -1.4 KB).
static COMMAND: AtomicUsize = AtomicUsize::new(NO_COMMAND);
const NO_COMMAND: usize = usize::MAX;

/// The running command's name (`run` for everything OCI `run` does, its
/// create and start included); b"" before there is one.
pub fn command() -> &'static [u8] {
    match COMMAND.load(Ordering::Relaxed) {
        NO_COMMAND => b"",
        k => crate::words::nth(COMMANDS, k),
    }
}

/// One line `mydocker: <command>: <parts...>` on stderr (and in --log),
/// for the running command; returns runc's exit code for a failed
/// command, 1.
pub fn fail(parts: &[&[u8]]) -> i32 {
    fail_as(command(), parts)
}

/// `fail` naming `step` (a global flag; "" for none) instead of the
/// command. Every part goes through `Line::arg`: parts mix our words with
/// ids, paths and values from the command line and config.json, and `arg`
/// leaves printable UTF-8 as it is, so our own words come out unchanged.
pub fn fail_as(step: &[u8], parts: &[&[u8]]) -> i32 {
    let mut l = Line::new();
    l.s(b"mydocker: ");
    // Errors before any command (global flags) have no step to name.
    if !step.is_empty() {
        l.s(step).s(b": ");
    }
    for p in parts {
        l.arg(p);
    }
    l.emit(2);
    1
}

/// `fail` with one part: each call site passes two registers instead of
/// building a one-element array (measured by szoci: -320 B over 26 sites).
#[inline(never)]
pub fn fail1(a: &[u8]) -> i32 {
    fail(&[a])
}

/// `fail` with two parts.
#[inline(never)]
pub fn fail2(a: &[u8], b: &[u8]) -> i32 {
    fail(&[a, b])
}

/// `fail` with three parts.
#[inline(never)]
pub fn fail3(a: &[u8], b: &[u8], c: &[u8]) -> i32 {
    fail(&[a, b, c])
}

/// `mydocker: <command>: <what><arg>: <strerror>`; returns 1.
#[inline(never)]
pub fn fail_io(what: &[u8], arg: &[u8], e: Errno) -> i32 {
    fail(&[what, arg, b": ", sys::strerror(e)])
}

/// `mydocker: <command>: <what>: <strerror>`; returns 1.
#[inline(never)]
pub fn fail_e(what: &[u8], e: Errno) -> i32 {
    fail_io(what, b"", e)
}

pub type Handler = fn(&Global, &dyn Args, usize) -> i32;

/// The OCI commands, and their handlers in the same order. `run` is OCI's
/// only with --bundle (see `is_oci`).
const COMMANDS: &[u8] = b"create start state kill delete run list ps features spec exec pause resume update";
const HANDLERS: [Handler; 14] = [
    create::create,
    ctl::start,
    query::state,
    ctl::kill,
    ctl::delete,
    create::run,
    query::list,
    query::ps,
    info::features,
    info::spec,
    exec::exec,
    pause::pause,
    pause::resume,
    update::update,
];

/// Global flags, in the order `main` matches their index.
const GLOBALS: &[u8] = b"root log log-format debug systemd-cgroup rootless criu";
/// Which of GLOBALS take a value (bit i: word i).
const GLOBALS_TAKING: u32 = 0b110_0111;

/// `--name[=value]` or `-name[=value]` of a global flag: its index in
/// GLOBALS and the inline value.
fn global_name(a: &[u8]) -> Option<(usize, Option<&[u8]>)> {
    let a = a.strip_prefix(&b"--"[..]).or_else(|| a.strip_prefix(&b"-"[..]))?;
    let (name, inline) = match a.iter().position(|&c| c == b'=') {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    };
    Some((crate::words::find(GLOBALS, name)?, inline))
}

/// Whether argv is an OCI invocation: a global flag first, or an OCI-only
/// command, or `run` with --bundle/-b before its first operand (OCI run's
/// other flags, as flags::Walk reads them, skipped with their values).
/// Anything else is docker-style.
pub fn is_oci(args: &dyn Args) -> bool {
    let a = args.arg(1);
    if global_name(a).is_some() {
        return true;
    }
    if a != b"run" {
        return crate::words::find(COMMANDS, a).is_some();
    }
    // OCI run's flags (create's) up to its first operand.
    let mut w = flags::Walk::new(2);
    loop {
        match w.next(args, create::FLAGS) {
            Some(Ok(flags::Item::Flag(k, ..))) if k != create::BUNDLE => {}
            Some(Ok(flags::Item::Flag(..))) => return true,
            // --bundle last, without its value: OCI run says so.
            Some(Err(b)) => return crate::words::find(b"-b --bundle", b.arg).is_some(),
            _ => return false,
        }
    }
}

/// Runs an OCI invocation (`is_oci` said so).
pub fn main(args: &dyn Args, env: &dyn Args) -> i32 {
    let mut g = Global { root: [0; 4096], root_len: 0, debug: false };
    let mut root: Option<&[u8]> = None;
    let mut i = 1;
    while let Some((k, inline)) = global_name(args.arg(i)) {
        let v = match (GLOBALS_TAKING >> k & 1 != 0, inline) {
            (true, Some(v)) => v,
            (true, None) if i + 1 < args.count() => {
                i += 1;
                args.arg(i)
            }
            (true, None) => return fail_as(b"", &[b"flag needs a value: ", args.arg(i)]),
            (false, v) => v.unwrap_or(b""),
        };
        i += 1;
        // A switch is on unless given "=false".
        let off = v == b"false";
        match k {
            0 => root = Some(v),
            1 => match sys::openat(sys::CWD, v, libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND) {
                Ok(fd) => log::to(fd),
                Err(e) => return fail_as(b"--log", &[v, b": ", sys::strerror(e)]),
            },
            2 => match crate::words::find(b"text json", v) {
                Some(j) => log::json(j == 1),
                None => return fail_as(b"--log-format", &[v, b": use text or json"]),
            },
            3 => g.debug = !off,
            4 if !off => {
                return fail_as(b"--systemd-cgroup", &[b"systemd cgroup management is not supported; use cgroupfs"])
            }
            5 if v == b"true" => return fail_as(b"--rootless", &[b"rootless containers are not supported"]),
            _ => {}
        }
    }
    match root {
        Some(r) if !r.is_empty() => {
            if r.len() >= g.root.len() {
                return fail_as(b"--root", &[b"path too long"]);
            }
            g.root[..r.len()].copy_from_slice(r);
            g.root_len = r.len();
        }
        _ => g.root_len = default_root(env, &mut g.root).len(),
    }
    let cmd = args.arg(i);
    match crate::words::find(COMMANDS, cmd) {
        Some(k) => {
            COMMAND.store(k, Ordering::Relaxed);
            HANDLERS[k](&g, args, i + 1)
        }
        // The same line and code as without global flags (cli.rs).
        None if cmd.is_empty() => {
            fail_as(b"", &[b"missing command: try 'mydocker --help'"]);
            125
        }
        // runc answers these after global flags too (`runc --root R --version`).
        None => match crate::words::find(b"-v --version -h --help", cmd) {
            Some(0 | 1) => info::version(),
            Some(_) => {
                crate::out::stdout(crate::cli::HELP);
                0
            }
            None => fail_as(b"", &[b"unknown command '", cmd, b"'"]),
        },
    }
}

/// /run/mydocker as root; $XDG_RUNTIME_DIR/mydocker otherwise (when set).
fn default_root<'b>(env: &dyn Args, buf: &'b mut [u8; 4096]) -> &'b [u8] {
    let xdg = (0..env.count()).map(|i| env.arg(i)).find_map(|e| e.strip_prefix(&b"XDG_RUNTIME_DIR="[..]));
    let n = match xdg {
        Some(x) if sys::oci::uid() != 0 && !x.is_empty() && x.len() < 4000 => {
            crate::cgroup::join(&mut buf[..], &[x, b"/mydocker"])
        }
        _ => crate::cgroup::join(&mut buf[..], &[b"/run/mydocker"]),
    };
    &buf[..n]
}
