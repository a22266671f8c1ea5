//! Echo and daytime over UDP: one connected socket per "connection", one
//! request outstanding on each, a timeout counting a loss.

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
    offset: u64,
    started: Instant,
    /// Waiting for a reply (not backing off after an error).
    waiting: bool,
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
    fn send(&mut self, shared: &Shared<'_>, size: usize, now: Instant) -> io::Result<()> {
        self.started = now;
        self.waiting = true;
        let Some(socket) = self.socket.as_ref() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let payload = shared.pattern.slice(self.seed + self.offset, size);
        loop {
            match socket.send(payload) {
                Ok(_) => return Ok(()),
                // A full send buffer loses the datagram like the network
                // would: the timeout counts it.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
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
            started: Instant::now(),
            waiting: false,
            idle: false,
        });
    }
    let Some(start) = gate.pass() else {
        return result;
    };
    let deadline = start + shared.config.duration;
    for slot in slots.iter_mut().filter(|s| s.socket.is_some()) {
        if let Err(e) = slot.send(shared, size, start) {
            result.error(e);
            slot.waiting = false;
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
                if slot.idle || now.duration_since(slot.started) < timeout {
                    continue;
                }
                if slot.waiting {
                    result.losses += 1;
                }
                // A fresh socket (a new port): a late reply to the lost
                // request can then never be taken for the next one's.
                slot.socket = None;
                slot.offset += size as u64;
                match open(poll.registry(), addr, Token(i)) {
                    Ok(s) => slot.socket = Some(s),
                    Err(e) => result.error(e),
                }
                if let Err(e) = slot.send(shared, size, now) {
                    result.error(e);
                    slot.waiting = false;
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
                        slot.waiting = false;
                        break;
                    }
                };
                if !slot.waiting {
                    continue;
                }
                let reply = &scratch[..n];
                let ok = if daytime {
                    is_daytime_line(reply)
                } else {
                    reply == shared.pattern.slice(slot.seed + slot.offset, size)
                };
                if !ok {
                    result.mismatches += 1;
                    slot.waiting = false;
                    continue;
                }
                let now = Instant::now();
                if now <= deadline {
                    result.done(slot.started, now, size as u64, shared.progress);
                }
                slot.offset += size as u64;
                if now >= deadline {
                    slot.idle = true;
                    slot.waiting = false;
                    break;
                }
                if let Err(e) = slot.send(shared, size, now) {
                    result.error(e);
                    slot.waiting = false;
                }
                // One request is outstanding: its reply cannot be here yet.
                break;
            }
        }
    }
    gate.finish();
    result
}
