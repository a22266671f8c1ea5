//! The fuzz corpus, replayed on stable: every file under
//! `fuzz/corpus/<target>/` goes through the very function its libFuzzer
//! target runs (fuzz/src/, included here as a module), so an input that
//! once found a bug keeps being tried by the ordinary `cargo test`, with
//! no nightly toolchain. A few hundred random inputs per target follow,
//! as a property. See docs/fuzzing.md.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

#[allow(dead_code, unreachable_pub)]
#[path = "../fuzz/src/lib.rs"]
mod netlab_fuzz;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// Runs every file of `target`'s corpus; says which file failed.
fn replay(target: &str) {
    let (_, run) = netlab_fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("a known target");
    let dir = corpus(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    // A corpus that went missing would pass silently.
    assert!(
        files.len() >= 10,
        "{}: {} files",
        dir.display(),
        files.len()
    );
    for file in &files {
        let data =
            std::fs::read(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(
            outcome.is_ok(),
            "{} failed: replay it with `cargo +nightly fuzz run {target} {}`",
            file.display(),
            file.display()
        );
    }
}

#[test]
fn address_corpus() {
    replay("address");
}

#[test]
fn dns_answer_corpus() {
    replay("dns_answer");
}

#[test]
fn daytime_time_corpus() {
    replay("daytime_time");
}

#[test]
fn udp_request_corpus() {
    replay("udp_request");
}

#[test]
fn every_target_has_a_corpus_and_a_test() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus(""))
        .expect("fuzz/corpus")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    dirs.sort();
    let mut targets: Vec<&str> = netlab_fuzz::TARGETS.iter().map(|(name, _)| *name).collect();
    targets.sort();
    assert_eq!(dirs, targets);
}

// The pure targets take random bytes cheaply; the ones over loopback
// sockets get fewer.
proptest! {
    #[test]
    fn random_addresses(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        netlab_fuzz::address(&data);
    }

    #[test]
    fn random_udp_requests(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        netlab_fuzz::udp_request(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_daytime_and_time_replies(data in proptest::collection::vec(any::<u8>(), 0..40)) {
        netlab_fuzz::daytime_time(&data);
    }

    #[test]
    fn random_dns_answers(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        netlab_fuzz::dns_answer(&data);
    }
}
