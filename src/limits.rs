//! Resource-limit values: parsing what the user typed and the conversions
//! between cgroup v1 and v2 units. Pure functions, no syscalls.

/// Why a value was refused (the flag and the value are added by the caller).
pub type Why = &'static [u8];

/// Bytes, as docker reads them (go-units RAMInBytes) but for decimals:
/// `N[ ][U][i][b]`, any case, U one of k, m, g, t, p (1024-based): `512m`,
/// `512mb`, `10MiB`, `1t`. (docker's `1.5g` measured +320 B: refused.)
/// Greater than zero, at most 63 bits.
pub fn parse_size(s: &[u8]) -> Result<u64, Why> {
    const BAD: Why = b"not a size: use a whole number with an optional k, m, g, t or p suffix";
    let mut s = s;
    for c in *b"bi" {
        if s.last().map(|l| l | 0x20) == Some(c) {
            s = &s[..s.len() - 1];
        }
    }
    let mut shift = 0;
    if let Some(i) = s.last().and_then(|l| b"kmgtp".iter().position(|&u| u == l | 0x20)) {
        shift = 10 * (i as u32 + 1);
        s = &s[..s.len() - 1];
    }
    let n = parse_u64(s.strip_suffix(b" ").unwrap_or(s)).ok_or(BAD)?;
    let bytes = n
        .checked_mul(1 << shift)
        .filter(|&b| b <= i64::MAX as u64)
        .ok_or(b"size too large" as Why)?;
    if bytes == 0 {
        return Err(b"size must be greater than zero");
    }
    Ok(bytes)
}

/// The smallest memory limit `run -m` takes: docker's (6 MiB, "Minimum
/// memory limit allowed is 6MB"). Below it the runtime's own start-up in
/// the container (its report, the loopback socket, execve's argument
/// pages) cannot be charged, and the kernel then reports misleading
/// errors (execve says E2BIG) instead of the limit.
pub const MIN_MEMORY: u64 = 6 << 20;

/// A memory limit for `run -m`: `parse_size`, at least MIN_MEMORY.
pub fn parse_memory(s: &[u8]) -> Result<u64, Why> {
    match parse_size(s)? {
        n if n < MIN_MEMORY => Err(b"below the minimum of 6m (docker's)"),
        n => Ok(n),
    }
}

/// A plain decimal number (no sign, no spaces); None if malformed or too big.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(
        0u64,
        |n, &c| if c.is_ascii_digit() { n.checked_mul(10)?.checked_add((c - b'0') as u64) } else { None },
    )
}

/// CPUs as a bitmap; numbers up to MAX_CPU.
pub const MAX_CPU: usize = 1023;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CpuSet(pub [u64; (MAX_CPU + 1) / 64]);

impl CpuSet {
    pub const EMPTY: CpuSet = CpuSet([0; (MAX_CPU + 1) / 64]);

    pub fn has(&self, cpu: usize) -> bool {
        cpu <= MAX_CPU && self.0[cpu / 64] & (1 << (cpu % 64)) != 0
    }

    fn add(&mut self, cpu: usize) {
        self.0[cpu / 64] |= 1 << (cpu % 64);
    }

    pub fn count(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// CPUs in self that are not in `other`.
    pub fn minus(&self, other: &CpuSet) -> CpuSet {
        let mut r = *self;
        for (a, b) in r.0.iter_mut().zip(other.0.iter()) {
            *a &= !b;
        }
        r
    }

    /// Writes the set in list form ("0-2,5") through `out`.
    pub fn format(&self, mut out: impl FnMut(&[u8])) {
        let mut first = true;
        let mut cpu = 0;
        while cpu <= MAX_CPU {
            if !self.has(cpu) {
                cpu += 1;
                continue;
            }
            let start = cpu;
            while cpu < MAX_CPU && self.has(cpu + 1) {
                cpu += 1;
            }
            if !first {
                out(b",");
            }
            first = false;
            out(Dec::new(start as u64).as_bytes());
            if cpu > start {
                out(b"-");
                out(Dec::new(cpu as u64).as_bytes());
            }
            cpu += 1;
        }
    }
}

/// A cpuset list such as "0-2,5": comma-separated CPUs or ascending ranges.
/// A trailing newline is allowed (sysfs files end with one).
pub fn parse_cpuset(s: &[u8]) -> Result<CpuSet, Why> {
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    if s.is_empty() {
        return Err(b"empty CPU list");
    }
    let mut set = CpuSet::EMPTY;
    for item in s.split(crate::words::on(b',')) {
        let mut ends = item.splitn(2, crate::words::on(b'-'));
        let lo = ends.next().and_then(parse_u64);
        let hi = match ends.next() {
            Some(h) => parse_u64(h),
            None => lo,
        };
        let (lo, hi) = match (lo, hi) {
            (Some(l), Some(h)) => (l, h),
            _ => return Err(b"malformed CPU list: use numbers and ranges such as 0-2,5"),
        };
        if lo > hi {
            return Err(b"malformed CPU list: a range must ascend");
        }
        if hi > MAX_CPU as u64 {
            return Err(b"CPU number too large (limit 1023)");
        }
        for c in lo..=hi {
            set.add(c as usize);
        }
    }
    Ok(set)
}

/// The online CPUs, from `online` (the text of
/// /sys/devices/system/cpu/online, "0-3\n"), and those of `list` (a CPU
/// list) that are not among them: None when there are none, or no list (a
/// malformed one is refused by its own parse). None: `online` is not a CPU
/// list (it could not be read).
pub fn offline_cpus(online: &[u8], list: Option<&[u8]>) -> Option<(CpuSet, Option<CpuSet>)> {
    let online = parse_cpuset(online).ok()?;
    let off = list.and_then(|l| parse_cpuset(l).ok()).map(|s| s.minus(&online));
    Some((online, off.filter(|o| o.count() > 0)))
}

pub const SHARES_MIN: u64 = 2;
pub const SHARES_MAX: u64 = 262_144;

pub fn parse_shares(s: &[u8]) -> Result<u64, Why> {
    match parse_u64(s) {
        Some(n) if (SHARES_MIN..=SHARES_MAX).contains(&n) => Ok(n),
        _ => Err(b"CPU shares must be a whole number from 2 to 262144"),
    }
}

/// cgroup v1 cpu.shares → cgroup v2 cpu.weight. Piecewise linear through the
/// three points that matter: the minimum (2 → 1), the default (1024 → 100,
/// so an unchanged share keeps the v2 default; runc #4772 fixed the older
/// linear formula that gave 39) and the maximum (262144 → 10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    let s = shares.clamp(SHARES_MIN, SHARES_MAX);
    if s <= 1024 {
        1 + (s - 2) * 99 / 1022
    } else {
        100 + (s - 1024) * 9900 / (SHARES_MAX - 1024)
    }
}

pub fn parse_pids(s: &[u8]) -> Result<u64, Why> {
    match parse_u64(s) {
        Some(n) if n >= 1 && n <= i64::MAX as u64 => Ok(n),
        _ => Err(b"pids limit must be a whole number greater than zero"),
    }
}

/// CFS period used with --cpus (the kernel's and docker's default), in µs.
pub const CFS_PERIOD_US: u64 = 100_000;

/// --cpus as thousandths of a CPU: "1", "0.5", "1.25" (up to 3 decimals).
pub fn parse_cpus(s: &[u8]) -> Result<u64, Why> {
    const BAD: Why = b"CPUs must be a number such as 0.5 or 2 (at most 3 decimals)";
    let mut parts = s.splitn(2, crate::words::on(b'.'));
    let whole = parts.next().unwrap_or(&[]);
    let frac = parts.next();
    let w = if whole.is_empty() && frac.is_some() { Some(0) } else { parse_u64(whole) };
    let w = w.ok_or(BAD)?;
    let mut milli = w.checked_mul(1000).ok_or(BAD)?;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 3 || !f.iter().all(u8::is_ascii_digit) {
            return Err(BAD);
        }
        let mut v = parse_u64(f).ok_or(BAD)?;
        for _ in f.len()..3 {
            v *= 10;
        }
        milli = milli.checked_add(v).ok_or(BAD)?;
    }
    if milli == 0 {
        return Err(b"CPUs must be greater than zero");
    }
    // The kernel's smallest quota is 1 ms per 100 ms period.
    if milli < 10 {
        return Err(b"CPUs must be at least 0.01");
    }
    Ok(milli)
}

/// cpu.cfs_quota_us / the first field of cpu.max for `milli` CPUs.
pub fn quota_us(milli: u64) -> u64 {
    milli * CFS_PERIOD_US / 1000
}

/// A number rendered in decimal on the stack.
pub struct Dec {
    buf: [u8; 20],
    at: usize,
}

impl Dec {
    #[inline(never)]
    pub fn new(mut v: u64) -> Dec {
        let mut d = Dec { buf: [0; 20], at: 20 };
        loop {
            d.at -= 1;
            d.buf[d.at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                return d;
            }
        }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.at..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_limits_start_at_dockers_minimum() {
        assert_eq!(parse_memory(b"6m"), Ok(6 << 20));
        assert_eq!(parse_memory(b"6291455"), Err(&b"below the minimum of 6m (docker's)"[..]));
        assert_eq!(parse_memory(b"4k"), Err(&b"below the minimum of 6m (docker's)"[..]));
        assert_eq!(parse_memory(b"0"), Err(&b"size must be greater than zero"[..]));
    }

    #[test]
    fn sizes_take_suffixes_in_either_case() {
        assert_eq!(parse_size(b"100"), Ok(100));
        assert_eq!(parse_size(b"100b"), Ok(100));
        assert_eq!(parse_size(b"4k"), Ok(4096));
        assert_eq!(parse_size(b"100m"), Ok(100 << 20));
        assert_eq!(parse_size(b"100M"), Ok(100 << 20));
        assert_eq!(parse_size(b"2G"), Ok(2 << 30));
    }

    /// docker's spellings (go-units RAMInBytes, as `docker run -m` reads
    /// them): t and p, a b or ib after the unit, one space before it.
    #[test]
    fn sizes_are_read_as_docker_reads_them() {
        assert_eq!(parse_size(b"512mb"), Ok(512 << 20));
        assert_eq!(parse_size(b"10MiB"), Ok(10 << 20));
        assert_eq!(parse_size(b"1t"), Ok(1 << 40));
        assert_eq!(parse_size(b"2P"), Ok(2 << 50));
        assert_eq!(parse_size(b"64 KB"), Ok(64 << 10));
        assert_eq!(parse_size(b"7ib"), Ok(7));
        assert_eq!(parse_size(b"8192p"), Err(&b"size too large"[..]));
    }

    #[test]
    fn bad_sizes_are_refused() {
        for s in
            [&b"0"[..], b"-1", b"10x", b"1.5", b"1.5g", b"99999999999g", b"", b"m", b" 1", b"1  m", b"1mm", b"1bi", b"99999999999999999999999"]
        {
            assert!(parse_size(s).is_err(), "{:?}", String::from_utf8_lossy(s));
        }
        assert_eq!(parse_size(b"0"), Err(&b"size must be greater than zero"[..]));
        assert_eq!(parse_size(b"99999999999g"), Err(&b"size too large"[..]));
    }

    #[test]
    fn cpu_lists_parse_and_format() {
        let s = parse_cpuset(b"0-2,5,7-8").unwrap();
        assert!(s.has(0) && s.has(2) && s.has(5) && s.has(8) && !s.has(3) && !s.has(6));
        assert_eq!(s.count(), 6);
        let mut out = vec![];
        s.format(|b| out.extend_from_slice(b));
        assert_eq!(out, b"0-2,5,7-8");
        assert_eq!(parse_cpuset(b"0-1\n").unwrap().count(), 2);
    }

    #[test]
    fn malformed_cpu_lists_are_refused() {
        for s in [&b"1-"[..], b"a", b"3-1", b"0,,1", b"", b"-1", b"1-2-3", b",", b"0,", b"1024"] {
            assert!(parse_cpuset(s).is_err(), "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn offline_cpus_are_those_asked_that_the_online_file_lacks() {
        let list = |s: &CpuSet| {
            let mut out = vec![];
            s.format(|b| out.extend_from_slice(b));
            String::from_utf8(out).unwrap()
        };
        let (online, off) = offline_cpus(b"0-1\n", Some(b"0-3")).unwrap();
        assert_eq!((list(&online), off.as_ref().map(list)), ("0-1".into(), Some("2-3".into())));
        let (online, off) = offline_cpus(b"0,2-5\n", Some(b"2,4")).unwrap();
        assert_eq!((online.count(), off), (5, None));
        // Nothing asked, or a malformed list: nothing offline.
        assert_eq!(offline_cpus(b"0-7\n", None).unwrap().1, None);
        assert_eq!(offline_cpus(b"0-7\n", Some(b"x")).unwrap().1, None);
        // An empty or unreadable file is no CPU list.
        for bad in [&b""[..], b"\n", b"garbage"] {
            assert_eq!(offline_cpus(bad, Some(b"0")), None);
        }
    }

    #[test]
    fn shares_are_bounded() {
        assert_eq!(parse_shares(b"512"), Ok(512));
        for s in [&b"1"[..], b"262145", b"0", b"-5", b"x", b""] {
            assert!(parse_shares(s).is_err());
        }
    }

    #[test]
    fn the_default_share_maps_to_the_default_weight() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(512), 50);
        // Monotonic over the whole range.
        let mut last = 0;
        for s in 2..=262_144 {
            let w = shares_to_weight(s);
            assert!(w >= last && (1..=10_000).contains(&w));
            last = w;
        }
    }

    #[test]
    fn pids_limits_must_be_positive() {
        assert_eq!(parse_pids(b"20"), Ok(20));
        for s in [&b"0"[..], b"-1", b"", b"x"] {
            assert!(parse_pids(s).is_err());
        }
    }

    #[test]
    fn cpus_are_thousandths() {
        assert_eq!(parse_cpus(b"0.5"), Ok(500));
        assert_eq!(parse_cpus(b"2"), Ok(2000));
        assert_eq!(parse_cpus(b"1.25"), Ok(1250));
        assert_eq!(parse_cpus(b".5"), Ok(500));
        assert_eq!(quota_us(500), 50_000);
        for s in [&b"0"[..], b"0.0", b"-1", b"1.2345", b"x", b"1.", b"", b"0.001"] {
            assert!(parse_cpus(s).is_err(), "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn decimals_render() {
        assert_eq!(Dec::new(0).as_bytes(), b"0");
        assert_eq!(Dec::new(u64::MAX).as_bytes(), b"18446744073709551615");
    }
}
