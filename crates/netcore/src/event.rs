//! Lifecycle events and the [`Observer`] that receives them.
//!
//! netcore never prints and never installs a logger: it tells an observer
//! the caller supplies. The `netlab` binary renders events as the lecture's
//! lines; a library user might forward them to `log`.

use std::io;
use std::net::SocketAddr;

use crate::handler::ConnectionInfo;

/// The transport a server socket carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A TCP stream socket.
    Tcp,
    /// A UDP datagram socket.
    Udp,
}

/// Why a connection was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The handler asked to close ([`Flow::Close`](crate::Flow::Close)).
    Handler,
    /// The peer closed its side and the handler had nothing more to send.
    PeerClosed,
    /// No byte moved in either direction for the idle timeout.
    IdleTimeout,
    /// The peer sent nothing for the read timeout.
    ReadTimeout,
    /// Queued output made no progress for the write timeout.
    WriteTimeout,
    /// A read or write failed (reset by the peer, ...); an
    /// [`Event::Error`] came first.
    Error,
    /// The handler panicked.
    HandlerPanic,
    /// The handler refused the peer's input ([`Flow::Abort`](crate::Flow::Abort)).
    Refused,
    /// The server shut down and the drain deadline passed.
    Shutdown,
}

/// Something that happened in a server. Borrowed data lives only for the
/// call; copy what you keep.
///
/// Events come to the [`Observer`] given to
/// [`Builder::observer`](crate::Builder::observer), in order for any one
/// connection. Their `Display` is one line of the server's log:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use netcore::{Builder, CloseReason, Connection, ConnectionInfo, Event, Flow, Handler, Server};
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
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let running = Builder::new("127.0.0.1:0".parse()?)
///     .observer(move |event: &Event<'_>| {
///         // Copy out what to keep: the event borrows from the server.
///         let what = match event {
///             Event::Listening { .. } => "listening".to_owned(),
///             Event::Accepted { conn } => format!("accepted #{}", conn.id),
///             Event::Closed { conn, reason: CloseReason::Handler, bytes_out, .. } => {
///                 format!("closed #{} after {bytes_out} bytes", conn.id)
///             }
///             other => format!("{other}"),
///         };
///         log.lock().unwrap().push(what);
///     })
///     .serve(HiServer)?;
///
/// let mut stream = netcore::Client::new().connect_addr(running.local_addr())?;
/// std::io::Read::read_to_end(&mut stream, &mut Vec::new())?;
/// running.shutdown(Duration::from_secs(1));
///
/// let seen = seen.lock().unwrap();
/// assert!(seen.contains(&"listening".to_owned()));
/// let accepted = seen.iter().position(|e| e == "accepted #1").unwrap();
/// let closed = seen.iter().position(|e| e == "closed #1 after 3 bytes").unwrap();
/// assert!(accepted < closed);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// `socket(2)` created the server socket.
    Opened {
        /// The service's name (empty when none was given).
        service: &'a str,
        /// TCP or UDP.
        transport: Transport,
        /// The address it will be bound to.
        addr: SocketAddr,
    },
    /// `bind(2)` succeeded; `addr` has the real port when 0 was asked.
    Bound {
        /// The service's name (empty when none was given).
        service: &'a str,
        /// TCP or UDP.
        transport: Transport,
        /// The bound address.
        addr: SocketAddr,
    },
    /// `listen(2)` succeeded (TCP), or the UDP socket is ready to receive.
    Listening {
        /// The service's name (empty when none was given).
        service: &'a str,
        /// TCP or UDP.
        transport: Transport,
        /// The bound address.
        addr: SocketAddr,
    },
    /// A connection was accepted.
    Accepted {
        /// The new connection.
        conn: &'a ConnectionInfo,
    },
    /// Bytes were read from a connection.
    Read {
        /// The connection.
        conn: &'a ConnectionInfo,
        /// The bytes, as read.
        data: &'a [u8],
    },
    /// Bytes were written to a connection (accepted by the kernel).
    Wrote {
        /// The connection.
        conn: &'a ConnectionInfo,
        /// The bytes written by one `write(2)`.
        data: &'a [u8],
    },
    /// A connection was closed.
    Closed {
        /// The connection.
        conn: &'a ConnectionInfo,
        /// Why.
        reason: CloseReason,
        /// Bytes read from the peer over the connection's life.
        bytes_in: u64,
        /// Bytes written to the peer over the connection's life.
        bytes_out: u64,
    },
    /// A connection was accepted and closed at once by a limit (per
    /// source, or the slots kept for new sources), before any handler.
    Rejected {
        /// The service's name.
        service: &'a str,
        /// The client.
        peer: SocketAddr,
        /// Which limit (`per-source limit`, ...).
        why: &'static str,
    },
    /// A datagram arrived and was answered.
    Datagram {
        /// The service's name.
        service: &'a str,
        /// The sender, who gets the reply.
        peer: SocketAddr,
        /// The request's payload.
        request: &'a [u8],
        /// The reply's payload.
        reply: &'a [u8],
    },
    /// A datagram was dropped without a reply by the UDP safety policy.
    Refused {
        /// The service's name.
        service: &'a str,
        /// The sender.
        peer: SocketAddr,
        /// Why (`privileged source port`, `rate limit`, ...).
        why: &'static str,
    },
    /// An error the server survived: a failed read or write (closes only
    /// that connection), a transient `accept(2)` error (backs off and
    /// retries), a handler panic.
    Error {
        /// The service concerned (empty for the engine as a whole).
        service: &'a str,
        /// The connection concerned, if any.
        conn: Option<&'a ConnectionInfo>,
        /// What was being done (`accepting`, `reading from`, ...).
        op: &'static str,
        /// The error.
        error: &'a io::Error,
    },
    /// Shutdown began: the server stopped accepting.
    ShuttingDown {
        /// Connections still open.
        open: usize,
    },
    /// The server stopped; every socket is closed.
    Stopped,
}

impl Event<'_> {
    /// The name of the service the event is about
    /// ([`Builder::name`](crate::Builder::name)), or `None` for the
    /// engine-wide `ShuttingDown` and `Stopped`.
    ///
    /// ```
    /// use netcore::{Event, Transport};
    /// let event = Event::Listening {
    ///     service: "echo",
    ///     transport: Transport::Tcp,
    ///     addr: "127.0.0.1:7".parse().unwrap(),
    /// };
    /// assert_eq!(event.service(), Some("echo"));
    /// assert_eq!(Event::Stopped.service(), None);
    /// ```
    pub fn service(&self) -> Option<&str> {
        match self {
            Event::Opened { service, .. }
            | Event::Bound { service, .. }
            | Event::Listening { service, .. }
            | Event::Rejected { service, .. }
            | Event::Datagram { service, .. }
            | Event::Refused { service, .. }
            | Event::Error { service, .. } => Some(service),
            Event::Accepted { conn }
            | Event::Read { conn, .. }
            | Event::Wrote { conn, .. }
            | Event::Closed { conn, .. } => Some(&conn.service),
            Event::ShuttingDown { .. } | Event::Stopped => None,
        }
    }
}

/// Receives a server's [`Event`]s. Called on the event-loop threads, so
/// keep it quick; it must not block.
///
/// Any `Fn(&Event<'_>)` closure that is `Send + Sync` is an observer (of
/// every event but [`Event::Read`], [`Event::Wrote`] and
/// [`Event::Datagram`], unless wrapped in [`WithData`](crate::WithData)):
///
/// ```
/// use netcore::{Event, Observer};
/// let obs = |e: &Event<'_>| {
///     if let Event::Accepted { conn } = e {
///         let _ = conn.peer;
///     }
/// };
/// obs.event(&Event::Stopped);
/// ```
pub trait Observer: Send + Sync + 'static {
    /// Handle one event.
    fn event(&self, event: &Event<'_>);

    /// Whether this observer wants [`Event::Read`], [`Event::Wrote`] and
    /// [`Event::Datagram`]. When `false` netcore skips building them, which
    /// keeps the hot path lean. Defaults to `true`.
    fn wants_data(&self) -> bool {
        true
    }
}

impl<F> Observer for F
where
    F: Fn(&Event<'_>) + Send + Sync + 'static,
{
    fn event(&self, event: &Event<'_>) {
        self(event)
    }

    /// A closure is told of every event but the data ones, whose bytes
    /// cost a callback per read and write; wrap it in
    /// [`WithData`](crate::WithData) to get them too.
    fn wants_data(&self) -> bool {
        false
    }
}
