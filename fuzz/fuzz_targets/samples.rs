//! cargo-fuzz entry of the `samples` target (see tests/integration/fuzz/targets.rs).
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/integration/fuzz/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::samples(data));
