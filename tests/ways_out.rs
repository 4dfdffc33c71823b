//! Ways out of a --rootfs container, one table: every row tries one kind
//! of escape (each must stay closed) or one thing that must keep working
//! while they are closed. Each row is its own test, so a failure names it.
//! Runs on the host and in the QEMU guests; needs root and a busybox
//! rootfs ($MYDOCKER_ROOTFS, `make rootfs`).
//!
//! Rows that need mounts of their own on the "host" (a nosuid source, a
//! submount) make them inside a first, --privileged mydocker (its own
//! mount namespace, the host's files) and run the container under test
//! from there, so the real host's mount table is never touched.
//!
//! Add a row: one line in `ways!` below and a `fn(rootfs: &str)` that
//! panics when the way is open.
mod common;
#[path = "common/pty.rs"]
mod pty;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

macro_rules! ways {
    ($($name:ident: $kind:ident => $check:ident;)*) => {$(
        #[test]
        fn $name() {
            need_root!();
            let Some(r) = rootfs() else {
                eprintln!("SKIP {}: no busybox rootfs in $MYDOCKER_ROOTFS (make rootfs)", stringify!($name));
                return;
            };
            $check(&r);
            eprintln!("{}: {}", stringify!($kind), stringify!($name));
        }
    )*};
}

ways! {
    // 1. File descriptors (runc CVE-2024-21626): fds inherited from the
    //    caller or opened by mydocker are gone before any path is resolved.
    workdir_through_an_inherited_directory_fd: closed => workdir_through_inherited_fd;
    workdir_through_a_stdin_that_is_a_host_directory: closed => workdir_through_stdin;
    command_through_an_inherited_directory_fd: closed => command_through_inherited_fd;
    volume_target_through_proc_self_fd: closed => volume_through_proc_fd;
    only_fds_0_1_2_reach_the_command_with_limits_set: closed => command_fds_with_limits;
    the_init_reaper_holds_no_fd_and_cannot_be_inspected: closed => reaper_fds;
    // 4. Read-only stays read-only, with every flag, over every submount.
    a_ro_volume_keeps_its_flags_and_covers_its_submounts: closed => ro_volume_flags_and_submounts;
    read_only_root_keeps_its_flags_and_covers_its_submounts: closed => read_only_root_flags_and_submounts;
    read_only_proc_paths_and_sys_keep_their_flags: closed => proc_and_sys_flags;
    // 5. Mount targets: symlinks resolved inside the rootfs, mounted by fd.
    a_symlinked_mount_target_cannot_lead_out: closed => symlinked_targets;
    a_target_swapped_for_a_symlink_during_start_cannot_lead_out: closed => swapped_targets;
    // The same, on kernels without the new calls (simulated: a seccomp
    //    filter makes them fail with ENOSYS, as an old kernel would).
    before_5_12_read_only_still_leaves_nothing_writable: closed => old_kernel_read_only;
    before_5_2_the_ways_stay_closed: closed => older_kernel_ways;
    // 2. The caller's terminal (bubblewrap CVE-2017-5226): nothing pushed
    //    into its input queue (tests/tty.rs has the rest of the kind).
    input_cannot_be_pushed_into_the_callers_terminal: closed => tiocsti_refused;
    // 3. Devices (docker's device cgroup): any node may be made, only the
    //    usual ones opened — whoever made the node and however it is reached.
    a_char_device_made_inside_cannot_be_opened: closed => char_device_made_inside;
    a_block_device_made_inside_cannot_be_opened: closed => block_device_made_inside;
    a_device_node_shipped_in_the_rootfs_cannot_be_opened: closed => device_node_in_rootfs;
    a_host_device_bound_in_as_a_volume_cannot_be_opened: closed => device_as_volume;
    // What must keep working.
    read_only_root_with_a_new_workdir_prints_it: works => read_only_new_workdir;
    volumes_are_writable_where_asked_and_readable_when_ro: works => volumes_work;
    default_devices_are_usable: works => default_devices;
    a_workdir_inside_the_root_is_entered: works => workdir_inside;
    ti_gives_a_shell_on_a_terminal_of_its_own: works => ti_shell;
}


fn rootfs() -> Option<String> {
    let r = std::env::var("MYDOCKER_ROOTFS").ok()?;
    Path::new(&r).join("bin/busybox").exists().then_some(r)
}

/// `mydocker run --rootfs R FLAGS sh -c SCRIPT`, with `fd7`: the host's
/// "/" open as fd 7 in mydocker, as a careless (or hostile) caller leaves it.
fn inside(r: &str, flags: &[&str], script: &str, fd7: bool) -> Output {
    let mut a = vec!["run", "--rootfs", r];
    a.extend_from_slice(flags);
    a.extend_from_slice(&["sh", "-c", script]);
    let mut c = mydocker(&a);
    if fd7 {
        before_exec(&mut c, host_root_as_fd7);
    }
    c.output().expect("spawn mydocker")
}

fn host_root_as_fd7() -> bool {
    // SAFETY: open and dup2 are async-signal-safe; the path is NUL-terminated.
    unsafe {
        let fd = libc::open(b"/\0".as_ptr().cast(), libc::O_RDONLY | libc::O_DIRECTORY);
        fd >= 0 && libc::dup2(fd, 7) == 7
    }
}

/// Runs `script` in a --privileged mydocker without a rootfs (the host's
/// files, a mount namespace of its own), with $MD the binary under test
/// and $R the rootfs.
fn nested(r: &str, script: &str) -> Output {
    nested_as(r, script, None)
}

/// `nested`, with `hook` run before mydocker starts (an old-kernel filter).
fn nested_as(r: &str, script: &str, hook: Option<fn() -> bool>) -> Output {
    let mut c = mydocker(["run", "--privileged", "sh", "-c", script]);
    c.env("MD", bin()).env("R", r);
    if let Some(h) = hook {
        before_exec(&mut c, h);
    }
    c.output().expect("spawn mydocker")
}

/// Installs a seccomp filter that fails `nrs` with ENOSYS, as a kernel
/// that lacks them would (inherited by mydocker and everything it starts).
/// Async-signal-safe: a stack array and one prctl.
fn deny_syscalls(nrs: &[libc::c_long]) -> bool {
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Insn(u16, u8, u8, u32);
    #[repr(C)]
    struct Prog(u16, *const Insn);
    #[cfg(target_arch = "x86_64")]
    const ARCH: u32 = 0xC000_003E;
    #[cfg(target_arch = "aarch64")]
    const ARCH: u32 = 0xC000_00B7;
    const LD_ABS: u16 = 0x20;
    const JEQ: u16 = 0x15;
    const RET: u16 = 0x06;
    let m = nrs.len().min(8);
    let mut p = [Insn(RET, 0, 0, 0x7fff_0000); 14];
    p[0] = Insn(LD_ABS, 0, 0, 4);
    p[1] = Insn(JEQ, 0, (m + 1) as u8, ARCH);
    p[2] = Insn(LD_ABS, 0, 0, 0);
    for (i, &nr) in nrs.iter().take(m).enumerate() {
        p[3 + i] = Insn(JEQ, (m - i) as u8, 0, nr as u32);
    }
    p[3 + m] = Insn(RET, 0, 0, 0x7fff_0000);
    p[4 + m] = Insn(RET, 0, 0, 0x0005_0000 | libc::ENOSYS as u32);
    let prog = Prog((5 + m) as u16, p.as_ptr());
    // SAFETY: prog points at 5+m valid instructions on this stack frame.
    unsafe { libc::prctl(libc::PR_SET_SECCOMP, 2, &prog as *const Prog) == 0 }
}

/// Linux 5.2 to 5.11: no mount_setattr.
fn like_5_2() -> bool {
    deny_syscalls(&[libc::SYS_mount_setattr])
}

/// Before 5.2: no open_tree, move_mount, openat2, mount_setattr, close_range.
fn like_4_x() -> bool {
    deny_syscalls(&[
        libc::SYS_mount_setattr,
        libc::SYS_open_tree,
        libc::SYS_move_mount,
        libc::SYS_openat2,
        libc::SYS_close_range,
        libc::SYS_clone3,
    ])
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mydocker-ways-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The options field (6th) of the mountinfo line for mount point `at`.
fn options(mountinfo: &str, at: &str) -> Vec<String> {
    let l = mountinfo
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some(at))
        .last()
        .unwrap_or_else(|| panic!("no mount at {at} in:\n{mountinfo}"));
    l.split(' ').nth(5).unwrap().split(',').map(String::from).collect()
}

fn has_all(opts: &[String], want: &[&str], what: &str) {
    for w in want {
        assert!(opts.iter().any(|o| o == w), "{what}: {w} missing from {opts:?}");
    }
}

fn workdir_through_inherited_fd(r: &str) {
    let o = inside(r, &["-w", "/proc/self/fd/7"], "pwd; head -1 etc/os-release", true);
    assert_eq!(stdout(&o), "", "the command ran with a cwd through fd 7");
    fails(&o, 125, "workdir: /proc/self/fd/7");
}

fn workdir_through_stdin(r: &str) {
    let host_root = std::fs::File::open("/").unwrap();
    let o = mydocker(["run", "--rootfs", r, "-w", "/proc/self/fd/0", "sh", "-c", "pwd; ls"])
        .stdin(Stdio::from(host_root))
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "", "the command ran with its cwd on the host");
    fails(&o, 125, "workdir: /proc/self/fd/0: No such file or directory (it lies outside the container's root)");
    // The same through a symlink the image ships: the check is on where
    // the directory is, not on how it was named.
    let name = format!("wlink-{}", std::process::id());
    let link = Path::new(r).join(&name);
    std::os::unix::fs::symlink("/proc/self/fd/0", &link).unwrap();
    let o = mydocker(["run", "--rootfs", r, "-w", &format!("/{name}"), "sh", "-c", "pwd; ls"])
        .stdin(Stdio::from(std::fs::File::open("/").unwrap()))
        .output()
        .unwrap();
    std::fs::remove_file(&link).unwrap();
    assert_eq!(stdout(&o), "", "the command ran with its cwd on the host");
    fails(&o, 125, "(it lies outside the container's root)");
}

fn command_through_inherited_fd(r: &str) {
    // The rootfs's own static busybox, reached from the host's "/": it
    // would run if fd 7 were still open while the command is looked up.
    let sh = format!("/proc/self/fd/7{r}/bin/sh");
    let mut c = mydocker(["run", "--rootfs", r, &sh, "-c", "echo escaped"]);
    before_exec(&mut c, host_root_as_fd7);
    let o = c.output().unwrap();
    assert_eq!(stdout(&o), "");
    fails(&o, 127, &format!("exec: {sh}"));
}

fn volume_through_proc_fd(r: &str) {
    let src = tmpdir("procfd-src");
    // fd 7 is closed before any mount; /proc/self/root and cwd are magic
    // links to the host's "/" and the caller's cwd: refused, though other
    // symlinks are followed inside the rootfs.
    for (dst, why) in [("fd/7", "mount: "), ("root", "Symbolic link loop"), ("cwd", "Symbolic link loop")] {
        let o = inside(r, &["-v", &format!("{}:/proc/self/{dst}/mnt-escape", src.display())], "true", true);
        fails(&o, 125, why);
    }
    assert!(!Path::new("/mnt-escape").exists(), "a mount point was made on the host");
    assert!(!Path::new("mnt-escape").exists(), "a mount point was made in the caller's cwd");
    std::fs::remove_dir_all(&src).unwrap();
}

fn command_fds_with_limits(r: &str) {
    if cgroup_dir("pids").is_none() && cgroup_dir("memory").is_none() {
        eprintln!("SKIP only_fds_0_1_2_reach_the_command_with_limits_set: no pids or memory controller");
        return;
    }
    let limit = if cgroup_dir("pids").is_some() { ["--pids-limit", "50"] } else { ["-m", "64m"] };
    for flags in [&limit[..], &[][..]] {
        let o = inside(r, flags, "ls /proc/$$/fd; true", true);
        assert_eq!(ok(&o), "0\n1\n2\n", "with {flags:?}");
    }
    // While the working directory is resolved, no fd mydocker opened
    // itself (its cgroup directories, its pipes) is there to lead out.
    for n in 3..=12 {
        let w = format!("/proc/self/fd/{n}");
        let mut a = limit.to_vec();
        a.extend_from_slice(&["-w", &w]);
        let o = inside(r, &a, "pwd", false);
        assert_eq!((code(&o), stdout(&o)), (125, String::new()), "-w {w}: {}", stderr(&o));
    }
}

fn reaper_fds(r: &str) {
    let script = "ls /proc/1/fd 2>/dev/null | wc -l; cat /proc/1/environ >/dev/null 2>&1 && echo readable || echo denied; \
                  readlink /proc/1/cwd >/dev/null 2>&1 && echo cwd || echo denied; read x; true";
    let mut c = mydocker(["run", "--rootfs", r, "--init", "sh", "-c", script]);
    before_exec(&mut c, host_root_as_fd7);
    let mut c = c.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let me = c.id();
    let mut reaper = 0;
    eventually("the reaper to start", || {
        reaper = children(me).first().copied().unwrap_or(0);
        reaper != 0 && children(reaper).len() == 1
    });
    // From the host (which may look): the reaper holds no fd at all — once
    // it has closed them, right after its fork (bounded wait: one that
    // keeps any fails).
    eventually("the reaper to hold no fd", || {
        std::fs::read_dir(format!("/proc/{reaper}/fd")).map_or(false, |d| d.count() == 0)
    });
    drop(c.stdin.take());
    let o = c.wait_with_output().unwrap();
    // From inside: nothing to list, and not even that can be looked at.
    assert_eq!(ok(&o), "0\ndenied\ndenied\n");
}

fn ro_volume_flags_and_submounts(r: &str) {
    let d = tmpdir("rovol");
    let script = format!(
        "set -e; mount -t tmpfs -o nosuid,nodev,noexec,noatime src {d}; mkdir {d}/sub; mount -t tmpfs sub {d}/sub; \
         exec $MD run --rootfs $R -v {d}:/v:ro sh -c 'cat /proc/self/mountinfo; touch /v/sub/x 2>&1; touch /v/x 2>&1; true'",
        d = d.display()
    );
    let out = ok(&nested(r, &script));
    has_all(&options(&out, "/v"), &["ro", "nosuid", "nodev", "noexec", "noatime"], "the ro volume");
    has_all(&options(&out, "/v/sub"), &["ro"], "the mount below the ro volume");
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}

fn read_only_root_flags_and_submounts(r: &str) {
    let rw = tmpdir("rorw");
    let script = format!(
        "set -e; mount --bind $R $R; mount -o remount,bind,nosuid,nodev $R; mount -t tmpfs below $R/tmp; \
         exec $MD run --rootfs $R --read-only --tmpfs /scratch -v {rw}:/out sh -c \
         'cat /proc/self/mountinfo; touch /tmp/x 2>&1; touch /x 2>&1; touch /scratch/x /out/x && echo writable'",
        rw = rw.display()
    );
    let out = ok(&nested(r, &script));
    has_all(&options(&out, "/"), &["ro", "nosuid", "nodev"], "the read-only root");
    has_all(&options(&out, "/tmp"), &["ro"], "a mount the rootfs came with");
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out}");
    assert!(out.ends_with("writable\n"), "--tmpfs and a rw volume stay writable: {out}");
    assert!(rw.join("x").exists());
    std::fs::remove_dir_all(&rw).unwrap();
}

fn proc_and_sys_flags(r: &str) {
    let out = ok(&inside(r, &[], "cat /proc/self/mountinfo", false));
    for at in ["/proc/sys", "/proc/irq", "/proc/bus", "/proc/sysrq-trigger", "/sys", "/sys/firmware"] {
        if out.lines().any(|l| l.split(' ').nth(4) == Some(at)) {
            has_all(&options(&out, at), &["ro", "nosuid", "nodev", "noexec"], at);
        } else {
            assert!(at != "/proc/sys" && at != "/sys", "{at} is not mounted:\n{out}");
        }
    }
}

/// Each kind of target crossing a symlink planted in the rootfs toward a
/// host directory: resolved inside the rootfs (as runc's securejoin), the
/// host's path made and mounted there, nothing made or mounted on the host.
fn symlinked_targets(r: &str) {
    let host = tmpdir("host");
    std::fs::write(host.join("file"), "host file").unwrap();
    let src = tmpdir("src");
    std::fs::write(src.join("f"), "volume file").unwrap();
    let tag = std::process::id();
    let dirlink = format!("evil-dir-{tag}");
    let filelink = format!("evil-file-{tag}");
    std::os::unix::fs::symlink(&host, Path::new(r).join(&dirlink)).unwrap();
    std::os::unix::fs::symlink(host.join("file"), Path::new(r).join(&filelink)).unwrap();
    let (s, h) = (src.display(), host.display());
    let mounted = |at: &str| format!("grep -c ' {h}{at} ' /proc/self/mountinfo");
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (vec!["-v".into(), format!("{s}:/{dirlink}/x")], format!("cat {h}/x/f"), "volume file"),
        (vec!["-v".into(), format!("{s}:/{dirlink}")], format!("cat {h}/f"), "volume file"),
        (vec!["-v".into(), format!("{s}/f:/{filelink}")], format!("cat {h}/file"), "volume file"),
        (vec!["-v".into(), format!("{s}:/{dirlink}/x:ro")], format!("touch {h}/x/f 2>/dev/null || cat {h}/x/f"), "volume file"),
        (vec!["--tmpfs".into(), format!("/{dirlink}/t")], mounted("/t"), "1"),
        (vec!["--tmpfs".into(), format!("/{dirlink}")], mounted(""), "1"),
    ];
    let inner = Path::new(r).join(&host.to_str().unwrap()[1..]);
    for (flags, script, want) in &cases {
        let f: Vec<&str> = flags.iter().map(String::as_str).collect();
        let o = inside(r, &f, script, false);
        assert_eq!(ok(&o).trim_end(), *want, "{flags:?}");
        assert!(inner.exists(), "{flags:?}: not made inside the rootfs");
    }
    let _ = std::fs::remove_file(Path::new(r).join(&dirlink));
    let _ = std::fs::remove_file(Path::new(r).join(&filelink));
    let _ = std::fs::remove_dir_all(&inner);
    let left: Vec<_> = std::fs::read_dir(&host).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, ["file"], "something was made on the host");
    assert_eq!(std::fs::read_to_string(host.join("file")).unwrap(), "host file");
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mi.contains(&host.display().to_string()), "a mount landed on the host");
    std::fs::remove_dir_all(&host).unwrap();
    std::fs::remove_dir_all(&src).unwrap();
}

/// A thread keeps swapping a directory of the rootfs for a symlink to a
/// host directory while containers mount below it: whichever wins, nothing
/// is ever made or mounted on the host.
fn swapped_targets(r: &str) {
    let host = tmpdir("swap-host");
    let src = tmpdir("swap-src");
    let name = format!("flip-{}", std::process::id());
    let flip = Path::new(r).join(&name);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let (flip, host, stop) = (flip.clone(), host.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = std::fs::create_dir(&flip);
                let _ = std::fs::remove_dir(&flip);
                let _ = std::os::unix::fs::symlink(&host, &flip);
                let _ = std::fs::remove_file(&flip);
            }
        })
    };
    let v = format!("{}:/{name}/x", src.display());
    let t = format!("/{name}/t");
    for _ in 0..30 {
        let o = inside(r, &["-v", &v, "--tmpfs", &t], "true", false);
        assert!(matches!(code(&o), 0 | 125), "{}", stderr(&o));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flipper.join().unwrap();
    let _ = std::fs::remove_file(&flip);
    let _ = std::fs::remove_dir_all(&flip);
    // Where the symlink won: the host's path, made inside the rootfs.
    let _ = std::fs::remove_dir_all(Path::new(r).join(&host.to_str().unwrap()[1..]));
    let left: Vec<_> = std::fs::read_dir(&host).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "made on the host: {left:?}");
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mi.contains(&host.display().to_string()), "a mount landed on the host");
    std::fs::remove_dir_all(&host).unwrap();
    std::fs::remove_dir_all(&src).unwrap();
}

fn read_only_new_workdir(r: &str) {
    let w = format!("/newdir-{}", std::process::id());
    let o = run(["run", "--rootfs", r, "--read-only", "-w", &w, "pwd"]);
    let _ = std::fs::remove_dir(format!("{r}{w}"));
    assert_eq!(ok(&o), format!("{w}\n"));
}

fn volumes_work(r: &str) {
    let rw = tmpdir("rw");
    let ro = tmpdir("ro");
    std::fs::write(ro.join("in"), "from host").unwrap();
    let o = inside(
        r,
        &[
            "-v",
            &format!("{}:/out", rw.display()),
            "-v",
            &format!("{}:/in:ro", ro.display()),
            "-v",
            &format!("{}/in:/etc/in:ro", ro.display()),
            "--tmpfs",
            "/scratch",
        ],
        "echo written > /out/f && cat /in/in /etc/in && touch /scratch/x && echo ok",
        false,
    );
    assert_eq!(ok(&o), "from hostfrom hostok\n");
    assert_eq!(std::fs::read_to_string(rw.join("f")).unwrap(), "written\n");
    std::fs::remove_dir_all(&rw).unwrap();
    std::fs::remove_dir_all(&ro).unwrap();
}

fn default_devices(r: &str) {
    let script = "echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && \
                  head -c 4 /dev/random | wc -c && { echo x > /dev/full; } 2>&1 | grep -c 'No space'";
    assert_eq!(ok(&inside(r, &[], script, false)), "4\n4\n4\n1\n");
}

fn workdir_inside(r: &str) {
    assert_eq!(ok(&inside(r, &["-w", "/tmp"], "pwd", true)), "/tmp\n");
    assert_eq!(ok(&inside(r, &["-w", "/dev/shm"], "pwd", true)), "/dev/shm\n");
}

/// A ro volume whose source has a submount, and --read-only over a rootfs
/// with one, under `hook`: flags kept, and nothing below either writable
/// (the submount is read-only, or not there at all).
fn ro_without_new_calls(r: &str, hook: fn() -> bool, tag: &str) {
    let d = tmpdir(tag);
    let script = format!(
        "set -e; mount -t tmpfs -o nosuid,nodev,noexec,noatime src {d}; mkdir {d}/sub; mount -t tmpfs sub {d}/sub; \
         mount --bind $R $R; mount -o remount,bind,nosuid,nodev $R; mount -t tmpfs below $R/tmp; \
         exec $MD run --rootfs $R --read-only -v {d}:/v:ro sh -c \
         'cat /proc/self/mountinfo; for f in /v/x /v/sub/x /x /tmp/x; do touch $f 2>/dev/null && echo \"$f writable\"; done; true'",
        d = d.display()
    );
    let out = ok(&nested_as(r, &script, Some(hook)));
    has_all(&options(&out, "/v"), &["ro", "nosuid", "nodev", "noexec", "noatime"], "the ro volume");
    has_all(&options(&out, "/"), &["ro", "nosuid", "nodev"], "the read-only root");
    for at in ["/v/sub", "/tmp"] {
        if out.lines().any(|l| l.split(' ').nth(4) == Some(at)) {
            has_all(&options(&out, at), &["ro"], at);
        }
    }
    assert!(!out.contains("writable"), "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}

fn old_kernel_read_only(r: &str) {
    ro_without_new_calls(r, like_5_2, "ro-5-2");
}

fn older_kernel_ways(r: &str) {
    ro_without_new_calls(r, like_4_x, "ro-4-x");
    // The fd, symlink and workdir rows, under the same filter, from a
    // nested mydocker (its own children inherit the filter).
    let host = tmpdir("old-host");
    let src = tmpdir("old-src");
    let link = Path::new(r).join(format!("old-evil-{}", std::process::id()));
    std::os::unix::fs::symlink(&host, &link).unwrap();
    let name = link.file_name().unwrap().to_string_lossy().into_owned();
    let w = format!("/newdir-old-{}", std::process::id());
    let script = format!(
        "exec 7</; $MD run --rootfs $R -w /proc/self/fd/7 pwd; echo \"fd7 $?\"; \
         $MD run --rootfs $R -v {src}:/{name}/x true; echo \"link $?\"; \
         $MD run --rootfs $R --read-only -w {w} pwd; \
         $MD run --rootfs $R -v {src}:/out sh -c 'ls /proc/$$/fd; echo hi > /out/f'",
        src = src.display()
    );
    let o = nested_as(r, &script, Some(like_4_x));
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_dir(format!("{r}{w}"));
    // The walk follows the link inside the rootfs: the host's path made there.
    let inner = Path::new(r).join(&host.to_str().unwrap()[1..]);
    let made = inner.join("x").is_dir();
    let _ = std::fs::remove_dir_all(&inner);
    let out = ok(&o);
    assert_eq!(out, format!("fd7 125\nlink 0\n{w}\n0\n1\n2\n"), "{}", stderr(&o));
    assert!(made, "the link's target was not made inside the rootfs");
    assert_eq!(std::fs::read_to_string(src.join("f")).unwrap(), "hi\n");
    assert_eq!(std::fs::read_dir(&host).unwrap().count(), 0, "something was made on the host");
    std::fs::remove_dir_all(&host).unwrap();
    std::fs::remove_dir_all(&src).unwrap();
}

/// Opens /dev-less path P for reading and writing inside; each line must
/// say the device policy refused it (EPERM), whatever driver is behind.
fn refused(r: &str, flags: &[&str], setup: &str, p: &str) {
    let script = format!(
        "{setup} for m in r w; do if [ $m = r ]; then e=$( (exec 3<{p}) 2>&1 ); else e=$( (exec 3>{p}) 2>&1 ); fi; \
         echo \"$m ${{e:-OPENED}}\"; done"
    );
    let out = ok(&inside(r, flags, &script, false));
    assert_eq!(out.lines().count(), 2, "{out}");
    for l in out.lines() {
        assert!(l.contains("Operation not permitted"), "{p} reached: {l}");
    }
}

fn char_device_made_inside(r: &str) {
    // kvm and mem numbers: the node is made (m is allowed), never opened.
    refused(r, &[], "mknod /dev/kvm c 10 232 || exit 9;", "/dev/kvm");
    refused(r, &[], "mknod /dev/mem c 1 1 || exit 9;", "/dev/mem");
}

fn block_device_made_inside(r: &str) {
    refused(r, &[], "mknod /dev/sda b 8 0 || exit 9;", "/dev/sda");
}

fn device_node_in_rootfs(r: &str) {
    // A node the image itself ships (made on the host, outside /dev, where
    // mydocker's fresh /dev does not cover it).
    let name = format!("ways-out-kvm-{}", std::process::id());
    let node = Path::new(r).join(&name);
    let c = std::ffi::CString::new(node.to_str().unwrap()).unwrap();
    // SAFETY: mknod with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(10, 232)) }, 0);
    let r2 = r.to_string();
    let res = std::panic::catch_unwind(|| refused(&r2, &[], "", &format!("/{name}")));
    let _ = std::fs::remove_file(&node);
    res.unwrap();
}

fn device_as_volume(r: &str) {
    // A host device bound in as a file volume is still a device.
    refused(r, &["-v", "/dev/kmsg:/kmsg"], "", "/kmsg");
}

/// The attacker (this binary, bound in) pushes a command into the terminal
/// mydocker was started from; it must be refused and the caller's input
/// queue stay empty.
fn tiocsti_refused(r: &str) {
    let exe = std::env::current_exe().unwrap();
    let vol = format!("{}:/attacker:ro", exe.display());
    // -e: an image run gets none of the caller's environment.
    let args = ["run", "--rootfs", r, "-e", "MYDOCKER_TTY_ROLE", "-v", &vol, "/attacker"];
    let (report, queued) = pty::attack(pty::md(&args));
    pty::check_refused(&args, &report, queued);
}

/// `-ti --rootfs R sh` from a terminal: a shell on a terminal of its own,
/// its exit status, the caller's terminal as it was.
fn ti_shell(r: &str) {
    let mut t = pty::pty(24, 80);
    let before = t.termios();
    let mut c = t.spawn(pty::md(&["run", "-ti", "--rootfs", r, "sh"]));
    let mut seen = String::new();
    t.type_in("tty; echo A$((1+1))B; exit 4\n");
    t.expect(&mut seen, "A2B");
    assert_eq!(pty::finish(&mut c, &seen), 4, "{seen}");
    assert!(seen.contains("/dev/pts/"), "{seen}");
    assert!(pty::same_mode(&t.termios(), &before), "the caller's terminal was not restored");
}
