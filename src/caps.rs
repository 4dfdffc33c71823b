//! Capability names and sets. Pure: masks are computed before clone, the
//! child only applies them.

/// Capability names in kernel order (bit N is CAP_<NAMES[N]>), Linux 6.x.
pub const NAMES: [&[u8]; 41] = [
    b"CHOWN",
    b"DAC_OVERRIDE",
    b"DAC_READ_SEARCH",
    b"FOWNER",
    b"FSETID",
    b"KILL",
    b"SETGID",
    b"SETUID",
    b"SETPCAP",
    b"LINUX_IMMUTABLE",
    b"NET_BIND_SERVICE",
    b"NET_BROADCAST",
    b"NET_ADMIN",
    b"NET_RAW",
    b"IPC_LOCK",
    b"IPC_OWNER",
    b"SYS_MODULE",
    b"SYS_RAWIO",
    b"SYS_CHROOT",
    b"SYS_PTRACE",
    b"SYS_PACCT",
    b"SYS_ADMIN",
    b"SYS_BOOT",
    b"SYS_NICE",
    b"SYS_RESOURCE",
    b"SYS_TIME",
    b"SYS_TTY_CONFIG",
    b"MKNOD",
    b"LEASE",
    b"AUDIT_WRITE",
    b"AUDIT_CONTROL",
    b"SETFCAP",
    b"MAC_OVERRIDE",
    b"MAC_ADMIN",
    b"SYSLOG",
    b"WAKE_ALARM",
    b"BLOCK_SUSPEND",
    b"AUDIT_READ",
    b"PERFMON",
    b"BPF",
    b"CHECKPOINT_RESTORE",
];

const fn bit(n: u32) -> u64 {
    1 << n
}

/// docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
/// SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
/// (CapEff 00000000a80425fb in /proc/self/status).
pub const DOCKER_DEFAULT: u64 = bit(0)
    | bit(1)
    | bit(3)
    | bit(4)
    | bit(5)
    | bit(6)
    | bit(7)
    | bit(8)
    | bit(10)
    | bit(13)
    | bit(18)
    | bit(27)
    | bit(29)
    | bit(31);

/// Every capability a kernel may know (the kernel ignores unknown bits when
/// we drop; "ALL" in --cap-add means all of them).
pub const ALL: u64 = !0;

/// A capability name, with or without "CAP_", in any case; "ALL" is
/// Some(ALL). None for an unknown name.
pub fn parse(name: &[u8]) -> Option<u64> {
    let mut up = [0u8; 32];
    if name.len() > up.len() {
        return None;
    }
    for (d, s) in up.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    let n = &up[..name.len()];
    let n = n.strip_prefix(b"CAP_").unwrap_or(n);
    if n == b"ALL" {
        return Some(ALL);
    }
    NAMES.iter().position(|x| *x == n).map(|i| bit(i as u32))
}

/// The set the container keeps: docker's default, minus --cap-drop, plus
/// --cap-add (an add wins over a drop, "ALL" included, as in docker).
pub fn keep(add: u64, drop: u64) -> u64 {
    (DOCKER_DEFAULT & !drop) | add
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_or_without_prefix_in_any_case() {
        assert_eq!(parse(b"NET_BIND_SERVICE"), Some(1 << 10));
        assert_eq!(parse(b"cap_net_bind_service"), Some(1 << 10));
        assert_eq!(parse(b"Sys_Admin"), Some(1 << 21));
        assert_eq!(parse(b"CHECKPOINT_RESTORE"), Some(1 << 40));
        assert_eq!(parse(b"all"), Some(ALL));
        assert_eq!(parse(b"NOPE"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(parse(&[b'A'; 100]), None);
    }

    #[test]
    fn the_default_is_dockers() {
        assert_eq!(DOCKER_DEFAULT, 0xa80425fb);
    }

    #[test]
    fn drop_then_add() {
        assert_eq!(keep(0, ALL), 0);
        assert_eq!(keep(1 << 10, ALL), 1 << 10);
        assert_eq!(keep(0, 1 << 13), DOCKER_DEFAULT & !(1 << 13));
        assert_eq!(keep(ALL, 0), ALL);
        assert_eq!(keep(1 << 21, 1 << 21), DOCKER_DEFAULT | 1 << 21);
    }
}
