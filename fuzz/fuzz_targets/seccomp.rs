#![no_main]
include!("modules.rs");

// Random profiles: the compiler never panics and every program is valid.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::seccomp(data));
