//! Flags of the OCI subcommands, as runc's clients spell them: `--flag
//! value`, `--flag=value`, short aliases (`-b B`), booleans (`--detach`,
//! `--all=true`), flags before or between the positional arguments, `--`
//! ending the flags. Pure: the argument list is a parameter.
use crate::cli::Args;

/// The flags of a command: a packed group list (see `words`), one group of
/// spellings without dashes per flag (`b"bundle b|pid-file|detach d"`),
/// and which groups take a value (bit k: group k).
#[derive(Clone, Copy)]
pub struct Flags {
    pub names: &'static [u8],
    pub takes: u32,
}

/// A command without flags.
pub const NONE: Flags = Flags { names: b"", takes: 0 };

pub const MAX_FLAGS: usize = 8;
pub const MAX_POS: usize = 4;

/// What was given: per flag (in the order of the groups) its value, `b""`
/// for a boolean that is set; and the positional arguments.
pub struct Parsed<'a> {
    pub vals: [Option<&'a [u8]>; MAX_FLAGS],
    pub pos: [&'a [u8]; MAX_POS],
    pub npos: usize,
}

impl<'a> Parsed<'a> {
    pub fn positional(&self) -> &[&'a [u8]] {
        &self.pos[..self.npos]
    }
    pub fn has(&self, i: usize) -> bool {
        self.vals[i].is_some()
    }
}

/// Why a command line was refused: what, and the argument concerned.
#[derive(Debug, PartialEq, Eq)]
pub struct Bad<'a> {
    pub why: &'static [u8],
    pub arg: &'a [u8],
}

/// One argument of a walk: a flag — its group's index, its value (`b""`
/// for a boolean that is set, None for one given `=false`), the argument
/// as typed — or an operand.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Flag(usize, Option<&'a [u8]>, &'a [u8]),
    Operand(&'a [u8]),
}

/// A walk over `args[i..]`, one `Item` per step; after `--` every argument
/// is an operand. A caller may stop at any step (exec stops at its first
/// operand, the id) and read on from `i`.
pub struct Walk {
    pub i: usize,
    operands: bool,
}

impl Walk {
    pub fn new(from: usize) -> Walk {
        Walk { i: from, operands: false }
    }

    /// The next item; None at the end.
    pub fn next<'a, A: Args + ?Sized>(&mut self, args: &'a A, flags: Flags) -> Option<Result<Item<'a>, Bad<'a>>> {
        let mut a = args.arg(self.i);
        if self.i >= args.count() {
            return None;
        }
        self.i += 1;
        if !self.operands && a == b"--" {
            self.operands = true;
            if self.i >= args.count() {
                return None;
            }
            a = args.arg(self.i);
            self.i += 1;
        }
        if self.operands || a.len() < 2 || a[0] != b'-' {
            return Some(Ok(Item::Operand(a)));
        }
        let (name, inline) = match a.iter().position(|&c| c == b'=') {
            Some(e) => (&a[..e], Some(&a[e + 1..])),
            None => (a, None),
        };
        // Go's flag package takes one or two dashes for every flag.
        let bare = name.strip_prefix(&b"--"[..]).unwrap_or(&name[1..]);
        let Some((k, _)) = crate::words::group(flags.names, bare) else {
            return Some(Err(Bad { why: b"unknown flag", arg: a }));
        };
        let v = if flags.takes >> k & 1 != 0 {
            match inline {
                Some(v) => Some(v),
                None if self.i < args.count() => {
                    self.i += 1;
                    Some(args.arg(self.i - 1))
                }
                None => return Some(Err(Bad { why: b"flag needs a value", arg: a })),
            }
        } else {
            match inline.map(|v| crate::words::find(b"true 1 false 0", v)) {
                None | Some(Some(0 | 1)) => Some(&b""[..]),
                Some(Some(_)) => None,
                Some(None) => return Some(Err(Bad { why: b"not a boolean", arg: a })),
            }
        };
        Some(Ok(Item::Flag(k, v, a)))
    }
}

/// `parse`, a refusal reported as one line `mydocker: <command>: <why>: <arg>`
/// (the error is the exit code, 1).
#[inline(never)]
pub fn parse_for<'a>(args: &'a dyn Args, from: usize, flags: Flags) -> Result<Parsed<'a>, i32> {
    parse(args, from, flags).map_err(|b| super::fail3(b.why, b": ", b.arg))
}

/// Parses `args[from..]` against `flags` (at most MAX_FLAGS groups).
pub fn parse<'a, A: Args + ?Sized>(args: &'a A, from: usize, flags: Flags) -> Result<Parsed<'a>, Bad<'a>> {
    let mut p = Parsed { vals: [None; MAX_FLAGS], pos: [b""; MAX_POS], npos: 0 };
    let mut w = Walk::new(from);
    while let Some(item) = w.next(args, flags) {
        match item? {
            Item::Flag(k, v, _) => p.vals[k] = v,
            Item::Operand(a) => {
                *p.pos.get_mut(p.npos).ok_or(Bad { why: b"too many arguments", arg: a })? = a;
                p.npos += 1;
            }
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Flags = Flags { names: b"bundle b|detach d|pid-file", takes: 0b101 };

    #[test]
    fn both_spellings_short_aliases_and_booleans() {
        let a: &[&[u8]] = &[b"x", b"-b", b"/b", b"--pid-file=/p", b"-d", b"id"];
        let p = parse(a, 1, F).unwrap();
        assert_eq!((p.vals[0], p.vals[1], p.vals[2]), (Some(&b"/b"[..]), Some(&b""[..]), Some(&b"/p"[..])));
        assert_eq!(p.positional(), &[&b"id"[..]]);
        let a: &[&[u8]] = &[b"x", b"--bundle=/c", b"--detach=false", b"id", b"--", b"-x"];
        let p = parse(a, 1, F).unwrap();
        assert_eq!((p.vals[0], p.vals[1]), (Some(&b"/c"[..]), None));
        assert_eq!(p.positional(), &[&b"id"[..], &b"-x"[..]]);
    }

    #[test]
    fn mistakes_are_named() {
        let a: &[&[u8]] = &[b"x", b"--nope", b"id"];
        assert_eq!(parse(a, 1, F).err().unwrap().why, b"unknown flag");
        let a: &[&[u8]] = &[b"x", b"id", b"--bundle"];
        assert_eq!(parse(a, 1, F).err().unwrap().why, b"flag needs a value");
        let a: &[&[u8]] = &[b"x", b"a", b"b", b"c", b"d", b"e"];
        assert_eq!(parse(a, 1, F).err().unwrap().why, b"too many arguments");
        let a: &[&[u8]] = &[b"x", b"-d=maybe"];
        assert_eq!(parse(a, 1, F).err().unwrap().why, b"not a boolean");
    }

    #[test]
    fn a_walk_stops_where_its_caller_wants_and_dash_dash_makes_operands() {
        let a: &[&[u8]] = &[b"x", b"--detach=0", b"--", b"-d", b"id"];
        let mut w = Walk::new(1);
        assert_eq!(w.next(a, F), Some(Ok(Item::Flag(1, None, &b"--detach=0"[..]))));
        assert_eq!(w.next(a, F), Some(Ok(Item::Operand(&b"-d"[..]))));
        assert_eq!(w.i, 4, "the next argument to read");
        assert_eq!(w.next(a, F), Some(Ok(Item::Operand(&b"id"[..]))));
        assert_eq!(w.next(a, F), None);
    }
}
