//! --init, a runtime killed mid-run, and gc.
mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

// One at a time: the gc tests sweep whole trees, and the host-state test
// counts the test process's children, which every other test here spawns.
static GC: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    GC.lock().unwrap_or_else(|e| e.into_inner())
}

fn first_line(c: &mut std::process::Child) -> (String, BufReader<std::process::ChildStdout>) {
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    (line, out)
}

#[test]
fn with_init_the_command_is_pid_2_under_our_reaper() {
    need_root!();
    let _g = serial();
    let out = ok(&run(["run", "--init", "sh", "-c", "echo $$; cat /proc/1/comm"]));
    assert_eq!(out, "2\nmydocker\n");
}

#[test]
fn with_init_the_reaper_shows_none_of_the_callers_command_line_or_environment() {
    need_root!();
    let _g = serial();
    // /proc/1/cmdline is readable whatever the dumpability; environ only
    // with CAP_SYS_PTRACE, which --privileged keeps.
    let out = ok(&mydocker([
        "run",
        "--init",
        "--privileged",
        "-e",
        "FIXRUN_FLAG=flag-secret",
        "sh",
        "-c",
        "tr '\\0' '|' < /proc/1/cmdline; echo; tr -d '\\0' < /proc/1/environ | wc -c",
    ])
    .env("FIXRUN_CALLER", "caller-secret")
    .output()
    .unwrap());
    assert_eq!(out, "mydocker-init|\n0\n");
}

#[test]
fn with_init_sigterm_stops_a_command_that_has_no_handler() {
    need_root!();
    let _g = serial();
    // sleep as PID 1 would ignore SIGTERM (moby #32310); as PID 2 it dies of it.
    let mut c =
        mydocker(["run", "--init", "sh", "-c", "echo up; exec sleep 100"]).stdout(Stdio::piped()).spawn().unwrap();
    let (line, _out) = first_line(&mut c);
    assert_eq!(line, "up\n");
    let t = std::time::Instant::now();
    // Give sh a moment to exec sleep, then SIGTERM the runtime.
    std::thread::sleep(std::time::Duration::from_millis(100));
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    assert_eq!(c.wait().unwrap().code(), Some(143));
    assert!(t.elapsed().as_secs() < 10);
}

#[test]
fn with_init_orphans_are_reaped() {
    need_root!();
    let _g = serial();
    // Three orphans exit while the command still runs; none may stay a zombie.
    let out = ok(&run([
        "run",
        "--init",
        "sh",
        "-c",
        "for i in 1 2 3; do (sleep 0.1 &); done; sleep 1; grep -l '^State:.Z' /proc/[0-9]*/status | wc -l",
    ]));
    assert_eq!(out.trim(), "0");
}

#[test]
fn with_init_exit_codes_are_the_commands() {
    need_root!();
    let _g = serial();
    assert_eq!(code(&run(["run", "--init", "sh", "-c", "exit 7"])), 7);
    assert_eq!(code(&run(["run", "--init", "sh", "-c", "kill -9 $$"])), 137);
    fails(&run(["run", "--init", "no-such-command-xyz"]), 127, "not found in PATH");
}

#[test]
fn a_runtime_killed_mid_run_takes_its_container_with_it_and_gc_sweeps_the_cgroup() {
    need_root!();
    let _g = serial();
    let Some((memdir, _)) = cgroup_dir("memory") else {
        eprintln!("SKIP {}: no memory controller", module_path!());
        return;
    };
    let mut c = mydocker(["run", "-m", "32m", "sh", "-c", "echo $(hostname); exec sleep 100"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (line, _out) = first_line(&mut c);
    let id = line.trim().to_string();
    let me = c.id();
    let mut kid = 0;
    eventually("the container's sleep", || {
        kid = children(me).first().copied().unwrap_or(0);
        kid != 0 && comm(kid) == "sleep"
    });
    // SAFETY: plain kill(2) of our own child, the runtime.
    unsafe { libc::kill(me as i32, libc::SIGKILL) };
    c.wait().unwrap();
    eventually("PR_SET_PDEATHSIG to end the container", || !std::path::Path::new(&format!("/proc/{kid}")).exists());
    let cg = memdir.join("mydocker").join(&id);
    assert!(cg.exists(), "a SIGKILLed runtime cannot clean up: {}", cg.display());
    // Its owner and its processes are gone: gc takes it at once.
    let out = ok(&run(["gc"]));
    assert!(out.lines().any(|l| l == format!("removed {}", cg.display())), "{out}");
    assert!(!cg.exists());
}

#[test]
fn gc_leaves_running_containers_alone() {
    need_root!();
    let _g = serial();
    if cgroup_dir("memory").is_none() {
        eprintln!("SKIP {}: no memory controller", module_path!());
        return;
    }
    let mut c =
        mydocker(["run", "-m", "32m", "sh", "-c", "echo $(hostname); sleep 3"]).stdout(Stdio::piped()).spawn().unwrap();
    let (line, _out) = first_line(&mut c);
    let out = ok(&run(["gc"]));
    assert!(!out.contains(line.trim()), "gc removed a live container's cgroup: {out}");
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

fn flock(f: &std::fs::File, op: i32) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock(2) on an fd the File owns.
    unsafe { libc::flock(f.as_raw_fd(), op) == 0 }
}

/// A container cgroup made by hand under our memory cgroup's `mydocker`:
/// (the `mydocker` directory, the cgroup, its 12-hex-digit id).
fn fake_container_cgroup(tag: u64) -> Option<(std::path::PathBuf, std::path::PathBuf, String)> {
    let (memdir, _) = cgroup_dir("memory")?;
    let md = memdir.join("mydocker");
    let _ = std::fs::create_dir(&md);
    let id = format!("{:012x}", (0xfeed_u64 << 32) | (tag << 24) | std::process::id() as u64);
    let cg = md.join(&id);
    std::fs::create_dir(&cg).unwrap();
    Some((md, cg, id))
}

#[test]
fn gc_takes_a_cgroup_by_ownership_not_by_age() {
    need_root!();
    let _g = serial();
    let Some((_, cg, id)) = fake_container_cgroup(1) else {
        eprintln!("SKIP {}: no memory controller", module_path!());
        return;
    };
    // Its owner holds the lock, as a live mydocker does from mkdir to rmdir:
    // empty and brand-new or not, it stays.
    let owner = std::fs::File::open(&cg).unwrap();
    assert!(flock(&owner, libc::LOCK_EX));
    let out = ok(&run(["gc"]));
    assert!(!out.contains(&id), "gc took an owned cgroup: {out}");
    assert!(cg.exists());
    // The owner gone, it goes at once: no age rule.
    drop(owner);
    let out = ok(&run(["gc"]));
    assert!(out.lines().any(|l| l == format!("removed {}", cg.display())), "{out}");
    assert!(!cg.exists());
}

/// Whether `pid` waits for a lock (a "->" line of /proc/locks).
fn waits_for_a_lock(pid: u32) -> bool {
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    locks.lines().any(|l| l.contains("->") && l.split_whitespace().any(|w| w == pid.to_string()))
}

#[test]
fn gc_cannot_take_the_cgroup_of_a_container_still_starting() {
    need_root!();
    let _g = serial();
    let Some((md, cg, id)) = fake_container_cgroup(2) else {
        eprintln!("SKIP {}: no memory controller", module_path!());
        return;
    };
    // A creator between its mkdir and its own lock: it holds `mydocker`
    // shared, and its cgroup is empty and unlocked.
    let parent = std::fs::File::open(&md).unwrap();
    assert!(flock(&parent, libc::LOCK_SH));
    let gc = mydocker(["gc"]).stdout(Stdio::piped()).spawn().unwrap();
    eventually("gc to wait for the creator", || waits_for_a_lock(gc.id()));
    // The creator takes its own lock, then lets go of `mydocker`.
    let owner = std::fs::File::open(&cg).unwrap();
    assert!(flock(&owner, libc::LOCK_EX));
    drop(parent);
    let out = gc.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout(&out).contains(&id), "gc took a starting container's cgroup: {}", stdout(&out));
    assert!(cg.exists());
    drop(owner);
    std::fs::remove_dir(&cg).unwrap();
}

/// What a run may not change on the host: cgroup directories (below our
/// own cgroups), the mount table, the caller's fds, and the processes.
fn host_state() -> (Vec<String>, String, usize, Vec<u32>) {
    let mut cgs = vec![];
    for c in ["memory", "cpu", "cpuset", "pids"] {
        if let Some((d, _)) = cgroup_dir(c) {
            cgs.extend(leftovers(&d).into_iter().map(|x| format!("{c}:{x}")));
        }
    }
    cgs.sort();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let mut procs = children(std::process::id());
    procs.sort();
    (cgs, mounts, fds, procs)
}

#[test]
fn every_run_good_or_bad_leaves_the_host_as_it_was() {
    need_root!();
    let _g = serial();
    let before = host_state();
    let limits = ["-m", "32m", "--pids-limit", "20"];
    let with = |extra: &[&str]| {
        let mut a = vec!["run"];
        if cgroup_dir("memory").is_some() && cgroup_dir("pids").is_some() {
            a.extend_from_slice(&limits);
        }
        a.extend_from_slice(extra);
        run(&a)
    };
    assert_eq!(code(&with(&["true"])), 0);
    assert_eq!(code(&with(&["sh", "-c", "exit 3"])), 3);
    assert_eq!(code(&with(&["no-such-command-xyz"])), 127);
    assert_eq!(code(&with(&["/"])), 126);
    assert_eq!(code(&with(&["--bogus", "true"])), 125);
    // PID 1 gone with children still running: the kernel ends them.
    assert_eq!(code(&with(&["sh", "-c", "sleep 30 & sleep 30 & exit 9"])), 9);
    assert_eq!(code(&with(&["--init", "sh", "-c", "sleep 30 & exit 4"])), 4);
    if let Some(r) = std::env::var("MYDOCKER_ROOTFS").ok().filter(|r| std::path::Path::new(r).join("bin/sh").exists()) {
        assert_eq!(code(&with(&["--rootfs", &r, "-v", "/tmp:/mnt", "--tmpfs", "/t", "--read-only", "true"])), 0);
        assert_eq!(code(&with(&["--rootfs", &r, "-w", "/etc/passwd", "true"])), 125);
    }
    eventually("the host to look as before", || host_state() == before);
}
