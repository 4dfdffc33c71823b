//! Command lookup, as execvp(3) does it: a name containing '/' is used as
//! is; otherwise each PATH entry is tried in order (an empty entry means the
//! current directory). Pure: it only builds candidate paths into a buffer the
//! caller owns, so the allocation-free child can use it.
use crate::sys::Errno;

/// PATH used when the container environment has none (docker's default).
pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Longest candidate, terminator included (the kernel's PATH_MAX).
pub const PATH_MAX: usize = 4096;

pub struct Search<'a> {
    file: &'a [u8],
    rest: Option<&'a [u8]>,
}

impl<'a> Search<'a> {
    pub fn new(file: &'a [u8], path: Option<&'a [u8]>) -> Search<'a> {
        if file.contains(&b'/') {
            // Used as is: one candidate, no directory in front.
            Search { file, rest: Some(b"") }
        } else {
            Search { file, rest: Some(path.unwrap_or(DEFAULT_PATH)) }
        }
    }

    /// Writes the next candidate, NUL-terminated, into `buf` and returns its
    /// length including the NUL; `Err(ENAMETOOLONG)` for a candidate that
    /// does not fit (the caller skips it); `None` when the list is done.
    pub fn next(&mut self, buf: &mut [u8]) -> Option<Result<usize, Errno>> {
        let rest = self.rest?;
        let (dir, more) = match rest.iter().position(|&c| c == b':') {
            Some(i) if !self.file.contains(&b'/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        self.rest = more;
        let slash = !dir.is_empty() && !dir.ends_with(b"/");
        let n = dir.len() + slash as usize + self.file.len() + 1;
        if n > buf.len().min(PATH_MAX) || self.file.len() + 1 > PATH_MAX {
            return Some(Err(Errno(libc::ENAMETOOLONG)));
        }
        let sep: &[u8] = if slash { b"/" } else { b"" };
        Some(Ok(crate::cgroup::join(buf, &[dir, sep, self.file, b"\0"])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(file: &[u8], path: Option<&[u8]>) -> Vec<Result<Vec<u8>, Errno>> {
        let mut s = Search::new(file, path);
        let mut buf = [0u8; PATH_MAX];
        let mut v = vec![];
        while let Some(r) = s.next(&mut buf) {
            v.push(r.map(|n| buf[..n].to_vec()));
        }
        v
    }

    #[test]
    fn a_name_with_a_slash_is_used_as_is() {
        assert_eq!(all(b"/bin/sh", Some(b"/x:/y")), vec![Ok(b"/bin/sh\0".to_vec())]);
        assert_eq!(all(b"./run", None), vec![Ok(b"./run\0".to_vec())]);
    }

    #[test]
    fn each_path_entry_is_tried_in_order() {
        assert_eq!(
            all(b"sh", Some(b"/a:/b/:")),
            vec![Ok(b"/a/sh\0".to_vec()), Ok(b"/b/sh\0".to_vec()), Ok(b"sh\0".to_vec())]
        );
    }

    #[test]
    fn no_path_means_the_default() {
        let v = all(b"sh", None);
        assert_eq!(v.len(), 6);
        assert_eq!(v[0], Ok(b"/usr/local/sbin/sh\0".to_vec()));
        assert_eq!(v[5], Ok(b"/bin/sh\0".to_vec()));
    }

    #[test]
    fn a_candidate_longer_than_path_max_is_skipped_not_truncated() {
        let long = vec![b'd'; PATH_MAX];
        let mut p = long.clone();
        p.extend_from_slice(b":/bin");
        let v = all(b"sh", Some(&p));
        assert_eq!(v, vec![Err(Errno(libc::ENAMETOOLONG)), Ok(b"/bin/sh\0".to_vec())]);
    }
}
