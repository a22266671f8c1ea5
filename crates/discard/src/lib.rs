//! The discard protocol (RFC 863) for netlab.
//!
//! Over TCP the server reads and throws away everything the client sends,
//! never sends a byte, and closes once the client has closed its side;
//! over UDP it throws every datagram away and never replies. It is the
//! sink to measure how fast a client can send ([`send`]).
//!
//! ```
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(discard::Discard)?;
//! let port = running.local_addr().port();
//!
//! let client = netcore::Client::new();
//! let sent = discard::send(&client, "127.0.0.1", port, &b"into the void\n"[..], &mut std::io::sink())?;
//! assert_eq!(sent, 14);
//! running.shutdown(Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! # Where to go next
//!
//! - [`Discard`], the server for both transports.
//! - [`send`] and [`send_udp`], the clients, and their [`Error`].
//! - `examples/discard_pair.rs`: the server and its client in one program,
//!   `cargo run -p netlab-discard --example discard_pair -- [PORT] [BYTES]`.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod client;

use std::net::SocketAddr;

use netcore::{Connection, ConnectionInfo, DatagramServer, Flow, Handler, Server};

pub use client::{Error, MAX_DATAGRAM, send, send_udp};

/// The well-known discard port (RFC 863).
pub const PORT: u16 = 9;

/// A discard server for TCP ([`Server`]) and UDP ([`DatagramServer`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

/// One TCP connection of a [`Discard`] server: reads until the client's
/// end-of-file, then netcore closes (nothing is ever queued).
#[derive(Debug, Default)]
pub struct DiscardHandler;

impl Handler for DiscardHandler {
    fn on_data(&mut self, _conn: &mut Connection<'_>, _data: &[u8]) -> Flow {
        // "Any data received is thrown away. No response is sent."
        Flow::Continue
    }
}

impl Server for Discard {
    type Handler = DiscardHandler;

    fn handler(&self, _conn: &ConnectionInfo) -> DiscardHandler {
        DiscardHandler
    }
}

impl DatagramServer for Discard {
    /// Never replies: netcore then sends nothing and reports nothing, not
    /// even an error.
    fn respond(&self, _request: &[u8], _peer: SocketAddr, _reply: &mut Vec<u8>) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_sends_nothing_and_keeps_reading() {
        let info = ConnectionInfo::new(1);
        let mut handler = Discard.handler(&info);
        let mut out = Vec::new();
        let mut conn = Connection::new(&info, &mut out);
        assert_eq!(handler.on_open(&mut conn), Flow::Continue);
        assert_eq!(handler.on_data(&mut conn, b"anything\n"), Flow::Continue);
        handler.on_eof(&mut conn);
        assert!(out.is_empty());
    }

    #[test]
    fn udp_never_replies() {
        let mut reply = Vec::new();
        let peer = "127.0.0.1:5000".parse().unwrap();
        assert!(!Discard.respond(b"x", peer, &mut reply));
        assert!(!Discard.respond(b"", peer, &mut reply));
        assert!(reply.is_empty());
    }
}
