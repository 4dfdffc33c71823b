//! OCI `exec`, `pause`, `resume` and `update` (issue 16): a process joins a running
//! container — every namespace, the process settings of --process FILE or of
//! the container's config with the flags on top, --detach with the host pid
//! written (conmon's and containerd's way) or waited for (CRI-O's way).
//! Each test runs its own container from a bundle around the busybox rootfs
//! ($MYDOCKER_ROOTFS, `make rootfs`) under its own --root.
mod common;
#[path = "common/pty.rs"]
mod pty;
use common::*;
use serde_json::{json, Value};
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// One running container (`sleep` under a shell that exits 7 on TERM),
/// its bundle and state root; deleted with --force on drop.
struct Ctr {
    dir: PathBuf,
    id: String,
    pid: u32,
    /// The runtime: $MYDOCKER_BIN, or a copy of it.
    bin: PathBuf,
}

impl Ctr {
    fn start(tag: &str, rootfs: &str, edit: impl FnOnce(&mut Value)) -> Ctr {
        Ctr::made(tag, rootfs, edit, "running")
    }
    /// Created, not started: its process waits for `start`.
    fn create(tag: &str, rootfs: &str) -> Ctr {
        Ctr::made(tag, rootfs, |_| {}, "created")
    }
    fn made(tag: &str, rootfs: &str, edit: impl FnOnce(&mut Value), status: &str) -> Ctr {
        let mut t = Ctr::bundle(bin(), tag, rootfs, edit);
        t.made_as(status);
        t
    }
    /// The bundle alone, nothing created yet.
    fn bundle(bin: PathBuf, tag: &str, rootfs: &str, edit: impl FnOnce(&mut Value)) -> Ctr {
        let dir = std::env::temp_dir().join(format!("mydocker-exec-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("bundle")).unwrap();
        let mut c = json!({
            "ociVersion": "1.0.2",
            "process": {
                "args": ["sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait"],
                "env": ["PATH=/bin", "FROM_CONFIG=yes"],
                "cwd": "/",
                "user": {"uid": 0, "gid": 0},
                "capabilities": {
                    "bounding": ["CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"],
                    "effective": ["CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"],
                    "permitted": ["CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"]
                },
                "noNewPrivileges": true
            },
            "root": {"path": rootfs, "readonly": false},
            "hostname": "execbox",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
                {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}
            ],
            "linux": {
                "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
            }
        });
        edit(&mut c);
        fs::write(dir.join("bundle/config.json"), serde_json::to_vec(&c).unwrap()).unwrap();
        // Ids differ between tests: without cgroupsPath the cgroup is named
        // after the id, and deleting one container empties its cgroup.
        Ctr { dir, id: format!("exec-{tag}-{}", std::process::id()), pid: 0, bin }
    }
    /// Created (`status` "created") or run --detach ("running").
    fn made_as(&mut self, status: &str) {
        let t = self;
        let b = t.dir.join("bundle");
        let verb: &[&str] = if status == "running" { &["run", "--detach"] } else { &["create"] };
        let o = t.run(&[verb, &["--bundle", b.to_str().unwrap(), &t.id]].concat());
        assert_eq!(code(&o), 0, "{verb:?}: {}", stderr(&o));
        let s = t.state();
        assert_eq!(s["status"], status, "{s}");
        t.pid = s["pid"].as_u64().unwrap() as u32;
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(self.dir.join("state")).args(args).stdin(Stdio::null());
        c
    }
    /// Output through files: a detached process keeps them open.
    fn run(&self, args: &[&str]) -> Output {
        output_through_files(self.cmd(args), &self.dir)
    }
    fn exec(&self, args: &[&str]) -> Output {
        let mut a = vec!["exec"];
        a.extend_from_slice(args);
        self.run(&a)
    }
    fn state(&self) -> Value {
        let o = self.run(&["state", &self.id]);
        assert_eq!(code(&o), 0, "state: {}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    }
    fn process_file(&self, v: &Value) -> String {
        let p = self.dir.join("process.json");
        fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        let _ = self.cmd(&["delete", "--force", &self.id]).output();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn ns_of(pid: u32, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap().to_string_lossy().into_owned()
}

const NS: [&str; 5] = ["pid", "net", "ipc", "uts", "mnt"];

#[test]
fn exec_joins_every_namespace_of_the_container_and_exits_with_its_status() {
    let r = need_rootfs!();
    let c = Ctr::start("ns", &r, |_| {});
    let script = "for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done; hostname; exit 4";
    let o = c.exec(&[&c.id, "sh", "-c", script]);
    assert_eq!(code(&o), 4, "the command's status: {}", stderr(&o));
    let got: Vec<String> = stdout(&o).lines().map(String::from).collect();
    let want: Vec<String> = NS.iter().map(|n| ns_of(c.pid, n)).chain(["execbox".to_string()]).collect();
    assert_eq!(got, want, "the container's namespaces and hostname");
    // And not the host's: the container's namespaces are new ones.
    assert_ne!(ns_of(c.pid, "net"), ns_of(std::process::id(), "net"));
}

/// What a process of the container tries on PID 1's /proc entries: one
/// line per entry, "NAME ok" or "NAME denied" (fd: following fd 0; the
/// numbers alone are listed either way, as for runc's init).
const PEEK: &str = "for f in exe cwd root; do readlink /proc/1/$f >/dev/null && echo $f ok || echo $f denied; done; \
    for f in environ mem; do (exec 3</proc/1/$f) 2>/dev/null && echo $f ok || echo $f denied; done; \
    readlink /proc/1/fd/0 >/dev/null && echo fd ok || echo fd denied";

#[test]
fn a_created_containers_waiting_process_shows_the_container_no_host_binary_environment_or_fd() {
    let r = need_rootfs!();
    let c = Ctr::create("peek", &r);
    // Until start, PID 1 is mydocker's clone, waiting: its exe is the host's
    // mydocker (opened here, then reopened for writing once no mydocker
    // runs: runc CVE-2019-5736), environ the caller's, fd create's. An
    // exec'd process (or a pod sharing the PID namespace) must open none.
    let o = c.exec(&[&c.id, "sh", "-c", PEEK]);
    let denied = "exe denied\ncwd denied\nroot denied\nenviron denied\nmem denied\nfd denied\n";
    assert_eq!(stdout(&o), denied, "{}", stderr(&o));
    // Its command line, which anyone may read, is not the caller's (host
    // paths); even with CAP_SYS_PTRACE its memory holds no environment of
    // the caller's.
    let p = c.process_file(&json!({
        "args": ["sh", "-c", "tr '\\0' '|' < /proc/1/cmdline; echo; tr -d '\\0' < /proc/1/environ | wc -c"],
        "env": ["PATH=/bin"], "cwd": "/",
        "capabilities": {"bounding": ["CAP_SYS_PTRACE"], "effective": ["CAP_SYS_PTRACE"], "permitted": ["CAP_SYS_PTRACE"]}
    }));
    let o = c.exec(&["--process", &p, &c.id]);
    assert_eq!(stdout(&o), "mydocker-init|\n0\n", "{}", stderr(&o));
    // Started, PID 1 is the command, dumpable again (its execve): the same
    // process settings open all of it — the check above can tell.
    let o = c.run(&["start", &c.id]);
    assert_eq!(code(&o), 0, "start: {}", stderr(&o));
    let o = c.exec(&[&c.id, "sh", "-c", PEEK]);
    assert_eq!(stdout(&o), denied.replace("denied", "ok"), "{}", stderr(&o));
}

#[test]
fn exec_detach_writes_the_host_pid_and_leaves_the_process_in_the_container() {
    let r = need_rootfs!();
    let c = Ctr::start("detach", &r, |_| {});
    let pidf = c.dir.join("exec.pid");
    let o = c.exec(&["--detach", "--pid-file", pidf.to_str().unwrap(), &c.id, "sleep", "1000"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = fs::read_to_string(&pidf).unwrap();
    let pid: u32 = text.parse().unwrap_or_else(|_| panic!("pid file {text:?}: a number, no newline"));
    assert_eq!(comm(pid), "sleep", "the host pid of the exec'd command");
    for n in NS {
        assert_eq!(ns_of(pid, n), ns_of(c.pid, n), "{n} namespace");
    }
    // Its parent is not a mydocker left waiting: mydocker exited and the
    // process went to the nearest subreaper (here: init).
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: u32 = stat.rsplit(')').next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_ne!(comm(ppid), "mydocker", "parent {ppid}");
}

/// breaker6 19:12: an attached exec ignored --pid-file. As runc: the
/// process's host pid is written once it exists, while mydocker waits for
/// it; a pid file that cannot be written fails the exec (255) and ends the
/// process.
#[test]
fn an_attached_exec_writes_its_pid_file_while_it_runs() {
    let r = need_rootfs!();
    let c = Ctr::start("attpid", &r, |_| {});
    let pidf = c.dir.join("attached.pid");
    let mut exec = c.cmd(&["exec", "--pid-file", pidf.to_str().unwrap(), &c.id, "sleep", "1000"]).spawn().unwrap();
    eventually("the pid file", || fs::read_to_string(&pidf).is_ok_and(|t| !t.is_empty()));
    let text = fs::read_to_string(&pidf).unwrap();
    let pid: u32 = text.parse().unwrap_or_else(|_| panic!("pid file {text:?}: a number, no newline"));
    // (Written before its execve: mydocker's child until then.)
    eventually("the pid file's process to be the exec'd command", || comm(pid) == "sleep");
    assert_eq!(ns_of(pid, "pid"), ns_of(c.pid, "pid"));
    // SAFETY: plain kill(2) of the exec'd process.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    assert_eq!(exec.wait().unwrap().code(), Some(137), "the exec waited for it");
    // A directory where the file should go: refused, the process ended.
    let o = c.exec(&["--pid-file", c.dir.to_str().unwrap(), &c.id, "sleep", "1000"]);
    fails(&o, 255, "--pid-file");
}

#[test]
fn exec_process_file_sets_args_env_cwd_user_capabilities_rlimits_and_no_new_privs() {
    let r = need_rootfs!();
    let c = Ctr::start("process", &r, |_| {});
    let p = c.process_file(&json!({
        "args": ["sh", "-c", "echo $FOO; pwd; id -u; id -g; id -G; ulimit -n; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status"],
        "env": ["PATH=/bin", "FOO=from-file"],
        "cwd": "/tmp",
        "user": {"uid": 1000, "gid": 1001, "additionalGids": [1002]},
        "capabilities": {
            "bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
            "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 100, "soft": 50}],
        "noNewPrivileges": true
    }));
    let o = c.exec(&["--process", &p, &c.id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A non-root user keeps across execve only what the ambient set holds
    // (kernel rules, as with runc); the bounding set is as given.
    assert_eq!(
        stdout(&o),
        "from-file\n/tmp\n1000\n1001\n1001 1002\n50\nCapEff:\t0000000000000020\nCapBnd:\t0000000000000021\nNoNewPrivs:\t1\n"
    );
}

#[test]
fn exec_without_process_file_takes_the_containers_process_and_the_flags_on_top() {
    let r = need_rootfs!();
    let c = Ctr::start("flags", &r, |_| {});
    let o = c.exec(&["--cwd", "/tmp", "-e", "EXTRA=1", "--user", "5:6", &c.id, "sh", "-c", "echo $FROM_CONFIG $EXTRA; pwd; id -u; id -g"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "yes 1\n/tmp\n5\n6\n");
}

#[test]
fn exec_errors_are_runc_shaped() {
    let r = need_rootfs!();
    let c = Ctr::start("errors", &r, |_| {});
    // runc's codes: 1 for a usage error, 255 when the process could not
    // run (whatever the reason: the message says it), not 125/126/127.
    fails(&c.exec(&["--bogus", &c.id, "true"]), 1, "unknown flag");
    fails(&c.exec(&["nosuch", "true"]), 255, "container does not exist");
    let o = c.exec(&[&c.id, "/no/such/command"]);
    assert_eq!(code(&o), 255, "{}", stderr(&o));
    let o = c.exec(&["--detach", &c.id, "/no/such/command"]);
    assert_eq!(code(&o), 255, "{}", stderr(&o));
    // A command that ran: its own status, 127 included.
    assert_eq!(code(&c.exec(&[&c.id, "sh", "-c", "exit 127"])), 127);
    assert!(stderr(&o).contains("executable file not found"), "{}", stderr(&o));
    // exec enters the working directory, it never makes one (runc's setns
    // init only chdirs): a missing one is an error and stays missing.
    let o = c.exec(&["--cwd", "/tmp/no-such-dir", &c.id, "true"]);
    assert_eq!(code(&o), 255, "{}", stderr(&o));
    assert!(stderr(&o).contains("/tmp/no-such-dir: No such file or directory"), "{}", stderr(&o));
    let o = c.exec(&[&c.id, "sh", "-c", "test -e /tmp/no-such-dir || echo absent"]);
    assert_eq!(stdout(&o), "absent\n", "{}", stderr(&o));
    assert_eq!(code(&c.run(&["kill", &c.id, "KILL"])), 0);
    eventually("the container stopped", || c.state()["status"] == "stopped");
    fails(&c.exec(&[&c.id, "true"]), 255, "cannot exec in a stopped container");
}

#[test]
fn exec_joins_a_namespace_path_checked_by_type() {
    let r = need_rootfs!();
    let c = Ctr::start("nspath", &r, |_| {});
    // A second container in the first one's network, IPC and UTS
    // namespaces (Kubernetes' pod shape), then a wrong type refused.
    let d = Ctr::start("nspath2", &r, |v| {
        v["linux"]["namespaces"] = json!([
            {"type": "pid"}, {"type": "mount"},
            {"type": "network", "path": format!("/proc/{}/ns/net", c.pid)},
            {"type": "ipc", "path": format!("/proc/{}/ns/ipc", c.pid)},
            {"type": "uts", "path": format!("/proc/{}/ns/uts", c.pid)}
        ]);
        v["hostname"] = Value::Null;
    });
    for n in ["net", "ipc", "uts"] {
        assert_eq!(ns_of(d.pid, n), ns_of(c.pid, n), "{n} joined");
    }
    assert_ne!(ns_of(d.pid, "pid"), ns_of(c.pid, "pid"), "pid namespace its own");
    let dir = std::env::temp_dir().join(format!("mydocker-exec-nsbad-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("bundle")).unwrap();
    let bad = json!({
        "ociVersion": "1.0.2",
        "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
        "root": {"path": r},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}
        ],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": format!("/proc/{}/ns/ipc", c.pid)}]}
    });
    fs::write(dir.join("bundle/config.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
    let o = Command::new(bin())
        .arg("--root")
        .arg(dir.join("state"))
        .args(["run", "--bundle", dir.join("bundle").to_str().unwrap(), "bad"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("network namespace") && stderr(&o).contains("another type"), "{}", stderr(&o));
}

/// The container's cgroup directories (every hierarchy) whose path ends
/// with `rel`, from /proc/<pid>/cgroup and the cgroup mounts.
fn cgroups_of(pid: u32, rel: &str) -> Vec<PathBuf> {
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mut dirs = vec![];
    for l in fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap().lines() {
        let mut f = l.splitn(3, ':');
        let (_, ctrls, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        for m in mounts.lines() {
            let (a, b) = m.split_once(" - ").unwrap();
            let mp = a.split(' ').nth(4).unwrap();
            let mut bf = b.split(' ');
            let (fstype, opts) = (bf.next().unwrap(), bf.nth(1).unwrap_or(""));
            let fits = match fstype {
                "cgroup2" => ctrls.is_empty(),
                "cgroup" => !ctrls.is_empty() && ctrls.split(',').all(|c| opts.split(',').any(|o| o == c || o == format!("name={}", c.trim_start_matches("name=")))),
                _ => false,
            };
            if fits && path.ends_with(rel) {
                dirs.push(PathBuf::from(format!("{mp}{path}")));
            }
        }
    }
    dirs
}

fn read_in(dirs: &[PathBuf], files: &[&str]) -> Option<String> {
    dirs.iter().find_map(|d| files.iter().find_map(|f| fs::read_to_string(d.join(f)).ok())).map(|s| s.trim().to_string())
}

/// cgroupsPath (relative: under the caller's cgroup) and limits to update.
fn limited(tag: &str) -> (String, impl FnOnce(&mut Value)) {
    let rel = format!("mydocker-exec-{tag}-{}", std::process::id());
    let r = rel.clone();
    (rel, move |v: &mut Value| {
        v["linux"]["cgroupsPath"] = json!(r);
        v["linux"]["resources"] = json!({"memory": {"limit": 67108864}, "pids": {"limit": 100}, "cpu": {"shares": 512}});
    })
}

#[test]
fn update_writes_the_new_limits_from_a_file_or_stdin() {
    let r = need_rootfs!();
    let (rel, edit) = limited("update");
    let c = Ctr::start("update", &r, edit);
    let dirs = cgroups_of(c.pid, &rel);
    assert!(!dirs.is_empty(), "the container's cgroups at {rel}");
    let f = c.dir.join("res.json");
    fs::write(&f, r#"{"memory": {"limit": 33554432}, "pids": {"limit": 50}}"#).unwrap();
    let o = c.run(&["update", "--resources", f.to_str().unwrap(), &c.id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(read_in(&dirs, &["memory.limit_in_bytes", "memory.max"]).as_deref(), Some("33554432"));
    assert_eq!(read_in(&dirs, &["pids.max"]).as_deref(), Some("50"));
    // containerd's form: the object on stdin, --resources=-.
    let mut p = c.cmd(&["update", "--resources=-", &c.id]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    p.stdin.take().unwrap().write_all(br#"{"pids": {"limit": 40}, "cpu": {"shares": 256}}"#).unwrap();
    let o = p.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(read_in(&dirs, &["pids.max"]).as_deref(), Some("40"));
    assert_eq!(read_in(&dirs, &["memory.limit_in_bytes", "memory.max"]).as_deref(), Some("33554432"), "untouched");
    // v2: the weight 256 shares convert to (README: shares → weight).
    let shares = read_in(&dirs, &["cpu.shares", "cpu.weight"]);
    assert!(shares.as_deref() == Some("256") || shares.as_deref() == Some("25"), "{shares:?}");
    // runc's readings: pids.limit -1 (podman's, CRI-O's "unlimited") is
    // "max" in both cgroup versions; a 0 memory limit or share is unset.
    fs::write(&f, r#"{"memory": {"limit": 0}, "cpu": {"shares": 0}, "pids": {"limit": -1}}"#).unwrap();
    let o = c.run(&["update", "--resources", f.to_str().unwrap(), &c.id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(read_in(&dirs, &["pids.max"]).as_deref(), Some("max"));
    assert_eq!(read_in(&dirs, &["memory.limit_in_bytes", "memory.max"]).as_deref(), Some("33554432"), "untouched");
    fails(&c.run(&["update", "--resources", "/no/such/file", &c.id]), 1, "/no/such/file");
    fails(&c.run(&["update", "--memory", "1m", &c.id]), 1, "--resources");
}

/// linux.resources.cpu.burst (runtime-spec 1.1) is written as runc 1.1
/// writes it — v1 cpu.cfs_burst_us, v2 cpu.max.burst — at create and at
/// update, also when the new quota is below the burst set before (the
/// kernel refuses a quota under the current burst).
#[test]
fn cpu_burst_is_written_at_create_and_update() {
    let r = need_rootfs!();
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut v = release.split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().unwrap_or(0));
    if (v.next().unwrap_or(0), v.next().unwrap_or(0)) < (5, 14) {
        println!("SKIP cpu_burst_is_written_at_create_and_update: kernel {} has no CFS burst (5.14)", release.trim());
        return;
    }
    let rel = format!("mydocker-exec-burst-{}", std::process::id());
    let r2 = rel.clone();
    let c = Ctr::start("burst", &r, move |v: &mut Value| {
        v["linux"]["cgroupsPath"] = json!(r2);
        v["linux"]["resources"] = json!({"cpu": {"quota": 50000, "period": 100000, "burst": 20000}});
    });
    let dirs = cgroups_of(c.pid, &rel);
    let burst = || read_in(&dirs, &["cpu.cfs_burst_us", "cpu.max.burst"]);
    assert_eq!(burst().as_deref(), Some("20000"));
    let f = c.dir.join("res.json");
    for (res, want_burst, want_quota) in [
        (r#"{"cpu": {"burst": 30000}}"#, "30000", "50000"),
        (r#"{"cpu": {"quota": 10000, "burst": 5000}}"#, "5000", "10000"),
        (r#"{"cpu": {"burst": 0}}"#, "0", "10000"),
    ] {
        fs::write(&f, res).unwrap();
        let o = c.run(&["update", "--resources", f.to_str().unwrap(), &c.id]);
        assert_eq!(code(&o), 0, "{res}: {}", stderr(&o));
        assert_eq!(burst().as_deref(), Some(want_burst), "{res}");
        let q = read_in(&dirs, &["cpu.cfs_quota_us", "cpu.max"]).unwrap();
        assert!(q == want_quota || q == format!("{want_quota} 100000"), "{res}: {q}");
    }
}

#[test]
fn pause_freezes_every_task_resume_thaws_and_delete_removes_a_paused_one() {
    let r = need_rootfs!();
    let (rel, edit) = limited("pause");
    let c = Ctr::start("pause", &r, edit);
    let o = c.run(&["pause", &c.id]);
    if stderr(&o).contains("the container has no freezer cgroup") {
        eprintln!("SKIP {}: cgroup v1 without a freezer hierarchy", module_path!());
        return;
    }
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(c.state()["status"], "paused");
    // The kernel says every task is frozen: v1 freezer.state FROZEN, v2
    // cgroup.events "frozen 1".
    let dirs = cgroups_of(c.pid, &rel);
    let v1 = read_in(&dirs, &["freezer.state"]);
    let v2 = dirs.iter().find_map(|d| fs::read_to_string(d.join("cgroup.events")).ok());
    assert!(v1.as_deref() == Some("FROZEN") || v2.is_some_and(|e| e.lines().any(|l| l == "frozen 1")), "{dirs:?}");
    fails(&c.exec(&[&c.id, "true"]), 255, "paused");
    fails(&c.run(&["pause", &c.id]), 1, "already paused");
    assert_eq!(code(&c.run(&["resume", &c.id])), 0);
    assert_eq!(c.state()["status"], "running");
    fails(&c.run(&["resume", &c.id]), 1, "not paused");
    // Deleted while paused: killed, thawed so the kill lands, and every
    // cgroup (the freezer one too) removed.
    assert_eq!(code(&c.run(&["pause", &c.id])), 0);
    let dirs = cgroups_of(c.pid, &rel);
    assert_eq!(code(&c.run(&["delete", "--force", &c.id])), 0);
    for d in &dirs {
        assert!(!d.exists(), "{d:?} left behind");
    }
}

/// kill KILL of a paused container: a task frozen by the v1 freezer dies
/// only once thawed, so runc thaws after sending SIGKILL; so does mydocker
/// (the client waiting for the exit got none before a resume).
#[test]
fn kill_of_a_paused_container_with_sigkill_stops_it() {
    let r = need_rootfs!();
    let c = Ctr::start("pkill", &r, |_| {});
    let o = c.run(&["pause", &c.id]);
    if stderr(&o).contains("the container has no freezer cgroup") {
        eprintln!("SKIP {}: cgroup v1 without a freezer hierarchy", module_path!());
        return;
    }
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = c.run(&["kill", &c.id, "KILL"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    eventually("the container to stop", || c.state()["status"] == "stopped");
    assert_eq!(code(&c.run(&["delete", &c.id])), 0);
}

/// A container whose /dev/pts is a devpts of its own, for exec --tty.
fn with_devpts(c: &mut Value) {
    c["mounts"].as_array_mut().unwrap().push(json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}));
}

#[test]
fn exec_tty_with_a_console_socket_sends_the_master_there() {
    let r = need_rootfs!();
    let c = Ctr::start("ttysock", &r, with_devpts);
    let sock = c.dir.join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let pidf = c.dir.join("exec.pid");
    let s = sock.to_str().unwrap();
    let o = c.exec(&["--detach", "--tty", "--console-socket", s, "--pid-file", pidf.to_str().unwrap(), &c.id, "sh", "-c",
        "tty; [ -t 0 ] && [ -t 1 ] && echo isatty; echo X$((1+1))"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (conn, _) = listener.accept().unwrap();
    let (mut master, name) = pty::recv_master(&conn);
    assert!(name.starts_with("/dev/pts/"), "{name:?}");
    let mut seen = String::new();
    pty::read_until(&mut master, &mut seen, "X2");
    assert!(seen.contains("/dev/pts/") && seen.contains("isatty"), "{seen}");
}

#[test]
fn exec_tty_attached_relays_the_callers_terminal() {
    let r = need_rootfs!();
    let c = Ctr::start("ttyrelay", &r, with_devpts);
    let mut t = pty::pty(24, 80);
    let before = t.termios();
    let mut p = t.spawn(c.cmd(&["exec", "-t", &c.id, "sh", "-c", "tty; stty size; exit 4"]));
    let mut seen = String::new();
    t.expect(&mut seen, "24 80");
    assert_eq!(pty::finish(&mut p, &seen), 4, "{seen}");
    assert!(seen.contains("/dev/pts/"), "{seen}");
    assert!(pty::same_mode(&t.termios(), &before), "the caller's terminal was not restored");
}

#[test]
fn exec_tty_misuse_is_one_line() {
    let r = need_rootfs!();
    let c = Ctr::start("ttybad", &r, with_devpts);
    for (args, says) in [
        (vec!["--detach", "--tty"], "--tty with --detach needs --console-socket"),
        (vec!["--console-socket", "/nonexistent.sock"], "--console-socket needs --tty"),
        (vec!["--tty"], "the input device is not a TTY"),
    ] {
        let mut a = args.clone();
        a.extend_from_slice(&[&c.id, "true"]);
        let o = c.exec(&a);
        // runc finds these in its exec, not in its flag parser: 255.
        assert_eq!(code(&o), 255, "{a:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says) && stderr(&o).lines().count() == 1, "{a:?}: {}", stderr(&o));
    }
}

#[test]
fn an_exec_process_gets_the_containers_seccomp_filter_with_and_without_a_process_file() {
    let r = need_rootfs!();
    let c = Ctr::start("seccomp", &r, |c| {
        c["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
        });
    });
    let script = "grep '^Seccomp:' /proc/self/status; mkdir /tmp/x 2>&1";
    let o = c.exec(&[&c.id, "sh", "-c", script]);
    assert_eq!(stdout(&o), "Seccomp:\t2\nmkdir: can't create directory '/tmp/x': Permission denied\n", "{}", stderr(&o));
    let p = c.process_file(&json!({"args": ["sh", "-c", script], "env": ["PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}}));
    let o = c.exec(&["--process", &p, &c.id]);
    assert_eq!(stdout(&o), "Seccomp:\t2\nmkdir: can't create directory '/tmp/x': Permission denied\n", "{}", stderr(&o));
}

#[test]
fn the_cgroup_mount_shows_the_containers_own_limits_read_only() {
    let r = need_rootfs!();
    let (_, edit) = limited("cgmount");
    let c = Ctr::start("cgmount", &r, |v| {
        edit(v);
        // Its own cgroup namespace: on v2 the cgroup2 mount is rooted there.
        v["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "cgroup"}));
        v["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
            "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]
        }));
    });
    // v1: runc's layout (a tmpfs, each hierarchy's cgroup of the container
    // bound in); v2: cgroup2. Either way the container's own limits.
    let o = c.exec(&[&c.id, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; \
        cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; \
        mkdir /sys/fs/cgroup/x 2>/dev/null && echo writable || echo read-only"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "67108864\n100\nread-only\n");
}

#[test]
fn exec_joins_every_cgroup_of_the_container() {
    let r = need_rootfs!();
    let (_, edit) = limited("execcg");
    let c = Ctr::start("execcg", &r, edit);
    let pidf = c.dir.join("exec.pid");
    let o = c.exec(&["--detach", "--pid-file", pidf.to_str().unwrap(), &c.id, "sleep", "1000"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let pid: u32 = fs::read_to_string(&pidf).unwrap().parse().unwrap();
    let cg = |p: u32| fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap();
    assert_eq!(cg(pid), cg(c.pid), "the exec'd process is in the container's cgroups, every hierarchy");
    assert_ne!(cg(pid), cg(std::process::id()));
}

/// In the container: wait for a process that runs the runtime (its exe
/// named mydocker-copy), hold an fd on its /proc/PID/exe, end it, and once
/// /x/go exists reopen that fd for writing (runc CVE-2019-5736).
const GRAB: &str = "while :; do for e in /proc/[0-9]*/exe; do case $(readlink $e 2>/dev/null) in *mydocker-copy) \
    exec 4<$e; p=${e#/proc/}; kill -9 ${p%/exe}; touch /x/got; break 2;; esac; done; done; \
    until [ -e /x/go ]; do sleep 0.1; done; { echo PWNED >> /proc/self/fd/4; } 2>/x/res; echo rc=$? >> /x/res";

#[test]
fn the_runtime_run_by_a_proc_self_exe_script_in_a_container_cannot_be_rewritten_once_every_call_returned() {
    let r = need_rootfs!();
    let dir = std::env::temp_dir().join(format!("mydocker-keeper-{}", std::process::id()));
    let x = dir.join("x");
    fs::create_dir_all(&x).unwrap();
    // A copy as the runtime: the test may overwrite it, never the real one.
    let copy = dir.join("mydocker-copy");
    fs::copy(bin(), &copy).unwrap();
    let original = fs::read(&copy).unwrap();
    fs::write(x.join("evil"), "#!/proc/self/exe\n").unwrap();
    fs::set_permissions(x.join("evil"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut c = Ctr::bundle(copy.clone(), "keeper", &r, |c| {
        let m = json!({"destination": "/x", "type": "bind", "source": x, "options": ["rbind"]});
        c["mounts"].as_array_mut().unwrap().push(m);
    });
    c.made_as("created");
    assert_eq!(code(&c.run(&["start", &c.id])), 0);
    let o = c.exec(&["-d", &c.id, "sh", "-c", GRAB]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // exec'ing the script, the exec child makes the kernel run its own
    // /proc/self/exe (the runtime) in the container: a fresh, dumpable
    // process, held still writing its usage line into a full pipe.
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both fds are ours alone from here on.
    let (rd, mut wr) = unsafe { (fs::File::from_raw_fd(fds[0]), fs::File::from_raw_fd(fds[1])) };
    // SAFETY: F_GETPIPE_SZ on our own pipe.
    let size = unsafe { libc::fcntl(fds[1], libc::F_GETPIPE_SZ) };
    std::io::Write::write_all(&mut wr, &vec![b'.'; size as usize]).unwrap();
    let mut ex = c.cmd(&["exec", "-d", &c.id, "/x/evil"]).stdout(Stdio::null()).stderr(wr).spawn().unwrap();
    let mut st = None;
    eventually("exec -d to return", || {
        st = ex.try_wait().unwrap();
        st.is_some()
    });
    assert!(st.unwrap().success());
    eventually("the container to hold an fd on the runtime", || x.join("got").exists());
    drop(rd);
    // Every mydocker call has returned: only the container's keeper still
    // executes the runtime, so the kernel refuses the write.
    fs::write(x.join("go"), "").unwrap();
    eventually("the write's outcome", || fs::read_to_string(x.join("res")).is_ok_and(|s| s.contains("rc=")));
    let res = fs::read_to_string(x.join("res")).unwrap();
    assert!(res.contains("Text file busy") && !res.contains("rc=0"), "{res}");
    assert!(fs::read(&copy).unwrap() == original, "the runtime was rewritten");
    // The keeper goes with the container.
    assert_eq!(code(&c.run(&["delete", "--force", &c.id])), 0);
    let runs_copy = || {
        fs::read_dir("/proc").unwrap().flatten().any(|e| fs::read_link(e.path().join("exe")).is_ok_and(|p| p == copy))
    };
    eventually("no process to run the runtime after delete", || !runs_copy());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn creates_stdout_and_stderr_pipes_reach_eof_once_the_container_lets_go_of_them() {
    let r = need_rootfs!();
    let c = Ctr::bundle(bin(), "eof", &r, |c| c["process"]["args"] = json!(["sh", "-c", "exec >/dev/null 2>&1; sleep 1000"]));
    let b = c.dir.join("bundle");
    let mut cr = c.cmd(&["create", "--bundle", b.to_str().unwrap(), &c.id]);
    let mut cr = cr.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    assert!(cr.wait().unwrap().success());
    // The container's process has them until its command redirects them;
    // nothing of mydocker's may keep them (clients wait for that EOF).
    assert_eq!(code(&c.run(&["start", &c.id])), 0);
    let (mut out, mut err) = (cr.stdout.take().unwrap(), cr.stderr.take().unwrap());
    for fd in [out.as_raw_fd(), err.as_raw_fd()] {
        // SAFETY: F_SETFL on a pipe end we own.
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) }, 0);
    }
    let eof = |f: &mut dyn std::io::Read| matches!(f.read(&mut [0u8; 64]), Ok(0));
    eventually("EOF on create's stdout and stderr", || eof(&mut out) && eof(&mut err));
}

#[test]
fn exec_runs_in_a_container_at_its_pids_limit() {
    // runc forks the process outside and moves it in: pids.max refuses a
    // fork into the cgroup, not a move. A probe must not fail because the
    // container is busy.
    let r = need_rootfs!();
    let rel = format!("mydocker-exec-pidsfull-{}", std::process::id());
    let c = Ctr::start("pidsfull", &r, |v| {
        v["process"]["args"] = json!(["sh", "-c", "sleep 1000 & sleep 1000 & wait"]);
        v["linux"]["cgroupsPath"] = json!(rel);
        v["linux"]["resources"] = json!({"pids": {"limit": 3}});
    });
    let dirs = cgroups_of(c.pid, &rel);
    let current = || read_in(&dirs, &["pids.current"]);
    for _ in 0..1000 {
        if current().as_deref() == Some("3") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(current().as_deref(), Some("3"), "the container is at its limit");
    let o = c.exec(&[&c.id, "sh", "-c", "cat /proc/self/cgroup"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), fs::read_to_string(format!("/proc/{}/cgroup", c.pid)).unwrap(), "in the container's cgroups");
}

#[test]
fn update_to_a_memory_limit_below_the_usage_says_so() {
    let r = need_rootfs!();
    let (_, edit) = limited("membusy");
    let c = Ctr::start("membusy", &r, edit);
    let p = c.dir.join("res.json");
    fs::write(&p, r#"{"memory": {"limit": 4096}}"#).unwrap();
    let o = c.run(&["update", "--resources", p.to_str().unwrap(), &c.id]);
    if code(&o) == 0 {
        // cgroup v2's memory.max takes it (and reclaims or OOM-kills).
        eprintln!("SKIP {}: the kernel took a limit below the usage (cgroup v2)", module_path!());
        return;
    }
    assert_eq!(code(&o), 1);
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("memory.limit_in_bytes: the limit is below current usage"), "{e}");
}

/// Teardown for the lifecycle races: whatever a failed run left in these
/// cgroups — tasks frozen for good, nested cgroups, the cgroups themselves
/// — is thawed, killed and removed, deepest first.
struct Sweep(Vec<PathBuf>);

impl Drop for Sweep {
    fn drop(&mut self) {
        for d in &self.0 {
            sweep_cgroup(d);
        }
    }
}

/// A child process of the test, stopped or not, ended on drop.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The first field of /proc/PID/syscall: the number of the syscall `pid`
/// is blocked in.
fn blocked_in(pid: u32) -> Option<i64> {
    fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?.split(' ').next()?.parse().ok()
}

/// breaker4 15:27/15:31: a pause landing while a delete -f ran (after its
/// kill and thaw) froze the dying container, and delete still removed the
/// record and said 0, leaving FROZEN cgroups and the host-side exec waiting
/// on its frozen child. Made deterministic: the container's PID 1, killed,
/// waits in the kernel until every task of its PID namespace is reaped, and
/// an exec'd task's parent (the host-side `mydocker exec`) is stopped, so
/// delete waits for PID 1 while the container still counts as running.
/// pause then must fail — once the delete is over, the container is gone.
#[test]
fn a_pause_during_a_delete_fails_and_leaves_nothing_frozen() {
    let r = need_rootfs!();
    let (rel, edit) = limited("pdel");
    let c = Ctr::start("pdel", &r, edit);
    let _sweep = Sweep(cgroups_of(c.pid, &rel));
    let held = c.cmd(&["exec", &c.id, "sleep", "1000"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let held = Reaped(held);
    let exec_pid = held.0.id();
    eventually("the exec'd sleep", || children(exec_pid).first().is_some_and(|&k| comm(k) == "sleep"));
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(exec_pid as i32, libc::SIGSTOP) };
    let del = Reaped(c.cmd(&["delete", "--force", &c.id]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    // PID 1 is exiting (PF_EXITING in field 9 of stat) and delete waits
    // for it, its kill and thaw done.
    let exiting = || {
        let st = fs::read_to_string(format!("/proc/{}/stat", c.pid)).unwrap_or_default();
        let flags: u64 = st.rsplit(") ").next().and_then(|s| s.split(' ').nth(6)).and_then(|f| f.parse().ok()).unwrap_or(0);
        flags & 4 != 0
    };
    eventually("delete to wait for the killed PID 1", || exiting() && blocked_in(del.0.id()) == Some(libc::SYS_clock_nanosleep));
    let err = c.dir.join("pause.err");
    let pause = c.cmd(&["pause", &c.id]).stdout(Stdio::null()).stderr(fs::File::create(&err).unwrap()).spawn().unwrap();
    let (mut pause, mut del) = (Reaped(pause), del);
    // pause either ends now or waits for the delete (in flock).
    eventually("pause to end or wait", || {
        pause.0.try_wait().unwrap().is_some() || blocked_in(pause.0.id()) == Some(libc::SYS_flock)
    });
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(exec_pid as i32, libc::SIGCONT) };
    let deleted = del.0.wait().unwrap();
    let paused = pause.0.wait().unwrap();
    let why = fs::read_to_string(&err).unwrap();
    if why.contains("the container has no freezer cgroup") {
        eprintln!("SKIP {}: cgroup v1 without a freezer hierarchy", module_path!());
        return;
    }
    assert!(deleted.success(), "delete -f failed");
    // (Gone altogether if delete's 10 s wait for PID 1 ran out first.)
    let refused = why.trim() == "mydocker: pause: container not running" || why.contains("container does not exist");
    assert!(paused.code() == Some(1) && refused, "a pause after delete's kill: {paused:?} {why:?}");
    let left: Vec<_> = cgroups_of_gone(&_sweep.0).into_iter().map(|d| (fs::read_to_string(d.join("freezer.state")), d)).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    fails(&c.run(&["state", &c.id]), 1, "does not exist");
}

/// The directories of `dirs` that still exist.
fn cgroups_of_gone(dirs: &[PathBuf]) -> Vec<PathBuf> {
    dirs.iter().filter(|d| d.exists()).cloned().collect()
}

/// delete removed the record and said 0 though a cgroup of the container
/// could not be removed: nothing named it any more. Now it says so, exits 1
/// and keeps the record (as runc), so a later delete can finish. A process
/// not the container's (its pid namespace's are gone with its init), moved
/// into its cgroup, keeps it busy here: delete kills only the init.
#[test]
fn delete_fails_and_keeps_the_record_while_a_cgroup_of_the_container_remains() {
    let r = need_rootfs!();
    let (rel, edit) = limited("dkeep");
    let c = Ctr::start("dkeep", &r, edit);
    let dirs = cgroups_of(c.pid, &rel);
    let _sweep = Sweep(dirs.clone());
    let mut other = Reaped(Command::new("sleep").arg("1000").spawn().unwrap());
    fs::write(dirs[0].join("cgroup.procs"), other.0.id().to_string()).unwrap();
    let o = c.run(&["delete", "--force", &c.id]);
    fails(&o, 1, &format!("mydocker: delete: removing cgroup {}: Resource busy", dirs[0].display()));
    assert_eq!(c.state()["status"], "stopped", "the record is kept");
    other.0.kill().unwrap();
    other.0.wait().unwrap();
    let o = c.run(&["delete", &c.id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(cgroups_of_gone(&dirs), Vec::<PathBuf>::new());
    fails(&c.run(&["state", &c.id]), 1, "does not exist");
}
