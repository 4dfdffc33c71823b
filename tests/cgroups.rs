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
    // PID 1 itself is the process the limit kills.
    let o = run(["run", "-m", "16m", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]);
    assert_eq!(code(&o), 137, "{}", stderr(&o));
    assert_eq!(stderr(&o), "mydocker: container killed: out of memory (limit 16m)\n");
    // The same under --init: PID 1 is our reaper, the command its child.
    let o = run(["run", "--init", "-m", "16m", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]);
    assert_eq!(code(&o), 137, "{}", stderr(&o));
    assert_eq!(stderr(&o), "mydocker: container killed: out of memory (limit 16m)\n");
    assert_no_leftovers();
}

/// A memory limit too small for the container to even start in (its own
/// setup's kernel allocations would fail, execve's argument pages too, and
/// the kernel would then say E2BIG) is refused as docker refuses it, in one
/// line, on every launch path (the shared-memory one of a plain run, the
/// copying one of --init).
#[test]
fn memory_limits_below_dockers_minimum_are_refused_in_one_line() {
    need_root!();
    need_ctrl!("memory");
    let _s = serial();
    // Below docker's minimum (6 MiB) a run is refused before anything is
    // made, whatever else it asks for; at the minimum it runs.
    for m in ["1", "4k", "12k", "32k", "6291455"] {
        for more in [&[][..], &["--init"], &["-e", "X=1"], &["--security-opt", "seccomp=unconfined"], &["--privileged"]] {
            let mut args = vec!["run", "-m", m];
            args.extend_from_slice(more);
            args.push("true");
            let o = run(args.iter().copied());
            let want = format!("mydocker: run: --memory '{m}': below the minimum of 6m (docker's)\n");
            assert_eq!((code(&o), stderr(&o)), (125, want), "{args:?}");
        }
    }
    let o = run(["run", "-m", "6m", "true"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_no_leftovers();
}

/// The limit killed a child of PID 1, and PID 1 went on to end by itself:
/// its status stands, whatever it is, with one line counting the kills.
#[test]
fn an_oom_kill_of_a_child_leaves_pid1s_status_and_says_how_many_died() {
    need_root!();
    need_ctrl!("memory");
    let _s = serial();
    let line = "mydocker: out of memory: the limit (16m) killed 1 process in the container; \
                the exit status is PID 1's own\n";
    let dd = "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null";
    for (script, want) in [(format!("{dd}; exit 3"), 3), (format!("{dd}; exit 0"), 0), (format!("{dd}; exit 137"), 137)] {
        let o = run(["run", "-m", "16m", "sh", "-c", &script]);
        assert_eq!(code(&o), want, "{script}: {}", stderr(&o));
        assert_eq!(stderr(&o), line, "{script}");
    }
    // Killed by another signal after the OOM killer took a child: 128+N
    // (under --init, so that the shell is not a namespace init ignoring it).
    let o = run(["run", "--init", "-m", "16m", "sh", "-c", &format!("{dd}; kill -TERM $$; sleep 1")]);
    assert_eq!(code(&o), 143, "{}", stderr(&o));
    assert_eq!(stderr(&o), line);
    assert_no_leftovers();
}

/// SIGKILL that is not the OOM killer's is no OOM verdict.
#[test]
fn a_sigkill_without_an_oom_kill_is_just_137() {
    need_root!();
    need_ctrl!("memory");
    let _s = serial();
    let o = run(["run", "--init", "-m", "64m", "sh", "-c", "kill -KILL $$"]);
    assert_eq!(code(&o), 137);
    assert_eq!(stderr(&o), "");
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
        (&["--pids-limit", "-2"], "greater than zero"),
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

/// In a privileged container (a mount namespace of its own), `moves` —
/// given the memory hierarchy's usual mount point and the mount(8)
/// arguments that mount it again — then `mydocker run -m 32m`: how many
/// /proc/self/cgroup lines of the container name its own cgroup.
fn memory_cgroups_after(moves: &dyn Fn(&str, &str) -> String) -> u32 {
    let (_, v2) = cgroup_dir("memory").unwrap();
    let (usual, mount) =
        if v2 { ("/sys/fs/cgroup", "-t cgroup2 none") } else { ("/sys/fs/cgroup/memory", "-t cgroup -o memory none") };
    let script = format!(
        "{} && {} run -m 32m sh -c 'grep -c \"/mydocker/$(hostname)$\" /proc/self/cgroup'",
        moves(usual, mount),
        bin().display()
    );
    let out = ok(&run(["run", "--privileged", "sh", "-c", &script]));
    out.trim().parse::<u32>().unwrap_or_else(|_| panic!("{out}"))
}

#[test]
fn cgroups_mounted_elsewhere_are_found_through_mountinfo() {
    need_root!();
    need_ctrl!("memory");
    let _s = serial();
    // The memory hierarchy unmounted from its usual place and mounted
    // again somewhere else: the usual places prove nothing, so mydocker
    // must find it through /proc/self/mountinfo.
    let n = memory_cgroups_after(&|usual, mount| {
        format!(
            "umount -l {usual} && mount -t tmpfs none /sys/fs/cgroup && mkdir /sys/fs/cgroup/elsewhere && \
             mount {mount} /sys/fs/cgroup/elsewhere && grep -q ' /sys/fs/cgroup/elsewhere ' /proc/self/mountinfo"
        )
    });
    assert!(n >= 1);
    assert_no_leftovers();
}

/// A hierarchy's mount that another mount hides (a tmpfs over it) is
/// passed over for a later, reachable mount of the same hierarchy: the
/// first mount in mountinfo would have given a tmpfs directory as the
/// container's cgroup, with no join file and the limit in a plain file.
#[test]
fn a_hierarchy_hidden_by_another_mount_is_passed_over_for_a_reachable_mount_of_it() {
    need_root!();
    need_ctrl!("memory");
    let _s = serial();
    let n = memory_cgroups_after(&|usual, mount| {
        format!("mount -t tmpfs none {usual} && mkdir {usual}/again && mount {mount} {usual}/again")
    });
    assert!(n >= 1);
    assert_no_leftovers();
}

/// The caller's cgroup path in the hierarchy of `ctrl`, from /proc/self/cgroup.
fn caller_path(ctrl: &str, v2: bool) -> String {
    let cg = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    cg.lines()
        .find_map(|l| {
            let mut p = l.splitn(3, ':');
            let (id, ctrls, path) = (p.next()?, p.next()?, p.next()?);
            let hit = if v2 { id == "0" && ctrls.is_empty() } else { ctrls.split(',').any(|c| c == ctrl) };
            hit.then(|| path.to_string())
        })
        .unwrap()
}

#[test]
fn the_child_is_in_every_cgroup_before_execve() {
    need_root!();
    for c in CTRLS {
        need_ctrl!(c);
    }
    let _s = serial();
    // What the command sees: its own cgroup is the container's in every
    // hierarchy a limit needs.
    let o = run([
        "run",
        "-m",
        "64m",
        "--cpus",
        "1",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "50",
        "sh",
        "-c",
        "hostname; cat /proc/self/cgroup",
    ]);
    let out = ok(&o);
    let mut l = out.lines();
    let want = format!("/mydocker/{}", l.next().unwrap());
    let cg: Vec<&str> = l.collect();
    for c in CTRLS {
        let (_, v2) = cgroup_dir(c).unwrap();
        let line = cg.iter().find(|x| {
            let f: Vec<&str> = x.splitn(3, ':').collect();
            if v2 {
                f[0] == "0" && f[1].is_empty()
            } else {
                f[1].split(',').any(|n| n == c)
            }
        });
        assert!(line.map_or(false, |x| x.ends_with(&want)), "{c}: not in {want}: {out}");
    }
    // Before execve: with --init, PID 1 is mydocker's own code that never
    // execs; with one process allowed, its fork of the command must fail —
    // so PID 1 was inside the pids cgroup before any execve.
    let o = run(["run", "--init", "--pids-limit", "1", "true"]);
    fails(&o, 125, "init: starting the command under --init: Resource temporarily unavailable");
    assert_no_leftovers();
}

/// --init is two processes (the reaper forks the command): a pids limit
/// of 1 fails that fork with EAGAIN, and the line says why.
#[test]
fn with_init_a_pids_limit_below_two_is_explained() {
    need_root!();
    need_ctrl!("pids");
    let _s = serial();
    let o = run(["run", "--init", "--pids-limit", "1", "true"]);
    assert_eq!(code(&o), 125);
    assert_eq!(
        stderr(&o),
        "mydocker: init: starting the command under --init: Resource temporarily unavailable \
         (--pids-limit too low? --init's reaper and the command are 2 processes)\n"
    );
    assert_no_leftovers();
}

#[test]
fn no_cgroupfs_fd_is_open_in_the_container() {
    need_root!();
    need_ctrl!("memory");
    need_ctrl!("pids");
    let _s = serial();
    let mut c = mydocker(["run", "--init", "-m", "32m", "--pids-limit", "9", "sleep", "30"]).spawn().unwrap();
    let me = c.id();
    let kids = || children(me).first().map_or(vec![], |&p| children(p));
    eventually("the container's sleep", || kids().first().map_or(false, |&p| comm(p) == "sleep"));
    let init = children(me)[0];
    for p in [init, kids()[0]] {
        for e in std::fs::read_dir(format!("/proc/{p}/fd")).unwrap().flatten() {
            let to = std::fs::read_link(e.path()).unwrap_or_default();
            assert!(!to.to_string_lossy().contains("cgroup"), "pid {p} holds {}", to.display());
        }
    }
    // SAFETY: plain kill(2) of the container's PID 1 from the host.
    unsafe { libc::kill(init as i32, libc::SIGKILL) };
    assert_eq!(c.wait().unwrap().code(), Some(137));
    assert_no_leftovers();
}

/// --cgroup-parent naming v1 cpuset levels made by mkdir, all empty: no
/// task could join below them (ENOSPC) nor a CPU be set (EACCES). Each is
/// filled top-down from the nearest ancestor that has CPUs and memory
/// nodes (here the caller's cgroup), as docker (runc) does, and then the
/// container's.
#[test]
fn a_cgroup_parent_of_new_cpuset_levels_gets_cpus_and_mems_from_the_nearest_ancestor() {
    need_root!();
    let test = "a_cgroup_parent_of_new_cpuset_levels_gets_cpus_and_mems_from_the_nearest_ancestor";
    let name = format!("mydocker-test-cpuset-{}", std::process::id());
    let Some((dir, _tree)) = empty_cpuset_levels(test, &name) else { return };
    let _s = serial();
    let deepest = dir.join(&name).join("a/b/c");
    std::fs::create_dir_all(&deepest).unwrap();
    assert_eq!(cpuset_of(&deepest), (String::new(), String::new()), "mkdir made a filled cpuset");
    let (cpus, mems) = cpuset_of(&dir);
    let first = cpus.split([',', '-']).next().unwrap().to_string();
    let parent = format!("{}/{name}/a/b/c", caller_path("cpuset", false).trim_end_matches('/'));
    let o = run(["run", "--cgroup-parent", &parent, "-cpuset", &first, "grep", "Cpus_allowed_list", "/proc/self/status"]);
    assert_eq!(ok(&o).split_whitespace().last(), Some(first.as_str()));
    for d in ["", "a", "a/b", "a/b/c", "a/b/c/mydocker"] {
        assert_eq!(cpuset_of(&dir.join(&name).join(d)), (cpus.clone(), mems.clone()), "{name}/{d}");
    }
    assert_eq!(leftovers(&deepest), Vec::<String>::new());
}

/// A level that has CPUs but no memory nodes keeps its CPUs and gets the
/// nodes from above (each file is filled on its own, as runc does); the
/// container runs within those CPUs, and asking for one outside them is
/// one line naming the file.
#[test]
fn a_cgroup_parent_with_cpus_but_no_mems_keeps_its_cpus_and_gets_mems_from_above() {
    need_root!();
    let test = "a_cgroup_parent_with_cpus_but_no_mems_keeps_its_cpus_and_gets_mems_from_above";
    let name = format!("mydocker-test-nomems-{}", std::process::id());
    let Some((dir, _tree)) = empty_cpuset_levels(test, &name) else { return };
    let _s = serial();
    let p = dir.join(&name);
    let (cpus, mems) = cpuset_of(&dir);
    let first = cpus.split([',', '-']).next().unwrap().to_string();
    std::fs::write(p.join("cpuset.cpus"), &first).unwrap();
    let parent = format!("{}/{name}", caller_path("cpuset", false).trim_end_matches('/'));
    let o = run(["run", "--cgroup-parent", &parent, "--cpuset-cpus", &first, "sh", "-c", "echo ran"]);
    assert_eq!(ok(&o), "ran\n");
    assert_eq!(cpuset_of(&p), (first.clone(), mems.clone()));
    assert_eq!(cpuset_of(&p.join("mydocker")), (first.clone(), mems));
    // A CPU outside them: the kernel's EACCES, explained, nothing run.
    let last = cpus.rsplit([',', '-']).next().unwrap();
    if last == first {
        eprintln!("SKIP {test} (a CPU outside the parent's): the caller has one CPU");
    } else {
        let o = run(["run", "--cgroup-parent", &parent, "--cpuset-cpus", last, "sh", "-c", "echo ran"]);
        fails(&o, 125, "cgroup: setting: cpuset.cpus: Permission denied (not within the parent cgroup's)");
        assert!(stdout(&o).is_empty());
    }
    assert_eq!(leftovers(&p), Vec::<String>::new());
}
