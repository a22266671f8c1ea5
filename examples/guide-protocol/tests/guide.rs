//! The "Write your own protocol with netcore" section of docs/guide.md,
//! run: this crate's files are the ones the guide shows, and the guide's
//! commands (`cargo run -p upcase -- 55555`, then clients) do what it
//! says. How the guide marks its blocks: crates/cli/tests/guide/harness.rs.

#[path = "../../../crates/cli/tests/guide/harness.rs"]
mod harness;
#[path = "../../../tests/support/tools.rs"]
mod tools;

use harness::{Runner, blocks, guide};

const SECTION: &str = "Write your own protocol with netcore";

#[test]
fn the_guide_shows_this_crate_and_its_commands_work() {
    if tools::require_tool("ncat", "ncat").is_none()
        || tools::require_tool("python3", "python3").is_none()
    {
        return;
    }
    let mut runner = Runner::new().rewrite("cargo run -p upcase --", env!("CARGO_BIN_EXE_upcase"));
    let blocks = blocks(&guide());
    let ours: Vec<_> = blocks.iter().filter(|b| b.section == SECTION).collect();
    let files = ours.iter().filter(|b| b.info.contains("file=")).count();
    assert_eq!(files, 2, "the guide shows Cargo.toml and src/main.rs");
    for block in ours {
        runner.run(block);
    }
    assert!(runner.ran >= 6, "only {} steps ran", runner.ran);
}
