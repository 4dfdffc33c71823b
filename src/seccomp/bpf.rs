//! Model → classic BPF (struct sock_filter), into a caller's fixed buffer.
//!
//! The kernel checks, converts and JITs every instruction of a filter when
//! it is loaded — about 0.17 µs each on the dev host, where docker's profile
//! as a plain search tree (687 instructions) cost 0.12 ms of every run — so
//! the program is kept short. Layout (every jump forward, as classic BPF
//! requires):
//!   load arch; per architecture, native first: `jeq AUDIT_ARCH`, else skip
//!   its block; after the last block `ret KILL` (libseccomp's bad-arch action).
//!   A block loads nr and searches the number line, cut into intervals of
//!   one verdict, with a tree of `jge` split where it halves the numbers the
//!   kernel emulates at load time (on x86_64 the x32 calls, bit 30 set, are
//!   the upper part of the same line, searched by a chain). An interval of a
//!   single number between two of one verdict is no leaf of its own but a
//!   `jeq` in its neighbours' leaf. Leaves are no instructions: the tree
//!   jumps straight to the block's shared `ret`s, or to a syscall's
//!   condition block (its rules in order: a failing comparison jumps to the
//!   next rule, the last holding one to the `ret` of the rule's action; the
//!   blocks come after the tree's `ret`s and have theirs after them; x32's
//!   blocks are i386's, reached by a `ja`).
//!   Jumps reach 255 instructions: a part of the tree too long for that is
//!   split in two with a `ja` (each half gets its own `ret`s).
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
    /// Internal: a jump beyond 255 instructions, or a part of the program
    /// with more targets than the scratch holds (the caller splits it).
    Far,
}

impl Error {
    pub fn why(self) -> super::profile::Why {
        match self {
            Error::TooLong | Error::Far => super::profile::Why::TooLong,
            Error::TooManyCalls => super::profile::Why::TooManyCalls,
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
    /// x32: what x86_64's search says for the number without the x32 bit.
    Shared,
}

#[derive(Clone, Copy)]
struct Iv {
    lo: u32,
    to: To,
}

/// Which field of a jump a fixup patches.
#[derive(Clone, Copy, PartialEq)]
#[repr(u8)]
enum Side {
    Jt,
    Jf,
    /// A `ja`'s 32-bit offset.
    K,
}

/// A jump waiting for its target's place.
#[derive(Clone, Copy)]
struct Fix {
    at: u16,
    side: Side,
    to: u16,
}

/// Intervals of one block: x86_64's and x32's share one.
const MAX_IVS: usize = 4 * MAX_CALLS + 2;
/// Distinct targets (rets and condition blocks) of one part of a block.
const MAX_TARGETS: usize = 64;
const MAX_FIX: usize = 512;
const MAX_LOCAL_FIX: usize = 64;
/// Single-number exceptions folded into one leaf (keeps a leaf's jumps
/// short). Each costs a step to every number of its leaf when the kernel
/// emulates the filter at load: 5 measured best for docker's default (8:
/// 2 instructions fewer, 225 steps more, and its loads 2-7 us slower).
const MAX_EXC: usize = 5;
/// Rules of one group of equality tests sharing their high-word test.
const MAX_GROUP: usize = 64;
/// A condition block's local labels: a rule's `ret` (inline mode).
const PASS: u16 = u16::MAX;
/// What the accumulator holds at a rule's start: an offset in
/// seccomp_data, or these.
const UNSET: u32 = u32::MAX - 1;
const UNKNOWN: u32 = u32::MAX;

/// x32's condition blocks that can wait for i386's, and their rules.
const MAX_WAITING: usize = 8;
const MAX_RULES_SHARED: usize = 8;

/// A `ja` to the condition block of these rules on i386.
#[derive(Clone, Copy)]
struct Waiting {
    at: u16,
    n: u8,
    rules: [u16; MAX_RULES_SHARED],
}

/// Work space for one compilation (on the caller's stack or in a mapping).
pub struct Scratch {
    ents: [(u32, u16); 2 * MAX_CALLS],
    /// Entries of the block being written.
    ne: usize,
    nrs: [u32; MAX_CALLS],
    next: [u16; MAX_CALLS],
    ivs: [Iv; MAX_IVS],
    /// Leaves: the index in `ivs` each starts at.
    segs: [u16; MAX_IVS],
    ns: usize,
    /// The last `ja` of the x32 part into x86_64's search (the `ja`s are
    /// chained: each points to the next, the last one to the search).
    shared: u16,
    targets: [To; MAX_TARGETS],
    nt: usize,
    /// The first target a new jump may reuse (those before are behind it).
    t_from: usize,
    /// x32's condition blocks left to i386's identical ones: the `ja`s
    /// waiting for them (see `defer`).
    waiting: [Waiting; MAX_WAITING],
    nw: usize,
    /// Whether x32's blocks may wait for i386's.
    share: bool,
    fix: [Fix; MAX_FIX],
    nf: usize,
    lfix: [Fix; MAX_LOCAL_FIX],
    nl: usize,
    enter: [u32; MAX_CALLS + 1],
}

impl Scratch {
    /// (The binary maps its Work zeroed instead: see Work.)
    #[cfg(any(test, fuzzing))]
    pub const fn new() -> Scratch {
        const FIX: Fix = Fix { at: 0, side: Side::Jt, to: 0 };
        Scratch {
            ents: [(0, 0); 2 * MAX_CALLS],
            ne: 0,
            nrs: [0; MAX_CALLS],
            next: [0; MAX_CALLS],
            ivs: [Iv { lo: 0, to: To::Ret(0) }; MAX_IVS],
            segs: [0; MAX_IVS],
            ns: 0,
            shared: 0,
            targets: [To::Ret(0); MAX_TARGETS],
            nt: 0,
            t_from: 0,
            waiting: [Waiting { at: 0, n: 0, rules: [0; MAX_RULES_SHARED] }; MAX_WAITING],
            nw: 0,
            share: false,
            fix: [FIX; MAX_FIX],
            nf: 0,
            lfix: [FIX; MAX_LOCAL_FIX],
            nl: 0,
            enter: [0; MAX_CALLS + 1],
        }
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

    /// Points field `side` of the jump at `at` to `to`.
    fn patch(&mut self, at: usize, side: Side, to: usize) -> Result<(), Error> {
        let d = to - at - 1;
        let i = &mut self.buf[at];
        match side {
            Side::K => i.k = d as u32,
            Side::Jt => i.jt = u8::try_from(d).map_err(|_| Error::Far)?,
            Side::Jf => i.jf = u8::try_from(d).map_err(|_| Error::Far)?,
        }
        Ok(())
    }
}

/// Compiles `m` for the architectures in `arches` (native first) into
/// `out` (at most MAX_INSNS used); returns the instruction count.
pub fn compile(m: &Model, arches: &[Arch], out: &mut [Insn], s: &mut Scratch) -> Result<usize, Error> {
    let x32 = arches.contains(&Arch::X32);
    // x32 compares arguments as i386 does: its condition blocks can be
    // i386's (one `ja` each instead of a copy), when i386 has them all.
    let i386 = arches.iter().position(|a| *a == Arch::X86) > arches.iter().position(|a| *a == Arch::X86_64);
    s.share = x32 && i386;
    match program(m, arches, x32, out, s) {
        Err(Error::Far) if s.share => {}
        r => return r,
    }
    s.share = false;
    program(m, arches, x32, out, s)
}

fn program(m: &Model, arches: &[Arch], x32: bool, out: &mut [Insn], s: &mut Scratch) -> Result<usize, Error> {
    let len = out.len().min(MAX_INSNS);
    let mut o = Out { buf: &mut out[..len], n: 0 };
    s.nw = 0;
    o.put(LD_W_ABS, 0, 0, OFF_ARCH)?;
    for &a in arches.iter().filter(|a| **a != Arch::X32) {
        let at = o.put(JEQ_K, 0, 0, a.audit())?;
        block(m, a, x32, &mut o, s)?;
        skip(&mut o, at, s)?;
    }
    o.put(RET_K, 0, 0, Act::KillThread.ret())?;
    // A block i386 turned out not to have (its names are absent there): a
    // `ja` still pointing at the next instruction (i386's blocks are far).
    if s.waiting[..s.nw].iter().any(|w| o.buf[w.at as usize].k == 0) {
        return Err(Error::Far);
    }
    Ok(o.n)
}

/// Points the architecture test at `at` past the block after it: its jf,
/// or, when the block is longer than jf reaches, a `ja` slipped in after
/// the test (a block's jumps are all relative and inside it: it moves).
fn skip(o: &mut Out, at: usize, s: &mut Scratch) -> Result<(), Error> {
    let len = o.n - at - 1;
    if let Ok(d) = u8::try_from(len) {
        o.buf[at].jf = d;
        return Ok(());
    }
    o.put(RET_K, 0, 0, 0)?;
    o.buf.copy_within(at + 1..o.n - 1, at + 2);
    o.buf[at].jt = 1;
    o.buf[at + 1] = Insn { code: JMP_JA, jt: 0, jf: 0, k: len as u32 };
    for w in &mut s.waiting[..s.nw] {
        w.at += 1;
    }
    Ok(())
}

/// The number of name `name` on `arch`, as seccomp_data.nr holds it.
pub fn number(arch: Arch, name: u16) -> Option<u32> {
    let i = name as usize;
    if i >= tables::N {
        return None;
    }
    let v = match arch {
        #[cfg(any(test, fuzzing, target_arch = "x86_64"))]
        Arch::X86_64 => packed(&tables::NR_X86_64, i),
        #[cfg(any(test, fuzzing, target_arch = "x86_64"))]
        Arch::X86 => packed(&tables::NR_X86, i),
        #[cfg(any(test, fuzzing, target_arch = "x86_64"))]
        Arch::X32 => match tables::X32_EXCEPT.binary_search_by_key(&name, |e| e.0) {
            Ok(at) => tables::X32_EXCEPT[at].1,
            Err(_) => packed(&tables::NR_X86_64, i),
        },
        #[cfg(any(test, fuzzing, not(target_arch = "x86_64")))]
        Arch::Aarch64 => packed(&tables::NR_AARCH64, i),
        #[cfg(any(test, fuzzing, not(target_arch = "x86_64")))]
        Arch::Arm => packed(&tables::NR_ARM, i),
        // Tables for architectures this build's host cannot run are left out.
        #[allow(unreachable_patterns)]
        _ => ABSENT,
    };
    match (arch, v) {
        (_, ABSENT) => None,
        (Arch::X32, v) => Some(v as u32 | X32_BIT),
        (Arch::Arm, v) if v & !0xf == ARM_PRIVATE => Some(0xf_0000 + (v & 0xf) as u32),
        (_, v) => Some(v as u32),
    }
}

/// Entry `i` of a table of 10-bit numbers packed little-endian (an entry
/// starts at an even bit, so it spans two bytes at most).
#[allow(dead_code)]
fn packed(t: &[u8], i: usize) -> u16 {
    let b = i * 10;
    let lo = t.get(b / 8).copied().unwrap_or(0xff);
    let hi = t.get(b / 8 + 1).copied().unwrap_or(0xff);
    u16::from_le_bytes([lo, hi]) >> (b % 8) & ABSENT
}

/// One architecture: its number line cut into intervals, the intervals
/// into leaves, then the search over them.
fn block(m: &Model, a: Arch, x32: bool, o: &mut Out, s: &mut Scratch) -> Result<(), Error> {
    o.put(LD_W_ABS, 0, 0, OFF_NR)?;
    let default = To::Ret(m.default.ret());
    let n = entries(m, a, s, 0)?;
    s.ne = n;
    if a == Arch::X86_64 && x32 {
        let (start, nw) = (o.n, s.nw);
        match x32_part(m, n, o, s) {
            Err(Error::Far) => (o.n, s.ne, s.nw) = (start, n, nw),
            r => r?,
        }
    }
    let mut ni = 0;
    let mut next = intervals(m, s, 0..n, 0, &mut ni)?;
    if a == Arch::X86_64 && s.ne == n {
        // The x32 ABI shares AUDIT_ARCH_X86_64 and sets bit 30: x32's
        // numbers are the upper part of the line (when the x32 part above
        // was not written).
        if next < X32_BIT as u64 {
            push(s, &mut ni, next as u32, default)?;
        }
        if x32 {
            let n32 = entries(m, Arch::X32, s, n)?;
            s.ne = n32;
            next = intervals(m, s, n..n32, X32_BIT, &mut ni)?;
        } else if m.arches & Arch::X32.bit() == 0 {
            // Not listed: libseccomp's bad-arch action.
            push(s, &mut ni, X32_BIT, To::Ret(Act::KillThread.ret()))?;
            next = 1 << 32;
        }
        // Listed, on a kernel that runs no x32 (Host::X86_64NoX32): every
        // x32 number gets the default, in one interval with the numbers
        // above x86_64's table (no x32 part, no `and`): what a call the
        // profile does not allow gets on a host that runs x32, never ALLOW
        // unless the default is.
    }
    if next <= u32::MAX as u64 {
        push(s, &mut ni, next as u32, default)?;
    }
    leaves(s, ni);
    region(m, a, 0, s.ns, ni, o, s)
}

/// x32 (numbers with bit 30) before x86_64's search: where x32's verdict
/// for a number is x86_64's for the number without the bit (most of them:
/// the two ABIs share their numbers but for x32's own calls from 512 and
/// the calls x32 lacks), the search jumps to x86_64's with the bit cleared;
/// only the rest is searched here. Condition blocks are never shared (x32
/// compares 32-bit arguments). Far: the part did not fit (jumps or
/// targets); the caller writes one search over both instead.
// (#[inline(never)] here and below: at opt-level "z" LLVM would otherwise
// copy these into each caller — a few hundred bytes of binary each.)
#[inline(never)]
fn x32_part(m: &Model, n: usize, o: &mut Out, s: &mut Scratch) -> Result<(), Error> {
    let default = To::Ret(m.default.ret());
    let n32 = entries(m, Arch::X32, s, n)?;
    s.ne = n32;
    let at = o.put(JGE_K, 0, 0, X32_BIT)?;
    // Every table number is below 1024 (see `slot`); above, both say the default.
    let (mut i64, mut i32, mut ni) = (0, n, 0);
    for lo in 0..1024 {
        let v64 = verdict_at(m, s, &mut i64, n, lo, default);
        let v32 = verdict_at(m, s, &mut i32, n32, X32_BIT | lo, default);
        let to = if v32 == v64 && !matches!(v32, To::Block(_)) { To::Shared } else { v32 };
        push(s, &mut ni, X32_BIT | lo, to)?;
    }
    push(s, &mut ni, X32_BIT | 1024, To::Shared)?;
    leaves(s, ni);
    s.shared = 0;
    region(m, Arch::X32, 0, s.ns, ni, o, s)?;
    // x86_64's search starts with clearing the bit (a no-op for its own numbers).
    let and = o.put(AND_K, 0, 0, !X32_BIT)?;
    if s.shared != 0 {
        o.patch(s.shared as usize, Side::K, and)?;
    }
    o.patch(at, Side::Jf, and + 1)
}

/// The verdict for number `nr`, walking the sorted entries `*i..end`.
#[inline(never)]
fn verdict_at(m: &Model, s: &Scratch, i: &mut usize, end: usize, nr: u32, default: To) -> To {
    if *i == end || s.ents[*i].0 != nr {
        return default;
    }
    let e = *i + s.ents[*i..end].iter().take_while(|e| e.0 == nr).count();
    let v = verdict(m, &s.ents[*i..e], *i);
    *i = e;
    v
}

/// Appends `arch`'s (nr, rule) entries to `s.ents` from index `from`,
/// sorted by number and, within one number, by rule; returns the end. A
/// bucket per number (lists built back to front so they keep the rules'
/// order): a sort costs hundreds of microseconds per run at opt-level "z".
#[inline(never)]
fn entries(m: &Model, arch: Arch, s: &mut Scratch, from: usize) -> Result<usize, Error> {
    let mut head = [NONE; SLOTS];
    for (ci, c) in m.calls.iter().enumerate().rev() {
        if let Some(nr) = number(arch, c.name) {
            let sl = slot(nr).ok_or(Error::TooManyCalls)?;
            s.nrs[ci] = nr;
            s.next[ci] = head[sl];
            head[sl] = ci as u16;
        }
    }
    let mut n = from;
    for &h in &head {
        let mut ci = h as usize;
        while ci != NONE as usize {
            *s.ents.get_mut(n).ok_or(Error::TooManyCalls)? = (s.nrs[ci], m.calls[ci].rule);
            n += 1;
            ci = s.next[ci] as usize;
        }
    }
    Ok(n)
}

/// Appends the intervals of the entries `ents` (sorted) to `s.ivs` from the
/// number `start` on; returns the number after the last entry.
#[inline(never)]
fn intervals(m: &Model, s: &mut Scratch, ents: core::ops::Range<usize>, start: u32, ni: &mut usize) -> Result<u64, Error> {
    let default = To::Ret(m.default.ret());
    let mut next = start as u64;
    let mut i = ents.start;
    while i < ents.end {
        let nr = s.ents[i].0;
        let end = i + s.ents[i..ents.end].iter().take_while(|e| e.0 == nr).count();
        if nr as u64 > next {
            push(s, ni, next as u32, default)?;
        }
        let to = verdict(m, &s.ents[i..end], i);
        push(s, ni, nr, to)?;
        next = nr as u64 + 1;
        i = end;
    }
    Ok(next)
}

/// Appends an interval, merged into the previous one when it has its verdict.
fn push(s: &mut Scratch, ni: &mut usize, lo: u32, to: To) -> Result<(), Error> {
    if *ni > 0 && s.ivs[*ni - 1].to == to && !matches!(to, To::Block(_)) {
        return Ok(());
    }
    *s.ivs.get_mut(*ni).ok_or(Error::TooManyCalls)? = Iv { lo, to };
    *ni += 1;
    Ok(())
}

/// Groups the intervals into leaves (`s.segs`): an interval of a single
/// number whose neighbours share a verdict joins their leaf as an
/// exception — one `jeq` instead of two `jge`. A leaf holds at most
/// MAX_EXC exceptions and one condition block (so that a leaf alone always
/// reaches its targets).
#[inline(never)]
fn leaves(s: &mut Scratch, ni: usize) {
    let (mut ns, mut exc, mut blocks) = (0, 0, 0);
    let mut i = 0;
    while i < ni {
        let iv = s.ivs[i];
        let block = matches!(iv.to, To::Block(_)) as usize;
        let joins = ns > 0
            && i + 1 < ni
            && s.ivs[i + 1].lo == iv.lo + 1
            && s.ivs[i + 1].to == s.ivs[s.segs[ns - 1] as usize].to
            && exc < MAX_EXC
            && blocks + block <= 1;
        if joins {
            exc += 1;
            blocks += block;
            i += 2;
            continue;
        }
        s.segs[ns] = i as u16;
        (ns, exc, blocks) = (ns + 1, 0, block);
        i += 1;
    }
    s.ns = ns;
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

/// The leaves `lo..hi`: as one part with shared targets if its jumps reach
/// them, else split in two. A single leaf always fits, its condition block
/// written with its own `ret`s if it must.
fn region(m: &Model, a: Arch, lo: usize, hi: usize, ni: usize, o: &mut Out, s: &mut Scratch) -> Result<(), Error> {
    let (start, shared, nw) = (o.n, s.shared, s.nw);
    match flat(m, a, lo, hi, ni, o, s, false) {
        Err(Error::Far) => (o.n, s.shared, s.nw) = (start, shared, nw),
        r => return r,
    }
    if hi - lo == 1 {
        return flat(m, a, lo, hi, ni, o, s, true).map_err(|e| if e == Error::Far { Error::TooLong } else { e });
    }
    let mid = (lo + hi) / 2;
    o.put(JGE_K, 0, 1, s.ivs[s.segs[mid] as usize].lo)?;
    let right = o.put(JMP_JA, 0, 0, 0)?;
    region(m, a, lo, mid, ni, o, s)?;
    o.land(right);
    region(m, a, mid, hi, ni, o, s)
}

/// Where a subtree starts: code at an index, or directly a target.
enum Entry {
    At(usize),
    Target(u16),
}

/// The tree over leaves `lo..hi`, then its targets: the `ret`s it jumps
/// to, then the condition blocks, then the `ret`s those jump to (`inline`:
/// condition blocks with `ret`s of their own). A `ret` a block shares with
/// the tree is written twice rather than once after the blocks: the tree's
/// last nodes would jump over the blocks to it, a distance that the x86
/// JIT shortens one jump per pass of its own (it re-emits the whole
/// program until no jump changes size; each pass costs about as much as 28
/// instructions more).
fn flat(m: &Model, a: Arch, lo: usize, hi: usize, ni: usize, o: &mut Out, s: &mut Scratch, inline: bool) -> Result<(), Error> {
    (s.nt, s.nf, s.t_from) = (0, 0, 0);
    tree(lo, hi, ni, o, s)?;
    let mut pos = [0u16; MAX_TARGETS];
    let of_tree = s.nt;
    rets(0..of_tree, o, s, &mut pos)?;
    // Jumps go forward only: the blocks' targets are new ones, after them.
    s.t_from = of_tree;
    for t in 0..of_tree {
        if let To::Block(first) = s.targets[t] {
            pos[t] = o.n as u16;
            let first = first as usize;
            if a == Arch::X86 {
                adopt(first, o, s)?;
            } else if a == Arch::X32 && s.share && defer(first, o, s)? {
                continue;
            }
            conditions(m, a, first, o, s, inline)?;
        }
    }
    rets(of_tree..s.nt, o, s, &mut pos)?;
    for f in &s.fix[..s.nf] {
        o.patch(f.at as usize, f.side, pos[f.to as usize] as usize)?;
    }
    Ok(())
}

/// The rules of the condition block of the entries from `first`, if few enough.
fn rules_of(first: usize, s: &Scratch) -> Option<(u8, [u16; MAX_RULES_SHARED])> {
    let nr = s.ents[first].0;
    let mut rules = [0; MAX_RULES_SHARED];
    let mut n = 0;
    for e in s.ents[first..s.ne].iter().take_while(|e| e.0 == nr) {
        *rules.get_mut(n)? = e.1;
        n += 1;
    }
    Some((n as u8, rules))
}

/// x32's condition block of the entries from `first`, as a `ja` to i386's
/// block of the same rules, written later (x32 and i386 both compare the
/// low words only, so the code is the same). False: write it here.
fn defer(first: usize, o: &mut Out, s: &mut Scratch) -> Result<bool, Error> {
    let Some((n, rules)) = rules_of(first, s) else { return Ok(false) };
    if s.nw == MAX_WAITING {
        return Ok(false);
    }
    let at = o.put(JMP_JA, 0, 0, 0)? as u16;
    s.waiting[s.nw] = Waiting { at, n, rules };
    s.nw += 1;
    Ok(true)
}

/// i386's condition block of the entries from `first` starts here: the
/// x32 `ja`s waiting for its rules land on it (again, when a part of the
/// program is rewritten after a jump did not reach).
fn adopt(first: usize, o: &mut Out, s: &mut Scratch) -> Result<(), Error> {
    let Some((n, rules)) = rules_of(first, s) else { return Ok(()) };
    for w in s.waiting[..s.nw].iter().filter(|w| w.n == n && w.rules == rules) {
        o.patch(w.at as usize, Side::K, o.n)?;
    }
    Ok(())
}

/// The `ret`s (and x32's jumps into x86_64's search) among targets `ts`.
fn rets(ts: core::ops::Range<usize>, o: &mut Out, s: &mut Scratch, pos: &mut [u16; MAX_TARGETS]) -> Result<(), Error> {
    for t in ts {
        match s.targets[t] {
            To::Ret(k) => pos[t] = o.put(RET_K, 0, 0, k)? as u16,
            To::Shared => {
                pos[t] = o.put(JMP_JA, 0, 0, 0)? as u16;
                if s.shared != 0 {
                    o.patch(s.shared as usize, Side::K, pos[t] as usize)?;
                }
                s.shared = pos[t];
            }
            To::Block(_) => {}
        }
    }
    Ok(())
}

#[inline(never)]
fn target(s: &mut Scratch, to: To) -> Result<u16, Error> {
    if let Some(t) = s.targets[s.t_from..s.nt].iter().position(|x| *x == to) {
        return Ok((s.t_from + t) as u16);
    }
    *s.targets.get_mut(s.nt).ok_or(Error::Far)? = to;
    s.nt += 1;
    Ok(s.nt as u16 - 1)
}

#[inline(never)]
fn fix(s: &mut Scratch, at: usize, side: Side, to: u16) -> Result<(), Error> {
    *s.fix.get_mut(s.nf).ok_or(Error::Far)? = Fix { at: at as u16, side, to };
    s.nf += 1;
    Ok(())
}

/// A search over leaves `lo..hi` (their union is the whole number line, so
/// a leaf needs no bounds check), split where it halves the numbers the
/// kernel emulates (see `split`).
fn tree(lo: usize, hi: usize, ni: usize, o: &mut Out, s: &mut Scratch) -> Result<Entry, Error> {
    if hi - lo == 1 {
        return leaf(lo, ni, o, s);
    }
    let mid = split(s, lo, hi);
    if mid == hi - 1 && emulated_below(s, lo) == emulated_below(s, hi) {
        return chain(lo, hi, ni, o, s);
    }
    let at = o.put(JGE_K, 0, 0, s.ivs[s.segs[mid] as usize].lo)?;
    // The left subtree's code, if any, follows at once (jf = 0).
    if let Entry::Target(t) = tree(lo, mid, ni, o, s)? {
        fix(s, at, Side::Jf, t)?;
    }
    match tree(mid, hi, ni, o, s)? {
        Entry::At(p) => o.patch(at, Side::Jt, p)?,
        Entry::Target(t) => fix(s, at, Side::Jt, t)?,
    }
    Ok(Entry::At(at))
}

/// Syscall numbers below this are what the kernel walks the filter for when
/// it loads it: seccomp_cache_prepare emulates the program for every number
/// below NR_syscalls of the native and the compat architecture (about 470
/// on Linux 6.18) to find the always-allowed ones, at every container start.
const EMULATED: u32 = 512;

/// Where leaf `k` starts, as a count of emulated numbers below it.
fn emulated_below(s: &Scratch, k: usize) -> u32 {
    match s.segs[..s.ns].get(k) {
        Some(&at) => s.ivs[at as usize].lo.min(EMULATED),
        None => EMULATED,
    }
}

/// The leaf the node over `lo..hi` starts its right side at: where the
/// emulated numbers are halved, so that the kernel's walk over all of them
/// takes about a step fewer per number than a tree halving the leaves (the
/// syscalls that run the filter afterwards, those with argument rules and
/// refused ones, are few). Leaves with no emulated number (x32's, and the
/// numbers above the tables) form a chain: a `jge` each, where a balanced
/// tree spends an extra `ja` for every node with two leaves — the kernel
/// converts a jump with two targets into two instructions and JITs both.
fn split(s: &Scratch, lo: usize, hi: usize) -> usize {
    let (first, last) = (emulated_below(s, lo), emulated_below(s, hi));
    if first == last {
        return hi - 1;
    }
    let half = first + (last - first) / 2;
    let mut mid = lo + 1;
    while mid + 1 < hi && emulated_below(s, mid + 1) <= half {
        mid += 1;
    }
    // The cut nearest the middle, of the two around it.
    if mid + 1 < hi && emulated_below(s, mid + 1) - half < half.saturating_sub(emulated_below(s, mid)) {
        mid += 1;
    }
    mid
}

/// Leaf `k`: a `jeq` per exception, else its own verdict.
fn leaf(k: usize, ni: usize, o: &mut Out, s: &mut Scratch) -> Result<Entry, Error> {
    let first = o.n;
    let t_own = exceptions(k, ni, o, s)?;
    if o.n == first {
        return Ok(Entry::Target(t_own));
    }
    fix(s, o.n - 1, Side::Jf, t_own)?;
    Ok(Entry::At(first))
}

/// Leaf `k`'s exceptions, a `jeq` each that goes on when it fails; returns
/// the target of the leaf's own verdict.
fn exceptions(k: usize, ni: usize, o: &mut Out, s: &mut Scratch) -> Result<u16, Error> {
    let from = s.segs[k] as usize;
    let to = if k + 1 < s.ns { s.segs[k + 1] as usize } else { ni };
    let own = s.ivs[from].to;
    let t_own = target(s, own)?;
    for j in from + 1..to {
        let iv = s.ivs[j];
        if iv.to != own {
            let at = o.put(JEQ_K, 0, 0, iv.lo)?;
            let t = target(s, iv.to)?;
            fix(s, at, Side::Jt, t)?;
        }
    }
    Ok(t_own)
}

/// Leaves `lo..hi` from the top down: each leaf's exceptions, then a `jge`
/// to its verdict, every failing test going on to the next, so that no
/// jump has two targets (the lowest leaf ends it, as `leaf` does).
fn chain(lo: usize, hi: usize, ni: usize, o: &mut Out, s: &mut Scratch) -> Result<Entry, Error> {
    let first = o.n;
    for k in (lo + 1..hi).rev() {
        let t_own = exceptions(k, ni, o, s)?;
        let at = o.put(JGE_K, 0, 0, s.ivs[s.segs[k] as usize].lo)?;
        fix(s, at, Side::Jt, t_own)?;
    }
    match leaf(lo, ni, o, s)? {
        Entry::Target(t) => fix(s, o.n - 1, Side::Jf, t)?,
        Entry::At(_) => {}
    }
    Ok(Entry::At(first))
}

/// Where a jump of a condition goes.
#[derive(Clone, Copy)]
enum L {
    /// So many instructions ahead (0: the next).
    Off(u8),
    /// The next rule.
    Fail,
    /// The first rule after this group of equality tests.
    HiFail,
    /// The rule's action.
    Pass,
}

/// One syscall's condition block being written.
struct Cb<'a, 'o, 's> {
    o: &'a mut Out<'o>,
    s: &'s mut Scratch,
    inline: bool,
    /// What the accumulator holds (an offset, or UNKNOWN).
    a: u32,
    fail: u16,
    hi_fail: u16,
    pass: To,
}

/// A syscall's rules in order: each rule's comparisons, a failing one
/// jumping to the next rule, the holding last one to the rule's `ret`;
/// after the last rule, the default. Equality tests of one argument in a
/// row share their high-word test, and a word still in the accumulator is
/// not loaded again.
#[inline(never)]
fn conditions(m: &Model, a: Arch, first: usize, o: &mut Out, s: &mut Scratch, inline: bool) -> Result<(), Error> {
    let nr = s.ents[first].0;
    let n = s.ents[first..s.ne].iter().take_while(|e| e.0 == nr).count();
    // x32's calls (in x86_64's block) compare 32-bit arguments.
    let wide = a.wide() && nr & X32_BIT == 0;
    s.enter[..=n].fill(UNSET);
    s.enter[0] = OFF_NR;
    s.nl = 0;
    let single_eq = |r: &super::model::Rule| r.n == 1 && r.conds[0].op == Op::Eq;
    let mut group_end = 0;
    for j in 0..n {
        let rule = &m.rules[s.ents[first + j].1 as usize];
        let mut c = Cb { a: s.enter[j], o: &mut *o, s: &mut *s, inline, fail: j as u16 + 1, hi_fail: j as u16 + 1, pass: To::Ret(rule.act.ret()) };
        c.land(j as u16)?;
        let cont = j < group_end;
        if !cont && wide && !inline && single_eq(rule) {
            // Later rules testing the same argument's equality with the
            // same high word skip that test: its failure skips them all.
            group_end = j + 1;
            while group_end < n && group_end - j < MAX_GROUP {
                let r = &m.rules[c.s.ents[first + group_end].1 as usize];
                let (x, y) = (rule.conds[0], r.conds[0]);
                if !single_eq(r) || x.arg != y.arg || x.value >> 32 != y.value >> 32 {
                    break;
                }
                group_end += 1;
            }
            c.hi_fail = group_end as u16;
        }
        c.rule(rule.conds(), wide, cont)?;
    }
    let mut c = Cb { a: UNKNOWN, o, s, inline, fail: 0, hi_fail: 0, pass: To::Ret(m.default.ret()) };
    if inline {
        c.land(n as u16)?;
        c.o.put(RET_K, 0, 0, m.default.ret())?;
        return Ok(());
    }
    // After the last rule: the shared `ret` of the default.
    let t = target(c.s, c.pass)?;
    for i in 0..c.s.nl {
        let f = c.s.lfix[i];
        fix(c.s, f.at as usize, f.side, t)?;
    }
    Ok(())
}

impl Cb<'_, '_, '_> {
    /// Points the pending jumps to rule `j` (or the default) here.
    fn land(&mut self, j: u16) -> Result<(), Error> {
        let mut i = 0;
        while i < self.s.nl {
            let f = self.s.lfix[i];
            if f.to == j {
                self.o.patch(f.at as usize, f.side, self.o.n)?;
                self.s.nl -= 1;
                self.s.lfix[i] = self.s.lfix[self.s.nl];
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    fn to(&mut self, at: usize, side: Side, l: L) -> Result<(), Error> {
        let local = |c: &mut Self, j: u16| -> Result<(), Error> {
            if j != PASS {
                let e = &mut c.s.enter[j as usize];
                *e = if *e == UNSET || *e == c.a { c.a } else { UNKNOWN };
            }
            *c.s.lfix.get_mut(c.s.nl).ok_or(Error::Far)? = Fix { at: at as u16, side, to: j };
            c.s.nl += 1;
            Ok(())
        };
        match l {
            L::Off(d) => self.o.patch(at, side, at + 1 + d as usize),
            L::Fail => local(self, self.fail),
            L::HiFail => local(self, self.hi_fail),
            L::Pass if self.inline => local(self, PASS),
            L::Pass => {
                let t = target(self.s, self.pass)?;
                fix(self.s, at, side, t)
            }
        }
    }

    fn jump(&mut self, code: u16, k: u32, t: L, f: L) -> Result<(), Error> {
        let at = self.o.put(code, 0, 0, k)?;
        self.to(at, Side::Jt, t)?;
        self.to(at, Side::Jf, f)
    }

    fn ja(&mut self, l: L) -> Result<(), Error> {
        let at = self.o.put(JMP_JA, 0, 0, 0)?;
        self.to(at, Side::K, l)
    }

    fn ld(&mut self, off: u32) -> Result<(), Error> {
        if self.a != off {
            self.o.put(LD_W_ABS, 0, 0, off)?;
            self.a = off;
        }
        Ok(())
    }

    /// `A & mask == two` on one word.
    fn masked(&mut self, off: u32, mask: u32, two: u32, holds: L) -> Result<(), Error> {
        self.ld(off)?;
        if mask != u32::MAX {
            self.o.put(AND_K, 0, 0, mask)?;
            self.a = UNKNOWN;
        }
        self.jump(JEQ_K, two, holds, L::Fail)
    }

    /// One rule: its comparisons, then (inline) its `ret`.
    fn rule(&mut self, conds: &[Cond], wide: bool, cont: bool) -> Result<(), Error> {
        // Control reaches the end of the rule with every condition holding.
        let mut open = true;
        for (i, c) in conds.iter().enumerate() {
            let last = i + 1 == conds.len();
            match self.compare(*c, wide, cont, last)? {
                Some(true) => open = !last,
                Some(false) => {}
                None => {
                    self.ja(L::Fail)?;
                    open = false;
                    break;
                }
            }
        }
        if self.inline {
            self.land(PASS)?;
            let To::Ret(k) = self.pass else { return Ok(()) };
            self.o.put(RET_K, 0, 0, k).map(drop)
        } else if open {
            self.ja(L::Pass)
        } else {
            Ok(())
        }
    }

    /// One comparison, unsigned, on the full 64-bit argument (high word
    /// first; `skip_hi`: known equal) or on the low word for 32-bit arches.
    /// A holding comparison goes on to the next (or, `last`, to the rule's
    /// action), a failing one to the next rule. Some(true): written;
    /// Some(false): always holds, nothing written; None: never holds.
    #[inline(never)]
    fn compare(&mut self, c: Cond, wide: bool, skip_hi: bool, last: bool) -> Result<Option<bool>, Error> {
        let lo_at = OFF_ARGS + 8 * c.arg as u32;
        let hi_at = lo_at + 4;
        let (v_hi, v_lo) = ((c.value >> 32) as u32, c.value as u32);
        let (t_hi, t_lo) = ((c.two >> 32) as u32, c.two as u32);
        let holds = if last { L::Pass } else { L::Off(0) };
        // Skips the rest of the comparison (the low word's load and jump).
        let skip = |n: u8| if last { L::Pass } else { L::Off(n) };
        if c.op == Op::MaskedEq {
            // A zero mask makes a word's test constant.
            let (hi, lo) = (wide && v_hi != 0, v_lo != 0);
            if wide && v_hi == 0 && t_hi != 0 || v_lo == 0 && t_lo != 0 {
                return Ok(None);
            }
            if hi {
                self.masked(hi_at, v_hi, t_hi, if lo { L::Off(0) } else { holds })?;
            }
            if lo {
                self.masked(lo_at, v_lo, t_lo, holds)?;
            }
            return Ok(Some(hi || lo));
        }
        if wide && !skip_hi {
            self.ld(hi_at)?;
            // With a high word of 0, "not above" is "equal".
            match c.op {
                Op::Eq => self.jump(JEQ_K, v_hi, L::Off(0), L::HiFail)?,
                Op::Ne => self.jump(JEQ_K, v_hi, L::Off(0), skip(2))?,
                Op::Gt | Op::Ge if v_hi == 0 => self.jump(JGT_K, 0, skip(2), L::Off(0))?,
                Op::Gt | Op::Ge => {
                    self.jump(JGT_K, v_hi, skip(3), L::Off(0))?;
                    self.jump(JEQ_K, v_hi, L::Off(0), L::Fail)?;
                }
                _ => {
                    self.jump(JGT_K, v_hi, L::Fail, L::Off(0))?;
                    if v_hi != 0 {
                        self.jump(JEQ_K, v_hi, L::Off(0), skip(2))?;
                    }
                }
            }
        }
        self.ld(lo_at)?;
        match c.op {
            Op::Eq => self.jump(JEQ_K, v_lo, holds, L::Fail)?,
            Op::Ne => self.jump(JEQ_K, v_lo, L::Fail, holds)?,
            Op::Gt => self.jump(JGT_K, v_lo, holds, L::Fail)?,
            Op::Ge => self.jump(JGE_K, v_lo, holds, L::Fail)?,
            Op::Lt => self.jump(JGE_K, v_lo, L::Fail, holds)?,
            _ => self.jump(JGT_K, v_lo, L::Fail, holds)?,
        }
        Ok(Some(true))
    }
}

/// A classic-BPF interpreter, as the kernel runs seccomp filters (the
/// tests and the fuzz target run every verdict through it); None for a
/// program that is invalid (bad opcode, jump or load out of range, no ret).
#[cfg(any(test, fuzzing))]
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
