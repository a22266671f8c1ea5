//! The deterministic byte pattern every echo request is cut from, so a
//! reply can be checked without keeping a copy of what was sent.

/// Length of one period of the pattern: a prime, so that consecutive
/// requests of any size start at different phases and a reply that repeats
/// an older request, or comes from another connection, does not verify.
pub(crate) const PERIOD: usize = 65_521;

/// A pseudo-random byte sequence of period [`PERIOD`], stored once with a
/// tail long enough that any window of up to `max_len` bytes is one
/// contiguous slice: no allocation and no copy per request.
#[derive(Debug)]
pub(crate) struct Pattern {
    bytes: Box<[u8]>,
    max_len: usize,
}

impl Pattern {
    /// A pattern whose windows may be up to `max_len` bytes long.
    pub(crate) fn new(max_len: usize) -> Self {
        // xorshift64: cheap, deterministic, and not a simple counter, so a
        // shifted or stuttered reply does not line up by accident.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let period: Vec<u8> = (0..PERIOD)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        let bytes = (0..PERIOD + max_len).map(|i| period[i % PERIOD]).collect();
        Pattern { bytes, max_len }
    }

    /// The `len` bytes at stream offset `offset` (taken modulo the period).
    /// `len` is at most the `max_len` given to [`Pattern::new`].
    pub(crate) fn slice(&self, offset: u64, len: usize) -> &[u8] {
        debug_assert!(len <= self.max_len);
        let start = (offset % PERIOD as u64) as usize;
        &self.bytes[start..start + len.min(self.max_len)]
    }
}

/// Where connection number `index` starts in the pattern: distinct phases,
/// so connections cannot verify each other's replies.
pub(crate) fn seed(index: usize) -> u64 {
    (index as u64).wrapping_mul(7_919)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_wrap_around_the_period() {
        let p = Pattern::new(PERIOD + 10);
        assert_eq!(
            p.slice(PERIOD as u64 - 10, 20),
            &p.slice(0, PERIOD + 10)[PERIOD - 10..]
        );
        assert_eq!(p.slice(PERIOD as u64 + 5, 50), p.slice(5, 50));
    }

    #[test]
    fn consecutive_requests_differ() {
        let p = Pattern::new(64);
        assert_ne!(p.slice(0, 64), p.slice(64, 64));
        assert_ne!(p.slice(seed(0), 64), p.slice(seed(1), 64));
    }
}
