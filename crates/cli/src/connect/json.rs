//! `netlab connect --json`: what the server sent is kept (up to
//! `--max-bytes`, or [`DEFAULT_CAP`]) instead of printed, and when the
//! exchange ends one JSON object on one line says what happened: the
//! bytes as text and as base64, the peer, the timings, the exit code and,
//! on failure, the error line. docs/cli.md lists the fields.
//!
//! The object is pure ASCII (every other character is a `\u` escape), so
//! it is as safe on a terminal as the escaped reply, and stays one line
//! whatever the server sent.

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::base64;
use crate::exit::Problem;

/// How much `--json` keeps without `--max-bytes`: the object holds all of
/// it (and its base64), so it must end somewhere; chargen never ends.
pub const DEFAULT_CAP: u64 = 16 * 1024 * 1024;

/// How many datagram sizes the object lists (the count is always whole).
const MAX_SIZES: usize = 1000;

/// What the server sent, kept for the report.
#[derive(Debug, Default)]
pub struct Capture {
    received: Vec<u8>,
    first_byte: Option<Instant>,
    arrivals: u64,
    sizes: Vec<usize>,
    truncated: bool,
    sent: Arc<AtomicU64>,
    endpoint: Option<Endpoint>,
}

impl Capture {
    /// A chunk of `len` bytes arrived: one read over TCP, one datagram
    /// over UDP (every client writes a datagram in one call).
    pub fn arrived(&mut self, len: usize) {
        if len > 0 && self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
        }
        self.arrivals += 1;
        if self.sizes.len() < MAX_SIZES {
            self.sizes.push(len);
        }
    }

    /// Keeps `data` (what fits the limit).
    pub fn keep(&mut self, data: &[u8]) {
        self.received.extend_from_slice(data);
    }

    /// The limit cut the reply.
    pub fn cut(&mut self) {
        self.truncated = true;
    }

    /// The counter of bytes sent, shared with [`Counted`] input.
    pub fn sent_counter(&self) -> Arc<AtomicU64> {
        self.sent.clone()
    }

    /// Notes the server for a client that does not connect through a
    /// traced `netcore::Client`.
    pub fn note(&mut self, endpoint: Endpoint) {
        self.endpoint = Some(endpoint);
    }

    /// The server noted with [`Capture::note`].
    pub fn endpoint(&self) -> Option<Endpoint> {
        self.endpoint
    }
}

/// Whom the client talked to, and when it got there.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The server's address.
    pub peer: SocketAddr,
    /// Ours, if known.
    pub local: Option<SocketAddr>,
    /// When the name was resolved.
    pub resolved: Instant,
    /// When the connection was made (none for a socket that only sends).
    pub connected: Option<Instant>,
}

impl From<netcore::Reached> for Endpoint {
    fn from(r: netcore::Reached) -> Self {
        Endpoint {
            peer: r.peer,
            local: r.local,
            resolved: r.resolved,
            connected: Some(r.connected),
        }
    }
}

/// The address a client that resolves `host` itself sends to: the first
/// (as discard's UDP client takes), or none if the name does not resolve,
/// which the client itself then reports.
pub fn first_address(host: &str, port: u16) -> Option<Endpoint> {
    let addrs = netcore::resolve(host, port).ok()?;
    Some(Endpoint {
        peer: *addrs.first()?,
        local: None,
        resolved: Instant::now(),
        connected: None,
    })
}

/// Standard input, counting what is read from it: every byte read is
/// sent (on failure, the last chunk may have been read and not sent).
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    /// Counts what is read from `inner` into `count`.
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Counted { inner, count }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the object says besides the capture.
pub struct Context<'a> {
    /// The protocol's name.
    pub protocol: &'a str,
    /// The host as given, and the port.
    pub host: &'a str,
    /// The server's port.
    pub port: u16,
    /// Over UDP.
    pub udp: bool,
    /// When the client started (before resolving).
    pub started: Instant,
    /// When the exchange ended.
    pub ended: Instant,
    /// The server reached, if any.
    pub endpoint: Option<Endpoint>,
    /// The failure, if any: its line and exit code.
    pub problem: Option<&'a Problem>,
}

#[derive(Serialize)]
struct Report<'a> {
    protocol: &'a str,
    transport: &'static str,
    host: &'a str,
    port: u16,
    peer: Option<String>,
    local: Option<String>,
    sent_bytes: u64,
    received_bytes: usize,
    utf8: bool,
    received_text: Cow<'a, str>,
    received_base64: String,
    truncated: bool,
    datagrams: Option<Datagrams<'a>>,
    timings: Timings,
    exit: u8,
    error: Option<ErrorField>,
}

#[derive(Serialize)]
struct Datagrams<'a> {
    received: u64,
    sizes: &'a [usize],
    sizes_truncated: bool,
}

#[derive(Serialize)]
struct Timings {
    resolve_ms: Option<f64>,
    connect_ms: Option<f64>,
    first_byte_ms: Option<f64>,
    total_ms: f64,
}

#[derive(Serialize)]
struct ErrorField {
    message: String,
    exit: u8,
}

/// Milliseconds from `from` to `to`, to the microsecond.
fn ms(from: Instant, to: Instant) -> f64 {
    let micros = to.saturating_duration_since(from).as_micros();
    micros as f64 / 1000.0
}

/// Writes the object for `capture` and `context` to `out`, one line.
pub fn write(out: &mut impl Write, capture: &Capture, context: &Context<'_>) -> io::Result<()> {
    let since = |t: Instant| ms(context.started, t);
    let endpoint = context.endpoint;
    let text = std::str::from_utf8(&capture.received);
    let report = Report {
        protocol: context.protocol,
        transport: if context.udp { "udp" } else { "tcp" },
        host: context.host,
        port: context.port,
        peer: endpoint.map(|e| e.peer.to_string()),
        local: endpoint.and_then(|e| e.local).map(|a| a.to_string()),
        sent_bytes: capture.sent.load(Ordering::Relaxed),
        received_bytes: capture.received.len(),
        utf8: text.is_ok(),
        received_text: match text {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&capture.received),
        },
        received_base64: base64::encode(&capture.received),
        truncated: capture.truncated,
        datagrams: context.udp.then(|| Datagrams {
            received: capture.arrivals,
            sizes: &capture.sizes,
            sizes_truncated: capture.arrivals > capture.sizes.len() as u64,
        }),
        timings: Timings {
            resolve_ms: endpoint.map(|e| since(e.resolved)),
            connect_ms: endpoint.and_then(|e| e.connected).map(since),
            first_byte_ms: capture.first_byte.map(since),
            total_ms: since(context.ended),
        },
        exit: context.problem.map_or(0, |p| p.code as u8),
        error: context.problem.map(|p| ErrorField {
            message: p.line(),
            exit: p.code as u8,
        }),
    };
    let mut buffered = io::BufWriter::with_capacity(64 * 1024, out);
    let mut serializer = serde_json::Serializer::with_formatter(&mut buffered, Ascii);
    report.serialize(&mut serializer).map_err(io::Error::from)?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// serde_json's compact output, with every character outside printable
/// ASCII written as a `\u` escape (UTF-16, as JSON has it).
struct Ascii;

impl serde_json::ser::Formatter for Ascii {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            // DEL is ASCII but no text; serde_json escapes the others
            // below 0x20 itself.
            if c.is_ascii() && c != '\x7f' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            for unit in c.encode_utf16(&mut [0u16; 2]) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Code;

    fn object(
        capture: &Capture,
        problem: Option<&Problem>,
        udp: bool,
    ) -> (String, serde_json::Value) {
        let now = Instant::now();
        let context = Context {
            protocol: "echo",
            host: "localhost",
            port: 7,
            udp,
            started: now,
            ended: now,
            endpoint: None,
            problem,
        };
        let mut out = Vec::new();
        write(&mut out, capture, &context).unwrap();
        let text = String::from_utf8(out).unwrap();
        let value = serde_json::from_str(&text).unwrap();
        (text, value)
    }

    #[test]
    fn the_object_is_one_ascii_line_that_reads_back_as_the_bytes() {
        let mut capture = Capture::default();
        let bytes = "caf\u{e9} \u{1f600}\u{9b}\x1b[2J\x7f\n".as_bytes();
        capture.arrived(bytes.len());
        capture.keep(bytes);
        let (text, value) = object(&capture, None, false);
        assert!(text.is_ascii(), "{text}");
        assert!(text.ends_with("}\n") && text.lines().count() == 1, "{text}");
        assert!(text.contains(r"\ud83d\ude00"), "{text}");
        assert!(text.contains(r"\u009b\u001b[2J\u007f"), "{text}");
        assert_eq!(value["received_text"].as_str().unwrap().as_bytes(), bytes);
        assert_eq!(value["utf8"], true);
        assert_eq!(value["received_bytes"], bytes.len());
        assert_eq!(value["exit"], 0);
        assert_eq!(value["error"], serde_json::Value::Null);
        assert_eq!(value["datagrams"], serde_json::Value::Null);
        assert_eq!(value["peer"], serde_json::Value::Null);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced_in_the_text_but_exact_in_base64() {
        let mut capture = Capture::default();
        capture.keep(b"ok\xff\xfe");
        let (_, value) = object(&capture, None, false);
        assert_eq!(value["utf8"], false);
        assert_eq!(value["received_text"], "ok\u{fffd}\u{fffd}");
        assert_eq!(value["received_base64"], "b2v//g==");
    }

    #[test]
    fn a_failure_is_in_the_object_with_its_line_and_code() {
        let mut capture = Capture::default();
        capture.cut();
        for _ in 0..MAX_SIZES + 5 {
            capture.arrived(3);
        }
        let problem = Problem::new("connecting to 127.0.0.1:1", Code::Unavailable).hint("why");
        let (_, value) = object(&capture, Some(&problem), true);
        assert_eq!(value["exit"], 69);
        assert_eq!(value["error"]["exit"], 69);
        assert_eq!(value["error"]["message"], "connecting to 127.0.0.1:1 (why)");
        assert_eq!(value["truncated"], true);
        assert_eq!(value["datagrams"]["received"], MAX_SIZES + 5);
        assert_eq!(
            value["datagrams"]["sizes"].as_array().unwrap().len(),
            MAX_SIZES
        );
        assert_eq!(value["datagrams"]["sizes_truncated"], true);
    }

    #[test]
    fn counted_input_counts_what_was_read() {
        let count = Arc::new(AtomicU64::new(0));
        let mut input = Counted::new(&b"hello\n"[..], count.clone());
        let mut all = Vec::new();
        input.read_to_end(&mut all).unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 6);
    }
}
