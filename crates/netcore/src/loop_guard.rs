//! Breaking UDP reflection loops (CVE-1999-0103): one spoofed datagram
//! from one echo (or daytime, or chargen) server's address to another's
//! makes them answer each other forever, tens of thousands of times a
//! second. A rate limit cannot end it without also throttling honest
//! clients (and loopback is not rate-limited at all), but a loop has a
//! mark no client has: the same payload, again and again, from the same
//! address *and port*. Echo returns each datagram unchanged; daytime and
//! chargen answer with the same line for a second at a time.
//!
//! So each service remembers, per peer address and port, a digest of the
//! last payload and how many times in a row it came within the window.
//! Past [`REPEATS`] repeats in [`WINDOW`] the datagram is dropped, which
//! ends the loop within a few dozen bounces. An honest client sends
//! different requests (and a fresh port per run); one that sends the same
//! payload from one socket hundreds of times a second is throttled to
//! `REPEATS` a second, no more.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The same payload from the same peer more often than this within
/// [`WINDOW`] is taken for a loop.
pub(crate) const REPEATS: u32 = 32;

/// How long repeats are counted together.
pub(crate) const WINDOW: Duration = Duration::from_secs(1);

/// Most peers remembered; beyond it, those not seen within the window are
/// forgotten.
const MAX_PEERS: usize = 16_384;

#[derive(Debug, Clone, Copy)]
struct Seen {
    digest: u64,
    repeats: u32,
    since: Instant,
}

/// Per-peer memory of the last payload, for one UDP service.
#[derive(Debug, Default)]
pub(crate) struct LoopGuard {
    peers: HashMap<SocketAddr, Seen>,
}

impl LoopGuard {
    /// Whether to answer `payload` from `peer` at `now`: `false` once the
    /// same payload has come from the same peer more than [`REPEATS`] times
    /// within [`WINDOW`].
    pub fn allow(&mut self, peer: SocketAddr, payload: &[u8], now: Instant) -> bool {
        let digest = digest(payload);
        if self.peers.len() >= MAX_PEERS && !self.peers.contains_key(&peer) {
            self.peers
                .retain(|_, seen| now.saturating_duration_since(seen.since) < WINDOW);
            if self.peers.len() >= MAX_PEERS {
                self.peers.clear();
            }
        }
        let seen = self.peers.entry(peer).or_insert(Seen {
            digest,
            repeats: 0,
            since: now,
        });
        if seen.digest != digest || now.saturating_duration_since(seen.since) >= WINDOW {
            *seen = Seen {
                digest,
                repeats: 0,
                since: now,
            };
        }
        seen.repeats += 1;
        seen.repeats <= REPEATS
    }
}

/// A digest of a payload: its length and its first and last 64 bytes. Two
/// different requests from one honest client differ in these (a payload
/// that differs only in its middle would at worst be throttled to
/// `REPEATS` a second); hashing whole 64 KiB datagrams would cost more
/// than answering them.
fn digest(payload: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    payload.len().hash(&mut h);
    payload[..payload.len().min(64)].hash(&mut h);
    payload[payload.len().saturating_sub(64)..].hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn the_same_payload_from_one_peer_is_cut_off_after_the_repeats() {
        let mut guard = LoopGuard::default();
        let now = Instant::now();
        let answered = (0..1000)
            .filter(|_| guard.allow(peer(5000), b"loop", now))
            .count();
        assert_eq!(answered, REPEATS as usize);
        // Another peer, or the same peer with another port, is not affected.
        assert!(guard.allow(peer(5001), b"loop", now));
        // After the window the peer may repeat again.
        assert!(guard.allow(peer(5000), b"loop", now + WINDOW));
    }

    #[test]
    fn distinct_requests_from_one_peer_are_all_answered() {
        let mut guard = LoopGuard::default();
        let now = Instant::now();
        for i in 0..20_000u32 {
            assert!(guard.allow(peer(5000), &i.to_be_bytes(), now), "{i}");
        }
    }

    #[test]
    fn memory_is_bounded() {
        let mut guard = LoopGuard::default();
        let now = Instant::now();
        for port in 0..=u16::MAX {
            guard.allow(peer(port), b"x", now);
        }
        assert!(guard.peers.len() <= MAX_PEERS);
    }
}
