//! Echo and daytime over UDP: one connected socket per "connection", with
//! a window of `depth` requests in flight on each (one by default), a
//! timeout counting a loss.
//!
//! Replies are matched to requests in order: over loopback a socket's
//! datagrams arrive in the order sent, so a reply is for the oldest request
//! in flight, or, when an earlier reply was dropped (a full receive
//! buffer), for a later one; the skipped requests count as lost. Each echo
//! request is a different window of the pattern, so a reply can only
//! verify against the request it answers.

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};

use crate::Workload;
use crate::daytime_tcp::is_daytime_line;
use crate::engine::{self, Gate, LoopResult, Shared};
use crate::pattern::seed;

struct Requester {
    socket: Option<UdpSocket>,
    seed: u64,
    /// The pattern offset of the oldest request in flight.
    offset: u64,
    /// When each request in flight was sent, oldest first.
    sent: VecDeque<Instant>,
    /// Since when the socket has been set aside after an error or a
    /// mismatch, to be replaced after the timeout (no loss counted).
    resting_since: Option<Instant>,
    idle: bool,
}

/// A UDP socket on an ephemeral port of `addr`'s family, connected to
/// `addr` so that only its datagrams are received, registered as `token`.
fn open(registry: &Registry, addr: SocketAddr, token: Token) -> io::Result<UdpSocket> {
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let mut socket = UdpSocket::bind(local)?;
    socket.connect(addr)?;
    registry.register(&mut socket, token, Interest::READABLE)?;
    Ok(socket)
}

impl Requester {
    /// Sends requests until `depth` are in flight.
    fn fill(
        &mut self,
        shared: &Shared<'_>,
        size: usize,
        depth: usize,
        now: Instant,
    ) -> io::Result<()> {
        while self.sent.len() < depth {
            let Some(socket) = self.socket.as_ref() else {
                return Err(io::ErrorKind::NotConnected.into());
            };
            let at = self.offset + (self.sent.len() * size) as u64;
            let payload = shared.pattern.slice(self.seed + at, size);
            loop {
                match socket.send(payload) {
                    Ok(_) => break,
                    // A full send buffer loses the datagram like the
                    // network would: the timeout counts it.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.sent.push_back(now);
        }
        Ok(())
    }

    /// Sets the socket aside after an error or a mismatch: what is in
    /// flight is forgotten, and the socket is replaced after the timeout.
    fn rest(&mut self, size: usize, now: Instant) {
        self.offset += (self.sent.len() * size) as u64;
        self.sent.clear();
        self.resting_since = Some(now);
    }

    /// Which request in flight `reply` answers: its place in the window.
    fn answers(
        &self,
        shared: &Shared<'_>,
        reply: &[u8],
        size: usize,
        daytime: bool,
    ) -> Option<usize> {
        if daytime {
            return is_daytime_line(reply).then_some(0);
        }
        (0..self.sent.len()).find(|&i| {
            let at = self.offset + (i * size) as u64;
            reply == shared.pattern.slice(self.seed + at, size)
        })
    }
}

pub(crate) fn requests(
    shared: &Shared<'_>,
    indices: &[usize],
    gate: &mut Gate<'_, '_>,
) -> LoopResult {
    let mut result = LoopResult::new();
    let size = match shared.config.workload {
        Workload::Echo { size } => size,
        _ => 0,
    };
    let daytime = shared.config.workload == Workload::Daytime;
    let depth = shared.config.depth;
    let addr = shared.config.addr;
    let timeout = shared.config.effective_timeout();
    let (mut poll, mut events) = match engine::new_poll() {
        Ok(p) => p,
        Err(e) => {
            result.connect_failed(e);
            return result;
        }
    };
    let mut slots: Vec<Requester> = Vec::with_capacity(indices.len());
    for (i, &index) in indices.iter().enumerate() {
        let socket = match open(poll.registry(), addr, Token(i)) {
            Ok(s) => Some(s),
            Err(e) => {
                result.connect_failed(e);
                None
            }
        };
        slots.push(Requester {
            socket,
            seed: seed(index),
            offset: 0,
            sent: VecDeque::with_capacity(depth),
            resting_since: None,
            idle: false,
        });
    }
    let Some(start) = gate.pass() else {
        return result;
    };
    let deadline = start + shared.config.duration;
    for slot in slots.iter_mut().filter(|s| s.socket.is_some()) {
        if let Err(e) = slot.fill(shared, size, depth, start) {
            result.error(e);
            slot.rest(size, start);
        }
    }
    let mut scratch = vec![0u8; 65_536];
    // Timeouts are checked in sweeps, a few per timeout period.
    let sweep_every = (timeout / 4).max(Duration::from_millis(1));
    let mut next_sweep = start + sweep_every;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if now >= next_sweep {
            next_sweep = now + sweep_every;
            for (i, slot) in slots.iter_mut().enumerate() {
                let since = slot.sent.front().copied().or(slot.resting_since);
                if slot.idle || since.is_none_or(|t| now.duration_since(t) < timeout) {
                    continue;
                }
                result.losses += slot.sent.len() as u64;
                slot.offset += (slot.sent.len() * size) as u64;
                slot.sent.clear();
                slot.resting_since = None;
                // A fresh socket (a new port): a late reply to a lost
                // request can then never be taken for a later one's.
                slot.socket = None;
                match open(poll.registry(), addr, Token(i)) {
                    Ok(s) => slot.socket = Some(s),
                    Err(e) => result.error(e),
                }
                if let Err(e) = slot.fill(shared, size, depth, now) {
                    result.error(e);
                    slot.rest(size, now);
                }
            }
        }
        let wake = next_sweep.min(deadline);
        if let Err(e) = engine::poll(&mut poll, &mut events, wake.saturating_duration_since(now)) {
            result.error(e);
            break;
        }
        for event in events.iter() {
            let Some(slot) = slots.get_mut(event.token().0) else {
                continue;
            };
            while let Some(socket) = slot.socket.as_ref() {
                let n = match socket.recv(&mut scratch) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        // ICMP port unreachable, say: try again after the
                        // timeout, without counting a loss.
                        result.error(e);
                        slot.rest(size, Instant::now());
                        break;
                    }
                };
                if slot.sent.is_empty() {
                    continue;
                }
                let Some(place) = slot.answers(shared, &scratch[..n], size, daytime) else {
                    result.mismatches += 1;
                    slot.rest(size, Instant::now());
                    continue;
                };
                // The requests before this one lost their replies.
                result.losses += place as u64;
                slot.offset += ((place + 1) * size) as u64;
                slot.sent.drain(..place);
                let Some(sent_at) = slot.sent.pop_front() else {
                    continue;
                };
                let now = Instant::now();
                if now <= deadline {
                    result.done(sent_at, now, size as u64, shared.progress);
                }
                if now >= deadline {
                    slot.idle = true;
                    slot.sent.clear();
                    break;
                }
                if let Err(e) = slot.fill(shared, size, depth, now) {
                    result.error(e);
                    slot.rest(size, now);
                }
                if depth == 1 {
                    // The one request in flight was just sent: its reply
                    // cannot be here yet, so save the recv that would say so.
                    break;
                }
            }
        }
    }
    gate.finish();
    result
}
