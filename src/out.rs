//! One-line messages without an allocator: a fixed buffer that truncates
//! (marking the cut with "...") instead of growing, written with one write(2)
//! so lines from concurrent processes never interleave.
//!
//! Two ways in: `s` for mydocker's own text, `arg` for anything that came
//! from outside (an argument, a path, a value read from the system). `arg`
//! escapes what could break the line or the terminal — bytes below 0x20,
//! 0x7f, the C1 controls U+0080..U+009F, and bytes that are not UTF-8 — as
//! `\n`, `\t`, `\r` or `\xHH`, so every message stays one line whatever
//! the bytes.
use crate::sys;

pub const LINE_MAX: usize = 512;

pub struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
    cut: bool,
}

impl Line {
    #[inline(never)]
    pub fn new() -> Line {
        Line { buf: [0; LINE_MAX], len: 0, cut: false }
    }

    #[inline(never)]
    pub fn s(&mut self, b: &[u8]) -> &mut Line {
        for &c in b {
            // Keep room for "...\n".
            if self.len >= LINE_MAX - 4 {
                self.cut = true;
                break;
            }
            self.buf[self.len] = c;
            self.len += 1;
        }
        self
    }

    /// Appends bytes from outside mydocker, escaped (see the module doc).
    /// A long one (over 200 bytes) shows its first and last 80 around
    /// "...", so what the line says after it (the reason) still fits (a
    /// character cut there shows as \xHH escapes). An escape is never cut
    /// in half.
    #[inline(never)]
    pub fn arg(&mut self, b: &[u8]) -> &mut Line {
        match (b.get(..80), b.get(b.len().wrapping_sub(80)..)) {
            (Some(head), Some(tail)) if b.len() > 200 => self.escaped(head).s(b"...").escaped(tail),
            _ => self.escaped(b),
        }
    }

    fn escaped(&mut self, b: &[u8]) -> &mut Line {
        let mut rest = b;
        while !rest.is_empty() {
            let (valid, bad) = match core::str::from_utf8(rest) {
                Ok(_) => (rest, 0),
                // The first valid_up_to() bytes are UTF-8; then `bad` bytes
                // that are not (all the rest when the input ends mid-character).
                Err(e) => (&rest[..e.valid_up_to()], e.error_len().unwrap_or(rest.len() - e.valid_up_to())),
            };
            // Character by character (its length from the lead byte: the
            // text is UTF-8 here), so truncation never splits one.
            let mut i = 0;
            while i < valid.len() {
                let c = valid[i];
                let len = match c {
                    0..=0x7f => 1,
                    0x80..=0xdf => 2,
                    0xe0..=0xef => 3,
                    _ => 4,
                };
                let ch = &valid[i..i + len];
                match ch {
                    b"\n" => self.piece(b"\\n"),
                    b"\t" => self.piece(b"\\t"),
                    b"\r" => self.piece(b"\\r"),
                    // C0 controls, DEL, and C1 controls (U+0080..U+009F).
                    [0..=0x1f | 0x7f] | [0xc2, 0x80..=0x9f] => self.hex(ch),
                    _ => self.piece(ch),
                };
                i += len;
            }
            let at = valid.len();
            self.hex(&rest[at..at + bad]);
            rest = &rest[at + bad..];
        }
        self
    }

    /// Each byte as `\xHH`.
    fn hex(&mut self, b: &[u8]) -> bool {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        b.iter().all(|&c| self.piece(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]))
    }

    /// Appends `p` whole, or marks the line cut; false once cut.
    fn piece(&mut self, p: &[u8]) -> bool {
        if self.cut || self.len + p.len() > LINE_MAX - 4 {
            self.cut = true;
            return false;
        }
        self.buf[self.len..self.len + p.len()].copy_from_slice(p);
        self.len += p.len();
        true
    }

    /// Ends the line and writes it; errors writing diagnostics are ignored
    /// (there is nowhere left to report them).
    #[inline(never)]
    pub fn emit(&mut self, fd: sys::Fd) {
        if self.cut {
            self.buf[self.len..self.len + 3].copy_from_slice(b"...");
            self.len += 3;
        }
        // OCI --log: error lines go to the log file too.
        #[cfg(not(fuzzing))]
        if fd == 2 {
            crate::oci::log::mirror(&self.buf[..self.len]);
        }
        self.buf[self.len] = b'\n';
        let _ = sys::write_all(fd, &self.buf[..self.len + 1]);
    }
}

/// Writes text to stdout (help, version); a closed stdout is not an error.
pub fn stdout(b: &[u8]) {
    let _ = sys::write_all(1, b);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(b: &[u8]) -> Vec<u8> {
        let mut l = Line::new();
        l.s(b"<").arg(b).s(b">");
        l.buf[..l.len].to_vec()
    }

    #[test]
    fn arg_escapes_controls_del_c1_and_invalid_utf8_and_keeps_the_rest() {
        assert_eq!(shown(b"bad\nhost"), b"<bad\\nhost>");
        assert_eq!(shown(b"\t\r\x1b[31m\x7f"), b"<\\t\\r\\x1b[31m\\x7f>");
        assert_eq!(shown(b"\xff\xfeok\xc3"), b"<\\xff\\xfeok\\xc3>");
        assert_eq!(shown("caf\u{e9} \u{9b}".as_bytes()), "<caf\u{e9} \\xc2\\x9b>".as_bytes());
        assert_eq!(shown(b"\0"), b"<\\x00>");
        assert_eq!(shown(b"plain / path:ro"), b"<plain / path:ro>");
    }

    #[test]
    fn no_byte_below_0x20_or_invalid_utf8_survives_arg() {
        for a in 0..=255u8 {
            for b in [0u8, b'a', 0x80, 0xc3, 0xa9, 0xff] {
                let out = shown(&[a, b, a]);
                assert!(out.iter().all(|&c| c >= 0x20 && c != 0x7f), "{a:#x} {b:#x}: {out:?}");
                assert!(core::str::from_utf8(&out).is_ok(), "{a:#x} {b:#x}: {out:?}");
            }
        }
    }

    #[test]
    fn a_long_arg_shows_its_ends_and_the_reason_after_it_stays() {
        let mut arg = b"/".to_vec();
        arg.extend(b"a/".repeat(2100));
        arg.extend("\u{e9}nd".as_bytes());
        let mut l = Line::new();
        l.s(b"mydocker: workdir: ").arg(&arg).s(b": File name too long");
        let out = String::from_utf8(l.buf[..l.len].to_vec()).unwrap();
        assert!(!l.cut, "{out}");
        assert!(out.starts_with("mydocker: workdir: /a/a/") && out.ends_with("a/a/\u{e9}nd: File name too long"), "{out}");
        assert!(out.contains("/a...a/") || out.contains("/...a") || out.contains("a/...a"), "{out}");
        assert!(out.len() < 300, "{out}");
    }

    #[test]
    fn a_long_arg_is_cut_between_escapes_never_inside_one() {
        let mut l = Line::new();
        l.s(&[b'x'; 300]).arg(&[b'\n'; 200]);
        assert!(l.cut);
        assert_eq!(l.len % 2, 0, "an escape was cut in half");
        assert!(l.buf[300..l.len].chunks(2).all(|c| c == b"\\n"));
    }
}
