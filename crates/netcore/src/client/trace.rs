//! [`Trace`]: what a [`Client`](crate::Client) learned while reaching a
//! server (which address answered, from which local address, and when the
//! name was resolved and the connection made), for a caller that reports
//! it, as `netlab connect --json` does. The protocol crates take a
//! `&Client` and connect inside; a trace handed to the client sees those
//! connections without any change to them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A record of the last server a [`Client`](crate::Client) reached. Cheap
/// to clone, and every clone shares the one record: keep one, give
/// another to [`Client::trace`](crate::Client::trace), and read it after
/// the exchange.
///
/// ```
/// # use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
/// # struct Hi;
/// # impl Handler for Hi {
/// #     fn on_open(&mut self, c: &mut Connection<'_>) -> Flow { c.send(b"hi\n"); Flow::Close }
/// #     fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow { Flow::Close }
/// # }
/// # struct HiServer;
/// # impl Server for HiServer {
/// #     type Handler = Hi;
/// #     fn handler(&self, _: &ConnectionInfo) -> Hi { Hi }
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let running = Builder::new("127.0.0.1:0".parse()?).serve(HiServer)?;
/// # let port = running.local_addr().port();
/// let trace = netcore::Trace::new();
/// let client = netcore::Client::new().trace(&trace);
/// let stream = client.connect("127.0.0.1", port)?;
/// let reached = trace.last().expect("connected");
/// assert_eq!(reached.peer, stream.peer_addr());
/// assert_eq!(reached.local, Some(stream.local_addr()?));
/// assert!(reached.started <= reached.resolved && reached.resolved <= reached.connected);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Trace {
    last: Arc<Mutex<Option<Reached>>>,
}

/// A server a [`Client`](crate::Client) reached: over TCP, a connection
/// made; over UDP, a socket connected to the server's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reached {
    /// The server's address: the one that accepted, of all those the name
    /// resolved to.
    pub peer: SocketAddr,
    /// This end's address, when the system said (`getsockname(2)`).
    pub local: Option<SocketAddr>,
    /// When resolving the name began.
    pub started: Instant,
    /// When the name was resolved.
    pub resolved: Instant,
    /// When the connection was made (after every address tried before
    /// it). UDP: when the socket was connected, which sends nothing.
    pub connected: Instant,
}

impl Trace {
    /// An empty record.
    pub fn new() -> Self {
        Trace::default()
    }

    /// The last server reached through a client holding this trace, if any.
    pub fn last(&self) -> Option<Reached> {
        // A poisoned lock still holds a whole `Reached` (it is `Copy`,
        // written in one assignment).
        match self.last.lock() {
            Ok(last) => *last,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    pub(crate) fn record(&self, reached: Reached) {
        match self.last.lock() {
            Ok(mut last) => *last = Some(reached),
            Err(poisoned) => *poisoned.into_inner() = Some(reached),
        }
    }
}
