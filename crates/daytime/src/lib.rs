//! The daytime protocol (RFC 867) for netlab.
//!
//! Over TCP the server sends one line with the date and time and closes the
//! connection; over UDP it answers every datagram, even an empty one, with
//! that line. What the client sends is ignored. The line is computed by
//! [`DaytimeFormat::line`] from a [`Clock`]: pure, so TCP, UDP and tests
//! share it.
//!
//! ```
//! use std::time::Duration;
//! use chrono::{TimeZone, Utc};
//! use daytime::{Daytime, DaytimeFormat, FixedClock};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = FixedClock(Utc.with_ymd_and_hms(2026, 2, 11, 16, 32, 10).unwrap().into());
//! let server = Daytime::new(DaytimeFormat::lecture().utc(true)).clock(clock);
//! let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(server)?;
//!
//! let mut reply = Vec::new();
//! daytime::query(&netcore::Client::new(), "127.0.0.1", running.local_addr().port(), &mut reply)?;
//! assert_eq!(reply, b"Wed Feb 11 16:32:10 2026\n");
//! running.shutdown(Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! The client side, [`query`] and [`query_udp`], prints whatever the server
//! sends, byte for byte: real servers differ (inetd ends with CRLF, NIST
//! starts with a blank line), so it assumes no format. To read the time
//! out of a reply, in the formats real servers send, see [`parse`]; [`fetch`]
//! and [`fetch_udp`] take the reply with the local clock around it.
//!
//! # Where to go next
//!
//! - [`Daytime`], the server for both transports, and [`DaytimeFormat`]
//!   for the line it sends.
//! - [`query`], [`query_udp`], [`fetch`] and [`fetch_udp`], the clients,
//!   and their [`Error`]; [`parse`] to read a reply.
//! - `examples/daytime_pair.rs`: the server and its client in one program,
//!   `cargo run -p netlab-daytime --example daytime_pair -- [PORT]`.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod format;
pub mod parse;
mod timed;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use netcore::{Client, Connection, ConnectionInfo, DatagramServer, Flow, Handler, Server};

pub use format::{ASCTIME, DaytimeFormat, FormatError, LineEnding};
/// The clock a server reads (netcore's, shared with the other time
/// protocols), re-exported for convenience.
pub use netcore::{Clock, FixedClock, SystemClock};
pub use timed::{TimedReply, fetch, fetch_udp};

/// The well-known daytime port (RFC 867).
pub const PORT: u16 = 13;

/// A line and the Unix second it was made for.
type CachedLine = (i64, Arc<str>);

/// A daytime server for TCP ([`Server`]) and UDP ([`DatagramServer`]).
#[derive(Clone)]
pub struct Daytime {
    format: DaytimeFormat,
    clock: Arc<dyn Clock>,
    /// The last line made and the second it is for: formatting local time
    /// costs more than the rest of a daytime connection's user-space work,
    /// and a busy server answers many clients within one second.
    cache: Arc<Mutex<Option<CachedLine>>>,
    /// The format shows nothing finer than seconds, so the cache is valid.
    cacheable: bool,
}

impl std::fmt::Debug for Daytime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daytime")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Default for Daytime {
    fn default() -> Self {
        Daytime::new(DaytimeFormat::lecture())
    }
}

impl Daytime {
    /// A server answering with `format`, on the system clock.
    pub fn new(format: DaytimeFormat) -> Self {
        Daytime {
            // Sub-second specifiers (%f, %.3f, ...) all contain an `f`.
            cacheable: !format.strftime_str().contains('f'),
            format,
            clock: Arc::new(SystemClock),
            cache: Arc::new(Mutex::new(None)),
        }
    }

    /// Read the time from `clock` instead (tests use [`FixedClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self.cache = Arc::new(Mutex::new(None));
        self
    }

    /// The line this server would send now.
    pub fn line(&self) -> Arc<str> {
        let now: chrono::DateTime<chrono::Utc> = self.clock.now().into();
        if !self.cacheable {
            return self.format.line(now).into();
        }
        let second = now.timestamp();
        let Ok(mut cache) = self.cache.lock() else {
            return self.format.line(now).into();
        };
        match &*cache {
            Some((at, line)) if *at == second => line.clone(),
            _ => {
                let line: Arc<str> = self.format.line(now).into();
                *cache = Some((second, line.clone()));
                line
            }
        }
    }
}

/// One TCP connection of a [`Daytime`] server: greets with the line and
/// closes.
#[derive(Debug)]
pub struct DaytimeHandler {
    line: Arc<str>,
}

impl Handler for DaytimeHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        conn.send(self.line.as_bytes());
        Flow::Close
    }

    fn on_data(&mut self, _conn: &mut Connection<'_>, _data: &[u8]) -> Flow {
        // "any data received is thrown away" (RFC 867).
        Flow::Close
    }
}

impl Server for Daytime {
    type Handler = DaytimeHandler;

    fn handler(&self, _conn: &ConnectionInfo) -> DaytimeHandler {
        DaytimeHandler { line: self.line() }
    }
}

impl DatagramServer for Daytime {
    fn respond(&self, _request: &[u8], _peer: SocketAddr, reply: &mut Vec<u8>) -> bool {
        reply.extend_from_slice(self.line().as_bytes());
        true
    }
}

/// What went wrong in a daytime client.
///
/// The message says what was being done; the cause is the
/// [`source`](std::error::Error::source): print the chain (anyhow's `{:#}`)
/// to see both, each once (`connecting to 127.0.0.1:13: connection
/// refused`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reaching or reading from the server failed: netcore's error,
    /// message and source as they are.
    #[error(transparent)]
    Net(#[from] netcore::Error),
    /// Writing the reply to the output failed.
    #[error("writing the reply")]
    Output(#[source] io::Error),
    /// The server sent more than a daytime line can be ([`fetch`]).
    #[error("the server sent more than {limit} bytes; a daytime reply is one line")]
    TooLong {
        /// The most [`fetch`] takes.
        limit: usize,
    },
}

/// Connects to `host:port` over TCP and copies everything the server sends
/// to `out`, until the server closes. Returns the number of bytes.
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(daytime::Daytime::default())?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().timeout(Some(Duration::from_secs(5)));
/// let mut reply = Vec::new();
/// let n = daytime::query(&client, "127.0.0.1", port, &mut reply)?;
/// assert_eq!(n as usize, reply.len());
/// // The lecture's format, by default: `Wed Feb 11 16:32:10 2026`.
/// assert!(daytime::parse::reply(&reply).is_ok());
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn query(client: &Client, host: &str, port: u16, out: &mut dyn Write) -> Result<u64, Error> {
    let stream = client.connect(host, port)?;
    stream.receive_until_closed(&mut [0u8; 4096], |chunk| {
        out.write_all(chunk).map_err(Error::Output)?;
        out.flush().map_err(Error::Output)
    })
}

/// Sends one empty datagram to `host:port` and copies the reply to `out`
/// (with the client's read timeout and retries).
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = daytime::Daytime::default();
/// let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(server)?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().read_timeout(Some(Duration::from_secs(1)));
/// let mut reply = Vec::new();
/// daytime::query_udp(&client, "127.0.0.1", port, &mut reply)?;
/// assert!(reply.ends_with(b"\n"));
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn query_udp(
    client: &Client,
    host: &str,
    port: u16,
    out: &mut dyn Write,
) -> Result<u64, Error> {
    let reply = client.request(host, port, b"")?;
    out.write_all(&reply).map_err(Error::Output)?;
    out.flush().map_err(Error::Output)?;
    Ok(reply.len() as u64)
}
