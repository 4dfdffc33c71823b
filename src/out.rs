//! One-line messages without an allocator: a fixed buffer that truncates
//! (marking the cut with "...") instead of growing, written with one write(2)
//! so lines from concurrent processes never interleave.
use crate::sys;

pub const LINE_MAX: usize = 512;

pub struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
    cut: bool,
}

impl Line {
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

    /// Ends the line and writes it; errors writing diagnostics are ignored
    /// (there is nowhere left to report them).
    #[inline(never)]
    pub fn emit(&mut self, fd: sys::Fd) {
        if self.cut {
            self.buf[self.len..self.len + 3].copy_from_slice(b"...");
            self.len += 3;
        }
        if fd == 2 {
            // OCI --log: error lines go to the log file too.
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
