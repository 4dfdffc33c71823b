//! What the fuzz targets (fuzz/) run, shared with a unit test that replays
//! every input they ever found (fuzz/regressions/<target>/): parsers must
//! return an error value for anything malformed, never panic.
use crate::cgroup::Layout;
use crate::cli::{self, Cmd};
use crate::frame;
use core::ffi::c_char;

/// The CLI parser on an argv made of the NUL-separated pieces of `data`.
pub fn cli(data: &[u8]) {
    let mut argv: [&[u8]; 64] = [&[]; 64];
    let mut n = 0;
    for piece in data.split(|&c| c == 0).take(64) {
        argv[n] = piece;
        n += 1;
    }
    if let Ok(Cmd::Run(r)) = cli::parse(&argv[..n]) {
        assert!(r.cmd >= 2 && (r.cmd <= n));
    }
}

/// The frame decoder on arbitrary bytes, as the child would receive them.
pub fn frame(data: &[u8]) {
    let Some(hb) = data.get(..frame::HEADER) else { return };
    let hb: &[u8; frame::HEADER] = hb.try_into().unwrap();
    let payload = &data[frame::HEADER..];
    let Ok(h) = frame::header(hb, payload.len()) else { return };
    let mut ptrs = [core::ptr::null::<c_char>(); 256];
    if h.ptrs() <= ptrs.len() {
        let _ = frame::strings(payload, &h, &mut ptrs[..h.ptrs()]);
    }
}

/// Every value parser: size, cpuset, shares, pids, cpus, volume, capability.
pub fn values(data: &[u8]) {
    let _ = crate::limits::parse_size(data);
    if let Ok(set) = crate::limits::parse_cpuset(data) {
        set.format(|_| {});
    }
    let _ = crate::limits::parse_shares(data);
    let _ = crate::limits::parse_pids(data);
    let _ = crate::limits::parse_cpus(data);
    let _ = crate::mounts::parse_volume(data);
    let _ = crate::caps::parse(data);
    let _ = cli::parse_user(data);
    let _ = crate::plan::Inherited::from_status(data);
}

/// The mountinfo and /proc/self/cgroup parsers, the mountinfo-free guess,
/// and the placement decision.
pub fn cgroup(data: &[u8]) {
    let mut l = Layout::new();
    let (mi, cg) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    // As discovery feeds them (the cgroup lines name the others), every
    // hierarchy kept, mount points ending in 'x' hidden.
    l.all = true;
    cg.split(|&c| c == b'\n').for_each(|line| l.cgroup_line(line));
    mi.split(|&c| c == b'\n').for_each(|line| l.mount_line(line, &[true; crate::cgroup::NCTRL], |p| !p.ends_with(b"x")));
    for m in l.others().iter().filter_map(|o| o.mount) {
        let _ = (l.path(m.point), l.path(m.root));
    }
    let _ = l.targets(&[true; crate::cgroup::NCTRL], None);
    let _ = l.targets(&[true, false, true, false, true, false], Some(b"/x/y"));
    // The guess on the same /proc/self/cgroup, on a filesystem where every
    // probe succeeds, then fails.
    let mut g = Layout::new();
    cg.split(|&c| c == b'\n').for_each(|line| g.cgroup_line(line));
    let _ = g.guess(&[true, true, true, false, true, false], |_| true)
        && g.targets(&[true, true, true, false, true, false], None).is_ok();
    let _ = g.guess(&[true; crate::cgroup::NCTRL], |_| false);
}

/// The JSON reader against serde_json on the same bytes: the same verdict
/// (accept/reject), and on acceptance every value equal — kinds, strings,
/// integers (as u64 and as i64), floats bit for bit, array lengths, and
/// object keys (distinct, the last repeat winning) with their values.
pub fn json(data: &[u8]) {
    let mut text = data.to_vec();
    let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(text.len())];
    let ours = crate::json::parse(&mut text, &mut nodes);
    let theirs = serde_json::from_slice::<serde_json::Value>(data);
    match (ours, theirs) {
        (Ok(d), Ok(v)) => assert!(same(d.root(), &v), "values differ on {:?}", String::from_utf8_lossy(data)),
        (Err(_), Err(_)) => {}
        (o, t) => panic!(
            "verdicts differ on {:?}: ours {:?}, serde_json {:?}",
            String::from_utf8_lossy(data),
            o.err(),
            t.err().map(|e| e.to_string())
        ),
    }
}

fn same(o: crate::json::Value, t: &serde_json::Value) -> bool {
    use crate::json::Kind;
    use serde_json::Value as J;
    match t {
        J::Null => o.is_null(),
        J::Bool(b) => o.as_bool() == Some(*b),
        J::Number(n) => {
            let float = || core::str::from_utf8(o.raw()).ok()?.parse::<f64>().ok();
            o.kind() == Kind::Num
                && o.as_u64() == n.as_u64()
                && o.as_i64() == n.as_i64()
                && (!n.is_f64() || float().map(f64::to_bits) == n.as_f64().map(f64::to_bits))
        }
        J::String(s) => o.as_str() == Some(s.as_str()),
        J::Array(a) => o.kind() == Kind::Arr && o.items().count() == a.len() && o.items().zip(a).all(|(x, y)| same(x, y)),
        J::Object(m) => {
            let keys: Vec<&str> = o.members().map(|(k, _)| k).collect();
            let distinct = keys.iter().enumerate().filter(|(i, k)| !keys[i + 1..].contains(k)).count();
            o.kind() == Kind::Obj && distinct == m.len() && m.iter().all(|(k, v)| o.get(k).is_some_and(|x| same(x, v)))
        }
    }
}

/// The seccomp compiler on a profile: JSON as given (starting with `{`), or
/// one built from the bytes (names, actions, operators, values). It must
/// never panic, and every program must be valid: jumps in range, a return
/// at the end, and a verdict for every input tried.
pub fn seccomp(data: &[u8]) {
    use crate::seccomp::{bpf, model::Host, Source, Work, MAX_INSNS};
    let text = if data.first() == Some(&b'{') { data.to_vec() } else { profile_from(data) };
    let mut t = text.clone();
    let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(t.len())];
    let Ok(d) = crate::json::parse(&mut t, &mut nodes) else { return };
    let caps = data.iter().fold(0u64, |a, &b| a.rotate_left(5) ^ b as u64);
    let mut out = vec![bpf::Insn { code: 0, jt: 0, jf: 0, k: 0 }; MAX_INSNS];
    let mut w = Box::new(Work::new());
    for host in [Host::X86_64, Host::X86_64NoX32, Host::Aarch64] {
        let Ok(p) = crate::seccomp::compile(Source::Json(d.root()), host, caps, &mut out, &mut w) else { continue };
        assert!(crate::seccomp::tests_support::valid(p.insns), "invalid program for {:?}", String::from_utf8_lossy(&text));
        // `lives` is the filter's own answer for execve and exit_group (arguments 0).
        let native = host.native();
        let lets = |name: &[u8]| {
            let nr = crate::seccomp::profile::lookup(name).and_then(|n| bpf::number(native, n)).unwrap_or(0);
            let v = crate::seccomp::tests_support::run(p.insns, native.audit(), nr, [0; 6]).unwrap_or(0);
            matches!(v & 0xffff_0000, 0x7fff_0000 | 0x7ffc_0000)
        };
        assert_eq!(p.lives, lets(b"execve") && lets(b"exit_group"));
        for (i, arch) in [0xc000_003eu32, 0x4000_0003, 0xc000_00b7, 0x4000_0028].into_iter().enumerate() {
            for nr in [0u32, 1, 59, 63, 221, 435, 0x4000_0000 + i as u32, u32::MAX] {
                let args = [caps, !caps, 1 << 32, 0, u64::MAX, 1 << 63];
                assert!(crate::seccomp::tests_support::run(p.insns, arch, nr, args).is_some());
            }
        }
    }
}

/// A profile made from bytes: each 8-byte chunk is one rule.
fn profile_from(data: &[u8]) -> Vec<u8> {
    const ACTS: [&str; 8] = ["ALLOW", "ERRNO", "KILL", "KILL_PROCESS", "TRAP", "LOG", "TRACE", "KILL_THREAD"];
    const OPS: [&str; 7] = ["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"];
    const NAMES: [&str; 12] =
        ["read", "write", "openat", "clone", "socket", "kill", "set_tls", "arch_prctl", "ipc", "getpid", "nope", "futex"];
    const ARCHES: [&str; 6] = ["X86_64", "X86", "X32", "AARCH64", "ARM", "S390X"];
    let b = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let mut s = format!(r#"{{"defaultAction": "SCMP_ACT_{}", "defaultErrnoRet": {}, "architectures": ["#, ACTS[b(0) % 8], b(1));
    let arches: Vec<String> = (0..6).filter(|i| b(2) & 1 << i != 0).map(|i| format!(r#""SCMP_ARCH_{}""#, ARCHES[i])).collect();
    s += &arches.join(",");
    s += r#"], "syscalls": ["#;
    for (n, c) in data.get(3..).unwrap_or(&[]).chunks(8).enumerate() {
        let c = |i: usize| c.get(i).copied().unwrap_or(0) as u64;
        if n > 0 {
            s.push(',');
        }
        s += &format!(r#"{{"names": ["{}", "{}"], "action": "SCMP_ACT_{}", "errnoRet": {}, "args": ["#, NAMES[c(0) as usize % 12], NAMES[c(1) as usize % 12], ACTS[c(2) as usize % 8], c(3));
        for k in 0..c(4) % 4 {
            if k > 0 {
                s.push(',');
            }
            let v = c(5).wrapping_mul(0x0101_0101_0101_0101).rotate_left((c(6) + k) as u32 * 8);
            s += &format!(r#"{{"index": {}, "value": {}, "valueTwo": {}, "op": "SCMP_CMP_{}"}}"#, (c(7) + k) % 6, v, v >> (c(6) % 64), OPS[(c(6) + k) as usize % 7]);
        }
        s += "]}";
    }
    s += "]}";
    s.into_bytes()
}

/// config.json → the model: every mapper on arbitrary JSON (a config's
/// shape when the input is an object). Refusals are values; nothing may
/// panic, and what is accepted must be consistent.
pub fn config(data: &[u8]) {
    use crate::oci::{cgroups, config, mounts};
    let mut text = data.to_vec();
    let mut nodes = vec![crate::json::Node::EMPTY; crate::json::nodes_for(text.len())];
    let Ok(d) = crate::json::parse(&mut text, &mut nodes) else { return };
    let root = d.root();
    let _ = config::unsupported(root);
    let mut st = config::Store::new();
    let p = root.get("process").map(|p| config::process(p, &mut st));
    if let Some(Ok(p)) = &p {
        use crate::cli::Args;
        assert!(st.args.count() > 0 && !st.args.arg(0).is_empty());
        assert!(p.cwd.starts_with(b"/"));
        assert!(st.nrlimits <= config::MAX_RLIMITS && st.ngroups <= config::MAX_GROUPS);
        let mut a = [0u8; 512];
        let _ = config::apparmor(root.get("process").unwrap(), &mut a);
    }
    let linux = root.get("linux");
    let mut st2 = config::Store::new();
    if let Ok(new) = config::namespaces(linux.and_then(|l| l.get("namespaces")), &mut st2) {
        assert!(new & libc::CLONE_NEWUSER == 0);
        let mut t = [0u8; 4096];
        let mut out = [(&b""[..], &b""[..]); config::MAX_SYSCTL];
        if let Ok(n) = config::sysctl(linux, new, &mut t, &mut out) {
            assert!(out[..n].iter().all(|(p, _)| p.starts_with(b"/proc/sys/") && !p.contains(&0)));
        }
    }
    let mut policy = crate::devices::Policy::new();
    if cgroups::resources(linux, &mut policy).is_ok() {
        let _ = cgroups::default_rules(linux, &mut policy);
    }
    let mut rb = [0u8; 4096];
    if let Ok(r) = config::rootfs(root.get("root"), b"/bundle", &mut rb) {
        let mut entries = vec![crate::mounts::EMPTY; crate::mounts::MAX_ENTRIES];
        let mut mtext = vec![0u8; crate::mounts::TEXT_CAP];
        let mut table = crate::mounts::Table::new(&mut entries, &mut mtext);
        if mounts::build(root, r, b"/bundle", b"/", b"/sys/fs/cgroup/pids/x\0/sys/fs/cgroup/cpu,cpuacct/x", &mut table).is_ok() {
            assert!(table.entries().iter().all(|e| table.cstr(e.target).ends_with(b"\0")));
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every input a fuzzer found stays a regression test.
    #[test]
    fn fuzz_regressions_do_not_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let targets: [(&str, fn(&[u8])); 7] = [
            ("cli", super::cli),
            ("frame", super::frame),
            ("values", super::values),
            ("cgroup", super::cgroup),
            ("json", super::json),
            ("seccomp", super::seccomp),
            ("config", super::config),
        ];
        let mut n = 0;
        for (name, f) in targets {
            for e in std::fs::read_dir(root.join(name)).into_iter().flatten().flatten() {
                f(&std::fs::read(e.path()).unwrap());
                n += 1;
            }
        }
        assert!(n > 0, "no regression inputs under {}", root.display());
    }
}
