#![no_main]
include!("modules.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::cli(data));
