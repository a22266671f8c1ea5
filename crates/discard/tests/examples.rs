//! discard's `examples/`, built by `cargo test` and run here once each.

#[path = "../../netcore/tests/examples_util/mod.rs"]
mod examples_util;

#[test]
fn discard_pair_sends_everything_and_gets_nothing_back() {
    let out = examples_util::run("discard_pair", &["0", "--once", "100000"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with(
            "TCP: 100000 bytes sent and read by the server, 0 came back\n\
             UDP: 8 bytes sent in 2 datagrams, no reply expected\n"
        ),
        "{stdout}"
    );
}
