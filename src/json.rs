//! A JSON reader (RFC 8259) with no allocator, as strict as serde_json:
//! the one reader for config.json (OCI) and seccomp profiles.
//!
//! Shape: the caller owns the text as `&mut [u8]` (a MAP_PRIVATE mapping of
//! the file: `sys::map_file`) and a node table (`nodes_for(len)` entries).
//! `parse` validates the whole text in one pass without recursion, decodes
//! every string in place (escapes, `\uXXXX` and surrogate pairs to UTF-8; the
//! decoded bytes start right after the opening quote), and records one `Node`
//! per value and per object key, in document order. Navigation is by `Value`,
//! a Copy handle: `doc.root()`, `v.get("key")`, `v.items()`, `v.members()`,
//! `as_str`/`as_bool`/`as_u64`/`as_i64`/`as_u32`, `is_null`, `span`.
//!
//! Strictness (checked by difference against serde_json in the tests): no
//! trailing commas, comments, single quotes, NaN, leading zeros or `+`; only
//! space, tab, CR, LF as whitespace; control characters must be escaped;
//! invalid UTF-8 and lone surrogates are refused; numbers whose magnitude
//! rounds past f64's range (`1e400`) are refused (Why::Range);
//! nothing may follow the root value but whitespace; at most `MAX_DEPTH`
//! arrays/objects open at once. Duplicate keys: `get` returns the last one
//! (serde_json and Go's encoding/json keep the last too).
//!
//! Errors: `Error { at, .. }` — the byte offset, and `why()`, a static reason; the
//! caller prints them in its own one-line message.

/// Arrays and objects open at once; one more is an error (serde_json's
/// recursion limit is the same: 127 nested, the 128th refused).
pub const MAX_DEPTH: usize = 127;

/// Inputs are addressed with u32 offsets.
pub const MAX_LEN: usize = u32::MAX as usize - 1;

/// Nodes enough for any text of `len` bytes. Bound: every node but the root
/// takes at least one byte of its own plus one structural byte before it
/// (`[` or `,` before an element, `{` or `,` before a key, `:` before a
/// member's value), and the root at least one byte: n ≤ (len - 1) / 2 + 1.
pub const fn nodes_for(len: usize) -> usize {
    len / 2 + 1
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Null,
    Bool,
    Num,
    Str,
    Arr,
    Obj,
}

/// One value or key. `start..end` is its raw span in the text (strings
/// include their quotes). `aux`: a string's decoded length; for an array or
/// object, the index one past its last descendant (its next sibling).
/// `flag`: a bool's value; for a number, INT (integer grammar: no fraction,
/// no exponent, not `-0`) and NEG.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    kind: Kind,
    flag: u8,
    start: u32,
    end: u32,
    aux: u32,
}

const INT: u8 = 1;
const NEG: u8 = 2;

impl Node {
    /// Filler for a caller's table.
    pub const EMPTY: Node = Node { kind: Kind::Null, flag: 0, start: 0, end: 0, aux: 0 };
}

/// Where the text is malformed (byte offset) and why (`why()`). Eight
/// bytes: a result fits in registers, where a `&str` reason made every
/// `?` in the parser go through memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Error {
    pub at: u32,
    code: Why,
}

/// The reasons, in the order of WHYS.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Why {
    TooLarge,
    Trailing,
    End,
    CommaOrBracket,
    CommaOrBrace,
    TooManyNodes,
    Key,
    Colon,
    TooDeep,
    Value,
    Number,
    LeadingZero,
    NoFraction,
    NoExponent,
    Range,
    Unterminated,
    Control,
    Utf8,
    Escape,
    LoneTrailing,
    LoneLeading,
    UnterminatedU,
    Hex,
}

/// The text of each `Why`, '|'-separated.
const WHYS: &[u8] = b"text too large|trailing characters after the value|unexpected end of text|\
expected ',' or ']'|expected ',' or '}'|too many values for the node table|\
expected a string key|expected ':'|nesting too deep (more than 127 arrays/objects)|\
expected a value|invalid number|invalid number (leading zero)|\
invalid number (no digit after '.')|invalid number (no digit in the exponent)|\
number out of range|unterminated string|control character in string (must be escaped)|\
invalid UTF-8 in string|invalid escape|lone trailing surrogate in \\u escape|\
lone leading surrogate in \\u escape|unterminated \\u escape|\
invalid \\u escape (4 hex digits)";

impl Error {
    /// Why the text is malformed, e.g. "expected ':'".
    pub fn why(&self) -> &'static [u8] {
        crate::words::nth_of(WHYS, b'|', self.code as usize)
    }
}


/// A parsed document: the decoded text and its node table.
#[derive(Clone, Copy)]
pub struct Doc<'a> {
    text: &'a [u8],
    nodes: &'a [Node],
}

/// Parses `text` (decoding strings in place) into `nodes`. Errors: malformed
/// text, a text longer than `MAX_LEN`, or a table smaller than needed
/// (Why::TooManyNodes: size it with `nodes_for`).
#[inline(never)]
pub fn parse<'a>(text: &'a mut [u8], nodes: &'a mut [Node]) -> Result<Doc<'a>, Error> {
    if text.len() > MAX_LEN {
        return err(0, Why::TooLarge);
    }
    let n = Parser { b: text, pos: 0, nodes, n: 0, stack: [0; MAX_DEPTH], depth: 0 }.run()?;
    Ok(Doc { text, nodes: &nodes[..n] })
}

struct Parser<'t, 'n> {
    b: &'t mut [u8],
    pos: usize,
    nodes: &'n mut [Node],
    n: usize,
    stack: [u32; MAX_DEPTH],
    depth: usize,
}

fn err<T>(at: usize, code: Why) -> Result<T, Error> {
    Err(Error { at: at as u32, code })
}

impl Parser<'_, '_> {
    /// The whole text: values, then after each one a `,`, a closing bracket
    /// or the end. Iterative; the open containers are on `stack`.
    fn run(mut self) -> Result<usize, Error> {
        'value: loop {
            self.value()?;
            loop {
                self.ws();
                let Some(top) = self.depth.checked_sub(1).map(|d| self.stack[d] as usize) else {
                    if self.pos < self.b.len() {
                        return err(self.pos, Why::Trailing);
                    }
                    return Ok(self.n);
                };
                let obj = self.nodes[top].kind == Kind::Obj;
                match (self.peek(), obj) {
                    (Some(b','), _) => {
                        self.pos += 1;
                        if obj {
                            self.key()?;
                        }
                        continue 'value;
                    }
                    (Some(b']'), false) | (Some(b'}'), true) => self.close(top),
                    (None, _) => return err(self.pos, Why::End),
                    (_, false) => return err(self.pos, Why::CommaOrBracket),
                    (_, true) => return err(self.pos, Why::CommaOrBrace),
                }
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn push(&mut self, kind: Kind, flag: u8, start: usize) -> Result<usize, Error> {
        let i = self.n;
        let Some(slot) = self.nodes.get_mut(i) else {
            return err(start, Why::TooManyNodes);
        };
        *slot = Node { kind, flag, start: start as u32, end: self.pos as u32, aux: 0 };
        self.n += 1;
        Ok(i)
    }

    fn close(&mut self, top: usize) {
        self.pos += 1;
        self.depth -= 1;
        let n = self.n as u32;
        let node = &mut self.nodes[top];
        node.end = self.pos as u32;
        node.aux = n;
    }

    /// An object key and its colon, after `{` or `,`.
    fn key(&mut self) -> Result<(), Error> {
        self.ws();
        if self.peek() != Some(b'"') {
            return err(self.pos, Why::Key);
        }
        self.string()?;
        self.ws();
        if self.peek() != Some(b':') {
            return err(self.pos, Why::Colon);
        }
        self.pos += 1;
        Ok(())
    }

    /// One value. An array or object is opened and, unless empty, its first
    /// element (after the first key) is read by going round again; the rest
    /// follow in `run`.
    // Not inlined: measured smaller as a call (issue 12, size).
    #[inline(never)]
    fn value(&mut self) -> Result<(), Error> {
        loop {
            self.ws();
            let start = self.pos;
            let Some(c) = self.peek() else { return err(start, Why::End) };
            let (kind, open) = match c {
                b'[' => (Kind::Arr, b']'),
                b'{' => (Kind::Obj, b'}'),
                b'"' => return self.string().map(drop),
                b'-' | b'0'..=b'9' => return self.number(),
                _ => return self.literal(),
            };
            if self.depth == MAX_DEPTH {
                return err(start, Why::TooDeep);
            }
            self.pos += 1;
            let i = self.push(kind, 0, start)?;
            self.stack[self.depth] = i as u32;
            self.depth += 1;
            self.ws();
            if self.peek() == Some(open) {
                self.close(i);
                return Ok(());
            }
            if kind == Kind::Obj {
                self.key()?;
            }
        }
    }

    fn literal(&mut self) -> Result<(), Error> {
        let start = self.pos;
        let rest = &self.b[start..];
        let (kind, flag, len) = if rest.starts_with(b"null") {
            (Kind::Null, 0, 4)
        } else if rest.starts_with(b"true") {
            (Kind::Bool, 1, 4)
        } else if rest.starts_with(b"false") {
            (Kind::Bool, 0, 5)
        } else {
            return err(start, Why::Value);
        };
        self.pos += len;
        self.push(kind, flag, start).map(drop)
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - from
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, and within f64's range.
    fn number(&mut self) -> Result<(), Error> {
        let start = self.pos;
        let mut flag = INT;
        if self.peek() == Some(b'-') {
            flag |= NEG;
            self.pos += 1;
        }
        let int_at = self.pos;
        match self.digits() {
            0 => return err(self.pos, Why::Number),
            n if n > 1 && self.b[int_at] == b'0' => return err(int_at, Why::LeadingZero),
            _ => {}
        }
        let int_end = self.pos;
        let mut frac = (self.pos, self.pos);
        if self.peek() == Some(b'.') {
            self.pos += 1;
            frac.0 = self.pos;
            if self.digits() == 0 {
                return err(self.pos, Why::NoFraction);
            }
            frac.1 = self.pos;
            flag &= !INT;
        }
        let mut exp: i64 = 0;
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            let neg = self.peek() == Some(b'-');
            if neg || self.peek() == Some(b'+') {
                self.pos += 1;
            }
            let at = self.pos;
            if self.digits() == 0 {
                return err(self.pos, Why::NoExponent);
            }
            for &d in &self.b[at..self.pos] {
                exp = (exp * 10 + (d - b'0') as i64).min(1 << 40);
            }
            if neg {
                exp = -exp;
            }
            flag &= !INT;
        }
        // "-0" is a float to serde_json (and has no integer reading).
        if flag & NEG != 0 && int_end - int_at == 1 && self.b[int_at] == b'0' {
            flag &= !INT;
        }
        if out_of_range(&self.b[int_at..int_end], &self.b[frac.0..frac.1], exp) {
            return err(start, Why::Range);
        }
        self.push(Kind::Num, flag, start).map(drop)
    }

    /// A string at `"`, decoded in place; returns its node index.
    fn string(&mut self) -> Result<usize, Error> {
        let start = self.pos;
        let mut r = start + 1;
        let mut w = r;
        loop {
            let Some(&c) = self.b.get(r) else { return err(r, Why::Unterminated) };
            match c {
                b'"' => break,
                b'\\' => {
                    let (ch, used) = self.escape(r)?;
                    r += used;
                    w += encode_utf8(ch, &mut self.b[w..]);
                }
                0..=0x1f => return err(r, Why::Control),
                _ => {
                    self.b[w] = c;
                    r += 1;
                    w += 1;
                }
            }
        }
        // Checked once, decoded: an escape always yields whole characters,
        // so the result is UTF-8 exactly when every raw run between
        // escapes is. The offset given is the string's.
        if core::str::from_utf8(&self.b[start + 1..w]).is_err() {
            return err(start, Why::Utf8);
        }
        self.pos = r + 1;
        let i = self.push(Kind::Str, 0, start)?;
        self.nodes[i].aux = (w - start - 1) as u32;
        Ok(i)
    }

    /// The escape at `at` (a backslash): the character and the bytes used.
    fn escape(&self, at: usize) -> Result<(u32, usize), Error> {
        let Some(&e) = self.b.get(at + 1) else { return err(at, Why::Unterminated) };
        if e == b'u' {
            return self.unicode(at);
        }
        // The one-letter escapes and what each stands for.
        match b"\"\\/bfnrt".iter().position(|&x| x == e) {
            Some(i) => Ok((b"\"\\/\x08\x0c\n\r\t"[i] as u32, 2)),
            None => err(at, Why::Escape),
        }
    }

    /// `\uXXXX`, or a surrogate pair `\uD8xx\uDCxx`; lone surrogates refused.
    fn unicode(&self, at: usize) -> Result<(u32, usize), Error> {
        let hi = self.hex4(at + 2)?;
        match hi {
            0xdc00..=0xdfff => err(at, Why::LoneTrailing),
            0xd800..=0xdbff => {
                if self.b.get(at + 6..at + 8) != Some(b"\\u") {
                    return err(at, Why::LoneLeading);
                }
                let lo = self.hex4(at + 8)?;
                if !(0xdc00..=0xdfff).contains(&lo) {
                    return err(at, Why::LoneLeading);
                }
                Ok((0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00), 12))
            }
            _ => Ok((hi, 6)),
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, Error> {
        let Some(h) = self.b.get(at..at + 4) else { return err(at, Why::UnterminatedU) };
        let mut v = 0;
        for &d in h {
            let Some(x) = (d as char).to_digit(16) else { return err(at, Why::Hex) };
            v = v << 4 | x;
        }
        Ok(v)
    }
}

/// UTF-8 of a scalar value into `out` (which has room: an escape is never
/// shorter than its encoding). Returns the length.
fn encode_utf8(c: u32, out: &mut [u8]) -> usize {
    if c < 0x80 {
        out[0] = c as u8;
        1
    } else if c < 0x800 {
        out[0] = 0xc0 | (c >> 6) as u8;
        out[1] = 0x80 | (c & 0x3f) as u8;
        2
    } else if c < 0x10000 {
        out[0] = 0xe0 | (c >> 12) as u8;
        out[1] = 0x80 | (c >> 6 & 0x3f) as u8;
        out[2] = 0x80 | (c & 0x3f) as u8;
        3
    } else {
        out[0] = 0xf0 | (c >> 18) as u8;
        out[1] = 0x80 | (c >> 12 & 0x3f) as u8;
        out[2] = 0x80 | (c >> 6 & 0x3f) as u8;
        out[3] = 0x80 | (c & 0x3f) as u8;
        4
    }
}

/// Whether int.frac × 10^exp rounds to ±infinity as an f64. Exact, without
/// floating point: compares its significant digits against those of
/// 2^1024 - 2^970 = (2^54 - 1) × 2^970, the halfway point between f64::MAX
/// and 2^1024, whose 309 digits are worked out here by doubling (only for
/// a number of that magnitude; as a constant they cost 309 bytes of binary).
/// A magnitude at or above it rounds to infinity (ties go to the even
/// significand, i.e. up).
fn out_of_range(int: &[u8], frac: &[u8], exp: i64) -> bool {
    // Digit k of int then frac; '0' past the end.
    let digit = |k: usize| *int.get(k).or_else(|| frac.get(k - int.len())).unwrap_or(&b'0');
    let Some(lead) = (0..int.len() + frac.len()).position(|k| digit(k) != b'0') else { return false };
    // value = 0.d1d2... × 10^(int digits after leading zeros + exp)
    let e = int.len() as i64 - lead as i64 + exp;
    if e != 309 {
        return e > 309;
    }
    // The bound's digits, least significant first.
    let mut over = [0u8; 309];
    let mut m = (1u64 << 54) - 1;
    for d in over.iter_mut() {
        *d = (m % 10) as u8;
        m /= 10;
    }
    for _ in 0..970 {
        let mut carry = 0;
        for d in over.iter_mut() {
            let x = *d * 2 + carry;
            (*d, carry) = (x % 10, x / 10);
        }
    }
    for (k, &t) in over.iter().rev().enumerate() {
        let d = digit(lead + k) - b'0';
        if d != t {
            return d > t;
        }
    }
    true
}

/// A value in a parsed document (Copy; cheap to pass around).
#[derive(Clone, Copy)]
pub struct Value<'a> {
    doc: &'a Doc<'a>,
    i: usize,
}

impl<'a> Doc<'a> {
    pub fn root(&'a self) -> Value<'a> {
        Value { doc: self, i: 0 }
    }

    /// Index one past node `i`'s subtree.
    fn next(&self, i: usize) -> usize {
        let n = &self.nodes[i];
        match n.kind {
            Kind::Arr | Kind::Obj => n.aux as usize,
            _ => i + 1,
        }
    }
}

/// The same value of the same document.
impl PartialEq for Value<'_> {
    fn eq(&self, o: &Self) -> bool {
        core::ptr::eq(self.doc.text, o.doc.text) && self.i == o.i
    }
}

impl core::fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(f, "json::Value({:?} at {:?})", self.kind(), self.span())
    }
}

impl<'a> Value<'a> {
    fn node(&self) -> &'a Node {
        &self.doc.nodes[self.i]
    }

    pub fn kind(&self) -> Kind {
        self.node().kind
    }

    pub fn is_null(&self) -> bool {
        self.kind() == Kind::Null
    }

    pub fn as_bool(&self) -> Option<bool> {
        (self.kind() == Kind::Bool).then(|| self.node().flag != 0)
    }

    /// A string's decoded bytes (valid UTF-8, may contain NUL).
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        let n = self.node();
        let at = n.start as usize + 1;
        (n.kind == Kind::Str).then(|| &self.doc.text[at..at + n.aux as usize])
    }

    pub fn as_str(&self) -> Option<&'a str> {
        // The parser checked every byte: valid UTF-8 by construction.
        self.as_bytes().and_then(|b| core::str::from_utf8(b).ok())
    }

    /// A number written as an integer (no fraction or exponent) in 0..=u64::MAX.
    pub fn as_u64(&self) -> Option<u64> {
        let n = self.node();
        if n.kind != Kind::Num || n.flag != INT {
            return None;
        }
        crate::limits::parse_u64(self.raw())
    }

    /// A number written as an integer in i64's range.
    pub fn as_i64(&self) -> Option<i64> {
        let n = self.node();
        if n.kind != Kind::Num || n.flag & INT == 0 {
            return None;
        }
        if n.flag & NEG == 0 {
            return self.as_u64().and_then(|v| i64::try_from(v).ok());
        }
        let m = crate::limits::parse_u64(&self.raw()[1..])?;
        0i64.checked_sub_unsigned(m)
    }

    pub fn as_u32(&self) -> Option<u32> {
        self.as_u64().and_then(|v| u32::try_from(v).ok())
    }

    /// The value's byte range in the text. Strings are decoded in place, so
    /// for text with escapes the bytes there now differ from the file's: a
    /// verbatim copy must take this range from an unparsed copy of the file.
    pub fn span(&self) -> core::ops::Range<usize> {
        let n = self.node();
        n.start as usize..n.end as usize
    }

    /// The bytes at `span` in the parsed text (verbatim for numbers, literals
    /// and anything without string escapes).
    pub fn raw(&self) -> &'a [u8] {
        &self.doc.text[self.span()]
    }

    /// An object's member `key` (the last one if repeated); None if absent or
    /// not an object.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.get_bytes(key.as_bytes())
    }

    /// `get` by a key as bytes.
    pub fn get_bytes(&self, key: &[u8]) -> Option<Value<'a>> {
        let mut found = None;
        for (k, v) in self.members() {
            if k.as_bytes() == key {
                found = Some(v);
            }
        }
        found
    }

    /// An array's elements in order (nothing for any other kind).
    pub fn items(&self) -> Items<'a> {
        let (i, end) = match self.kind() {
            Kind::Arr => (self.i + 1, self.node().aux as usize),
            _ => (0, 0),
        };
        Items { doc: self.doc, i, end }
    }

    /// An object's members as (key, value) in order, repeats included.
    pub fn members(&self) -> Members<'a> {
        let (i, end) = match self.kind() {
            Kind::Obj => (self.i + 1, self.node().aux as usize),
            _ => (0, 0),
        };
        Members(Items { doc: self.doc, i, end })
    }
}

pub struct Items<'a> {
    doc: &'a Doc<'a>,
    i: usize,
    end: usize,
}

/// The elements of `v` when it is an array; nothing otherwise (None
/// included). Cheaper than `v.into_iter().flat_map(|v| v.items())`, whose
/// Flatten state machine costs ~160 bytes per use.
pub fn items_in(v: Option<Value>) -> Items {
    match v {
        Some(v) => v.items(),
        None => Items { doc: &Doc { text: &[], nodes: &[] }, i: 0, end: 0 },
    }
}

/// The elements of the array at `v.key` (nothing when absent).
pub fn list<'a>(v: Option<Value<'a>>, key: &str) -> Items<'a> {
    items_in(v.and_then(|v| v.get(key)))
}

/// The members of `v` when it is an object; nothing otherwise.
pub fn members_in(v: Option<Value>) -> Members {
    Members(match v {
        Some(v) => return v.members(),
        None => Items { doc: &Doc { text: &[], nodes: &[] }, i: 0, end: 0 },
    })
}

impl<'a> Iterator for Items<'a> {
    type Item = Value<'a>;
    fn next(&mut self) -> Option<Value<'a>> {
        if self.i >= self.end {
            return None;
        }
        let v = Value { doc: self.doc, i: self.i };
        self.i = self.doc.next(self.i);
        Some(v)
    }
}

pub struct Members<'a>(Items<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, Value<'a>);
    fn next(&mut self) -> Option<(&'a str, Value<'a>)> {
        let k = self.0.next()?.as_str()?;
        let v = self.0.next()?;
        Some((k, v))
    }
}

#[cfg(test)]
mod tests;
