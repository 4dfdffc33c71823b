//! Installing a seccomp filter.
use super::{cvt, Errno};

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): `insns` are struct
/// sock_filter (seccomp::Insn is repr(C) with the same layout), at most
/// BPF_MAXINSNS. Needs no_new_privs or CAP_SYS_ADMIN in the effective set.
pub fn seccomp_load(insns: &[crate::seccomp::Insn], flags: u32) -> Result<(), Errno> {
    let prog = libc::sock_fprog { len: insns.len() as u16, filter: insns.as_ptr() as *mut libc::sock_filter };
    // SAFETY: prog points at `insns`, alive for the call; the kernel copies
    // the program and keeps no pointer to it.
    cvt(unsafe { libc::syscall(libc::SYS_seccomp, 1 as libc::c_long, flags as libc::c_long, &prog as *const _) })
        .map(drop)
}
