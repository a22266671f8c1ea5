//! libFuzzer target; the body is `netlab_fuzz::daytime_time`, which the stable
//! test suite replays over fuzz/corpus/daytime_time/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netlab_fuzz::daytime_time(data));
