//! The UDP engine: one mio loop that receives every datagram on an
//! unconnected socket (so any number of clients are served, each answered
//! at its own address), checks it against the [`DatagramPolicy`], asks the
//! [`DatagramServer`] for the reply and sends it.
//!
//! No error ends the loop: UDP is lossy, so a reply that cannot be sent is
//! dropped and reported, and a `ConnectionRefused` left over from an ICMP
//! error is skipped.

use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::builder::{Builder, Control, Running, spawn_loops};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::handler::DatagramServer;
use crate::policy::{DatagramPolicy, RateLimiter};

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);
/// Larger than any UDP payload (65,507 bytes over IPv4), so nothing is cut.
const MAX_DATAGRAM: usize = 65_536;
/// Datagrams handled per wakeup before checking for shutdown.
const BATCH: usize = 256;

pub(crate) fn start<D: DatagramServer>(
    builder: Builder,
    server: D,
    socket: std::net::UdpSocket,
    local: SocketAddr,
) -> Result<Running> {
    let engine = |source| Error::Engine { source };
    let control = Control::new(builder.observer.clone(), 1);
    let poll = Poll::new().map_err(engine)?;
    let mut socket = UdpSocket::from_std(socket);
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE)
        .map_err(engine)?;
    let waker = Waker::new(poll.registry(), WAKER).map_err(engine)?;
    let _ = control.wakers.set(vec![waker]);
    let mut lp = UdpLoop {
        poll,
        socket,
        server,
        control: control.clone(),
        policy: builder.policy,
        limiter: RateLimiter::new(builder.policy.rate_per_source),
        wants_data: builder.observer.wants_data(),
    };
    let threads = spawn_loops("netcore-udp", &control, vec![Box::new(move || lp.run())])?;
    Ok(Running::new(local, control, threads))
}

struct UdpLoop<D> {
    poll: Poll,
    socket: UdpSocket,
    server: D,
    control: Arc<Control>,
    policy: DatagramPolicy,
    limiter: RateLimiter,
    wants_data: bool,
}

impl<D: DatagramServer> UdpLoop<D> {
    fn run(&mut self) {
        let mut events = Events::with_capacity(16);
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut reply = Vec::with_capacity(MAX_DATAGRAM);
        let mut readable = true;
        while !self.control.stopping() {
            if !readable {
                if let Err(e) = self.poll.poll(&mut events, None) {
                    if e.kind() != io::ErrorKind::Interrupted {
                        self.report("waiting for events", &e);
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    continue;
                }
                readable = events.iter().any(|e| e.token() == SOCKET);
                continue;
            }
            readable = self.serve_batch(&mut buf, &mut reply);
        }
        self.control.loop_exited();
    }

    /// Answers up to [`BATCH`] datagrams; returns whether more may be
    /// waiting.
    fn serve_batch(&mut self, buf: &mut [u8], reply: &mut Vec<u8>) -> bool {
        for _ in 0..BATCH {
            let (n, from) = match self.socket.recv_from(buf) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    self.report("receiving a datagram", &e);
                    return false;
                }
            };
            // Handlers and the policy see IPv4 peers as IPv4; the reply goes
            // to the address as received (mapped, on a dual-stack socket).
            let peer = crate::unmap(from);
            if let Some(why) = self.policy.refuse(peer) {
                self.control.observer.event(&Event::Refused { peer, why });
                continue;
            }
            let request = &buf[..n];
            reply.clear();
            let server = &self.server;
            match catch_unwind(AssertUnwindSafe(|| server.respond(request, peer, reply))) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => {
                    self.report(
                        "answering a datagram",
                        &io::Error::other("the handler panicked"),
                    );
                    continue;
                }
            }
            if !peer.ip().is_loopback() && !self.limiter.allow(peer.ip(), Instant::now()) {
                self.control.observer.event(&Event::Refused {
                    peer,
                    why: "rate limit",
                });
                continue;
            }
            match self.socket.send_to(reply, from) {
                Ok(_) => {
                    if self.wants_data {
                        self.control.observer.event(&Event::Datagram {
                            peer,
                            request,
                            reply,
                        });
                    }
                }
                Err(e) => self.report("sending a reply", &e),
            }
        }
        true
    }

    fn report(&self, op: &'static str, error: &io::Error) {
        self.control.observer.event(&Event::Error {
            conn: None,
            op,
            error,
        });
    }
}
