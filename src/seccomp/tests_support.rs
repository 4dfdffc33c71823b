//! Test-only: a classic-BPF interpreter (the kernel's seccomp semantics) and
//! a validity check, shared by the unit tests and the fuzz target.
use super::bpf::{Insn, JMP_JA, MAX_INSNS, RET_K};

pub use super::bpf::run;

/// Every jump lands inside the program and every path ends in a return.
pub fn valid(prog: &[Insn]) -> bool {
    !prog.is_empty()
        && prog.len() <= MAX_INSNS
        && prog.last().is_some_and(|i| i.code == RET_K)
        && prog.iter().enumerate().all(|(pc, i)| match i.code {
            JMP_JA => pc + 1 + (i.k as usize) < prog.len(),
            c if c & 0x07 == 0x05 => pc + 1 + (i.jt.max(i.jf) as usize) < prog.len(),
            _ => true,
        })
}

