//! time's `examples/`, built by `cargo test` and run here once each.

#[path = "../../netcore/tests/examples_util/mod.rs"]
mod examples_util;

#[test]
fn time_pair_reads_its_own_clock_over_tcp_and_udp() {
    let out = examples_util::run("time_pair", &["--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("listening on 127.0.0.1:"), "{stdout}");
    // Server and client share one clock: the reading falls within the
    // exchange.
    assert!(
        lines[1].starts_with("TCP: ") && lines[1].ends_with("reading: true"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("UDP: ") && lines[2].ends_with("reading: true"),
        "{stdout}"
    );
}
