//! Accepting: taking connections from a service's listener up to its
//! limit, dealing them over the loops (see [`crate::handoff`]), making each
//! one's handler and core, and the accept policy. Every
//! `accept(2)` error is sorted into "the backlog is empty", "that one
//! connection failed, take the next", or "out of a resource, pause
//! accepting" (with a backoff, never a busy spin), and the accept loop
//! never dies of one.

use std::io;
use std::time::Instant;

use mio::{Interest, Token};

use crate::conn::Core;
use crate::event::{CloseReason, Event};
use crate::event_loop::{BACKOFF_MAX, BACKOFF_MIN, Loop, LoopSocket, Slot};
use crate::handle::ConnHandle;
use crate::handler::ConnectionInfo;
use crate::handoff::Handoff;
use crate::services::Socket;
use crate::stream_io::Conn;
use crate::timers::Key;

/// Connections accepted per service per turn of the loop, per loop they
/// are dealt to: each loop's share of a turn is as many as it would have
/// accepted for itself.
const ACCEPTS_PER_TURN: usize = 64;

impl Loop {
    pub(crate) fn accept_all(&mut self) {
        for s in 0..self.sockets.len() {
            if matches!(self.sockets[s], LoopSocket::Tcp(Some(_))) {
                self.accept(s);
            }
        }
    }

    /// Accepts from service `s` until the backlog is empty, the service is
    /// at its connection limit, or a resource error pauses accepting; then
    /// hands each other loop its share at once and opens this loop's own.
    pub(crate) fn accept(&mut self, s: usize) {
        if self.spread.alone() {
            return self.take_backlog(s);
        }
        self.take_backlog(s);
        self.spread.send();
        let me = self.spread.me;
        let mut own = std::mem::take(&mut self.spread.batches[me]);
        for h in own.drain(..) {
            self.open_connection(h.service, h.stream, h.peer);
        }
        self.spread.batches[me] = own;
    }

    /// Opens the connections other loops accepted for this one.
    pub(crate) fn open_handoffs(&mut self) {
        let mut incoming = std::mem::take(&mut self.spread.incoming);
        self.mailbox.inbox.take(&mut incoming);
        for h in incoming.drain(..) {
            self.open_connection(h.service, h.stream, h.peer);
        }
        self.spread.incoming = incoming;
    }

    /// The accept loop proper: with one loop, each connection opens as it
    /// is accepted; with more, it is dealt to a loop's batch.
    fn take_backlog(&mut self, s: usize) {
        let shared = self.shared.clone();
        let Socket::Tcp(service) = &shared.services[s] else {
            return;
        };
        let control = &shared.control;
        let mut budget = ACCEPTS_PER_TURN * self.spread.loops.len().max(1);
        while self.accept_resume.is_none() && !control.stopping() {
            let LoopSocket::Tcp(Some(listener)) = &self.sockets[s] else {
                return;
            };
            if budget == 0 {
                // A flood of connections must not starve the loop's open
                // connections and timers: the rest wait for the next turn.
                self.accept_again.push(s);
                return;
            }
            budget -= 1;
            if !service.take_slot(control) {
                return;
            }
            match listener.accept() {
                Ok((stream, peer)) => {
                    self.backoff = BACKOFF_MIN;
                    if self.spread.alone() {
                        self.open_connection(s, stream, peer);
                    } else {
                        self.spread.deal(Handoff {
                            service: s,
                            stream,
                            peer,
                        });
                        // In a flood, the other loops get theirs every
                        // round of accepts, not only at the turn's end.
                        if budget % ACCEPTS_PER_TURN == 0 {
                            self.spread.send();
                        }
                    }
                }
                Err(e) => {
                    service.give_back_slot(control);
                    match classify(&e) {
                        AcceptError::Drained => return,
                        AcceptError::Retry => continue,
                        AcceptError::BackOff => {
                            self.report(None, &service.name, "accepting a connection", &e);
                            self.accept_resume = Some(Instant::now() + self.backoff);
                            self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn open_connection(
        &mut self,
        s: usize,
        stream: mio::net::TcpStream,
        peer: std::net::SocketAddr,
    ) {
        let shared = self.shared.clone();
        let Socket::Tcp(service) = &shared.services[s] else {
            return;
        };
        let control = &shared.control;
        let peer = crate::unmap(peer);
        if let Err(why) = service.admit(peer.ip()) {
            control.emit(&Event::Rejected {
                service: &service.name,
                peer,
                why,
            });
            drop(stream);
            service.give_back_slot(control);
            return;
        }
        let local = match service.fixed_local {
            Some(l) => Ok(l),
            None => stream.local_addr().map(crate::unmap),
        };
        let local = match local {
            Ok(l) => l,
            Err(e) => {
                self.report(None, &service.name, "reading the local address of", &e);
                service.release(peer.ip());
                service.give_back_slot(control);
                return;
            }
        };
        let info = ConnectionInfo {
            id: shared.next_id(),
            service: service.name.clone(),
            peer: Some(peer),
            local: Some(local),
        };
        control.emit(&Event::Accepted { conn: &info });
        let handler = match service.server.handler(&info) {
            Ok(h) => h,
            Err(message) => {
                let e = io::Error::other(message);
                self.report(Some(&info), &service.name, "making the handler of", &e);
                control.emit(&Event::Closed {
                    conn: &info,
                    reason: CloseReason::HandlerPanic,
                    bytes_in: 0,
                    bytes_out: 0,
                });
                service.release(peer.ip());
                service.give_back_slot(control);
                return;
            }
        };
        let i = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::default());
            self.slots.len() - 1
        });
        self.slots[i].generation += 1;
        let key = Key {
            slot: i,
            generation: self.slots[i].generation,
        };
        let handle = ConnHandle::new(self.mailbox.clone(), key);
        let now = Instant::now();
        let mut conn = Conn::new(stream, s, Core::new(handler, info, Some(handle), now));
        // A greeting counts against the output budget like any output.
        conn.core.set_tight(self.queued > self.budget);
        if let Err(reason) = conn.core.open(control) {
            self.free.push(i);
            return self.finish(conn, reason);
        }
        // The lean path (daytime): greet and close without ever registering
        // the socket, when the greeting fits the socket buffer.
        if let Err(e) = conn.flush(now, control) {
            self.free.push(i);
            self.report(Some(&conn.core.info), &service.name, "writing to", &e);
            return self.finish(conn, CloseReason::Error);
        }
        if let crate::conn::Next::Close(reason) = conn.core.next() {
            if !conn.linger_if_input_waits(reason) {
                self.free.push(i);
                return self.finish(conn, reason);
            }
        }
        if service.nodelay {
            let _ = conn.stream.set_nodelay(true);
        }
        let token = Token(self.sockets.len() + i);
        if let Err(e) = self.poll.registry().register(
            &mut conn.stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.free.push(i);
            self.report(Some(&conn.core.info), &service.name, "registering", &e);
            return self.finish(conn, CloseReason::Error);
        }
        self.queued += conn.core.queued();
        self.slots[i].conn = Some(Box::new(conn));
        self.with_conn(i, |l, c| l.pump(c));
    }
}

pub(crate) enum AcceptError {
    /// No more pending connections.
    Drained,
    /// That one connection failed (aborted before accept); try the next.
    Retry,
    /// Out of descriptors or memory, or something unexpected: pause
    /// accepting for a while instead of spinning.
    BackOff,
}

pub(crate) fn classify(e: &io::Error) -> AcceptError {
    match e.kind() {
        io::ErrorKind::WouldBlock => return AcceptError::Drained,
        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => return AcceptError::Retry,
        _ => {}
    }
    match e.raw_os_error() {
        Some(
            libc::EPROTO
            | libc::EPERM
            | libc::ECONNRESET
            | libc::ENETDOWN
            | libc::ENOPROTOOPT
            | libc::EHOSTDOWN
            | libc::ENONET
            | libc::EHOSTUNREACH
            | libc::EOPNOTSUPP
            | libc::ENETUNREACH,
        ) => AcceptError::Retry,
        _ => AcceptError::BackOff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_classified() {
        let e = |n| io::Error::from_raw_os_error(n);
        assert!(matches!(classify(&e(libc::EMFILE)), AcceptError::BackOff));
        assert!(matches!(classify(&e(libc::ENFILE)), AcceptError::BackOff));
        assert!(matches!(classify(&e(libc::ENOBUFS)), AcceptError::BackOff));
        assert!(matches!(
            classify(&e(libc::ECONNABORTED)),
            AcceptError::Retry
        ));
        assert!(matches!(classify(&e(libc::EAGAIN)), AcceptError::Drained));
    }
}
