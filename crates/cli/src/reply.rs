//! Where `netlab connect` writes what the server sends: byte for byte to a
//! pipe or a file, but to a terminal with control characters escaped, and
//! never more than `--max-bytes`.
//!
//! A server chooses every byte a client prints. On a terminal, `ESC [ 2 J`
//! clears the screen, other sequences move the cursor, retitle the window,
//! or on some terminals answer back as if typed; so there the client shows
//! printable text, `\n`, `\t` and a `\r` right before `\n` (inetd's line
//! ending) as they are and everything else as `\x1b`, `\u{9b}` or `\xff`.
//! Piped, the bytes are left alone: that is what interop and `> file` need.
//!
//! With `--json` nothing is written as it arrives: the bytes are kept for
//! the report (see `connect/json.rs`), under the same limit.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::connect::json::{self, Capture, Counted};

/// The server sent more than `--max-bytes` (or than `--json` keeps
/// without it).
#[derive(Debug, thiserror::Error)]
#[error("the server sent more than {max} bytes ({which}); stopped reading")]
pub struct TooMuch {
    /// The limit.
    pub max: u64,
    /// Where the limit came from, in the user's words.
    pub which: &'static str,
}

impl TooMuch {
    /// The limit the user gave with `--max-bytes`.
    pub fn max_bytes(max: u64) -> Self {
        TooMuch {
            max,
            which: "--max-bytes",
        }
    }
}

/// The client's output: escapes for a terminal, counts against the limit.
pub struct ReplyOutput<W: Write> {
    inner: W,
    escaper: Option<Escaper>,
    left: Option<u64>,
    max: u64,
    /// `--max-bytes` as given (`--json` has a limit without it).
    user_max: Option<u64>,
    /// `--json`: what the server sends, kept instead of written.
    capture: Option<Capture>,
}

impl<W: Write> ReplyOutput<W> {
    /// Writes to `inner`, escaping when `terminal`, failing with
    /// [`TooMuch`] past `max` bytes.
    pub fn new(inner: W, terminal: bool, max: Option<u64>) -> Self {
        ReplyOutput {
            inner,
            escaper: terminal.then(Escaper::default),
            left: max,
            max: max.unwrap_or(0),
            user_max: max,
            capture: None,
        }
    }

    /// `--json`: keeps what the server sends for the report instead of
    /// writing it, up to the limit, or [`json::DEFAULT_CAP`] without one.
    pub fn capturing(mut self) -> Self {
        let max = self.user_max.unwrap_or(json::DEFAULT_CAP);
        self.left = Some(max);
        self.max = max;
        self.capture = Some(Capture::default());
        self
    }

    /// The protocol prints its own report (`time`, `daytime --parse`,
    /// whose `--json` is theirs): write what it writes, as without
    /// `--json`.
    pub fn own_report(&mut self) {
        if self.capture.take().is_some() {
            self.left = self.user_max;
            self.max = self.user_max.unwrap_or(0);
        }
    }

    /// The capture, to note what only the protocol knows.
    pub fn capture_mut(&mut self) -> Option<&mut Capture> {
        self.capture.as_mut()
    }

    /// The kept reply, ending the capture, and where to write the report.
    pub fn take_capture(&mut self) -> Option<(Capture, &mut W)> {
        let capture = self.capture.take()?;
        Some((capture, &mut self.inner))
    }

    /// Standard input for a client that sends it, counted for `--json`'s
    /// `sent_bytes`.
    pub fn input(&self) -> Counted<io::Stdin> {
        let count = match &self.capture {
            Some(capture) => capture.sent_counter(),
            None => Arc::new(AtomicU64::new(0)),
        };
        Counted::new(io::stdin(), count)
    }

    /// Writes out what the escaper still holds (a `\r` or the start of a
    /// UTF-8 character that never got its end) and flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(escaper) = &mut self.escaper {
            let mut out = String::new();
            escaper.finish(&mut out);
            self.inner.write_all(out.as_bytes())?;
        }
        self.inner.flush()
    }

    fn pass(&mut self, data: &[u8]) -> io::Result<()> {
        if let Some(capture) = &mut self.capture {
            capture.keep(data);
            return Ok(());
        }
        match &mut self.escaper {
            Some(escaper) => {
                let mut out = String::new();
                escaper.push(data, &mut out);
                self.inner.write_all(out.as_bytes())
            }
            None => self.inner.write_all(data),
        }
    }
}

impl<W: Write> Write for ReplyOutput<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(capture) = &mut self.capture {
            capture.arrived(data.len());
        }
        let Some(left) = self.left else {
            self.pass(data)?;
            return Ok(data.len());
        };
        let fits = usize::try_from(left).map_or(data.len(), |left| left.min(data.len()));
        self.pass(&data[..fits])?;
        self.left = Some(left - fits as u64);
        if fits < data.len() {
            if let Some(capture) = &mut self.capture {
                capture.cut();
            }
            let too_much = match self.user_max {
                Some(max) => TooMuch::max_bytes(max),
                None => TooMuch {
                    max: self.max,
                    which: "what --json keeps without --max-bytes",
                },
            };
            return Err(io::Error::other(too_much));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The `--max-bytes` error inside an output error, if that is what it is.
pub fn too_much(e: &io::Error) -> Option<&TooMuch> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TooMuch>())
}

/// Escapes a byte stream for a terminal, chunk by chunk: pure, so every
/// way the bytes can be split gives the same text.
#[derive(Debug, Default)]
pub struct Escaper {
    /// Bytes that may still become something else: a `\r` (a line ending
    /// if `\n` follows) or the first bytes of a UTF-8 character.
    held: Vec<u8>,
}

impl Escaper {
    /// Appends the terminal-safe text of `data` to `out`, holding back what
    /// the next chunk may complete.
    pub fn push(&mut self, data: &[u8], out: &mut String) {
        let mut bytes = std::mem::take(&mut self.held);
        bytes.extend_from_slice(data);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    let kept = escape_text(text, out);
                    self.held.extend_from_slice(kept.as_bytes());
                    return;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // Valid UTF-8 by the error's own word.
                    let text = std::str::from_utf8(valid).unwrap_or_default();
                    // A `\r` before a bad byte is no line ending.
                    if !escape_text(text, out).is_empty() {
                        out.push_str("\\r");
                    }
                    match e.error_len() {
                        Some(bad) => {
                            for b in &after[..bad] {
                                let _ = write!(out, "\\x{b:02x}");
                            }
                            rest = &after[bad..];
                        }
                        None => {
                            // A character cut at the end of the chunk.
                            self.held.extend_from_slice(after);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Appends what is still held, escaped: the stream has ended.
    pub fn finish(&mut self, out: &mut String) {
        for b in std::mem::take(&mut self.held) {
            match b {
                b'\r' => out.push_str("\\r"),
                b => {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
        }
    }
}

/// Characters that are not control characters but still change how a
/// terminal shows what follows: bidirectional overrides and isolates (a
/// hostile server could make text read backwards) and the Unicode line
/// and paragraph separators.
pub fn reorders_text(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Appends `text` escaped to `out`, except a final `\r`, which it returns
/// (as `"\r"`, or `""`) for the caller to hold.
fn escape_text<'a>(text: &'a str, out: &mut String) -> &'a str {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\r' if chars.peek().is_none() => return &text[i..],
            '\r' if chars.peek().is_some_and(|(_, next)| *next == '\n') => out.push('\r'),
            '\r' => out.push_str("\\r"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || reorders_text(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(data: &[u8]) -> String {
        let mut e = Escaper::default();
        let mut out = String::new();
        e.push(data, &mut out);
        e.finish(&mut out);
        out
    }

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(escaped(b"\x1b[2Jhi\n"), "\\x1b[2Jhi\n");
        assert_eq!(escaped(b"a\tb\x07\x00\x7f"), "a\tb\\x07\\x00\\x7f");
        assert_eq!(escaped("\u{9b}31m".as_bytes()), "\\u{9b}31m");
        assert_eq!(
            escaped("evil\u{202e}txt.exe\u{2028}".as_bytes()),
            "evil\\u{202e}txt.exe\\u{2028}"
        );
        assert_eq!(escaped(b"\xff\xfe ok"), "\\xff\\xfe ok");
        assert_eq!(
            escaped("caf\u{e9} \u{1f600}\n".as_bytes()),
            "caf\u{e9} \u{1f600}\n"
        );
    }

    #[test]
    fn cr_passes_only_as_part_of_a_line_ending() {
        assert_eq!(escaped(b"Wed Feb 11\r\n"), "Wed Feb 11\r\n");
        assert_eq!(escaped(b"over\rwrite"), "over\\rwrite");
        assert_eq!(escaped(b"end\r"), "end\\r");
        assert_eq!(escaped(b"x\r\xff"), "x\\r\\xff");
    }

    #[test]
    fn every_split_gives_the_same_text() {
        let input = "a\r\n\x1b[0m caf\u{e9}\r\u{1f600}\u{9b}\n\r"
            .as_bytes()
            .to_vec();
        let mut input = input;
        input.extend_from_slice(b"\xe2\x82 \xff\r\n");
        let whole = escaped(&input);
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let mut e = Escaper::default();
                let mut out = String::new();
                e.push(&input[..i], &mut out);
                e.push(&input[i..j], &mut out);
                e.push(&input[j..], &mut out);
                e.finish(&mut out);
                assert_eq!(out, whole, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn the_limit_passes_what_fits_then_fails() {
        let mut out = ReplyOutput::new(Vec::new(), false, Some(5));
        assert_eq!(out.write(b"abc").unwrap(), 3);
        let err = out.write(b"defg").unwrap_err();
        assert_eq!(too_much(&err).unwrap().max, 5);
        assert_eq!(out.inner, b"abcde");
        let mut piped = ReplyOutput::new(Vec::new(), false, None);
        piped.write_all(b"\x1b[2J\r").unwrap();
        piped.finish().unwrap();
        assert_eq!(piped.inner, b"\x1b[2J\r");
    }

    #[test]
    fn json_keeps_the_reply_under_the_limit_and_writes_nothing() {
        let mut out = ReplyOutput::new(Vec::new(), true, Some(4)).capturing();
        out.write_all(b"ab").unwrap();
        let err = out.write(b"\x1bcd").unwrap_err();
        assert_eq!(too_much(&err).unwrap().max, 4);
        out.finish().unwrap();
        let (capture, inner) = out.take_capture().unwrap();
        assert!(inner.is_empty(), "nothing written as it arrives");
        let mut report = Vec::new();
        let context = json::Context {
            protocol: "echo",
            host: "h",
            port: 7,
            udp: true,
            started: std::time::Instant::now(),
            ended: std::time::Instant::now(),
            endpoint: None,
            problem: None,
        };
        json::write(&mut report, &capture, &context).unwrap();
        let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(report["received_text"], "ab\u{1b}c");
        assert_eq!(report["truncated"], true);
        assert_eq!(report["datagrams"]["sizes"], serde_json::json!([2, 3]));
        // Without --max-bytes, --json still stops somewhere, and says
        // whose limit it was: not one the user gave.
        let mut out = ReplyOutput::new(Vec::new(), false, None).capturing();
        assert_eq!(out.left, Some(json::DEFAULT_CAP));
        let chunk = vec![b'x'; 1 << 20];
        let error = (0..=json::DEFAULT_CAP >> 20)
            .find_map(|_| out.write_all(&chunk).err())
            .expect("stops at the cap");
        assert_eq!(
            too_much(&error).map(ToString::to_string).as_deref(),
            Some(
                "the server sent more than 16777216 bytes (what --json keeps \
                 without --max-bytes); stopped reading"
            )
        );
    }

    #[test]
    fn a_protocol_with_its_own_report_writes_through_with_the_users_limit() {
        let mut out = ReplyOutput::new(Vec::new(), false, None).capturing();
        out.own_report();
        out.write_all(b"{\"raw\":1}\n").unwrap();
        assert!(out.take_capture().is_none());
        assert_eq!(out.inner, b"{\"raw\":1}\n");
        assert_eq!(out.left, None);
    }
}
