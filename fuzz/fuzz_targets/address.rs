//! libFuzzer target; the body is `netlab_fuzz::address`, which the stable
//! test suite replays over fuzz/corpus/address/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netlab_fuzz::address(data));
