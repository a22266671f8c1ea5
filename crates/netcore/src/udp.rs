//! The UDP engine: receiver threads ([`Builder::threads`]) on one
//! unconnected socket, so any number of clients are served, each answered
//! at its own address. For each datagram: check the [`DatagramPolicy`], ask
//! the [`DatagramServer`], `send_to(2)` the reply.
//!
//! Each receiver takes datagrams until the queue is empty (on Linux a batch
//! per call, `recvmmsg`/`sendmmsg`, see [`crate::mmsg`]; so under load it
//! is two calls per batch), and only then waits in its own mio poll, on the
//! socket and on a waker. Shutdown wakes every receiver through its waker:
//! no datagram is sent, so a server bound to a broadcast or multicast
//! address (where a datagram to itself would fail, or leave the host)
//! stops like any other.
//!
//! No error ends a receiver: UDP is lossy, so a reply that cannot be sent is
//! dropped and reported, and a `ConnectionRefused` left over from an ICMP
//! error is skipped.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

use crate::builder::{Builder, Control, Running, Wake, spawn_loops};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::handler::DatagramServer;
use crate::policy::{DatagramPolicy, RateLimiter};

/// Larger than any UDP payload (65,507 bytes over IPv4), so nothing is cut.
const MAX_DATAGRAM: usize = 65_536;

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);

struct Shared<D> {
    server: D,
    control: Arc<Control>,
    policy: DatagramPolicy,
    limiter: Mutex<RateLimiter>,
    wants_data: bool,
}

/// One receiver's socket handle and the poll it waits in when the queue
/// is empty.
struct Receiver {
    socket: mio::net::UdpSocket,
    poll: Poll,
    events: Events,
}

impl Receiver {
    /// Waits until the socket may have datagrams or the waker fired.
    fn wait(&mut self, control: &Control) {
        match self.poll.poll(&mut self.events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                report(control, "waiting for datagrams", &e);
                // Persistent failure: do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

pub(crate) fn start<D: DatagramServer>(
    builder: Builder,
    server: D,
    socket: UdpSocket,
    local: SocketAddr,
) -> Result<Running> {
    let engine = |source| Error::Engine { source };
    let threads = builder.threads;
    let control = Control::new(builder.observer.clone(), threads);
    socket.set_nonblocking(true).map_err(engine)?;
    let mut receivers = Vec::with_capacity(threads);
    let mut wakers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let poll = Poll::new().map_err(engine)?;
        let mut handle = mio::net::UdpSocket::from_std(socket.try_clone().map_err(engine)?);
        poll.registry()
            .register(&mut handle, SOCKET, Interest::READABLE)
            .map_err(engine)?;
        wakers.push(Wake::Poll(
            Waker::new(poll.registry(), WAKER).map_err(engine)?,
        ));
        receivers.push(Receiver {
            socket: handle,
            poll,
            events: Events::with_capacity(4),
        });
    }
    drop(socket);
    let _ = control.wakers.set(wakers);
    let shared = Arc::new(Shared {
        server,
        control: control.clone(),
        policy: builder.policy,
        limiter: Mutex::new(RateLimiter::new(builder.policy.rate_per_source)),
        wants_data: builder.observer.wants_data(),
    });
    let bodies = receivers
        .into_iter()
        .map(|mut receiver| {
            let shared = shared.clone();
            Box::new(move || receive(&shared, &mut receiver)) as Box<dyn FnOnce() + Send>
        })
        .collect();
    let threads = spawn_loops("netcore-udp", &control, bodies)?;
    Ok(Running::new(local, control, threads))
}

/// One receiver: answer datagrams until shutdown, a batch at a time where
/// the system has `recvmmsg`.
#[cfg(target_os = "linux")]
fn receive<D: DatagramServer>(shared: &Shared<D>, receiver: &mut Receiver) {
    use std::os::fd::AsRawFd;
    let control = &shared.control;
    let fd = receiver.socket.as_raw_fd();
    let mut batch = crate::mmsg::Batch::new(MAX_DATAGRAM);
    let mut replies: Vec<Vec<u8>> = (0..crate::mmsg::BATCH).map(|_| Vec::new()).collect();
    let mut to = Vec::with_capacity(crate::mmsg::BATCH);
    while !control.stopping() {
        let n = match batch.recv(fd) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                receiver.wait(control);
                continue;
            }
            Err(e) => {
                if !receive_failed(control, &e) {
                    break;
                }
                continue;
            }
        };
        to.clear();
        for (i, reply) in replies.iter_mut().enumerate().take(n) {
            if let (request, Some(from)) = batch.datagram(i) {
                if answer(shared, request, from, reply) {
                    to.push(i);
                }
            }
        }
        let failed = batch.send(fd, &to, &replies);
        for (_, e) in &failed {
            report(control, "sending a reply", e);
        }
        if shared.wants_data {
            for &i in to.iter().filter(|i| !failed.iter().any(|(f, _)| f == *i)) {
                if let (request, Some(from)) = batch.datagram(i) {
                    control.emit(&Event::Datagram {
                        peer: crate::unmap(from),
                        request,
                        reply: &replies[i],
                    });
                }
            }
        }
    }
    control.loop_exited();
}

/// One receiver: answer datagrams until shutdown, one at a time.
#[cfg(not(target_os = "linux"))]
fn receive<D: DatagramServer>(shared: &Shared<D>, receiver: &mut Receiver) {
    let control = &shared.control;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut reply = Vec::with_capacity(MAX_DATAGRAM);
    while !control.stopping() {
        let (n, from) = match receiver.socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                receiver.wait(control);
                continue;
            }
            Err(e) => {
                if !receive_failed(control, &e) {
                    break;
                }
                continue;
            }
        };
        let request = &buf[..n];
        if !answer(shared, request, from, &mut reply) {
            continue;
        }
        match receiver.socket.send_to(&reply, from) {
            Ok(_) if shared.wants_data => control.emit(&Event::Datagram {
                peer: crate::unmap(from),
                request,
                reply: &reply,
            }),
            Ok(_) => {}
            Err(e) => report(control, "sending a reply", &e),
        }
    }
    control.loop_exited();
}

/// Handles a failed receive; returns whether to keep receiving.
fn receive_failed(control: &Control, e: &io::Error) -> bool {
    if control.stopping() {
        return false;
    }
    // Left over from an ICMP error about an earlier reply: not ours to fix.
    let transient = matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    );
    if !transient {
        report(control, "receiving a datagram", e);
        // Persistent failure (ENOMEM...): do not spin.
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Decides on one datagram from `from` and makes the reply in `reply`:
/// the policy first, then the server, then the rate limit. Returns whether
/// to send it.
fn answer<D: DatagramServer>(
    shared: &Shared<D>,
    request: &[u8],
    from: SocketAddr,
    reply: &mut Vec<u8>,
) -> bool {
    let control = &shared.control;
    // Handlers and the policy see IPv4 peers as IPv4; the reply goes to the
    // address as received (mapped, on a dual-stack socket).
    let peer = crate::unmap(from);
    if let Some(why) = shared.policy.refuse(peer) {
        control.emit(&Event::Refused { peer, why });
        return false;
    }
    reply.clear();
    let server = &shared.server;
    match catch_unwind(AssertUnwindSafe(|| server.respond(request, peer, reply))) {
        Ok(true) => {}
        Ok(false) => return false,
        Err(_) => {
            report(
                control,
                "answering a datagram",
                &io::Error::other("the handler panicked"),
            );
            return false;
        }
    }
    if !peer.ip().is_loopback() && !allowed(shared, peer) {
        control.emit(&Event::Refused {
            peer,
            why: "rate limit",
        });
        return false;
    }
    true
}

fn allowed<D>(shared: &Shared<D>, peer: SocketAddr) -> bool {
    match shared.limiter.lock() {
        Ok(mut limiter) => limiter.allow(peer.ip(), Instant::now()),
        // A receiver panicked while holding the lock: be safe, refuse.
        Err(_) => false,
    }
}

fn report(control: &Control, op: &'static str, error: &io::Error) {
    control.emit(&Event::Error {
        conn: None,
        op,
        error,
    });
}
