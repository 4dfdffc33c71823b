//! `mydocker run` end to end: namespaces, argv, environment, exit codes,
//! signals and hygiene. Runs the built binary as root.
mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

#[test]
fn the_command_is_pid_1() {
    need_root!();
    assert_eq!(ok(&run(["run", "sh", "-c", "echo $$"])), "1\n");
}

#[test]
fn the_container_sees_only_its_own_processes() {
    need_root!();
    // In a fresh PID namespace with its own /proc, the shell is alone.
    assert_eq!(ok(&run(["run", "sh", "-c", "echo /proc/[0-9]*"])), "/proc/1\n");
}

#[test]
fn the_default_hostname_is_a_12_hex_digit_id_and_the_hosts_is_untouched() {
    need_root!();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = ok(&run(["run", "sh", "-c", "hostname; echo $HOSTNAME"]));
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l.len(), 2, "{out}");
    assert_eq!(l[0].len(), 12, "{out}");
    assert!(l[0].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{out}");
    assert_eq!(l[0], l[1]);
    assert_ne!(l[0], host.trim());
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(), host);
    // Each container gets its own id.
    let again = ok(&run(["run", "hostname"]));
    assert_ne!(again.trim(), l[0]);
}

#[test]
fn hostname_flag_sets_the_hostname_and_hostname_variable() {
    need_root!();
    assert_eq!(ok(&run(["run", "--hostname", "box", "sh", "-c", "hostname; echo $HOSTNAME"])), "box\nbox\n");
}

#[test]
fn the_hosts_proc_still_works_after_a_run() {
    need_root!();
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    ok(&run(["run", "true"]));
    let me = std::fs::read_link("/proc/self").unwrap();
    assert_eq!(me.to_string_lossy(), std::process::id().to_string());
    assert_eq!(std::fs::read_to_string("/proc/self/mountinfo").unwrap(), before, "host mount table changed");
}

/// The interfaces a /proc/net/dev lists.
fn interfaces(dev: &str) -> Vec<&str> {
    dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect()
}

/// `mydocker run FLAGS true` is refused: 125 and one line ending in `tail`.
fn refused_in_one_line(flags: &[&str], tail: &str) {
    let o = run([&["run"][..], flags, &["true"]].concat());
    assert_eq!(code(&o), 125, "{flags:?}");
    assert!(stderr(&o).ends_with(tail) && stderr(&o).lines().count() == 1, "{flags:?}: {}", stderr(&o));
}

#[test]
fn dockers_network_none_is_taken_and_the_network_is_still_only_lo() {
    need_root!();
    for f in [&["--network", "none"][..], &["--net", "none"], &["--net=none"], &["--network=none"]] {
        let out = ok(&run([&["run"][..], f, &["cat", "/proc/net/dev"]].concat()));
        assert_eq!(interfaces(&out), ["lo"], "{f:?}: {out}");
    }
    for f in [&["--network", "host"][..], &["--net=bridge"], &["--network", "container:x"]] {
        refused_in_one_line(f, "': supported: none\n");
    }
}

#[test]
fn dockers_no_new_privileges_is_taken_and_sets_it_even_when_privileged() {
    need_root!();
    let nnp = |f: &[&str]| {
        let out = ok(&run([&["run"][..], f, &["grep", "NoNewPrivs", "/proc/self/status"]].concat()));
        out.trim().trim_start_matches("NoNewPrivs:").trim().to_string()
    };
    for v in ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"] {
        assert_eq!(nnp(&["--security-opt", v]), "1", "{v}");
        // docker: --privileged keeps what it asks for (it gives no_new_privs
        // only when asked).
        assert_eq!(nnp(&["--privileged", &format!("--security-opt={v}")]), "1", "--privileged {v}");
    }
    assert_eq!(nnp(&["--privileged"]), "0");
    for v in ["no-new-privileges=false", "no-new-privileges:1", "new-privileges"] {
        refused_in_one_line(&["--security-opt", v], ", no-new-privileges\n");
    }
}

#[test]
fn loopback_is_up_and_nothing_else_is_there() {
    need_root!();
    let out = ok(&run(["run", "cat", "/proc/net/dev"]));
    assert_eq!(interfaces(&out), ["lo"], "{out}");
    // (/sys is still the host's sysfs here, so ask the namespace itself.)
    let up = ok(&run(["run", "sh", "-c", "ip link show lo 2>/dev/null || ifconfig lo"]));
    assert!(up.contains("UP"), "{up}");
}

#[test]
fn arguments_arrive_byte_exact() {
    need_root!();
    let args: Vec<&[u8]> = vec![
        b"a b",
        b"",
        b"x\ny",
        b"  lead",
        b"tab\there",
        "\u{e9}t\u{e9} \u{2603}".as_bytes(),
        b"\xff\xfe\x80",
        b"$HOME",
        b"*",
        b"-e",
    ];
    let mut c = mydocker(["run", "--", "printf", "[%s]\\0"]);
    c.args(args.iter().map(|a| os(a)));
    let o = c.output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut want = vec![];
    for a in &args {
        want.push(b'[');
        want.extend_from_slice(a);
        want.extend_from_slice(b"]\0");
    }
    assert_eq!(o.stdout, want);
}

#[test]
fn a_100_kib_argument_list_arrives_intact() {
    need_root!();
    let args: Vec<String> = (0..1024).map(|i| format!("{i:04}-{}", "z".repeat(95))).collect();
    let o = mydocker(["run", "printf", "%s\\n"]).args(&args).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let want: String = args.iter().map(|a| format!("{a}\n")).collect();
    assert!(want.len() > 100 * 1024);
    assert_eq!(stdout(&o), want);
}

#[test]
fn the_callers_environment_is_inherited() {
    need_root!();
    let o = mydocker(["run", "sh", "-c", "echo $INHERITED"]).env("INHERITED", "from caller").output().unwrap();
    assert_eq!(ok(&o), "from caller\n");
}

#[test]
fn e_sets_and_copies_variables() {
    need_root!();
    let o = mydocker(["run", "-e", "FOO=bar", "-e", "COPIED", "-e", "ABSENT", "-e", "FOO=baz", "env"])
        .env("COPIED", "yes")
        .env_remove("ABSENT")
        .output()
        .unwrap();
    let out = ok(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"FOO=baz"), "{out}");
    assert!(!lines.contains(&"FOO=bar"), "{out}");
    assert!(lines.contains(&"COPIED=yes"), "{out}");
    assert!(!lines.iter().any(|l| l.starts_with("ABSENT")), "{out}");
}

#[test]
fn env_clear_leaves_only_path_hostname_and_flags() {
    need_root!();
    let o =
        mydocker(["run", "--env-clear", "--hostname", "h", "-e", "A=1", "env"]).env("SECRET", "x").output().unwrap();
    let mut got: Vec<String> = ok(&o).lines().map(String::from).collect();
    got.sort();
    assert_eq!(got, ["A=1", "HOSTNAME=h", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
}

#[test]
fn the_working_directory_is_the_callers() {
    need_root!();
    let o = mydocker(["run", "pwd"]).current_dir("/tmp").output().unwrap();
    assert_eq!(ok(&o), "/tmp\n");
}

#[test]
fn exit_status_is_the_commands_own() {
    need_root!();
    for n in [0, 1, 3, 255] {
        let o = run(["run", "sh", "-c", &format!("exit {n}")]);
        assert_eq!(code(&o), n);
        assert_eq!(stderr(&o), "", "mydocker must stay quiet when the command just fails");
    }
}

#[test]
fn killed_by_sigkill_from_the_host_is_137() {
    need_root!();
    let mut child = mydocker(["run", "sleep", "30"]).spawn().unwrap();
    let me = child.id();
    let mut pid = 0;
    eventually("the container's sleep", || {
        pid = children(me).first().copied().unwrap_or(0);
        pid != 0 && comm(pid) == "sleep"
    });
    // SAFETY: plain kill(2) of the process we just found.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(137));
}

#[test]
fn a_command_that_is_not_executable_is_126() {
    need_root!();
    let f = std::env::temp_dir().join(format!("mydocker-noexec-{}", std::process::id()));
    std::fs::write(&f, "#!/bin/sh\necho should not run\n").unwrap();
    let o = run(["run".as_ref(), f.as_os_str()]);
    std::fs::remove_file(&f).unwrap();
    fails(&o, 126, &format!("exec: {}: Permission denied", f.display()));
    fails(&run(["run", "/"]), 126, "exec: /");
}

#[test]
fn a_command_that_is_not_found_is_127() {
    need_root!();
    fails(
        &run(["run", "no-such-command-xyz"]),
        127,
        "exec: no-such-command-xyz: No such file or directory (not found in PATH)",
    );
    fails(&run(["run", "/no/such/file"]), 127, "exec: /no/such/file: No such file or directory");
    let o = mydocker(["run", "-e", "PATH=/nowhere", "sh"]).output().unwrap();
    fails(&o, 127, "not found in PATH");
}

#[test]
fn path_from_the_container_environment_is_searched() {
    need_root!();
    let o = mydocker(["run", "--env-clear", "-e", "PATH=/nowhere:/bin:/usr/bin", "sh", "-c", "echo found"])
        .output()
        .unwrap();
    assert_eq!(ok(&o), "found\n");
}

#[test]
fn bad_input_is_one_line_and_125() {
    need_root!();
    let long = "h".repeat(65);
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--bogus", "sh"], "unknown flag '--bogus'"),
        (&["run", "--hostname"], "flag needs a value '--hostname'"),
        (&["run", "-e"], "flag needs a value '-e'"),
        (&["run"], "missing command"),
        (&["run", "-ti"], "missing command"),
        (&["run", "-e", "=x", "sh"], "environment variable name is empty"),
        (&["run", "--hostname", &long, "true"], "longer than 64 bytes"),
        (&["run", "--hostname", "a/b", "true"], "only letters, digits"),
        (&["run", ""], "command name is empty"),
        (&["frobnicate"], "unknown command 'frobnicate'"),
        (&[], "missing command"),
    ];
    for (args, needle) in cases {
        fails(&run(*args), 125, needle);
    }
}

#[test]
fn help_and_version_exit_0() {
    let v = ok(&run(["--version"]));
    assert!(v.starts_with("mydocker ") && v.contains("commit"), "{v}");
    assert!(ok(&run(["--help"])).contains("Usage: mydocker"));
    assert!(ok(&run(["run", "--help"])).contains("--hostname"));
}

#[test]
fn stdin_is_passed_through() {
    need_root!();
    let mut c = mydocker(["run", "-i", "cat"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(b"hi\nthere\n").unwrap();
    let o = c.wait_with_output().unwrap();
    assert_eq!(ok(&o), "hi\nthere\n");
}

#[test]
fn sigterm_to_mydocker_reaches_a_trapping_shell() {
    need_root!();
    let mut c =
        mydocker(["run", "sh", "-c", "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: plain kill(2) of our own child.
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");
    assert_eq!(c.wait().unwrap().code(), Some(42));
}

#[test]
fn only_fds_0_1_2_reach_the_command() {
    need_root!();
    let mut c = mydocker(["run", "sh", "-c", "ls /proc/1/fd; true"]);
    // Leak an fd into mydocker, as a careless caller would.
    // SAFETY: dup2 is async-signal-safe.
    before_exec(&mut c, || unsafe { libc::dup2(2, 7) } == 7);
    let out = ok(&c.output().unwrap());
    assert_eq!(out, "0\n1\n2\n");
}

#[test]
fn no_process_is_left_behind() {
    need_root!();
    let marker = format!("{}", 86_000 + std::process::id() % 1000);
    ok(&run(["run", "sh", "-c", &format!("sleep {marker} & sleep {marker} & echo started")]));
    let needle = format!("sleep\0{marker}");
    // PID 1's exit kills the namespace; allow the kernel a moment to reap.
    eventually("the container's background processes to be gone", || processes_with(needle.as_bytes()).is_empty());
}

#[test]
fn works_on_a_host_without_proc() {
    need_root!();
    // Inside a first container, unmount /proc and start a second one: no
    // re-exec through /proc/self/exe, so this must work.
    let b = bin();
    let script = format!(
        "while umount -l /proc 2>/dev/null; do :; done; ! test -e /proc/self && {} run sh -c 'echo $$'",
        b.display()
    );
    // --privileged: unmounting /proc and making namespaces need CAP_SYS_ADMIN.
    assert_eq!(ok(&run(["run", "--privileged", "sh", "-c", &script])), "1\n");
}

#[test]
fn signals_the_caller_ignored_are_default_for_the_command() {
    need_root!();
    let mut c = mydocker(["run", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]);
    // As a background job or nohup would: SIGINT, SIGQUIT, SIGHUP, SIGPIPE ignored.
    before_exec(&mut c, || {
        for s in [libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGPIPE] {
            // SAFETY: signal(2) is async-signal-safe.
            unsafe { libc::signal(s, libc::SIG_IGN) };
        }
        true
    });
    let out = ok(&c.output().unwrap());
    assert_eq!(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

#[test]
fn a_capability_the_caller_lacks_is_left_out_and_cannot_be_added() {
    need_root!();
    // As inside a container or a systemd unit with a smaller bounding set:
    // mydocker starts without CAP_NET_RAW (13) in its permitted set.
    // SAFETY: prctl is async-signal-safe.
    let no_net_raw = || unsafe { libc::prctl(libc::PR_CAPBSET_DROP, 13, 0, 0, 0) } == 0;
    let field = |out: &str, key: &str| out.lines().find_map(|l| l.strip_prefix(key)).unwrap().trim().to_string();

    let mut c = mydocker(["run", "grep", "^Cap", "/proc/self/status"]);
    before_exec(&mut c, no_net_raw);
    let out = ok(&c.output().unwrap());
    // docker's default set (a80425fb) without bit 13.
    assert_eq!(field(&out, "CapEff:"), "00000000a80405fb");
    assert_eq!(field(&out, "CapBnd:"), "00000000a80405fb");

    let mut c = mydocker(["run", "--cap-add", "NET_RAW", "true"]);
    before_exec(&mut c, no_net_raw);
    fails(&c.output().unwrap(), 125, "--cap-add 'NET_RAW': mydocker itself does not have it");

    // ALL means all there is.
    let mut c = mydocker(["run", "--cap-add", "ALL", "grep", "^CapEff", "/proc/self/status"]);
    before_exec(&mut c, no_net_raw);
    let out = ok(&c.output().unwrap());
    let host = std::fs::read_to_string("/proc/self/status").unwrap();
    let host_prm = u64::from_str_radix(&field(&host, "CapPrm:"), 16).unwrap();
    assert_eq!(field(&out, "CapEff:"), format!("{:016x}", host_prm & !(1 << 13)));
}

/// breaker6 19:55: a small stack limit ended every command in SIGSEGV
/// (139, no line). A soft limit below what mydocker needs is raised while
/// the hard one allows (the command then inherits the raised one); else one
/// line, 125 (OCI commands: 1, runc's).
#[test]
fn a_small_stack_limit_is_raised_or_refused_in_one_line() {
    need_root!();
    let sh = |script: &str| {
        std::process::Command::new("sh").arg("-c").arg(script).arg("sh").arg(bin()).stdin(Stdio::null()).output().unwrap()
    };
    let o = sh(r#"ulimit -Ss 24 && exec "$1" run sh -c 'ulimit -s'"#);
    assert_eq!((code(&o), stdout(&o).trim()), (0, "256"), "{}", stderr(&o));
    for (script, want) in [(r#"ulimit -s 24 && exec "$1" run true"#, 125), (r#"ulimit -s 24 && exec "$1" state x"#, 1)] {
        fails(&sh(script), want, "ulimit -s: below the 256 KiB needed, the hard limit too");
    }
}
