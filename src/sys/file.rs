//! Whole files mapped into memory for the readers that decode in place
//! (config.json, seccomp profiles: `json::parse`).
use super::{cvt, openat, Errno, CWD};

/// Largest file `map_file` takes: configs and profiles are kilobytes; this
/// keeps offsets in u32 (json::MAX_LEN) with room to spare.
pub const MAP_FILE_MAX: usize = 64 << 20;

/// `path` mapped MAP_PRIVATE and writable: the caller may rewrite the bytes
/// (copy-on-write; the file never changes). Never unmapped, like `Map`:
/// mydocker is a one-shot process. Errors: open/fstat/mmap's errno; EFBIG
/// beyond MAP_FILE_MAX; EISDIR for a directory; an empty file is an empty
/// slice. A pipe or character device is read to its end.
pub fn map_file(path: &[u8]) -> Result<&'static mut [u8], Errno> {
    let fd = openat(CWD, path, libc::O_RDONLY)?;
    let r = map_fd(fd);
    super::close(fd);
    r
}

fn map_fd(fd: super::Fd) -> Result<&'static mut [u8], Errno> {
    // SAFETY: zeroed memory is a valid `stat`; fstat fills it.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: st is a valid, writable stat buffer of the kernel's layout
    // (see stat_at); the raw syscall, as musl's fstat is fstatat's wrapper.
    cvt(unsafe { sc!(libc::SYS_fstat, fd, &mut st as *mut libc::stat) })?;
    if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        return Err(Errno(libc::EISDIR));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return read_to_end(fd);
    }
    let len = st.st_size as usize;
    if len > MAP_FILE_MAX {
        return Err(Errno(libc::EFBIG));
    }
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: a new private mapping of an fd we own; no existing memory is
    // touched. The mapping outlives the fd (mmap keeps its own reference).
    let p = unsafe { sc!(libc::SYS_mmap, 0, len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE, fd, 0) };
    if p < 0 {
        return Err(Errno(-p as i32));
    }
    // SAFETY: [p, p+len) is our fresh mapping, never unmapped, and this is
    // the only reference to it. (A file truncated behind our back would
    // SIGBUS on access: profiles and configs are not written while read.)
    Ok(unsafe { core::slice::from_raw_parts_mut(p as *mut u8, len) })
}

/// A pipe or character device (a shell's `<(...)`, /dev/stdin from a
/// pipe): no size to map, so read to EOF into an anonymous mapping of the
/// largest size taken — its untouched pages cost nothing. EFBIG beyond it.
fn read_to_end(fd: super::Fd) -> Result<&'static mut [u8], Errno> {
    let mut m = super::Map::new(MAP_FILE_MAX + 1, false)?;
    let (_, buf) = m.typed::<u8>(0, 0).ok_or(Errno(libc::ENOMEM))?;
    let n = super::read_full(fd, buf)?;
    if n > MAP_FILE_MAX {
        return Err(Errno(libc::EFBIG));
    }
    let p = buf.as_mut_ptr();
    // SAFETY: [p, p+n) lies in the mapping just made, which is never
    // unmapped (Map has no Drop: mydocker is a one-shot process), and this
    // is the only reference to it once `buf` is gone.
    Ok(unsafe { core::slice::from_raw_parts_mut(p, n) })
}

/// Unmaps the pages of a `map_file` mapping that `text` lies in (its
/// start rounded down to the page), once nothing reads it any more: a
/// file mapping pins the file and its mount for as long as the memory
/// lives — which the keeper (keeper.rs) shares.
pub fn unmap(text: &[u8]) {
    let start = text.as_ptr() as usize & !4095;
    // SAFETY: only pages of a mapping made by map_file, which the caller
    // no longer reads through any reference (EINVAL for an empty slice).
    unsafe { sc!(libc::SYS_munmap, start, text.as_ptr() as usize + text.len() - start) };
}
