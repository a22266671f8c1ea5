//! The echo protocol (RFC 862) for netlab, in two modes.
//!
//! - [`Mode::Stream`] (RFC 862, the default): every byte received is sent
//!   back, until the client closes; then the server closes too.
//! - [`Mode::Line`] (the lecture's `echoserver.py`): read one line, send it
//!   back, close.
//!
//! Over UDP ([`DatagramServer`]) each datagram is answered with the same
//! payload. Both are byte-exact for any bytes.
//!
//! ```
//! use std::time::Duration;
//! use echo::{Echo, Mode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(Echo::new(Mode::Stream))?;
//! let port = running.local_addr().port();
//!
//! let mut out = Vec::new();
//! echo::session(&netcore::Client::new(), "127.0.0.1", port, &b"hello\nworld\n"[..], &mut out)?;
//! assert_eq!(out, b"hello\nworld\n");
//! running.shutdown(Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! # Where to go next
//!
//! - [`Echo`], the server for both transports, and its [`Mode`].
//! - [`session`] and [`session_udp`], the clients, and their [`Error`].
//! - [`LineBuffer`]: line mode's pure state machine, tested without sockets.
//! - `examples/echo_pair.rs`: the server and its client in one program,
//!   `cargo run -p netlab-echo --example echo_pair -- [PORT] hello world`.
//! - netcore's [`Handler`] docs, for how the server is written.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod client;
mod line;

use std::net::SocketAddr;

use netcore::{Connection, ConnectionInfo, DatagramServer, Flow, Handler, Server};

pub use client::{Error, session, session_udp};
pub use line::{LineBuffer, LineStep};

/// The well-known echo port (RFC 862).
pub const PORT: u16 = 7;

/// The longest line line mode accepts by default, newline included.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// How a TCP echo server echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// RFC 862: echo every byte until the client closes.
    #[default]
    Stream,
    /// The lecture's `echoserver.py`: echo one line, then close. A line
    /// longer than the limit closes the connection without a reply; a
    /// partial line cut short by the client's end-of-file is echoed as it
    /// is.
    Line,
}

/// An echo server for TCP ([`Server`]) and UDP ([`DatagramServer`]).
#[derive(Debug, Clone, Copy)]
pub struct Echo {
    mode: Mode,
    max_line: usize,
}

impl Default for Echo {
    fn default() -> Self {
        Echo::new(Mode::Stream)
    }
}

impl Echo {
    /// An echo server in `mode`.
    pub fn new(mode: Mode) -> Self {
        Echo {
            mode,
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// The longest line accepted in line mode, newline included.
    pub fn max_line(mut self, max: usize) -> Self {
        self.max_line = max;
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }
}

/// One TCP connection of an [`Echo`] server.
#[derive(Debug)]
pub enum EchoHandler {
    /// Echoes every byte.
    Stream,
    /// Collecting the one line to echo.
    Line(LineBuffer),
}

impl Handler for EchoHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        match self {
            EchoHandler::Stream => {
                conn.send(data);
                Flow::Continue
            }
            EchoHandler::Line(buf) => match buf.push(data) {
                LineStep::NeedMore => Flow::Continue,
                LineStep::Complete => {
                    conn.send(buf.line());
                    Flow::Close
                }
                // Waiting for the rest of a line we will never echo would
                // only let the client hold the connection.
                LineStep::TooLong => Flow::Abort,
            },
        }
    }

    /// Stream mode sends back every byte unseen, so netcore may echo it in
    /// the kernel (zero-copy, when nothing watches the data); line mode
    /// looks at the bytes.
    fn passthrough(&self) -> bool {
        matches!(self, EchoHandler::Stream)
    }

    fn on_eof(&mut self, conn: &mut Connection<'_>) {
        if let EchoHandler::Line(buf) = self {
            // The client half-closed mid-line: echo what came, as the
            // lecture server does.
            conn.send(buf.line());
        }
    }
}

impl Server for Echo {
    type Handler = EchoHandler;

    fn handler(&self, _conn: &ConnectionInfo) -> EchoHandler {
        match self.mode {
            Mode::Stream => EchoHandler::Stream,
            Mode::Line => EchoHandler::Line(LineBuffer::new(self.max_line)),
        }
    }
}

impl DatagramServer for Echo {
    /// The reply is the request, never larger (no amplification).
    fn respond(&self, request: &[u8], _peer: SocketAddr, reply: &mut Vec<u8>) -> bool {
        reply.extend_from_slice(request);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(server: Echo, chunks: &[&[u8]], eof: bool) -> (Vec<u8>, Flow) {
        let info = ConnectionInfo::new(1);
        let mut handler = server.handler(&info);
        let mut out = Vec::new();
        let mut conn = Connection::new(&info, &mut out);
        let mut flow = handler.on_open(&mut conn);
        for chunk in chunks {
            if flow != Flow::Continue {
                break;
            }
            flow = handler.on_data(&mut conn, chunk);
        }
        if eof && flow == Flow::Continue {
            handler.on_eof(&mut conn);
        }
        (out, flow)
    }

    #[test]
    fn stream_mode_echoes_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let (out, flow) = run(Echo::new(Mode::Stream), &[&all[..100], &all[100..]], true);
        assert_eq!(out, all);
        assert_eq!(flow, Flow::Continue);
    }

    #[test]
    fn only_stream_mode_echoes_unseen() {
        let info = ConnectionInfo::new(1);
        assert!(Echo::new(Mode::Stream).handler(&info).passthrough());
        assert!(!Echo::new(Mode::Line).handler(&info).passthrough());
    }

    #[test]
    fn line_mode_echoes_one_line_and_closes() {
        let (out, flow) = run(
            Echo::new(Mode::Line),
            &[b"Hello, ", b"COS 333. \xc3\xa9\nmore\n"],
            false,
        );
        assert_eq!(out, b"Hello, COS 333. \xc3\xa9\n");
        assert_eq!(flow, Flow::Close);
    }

    #[test]
    fn line_mode_echoes_a_partial_line_at_eof() {
        let (out, _) = run(Echo::new(Mode::Line), &[b"no newline"], true);
        assert_eq!(out, b"no newline");
    }

    #[test]
    fn line_mode_refuses_an_endless_line() {
        let (out, flow) = run(Echo::new(Mode::Line).max_line(8), &[b"0123456789\n"], false);
        assert!(out.is_empty());
        assert_eq!(flow, Flow::Abort);
    }

    #[test]
    fn udp_reply_is_the_request() {
        let mut reply = Vec::new();
        assert!(Echo::default().respond(
            b"\x00\xffabc",
            "127.0.0.1:5000".parse().unwrap(),
            &mut reply
        ));
        assert_eq!(reply, b"\x00\xffabc");
    }
}
