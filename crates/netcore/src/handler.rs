//! The traits a protocol implements: [`Server`] makes one [`Handler`] per
//! accepted connection; [`DatagramServer`] answers one datagram at a time.
//!
//! Handlers are sans-IO: they are told what arrived and write what to send
//! into the [`Connection`]; netcore does every system call. The same handler
//! therefore runs on the event loop, in tests without sockets, and on any
//! future engine.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::handle::ConnHandle;

/// What netcore knows about one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// A number unique within one engine run, counting from 1 in accept
    /// order.
    pub id: u64,
    /// The name of the service that accepted it (see
    /// [`Builder::name`](crate::Builder::name)); empty when none was given.
    pub service: Arc<str>,
    /// The client's address, as `accept(2)` reported it (IPv4-mapped IPv6
    /// addresses are turned back into IPv4); `None` where the connection
    /// is not a socket (inetd mode over pipes).
    pub peer: Option<SocketAddr>,
    /// The server's end of the connection, as `getsockname(2)` reports it;
    /// `None` where there is none.
    pub local: Option<SocketAddr>,
}

impl ConnectionInfo {
    /// A connection numbered `id`, with no service name and no addresses
    /// (tests of a handler; pipes).
    pub fn new(id: u64) -> Self {
        ConnectionInfo {
            id,
            service: Arc::from(""),
            peer: None,
            local: None,
        }
    }

    /// The same with the peer's and the local address.
    pub fn with_addrs(mut self, peer: SocketAddr, local: SocketAddr) -> Self {
        self.peer = Some(peer);
        self.local = Some(local);
        self
    }
}

/// What a handler wants done after a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep the connection open and keep reading.
    Continue,
    /// Send what is queued, then close the connection (the server closes:
    /// `shutdown(SHUT_WR)` so the peer sees end-of-file after the last byte,
    /// then `close(2)`). Further input is discarded; if the peer had sent
    /// any, netcore first waits up to 2 s for its end-of-file, so unread
    /// input cannot make the kernel reset the connection under the reply.
    Close,
    /// Close at once, dropping what is queued and what the peer is still
    /// sending (the kernel resets the connection if input is unread): for
    /// input the handler refuses, such as a line over its limit, where
    /// waiting for the rest would only let the peer hold the connection.
    /// Reported as [`CloseReason::Refused`](crate::CloseReason::Refused).
    Abort,
}

/// What a handler asked of netcore during one callback, besides output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Asks {
    /// Call [`Handler::on_drained`] once the queue is low.
    pub drained: bool,
    /// Set (`Some(Some(d))`) or cancel (`Some(None)`) the timer.
    pub timer: Option<Option<Duration>>,
}

/// One connection as a handler sees it: who is on the other end, a queue
/// for the bytes to send, and what to ask of netcore (a call when the
/// queue has drained, a timer, a handle for other threads).
///
/// Bytes written here are sent by netcore as soon as the socket accepts
/// them, in order, after the callback returns.
///
/// netcore makes one for each callback; a test can make one too
/// ([`Connection::new`]) and drive a handler without any socket:
///
/// ```
/// use std::io::Write;
/// use netcore::{Connection, ConnectionInfo, Flow, Handler};
///
/// /// Greets the peer by address, then echoes.
/// struct Greeter;
///
/// impl Handler for Greeter {
///     fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
///         let peer = conn.peer_addr().map_or("?".to_owned(), |a| a.to_string());
///         // `Connection` is also an `io::Write`.
///         let _ = writeln!(conn, "hello, {peer}");
///         Flow::Continue
///     }
///     fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
///         conn.send(data);
///         Flow::Continue
///     }
/// }
///
/// let info = ConnectionInfo::new(1)
///     .with_addrs("192.0.2.7:40000".parse().unwrap(), "127.0.0.1:7".parse().unwrap());
/// let mut out = Vec::new();
/// let mut conn = Connection::new(&info, &mut out);
/// let mut handler = Greeter;
/// assert_eq!(handler.on_open(&mut conn), Flow::Continue);
/// assert_eq!(handler.on_data(&mut conn, b"ping\n"), Flow::Continue);
/// assert_eq!(conn.queued(), 28);
/// assert!(conn.handle().is_none(), "no engine behind a test's connection");
/// assert_eq!(out, b"hello, 192.0.2.7:40000\nping\n");
/// ```
#[derive(Debug)]
pub struct Connection<'a> {
    info: &'a ConnectionInfo,
    out: &'a mut Vec<u8>,
    /// Bytes at the front of `out` the socket already took.
    sent: usize,
    asks: Asks,
    handle: Option<&'a ConnHandle>,
    /// The most bytes the engine wants queued just now (see
    /// [`Connection::room`]).
    limit: usize,
}

impl<'a> Connection<'a> {
    /// A connection view over `info` that queues output in `out`. netcore
    /// makes these; tests of a handler can too (there is no engine behind
    /// it: [`Connection::handle`] is `None`, and what is asked is ignored).
    pub fn new(info: &'a ConnectionInfo, out: &'a mut Vec<u8>) -> Self {
        Connection {
            info,
            out,
            sent: 0,
            asks: Asks::default(),
            handle: None,
            limit: Self::HIGH_WATER,
        }
    }

    /// The engine's view: the first `sent` bytes of `out` were already
    /// written, `handle` reaches this connection from other threads, and
    /// the engine wants at most `limit` bytes queued.
    pub(crate) fn engine(
        info: &'a ConnectionInfo,
        out: &'a mut Vec<u8>,
        sent: usize,
        handle: Option<&'a ConnHandle>,
        limit: usize,
    ) -> Self {
        Connection {
            info,
            out,
            sent,
            asks: Asks::default(),
            handle,
            limit,
        }
    }

    /// What the handler asked during the callback.
    pub(crate) fn asks(&self) -> Asks {
        self.asks
    }

    /// The connection's id, unique within one engine run.
    pub fn id(&self) -> u64 {
        self.info.id
    }

    /// The client's address (`None` for a connection that is not a
    /// socket).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.info.peer
    }

    /// The server's address on this connection (`None` for a connection
    /// that is not a socket).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.info.local
    }

    /// Everything netcore knows about the connection.
    pub fn info(&self) -> &ConnectionInfo {
        self.info
    }

    /// Queue `bytes` to be sent.
    pub fn send(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// How many bytes are queued and not yet accepted by the socket. A
    /// handler that produces (chargen, a file) fills the queue while
    /// [`Connection::room`] says there is room and asks
    /// [`Connection::notify_drained`]; netcore itself stops reading from a
    /// peer whose replies pile up past [`Connection::HIGH_WATER`]
    /// (back-pressure).
    pub fn queued(&self) -> usize {
        self.out.len() - self.sent
    }

    /// How many more bytes a producing handler should queue now: up to
    /// [`Connection::HIGH_WATER`] in all, or only a few KiB while the
    /// engine is over its output budget
    /// ([`Engine::output_budget`](crate::Engine::output_budget)), so that
    /// peers that never read cannot make the server hold 256 KiB each.
    /// Queue more and it is still sent; this is how a producer keeps the
    /// engine's memory bounded.
    ///
    /// ```
    /// use netcore::{Connection, ConnectionInfo};
    ///
    /// let info = ConnectionInfo::new(1);
    /// let mut out = Vec::new();
    /// let mut conn = Connection::new(&info, &mut out);
    /// while conn.room() > 0 {
    ///     let n = conn.room().min(16 * 1024);
    ///     conn.send(&vec![b'x'; n]);
    /// }
    /// assert_eq!(conn.queued(), Connection::HIGH_WATER);
    /// ```
    pub fn room(&self) -> usize {
        self.limit.saturating_sub(self.queued())
    }

    /// Past this many queued bytes netcore stops reading from the peer
    /// until the queue drains; a producing handler stops here too, or
    /// sooner ([`Connection::room`]).
    pub const HIGH_WATER: usize = 256 * 1024;

    /// [`Handler::on_drained`] is called when the queue has fallen to this
    /// many bytes or fewer.
    pub const LOW_WATER: usize = 64 * 1024;

    /// Ask for one call of [`Handler::on_drained`] as soon as the queue is
    /// at or below [`Connection::LOW_WATER`] (at once, after this callback,
    /// if it already is; while the engine is over its output budget, only
    /// once the queue is empty). Ask again from that call to keep
    /// producing: a handler that streams (chargen) sends as fast as the
    /// peer reads, and its memory stays bounded by [`Connection::room`].
    pub fn notify_drained(&mut self) {
        self.asks.drained = true;
    }

    /// Ask for a call of [`Handler::on_timer`] after `delay`, replacing any
    /// timer set before. The engine keeps one min-heap of deadlines per
    /// loop, so a timer costs nothing until it is due.
    pub fn set_timer(&mut self, delay: Duration) {
        self.asks.timer = Some(Some(delay));
    }

    /// Cancel the timer, if one is set.
    pub fn cancel_timer(&mut self) {
        self.asks.timer = Some(None);
    }

    /// A handle that wakes ([`Handler::on_wake`]) or closes this connection
    /// from any thread; `None` outside an engine (a test's view).
    pub fn handle(&self) -> Option<ConnHandle> {
        self.handle.cloned()
    }
}

impl io::Write for Connection<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The per-connection half of a protocol: one value per accepted connection,
/// called by netcore as events happen on that connection only.
///
/// A handler that returns [`Flow::Close`] has its queued output sent and the
/// connection closed. A handler that panics loses only its own connection.
///
/// # Never block in a callback
///
/// Every callback runs on an event loop that serves many connections, one
/// callback at a time: while one callback waits, no other connection of
/// that loop is read, written, accepted or timed out. A `sleep`, a blocking
/// read of a file or a socket, a DNS lookup ([`resolve`](crate::resolve)
/// and [`getaddrinfo`](crate::getaddrinfo) block), a [`Client`](crate::Client)
/// request, a lock held by a slow thread: each stalls every connection on
/// the loop for as long as it lasts, and with one loop, the whole server.
/// A callback should only look at what arrived, queue output and return.
/// Instead of waiting:
///
/// - for time to pass, [`Connection::set_timer`]: [`Handler::on_timer`] is
///   called when it is due;
/// - for slow work (a lookup, a file, a computation), hand it to another
///   thread with the connection's [`Connection::handle`]; when done, the
///   thread leaves its result where the handler can take it and calls
///   [`ConnHandle::wake`], and [`Handler::on_wake`] sends it (the `offload`
///   example does this);
/// - to send more than fits at once (a stream, a file), queue while
///   [`Connection::room`] allows and ask [`Connection::notify_drained`]:
///   [`Handler::on_drained`] is called when the peer has read enough (the
///   `push` example; chargen's server), instead of looping until it is all
///   sent.
///
/// netcore never waits on a socket inside a callback either: output is
/// queued and written when the socket takes it.
///
/// ```
/// use netcore::{Connection, Flow, Handler};
///
/// /// Answers every chunk read with its length, in decimal. A chunk is
/// /// whatever one read returned, not a line or a message: see
/// /// [`LineFramer`](netcore::LineFramer) to answer lines.
/// struct Count;
///
/// impl Handler for Count {
///     fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
///         conn.send(format!("{}\n", data.len()).as_bytes());
///         Flow::Continue
///     }
/// }
/// ```
pub trait Handler: Send + 'static {
    /// The connection was accepted. Write a greeting here (daytime writes
    /// its whole reply and returns [`Flow::Close`]). The default does
    /// nothing and keeps reading.
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        let _ = conn;
        Flow::Continue
    }

    /// Bytes arrived from the peer, in order; `data` is never empty.
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow;

    /// The peer half-closed its side (read returned end-of-file). Whatever
    /// is queued, including what this call queues, is still sent; then the
    /// connection closes. The default queues nothing.
    fn on_eof(&mut self, conn: &mut Connection<'_>) {
        let _ = conn;
    }

    /// The queue fell to [`Connection::LOW_WATER`] or below after the
    /// handler asked with [`Connection::notify_drained`]: produce more (and
    /// ask again). Called only when asked, so handlers that only answer pay
    /// nothing. The default does nothing.
    fn on_drained(&mut self, conn: &mut Connection<'_>) -> Flow {
        let _ = conn;
        Flow::Continue
    }

    /// The timer set with [`Connection::set_timer`] is due. The default
    /// does nothing.
    fn on_timer(&mut self, conn: &mut Connection<'_>) -> Flow {
        let _ = conn;
        Flow::Continue
    }

    /// Another thread called [`ConnHandle::wake`]. The default does
    /// nothing.
    fn on_wake(&mut self, conn: &mut Connection<'_>) -> Flow {
        let _ = conn;
        Flow::Continue
    }

    /// Whether this handler, for now, only echoes: its `on_data` sends back
    /// exactly the bytes it is given, unchanged and in order, and has
    /// nothing else to do with them. Then netcore may echo without calling
    /// `on_data` at all, moving the bytes socket → pipe → socket with
    /// `splice(2)` so they are never copied into user space (stream-mode
    /// echo; not an echo that looks at lines).
    ///
    /// Asked before each read while nothing is queued, so a handler may
    /// turn it on after a greeting, or off. netcore takes the fast path
    /// only on Linux, when the observer does not want the data
    /// ([`Observer::wants_data`](crate::Observer::wants_data)), and when
    /// the kernel splices these sockets; otherwise it calls `on_data` as
    /// usual, which must therefore echo too. While it is taken, `on_data`
    /// is not called, and the peer's end-of-file, the timeouts, the
    /// handle's wake and close, and the byte counts of the `Closed` event
    /// work as on the ordinary path. The default is `false`.
    ///
    /// `splice(2)` into a socket the peer has reset raises `SIGPIPE` (it
    /// has no `MSG_NOSIGNAL`). Rust programs ignore `SIGPIPE` from the
    /// start, so this only matters to a program that restores its default
    /// action: such a program must not turn this on.
    fn passthrough(&self) -> bool {
        false
    }
}

impl<H: Handler + ?Sized> Handler for Box<H> {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        (**self).on_open(conn)
    }
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        (**self).on_data(conn, data)
    }
    fn on_eof(&mut self, conn: &mut Connection<'_>) {
        (**self).on_eof(conn);
    }
    fn on_drained(&mut self, conn: &mut Connection<'_>) -> Flow {
        (**self).on_drained(conn)
    }
    fn on_timer(&mut self, conn: &mut Connection<'_>) -> Flow {
        (**self).on_timer(conn)
    }
    fn on_wake(&mut self, conn: &mut Connection<'_>) -> Flow {
        (**self).on_wake(conn)
    }
    fn passthrough(&self) -> bool {
        (**self).passthrough()
    }
}

/// A TCP service: makes the [`Handler`] for each accepted connection, like
/// Python's `socketserver` instantiates its `RequestHandlerClass` per
/// request.
///
/// One `Server` value is shared by every event-loop thread, hence
/// `Send + Sync`; per-connection state lives in the handler.
///
/// ```
/// use netcore::{Connection, ConnectionInfo, Flow, Handler, Server};
///
/// struct Hello;
/// struct HelloHandler;
///
/// impl Handler for HelloHandler {
///     fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
///         let who = conn.peer_addr().map_or("stranger".to_owned(), |a| a.to_string());
///         conn.send(format!("hello, {who}\n").as_bytes());
///         Flow::Close
///     }
///     fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
///         Flow::Close
///     }
/// }
///
/// impl Server for Hello {
///     type Handler = HelloHandler;
///     fn handler(&self, _conn: &ConnectionInfo) -> HelloHandler {
///         HelloHandler
///     }
/// }
/// ```
pub trait Server: Send + Sync + 'static {
    /// The per-connection handler type.
    type Handler: Handler;

    /// Make the handler for a just-accepted connection. Called on the event
    /// loop, like the handler's callbacks, so it must not block either.
    fn handler(&self, conn: &ConnectionInfo) -> Self::Handler;
}

/// A UDP service: one call per datagram, request bytes and peer in, reply
/// bytes out (the UDP sibling of [`Server`]).
///
/// ```
/// use std::net::SocketAddr;
/// use netcore::DatagramServer;
///
/// struct Upper;
///
/// impl DatagramServer for Upper {
///     fn respond(&self, request: &[u8], _peer: SocketAddr, reply: &mut Vec<u8>) -> bool {
///         reply.extend(request.iter().map(u8::to_ascii_uppercase));
///         true
///     }
/// }
/// ```
pub trait DatagramServer: Send + Sync + 'static {
    /// Answer one datagram from `peer`. `reply` starts empty; return `true`
    /// to send it (even when empty), `false` to send nothing.
    fn respond(&self, request: &[u8], peer: SocketAddr, reply: &mut Vec<u8>) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_queues_output_and_reports_identity() {
        let info = ConnectionInfo::new(7).with_addrs(
            "127.0.0.1:5000".parse().unwrap(),
            "127.0.0.1:7".parse().unwrap(),
        );
        let mut out = Vec::new();
        let mut conn = Connection::new(&info, &mut out);
        conn.send(b"ab");
        io::Write::write_all(&mut conn, b"c").unwrap();
        assert_eq!(conn.queued(), 3);
        assert_eq!(conn.id(), 7);
        assert_eq!(conn.peer_addr().map(|a| a.port()), Some(5000));
        assert!(conn.handle().is_none());
        assert_eq!(out, b"abc");
    }
}
