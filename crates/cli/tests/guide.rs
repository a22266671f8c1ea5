//! docs/guide.md, run: every command of the tutorial, so that a change to
//! netlab that breaks a step, or a step edited into one that no longer
//! works, fails here. How the guide marks its blocks: guide/harness.rs.
//!
//! The one-shot commands go to trycmd; the servers, their clients and
//! their logs to the harness. "On two computers" has plain blocks, run by
//! two_hosts.rs in network namespaces; "Write your own protocol" is run by
//! the guide's own crate, examples/guide-protocol.

#[path = "guide/harness.rs"]
mod harness;
#[path = "../../../tests/support/tools.rs"]
mod tools;

use harness::{Block, Runner, blocks, guide};

/// The section the guide's crate runs (it starts that crate's binary).
const OWN_PROTOCOL: &str = "Write your own protocol with netcore";

fn netlab() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_netlab"))
}

fn ours(block: &Block) -> bool {
    block.section != OWN_PROTOCOL
}

/// The tools the guide's clients use besides netlab.
fn tools_present() -> bool {
    tools::require_tool("python3", "python3").is_some()
        && tools::require_tool("ncat", "ncat").is_some()
        && tools::require_tool("socat", "socat").is_some()
}

#[test]
fn the_one_shot_commands_print_what_the_guide_shows() {
    let blocks: Vec<Block> = blocks(&guide()).into_iter().filter(ours).collect();
    let markdown = harness::one_shot_markdown(&blocks);
    assert!(
        markdown.matches("$ ").count() >= 4,
        "the guide lost its one-shot commands:\n{markdown}"
    );
    let dir = std::env::temp_dir().join(format!("netlab-guide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let file = dir.join("guide-one-shot.md");
    std::fs::write(&file, markdown).expect("writing the one-shot commands");
    trycmd::TestCases::new()
        .register_bin("netlab", netlab())
        .env("TZ", "UTC")
        .case(&file)
        .run();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_server_session_runs_as_the_guide_shows() {
    if !tools_present() {
        return;
    }
    let mut runner = Runner::new().bin(&netlab());
    let blocks = blocks(&guide());
    for block in blocks.iter().filter(|b| ours(b)) {
        runner.run(block);
    }
    // Servers, clients and logs: a guide that lost its sessions fails.
    assert!(runner.ran >= 20, "only {} commands ran", runner.ran);
}

#[test]
fn the_own_protocol_section_is_there_for_its_crate() {
    let blocks = blocks(&guide());
    let own: Vec<&Block> = blocks.iter().filter(|b| !ours(b)).collect();
    assert!(
        own.iter().any(|b| b.info == "console server"),
        "docs/guide.md has no \"## {OWN_PROTOCOL}\" with a server: examples/guide-protocol's test would run nothing"
    );
}
