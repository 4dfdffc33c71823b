//! The container's own terminal (-t; OCI `create --console-socket` reuses
//! it): the child makes a pseudo-terminal pair inside the container, sends
//! the master out over a Unix socket (SCM_RIGHTS) and keeps the slave as
//! its 0, 1, 2 and, at exec, its controlling terminal. The caller's terminal
//! never reaches the container (bubblewrap CVE-2017-5226: a process whose
//! controlling terminal is the caller's can push input into it, TIOCSTI).
//!
//! Why the child: with a rootfs the pair comes from the container's own
//! devpts instance (mounted with newinstance), which exists only in the
//! child's mount namespace. The same code opens the host's /dev/ptmx when
//! there is no rootfs.
use crate::sys::tty::{self, Winsize};
use crate::sys::{self, Errno, Fd};

/// -t without a terminal on stdin: docker's words.
pub const NOT_A_TTY: &[u8] = b"the input device is not a TTY";

/// What the child needs, prepared before clone (nothing here allocates).
#[derive(Clone, Copy, Debug)]
pub struct Console {
    /// Where the master goes: one end of the parent's socketpair, or an OCI
    /// console socket. The child closes it once the master is sent.
    pub sock: Fd,
    /// The parent's own end of the pair (-1: none). The child's copy goes
    /// with every other fd in its first steps (sys::fds::close_all_but),
    /// which keeps `sock`.
    pub peer: Fd,
    /// The multiplexer to open, NUL-terminated.
    pub ptmx: &'static [u8],
    /// Bind the slave at /dev/console (only with a rootfs: its /dev is ours).
    pub at_console: bool,
    /// The caller's window size, set before the command starts (all zero:
    /// left as the kernel makes it).
    pub size: Winsize,
    /// -u: the slave is given to the container's user and group, so it can
    /// reopen its own terminal (as runc does).
    pub owner: Option<(u32, u32)>,
}

impl Console {
    /// `rootfs`: the container has its own devpts at /dev/pts (mounts.rs)
    /// and a /dev of its own for the console.
    pub fn new(sock: Fd, peer: Fd, rootfs: bool, size: Winsize, owner: Option<(u32, u32)>) -> Console {
        let ptmx: &'static [u8] = if rootfs { b"/dev/pts/ptmx\0" } else { b"/dev/ptmx\0" };
        Console { sock, peer, ptmx, at_console: rootfs, size, owner }
    }
}

/// "/dev/pts/N" and a NUL into `buf`; returns the length without the NUL.
pub fn pts_name(n: u32, buf: &mut [u8; 24]) -> usize {
    const P: &[u8] = b"/dev/pts/";
    buf[..P.len()].copy_from_slice(P);
    let d = crate::limits::Dec::new(n as u64);
    let d = d.as_bytes();
    buf[P.len()..P.len() + d.len()].copy_from_slice(d);
    buf[P.len() + d.len()] = 0;
    P.len() + d.len()
}

/// Child side, once the container's filesystem is in place and while the
/// child is still privileged: makes the pair, sends the master (with the
/// slave's name as data), and makes the slave fds 0, 1 and 2. Afterwards the
/// child holds neither the master nor the socket.
#[inline(never)]
pub fn setup(c: &Console) -> Result<(), Errno> {
    let r = tty::open_ptmx(c.ptmx).and_then(|(m, n)| {
        let s = slave(c, m, n);
        sys::close(m);
        s
    });
    sys::close(c.sock);
    let s = r?;
    for fd in 0..3 {
        tty::dup_to(s, fd)?;
    }
    if s > 2 {
        sys::close(s);
    }
    Ok(())
}

fn slave(c: &Console, m: Fd, n: u32) -> Result<Fd, Errno> {
    let mut name = [0u8; 24];
    let len = pts_name(n, &mut name);
    let path = &name[..=len];
    let s = tty::open_peer(m, path)?;
    let r = (|| {
        if c.size != Winsize::default() {
            tty::set_winsize(s, c.size)?;
        }
        if let Some((uid, gid)) = c.owner {
            tty::fchown(s, uid, gid)?;
        }
        if c.at_console {
            sys::touch(b"/dev/console\0")?;
            sys::mount(Some(path), b"/dev/console\0", None, libc::MS_BIND as u64, b"")?;
        }
        tty::send_fd(c.sock, m, &name[..len])
    })();
    match r {
        Ok(()) => Ok(s),
        Err(e) => {
            sys::close(s);
            Err(e)
        }
    }
}

/// In the process that execs the command (after the --init fork, so the
/// reaper is not in its session): a session of its own whose controlling
/// terminal is the container's, so job control works and Ctrl-C reaches its
/// foreground job. `new_session`: the process is not a session leader yet.
pub fn take(new_session: bool) -> Result<(), Errno> {
    if new_session {
        tty::setsid()?;
    }
    tty::set_ctty(0)
}

/// Parent side: the master, once the child has made it; Ok(None) when the
/// child failed first (its report is on the error pipe).
pub fn receive(sock: Fd) -> Result<Option<Fd>, Errno> {
    let mut name = [0u8; 24];
    Ok(tty::recv_fd(sock, &mut name)?.map(|(fd, _)| fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pts_names_are_built_without_allocation() {
        let mut b = [0u8; 24];
        for (n, want) in [(0u32, &b"/dev/pts/0"[..]), (7, b"/dev/pts/7"), (4294967295, b"/dev/pts/4294967295")] {
            let len = pts_name(n, &mut b);
            assert_eq!(&b[..len], want);
            assert_eq!(b[len], 0);
        }
    }

    #[test]
    fn the_rootfs_decides_which_multiplexer_and_whether_a_console() {
        let c = Console::new(3, 4, true, Winsize::default(), None);
        assert_eq!((c.ptmx, c.at_console), (&b"/dev/pts/ptmx\0"[..], true));
        let c = Console::new(3, 4, false, Winsize::default(), None);
        assert_eq!((c.ptmx, c.at_console), (&b"/dev/ptmx\0"[..], false));
    }
}
