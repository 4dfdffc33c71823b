//! Flags of the OCI subcommands, as runc's clients spell them: `--flag
//! value`, `--flag=value`, short aliases (`-b B`), booleans (`--detach`,
//! `--all=true`), flags before or between the positional arguments, `--`
//! ending the flags. Pure: the argument list is a parameter.
use crate::cli::Args;

/// One flag: every spelling, and whether it takes a value.
pub struct Flag {
    pub names: &'static [&'static [u8]],
    pub value: bool,
}

pub const MAX_FLAGS: usize = 8;
pub const MAX_POS: usize = 4;

/// What was given: per flag (in the order of the table) its value, `b""`
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

/// Parses `args[from..]` against `flags` (at most MAX_FLAGS).
pub fn parse<'a, A: Args + ?Sized>(args: &'a A, from: usize, flags: &[Flag]) -> Result<Parsed<'a>, Bad<'a>> {
    let mut p = Parsed { vals: [None; MAX_FLAGS], pos: [b""; MAX_POS], npos: 0 };
    let mut i = from;
    let mut only_pos = false;
    while i < args.count() {
        let a = args.arg(i);
        i += 1;
        if !only_pos && a == b"--" {
            only_pos = true;
            continue;
        }
        if only_pos || a.len() < 2 || a[0] != b'-' {
            *p.pos.get_mut(p.npos).ok_or(Bad { why: b"too many arguments", arg: a })? = a;
            p.npos += 1;
            continue;
        }
        let (name, inline) = match a.iter().position(|&c| c == b'=') {
            Some(e) => (&a[..e], Some(&a[e + 1..])),
            None => (a, None),
        };
        // Go's flag package takes one or two dashes for every flag.
        let bare = name.strip_prefix(b"--").unwrap_or(&name[1..]);
        let Some(k) = flags.iter().position(|f| f.names.iter().any(|n| *n == bare)) else {
            return Err(Bad { why: b"unknown flag", arg: a });
        };
        p.vals[k] = if flags[k].value {
            match inline {
                Some(v) => Some(v),
                None if i < args.count() => {
                    i += 1;
                    Some(args.arg(i - 1))
                }
                None => return Err(Bad { why: b"flag needs a value", arg: a }),
            }
        } else {
            match inline.map(|v| crate::words::find(b"true 1 false 0", v)) {
                None | Some(Some(0 | 1)) => Some(b""),
                Some(Some(_)) => None,
                Some(None) => return Err(Bad { why: b"not a boolean", arg: a }),
            }
        };
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: [Flag; 3] = [
        Flag { names: &[b"bundle", b"b"], value: true },
        Flag { names: &[b"detach", b"d"], value: false },
        Flag { names: &[b"pid-file"], value: true },
    ];

    #[test]
    fn both_spellings_short_aliases_and_booleans() {
        let a: &[&[u8]] = &[b"x", b"-b", b"/b", b"--pid-file=/p", b"-d", b"id"];
        let p = parse(a, 1, &F).unwrap();
        assert_eq!((p.vals[0], p.vals[1], p.vals[2]), (Some(&b"/b"[..]), Some(&b""[..]), Some(&b"/p"[..])));
        assert_eq!(p.positional(), &[&b"id"[..]]);
        let a: &[&[u8]] = &[b"x", b"--bundle=/c", b"--detach=false", b"id", b"--", b"-x"];
        let p = parse(a, 1, &F).unwrap();
        assert_eq!((p.vals[0], p.vals[1]), (Some(&b"/c"[..]), None));
        assert_eq!(p.positional(), &[&b"id"[..], &b"-x"[..]]);
    }

    #[test]
    fn mistakes_are_named() {
        let a: &[&[u8]] = &[b"x", b"--nope", b"id"];
        assert_eq!(parse(a, 1, &F).err().unwrap().why, b"unknown flag");
        let a: &[&[u8]] = &[b"x", b"id", b"--bundle"];
        assert_eq!(parse(a, 1, &F).err().unwrap().why, b"flag needs a value");
        let a: &[&[u8]] = &[b"x", b"a", b"b", b"c", b"d", b"e"];
        assert_eq!(parse(a, 1, &F).err().unwrap().why, b"too many arguments");
    }
}
