//! Docker's default device policy for --rootfs containers (issue 11 part 3):
//! any node may be made, only the usual ones opened; --device adds one;
//! --privileged lifts the policy; without --rootfs there is none. On cgroup
//! v1 the devices controller enforces it, on v2 mydocker's BPF program —
//! the QEMU guests run this file in both modes.
mod common;
use common::*;

/// `mydocker run --rootfs R FLAGS sh -c SCRIPT`
fn inside(flags: &[&str], script: &str) -> std::process::Output {
    let r = busybox_rootfs().unwrap();
    let mut a = vec!["run", "--rootfs", &r];
    a.extend_from_slice(flags);
    a.extend_from_slice(&["sh", "-c", script]);
    run(&a)
}

/// Opens each node for reading and for writing and prints one line per
/// try: "NAME r ok" or "NAME r <error>" (busybox's message).
const TRY: &str = "try() { for n in \"$@\"; do \
    if e=$( (exec 3</dev/$n) 2>&1 ); then echo \"$n r ok\"; else echo \"$n r $e\"; fi; \
    if e=$( (exec 3>/dev/$n) 2>&1 ); then echo \"$n w ok\"; else echo \"$n w $e\"; fi; done; }; ";

fn lines(out: &str, node: &str) -> Vec<String> {
    out.lines().filter(|l| l.starts_with(&format!("{node} "))).map(str::to_string).collect()
}

#[test]
fn any_node_may_be_made_but_only_the_usual_ones_opened() {
    need_root!();
    need_rootfs!();
    // kvm-like, mem-like and a block disk: made (m), refused at open with
    // EPERM — the device policy answers before any driver or capability
    // check would.
    let o = inside(
        &[],
        &format!(
            "{TRY} mknod /dev/kvmlike c 10 232 && mknod /dev/memlike c 1 1 && mknod /dev/disk b 7 0 && echo made; \
             try kvmlike memlike disk"
        ),
    );
    let out = ok(&o);
    assert!(out.starts_with("made\n"), "{out}");
    for n in ["kvmlike", "memlike", "disk"] {
        let l = lines(&out, n);
        assert_eq!(l.len(), 2, "{out}");
        for l in l {
            assert!(l.contains("Operation not permitted"), "{n} must be refused by the device policy: {l}");
        }
    }
}

/// c 5:1 is the HOST's console (the container's own /dev/console, with
/// -t, is its pts slave, 136:N): a node made for it must not open.
#[test]
fn the_hosts_console_cannot_be_opened() {
    need_root!();
    need_rootfs!();
    let out = ok(&inside(&[], &format!("{TRY} mknod /dev/hostcon c 5 1 && echo made; try hostcon")));
    assert!(out.starts_with("made\n"), "{out}");
    let l = lines(&out, "hostcon");
    assert!(l.len() == 2 && l.iter().all(|l| l.contains("Operation not permitted")), "{out}");
}

#[test]
fn the_default_nodes_are_usable() {
    need_root!();
    need_rootfs!();
    let o = inside(
        &[],
        &format!(
            "{TRY} try null zero full random urandom; mknod /dev/null2 c 1 3 && echo x > /dev/null2 && echo made-null; \
             exec 3<>/dev/ptmx && echo ptmx-ok; \
             e=$( (exec 4</dev/tty) 2>&1 ); echo \"tty $e\""
        ),
    );
    let out = ok(&o);
    for n in ["null", "zero", "full", "random", "urandom"] {
        assert_eq!(lines(&out, n), [format!("{n} r ok"), format!("{n} w ok")], "{out}");
    }
    assert!(out.contains("made-null\n") && out.contains("ptmx-ok\n"), "{out}");
    // No controlling terminal: ENXIO from the tty driver, not EPERM from the policy.
    let tty = lines(&out, "tty");
    assert!(tty.len() == 1 && !tty[0].contains("Operation not permitted"), "{out}");
}

/// The default nodes are made 0666 whatever mydocker's caller's umask is
/// (mknod applies it), so a -u user can use them as in docker.
#[test]
fn the_default_nodes_are_usable_by_any_user_whatever_the_callers_umask() {
    need_root!();
    need_rootfs!();
    let r = busybox_rootfs().unwrap();
    let o = std::process::Command::new("sh")
        .args(["-c", "umask 077; exec \"$0\" run --rootfs \"$1\" -u 1000:1000 sh -c 'echo x >/dev/null && echo x >/dev/zero && head -c 1 /dev/urandom >/dev/null && ls -l /dev/null'"])
        .arg(bin())
        .arg(&r)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(out.starts_with("crw-rw-rw-"), "{out}");
}

#[test]
fn device_flag_makes_the_node_and_allows_what_it_says() {
    need_root!();
    need_rootfs!();
    // /dev/kmsg (c 1:11): writable by root, and not in docker's default list.
    let probe = format!("{TRY} ls -l /dev/k | cut -c1; try k");
    let out = ok(&inside(&["--device", "/dev/kmsg:/dev/k:w"], &probe));
    assert!(out.starts_with("c\n"), "{out}");
    let k = lines(&out, "k");
    assert!(k[0].contains("Operation not permitted"), "read was not asked: {out}");
    assert_eq!(k[1], "k w ok", "{out}");
    // The same node without --device: made, refused.
    let out = ok(&inside(&[], &format!("{TRY} mknod /dev/k c 1 11; try k")));
    assert!(lines(&out, "k").iter().all(|l| l.contains("Operation not permitted")), "{out}");
    // Same path inside as outside when CONTAINER is left out.
    assert_eq!(ok(&inside(&["--device", "/dev/kmsg"], "ls -l /dev/kmsg | cut -c1")), "c\n");
}

#[test]
fn bad_device_flags_are_one_line_and_125() {
    need_root!();
    let r = need_rootfs!();
    let file = bin().display().to_string();
    fails(&run(["run", "--rootfs", &r, "--device", &file, "true"]), 125, "not a character or block device");
    fails(&run(["run", "--rootfs", &r, "--device", "/dev/nope-xyz", "true"]), 125, "No such file or directory");
    fails(
        &run(["run", "--rootfs", &r, "--device", "/dev/null:/dev/n:rx", "true"]),
        125,
        "--device '/dev/null:/dev/n:rx'",
    );
    fails(&run(["run", "--device", "/dev/null", "true"]), 125, "--device: needs --rootfs");
}

#[test]
fn privileged_lifts_the_policy() {
    need_root!();
    need_rootfs!();
    let o =
        inside(&["--privileged"], &format!("{TRY} mknod /dev/kvmlike c 10 232; mknod /dev/k c 1 11; try kvmlike k"));
    let out = ok(&o);
    for l in lines(&out, "kvmlike") {
        // No driver may answer (ENXIO, ENODEV) or the host's kvm opens: never EPERM.
        assert!(!l.contains("Operation not permitted"), "{out}");
    }
    assert!(lines(&out, "k").contains(&"k w ok".to_string()), "{out}");
}

#[test]
fn a_rootfs_container_sits_in_a_device_cgroup_that_is_removed_after() {
    need_root!();
    need_rootfs!();
    // v1: the devices hierarchy; v2: the caller's cgroup (no controller).
    let Some((dir, v2)) = cgroup_dir("devices").or_else(|| cgroup_dir("memory").filter(|d| d.1)) else {
        eprintln!("SKIP {}: neither a v1 devices hierarchy nor cgroup v2", module_path!());
        return;
    };
    let out = ok(&inside(&[], "hostname; cat /proc/self/cgroup"));
    let mut l = out.lines();
    let id = l.next().unwrap().to_string();
    let want = format!("/mydocker/{id}");
    let line = l.find(|x| {
        let f: Vec<&str> = x.splitn(3, ':').collect();
        if v2 {
            f[0] == "0"
        } else {
            f[1].split(',').any(|c| c == "devices")
        }
    });
    assert!(line.map_or(false, |x| x.ends_with(&want)), "not in its device cgroup: {out}");
    assert!(!dir.join("mydocker").join(&id).exists(), "{id} left behind");
    // Without --rootfs (the host's /dev is shared): no policy, no cgroup.
    let out = ok(&run(["run", "cat", "/proc/self/cgroup"]));
    assert!(!out.contains("/mydocker/"), "{out}");
}

#[test]
fn a_hybrid_host_without_a_devices_hierarchy_enforces_through_its_cgroup2() {
    need_root!();
    let r = need_rootfs!();
    // Needs both: a v1 devices hierarchy to hide, and a cgroup2 mount.
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let v1 = mi.lines().find(|l| {
        l.contains(" - cgroup ") && l.split(' ').last().map_or(false, |o| o.split(',').any(|x| x == "devices"))
    });
    let Some(point) = v1.and_then(|l| l.split(' ').nth(4)) else {
        eprintln!("SKIP {}: no v1 devices hierarchy to hide", module_path!());
        return;
    };
    if !mi.lines().any(|l| l.contains(" - cgroup2 ")) {
        eprintln!("SKIP {}: no cgroup2 mount beside the v1 hierarchies", module_path!());
        return;
    }
    // In a privileged container (a mount namespace of its own) the devices
    // hierarchy is unmounted; a mydocker started there has only cgroup2 for
    // the policy: the BPF program, on the hybrid host's cgroup2.
    let script = format!(
        "umount -l {point} && {} run --rootfs {r} -m 32m sh -c \
         'mknod /dev/kvmlike c 10 232; e=$( (exec 3</dev/kvmlike) 2>&1 ); echo \"kvm $e\"; \
          echo x > /dev/null && echo null-ok; grep -c \"^0::.*/mydocker/$(hostname)$\" /proc/self/cgroup'",
        bin().display()
    );
    let out = ok(&run(["run", "--privileged", "sh", "-c", &script]));
    let l: Vec<&str> = out.lines().collect();
    assert!(l[0].contains("Operation not permitted"), "{out}");
    assert_eq!(&l[1..], ["null-ok", "1"], "{out}");
}

#[test]
fn the_device_cgroup_of_a_killed_run_is_swept_by_gc() {
    use std::io::BufRead;
    let r = need_rootfs!();
    let Some((dir, _)) = cgroup_dir("devices").or_else(|| cgroup_dir("memory").filter(|d| d.1)) else {
        eprintln!("SKIP {}: neither a v1 devices hierarchy nor cgroup v2", module_path!());
        return;
    };
    let mut c = mydocker(["run", "--rootfs", &r, "sh", "-c", "hostname; exec sleep 100"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut id = String::new();
    std::io::BufReader::new(c.stdout.take().unwrap()).read_line(&mut id).unwrap();
    let cg = dir.join("mydocker").join(id.trim());
    kill_runtime(&mut c, "sleep");
    assert!(cg.exists(), "a SIGKILLed runtime cannot clean up: {}", cg.display());
    let out = ok(&run(["gc"]));
    assert!(out.lines().any(|l| l == format!("removed {}", cg.display())), "{out}");
    assert!(!cg.exists());
}
