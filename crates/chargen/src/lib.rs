//! The character generator protocol (RFC 864) for netlab.
//!
//! Over TCP the server sends the classic pattern (72-character lines of
//! the printable ASCII ring, each a character further along, CR LF after
//! each) as fast as the client reads, until the client closes; what the
//! client sends is thrown away. Over UDP every datagram, even an empty
//! one, gets one line back, the next line for the next datagram.
//!
//! The pattern is pure ([`byte_at`], [`window`], [`Generator`], [`verify`]),
//! so the servers, the client's tests and the load generator's verifier
//! share it.
//!
//! ```
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(chargen::Chargen::new())?;
//! let port = running.local_addr().port();
//!
//! // The stream never ends: take the first two lines (the output is full
//! // after them, which ends the client) and hang up.
//! let mut first = [0u8; 148];
//! let err = chargen::receive(&netcore::Client::new(), "127.0.0.1", port, &mut &mut first[..]);
//! assert!(matches!(err, Err(chargen::Error::Output(_))));
//! assert_eq!(first[..], [chargen::line(0), chargen::line(1)].concat());
//! assert!(chargen::verify(0, &first).is_ok());
//! running.shutdown(Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! Memory per connection is bounded: the handler queues slices of the
//! pattern only while netcore says there is room ([`Connection::room`]:
//! up to [`Connection::HIGH_WATER`], 4 KiB while the engine is over its
//! output budget), and asks to be called again when it has drained
//! ([`Connection::notify_drained`]), so a client that never reads costs at
//! most that much, and many of them together about the output budget.
//!
//! # Where to go next
//!
//! - [`Chargen`], the server for both transports; its handler is the model
//!   of a netcore server that pushes.
//! - [`receive`] and [`receive_udp`], the clients, and their [`Error`].
//! - [`Generator`] and [`verify`]: the pattern, pure.
//! - `examples/chargen_pair.rs`: the server and its client in one program,
//!   `cargo run -p netlab-chargen --example chargen_pair -- [PORT] [LINES]`.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod client;
mod ring;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use netcore::{Connection, ConnectionInfo, DatagramServer, Flow, Handler, Server};

pub use client::{Error, receive, receive_udp};
pub use ring::{
    Generator, LINE_CHARS, LINE_LEN, MAX_WINDOW, Mismatch, PERIOD, RING_LEN, byte_at, line, verify,
    window,
};

/// The well-known chargen port (RFC 864).
pub const PORT: u16 = 19;

/// Bytes queued per call to the connection: big enough that queuing costs
/// little per byte, small enough that several fit under the high-water
/// mark.
const CHUNK: usize = 64 * 1024;

/// A chargen server for TCP ([`Server`]) and UDP ([`DatagramServer`]).
#[derive(Debug, Default)]
pub struct Chargen {
    /// The line the next UDP reply carries: one further each datagram, as
    /// OpenBSD's inetd does.
    next_line: AtomicU64,
}

impl Chargen {
    /// A server whose first UDP reply is line 0.
    pub fn new() -> Self {
        Chargen::default()
    }
}

/// One TCP connection of a [`Chargen`] server: the stream from offset 0.
#[derive(Debug, Default)]
pub struct ChargenHandler {
    stream: Generator,
}

impl ChargenHandler {
    /// Queues the stream while there is room and asks to be called again
    /// once the queue has drained.
    fn fill(&mut self, conn: &mut Connection<'_>) -> Flow {
        // Stay at or below the mark: past it netcore stops reading, and
        // the client's end-of-file must still be seen.
        while conn.room() > 0 {
            conn.send(self.stream.next_chunk(conn.room().min(CHUNK)));
        }
        conn.notify_drained();
        Flow::Continue
    }
}

impl Handler for ChargenHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        self.fill(conn)
    }

    fn on_data(&mut self, _conn: &mut Connection<'_>, _data: &[u8]) -> Flow {
        // "Data received is thrown away" (RFC 864).
        Flow::Continue
    }

    // On the client's end-of-file netcore sends what is queued and closes
    // (RFC 864: "until the calling user terminates the connection"); it
    // calls `on_drained` no more, so the stream stops there.

    fn on_drained(&mut self, conn: &mut Connection<'_>) -> Flow {
        self.fill(conn)
    }
}

impl Server for Chargen {
    type Handler = ChargenHandler;

    fn handler(&self, _conn: &ConnectionInfo) -> ChargenHandler {
        ChargenHandler::default()
    }
}

impl DatagramServer for Chargen {
    /// One 74-byte line for any datagram: RFC 864 allows up to 512
    /// characters, and the smallest reply keeps the amplification small.
    fn respond(&self, _request: &[u8], _peer: SocketAddr, reply: &mut Vec<u8>) -> bool {
        let n = self.next_line.fetch_add(1, Ordering::Relaxed);
        reply.extend_from_slice(line(n));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_fills_to_the_mark_and_asks_for_more() {
        let info = ConnectionInfo::new(1);
        let mut handler = Chargen::new().handler(&info);
        let mut out = Vec::new();
        let mut conn = Connection::new(&info, &mut out);
        assert_eq!(handler.on_open(&mut conn), Flow::Continue);
        assert_eq!(conn.queued(), Connection::HIGH_WATER);
        assert_eq!(handler.on_data(&mut conn, b"ignored"), Flow::Continue);
        assert_eq!(conn.queued(), Connection::HIGH_WATER);
        assert!(verify(0, &out).is_ok());
    }

    #[test]
    fn tcp_goes_on_where_it_stopped() {
        let info = ConnectionInfo::new(1);
        let mut handler = Chargen::new().handler(&info);
        let mut first = Vec::new();
        handler.on_open(&mut Connection::new(&info, &mut first));
        let mut more = Vec::new();
        handler.on_drained(&mut Connection::new(&info, &mut more));
        assert!(verify(first.len() as u64, &more).is_ok());
    }

    #[test]
    fn udp_replies_are_one_line_each_advancing() {
        let server = Chargen::new();
        let peer = "127.0.0.1:5000".parse().unwrap();
        for n in 0..200u64 {
            let mut reply = Vec::new();
            let request = if n % 2 == 0 {
                &b""[..]
            } else {
                &[0u8; 1000][..]
            };
            assert!(server.respond(request, peer, &mut reply));
            assert!(reply.len() <= 512);
            assert_eq!(reply, line(n));
        }
    }
}
