//! netlab: classic client/server network programming in Rust.
//!
//! This facade re-exports the netlab crates under one name:
//!
//! - [`netcore`]: the `Server` trait, the event-loop engine and the `Client`
//!   helper;
//! - [`daytime`]: RFC 867, the daytime protocol;
//! - [`echo`]: RFC 862, the echo protocol.
//!
//! The `netlab` command-line program lives in the `netlab-cli` package.
#![deny(missing_docs)]

pub use daytime;
pub use echo;
pub use netcore;
