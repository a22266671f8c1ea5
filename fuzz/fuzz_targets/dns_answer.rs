//! libFuzzer target; the body is `netlab_fuzz::dns_answer`, which the stable
//! test suite replays over fuzz/corpus/dns_answer/.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| netlab_fuzz::dns_answer(data));
