//! `state`, `list`, `ps`: JSON on stdout, nothing on stderr on success
//! (go-runc reads stdout and stderr together for `state`).
use super::ctl::{self, one_id, open};
use super::flags::{self, Flags};
use super::jw::W;
use super::state::{self, Record, Status};
use super::{fail1, fail2, Global};
use crate::cli::Args;
use crate::sys::{self, Fd};

/// The runtime-spec version mydocker implements (and `state` reports), as
/// a literal for concat! (the texts that carry it are written whole).
macro_rules! oci_version {
    () => {
        "1.2.0"
    };
}
pub(super) use oci_version;

/// One container's state object (runtime-spec runtime.md, with runc's
/// extra fields rootfs, created, owner); pid 0 once stopped.
fn object(w: &mut W, id: &[u8], dir: Fd, rec: &Record) {
    let st = state::status(dir, rec);
    let pid = if st == Status::Stopped { 0 } else { rec.pid as u64 };
    w.s(concat!("{\"ociVersion\":\"", oci_version!(), "\",\"id\":").as_bytes()).q(id).s(b",\"pid\":").n(pid);
    w.s(b",\"status\":").q(st.name()).s(b",\"bundle\":").q(rec.bundle).s(b",\"rootfs\":").q(rec.rootfs);
    w.s(b",\"created\":").q(rec.created).s(b",\"owner\":").q(if rec.owner == 0 { b"root" } else { b"" });
    // Verbatim from config.json: an object the client wrote.
    let mut a = [0u8; 65536];
    if let Ok(text) = state::read_all(dir, b"annotations", &mut a) {
        w.s(b",\"annotations\":").s(text);
    }
    w.s(b"}");
}

pub fn state(g: &Global, args: &dyn Args, from: usize) -> i32 {
    let id = match one_id(args, from, flags::NONE) {
        Ok((id, _)) => id,
        Err(code) => return code,
    };
    let mut buf = [0u8; 16384];
    let opened = open(g, id, &mut buf, false);
    let o = match &opened {
        Ok(o) => o,
        Err(code) => return *code,
    };
    let mut w = W::new(1);
    object(&mut w, id, o.dir, &o.rec);
    w.s(b"\n");
    w.done(b"state")
}

/// --format table|json (table when absent): whether JSON.
fn format(f: Option<&[u8]>) -> Result<bool, i32> {
    match f.map(|f| crate::words::find(b"table json", f)) {
        None => Ok(false),
        Some(Some(j)) => Ok(j == 1),
        Some(None) => Err(fail2(b"invalid format option: ", f.unwrap_or(b""))),
    }
}

const LIST_FLAGS: Flags = Flags { names: b"quiet q|format f", takes: 0b10 };

/// Calls `f` with every container id under the root.
fn each_id(root: Fd, f: &mut dyn FnMut(&[u8])) {
    let Ok(dir) = sys::openat(root, b".", libc::O_RDONLY | libc::O_DIRECTORY) else { return };
    let mut buf = [0u8; 4096];
    let _ = sys::each_name(dir, &mut buf, &mut |name| {
        if state::valid_id(name) {
            f(name);
        }
    });
    sys::close(dir);
}

pub fn list(g: &Global, args: &dyn Args, from: usize) -> i32 {
    let parsed = flags::parse_for(args, from, LIST_FLAGS);
    let p = match &parsed {
        Ok(p) if p.npos == 0 => p,
        Ok(_) => return fail1(b"usage: list [-q] [--format table|json]"),
        Err(code) => return *code,
    };
    let json = match format(p.vals[1]) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let quiet = p.has(0);
    let mut w = W::new(1);
    if json {
        w.s(b"[");
    } else if !quiet {
        w.s(b"ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n");
    }
    let mut first = true;
    if let Ok(root) = g.open_root(false) {
        each_id(root, &mut |id| {
            let mut buf = [0u8; 16384];
            let opened = open(g, id, &mut buf, true);
            let Ok(o) = &opened else { return };
            if quiet {
                w.s(id).s(b"\n");
            } else if json {
                w.s(if first { b"" } else { b"," });
                object(&mut w, id, o.dir, &o.rec);
            } else {
                let st = state::status(o.dir, &o.rec);
                let pid = if st == Status::Stopped { 0 } else { o.rec.pid as u64 };
                w.s(id).s(b"\t").n(pid).s(b"\t").s(st.name()).s(b"\t").s(o.rec.bundle).s(b"\t");
                w.s(o.rec.created).s(b"\t").s(if o.rec.owner == 0 { b"root" } else { b"" }).s(b"\n");
            }
            first = false;
        });
        sys::close(root);
    }
    if json {
        w.s(b"]\n");
    }
    w.done(b"list")
}

const PS_FLAGS: Flags = Flags { names: b"format f", takes: 1 };

/// `ps`: the host pids of the container's processes (its cgroup's, or its
/// init alone without one); `--format json` as runc (a JSON array).
pub fn ps(g: &Global, args: &dyn Args, from: usize) -> i32 {
    let (id, fmt) = match one_id(args, from, PS_FLAGS) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let json = match format(fmt) {
        Ok(j) => j,
        Err(code) => return code,
    };
    let mut buf = [0u8; 16384];
    let opened = open(g, id, &mut buf, false);
    let o = match &opened {
        Ok(o) => o,
        Err(code) => return *code,
    };
    let running = state::status(o.dir, &o.rec) != Status::Stopped;
    let mut w = W::new(1);
    w.s(if json { b"[" } else { b"PID\n" });
    let mut first = true;
    let mut put = |w: &mut W, pid: i32| {
        if json {
            w.s(if first { b"" } else { b"," }).n(pid as u64);
        } else {
            w.n(pid as u64).s(b"\n");
        }
        first = false;
    };
    match o.rec.cgroup_dirs().next() {
        Some(d) => ctl::pids(d, &mut |pid| put(&mut w, pid)),
        None if running => put(&mut w, o.rec.pid),
        None => {}
    }
    if json {
        w.s(b"]\n");
    }
    w.done(b"ps")
}
