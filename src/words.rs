//! Packed word tables: names kept as one space-separated string instead of
//! a table of slices. A `&[u8]` in a table costs 16 bytes of pointer and
//! length besides its text, and a `match` on byte-string patterns compiles
//! to a compare-and-branch per byte; a packed list costs one byte per name
//! and one search loop for all of them (issue 12: the binary's size).
//!
//! Shapes: `words` is `b"a bb ccc"` (single spaces, no empty word);
//! `groups` is `b"-m --memory|-e --env"` — '|' between groups of aliases,
//! the last alias of a group being its canonical spelling.

/// A predicate for `split`, `splitn`, `rsplit` on one byte. Every caller
/// gets the same closure type, so core's Split and SplitN iterators are
/// compiled once for all of them instead of once per closure written at
/// each call site (~64-110 bytes each).
pub fn on(sep: u8) -> impl FnMut(&u8) -> bool + Clone {
    move |&c| c == sep
}

/// The index of `x` among `words` ignoring case and an optional `prefix`
/// (`words` upper case): capability and signal names as users type them.
/// None for a name longer than 32 bytes.
#[inline(never)]
pub fn find_upper(words: &[u8], prefix: &[u8], x: &[u8]) -> Option<usize> {
    let mut up = [0u8; 32];
    let n = up.get_mut(..x.len())?;
    for (d, c) in n.iter_mut().zip(x) {
        *d = c.to_ascii_uppercase();
    }
    find(words, n.strip_prefix(prefix).unwrap_or(n))
}

/// The index of `x` among the words of `words`; None for no match (and for
/// an empty `x`).
#[inline(never)]
pub fn find(words: &[u8], x: &[u8]) -> Option<usize> {
    words.split(on(b' ')).position(|w| w == x)
}

/// Word `i` of `words` (empty past the end).
pub fn nth(words: &'static [u8], i: usize) -> &'static [u8] {
    nth_of(words, b' ', i)
}

/// Word `i` of a list separated by `sep` (for words holding spaces).
#[inline(never)]
pub fn nth_of(words: &'static [u8], sep: u8, i: usize) -> &'static [u8] {
    words.split(on(sep)).nth(i).unwrap_or(b"")
}

/// Which group of `groups` has `x` among its aliases: its index and its
/// canonical (last) alias.
#[inline(never)]
pub fn group(groups: &'static [u8], x: &[u8]) -> Option<(usize, &'static [u8])> {
    for (i, g) in groups.split(on(b'|')).enumerate() {
        if find(g, x).is_some() {
            return Some((i, g.rsplit(on(b' ')).next().unwrap_or(g)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_found_whole_and_only_whole() {
        let w = b"ab b abc";
        assert_eq!(find(w, b"ab"), Some(0));
        assert_eq!(find(w, b"b"), Some(1));
        assert_eq!(find(w, b"abc"), Some(2));
        for no in [&b""[..], b"a", b"ab b", b" ", b"abcd"] {
            assert_eq!(find(w, no), None, "{no:?}");
        }
        assert_eq!(nth(b"ab b abc", 2), b"abc");
        assert_eq!(nth(b"ab b abc", 3), b"");
    }

    #[test]
    fn a_group_answers_with_its_canonical_alias() {
        let g = b"-m --memory|--env -e|--init";
        assert_eq!(group(g, b"-m"), Some((0, &b"--memory"[..])));
        assert_eq!(group(g, b"--env"), Some((1, &b"-e"[..])));
        assert_eq!(group(g, b"--init"), Some((2, &b"--init"[..])));
        assert_eq!(group(g, b"--memory|--env"), None);
        assert_eq!(group(g, b""), None);
    }
}
