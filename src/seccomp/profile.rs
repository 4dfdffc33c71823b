//! Front ends of the compiler: docker's built-in default profile, and a
//! docker/OCI JSON profile (`linux.seccomp` of config.json, or a file given
//! to `--security-opt seccomp=FILE`), both evaluated for one host and one
//! kept capability set, as moby does before handing the result to runc:
//! - `includes.caps` (all kept) / `excludes.caps` (none kept) against the
//!   container's capability set; `includes.arches` / `excludes.arches`
//!   against the host (docker's names: amd64, arm64); `minKernel` is taken
//!   as met (mydocker needs a newer kernel than any profile names);
//! - `archMap` picks the host's entry; `architectures` lists them directly;
//! - args repeating an index become one rule each (runc: any may match);
//! - names no architecture knows are skipped (libseccomp/runc do too);
//! - rules with the default action are dropped (runc; libseccomp refuses them).
use super::model::*;
use super::tables::{DEFAULT, DEFAULT_ALLOW, N, NAMES, NOCAP, RESTART, RESTARTS};
use crate::json::{Items, Kind, Value};

/// A profile the compiler cannot take: where (byte offset in the JSON text,
/// 0 for the built-in profile) and why (`why()`). Eight bytes: a result
/// fits in registers, where a `&[u8]` reason made every `?` go through memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Error {
    pub at: u32,
    pub code: Why,
}

/// The reasons, in the order of WHYS (json.rs's way: a code, not a slice).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Why {
    NotArray,
    Full,
    Builtin,
    NotObject,
    Listener,
    NoDefault,
    UnknownFlag,
    EntryNotObject,
    NoAction,
    TooManyConds,
    NameNotString,
    CapNotString,
    IncExcNotObjects,
    ErrnoRet,
    Notify,
    UnknownAction,
    CondIncomplete,
    NotU64,
    IndexBeyond5,
    UnknownOp,
    ArchNotString,
    UnknownArch,
    TooLong,
    TooManyCalls,
}

/// The text of each `Why`, '|'-separated.
const WHYS: &[u8] = b"must be an array|\
more rules or syscall names than mydocker's tables hold (1024 rules, 1024 names)|\
malformed built-in profile|\
a seccomp profile is a JSON object|\
seccomp listeners (listenerPath) are not supported|\
defaultAction is missing|\
unknown seccomp flag|\
a syscalls entry is an object|\
action is missing|\
more than 6 argument conditions|\
a syscall name is a string|\
a capability is a string|\
includes and excludes are objects|\
errnoRet must be an integer from 0 to 65535|\
SCMP_ACT_NOTIFY needs a seccomp listener (not supported)|\
unknown seccomp action|\
an argument condition needs index, value and op|\
not an unsigned 64-bit integer|\
argument index beyond 5|\
unknown or missing comparison op|\
an architecture is a string|\
unknown architecture|\
the filter needs more than BPF's 4096 instructions|\
more than 1024 (syscall name, rule) pairs";

impl Error {
    /// Why the profile is refused, e.g. "unknown seccomp action".
    pub fn why(&self) -> &'static [u8] {
        crate::words::nth_of(WHYS, b'|', self.code as usize)
    }

    /// `mydocker: seccomp: <what>: byte N: why`.
    pub fn report(self, what: &[u8]) {
        report(what, self.at, self.why())
    }
}

/// `mydocker: seccomp: <what>: byte N: why` (a JSON syntax error's too).
pub fn report(what: &[u8], at: u32, why: &[u8]) {
    crate::out::Line::new()
        .s(b"mydocker: seccomp: ")
        .arg(what)
        .s(b": byte ")
        .s(crate::limits::Dec::new(at as u64).as_bytes())
        .s(b": ")
        .s(why)
        .emit(2);
}

/// The array `v` (absent or null: none). Any other JSON type is refused, as
/// docker's and runc's typed decoders do: a rule silently dropped would
/// leave a syscall allowed that the profile meant to refuse.
fn array(v: Option<Value>) -> Result<Items, Error> {
    if let Some(v) = v.filter(|v| !matches!(v.kind(), Kind::Arr | Kind::Null)) {
        return bad(v, Why::NotArray);
    }
    Ok(crate::json::items_in(v))
}

fn bad<T>(v: Value, code: Why) -> Result<T, Error> {
    Err(Error { at: v.span().start as u32, code })
}

/// Index of `name` in tables::NAMES: a binary search over the whole names
/// stored every RESTART entries, then a walk through the front-coded rest.
// (#[inline(never)] here and on the other helpers: at opt-level "z" LLVM
// would otherwise copy them into each caller — a few hundred bytes each.)
#[inline(never)]
pub fn lookup(name: &[u8]) -> Option<u16> {
    let whole = |r: usize| {
        let at = RESTARTS[r] as usize + 1;
        let len = NAMES[at..].iter().position(|&c| c >= 0x80).unwrap_or(NAMES.len() - at);
        &NAMES[at..at + len]
    };
    // The last restart whose name is <= `name`.
    let (mut lo, mut hi) = (0, RESTARTS.len());
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if whole(mid) <= name {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut buf = [0u8; 64];
    let mut at = RESTARTS[lo] as usize;
    for i in lo * RESTART..N.min((lo + 1) * RESTART) {
        let len = decode(&mut at, &mut buf)?;
        if &buf[..len] == name {
            return Some(i as u16);
        }
    }
    None
}

/// The name at `*at` into `buf` (which holds the previous name), moving
/// `*at` to the next; its length.
pub fn decode(at: &mut usize, buf: &mut [u8; 64]) -> Option<usize> {
    let shared = (*NAMES.get(*at)? & 0x7f) as usize;
    let rest = NAMES.get(*at + 1..)?;
    let len = rest.iter().position(|&c| c >= 0x80).unwrap_or(rest.len());
    buf.get_mut(shared..shared + len)?.copy_from_slice(&rest[..len]);
    *at += len + 1;
    Some(shared + len)
}

/// Where a model is built: the caller's fixed tables.
pub struct Room<'r> {
    pub rules: &'r mut [Rule],
    pub calls: &'r mut [Call],
    nr: usize,
    nc: usize,
}

impl<'r> Room<'r> {
    pub fn new(rules: &'r mut [Rule], calls: &'r mut [Call]) -> Room<'r> {
        Room { rules, calls, nr: 0, nc: 0 }
    }

    fn rule(&mut self, r: Rule) -> Option<u16> {
        *self.rules.get_mut(self.nr)? = r;
        self.nr += 1;
        Some(self.nr as u16 - 1)
    }

    fn call(&mut self, name: u16, rule: u16) -> Option<()> {
        *self.calls.get_mut(self.nc)? = Call { name, rule };
        self.nc += 1;
        Some(())
    }

    pub fn model(&self, default: Act, arches: ArchSet, flags: u32) -> Model<'_> {
        Model { default, arches, flags, rules: &self.rules[..self.nr], calls: &self.calls[..self.nc] }
    }
}

/// docker's default profile for `host` and the kept capability set `caps`
/// (bit N = capability N): default ERRNO(EPERM), every ABI of the host
/// (the compiler leaves out those its kernel does not run).
pub fn default<'r>(host: Host, caps: u64, room: &'r mut Room) -> Result<Model<'r>, Error> {
    let host_bit = match host {
        Host::Aarch64 => 2,
        _ => 1,
    };
    // The unconditional allow list first (a bit per name), then the rest.
    let r = room.rule(Rule::NONE).ok_or(Error { at: 0, code: Why::Full })?;
    for name in allowed() {
        room.call(name, r).ok_or(Error { at: 0, code: Why::Full })?;
    }
    let mut w = &DEFAULT[..];
    while !w.is_empty() {
        let b = next_builtin(&mut w).ok_or(Error { at: 0, code: Why::Builtin })?;
        if !applies(&b, caps, host_bit) {
            continue;
        }
        let r = room.rule(b.rule).ok_or(Error { at: 0, code: Why::Full })?;
        for name in b.names() {
            room.call(name, r).ok_or(Error { at: 0, code: Why::Full })?;
        }
    }
    Ok(room.model(Act::Errno(libc::EPERM as u16), host.abis(), 0))
}

/// The names on docker's unconditional allow list (tables::DEFAULT_ALLOW).
pub fn allowed() -> impl Iterator<Item = u16> {
    (0..N as u16).filter(|&i| DEFAULT_ALLOW[i as usize / 8] & 1 << (i % 8) != 0)
}

/// A rule of the built-in profile.
pub struct Builtin {
    /// Name indices, u16 little-endian (see `names`).
    pub names: &'static [u8],
    pub rule: Rule,
    /// A capability that must be kept / dropped for the rule to apply.
    pub cap_kept: Option<u8>,
    pub cap_dropped: Option<u8>,
    /// Hosts it applies to (1 x86_64, 2 aarch64; 0: all).
    pub hosts: u8,
}

impl Builtin {
    pub fn names(&self) -> impl Iterator<Item = u16> {
        self.names.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]))
    }
}

/// Decodes the rule at the start of `w` (tables::DEFAULT's layout, see
/// tools/gen-syscalls.py) and moves past it; None if it is cut short.
pub fn next_builtin(w: &mut &'static [u8]) -> Option<Builtin> {
    let (&[n, act, data, kept, dropped, hosts, nargs], rest) = w.split_first_chunk::<7>()?;
    let (names, mut at) = rest.split_at_checked(2 * n as usize)?;
    let act = match act {
        0 => Act::Allow,
        _ => Act::Errno(data as u16),
    };
    let mut rule = Rule { act, ..Rule::NONE };
    for i in 0..(nargs as usize).min(MAX_CONDS) {
        let (&[arg, op, v0, v1, v2, v3, t0, t1, t2, t3], more) = at.split_first_chunk::<10>()?;
        let op = [Op::Ne, Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt, Op::MaskedEq][(op as usize).min(6)];
        let (value, two) = (u32::from_le_bytes([v0, v1, v2, v3]) as u64, u32::from_le_bytes([t0, t1, t2, t3]) as u64);
        rule.conds[i] = Cond { arg, op, value, two };
        rule.n += 1;
        at = more;
    }
    *w = at;
    let cap = |c: u8| (c != NOCAP).then_some(c);
    Some(Builtin { names, rule, cap_kept: cap(kept), cap_dropped: cap(dropped), hosts })
}

fn applies(b: &Builtin, caps: u64, host_bit: u8) -> bool {
    let has = |c: u8| caps & 1 << c != 0;
    b.cap_kept.is_none_or(has) && !b.cap_dropped.is_some_and(has) && (b.hosts == 0 || b.hosts & host_bit != 0)
}

/// A docker/OCI JSON profile (the `linux.seccomp` object, or a whole
/// profile file) for `host` and the kept capability set `caps`.
pub fn from_json<'r>(p: Value, host: Host, caps: u64, room: &'r mut Room) -> Result<Model<'r>, Error> {
    if p.kind() != Kind::Obj {
        return bad(p, Why::NotObject);
    }
    if let Some(v) = p.get("listenerPath").filter(|v| !v.is_null()) {
        return bad(v, Why::Listener);
    }
    let Some(d) = p.get("defaultAction") else { return bad(p, Why::NoDefault) };
    let default = action(d, p.get("defaultErrnoRet"))?;
    let arches = arches(p, host)?;
    let mut flags = 0;
    for f in array(p.get("flags"))? {
        let i = word(f, b"SECCOMP_FILTER_FLAG_", b"TSYNC LOG SPEC_ALLOW");
        let Some(bit) = i.and_then(|i| [FLAG_TSYNC, FLAG_LOG, FLAG_SPEC_ALLOW].get(i)) else {
            return bad(f, Why::UnknownFlag);
        };
        flags |= bit;
    }
    let go_arch = match host {
        Host::Aarch64 => &b"arm64"[..],
        _ => b"amd64",
    };
    for s in array(p.get("syscalls"))? {
        if s.kind() != Kind::Obj {
            return bad(s, Why::EntryNotObject);
        }
        if !wanted(s, caps, go_arch)? {
            continue;
        }
        let act = action(s.get("action").ok_or(Error { at: s.span().start as u32, code: Why::NoAction })?, s.get("errnoRet"))?;
        // A rule with the default action changes nothing but could shadow
        // another rule of the same syscall: runc drops it (libseccomp
        // refuses it).
        if act == default {
            continue;
        }
        let mut rule = Rule { act, ..Rule::NONE };
        let mut seen = 0u8;
        let mut repeats = false;
        for a in array(s.get("args"))? {
            let c = cond(a)?;
            let Some(slot) = rule.conds.get_mut(rule.n as usize) else { return bad(a, Why::TooManyConds) };
            *slot = c;
            rule.n += 1;
            repeats |= seen & 1 << c.arg != 0;
            seen |= 1 << c.arg;
        }
        // runc: conditions on distinct arguments must all hold; with an
        // index repeated, each condition is a rule of its own.
        let mut add = |rule: Rule| -> Result<(), Error> {
            let r = room.rule(rule).ok_or(Error { at: s.span().start as u32, code: Why::Full })?;
            names(s, |name| room.call(name, r).ok_or(Error { at: s.span().start as u32, code: Why::Full }))
        };
        if repeats {
            for c in rule.conds() {
                add(Rule { act, conds: [*c; MAX_CONDS], n: 1 })?;
            }
        } else {
            add(rule)?;
        }
    }
    Ok(room.model(default, arches, flags))
}

/// The entry's names (`names`, or docker's older `name`), known ones only.
fn names(s: Value, mut f: impl FnMut(u16) -> Result<(), Error>) -> Result<(), Error> {
    let mut each = |v: Value| match v.as_bytes() {
        None => bad(v, Why::NameNotString),
        Some(name) => lookup(name).map_or(Ok(()), &mut f),
    };
    for v in array(s.get("names"))? {
        each(v)?;
    }
    s.get("name").map_or(Ok(()), each)
}

/// docker's includes/excludes for the kept capabilities and the host.
#[inline(never)]
fn wanted(s: Value, caps: u64, go_arch: &[u8]) -> Result<bool, Error> {
    let has = |c: Value| -> Result<bool, Error> {
        let Some(name) = c.as_bytes() else { return bad(c, Why::CapNotString) };
        let name = name.strip_prefix(&b"CAP_"[..]).unwrap_or(name);
        Ok(crate::words::find(crate::caps::WORDS, name).is_some_and(|i| caps & 1 << i != 0))
    };
    let (inc, exc) = (s.get("includes"), s.get("excludes"));
    for c in list(inc, "caps")? {
        if !has(c)? {
            return Ok(false);
        }
    }
    for c in list(exc, "caps")? {
        if has(c)? {
            return Ok(false);
        }
    }
    let on_host = |v: Value| v.as_bytes() == Some(go_arch);
    let (mut listed, mut here) = (false, false);
    for v in list(inc, "arches")? {
        (listed, here) = (true, here || on_host(v));
    }
    if listed && !here {
        return Ok(false);
    }
    Ok(!list(exc, "arches")?.any(on_host))
}

/// The array `o.key` (nothing when absent).
fn list<'a>(o: Option<Value<'a>>, key: &str) -> Result<Items<'a>, Error> {
    if let Some(o) = o.filter(|o| !matches!(o.kind(), Kind::Obj | Kind::Null)) {
        return bad(o, Why::IncExcNotObjects);
    }
    array(o.and_then(|o| o.get(key)))
}

/// The index of string `v`, less `prefix`, among `words` (crate::words).
fn word(v: Value, prefix: &[u8], words: &[u8]) -> Option<usize> {
    crate::words::find(words, v.as_bytes()?.strip_prefix(prefix)?)
}

fn action(v: Value, errno: Option<Value>) -> Result<Act, Error> {
    let ret = |dflt: u16| -> Result<u16, Error> {
        match errno.filter(|e| !e.is_null()) {
            None => Ok(dflt),
            Some(e) => e.as_u64().and_then(|n| u16::try_from(n).ok()).ok_or(Error {
                at: e.span().start as u32,
                code: Why::ErrnoRet,
            }),
        }
    };
    Ok(match word(v, b"SCMP_ACT_", b"ALLOW ERRNO KILL KILL_THREAD KILL_PROCESS TRAP LOG TRACE NOTIFY") {
        Some(0) => Act::Allow,
        Some(1) => Act::Errno(ret(libc::EPERM as u16)?),
        Some(2 | 3) => Act::KillThread,
        Some(4) => Act::KillProcess,
        Some(5) => Act::Trap,
        Some(6) => Act::Log,
        Some(7) => Act::Trace(ret(libc::EPERM as u16)?),
        Some(8) => return bad(v, Why::Notify),
        _ => return bad(v, Why::UnknownAction),
    })
}

fn cond(a: Value) -> Result<Cond, Error> {
    let int = |k: &str, need: bool| -> Result<u64, Error> {
        match a.get(k) {
            None if !need => Ok(0),
            None => bad(a, Why::CondIncomplete),
            Some(v) => v.as_u64().ok_or(Error { at: v.span().start as u32, code: Why::NotU64 }),
        }
    };
    let arg = int("index", true)?;
    if arg > 5 {
        return bad(a, Why::IndexBeyond5);
    }
    let ops = [Op::Ne, Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt, Op::MaskedEq];
    let i = a.get("op").and_then(|v| word(v, b"SCMP_CMP_", b"NE LT LE EQ GE GT MASKED_EQ"));
    let Some(&op) = i.and_then(|i| ops.get(i)) else { return bad(a, Why::UnknownOp) };
    Ok(Cond { arg: arg as u8, op, value: int("value", true)?, two: int("valueTwo", false)? })
}

/// `architectures`, or docker's `archMap` entry for the host; the native
/// one always (libseccomp's filters always have it).
#[inline(never)]
fn arches(p: Value, host: Host) -> Result<ArchSet, Error> {
    let mut set = host.native().bit();
    let mut add = |v: Value| -> Result<(), Error> {
        if v.as_bytes().is_none() {
            return bad(v, Why::ArchNotString);
        }
        // libseccomp's names: ours in ARCHES' order, then those no host of
        // ours runs, which add nothing (any other is a typo, refused as
        // runc does).
        let words = b"X86_64 X86 X32 AARCH64 ARM MIPS MIPS64 MIPS64N32 MIPSEL MIPSEL64 MIPSEL64N32 PPC PPC64 \
                      PPC64LE S390 S390X PARISC PARISC64 RISCV64 LOONGARCH64 M68K SH SHEB";
        let Some(i) = word(v, b"SCMP_ARCH_", words) else { return bad(v, Why::UnknownArch) };
        set |= ARCHES.get(i).map_or(0, |a| a.bit());
        Ok(())
    };
    let list = p.get("architectures").filter(|v| !v.is_null());
    for a in array(list)? {
        add(a)?;
    }
    let native = match host {
        Host::Aarch64 => &b"SCMP_ARCH_AARCH64"[..],
        _ => b"SCMP_ARCH_X86_64",
    };
    for m in array(p.get("archMap"))? {
        if m.get("architecture").and_then(|v| v.as_bytes()) == Some(native) {
            for a in array(m.get("subArchitectures"))? {
                add(a)?;
            }
        }
    }
    Ok(set & host.abis())
}
