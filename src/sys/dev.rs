//! Devices: host nodes for `--device` (stat, mknod), and bpf(2) for the
//! cgroup v2 device policy — load a BPF_PROG_TYPE_CGROUP_DEVICE program
//! (built by devices::Policy::program) and attach it to a cgroup. Raw
//! syscalls: musl has no bpf wrapper, and no library is used.
use super::{close, cptr, cvt, retry, stat_at, Errno, Fd};

/// mknodat(dir, name, mode, makedev(major, minor)); mode carries S_IFCHR,
/// S_IFBLK or S_IFIFO and the permissions (the umask still applies: see
/// own_at).
pub fn mknod_at(dir: Fd, name: &[u8], mode: u32, major: u32, minor: u32) -> Result<(), Errno> {
    let p = cptr(name)?;
    // SAFETY: p is NUL-terminated; makedev only computes a number.
    cvt(unsafe { sc!(libc::SYS_mknodat, dir, p, mode, libc::makedev(major, minor)) }).map(|_| ())
}

/// Gives a node just made in `dir` its exact permissions (mknod's are cut
/// by the umask) and its owner, without following a symlink.
pub fn own_at(dir: Fd, name: &[u8], mode: u32, uid: u32, gid: u32) -> Result<(), Errno> {
    let p = cptr(name)?;
    // SAFETY: p is NUL-terminated; plain syscalls with integer arguments.
    unsafe {
        cvt(sc!(libc::SYS_fchownat, dir, p, uid, gid, libc::AT_SYMLINK_NOFOLLOW))?;
        // The raw syscall: musl's fchmodat carries an AT_SYMLINK_NOFOLLOW
        // emulation (fstatat, /proc/self/fd) we never ask for.
        cvt(sc!(libc::SYS_fchmodat, dir, p, mode & 0o7777)).map(|_| ())
    }
}

/// A host device node: its type bits and permissions (st_mode) and numbers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Node {
    pub mode: u32,
    pub major: u32,
    pub minor: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Node {
    pub fn block(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFBLK
    }
}

/// The device node at `path` (symlinks followed, as docker does for
/// /dev/disk/by-id/...). ENODEV: it is not a character or block device.
pub fn node(path: &[u8]) -> Result<Node, Errno> {
    let st = stat_at(path, true)?;
    match st.st_mode & libc::S_IFMT {
        libc::S_IFCHR | libc::S_IFBLK => Ok(Node {
            mode: st.st_mode,
            major: libc::major(st.st_rdev),
            minor: libc::minor(st.st_rdev),
            uid: st.st_uid,
            gid: st.st_gid,
        }),
        _ => Err(Errno(libc::ENODEV)),
    }
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Programs of the cgroups below may be attached too, and all must allow
/// (and ours runs with any the caller's cgroups have): nesting stays safe.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The BPF_PROG_LOAD part of union bpf_attr (include/uapi/linux/bpf.h);
/// every byte is a field (no implicit padding: see ProgAttach).
#[repr(C, align(8))]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The BPF_PROG_ATTACH part of union bpf_attr. No padding may be left
/// implicit: the kernel refuses (EINVAL) any nonzero byte past the fields
/// it knows, and padding bytes hold whatever the stack held (seen on
/// aarch64). `relative_fd` is the next field in newer kernels; 0 there.
#[repr(C, align(8))]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    relative_fd: u32,
}

// Both layouts are padding-free: their sizes are the sums of their fields.
const _: () = assert!(core::mem::size_of::<ProgLoad>() == 72 && core::mem::size_of::<ProgAttach>() == 24);

/// Loads `insns` (struct bpf_insn, 8 bytes each) as a cgroup device
/// program and attaches it to the cgroup v2 directory `cg`. The program
/// fd is closed at once: the attachment holds the program, and it goes with
/// the cgroup. Errors: the kernel's errno — EPERM without CAP_SYS_ADMIN or
/// CAP_BPF (or, on kernels before 5.11, over RLIMIT_MEMLOCK), EINVAL or
/// EACCES when the verifier refuses the program, EPERM at attach when a
/// cgroup above has a program that allows no other below it.
pub fn attach_device_program(cg: Fd, insns: &[u64]) -> Result<(), Errno> {
    let license = b"GPL\0";
    let mut name = [0u8; 16];
    name[..8].copy_from_slice(b"mydocker");
    let load = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        expected_attach_type: BPF_CGROUP_DEVICE,
        ..ProgLoad::default()
    };
    // SAFETY: load is a valid bpf_attr prefix of the size passed; insns and
    // license outlive the call; the kernel only reads them.
    let prog = retry(|| unsafe {
        sc!(libc::SYS_bpf, BPF_PROG_LOAD, &load as *const ProgLoad, core::mem::size_of::<ProgLoad>())
    })? as Fd;
    let attach = ProgAttach {
        target_fd: cg as u32,
        attach_bpf_fd: prog as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..ProgAttach::default()
    };
    // SAFETY: attach is a valid bpf_attr prefix of the size passed.
    let r = retry(|| unsafe {
        sc!(libc::SYS_bpf, BPF_PROG_ATTACH, &attach as *const ProgAttach, core::mem::size_of::<ProgAttach>())
    });
    close(prog);
    r.map(|_| ())
}
