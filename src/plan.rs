//! Every decision about a container, made before clone and without
//! syscalls: its id and hostname, its environment, the frame that carries
//! them, and how large the child's receive arena must be.
use crate::cli::Args;
use crate::model::{Env, Process};
use crate::frame::{Encoder, Header};
use crate::path::{DEFAULT_PATH, PATH_MAX};

pub const ID_LEN: usize = 12;

/// The container id: 12 lowercase hex digits from 6 random bytes.
pub fn container_id(random: [u8; 6]) -> [u8; ID_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0u8; ID_LEN];
    for (i, b) in random.iter().enumerate() {
        id[2 * i] = HEX[(b >> 4) as usize];
        id[2 * i + 1] = HEX[(b & 15) as usize];
    }
    id
}

fn key(entry: &[u8]) -> &[u8] {
    match entry.iter().position(|&c| c == b'=') {
        Some(i) => entry.get(..i).unwrap_or(entry),
        None => entry,
    }
}

fn lookup<'e, E: Args + ?Sized>(env: &'e E, k: &[u8]) -> Option<&'e [u8]> {
    (0..env.count()).map(|i| env.arg(i)).find(|e| key(e) == k)
}

/// The `-e` flag as it takes effect: `KEY=VAL` as given, `KEY` as the
/// caller's own entry; None when `KEY` is absent from the caller's
/// environment (then the flag changes nothing).
fn effective<'a, E: Args + ?Sized>(flag: &'a [u8], caller: &'a E) -> Option<&'a [u8]> {
    if flag.contains(&b'=') {
        Some(flag)
    } else {
        lookup(caller, flag)
    }
}

/// The container's environment, in order: the caller's (or, with
/// --env-clear, only the default PATH), minus every key a -e flag sets and
/// minus HOSTNAME; then the -e flags (the last one for a key wins); then
/// each `image` entry and HOSTNAME=<hostname> unless a -e flag set its
/// key. Each entry is given as pieces for the frame encoder to join.
/// `flags` are the -e flags, `clear` is --env-clear (or --rootfs).
pub fn environment<E: Args + ?Sized>(
    flags: &[&[u8]],
    clear: bool,
    caller: &E,
    image: &[&[u8]],
    hostname: &[u8],
    mut emit: impl FnMut(&[&[u8]]),
) {
    // Whether a flag from the `from`th on sets `k`.
    let set_from = |from: usize, k: &[u8]| flags.iter().skip(from).any(|f| key(f) == k && effective(f, caller).is_some());
    let set_by_flag = |k: &[u8]| set_from(0, k);
    let default_path: &[u8] = b"PATH=";
    if clear {
        if !set_by_flag(b"PATH") {
            emit(&[default_path, DEFAULT_PATH]);
        }
    } else {
        for e in (0..caller.count()).map(|i| caller.arg(i)) {
            if key(e) != b"HOSTNAME" && !set_by_flag(key(e)) {
                emit(&[e]);
            }
        }
    }
    for (i, f) in flags.iter().enumerate() {
        if let (Some(e), false) = (effective(f, caller), set_from(i + 1, key(f))) {
            emit(&[e]);
        }
    }
    for e in image {
        if !set_by_flag(key(e)) {
            emit(&[e]);
        }
    }
    if !set_by_flag(b"HOSTNAME") {
        emit(&[b"HOSTNAME=", hostname]);
    }
}

/// Puts the command (argv from `p.from` on) and the environment into `enc`.
pub fn frame(p: &Process, hostname: &[u8], enc: &mut Encoder) {
    if p.default_shell() {
        enc.arg(crate::cli::DEFAULT_SHELL);
    }
    for i in p.from..p.args.count() {
        enc.arg(p.args.arg(i));
    }
    match p.env {
        Env::Docker { flags, clear, caller, image } => environment(flags, clear, caller, image, hostname, |parts| enc.env(parts)),
        Env::List(list) => {
            for i in 0..list.count() {
                enc.env(&[list.arg(i)]);
            }
        }
    }
}

/// The child's receive arena: the whole frame (header and payload), the
/// argv/envp pointer tables, and a PATH_MAX buffer for building candidate
/// paths. None on overflow.
pub fn arena_size(h: &Header) -> Option<usize> {
    let payload = (h.len as usize).checked_add(crate::frame::HEADER + 7)? & !7;
    payload.checked_add(h.ptrs().checked_mul(core::mem::size_of::<usize>())?)?.checked_add(PATH_MAX)
}

/// Masks from mydocker's /proc/self/status: what the child must undo, and
/// what the container cannot exceed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Inherited {
    /// Signals at SIG_IGN (bit N-1 for signal N).
    pub ignored: u64,
    /// The bounding set (bit N for capability N): only these are dropped,
    /// so no prctl is spent on a capability that is not there.
    pub bounding: u64,
    /// The ambient set: cleared only when not empty.
    pub ambient: u64,
    /// The permitted set: the most the container can keep.
    pub permitted: u64,
    /// The seccomp mode mydocker runs in (0: no filter).
    pub seccomp: u64,
}

impl Inherited {
    /// Where nothing is known (no /proc): all ones, so the child resets
    /// every signal and tries every capability.
    pub const UNKNOWN: Inherited = Inherited { ignored: !0, bounding: !0, ambient: !0, permitted: !0, seccomp: !0 };

    /// From the text of /proc/self/status; a missing or malformed line
    /// counts as unknown.
    pub fn from_status(status: &[u8]) -> Inherited {
        let mask = |key: &[u8]| status_mask(status, key).unwrap_or(!0);
        Inherited {
            ignored: mask(b"SigIgn:"),
            bounding: mask(b"CapBnd:"),
            ambient: mask(b"CapAmb:"),
            permitted: mask(b"CapPrm:"),
            seccomp: mask(b"Seccomp:"),
        }
    }
}

/// A hex mask line of /proc/self/status: `key` "SigIgn:" gives the SIG_IGN
/// set (bit N-1 for signal N), "CapBnd:" the bounding set (bit N for
/// capability N), "CapAmb:" the ambient set. None if the line is missing or
/// malformed.
pub fn status_mask(status: &[u8], key: &[u8]) -> Option<u64> {
    let line = status.split(crate::words::on(b'\n')).find_map(|l| l.strip_prefix(key))?;
    let hex = line.trim_ascii();
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    hex.iter().try_fold(0u64, |v, &c| Some(v << 4 | (c as char).to_digit(16)? as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse, Cmd};

    fn env_of(argv: &[&[u8]], caller: &[&[u8]]) -> Vec<Vec<u8>> {
        let Cmd::Run(r) = parse(argv).unwrap() else { panic!() };
        let mut v = vec![];
        environment(r.env_flags(), r.env_clear(), caller, &[], b"box", |parts| v.push(parts.concat()));
        v
    }

    #[test]
    fn the_callers_environment_is_inherited_and_hostname_set() {
        let v = env_of(&[b"m", b"run", b"env"], &[b"A=1", b"HOSTNAME=host", b"B=2"]);
        assert_eq!(v, vec![b"A=1".to_vec(), b"B=2".to_vec(), b"HOSTNAME=box".to_vec()]);
    }

    #[test]
    fn e_sets_copies_and_the_last_flag_wins() {
        let v = env_of(
            &[b"m", b"run", b"-e", b"A=x", b"-e", b"HOME", b"-e", b"NOPE", b"-e", b"A=y", b"env"],
            &[b"A=1", b"HOME=/root", b"C=3"],
        );
        assert_eq!(v, vec![b"C=3".to_vec(), b"HOME=/root".to_vec(), b"A=y".to_vec(), b"HOSTNAME=box".to_vec()]);
    }

    #[test]
    fn env_clear_keeps_only_default_path_hostname_and_flags() {
        let v = env_of(&[b"m", b"run", b"--env-clear", b"-e", b"HOME", b"-e", b"X=1", b"env"], &[b"HOME=/h", b"Y=2"]);
        let mut p = b"PATH=".to_vec();
        p.extend_from_slice(DEFAULT_PATH);
        assert_eq!(v, vec![p, b"HOME=/h".to_vec(), b"X=1".to_vec(), b"HOSTNAME=box".to_vec()]);
    }

    #[test]
    fn image_entries_come_after_the_flags_unless_a_flag_set_their_key() {
        let argv: &[&[u8]] = &[b"m", b"run", b"-e", b"HOME=/h", b"env"];
        let Cmd::Run(r) = parse(argv).unwrap() else { panic!() };
        let mut v = vec![];
        let caller: &[&[u8]] = &[b"S=1"];
        environment(r.env_flags(), true, caller, &[b"HOME=/root", b"TERM=xterm"], b"box", |p| v.push(p.concat()));
        let mut p = b"PATH=".to_vec();
        p.extend_from_slice(DEFAULT_PATH);
        assert_eq!(v, vec![p, b"HOME=/h".to_vec(), b"TERM=xterm".to_vec(), b"HOSTNAME=box".to_vec()]);
    }

    #[test]
    fn an_explicit_hostname_variable_wins() {
        let v = env_of(&[b"m", b"run", b"-e", b"HOSTNAME=mine", b"env"], &[]);
        assert_eq!(v, vec![b"HOSTNAME=mine".to_vec()]);
    }

    #[test]
    fn masks_come_from_their_status_lines() {
        let st = b"Name:\tsh\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001006\nSigCgt:\t0\n\
                   CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nSeccomp:\t2\nSeccomp_filters:\t1\n";
        assert_eq!(status_mask(st, b"SigIgn:"), Some(0x1006));
        assert_eq!(status_mask(st, b"CapBnd:"), Some((1 << 41) - 1));
        assert_eq!(status_mask(st, b"CapAmb:"), Some(0));
        assert_eq!(status_mask(b"Name:\tsh\n", b"SigIgn:"), None);
        assert_eq!(status_mask(b"SigIgn:\tzz\n", b"SigIgn:"), None);
        assert_eq!(status_mask(b"SigIgn:\t00000000000000000\n", b"SigIgn:"), None);
        let i = Inherited::from_status(st);
        assert_eq!((i.ignored, i.bounding, i.ambient), (0x1006, (1 << 41) - 1, 0));
        assert_eq!(i.permitted, !0, "no CapPrm line: unknown");
        assert_eq!(i.seccomp, 2, "under a filter");
        assert_eq!(Inherited::from_status(b"Seccomp:\t0\n").seccomp, 0);
        assert_eq!(Inherited::from_status(b""), Inherited::UNKNOWN);
    }

    #[test]
    fn container_ids_are_12_hex_digits() {
        assert_eq!(&container_id([0x01, 0x23, 0x45, 0x67, 0x89, 0xab]), b"0123456789ab");
    }

    #[test]
    fn arena_holds_payload_pointers_and_a_path_buffer() {
        let h = Header { argc: 2, envc: 1, len: 13 };
        assert_eq!(arena_size(&h), Some(40 + 5 * 8 + PATH_MAX));
        let huge = Header { argc: u32::MAX, envc: u32::MAX, len: u32::MAX };
        assert!(arena_size(&huge).is_some());
    }
}
