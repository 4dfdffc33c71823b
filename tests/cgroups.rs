//! Resource limits end to end: values visible inside the container,
//! enforcement, bad input, and no cgroup left behind on any path.
mod common;
use common::*;
use std::sync::Mutex;

// Tests here check whole cgroup trees for leftovers, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const CTRLS: [&str; 4] = ["memory", "cpu", "cpuset", "pids"];

fn assert_no_leftovers() {
    for c in CTRLS {
        if let Some((d, _)) = cgroup_dir(c) {
            assert_eq!(
                leftovers(&d),
                Vec::<String>::new(),
                "cgroup left behind in the {c} hierarchy at {}",
                d.display()
            );
        }
    }
}

/// Runs `sh -c SCRIPT` under `flags`; inside, $CG is the container's cgroup
/// directory for `ctrl` (its id is the default hostname).
fn inside(flags: &[&str], ctrl: &str, script: &str) -> std::process::Output {
    let (dir, _) = cgroup_dir(ctrl).unwrap();
    let mut a: Vec<String> = vec!["run".into()];
    a.extend(flags.iter().map(|s| s.to_string()));
    a.extend(["sh".into(), "-c".into(), format!("CG={}/mydocker/$(hostname); {script}", dir.display())]);
    run(&a)
}

#[test]
fn memory_limit_is_visible_inside() {
    need_root!();
    let (_, v2) = need_ctrl!("memory");
    let _s = serial();
    let file = if v2 { "memory.max" } else { "memory.limit_in_bytes" };
    let o = inside(
        &["-m", "64m"],
        "memory",
        &format!("cat $CG/{file}; grep -c \"/mydocker/$(hostname)$\" /proc/self/cgroup"),
    );
    let out = ok(&o);
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], "67108864");
    assert!(l[1].parse::<u32>().unwrap() >= 1, "{out}");
    if !v2 {
        let o = inside(&["-m", "64m"], "memory", "cat $CG/memory.memsw.limit_in_bytes 2>/dev/null || echo no-memsw");
        let m = ok(&o);
        assert!(m == "67108864\n" || m == "no-memsw\n", "{m}");
    }
    assert_no_leftovers();
}

#[test]
fn memory_limit_is_enforced_with_the_oom_message_and_137() {
    need_root!();
    need_ctrl!("memory");
    let _s = serial();
    let o = run(["run", "-m", "16m", "sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"]);
    assert_eq!(code(&o), 137, "{}", stderr(&o));
    assert!(stderr(&o).contains("mydocker: container killed: out of memory (limit 16m)"), "{}", stderr(&o));
    assert_no_leftovers();
}

#[test]
fn cpuset_is_visible_as_cpus_allowed_list() {
    need_root!();
    need_ctrl!("cpuset");
    let _s = serial();
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let last = online.trim().rsplit([',', '-']).next().unwrap().to_string();
    for spelling in ["-cpuset", "--cpuset-cpus", "--cpuset"] {
        let o = run(["run", spelling, &last, "grep", "Cpus_allowed_list", "/proc/self/status"]);
        assert_eq!(ok(&o).split_whitespace().last().unwrap(), last);
    }
    assert_no_leftovers();
}

#[test]
fn shares_become_cpu_shares_or_weight() {
    need_root!();
    let (_, v2) = need_ctrl!("cpu");
    let _s = serial();
    let (file, want) = if v2 { ("cpu.weight", "50") } else { ("cpu.shares", "512") };
    for spelling in ["-cpushare", "--cpu-shares"] {
        assert_eq!(ok(&inside(&[spelling, "512"], "cpu", &format!("cat $CG/{file}"))).trim(), want);
    }
    assert_no_leftovers();
}

#[test]
fn cpus_become_a_cfs_quota() {
    need_root!();
    let (_, v2) = need_ctrl!("cpu");
    let _s = serial();
    let script = if v2 { "cat $CG/cpu.max" } else { "echo $(cat $CG/cpu.cfs_quota_us) $(cat $CG/cpu.cfs_period_us)" };
    assert_eq!(ok(&inside(&["--cpus", "0.5"], "cpu", script)).trim(), "50000 100000");
    assert_no_leftovers();
}

#[test]
fn pids_limit_is_written_and_enforced() {
    need_root!();
    need_ctrl!("pids");
    let _s = serial();
    assert_eq!(ok(&inside(&["--pids-limit", "20"], "pids", "cat $CG/pids.max")).trim(), "20");
    // With 3 allowed, a fourth process cannot be forked.
    let o = run(["run", "--pids-limit", "3", "sh", "-c", "sleep 5 & sleep 5 & sleep 5 & wait; echo done"]);
    assert!(
        stderr(&o).to_lowercase().contains("fork") || stderr(&o).contains("Resource temporarily unavailable"),
        "{}",
        stderr(&o)
    );
    assert_no_leftovers();
}

#[test]
fn the_originals_command_line_works() {
    need_root!();
    need_ctrl!("memory");
    need_ctrl!("cpuset");
    need_ctrl!("cpu");
    let _s = serial();
    // Its -ti needs a terminal: tests/tty.rs runs the whole line on one.
    let o = run(["run", "-m", "100m", "-cpuset", "0", "-cpushare", "512", "sh", "-c", "cat /proc/self/cgroup"]);
    let out = ok(&o);
    assert!(out.lines().filter(|l| l.contains("/mydocker/")).count() >= 1, "{out}");
    assert_no_leftovers();
}

#[test]
fn bad_limits_are_one_line_125_and_leave_nothing() {
    need_root!();
    need_ctrl!("memory");
    let _s = serial();
    let cases: &[(&[&str], &str)] = &[
        (&["-m", "0"], "--memory '0': size must be greater than zero"),
        (&["-m", "-1"], "--memory '-1'"),
        (&["-m", "10x"], "--memory '10x'"),
        (&["-m", "1.5"], "--memory '1.5'"),
        (&["-m", "99999999999g"], "size too large"),
        (&["-cpuset", "1-"], "malformed CPU list"),
        (&["-cpuset", "a"], "malformed CPU list"),
        (&["-cpuset", "3-1"], "a range must ascend"),
        (&["-cpuset", "0,,1"], "malformed CPU list"),
        (&["-cpuset", "1000"], "CPUs not online: 1000 (online: "),
        (&["-cpushare", "1"], "from 2 to 262144"),
        (&["-cpushare", "262145"], "from 2 to 262144"),
        (&["--pids-limit", "0"], "greater than zero"),
        (&["--pids-limit", "-1"], "greater than zero"),
        (&["--cpus", "0"], "greater than zero"),
        (&["--cpus", "1000"], "online CPUs"),
        (&["--cgroup-parent", "../escape"], "without '.' or '..'"),
    ];
    for (flags, needle) in cases {
        let mut a = vec!["run"];
        a.extend_from_slice(flags);
        a.push("true");
        fails(&run(&a), 125, needle);
    }
    assert_no_leftovers();
}

#[test]
fn cgroups_are_removed_on_every_path() {
    need_root!();
    need_ctrl!("memory");
    need_ctrl!("pids");
    let _s = serial();
    // exec failure after the cgroups were made
    fails(&run(["run", "-m", "32m", "--pids-limit", "9", "no-such-command-xyz"]), 127, "not found");
    // the command fails
    assert_eq!(code(&run(["run", "-m", "32m", "sh", "-c", "exit 7"])), 7);
    // killed by a forwarded signal
    let mut c = mydocker(["run", "-m", "32m", "--pids-limit", "9", "sleep", "30"]).spawn().unwrap();
    let me = c.id();
    eventually("the container's sleep", || children(me).first().map_or(false, |&p| comm(p) == "sleep"));
    let kid = children(me)[0];
    // SAFETY: plain kill(2) of the container's PID 1 from the host.
    unsafe { libc::kill(kid as i32, libc::SIGKILL) };
    assert_eq!(c.wait().unwrap().code(), Some(137));
    // background processes still running when PID 1 exits
    ok(&run(["run", "-m", "32m", "--pids-limit", "9", "sh", "-c", "sleep 30 & sleep 30 & true"]));
    assert_no_leftovers();
}

#[test]
fn two_hundred_containers_in_a_row_leave_the_trees_as_they_were() {
    need_root!();
    need_ctrl!("memory");
    need_ctrl!("pids");
    let _s = serial();
    let n: usize = std::env::var("MYDOCKER_STRESS_N").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    for i in 0..n {
        let o = run(["run", "-m", "32m", "--pids-limit", "10", "--cpu-shares", "256", "true"]);
        assert_eq!(code(&o), 0, "run {i}: {}", stderr(&o));
    }
    assert_no_leftovers();
}

#[test]
fn cgroups_mounted_elsewhere_are_found_through_mountinfo() {
    need_root!();
    let (_, v2) = need_ctrl!("memory");
    let _s = serial();
    // In a privileged container (a mount namespace of its own), the memory
    // hierarchy is unmounted from its usual place and mounted again
    // somewhere else: the usual places prove nothing, so a mydocker started
    // there must find it through /proc/self/mountinfo.
    let (usual, mount) =
        if v2 { ("/sys/fs/cgroup", "-t cgroup2 none") } else { ("/sys/fs/cgroup/memory", "-t cgroup -o memory none") };
    let script = format!(
        "umount -l {usual} && mount -t tmpfs none /sys/fs/cgroup && mkdir /sys/fs/cgroup/elsewhere && \
         mount {mount} /sys/fs/cgroup/elsewhere && grep -q ' /sys/fs/cgroup/elsewhere ' /proc/self/mountinfo && \
         {} run -m 32m sh -c 'grep -c \"/mydocker/$(hostname)$\" /proc/self/cgroup'",
        bin().display()
    );
    let out = ok(&run(["run", "--privileged", "sh", "-c", &script]));
    assert!(out.trim().parse::<u32>().unwrap() >= 1, "{out}");
    assert_no_leftovers();
}
