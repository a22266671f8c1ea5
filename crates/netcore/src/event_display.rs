//! How events read: [`Event`] and [`CloseReason`] as one line of text
//! each, for logs (the `log` observer, a library user's own).

use std::fmt;
use std::net::SocketAddr;

use crate::event::{CloseReason, Event, Transport};

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloseReason::Handler => "closed by the server",
            CloseReason::PeerClosed => "closed by the client",
            CloseReason::IdleTimeout => "idle timeout",
            CloseReason::ReadTimeout => "read timeout",
            CloseReason::WriteTimeout => "write timeout",
            CloseReason::Error => "I/O error",
            CloseReason::HandlerPanic => "the handler panicked",
            CloseReason::Refused => "input refused by the handler",
            CloseReason::Shutdown => "server shutting down",
        })
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "TCP",
            Transport::Udp => "UDP",
        })
    }
}

/// `echo: ` for a named service, nothing for an unnamed one.
struct Name<'a>(&'a str);

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "{}: ", self.0)
        }
    }
}

/// A peer's address, or what stands for none (a pipe in inetd mode).
struct Peer(Option<SocketAddr>);

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("a pipe"),
        }
    }
}

/// One line, without the data bytes themselves (their count instead).
///
/// ```
/// let event = netcore::Event::ShuttingDown { open: 3 };
/// assert_eq!(event.to_string(), "shutting down, 3 connections open");
/// ```
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Opened {
                service,
                transport,
                addr,
            } => write!(f, "{}opened a {transport} socket for {addr}", Name(service)),
            Event::Bound {
                service,
                transport,
                addr,
            } => write!(f, "{}bound {transport} {addr}", Name(service)),
            Event::Listening {
                service,
                transport,
                addr,
            } => write!(f, "{}listening on {transport} {addr}", Name(service)),
            Event::Accepted { conn } => write!(
                f,
                "{}connection {} from {} accepted",
                Name(&conn.service),
                conn.id,
                Peer(conn.peer)
            ),
            Event::Read { conn, data } => write!(
                f,
                "{}connection {}: read {} bytes",
                Name(&conn.service),
                conn.id,
                data.len()
            ),
            Event::Wrote { conn, data } => write!(
                f,
                "{}connection {}: wrote {} bytes",
                Name(&conn.service),
                conn.id,
                data.len()
            ),
            Event::Closed {
                conn,
                reason,
                bytes_in,
                bytes_out,
            } => write!(
                f,
                "{}connection {} from {} closed: {reason} ({bytes_in} bytes in, {bytes_out} out)",
                Name(&conn.service),
                conn.id,
                Peer(conn.peer)
            ),
            Event::Rejected { service, peer, why } => {
                write!(f, "{}connection from {peer} refused: {why}", Name(service))
            }
            Event::Datagram {
                service,
                peer,
                request,
                reply,
            } => write!(
                f,
                "{}datagram from {peer}: {} bytes in, {} out",
                Name(service),
                request.len(),
                reply.len()
            ),
            Event::Refused { service, peer, why } => {
                write!(f, "{}datagram from {peer} refused: {why}", Name(service))
            }
            Event::Error {
                service,
                conn: Some(c),
                op,
                error,
            } => write!(
                f,
                "{}{op} connection {} from {}: {}",
                Name(service),
                c.id,
                Peer(c.peer),
                crate::error::describe(error)
            ),
            Event::Error {
                service,
                conn: None,
                op,
                error,
            } => write!(
                f,
                "{}{op}: {}",
                Name(service),
                crate::error::describe(error)
            ),
            Event::ShuttingDown { open } => {
                write!(f, "shutting down, {open} connections open")
            }
            Event::Stopped => f.write_str("stopped"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::ConnectionInfo;
    use std::sync::Arc;

    #[test]
    fn events_read_as_one_line() {
        let mut info = ConnectionInfo::new(7).with_addrs(
            "127.0.0.1:5000".parse().unwrap(),
            "127.0.0.1:7".parse().unwrap(),
        );
        info.service = Arc::from("echo");
        let closed = Event::Closed {
            conn: &info,
            reason: CloseReason::IdleTimeout,
            bytes_in: 3,
            bytes_out: 3,
        };
        assert_eq!(
            closed.to_string(),
            "echo: connection 7 from 127.0.0.1:5000 closed: idle timeout (3 bytes in, 3 out)"
        );
        let error = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let event = Event::Error {
            service: "",
            conn: None,
            op: "accepting a connection",
            error: &error,
        };
        assert!(!event.to_string().contains('\n'));
        assert!(event.to_string().starts_with("accepting a connection: "));
    }
}
