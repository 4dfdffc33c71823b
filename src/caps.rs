//! Capability names and sets. Pure: masks are computed before clone, the
//! child only applies them.

/// Capability names in kernel order (word N is CAP_<name of bit N>),
/// Linux 6.x, then "ALL" (for parse); a packed table (see `words`).
const WORDS_ALL: &[u8] = b"CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE \
NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT \
SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE \
AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ \
PERFMON BPF CHECKPOINT_RESTORE ALL";
/// The capability names alone: WORDS_ALL without " ALL".
pub const WORDS: &[u8] = WORDS_ALL.split_at(WORDS_ALL.len() - 4).0;

/// WORDS as a list (built at compile time; tests only: at run time
/// `words::find(WORDS, ..)` needs no table).
#[cfg(test)]
pub const NAMES: [&[u8]; 41] = {
    let mut out: [&[u8]; 41] = [b""; 41];
    let (mut rest, mut i) = (WORDS, 0);
    while i < 41 {
        let mut j = 0;
        while j < rest.len() && rest[j] != b' ' {
            j += 1;
        }
        let (w, r) = rest.split_at(j);
        out[i] = w;
        rest = if r.is_empty() { r } else { r.split_at(1).1 };
        i += 1;
    }
    out
};

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
    // ALL is the word after the 41 names (bit 41 is no capability).
    match crate::words::find_upper(WORDS_ALL, b"CAP_", name)? {
        41 => Some(ALL),
        i => Some(bit(i as u32)),
    }
}

/// The set the container keeps, as docker's TweakCapabilities: docker's
/// default, minus --cap-drop, plus --cap-add (an add wins over a drop of
/// the same name); but --cap-add ALL is every capability except those
/// dropped by name (drop ALL too: then all of them) —
/// never more than mydocker itself has (`permitted`): run by a caller with a
/// smaller bounding set (inside a container, a systemd unit with
/// CapabilityBoundingSet=), the default shrinks to what there is and "ALL"
/// means all there is. Err(name): --cap-add asked by name for one that
/// mydocker lacks.
pub fn keep(add: u64, drop: u64, permitted: u64) -> Result<u64, &'static [u8]> {
    let missing = if add == ALL { 0 } else { add & !permitted };
    if missing != 0 {
        return Err(match crate::words::nth(WORDS, missing.trailing_zeros() as usize) {
            b"" => b"?",
            n => n,
        });
    }
    let set = if add == ALL && drop != ALL { !drop } else { (DOCKER_DEFAULT & !drop) | add };
    Ok(set & permitted)
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
    fn the_packed_names_are_the_kernels_41() {
        assert_eq!((NAMES[0], NAMES[10], NAMES[40]), (&b"CHOWN"[..], &b"NET_BIND_SERVICE"[..], &b"CHECKPOINT_RESTORE"[..]));
        assert!(NAMES.iter().all(|n| !n.is_empty() && !n.contains(&b' ')));
    }

    #[test]
    fn the_default_is_dockers() {
        assert_eq!(DOCKER_DEFAULT, 0xa80425fb);
    }

    #[test]
    fn drop_then_add() {
        assert_eq!(keep(0, ALL, ALL), Ok(0));
        assert_eq!(keep(1 << 10, ALL, ALL), Ok(1 << 10));
        assert_eq!(keep(0, 1 << 13, ALL), Ok(DOCKER_DEFAULT & !(1 << 13)));
        assert_eq!(keep(ALL, 0, ALL), Ok(ALL));
        assert_eq!(keep(1 << 21, 1 << 21, ALL), Ok(DOCKER_DEFAULT | 1 << 21));
    }

    #[test]
    fn add_all_keeps_every_capability_but_those_dropped_by_name() {
        assert_eq!(keep(ALL, 1 << 21, ALL), Ok(ALL & !(1 << 21)));
        assert_eq!(keep(ALL, 1 << 21 | 1, 0xff_ffff), Ok(0xff_ffff & !(1 << 21 | 1)));
        // docker: ALL in both lists is all (no name is dropped).
        assert_eq!(keep(ALL, ALL, ALL), Ok(ALL));
    }

    #[test]
    fn never_more_than_mydocker_has() {
        let without_net_raw = ALL & !(1 << 13);
        assert_eq!(keep(0, 0, without_net_raw), Ok(DOCKER_DEFAULT & !(1 << 13)));
        assert_eq!(keep(ALL, 0, without_net_raw), Ok(without_net_raw));
        assert_eq!(keep(1 << 13, 0, without_net_raw), Err(&b"NET_RAW"[..]));
        // Dropping what is not there is no error.
        assert_eq!(keep(0, 1 << 13, without_net_raw), Ok(DOCKER_DEFAULT & !(1 << 13)));
    }
}
