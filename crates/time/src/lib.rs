//! The time protocol (RFC 868) for netlab.
//!
//! A time server tells "the time in seconds since midnight on January
//! first 1900" as a 32-bit binary number in network byte order. Over TCP
//! it sends the 4 bytes and closes; over UDP it answers any datagram, even
//! an empty one, with them. The value is computed by [`to_rfc868`] and
//! read back by [`from_rfc868`]: pure, so TCP, UDP and tests share them,
//! and the 2036 wrap of the 32-bit count is handled in one place.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use time::{FixedClock, Time};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // 2026-02-11 16:32:10 UTC.
//! let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_770_827_530);
//! let server = Time::new().clock(FixedClock(at));
//! let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(server)?;
//!
//! let reading = time::query(&netcore::Client::new(), "127.0.0.1", running.local_addr().port())?;
//! assert_eq!(reading.raw, 1_770_827_530 + 2_208_988_800);
//! assert_eq!(reading.time(), at);
//! running.shutdown(Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! The client side, [`query`] and [`query_udp`], returns a [`Reading`]:
//! the value and the local clock around the exchange, from which a caller
//! can estimate how far the two clocks are apart.
//!
//! # Where to go next
//!
//! - [`Time`], the server for both transports, with any [`Clock`].
//! - [`query`] and [`query_udp`], the clients; [`Reading`] and [`Error`].
//! - [`to_rfc868`] and [`from_rfc868`]: the 32-bit count and its 2036 wrap.
//! - `examples/time_pair.rs`: the server and its client in one program,
//!   `cargo run -p netlab-time --example time_pair -- [PORT]`.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod client;
mod rfc868;

use std::net::SocketAddr;
use std::sync::Arc;

use netcore::{Connection, ConnectionInfo, DatagramServer, Flow, Handler, Server};

pub use client::{Error, Reading, query, query_udp};
/// The clock a server reads (netcore's, shared with daytime),
/// re-exported for convenience.
pub use netcore::{Clock, FixedClock, SystemClock};
pub use rfc868::{UNIX_EPOCH_RFC868, before_1900, from_rfc868, reply, to_rfc868};

/// The well-known time port (RFC 868).
pub const PORT: u16 = 37;

/// A time server for TCP ([`Server`]) and UDP ([`DatagramServer`]).
#[derive(Clone)]
pub struct Time {
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Time").finish_non_exhaustive()
    }
}

impl Default for Time {
    fn default() -> Self {
        Time::new()
    }
}

impl Time {
    /// A server on the system clock.
    pub fn new() -> Self {
        Time {
            clock: Arc::new(SystemClock),
        }
    }

    /// Read the time from `clock` instead (tests use [`FixedClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The 4 bytes this server would send now, or `None` when its clock
    /// cannot be told in RFC 868 (before 1900).
    pub fn reply(&self) -> Option<[u8; 4]> {
        reply(self.clock.now())
    }
}

/// One TCP connection of a [`Time`] server: greets with the 4 bytes (or
/// nothing, when the clock is before 1900) and closes.
#[derive(Debug)]
pub struct TimeHandler {
    reply: Option<[u8; 4]>,
}

impl Handler for TimeHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        if let Some(bytes) = self.reply {
            conn.send(&bytes);
        }
        Flow::Close
    }

    fn on_data(&mut self, _conn: &mut Connection<'_>, _data: &[u8]) -> Flow {
        // The client has nothing to say in RFC 868.
        Flow::Close
    }
}

impl Server for Time {
    type Handler = TimeHandler;

    fn handler(&self, _conn: &ConnectionInfo) -> TimeHandler {
        TimeHandler {
            reply: self.reply(),
        }
    }
}

impl DatagramServer for Time {
    fn respond(&self, _request: &[u8], _peer: SocketAddr, reply: &mut Vec<u8>) -> bool {
        match self.reply() {
            Some(bytes) => {
                reply.extend_from_slice(&bytes);
                true
            }
            // "it should discard the arriving datagram and make no reply".
            None => false,
        }
    }
}
