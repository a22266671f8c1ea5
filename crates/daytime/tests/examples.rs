//! daytime's `examples/`, built by `cargo test` and run here once each.

#[path = "../../netcore/tests/examples_util/mod.rs"]
mod examples_util;

#[test]
fn daytime_pair_asks_its_own_server_over_tcp_and_udp() {
    let out = examples_util::run("daytime_pair", &["--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("listening on 127.0.0.1:"), "{stdout}");
    for (line, transport) in lines[1..].iter().zip(["TCP: ", "UDP: "]) {
        let reply = line
            .strip_prefix(transport)
            .unwrap_or_else(|| panic!("{stdout}"));
        // The lecture's format: `Wed Feb 11 16:32:10 2026`.
        assert!(daytime::parse::line(reply).is_ok(), "{reply:?}");
    }
}
