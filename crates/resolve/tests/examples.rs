//! resolve's `examples/`, built by `cargo test` and run here once each:
//! only names `/etc/hosts` answers, never the outside network.

#[path = "../../netcore/tests/examples_util/mod.rs"]
mod examples_util;

#[test]
fn resolve_names_looks_up_localhost_both_ways() {
    let out = examples_util::run("resolve_names", &["localhost", "127.0.0.1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    // localhost may map to ::1 as well, in either order.
    let forward = lines[0]
        .strip_prefix("localhost: ")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(forward.split(' ').any(|ip| ip == "127.0.0.1"), "{stdout}");
    assert!(lines[1].starts_with("127.0.0.1: "), "{stdout}");
}
