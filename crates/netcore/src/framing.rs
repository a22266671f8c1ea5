//! [`LineFramer`]: a byte stream cut into lines, for protocols that talk in
//! lines (a chat, a line-at-a-time echo, SMTP-like commands). Pure: a
//! handler feeds it what arrived and gets each complete line, whatever the
//! reads' boundaries were.

use std::fmt;

/// A line grew past the framer's limit before its newline came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LineTooLong {
    /// The limit, in bytes, newline included.
    pub max: usize,
}

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a line longer than {} bytes", self.max)
    }
}

impl std::error::Error for LineTooLong {}

/// Cuts a stream into lines ending in `\n` (a `\r` before it stays part of
/// the line: the handler decides what a line ending is), each at most
/// `max` bytes long, newline included. Bytes after the last newline wait
/// for the next [`LineFramer::push`]; at end-of-file they are
/// [`LineFramer::rest`]. While nothing is waiting, lines are handed out
/// straight from the input, without a copy.
///
/// ```
/// use netcore::LineFramer;
///
/// let mut framer = LineFramer::new(1024);
/// let mut lines = Vec::new();
/// framer.push(b"HELO a\r\nMAIL FR", |l| lines.push(l.to_vec())).unwrap();
/// framer.push(b"OM:<b>\r\nQU", |l| lines.push(l.to_vec())).unwrap();
/// assert_eq!(lines, [b"HELO a\r\n".to_vec(), b"MAIL FROM:<b>\r\n".to_vec()]);
/// assert_eq!(framer.rest(), b"QU");
/// ```
#[derive(Debug, Clone)]
pub struct LineFramer {
    pending: Vec<u8>,
    max: usize,
}

impl LineFramer {
    /// A framer for lines of at most `max` bytes (at least 1).
    pub fn new(max: usize) -> Self {
        LineFramer {
            pending: Vec::new(),
            max: max.max(1),
        }
    }

    /// Feeds `data`; calls `each` with every line it completes, in order,
    /// newline included. A line over the limit is an error: the framer
    /// drops what it held, and the caller should close the connection
    /// (see [`Flow::Abort`](crate::Flow::Abort)).
    pub fn push(
        &mut self,
        mut data: &[u8],
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), LineTooLong> {
        if !self.pending.is_empty() {
            let Some(end) = data.iter().position(|&b| b == b'\n') else {
                return self.hold(data);
            };
            self.hold(&data[..=end])?;
            each(&self.pending);
            self.pending.clear();
            data = &data[end + 1..];
        }
        while let Some(end) = data.iter().position(|&b| b == b'\n') {
            if end + 1 > self.max {
                return Err(LineTooLong { max: self.max });
            }
            each(&data[..=end]);
            data = &data[end + 1..];
        }
        self.hold(data)
    }

    /// What came after the last newline (a last line without one, at
    /// end-of-file).
    pub fn rest(&self) -> &[u8] {
        &self.pending
    }

    fn hold(&mut self, data: &[u8]) -> Result<(), LineTooLong> {
        if self.pending.len() + data.len() > self.max {
            self.pending.clear();
            return Err(LineTooLong { max: self.max });
        }
        self.pending.extend_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(framer: &mut LineFramer, chunks: &[&[u8]]) -> Result<Vec<Vec<u8>>, LineTooLong> {
        let mut lines = Vec::new();
        for chunk in chunks {
            framer.push(chunk, |l| lines.push(l.to_vec()))?;
        }
        Ok(lines)
    }

    #[test]
    fn the_same_lines_however_the_input_is_split() {
        let input = b"one\ntwo\r\n\nthree\nrest";
        for cut in 0..=input.len() {
            let mut framer = LineFramer::new(64);
            let lines = lines_of(&mut framer, &[&input[..cut], &input[cut..]]).unwrap();
            assert_eq!(
                lines,
                [&b"one\n"[..], b"two\r\n", b"\n", b"three\n"].map(<[u8]>::to_vec),
                "cut at {cut}"
            );
            assert_eq!(framer.rest(), b"rest", "cut at {cut}");
        }
    }

    #[test]
    fn a_line_over_the_limit_is_an_error_whole_or_in_pieces() {
        let mut framer = LineFramer::new(4);
        assert_eq!(framer.push(b"abcd\n", |_| {}), Err(LineTooLong { max: 4 }));
        let mut framer = LineFramer::new(4);
        assert!(framer.push(b"ab", |_| {}).is_ok());
        assert_eq!(framer.push(b"cde", |_| {}), Err(LineTooLong { max: 4 }));
        assert_eq!(framer.rest(), b"");
        // Exactly the limit, newline included, is fine.
        let mut framer = LineFramer::new(4);
        let lines = lines_of(&mut framer, &[b"ab", b"c\n"]).unwrap();
        assert_eq!(lines, [b"abc\n".to_vec()]);
    }
}
