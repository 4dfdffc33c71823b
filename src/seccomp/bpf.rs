//! Model → classic BPF (struct sock_filter), into a caller's fixed buffer.
//!
//! Layout (every jump forward, as classic BPF requires):
//!   load arch; for each architecture block: `jeq AUDIT_ARCH → block`;
//!   anything else returns KILL (libseccomp's bad-arch action).
//!   A block: load nr; on x86_64, numbers with the x32 bit (0x40000000) go
//!   to the x32 block (or KILL when x32 is not in the filter); then a
//!   balanced search tree over the number line cut into intervals, each
//!   ending in a `ret` (unconditional verdicts, the default in the gaps) or
//!   a jump to the syscall's condition block; condition blocks try the
//!   syscall's rules in order (a failing comparison skips to the next rule)
//!   and fall back to the default.
//! A syscall with an unconditional rule takes the first such rule's action
//! and ignores its conditional ones (libseccomp does the same).
use super::model::{Act, Arch, Cond, Model, Op, MAX_CALLS};
use super::tables::{self, ABSENT, ARM_PRIVATE};

/// struct sock_filter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(C)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// BPF_MAXINSNS: the kernel refuses longer programs.
pub const MAX_INSNS: usize = 4096;

pub const LD_W_ABS: u16 = 0x20;
pub const JMP_JA: u16 = 0x05;
pub const JEQ_K: u16 = 0x15;
pub const JGT_K: u16 = 0x25;
pub const JGE_K: u16 = 0x35;
pub const AND_K: u16 = 0x54;
pub const RET_K: u16 = 0x06;

/// offsetof(struct seccomp_data, ...): nr, arch, then args[6] (u64 each).
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARGS: u32 = 16;
const X32_BIT: u32 = 0x4000_0000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// More than MAX_INSNS instructions.
    TooLong,
    /// A syscall with more rules than the scratch holds.
    TooManyCalls,
}

impl Error {
    pub fn why(self) -> &'static [u8] {
        match self {
            Error::TooLong => b"the filter needs more than BPF's 4096 instructions",
            Error::TooManyCalls => b"more than 1024 (syscall name, rule) pairs",
        }
    }
}

/// What an interval of syscall numbers leads to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum To {
    Ret(u32),
    /// The condition block of the entries starting at this index.
    Block(u16),
}

#[derive(Clone, Copy)]
struct Iv {
    lo: u32,
    to: To,
}

/// Work space for one compilation (on the caller's stack or in a mapping).
pub struct Scratch {
    ents: [(u32, u16); MAX_CALLS],
    next: [u16; MAX_CALLS],
    ivs: [Iv; 2 * MAX_CALLS + 1],
    blocks: [u32; MAX_CALLS],
}

impl Scratch {
    /// (The binary maps its Work zeroed instead: see Work.)
    #[cfg(any(test, fuzzing))]
    pub const fn new() -> Scratch {
        Scratch { ents: [(0, 0); MAX_CALLS], next: [0; MAX_CALLS], ivs: [Iv { lo: 0, to: To::Ret(0) }; 2 * MAX_CALLS + 1], blocks: [0; MAX_CALLS] }
    }
}

struct Out<'o> {
    buf: &'o mut [Insn],
    n: usize,
}

impl Out<'_> {
    fn put(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> Result<usize, Error> {
        let slot = self.buf.get_mut(self.n).ok_or(Error::TooLong)?;
        *slot = Insn { code, jt, jf, k };
        self.n += 1;
        Ok(self.n - 1)
    }

    /// Points the `ja` at `at` to the next instruction emitted.
    fn land(&mut self, at: usize) {
        self.buf[at].k = (self.n - at - 1) as u32;
    }
}

/// Compiles `m` for the architectures in `arches` (native first) into
/// `out` (at most MAX_INSNS used); returns the instruction count.
pub fn compile(m: &Model, arches: &[Arch], out: &mut [Insn], s: &mut Scratch) -> Result<usize, Error> {
    let len = out.len().min(MAX_INSNS);
    let mut o = Out { buf: &mut out[..len], n: 0 };
    let x32 = arches.contains(&Arch::X32);
    let blocks = |a: &Arch| *a != Arch::X32;
    let mut jumps = [0usize; 5];
    o.put(LD_W_ABS, 0, 0, OFF_ARCH)?;
    for (i, a) in arches.iter().filter(|a| blocks(a)).enumerate() {
        o.put(JEQ_K, 0, 1, a.audit())?;
        jumps[i] = o.put(JMP_JA, 0, 0, 0)?;
    }
    o.put(RET_K, 0, 0, Act::KillThread.ret())?;
    let mut x32_jump = None;
    for (i, &a) in arches.iter().filter(|a| blocks(a)).enumerate() {
        o.land(jumps[i]);
        o.put(LD_W_ABS, 0, 0, OFF_NR)?;
        if a == Arch::X86_64 {
            // The x32 ABI shares AUDIT_ARCH_X86_64 and sets bit 30.
            o.put(JGE_K, 0, 1, X32_BIT)?;
            if x32 {
                x32_jump = Some(o.put(JMP_JA, 0, 0, 0)?);
            } else {
                o.put(RET_K, 0, 0, Act::KillThread.ret())?;
            }
        }
        block(m, a, &mut o, s)?;
    }
    if let Some(j) = x32_jump {
        o.land(j);
        block(m, Arch::X32, &mut o, s)?;
    }
    Ok(o.n)
}

/// The number of name `name` on `arch`, as seccomp_data.nr holds it.
pub fn number(arch: Arch, name: u16) -> Option<u32> {
    let i = name as usize;
    let v = match arch {
        #[cfg(any(test, fuzzing, target_arch = "x86_64"))]
        Arch::X86_64 => *tables::NR_X86_64.get(i)?,
        #[cfg(any(test, fuzzing, target_arch = "x86_64"))]
        Arch::X86 => *tables::NR_X86.get(i)?,
        #[cfg(any(test, fuzzing, target_arch = "x86_64"))]
        Arch::X32 => match tables::X32_EXCEPT.binary_search_by_key(&name, |e| e.0) {
            Ok(at) => tables::X32_EXCEPT[at].1,
            Err(_) => *tables::NR_X86_64.get(i)?,
        },
        #[cfg(any(test, fuzzing, not(target_arch = "x86_64")))]
        Arch::Aarch64 => *tables::NR_AARCH64.get(i)?,
        #[cfg(any(test, fuzzing, not(target_arch = "x86_64")))]
        Arch::Arm => *tables::NR_ARM.get(i)?,
        // Tables for architectures this build's host cannot run are left out.
        #[allow(unreachable_patterns)]
        _ => ABSENT,
    };
    match (arch, v) {
        (_, ABSENT) => None,
        (Arch::X32, v) => Some(v as u32 | X32_BIT),
        (Arch::Arm, v) if v & 0xff00 == ARM_PRIVATE => Some(0xf_0000 + (v & 0xff) as u32),
        (_, v) => Some(v as u32),
    }
}

/// One architecture: the search tree over syscall numbers, then the
/// condition blocks. The accumulator holds nr on entry.
fn block(m: &Model, arch: Arch, o: &mut Out, s: &mut Scratch) -> Result<(), Error> {
    // The entries sorted by number, and by rule within one: a bucket per
    // number (lists built back to front so they keep the rules' order).
    // A sort costs hundreds of microseconds per run at opt-level "z".
    let mut head = [NONE; SLOTS];
    for (ci, c) in m.calls.iter().enumerate().rev() {
        if let Some(nr) = number(arch, c.name) {
            let sl = slot(nr).ok_or(Error::TooManyCalls)?;
            s.next[ci] = head[sl];
            head[sl] = ci as u16;
        }
    }
    let mut n = 0;
    for &h in &head {
        let mut ci = h;
        while ci != NONE {
            let c = m.calls[ci as usize];
            let nr = number(arch, c.name).unwrap_or(0);
            *s.ents.get_mut(n).ok_or(Error::TooManyCalls)? = (nr, c.rule);
            n += 1;
            ci = s.next[ci as usize];
        }
    }
    let ents = &s.ents[..n];
    // Cut the number line into intervals.
    let default = To::Ret(m.default.ret());
    let mut ni = 0;
    let mut push = |ivs: &mut [Iv], lo: u32, to: To| {
        if ni > 0 && ivs[ni - 1].to == to && !matches!(to, To::Block(_)) {
            return;
        }
        ivs[ni] = Iv { lo, to };
        ni += 1;
    };
    let mut next = 0u64;
    let mut i = 0;
    while i < n {
        let nr = ents[i].0;
        let end = i + ents[i..].iter().take_while(|e| e.0 == nr).count();
        if (nr as u64) > next {
            push(&mut s.ivs, next as u32, default);
        }
        push(&mut s.ivs, nr, verdict(m, &ents[i..end], i));
        next = nr as u64 + 1;
        i = end;
    }
    if next <= u32::MAX as u64 {
        push(&mut s.ivs, next as u32, default);
    }
    let ivs = &s.ivs[..ni];
    let mut pending = 0;
    tree(ivs, o, &mut s.blocks, &mut pending)?;
    // Condition blocks, in the order the tree asked for them.
    let mut i = 0;
    while i < n {
        let nr = ents[i].0;
        let end = i + ents[i..].iter().take_while(|e| e.0 == nr).count();
        if let To::Block(_) = verdict(m, &ents[i..end], i) {
            resolve(&mut s.blocks[..pending], i, o);
            conditions(m, arch, &ents[i..end], o)?;
        }
        i = end;
    }
    Ok(())
}

/// Buckets: every number our tables hold is below 1024 (x32's without
/// its bit), but the ARM-private ones (0xf0000 + k, k < 16).
const SLOTS: usize = 1024 + 16;
const NONE: u16 = u16::MAX;

fn slot(nr: u32) -> Option<usize> {
    let n = (nr & !X32_BIT) as usize;
    match n {
        0..=1023 => Some(n),
        0xf_0000..=0xf_000f => Some(1024 + n - 0xf_0000),
        _ => None,
    }
}

/// The verdict for one syscall's entries (sorted by rule index).
fn verdict(m: &Model, ents: &[(u32, u16)], first: usize) -> To {
    if let Some(&(_, r)) = ents.iter().find(|e| m.rules[e.1 as usize].n == 0) {
        return To::Ret(m.rules[r as usize].act.ret());
    }
    To::Block(first as u16)
}

/// Leaves of the tree waiting for their block: (ja index, entry index).
fn resolve(blocks: &mut [u32], first: usize, o: &mut Out) {
    for b in blocks.iter_mut() {
        let (at, ent) = (*b & 0xffff, *b >> 16);
        if ent as usize == first && *b != u32::MAX {
            o.land(at as usize);
            *b = u32::MAX;
        }
    }
}

/// A balanced search over intervals (their union is the whole number line,
/// so a leaf needs no bounds check).
fn tree(ivs: &[Iv], o: &mut Out, blocks: &mut [u32], pending: &mut usize) -> Result<(), Error> {
    if let [iv] = ivs {
        return match iv.to {
            To::Ret(k) => o.put(RET_K, 0, 0, k).map(drop),
            To::Block(first) => {
                let at = o.put(JMP_JA, 0, 0, 0)?;
                let slot = blocks.get_mut(*pending).ok_or(Error::TooManyCalls)?;
                *slot = (first as u32) << 16 | at as u32;
                *pending += 1;
                Ok(())
            }
        };
    }
    let mid = ivs.len() / 2;
    // One instruction when the left subtree is short enough for jt's 8
    // bits (the kernel converts and JITs every instruction at load: fewer
    // is cheaper); else a `ja` over it.
    match u8::try_from(tree_len(mid)) {
        Ok(skip) => {
            o.put(JGE_K, skip, 0, ivs[mid].lo)?;
            tree(&ivs[..mid], o, blocks, pending)?;
        }
        Err(_) => {
            o.put(JGE_K, 0, 1, ivs[mid].lo)?;
            let right = o.put(JMP_JA, 0, 0, 0)?;
            tree(&ivs[..mid], o, blocks, pending)?;
            o.land(right);
        }
    }
    tree(&ivs[mid..], o, blocks, pending)
}

/// Instructions `tree` emits for `n` intervals (every leaf is one).
fn tree_len(n: usize) -> usize {
    if n <= 1 {
        return n;
    }
    let (left, right) = (tree_len(n / 2), tree_len(n - n / 2));
    left + right + if left <= 255 { 1 } else { 2 }
}

/// A syscall's rules in order: each rule's comparisons, then its `ret`; a
/// failing comparison jumps to the next rule. Then the default.
fn conditions(m: &Model, arch: Arch, ents: &[(u32, u16)], o: &mut Out) -> Result<(), Error> {
    for &(_, r) in ents {
        let rule = &m.rules[r as usize];
        let mut fails = [0usize; 4 * super::model::MAX_CONDS];
        let mut nf = 0;
        for c in rule.conds() {
            compare(*c, arch.wide(), o, &mut fails, &mut nf)?;
        }
        o.put(RET_K, 0, 0, rule.act.ret())?;
        for &f in &fails[..nf] {
            let d = (o.n - f - 1) as u8;
            let insn = &mut o.buf[f];
            if insn.jt == FAIL {
                insn.jt = d;
            } else {
                insn.jf = d;
            }
        }
    }
    o.put(RET_K, 0, 0, m.default.ret()).map(drop)
}

/// Placeholder for "to the next rule" in jt or jf, patched by `conditions`
/// (a rule is at most ~40 instructions: always within u8 reach).
const FAIL: u8 = 0xff;

/// One comparison; falls through when it holds. Unsigned, on the full
/// 64-bit argument (high word first), or on the low word for 32-bit arches.
fn compare(c: Cond, wide: bool, o: &mut Out, fails: &mut [usize], nf: &mut usize) -> Result<(), Error> {
    let lo_at = OFF_ARGS + 8 * c.arg as u32;
    let (v_hi, v_lo) = ((c.value >> 32) as u32, c.value as u32);
    let (t_hi, t_lo) = ((c.two >> 32) as u32, c.two as u32);
    let mut j = |o: &mut Out, code, jt, jf, k| -> Result<(), Error> {
        let at = o.put(code, jt, jf, k)?;
        if jt == FAIL || jf == FAIL {
            fails[*nf] = at;
            *nf += 1;
        }
        Ok(())
    };
    if wide {
        o.put(LD_W_ABS, 0, 0, lo_at + 4)?;
        match c.op {
            Op::Eq => j(o, JEQ_K, 0, FAIL, v_hi)?,
            Op::Ne => j(o, JEQ_K, 0, 2, v_hi)?, // high words differ: holds
            Op::Gt | Op::Ge => {
                j(o, JGT_K, 3, 0, v_hi)?;
                j(o, JEQ_K, 0, FAIL, v_hi)?;
            }
            Op::Lt | Op::Le => {
                j(o, JGT_K, FAIL, 0, v_hi)?;
                j(o, JEQ_K, 0, 2, v_hi)?;
            }
            Op::MaskedEq => {
                o.put(AND_K, 0, 0, v_hi)?;
                j(o, JEQ_K, 0, FAIL, t_hi)?;
            }
        }
    }
    o.put(LD_W_ABS, 0, 0, lo_at)?;
    match c.op {
        Op::Eq => j(o, JEQ_K, 0, FAIL, v_lo),
        Op::Ne => j(o, JEQ_K, FAIL, 0, v_lo),
        Op::Gt => j(o, JGT_K, 0, FAIL, v_lo),
        Op::Ge => j(o, JGE_K, 0, FAIL, v_lo),
        Op::Lt => j(o, JGE_K, FAIL, 0, v_lo),
        Op::Le => j(o, JGT_K, FAIL, 0, v_lo),
        Op::MaskedEq => {
            o.put(AND_K, 0, 0, v_lo)?;
            j(o, JEQ_K, 0, FAIL, t_lo)
        }
    }
}

/// A classic-BPF interpreter, as the kernel runs seccomp filters (shipped:
/// `prepare` asks it whether a profile lets a command start and end; the
/// tests and the fuzz target run every verdict through it); None for a
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
