//! Test-only: a classic-BPF interpreter (the kernel's seccomp semantics) and
//! a validity check, shared by the unit tests and the fuzz target.
use super::bpf::{Insn, JMP_JA, MAX_INSNS, RET_K};

/// A classic-BPF interpreter, as the kernel runs seccomp filters; None for a
/// program that is invalid (bad opcode, jump or load out of range, no ret).
pub fn run(prog: &[Insn], arch: u32, nr: u32, args: [u64; 6]) -> Option<u32> {
    let mut data = [0u32; 16];
    data[0] = nr;
    data[1] = arch;
    for (i, a) in args.iter().enumerate() {
        data[4 + 2 * i] = *a as u32;
        data[5 + 2 * i] = (*a >> 32) as u32;
    }
    let (mut a, mut x, mut mem, mut pc) = (0u32, 0u32, [0u32; 16], 0usize);
    loop {
        let i = *prog.get(pc)?;
        pc += 1;
        let k = i.k;
        let src = if i.code & 0x08 != 0 { x } else { k };
        match i.code {
            0x20 => a = *data.get(k as usize / 4).filter(|_| k % 4 == 0)?,
            0x00 => a = k,
            0x01 => x = k,
            0x60 => a = *mem.get(k as usize)?,
            0x61 => x = *mem.get(k as usize)?,
            0x02 => *mem.get_mut(k as usize)? = a,
            0x03 => *mem.get_mut(k as usize)? = x,
            0x07 => x = a,
            0x87 => a = x,
            0x06 => return Some(k),
            0x16 => return Some(a),
            0x05 => pc = pc.checked_add(k as usize)?,
            c if c & 0x07 == 0x05 => {
                let t = match c & 0xf0 {
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    _ => return None,
                };
                pc += if t { i.jt } else { i.jf } as usize;
            }
            c if c & 0x07 == 0x04 => {
                a = match c & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 => a.checked_div(src)?,
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(src)?,
                    0xa0 => a ^ src,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

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

