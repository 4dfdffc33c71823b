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

/// The busybox rootfs of `make rootfs` ($MYDOCKER_ROOTFS), if there is one.
pub fn busybox_rootfs() -> Option<String> {
    let r = std::env::var("MYDOCKER_ROOTFS").ok()?;
    std::path::Path::new(&r).join("bin/busybox").exists().then_some(r)
}

/// Root and the busybox rootfs, or the calling test is skipped, loudly.
/// Evaluates to the rootfs path.
#[macro_export]
macro_rules! need_rootfs {
    () => {{
        need_root!();
        match $crate::common::busybox_rootfs() {
            Some(r) => r,
            None => {
                eprintln!("SKIP {}: no busybox rootfs in $MYDOCKER_ROOTFS (make rootfs)", module_path!());
                return;
            }
        }
    }};
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

/// Where the caller's cgroup for `ctrl` lives: (directory, is_v2). A v1
/// hierarchy with the controller wins, as in mydocker itself.
pub fn cgroup_dir(ctrl: &str) -> Option<(PathBuf, bool)> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mut v2 = None;
    for l in mi.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-")?;
        let (root, point, fstype, opts) = (f[3], f[4], f[sep + 1], f.get(sep + 3).copied().unwrap_or(""));
        let caller = |want: &dyn Fn(&str, &str) -> bool| {
            cg.lines().find_map(|c| {
                let mut p = c.splitn(3, ':');
                let (id, ctrls, path) = (p.next()?, p.next()?, p.next()?);
                want(id, ctrls).then(|| path.to_string())
            })
        };
        let join = |path: String| {
            let rel =
                path.strip_prefix(root.trim_end_matches('/')).unwrap_or(&path).trim_start_matches('/').to_string();
            PathBuf::from(point.replace("\\040", " ")).join(rel)
        };
        if fstype == "cgroup" && opts.split(',').any(|o| o == ctrl) {
            return Some((join(caller(&|_, c| c.split(',').any(|x| x == ctrl))?), false));
        }
        if fstype == "cgroup2" && v2.is_none() {
            v2 = caller(&|id, c| id == "0" && c.is_empty()).map(join);
        }
    }
    let d = v2?;
    // The controllers a v2 cgroup can hand down are listed in the cgroup itself.
    let avail = std::fs::read_to_string(d.join("cgroup.controllers")).ok()?;
    avail.split_whitespace().any(|c| c == ctrl).then_some((d, true))
}

/// Skips the calling test, loudly, when a controller is missing.
#[macro_export]
macro_rules! need_ctrl {
    ($c:expr) => {
        match $crate::common::cgroup_dir($c) {
            Some(d) => d,
            None => {
                eprintln!("SKIP {}: no usable {} cgroup controller on this host", module_path!(), $c);
                return;
            }
        }
    };
}

/// The caller's cgroup directory in a cgroup v1 cpuset hierarchy, made
/// ready for a test's empty levels below it: `<it>/<name>`, made here with
/// cgroup.clone_children 0 (so that mkdir below it makes empty cpusets,
/// whatever the caller's flag) and removed with everything below it when
/// the returned guard drops. None, after printing `SKIP <test>: <reason>`,
/// where there is no v1 cpuset (v2 cpusets are never empty).
pub fn empty_cpuset_levels(test: &str, name: &str) -> Option<(PathBuf, CgroupTree)> {
    match cgroup_dir("cpuset") {
        Some((dir, false)) => {
            let top = dir.join(name);
            std::fs::create_dir(&top).unwrap();
            let guard = CgroupTree(top.clone());
            std::fs::write(top.join("cgroup.clone_children"), "0").unwrap();
            Some((dir, guard))
        }
        _ => {
            eprintln!("SKIP {test}: no cgroup v1 cpuset hierarchy (v2 cpusets are never empty)");
            None
        }
    }
}

/// A test's cgroup directory, removed with every directory below it
/// (deepest first) on drop.
pub struct CgroupTree(pub PathBuf);

impl Drop for CgroupTree {
    fn drop(&mut self) {
        fn rm(d: &std::path::Path) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                if e.file_type().map_or(false, |t| t.is_dir()) {
                    rm(&e.path());
                }
            }
            let _ = std::fs::remove_dir(d);
        }
        rm(&self.0);
    }
}

/// `dir`'s cpuset.cpus and cpuset.mems, trimmed.
pub fn cpuset_of(dir: &std::path::Path) -> (String, String) {
    let f = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_default().trim().to_string();
    (f("cpuset.cpus"), f("cpuset.mems"))
}

/// Names of the container cgroups left under `<dir>/mydocker`: those with
/// no process in them that are still there after a short wait. Other
/// helpers and suites run containers on this host at the same time: theirs
/// hold processes or vanish within moments, while one a run of ours leaked
/// stays (mydocker removes its cgroups before it exits).
pub fn leftovers(dir: &std::path::Path) -> Vec<String> {
    let empty = || -> Vec<String> {
        std::fs::read_dir(dir.join("mydocker"))
            .map(|r| {
                r.flatten()
                    .filter(|e| e.path().is_dir())
                    .filter(|e| {
                        std::fs::read_to_string(e.path().join("cgroup.procs")).map_or(false, |p| p.trim().is_empty())
                    })
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut left = empty();
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let now = empty();
        left.retain(|n| now.contains(n));
    }
    left
}

/// Runs `f` in the forked child just before it execs mydocker: for
/// callers that leave mydocker an odd process state (fds, dispositions).
/// `f` must only make async-signal-safe calls; false fails the spawn.
pub fn before_exec(c: &mut Command, f: fn() -> bool) {
    use std::os::unix::process::CommandExt;
    // SAFETY: f makes only async-signal-safe calls (the contract above).
    unsafe { c.pre_exec(move || if f() { Ok(()) } else { Err(std::io::Error::last_os_error()) }) };
}

/// The busybox rootfs the --rootfs tests use: $MYDOCKER_ROOTFS (make rootfs
/// builds one; the QEMU guests set it).
pub fn rootfs() -> Option<String> {
    let r = std::env::var("MYDOCKER_ROOTFS").ok()?;
    std::path::Path::new(&r).join("bin/busybox").exists().then_some(r)
}

/// SIGKILLs a running mydocker whose container's PID 1 is `comm`, and
/// waits until PR_SET_PDEATHSIG has ended that PID 1 too.
pub fn kill_runtime(c: &mut std::process::Child, comm_of_pid1: &str) {
    let me = c.id();
    let mut kid = 0;
    eventually("the container's PID 1", || {
        kid = children(me).first().copied().unwrap_or(0);
        kid != 0 && comm(kid) == comm_of_pid1
    });
    // SAFETY: plain kill(2) of our own child, the runtime.
    unsafe { libc::kill(me as i32, libc::SIGKILL) };
    c.wait().unwrap();
    eventually("PR_SET_PDEATHSIG to end the container", || !std::path::Path::new(&format!("/proc/{kid}")).exists());
}

/// Runs `cmd` to completion with stdout and stderr in files under `dir`
/// (numbered per call), not pipes: a container it creates or a detached
/// process may keep them open long after `cmd` itself has exited.
pub fn output_through_files(mut cmd: Command, dir: &std::path::Path) -> Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (out, err) = (dir.join(format!("out{n}")), dir.join(format!("err{n}")));
    let st = cmd
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    Output { status: st, stdout: std::fs::read(&out).unwrap(), stderr: std::fs::read(&err).unwrap() }
}

/// Thaws the cgroup directory `d`, kills what runs in it and removes it
/// (retrying while the kills land): a test's teardown of cgroups a failed
/// run may have left, frozen or not.
pub fn sweep_cgroup(d: &std::path::Path) {
    let _ = std::fs::write(d.join("freezer.state"), "THAWED");
    let _ = std::fs::write(d.join("cgroup.freeze"), "0");
    for _ in 0..200 {
        for p in std::fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default().split_whitespace() {
            // SAFETY: plain kill(2) of a process in the test's own cgroup.
            unsafe { libc::kill(p.parse().unwrap_or(0), libc::SIGKILL) };
        }
        if std::fs::remove_dir(d).is_ok() || !d.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
