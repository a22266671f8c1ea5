//! UDP services on the event loop: every loop holds a copy of the socket,
//! registered edge-triggered; when it is readable the loop takes the queued
//! datagrams (on Linux a batch per call, `recvmmsg`/`sendmmsg`, see
//! [`crate::mmsg`], so under load two calls per batch) until the queue is
//! empty or the turn's budget is spent. For each datagram: check the
//! [`DatagramPolicy`], ask the [`DatagramServer`], check the rate limit,
//! reply with `send_to(2)`.
//!
//! No error ends a service: UDP is lossy, so a reply that cannot be sent is
//! dropped and reported, and a `ConnectionRefused` left over from an ICMP
//! error is skipped. Shutdown needs no datagram: the loops' wakers stop
//! them, so a socket bound to a broadcast or multicast address stops like
//! any other.

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::event::Event;
use crate::handler::DatagramServer;
use crate::lifecycle::Control;
use crate::loop_guard::LoopGuard;
use crate::policy::{DatagramPolicy, RateLimiter};

/// Larger than any UDP payload (65,507 bytes over IPv4), so nothing is cut.
const MAX_DATAGRAM: usize = 65_536;

/// Receive calls per service per turn of the loop, so a flood cannot
/// starve the loop's connections.
const BATCHES_PER_TURN: usize = 8;

/// What every loop shares of one UDP service.
pub(crate) struct UdpService {
    pub name: Arc<str>,
    pub server: Box<dyn DatagramServer>,
    pub policy: DatagramPolicy,
    pub limiter: Mutex<RateLimiter>,
    /// Breaks reflection loops: the same payload again and again from one
    /// peer.
    pub guard: Mutex<LoopGuard>,
    /// The addresses of every UDP socket of this engine, this one's too.
    pub own: Arc<[SocketAddr]>,
}

/// A loop's buffers for receiving and answering datagrams.
pub(crate) struct Datagrams {
    #[cfg(target_os = "linux")]
    batch: crate::mmsg::Batch,
    #[cfg(target_os = "linux")]
    replies: Vec<Vec<u8>>,
    #[cfg(target_os = "linux")]
    to: Vec<usize>,
    #[cfg(not(target_os = "linux"))]
    buf: Vec<u8>,
    #[cfg(not(target_os = "linux"))]
    reply: Vec<u8>,
}

impl Datagrams {
    pub fn new() -> Self {
        #[cfg(target_os = "linux")]
        return Datagrams {
            batch: crate::mmsg::Batch::new(MAX_DATAGRAM),
            replies: (0..crate::mmsg::BATCH).map(|_| Vec::new()).collect(),
            to: Vec::with_capacity(crate::mmsg::BATCH),
        };
        #[cfg(not(target_os = "linux"))]
        return Datagrams {
            buf: vec![0; MAX_DATAGRAM],
            reply: Vec::with_capacity(MAX_DATAGRAM),
        };
    }

    /// Answers what is queued on `socket`; returns whether datagrams may be
    /// left when the turn's budget ran out.
    #[cfg(target_os = "linux")]
    pub fn drain(
        &mut self,
        socket: &mio::net::UdpSocket,
        service: &UdpService,
        control: &Control,
    ) -> bool {
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd();
        for _ in 0..BATCHES_PER_TURN {
            let n = match self.batch.recv(fd) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) => {
                    if !receive_failed(control, service, &e) {
                        return false;
                    }
                    continue;
                }
            };
            self.to.clear();
            let Ok(mut guard) = service.guard.lock() else {
                return false;
            };
            let now = Instant::now();
            for (i, reply) in self.replies.iter_mut().enumerate().take(n) {
                if let (request, Some(from)) = self.batch.datagram(i) {
                    if answer(service, control, &mut guard, now, request, from, reply) {
                        self.to.push(i);
                    }
                }
            }
            drop(guard);
            let failed = self.batch.send(fd, &self.to, &self.replies);
            for (_, e) in &failed {
                report(control, service, "sending a reply", e);
            }
            if control.wants_data {
                for &i in self
                    .to
                    .iter()
                    .filter(|i| !failed.iter().any(|(f, _)| f == *i))
                {
                    if let (request, Some(from)) = self.batch.datagram(i) {
                        control.emit(&Event::Datagram {
                            service: &service.name,
                            peer: crate::unmap(from),
                            request,
                            reply: &self.replies[i],
                        });
                    }
                }
            }
        }
        true
    }

    /// Answers what is queued on `socket`, one datagram at a time; returns
    /// whether datagrams may be left when the turn's budget ran out.
    #[cfg(not(target_os = "linux"))]
    pub fn drain(
        &mut self,
        socket: &mio::net::UdpSocket,
        service: &UdpService,
        control: &Control,
    ) -> bool {
        for _ in 0..BATCHES_PER_TURN * 16 {
            let (n, from) = match socket.recv_from(&mut self.buf) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) => {
                    if !receive_failed(control, service, &e) {
                        return false;
                    }
                    continue;
                }
            };
            let request = &self.buf[..n];
            let Ok(mut guard) = service.guard.lock() else {
                return false;
            };
            if !answer(
                service,
                control,
                &mut guard,
                Instant::now(),
                request,
                from,
                &mut self.reply,
            ) {
                continue;
            }
            drop(guard);
            match socket.send_to(&self.reply, from) {
                Ok(_) if control.wants_data => control.emit(&Event::Datagram {
                    service: &service.name,
                    peer: crate::unmap(from),
                    request,
                    reply: &self.reply,
                }),
                Ok(_) => {}
                Err(e) => report(control, service, "sending a reply", &e),
            }
        }
        true
    }
}

/// Handles a failed receive; returns whether to keep receiving this turn.
fn receive_failed(control: &Control, service: &UdpService, e: &io::Error) -> bool {
    // Left over from an ICMP error about an earlier reply: not ours to fix.
    let transient = matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    );
    if !transient {
        report(control, service, "receiving a datagram", e);
    }
    // A persistent failure (ENOMEM...) waits for the next readiness edge
    // instead of spinning.
    transient
}

/// Decides on one datagram from `from` and makes the reply in `reply`:
/// the policy first, then the loop guard, then the server, then the rate
/// limit. Returns whether to send it.
fn answer(
    service: &UdpService,
    control: &Control,
    guard: &mut LoopGuard,
    now: Instant,
    request: &[u8],
    from: SocketAddr,
    reply: &mut Vec<u8>,
) -> bool {
    // Handlers and the policy see IPv4 peers as IPv4; the reply goes to the
    // address as received (mapped, on a dual-stack socket).
    let peer = crate::unmap(from);
    if let Some(why) = service.policy.refuse(peer) {
        control.emit(&Event::Refused {
            service: &service.name,
            peer,
            why,
        });
        return false;
    }
    if is_own(&service.own, peer) {
        control.emit(&Event::Refused {
            service: &service.name,
            peer,
            why: "sent from one of this server's own sockets (a loop)",
        });
        return false;
    }
    if !guard.allow(from, request, now) {
        control.emit(&Event::Refused {
            service: &service.name,
            peer,
            why: "the same datagram again and again (a reflection loop?)",
        });
        return false;
    }
    reply.clear();
    let server = &service.server;
    match catch_unwind(AssertUnwindSafe(|| server.respond(request, peer, reply))) {
        Ok(true) => {}
        Ok(false) => return false,
        Err(payload) => {
            report(
                control,
                service,
                "answering a datagram",
                &io::Error::other(crate::conn::panic_message(payload.as_ref())),
            );
            return false;
        }
    }
    if !peer.ip().is_loopback() && !allowed(service, peer) {
        control.emit(&Event::Refused {
            service: &service.name,
            peer,
            why: "rate limit",
        });
        return false;
    }
    guard.replied(from, reply);
    true
}

/// Whether `peer` is one of the engine's own UDP sockets: its port, and
/// an address the socket sends from (its own, any when it is bound to a
/// wildcard, and loopback, which reaches every local socket).
fn is_own(own: &[SocketAddr], peer: SocketAddr) -> bool {
    own.iter().any(|mine| {
        mine.port() == peer.port()
            && (mine.ip().is_unspecified() || mine.ip() == peer.ip() || peer.ip().is_loopback())
    })
}

fn allowed(service: &UdpService, peer: SocketAddr) -> bool {
    match service.limiter.lock() {
        Ok(mut limiter) => limiter.allow(peer.ip(), Instant::now()),
        // A loop panicked while holding the lock: be safe, refuse.
        Err(_) => false,
    }
}

fn report(control: &Control, service: &UdpService, op: &'static str, error: &io::Error) {
    control.emit(&Event::Error {
        service: &service.name,
        conn: None,
        op,
        error,
    });
}
