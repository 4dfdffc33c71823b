//! `features`, `spec`, `--version`: what this runtime supports, a default
//! config, and the version in runc's shape (go-runc and podman parse the
//! "commit:" and "spec:" lines).
use super::flags::{self, Flags};
use super::jw::W;
use super::query::OCI_VERSION;
use super::{fail, fail1, fail2, Global};
use crate::cli::Args;
use crate::sys;

pub fn version() -> i32 {
    let mut w = W::new(1);
    w.s(b"mydocker version ").s(crate::VERSION.as_bytes()).s(b"\ncommit: ").s(crate::COMMIT.as_bytes());
    w.s(b"\nspec: ").s(OCI_VERSION).s(b"\n");
    w.done()
}

/// runtime-spec features.md.
pub fn features(_: &Global, args: &dyn Args, from: usize) -> i32 {
    if let Err(b) = flags::parse(args, from, flags::NONE) {
        return fail(b"features", &[b.why, b": ", b.arg]);
    }
    let mut w = W::new(1);
    w.s(b"{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":").q(OCI_VERSION).s(b",\"hooks\":[],\"mountOptions\":[");
    let names = super::mounts::WORDS.split(crate::words::on(b' '));
    for (i, n) in names.enumerate() {
        w.s(if i > 0 { b"," } else { b"" }).q(n);
    }
    w.s(b"],\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"uts\"],\"capabilities\":[");
    for (i, n) in crate::caps::WORDS.split(crate::words::on(b' ')).enumerate() {
        w.s(if i > 0 { b",\"CAP_" } else { b"\"CAP_" }).s(n).s(b"\"");
    }
    w.s(b"],\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false},");
    w.s(b"\"seccomp\":{\"enabled\":false},\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false}}}\n");
    w.done()
}

/// What `spec` writes: runc's default shape, with mydocker's choices (a
/// shell, no terminal: `run -d` and tests need none).
const DEFAULT_SPEC: &[u8] = br#"{"ociVersion":"1.2.0","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"mydocker","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}],"linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],"maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/scsi"],"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}
"#;

const SPEC_FLAGS: Flags = Flags { names: b"bundle b|rootless", takes: 1 };

pub fn spec(_: &Global, args: &dyn Args, from: usize) -> i32 {
    let p = match flags::parse(args, from, SPEC_FLAGS) {
        Ok(p) if p.npos == 0 => p,
        Ok(_) => return fail1(b"spec", b"usage: spec [--bundle DIR]"),
        Err(b) => return fail(b"spec", &[b.why, b": ", b.arg]),
    };
    if p.has(1) {
        return fail1(b"spec", b"--rootless: user namespaces are not supported");
    }
    let dir = p.vals[0].unwrap_or(b".");
    let d = match sys::openat(sys::CWD, dir, libc::O_RDONLY | libc::O_DIRECTORY) {
        Ok(d) => d,
        Err(e) => return fail(b"spec", &[dir, b": ", sys::strerror(e)]),
    };
    let r = sys::openat(d, b"config.json", libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL);
    sys::close(d);
    let fd = match r {
        Ok(fd) => fd,
        Err(crate::sys::Errno(libc::EEXIST)) => return fail1(b"spec", b"File config.json exists. Remove it first"),
        Err(e) => return fail2(b"spec", b"config.json: ", sys::strerror(e)),
    };
    let r = sys::write_all(fd, DEFAULT_SPEC);
    sys::close(fd);
    match r {
        Ok(()) => 0,
        Err(e) => fail2(b"spec", b"config.json: ", sys::strerror(e)),
    }
}
