//! libFuzzer target; the body is `netlab_fuzz::udp_request`, which the stable
//! test suite replays over fuzz/corpus/udp_request/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netlab_fuzz::udp_request(data));
