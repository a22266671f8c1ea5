//! The lecture's line mode as a pure state machine: collect bytes up to and
//! including the first `\n`, then the line is complete.

/// What [`LineBuffer::push`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStep {
    /// No newline yet; keep reading.
    NeedMore,
    /// The line is complete (it ends with `\n`); reply with
    /// [`LineBuffer::line`].
    Complete,
    /// The line grew past the limit without a newline.
    TooLong,
}

/// Collects one line of input, however the bytes are split into reads.
///
/// ```
/// use echo::{LineBuffer, LineStep};
/// let mut buf = LineBuffer::new(1024);
/// assert_eq!(buf.push(b"Hello, "), LineStep::NeedMore);
/// assert_eq!(buf.push(b"COS 333\nextra"), LineStep::Complete);
/// assert_eq!(buf.line(), b"Hello, COS 333\n");
/// ```
#[derive(Debug, Clone)]
pub struct LineBuffer {
    line: Vec<u8>,
    max: usize,
    done: bool,
}

impl LineBuffer {
    /// A buffer for a line of at most `max` bytes, newline included.
    pub fn new(max: usize) -> Self {
        LineBuffer {
            line: Vec::new(),
            max: max.max(1),
            done: false,
        }
    }

    /// Adds bytes; anything after the first newline is ignored (the lecture
    /// server reads one line and closes).
    pub fn push(&mut self, data: &[u8]) -> LineStep {
        if self.done {
            return LineStep::Complete;
        }
        let (take, complete) = match data.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (data.len(), false),
        };
        if self.line.len() + take > self.max {
            return LineStep::TooLong;
        }
        self.line.extend_from_slice(&data[..take]);
        self.done = complete;
        if complete {
            LineStep::Complete
        } else {
            LineStep::NeedMore
        }
    }

    /// The bytes collected so far: the whole line once
    /// [`LineStep::Complete`], a partial line if the peer stopped early.
    pub fn line(&self) -> &[u8] {
        &self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_split_gives_the_same_line() {
        let input = b"caf\xc3\xa9 \xff\x00 bytes\nsecond line\n";
        for split in 0..input.len() {
            let mut buf = LineBuffer::new(1024);
            let first = buf.push(&input[..split]);
            let step = if first == LineStep::Complete {
                first
            } else {
                buf.push(&input[split..])
            };
            assert_eq!(step, LineStep::Complete);
            assert_eq!(buf.line(), b"caf\xc3\xa9 \xff\x00 bytes\n");
        }
    }

    #[test]
    fn limit_includes_the_newline() {
        let mut buf = LineBuffer::new(4);
        assert_eq!(buf.push(b"abc\n"), LineStep::Complete);
        let mut buf = LineBuffer::new(4);
        assert_eq!(buf.push(b"abcd"), LineStep::NeedMore);
        assert_eq!(buf.push(b"\n"), LineStep::TooLong);
    }

    #[test]
    fn partial_line_is_kept() {
        let mut buf = LineBuffer::new(16);
        assert_eq!(buf.push(b"no newline"), LineStep::NeedMore);
        assert_eq!(buf.line(), b"no newline");
    }
}
