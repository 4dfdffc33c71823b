//! The fault suite: broken hosts and hostile inputs. Each gives the
//! documented exit code and a one-line reason, and leaves nothing behind.
mod common;
use common::*;
use std::process::Stdio;

/// Runs `script` in a privileged outer container (its own mount namespace,
/// so whatever it breaks stays there); $MD is the binary under test.
fn in_a_broken_host(script: &str) -> std::process::Output {
    let b = bin();
    mydocker(["run", "--privileged", "-e", &format!("MD={}", b.display()), "sh", "-c", script]).output().unwrap()
}

#[test]
fn no_cgroupfs_mounted_is_a_clear_125() {
    need_root!();
    // Lazily detach the whole cgroup tree, so /proc/self/mountinfo lists none.
    let o = in_a_broken_host("umount -l /sys/fs/cgroup && exec $MD run -m 32m true");
    fails(&o, 125, "cgroup: memory: controller not available");
}

#[test]
fn a_read_only_cgroupfs_is_a_clear_125() {
    need_root!();
    let Some((dir, _)) = cgroup_dir("memory") else {
        eprintln!("SKIP {}: no memory controller", module_path!());
        return;
    };
    let mount = if dir.starts_with("/sys/fs/cgroup/memory") { "/sys/fs/cgroup/memory" } else { "/sys/fs/cgroup" };
    let o = in_a_broken_host(&format!(
        "mount -o remount,bind,ro {mount} {mount} 2>/dev/null || mount -o remount,ro {mount}; exec $MD run -m 32m true"
    ));
    fails(&o, 125, "Read-only file system");
}

#[test]
fn an_absent_controller_is_named() {
    need_root!();
    match cgroup_dir("pids") {
        Some((_, true)) => {
            // v2: a parent cgroup whose own parent did not enable pids for it.
            let base = std::path::PathBuf::from(format!("/sys/fs/cgroup/mydocker-faults-{}", std::process::id()));
            let sub = base.join("sub");
            std::fs::create_dir_all(&sub).unwrap();
            let parent = format!("/mydocker-faults-{}/sub", std::process::id());
            let o = run(["run", "--cgroup-parent", &parent, "--pids-limit", "5", "true"]);
            let _ = std::fs::remove_dir(&sub);
            let _ = std::fs::remove_dir(&base);
            fails(&o, 125, "cgroup: pids: cgroup.controllers: controller not available");
        }
        _ => {
            // v1 (or none): hide the pids hierarchy.
            let o = in_a_broken_host("umount -l /sys/fs/cgroup/pids 2>/dev/null; exec $MD run --pids-limit 5 true");
            fails(&o, 125, "cgroup: pids:");
        }
    }
}

#[test]
fn path_empty_or_unset() {
    need_root!();
    // Unset: the default PATH; empty: only the current directory (execvp).
    let o = mydocker(["run", "sh", "-c", "echo ok"]).env_remove("PATH").output().unwrap();
    assert_eq!(ok(&o), "ok\n");
    let o = mydocker(["run", "-e", "PATH=", "sh"]).current_dir("/").output().unwrap();
    fails(&o, 127, "exec: sh: No such file or directory");
}

#[test]
fn commands_that_cannot_run() {
    need_root!();
    let d = std::env::temp_dir().join(format!("mydocker-faults-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let dangling = d.join("dangling");
    std::os::unix::fs::symlink("/no/such/target", &dangling).unwrap();
    let script = d.join("script");
    std::fs::write(&script, "#!/no/such/interpreter\necho hi\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain = d.join("plain");
    std::fs::write(&plain, "echo hi\n").unwrap();
    let p = |x: &std::path::Path| x.display().to_string();
    fails(&run(["run", &p(&d)]), 126, "Permission denied");
    fails(&run(["run", &p(&dangling)]), 127, "No such file or directory");
    // Found, yet execve says ENOENT: the line says what is missing.
    let missing = "No such file or directory (found, but its #! interpreter or ELF loader is missing?)";
    fails(&run(["run", &p(&script)]), 127, missing);
    fails(&run(["run", "-e", &format!("PATH=/nope:{}", p(&d)), "script"]), 127, &format!("exec: script: {missing}"));
    let absent = "exec: absent: No such file or directory (not found in PATH)";
    fails(&run(["run", "-e", &format!("PATH={}", p(&d)), "absent"]), 127, absent);
    fails(&run(["run", &p(&plain)]), 126, "Permission denied");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn ten_thousand_variables_arrive() {
    need_root!();
    let mut c = mydocker(["run", "sh", "-c", "env | grep -c '^MDV'"]);
    c.env_clear();
    c.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for i in 0..10_000 {
        c.env(format!("MDV{i}"), "x");
    }
    assert_eq!(ok(&c.output().unwrap()).trim(), "10000");
}

#[test]
fn a_hundred_thousand_empty_arguments_arrive() {
    need_root!();
    let mut c = mydocker(["run", "sh", "-c", "echo $#", "sh"]);
    c.args(std::iter::repeat("").take(100_000));
    assert_eq!(ok(&c.output().unwrap()).trim(), "100000");
}

#[test]
fn stdin_closed() {
    need_root!();
    // Not /dev/null: no fd 0 at all.
    let mut c = mydocker(["run", "sh", "-c", "cat; echo done $?"]);
    // SAFETY: close(2) is async-signal-safe.
    before_exec(&mut c, || unsafe { libc::close(0) } == 0);
    let out = ok(&c.output().unwrap());
    assert!(out.ends_with("done 1\n") || out.ends_with("done 0\n"), "{out}");
}

#[test]
fn stdout_a_closed_pipe_does_not_hang() {
    need_root!();
    let mut c = mydocker(["run", "sh", "-c", "while :; do echo y || exit 3; done"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(c.stdout.take());
    let t = std::time::Instant::now();
    let st = c.wait().unwrap();
    // A PID-namespace init gets EPIPE instead of SIGPIPE: the loop exits 3.
    assert!(matches!(st.code(), Some(3) | Some(141)), "{st:?}");
    assert!(t.elapsed().as_secs() < 20);
}
