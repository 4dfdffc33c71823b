//! Errors are small Copy values: which step failed, and the errno it failed
//! with. They cross the child → parent pipe as 12 bytes (with the mount-table
//! entry concerned) and print as one line:
//! `mydocker: <step>: <what>: <why>[ (advice)]`.
use crate::out::Line;
use crate::sys::{self, Errno};
use crate::words;

/// One byte each (`ALL`, from_u32's table, is 32 bytes); on the wire a
/// step is its number cast to u32 (`Error::encode`, child::Report).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Step {
    // Parent side, before the container exists.
    Random = 1,
    Pipe,
    Map,
    Clone,
    // Child side, in the order child.rs runs them.
    DeathSig,
    MountPrivate,
    Mount,
    Hostname,
    Loopback,
    Frame,
    Signals,
    CloseFds,
    Workdir,
    Caps,
    User,
    Init,
    Exec,
    // Parent side, after clone.
    Send,
    Report,
    Wait,
    // Child side, first of all: joining the cgroups (the entry is the
    // cgroup's slot, which the parent turns into a message naming the file).
    Join,
    // Child side, added with the container model (model.rs).
    Rlimits,
    OomScore,
    Fifo,
    // The container's terminal (console.rs, relay.rs), either side.
    Session,
    Console,
    Relay,
    // Child side, after the working directory is entered.
    Cwd,
    // Child side: the seccomp filter, last before execve.
    Seccomp,
    // Child side, after the cgroups: joining namespaces by path (the entry
    // is the index in Namespaces.join).
    Setns,
    // Child side, inside a chroot: / bound onto itself (sys/chroot.rs).
    RootBind,
    // Child side, OCI linux.sysctl (the entry is the index in the list).
    Sysctl,
}

const ALL: [Step; 32] = [
    Step::Random,
    Step::Pipe,
    Step::Map,
    Step::Clone,
    Step::DeathSig,
    Step::MountPrivate,
    Step::Mount,
    Step::Hostname,
    Step::Loopback,
    Step::Frame,
    Step::Signals,
    Step::CloseFds,
    Step::Workdir,
    Step::Caps,
    Step::User,
    Step::Init,
    Step::Exec,
    Step::Send,
    Step::Report,
    Step::Wait,
    Step::Join,
    Step::Rlimits,
    Step::OomScore,
    Step::Fifo,
    Step::Session,
    Step::Console,
    Step::Relay,
    Step::Cwd,
    Step::Seccomp,
    Step::Setns,
    Step::RootBind,
    Step::Sysctl,
];

impl Step {
    pub fn from_u32(v: u32) -> Option<Step> {
        // Steps are numbered 1, 2, ... in ALL's order (every_step_survives_the_wire).
        ALL.get(v.wrapping_sub(1) as usize).copied()
    }

    /// The step's name and what it was doing (where no user input names
    /// it better): word `self - 1` of the packed lists below.
    fn name(self) -> &'static [u8] {
        words::nth_of(STEP_NAMES, b'|', self as usize - 1)
    }

    fn what(self) -> &'static [u8] {
        words::nth_of(STEP_WHAT, b'|', self as usize - 1)
    }
}

/// Step names, in the order of ALL ('|' between them).
const STEP_NAMES: &[u8] = b"getrandom|pipe|mmap|clone|prctl|mount|mount|sethostname|network|frame|signals|close|workdir|\
capabilities|user|init|exec|frame|frame|wait|cgroup|rlimits|oom_score_adj|exec fifo|setsid|tty|tty|\
workdir|seccomp|setns|mount|sysctl";

/// What each step was doing, in the order of ALL.
const STEP_WHAT: &[u8] = b"making a container id|creating the parent/child pipes|mapping the child's stack and argv arena|\
creating namespaces (uts, pid, mount, net, ipc)|PR_SET_PDEATHSIG|making / recursively private|\
a container mount|setting the hostname|bringing up lo|receiving the command from the parent|\
resetting signal dispositions|closing inherited fds|changing to the working directory|\
setting the capability sets|switching to the user (setgroups, setgid, setuid)|\
starting the command under --init|the command|sending the command to the child|\
reading the child's status|waiting for the container|joining the container's cgroup|\
setting resource limits|writing /proc/self/oom_score_adj|waiting for start|\
a session of the container's own|the container's terminal|relaying the container's terminal|\
checking the working directory|installing the syscall filter|joining a namespace by path|\
/ is not a mount point (inside a chroot?): binding it onto itself|writing a linux.sysctl value";

/// Advice for known (step, errno) pairs: (step, errno, word of ADVICE).
const ADVICE_FOR: [(u8, u8, u8); 22] = [
    (Step::Clone as u8, libc::EPERM as u8, 0),
    (Step::Clone as u8, libc::ENOSPC as u8, 1),
    (Step::Clone as u8, libc::EINVAL as u8, 2),
    (Step::Mount as u8, libc::EPERM as u8, 0),
    (Step::MountPrivate as u8, libc::EPERM as u8, 0),
    (Step::RootBind as u8, libc::EPERM as u8, 0),
    (Step::RootBind as u8, libc::EINVAL as u8, 3),
    (Step::Mount as u8, libc::ENOENT as u8, 4),
    (Step::Mount as u8, libc::ELOOP as u8, 5),
    (Step::Cwd as u8, libc::ENOENT as u8, 6),
    (Step::Exec as u8, libc::ENOENT as u8, 7),
    (Step::Exec as u8, libc::EACCES as u8, 8),
    (Step::Exec as u8, libc::ENOEXEC as u8, 9),
    (Step::Frame as u8, libc::EBADMSG as u8, 10),
    (Step::Send as u8, libc::EPIPE as u8, 11),
    (Step::User as u8, libc::EPERM as u8, 12),
    (Step::Init as u8, libc::EAGAIN as u8, 13),
    (Step::Mount as u8, libc::EXDEV as u8, 14),
    // fsops::COPY_DEPTH: the child's stack bounds the recursion.
    (Step::Mount as u8, libc::ENAMETOOLONG as u8, 15),
    // child::proc_self: the container's /proc is not procfs.
    (Step::OomScore as u8, libc::EMEDIUMTYPE as u8, 16),
    (Step::Caps as u8, libc::EMEDIUMTYPE as u8, 16),
    (Step::Rlimits as u8, libc::EINVAL as u8, 17),
];
const ADVICE: &[u8] = b"are you root?|namespace limit reached: see /proc/sys/user/max_*_namespaces|\
does this kernel support these namespaces?|\
the mount around it is shared, or this kernel cannot tell (statmount, Linux 6.8), and a bind would show \
outside: make the chroot directory a private mount first (mount --bind DIR DIR; mount --make-private DIR)|\
the mount point is missing|more than 40 symlinks (a loop?) or a /proc magic link on its path|\
it lies outside the container's root|not found in PATH|not executable, or permission denied|\
not a binary or script this kernel can run|malformed argv frame|the child exited before reading it|\
was CAP_SETUID or CAP_SETGID dropped?|\
--pids-limit too low? --init's reaper and the command are 2 processes|\
its path resolves to the container's root|tmpcopyup copies at most 16 directory levels, or a path is too long|\
not procfs: a symlinked or overmounted /proc?|soft above hard?";

/// execve's ENOENT for a command that was found: what is missing is what
/// it needs to run, not the command.
#[inline(never)]
pub fn no_interpreter(argv0: &[u8]) {
    Line::new()
        .s(b"mydocker: exec: ")
        .arg(argv0)
        .s(b": No such file or directory (found, but its #! interpreter or ELF loader is missing?)")
        .emit(2);
}

/// Exit code from a wait status: the command's own, or 128+N for signal N.
pub fn status_code(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        125
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Error {
    pub step: Step,
    pub errno: Errno,
}

/// The child's report: step, errno, and which mount-table entry (or 0).
pub const WIRE: usize = 12;

impl Error {
    pub fn at(step: Step) -> impl Fn(Errno) -> Error {
        move |errno| Error { step, errno }
    }

    /// The wire bytes of (self, index). The child writes them from its
    /// packed report (child::Report::wire); tests check both agree.
    #[cfg(test)]
    pub fn encode(self, index: u32) -> [u8; WIRE] {
        let mut b = [0u8; WIRE];
        b[..4].copy_from_slice(&(self.step as u32).to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.0.to_ne_bytes());
        b[8..].copy_from_slice(&index.to_ne_bytes());
        b
    }

    /// The child's report; an unknown step is itself a protocol error.
    pub fn decode(b: &[u8; WIRE]) -> (Error, u32) {
        let step = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
        let errno = i32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
        let index = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
        match Step::from_u32(step) {
            Some(step) => (Error { step, errno: Errno(errno) }, index),
            None => (Error { step: Step::Report, errno: Errno(libc::EPROTO) }, 0),
        }
    }

    /// The exit status contract: 126 found but not runnable, 127 not found,
    /// 125 for every other failure of the runtime itself.
    pub fn exit_code(self) -> i32 {
        match (self.step, self.errno.0) {
            (Step::Exec, libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG) => 127,
            (Step::Exec, _) => 126,
            _ => 125,
        }
    }

    fn advice(self, what: &[u8]) -> &'static [u8] {
        for &(s, e, a) in &ADVICE_FOR {
            // "not found in PATH" only for a bare name (a path was not searched).
            if s == self.step as u8 && e as i32 == self.errno.0 && !(a == 7 && what.contains(&b'/')) {
                return words::nth_of(ADVICE, b'|', a as usize);
            }
        }
        b""
    }

    /// Prints `mydocker: <step>: <what>: <why>[ (advice)]` on stderr.
    /// `what` names the object when the caller knows it (the command, the
    /// hostname); otherwise the step's own description is used.
    pub fn report(self, what: Option<&[u8]>) {
        let what = what.unwrap_or(self.step.what());
        let mut l = Line::new();
        l.s(b"mydocker: ").s(self.step.name()).s(b": ").arg(what).s(b": ").s(sys::strerror(self.errno));
        let advice = self.advice(what);
        if !advice.is_empty() {
            l.s(b" (").s(advice).s(b")");
        }
        l.emit(2);
    }
}

/// Bad input: one line, exit 125, nothing created.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage<'a> {
    /// The subcommand the mistake was made in ("run", "gc"; "" at the top).
    pub cmd: &'static [u8],
    pub what: &'static [u8],
    pub arg: &'a [u8],
    pub why: &'static [u8],
}

impl Usage<'_> {
    pub fn report(self) {
        let mut l = Line::new();
        l.s(b"mydocker: ");
        if !self.cmd.is_empty() {
            l.s(self.cmd).s(b": ");
        }
        l.s(self.what);
        if !self.arg.is_empty() {
            l.s(b" '").arg(self.arg).s(b"'");
        }
        l.s(b": ").s(self.why);
        l.emit(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_survives_the_wire() {
        for s in ALL {
            let e = Error { step: s, errno: Errno(libc::EACCES) };
            assert_eq!(Error::decode(&e.encode(7)), (e, 7));
        }
    }

    #[test]
    fn every_step_has_a_name_and_a_description() {
        for s in ALL {
            assert!(!s.name().is_empty() && !s.what().is_empty(), "{s:?}");
        }
        assert_eq!(STEP_NAMES.split(|&c| c == b'|').count(), ALL.len());
        assert_eq!(STEP_WHAT.split(|&c| c == b'|').count(), ALL.len());
        assert_eq!((Step::Exec.name(), Step::Sysctl.what()), (&b"exec"[..], &b"writing a linux.sysctl value"[..]));
    }

    #[test]
    fn known_errors_get_their_advice() {
        let adv = |step, e, what: &[u8]| Error { step, errno: Errno(e) }.advice(what);
        assert_eq!(adv(Step::Clone, libc::EPERM, b""), b"are you root?");
        assert_eq!(adv(Step::RootBind, libc::EPERM, b""), b"are you root?");
        assert!(adv(Step::RootBind, libc::EINVAL, b"").ends_with(b"(mount --bind DIR DIR; mount --make-private DIR)"));
        assert_eq!(adv(Step::Exec, libc::ENOENT, b"sh"), b"not found in PATH");
        assert_eq!(adv(Step::Exec, libc::ENOENT, b"/bin/nope"), b"");
        assert_eq!(adv(Step::User, libc::EPERM, b""), b"was CAP_SETUID or CAP_SETGID dropped?");
        assert_eq!(adv(Step::Send, libc::EPIPE, b""), b"the child exited before reading it");
        assert_eq!(adv(Step::Exec, libc::EPERM, b""), b"");
        assert!(adv(Step::Init, libc::EAGAIN, b"").starts_with(b"--pids-limit too low?"));
        assert_eq!(adv(Step::Mount, libc::EXDEV, b""), b"its path resolves to the container's root");
        assert!(adv(Step::Mount, libc::ENAMETOOLONG, b"").starts_with(b"tmpcopyup copies at most 16 directory levels"));
        assert_eq!(ADVICE.split(|&c| c == b'|').count(), 18);
        assert_eq!(adv(Step::Rlimits, libc::EINVAL, b"NOFILE"), b"soft above hard?");
        assert!(adv(Step::OomScore, libc::EMEDIUMTYPE, b"").starts_with(b"not procfs"));
    }

    #[test]
    fn unknown_step_on_the_wire_is_a_protocol_error() {
        let mut b = [0u8; WIRE];
        b[..4].copy_from_slice(&999u32.to_ne_bytes());
        assert_eq!(Error::decode(&b).0.step, Step::Report);
    }

    #[test]
    fn exec_errors_map_to_126_and_127() {
        let ex = |e| Error { step: Step::Exec, errno: Errno(e) }.exit_code();
        assert_eq!(ex(libc::ENOENT), 127);
        assert_eq!(ex(libc::ENOTDIR), 127);
        assert_eq!(ex(libc::EACCES), 126);
        assert_eq!(ex(libc::ENOEXEC), 126);
        assert_eq!(Error { step: Step::Mount, errno: Errno(libc::ENOENT) }.exit_code(), 125);
    }
}
