//! bench's `examples/`, built by `cargo test` and run here once each.

#[path = "../../netcore/tests/examples_util/mod.rs"]
mod examples_util;

#[test]
fn bench_echo_runs_a_short_load_with_every_reply_checked() {
    let out = examples_util::run("bench_echo", &["0.2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].starts_with("listening on 127.0.0.1:"), "{stdout}");
    assert!(lines[1].contains("round trips of 64 bytes"), "{stdout}");
    assert!(lines[1].ends_with(", 0 mismatched"), "{stdout}");
}
