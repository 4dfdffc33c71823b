//! System calls without the C library, and the process's entry point.
//!
//! `sc!(nr, args..)` is the kernel's calling convention inlined: the
//! return value as the kernel gives it (-4095..-1 is -errno, see `cvt`).
//! No errno, so no thread pointer: with the entry point below, musl's
//! start-up code (libc and TLS set-up, init/fini arrays) and its syscall
//! wrappers stay out of the binary; of musl only memcpy and its kin are
//! linked.

use core::ffi::c_long;

/// One system call: `sc!(libc::SYS_x, a, b, ..)`, up to six arguments,
/// each cast to a machine word (pointers, and integers sign-extended).
macro_rules! sc {
    ($nr:expr $(,)?) => { $crate::sys::raw::s0($nr as core::ffi::c_long) };
    ($nr:expr, $a:expr $(,)?) => { $crate::sys::raw::s1($nr as core::ffi::c_long, $a as usize) };
    ($nr:expr, $a:expr, $b:expr $(,)?) => { $crate::sys::raw::s2($nr as core::ffi::c_long, $a as usize, $b as usize) };
    ($nr:expr, $a:expr, $b:expr, $c:expr $(,)?) => {
        $crate::sys::raw::s3($nr as core::ffi::c_long, $a as usize, $b as usize, $c as usize)
    };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr $(,)?) => {
        $crate::sys::raw::s4($nr as core::ffi::c_long, $a as usize, $b as usize, $c as usize, $d as usize)
    };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::sys::raw::s5($nr as core::ffi::c_long, $a as usize, $b as usize, $c as usize, $d as usize, $e as usize)
    };
    ($nr:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => {
        $crate::sys::raw::s6(
            $nr as core::ffi::c_long,
            $a as usize,
            $b as usize,
            $c as usize,
            $d as usize,
            $e as usize,
            $f as usize,
        )
    };
}

/// s0..s6: the system call `nr` with that many arguments, in the
/// registers the kernel reads them from (x86_64: rdi rsi rdx r10 r8 r9,
/// number in rax, rcx and r11 clobbered; aarch64: x0..x5, number in x8).
macro_rules! arity {
    ($name:ident $(, $a:ident : $x86:tt / $arm:tt)*) => {
        /// # Safety
        /// The arguments must be what the kernel expects for `nr` (pointers
        /// to live memory of the right layout and size).
        #[inline(always)]
        pub unsafe fn $name(nr: c_long $(, $a: usize)*) -> c_long {
            let r: c_long;
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the caller's contract; the syscall instruction itself
            // touches no memory of ours but what the arguments name.
            unsafe {
                core::arch::asm!("syscall", inlateout("rax") nr => r, $(in($x86) $a,)*
                    lateout("rcx") _, lateout("r11") _, options(nostack));
            }
            #[cfg(target_arch = "aarch64")]
            // SAFETY: as above.
            unsafe {
                core::arch::asm!("svc 0", in("x8") nr, $(in($arm) $a,)* lateout("x0") r, options(nostack));
            }
            r
        }
    };
}

arity!(s0);
arity!(s1, a: "rdi" / "x0");
arity!(s2, a: "rdi" / "x0", b: "rsi" / "x1");
arity!(s3, a: "rdi" / "x0", b: "rsi" / "x1", c: "rdx" / "x2");
arity!(s4, a: "rdi" / "x0", b: "rsi" / "x1", c: "rdx" / "x2", d: "r10" / "x3");
arity!(s5, a: "rdi" / "x0", b: "rsi" / "x1", c: "rdx" / "x2", d: "r10" / "x3", e: "r8" / "x4");
arity!(s6, a: "rdi" / "x0", b: "rsi" / "x1", c: "rdx" / "x2", d: "r10" / "x3", e: "r8" / "x4", f: "r9" / "x5");

// The entry point (`mydocker_start`, named by build.rs to the linker in
// release builds, instead of crt1's _start): the initial stack pointer to
// `start`, on a 16-byte aligned stack, with a null frame pointer (and
// link register) ending backtraces there. musl's start-up code then never
// runs, and is left out: it sets up what only musl's own functions use
// (errno's thread pointer, locale, stdio, atexit, init/fini arrays).
#[cfg(all(not(any(test, fuzzing)), target_arch = "x86_64"))]
core::arch::global_asm!(
    ".globl mydocker_start",
    ".type mydocker_start, @function",
    "mydocker_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    start = sym super::start,
);
#[cfg(all(not(any(test, fuzzing)), target_arch = "aarch64"))]
core::arch::global_asm!(
    ".globl mydocker_start",
    ".type mydocker_start, %function",
    "mydocker_start:",
    "mov x29, #0",
    "mov x30, #0",
    "mov x0, sp",
    "and sp, x0, #-16",
    "bl {start}",
    "brk #0",
    start = sym super::start,
);
// A test harness built in release mode gets the same linker flag: its
// entry is then crt1's, as usual.
#[cfg(all(any(test, fuzzing), target_arch = "x86_64"))]
core::arch::global_asm!(".globl mydocker_start", "mydocker_start:", "jmp _start");
#[cfg(all(any(test, fuzzing), target_arch = "aarch64"))]
core::arch::global_asm!(".globl mydocker_start", "mydocker_start:", "b _start");
