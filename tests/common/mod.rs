//! Shared helpers for the integration suites: they run the built binary as
//! root, on this host or inside a QEMU guest.
#![allow(dead_code)]
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The binary under test: $MYDOCKER_BIN (set in the QEMU guests), else the
/// one cargo built for this test run.
pub fn bin() -> PathBuf {
    std::env::var_os("MYDOCKER_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mydocker")))
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Skips the calling test, loudly, when not root.
#[macro_export]
macro_rules! need_root {
    () => {
        if !$crate::common::is_root() {
            eprintln!("SKIP {}: not root (namespaces and mounts need root)", module_path!());
            return;
        }
    };
}

pub fn mydocker<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(bin());
    c.args(args).stdin(Stdio::null());
    c
}

/// Runs `mydocker ARGS` to completion.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    mydocker(args).output().expect("spawn mydocker")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Asserts the run succeeded and returns its stdout.
pub fn ok(o: &Output) -> String {
    assert_eq!(code(o), 0, "exit {:?}\nstdout: {}\nstderr: {}", o.status, stdout(o), stderr(o));
    stdout(o)
}

/// Asserts a failed run printed exactly one `mydocker: ...` line containing
/// `needle`, and exited with `want`.
pub fn fails(o: &Output, want: i32, needle: &str) {
    let e = stderr(o);
    assert_eq!(code(o), want, "wanted exit {want}, stderr: {e}");
    assert_eq!(e.lines().count(), 1, "not one line: {e:?}");
    assert!(e.starts_with("mydocker: "), "no prefix: {e:?}");
    assert!(e.contains(needle), "{e:?} does not mention {needle:?}");
}

pub fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// PIDs of the direct children of `pid` (from /proc/PID/task/PID/children).
pub fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

/// Waits (bounded) until `f` holds; panics with `what` if it never does.
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

/// Every process whose command line contains `needle` (NUL-separated argv).
pub fn processes_with(needle: &[u8]) -> Vec<u32> {
    let mut v = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            if c.windows(needle.len()).any(|w| w == needle) {
                v.push(pid);
            }
        }
    }
    v
}
