//! The traits a protocol implements: [`Server`] makes one [`Handler`] per
//! accepted connection; [`DatagramServer`] answers one datagram at a time.
//!
//! Handlers are sans-IO: they are told what arrived and write what to send
//! into the [`Connection`]; netcore does every system call. The same handler
//! therefore runs on the event loop, in tests without sockets, and on any
//! future engine.

use std::io;
use std::net::SocketAddr;

/// What netcore knows about one accepted connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// A number unique within one server run, counting from 1 in accept order.
    pub id: u64,
    /// The client's address, as `accept(2)` reported it (IPv4-mapped IPv6
    /// addresses are turned back into IPv4).
    pub peer: SocketAddr,
    /// The server's end of the connection, as `getsockname(2)` reports it.
    pub local: SocketAddr,
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
}

/// One connection as a handler sees it: who is on the other end, and a
/// queue for the bytes to send.
///
/// Bytes written here are sent by netcore as soon as the socket accepts
/// them, in order, after the callback returns.
#[derive(Debug)]
pub struct Connection<'a> {
    info: &'a ConnectionInfo,
    out: &'a mut Vec<u8>,
    /// Bytes at the front of `out` the socket already took.
    sent: usize,
}

impl<'a> Connection<'a> {
    /// A connection view over `info` that queues output in `out`. netcore
    /// makes these; tests of a handler can too.
    pub fn new(info: &'a ConnectionInfo, out: &'a mut Vec<u8>) -> Self {
        Connection { info, out, sent: 0 }
    }

    /// A view whose first `sent` bytes of `out` were already written.
    pub(crate) fn with_sent(info: &'a ConnectionInfo, out: &'a mut Vec<u8>, sent: usize) -> Self {
        Connection { info, out, sent }
    }

    /// The connection's id, unique within one server run.
    pub fn id(&self) -> u64 {
        self.info.id
    }

    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.info.peer
    }

    /// The server's address on this connection.
    pub fn local_addr(&self) -> SocketAddr {
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
    /// handler may stop producing while this is large; netcore itself stops
    /// reading from a peer whose replies pile up (backpressure).
    pub fn queued(&self) -> usize {
        self.out.len() - self.sent
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
/// ```
/// use netcore::{Connection, Flow, Handler};
///
/// /// Answers every chunk with its length, in decimal.
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
///         conn.send(format!("hello, {}\n", conn.peer_addr()).as_bytes());
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

    /// Make the handler for a just-accepted connection.
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
        let info = ConnectionInfo {
            id: 7,
            peer: "127.0.0.1:5000".parse().unwrap(),
            local: "127.0.0.1:7".parse().unwrap(),
        };
        let mut out = Vec::new();
        let mut conn = Connection::new(&info, &mut out);
        conn.send(b"ab");
        io::Write::write_all(&mut conn, b"c").unwrap();
        assert_eq!(conn.queued(), 3);
        assert_eq!(conn.id(), 7);
        assert_eq!(conn.peer_addr().port(), 5000);
        assert_eq!(out, b"abc");
    }
}
