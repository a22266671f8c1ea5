//! echo's `examples/`, built by `cargo test` and run here once each.

#[path = "../../netcore/tests/examples_util/mod.rs"]
mod examples_util;

fn stdout_of(args: &[&str]) -> String {
    let out = examples_util::run("echo_pair", args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn echo_pair_gets_every_line_back_over_tcp_and_udp() {
    let stdout = stdout_of(&["--once", "hello", "world"]);
    let rest = stdout.split_once('\n').map(|(first, rest)| {
        assert!(first.starts_with("listening on 127.0.0.1:"), "{stdout}");
        rest
    });
    assert_eq!(rest, Some("TCP:\nhello\nworld\nUDP:\nhello\nworld\n"));
}

#[test]
fn echo_pair_in_line_mode_echoes_one_line_over_tcp() {
    let stdout = stdout_of(&["0", "--line", "--once", "hi", "there"]);
    assert!(stdout.ends_with("TCP:\nhi\nUDP:\nhi\nthere\n"), "{stdout}");
}
