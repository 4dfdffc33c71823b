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
    mi.split(|&c| c == b'\n').for_each(|line| l.mount_line(line));
    cg.split(|&c| c == b'\n').for_each(|line| l.cgroup_line(line));
    let _ = l.targets(&[true; crate::cgroup::NCTRL], None);
    let _ = l.targets(&[true, false, true, false, true], Some(b"/x/y"));
    // The guess on the same /proc/self/cgroup, on a filesystem where every
    // probe succeeds, then fails.
    let mut g = Layout::new();
    cg.split(|&c| c == b'\n').for_each(|line| g.cgroup_line(line));
    let _ = g.guess(&[true, true, true, false, true], |_| true)
        && g.targets(&[true, true, true, false, true], None).is_ok();
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

#[cfg(test)]
mod tests {
    /// Every input a fuzzer found stays a regression test.
    #[test]
    fn fuzz_regressions_do_not_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let targets: [(&str, fn(&[u8])); 5] = [
            ("cli", super::cli),
            ("frame", super::frame),
            ("values", super::values),
            ("cgroup", super::cgroup),
            ("json", super::json),
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
