//! The bodies of netlab's fuzz targets, one function per target, each
//! taking arbitrary bytes and panicking only on a bug: a panic inside
//! netlab, or a broken invariant asserted here.
//!
//! The same functions run in two places: under libFuzzer
//! (`cargo +nightly fuzz run address`, fuzz_targets/), and on stable in
//! the ordinary test suite, which replays every file of
//! `fuzz/corpus/<target>/` through them (tests/fuzz_corpus.rs at the root,
//! which includes this file as a module). See docs/fuzzing.md.
//!
//! Nothing here leaves the machine: host names are literals, refused
//! text or names under `.invalid`, and the servers the DNS and time
//! clients talk to are ours, on 127.0.0.1 ([`responder`]).

mod address;
mod daytime_time;
mod dns_answer;
mod responder;
mod udp_request;

pub use address::address;
pub use daytime_time::daytime_time;
pub use dns_answer::dns_answer;
pub use udp_request::udp_request;

/// A target's body: bytes in, a panic only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, as its folder under `fuzz/corpus/` is named.
pub const TARGETS: [(&str, Target); 4] = [
    ("address", address),
    ("dns_answer", dns_answer),
    ("daytime_time", daytime_time),
    ("udp_request", udp_request),
];

/// A number from the first bytes of `data` (missing bytes are 0), and
/// the rest.
fn take<const N: usize>(data: &[u8]) -> ([u8; N], &[u8]) {
    let mut head = [0u8; N];
    let n = data.len().min(N);
    head[..n].copy_from_slice(&data[..n]);
    (head, &data[n..])
}
