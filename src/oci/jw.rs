//! Output for the OCI commands: a buffered writer to an fd with a JSON
//! string escaper (state, list, ps, features, the --log lines), and RFC 3339
//! timestamps. No allocation: a 4 KiB buffer flushed as it fills.
use crate::limits::Dec;
use crate::sys::{self, Fd};

pub struct W {
    fd: Fd,
    buf: [u8; 4096],
    n: usize,
    /// The first failed write's errno, 0 while none failed.
    err: i32,
}

impl W {
    /// Out of line: its 4 KiB zeroing was inlined at each of its six
    /// callers (measured smaller as a call; issue 12).
    #[inline(never)]
    pub fn new(fd: Fd) -> W {
        W { fd, buf: [0; 4096], n: 0, err: 0 }
    }

    /// Raw bytes.
    #[inline(never)]
    pub fn s(&mut self, b: &[u8]) -> &mut W {
        for &c in b {
            if self.n == self.buf.len() {
                self.flush();
            }
            self.buf[self.n] = c;
            self.n += 1;
        }
        self
    }

    /// A JSON string: quotes, `"` and `\` escaped, control characters as
    /// \u00XX; bytes that are not UTF-8 (a path may hold any) become
    /// U+FFFD, as Go's encoding/json writes them — JSON text must be UTF-8.
    #[inline(never)]
    pub fn q(&mut self, b: &[u8]) -> &mut W {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.s(b"\"");
        let mut rest = b;
        while !rest.is_empty() {
            // The UTF-8 prefix as is (escaped), then one U+FFFD for the bad
            // bytes that follow (Line::arg's walk: one UTF-8 checker linked).
            let (ok, bad) = match core::str::from_utf8(rest) {
                Ok(_) => (rest.len(), 0),
                Err(e) => (e.valid_up_to(), e.error_len().unwrap_or(rest.len() - e.valid_up_to())),
            };
            for &c in &rest[..ok] {
                match c {
                    b'"' => self.s(b"\\\""),
                    b'\\' => self.s(b"\\\\"),
                    b'\n' => self.s(b"\\n"),
                    b'\t' => self.s(b"\\t"),
                    0..=0x1f | 0x7f => {
                        self.s(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]])
                    }
                    _ => self.s(&[c]),
                };
            }
            if bad > 0 {
                self.s(b"\\ufffd");
            }
            rest = &rest[ok + bad..];
        }
        self.s(b"\"")
    }

    pub fn n(&mut self, v: u64) -> &mut W {
        self.s(Dec::new(v).as_bytes())
    }

    /// Flushes; the command's exit code: 0, or 1 after one line saying why
    /// a write failed (stdout full, closed pipe) — `cmd` names the step.
    pub fn done(&mut self, cmd: &[u8]) -> i32 {
        self.flush();
        match self.err {
            0 => 0,
            e => super::fail_as(cmd, &[b"writing stdout: ", sys::strerror(sys::Errno(e))]),
        }
    }

    /// Writes what is buffered; after a failed write, nothing more.
    pub fn flush(&mut self) {
        if self.n > 0 && self.err == 0 {
            if let Err(e) = sys::write_all(self.fd, &self.buf[..self.n]) {
                self.err = e.0;
            }
        }
        self.n = 0;
    }
}

/// `secs.nanos` since the epoch as RFC 3339 in UTC with nanoseconds
/// ("2006-01-02T15:04:05.999999999Z", 30 bytes), as Go's RFC3339Nano
/// prints it but with all nine digits.
pub fn rfc3339(secs: u64, nanos: u32) -> [u8; 30] {
    let days = secs / 86400;
    let rem = secs % 86400;
    // Civil from days (Howard Hinnant's algorithm), for dates after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as u64;
    let mut o = *b"0000-00-00T00:00:00.000000000Z";
    // Each field's digits right to left from where it ends, over the
    // template's zeros (a separator stops it).
    let fields = [(4, y), (7, m), (10, d), (13, rem / 3600), (16, rem / 60 % 60), (19, rem % 60), (29, nanos as u64)];
    for (end, mut v) in fields {
        let mut i = end;
        while i > 0 && o[i - 1] == b'0' {
            i -= 1;
            o[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    o
}

/// The current time as RFC 3339.
pub fn now() -> [u8; 30] {
    let (s, ns) = sys::proc::realtime();
    rfc3339(s, ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(&rfc3339(0, 0), b"1970-01-01T00:00:00.000000000Z");
        assert_eq!(&rfc3339(951_782_400, 5), b"2000-02-29T00:00:00.000000005Z");
        assert_eq!(&rfc3339(1_796_000_000, 123_456_789), b"2026-11-30T00:53:20.123456789Z");
    }

    #[test]
    fn strings_are_json_whatever_the_bytes() {
        let mut w = W::new(-1);
        w.q(b"a\xffb\"\\\n\x01\xc3\xa9\xe2\x82");
        let text = &w.buf[..w.n];
        assert_eq!(text, b"\"a\\ufffdb\\\"\\\\\\n\\u0001\xc3\xa9\\ufffd\"");
        let v: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!(v, "a\u{fffd}b\"\\\n\u{1}\u{e9}\u{fffd}");
    }
}
