//! The syscall filter for real: docker's default profile on every
//! container, `--security-opt seccomp=unconfined|FILE`, `--privileged`.
mod common;
use common::*;
use std::process::Command;

/// The command itself failed with `needle` in its message (not mydocker).
fn refused(o: &std::process::Output, needle: &str) {
    assert_ne!(code(o), 0, "{}", stderr(o));
    assert!(stderr(o).contains(needle), "{:?}", stderr(o));
}

fn have(tool: &str) -> bool {
    std::process::Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// keyctl, bpf and perf_event_open with harmless arguments: the errno each
/// fails with (0 if it succeeded), one line each.
fn probe_syscalls() -> String {
    let calls = [("keyctl", libc::SYS_keyctl), ("bpf", libc::SYS_bpf), ("perf_event_open", libc::SYS_perf_event_open)];
    let mut out = String::new();
    for (name, nr) in calls {
        // SAFETY: null/zero arguments: each call fails or does nothing.
        let r = unsafe { libc::syscall(nr, 0, 0, 0, 0, 0) };
        let e = if r == -1 { std::io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { 0 };
        out += &format!("{name} {e}\n");
    }
    out
}

/// The container runs this very test binary (static, on the host's
/// filesystem) with MYDOCKER_PROBE set: it prints the errnos from inside.
#[test]
fn the_default_filter_refuses_keyctl_bpf_and_perf_event_open_with_eperm() {
    if std::env::var_os("MYDOCKER_PROBE").is_some() {
        print!("{}", probe_syscalls());
        return;
    }
    need_root!();
    let me = std::env::current_exe().unwrap();
    let me = me.to_str().unwrap();
    let args = ["--exact", "the_default_filter_refuses_keyctl_bpf_and_perf_event_open_with_eperm", "--nocapture", "--quiet"];
    let inside = |extra: &[&str]| -> String {
        let mut a = vec!["run", "-e", "MYDOCKER_PROBE=1"];
        a.extend_from_slice(extra);
        a.push(me);
        a.extend_from_slice(&args);
        ok(&run(a)).lines().filter(|l| l.split(' ').count() == 2 && l.ends_with(char::is_numeric)).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(inside(&[]), "keyctl 1\nbpf 1\nperf_event_open 1");
    // Unconfined, the kernel answers instead: not EPERM from a filter.
    let free = inside(&["--security-opt", "seccomp=unconfined"]);
    assert!(free.contains("keyctl ") && !free.contains("keyctl 1\n"), "{free}");
}

#[test]
fn user_namespaces_are_refused_unless_unconfined_or_privileged() {
    need_root!();
    if !have("unshare") {
        println!("SKIP user_namespaces_are_refused_unless_unconfined_or_privileged: no unshare(1)");
        return;
    }
    refused(&run(["run", "unshare", "-U", "true"]), "Operation not permitted");
    ok(&run(["run", "--security-opt", "seccomp=unconfined", "unshare", "-U", "true"]));
    ok(&run(["run", "--privileged", "unshare", "-U", "true"]));
}

#[test]
fn everyday_commands_run_under_the_default_filter() {
    need_root!();
    let out = ok(&run(["run", "sh", "-c", "echo abc | tr a x | cat; ls -l /proc/self/fd >/dev/null && echo fds; id -u; sleep 0; echo $$"]));
    assert_eq!(out, "xbc\nfds\n0\n1\n");
}

/// Runs `mkdir` under the profile `json` (a file in a directory of
/// `tag`'s), which must refuse it with EACCES; the directory (to remove).
fn mkdir_refused_by(tag: &str, json: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mydocker-seccomp-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("profile.json");
    std::fs::write(&p, json).unwrap();
    let target = dir.join("made");
    refused(&run(["run", "--security-opt", &format!("seccomp={}", p.display()), "mkdir", target.to_str().unwrap()]), "Permission denied");
    assert!(!target.exists());
    dir
}

#[test]
fn a_profile_file_is_applied_with_its_errno() {
    need_root!();
    let dir = mkdir_refused_by(
        "it",
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    );
    // Without the profile the same command works: the filter said no.
    ok(&run(["run", "mkdir", dir.join("made").to_str().unwrap()]));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// docker's format before 17.x and generated lists: a rule per syscall
/// name, hundreds of them (names this kernel lacks among them).
#[test]
fn a_profile_with_a_rule_per_syscall_is_applied() {
    need_root!();
    let rule = |n: &str| format!(r#"{{"name": "{n}", "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": []}}"#);
    let mut rules: Vec<String> = (0..600).map(|i| rule(&format!("not_a_syscall_{i}"))).collect();
    rules.push(rule("mkdir"));
    rules.push(rule("mkdirat"));
    let dir = mkdir_refused_by("one", &format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]}}"#, rules.join(",")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_profile_from_a_pipe_is_read_to_its_end() {
    // A shell's `seccomp=<(generate)`: a pipe, whose size fstat cannot give.
    need_root!();
    let dir = std::env::temp_dir().join(format!("mydocker-seccomp-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("made");
    let profile = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#;
    let o = Command::new("sh")
        .arg("-c")
        // /proc/self/fd/0, not /dev/stdin: the QEMU guests' /dev has no such link.
        .arg(format!("printf '%s' '{profile}' | \"$0\" run --security-opt seccomp=/proc/self/fd/0 mkdir \"$1\""))
        .arg(bin())
        .arg(&target)
        .output()
        .unwrap();
    refused(&o, "Permission denied");
    assert!(!target.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_profile_is_one_line_and_exit_125() {
    need_root!();
    let dir = std::env::temp_dir().join(format!("mydocker-seccomp-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.json");
    std::fs::write(&p, r#"{"defaultAction": "SCMP_ACT_NOPE"}"#).unwrap();
    let o = run(["run", "--security-opt", &format!("seccomp={}", p.display()), "true"]);
    fails(&o, 125, "byte 18: unknown seccomp action");
    assert_eq!(stderr(&o).lines().count(), 1);
    fails(&run(["run", "--security-opt", "seccomp=/nonexistent/p.json", "true"]), 125, "No such file or directory");
    std::fs::write(&p, "{\"defaultAction\": ").unwrap();
    fails(&run(["run", "--security-opt", &format!("seccomp={}", p.display()), "true"]), 125, "bad.json: byte 18: unexpected end of text");
    fails(&run(["run", "--security-opt", "apparmor=x", "true"]), 125, "supported: seccomp=unconfined, seccomp=FILE");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A profile of the wrong shape is refused, never half-applied (a rule that
/// silently vanished would leave its syscall allowed); a profile under which
/// no command could start or end is refused before start instead of leaving
/// the container's first process spinning. Each: one line, 125, and no hang
/// (the run is bounded: a regression fails here instead of hanging CI).
#[test]
fn a_profile_of_the_wrong_shape_or_that_no_command_could_survive_is_refused() {
    need_root!();
    let dir = std::env::temp_dir().join(format!("mydocker-seccomp-shape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let allow = r#""defaultAction": "SCMP_ACT_ALLOW""#;
    let cases = [
        (format!(r#"{{{allow}, "syscalls": [{{"names": "keyctl", "action": "SCMP_ACT_ERRNO"}}]}}"#), "must be an array"),
        (format!(r#"{{{allow}, "syscalls": {{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}}}}"#), "must be an array"),
        (
            format!(r#"{{{allow}, "syscalls": [{{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "args": {{"index": 0}}}}]}}"#),
            "must be an array",
        ),
        (format!(r#"{{{allow}, "flags": "SECCOMP_FILTER_FLAG_LOG"}}"#), "must be an array"),
        (format!(r#"{{{allow}, "architectures": "SCMP_ARCH_X86"}}"#), "must be an array"),
        (format!(r#"{{{allow}, "architectures": ["SCMP_ARCH_NOPE"]}}"#), "unknown architecture"),
        (r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#.to_string(), "refuses execve or exit_group"),
        (
            format!(r#"{{{allow}, "syscalls": [{{"names": ["exit_group"], "action": "SCMP_ACT_ERRNO"}}]}}"#),
            "refuses execve or exit_group",
        ),
        (
            format!(r#"{{{allow}, "syscalls": [{{"names": ["execve"], "action": "SCMP_ACT_KILL"}}]}}"#),
            "refuses execve or exit_group",
        ),
    ];
    for (i, (json, needle)) in cases.iter().enumerate() {
        let p = dir.join(format!("p{i}.json"));
        std::fs::write(&p, json).unwrap();
        let mut child = mydocker(["run", "--security-opt", &format!("seccomp={}", p.display()), "true"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > std::time::Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{json}: still running after 60 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        fails(&o, 125, needle);
        assert_eq!(stderr(&o).lines().count(), 1, "{json}: {}", stderr(&o));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// x32's getpid (__X32_SYSCALL_BIT | __NR_getpid) from here: 0 if it ran,
/// else its errno.
#[cfg(target_arch = "x86_64")]
fn x32_getpid() -> i32 {
    // SAFETY: getpid takes no arguments and touches no memory.
    let r = unsafe { libc::syscall(0x4000_0000 | libc::SYS_getpid) };
    if r == -1 { std::io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { 0 }
}

/// Where the kernel runs no x32, the default filter has no x32 part: an x32
/// call gets the profile's EPERM from the filter (with the part, docker's
/// allowed getpid would pass it and the kernel say ENOSYS). Where x32
/// runs, the part is there and x32's getpid runs. The container runs this
/// very test binary with MYDOCKER_X32_PROBE set.
#[test]
fn the_default_filter_has_an_x32_part_only_where_the_kernel_runs_x32() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::env::var_os("MYDOCKER_X32_PROBE").is_some() {
            println!("x32 {}", x32_getpid());
            return;
        }
        need_root!();
        let host = x32_getpid();
        assert!(host == 0 || host == libc::ENOSYS, "x32 getpid on the host: errno {host}");
        let me = std::env::current_exe().unwrap();
        let name = "the_default_filter_has_an_x32_part_only_where_the_kernel_runs_x32";
        let inside = |extra: &[&str]| -> String {
            let mut a = vec!["run", "-e", "MYDOCKER_X32_PROBE=1"];
            a.extend_from_slice(extra);
            a.extend_from_slice(&[me.to_str().unwrap(), "--exact", name, "--nocapture", "--quiet"]);
            ok(&run(a)).lines().filter(|l| l.starts_with("x32 ")).collect()
        };
        let want = if host == 0 { 0 } else { libc::EPERM };
        assert_eq!(inside(&[]), format!("x32 {want}"), "host: x32 getpid errno {host}");
        assert_eq!(inside(&["--security-opt", "seccomp=unconfined"]), format!("x32 {host}"));
    }
    #[cfg(not(target_arch = "x86_64"))]
    println!("SKIP the_default_filter_has_an_x32_part_only_where_the_kernel_runs_x32: not x86_64");
}

/// mydocker asks the kernel whether it runs x32 with an x32 call, but never
/// under a seccomp filter, which may kill for it: libseccomp's filter for
/// x86_64 alone (here: allow everything) kills any x32 call with its
/// bad-arch action, and mydocker runs under it.
#[test]
fn under_a_seccomp_filter_mydocker_makes_no_x32_call() {
    need_root!();
    if !cfg!(target_arch = "x86_64") {
        println!("SKIP under_a_seccomp_filter_mydocker_makes_no_x32_call: not x86_64");
        return;
    }
    if !std::process::Command::new("/usr/bin/python3").args(["-c", "import seccomp"]).status().is_ok_and(|s| s.success()) {
        println!("SKIP under_a_seccomp_filter_mydocker_makes_no_x32_call: no python3-seccomp (make unit installs it)");
        return;
    }
    let under = |then: &str, args: &[&str]| {
        let script = format!("import ctypes, os, sys, seccomp\nseccomp.SyscallFilter(seccomp.ALLOW).load()\n{then}");
        Command::new("/usr/bin/python3").args(["-c", &script]).args(args).output().unwrap()
    };
    // The filter does kill an x32 call (SIGSYS)...
    let o = under("ctypes.CDLL(None).syscall(0x40000027)", &[]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(o.status.signal(), Some(libc::SIGSYS), "{o:?}");
    // ...and mydocker under it runs a container (with its own filter on top).
    let o = under("os.execv(sys.argv[1], sys.argv[1:])", &[bin().to_str().unwrap(), "run", "sh", "-c", "echo ran"]);
    assert_eq!(ok(&o), "ran\n");
}
