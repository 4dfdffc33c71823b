//! `features`, `spec`, `--version`: what this runtime supports, a default
//! config, and the version in runc's shape (go-runc and podman parse the
//! "commit:" and "spec:" lines).
use super::flags::{self, Flags};
use super::jw::W;
use super::query::oci_version;
use super::{fail1, fail_e, Global};
use crate::cli::Args;
use crate::sys;

pub fn version() -> i32 {
    const TEXT: &str = concat!(
        "mydocker version ",
        env!("CARGO_PKG_VERSION"),
        "\ncommit: ",
        env!("MYDOCKER_COMMIT"),
        "\nspec: ",
        oci_version!(),
        "\n"
    );
    let mut w = W::new(1);
    w.s(TEXT.as_bytes());
    w.done(b"--version")
}

/// runtime-spec features.md.
pub fn features(_: &Global, args: &dyn Args, from: usize) -> i32 {
    if let Err(code) = flags::parse_for(args, from, flags::NONE) {
        return code;
    }
    let mut w = W::new(1);
    w.s(concat!(
        "{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"",
        oci_version!(),
        "\",\"hooks\":[],\"mountOptions\":"
    )
    .as_bytes());
    list(&mut w, b"", super::mounts::WORDS);
    w.s(b",\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"uts\"],\"capabilities\":");
    list(&mut w, b"CAP_", crate::caps::WORDS);
    w.s(b",\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false},");
    w.s(b"\"seccomp\":{\"enabled\":true,\"actions\":");
    list(&mut w, b"SCMP_ACT_", SCMP_ACTS);
    w.s(b",\"operators\":");
    list(&mut w, b"SCMP_CMP_", SCMP_CMPS);
    w.s(b",\"archs\":");
    list(&mut w, b"SCMP_ARCH_", SCMP_ARCHS);
    w.s(b",\"knownFlags\":");
    list(&mut w, b"SECCOMP_FILTER_FLAG_", SECCOMP_FLAGS);
    w.s(b",\"supportedFlags\":");
    list(&mut w, b"SECCOMP_FILTER_FLAG_", SECCOMP_FLAGS);
    w.s(b"},\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false}}}\n");
    w.done(b"features")
}

/// What src/seccomp/profile.rs accepts (runtime-spec features.md,
/// linux.seccomp): actions, operators, architectures (those this host
/// cannot run are accepted and skipped, as libseccomp does) and filter
/// flags, without their prefixes.
const SCMP_ACTS: &[u8] = b"ALLOW ERRNO KILL KILL_THREAD KILL_PROCESS TRAP LOG TRACE";
const SCMP_CMPS: &[u8] = b"NE LT LE EQ GE GT MASKED_EQ";
const SCMP_ARCHS: &[u8] = b"X86_64 X86 X32 AARCH64 ARM MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 PPC PPC64 \
PPC64LE S390 S390X PARISC PARISC64 RISCV64 LOONGARCH64 M68K SH SHEB";
const SECCOMP_FLAGS: &[u8] = b"TSYNC LOG SPEC_ALLOW";

/// `["<prefix><word>",...]` for each word of `words`.
#[inline(never)]
fn list(w: &mut W, prefix: &[u8], words: &[u8]) {
    for (i, n) in words.split(crate::words::on(b' ')).enumerate() {
        w.s(if i > 0 { b",\"" } else { b"[\"" }).s(prefix).s(n).s(b"\"");
    }
    w.s(b"]");
}

/// What `spec` writes: runc's default shape, with mydocker's choices (a
/// shell, no terminal: `run -d` and tests need none). Its repeated pieces
/// are the bytes 1..=7, word 0..=6 of SPEC_PIECES ('|'-separated).
const DEFAULT_SPEC: &[u8] =
    b"{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":\
[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xte\
rm\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\x01],\"effective\":[\x01],\"permitted\":[\x01\
]},\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true\
},\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"mydocker\",\"mounts\":[\x02/proc\
\x03proc\x04proc\"},\x02/dev\x03tmpfs\x04tmpfs\x05\"strictatime\",\"mode=755\",\"size=65536k\"]},\
\x02/dev/pts\x03devpts\x04devpts\x05\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},\
\x02/dev/shm\x03tmpfs\x04shm\x05\x06,\"mode=1777\",\"size=65536k\"]},\x02/dev/mqueue\x03mqueue\x04\
mqueue\x05\x06]},\x02/sys\x03sysfs\x04sysfs\x05\x06,\"ro\"]}],\"linux\":{\"namespaces\":[{\"type\"\
:\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}],\"mas\
kedPaths\":[\x07acpi\",\x07asound\",\x07kcore\",\x07keys\",\x07latency_stats\",\x07timer_list\",\
\x07timer_stats\",\x07sched_debug\",\"/sys/firmware\",\x07scsi\"],\"readonlyPaths\":[\x07bus\",\
\x07fs\",\x07irq\",\x07sys\",\x07sysrq-trigger\"]}}\n";
const SPEC_PIECES: &[u8] = b"\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"|{\"destination\":\"|\",\"type\":\"|\",\"source\":\"|\",\"options\":[\"nosuid\",|\"noexec\",\"nodev\"|\"/proc/";

/// DEFAULT_SPEC with its pieces in place, into `out`; the length.
fn default_spec(out: &mut [u8; 2048]) -> usize {
    let mut n = 0;
    for &c in DEFAULT_SPEC {
        let piece: &[u8] = if c < 8 { crate::words::nth_of(SPEC_PIECES, b'|', c as usize - 1) } else { &[c] };
        out[n..n + piece.len()].copy_from_slice(piece);
        n += piece.len();
    }
    n
}

const SPEC_FLAGS: Flags = Flags { names: b"bundle b|rootless", takes: 1 };

pub fn spec(_: &Global, args: &dyn Args, from: usize) -> i32 {
    let parsed = flags::parse_for(args, from, SPEC_FLAGS);
    let p = match &parsed {
        Ok(p) if p.npos == 0 => p,
        Ok(_) => return fail1(b"usage: spec [--bundle DIR]"),
        Err(code) => return *code,
    };
    if p.has(1) {
        return fail1(b"--rootless: user namespaces are not supported");
    }
    let dir = p.vals[0].unwrap_or(b".");
    let d = match sys::openat(sys::CWD, dir, libc::O_RDONLY | libc::O_DIRECTORY) {
        Ok(d) => d,
        Err(e) => return fail_e(dir, e),
    };
    let r = sys::openat(d, b"config.json", libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL);
    sys::close(d);
    let fd = match r {
        Ok(fd) => fd,
        Err(crate::sys::Errno(libc::EEXIST)) => return fail1(b"File config.json exists. Remove it first"),
        Err(e) => return fail_e(b"config.json", e),
    };
    let mut text = [0u8; 2048];
    let n = default_spec(&mut text);
    let r = sys::write_all(fd, &text[..n]);
    sys::close(fd);
    match r {
        Ok(()) => 0,
        Err(e) => fail_e(b"config.json", e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_spec_expands_to_runcs_shape() {
        let mut out = [0u8; 2048];
        let n = super::default_spec(&mut out);
        let v: serde_json::Value = serde_json::from_slice(&out[..n]).unwrap();
        assert_eq!(v["process"]["capabilities"]["permitted"][2], "CAP_NET_BIND_SERVICE");
        assert_eq!(v["mounts"][5]["options"], serde_json::json!(["nosuid", "noexec", "nodev", "ro"]));
        assert_eq!(v["linux"]["readonlyPaths"][4], "/proc/sysrq-trigger");
        assert!(out[..n].iter().all(|&c| c >= b' ' || c == b'\n'), "a piece byte left unexpanded");
        assert!(out[..n].ends_with(b"}}\n"));
    }
}
