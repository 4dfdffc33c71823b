#![no_main]
include!("modules.rs");

// config.json's mapping to the container model: refusals are values, never panics.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::config(data));
