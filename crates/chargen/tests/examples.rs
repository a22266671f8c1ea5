//! chargen's `examples/`, built by `cargo test` and run here once each.

#[path = "../../netcore/tests/examples_util/mod.rs"]
mod examples_util;

#[test]
fn chargen_pair_takes_lines_of_the_pattern_over_tcp_and_udp() {
    let out = examples_util::run("chargen_pair", &["0", "--once", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |n: u64| String::from_utf8_lossy(chargen::line(n)).into_owned();
    let want = format!("TCP:\n{}{}{}UDP:\n{}", line(0), line(1), line(2), line(0));
    let (stdout, want) = (stdout.replace("\r\n", "\n"), want.replace("\r\n", "\n"));
    assert!(stdout.ends_with(&want), "{stdout}");
}
