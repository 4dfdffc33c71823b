//! What mydocker does with each signal while it runs a container: the one
//! decision, shared by every loop that takes signals (sigwait now, the -t
//! relay's signalfd later).
//!
//! Every signal that can be caught reaches the container's PID 1, except:
//! - SIGCHLD: mydocker's own child changed state; it reaps PID 1.
//! - SIGPIPE: raised by mydocker's own writes to a pipe whose reader is
//!   gone (the write then fails with EPIPE instead of killing mydocker).
//! - SIGURG: dropped, as docker does: it means out-of-band data on a socket
//!   of the receiver (mydocker has none) and Go programs send it to
//!   themselves for preemption, so it is never meant for the container.
//! - SIGTSTP, SIGTTIN, SIGTTOU (job-control stops): never blocked, they
//!   stop mydocker itself, as they stop any foreground job, so the shell
//!   gets its terminal back (and a backgrounded `-t` relay stops instead of
//!   failing to read the terminal). The container runs on in its own
//!   session. SIGCONT, which the shell sends on `fg`, resumes mydocker
//!   whether blocked or not, and is then forwarded like any other signal:
//!   a container that was stopped by hand resumes too.
//! - SIGWINCH under -t: the relay copies the window size to the container's
//!   terminal, and the kernel signals its foreground job. Without -t it is
//!   forwarded.
//! SIGKILL and SIGSTOP cannot be caught; the kernel acts on mydocker itself.
//!
//! All the others (1..=64: the standard ones, SIGALRM, SIGSEGV sent with
//! kill(1), and the real-time signals, musl's internal 32..34 included) are
//! held blocked from mydocker's first instruction in `run` and taken by the
//! wait loop, so mydocker never dies of one while its container lives.
use crate::sys::SigSet;

/// What to do with a signal taken while the container runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    /// Send it to the container's PID 1.
    Forward,
    /// SIGCHLD: reap PID 1 if it exited.
    Reap,
    /// SIGWINCH under -t: copy the window size to the container's terminal.
    Resize,
    /// SIGPIPE, SIGURG: nothing.
    Drop,
    /// The job-control stops: never blocked, they stop mydocker (the kernel's
    /// default action); a loop that sees one anyway does nothing.
    Stop,
}

/// The decision for signal `sig` (1..=64); `tty`: the container has a
/// terminal of its own (-t).
pub const fn action(sig: i32, tty: bool) -> Action {
    match sig {
        libc::SIGCHLD => Action::Reap,
        libc::SIGPIPE | libc::SIGURG => Action::Drop,
        libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU | libc::SIGKILL | libc::SIGSTOP => Action::Stop,
        libc::SIGWINCH if tty => Action::Resize,
        _ => Action::Forward,
    }
}

/// Whether mydocker sends `sig` on to PID 1.
pub const fn forwarded(sig: i32, tty: bool) -> bool {
    matches!(action(sig, tty), Action::Forward)
}

/// The signals the wait loop takes: all but the job-control stops (and
/// SIGKILL/SIGSTOP, which cannot be blocked). The same with or without -t.
pub const WAITED: SigSet = {
    let mut m = 0u64;
    let mut sig = 1;
    while sig <= 64 {
        if !matches!(action(sig, false), Action::Stop) {
            m |= 1 << (sig - 1);
        }
        sig += 1;
    }
    SigSet::from_bits(m)
};

/// Whether the default action of `sig` ends a process (terminate, or core
/// dump). The others — SIGCHLD, SIGCONT, SIGURG, SIGWINCH (ignored by
/// default) and the stops — do not.
pub const fn terminates(sig: i32) -> bool {
    !matches!(
        sig,
        libc::SIGCHLD
            | libc::SIGCONT
            | libc::SIGURG
            | libc::SIGWINCH
            | libc::SIGSTOP
            | libc::SIGTSTP
            | libc::SIGTTIN
            | libc::SIGTTOU
    )
}

/// A signal that arrived before the container existed and ends the run
/// instead of starting it: the lowest pending one that would be forwarded
/// and whose default action ends a process (a container PID 1 without a
/// handler for it would ignore it). None: start the container; pending
/// signals that do not end a process (SIGWINCH, SIGCONT) are forwarded once
/// it exists.
pub fn ends_the_run(pending: SigSet) -> Option<i32> {
    (1..65).find(|&s| pending.has(s) && ENDS.has(s))
}

/// The signals `ends_the_run` looks for, decided at compile time.
const ENDS: SigSet = {
    let (mut m, mut sig) = (0u64, 1);
    while sig <= 64 {
        if forwarded(sig, false) && terminates(sig) {
            m |= 1 << (sig - 1);
        }
        sig += 1;
    }
    SigSet::from_bits(m)
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catchable_signal_is_forwarded_but_the_documented_few() {
        let handled = [
            libc::SIGCHLD,
            libc::SIGPIPE,
            libc::SIGURG,
            libc::SIGTSTP,
            libc::SIGTTIN,
            libc::SIGTTOU,
            libc::SIGKILL,
            libc::SIGSTOP,
        ];
        for sig in 1..=64 {
            assert_eq!(forwarded(sig, false), !handled.contains(&sig), "signal {sig}");
        }
        for sig in [libc::SIGALRM, libc::SIGTERM, libc::SIGCONT, libc::SIGSEGV, 32, 33, 34, 64] {
            assert!(forwarded(sig, true), "signal {sig}");
        }
        assert_eq!(action(libc::SIGWINCH, false), Action::Forward);
        assert_eq!(action(libc::SIGWINCH, true), Action::Resize);
    }

    #[test]
    fn every_signal_but_the_stops_waits_blocked() {
        for sig in 1..=64 {
            let stop = matches!(sig, libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU | libc::SIGKILL | libc::SIGSTOP);
            assert_eq!(WAITED.has(sig), !stop, "signal {sig}");
        }
    }

    #[test]
    fn only_a_pending_signal_that_would_end_a_process_ends_the_run() {
        assert_eq!(ends_the_run(SigSet::of(&[])), None);
        assert_eq!(ends_the_run(SigSet::of(&[libc::SIGWINCH, libc::SIGCONT, libc::SIGCHLD])), None);
        assert_eq!(ends_the_run(SigSet::of(&[libc::SIGPIPE, libc::SIGURG])), None);
        assert_eq!(ends_the_run(SigSet::of(&[libc::SIGWINCH, libc::SIGALRM])), Some(libc::SIGALRM));
        assert_eq!(ends_the_run(SigSet::of(&[libc::SIGTERM, libc::SIGINT])), Some(libc::SIGINT));
        assert_eq!(ends_the_run(SigSet::of(&[50])), Some(50));
    }
}
