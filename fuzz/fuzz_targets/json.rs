#![no_main]
include!("modules.rs");

// The JSON reader against serde_json: same verdict, same values, no panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::json(data));
