//! Inside a chroot, `/` is a directory, not a mount: `chroot R /mydocker
//! run /bin/echo hi` works — `/` is bound onto itself first — unless that
//! bind could show outside the chroot (the mount around it is shared, or
//! the kernel cannot tell), and then one line says why and what to do.
//! Either way nothing is left mounted.
mod common;
use common::*;
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One test at a time: a binary being copied in one thread while another
/// forks keeps a write fd open in the fork, and exec of it fails ETXTBSY.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A chroot directory `base/R` with mydocker at /mydocker and busybox.
fn jail(tag: &str) -> Option<(PathBuf, PathBuf)> {
    let busybox = PathBuf::from(std::env::var("MYDOCKER_ROOTFS").ok()?).join("bin/busybox");
    if !busybox.exists() {
        return None;
    }
    let base = std::env::temp_dir().join(format!("mydocker-chroot-{tag}-{}", std::process::id()));
    let r = base.join("R");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(r.join("bin")).unwrap();
    std::fs::create_dir_all(r.join("proc")).unwrap();
    std::fs::copy(&busybox, r.join("bin/busybox")).unwrap();
    std::fs::copy(bin(), r.join("mydocker")).unwrap();
    for a in ["sh", "echo", "pwd", "wc", "cat"] {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).unwrap();
    }
    Some((base, r))
}

/// Whether this kernel has statmount(2) (Linux 6.8), which mydocker asks.
fn kernel_can_tell() -> bool {
    // SAFETY: a null request fails before anything is read: EFAULT or
    // EINVAL where the call exists, ENOSYS where it does not.
    let r = unsafe { libc::syscall(457, 0usize, 0usize, 0usize, 0usize) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
}

/// Runs `script` with /bin/sh chrooted into `r`, in a mount namespace of
/// its own where `base` (around the chroot) is a mount that is `shared` or
/// private, and /proc is mounted in the chroot.
fn in_chroot(base: &Path, r: &Path, shared: bool, script: &str) -> std::process::Output {
    let c = |p: &Path| CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let (base_c, r_c, proc_c) = (c(base), c(r), c(&r.join("proc")));
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]);
    // SAFETY: only raw syscalls on memory prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let none = std::ptr::null::<libc::c_char>();
            let ok = libc::unshare(libc::CLONE_NEWNS) == 0
                && libc::mount(none, c"/".as_ptr(), none, libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) == 0
                && libc::mount(base_c.as_ptr(), base_c.as_ptr(), none, libc::MS_BIND, std::ptr::null()) == 0
                && libc::mount(
                    none,
                    base_c.as_ptr(),
                    none,
                    if shared { libc::MS_SHARED } else { libc::MS_PRIVATE },
                    std::ptr::null(),
                ) == 0
                && libc::mount(c"proc".as_ptr(), proc_c.as_ptr(), c"proc".as_ptr(), 0, std::ptr::null()) == 0
                && libc::chroot(r_c.as_ptr()) == 0
                && libc::chdir(c"/".as_ptr()) == 0;
            if ok {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    cmd.output().expect("spawn the chrooted shell")
}

/// The script: run mydocker in the chroot and count the chroot's mounts
/// before and after.
const SCRIPT: &str = "n=$(wc -l </proc/self/mountinfo); /mydocker run /bin/echo hi; echo rc=$?; \
                      cd /bin && /mydocker run pwd; echo mounts $n $(wc -l </proc/self/mountinfo)";

const WHY: &str = "mydocker: mount: / is not a mount point (inside a chroot?): binding it onto itself: \
                   Invalid argument (the mount around it is shared, or this kernel cannot tell (statmount, \
                   Linux 6.8), and a bind would show outside: make the chroot directory a private mount \
                   first (mount --bind DIR DIR; mount --make-private DIR))\n";

fn mounts_unchanged(out: &str) {
    let last = out.lines().last().unwrap_or_default();
    let f: Vec<&str> = last.split_whitespace().collect();
    assert!(f.len() == 3 && f[0] == "mounts" && f[1] == f[2], "mounts changed: {out}");
}

#[test]
fn in_a_chroot_whose_surrounding_mount_is_private_run_works_and_leaves_no_mount() {
    need_root!();
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((base, r)) = jail("private") else {
        eprintln!("SKIP {}: no busybox in $MYDOCKER_ROOTFS", module_path!());
        return;
    };
    let o = in_chroot(&base, &r, false, SCRIPT);
    let out = stdout(&o);
    if kernel_can_tell() {
        assert!(out.starts_with("hi\nrc=0\n/bin\nmounts "), "{out}\n{}", stderr(&o));
        assert_eq!(stderr(&o), "");
    } else {
        // Before statmount (Linux 6.8) nothing can prove the bind stays inside.
        assert!(out.starts_with("rc=125\n"), "{out}");
        assert!(stderr(&o).starts_with(WHY), "{}", stderr(&o));
    }
    mounts_unchanged(&out);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn in_a_chroot_whose_surrounding_mount_is_shared_run_says_why_and_mounts_nothing() {
    need_root!();
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((base, r)) = jail("shared") else {
        eprintln!("SKIP {}: no busybox in $MYDOCKER_ROOTFS", module_path!());
        return;
    };
    let o = in_chroot(&base, &r, true, SCRIPT);
    let out = stdout(&o);
    assert!(out.starts_with("rc=125\n"), "{out}");
    assert_eq!(stderr(&o), format!("{WHY}{WHY}"));
    mounts_unchanged(&out);
    std::fs::remove_dir_all(&base).unwrap();
}
