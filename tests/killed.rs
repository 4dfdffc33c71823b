//! A runtime killed at any moment leaves no container: SIGKILL mydocker at
//! a random point of its start-up, over and over, and no container process
//! may outlive it (the window between clone and PR_SET_PDEATHSIG included,
//! and the user switch of -u, after which the kernel clears the death signal).
mod common;
use common::*;
use std::time::{Duration, Instant};

/// A small deterministic generator: the same spins on every run.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn spin(us: u64) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_micros(us) {
        std::hint::spin_loop();
    }
}

/// Starts `mydocker run EXTRA sleep MARK` `n` times, SIGKILLs it after a
/// random spin of 0-3 ms (start-up takes about 1-2 ms here), and returns
/// how many containers outlived their runtime.
fn survivors(extra: &[&str], mark: &str, n: usize, rng: &mut Lcg) -> usize {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend(["sleep", mark]);
    let needle: Vec<u8> = format!("sleep\0{mark}").into_bytes();
    for _ in 0..n {
        let mut c = mydocker(&args).spawn().unwrap();
        spin(rng.below(3000));
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
        c.wait().unwrap();
    }
    // The kernel ends a PID namespace asynchronously: wait (bounded) for
    // the killed ones to go; a survivor never would.
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if processes_with(&needle).is_empty() {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let left = processes_with(&needle);
    for p in &left {
        // SAFETY: plain kill(2) of a leftover container process.
        unsafe { libc::kill(*p as i32, libc::SIGKILL) };
    }
    left.len()
}

#[test]
fn a_runtime_killed_at_any_moment_leaves_no_container() {
    need_root!();
    let n: usize = std::env::var("MYDOCKER_STRESS_N").ok().and_then(|v| v.parse().ok()).unwrap_or(200) / 4;
    let mut rng = Lcg(13);
    // -u: the kernel clears the death signal when the user changes.
    let user = ["-u", "65534:65534"].map(String::from).to_vec();
    let mut variants: Vec<(Vec<String>, &str)> =
        vec![(vec![], "987652"), (vec!["--init".into()], "987653"), (user, "987656")];
    if cgroup_dir("memory").is_some() && cgroup_dir("pids").is_some() {
        let l = ["-m", "32m", "--pids-limit", "20"].map(String::from).to_vec();
        variants.push((l, "987654"));
    } else {
        eprintln!("SKIP {}: the variant with limits (no memory or pids controller)", module_path!());
    }
    match std::env::var("MYDOCKER_ROOTFS").ok().filter(|r| std::path::Path::new(r).join("bin/sleep").exists()) {
        Some(r) => variants.push((vec!["--rootfs".into(), r], "987655")),
        None => eprintln!("SKIP {}: the --rootfs variant (no rootfs in $MYDOCKER_ROOTFS)", module_path!()),
    }
    let mut bad = vec![];
    for (extra, mark) in &variants {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let s = survivors(&extra, mark, n, &mut rng);
        if s > 0 {
            bad.push(format!("{extra:?}: {s} of {n} containers outlived their runtime"));
        }
    }
    // What SIGKILL leaves is cgroups, which gc takes at once (tests/reliability.rs).
    let _ = run(["gc"]);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
