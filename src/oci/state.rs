//! The state of OCI containers: one directory per container under the
//! root (`<root>/<id>`, mode 0711), holding
//! - `state`: the record below, replaced atomically (temp file + rename);
//! - `cgroups`: the container's cgroup directories, each appended before
//!   create makes it (NUL-separated, as `Record::cgroups`): what delete
//!   removes when create was killed before the record;
//! - `annotations`: config.json's annotations object, byte for byte;
//! - `config.json`: a copy of the bundle's, for exec;
//! - `exec.fifo`: present from create until start (crun's protocol: the
//!   container's process waits on its read end; `start` writes a byte);
//! - `shared-pid` (SHARED_PID): empty, made by create before the record
//!   when the container has no pid namespace of its own: only then does
//!   delete kill every process of its cgroups (runc's !IsPrivate(NEWPID)).
//!
//! Status (runc's rules): the process is alive when /proc/<pid>/stat shows
//! the start time recorded at create and is not a zombie — a reused pid has
//! another start time; alive with the fifo = created, frozen cgroup =
//! paused, alive = running, else stopped.
use crate::sys::{self, Errno, Fd};

pub const MAGIC: &[u8] = b"mydocker-oci-state-1";

/// Container ids as runc and crun accept them: [A-Za-z0-9_+.-]+, and not
/// "." or ".." (they would name the root or its parent).
pub fn valid_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= 1024
        && id != b"."
        && id != b".."
        && id.iter().all(|&c| c.is_ascii_alphanumeric() || b"_+.-".contains(&c))
}

/// What `state` needs and `create` knows. Paths are absolute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub pid: i32,
    /// Field 22 of /proc/<pid>/stat at create (clock ticks since boot).
    pub start: u64,
    pub created: &'a [u8],
    pub bundle: &'a [u8],
    pub rootfs: &'a [u8],
    pub owner: u32,
    /// The container's cgroup directories, NUL-separated; one that create
    /// found already there (not the container's alone) ends in '/'; a
    /// cgroup2 one follows an empty entry (see `cgroup_dirs_v2`).
    pub cgroups: &'a [u8],
}

impl<'a> Record<'a> {
    /// The record as bytes: fields NUL-separated, in declaration order,
    /// after MAGIC. None if `out` is too small.
    pub fn encode(&self, out: &mut [u8]) -> Option<usize> {
        let pid = crate::limits::Dec::new(self.pid as u64);
        let start = crate::limits::Dec::new(self.start);
        let owner = crate::limits::Dec::new(self.owner as u64);
        let fields: [&[u8]; 8] =
            [MAGIC, pid.as_bytes(), start.as_bytes(), self.created, self.bundle, self.rootfs, owner.as_bytes(), self.cgroups];
        let mut n = 0;
        for f in fields {
            let end = n + f.len() + 1;
            out.get_mut(n..end - 1)?.copy_from_slice(f);
            *out.get_mut(end - 1)? = 0;
            n = end;
        }
        Some(n)
    }

    pub fn decode(b: &'a [u8]) -> Option<Record<'a>> {
        let b = b.strip_suffix(b"\0")?;
        let mut f = b.splitn(8, crate::words::on(0));
        if f.next()? != MAGIC {
            return None;
        }
        let num = |x: &[u8]| crate::limits::parse_u64(x);
        let pid = num(f.next()?).filter(|&p| p > 0 && p <= i32::MAX as u64)? as i32;
        let start = num(f.next()?)?;
        let (created, bundle, rootfs) = (f.next()?, f.next()?, f.next()?);
        let owner = num(f.next()?).filter(|&o| o <= u32::MAX as u64)? as u32;
        let cgroups = f.next().unwrap_or(b"");
        Some(Record { pid, start, created, bundle, rootfs, owner, cgroups })
    }

    pub fn cgroup_dirs(&self) -> impl Iterator<Item = &'a [u8]> {
        self.cgroups.split(crate::words::on(0)).filter(|d| !d.is_empty())
    }

    /// The cgroup directories, each with whether it is cgroup2: create
    /// knew each hierarchy's version and recorded a cgroup2 directory after
    /// an empty entry (a mark readers of `cgroup_dirs` skip).
    pub fn cgroup_dirs_v2(&self) -> impl Iterator<Item = (&'a [u8], bool)> {
        let mut marked = false;
        self.cgroups.split(crate::words::on(0)).filter_map(move |d| match d {
            b"" => {
                marked = true;
                None
            }
            d => Some((d, core::mem::take(&mut marked))),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn name(self) -> &'static [u8] {
        crate::words::nth(b"created running paused stopped", self as usize)
    }
}

/// From the text of /proc/<pid>/stat: (state letter, start time). The
/// command name (field 2) may hold spaces and parentheses: fields are
/// counted from its last ')'.
pub fn parse_stat(stat: &[u8]) -> Option<(u8, u64)> {
    let close = stat.iter().rposition(|&c| c == b')')?;
    let mut f = stat.get(close + 2..)?.split(crate::words::on(b' '));
    let state = *f.next()?.first()?;
    // Fields 4..=21 skipped; 22 is starttime.
    let start = f.nth(18)?;
    Some((state, crate::limits::parse_u64(start)?))
}

/// The start time of a live (not zombie, not dead) process `pid`.
pub fn proc_start(pid: i32) -> Option<u64> {
    let mut path = [0u8; 32];
    let n = crate::cgroup::join(&mut path, &[b"/proc/", crate::limits::Dec::new(pid as u64).as_bytes(), b"/stat"]);
    let mut buf = [0u8; 1024];
    let fd = sys::openat(sys::CWD, &path[..n], libc::O_RDONLY).ok()?;
    let r = sys::read(fd, &mut buf);
    sys::close(fd);
    let (state, start) = parse_stat(&buf[..r.ok()?])?;
    (state != b'Z' && state != b'X').then_some(start)
}

/// Whether the record's process still runs (same pid, same start time).
pub fn alive(r: &Record) -> bool {
    proc_start(r.pid) == Some(r.start)
}

/// runc's order: a frozen container is paused, created or not (a paused
/// created container is created again once resumed).
pub fn status(dir: Fd, r: &Record) -> Status {
    if !alive(r) {
        Status::Stopped
    } else if frozen(r) {
        Status::Paused
    } else if sys::openat(dir, b"exec.fifo", libc::O_PATH).map(sys::close).is_ok() {
        Status::Created
    } else {
        Status::Running
    }
}

/// A frozen cgroup: v2 cgroup.freeze "1", v1 freezer.state "FROZEN".
fn frozen(r: &Record) -> bool {
    let mut buf = [0u8; 16];
    r.cgroup_dirs().any(|d| {
        let Ok(fd) = crate::cgroup::open_dir(sys::CWD, d) else { return false };
        let v2 = crate::cgroup::read_file(fd, b"cgroup.freeze", &mut buf).map_or(false, |t| t.starts_with(b"1"));
        let v1 = !v2 && crate::cgroup::read_file(fd, b"freezer.state", &mut buf).map_or(false, |t| t.starts_with(b"FROZEN"));
        sys::close(fd);
        v1 || v2
    })
}

/// Writes `data` to `name` in `dir` atomically: a temp file, then rename.
pub fn write_atomic(dir: Fd, name: &[u8], data: &[u8]) -> Result<(), Errno> {
    // Room for '.' + a NAME_MAX (255) name + ".tmp": a name cut short
    // could be another file's, or another pid file's temp file. What join
    // cuts here is longer than NAME_MAX: the kernel refuses it
    // (ENAMETOOLONG), as it does the name itself.
    let mut tmp = [0u8; 261];
    let n = crate::cgroup::join(&mut tmp, &[b".", name, b".tmp"]);
    let tmp = &tmp[..n];
    // The pid file's directory may be writable by others (a client's
    // runtime dir, /tmp): a planted '.NAME.tmp' symlink must not make root
    // write through it. So the temp file is always new (O_EXCL never
    // follows a link, it fails); a stale one, ours from a killed run or
    // planted, is unlinked first (that removes a link, not its target).
    let _ = sys::oci::unlinkat(dir, tmp);
    let fd = sys::openat(dir, tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW)?;
    let r = sys::write_all(fd, data);
    sys::close(fd);
    r.and_then(|_| sys::oci::renameat(dir, tmp, name)).inspect_err(|_| {
        let _ = sys::oci::unlinkat(dir, tmp);
    })
}

/// Reads a whole small file into `buf`; E2BIG if it does not fit.
pub fn read_all<'b>(dir: Fd, name: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let fd = sys::openat(dir, name, libc::O_RDONLY)?;
    let r = sys::read_full(fd, buf);
    sys::close(fd);
    match r? {
        n if n == buf.len() => Err(Errno(libc::E2BIG)),
        n => Ok(&buf[..n]),
    }
}

/// See the module's list.
pub const SHARED_PID: &[u8] = b"shared-pid";

/// Every file a container directory may hold (packed words).
const FILES: &[u8] = b"state cgroups shared-pid annotations config.json exec.fifo .state.tmp .annotations.tmp .config.json.tmp .pid.tmp";

/// Removes the container's directory and what is in it.
pub fn remove(root: Fd, id: &[u8], dir: Fd) -> Result<(), Errno> {
    for f in FILES.split(crate::words::on(b' ')) {
        let _ = sys::oci::unlinkat(dir, f);
    }
    sys::rmdirat(root, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_runc() {
        for ok in [&b"a"[..], b"A-b_c+d.e", b"0123456789abcdef"] {
            assert!(valid_id(ok), "{ok:?}");
        }
        for bad in [&b""[..], b".", b"..", b"a/b", b"a b", b"\xc3\xa9", b"a\n"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_record_survives_encoding() {
        let r = Record {
            pid: 42,
            start: 123456,
            created: b"2026-11-30T00:00:00.000000000Z",
            bundle: b"/b",
            rootfs: b"/b/rootfs",
            owner: 0,
            cgroups: b"/sys/fs/cgroup/memory/x\0\0/sys/fs/cgroup/unified/x\0/sys/fs/cgroup/pids/x/",
        };
        let mut buf = [0u8; 256];
        let n = r.encode(&mut buf).unwrap();
        assert_eq!(Record::decode(&buf[..n]), Some(r));
        assert_eq!(r.cgroup_dirs().count(), 3);
        let v2: Vec<(&[u8], bool)> = r.cgroup_dirs_v2().collect();
        let want: Vec<(&[u8], bool)> =
            vec![(b"/sys/fs/cgroup/memory/x", false), (b"/sys/fs/cgroup/unified/x", true), (b"/sys/fs/cgroup/pids/x/", false)];
        assert_eq!(v2, want, "the cgroup2 directory is the one after the empty entry");
        assert_eq!(r.encode(&mut [0u8; 20]), None);
        assert_eq!(Record::decode(b"garbage\0"), None);
        assert_eq!(Record::decode(&buf[..n - 1]), None, "no final NUL: truncated");
    }

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let st = b"123 (a) b (c)) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_stat(st), Some((b'S', 987654)));
        assert_eq!(parse_stat(b"1 (x) Z 0"), None);
    }
}
