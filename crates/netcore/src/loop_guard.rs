//! Breaking UDP reflection loops (CVE-1999-0103): one spoofed datagram
//! from one echo (or daytime, or chargen) server's address to another's
//! makes them answer each other forever, tens of thousands of times a
//! second. A rate limit cannot end it without also throttling honest
//! clients (and loopback is not rate-limited at all), but a loop has a
//! mark no client has: the same payload, again and again, from the same
//! address *and port*. Echo returns each datagram unchanged; daytime and
//! chargen answer with the same line for a second at a time.
//!
//! So each service remembers, per peer address and port, digests of the
//! last 16 requests and the last 16 replies (several spoofed payloads may
//! bounce at once). A request is suspect when it is one of our recent
//! replies coming back (an echo of us), or the same non-empty payload as
//! one of that peer's recent ones (a server answering us with its fixed
//! line). Past [`REPEATS`] suspects in a row within [`WINDOW`] the datagram
//! is dropped; dropping one bounce ends the loop. An honest client sends
//! different requests, or empty ones to a daytime server (whose reply is
//! never empty, so never "our reply coming back"); one that sends the same
//! non-empty payload from one socket hundreds of times a second is
//! throttled to `REPEATS` a second, no more.

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

/// How many recent requests and replies are remembered per peer: a loop
/// carrying several spoofed payloads at once alternates between them, so
/// "the last one" alone would never match.
const RECENT: usize = 16;

/// The last [`RECENT`] digests, newest overwriting oldest.
#[derive(Debug, Clone, Copy, Default)]
struct Ring {
    digests: [u64; RECENT],
    len: usize,
    next: usize,
}

impl Ring {
    fn push(&mut self, digest: u64) {
        self.digests[self.next] = digest;
        self.next = (self.next + 1) % RECENT;
        self.len = (self.len + 1).min(RECENT);
    }

    fn contains(&self, digest: u64) -> bool {
        self.digests[..self.len].contains(&digest)
    }
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Recent requests' digests (non-empty ones).
    requests: Ring,
    /// Recent replies' digests.
    replies: Ring,
    /// Suspect requests in a row, since `since`.
    repeats: u32,
    since: Instant,
}

/// Per-peer memory of recent payloads, for one UDP service.
#[derive(Debug, Default)]
pub(crate) struct LoopGuard {
    peers: HashMap<SocketAddr, Seen>,
}

impl LoopGuard {
    /// Whether to answer `payload` from `peer` at `now`: `false` once more
    /// than [`REPEATS`] suspect requests (one of our recent replies coming
    /// back, or a recent non-empty request again) have come in a row within
    /// [`WINDOW`].
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
            requests: Ring::default(),
            replies: Ring::default(),
            repeats: 0,
            since: now,
        });
        let suspect = seen.replies.contains(digest)
            || (!payload.is_empty() && seen.requests.contains(digest));
        if !payload.is_empty() {
            seen.requests.push(digest);
        }
        if !suspect || now.saturating_duration_since(seen.since) >= WINDOW {
            seen.repeats = 0;
            seen.since = now;
            return true;
        }
        seen.repeats += 1;
        seen.repeats <= REPEATS
    }

    /// Notes the reply sent to `peer`, to know it if it comes back.
    pub fn replied(&mut self, peer: SocketAddr, reply: &[u8]) {
        if let Some(seen) = self.peers.get_mut(&peer) {
            seen.replies.push(digest(reply));
        }
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
        // The first is not a repeat, then REPEATS repeats pass.
        assert_eq!(answered, REPEATS as usize + 1);
        // Another peer, or the same peer with another port, is not affected.
        assert!(guard.allow(peer(5001), b"loop", now));
        // After the window the peer may repeat again.
        assert!(guard.allow(peer(5000), b"loop", now + WINDOW));
    }

    #[test]
    fn our_own_reply_coming_back_is_a_loop_even_when_empty() {
        let mut guard = LoopGuard::default();
        let now = Instant::now();
        // Two echo servers bouncing an empty datagram: each request is our
        // last reply.
        let answered = (0..1000)
            .filter(|_| {
                let ok = guard.allow(peer(7), b"", now);
                if ok {
                    guard.replied(peer(7), b"");
                }
                ok
            })
            .count();
        assert_eq!(answered, REPEATS as usize + 1);
    }

    #[test]
    fn a_loop_carrying_several_payloads_at_once_is_cut_off_too() {
        let mut guard = LoopGuard::default();
        let now = Instant::now();
        // Two echo servers bouncing three spoofed payloads, interleaved.
        let payloads: [&[u8]; 3] = [b"one", b"two", b"three"];
        let answered = (0..3000)
            .filter(|i| {
                let p = payloads[i % 3];
                let ok = guard.allow(peer(7), p, now);
                if ok {
                    guard.replied(peer(7), p);
                }
                ok
            })
            .count();
        assert!(answered < 3 + 2 * REPEATS as usize, "{answered}");
    }

    #[test]
    fn a_daytime_client_polling_with_empty_requests_is_never_throttled() {
        let mut guard = LoopGuard::default();
        let now = Instant::now();
        for _ in 0..10_000 {
            assert!(guard.allow(peer(5000), b"", now));
            guard.replied(peer(5000), b"Tue Dec  1 04:40:00 2026\n");
        }
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
