//! Large values in fresh anonymous memory. Its pages read as zeros and
//! cost nothing until written, so a big buffer of which a run uses a few
//! hundred bytes faults in only those pages — unlike a `[x; N]` on the
//! stack, whose every page is probed and filled on every run (rustc builds
//! big constants as stack temporaries and copies them, even into a
//! mapping).
use super::{Errno, Map};

/// Types for which all-zero bytes are a valid value.
///
/// # Safety
/// Implement only for such types: integers, arrays and tuples of them,
/// structs of them, enums whose zero tag (`#[repr(u8)]` or similar, so the
/// layout is defined) names a variant whose fields are all Zeroable.
pub unsafe trait Zeroable {}

// SAFETY: `Insn` is #[repr(C)] { u16, u8, u8, u32 }: integers only.
unsafe impl Zeroable for crate::seccomp::Insn {}
// SAFETY: zero bits are the integer 0.
unsafe impl Zeroable for u32 {}
// SAFETY: seccomp::Work promises (see its doc) that all-zero bytes are a
// valid Work equal to Work::new(): its enums are #[repr(u8)] with the
// zero-field variant first, every other field an integer; checked by
// seccomp's unit test a_zeroed_work_is_work_new.
unsafe impl Zeroable for crate::seccomp::Work {}
// SAFETY: each element is a zeroed T, which is valid.
unsafe impl<T: Zeroable, const N: usize> Zeroable for [T; N] {}
// SAFETY: each field is a zeroed value of a Zeroable type; padding bytes
// may hold anything.
unsafe impl<A: Zeroable, B: Zeroable> Zeroable for (A, B) {}

/// One `T` in a mapping of its own, all zero bytes: nothing is written, so
/// only the pages the caller then touches are faulted in. Never unmapped,
/// like `Map` (mydocker is a one-shot process). Errors: mmap's errno.
pub fn zeroed<T: Zeroable>() -> Result<&'static mut T, Errno> {
    let m = Map::new(core::mem::size_of::<T>(), false)?;
    if core::mem::align_of::<T>() > 4096 {
        return Err(Errno(libc::EINVAL));
    }
    // SAFETY: the mapping is fresh (all zeros, which is a valid T:
    // Zeroable), page-aligned (so aligned for T, checked above), at least
    // size_of::<T>() long, never unmapped, and `m` is forgotten here, so
    // this is the only reference to it.
    Ok(unsafe { &mut *m.ptr.cast::<T>() })
}

#[cfg(test)]
mod tests {
    use crate::seccomp::{compile, Host, Insn, Source, Work, MAX_INSNS};

    /// The Zeroable promise for Work, checked where it matters: a zeroed
    /// Work compiles docker's default profile (rules with every action
    /// and condition kind) exactly as Work::new() does, and the output
    /// buffer needs no filling either.
    #[test]
    fn a_zeroed_work_compiles_as_work_new_does() {
        for host in [Host::X86_64, Host::X86_64NoX32, Host::Aarch64] {
            for caps in [0, (1 << 41) - 1] {
                let (out, w) = super::zeroed::<([Insn; MAX_INSNS], Work)>().unwrap();
                let zeroed = compile(Source::Default, host, caps, out, w).unwrap().insns.to_vec();
                let mut out = vec![Insn { code: 0, jt: 0, jf: 0, k: 0 }; MAX_INSNS];
                let mut w = Box::new(Work::new());
                let new = compile(Source::Default, host, caps, &mut out, &mut w).unwrap().insns.to_vec();
                assert!(new.len() > 100, "the default profile compiles to a real filter");
                assert!(zeroed == new);
            }
        }
    }

    #[test]
    fn zeroed_memory_is_zeros_and_writable() {
        let b = super::zeroed::<[u32; 5000]>().unwrap();
        assert!(b.iter().all(|&x| x == 0));
        b[4999] = 7;
        assert_eq!(b[4999], 7);
    }
}
