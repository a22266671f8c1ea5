//! The classic chargen pattern as pure functions: the bytes at any offset
//! of the endless stream, and a check of received bytes against it.
//!
//! The ring is the 95 printable ASCII characters, space (0x20) to `~`
//! (0x7E), as BSD inetd builds it with `isprint()`. Line `n` (from 0) is
//! the 72 characters of the ring starting at character `n mod 95`, then
//! CR LF: 74 bytes. After 95 lines the stream repeats, so it is periodic
//! with [`PERIOD`] = 7,030 bytes.
//!
//! The stream is computed once, at compile time, into a table long enough
//! that any window of up to [`MAX_WINDOW`] bytes is one contiguous slice:
//! the server queues slices of it and the verifier compares against them,
//! with no per-byte arithmetic and no allocation.

/// Printable characters on a line, before CR LF.
pub const LINE_CHARS: usize = 72;

/// Bytes in a line: [`LINE_CHARS`] and CR LF.
pub const LINE_LEN: usize = LINE_CHARS + 2;

/// Characters in the ring: space through `~`.
pub const RING_LEN: usize = 95;

/// Bytes after which the stream repeats: [`RING_LEN`] lines.
pub const PERIOD: usize = RING_LEN * LINE_LEN;

/// The longest window [`window`] returns as one slice.
pub const MAX_WINDOW: usize = 64 * 1024;

/// Whole periods in the table: enough that a window of [`MAX_WINDOW`]
/// bytes starting anywhere in the first period fits.
const TABLE_PERIODS: usize = (PERIOD + MAX_WINDOW).div_ceil(PERIOD);

/// The stream from offset 0, [`TABLE_PERIODS`] periods of it.
static TABLE: [u8; TABLE_PERIODS * PERIOD] = table();

const fn table() -> [u8; TABLE_PERIODS * PERIOD] {
    let mut t = [0u8; TABLE_PERIODS * PERIOD];
    let mut i = 0;
    while i < t.len() {
        t[i] = computed(i as u64);
        i += 1;
    }
    t
}

/// The byte at `offset`, by arithmetic: the definition the table and the
/// tests check against.
const fn computed(offset: u64) -> u8 {
    let line = offset / LINE_LEN as u64;
    let column = (offset % LINE_LEN as u64) as usize;
    match column {
        LINE_CHARS => b'\r',
        c if c == LINE_CHARS + 1 => b'\n',
        c => b' ' + ((line + c as u64) % RING_LEN as u64) as u8,
    }
}

/// The byte of the stream at `offset` (counted from the first byte a
/// server sends on a connection).
///
/// ```
/// assert_eq!(chargen::byte_at(0), b' ');
/// assert_eq!(chargen::byte_at(72), b'\r');
/// assert_eq!(chargen::byte_at(74), b'!'); // line 1 starts one further on
/// ```
pub fn byte_at(offset: u64) -> u8 {
    TABLE[phase(offset)]
}

/// Where `offset` falls in the period.
fn phase(offset: u64) -> usize {
    (offset % PERIOD as u64) as usize
}

/// The stream's bytes from `offset` on: `len` of them, but at most
/// [`MAX_WINDOW`]; one slice of a static table, never a copy.
pub fn window(offset: u64, len: usize) -> &'static [u8] {
    let start = phase(offset);
    &TABLE[start..start + len.min(MAX_WINDOW)]
}

/// Line `n` of the stream (from 0), CR LF included: the first line starts
/// with a space, each next one a character further along the ring.
///
/// ```
/// assert_eq!(chargen::line(1).len(), 74);
/// assert!(chargen::line(1).starts_with(b"!\"#$"));
/// assert!(chargen::line(1).ends_with(b"fgh\r\n"));
/// ```
pub fn line(n: u64) -> &'static [u8] {
    window((n % RING_LEN as u64) * LINE_LEN as u64, LINE_LEN)
}

/// The stream from some offset on: hands out its bytes in slices, keeping
/// its place.
///
/// ```
/// let mut stream = chargen::Generator::new();
/// let mut buf = [0u8; 80];
/// stream.fill(&mut buf);
/// assert_eq!(&buf[72..76], b"\r\n!\"");
/// assert_eq!(stream.offset(), 80);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generator {
    offset: u64,
}

impl Generator {
    /// The stream from its first byte.
    pub fn new() -> Self {
        Generator::default()
    }

    /// The stream from `offset` on.
    pub fn at(offset: u64) -> Self {
        Generator { offset }
    }

    /// How many bytes were handed out (where the next byte is).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next `max` bytes (at most [`MAX_WINDOW`]), as one slice.
    pub fn next_chunk(&mut self, max: usize) -> &'static [u8] {
        let chunk = window(self.offset, max);
        self.offset += chunk.len() as u64;
        chunk
    }

    /// Fills `buf` with the next bytes of the stream.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for part in buf.chunks_mut(MAX_WINDOW) {
            part.copy_from_slice(self.next_chunk(part.len()));
        }
    }
}

/// Received bytes that are not the chargen stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset} of the chargen stream is {got:#04x}, not {expected:#04x}")]
pub struct Mismatch {
    /// Where in the stream the first wrong byte is.
    pub offset: u64,
    /// The byte the pattern has there.
    pub expected: u8,
    /// The byte that came.
    pub got: u8,
}

/// Checks that `data` is the stream's bytes from `offset` on; the error
/// names the first byte that is not.
///
/// ```
/// assert!(chargen::verify(74, chargen::line(1)).is_ok());
/// let err = chargen::verify(0, b" !x").unwrap_err();
/// assert_eq!((err.offset, err.expected, err.got), (2, b'"', b'x'));
/// ```
pub fn verify(offset: u64, data: &[u8]) -> Result<(), Mismatch> {
    let mut at = offset;
    for part in data.chunks(MAX_WINDOW) {
        let want = window(at, part.len());
        if part != want {
            // Only on failure: find the byte to name.
            let i = part.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
            return Err(Mismatch {
                offset: at + i as u64,
                expected: want[i],
                got: part[i],
            });
        }
        at += part.len() as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The classic text, as RFC 864 prints it, one line further on: the
    /// RFC's example starts at `!`, BSD's ring at the space before it.
    const FIRST_LINES: &[u8] =
        b" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n\
!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n\
\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghi\r\n";

    #[test]
    fn the_first_lines_are_the_classic_text() {
        assert_eq!(window(0, FIRST_LINES.len()), FIRST_LINES);
        assert_eq!(line(0), &FIRST_LINES[..LINE_LEN]);
        assert_eq!(line(2), &FIRST_LINES[2 * LINE_LEN..]);
    }

    #[test]
    fn lines_wrap_around_the_ring_and_the_stream_repeats() {
        // Line 23 reaches `~` and goes on with the space.
        assert!(line(23).starts_with(b"7"));
        assert_eq!(&line(23)[71..], b"~\r\n");
        assert!(line(24).ends_with(b"~ \r\n"));
        assert!(line(94).starts_with(b"~ !"));
        assert_eq!(line(95), line(0));
        assert_eq!(line(95 * 7 + 3), line(3));
        for offset in [0, 1, 72, 73, 74, PERIOD as u64 - 1] {
            assert_eq!(byte_at(offset), byte_at(offset + PERIOD as u64 * 1000));
        }
    }

    #[test]
    fn every_byte_is_printable_or_a_line_end() {
        let period = window(0, PERIOD);
        assert!(
            period
                .iter()
                .all(|&b| (b' '..=b'~').contains(&b) || b == b'\r' || b == b'\n')
        );
        assert_eq!(period.iter().filter(|&&b| b == b'\n').count(), RING_LEN);
    }

    #[test]
    fn the_table_is_the_definition_at_any_offset() {
        for offset in (0..3 * PERIOD as u64).chain(u64::MAX - 2 * PERIOD as u64..=u64::MAX) {
            assert_eq!(
                byte_at(offset),
                computed(offset % PERIOD as u64),
                "{offset}"
            );
        }
        let far = 5 * PERIOD as u64 + 70;
        let w = window(far, MAX_WINDOW);
        assert_eq!(w.len(), MAX_WINDOW);
        for (i, &b) in w.iter().enumerate() {
            assert_eq!(b, computed(far + i as u64));
        }
        assert_eq!(window(0, MAX_WINDOW + 1).len(), MAX_WINDOW);
    }

    #[test]
    fn any_split_gives_the_same_stream() {
        // Across line ends and the period's end, however it is cut up.
        let start = PERIOD as u64 - 80;
        let want = window(start, 300);
        for split in 0..=want.len() {
            let mut g = Generator::at(start);
            let mut got = vec![0u8; want.len()];
            g.fill(&mut got[..split]);
            g.fill(&mut got[split..]);
            assert_eq!(got, want, "split at {split}");
            assert_eq!(g.offset(), start + 300);
            assert!(verify(start, &got[..split]).is_ok());
            assert!(verify(start + split as u64, &got[split..]).is_ok());
        }
    }

    #[test]
    fn fill_goes_past_one_window() {
        let mut big = vec![0u8; 3 * MAX_WINDOW + 17];
        Generator::at(5).fill(&mut big);
        assert!(verify(5, &big).is_ok());
        assert_eq!(big[0], byte_at(5));
    }

    #[test]
    fn verify_names_the_first_wrong_byte() {
        let mut data = window(100, 2 * MAX_WINDOW.min(PERIOD)).to_vec();
        assert!(verify(100, &data).is_ok());
        // The right bytes at the wrong offset do not verify.
        assert_eq!(verify(101, &data).unwrap_err().offset, 101);
        data[5000] ^= 1;
        let err = verify(100, &data).unwrap_err();
        assert_eq!(err.offset, 5100);
        assert_eq!(err.expected, byte_at(5100));
        assert_eq!(err.got, byte_at(5100) ^ 1);
        assert_eq!(
            Mismatch {
                offset: 3,
                expected: b'#',
                got: b'x'
            }
            .to_string(),
            "byte 3 of the chargen stream is 0x78, not 0x23"
        );
    }
}
