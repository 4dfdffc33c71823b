//! Proof by difference: our filters and libseccomp's (tests/seccomp_ref.py,
//! Debian's python3-seccomp) give the same verdict for every (arch, nr, args)
//! of a corpus with boundary values, run through the BPF interpreter below.
use super::bpf::{self, Insn, MAX_INSNS};
use super::model::*;
use super::profile::Builtin;
use super::tables::{DEFAULT, N};
use super::*;
use super::tests_support::{run, valid};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn read_bpf(b: &[u8]) -> Vec<Insn> {
    b.chunks(8)
        .map(|c| Insn {
            code: u16::from_le_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

fn python() -> &'static str {
    "/usr/bin/python3"
}

fn reference_script() -> String {
    format!("{}/tests/seccomp_ref.py", env!("CARGO_MANIFEST_DIR"))
}

/// libseccomp present? The tests that need it say so loudly when it is not.
fn libseccomp() -> bool {
    let ok = Command::new(python()).args(["-c", "import seccomp"]).status().is_ok_and(|s| s.success());
    if !ok {
        println!("SKIP seccomp proof by difference: python3-seccomp is missing (make unit installs it: tools/seccomp-prereq.sh)");
    }
    ok
}

/// A temp file name of its own (tests run in parallel).
fn tmp(name: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("mydocker-seccomp-{}-{n}-{name}", std::process::id()))
}

/// The profile without x32 (in `architectures` and `archMap`): what
/// libseccomp builds for a host that runs no x32 (Host::X86_64NoX32).
fn without_x32(profile: &str) -> String {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Array(a) => {
                a.retain(|x| x.as_str() != Some("SCMP_ARCH_X32"));
                a.iter_mut().for_each(strip);
            }
            serde_json::Value::Object(o) => o.values_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(profile).unwrap();
    strip(&mut v);
    v.to_string()
}

/// libseccomp's filter for a JSON profile (without x32 for a host that
/// runs none).
fn reference(profile: &str, host: Host, caps: u64) -> Vec<Insn> {
    let (p, out) = (tmp("profile.json"), tmp("ref.bpf"));
    let profile = if host == Host::X86_64NoX32 { without_x32(profile) } else { profile.to_string() };
    std::fs::write(&p, profile).unwrap();
    let names: Vec<String> =
        (0..41).filter(|i| caps & 1 << i != 0).map(|i| String::from_utf8_lossy(crate::caps::NAMES[i]).into_owned()).collect();
    let host_s = if host == Host::Aarch64 { "aarch64" } else { "x86_64" };
    let st = Command::new(python())
        .args([&reference_script(), "compile", p.to_str().unwrap(), host_s, &names.join(","), out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success(), "seccomp_ref.py failed");
    let b = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&p);
    let _ = std::fs::remove_file(&out);
    read_bpf(&b)
}

/// Name `i`, decoded from the front-coded table.
fn name(i: usize) -> &'static str {
    static ALL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    &ALL.get_or_init(|| {
        let (mut at, mut buf) = (0, [0u8; 64]);
        (0..N)
            .map(|_| {
                let len = profile::decode(&mut at, &mut buf).unwrap();
                String::from_utf8(buf[..len].to_vec()).unwrap()
            })
            .collect()
    })[i]
}

#[test]
fn every_name_is_found_by_lookup_and_others_are_not() {
    for i in 0..N {
        assert_eq!(profile::lookup(name(i).as_bytes()), Some(i as u16), "{}", name(i));
    }
    for absent in ["", "a", "zzz", "read_", "rea", "openat3", "\u{ff}"] {
        assert_eq!(profile::lookup(absent.as_bytes()), None, "{absent}");
    }
    assert!((1..N).all(|i| name(i - 1) < name(i)), "sorted");
}

/// libseccomp's numbers for our names: arch → name index → nr.
fn libseccomp_numbers() -> BTreeMap<Arch, BTreeMap<usize, u32>> {
    let f = tmp("names");
    std::fs::write(&f, (0..N).map(name).collect::<Vec<_>>().join("\n")).unwrap();
    let out = Command::new(python()).args([&reference_script(), "resolve", f.to_str().unwrap()]).output().unwrap();
    let _ = std::fs::remove_file(&f);
    let mut m: BTreeMap<Arch, BTreeMap<usize, u32>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let mut w = line.split(' ');
        let arch = match w.next().unwrap() {
            "SCMP_ARCH_X86_64" => Arch::X86_64,
            "SCMP_ARCH_X86" => Arch::X86,
            "SCMP_ARCH_X32" => Arch::X32,
            "SCMP_ARCH_AARCH64" => Arch::Aarch64,
            _ => Arch::Arm,
        };
        let n = profile::lookup(w.next().unwrap().as_bytes()).unwrap() as usize;
        m.entry(arch).or_default().insert(n, w.next().unwrap().parse().unwrap());
    }
    m
}

impl PartialOrd for Arch {
    fn partial_cmp(&self, o: &Arch) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Arch {
    fn cmp(&self, o: &Arch) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*o as u8))
    }
}

/// Syscalls whose meaning on x86 (i386) libseccomp rewrites: it maps the
/// socket and SysV IPC calls onto their multiplexers socketcall(2)/ipc(2)
/// with a first-argument condition, where our filter takes the direct
/// numbers as the kernel's table has them. Both are compared on every
/// other number; these are printed, not hidden.
const X86_MULTIPLEXED: &[&str] = &[
    "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send", "recv",
    "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg",
    "sendmmsg", "semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl", "shmat", "shmdt",
    "shmget", "shmctl", "socketcall", "ipc",
];

/// Arguments: boundary values in every position, and each condition's own
/// values with their neighbours.
fn arg_sets(extra: &[u64]) -> Vec<[u64; 6]> {
    let mut vals: BTreeSet<u64> =
        [0, 1, 2, 8, 38, 39, 40, 41, 1 << 31, (1 << 32) - 1, 1 << 32, 1 << 63, u64::MAX, 0x7e02_0000, 0xffff_ffff_0000_0000]
            .into_iter()
            .collect();
    for &e in extra {
        vals.extend([e, e.wrapping_sub(1), e.wrapping_add(1), e & 0xffff_ffff, e | 1 << 32, e ^ 1 << 63]);
    }
    let mut sets = vec![[0u64; 6]];
    for i in 0..6 {
        for &v in &vals {
            let mut a = [0u64; 6];
            a[i] = v;
            sets.push(a);
        }
    }
    // Pairs on the first three arguments (rules with several conditions),
    // over every other value.
    for &v in vals.iter().step_by(2) {
        for &w in vals.iter().step_by(2) {
            sets.push([v, w, v, 0, 0, 0]);
            sets.push([v, 0, w, 0, 0, 0]);
        }
    }
    sets
}

struct Diff {
    compared: usize,
}

/// Compares the two filters over the corpus for `host`. On a host that
/// runs no x32 (`theirs` built without x32), ours answers every x32 number
/// (bit 30 under AUDIT_ARCH_X86_64: a call that cannot happen there) with
/// the profile's default action, where libseccomp's kills.
fn same_verdicts(ours: &[Insn], theirs: &[Insn], host: Host, extra: &[u64], what: &str) -> Diff {
    assert!(valid(ours), "{what}: our program is invalid");
    let lib = libseccomp_numbers();
    let arches: &[Arch] = match host {
        Host::X86_64 => &[Arch::X86_64, Arch::X86, Arch::X32],
        Host::X86_64NoX32 => &[Arch::X86_64, Arch::X86],
        Host::Aarch64 => &[Arch::Aarch64, Arch::Arm],
    };
    let sets = arg_sets(extra);
    let mut compared = 0;
    let mut skipped = BTreeSet::new();
    for &arch in arches {
        let mut nrs: BTreeSet<u32> = (0..N as u16).filter_map(|n| bpf::number(arch, n)).collect();
        nrs.extend(lib.get(&arch).into_iter().flat_map(|m| m.values().copied()));
        let base = if arch == Arch::X32 { 0x4000_0000 } else { 0 };
        let named = nrs.clone();
        nrs.extend([base, base + 600, base + 0xffff, 0x3fff_ffff, 0x4000_0000, 0xffff_ffff, 0xf_0000, 0xf_0007]);
        // Every number up to past the tables' end, and around the ARM-private
        // ones: the search tree's intervals and single-number exceptions.
        nrs.extend((base..base + 1100).chain(0xe_fff0..0xf_0020));
        let no_x32 = host == Host::X86_64NoX32 && arch == Arch::X86_64;
        for nr in nrs.into_iter().filter(|nr| !no_x32 || nr & 0x4000_0000 == 0) {
            // Numbers of names one side knows and the other does not, and
            // the calls libseccomp multiplexes on x86, are listed, not compared.
            let known_here = (0..N as u16).find(|&n| bpf::number(arch, n) == Some(nr));
            if let Some(n) = known_here {
                let theirs = lib.get(&arch).and_then(|m| m.get(&(n as usize)));
                if theirs != Some(&nr) || (arch == Arch::X86 && X86_MULTIPLEXED.contains(&name(n as usize))) {
                    skipped.insert(format!("{:?}:{}", arch, name(n as usize)));
                    continue;
                }
            } else if lib.get(&arch).is_some_and(|m| m.values().any(|v| *v == nr)) {
                skipped.insert(format!("{arch:?}:#{nr}"));
                continue;
            }
            // No rule names a number outside the tables: one argument set.
            let sets: &[[u64; 6]] = if named.contains(&nr) { &sets } else { &sets[..1] };
            for a in sets {
                let (x, y) = (run(ours, arch.audit(), nr, *a), run(theirs, arch.audit(), nr, *a));
                assert!(x.is_some(), "{what}: our program fails to run");
                assert_eq!(x, y, "{what}: {arch:?} nr {nr} args {a:x?}: ours {x:x?}, libseccomp {y:x?}");
                compared += 1;
            }
        }
    }
    if host == Host::X86_64NoX32 {
        compared += x32_gets_the_default(ours, theirs, &sets, what);
    }
    // An architecture the filter does not cover: both kill.
    for a in [0xc000_0028u32, 0x4000_0003, 0xc000_00b7, 0] {
        if arches.iter().any(|x| x.audit() == a) {
            continue;
        }
        assert_eq!(run(ours, a, 0, [0; 6]), run(theirs, a, 0, [0; 6]), "{what}: foreign arch {a:x}");
    }
    println!("{what}: {compared} verdicts equal; not compared (numbers that differ by design): {skipped:?}");
    Diff { compared }
}

/// Every x32 number (x32's table, every number up to past its end, the
/// top of the range) with every argument set: `ours` answers what
/// libseccomp's `theirs` answers for an x86_64 number that no table has
/// (the profile's default action). Returns the count compared.
fn x32_gets_the_default(ours: &[Insn], theirs: &[Insn], sets: &[[u64; 6]], what: &str) -> usize {
    let x86_64 = Arch::X86_64.audit();
    let default = run(theirs, x86_64, 0x3fff_ffff, [0; 6]).unwrap();
    let mut nrs: BTreeSet<u32> = (0..N as u16).filter_map(|n| bpf::number(Arch::X32, n)).collect();
    nrs.extend((0x4000_0000..0x4000_0000 + 1100).chain([0x4000_ffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff]));
    let mut compared = 0;
    for nr in nrs {
        for a in sets {
            assert_eq!(run(ours, x86_64, nr, *a), Some(default), "{what}: x32 nr {nr:#x} args {a:x?}");
            compared += 1;
        }
    }
    compared
}

/// docker's built-in profile as a JSON profile for libseccomp (test only).
fn default_as_json(host: Host) -> String {
    let caps_names = |m: u64| -> Vec<String> {
        (0..41).filter(|i| m & 1 << i != 0).map(|i| format!("\"CAP_{}\"", String::from_utf8_lossy(crate::caps::NAMES[i]))).collect()
    };
    let rule = |b: &Builtin| {
        let names: Vec<String> = b.names().map(|n| format!("\"{}\"", name(n as usize))).collect();
        let (act, errno) = match b.rule.act {
            Act::Allow => ("SCMP_ACT_ALLOW", String::new()),
            Act::Errno(e) => ("SCMP_ACT_ERRNO", format!(",\"errnoRet\":{e}")),
            _ => unreachable!(),
        };
        let args: Vec<String> = b
            .rule
            .conds()
            .iter()
            .map(|c| format!("{{\"index\":{},\"value\":{},\"valueTwo\":{},\"op\":\"{}\"}}", c.arg, c.value, c.two, op_name(c.op)))
            .collect();
        let arches = match b.hosts {
            0 => String::new(),
            h => format!(",\"arches\":[{}]", if h & 1 != 0 { "\"amd64\"" } else { "\"arm64\"" }),
        };
        format!(
            "{{\"names\":[{}],\"action\":\"{act}\"{errno},\"args\":[{}],\"includes\":{{\"caps\":[{}]{arches}}},\"excludes\":{{\"caps\":[{}]}}}}",
            names.join(","),
            args.join(","),
            caps_names(b.cap_kept.map_or(0, |c| 1 << c)).join(","),
            caps_names(b.cap_dropped.map_or(0, |c| 1 << c)).join(",")
        )
    };
    let arches = if host == Host::Aarch64 { "\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"" } else { "\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"" };
    let mut w = &DEFAULT[..];
    let allow = Builtin { names: &[], rule: Rule::NONE, cap_kept: None, cap_dropped: None, hosts: 0 };
    let names: Vec<String> = profile::allowed().map(|n| format!("\"{}\"", name(n as usize))).collect();
    let mut rules: Vec<String> = vec![rule(&allow).replacen("\"names\":[]", &format!("\"names\":[{}]", names.join(",")), 1)];
    while !w.is_empty() {
        rules.push(rule(&profile::next_builtin(&mut w).expect("a well-formed built-in profile")));
    }
    format!(
        "{{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":[{arches}],\"syscalls\":[{}]}}",
        rules.join(",\n")
    )
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Ne => "SCMP_CMP_NE",
        Op::Lt => "SCMP_CMP_LT",
        Op::Le => "SCMP_CMP_LE",
        Op::Eq => "SCMP_CMP_EQ",
        Op::Ge => "SCMP_CMP_GE",
        Op::Gt => "SCMP_CMP_GT",
        Op::MaskedEq => "SCMP_CMP_MASKED_EQ",
    }
}

fn ours(src: Source, host: Host, caps: u64) -> Vec<Insn> {
    let mut out = vec![Insn { code: 0, jt: 0, jf: 0, k: 0 }; MAX_INSNS];
    let mut w = Box::new(Work::new());
    let p = super::compile(src, host, caps, &mut out, &mut w).unwrap_or_else(|e| panic!("compile: {}", String::from_utf8_lossy(e.why())));
    p.insns.to_vec()
}

fn ours_json(text: &str, host: Host, caps: u64) -> Result<Vec<Insn>, profile::Error> {
    let mut t = text.as_bytes().to_vec();
    let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(t.len())];
    let d = crate::json::parse(&mut t, &mut nodes).expect("profile JSON");
    let mut out = vec![Insn { code: 0, jt: 0, jf: 0, k: 0 }; MAX_INSNS];
    let mut w = Box::new(Work::new());
    super::compile(Source::Json(d.root()), host, caps, &mut out, &mut w).map(|p| p.insns.to_vec())
}

const HOSTS: [Host; 3] = [Host::X86_64, Host::X86_64NoX32, Host::Aarch64];
const ALL_CAPS: u64 = (1 << 41) - 1;

#[test]
fn docker_default_equals_libseccomp_for_default_and_all_capabilities() {
    if !libseccomp() {
        return;
    }
    for host in HOSTS {
        for caps in [crate::caps::DOCKER_DEFAULT, ALL_CAPS, 0] {
            let theirs = reference(&default_as_json(host), host, caps);
            let d = same_verdicts(&ours(Source::Default, host, caps), &theirs, host, &[0x7e02_0000, 131072, 131080], &format!("docker default {host:?} caps {caps:x}"));
            assert!(d.compared > 10_000);
        }
    }
}

/// The default filter stays short: the kernel checks, converts and JITs
/// every instruction at each container start (0.17 µs each on the dev host).
#[test]
fn the_default_filter_is_short() {
    for (host, most) in [(Host::X86_64, 270), (Host::X86_64NoX32, 200), (Host::Aarch64, 200)] {
        let p = ours(Source::Default, host, crate::caps::DOCKER_DEFAULT);
        println!("docker default on {host:?}: {} instructions", p.len());
        assert!(p.len() <= most, "{host:?}: {} instructions", p.len());
    }
}

/// src/seccomp/prebuilt.rs holds what the compiler makes of docker's
/// default for docker's default capabilities (what `prepare` hands out
/// without compiling); `make seccomp-prebuilt` rewrites it.
#[test]
fn the_prebuilt_default_filter_is_current() {
    let mut asked = 0u64;
    let mut w = &DEFAULT[..];
    while let Some(b) = (!w.is_empty()).then(|| profile::next_builtin(&mut w).unwrap()) {
        asked |= b.cap_kept.map_or(0, |c| 1 << c) | b.cap_dropped.map_or(0, |c| 1 << c);
    }
    let mut text = String::from(
        "// @generated by `make seccomp-prebuilt` (src/seccomp/tests.rs,\n\
         // the_prebuilt_default_filter_is_current): docker's default profile as\n\
         // src/seccomp compiles it for docker's default capabilities on the\n\
         // common host (x86_64: a kernel that runs no x32). Do not edit.\n\
         use super::bpf::Insn;\n\n\
         /// The capabilities the default profile's rules ask about.\n",
    );
    text += &format!("pub const CAPS_ASKED: u64 = {asked:#x};\n\n");
    text += "const fn i(code: u16, jt: u8, jf: u8, k: u32) -> Insn {\n    Insn { code, jt, jf, k }\n}\n";
    // What ships: the filter for the common host (x86_64 without x32).
    for (host, arch) in [(Host::X86_64NoX32, "x86_64"), (Host::Aarch64, "aarch64")] {
        let p = ours(Source::Default, host, crate::caps::DOCKER_DEFAULT);
        // Capabilities the profile does not ask about change nothing.
        for other in [!asked, 1 << 40 | 1 << 3, (1 << 41) - 1 & !asked & !crate::caps::DOCKER_DEFAULT] {
            assert_eq!(ours(Source::Default, host, crate::caps::DOCKER_DEFAULT ^ other & !asked), p);
        }
        // Asked with all arguments 0, as `livable` would.
        for call in ["execve", "exit_group"] {
            let nr = bpf::number(host.native(), profile::lookup(call.as_bytes()).unwrap()).unwrap();
            assert_eq!(run(&p, host.native().audit(), nr, [0; 6]), Some(Act::Allow.ret()), "{call}");
        }
        text += &format!("\n#[cfg(any(test, target_arch = \"{arch}\"))]\n");
        text += &format!("pub static DEFAULT_{}: [Insn; {}] = [\n", arch.to_uppercase(), p.len());
        for row in p.chunks(4) {
            let items: Vec<String> = row.iter().map(|i| format!("i({:#x}, {}, {}, {:#x})", i.code, i.jt, i.jf, i.k)).collect();
            text += &format!("    {},\n", items.join(", "));
        }
        text += "];\n";
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/seccomp/prebuilt.rs");
    if std::env::var_os("MYDOCKER_REGEN").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let now = std::fs::read_to_string(path).unwrap_or_default();
    assert!(now == text, "{path} is stale: run `make seccomp-prebuilt`");
    assert_eq!(super::prebuilt::CAPS_ASKED, asked);
    assert_eq!(&super::prebuilt::DEFAULT_X86_64[..], &ours(Source::Default, Host::X86_64NoX32, crate::caps::DOCKER_DEFAULT)[..]);
    assert_eq!(super::PREBUILT_HOST, Host::X86_64NoX32);
    assert_eq!(&super::prebuilt::DEFAULT_AARCH64[..], &ours(Source::Default, Host::Aarch64, crate::caps::DOCKER_DEFAULT)[..]);
}

/// Parts of the program too long for an 8-bit jump: the search is split,
/// and a syscall with more rules than a jump reaches gets its own `ret`s.
#[test]
fn a_long_profile_equals_libseccomp() {
    if !libseccomp() {
        return;
    }
    let mut rules = vec![];
    for i in 1..=100u64 {
        rules.push(format!(
            r#"{{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": {i}, "args": [{{"index": 0, "value": {}, "op": "SCMP_CMP_EQ"}}]}}"#,
            i << 32 | i
        ));
    }
    for i in 0..70 {
        let n = name(i * 5);
        rules.push(format!(r#"{{"names": ["{n}"], "action": "SCMP_ACT_ERRNO", "errnoRet": {i}, "args": [{{"index": 1, "value": 7, "op": "SCMP_CMP_GT"}}]}}"#));
        // Disjoint from the rule above on 64 and 32 bits (libseccomp does
        // not keep the rules' order between overlapping conditions).
        rules.push(format!(r#"{{"names": ["{n}"], "action": "SCMP_ACT_TRAP", "args": [{{"index": 1, "value": {}, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}}]}}"#, !7u64));
    }
    let profile = format!(
        r#"{{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_ARM"], "syscalls": [{}]}}"#,
        rules.join(",")
    );
    for host in HOSTS {
        let theirs = reference(&profile, host, 0);
        let mine = ours_json(&profile, host, 0).unwrap();
        println!("long profile on {host:?}: {} instructions (libseccomp {})", mine.len(), theirs.len());
        same_verdicts(&mine, &theirs, host, &[1 << 32 | 1, 50 << 32 | 50, 100 << 32 | 100, 7, 1 << 32 | 7], &format!("long {host:?}"));
    }
}

#[test]
fn podman_default_equals_libseccomp() {
    if !libseccomp() {
        return;
    }
    let path = "/usr/share/containers/seccomp.json";
    let Ok(text) = std::fs::read_to_string(path) else {
        println!("SKIP podman_default_equals_libseccomp: {path} is missing (golang-github-containers-common; make unit installs it)");
        return;
    };
    for host in HOSTS {
        for caps in [crate::caps::DOCKER_DEFAULT, ALL_CAPS] {
            let theirs = reference(&text, host, caps);
            let mine = ours_json(&text, host, caps).unwrap();
            same_verdicts(&mine, &theirs, host, &[16, 9], &format!("podman default {host:?} caps {caps:x}"));
        }
    }
}

/// Every operator on boundary values and every action, on several arches.
#[test]
fn every_operator_and_action_equals_libseccomp() {
    if !libseccomp() {
        return;
    }
    let profile = r#"{
      "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_PPC64LE"],
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["getpid"], "action": "SCMP_ACT_KILL"},
        {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"},
        {"names": ["getuid"], "action": "SCMP_ACT_TRAP"},
        {"names": ["getgid"], "action": "SCMP_ACT_LOG"},
        {"names": ["geteuid"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
        {"names": ["getegid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
        {"names": ["close"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967296, "op": "SCMP_CMP_NE"}]},
        {"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2147483648, "op": "SCMP_CMP_LT"}]},
        {"names": ["dup2"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967295, "op": "SCMP_CMP_LE"}]},
        {"names": ["dup3"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 9223372036854775808, "op": "SCMP_CMP_EQ"}]},
        {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 3, "value": 4294967297, "op": "SCMP_CMP_GE"}]},
        {"names": ["flock"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 4, "value": 1, "op": "SCMP_CMP_GT"}]},
        {"names": ["fsync"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 5, "value": 18446744069414584320, "valueTwo": 4294967296, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["lseek"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2147483648, "op": "SCMP_CMP_GE"}]},
        {"names": ["pread64"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 40, "op": "SCMP_CMP_EQ"}]},
        {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_NE"}]},
        {"names": ["kill"], "action": "SCMP_ACT_TRAP", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]},
        {"names": ["arch_prctl", "breakpoint", "set_tls", "no_such_call"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["fchdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {"names": ["fchdir"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 9, "op": "SCMP_CMP_EQ"}]}
      ]}"#;
    let values = [4294967296, 2147483648, 4294967295, 9223372036854775808, 4294967297, 18446744069414584320, 8, 9, 40];
    for host in HOSTS {
        let theirs = reference(profile, host, 0);
        same_verdicts(&ours_json(profile, host, 0).unwrap(), &theirs, host, &values, &format!("every op {host:?}"));
    }
}

/// x32's condition blocks are i386's when i386 has the same rules (one
/// `ja` each): also when it does not have them all (newfstatat is not an
/// i386 call), or a block has more rules than a shared one holds.
#[test]
fn x32_condition_blocks_equal_libseccomp_shared_or_not() {
    if !libseccomp() {
        return;
    }
    let many: Vec<String> = (0..10).map(|v| format!(r#"{{"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 1, "value": {v}, "op": "SCMP_CMP_EQ"}}]}}"#)).collect();
    let shared = r#"{"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2147483648, "op": "SCMP_CMP_LT"}]},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}"#;
    let x32_only = r#"{"names": ["newfstatat"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 3, "value": 256, "op": "SCMP_CMP_EQ"}]}"#;
    for rules in [shared.to_string(), format!("{shared}, {x32_only}"), format!("{shared}, {}", many.join(","))] {
        let profile = format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [{rules}]}}"#
        );
        let theirs = reference(&profile, Host::X86_64, 0);
        same_verdicts(&ours_json(&profile, Host::X86_64, 0).unwrap(), &theirs, Host::X86_64, &[2147483648, 8, 256, 9], "x32 blocks");
    }
}

#[test]
fn our_numbers_equal_libseccomps() {
    if !libseccomp() {
        return;
    }
    let lib = libseccomp_numbers();
    let mut only_ours = vec![];
    for a in ARCHES {
        for n in 0..N {
            match (bpf::number(a, n as u16), lib.get(&a).and_then(|m| m.get(&n))) {
                (_, Some(_)) if a == Arch::X86 && X86_MULTIPLEXED.contains(&name(n)) => {}
                (Some(x), Some(y)) => assert_eq!(x, *y, "{a:?} {}", name(n)),
                (None, Some(y)) => panic!("{a:?} {}: libseccomp has {y}, our table none", name(n)),
                (Some(_), None) => only_ours.push(format!("{a:?}:{}", name(n))),
                (None, None) => {}
            }
        }
    }
    println!("numbers only in our tables (newer than libseccomp 2.5.4, or x86's direct socket calls): {only_ours:?}");
}

#[test]
fn the_default_filter_refuses_what_docker_refuses() {
    let p = ours(Source::Default, Host::X86_64, crate::caps::DOCKER_DEFAULT);
    assert!(valid(&p));
    let x86_64 = Arch::X86_64.audit();
    let nr = |n: &str| bpf::number(Arch::X86_64, profile::lookup(n.as_bytes()).unwrap()).unwrap();
    let eperm = Act::Errno(1).ret();
    // The list the README gives.
    for refused in [
        "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "kexec_load", "init_module",
        "finit_module", "delete_module", "mount", "umount2", "pivot_root", "unshare", "setns", "open_by_handle_at",
        "acct", "reboot", "settimeofday", "syslog", "iopl", "swapon", "quotactl",
    ] {
        assert_eq!(run(&p, x86_64, nr(refused), [0; 6]), Some(eperm), "{refused}");
    }
    for allowed in ["read", "execve", "openat", "clone", "wait4", "getdents64", "arch_prctl"] {
        assert_eq!(run(&p, x86_64, nr(allowed), [0; 6]), Some(Act::Allow.ret()), "{allowed}");
    }
    // socket: AF_ALG (38) and AF_VSOCK (40) refused, AF_INET (2) and AF_NFC (39) not.
    for (family, verdict) in [(2, Act::Allow), (38, Act::Errno(1)), (39, Act::Allow), (40, Act::Errno(1)), (41, Act::Allow)] {
        assert_eq!(run(&p, x86_64, nr("socket"), [family, 0, 0, 0, 0, 0]), Some(verdict.ret()), "socket({family})");
    }
    // personality: the usual five only.
    for (persona, verdict) in [(0, Act::Allow), (8, Act::Allow), (0x20000, Act::Allow), (0xffff_ffff, Act::Allow), (1, Act::Errno(1))] {
        assert_eq!(run(&p, x86_64, nr("personality"), [persona, 0, 0, 0, 0, 0]), Some(verdict.ret()), "personality({persona:x})");
    }
    // clone with a namespace flag is refused without CAP_SYS_ADMIN; clone3 says ENOSYS.
    assert_eq!(run(&p, x86_64, nr("clone"), [0x1000_0000, 0, 0, 0, 0, 0]), Some(eperm));
    assert_eq!(run(&p, x86_64, nr("clone3"), [0; 6]), Some(Act::Errno(38).ret()));
    // x32 calls are filtered too; another arch is killed.
    let x32 = |n: &str| bpf::number(Arch::X32, profile::lookup(n.as_bytes()).unwrap()).unwrap();
    assert_eq!(run(&p, x86_64, x32("keyctl"), [0; 6]), Some(eperm));
    assert_eq!(run(&p, x86_64, x32("getpid"), [0; 6]), Some(Act::Allow.ret()));
    assert_eq!(run(&p, Arch::Aarch64.audit(), 63, [0; 6]), Some(0));
    // Where the kernel runs no x32, every x32 number gets EPERM (not ALLOW:
    // the kernel would say ENOSYS anyway), and the x32 part is gone: no
    // comparison with an x32 number.
    let no_x32 = ours(Source::Default, Host::X86_64NoX32, crate::caps::DOCKER_DEFAULT);
    for n in ["keyctl", "getpid", "read", "execve"] {
        assert_eq!(run(&no_x32, x86_64, x32(n), [0; 6]), Some(eperm), "x32 {n}");
        assert_eq!(run(&no_x32, x86_64, nr(n), [0; 6]), run(&p, x86_64, nr(n), [0; 6]), "{n}");
    }
    let x32_k = |i: &Insn| i.code & 0x07 == 0x05 && i.k & 0xc000_0000 == 0x4000_0000 && i.k != Arch::X86.audit();
    assert!(p.iter().any(x32_k) && !no_x32.iter().any(x32_k));
    // With CAP_SYS_ADMIN the namespace calls come back.
    let admin = ours(Source::Default, Host::X86_64, crate::caps::DOCKER_DEFAULT | 1 << 21);
    assert_eq!(run(&admin, x86_64, nr("unshare"), [0; 6]), Some(Act::Allow.ret()));
}

#[test]
fn profile_errors_name_the_offending_value() {
    let e = |t: &str| ours_json(t, Host::X86_64, 0).err().map(|e| (e.at, String::from_utf8_lossy(e.why()).into_owned()));
    assert_eq!(e(r#"{"syscalls": []}"#).unwrap().1, "defaultAction is missing");
    assert_eq!(e(r#"{"defaultAction": "SCMP_ACT_NOPE"}"#), Some((18, "unknown seccomp action".into())));
    let bad_op = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]}"#;
    assert_eq!(e(bad_op).unwrap().1, "unknown or missing comparison op");
    let bad_index = r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#;
    assert_eq!(e(bad_index).unwrap().1, "argument index beyond 5");
    assert_eq!(e(r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}"#).unwrap().1, "unknown seccomp flag");
    assert_eq!(e(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}"#).unwrap().1, "errnoRet must be an integer from 0 to 65535");
}

#[test]
fn flags_are_passed_through() {
    let mut t = br#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]}"#.to_vec();
    let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(t.len())];
    let d = crate::json::parse(&mut t, &mut nodes).unwrap();
    let mut out = vec![Insn { code: 0, jt: 0, jf: 0, k: 0 }; MAX_INSNS];
    let mut w = Box::new(Work::new());
    let p = super::compile(Source::Json(d.root()), Host::X86_64, 0, &mut out, &mut w).unwrap();
    assert_eq!(p.flags, FLAG_TSYNC | FLAG_LOG | FLAG_SPEC_ALLOW);
}

#[test]
fn a_program_too_long_for_bpf_is_an_error() {
    // 250 syscalls with six conditions each: far beyond 4096 instructions.
    let mut s = String::from(r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ["#);
    for i in 0..250 {
        if i > 0 {
            s.push(',');
        }
        let conds: Vec<String> = (0..6).map(|a| format!(r#"{{"index": {a}, "value": 4294967297, "op": "SCMP_CMP_GT"}}"#)).collect();
        s += &format!(r#"{{"names": ["{}"], "action": "SCMP_ACT_ERRNO", "args": [{}]}}"#, name(i), conds.join(","));
    }
    s += "]}";
    let e = ours_json(&s, Host::X86_64, 0).err().unwrap();
    assert_eq!(e.why(), b"the filter needs more than BPF's 4096 instructions");
}

/// `Program::lives` (decided on the model, for the check that refuses a
/// profile under which no command could start or end) is what the filter
/// itself answers for execve and exit_group with all arguments 0.
#[test]
fn lives_is_what_the_filter_answers_for_execve_and_exit_group() {
    let mut seen = BTreeSet::new();
    for default in ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG"] {
        for act in ["SCMP_ACT_ALLOW", "SCMP_ACT_KILL", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"] {
            for op in ["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"] {
                for (value, two) in [(0u64, 0u64), (1, 0), (1 << 32, 0), (u64::MAX, 1), (5, 5)] {
                    for plain in ["", "SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW"] {
                        let mut rules = vec![format!(
                            r#"{{"names": ["execve"], "action": "{act}", "args": [{{"index": 1, "value": {value}, "valueTwo": {two}, "op": "SCMP_CMP_{op}"}}]}}"#
                        )];
                        if !plain.is_empty() {
                            rules.push(format!(r#"{{"names": ["exit_group", "execve"], "action": "{plain}"}}"#));
                        }
                        let profile = format!(r#"{{"defaultAction": "{default}", "syscalls": [{}]}}"#, rules.join(","));
                        for host in HOSTS {
                            let mut t = profile.as_bytes().to_vec();
                            let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(t.len())];
                            let d = crate::json::parse(&mut t, &mut nodes).unwrap();
                            let mut out = vec![Insn { code: 0, jt: 0, jf: 0, k: 0 }; MAX_INSNS];
                            let mut w = Box::new(Work::new());
                            let p = super::compile(Source::Json(d.root()), host, 0, &mut out, &mut w).unwrap();
                            let lets = |call: &str| {
                                let nr = bpf::number(host.native(), profile::lookup(call.as_bytes()).unwrap()).unwrap();
                                let v = run(p.insns, host.native().audit(), nr, [0; 6]).unwrap();
                                matches!(v & 0xffff_0000, 0x7fff_0000 | 0x7ffc_0000)
                            };
                            assert_eq!(p.lives, lets("execve") && lets("exit_group"), "{profile} on {host:?}");
                            seen.insert(p.lives);
                        }
                    }
                }
            }
        }
    }
    assert_eq!(seen.len(), 2, "both answers were tried");
}

#[test]
fn fuzz_regressions_compile_to_valid_programs() {
    crate::fuzzing::seccomp(br#"{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#);
}

#[test]
fn a_profile_larger_than_the_tables_is_an_error_not_a_crash() {
    let entry = |names: &str| format!(r#"{{"names": [{names}], "action": "SCMP_ACT_ERRNO"}}"#);
    let all: Vec<String> = (0..N).map(|i| format!("\"{}\"", name(i))).collect();
    // 3 × 481 (name, rule) pairs > 1024.
    let many_names = format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]}}"#, vec![entry(&all.join(",")); 3].join(","));
    let e = ours_json(&many_names, Host::X86_64, 0).err().unwrap();
    assert!(String::from_utf8_lossy(e.why()).starts_with("more rules or syscall names than mydocker's tables hold"));
    // 1100 rules > 1024 (a rule whose names no table knows takes room too).
    let many_rules =
        format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]}}"#, vec![entry("\"nosuchcall\""); 1100].join(","));
    let e = ours_json(&many_rules, Host::X86_64, 0).err().unwrap();
    assert!(String::from_utf8_lossy(e.why()).starts_with("more rules or syscall names than mydocker's tables hold"));
}

/// docker's format before 17.x and generated allow-lists: a rule per
/// syscall, every name the tables know, fits and compiles to the program
/// the same names in one rule give.
#[test]
fn a_rule_per_syscall_compiles_as_one_rule_with_every_name() {
    let all: Vec<String> = (0..N).map(|i| format!("\"{}\"", name(i))).collect();
    let profile = |rules: Vec<String>| {
        format!(r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{}]}}"#, rules.join(","))
    };
    let one_each = profile(all.iter().map(|n| format!(r#"{{"name": {n}, "action": "SCMP_ACT_ALLOW", "args": []}}"#)).collect());
    let together = profile(vec![format!(r#"{{"names": [{}], "action": "SCMP_ACT_ALLOW"}}"#, all.join(","))]);
    assert!(N > 256, "{N} names: more than the 256 rules the table used to hold");
    for host in HOSTS {
        let mine = ours_json(&one_each, host, 0).unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(e.why())));
        assert_eq!(mine, ours_json(&together, host, 0).unwrap(), "{host:?}");
    }
}
