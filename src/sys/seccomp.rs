//! Installing a seccomp filter.
use super::{cvt, Errno};

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): `insns` are struct
/// sock_filter (seccomp::Insn is repr(C) with the same layout), at most
/// BPF_MAXINSNS. Needs no_new_privs or CAP_SYS_ADMIN in the effective set.
pub fn seccomp_load(insns: &[crate::seccomp::Insn], flags: u32) -> Result<(), Errno> {
    let prog = libc::sock_fprog { len: insns.len() as u16, filter: insns.as_ptr() as *mut libc::sock_filter };
    // SAFETY: prog points at `insns`, alive for the call; the kernel copies
    // the program and keeps no pointer to it.
    cvt(unsafe { sc!(libc::SYS_seccomp, 1 as libc::c_long, flags as libc::c_long, &prog as *const _) }).map(drop)
}

/// Whether this kernel runs x32 syscalls: x32's getpid (__X32_SYSCALL_BIT |
/// __NR_getpid) answers ENOSYS where it does not (no CONFIG_X86_X32_ABI, or
/// syscall.x32=n). Anything else counts as running. Not to be called under
/// a seccomp filter, which may kill for any x32 number.
#[cfg(target_arch = "x86_64")]
pub fn x32_runs() -> bool {
    // SAFETY: getpid takes no arguments and touches no memory.
    let r = unsafe { sc!(0x4000_0000 | libc::SYS_getpid) };
    !matches!(cvt(r), Err(Errno(libc::ENOSYS)))
}
