//! The keeper: one mydocker process left per OCI container, executing this
//! binary for as long as the container can have processes, so the host's
//! binary cannot be opened for writing (ETXTBSY) from the container
//! (runc CVE-2019-5736: a `#!/proc/self/exe` script makes the kernel run
//! mydocker in the container, whose /proc/PID/exe any process there may
//! open and reopen for writing once no mydocker runs). `run` needs none:
//! its parent waits for the container.
#![allow(unsafe_code)]

use super::{cvt, retry, Errno, Fd};

#[repr(C, align(16))]
struct Stack([u8; 16384]);
static mut STACK: Stack = Stack([0; 16384]);

/// Leaves a keeper for `pid` (our child, the container's init, not yet
/// reaped: its pid cannot have been reused). A CLONE_VM child: it shares
/// our memory, so the binary stays deny-write through the memory's
/// executable file after we exit (our exit_group ends only our own thread
/// group), and costs no page-table copy. Ok without one where the kernel
/// lacks pidfd_open (< 5.3): there is then nothing to wait on that
/// survives pid reuse.
pub fn keep(pid: libc::pid_t) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    let pfd = match cvt(unsafe { sc!(libc::SYS_pidfd_open, pid, 0) }) {
        Err(Errno(libc::ENOSYS)) => return Ok(()),
        r => r? as Fd,
    };
    // A stack in .bss: no file bytes, no mmap; the keeper's deepest call
    // (close_all_but listing /proc/self/fd) takes a few KiB of it.
    let top = core::ptr::addr_of_mut!(STACK) as usize + core::mem::size_of::<Stack>();
    // SAFETY: see raw_clone. CLONE_VM without CLONE_VFORK, which clone()
    // refuses because its child reads our stack: this one reads nothing of
    // ours — its argument is the pidfd itself, its stack STACK (16-aligned,
    // used by no one else) — and `keeper` touches no memory we use but
    // errno, and only on a failed call (none fails on a kernel with
    // close_range; create only exits after, `run -d` starts the container).
    let r = unsafe {
        super::raw_clone(
            libc::SYS_clone,
            (libc::CLONE_VM | libc::SIGCHLD) as usize,
            top,
            keeper,
            pfd as usize as *mut _,
        )
    };
    super::close(pfd);
    r.map(|_| ())
}

/// The keeper holds nothing: no session (no SIGHUP from a closing
/// terminal), no fd but the pidfd (clients wait for EOF on create's
/// stdio), no directory, no capability. A PID namespace's init exits only
/// once the kernel has killed and reaped every other process in it, exec'd
/// ones too, their fds closed before: then the binary may be written.
extern "C" fn keeper(p: *mut core::ffi::c_void) -> libc::c_int {
    let pfd = p as usize as Fd;
    // SAFETY: plain syscall, no arguments.
    unsafe { sc!(libc::SYS_setsid) };
    let _ = super::fds::close_all_but(0, &[pfd]);
    let _ = super::chdir(b"/\0");
    let (hdr, none) = ([0x2008_0522u32, 0], [0u32; 6]);
    // SAFETY: capset(2) with a v3 header and two zeroed data structs
    // (every set empty); prctl with integer arguments.
    unsafe {
        sc!(libc::SYS_capset, hdr.as_ptr(), none.as_ptr());
        sc!(libc::SYS_prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    }
    let mut pl = libc::pollfd { fd: pfd, events: libc::POLLIN, revents: 0 };
    // SAFETY: pl is one valid pollfd; no timeout, no signal mask.
    let _ = retry(|| unsafe {
        sc!(libc::SYS_ppoll, &mut pl as *mut libc::pollfd, 1, core::ptr::null::<u8>(), core::ptr::null::<u8>(), 0)
    });
    0
}
