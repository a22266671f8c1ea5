//! netlab: classic client/server network programming in Rust.
//!
//! This facade re-exports the netlab crates under one name:
//!
//! - [`netcore`]: the `Server` trait, the event-loop engine and the `Client`
//!   helper;
//! - [`echo`]: RFC 862, the echo protocol;
//! - [`discard`]: RFC 863, the discard protocol;
//! - [`chargen`]: RFC 864, the character generator;
//! - [`daytime`]: RFC 867, the daytime protocol;
//! - [`time`]: RFC 868, the time protocol.
//!
//! The `netlab` command-line program lives in the `netlab-cli` package.
#![deny(missing_docs)]

pub use chargen;
pub use daytime;
pub use discard;
pub use echo;
pub use netcore;
pub use time;
