//! The device policy of a container: which device nodes it may make (`m`),
//! read (`r`) and write (`w`). One list of rules, from which both
//! enforcements are generated, so they cannot disagree:
//! - cgroup v1: lines for the `devices` controller (`Policy::v1_lines`);
//! - cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program (`Policy::program`),
//!   loaded and attached by `sys::bpf`.
//!
//! Semantics (docker's and the OCI runtime spec's): the rules are read in
//! order and the LAST one that matches a request decides; a request no rule
//! matches is denied. An allow rule matches when it covers every access the
//! request asks for; a deny rule when it covers any of them.
//! `docker_default()` is docker's default policy for a container.
//!
//! Callers: `--rootfs` runs (docker's default plus `--device` rules) and,
//! through `push`, OCI `linux.resources.devices`.
use crate::limits::Why;
use crate::model::Device;

/// Access bits, as the kernel's BPF_DEVCG_ACC_* (include/uapi/linux/bpf.h).
pub const MKNOD: u8 = 1;
pub const READ: u8 = 2;
pub const WRITE: u8 = 4;
pub const RWM: u8 = MKNOD | READ | WRITE;

/// Device type; `All` matches both (v1's `a`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Type {
    All,
    /// BPF_DEVCG_DEV_CHAR is 2, BLOCK 1 (the values the program compares).
    Char,
    Block,
}

impl Type {
    fn letter(self) -> u8 {
        [b'a', b'c', b'b'][self as usize]
    }
    fn bpf(self) -> i32 {
        [0, 2, 1][self as usize]
    }
}

/// One rule: `None` as major or minor is `*` (any).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rule {
    pub ty: Type,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// MKNOD | READ | WRITE bits.
    pub access: u8,
    pub allow: bool,
}

impl Rule {
    pub const fn allow(ty: Type, major: Option<u32>, minor: Option<u32>, access: u8) -> Rule {
        Rule { ty, major, minor, access, allow: true }
    }

    /// Whether the rule applies to a request (see the module's semantics).
    #[allow(dead_code)] // the reference semantics, for tests and OCI callers
    pub fn matches(&self, ty: Type, major: u32, minor: u32, access: u8) -> bool {
        (self.ty == Type::All || self.ty == ty)
            && self.major.map_or(true, |m| m == major)
            && self.minor.map_or(true, |m| m == minor)
            && if self.allow { access & !self.access == 0 } else { access & self.access != 0 }
    }
}

/// "rwm" → bits; None for an empty or malformed string.
pub fn parse_access(s: &[u8]) -> Option<u8> {
    let mut a = 0;
    for &c in s {
        let bit = match c {
            b'r' => READ,
            b'w' => WRITE,
            b'm' => MKNOD,
            _ => return None,
        };
        a |= bit;
    }
    (a != 0).then_some(a)
}

/// Rules one policy may hold: the 10 defaults, `--device` flags and an OCI list.
pub const MAX_RULES: usize = 128;

/// Docker's default (moby oci/defaults.go, runc's AllowedDevices): make any
/// node; read and write only null, zero, full, random, urandom, tty, ptmx
/// and the pts terminals. Not `c 5:1` (docker and crun allow it): the
/// container's own /dev/console is a bind of its pts slave (136:N), so the
/// rule only ever served a mknod'ed node — the HOST's console, readable
/// and writable from inside (runc dropped it: 60e21ec, v1.0.0-rc91).
pub const DOCKER_DEFAULT: [Rule; 10] = {
    use Type::*;
    const fn c(major: u32, minor: u32) -> Rule {
        Rule::allow(Type::Char, Some(major), Some(minor), RWM)
    }
    [
        Rule::allow(Char, None, None, MKNOD),
        Rule::allow(Block, None, None, MKNOD),
        c(1, 3),                                 // null
        c(1, 5),                                 // zero
        c(1, 7),                                 // full
        c(1, 8),                                 // random
        c(1, 9),                                 // urandom
        c(5, 0),                                 // tty
        c(5, 2),                                 // ptmx
        Rule::allow(Char, Some(136), None, RWM), // pts/*
    ]
};

/// An ordered rule list in a fixed array.
#[derive(Clone, Copy)]
pub struct Policy {
    rules: [Rule; MAX_RULES],
    n: usize,
}

impl Policy {
    #[cfg(test)]
    pub const EMPTY: Policy = Policy { rules: [Rule::allow(Type::All, None, None, 0); MAX_RULES], n: 0 };

    /// An empty policy, built by a loop: `EMPTY` (not all zero bytes) is a
    /// 2.5 KiB constant that every use would copy from .rodata.
    #[inline(never)]
    pub fn new() -> Policy {
        Policy { rules: [Rule::allow(Type::All, None, None, 0); MAX_RULES], n: 0 }
    }

    /// A policy of exactly `rules`.
    #[cfg(test)]
    pub fn of(rules: &[Rule]) -> Result<Policy, Why> {
        let mut p = Policy::EMPTY;
        for r in rules {
            p.push(*r)?;
        }
        Ok(p)
    }

    /// Appends a rule (it wins over every earlier one it overlaps). As
    /// runc's device emulator: a rule for every device and access replaces
    /// all earlier ones (they can no longer match first), and under
    /// allow-everything an allow rule changes nothing — so podman
    /// --privileged's allow-all followed by each of the host's 100+ nodes
    /// is one rule, whatever the host has.
    pub fn push(&mut self, r: Rule) -> Result<(), Why> {
        let all = |r: &Rule| r.ty == Type::All && r.major.is_none() && r.minor.is_none() && r.access == RWM;
        if all(&r) {
            self.n = 0;
        } else if r.allow && self.n == 1 && self.rules[0].allow && all(&self.rules[0]) {
            return Ok(());
        }
        let slot = self.rules.get_mut(self.n).ok_or(b"too many device rules (limit 128)" as Why)?;
        *slot = r;
        self.n += 1;
        Ok(())
    }

    pub fn rules(&self) -> &[Rule] {
        self.rules.get(..self.n).unwrap_or(&[])
    }

    /// The reference answer: last match wins, default deny. Both generated
    /// forms are tested against it.
    #[allow(dead_code)] // the reference semantics, for tests and OCI callers
    pub fn allows(&self, ty: Type, major: u32, minor: u32, access: u8) -> bool {
        self.rules().iter().rev().find(|r| r.matches(ty, major, minor, access)).map_or(false, |r| r.allow)
    }

    /// The cgroup v1 writes, in order: (file, line). First `devices.deny`
    /// `a` (deny everything, forget inherited exceptions), then one line per
    /// rule — into `devices.allow` or `devices.deny`. The kernel keeps a
    /// default and a list of exceptions: under deny-all an allow line adds
    /// an exception and a deny line takes its accesses away again, so rule
    /// order is kept. (A deny line only removes an exception with the same
    /// type and numbers: `c 1:3 rwm` after `c *:* m` changes nothing, while
    /// the v2 program would refuse 1:3's mknod; docker's rules and
    /// `--device` never do this.) Each line ends in a newline (the kernel
    /// strips it) and is one write(2): the kernel takes one rule per write.
    pub fn v1_lines(
        &self,
        f: &mut dyn FnMut(&'static [u8], &[u8]) -> Result<(), crate::sys::Errno>,
    ) -> Result<(), crate::sys::Errno> {
        f(b"devices.deny", b"a\n")?;
        let mut buf = [0u8; 32];
        for r in self.rules() {
            let file: &'static [u8] = if r.allow { b"devices.allow" } else { b"devices.deny" };
            // v1 knows "a" only as everything, every access; any other
            // rule for both types is one line per type.
            if r.ty == Type::All && r.major.is_none() && r.minor.is_none() && r.access & RWM == RWM {
                f(file, b"a\n")?;
                continue;
            }
            for ty in [Type::Char, Type::Block] {
                if r.ty == Type::All || r.ty == ty {
                    let n = line(&Rule { ty, ..*r }, &mut buf);
                    f(file, &buf[..n])?;
                }
            }
        }
        Ok(())
    }

    /// The cgroup v2 program into `out`; the instruction count. Each rule,
    /// last first, is a block of compares that jumps to the next block on a
    /// mismatch and otherwise returns its verdict; after the last block the
    /// program returns 0 (deny). A rule that matches everything ends the
    /// program (the verifier refuses unreachable instructions).
    pub fn program(&self, out: &mut [u64]) -> Result<usize, Why> {
        let mut p = Prog { out, n: 0 };
        // r1 = ctx (struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; })
        p.put(insn(LDXW, 2, 1, 0, 0))?; // r2 = access_type
        p.put(insn(MOV64_X, 3, 2, 0, 0))?; // r3 = r2
        p.put(insn(AND64_K, 2, 0, 0, 0xffff))?; // r2 = type
        p.put(insn(RSH64_K, 3, 0, 0, 16))?; // r3 = access
        p.put(insn(LDXW, 4, 1, 4, 0))?; // r4 = major
        p.put(insn(LDXW, 5, 1, 8, 0))?; // r5 = minor
        for r in self.rules().iter().rev() {
            let checks = [
                (r.ty != Type::All) as usize,
                if r.access & RWM == RWM { 0 } else { 3 },
                r.major.is_some() as usize,
                r.minor.is_some() as usize,
            ];
            let len = checks.iter().sum::<usize>() + 2;
            let end = p.n + len;
            // Offsets count from the next instruction.
            let skip = |p: &Prog| (end - (p.n + 1)) as i16;
            if r.ty != Type::All {
                p.put(insn(JNE_K, 2, 0, skip(&p), r.ty.bpf()))?;
            }
            if checks[1] > 0 {
                p.put(insn(MOV64_X, 1, 3, 0, 0))?; // r1 = access (ctx no longer needed)
                // allow: every access asked must be in the rule,
                // (access & ~rule) == 0; deny: any access asked in the
                // rule, (access & rule) != 0.
                let (bits, mismatch) = if r.allow { (!r.access, JNE_K) } else { (r.access, JEQ_K) };
                p.put(insn(AND64_K, 1, 0, 0, (bits & RWM) as i32))?;
                p.put(insn(mismatch, 1, 0, skip(&p), 0))?;
            }
            if let Some(m) = r.major {
                p.put(insn(JNE_K, 4, 0, skip(&p), m as i32))?;
            }
            if let Some(m) = r.minor {
                p.put(insn(JNE_K, 5, 0, skip(&p), m as i32))?;
            }
            p.put(insn(MOV64_K, 0, 0, 0, r.allow as i32))?;
            p.put(insn(EXIT, 0, 0, 0, 0))?;
            if len == 2 {
                return Ok(p.n);
            }
        }
        p.put(insn(MOV64_K, 0, 0, 0, 0))?;
        p.put(insn(EXIT, 0, 0, 0, 0))?;
        Ok(p.n)
    }
}

/// "c 1:3 rwm\n" / "b *:* m\n" into `buf`; its length.
pub fn line(r: &Rule, buf: &mut [u8; 32]) -> usize {
    let mut n = 0;
    let mut put = |b: &[u8]| {
        buf[n..n + b.len()].copy_from_slice(b);
        n += b.len();
    };
    put(&[r.ty.letter()]);
    // " MAJOR:MINOR ", each a number or * (any).
    for (sep, v) in [(b' ', r.major), (b':', r.minor)] {
        put(&[sep]);
        match v {
            Some(x) => put(crate::limits::Dec::new(x as u64).as_bytes()),
            None => put(b"*"),
        }
    }
    put(b" ");
    for (bit, c) in [(READ, b'r'), (WRITE, b'w'), (MKNOD, b'm')] {
        if r.access & bit != 0 {
            put(&[c]);
        }
    }
    put(b"\n");
    n
}

/// Longest program: 6 loads, then per rule at most 8 instructions, then 2.
pub const MAX_INSNS: usize = 8 + 8 * MAX_RULES;

struct Prog<'a> {
    out: &'a mut [u64],
    n: usize,
}

impl Prog<'_> {
    fn put(&mut self, i: u64) -> Result<(), Why> {
        let slot = self.out.get_mut(self.n).ok_or(b"device program too long" as Why)?;
        *slot = i;
        self.n += 1;
        Ok(())
    }
}

// struct bpf_insn opcodes (include/uapi/linux/bpf_common.h, bpf.h).
pub const LDXW: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
pub const MOV64_X: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X
pub const MOV64_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
pub const AND64_K: u8 = 0x57; // BPF_ALU64 | BPF_AND | BPF_K
pub const RSH64_K: u8 = 0x77; // BPF_ALU64 | BPF_RSH | BPF_K
pub const JEQ_K: u8 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
pub const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
pub const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

/// One struct bpf_insn { u8 code; u8 dst:4, src:4; s16 off; s32 imm; } as
/// the little- or big-endian u64 it is in memory.
pub const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
    let regs = if cfg!(target_endian = "little") { (src << 4) | (dst & 0xf) } else { (dst << 4) | (src & 0xf) };
    let o = off.to_ne_bytes();
    let i = imm.to_ne_bytes();
    u64::from_ne_bytes([code, regs, o[0], o[1], i[0], i[1], i[2], i[3]])
}

#[cfg(test)]
mod tests;

/// Most `--device` flags on one command line.
pub const MAX_DEVICES: usize = 16;

/// A parsed `--device HOST[:CONTAINER][:rwm]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DeviceSpec<'a> {
    pub host: &'a [u8],
    /// Where the node is made inside the container (default: HOST's path).
    pub container: &'a [u8],
    pub access: u8,
}

/// Docker's reading: with two fields the second is the access if it reads
/// as one (`/dev/kvm:rw`), else the container path.
pub fn parse_device(spec: &[u8]) -> Result<DeviceSpec<'_>, Why> {
    let mut f = spec.split(crate::words::on(b':'));
    let host = f.next().unwrap_or(b"");
    let (second, third) = (f.next(), f.next());
    if f.next().is_some() {
        return Err(b"a device is HOST[:CONTAINER][:rwm]");
    }
    let (container, access) = match (second, third) {
        (None, _) => (host, RWM),
        (Some(s), None) => match parse_access(s) {
            Some(a) => (host, a),
            None => (s, RWM),
        },
        (Some(c), Some(a)) => (c, parse_access(a).ok_or(b"device access must be letters of rwm" as Why)?),
    };
    if !host.starts_with(b"/") {
        return Err(b"the device's host path must be absolute");
    }
    crate::mounts::check_inner_path(container)
        .map_err(|_| b"the device's container path must be absolute, without '..'" as Why)?;
    Ok(DeviceSpec { host, container, access })
}

/// The docker front end's `--device` flags: the nodes to make and the
/// policy (docker's default plus one rule per device, with the access
/// asked), in fixed tables.
pub struct Docker<'a> {
    nodes: [Device<'a>; MAX_DEVICES],
    rules: [Rule; DOCKER_DEFAULT.len() + MAX_DEVICES],
    n: usize,
}

impl<'a> Docker<'a> {
    /// Looks up each host node (symlinks followed, as docker does for
    /// /dev/disk/by-id/...): its type, numbers, mode and owner. Err: the
    /// spec and why, for `mydocker: run: --device 'SPEC': WHY`.
    /// Filled in place (after `Docker::new`): a Docker returned through a
    /// Result is 1.2 KB copied.
    pub fn from_flags(d: &mut Docker<'a>, specs: &[&'a [u8]]) -> Result<(), (&'a [u8], &'static [u8])> {
        for (i, &spec) in specs.iter().enumerate().take(MAX_DEVICES) {
            let s = parse_device(spec).map_err(|why| (spec, why))?;
            let n = crate::sys::node(s.host).map_err(|e| match e.0 {
                libc::ENODEV => (spec, &b"not a character or block device"[..]),
                _ => (spec, crate::sys::strerror(e)),
            })?;
            d.nodes[i] = Device {
                path: s.container,
                kind: n.mode & libc::S_IFMT,
                major: n.major,
                minor: n.minor,
                mode: n.mode & 0o7777,
                uid: n.uid,
                gid: n.gid,
            };
            let ty = if n.block() { Type::Block } else { Type::Char };
            d.rules[DOCKER_DEFAULT.len() + i] = Rule::allow(ty, Some(n.major), Some(n.minor), s.access);
            d.n = i + 1;
        }
        Ok(())
    }

    /// Docker's default rules and no device.
    pub fn new() -> Docker<'a> {
        const NONE: Device = Device { path: b"", kind: 0, major: 0, minor: 0, mode: 0, uid: 0, gid: 0 };
        let mut d = Docker {
            nodes: [NONE; MAX_DEVICES],
            rules: [Rule::allow(Type::All, None, None, 0); DOCKER_DEFAULT.len() + MAX_DEVICES],
            n: 0,
        };
        d.rules[..DOCKER_DEFAULT.len()].copy_from_slice(&DOCKER_DEFAULT);
        d
    }

    pub fn nodes(&self) -> &[Device<'a>] {
        self.nodes.get(..self.n).unwrap_or(&[])
    }

    pub fn rules(&self) -> &[Rule] {
        self.rules.get(..DOCKER_DEFAULT.len() + self.n).unwrap_or(&[])
    }
}
