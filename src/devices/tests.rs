//! The two generated forms against the reference semantics: every request
//! over a grid of types, numbers and accesses, for several policies.
use super::*;

/// A tiny interpreter for the instructions `program` emits; panics on any
/// other (so an unexpected opcode fails the test) and on a jump out of the
/// program or a fall off its end.
fn interpret(prog: &[u64], access_type: u32, major: u32, minor: u32) -> u64 {
    let ctx = [access_type, major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let b = prog[pc].to_ne_bytes();
        let (code, regs) = (b[0], b[1]);
        let (dst, src) = if cfg!(target_endian = "little") { (regs & 0xf, regs >> 4) } else { (regs >> 4, regs & 0xf) };
        let (dst, src) = (dst as usize, src as usize);
        let off = i16::from_ne_bytes([b[2], b[3]]);
        let imm = i32::from_ne_bytes([b[4], b[5], b[6], b[7]]) as i64 as u64;
        pc += 1;
        match code {
            LDXW => {
                assert_eq!(src, 1, "loads only from the context");
                assert!(off % 4 == 0 && (0..12).contains(&off) && imm == 0, "context offset {off}");
                r[dst] = ctx[off as usize / 4] as u64;
            }
            MOV64_X => r[dst] = r[src],
            MOV64_K => r[dst] = imm,
            AND64_K => r[dst] &= imm,
            RSH64_K => r[dst] >>= imm,
            JEQ_K | JNE_K => {
                if (r[dst] == imm) == (code == JEQ_K) {
                    pc = (pc as i64 + off as i64) as usize;
                }
            }
            EXIT => return r[0],
            _ => panic!("unexpected opcode {code:#x}"),
        }
        assert!(pc < prog.len(), "fell off the program");
    }
}

fn policies() -> Vec<(&'static str, Policy)> {
    let mut v = vec![("docker default", Policy::of(&DOCKER_DEFAULT).unwrap())];
    let mut d = Policy::of(&DOCKER_DEFAULT).unwrap();
    d.push(Rule::allow(Type::Char, Some(10), Some(200), READ | WRITE)).unwrap();
    d.push(Rule::allow(Type::Block, Some(8), Some(0), READ)).unwrap();
    v.push(("default + --device", d));
    // An OCI list: deny all, then allows, then a narrowing deny.
    let mut o = Policy::EMPTY;
    o.push(Rule { ty: Type::All, major: None, minor: None, access: RWM, allow: false }).unwrap();
    o.push(Rule::allow(Type::Char, Some(1), None, RWM)).unwrap();
    o.push(Rule { ty: Type::Char, major: Some(1), minor: Some(1), access: READ | WRITE, allow: false }).unwrap();
    o.push(Rule::allow(Type::All, Some(5), None, READ)).unwrap();
    v.push(("oci", o));
    // Privileged-like: allow everything, then one deny.
    let mut a = Policy::EMPTY;
    a.push(Rule::allow(Type::All, None, None, RWM)).unwrap();
    a.push(Rule { ty: Type::Block, major: None, minor: None, access: WRITE, allow: false }).unwrap();
    v.push(("allow all but block writes", a));
    // A total rule in the middle: everything before it is unreachable.
    let mut t = Policy::EMPTY;
    t.push(Rule::allow(Type::Char, Some(1), Some(3), RWM)).unwrap();
    t.push(Rule { ty: Type::All, major: None, minor: None, access: RWM, allow: false }).unwrap();
    t.push(Rule::allow(Type::Char, Some(1), Some(5), READ)).unwrap();
    v.push(("total deny in the middle", t));
    v.push(("empty", Policy::EMPTY));
    v
}

#[test]
fn the_bpf_program_decides_every_request_as_the_rules_do() {
    let mut prog = [0u64; MAX_INSNS];
    for (name, p) in policies() {
        let n = p.program(&mut prog).unwrap();
        let prog = &prog[..n];
        for ty in [Type::Char, Type::Block] {
            for major in [0, 1, 5, 8, 10, 136, 254] {
                for minor in [0, 1, 2, 3, 5, 7, 8, 9, 200, 232] {
                    for access in 1..=RWM {
                        let at = ((access as u32) << 16) | ty.bpf() as u32;
                        let got = interpret(prog, at, major, minor) == 1;
                        let want = p.allows(ty, major, minor, access);
                        assert_eq!(got, want, "{name}: {ty:?} {major}:{minor} access {access}");
                    }
                }
            }
        }
    }
}

#[test]
fn docker_default_allows_the_usual_nodes_and_mknod_only_elsewhere() {
    let p = Policy::of(&DOCKER_DEFAULT).unwrap();
    for (ma, mi) in [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 2), (136, 0), (136, 77)] {
        assert!(p.allows(Type::Char, ma, mi, READ | WRITE), "{ma}:{mi}");
    }
    // kvm, mem, a disk, the host's console (5:1; the container's own
    // /dev/console is a pts): made, never opened.
    for (ty, ma, mi) in [(Type::Char, 10, 232), (Type::Char, 1, 1), (Type::Block, 8, 0), (Type::Char, 5, 1)] {
        assert!(p.allows(ty, ma, mi, MKNOD));
        assert!(!p.allows(ty, ma, mi, READ));
        assert!(!p.allows(ty, ma, mi, WRITE));
        assert!(!p.allows(ty, ma, mi, MKNOD | READ));
    }
}

#[test]
fn v1_lines_start_from_deny_all_and_keep_the_order() {
    let mut d = Policy::of(&DOCKER_DEFAULT).unwrap();
    d.push(Rule::allow(Type::Block, Some(8), Some(16), READ | MKNOD)).unwrap();
    d.push(Rule { ty: Type::All, major: Some(4), minor: None, access: WRITE, allow: false }).unwrap();
    let mut got = vec![];
    d.v1_lines(&mut |f, l| {
        got.push(format!("{} {}", String::from_utf8_lossy(f), String::from_utf8_lossy(l).strip_suffix('\n').unwrap()));
        Ok(())
    })
    .unwrap();
    let want = [
        "devices.deny a",
        "devices.allow c *:* m",
        "devices.allow b *:* m",
        "devices.allow c 1:3 rwm",
        "devices.allow c 1:5 rwm",
        "devices.allow c 1:7 rwm",
        "devices.allow c 1:8 rwm",
        "devices.allow c 1:9 rwm",
        "devices.allow c 5:0 rwm",
        "devices.allow c 5:2 rwm",
        "devices.allow c 136:* rwm",
        "devices.allow b 8:16 rm",
        "devices.deny c 4:* w",
        "devices.deny b 4:* w",
    ];
    assert_eq!(got, want);
    let mut all = Policy::EMPTY;
    all.push(Rule::allow(Type::All, None, None, RWM)).unwrap();
    // (An allow here would change nothing and is dropped: see push.)
    all.push(Rule { ty: Type::All, major: None, minor: None, access: MKNOD, allow: false }).unwrap();
    let mut got = vec![];
    all.v1_lines(&mut |f, l| {
        got.push(format!("{} {}", String::from_utf8_lossy(f), String::from_utf8_lossy(l).strip_suffix('\n').unwrap()));
        Ok(())
    })
    .unwrap();
    assert_eq!(got, ["devices.deny a", "devices.allow a", "devices.deny c *:* m", "devices.deny b *:* m"]);
}

#[test]
fn a_full_policy_and_its_longest_program_fit() {
    let mut p = Policy::EMPTY;
    for i in 0..MAX_RULES as u32 {
        p.push(Rule { ty: Type::Char, major: Some(i), minor: Some(i), access: READ, allow: i % 2 == 0 }).unwrap();
    }
    assert!(p.push(Rule::allow(Type::Char, None, None, READ)).is_err());
    let mut prog = [0u64; MAX_INSNS];
    let n = p.program(&mut prog).unwrap();
    assert_eq!(interpret(&prog[..n], (READ as u32) << 16 | 2, 4, 4), 1);
    assert_eq!(interpret(&prog[..n], (READ as u32) << 16 | 2, 5, 5), 0);
    assert!(p.program(&mut [0u64; 16]).is_err(), "a short buffer is an error, not a crash");
}

#[test]
fn access_strings_parse() {
    assert_eq!(parse_access(b"rwm"), Some(RWM));
    assert_eq!(parse_access(b"r"), Some(READ));
    assert_eq!(parse_access(b"mw"), Some(MKNOD | WRITE));
    assert_eq!(parse_access(b""), None);
    assert_eq!(parse_access(b"rx"), None);
}

#[test]
fn device_flags_read_as_docker_reads_them() {
    let d = |s: &'static str| parse_device(s.as_bytes()).map(|d| (d.host, d.container, d.access));
    assert_eq!(d("/dev/kvm"), Ok((&b"/dev/kvm"[..], &b"/dev/kvm"[..], RWM)));
    assert_eq!(d("/dev/kvm:rw"), Ok((&b"/dev/kvm"[..], &b"/dev/kvm"[..], READ | WRITE)));
    assert_eq!(d("/dev/sda:/dev/xvdc"), Ok((&b"/dev/sda"[..], &b"/dev/xvdc"[..], RWM)));
    assert_eq!(d("/dev/sda:/dev/xvdc:r"), Ok((&b"/dev/sda"[..], &b"/dev/xvdc"[..], READ)));
    for bad in ["dev/kvm", "/dev/kvm:x:r", "/dev/kvm:/a:b:c", "/dev/kvm:/dev/x:rx", "/dev/kvm:/../x", ""] {
        assert!(d(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_rule_for_everything_replaces_the_earlier_ones_and_answers_stay_the_same() {
    let all = |allow| Rule { ty: Type::All, major: None, minor: None, access: RWM, allow };
    let node = |i: u32, allow| Rule { ty: if i % 2 == 0 { Type::Char } else { Type::Block }, major: Some(i % 7), minor: Some(i), access: READ | WRITE, allow };
    // podman --privileged: allow-all, docker's defaults, then every host node.
    let mut privileged = vec![all(true)];
    privileged.extend(DOCKER_DEFAULT);
    privileged.extend((0..300).map(|i| node(i, true)));
    let mut then_deny = privileged.clone();
    then_deny.push(Rule { ty: Type::Block, major: None, minor: None, access: WRITE, allow: false });
    let mut reset = (0..100).map(|i| node(i, i % 3 == 0)).collect::<Vec<_>>();
    reset.push(all(false));
    reset.extend((0..20).map(|i| node(i, true)));
    for (name, raw, len) in [("privileged", &privileged, 1), ("privileged, then a deny", &then_deny, 2), ("deny-all midway", &reset, 21)] {
        let mut p = Policy::EMPTY;
        for r in raw.iter() {
            p.push(*r).unwrap();
        }
        assert_eq!(p.rules().len(), len, "{name}");
        // The reference over the raw list: last match wins, default deny.
        for ty in [Type::Char, Type::Block] {
            for major in 0..8 {
                for minor in [0, 1, 2, 3, 5, 136, 299] {
                    for access in 1..=RWM {
                        let want = raw.iter().rev().find(|r| r.matches(ty, major, minor, access)).map_or(false, |r| r.allow);
                        assert_eq!(p.allows(ty, major, minor, access), want, "{name}: {ty:?} {major}:{minor} {access}");
                    }
                }
            }
        }
    }
}
