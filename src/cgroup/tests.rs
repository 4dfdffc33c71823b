//! Discovery on real fixtures of the three host layouts, and plans written
//! into fake cgroup trees in a temp dir (the same code that writes cgroupfs).
#[cfg(test)]
use super::*;
use crate::cli::{parse, Cmd};
use std::path::PathBuf;

const V1_MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
25 30 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
29 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpuset
32 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
";
const V1_CGROUP: &str = "\
12:pids:/user.slice/user-1000.slice/session-2.scope
5:cpu,cpuacct:/user.slice
4:memory:/user.slice/user-1000.slice/session-2.scope
3:cpuset:/
1:name=systemd:/user.slice/user-1000.slice/session-2.scope
0::/user.slice/user-1000.slice/session-2.scope
";

// This project's own machine: v1 controllers plus an empty cgroup2.
const HYBRID_MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
const HYBRID_CGROUP: &str = "\
9:name=systemd:/
8:pids:/
4:memory:/process_api/38c20ef62e66bbbf58f83bab0f8bb8e5
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
";

const V2_MOUNTINFO: &str = "\
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";
const V2_CGROUP: &str = "0::/user.slice/user-1000.slice/session-3.scope\n";

fn layout(mountinfo: &str, cgroup: &str) -> Layout {
    let mut l = Layout::new();
    mountinfo.lines().for_each(|x| l.mount_line(x.as_bytes(), &[true; NCTRL], |_| true));
    cgroup.lines().for_each(|x| l.cgroup_line(x.as_bytes()));
    l
}

/// A layout as discovery builds it: /proc/self/cgroup first (it names the
/// others), then mountinfo, with the mount points `hidden` unreachable;
/// `all`: the others kept (OCI create). Also which mount points were
/// checked.
fn discovered(mountinfo: &str, cgroup: &str, need: &Need, all: bool, hidden: &[&str]) -> (Layout, Vec<String>) {
    let mut l = Layout::new();
    l.all = all;
    cgroup.lines().for_each(|x| l.cgroup_line(x.as_bytes()));
    let checked = std::cell::RefCell::new(vec![]);
    let reachable = |p: &[u8]| {
        let p = String::from_utf8(p.to_vec()).unwrap();
        let r = !hidden.contains(&p.as_str());
        checked.borrow_mut().push(p);
        r
    };
    mountinfo.lines().for_each(|x| l.mount_line(x.as_bytes(), need, &reachable));
    (l, checked.into_inner())
}

/// (names, the caller's cgroup, mount point) of each other hierarchy.
fn others(l: &Layout) -> Vec<(String, String, Option<String>)> {
    let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    l.others().iter().map(|o| (s(l.path(o.names)), s(l.path(o.caller)), o.mount.map(|m| s(l.path(m.point))))).collect()
}

#[test]
fn every_hierarchy_without_our_controllers_is_kept_once_with_its_first_mount() {
    let cgroup = "9:name=systemd:/user.slice\n8:pids:/\n7:blkio:/b\n4:memory:/m\n2:cpuacct:/a\n1:cpu:/\n11:net_cls,net_prio:/n\n0::/u\n";
    let mountinfo = "\
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
41 31 0:37 / /elsewhere rw - cgroup cgroup rw,xattr,name=systemd
42 31 0:39 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
43 31 0:40 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
44 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
45 31 0:38 / /again rw - cgroup2 cgroup2 rw,nsdelegate
50 31 0:41 / /tmp rw - tmpfs tmpfs rw
";
    let (l, checked) = discovered(mountinfo, cgroup, &[true; NCTRL], true, &[]);
    let o = |n: &str, c: &str, m: Option<&str>| (n.to_string(), c.to_string(), m.map(String::from));
    assert_eq!(
        others(&l),
        vec![
            o("name=systemd", "/user.slice", Some("/sys/fs/cgroup/systemd")),
            o("blkio", "/b", None),
            o("cpuacct", "/a", Some("/sys/fs/cgroup/cpuacct")),
            o("net_cls,net_prio", "/n", Some("/sys/fs/cgroup/net_cls,net_prio")),
        ]
    );
    assert_eq!(l.path(l.v2.unwrap().point), b"/sys/fs/cgroup/unified");
    // Each kept mount checked once; the second mounts never.
    assert_eq!(checked, ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/net_cls,net_prio", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/unified"]);
    // Together with cpu, cpuacct is ours; without `all` (run) no other is kept.
    assert_eq!(discovered("", "3:cpu,cpuacct:/\n", &[true; NCTRL], true, &[]).0.others().len(), 0);
    assert_eq!(discovered(mountinfo, cgroup, &[true; NCTRL], false, &[]).0.others().len(), 0);
}

#[test]
fn a_hidden_mount_is_left_out_and_a_later_mount_of_the_hierarchy_serves() {
    let mountinfo = format!(
        "{HYBRID_MOUNTINFO}\
50 39 0:50 / /sys/fs/cgroup/pids rw - tmpfs tmpfs rw
51 41 0:51 / /sys/fs/cgroup/unified rw - tmpfs tmpfs rw
52 22 0:36 / /srv/pids rw - cgroup cgroup rw,pids
53 31 0:37 / /srv/systemd rw - cgroup cgroup rw,name=systemd
"
    );
    let hidden = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"];
    let (l, _) = discovered(&mountinfo, HYBRID_CGROUP, &[true; NCTRL], true, &hidden);
    let t = l.targets(&[false, false, false, true, false, false], None).unwrap();
    assert_eq!(summary(&t), vec![("/srv/pids".into(), "".into(), false, vec!["pids"])]);
    assert!(l.v2.is_none(), "the hidden cgroup2, never mounted again, is not there");
    let o = |n: &str, m: &str| (n.to_string(), "/".to_string(), Some(m.to_string()));
    assert_eq!(others(&l), vec![o("name=systemd", "/srv/systemd"), o("cpuacct", "/sys/fs/cgroup/cpuacct")]);
    // The Layout's text holds no path of a mount left out.
    assert!(!l.text[..l.used].windows(7).any(|w| w == b"unified"));
}

#[test]
fn only_mounts_of_the_needed_controllers_and_cgroup2_are_checked() {
    let pids = [false, false, false, true, false, false];
    let (l, checked) = discovered(HYBRID_MOUNTINFO, HYBRID_CGROUP, &pids, false, &[]);
    assert_eq!(checked, ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"]);
    assert!(l.v1[Ctrl::Memory as usize].is_none() && l.v1[Ctrl::Pids as usize].is_some());
}

/// Every limit controller (the device policy has tests of its own).
const ALL: Need = [true, true, true, true, false, false];

fn summary(t: &Targets) -> Vec<(String, String, bool, Vec<&'static str>)> {
    t.t[..t.n]
        .iter()
        .map(|x| {
            let names = CTRLS
                .iter()
                .filter(|c| x.ctrls[**c as usize])
                .map(|c| std::str::from_utf8(c.name()).unwrap())
                .collect();
            (
                String::from_utf8_lossy(x.mount).into(),
                String::from_utf8_lossy(x.rel).into(),
                x.v2,
                names,
            )
        })
        .collect()
}

#[test]
fn mountinfo_lines_with_and_without_optional_fields() {
    let m = parse_mountinfo_line(
        b"29 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:13 master:2 - cgroup cgroup rw,cpu,cpuacct",
    )
    .unwrap();
    assert_eq!(
        (m.root, m.mountpoint, m.fstype, m.superopts),
        (&b"/"[..], &b"/sys/fs/cgroup/cpu,cpuacct"[..], &b"cgroup"[..], &b"rw,cpu,cpuacct"[..])
    );
    let m = parse_mountinfo_line(b"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw").unwrap();
    assert_eq!(m.fstype, b"cgroup2");
    assert!(parse_mountinfo_line(b"garbage").is_none());
    assert!(parse_mountinfo_line(b"1 2 3 / /x rw no-separator").is_none());
}

#[test]
fn cgroup_lines_keep_colons_in_paths() {
    assert_eq!(parse_cgroup_line(b"0::/a:b"), Some((&b"0"[..], &b""[..], &b"/a:b"[..])));
    assert_eq!(
        parse_cgroup_line(b"5:cpu,cpuacct:/user.slice"),
        Some((&b"5"[..], &b"cpu,cpuacct"[..], &b"/user.slice"[..]))
    );
}

#[test]
fn pure_v1_with_co_mounted_cpu_and_cpuacct() {
    let l = layout(V1_MOUNTINFO, V1_CGROUP);
    let t = l.targets(&ALL, None).unwrap();
    assert_eq!(
        summary(&t),
        vec![
            (
                "/sys/fs/cgroup/memory".into(),
                "user.slice/user-1000.slice/session-2.scope".into(),
                false,
                vec!["memory"]
            ),
            ("/sys/fs/cgroup/cpu,cpuacct".into(), "user.slice".into(), false, vec!["cpu"]),
            ("/sys/fs/cgroup/cpuset".into(), "".into(), false, vec!["cpuset"]),
            ("/sys/fs/cgroup/pids".into(), "user.slice/user-1000.slice/session-2.scope".into(), false, vec!["pids"]),
        ]
    );
}

#[test]
fn hybrid_uses_v1_and_ignores_the_empty_cgroup2() {
    let l = layout(HYBRID_MOUNTINFO, HYBRID_CGROUP);
    let t = l.targets(&[true, false, false, false, false, false], None).unwrap();
    assert_eq!(
        summary(&t),
        vec![(
            "/sys/fs/cgroup/memory".into(),
            "process_api/38c20ef62e66bbbf58f83bab0f8bb8e5".into(),
            false,
            vec!["memory"]
        )]
    );
}

#[test]
fn pure_v2_puts_every_controller_in_one_hierarchy() {
    let l = layout(V2_MOUNTINFO, V2_CGROUP);
    let t = l.targets(&ALL, None).unwrap();
    assert_eq!(
        summary(&t),
        vec![(
            "/sys/fs/cgroup".into(),
            "user.slice/user-1000.slice/session-3.scope".into(),
            true,
            vec!["memory", "cpu", "cpuset", "pids"]
        )]
    );
}

#[test]
fn controllers_co_mounted_in_one_v1_hierarchy_share_a_target() {
    let mi = "40 31 0:40 / /cg/cpu+set rw - cgroup cgroup rw,cpu,cpuset\n";
    let l = layout(mi, "3:cpu,cpuset:/x\n");
    let t = l.targets(&[false, true, true, false, false, false], None).unwrap();
    assert_eq!(summary(&t), vec![("/cg/cpu+set".into(), "x".into(), false, vec!["cpu", "cpuset"])]);
}

#[test]
fn a_hierarchy_cpuset_shares_is_marked_for_filling_though_no_limit_needs_cpuset() {
    let mi = "40 31 0:40 / /cg/mem+set rw - cgroup cgroup rw,memory,cpuset\n41 31 0:41 / /cg/pids rw - cgroup cgroup rw,pids\n";
    let l = layout(mi, "3:memory,cpuset:/x\n4:pids:/\n");
    let t = l.targets(&[true, false, false, true, false, false], None).unwrap();
    assert_eq!(
        summary(&t),
        vec![
            ("/cg/mem+set".into(), "x".into(), false, vec!["memory", "cpuset"]),
            ("/cg/pids".into(), "".into(), false, vec!["pids"])
        ]
    );
}

/// A layout from /proc/self/cgroup text and a fake filesystem (the paths
/// that exist), the way discovery guesses it; None where it would fall
/// back to mountinfo.
fn guessed(cgroup: &str, need: &Need, files: &[&str]) -> Option<Vec<(String, String, bool, Vec<&'static str>)>> {
    let mut l = Layout::new();
    cgroup.lines().for_each(|x| l.cgroup_line(x.as_bytes()));
    let exists = |p: &[u8]| files.iter().any(|f| f.as_bytes() == p);
    l.guess(need, exists).then(|| summary(&l.targets(need, None).unwrap()))
}

/// What a distribution's v1 (or hybrid) /sys/fs/cgroup holds at each
/// hierarchy's root (cpu through the usual cpu -> cpu,cpuacct symlink).
const V1_ROOTS: &[&str] = &[
    "/sys/fs/cgroup/memory/release_agent",
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    "/sys/fs/cgroup/cpu/release_agent",
    "/sys/fs/cgroup/cpu/cpu.shares",
    "/sys/fs/cgroup/cpuset/release_agent",
    "/sys/fs/cgroup/cpuset/cpuset.cpus",
    "/sys/fs/cgroup/pids/release_agent",
];

#[test]
fn usual_v1_mounts_are_proven_by_root_files_without_mountinfo() {
    let need = [true, true, true, false, false, false];
    assert_eq!(
        guessed(V1_CGROUP, &need, V1_ROOTS).unwrap(),
        vec![
            (
                "/sys/fs/cgroup/memory".into(),
                "user.slice/user-1000.slice/session-2.scope".into(),
                false,
                vec!["memory"]
            ),
            ("/sys/fs/cgroup/cpu".into(), "user.slice".into(), false, vec!["cpu"]),
            ("/sys/fs/cgroup/cpuset".into(), "".into(), false, vec!["cpuset"]),
        ]
    );
    // This machine: the same targets as from its mountinfo.
    let need = [true, false, false, false, false, false];
    let from_mountinfo = summary(&layout(HYBRID_MOUNTINFO, HYBRID_CGROUP).targets(&need, None).unwrap());
    assert_eq!(guessed(HYBRID_CGROUP, &need, V1_ROOTS).unwrap(), from_mountinfo);
}

#[test]
fn a_usual_v2_mount_is_proven_by_being_a_root() {
    let roots = ["/sys/fs/cgroup/cgroup.controllers"];
    let from_mountinfo = summary(&layout(V2_MOUNTINFO, V2_CGROUP).targets(&ALL, None).unwrap());
    assert_eq!(guessed(V2_CGROUP, &ALL, &roots).unwrap(), from_mountinfo);
}

#[test]
fn anything_unusual_is_left_to_mountinfo() {
    let memory = [true, false, false, false, false, false];
    // A bind of a sub-hierarchy (a container's view): no release_agent.
    assert_eq!(guessed(HYBRID_CGROUP, &memory, &["/sys/fs/cgroup/memory/memory.limit_in_bytes"]), None);
    // Another hierarchy mounted where memory's usually is.
    assert_eq!(guessed(HYBRID_CGROUP, &memory, &["/sys/fs/cgroup/memory/release_agent"]), None);
    // pids has no file of its own at the root to prove it.
    assert_eq!(guessed(HYBRID_CGROUP, &[false, false, false, true, false, false], V1_ROOTS), None);
    // Two of our controllers in one hierarchy: only mountinfo knows where.
    assert_eq!(guessed("3:cpu,cpuset:/x\n", &[false, true, false, false, false, false], V1_ROOTS), None);
    // v2 below its root (cgroup.type exists), or no cgroup2 there at all
    // (hybrid: a tmpfs), or a controller in neither.
    let sub = ["/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/cgroup.type"];
    assert_eq!(guessed(V2_CGROUP, &memory, &sub), None);
    assert_eq!(guessed("0::/\n", &memory, V1_ROOTS), None);
    assert_eq!(guessed("", &memory, V1_ROOTS), None);
}

#[test]
fn cgroup_parent_overrides_the_callers_cgroup() {
    let l = layout(V2_MOUNTINFO, V2_CGROUP);
    let t = l.targets(&[true, false, false, false, false, false], Some(b"/batch/jobs")).unwrap();
    assert_eq!(summary(&t)[0].1, "batch/jobs");
}

#[test]
fn escaped_mount_points_are_unescaped() {
    let mi = "30 23 0:26 / /mnt/my\\040cgroups\\134x rw - cgroup cgroup rw,memory\n";
    let l = layout(mi, "4:memory:/a\n");
    let t = l.targets(&[true, false, false, false, false, false], None).unwrap();
    assert_eq!(summary(&t)[0].0, "/mnt/my cgroups\\x");
}

#[test]
fn a_mount_of_a_sub_hierarchy_is_resolved_relative_to_its_root() {
    // Inside a container: the memory hierarchy is mounted at its root /docker/abc.
    let mi = "30 23 0:26 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    let l = layout(mi, "4:memory:/docker/abc/sub\n");
    let t = l.targets(&[true, false, false, false, false, false], None).unwrap();
    assert_eq!(summary(&t)[0].1, "sub");
    assert!(layout(mi, "4:memory:/elsewhere\n").targets(&[true, false, false, false, false, false], None).is_err());
    assert_eq!(relative(b"/docker/abcd", b"/docker/abc"), None);
    assert_eq!(relative(b"/docker/abc", b"/docker/abc"), Some(&b""[..]));
}

#[test]
fn a_path_is_kept_once_and_paths_beyond_the_layouts_text_are_an_error() {
    // Paths repeated across hierarchies and mounts are kept once.
    let l = layout(HYBRID_MOUNTINFO, HYBRID_CGROUP);
    let caller = l.caller_v1[Ctrl::Memory as usize].unwrap();
    assert_eq!(l.path(caller), b"/process_api/38c20ef62e66bbbf58f83bab0f8bb8e5");
    assert_eq!(l.caller_v1[Ctrl::Cpuset as usize].map(|s| l.path(s)), Some(&b"/"[..]));
    assert!(l.used < 200, "{} bytes kept", l.used);
    // Distinct paths that together exceed TEXT_CAP: one line, ENAMETOOLONG.
    let long: String = (0..5).map(|i| format!("{}:{}:/{}\n", i + 1, ["memory", "cpu", "cpuset", "pids", "devices"][i], i.to_string().repeat(700))).collect();
    let l = layout(HYBRID_MOUNTINFO, &long);
    assert!(l.overflow);
    let e = l.targets(&[true, false, false, false, false, false], None).err().unwrap();
    assert_eq!((e.what(), e.errno), (&b"discovery"[..], Errno(libc::ENAMETOOLONG)));
    // Each alone fits: a 2,000-byte cgroup path is placed as before.
    let one = format!("4:memory:/{}\n", "a".repeat(2000));
    let l = layout(HYBRID_MOUNTINFO, &one);
    let t = l.targets(&[true, false, false, false, false, false], None).map(|t| summary(&t));
    assert_eq!(t.unwrap()[0].1.len(), 2000);
}

#[test]
fn the_initial_cgroup_namespace_is_told_by_its_links_text() {
    // PROC_CGROUP_INIT_INO (include/linux/proc_ns.h) as /proc/PID/ns/cgroup reads.
    assert_eq!(INIT_CGROUP_NS_LINK, format!("cgroup:[{}]", 0xEFFF_FFFBu32).as_bytes());
}

#[test]
fn a_missing_controller_names_the_controller_and_where_it_was_looked_for() {
    let e = layout("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "")
        .targets(&[false, false, false, true, false, false], None)
        .err()
        .unwrap();
    assert_eq!(e.what(), b"pids");
    assert!(e.reason().starts_with(b"controller not available"));
    // A pure v1 host without a pids hierarchy falls back to no cgroup2 either.
    let mi = "30 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    assert_eq!(
        layout(mi, "4:memory:/\n").targets(&[false, false, false, true, false, false], None).err().unwrap().what(),
        b"pids"
    );
}

#[test]
fn keyed_files_are_read_by_key() {
    let t = b"low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n";
    assert_eq!(keyed(t, b"oom_kill"), Some(1));
    assert_eq!(keyed(t, b"oom"), Some(2));
    assert_eq!(keyed(t, b"nope"), None);
}

// ---- fake trees ----

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("mydocker-unit-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
    fn put(&self, rel: &str, text: &str) {
        let f = self.0.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, text).unwrap();
    }
    fn get(&self, rel: &str) -> String {
        std::fs::read_to_string(self.0.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
    fn fd(&self) -> Fd {
        open_dir(sys::CWD, self.0.as_os_str().as_encoded_bytes()).unwrap()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn limits_of(argv: &[&[u8]]) -> crate::cli::Limits<'static> {
    let leaked: &'static [&'static [u8]] = Box::leak(
        argv.iter().map(|a| &*Box::leak(a.to_vec().into_boxed_slice())).collect::<Vec<_>>().into_boxed_slice(),
    );
    match parse(leaked).unwrap() {
        Cmd::Run(r) => r.limits,
        _ => panic!(),
    }
}

#[test]
fn v1_plan_written_into_a_fake_tree_copies_cpuset_from_the_parent() {
    let t = Tmp::new("v1");
    t.put("cpuset.cpus", "0-1\n");
    t.put("cpuset.mems", "0\n");
    let l = limits_of(&[
        b"m",
        b"run",
        b"-m",
        b"100m",
        b"-cpuset",
        b"1",
        b"-cpushare",
        b"512",
        b"--pids-limit",
        b"20",
        b"--cpus",
        b"0.5",
        b"sh",
    ]);
    let fd = t.fd();
    let m = create(fd, b"0123456789ab", &ALL, &l, &Policy::EMPTY, false).unwrap();
    assert_eq!(t.get("mydocker/cpuset.cpus"), "0-1\n");
    assert_eq!(t.get("mydocker/cpuset.mems"), "0\n");
    assert_eq!(t.get("mydocker/0123456789ab/cpuset.mems"), "0\n");
    assert_eq!(t.get("mydocker/0123456789ab/cpuset.cpus"), "1");
    assert_eq!(t.get("mydocker/0123456789ab/memory.limit_in_bytes"), "104857600");
    assert_eq!(t.get("mydocker/0123456789ab/cpu.shares"), "512");
    assert_eq!(t.get("mydocker/0123456789ab/cpu.cfs_period_us"), "100000");
    assert_eq!(t.get("mydocker/0123456789ab/cpu.cfs_quota_us"), "50000");
    assert_eq!(t.get("mydocker/0123456789ab/pids.max"), "20");
    // The child joins through `tasks`, opened for it before clone.
    std::fs::write(t.0.join("mydocker/0123456789ab/tasks"), "").unwrap();
    let mut cg = Cgroups { id: *b"0123456789ab", made: [Some(m), None, None, None, None, None], joins: [-1; NCTRL] };
    cg.open_joins(false).unwrap();
    let fds = cg.child_fds();
    assert!(fds[0] >= 0 && fds[1..].iter().all(|&f| f == -1));
    crate::sys::write_all(fds[0], b"0").unwrap();
    assert_eq!(t.get("mydocker/0123456789ab/tasks"), "0");
    cg.close_joins();
    assert_eq!(cg.child_fds(), [-1; NCTRL]);
    std::mem::forget(cg);
}

#[test]
fn a_join_file_that_cannot_be_opened_is_named_with_its_hierarchy() {
    let t = Tmp::new("joinfail");
    let l = limits_of(&[b"m", b"run", b"-cpuset", b"0", b"sh"]);
    t.put("cpuset.cpus", "0\n");
    t.put("cpuset.mems", "0\n");
    let m = create(t.fd(), b"0123456789ab", &[false, false, true, false, false, false], &l, &Policy::EMPTY, false).unwrap();
    let mut cg = Cgroups { id: *b"0123456789ab", made: [Some(m), None, None, None, None, None], joins: [-1; NCTRL] };
    let f = cg.open_joins(false).unwrap_err();
    assert_eq!((f.what(), f.file(), f.errno), (&b"joining the cpuset cgroup"[..], &b"tasks"[..], Errno(libc::ENOENT)));
    let f = cg.join_failed(0, Errno(libc::ENOSPC));
    assert_eq!(f.file(), b"tasks");
    assert_eq!(f.advice(), b"cpuset.cpus or cpuset.mems of the cgroup is empty");
    std::mem::forget(cg);
}

#[test]
fn a_child_born_in_its_v2_cgroup_has_nothing_to_join() {
    let t = Tmp::new("born");
    let l = limits_of(&[b"m", b"run", b"--pids-limit", b"5", b"sh"]);
    t.put("cgroup.controllers", "memory pids\n");
    t.put("cgroup.subtree_control", "\n");
    t.put("mydocker/cgroup.controllers", "memory pids\n");
    t.put("mydocker/cgroup.subtree_control", "\n");
    let m = create(t.fd(), b"0123456789ab", &[false, false, false, true, false, false], &l, &Policy::EMPTY, true).unwrap();
    std::fs::write(t.0.join("mydocker/0123456789ab/cgroup.procs"), "").unwrap();
    let mut cg = Cgroups { id: *b"0123456789ab", made: [Some(m), None, None, None, None, None], joins: [-1; NCTRL] };
    cg.open_joins(true).unwrap();
    assert_eq!(cg.child_fds(), [-1; NCTRL]);
    // Without CLONE_INTO_CGROUP, the same self-join through cgroup.procs.
    cg.open_joins(false).unwrap();
    let fds = cg.child_fds();
    crate::sys::write_all(fds[0], b"0").unwrap();
    assert_eq!(t.get("mydocker/0123456789ab/cgroup.procs"), "0");
    cg.close_joins();
    std::mem::forget(cg);
}

#[test]
fn v1_writes_only_the_files_of_the_hierarchys_own_controllers() {
    let t = Tmp::new("v1only");
    let l = limits_of(&[b"m", b"run", b"-m", b"1g", b"-cpuset", b"0", b"sh"]);
    let fd = t.fd();
    create(fd, b"aaaaaaaaaaaa", &[true, false, false, false, false, false], &l, &Policy::EMPTY, false).unwrap();
    assert_eq!(t.get("mydocker/aaaaaaaaaaaa/memory.limit_in_bytes"), "1073741824");
    assert!(!t.0.join("mydocker/aaaaaaaaaaaa/cpuset.cpus").exists());
    assert!(!t.0.join("mydocker/cpuset.cpus").exists());
}

#[test]
fn v2_plan_enables_controllers_and_converts_shares_to_weight() {
    let t = Tmp::new("v2");
    t.put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    t.put("cgroup.subtree_control", "\n");
    t.put("mydocker/cgroup.controllers", "cpuset cpu io memory pids\n");
    t.put("mydocker/cgroup.subtree_control", "cpu\n");
    let l = limits_of(&[
        b"m",
        b"run",
        b"-m",
        b"64m",
        b"--cpu-shares",
        b"1024",
        b"--cpus",
        b"1.5",
        b"--cpuset-cpus",
        b"0-1",
        b"--pids-limit",
        b"7",
        b"sh",
    ]);
    let fd = t.fd();
    create(fd, b"bbbbbbbbbbbb", &ALL, &l, &Policy::EMPTY, true).unwrap();
    assert_eq!(t.get("cgroup.subtree_control"), "+memory +cpu +cpuset +pids");
    // Already-enabled controllers are not written again.
    assert_eq!(t.get("mydocker/cgroup.subtree_control"), "+memory +cpuset +pids");
    assert_eq!(t.get("mydocker/bbbbbbbbbbbb/memory.max"), "67108864");
    assert_eq!(t.get("mydocker/bbbbbbbbbbbb/cpu.weight"), "100");
    assert_eq!(t.get("mydocker/bbbbbbbbbbbb/cpu.max"), "150000 100000");
    assert_eq!(t.get("mydocker/bbbbbbbbbbbb/cpuset.cpus"), "0-1");
    assert_eq!(t.get("mydocker/bbbbbbbbbbbb/pids.max"), "7");
}

#[test]
fn v2_refuses_a_controller_the_parent_does_not_offer() {
    let t = Tmp::new("v2missing");
    t.put("cgroup.controllers", "cpu io\n");
    t.put("cgroup.subtree_control", "");
    let l = limits_of(&[b"m", b"run", b"-m", b"64m", b"sh"]);
    let fd = t.fd();
    let e = create(fd, b"cccccccccccc", &[true, false, false, false, false, false], &l, &Policy::EMPTY, true).err().unwrap();
    assert_eq!((e.what(), e.file()), (&b"memory"[..], &b"cgroup.controllers"[..]));
    assert!(!t.0.join("mydocker").exists(), "nothing may be created on a refused plan");
}

#[test]
fn lines_stream_through_a_fixed_buffer_and_overlong_ones_are_errors() {
    let t = Tmp::new("lines");
    t.put("f", "one\ntwo\nthree");
    let p = t.0.join("f");
    let mut got = vec![];
    let mut buf = [0u8; 8];
    for_each_line(p.as_os_str().as_encoded_bytes(), &mut buf, &mut |l: &[u8]| got.push(l.to_vec())).unwrap();
    assert_eq!(got, vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
    t.put("g", "this line is far too long\n");
    let p = t.0.join("g");
    assert_eq!(for_each_line(p.as_os_str().as_encoded_bytes(), &mut buf, &mut |_| {}), Err(Errno(libc::E2BIG)));
}

#[test]
fn oom_verdict_is_killed_only_when_pid1_died_of_sigkill_and_the_count_rose() {
    let c = |n, exact| Some(OomCount { n, exact });
    assert_eq!(oom_verdict(true, c(1, true)), OomVerdict::Killed);
    assert_eq!(oom_verdict(true, c(3, false)), OomVerdict::Killed);
    // PID 1 exited on its own (or of another signal) while a child was killed.
    assert_eq!(oom_verdict(false, c(1, true)), OomVerdict::Survived(1));
    assert_eq!(oom_verdict(false, c(4, true)), OomVerdict::Survived(4));
    // SIGKILL from someone else: no OOM kill happened.
    assert_eq!(oom_verdict(true, c(0, true)), OomVerdict::None);
    assert_eq!(oom_verdict(false, c(0, true)), OomVerdict::None);
    // Limit hits (pre-4.13 failcnt) are not kills: nothing to count.
    assert_eq!(oom_verdict(false, c(7, false)), OomVerdict::None);
    // No memory cgroup.
    assert_eq!(oom_verdict(true, None), OomVerdict::None);
}

#[test]
fn v1_device_policy_is_written_one_rule_per_line_after_deny_all() {
    let t = Tmp::new("v1dev");
    let l = limits_of(&[b"m", b"run", b"sh"]);
    let p = Policy::of(&crate::devices::DOCKER_DEFAULT).unwrap();
    create(t.fd(), b"dddddddddddd", &[false, false, false, false, true, false], &l, &p, false).unwrap();
    assert_eq!(t.get("mydocker/dddddddddddd/devices.deny"), "a\n");
    let allow = t.get("mydocker/dddddddddddd/devices.allow");
    assert_eq!(allow.lines().count(), crate::devices::DOCKER_DEFAULT.len(), "{allow}");
    assert!(allow.starts_with("c *:* m\nb *:* m\nc 1:3 rwm\n") && allow.ends_with("c 136:* rwm\n"), "{allow}");
}

#[test]
fn v2_with_only_the_device_policy_enables_no_controller() {
    let t = Tmp::new("v2dev");
    // No cgroup.controllers / subtree_control at all: nothing may be read
    // or written for them (the program itself needs a real cgroup).
    assert!(v2::prepare(t.fd(), &[false, false, false, false, true, false]).is_ok());
    assert!(!t.0.join("cgroup.subtree_control").exists());
    assert!(t.0.join("mydocker").is_dir());
}

/// Whether another open file description can take `path`'s lock now.
fn lockable(path: &std::path::Path, op: i32) -> bool {
    let fd = open_dir(sys::CWD, path.as_os_str().as_encoded_bytes()).unwrap();
    let r = sys::flock(fd, op | libc::LOCK_NB).is_ok();
    sys::close(fd);
    r
}

#[test]
fn a_made_cgroup_is_owned_while_its_fd_lives_and_mydocker_is_left_unlocked() {
    let t = Tmp::new("own");
    let parent = t.fd();
    let cg = make(parent, b"0123456789ab").unwrap();
    let dir = t.0.join("mydocker/0123456789ab");
    // gc's test: an exclusive lock on the cgroup fails while we hold it.
    assert!(!lockable(&dir, libc::LOCK_EX));
    // The shared lock on `mydocker` is gone once make returns.
    assert!(lockable(&t.0.join("mydocker"), libc::LOCK_EX));
    sys::close(cg);
    assert!(lockable(&dir, libc::LOCK_EX));
    sys::close(parent);
}

#[test]
fn make_waits_while_gc_holds_mydocker() {
    let t = Tmp::new("wait");
    std::fs::create_dir(t.0.join("mydocker")).unwrap();
    let gc = open_dir(sys::CWD, t.0.join("mydocker").as_os_str().as_encoded_bytes()).unwrap();
    sys::flock(gc, libc::LOCK_EX).unwrap();
    let parent = t.fd();
    let h = std::thread::spawn(move || make(parent, b"0123456789ab").map(|cg| sys::close(cg)));
    // The maker waits for the lock (a "->" line of ours in /proc/locks)
    // before its mkdir: no cgroup appears while gc sweeps.
    let me = std::process::id().to_string();
    let waiting = || {
        let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
        locks.lines().any(|l| l.contains("->") && l.split_whitespace().any(|w| w == me))
    };
    for _ in 0..1000 {
        if waiting() || h.is_finished() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(waiting(), "make did not wait for gc's lock on mydocker");
    assert!(!t.0.join("mydocker/0123456789ab").exists());
    sys::close(gc);
    h.join().unwrap().unwrap();
    assert!(t.0.join("mydocker/0123456789ab").exists());
    sys::close(parent);
}

#[test]
fn one_writer_spells_each_limit_as_its_version_wants() {
    use res::{Knob, Resources};
    let mut r = Resources { cpus: Some(b"0"), mems: Some(b"0"), ..Resources::NONE };
    for (k, v) in [
        (Knob::Memory, 64 << 20),
        (Knob::Reservation, -1),
        (Knob::Swap, 96 << 20),
        (Knob::Swappiness, 10),
        (Knob::NoOom, 1),
        (Knob::Shares, 1024),
        (Knob::Period, 50_000),
        (Knob::Burst, 20_000),
        (Knob::Pids, -1),
    ] {
        r.num[k as usize] = Some(v);
    }
    let (t1, t2) = (Tmp::new("spell1"), Tmp::new("spell2"));
    res::write(t1.fd(), false, &ALL, &r, &Policy::EMPTY).unwrap();
    res::write(t2.fd(), true, &ALL, &r, &Policy::EMPTY).unwrap();
    for (f, v) in [
        ("memory.limit_in_bytes", "67108864"),
        ("memory.soft_limit_in_bytes", "-1"),
        ("memory.memsw.limit_in_bytes", "100663296"),
        ("memory.swappiness", "10"),
        ("memory.oom_control", "1"),
        ("cpu.shares", "1024"),
        ("cpu.cfs_period_us", "50000"),
        ("cpu.cfs_burst_us", "20000"),
        ("pids.max", "max"), // the pids controller reads only "max" or a number, in v1 too
        ("cpuset.mems", "0"),
    ] {
        assert_eq!(t1.get(f), v, "v1 {f}");
    }
    assert!(!t1.0.join("cpu.cfs_quota_us").exists(), "no quota asked for");
    // v2: swap alone, weights, "max", and cpu.max with the period alone.
    for (f, v) in [
        ("memory.max", "67108864"),
        ("memory.low", "max"),
        ("memory.swap.max", "33554432"),
        ("cpu.weight", "100"),
        ("cpu.max", "max 50000"),
        ("cpu.max.burst", "20000"),
        ("pids.max", "max"),
        ("cpuset.cpus", "0"),
    ] {
        assert_eq!(t2.get(f), v, "v2 {f}");
    }
    assert!(!t2.0.join("memory.swappiness").exists() && !t2.0.join("memory.oom_control").exists(), "v1-only knobs");
}

#[test]
fn the_docker_flags_fill_the_same_description_as_linux_resources() {
    use res::{Knob, Resources};
    let l = limits_of(&[b"m", b"run", b"-m", b"16m", b"--cpus", b"0.5", b"--cpu-shares", b"512", b"--pids-limit", b"9", b"sh"]);
    let r = Resources::of(&l);
    let got: Vec<_> = [Knob::Memory, Knob::Swap, Knob::Shares, Knob::Period, Knob::Quota, Knob::Pids].map(|k| r.get(k)).into();
    assert_eq!(got, [Some(16 << 20), Some(16 << 20), Some(512), Some(100_000), Some(50_000), Some(9)]);
    assert_eq!(r.need(true), [true, true, false, true, true, false]);
}

#[test]
fn the_file_lists_name_one_file_per_knob_in_each_version() {
    use super::text::{text, P};
    assert_eq!(P::V2_FILES as usize - P::V1_FILES as usize, res::NKNOB);
    let v1 = |k: res::Knob| text(P::V1_FILES as u8 + k as u8);
    let v2 = |k: res::Knob| text(P::V2_FILES as u8 + k as u8);
    assert_eq!(v1(res::Knob::Memory), b"memory.limit_in_bytes");
    assert_eq!(v2(res::Knob::Memory), b"memory.max");
    assert_eq!(v1(res::Knob::Pids), b"pids.max");
    assert_eq!(v2(res::Knob::Pids), b"pids.max");
    assert_eq!(v2(res::Knob::Quota), b"cpu.max");
    assert_eq!(v1(res::Knob::Burst), b"cpu.cfs_burst_us");
    assert_eq!(v2(res::Knob::Burst), b"cpu.max.burst");
    assert_eq!(v2(res::Knob::Swappiness), b"-");
}

#[test]
fn eacces_on_cpuset_cpus_or_mems_blames_the_parents_cpuset_not_permissions() {
    // v1 refuses CPUs or nodes its parent lacks with EACCES: "are you
    // root?" would send root astray.
    for file in [P::CPUS, P::MEMS] {
        let a = Fail::new(P::SETTING as u8, file as u8, Errno(libc::EACCES)).advice();
        assert!(a.starts_with(b"not within the parent cgroup's"), "{}", String::from_utf8_lossy(a));
    }
    let a = Fail::new(P::SETTING as u8, P::TASKS as u8, Errno(libc::EACCES)).advice();
    assert_eq!(a, b"are you root? is cgroupfs mounted read-write?");
}

/// The cpuset files of the fake tree's directory `dir` (missing: "").
fn cpuset_of(t: &Tmp, dir: &str) -> (String, String) {
    let f = |n: &str| std::fs::read_to_string(t.0.join(dir).join(n)).unwrap_or_default();
    (f("cpuset.cpus"), f("cpuset.mems"))
}

#[test]
fn every_empty_level_of_a_new_path_is_filled_top_down_from_the_nearest_non_empty_one() {
    // OCI create's mkdir -p: x/y/z are new below a hierarchy root that has
    // values, y's made in x once x has them, and so on.
    let t = Tmp::new("descend");
    t.put("cpuset.cpus", "0-3\n");
    t.put("cpuset.mems", "0-1\n");
    let root = t.0.to_str().unwrap().to_string();
    let path = format!("{root}/x/y/z");
    let fd = descend(path.as_bytes(), root.len(), true, false, true, &[false; NCTRL]).unwrap();
    sys::close(fd);
    for d in ["x", "x/y", "x/y/z"] {
        assert_eq!(cpuset_of(&t, d), ("0-3\n".into(), "0-1\n".into()), "{d}");
    }
    // Outside the cpuset hierarchy nothing is read or written.
    let path = format!("{root}/p/q");
    sys::close(descend(path.as_bytes(), root.len(), true, false, false, &[false; NCTRL]).unwrap());
    assert_eq!(cpuset_of(&t, "p/q"), (String::new(), String::new()));
}

#[test]
fn a_cgroup_parent_with_empty_levels_is_filled_and_a_non_empty_level_is_left_as_is() {
    // --cgroup-parent a/b/c/d, made by hand: a empty, b with CPUs but no
    // memory nodes, c with both (a subset), d empty. The run fills a from
    // the root, b's nodes from a, d from c; c's and b's CPUs stay theirs,
    // and the container gets c's narrower set through d and `mydocker`.
    let t = Tmp::new("cgparent");
    t.put("cpuset.cpus", "0-3\n");
    t.put("cpuset.mems", "0-1\n");
    std::fs::create_dir(t.0.join("a")).unwrap();
    t.put("a/b/cpuset.cpus", "1-2\n");
    t.put("a/b/c/cpuset.cpus", "2\n");
    t.put("a/b/c/cpuset.mems", "1\n");
    std::fs::create_dir(t.0.join("a/b/c/d")).unwrap();
    let l = limits_of(&[b"m", b"run", b"-m", b"1g", b"sh"]);
    let mount = t.0.as_os_str().as_encoded_bytes();
    let mut targets = Targets { n: 1, t: [Target { mount: b"", rel: b"", v2: false, ctrls: [false; NCTRL] }; NCTRL] };
    // A memory limit in a hierarchy cpuset shares (see targets_of).
    targets.t[0] = Target { mount, rel: b"a/b/c/d", v2: false, ctrls: [true, false, true, false, false, false] };
    let mut cg = Cgroups::none(*b"0123456789ab");
    cg.create(&targets, &l, &Policy::EMPTY).unwrap();
    assert_eq!(cpuset_of(&t, "a"), ("0-3\n".into(), "0-1\n".into()));
    assert_eq!(cpuset_of(&t, "a/b"), ("1-2\n".into(), "0-1\n".into()));
    assert_eq!(cpuset_of(&t, "a/b/c"), ("2\n".into(), "1\n".into()));
    for d in ["a/b/c/d", "a/b/c/d/mydocker", "a/b/c/d/mydocker/0123456789ab"] {
        assert_eq!(cpuset_of(&t, d), ("2\n".into(), "1\n".into()), "{d}");
    }
    assert_eq!(t.get("a/b/c/d/mydocker/0123456789ab/memory.limit_in_bytes"), "1073741824");
    // A level that is not there is not made: --cgroup-parent must exist.
    targets.t[0].rel = b"a/none";
    let mut cg2 = Cgroups::none(*b"0123456789ac");
    let f = cg2.create(&targets, &l, &Policy::EMPTY).err().unwrap();
    assert_eq!((f.what(), f.errno), (&b"opening the parent cgroup"[..], Errno(libc::ENOENT)));
    assert!(!t.0.join("a/none").exists());
    std::mem::forget(cg);
    std::mem::forget(cg2);
}

#[test]
fn a_failure_without_a_value_is_eight_bytes_returned_in_a_register() {
    // Fail::what's zero niche (never P::NONE) holds Ok's tag.
    assert_eq!(core::mem::size_of::<Res<()>>(), 8);
}
