//! The argv frame: how the command line and environment travel from the
//! parent to the child over an anonymous pipe. Version 1, all integers
//! little-endian:
//!
//! ```text
//! offset size  field
//!      0    4  magic "MDKF"
//!      4    2  version = 1
//!      6    2  header length = 24
//!      8    4  argc (>= 1)
//!     12    4  envc
//!     16    4  payload length in bytes
//!     20    4  reserved, 0
//!     24    -  payload: argc NUL-terminated strings (argv), then envc
//!              NUL-terminated strings (envp, "KEY=VALUE"); nothing after
//! ```
//!
//! The receiver trusts nothing: magic, version, header length, reserved
//! field, counts, payload length against its buffer, every terminator and
//! the absence of trailing bytes are checked before any string is used.
use core::ffi::c_char;

pub const MAGIC: [u8; 4] = *b"MDKF";
pub const VERSION: u16 = 1;
pub const HEADER: usize = 24;
/// Largest payload the u32 length field can describe.
pub const MAX_PAYLOAD: usize = u32::MAX as usize;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bad {
    Magic,
    Version,
    HeaderLen,
    Reserved,
    NoArgv,
    TooBig,
    Truncated,
    Terminator,
    Count,
    EmptyCommand,
    NulByte,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    pub argc: u32,
    pub envc: u32,
    pub len: u32,
}

impl Header {
    /// Pointer slots the receiver needs: argv, NULL, envp, NULL.
    pub fn ptrs(&self) -> usize {
        self.argc as usize + self.envc as usize + 2
    }
}

/// Builds a frame. With no buffer it only counts, so the caller can size
/// one exactly (an mmap'ed arena) and encode again into it.
pub struct Encoder<'b> {
    out: Option<&'b mut [u8]>,
    len: usize,
    argc: u32,
    envc: u32,
    env_started: bool,
    bad: Option<Bad>,
}

impl<'b> Encoder<'b> {
    pub fn counting() -> Encoder<'static> {
        Encoder { out: None, len: 0, argc: 0, envc: 0, env_started: false, bad: None }
    }

    pub fn into(buf: &'b mut [u8]) -> Encoder<'b> {
        Encoder { out: Some(buf), len: 0, argc: 0, envc: 0, env_started: false, bad: None }
    }

    /// One string, given as pieces that are joined (e.g. "HOSTNAME=", name).
    fn push(&mut self, parts: &[&[u8]]) {
        for p in parts {
            if p.contains(&0) {
                self.bad = Some(Bad::NulByte);
            }
            self.bytes(p);
        }
        self.bytes(&[0]);
    }

    fn bytes(&mut self, b: &[u8]) {
        let at = HEADER + self.len;
        match self.len.checked_add(b.len()) {
            Some(n) if n <= MAX_PAYLOAD => self.len = n,
            _ => {
                self.bad = Some(Bad::TooBig);
                return;
            }
        }
        if let Some(out) = self.out.as_deref_mut() {
            match out.get_mut(at..at + b.len()) {
                Some(dst) => dst.copy_from_slice(b),
                None => self.bad = Some(Bad::TooBig),
            }
        }
    }

    pub fn arg(&mut self, a: &[u8]) {
        if self.env_started {
            self.bad = Some(Bad::Count);
        }
        self.argc = self.argc.saturating_add(1);
        self.push(&[a]);
    }

    pub fn env(&mut self, parts: &[&[u8]]) {
        self.env_started = true;
        self.envc = self.envc.saturating_add(1);
        self.push(parts);
    }

    /// The header this frame will carry (counts and payload length so far).
    pub fn header(&self) -> Header {
        Header { argc: self.argc, envc: self.envc, len: self.len.min(MAX_PAYLOAD) as u32 }
    }

    /// Writes the header; returns the whole frame's length.
    pub fn finish(self) -> Result<usize, Bad> {
        if let Some(b) = self.bad {
            return Err(b);
        }
        if self.argc == 0 {
            return Err(Bad::NoArgv);
        }
        if let Some(out) = self.out {
            let h = out.get_mut(..HEADER).ok_or(Bad::TooBig)?;
            // The six 32-bit words of the layout above; version and header
            // length share the second.
            let words = [
                u32::from_le_bytes(MAGIC),
                VERSION as u32 | (HEADER as u32) << 16,
                self.argc,
                self.envc,
                self.len as u32,
                0,
            ];
            for (to, w) in h.chunks_exact_mut(4).zip(words) {
                to.copy_from_slice(&w.to_le_bytes());
            }
        }
        Ok(HEADER + self.len)
    }
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Checks a received header. `capacity` is the payload buffer the receiver
/// has; a frame that does not fit is refused, never truncated.
pub fn header(b: &[u8; HEADER], capacity: usize) -> Result<Header, Bad> {
    if b[0..4] != MAGIC {
        return Err(Bad::Magic);
    }
    if u16::from_le_bytes([b[4], b[5]]) != VERSION {
        return Err(Bad::Version);
    }
    if u16::from_le_bytes([b[6], b[7]]) as usize != HEADER {
        return Err(Bad::HeaderLen);
    }
    if le32(&b[20..24]) != 0 {
        return Err(Bad::Reserved);
    }
    let h = Header { argc: le32(&b[8..12]), envc: le32(&b[12..16]), len: le32(&b[16..20]) };
    if h.argc == 0 {
        return Err(Bad::NoArgv);
    }
    if h.len as usize > capacity {
        return Err(Bad::TooBig);
    }
    // Every string takes at least its terminator.
    if h.argc as u64 + h.envc as u64 > h.len as u64 {
        return Err(Bad::Count);
    }
    Ok(h)
}

/// What the child needs from a checked payload besides the pointer arrays.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Strings<'p> {
    /// The command name, without its NUL.
    pub argv0: &'p [u8],
    /// The value of PATH in the frame's environment, if any.
    pub path: Option<&'p [u8]>,
}

/// Checks a received payload and fills `ptrs` with argv (NULL-terminated)
/// followed by envp (NULL-terminated): ptrs[..argc+1] and ptrs[argc+1..].
pub fn strings<'p>(payload: &'p [u8], h: &Header, ptrs: &mut [*const c_char]) -> Result<Strings<'p>, Bad> {
    if payload.len() != h.len as usize {
        return Err(Bad::Truncated);
    }
    let ptrs = ptrs.get_mut(..h.ptrs()).ok_or(Bad::TooBig)?;
    let Some((&0, strs)) = payload.split_last() else { return Err(Bad::Terminator) };
    let argc = h.argc as usize;
    let want = argc + h.envc as usize;
    let mut out = Strings { argv0: &[], path: None };
    // argv entries fill slots 0..argc, env entries argc+1..argc+1+envc;
    // the slot between them, and the last, are the NULLs.
    let mut slots = ptrs.iter_mut();
    let mut n = 0;
    for s in strs.split(crate::words::on(0)) {
        if n == argc {
            slots.next();
        }
        match slots.next() {
            Some(p) if n < want => *p = s.as_ptr().cast(),
            _ => return Err(Bad::Count),
        }
        if n == 0 {
            out.argv0 = s;
        } else if n >= argc {
            if let Some(v) = s.strip_prefix(&b"PATH="[..]) {
                out.path = Some(v);
            }
        }
        n += 1;
    }
    if n != want {
        return Err(Bad::Count);
    }
    if out.argv0.is_empty() {
        return Err(Bad::EmptyCommand);
    }
    for i in [argc, want + 1] {
        if let Some(p) = ptrs.get_mut(i) {
            *p = core::ptr::null();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(args: &[&[u8]], env: &[&[u8]]) -> Vec<u8> {
        let mut c = Encoder::counting();
        for a in args {
            c.arg(a);
        }
        for e in env {
            c.env(&[e]);
        }
        let n = c.finish().unwrap();
        let mut buf = vec![0u8; n];
        let mut w = Encoder::into(&mut buf);
        for a in args {
            w.arg(a);
        }
        for e in env {
            w.env(&[e]);
        }
        assert_eq!(w.finish().unwrap(), n);
        buf
    }

    fn decode(frame: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<Vec<u8>>, Option<Vec<u8>>), Bad> {
        let h = header(frame[..HEADER].try_into().unwrap(), frame.len() - HEADER)?;
        let mut ptrs = vec![core::ptr::null::<c_char>(); h.ptrs()];
        let s = strings(&frame[HEADER..], &h, &mut ptrs)?;
        // Pointers must point into the payload, at a NUL-terminated string.
        let pay = &frame[HEADER..];
        let take = |ps: &[*const c_char]| -> Vec<Vec<u8>> {
            ps.iter()
                .take_while(|p| !p.is_null())
                .map(|&p| {
                    let off = (p as usize).checked_sub(pay.as_ptr() as usize).unwrap();
                    let s = &pay[off..];
                    s[..s.iter().position(|&c| c == 0).unwrap()].to_vec()
                })
                .collect()
        };
        let argv = take(&ptrs[..]);
        let envp = take(&ptrs[h.argc as usize + 1..]);
        assert_eq!(argv.len(), h.argc as usize);
        assert_eq!(envp.len(), h.envc as usize);
        assert_eq!(s.argv0, &argv[0][..]);
        Ok((argv, envp, s.path.map(|p| p.to_vec())))
    }

    #[test]
    fn round_trip_is_byte_exact() {
        let args: &[&[u8]] = &[b"printf", b"[%s]\n", b"a b", b"", b"x\ny", "\u{e9}t\u{e9}".as_bytes(), b"\xff\xfe"];
        let env: &[&[u8]] = &[b"A=1", b"PATH=/bin:/usr/bin", b"EMPTY="];
        let f = encode(args, env);
        let (a, e, p) = decode(&f).unwrap();
        assert_eq!(a, args.iter().map(|x| x.to_vec()).collect::<Vec<_>>());
        assert_eq!(e, env.iter().map(|x| x.to_vec()).collect::<Vec<_>>());
        assert_eq!(p.unwrap(), b"/bin:/usr/bin");
    }

    #[test]
    fn round_trip_with_no_env_and_a_large_argv() {
        let big = vec![b'x'; 128 * 1024];
        let args: Vec<&[u8]> = vec![b"true", &big, &big];
        let f = encode(&args, &[]);
        let (a, e, p) = decode(&f).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[2].len(), big.len());
        assert!(e.is_empty() && p.is_none());
    }

    #[test]
    fn env_parts_are_joined() {
        let mut c = Encoder::counting();
        c.arg(b"env");
        c.env(&[b"HOSTNAME=", b"box"]);
        let n = c.finish().unwrap();
        let mut buf = vec![0; n];
        let mut w = Encoder::into(&mut buf);
        w.arg(b"env");
        w.env(&[b"HOSTNAME=", b"box"]);
        w.finish().unwrap();
        assert_eq!(decode(&buf).unwrap().1, vec![b"HOSTNAME=box".to_vec()]);
    }

    #[test]
    fn encoder_refuses_what_it_cannot_frame() {
        assert_eq!(Encoder::counting().finish(), Err(Bad::NoArgv));
        let mut c = Encoder::counting();
        c.arg(b"a\0b");
        assert_eq!(c.finish(), Err(Bad::NulByte));
        let mut small = [0u8; HEADER + 2];
        let mut w = Encoder::into(&mut small);
        w.arg(b"toolong");
        assert_eq!(w.finish(), Err(Bad::TooBig));
        let mut c = Encoder::counting();
        c.env(&[b"A=1"]);
        c.arg(b"late");
        assert_eq!(c.finish(), Err(Bad::Count));
    }

    fn corrupt(f: impl Fn(&mut Vec<u8>)) -> Bad {
        let mut frame = encode(&[b"sh", b"-c", b"true"], &[b"A=1"]);
        f(&mut frame);
        decode(&frame).unwrap_err()
    }

    fn set32(f: &mut [u8], at: usize, v: u32) {
        f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn every_malformed_frame_is_refused() {
        assert_eq!(corrupt(|f| f[0] = b'X'), Bad::Magic);
        assert_eq!(corrupt(|f| f[4] = 2), Bad::Version);
        assert_eq!(corrupt(|f| f[6] = 25), Bad::HeaderLen);
        assert_eq!(corrupt(|f| f[20] = 1), Bad::Reserved);
        assert_eq!(corrupt(|f| set32(f, 8, 0)), Bad::NoArgv);
        // Payload longer than the receiver's buffer.
        assert_eq!(corrupt(|f| f.pop().map(|_| ()).unwrap()), Bad::TooBig);
        // Counts that cannot fit in the payload.
        assert_eq!(corrupt(|f| set32(f, 12, u32::MAX)), Bad::Count);
        // More strings than counted, fewer than counted.
        assert_eq!(corrupt(|f| set32(f, 12, 0)), Bad::Count);
        assert_eq!(corrupt(|f| set32(f, 12, 2)), Bad::Count);
        // Last string not terminated.
        assert_eq!(corrupt(|f| *f.last_mut().unwrap() = b'!'), Bad::Terminator);
        // Empty command name.
        assert_eq!(
            decode(&{
                let mut f = encode(&[b"x", b"y"], &[]);
                f.remove(HEADER);
                set32(&mut f, 16, 3);
                f
            })
            .unwrap_err(),
            Bad::EmptyCommand
        );
    }

    #[test]
    fn a_short_payload_or_small_pointer_table_is_refused() {
        let f = encode(&[b"sh"], &[b"A=1"]);
        let h = header(f[..HEADER].try_into().unwrap(), 1 << 20).unwrap();
        let mut ptrs = vec![core::ptr::null::<c_char>(); h.ptrs()];
        assert_eq!(strings(&f[HEADER..f.len() - 1], &h, &mut ptrs), Err(Bad::Truncated));
        let mut few = vec![core::ptr::null::<c_char>(); h.ptrs() - 1];
        assert_eq!(strings(&f[HEADER..], &h, &mut few), Err(Bad::TooBig));
    }
}
