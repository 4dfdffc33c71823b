//! The OCI `linux.seccomp` model the compiler takes: a default action, the
//! architectures, the filter flags, and rules (an action and argument
//! conditions, all of which must hold) with the syscall names they apply to
//! as indices into `tables::NAMES`. Front ends fill it: `profile.rs` from a
//! JSON profile, or from the built-in docker default.

/// What a filter returns for a syscall (seccomp(2) SECCOMP_RET_*).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Act {
    Allow,
    /// Fail with this errno.
    Errno(u16),
    /// SCMP_ACT_KILL: the thread (the process, when it has one thread).
    KillThread,
    KillProcess,
    /// SIGSYS.
    Trap,
    /// Allowed and logged.
    Log,
    /// To a ptrace tracer with this message (ENOSYS without one).
    Trace(u16),
}

impl Act {
    /// The filter's 32-bit return value.
    pub fn ret(self) -> u32 {
        match self {
            Act::Allow => 0x7fff_0000,
            Act::Errno(e) => 0x0005_0000 | e as u32,
            Act::KillThread => 0,
            Act::KillProcess => 0x8000_0000,
            Act::Trap => 0x0003_0000,
            Act::Log => 0x7ffc_0000,
            Act::Trace(m) => 0x7ff0_0000 | m as u32,
        }
    }
}

/// Argument comparisons (SCMP_CMP_*), on the full 64-bit argument, unsigned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Op {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `arg & value == value_two`.
    MaskedEq,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Cond {
    /// Argument index, 0..=5.
    pub arg: u8,
    pub op: Op,
    pub value: u64,
    pub two: u64,
}

/// Conditions per rule: one per argument (runc splits repeats into rules).
pub const MAX_CONDS: usize = 6;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rule {
    pub act: Act,
    pub conds: [Cond; MAX_CONDS],
    pub n: u8,
}

impl Rule {
    pub const NONE: Rule = Rule { act: Act::Allow, conds: [Cond { arg: 0, op: Op::Ne, value: 0, two: 0 }; MAX_CONDS], n: 0 };

    pub fn conds(&self) -> &[Cond] {
        &self.conds[..self.n as usize]
    }
}

/// Rule `rule` applies to syscall name `name` (index into tables::NAMES).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Call {
    pub name: u16,
    pub rule: u16,
}

/// Room a model is built in: rules and (name, rule) pairs. Profiles in the
/// wild have tens of rules and a few hundred names — or a rule per name
/// (docker's format before 17.x, generated allow-lists): as many rules as
/// pairs. (The table lives in a mapped arena: unused room costs no memory.)
pub const MAX_RULES: usize = 1024;
pub const MAX_CALLS: usize = 1024;

/// The architectures a filter covers (bit = `Arch as u8`).
pub type ArchSet = u8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arch {
    X86_64 = 0,
    X86 = 1,
    X32 = 2,
    Aarch64 = 3,
    Arm = 4,
}

pub const ARCHES: [Arch; 5] = [Arch::X86_64, Arch::X86, Arch::X32, Arch::Aarch64, Arch::Arm];

impl Arch {
    /// AUDIT_ARCH_* (linux/audit.h): what seccomp_data.arch holds.
    pub fn audit(self) -> u32 {
        match self {
            Arch::X86_64 | Arch::X32 => 0xc000_003e,
            Arch::X86 => 0x4000_0003,
            Arch::Aarch64 => 0xc000_00b7,
            Arch::Arm => 0x4000_0028,
        }
    }

    /// Arguments are compared on 64 bits; else on the low 32 bits with the
    /// values truncated, as libseccomp does for its 32-bit ABIs — x32
    /// included (its longs and pointers are 32-bit).
    pub fn wide(self) -> bool {
        !matches!(self, Arch::X86 | Arch::X32 | Arch::Arm)
    }

    pub fn bit(self) -> ArchSet {
        1 << self as u8
    }
}

/// The machine a filter is built for; its native architecture is always in
/// the filter (as with libseccomp), the others it can run when listed.
// The other host's variant is built for the tests only.
#[allow(dead_code)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Host {
    /// x86_64 running x32 too (CONFIG_X86_X32_ABI, not off at boot).
    X86_64,
    Aarch64,
    /// x86_64 whose kernel runs no x32 (most: Debian's keeps it off unless
    /// booted with syscall.x32=y; Fedora's and Arch's lack it). An x32
    /// number (bit 30) never reaches a syscall there: the kernel answers
    /// ENOSYS whatever the filter says, so a filter needs no x32 part.
    X86_64NoX32,
}

impl Host {
    pub fn native(self) -> Arch {
        match self {
            Host::Aarch64 => Arch::Aarch64,
            _ => Arch::X86_64,
        }
    }

    /// Every architecture a profile may ask for on this host (the ABIs of
    /// its native one).
    pub fn abis(self) -> ArchSet {
        match self {
            Host::Aarch64 => Arch::Aarch64.bit() | Arch::Arm.bit(),
            _ => Arch::X86_64.bit() | Arch::X86.bit() | Arch::X32.bit(),
        }
    }

    /// Whether the kernel runs `a` (one of `abis`).
    pub fn runs(self, a: Arch) -> bool {
        !(a == Arch::X32 && self == Host::X86_64NoX32)
    }
}

/// seccomp(2) SECCOMP_FILTER_FLAG_* the OCI model may ask for.
pub const FLAG_TSYNC: u32 = 1;
pub const FLAG_LOG: u32 = 2;
pub const FLAG_SPEC_ALLOW: u32 = 4;

pub struct Model<'a> {
    pub default: Act,
    /// The architectures the profile lists (of the host's ABIs, the
    /// native one always); the compiler writes a part for those of them
    /// the host runs.
    pub arches: ArchSet,
    pub flags: u32,
    pub rules: &'a [Rule],
    pub calls: &'a [Call],
}
