//! Shared helpers for the cross-crate tests: everything is in
//! `tests/support/peers.rs`, shared with the `netlab` binary's tests.
#![allow(dead_code)]

/// `tests/peers`, the lecture's Python programs, from this package.
const PEERS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers");

#[path = "../support/peers.rs"]
mod peers;
pub use peers::*;
