//! The only place `unsafe` lives. Thin, typed wrappers over raw system
//! calls (`sc!`, raw.rs: no C library in between): every fallible call
//! returns `Result<_, Errno>` with the kernel's errno for the failing call,
//! EINTR is retried in one helper, and every `unsafe` block says why it is
//! sound.
//!
//! Nothing here allocates; buffers are passed in by the caller.
#![allow(unsafe_code)]

use core::ffi::{c_char, c_int, c_void};

#[macro_use]
mod raw;
pub mod chroot;
pub mod copy;
pub mod fds;
mod file;
pub mod keeper;
pub mod mnt;
pub mod oci;
pub mod proc;
pub mod tty;
pub use file::*;
mod seccomp;
pub use seccomp::*;
mod dev;
pub use dev::*;
mod arena;
pub use arena::*;
mod errmsg;
pub use errmsg::strerror;

/// An errno value, captured right after the failing call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub i32);

pub type Fd = c_int;

/// Turns a raw system call's return (`sc!`: -errno on failure) into a
/// Result. Negative is failure: no call made here returns a negative
/// success (addresses and fds are below 2^47, counts below 2^63).
fn cvt(ret: libc::c_long) -> Result<libc::c_long, Errno> {
    if ret < 0 {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret)
    }
}

/// Retries a call interrupted by a signal: the one place EINTR is handled.
fn retry(mut f: impl FnMut() -> libc::c_long) -> Result<libc::c_long, Errno> {
    loop {
        // The raw return, not the Result: one compare with a small constant.
        let r = f();
        if r != -libc::EINTR as libc::c_long {
            return cvt(r);
        }
    }
}

/// Writes the whole buffer (pipes may take it in pieces).
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        // SAFETY: buf is a valid readable slice for buf.len() bytes.
        let n = retry(|| unsafe { sc!(libc::SYS_write, fd, buf.as_ptr(), buf.len()) })?;
        buf = buf.get(n as usize..).unwrap_or(&[]);
    }
    Ok(())
}

/// Reads until `buf` is full or EOF; returns how many bytes arrived.
pub fn read_full(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut got = 0;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or(&mut []);
        // SAFETY: rest is a valid writable slice for rest.len() bytes.
        let n = retry(|| unsafe { sc!(libc::SYS_read, fd, rest.as_mut_ptr(), rest.len()) })?;
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    Ok(got)
}

/// Closes an fd we own; a negative one (none) costs no syscall. Out of
/// line: it is called from 130 places.
#[inline(never)]
pub fn close(fd: Fd) {
    if fd >= 0 {
        // SAFETY: closing an fd we own; errors (even EINTR) leave it closed on Linux.
        unsafe { sc!(libc::SYS_close, fd) };
    }
}

/// An anonymous pipe, both ends close-on-exec: (read, write).
pub fn pipe() -> Result<(Fd, Fd), Errno> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: fds is a valid array of two ints.
    cvt(unsafe { sc!(libc::SYS_pipe2, fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    Ok((fds[0], fds[1]))
}

/// One read(2); Ok(0) is EOF.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is a valid writable slice for buf.len() bytes.
    retry(|| unsafe { sc!(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len()) }).map(|n| n as usize)
}

/// Longest path the *at() helpers below accept (the kernel's PATH_MAX).
const PATH_MAX: usize = 4096;

/// Calls `f` with `path` as a NUL-terminated C string on the stack. The
/// buffer is not filled first (only the path and its NUL are written), and
/// the copy is one shared function, not one per caller.
fn with_cstr<T>(path: &[u8], f: impl FnOnce(*const c_char) -> Result<T, Errno>) -> Result<T, Errno> {
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); PATH_MAX];
    f(cstr_in(path, &mut buf)?)
}

/// `path` and a NUL into `buf`; ENAMETOOLONG for a path that does not fit
/// or holds a NUL.
#[inline(never)]
fn cstr_in(path: &[u8], buf: &mut [core::mem::MaybeUninit<u8>; PATH_MAX]) -> Result<*const c_char, Errno> {
    if path.len() >= PATH_MAX || path.contains(&0) {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    for (d, &c) in buf.iter_mut().zip(path) {
        d.write(c);
    }
    buf[path.len()].write(0);
    Ok(buf.as_ptr().cast())
}

/// The directory fd that makes *at() calls resolve like plain paths.
pub const CWD: Fd = libc::AT_FDCWD;

/// System call `nr` on (`dir`, `path` as a C string, `a`, `b`): every *at()
/// call that takes one path shares this one copy into one PATH_MAX buffer
/// (instead of a copy and a buffer per wrapper). EINTR retried.
/// The raw return (-errno on failure: see `cvt`), so the result travels
/// in a register, not through memory as a Result of a c_long does.
#[inline(never)]
fn at(nr: libc::c_long, dir: Fd, path: &[u8], a: usize, b: usize) -> libc::c_long {
    let mut buf = [core::mem::MaybeUninit::<u8>::uninit(); PATH_MAX];
    let r = cstr_in(path, &mut buf).and_then(|p| {
        // SAFETY: p is a NUL-terminated path in buf; `a` and `b` are what
        // each caller documents for `nr` (integers, or pointers to memory
        // it owns for the call).
        retry(|| unsafe { sc!(nr, dir, p, a, b) })
    });
    r.unwrap_or_else(|e| -e.0 as libc::c_long)
}

/// openat(2), always close-on-exec.
pub fn openat(dir: Fd, path: &[u8], flags: c_int) -> Result<Fd, Errno> {
    cvt(at(libc::SYS_openat, dir, path, (flags | libc::O_CLOEXEC) as usize, 0o644)).map(|f| f as Fd)
}

/// openat(2) of a C string (a literal such as c"/proc/self/status"),
/// always close-on-exec: no copy, and no PATH_MAX buffer on the stack.
pub fn openat_c(dir: Fd, path: &core::ffi::CStr, flags: c_int) -> Result<Fd, Errno> {
    // SAFETY: path is NUL-terminated by construction (CStr).
    retry(|| unsafe { sc!(libc::SYS_openat, dir, path.as_ptr(), flags | libc::O_CLOEXEC, 0o644) }).map(|f| f as Fd)
}

pub fn mkdirat(dir: Fd, path: &[u8]) -> Result<(), Errno> {
    cvt(at(libc::SYS_mkdirat, dir, path, 0o755, 0)).map(|_| ())
}

pub fn rmdirat(dir: Fd, path: &[u8]) -> Result<(), Errno> {
    cvt(at(libc::SYS_unlinkat, dir, path, libc::AT_REMOVEDIR as usize, 0)).map(|_| ())
}

pub fn sleep_ms(ms: u64) {
    let ts = libc::timespec { tv_sec: (ms / 1000) as _, tv_nsec: ((ms % 1000) * 1_000_000) as _ };
    // SAFETY: ts is a valid timespec; an early wake-up is harmless here.
    unsafe { sc!(libc::SYS_clock_nanosleep, libc::CLOCK_REALTIME, 0, &ts as *const libc::timespec, 0usize) };
}

/// Private anonymous memory, mapped before clone. The child gets its own
/// copy-on-write view of it (no CLONE_VM), so it never needs to allocate.
/// Never unmapped: mydocker is a one-shot process and exit frees it, which
/// spares a munmap and its TLB flush on every run.
pub struct Map {
    ptr: *mut u8,
    len: usize,
}

const PAGE: usize = 4096;

fn round_up(n: usize, to: usize) -> Option<usize> {
    n.checked_add(to - 1).map(|v| v & !(to - 1))
}

impl Map {
    /// Unmaps it, for memory a longer-lived process would otherwise pin:
    /// the OCI keeper shares create's memory (sys::keeper).
    pub fn unmap(self) {
        // SAFETY: exactly the mapping `new` made; `self` is consumed, and
        // every view of it (typed, split, carve) borrows it, so none is left.
        unsafe { sc!(libc::SYS_munmap, self.ptr, self.len) };
    }

    /// Not inherited by a child (MADV_DONTFORK) — for memory the child
    /// never reads, which it would otherwise keep (copy-on-write) while it
    /// waits: OCI create's init holds everything until `start`.
    pub fn dont_fork(&mut self) {
        // SAFETY: advice on exactly the mapping `new` made; nothing here
        // changes, only what a later fork or clone without CLONE_VM copies.
        unsafe { sc!(libc::SYS_madvise, self.ptr, self.len, libc::MADV_DONTFORK) };
    }

    /// Maps `len` bytes; with `guard`, the lowest page is PROT_NONE so a
    /// stack overflow faults instead of scribbling over other memory.
    pub fn new(len: usize, guard: bool) -> Result<Map, Errno> {
        let body = round_up(len.max(1), PAGE).ok_or(Errno(libc::ENOMEM))?;
        let total = body.checked_add(if guard { PAGE } else { 0 }).ok_or(Errno(libc::ENOMEM))?;
        // SAFETY: anonymous private mapping; no existing memory is touched.
        let p = cvt(unsafe {
            sc!(
                libc::SYS_mmap,
                0,
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | if guard { libc::MAP_STACK } else { 0 },
                -1i32,
                0
            )
        })? as *mut u8;
        if guard {
            // SAFETY: the first page lies inside the mapping we just made.
            if let Err(e) = cvt(unsafe { sc!(libc::SYS_mprotect, p, PAGE, libc::PROT_NONE) }) {
                // SAFETY: unmapping exactly what we mapped.
                unsafe { sc!(libc::SYS_munmap, p, total) };
                return Err(e);
            }
        }
        Ok(Map { ptr: p, len: total })
    }

    /// Views the start of a mapping made without a guard page as `n` values
    /// of `T`, each set to `fill`, and the rest as bytes. None when they do
    /// not fit.
    pub fn typed<T: Copy>(&mut self, n: usize, fill: T) -> Option<(&mut [T], &mut [u8])> {
        let off = round_up(n.checked_mul(core::mem::size_of::<T>())?, 16)?;
        if off > self.len || core::mem::align_of::<T>() > 16 {
            return None;
        }
        let p = self.ptr.cast::<T>();
        // SAFETY: the mapping is page-aligned (so aligned for T, checked
        // above) and n values of T fit before `off`; every value is written
        // before the slice over them exists; the byte rest [off, len) is
        // disjoint from them and inside the mapping.
        unsafe {
            for i in 0..n {
                p.add(i).write(fill);
            }
            Some((
                core::slice::from_raw_parts_mut(p, n),
                core::slice::from_raw_parts_mut(self.ptr.add(off), self.len - off),
            ))
        }
    }

    /// Splits an arena into a byte area of `bytes` (rounded up to 8), a
    /// pointer array of `ptrs` entries, and the rest as bytes. None when it
    /// does not fit: the caller reports that as an error, never a crash.
    pub fn split(&mut self, bytes: usize, ptrs: usize) -> Option<(&mut [u8], &mut [*const c_char], &mut [u8])> {
        let a = round_up(bytes, 8)?;
        let b = ptrs.checked_mul(core::mem::size_of::<*const c_char>())?;
        if a.checked_add(b)? > self.len {
            return None;
        }
        // SAFETY: the three ranges are disjoint and inside the mapping; the
        // pointer array starts 8-aligned (mmap is page-aligned, a is a
        // multiple of 8) and any bit pattern is a valid raw pointer.
        unsafe {
            Some((
                core::slice::from_raw_parts_mut(self.ptr, bytes),
                core::slice::from_raw_parts_mut(self.ptr.add(a).cast(), ptrs),
                core::slice::from_raw_parts_mut(self.ptr.add(a + b), self.len - a - b),
            ))
        }
    }

    /// Cuts a mapping made with a guard page into the child's stack (the
    /// guard page and `stack` bytes above it), an arena of `arena` bytes, and
    /// the rest. One mmap and one mprotect for everything the child touches.
    pub fn carve(&mut self, stack: usize, arena: usize) -> Option<(Stack, Map, &mut [u8])> {
        let s = round_up(stack, PAGE)?.checked_add(PAGE)?;
        let a = round_up(arena, PAGE)?;
        if s.checked_add(a)? > self.len {
            return None;
        }
        // wrapping_add: plain address arithmetic inside our own mapping.
        let top = Stack {
            top: (self.ptr.wrapping_add(s) as usize & !15) as *mut c_void,
            base: self.ptr.wrapping_add(PAGE),
            size: (s - PAGE) & !15,
        };
        let arena = Map { ptr: self.ptr.wrapping_add(s), len: a };
        let rest = self.len - s - a;
        // SAFETY: [s+a, len) lies inside the mapping and is disjoint from the
        // stack and arena ranges handed out alongside it.
        let rest = unsafe { core::slice::from_raw_parts_mut(self.ptr.add(s + a), rest) };
        Some((top, arena, rest))
    }
}

/// The top of a child stack carved out of a guarded Map.
pub struct Stack {
    top: *mut c_void,
    /// Lowest usable address (above the guard page) and size, for clone3.
    base: *mut u8,
    size: usize,
}

/// Bytes for a stack of `stack` and an arena of `arena` bytes plus `rest`,
/// as `carve` lays them out (guard page included).
pub fn carve_size(stack: usize, arena: usize, rest: usize) -> Option<usize> {
    round_up(stack, PAGE)?.checked_add(round_up(arena, PAGE)?)?.checked_add(rest)
}

struct Tramp<T> {
    f: fn(&mut T) -> i32,
    arg: *mut T,
}

extern "C" fn trampoline<T>(p: *mut c_void) -> c_int {
    // SAFETY: p is the Tramp<T> that clone() below built on the parent's
    // stack. Without CLONE_VM the child runs on a private copy of that
    // memory; with it, CLONE_VFORK too (checked by `vm_with_vfork`): the
    // parent sleeps inside clone until the child execs or exits, so its
    // frame (t, *arg) stays alive and nobody else touches it meanwhile.
    // Either way the reference is valid and unaliased for the child's life.
    let t = unsafe { &mut *(p as *mut Tramp<T>) };
    // SAFETY: t.arg was made from a live &mut T in clone(), copied or
    // lent likewise.
    let arg = unsafe { &mut *t.arg };
    (t.f)(arg)
}

/// A child that shares our memory (CLONE_VM) must be a vfork child
/// (CLONE_VFORK): we must not run while it uses our stack frame and its
/// writes land in our memory. EINVAL otherwise.
fn vm_with_vfork(flags: c_int) -> Result<(), Errno> {
    if flags & libc::CLONE_VM != 0 && flags & libc::CLONE_VFORK == 0 {
        return Err(Errno(libc::EINVAL));
    }
    Ok(())
}

/// clone(2) onto `stack` (a guarded Map). The child runs `f(arg)` and exits
/// with its return value: on its own copy of the address space, or, with
/// CLONE_VM | CLONE_VFORK, on ours while we wait for its execve or exit.
/// (The raw system call, as for clone3: musl's clone() wrapper is 400
/// bytes of code we need none of.)
pub fn clone<T>(flags: c_int, stack: &Stack, arg: &mut T, f: fn(&mut T) -> i32) -> Result<libc::pid_t, Errno> {
    vm_with_vfork(flags)?;
    let mut t = Tramp { f, arg: arg as *mut T };
    let targ = (&mut t as *mut Tramp<T>).cast::<c_void>();
    // SAFETY: see raw_clone: clone(2)'s first two arguments are the flags
    // and the new stack pointer (the others 0: no tids, no tls); the stack
    // lies in a live mapping, 16-aligned at its top; `t` outlives the call:
    // the child has a copy of it, or (vfork) uses ours while we sleep.
    unsafe { raw_clone(libc::SYS_clone, flags as u32 as usize, stack.top as usize, trampoline::<T>, targ) }
}

/// struct clone_args, version 2 (Linux 5.7+: with `cgroup`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x200000000;

/// clone3(2) onto `stack`: the child runs `f(arg)` and exits. With
/// `cgroup` (a cgroup v2 directory fd) it is born inside that cgroup
/// (CLONE_INTO_CGROUP), which skips the cgroup.procs write — and the RCU
/// grace period its cgroup_threadgroup_rwsem can cost after idle. Unlike
/// musl's clone() it needs no signal-mask round trips of its own.
/// Err(ENOSYS/E2BIG/EINVAL): the kernel lacks clone3 (< 5.3) or
/// CLONE_INTO_CGROUP (< 5.7); the caller falls back to `clone`.
pub fn clone3<T>(
    flags: c_int,
    stack: &Stack,
    cgroup: Option<Fd>,
    arg: &mut T,
    f: fn(&mut T) -> i32,
) -> Result<libc::pid_t, Errno> {
    vm_with_vfork(flags)?;
    let mut t = Tramp { f, arg: arg as *mut T };
    let args = CloneArgs {
        flags: (flags as u64 & !0xff) | if cgroup.is_some() { CLONE_INTO_CGROUP } else { 0 },
        exit_signal: (flags & 0xff) as u64,
        stack: stack.base as u64,
        stack_size: stack.size as u64,
        cgroup: cgroup.unwrap_or(0) as u64,
        ..CloneArgs::default()
    };
    let targ = (&mut t as *mut Tramp<T>).cast::<c_void>();
    // SAFETY: see raw_clone: args is a valid clone_args of the size
    // passed; the stack lies in a live mapping; `t` outlives the call: the
    // child has a copy of it, or (vfork) uses ours while we sleep.
    unsafe {
        raw_clone(
            libc::SYS_clone3,
            &args as *const CloneArgs as usize,
            core::mem::size_of::<CloneArgs>(),
            trampoline::<T>,
            targ,
        )
    }
}

/// System call `nr` (clone or clone3) with arguments `a0`, `a1` and zeros:
/// the parent gets the child's pid or the errno; the child calls
/// `entry(targ)` on its new stack and exits with the result.
///
/// The child starts at the instruction after the syscall with its stack
/// pointer at the top of its new stack, where no Rust frame exists: it must
/// not return into this function. So the child path is all assembly: call
/// entry(targ) (kept in callee-saved registers, which survive the syscall)
/// and exit_group with its result.
///
/// # Safety
/// The arguments must describe a new stack in live memory (16-byte aligned
/// at its top) and no CLONE_VM without CLONE_VFORK (vm_with_vfork):
/// `entry`/`targ` then point at valid copies in the child's private
/// memory, or at our own while we sleep in this call (or, CLONE_VM
/// alone, `targ` is no pointer and the child reads none of our memory:
/// keeper.rs). The child never
/// returns from the asm block and never touches our stack.
#[inline(never)]
unsafe fn raw_clone(
    nr: libc::c_long,
    a0: usize,
    a1: usize,
    entry: extern "C" fn(*mut c_void) -> c_int,
    targ: *mut c_void,
) -> Result<libc::pid_t, Errno> {
    let ret: libc::c_long;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller's contract above.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r13",
            "call r12",
            "mov edi, eax",
            "mov eax, 231", // exit_group
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") nr => ret,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") 0usize,
            in("r10") 0usize,
            in("r8") 0usize,
            in("r12") entry,
            in("r13") targ,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: the caller's contract above.
    unsafe {
        core::arch::asm!(
            "svc 0",
            "cbnz x0, 2f",
            "mov x0, x22",
            "blr x21",
            "mov x8, #94", // exit_group
            "svc 0",
            "brk #0",
            "2:",
            inlateout("x0") a0 as libc::c_long => ret,
            in("x1") a1,
            in("x2") 0usize,
            in("x3") 0usize,
            in("x4") 0usize,
            in("x8") nr,
            in("x21") entry,
            in("x22") targ,
            options(nostack),
        );
    }
    if ret < 0 {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as libc::pid_t)
    }
}

/// A set of signals (the kernel's 64-bit mask; musl's sigset_t is larger but
/// we only ever pass the kernel its 8 bytes).
#[derive(Clone, Copy)]
pub struct SigSet(u64);

impl SigSet {
    pub const ALL: SigSet = SigSet(!0);
    /// Bit N-1 for signal N.
    pub const fn from_bits(m: u64) -> SigSet {
        SigSet(m)
    }
    pub const fn has(self, sig: c_int) -> bool {
        sig >= 1 && sig <= 64 && self.0 & (1 << (sig - 1)) != 0
    }
    pub const fn of(sigs: &[c_int]) -> SigSet {
        let mut m = 0u64;
        let mut i = 0;
        while i < sigs.len() {
            m |= 1 << (sigs[i] - 1);
            i += 1;
        }
        SigSet(m)
    }
}

/// Replaces the signal mask; returns the old one. Raw syscall: musl's
/// sigprocmask would silently keep its internal signals unblocked, and the
/// child must reset everything the same way.
pub fn set_sigmask(set: SigSet) -> SigSet {
    let mut old = 0u64;
    // SAFETY: both pointers reference valid 8-byte kernel sigsets.
    unsafe { sc!(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &set.0 as *const u64, &mut old as *mut u64, 8) };
    SigSet(old)
}

/// The signals pending for this process or thread (blocked ones that
/// arrived and wait to be taken).
pub fn sigpending() -> SigSet {
    let mut set = 0u64;
    // SAFETY: set is a valid 8-byte kernel sigset to fill.
    unsafe { sc!(libc::SYS_rt_sigpending, &mut set as *mut u64, 8) };
    SigSet(set)
}

/// Waits for one of the (blocked) signals in `set`.
pub fn sigwait(set: SigSet) -> Result<c_int, Errno> {
    // SAFETY: a valid kernel sigset and no siginfo/timeout pointers.
    retry(|| unsafe {
        sc!(
            libc::SYS_rt_sigtimedwait,
            &set.0 as *const u64,
            core::ptr::null_mut::<c_void>(),
            core::ptr::null::<c_void>(),
            8,
        )
    })
    .map(|s| s as c_int)
}

/// Sets `sig` to its default disposition (raw rt_sigaction, no libc state).
pub fn sig_default(sig: c_int) -> Result<(), Errno> {
    sig_action(sig, 0)
}

/// Makes `sig` end the process with status 128 + `sig` through a handler:
/// a PID namespace's init ignores every signal it has no handler for, even
/// from the host (pid_namespaces(7)). execve resets it to the default.
pub fn exit_on(sig: c_int) -> Result<(), Errno> {
    extern "C" fn die(sig: c_int) {
        exit(128 + sig)
    }
    sig_action(sig, die as extern "C" fn(c_int) as usize as u64)
}

/// The kernel's struct sigaction: handler, flags, restorer, mask. All zero
/// is SIG_DFL with no flags and an empty mask on every architecture. A
/// handler gets SA_RESTORER (x86_64 delivers nothing without one), and
/// itself as the restorer: the only handler, `die`, never returns to it.
fn sig_action(sig: c_int, handler: u64) -> Result<(), Errno> {
    const SA_RESTORER: u64 = 0x0400_0000;
    let ksa = [handler, if handler != 0 { SA_RESTORER } else { 0 }, handler, 0];
    // SAFETY: ksa is a valid kernel sigaction (its handler, if any, a
    // function that never returns); no old action wanted.
    cvt(unsafe { sc!(libc::SYS_rt_sigaction, sig, ksa.as_ptr(), core::ptr::null_mut::<c_void>(), 8) }).map(|_| ())
}

pub fn kill(pid: libc::pid_t, sig: c_int) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    cvt(unsafe { sc!(libc::SYS_kill, pid, sig) }).map(|_| ())
}

/// waitpid; `Ok(None)` when `nohang` and the child is still running.
pub fn wait(pid: libc::pid_t, nohang: bool) -> Result<Option<c_int>, Errno> {
    let mut status = 0;
    // SAFETY: status is a valid int to write the result into.
    let r = retry(|| unsafe {
        sc!(libc::SYS_wait4, pid, &mut status as *mut c_int, if nohang { libc::WNOHANG } else { 0 }, 0usize)
    })?;
    Ok(if r == 0 { None } else { Some(status) })
}

/// A fork: clone(2) with no new stack and no sharing, so the child goes on
/// here on its own copy of memory. Returns 0 in the child. Used only on the
/// child path (--init), where nothing but syscalls follows before execve.
pub fn fork() -> Result<libc::pid_t, Errno> {
    // SAFETY: without CLONE_VM and with no new stack this is fork(2)
    // semantics: both processes continue from here on private memory.
    cvt(unsafe {
        sc!(
            libc::SYS_clone,
            libc::SIGCHLD as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
        )
    })
    .map(|p| p as libc::pid_t)
}

/// Reaps any exited child without blocking: Some((pid, status)), None
/// when children remain but none has exited, Err(ECHILD) when none remain.
pub fn reap_any() -> Result<Option<(libc::pid_t, c_int)>, Errno> {
    let mut status = 0;
    // SAFETY: status is a valid int to write the result into.
    let r = retry(|| unsafe { sc!(libc::SYS_wait4, -1i32, &mut status as *mut c_int, libc::WNOHANG, 0usize) })?;
    Ok(if r == 0 { None } else { Some((r as libc::pid_t, status)) })
}

pub fn sethostname(name: &[u8]) -> Result<(), Errno> {
    // SAFETY: name is a valid slice of name.len() bytes.
    cvt(unsafe { sc!(libc::SYS_sethostname, name.as_ptr(), name.len()) }).map(|_| ())
}

/// Brings the network namespace's loopback interface up (SIOCSIFFLAGS).
pub fn loopback_up() -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    let s = cvt(unsafe { sc!(libc::SYS_socket, libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })? as Fd;
    // struct ifreq: 16 bytes of name, then a union whose first member for
    // this request is `short ifr_flags`; 40 bytes on 64-bit, zeroed. A new
    // namespace's lo has exactly IFF_LOOPBACK set, so no SIOCGIFFLAGS first.
    let mut ifr = [0u8; 40];
    ifr[0] = b'l';
    ifr[1] = b'o';
    ifr[16..18].copy_from_slice(&((libc::IFF_UP | libc::IFF_LOOPBACK) as i16).to_ne_bytes());
    // SAFETY: ifr is a valid, large enough struct ifreq. The socket is
    // close-on-exec: execve closes it, no syscall spent on it here.
    cvt(unsafe { sc!(libc::SYS_ioctl, s, libc::SIOCSIFFLAGS, ifr.as_mut_ptr()) }).map(|_| ())
}

/// A NUL-terminated byte string as a C pointer, or EINVAL.
fn cptr(s: &[u8]) -> Result<*const c_char, Errno> {
    if s.last() == Some(&0) {
        Ok(s.as_ptr().cast())
    } else {
        Err(Errno(libc::EINVAL))
    }
}

/// mount(2): NUL-terminated strings (None, or "" for data, = NULL).
pub fn mount(src: Option<&[u8]>, target: &[u8], fstype: Option<&[u8]>, flags: u64, data: &[u8]) -> Result<(), Errno> {
    let s = src.map(cptr).transpose()?.unwrap_or(core::ptr::null());
    let f = fstype.map(cptr).transpose()?.unwrap_or(core::ptr::null());
    let d = if data.is_empty() { core::ptr::null() } else { cptr(data)? };
    let t = cptr(target)?;
    // SAFETY: every non-null pointer is a NUL-terminated string (cptr).
    cvt(unsafe { sc!(libc::SYS_mount, s, t, f, flags, d) }).map(|_| ())
}

/// mkdir(2) of a NUL-terminated path; an existing entry is fine.
pub fn mkdir_ok(path: &[u8]) -> Result<(), Errno> {
    let p = cptr(path)?;
    // SAFETY: p is NUL-terminated.
    match cvt(unsafe { sc!(libc::SYS_mkdirat, CWD, p, 0o755) }) {
        Err(Errno(libc::EEXIST)) | Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates an empty file (a mount point for a file bind) if missing.
pub fn touch(path: &[u8]) -> Result<(), Errno> {
    let p = cptr(path)?;
    // SAFETY: p is NUL-terminated.
    let fd = cvt(unsafe { sc!(libc::SYS_openat, CWD, p, libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC, 0o644) })?;
    close(fd as Fd);
    Ok(())
}

pub fn chdir(path: &[u8]) -> Result<(), Errno> {
    let p = cptr(path)?;
    // SAFETY: p is NUL-terminated.
    cvt(unsafe { sc!(libc::SYS_chdir, p) }).map(|_| ())
}

/// Makes the current directory the root: pivot_root(".", ".") stacks the
/// old root on top of the new one, and detaching "." then removes it — no
/// directory for the old root is needed inside the rootfs (runc does the
/// same). On an initramfs root, where pivot_root is impossible (EINVAL: the
/// root mount has no parent), the rootfs is moved over "/" and chrooted
/// into instead, as switch_root and runc's --no-pivot do.
pub fn pivot_here() -> Result<(), Errno> {
    let dot = b".\0".as_ptr() as *const c_char;
    let slash = b"/\0".as_ptr() as *const c_char;
    // SAFETY: dot and slash are NUL-terminated strings; plain syscalls.
    unsafe {
        match cvt(sc!(libc::SYS_pivot_root, dot, dot)) {
            Ok(_) => {
                cvt(sc!(libc::SYS_umount2, dot, libc::MNT_DETACH))?;
            }
            Err(Errno(libc::EINVAL)) => {
                cvt(sc!(libc::SYS_mount, dot, slash, 0, libc::MS_MOVE, 0))?;
                cvt(sc!(libc::SYS_chroot, dot))?;
            }
            Err(e) => return Err(e),
        }
    }
    chdir(b"/\0")
}

/// Drops every capability in `drop` from the bounding set (stopping at the
/// first one this kernel does not know), then clears the ambient set if
/// `ambient`.
pub fn drop_bounding(drop: u64, ambient: bool) -> Result<(), Errno> {
    for cap in 0..64u64 {
        if drop & (1 << cap) == 0 {
            continue;
        }
        // SAFETY: plain prctl with integer arguments.
        match cvt(unsafe { sc!(libc::SYS_prctl, libc::PR_CAPBSET_DROP, cap, 0, 0, 0) }) {
            Ok(_) => {}
            Err(Errno(libc::EINVAL)) => break,
            Err(e) => return Err(e),
        }
    }
    if !ambient {
        return Ok(());
    }
    // SAFETY: plain prctl with integer arguments. EINVAL: no ambient set
    // before Linux 4.3, nothing to clear.
    match cvt(unsafe { sc!(libc::SYS_prctl, libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) }) {
        Ok(_) | Err(Errno(libc::EINVAL)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn no_new_privs() -> Result<(), Errno> {
    // SAFETY: plain prctl with integer arguments.
    cvt(unsafe { sc!(libc::SYS_prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(|_| ())
}

/// setgroups(groups), setgid, setuid — in that order: each needs the
/// privilege the next one gives up.
pub fn become_user(uid: u32, gid: u32, groups: &[u32]) -> Result<(), Errno> {
    proc::set_groups(groups)?;
    // SAFETY: plain syscalls with integer arguments.
    unsafe {
        cvt(sc!(libc::SYS_setgid, gid))?;
        cvt(sc!(libc::SYS_setuid, uid))?;
    }
    Ok(())
}

/// fstatat(2) as the raw syscall: musl's wrapper carries a statx fallback
/// we do not need (and ~0.5 KiB). struct stat is the kernel's own on musl's
/// x86_64 and aarch64 ports. `path` NUL-terminated.
fn stat_at(path: &[u8], follow: bool) -> Result<libc::stat, Errno> {
    // SAFETY: an all-zero struct stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    // st is writable and of the kernel's layout.
    cvt(at(libc::SYS_newfstatat, CWD, path, &mut st as *mut libc::stat as usize, flags as usize))?;
    Ok(st)
}

/// The text of the symlink `path` (readlink(2)) in `buf`: E2BIG when it
/// may not have fit.
pub fn readlink<'b>(path: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let (ptr, cap) = (buf.as_mut_ptr(), buf.len());
    // ptr is writable for cap bytes.
    let n = cvt(at(libc::SYS_readlinkat, CWD, path, ptr as usize, cap))? as usize;
    if n >= cap {
        return Err(Errno(libc::E2BIG));
    }
    Ok(&buf[..n])
}

/// Whether a directory entry exists, without following a final symlink
/// (a rootfs's /bin/sh may point at a path that only resolves inside it).

pub fn exists_nofollow(path: &[u8]) -> bool {
    stat_at(path, false).is_ok()
}

/// getdents64(2) into `buf`; Ok(0) at the end of the directory.
pub fn getdents(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: buf is a valid writable slice of buf.len() bytes.
    retry(|| unsafe { sc!(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) }).map(|n| n as usize)
}

/// Calls `f` with the name of each entry of directory `fd` ("." and ".."
/// included), reading through `buf` (getdents64). A malformed record ends
/// that batch; a read error ends the walk and is returned.
pub fn each_name(fd: Fd, buf: &mut [u8], f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
    loop {
        let n = getdents(fd, buf)?;
        if n == 0 {
            return Ok(());
        }
        let mut rest = buf.get(..n).unwrap_or(&[]);
        // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
        while let Some(&[lo, hi]) = rest.get(16..18) {
            let reclen = u16::from_ne_bytes([lo, hi]) as usize;
            let Some((rec, next)) = rest.split_at_checked(reclen).filter(|_| reclen >= 19) else { break };
            let name = rec.get(19..).unwrap_or(&[]);
            f(name.split(crate::words::on(0)).next().unwrap_or(name));
            rest = next;
        }
    }
}

/// flock(2) on an fd we own; EINTR retried (a blocking lock waits again).
pub fn flock(fd: Fd, op: c_int) -> Result<(), Errno> {
    // SAFETY: plain syscall with integer arguments.
    retry(|| unsafe { sc!(libc::SYS_flock, fd, op) }).map(|_| ())
}

/// What a path is, following symlinks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileKind {
    Dir,
    File,
    Other,
}

pub fn kind(path: &[u8]) -> Result<FileKind, Errno> {
    let st = stat_at(path, true)?;
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => FileKind::Dir,
        libc::S_IFREG => FileKind::File,
        _ => FileKind::Other,
    })
}

/// Asks the kernel to send us `sig` when the parent dies (0: nothing).
pub fn die_with_parent(sig: c_int) -> Result<(), Errno> {
    // SAFETY: plain prctl with integer arguments.
    cvt(unsafe { sc!(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, sig, 0, 0, 0) }).map(|_| ())
}

/// Whether the pipe or fifo whose write end is `fd` has no reader left
/// (poll says POLLERR); `wait`: blocks until then (or a signal: false).
pub fn no_reader(fd: Fd, wait: bool) -> bool {
    let mut p = libc::pollfd { fd, events: 0, revents: 0 };
    let now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let timeout = if wait { core::ptr::null() } else { &now as *const libc::timespec };
    // SAFETY: p is one valid pollfd, timeout null or a valid timespec, no
    // signal mask; no events asked, so only POLLERR (no reader) or
    // POLLNVAL ends a wait.
    let n = unsafe { sc!(libc::SYS_ppoll, &mut p as *mut libc::pollfd, 1, timeout, 0, 0) };
    n == 1 && p.revents & libc::POLLERR != 0
}

/// Grows a pipe so `len` bytes fit without the writer blocking (a large
/// argv frame then crosses in one write instead of a ping-pong).
pub fn pipe_fit(fd: Fd, len: usize) {
    if len > 65536 {
        // SAFETY: plain fcntl with integer arguments; failure only means
        // the frame crosses in several writes, as before.
        unsafe { sc!(libc::SYS_fcntl, fd, libc::F_SETPIPE_SZ, len.min(1 << 20) as c_int) };
    }
}

/// execve(2); it only returns on failure, so it returns the error.
pub fn execve(path: &[u8], argv: &[*const c_char], envp: &[*const c_char]) -> Errno {
    if path.last() != Some(&0)
        || argv.last().map_or(true, |p| !p.is_null())
        || envp.last().map_or(true, |p| !p.is_null())
    {
        return Errno(libc::EINVAL);
    }
    // SAFETY: path is NUL-terminated and argv/envp are NULL-terminated arrays
    // (all checked above) of pointers into the frame arena, which the frame
    // decoder proved to be NUL-terminated strings.
    let r = unsafe { sc!(libc::SYS_execve, path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    Errno(-r as i32)
}

/// Ends the process at once: no atexit handlers, no stdio flush.
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group never returns and touches no memory.
    unsafe { sc!(libc::SYS_exit_group, code) };
    loop {}
}

/// Six random bytes for a container id. The kernel hands every process 16
/// random bytes at start (AT_RANDOM, found by `main`); we take 6 of the
/// last 8 — no syscall. getrandom(2) otherwise.
pub fn random6() -> Result<[u8; 6], Errno> {
    let p = AT_RANDOM.load(Relaxed).cast_const();
    let mut b = [0u8; 6];
    if !p.is_null() {
        // SAFETY: AT_RANDOM points at 16 bytes the kernel placed on the
        // initial stack, live for the whole process; bytes 8..14 of them.
        b.copy_from_slice(unsafe { core::slice::from_raw_parts(p.add(8), 6) });
        return Ok(b);
    }
    random(&mut b).map(|_| b)
}

/// Fills `buf` from the kernel's random pool.
fn random(buf: &mut [u8]) -> Result<(), Errno> {
    // SAFETY: buf is a valid writable slice.
    let n = retry(|| unsafe { sc!(libc::SYS_getrandom, buf.as_mut_ptr(), buf.len(), 0) })?;
    if n as usize == buf.len() {
        Ok(())
    } else {
        Err(Errno(libc::EIO))
    }
}

/// # Safety
/// `p` must be null or point at a NUL-terminated string that lives forever.
unsafe fn cstr(p: *const c_char) -> &'static [u8] {
    if p.is_null() {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { core::slice::from_raw_parts(p.cast(), c_len(p)) }
}

/// The length of a NUL-terminated string: a byte loop, as these strings
/// are short (argv, envp), in place of musl's word-at-a-time strlen (5
/// times the size). The volatile read keeps LLVM from seeing strlen in
/// the loop and calling musl's after all.
///
/// # Safety
/// `p` must point at a NUL-terminated string.
unsafe fn c_len(p: *const c_char) -> usize {
    let mut n = 0;
    // SAFETY: guaranteed by the caller: every byte up to the NUL is readable.
    while unsafe { p.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}

/// A NULL-terminated `char **` as handed to main (argv or envp).
#[derive(Clone, Copy)]
pub struct CArgs {
    ptr: *const *const c_char,
    len: usize,
}

impl CArgs {
    /// # Safety
    /// `ptr` must be the argv or envp that the C runtime passed to main:
    /// a NULL-terminated array of NUL-terminated strings, live for the
    /// whole process.
    #[cfg(not(any(test, fuzzing)))]
    unsafe fn from_main(ptr: *const *const c_char) -> CArgs {
        let mut len = 0;
        // SAFETY: guaranteed by the caller: the array ends with NULL.
        while !ptr.is_null() && unsafe { !(*ptr.add(len)).is_null() } {
            len += 1;
        }
        CArgs { ptr, len }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn get(&self, i: usize) -> &'static [u8] {
        if i >= self.len {
            return &[];
        }
        // SAFETY: i < len, so the entry is a live NUL-terminated string
        // (from_main's contract).
        unsafe { cstr(*self.ptr.add(i)) }
    }
}

// A no_std binary gets no libc link from std: ask for musl's (static on
// the musl targets) ourselves.
#[cfg(not(any(test, fuzzing)))]
#[link(name = "c")]
extern "C" {}

/// The C entry point, called by `start` (raw.rs: release builds) or by
/// musl's start code (debug builds) with argc, argv and envp.
#[cfg(not(any(test, fuzzing)))]
#[no_mangle]
extern "C" fn main(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: these are exactly the arrays the kernel put on the initial
    // stack (execve), envp's NULL followed by the auxiliary vector: (type,
    // value) pairs up to AT_NULL.
    let (args, env) = unsafe {
        let (args, env) = (CArgs::from_main(argv), CArgs::from_main(envp));
        let mut aux = if envp.is_null() { &0 } else { &*envp.add(env.len() + 1).cast::<usize>() } as *const usize;
        while *aux != 0 {
            if *aux == libc::AT_RANDOM as usize {
                AT_RANDOM.store(*aux.add(1) as *mut u8, Relaxed);
            }
            aux = aux.add(2);
        }
        (args, env)
    };
    MAIN_ARGS[0].store(argv.cast_mut().cast(), Relaxed);
    MAIN_ARGS[1].store(envp.cast_mut().cast(), Relaxed);
    crate::main(args, env)
}

/// Where the process starts (raw.rs's entry point passes the initial stack
/// pointer): argc, argv and envp are read off the stack as the kernel laid
/// them out, main runs, and its status ends the process.
#[cfg(not(any(test, fuzzing)))]
extern "C" fn start(sp: *const usize) -> ! {
    // SAFETY: sp is the initial stack: argc, then argv's argc pointers and
    // NULL, then envp (execve(2), the ELF ABI).
    let code = unsafe {
        let argv = sp.add(1).cast::<*const c_char>();
        main(*sp as c_int, argv, argv.add(*sp + 1))
    };
    exit(code)
}

use core::sync::atomic::{AtomicPtr, Ordering::Relaxed};

/// The kernel's 16 random bytes (AT_RANDOM), found by main; null before.
static AT_RANDOM: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());

/// envp and argv as main received them, for `wipe_args`.
static MAIN_ARGS: [AtomicPtr<*mut c_char>; 2] =
    [AtomicPtr::new(core::ptr::null_mut()), AtomicPtr::new(core::ptr::null_mut())];

/// Overwrites mydocker's argv and envp strings with NULs in this process's
/// memory, then puts `name` at the start of the argv area and a non-NUL
/// byte at its end: /proc/PID/cmdline reads these bytes (dumpability does
/// not guard it), and with that last byte set the kernel shows only the
/// first string (setproctitle's rule), so it reads `name`. For the --init
/// reaper, which never execs: the host paths and -e values of its command
/// line must not be readable in the container (PR_SET_MM would need
/// CAP_SYS_RESOURCE). Only in a process with its own copy of the memory.
pub fn wipe_args(name: &[u8]) {
    let argv = MAIN_ARGS[0].load(Relaxed);
    let mut end = core::ptr::null_mut::<c_char>();
    // SAFETY: both are main's NULL-terminated arrays of writable
    // NUL-terminated strings, laid out one after the other by execve (the
    // area's end is the last string's NUL); the caller reads none of them
    // again, and its memory is its own copy, so each may be blanked. name
    // is copied only below `end`, inside the argv area.
    unsafe {
        for mut p in [MAIN_ARGS[1].load(Relaxed), argv] {
            while !p.is_null() && !(*p).is_null() {
                let n = c_len(*p);
                core::ptr::write_bytes(*p, 0, n);
                end = (*p).add(n);
                p = p.add(1);
            }
        }
        if argv.is_null() || (*argv).is_null() || end <= *argv {
            return;
        }
        let room = end.offset_from(*argv) as usize - 1;
        core::ptr::copy_nonoverlapping(name.as_ptr().cast(), *argv, name.len().min(room));
        *end = b'-' as c_char;
    }
}

/// A panic is a bug; with panic=abort there is nothing to unwind, so end the
/// process the way abort(3) would.
#[cfg(not(any(test, fuzzing)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // The caller's terminal must not stay in raw mode (-t) after mydocker.
    tty::restore_on_panic();
    // abort(3)'s end without musl's abort and raise: SIGABRT at its
    // default, unblocked, sent to this very thread (the raw gettid is right
    // in a vfork child too); exit_group(134) should that not end us.
    let _ = sig_default(libc::SIGABRT);
    let abrt: u64 = 1 << (libc::SIGABRT - 1);
    // SAFETY: plain system calls on values; the set is 8 readable bytes.
    unsafe {
        sc!(libc::SYS_rt_sigprocmask, libc::SIG_UNBLOCK, &abrt as *const u64, 0usize, 8usize);
        sc!(libc::SYS_tkill, sc!(libc::SYS_gettid), libc::SIGABRT);
    }
    exit(134)
}

/// The prebuilt libcore refers to this symbol even under panic=abort; LTO
/// drops the reference in release builds, debug builds (the integration
/// tests' binary) need it defined. It is never called: nothing unwinds.
#[cfg(not(any(test, fuzzing)))]
#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The child of each clone path runs `f(arg)` on its own stack and
    /// exits with its result; with CLONE_VM | CLONE_VFORK it ran on our
    /// memory (its write is ours to see) and was done before we resumed.
    #[test]
    fn both_clone_calls_run_the_child_copied_or_on_our_memory_with_vfork() {
        fn child(x: &mut u32) -> i32 {
            *x += 1;
            40 + *x as i32
        }
        let mut m = Map::new(carve_size(64 * 1024, 0, 0).unwrap(), true).unwrap();
        let (stack, _, _) = m.carve(64 * 1024, 0).unwrap();
        let shared = libc::CLONE_VM | libc::CLONE_VFORK;
        for call in 0..2 {
            for flags in [libc::SIGCHLD, libc::SIGCHLD | shared] {
                let mut x = 1u32;
                let pid = match call {
                    0 => clone(flags, &stack, &mut x, child),
                    _ => match clone3(flags, &stack, None, &mut x, child) {
                        Err(Errno(libc::ENOSYS)) => continue,
                        r => r,
                    },
                }
                .unwrap();
                let status = wait(pid, false).unwrap().unwrap();
                assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 42, "call {call} flags {flags:#x}");
                assert_eq!(x, if flags & libc::CLONE_VM != 0 { 2 } else { 1 }, "call {call} flags {flags:#x}");
            }
        }
        let mut x = 1u32;
        assert_eq!(clone(libc::SIGCHLD | libc::CLONE_VM, &stack, &mut x, child), Err(Errno(libc::EINVAL)));
        assert_eq!(clone3(libc::SIGCHLD | libc::CLONE_VM, &stack, None, &mut x, child), Err(Errno(libc::EINVAL)));
    }
}
