//! The exit-code and message contract, in one table: every error mydocker
//! can be made to print here, with its exit code and its exact text.
//! Changing one of them is meant to be a deliberate act: change it here too.
mod common;
use common::*;

/// (arguments after `mydocker`, exit code, the exact stderr).
fn table(rootfs: Option<&str>) -> Vec<(Vec<String>, i32, String)> {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap().trim().to_string();
    let ncpu: usize = online
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
            None => 1,
        })
        .sum();
    let long = "h".repeat(65);
    let mut t: Vec<(Vec<&str>, i32, String)> = vec![
        (vec![], 125, "mydocker: missing command: try 'mydocker --help'".into()),
        (vec!["frob"], 125, "mydocker: unknown command 'frob': try 'mydocker --help'".into()),
        (vec!["gc", "x"], 125, "mydocker: gc: unknown argument 'x': usage: mydocker gc [--cgroup-parent PATH]".into()),
        (vec!["run"], 125, "mydocker: run: missing command: usage: mydocker run [OPTIONS] COMMAND [ARG...]".into()),
        (vec!["run", "--bogus", "sh"], 125, "mydocker: run: unknown flag '--bogus': see 'mydocker run --help'".into()),
        (
            vec!["run", "--tty=yes", "sh"],
            125,
            "mydocker: run: --tty 'yes': not a boolean".into(),
        ),
        (vec!["run", "-e"], 125, "mydocker: run: flag needs a value '-e': see 'mydocker run --help'".into()),
        // stdin is /dev/null here: -t needs a terminal to relay.
        (vec!["run", "-t", "true"], 125, "mydocker: run: the input device is not a TTY".into()),
        (vec!["run", ""], 125, "mydocker: run: command: the command name is empty".into()),
        (vec!["run", "-e", "=x", "sh"], 125, "mydocker: run: -e '=x': environment variable name is empty".into()),
        (vec!["run", "--hostname", "", "sh"], 125, "mydocker: run: --hostname: hostname is empty".into()),
        (
            vec!["run", "--hostname", &long, "sh"],
            125,
            format!("mydocker: run: --hostname '{long}': hostname is longer than 64 bytes"),
        ),
        (
            vec!["run", "--hostname", "a b", "sh"],
            125,
            "mydocker: run: --hostname 'a b': hostname may hold only letters, digits, '-' and '.'".into(),
        ),
        (vec!["run", "-m", "0", "sh"], 125, "mydocker: run: --memory '0': size must be greater than zero".into()),
        (
            vec!["run", "-m", "10x", "sh"],
            125,
            "mydocker: run: --memory '10x': not a size: use a whole number with an optional k, m, g, t or p suffix".into(),
        ),
        (vec!["run", "-m", "99999999999g", "sh"], 125, "mydocker: run: --memory '99999999999g': size too large".into()),
        (
            vec!["run", "-cpuset", "1-", "sh"],
            125,
            "mydocker: run: --cpuset-cpus '1-': malformed CPU list: use numbers and ranges such as 0-2,5".into(),
        ),
        (
            vec!["run", "-cpuset", "3-1", "sh"],
            125,
            "mydocker: run: --cpuset-cpus '3-1': malformed CPU list: a range must ascend".into(),
        ),
        (
            vec!["run", "-cpuset", "5000", "sh"],
            125,
            "mydocker: run: --cpuset-cpus '5000': CPU number too large (limit 1023)".into(),
        ),
        (
            vec!["run", "-cpuset", "1000", "sh"],
            125,
            format!("mydocker: run: --cpuset-cpus '1000': CPUs not online: 1000 (online: {online})"),
        ),
        (
            vec!["run", "-cpushare", "1", "sh"],
            125,
            "mydocker: run: --cpu-shares '1': CPU shares must be a whole number from 2 to 262144".into(),
        ),
        (
            vec!["run", "--pids-limit", "0", "sh"],
            125,
            "mydocker: run: --pids-limit '0': pids limit must be a whole number greater than zero".into(),
        ),
        (vec!["run", "--cpus", "0", "sh"], 125, "mydocker: run: --cpus '0': CPUs must be greater than zero".into()),
        (vec!["run", "--cpus", "0.001", "sh"], 125, "mydocker: run: --cpus '0.001': CPUs must be at least 0.01".into()),
        (
            vec!["run", "--cpus", "x", "sh"],
            125,
            "mydocker: run: --cpus 'x': CPUs must be a number such as 0.5 or 2 (at most 3 decimals)".into(),
        ),
        (vec!["run", "--cpus", "1000", "sh"], 125, format!("mydocker: run: --cpus '1000': more than the {ncpu} online CPUs")),
        (vec!["run", "--cpus", "1000.05", "sh"], 125, format!("mydocker: run: --cpus '1000.05': more than the {ncpu} online CPUs")),
        // With global flags (OCI's) too: one line, one code.
        (vec!["--root", "/tmp"], 125, "mydocker: missing command: try 'mydocker --help'".into()),
        (vec!["--debug"], 125, "mydocker: missing command: try 'mydocker --help'".into()),
        (
            vec!["run", "--cgroup-parent", "../x", "sh"],
            125,
            "mydocker: run: --cgroup-parent '../x': must be a cgroup path without '.' or '..' components".into(),
        ),
        (vec!["run", "-v", "/a:/b", "sh"], 125, "mydocker: run: --volume: needs --rootfs".into()),
        (vec!["run", "--tmpfs", "/t", "sh"], 125, "mydocker: run: --tmpfs: needs --rootfs".into()),
        (vec!["run", "--read-only", "sh"], 125, "mydocker: run: --read-only: needs --rootfs".into()),
        (vec!["run", "-v", "/a", "sh"], 125, "mydocker: run: --volume '/a': a volume is SRC:DST[:ro|rw]".into()),
        (
            vec!["run", "-v", "a:/b", "sh"],
            125,
            "mydocker: run: --volume 'a:/b': the volume source must be an absolute path".into(),
        ),
        (
            vec!["run", "-v", "/a:b", "sh"],
            125,
            "mydocker: run: --volume '/a:b': the volume destination must be an absolute path".into(),
        ),
        (
            vec!["run", "-v", "/a:/b:rx", "sh"],
            125,
            "mydocker: run: --volume '/a:/b:rx': unknown volume mode: use ro or rw".into(),
        ),
        (
            vec!["run", "-v", "/a:/../b", "sh"],
            125,
            "mydocker: run: --volume '/a:/../b': the volume destination may not contain '..'".into(),
        ),
        (vec!["run", "--tmpfs", "t", "sh"], 125, "mydocker: run: --tmpfs 't': must be an absolute path".into()),
        (vec!["run", "-w", "rel", "sh"], 125, "mydocker: run: --workdir 'rel': must be an absolute path".into()),
        (vec!["run", "-u", "x", "sh"], 125, "mydocker: run: --user 'x': use numeric UID[:GID] below 4294967295".into()),
        (vec!["run", "--cap-add", "NOPE", "sh"], 125, "mydocker: run: --cap-add 'NOPE': unknown capability".into()),
        (vec!["run", "--network", "host", "sh"], 125, "mydocker: run: --network 'host': supported: none".into()),
        (vec!["run", "--net=bridge", "sh"], 125, "mydocker: run: --network 'bridge': supported: none".into()),
        (
            vec!["run", "--security-opt", "no-new-privileges=false", "sh"],
            125,
            "mydocker: run: --security-opt 'no-new-privileges=false': supported: seccomp=unconfined, seccomp=FILE, no-new-privileges"
                .into(),
        ),
        (vec!["run", "--cap-drop", "NOPE", "sh"], 125, "mydocker: run: --cap-drop 'NOPE': unknown capability".into()),
        (vec!["run", "--rootfs", "", "sh"], 125, "mydocker: run: --rootfs: the rootfs path is empty".into()),
        (
            vec!["run", "--rootfs", "/no/such/dir", "sh"],
            125,
            "mydocker: run: --rootfs '/no/such/dir': No such file or directory".into(),
        ),
        (
            vec!["run", "no-such-command-xyz"],
            127,
            "mydocker: exec: no-such-command-xyz: No such file or directory (not found in PATH)".into(),
        ),
        (vec!["run", "/no/such/file"], 127, "mydocker: exec: /no/such/file: No such file or directory".into()),
        (vec!["run", "/"], 126, "mydocker: exec: /: Permission denied (not executable, or permission denied)".into()),
    ];
    if cgroup_dir("memory").is_some() {
        t.push((
            vec!["run", "--cgroup-parent", "/no/such/parent", "-m", "8m", "true"],
            125,
            "mydocker: run: --cgroup-parent '/no/such/parent': No such file or directory".into(),
        ));
        t.push((
            vec!["run", "-m", "16m", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"],
            137,
            "mydocker: container killed: out of memory (limit 16m)".into(),
        ));
        t.push((
            vec!["run", "-m", "16m", "sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; exit 3"],
            3,
            "mydocker: out of memory: the limit (16m) killed 1 process in the container; \
             the exit status is PID 1's own"
                .into(),
        ));
    }
    let mut t: Vec<(Vec<String>, i32, String)> =
        t.into_iter().map(|(a, c, m)| (a.iter().map(|s| s.to_string()).collect(), c, m)).collect();
    if let Some(r) = rootfs {
        let r = r.to_string();
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        t.push((
            v(&["run", "--rootfs", &r, "-w", "/etc/passwd", "true"]),
            125,
            "mydocker: workdir: /etc/passwd: Not a directory".into(),
        ));
        t.push((
            v(&["run", "--rootfs", &r, "-v", "/tmp:/proc/sys/x", "true"]),
            125,
            format!("mydocker: mount: {r}/proc/sys/x (volume): No such file or directory (the mount point is missing)"),
        ));
        t.push((
            v(&["run", "--rootfs", &r, "-v", "/no/such/src:/x", "true"]),
            125,
            "mydocker: run: --volume '/no/such/src:/x': No such file or directory".into(),
        ));
    }
    t
}

#[test]
fn every_error_has_its_exit_code_and_exact_message() {
    need_root!();
    let rootfs = std::env::var("MYDOCKER_ROOTFS").ok().filter(|r| std::path::Path::new(r).join("bin/sh").exists());
    if rootfs.is_none() {
        eprintln!("SKIP {}: the --rootfs rows (no rootfs in $MYDOCKER_ROOTFS)", module_path!());
    }
    let mut bad = vec![];
    for (args, want, msg) in table(rootfs.as_deref()) {
        let o = run(&args);
        let got = stderr(&o);
        if code(&o) != want || got != format!("{msg}\n") {
            bad.push(format!("mydocker {:?}\n  want {want} {msg:?}\n  got  {} {got:?}", args, code(&o)));
        }
    }
    assert!(bad.is_empty(), "{} rows differ:\n{}", bad.len(), bad.join("\n"));
}

/// Bytes that would break a line or a terminal: a newline, an escape
/// sequence, DEL, a C1 control and bytes that are not UTF-8.
const NASTY: &[u8] = b"a\nb\x1b[1m\x7f\xc2\x9b\xff";
/// How every message shows NASTY.
const SHOWN: &str = "a\\nb\\x1b[1m\\x7f\\xc2\\x9b\\xff";

/// Every message that echoes an argument, fed NASTY in that argument:
/// (arguments with `@` standing for NASTY, exit code, the exact stderr
/// with `@` standing for SHOWN).
fn echoing(rootfs: Option<&str>) -> Vec<(Vec<String>, i32, String)> {
    let t: Vec<(&[&str], i32, &str)> = vec![
        (&["@"], 125, "mydocker: unknown command '@': try 'mydocker --help'"),
        (&["gc", "@"], 125, "mydocker: gc: unknown argument '@': usage: mydocker gc [--cgroup-parent PATH]"),
        (&["run", "--@", "sh"], 125, "mydocker: run: unknown flag '--@': see 'mydocker run --help'"),
        (&["run", "-e", "=@", "sh"], 125, "mydocker: run: -e '=@': environment variable name is empty"),
        (
            &["run", "--security-opt", "@", "sh"],
            125,
            "mydocker: run: --security-opt '@': supported: seccomp=unconfined, seccomp=FILE, no-new-privileges",
        ),
        (&["run", "--security-opt", "seccomp=/no/@", "sh"], 125, "mydocker: seccomp: /no/@: No such file or directory"),
        (
            &["run", "--hostname", "@", "sh"],
            125,
            "mydocker: run: --hostname '@': hostname may hold only letters, digits, '-' and '.'",
        ),
        (
            &["run", "-m", "@", "sh"],
            125,
            "mydocker: run: --memory '@': not a size: use a whole number with an optional k, m, g, t or p suffix",
        ),
        (
            &["run", "--cpuset-cpus", "@", "sh"],
            125,
            "mydocker: run: --cpuset-cpus '@': malformed CPU list: use numbers and ranges such as 0-2,5",
        ),
        (
            &["run", "--cpu-shares", "@", "sh"],
            125,
            "mydocker: run: --cpu-shares '@': CPU shares must be a whole number from 2 to 262144",
        ),
        (
            &["run", "--pids-limit", "@", "sh"],
            125,
            "mydocker: run: --pids-limit '@': pids limit must be a whole number greater than zero",
        ),
        (
            &["run", "--cpus", "@", "sh"],
            125,
            "mydocker: run: --cpus '@': CPUs must be a number such as 0.5 or 2 (at most 3 decimals)",
        ),
        (
            &["run", "--cgroup-parent", "../@", "sh"],
            125,
            "mydocker: run: --cgroup-parent '../@': must be a cgroup path without '.' or '..' components",
        ),
        (&["run", "-v", "@", "sh"], 125, "mydocker: run: --volume '@': a volume is SRC:DST[:ro|rw]"),
        (&["run", "--tmpfs", "@", "sh"], 125, "mydocker: run: --tmpfs '@': must be an absolute path"),
        (&["run", "-w", "@", "sh"], 125, "mydocker: run: --workdir '@': must be an absolute path"),
        (&["run", "-u", "@", "sh"], 125, "mydocker: run: --user '@': use numeric UID[:GID] below 4294967295"),
        (&["run", "--cap-add", "@", "sh"], 125, "mydocker: run: --cap-add '@': unknown capability"),
        (&["run", "--cap-drop", "@", "sh"], 125, "mydocker: run: --cap-drop '@': unknown capability"),
        (&["run", "--rootfs", "/no/@", "sh"], 125, "mydocker: run: --rootfs '/no/@': No such file or directory"),
        (&["run", "no@"], 127, "mydocker: exec: no@: No such file or directory (not found in PATH)"),
        (&["run", "/no/@"], 127, "mydocker: exec: /no/@: No such file or directory"),
        // The OCI commands (runc's exit code 1).
        (&["state", "@"], 1, "mydocker: state: container does not exist: @"),
        (&["delete", "@"], 1, "mydocker: delete: container does not exist: @"),
        (&["start", "@"], 1, "mydocker: start: container does not exist: @"),
        (&["kill", "@"], 1, "mydocker: kill: container does not exist: @"),
        (&["pause", "@"], 1, "mydocker: pause: container does not exist: @"),
        (&["ps", "@"], 1, "mydocker: ps: container does not exist: @"),
        (&["exec", "@", "true"], 255, "mydocker: exec: container does not exist: @"),
        (&["kill", "no-such-id", "SIG@"], 1, "mydocker: kill: invalid signal: SIG@"),
        (&["create", "--bundle", "/no/@", "x"], 1, "mydocker: create: config.json: /no/@/config.json: No such file or directory"),
        (&["create", "--bundle", "/tmp", "x@"], 1, "mydocker: create: invalid container id 'x@': use [A-Za-z0-9_+.-]"),
    ];
    let with_rootfs: Vec<(Vec<&str>, i32, String)>;
    if let Some(r) = rootfs {
        with_rootfs = vec![
            (
                vec!["run", "--rootfs", r, "-v", "/no/@:/x", "true"],
                125,
                "mydocker: run: --volume '/no/@:/x': No such file or directory".into(),
            ),
            (
                vec!["run", "--rootfs", r, "-v", "/tmp:/proc/sys/@", "true"],
                125,
                format!("mydocker: mount: {r}/proc/sys/@ (volume): No such file or directory (the mount point is missing)"),
            ),
        ];
    } else {
        with_rootfs = vec![];
    }
    let mut all: Vec<(Vec<String>, i32, String)> =
        t.into_iter().map(|(a, c, m)| (a.iter().map(|s| s.to_string()).collect(), c, m.to_string())).collect();
    all.extend(with_rootfs.into_iter().map(|(a, c, m)| (a.iter().map(|s| s.to_string()).collect(), c, m)));
    all
}

#[test]
fn every_message_echoing_an_argument_stays_one_line_whatever_the_bytes() {
    use std::os::unix::ffi::OsStringExt;
    need_root!();
    let rootfs = std::env::var("MYDOCKER_ROOTFS").ok().filter(|r| std::path::Path::new(r).join("bin/sh").exists());
    if rootfs.is_none() {
        eprintln!("SKIP {}: the --rootfs rows (no rootfs in $MYDOCKER_ROOTFS)", module_path!());
    }
    let mut bad = vec![];
    for (args, want, msg) in echoing(rootfs.as_deref()) {
        let bytes: Vec<std::ffi::OsString> = args
            .iter()
            .map(|a| {
                let mut v = vec![];
                for (i, part) in a.split('@').enumerate() {
                    if i > 0 {
                        v.extend_from_slice(NASTY);
                    }
                    v.extend_from_slice(part.as_bytes());
                }
                std::ffi::OsString::from_vec(v)
            })
            .collect();
        let o = run(&bytes);
        let want_msg = format!("{}\n", msg.replace('@', SHOWN));
        if code(&o) != want || o.stderr != want_msg.as_bytes() {
            bad.push(format!("mydocker {args:?}\n  want {want} {want_msg:?}\n  got  {} {:?}", code(&o), stderr(&o)));
        }
    }
    assert!(bad.is_empty(), "{} rows differ:\n{}", bad.len(), bad.join("\n"));
}
