#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferry_fuzz::wheel_zip(data));
