//! Resource limits as cgroup files: one description (`Resources`) that both
//! front ends fill — the docker-style flags (`Resources::of`, from
//! cli::Limits) and OCI linux.resources (oci::cgroups::resources_of) — and
//! one writer for v1 and v2 (`write`), driven by a table: which controller,
//! which file in each version, how the value is spelled there.
use super::{fail, text, write_file, Ctrl, Fail, Need, Res, NCTRL, P};
use crate::cli::Limits;
use crate::devices::Policy;
use crate::limits::{offline_cpus, quota_us, shares_to_weight, CpuSet, Dec, CFS_PERIOD_US};
use crate::out::Line;
use crate::sys::{self, Errno, Fd};

/// The numeric limits, by index into `Resources::num` (in this order).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Knob {
    /// Bytes; -1 = unlimited.
    Memory,
    /// Bytes (v1 soft limit, v2 memory.low); -1 = unlimited.
    Reservation,
    /// Memory + swap, bytes (v1 memsw; v2 swap.max = swap - memory); -1 = unlimited.
    Swap,
    /// 0..=100 (v1 only).
    Swappiness,
    /// 1: the OOM killer disabled (v1 memory.oom_control; v2 has no such switch).
    NoOom,
    /// v1 cpu.shares units (v2: converted to cpu.weight).
    Shares,
    /// CFS period, µs.
    Period,
    /// CFS quota, µs per period; -1 = unlimited.
    Quota,
    /// CFS burst, µs a period may run past the quota with time saved
    /// earlier (v1 cpu.cfs_burst_us, v2 cpu.max.burst; Linux 5.14).
    Burst,
    /// Tasks; -1 = unlimited.
    Pids,
}

pub const NKNOB: usize = 10;

/// What a container's cgroups are limited to; None: left as the kernel
/// made it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Resources<'a> {
    pub num: [Option<i64>; NKNOB],
    /// cpuset.cpus and cpuset.mems lists, written as given.
    pub cpus: Option<&'a [u8]>,
    pub mems: Option<&'a [u8]>,
}

/// How a value is spelled in its file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spell {
    /// A decimal number.
    Num,
    /// A number, or unlimited for -1 ("-1" on v1, "max" on v2).
    Lim,
    /// A number, or "max" for -1 in both versions (pids.max).
    Max,
    /// v2: shares converted to a weight.
    Weight,
    /// v2: swap alone (memory + swap minus memory). The file is absent
    /// without swap accounting: skipped then.
    Swap,
    /// v2 cpu.max: "QUOTA PERIOD", written when either is set.
    CpuMax,
}

/// (knob, controller, spelling), in the order they are written: the memory
/// limit before memory+swap (v1 refuses a memsw limit below
/// memory.limit_in_bytes), the period before the quota, the burst after it
/// (the kernel refuses a burst above the quota). Their files are
/// text::P's V1_FILES and V2_FILES, in this order ("-": none in that version).
const FILES: [(Knob, Ctrl, Spell); NKNOB] = [
    (Knob::Memory, Ctrl::Memory, Spell::Lim),
    (Knob::Reservation, Ctrl::Memory, Spell::Lim),
    (Knob::Swap, Ctrl::Memory, Spell::Swap),
    (Knob::Swappiness, Ctrl::Memory, Spell::Num),
    (Knob::NoOom, Ctrl::Memory, Spell::Num),
    (Knob::Shares, Ctrl::Cpu, Spell::Weight),
    (Knob::Period, Ctrl::Cpu, Spell::Num),
    (Knob::Quota, Ctrl::Cpu, Spell::CpuMax),
    (Knob::Burst, Ctrl::Cpu, Spell::Num),
    (Knob::Pids, Ctrl::Pids, Spell::Max),
];

impl<'a> Resources<'a> {
    pub const NONE: Resources<'static> = Resources { num: [None; NKNOB], cpus: None, mems: None };

    /// The docker-style flags: -m is memory and memory+swap alike (swap is
    /// no way around the limit: v1 memsw = the limit, v2 swap.max = 0);
    /// --cpus is a quota per docker's 100 ms period.
    pub fn of(l: &Limits<'a>) -> Resources<'a> {
        let mem = l.memory.map(|m| m.0 as i64);
        let cpus = |f: fn(u64) -> u64| l.cpus.map(|m| f(m) as i64);
        Resources {
            // In Knob order.
            num: [
                mem,
                None,
                mem,
                None,
                None,
                l.shares.map(|s| s as i64),
                cpus(|_| CFS_PERIOD_US),
                cpus(quota_us),
                None,
                l.pids.map(|p| p as i64),
            ],
            cpus: l.cpuset.map(|c| c.0),
            mems: None,
        }
    }

    pub fn get(&self, k: Knob) -> Option<i64> {
        self.num[k as usize]
    }

    /// Which controllers these limits (and a device policy, when there is
    /// one) need.
    pub fn need(&self, devices: bool) -> Need {
        let mut n = [false; NCTRL];
        for &(k, c, ..) in FILES.iter() {
            n[c as usize] |= self.get(k).is_some();
        }
        n[Ctrl::Cpuset as usize] = self.cpus.is_some() || self.mems.is_some();
        n[Ctrl::Devices as usize] = devices;
        n
    }
}

/// `v` in decimal, or unlimited as the version spells it; the length.
fn spell(b: &mut [u8], v: i64, v2: bool) -> usize {
    let dec = Dec::new(v as u64);
    super::join(b, &[if v >= 0 { dec.as_bytes() } else if v2 { b"max" } else { b"-1" }])
}

/// Writes the limits of the controllers `ctrls` names into the cgroup `cg`
/// (one hierarchy; v2: the unified one): the device policy first, then
/// cpuset (mems before cpus: the order v1 demands), then every set knob.
/// Stops at the first failure, naming the file.
#[inline(never)]
pub fn write(cg: Fd, v2: bool, ctrls: &Need, r: &Resources, dev: &Policy) -> Res<()> {
    if ctrls[Ctrl::Devices as usize] {
        if v2 {
            super::v2::devices(cg, dev)
        } else {
            super::v1::devices(cg, dev)
        }?;
    }
    if ctrls[Ctrl::Cpuset as usize] {
        for (name, v) in [(P::MEMS, r.mems), (P::CPUS, r.cpus)] {
            if let Some(v) = v {
                write_file(cg, text::of(name), v).map_err(fail(P::SETTING, name))?;
            }
        }
    }
    for (i, &(k, c, how)) in FILES.iter().enumerate() {
        let name = i as u8 + if v2 { P::V2_FILES } else { P::V1_FILES } as u8;
        let file = text::text(name);
        let v = match how {
            Spell::CpuMax if v2 => r.get(k).or(r.get(Knob::Period).map(|_| -1)),
            _ => r.get(k),
        };
        let (Some(v), true, false) = (v, ctrls[c as usize], file == b"-") else { continue };
        // The value as the file takes it, and whether -1 is "max".
        let (v, max) = match (how, v2) {
            (Spell::Weight, true) => (shares_to_weight(v as u64) as i64, v2),
            (Spell::Max, _) => (v, true),
            (Spell::Swap, true) => {
                let m = r.get(Knob::Memory).unwrap_or(-1);
                (if v >= 0 && m >= 0 { (v - m).max(0) } else { v }, v2)
            }
            _ => (v, v2),
        };
        if how == Spell::CpuMax && r.get(Knob::Burst).is_some() {
            // A burst left above the new quota would make the kernel
            // refuse it (EINVAL): cleared first, set again after (the
            // next row), as runc gets there by retrying.
            let _ = write_file(cg, text::text(name + 1), b"0");
        }
        let mut b = [0u8; 48];
        let mut n = spell(&mut b, v, max);
        if how == Spell::CpuMax && v2 {
            let p = Dec::new(r.get(Knob::Period).unwrap_or(CFS_PERIOD_US as i64) as u64);
            n += super::join(&mut b[n..], &[b" ", p.as_bytes()]);
        }
        match write_file(cg, file, &b[..n]) {
            Err(Errno(libc::ENOENT)) if how == Spell::Swap => {}
            r => r.map_err(|e| Fail::new(P::SETTING as u8, name, e))?,
        }
    }
    Ok(())
}

/// How many CPUs are online, once `list` (a CPU list given as `what`)
/// names no other: else None after one line, `mydocker: <cmd>: <what>
/// '<list>': CPUs not online: 2-99 (online: 0-1)` (the kernel's ERANGE or
/// EINVAL at cpuset.cpus would name none of them), or that the online set
/// cannot be read. The reader of limits::offline_cpus's text.
#[inline(never)]
pub fn online_cpus(cmd: &[u8], what: &[u8], list: Option<&[u8]>) -> Option<u32> {
    let mut buf = [0u8; 1024];
    let mut m = Line::new();
    m.s(b"mydocker: ").s(cmd).s(b": ");
    let sets = super::read_file(sys::CWD, b"/sys/devices/system/cpu/online", &mut buf)
        .ok()
        .and_then(|t| offline_cpus(t, list));
    let Some((online, off)) = sets else {
        m.s(b"cannot read the online CPUs from /sys/devices/system/cpu/online").emit(2);
        return None;
    };
    let (Some(off), Some(arg)) = (off, list) else { return Some(online.count()) };
    let put = |m: &mut Line, set: &CpuSet| {
        set.format(|b| {
            m.s(b);
        })
    };
    m.s(what).s(b" '").arg(arg).s(b"': CPUs not online: ");
    put(&mut m, &off);
    m.s(b" (online: ");
    put(&mut m, &online);
    m.s(b")").emit(2);
    None
}
