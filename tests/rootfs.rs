//! --rootfs and the hardening around it: pivot_root, /proc, /sys, /dev,
//! volumes, tmpfs, read-only, workdir, user, capabilities, no_new_privs.
//! Needs a busybox rootfs: $MYDOCKER_ROOTFS (make rootfs builds one).
mod common;
use common::*;

fn rootfs() -> Option<String> {
    let r = std::env::var("MYDOCKER_ROOTFS").ok()?;
    std::path::Path::new(&r).join("bin/busybox").exists().then_some(r)
}

macro_rules! need_rootfs {
    () => {
        match rootfs() {
            Some(r) => r,
            None => {
                eprintln!("SKIP {}: no busybox rootfs in $MYDOCKER_ROOTFS (make rootfs)", module_path!());
                return;
            }
        }
    };
}

/// `mydocker run --rootfs R FLAGS sh -c SCRIPT`
fn inside(flags: &[&str], script: &str) -> std::process::Output {
    let r = rootfs().unwrap();
    let mut a = vec!["run", "--rootfs", &r];
    a.extend_from_slice(flags);
    a.extend_from_slice(&["sh", "-c", script]);
    run(&a)
}

fn status_field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("{key} missing in {text}"))
        .trim()
        .to_string()
}

fn tmpdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mydocker-rootfs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A -w the kernel could never take is refused before anything is made
/// in the image, and a line echoing a long argument keeps its reason.
#[test]
fn a_too_long_workdir_is_refused_first_and_long_arguments_keep_the_reason() {
    need_root!();
    need_rootfs!();
    let w = format!("/mydocker-long{}", "/a".repeat(2100));
    let o = inside(&["-w", &w], "true");
    let made = std::path::Path::new(&rootfs().unwrap()).join("mydocker-long");
    let left = made.exists();
    let _ = std::fs::remove_dir_all(&made);
    fails(&o, 125, "too long (PATH_MAX");
    assert!(!left, "directories were made in the image");
    // The argument's ends around "...", then the reason.
    let v = format!("/nonexistent{}:/x", "/b".repeat(1000));
    let o = inside(&["-v", &v], "true");
    fails(&o, 125, "b/b...b/b");
    fails(&o, 125, "/b/b:/x': No such file or directory");
}

/// Volumes and tmpfs go on parents first, whatever the flag order (as
/// docker sorts them): a volume below a --tmpfs, or below another volume
/// given after it, is seen and written through, not hidden.
#[test]
fn a_mount_below_another_is_not_hidden_by_it_whatever_the_flag_order() {
    need_root!();
    need_rootfs!();
    let (a, b) = (tmpdir("order-a"), tmpdir("order-b"));
    std::fs::write(b.join("f"), "VOLDATA\n").unwrap();
    let (sub, x_y, x) = (format!("{}:/tmp/sub", b.display()), format!("{}:/mnt/y", b.display()), format!("{}:/mnt", a.display()));
    for flags in [["--tmpfs", "/tmp", "-v", sub.as_str()], ["-v", sub.as_str(), "--tmpfs", "/tmp"], ["-v", x_y.as_str(), "-v", x.as_str()]] {
        let o = inside(&flags, "cat /tmp/sub/f /mnt/y/f 2>/dev/null; echo out >/tmp/sub/out 2>/dev/null || echo out >/mnt/y/out");
        assert_eq!(ok(&o), "VOLDATA\n", "{flags:?}");
        assert_eq!(std::fs::read_to_string(b.join("out")).unwrap_or_default(), "out\n", "{flags:?}: the write missed the volume");
        std::fs::remove_file(b.join("out")).unwrap();
    }
    let _ = (std::fs::remove_dir_all(&a), std::fs::remove_dir_all(&b));
}

#[test]
fn the_container_cannot_see_the_hosts_tree_and_the_host_sees_no_new_mounts() {
    need_root!();
    need_rootfs!();
    let marker = format!("/mydocker-host-marker-{}", std::process::id());
    std::fs::write(&marker, "host").unwrap();
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let o = inside(&[], &format!("test -e {marker} && echo visible || echo hidden; ls /"));
    std::fs::remove_file(&marker).unwrap();
    let out = ok(&o);
    assert!(out.starts_with("hidden\n"), "{out}");
    // The host has /usr and /var; this busybox rootfs has neither.
    assert!(!out.lines().any(|l| l == "usr" || l == "var") && out.lines().any(|l| l == "bin"), "{out}");
    assert_eq!(std::fs::read_to_string("/proc/self/mountinfo").unwrap(), before);
}

#[test]
fn without_a_command_the_rootfs_shell_runs() {
    need_root!();
    let r = need_rootfs!();
    use std::io::Write;
    let mut c = mydocker(["run", "--rootfs", &r])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b"echo hi from $(cat /proc/1/comm)\n").unwrap();
    assert_eq!(ok(&c.wait_with_output().unwrap()), "hi from sh\n");
}

#[test]
fn dev_has_exactly_the_expected_nodes() {
    need_root!();
    need_rootfs!();
    let out = ok(&inside(&[], "ls /dev | tr '\\n' ' '; echo; ls -l /dev/null /dev/zero /dev/tty | cut -c1"));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ");
    assert_eq!(&l[1..], ["c", "c", "c"], "character devices: {out}");
    assert_eq!(ok(&inside(&[], "echo x > /dev/null && head -c 3 /dev/zero | wc -c")).trim(), "3");
}

#[test]
fn dockers_default_masked_paths_read_empty_and_its_read_only_paths_are_read_only() {
    need_root!();
    need_rootfs!();
    let out = ok(&inside(
        &[],
        // docker's whole default list (moby daemon/pkg/oci/defaults.go);
        // what this kernel lacks is skipped.
        "for f in /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats /proc/sched_debug /proc/timer_list \
                  /proc/timer_stats; do [ -e $f ] && echo \"masked $f $(cat $f | wc -c)\"; done; \
         for d in /proc/acpi /proc/asound /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do \
             [ -e $d ] && echo \"masked $d $(ls $d | wc -l)\"; done; \
         for m in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger /sys; do [ -e $m ] && echo \"mode $m $(grep \" $m \" /proc/self/mountinfo | head -1 | cut -d' ' -f6 | cut -d, -f1)\"; done",
    ));
    for l in out.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        match f[0] {
            "masked" => assert_eq!(f[2], "0", "{l}"),
            "mode" => assert_eq!(f[2], "ro", "{l}"),
            _ => panic!("{out}"),
        }
    }
    // Every Linux has these.
    for l in ["masked /proc/interrupts 0", "masked /sys/firmware 0", "mode /proc/fs ro", "mode /proc/sys ro", "mode /sys ro"] {
        assert!(out.lines().any(|x| x == l), "{l}: {out}");
    }
}

#[test]
fn volumes_ro_and_rw_read_only_root_and_tmpfs() {
    need_root!();
    need_rootfs!();
    let d = tmpdir("vol");
    std::fs::write(d.join("in"), "from host").unwrap();
    let rw = tmpdir("volrw");
    let o = inside(
        &["-v", &format!("{}:/data:ro", d.display()), "-v", &format!("{}:/out", rw.display()), "--read-only", "--tmpfs", "/scratch"],
        "cat /data/in; echo; touch /data/x 2>&1; touch /etc/x 2>&1; touch /scratch/x && echo tmpfs-ok; echo written > /out/f",
    );
    let out = ok(&o);
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], "from host");
    assert!(l[1].contains("Read-only file system"), "ro volume: {out}");
    assert!(l[2].contains("Read-only file system"), "read-only root: {out}");
    assert_eq!(l[3], "tmpfs-ok");
    assert_eq!(std::fs::read_to_string(rw.join("f")).unwrap(), "written\n");
    assert!(!d.join("x").exists());
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&rw).unwrap();
}

#[test]
fn a_file_volume_is_bound_onto_a_file() {
    need_root!();
    need_rootfs!();
    let d = tmpdir("file");
    std::fs::write(d.join("hosts"), "10.0.0.1 box\n").unwrap();
    let o = inside(&["-v", &format!("{}/hosts:/etc/hosts:ro", d.display())], "cat /etc/hosts");
    assert_eq!(ok(&o), "10.0.0.1 box\n");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn capabilities_are_dockers_by_default_none_with_drop_all_and_all_with_privileged() {
    need_root!();
    need_rootfs!();
    let host = std::fs::read_to_string("/proc/self/status").unwrap();
    let st = |flags: &[&str]| ok(&inside(flags, "cat /proc/self/status"));
    let d = st(&[]);
    assert_eq!(status_field(&d, "CapEff:"), "00000000a80425fb");
    assert_eq!(status_field(&d, "CapBnd:"), "00000000a80425fb");
    assert_eq!(status_field(&d, "CapInh:"), "0000000000000000");
    assert_eq!(status_field(&d, "CapAmb:"), "0000000000000000");
    assert_eq!(status_field(&d, "NoNewPrivs:"), "1");
    let none = st(&["--cap-drop", "ALL"]);
    assert_eq!(status_field(&none, "CapEff:"), "0000000000000000");
    let one = st(&["--cap-drop", "all", "--cap-add", "cap_net_bind_service"]);
    assert_eq!(status_field(&one, "CapEff:"), "0000000000000400");
    // docker: --cap-add ALL is all but what --cap-drop names (either order).
    let all_but = st(&["--cap-drop", "SYS_ADMIN", "--cap-add", "ALL", "--cap-drop", "chown"]);
    let host_prm = u64::from_str_radix(&status_field(&host, "CapPrm:"), 16).unwrap();
    assert_eq!(status_field(&all_but, "CapEff:"), format!("{:016x}", host_prm & !(1 << 21 | 1)));
    let p = st(&["--privileged"]);
    assert_eq!(status_field(&p, "CapEff:"), status_field(&host, "CapEff:"));
    assert_eq!(status_field(&p, "NoNewPrivs:"), "0");
}

#[test]
fn the_hardening_applies_without_a_rootfs_too() {
    need_root!();
    let out = ok(&run(["run", "cat", "/proc/self/status"]));
    assert_eq!(status_field(&out, "CapEff:"), "00000000a80425fb");
    assert_eq!(status_field(&out, "NoNewPrivs:"), "1");
}

#[test]
fn an_image_run_has_dockers_umask_not_the_callers() {
    need_root!();
    need_rootfs!();
    let r = rootfs().unwrap();
    let wd = format!("/umask-wd-{}", std::process::id());
    let umask_077 = || {
        // SAFETY: umask(2) is async-signal-safe and cannot fail.
        unsafe { libc::umask(0o077) };
        true
    };
    // What run makes in the image (-w and its parents) gets 0755 too, so
    // a -u user can enter it.
    let script = "umask; stat -c %a . ..; echo in";
    let mut c = mydocker(["run", "--rootfs", &r, "-u", "1000", "-w", &format!("{wd}/a"), "sh", "-c", script]);
    before_exec(&mut c, umask_077);
    let o = c.output().unwrap();
    let _ = std::fs::remove_dir_all(format!("{r}{wd}"));
    assert_eq!(ok(&o), "0022\n755\n755\nin\n");
    // Without --rootfs the caller's umask stays, as its environment does.
    let mut c = mydocker(["run", "sh", "-c", "umask"]);
    before_exec(&mut c, umask_077);
    assert_eq!(ok(&c.output().unwrap()), "0077\n");
}

#[test]
fn user_and_workdir() {
    need_root!();
    need_rootfs!();
    let out =
        ok(&inside(&["-u", "1000:1000", "-w", "/work/here"], "pwd; grep -E '^(Uid|Gid|CapEff)' /proc/self/status"));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], "/work/here");
    assert!(l[1].starts_with("Uid:\t1000\t1000\t1000\t1000"), "{out}");
    assert!(l[2].starts_with("Gid:\t1000\t1000\t1000\t1000"), "{out}");
    assert_eq!(l[3], "CapEff:\t0000000000000000");
    assert_eq!(ok(&inside(&["-u", "65534"], "id -u; id -g")), "65534\n0\n");
}

#[test]
fn a_workdir_that_is_a_file_is_refused() {
    need_root!();
    need_rootfs!();
    fails(&inside(&["-w", "/etc/passwd"], "pwd"), 125, "workdir: /etc/passwd: Not a directory");
}

#[test]
fn bad_rootfs_input_is_one_line_125_and_creates_nothing() {
    need_root!();
    let r = need_rootfs!();
    let empty = tmpdir("empty");
    let e = empty.display().to_string();
    let vol_missing = format!("/no/such/dir-{}:/data", std::process::id());
    let a_file = bin().display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--rootfs", "/no/such/rootfs", "true"], "--rootfs '/no/such/rootfs': No such file or directory"),
        (vec!["--rootfs", &a_file, "true"], "not a directory"),
        (vec!["--rootfs", &e], "no command given and no /bin/sh in the rootfs"),
        (vec!["--rootfs", &r, "-v", "/srv", "true"], "SRC:DST"),
        (vec!["--rootfs", &r, "-v", "srv:/data", "true"], "source must be an absolute path"),
        (vec!["--rootfs", &r, "-v", "/srv:data", "true"], "destination must be an absolute path"),
        (vec!["--rootfs", &r, "-v", "/srv:/data:rx", "true"], "unknown volume mode"),
        (vec!["--rootfs", &r, "-v", &vol_missing, "true"], "No such file or directory"),
        (vec!["--rootfs", &r, "--cap-add", "NOPE", "true"], "unknown capability"),
        (vec!["--rootfs", &r, "-u", "abc", "true"], "numeric UID"),
        (vec!["--rootfs", &r, "-u", "99999999999", "true"], "numeric UID"),
        (vec!["--rootfs", &r, "-u", "1:x", "true"], "numeric UID"),
        (vec!["--rootfs", &r, "-w", "rel", "true"], "absolute path"),
        (vec!["-v", "/srv:/data", "true"], "needs --rootfs"),
        (vec!["--read-only", "true"], "needs --rootfs"),
        (vec!["--tmpfs", "/tmp", "true"], "needs --rootfs"),
    ];
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for (flags, needle) in cases {
        let mut a = vec!["run"];
        a.extend(flags);
        fails(&run(&a), 125, needle);
    }
    assert_eq!(std::fs::read_to_string("/proc/self/mountinfo").unwrap(), before);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "nothing created in the rootfs");
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn a_mount_over_the_containers_root_or_an_unknown_tmpfs_option_is_one_line_125() {
    need_root!();
    let r = need_rootfs!();
    for (flag, spec, needle) in [
        ("-v", "/tmp:/", "destination can't be '/'"),
        ("-v", "/tmp:/:ro", "destination can't be '/'"),
        ("-v", "/tmp://", "destination can't be '/'"),
        ("-v", "/tmp:/.", "destination can't be '/'"),
        ("--tmpfs", "/", "destination can't be '/'"),
        ("--tmpfs", "//:size=1m", "destination can't be '/'"),
        ("--tmpfs", "/run:bogus", "unknown option"),
        ("--tmpfs", "/run:size", "unknown option"),
        ("--tmpfs", "/run:size=1m,shared", "unknown option"),
    ] {
        fails(&run(["run", "--rootfs", &r, flag, spec, "true"]), 125, needle);
    }
    // (Other tests use the rootfs meanwhile: look for what these would make.)
    let colon = std::fs::read_dir(&r).unwrap().filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().contains(':'));
    assert!(!colon, "nothing made in the rootfs");
}

#[test]
fn tmpfs_options_become_its_mount_flags_and_filesystem_data() {
    need_root!();
    let r = need_rootfs!();
    let out = ok(&inside(
        &[
            "--tmpfs",
            "/fixrun-a:size=1m,noexec,mode=700",
            "--tmpfs",
            "/fixrun-b:ro,exec",
            "--tmpfs",
            "/fixrun-c",
            "--tmpfs",
            "/fixrun-d:exec",
        ],
        "for m in a b c; do awk -v m=/fixrun-$m '$5 == m { print $6, $NF }' /proc/self/mountinfo; done; \
         touch /fixrun-b/x 2>&1; touch /fixrun-c/x && echo c-writable; \
         cp /bin/busybox /fixrun-c/true; /fixrun-c/true 2>/dev/null || echo c-noexec; \
         cp /bin/busybox /fixrun-a/true; /fixrun-a/true 2>/dev/null || echo a-noexec; \
         cp /bin/busybox /fixrun-d/true; /fixrun-d/true && echo d-exec",
    ));
    let l: Vec<&str> = out.lines().collect();
    let opts = |i: usize| -> (Vec<&str>, Vec<&str>) {
        let (flags, data) = l[i].split_once(' ').unwrap();
        (flags.split(',').collect(), data.split(',').collect())
    };
    let (a, a_data) = opts(0);
    assert!(["rw", "nosuid", "nodev", "noexec"].iter().all(|f| a.contains(f)), "{out}");
    assert!(a_data.contains(&"size=1024k") && a_data.contains(&"mode=700"), "{out}");
    let (b, _) = opts(1);
    assert!(b.contains(&"ro") && !b.contains(&"noexec") && b.contains(&"nosuid"), "{out}");
    let (c, c_data) = opts(2);
    // Its data: the defaults only ("rw", and "inode64" on newer kernels).
    let defaults = c_data.iter().all(|d| *d == "rw" || *d == "inode64");
    // docker's defaults: noexec, nosuid, nodev.
    assert!(c.contains(&"rw") && c.contains(&"nodev") && c.contains(&"noexec") && defaults, "{out}");
    assert!(l[3].contains("Read-only file system") && l[4] == "c-writable", "{out}");
    assert_eq!(l[5..], ["c-noexec", "a-noexec", "d-exec"], "{out}");
    for d in ["fixrun-a", "fixrun-b", "fixrun-c", "fixrun-d"] {
        let _ = std::fs::remove_dir(std::path::Path::new(&r).join(d));
    }
    let stray = std::fs::read_dir(&r).unwrap().filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().contains(':'));
    assert!(!stray, "no directory named after the options");
}

/// A directory bound onto a file, or a file onto a directory: move_mount's
/// bare EINVAL became the kind the target is (runc says "not a directory").
#[test]
fn a_volume_onto_a_target_of_the_other_kind_says_which_kind_the_target_is() {
    need_root!();
    let r = need_rootfs!();
    let d = tmpdir("kind");
    std::fs::write(d.join("f"), "x").unwrap();
    let (dir, file) = (d.display().to_string(), format!("{}/f", d.display()));
    for (vol, target, why) in [(format!("{dir}:/etc/passwd"), "etc/passwd", "Not a directory"), (format!("{file}:/etc"), "etc", "Is a directory")] {
        let o = run(["run", "--rootfs", &r, "-v", &vol, "true"]);
        assert_eq!(code(&o), 125, "{vol}");
        assert_eq!(stderr(&o), format!("mydocker: mount: {r}/{target} (volume): {why}\n"), "{vol}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_failing_mount_names_its_target() {
    need_root!();
    let r = need_rootfs!();
    let o = run(["run", "--rootfs", &r, "-v", "/tmp:/proc/sys/nope", "true"]);
    fails(&o, 125, &format!("mount: {r}/proc/sys/nope (volume): "));
}

/// docker's -v as runc resolves it: a symlink in the image is followed
/// inside the rootfs (an absolute target means the rootfs's path), never
/// out to the host.
#[test]
fn a_symlink_in_the_rootfs_carries_a_mount_inside_it_never_out_to_the_host() {
    need_root!();
    let r = need_rootfs!();
    let host_dir = tmpdir("escape-target");
    let link = std::path::Path::new(&r).join(format!("evil-{}", std::process::id()));
    std::os::unix::fs::symlink(&host_dir, &link).unwrap();
    let src = tmpdir("escape-src");
    std::fs::write(src.join("f"), "volume\n").unwrap();
    let dst = format!("/{}/x", link.file_name().unwrap().to_string_lossy());
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let cat = format!("cat {}/x/f", host_dir.display());
    let o = run(["run", "--rootfs", &r, "-v", &format!("{}:{dst}", src.display()), "sh", "-c", &cat]);
    std::fs::remove_file(&link).unwrap();
    let inside = std::path::Path::new(&r).join(&host_dir.to_str().unwrap()[1..]);
    let made = inside.join("x").is_dir();
    let _ = std::fs::remove_dir_all(&inside);
    assert_eq!(ok(&o), "volume\n");
    assert!(made, "the mount point was not made inside the rootfs");
    assert!(!host_dir.join("x").exists(), "a mount point was made on the host");
    assert_eq!(std::fs::read_to_string("/proc/self/mountinfo").unwrap(), before);
    // One that resolves to the root itself, as "/" does: refused.
    let top = std::path::Path::new(&r).join(format!("top-{}", std::process::id()));
    std::os::unix::fs::symlink("/..", &top).unwrap();
    let dst = format!("/{}", top.file_name().unwrap().to_string_lossy());
    let o = run(["run", "--rootfs", &r, "--tmpfs", &dst, "true"]);
    std::fs::remove_file(&top).unwrap();
    fails(&o, 125, &format!("{r}{dst} (tmpfs): Cross-device link (its path resolves to the container's root)"));
    std::fs::remove_dir_all(&host_dir).unwrap();
    std::fs::remove_dir_all(&src).unwrap();
}

#[test]
fn an_image_run_gets_dockers_environment_never_the_callers() {
    need_rootfs!();
    let r = rootfs().unwrap();
    let env = |flags: &[&str]| {
        let mut a = vec!["run", "--rootfs", &r, "--hostname", "h"];
        a.extend_from_slice(flags);
        a.push("env");
        let o = mydocker(a).env("CALLER_SECRET", "hunter2").env("COPIED", "yes").output().unwrap();
        let mut got: Vec<String> = ok(&o).lines().map(String::from).collect();
        got.sort();
        got
    };
    let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    assert_eq!(env(&[]), ["HOME=/root", "HOSTNAME=h", path]);
    // -e still sets and copies; a uid other than root has no /root.
    assert_eq!(env(&["-u", "1000", "-e", "COPIED", "-e", "A=1"]), ["A=1", "COPIED=yes", "HOME=/", "HOSTNAME=h", path]);
}

#[test]
fn tmpfs_options_the_kernel_refuses_are_named() {
    need_rootfs!();
    for opts in ["size=-1", "mode=99999"] {
        let o = inside(&["--tmpfs", &format!("/mnt:{opts}")], "true");
        assert_eq!(code(&o), 125, "{}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("/mnt (tmpfs): the kernel refused the options '{opts}'")), "{}", stderr(&o));
    }
}
