#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ferry_fuzz::record_entry_points(data));
