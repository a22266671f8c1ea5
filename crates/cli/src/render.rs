//! How `netlab serve` prints what happens: the lecture's lines, with the
//! lecture's words, one flushed line at a time.
//!
//! Every line the log makes, errors included, goes through [`Output`]'s
//! bounded queues to writer threads: the event loops that make the lines
//! never wait for stdout or stderr.
//!
//! A flood of datagrams the UDP policy refuses (spoofed sources, a loop)
//! would otherwise print a line each: at most [`REFUSED_PER_SECOND`] lines
//! per second are printed for each reason, and the rest are counted in one
//! line once the second has passed.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use netcore::{CloseReason, Event, Observer};

use log::Level;

use crate::logging;

mod refusals;

pub use refusals::Refusals;

/// Bytes of data shown in a `Read from client:` line before it is cut.
const SHOW_MAX: usize = 200;

/// `Refused datagram` lines printed per second for one reason, at most.
pub const REFUSED_PER_SECOND: u32 = 5;

/// What a protocol's server log shows beyond the lines every server
/// prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogStyle {
    /// Print TCP data lines (`Read from client:`, `Wrote to client:`) and
    /// a UDP request's; the lecture's daytime server prints none.
    pub show_data: bool,
    /// The server is an echo server in line mode: a client that sends
    /// nothing "crashed", in the lecture's words.
    pub line_mode: bool,
}

/// Renders server events as the lecture's `daytimeserver.py` and
/// `echoserver.py` lines, as records of the `log` facade with their
/// fields (see [`crate::logging`]: the logger decides what is written
/// where, and never makes the event loops wait).
#[derive(Debug)]
pub struct LectureLog {
    /// The port was chosen by the system (`--port 0`): print the `Bound`
    /// line even when quiet, since nothing else can tell it.
    pub announce_port: bool,
    /// What this protocol's log shows.
    pub style: LogStyle,
    /// Services whose log shows something else than `style`, by name
    /// (`netlab serve all`: each service is its own protocol).
    pub styles: Arc<OnceLock<Vec<(String, LogStyle)>>>,
    /// Start every line with the name of its service (`echo/tcp: `), when
    /// one process serves several.
    pub prefix: bool,
    /// Refused datagrams per reason, for the rate limit on their lines.
    pub refusals: Refusals,
}

impl LectureLog {
    /// What the log shows for `service`.
    fn style(&self, service: Option<&str>) -> LogStyle {
        service
            .and_then(|name| self.styles.get()?.iter().find(|(n, _)| n == name))
            .map_or(self.style, |(_, style)| *style)
    }

    /// `text`, each of its lines started with `service: ` when lines carry
    /// their service.
    fn prefixed(&self, service: Option<&str>, text: String) -> String {
        match service {
            Some(service) if self.prefix => text
                .lines()
                .map(|line| format!("{service}: {line}\n"))
                .collect(),
            _ => text,
        }
    }
}

impl Observer for LectureLog {
    fn event(&self, event: &Event<'_>) {
        let service = event.service();
        let (name, peer, bytes) = fields(event);
        if log::log_enabled!(target: "netcore", Level::Debug) {
            // -v: the engine's own account of every event.
            let level = match event {
                Event::Read { .. } | Event::Wrote { .. } | Event::Datagram { .. } => Level::Trace,
                _ => Level::Debug,
            };
            logging::emit(
                level,
                "netcore",
                service,
                name,
                peer,
                bytes,
                format_args!("{event}"),
            );
        }
        let style = self.style(service);
        let emit = |level: Level, target: &str, text: String| {
            let text = self.prefixed(service, text);
            logging::emit(
                level,
                target,
                service,
                name,
                peer,
                bytes,
                format_args!("{text}"),
            );
        };
        if let Event::Error {
            conn, op, error, ..
        } = event
        {
            let who = conn.map(|c| format!(" connection {} from {}", c.id, maybe_tuple(c.peer)));
            let line = format!(
                "{op}{}: {}",
                who.unwrap_or_default(),
                netcore::describe(error)
            );
            if conn.is_some() && is_peer_hangup(error.kind()) {
                // A client that resets is the client's business, not a
                // server error: not one of the server's errors.
                emit(
                    Level::Info,
                    logging::SERVE,
                    format!("Closed socket: {line}\n"),
                );
            } else {
                emit(Level::Error, logging::SERVE, line);
            }
            return;
        }
        if let (true, Event::Bound { addr, .. }) = (self.announce_port, event) {
            // Written even with -q: nothing else tells the port.
            let text = format!("Bound server socket to port {}\n", addr.port());
            emit(Level::Info, logging::ANNOUNCE, text);
            return;
        }
        if !logging::enabled(Level::Info) {
            return;
        }
        let mut text = String::new();
        match event {
            Event::Opened { .. } => text.push_str("Opened server socket\n"),
            Event::Bound { addr, .. } => {
                let _ = writeln!(text, "Bound server socket to port {}", addr.port());
            }
            Event::Listening { .. } => text.push_str("Listening\n"),
            Event::Accepted { conn } => {
                let _ = write!(
                    text,
                    "Accepted connection\nOpened socket\nServer IP addr and port: {}\nClient IP addr and port: {}\n",
                    maybe_tuple(conn.local),
                    maybe_tuple(conn.peer)
                );
            }
            Event::Read { data, .. } if style.show_data => {
                let _ = writeln!(text, "Read from client: {}", show(data));
            }
            Event::Wrote { data, .. } if style.show_data => {
                let _ = writeln!(text, "Wrote to client: {}", show(data));
            }
            Event::Closed {
                reason, bytes_in, ..
            } => match reason {
                CloseReason::PeerClosed if style.line_mode && *bytes_in == 0 => {
                    text.push_str("The echo client crashed\n");
                }
                CloseReason::IdleTimeout => text.push_str("Closed socket: idle timeout\n"),
                CloseReason::ReadTimeout => text.push_str("Closed socket: read timeout\n"),
                CloseReason::WriteTimeout => text.push_str("Closed socket: write timeout\n"),
                CloseReason::HandlerPanic => text.push_str("Closed socket: the handler failed\n"),
                CloseReason::Refused if style.line_mode => {
                    text.push_str("Closed socket: a line longer than the limit\n");
                }
                CloseReason::Refused => text.push_str("Closed socket: input refused\n"),
                CloseReason::Shutdown => text.push_str("Closed socket: server shutting down\n"),
                _ => {}
            },
            Event::Datagram {
                peer,
                request,
                reply,
                ..
            } => {
                let _ = writeln!(
                    text,
                    "Received datagram\nClient IP addr and port: {}",
                    tuple(*peer)
                );
                if style.show_data {
                    let _ = writeln!(text, "Read from client: {}", show(request));
                }
                let _ = writeln!(text, "Wrote to client: {}", show(reply));
            }
            Event::Refused { peer, why, .. } => {
                let (summary, show) = self.refusals.refused("datagram", why, Instant::now());
                text.push_str(&summary);
                if show {
                    let _ = writeln!(text, "Refused datagram from {}: {why}", tuple(*peer));
                }
            }
            Event::Rejected { peer, why, .. } => {
                let (summary, show) = self.refusals.refused("connection", why, Instant::now());
                text.push_str(&summary);
                if show {
                    let _ = writeln!(text, "Refused connection from {}: {why}", tuple(*peer));
                }
            }
            Event::ShuttingDown { open } => {
                text.push_str(&self.refusals.flush());
                let _ = writeln!(text, "Shutting down ({open} connections open)");
            }
            Event::Stopped => {
                text.push_str(&self.refusals.flush());
                text.push_str("Stopped\n");
            }
            _ => {}
        }
        if !text.is_empty() {
            emit(Level::Info, logging::SERVE, text);
        }
    }

    /// UDP needs data events for its per-datagram lines even when the
    /// data itself is not shown (daytime).
    fn wants_data(&self) -> bool {
        logging::enabled(Level::Info) || log::log_enabled!(target: "netcore", Level::Trace)
    }
}

/// An event's fields for the JSON log: what happened in one word, the
/// peer and the byte count when it has them.
fn fields(event: &Event<'_>) -> (&'static str, Option<SocketAddr>, Option<u64>) {
    match event {
        Event::Opened { .. } => ("opened", None, None),
        Event::Bound { .. } => ("bound", None, None),
        Event::Listening { .. } => ("listening", None, None),
        Event::Accepted { conn } => ("accepted", conn.peer, None),
        Event::Read { conn, data } => ("read", conn.peer, Some(data.len() as u64)),
        Event::Wrote { conn, data } => ("wrote", conn.peer, Some(data.len() as u64)),
        Event::Closed {
            conn,
            bytes_in,
            bytes_out,
            ..
        } => ("closed", conn.peer, Some(bytes_in + bytes_out)),
        Event::Datagram { peer, reply, .. } => ("datagram", Some(*peer), Some(reply.len() as u64)),
        Event::Refused { peer, .. } => ("refused", Some(*peer), None),
        Event::Rejected { peer, .. } => ("rejected", Some(*peer), None),
        Event::Error { conn, .. } => ("error", conn.and_then(|c| c.peer), None),
        Event::ShuttingDown { .. } => ("shutting_down", None, None),
        Event::Stopped => ("stopped", None, None),
        _ => ("event", None, None),
    }
}

fn is_peer_hangup(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe
    )
}

/// [`tuple`], or `None` as Python prints it, for a connection that is not
/// a socket (inetd mode over pipes).
pub fn maybe_tuple(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "None".to_owned(), tuple)
}

/// An address the way Python prints a socket address tuple:
/// `('127.0.0.1', 55555)`, or `('::1', 55555, 0, 0)` for IPv6.
pub fn tuple(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("('{}', {})", a.ip(), a.port()),
        SocketAddr::V6(a) => format!(
            "('{}', {}, {}, {})",
            a.ip(),
            a.port(),
            a.flowinfo(),
            a.scope_id()
        ),
    }
}

/// Data for a log line: printable text as it is, everything else escaped
/// (`\n`, `\r`, `\t`, `\xNN`), cut after [`SHOW_MAX`] bytes with the total.
pub fn show(data: &[u8]) -> String {
    let cut = &data[..data.len().min(SHOW_MAX)];
    let mut out = String::with_capacity(cut.len() + 16);
    for chunk in cut.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() || crate::reply::reorders_text(c) => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    if data.len() > SHOW_MAX {
        let _ = write!(out, "... ({} bytes)", data.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_like_python_tuples() {
        assert_eq!(
            tuple("127.0.0.1:55555".parse().unwrap()),
            "('127.0.0.1', 55555)"
        );
        assert_eq!(
            tuple("[::1]:55555".parse().unwrap()),
            "('::1', 55555, 0, 0)"
        );
    }

    #[test]
    fn data_is_escaped_and_cut() {
        assert_eq!(
            show(b"Hello, COS 333. \xc3\xa9\n"),
            "Hello, COS 333. \u{e9}\\n"
        );
        assert_eq!(show(b"\x00\xff\t"), "\\u{0}\\xff\\t");
        let long = vec![b'a'; 1000];
        assert_eq!(show(&long), format!("{}... (1000 bytes)", "a".repeat(200)));
    }
}
