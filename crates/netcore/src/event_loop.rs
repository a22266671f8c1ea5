//! One event loop: a mio poll over its own copy of every UDP socket, the
//! TCP listeners it accepts from for all loops (see [`crate::handoff`]),
//! and the connections it serves; a min-heap of their deadlines; and a
//! mailbox for commands and handed-off connections from other threads. An
//! engine runs [`Engine::threads`](crate::Engine::threads) of them over the
//! same sockets.
//!
//! Tokens: `0..services` are the services' sockets, then one per
//! connection slot; the waker has its own. Readiness is edge-triggered.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token};

use crate::event::{CloseReason, Event};
use crate::handle::{Command, Mailbox};
use crate::handler::ConnectionInfo;
use crate::handoff::{Inbox, Spread};
use crate::services::{Shared, Socket};
use crate::stream_io::{Conn, Drive};
use crate::timers::{Key, Timers};
use crate::udp::Datagrams;

pub(crate) const WAKER: Token = Token(usize::MAX);

/// Commands for this loop's connections, connections other loops
/// accepted for it, and the waker that announces both.
pub(crate) struct LoopMailbox {
    /// `None` once the loop has exited: a handle kept by another thread
    /// must not fill a queue nobody reads.
    commands: Mutex<Option<Vec<(Key, Command)>>>,
    pub inbox: Inbox,
    pub waker: Arc<mio::Waker>,
}

impl LoopMailbox {
    pub fn new(waker: Arc<mio::Waker>) -> Self {
        LoopMailbox {
            commands: Mutex::new(Some(Vec::new())),
            inbox: Inbox::default(),
            waker,
        }
    }

    /// Takes the commands posted so far.
    fn take(&self) -> Vec<(Key, Command)> {
        match self.commands.lock() {
            Ok(mut c) => c.as_mut().map(std::mem::take).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// The loop has exited: commands from now on are dropped.
    fn close(&self) {
        if let Ok(mut c) = self.commands.lock() {
            *c = None;
        }
    }
}

impl Mailbox for LoopMailbox {
    fn post(&self, key: Key, command: Command) {
        if let Ok(mut commands) = self.commands.lock() {
            match commands.as_mut() {
                Some(queue) => queue.push((key, command)),
                None => return,
            }
        }
        let _ = self.waker.wake();
    }
}

/// A connection slot; its generation changes every time it is reused, so
/// a stale handle or timer entry is recognised.
#[derive(Default)]
pub(crate) struct Slot {
    pub generation: u64,
    /// Boxed, so taking it out to drive it and putting it back moves a
    /// pointer, not the whole connection, once per event.
    pub conn: Option<Box<Conn>>,
}

/// This loop's copy of one service's socket.
pub(crate) enum LoopSocket {
    Tcp(Option<mio::net::TcpListener>),
    Udp(Option<mio::net::UdpSocket>),
}

pub(crate) struct Loop {
    pub poll: Poll,
    pub shared: Arc<Shared>,
    pub sockets: Vec<LoopSocket>,
    pub mailbox: Arc<LoopMailbox>,
    /// Where this loop's accepted connections go, and what it was handed.
    pub spread: Spread,
    pub slots: Vec<Slot>,
    pub free: Vec<usize>,
    /// Connections to drive again without waiting for readiness.
    again: Vec<usize>,
    /// UDP services with datagrams left after this turn's budget.
    udp_again: Vec<usize>,
    /// TCP services with connections left in the backlog after this turn's
    /// accept budget.
    pub accept_again: Vec<usize>,
    timers: Timers,
    buf: Vec<u8>,
    datagrams: Option<Datagrams>,
    /// Bytes queued for peers on this loop's connections, and the most it
    /// may hold before it reads only from connections with empty queues.
    pub queued: usize,
    pub budget: usize,
    /// While set, `accept(2)` is paused after a resource error.
    pub accept_resume: Option<Instant>,
    pub backoff: Duration,
    /// When this turn of the loop began (the poll returned): the time
    /// connections note their activity at.
    now: Instant,
}

/// First and longest pause after a resource error from `accept(2)` (or
/// from `epoll_wait`).
pub(crate) const BACKOFF_MIN: Duration = Duration::from_millis(10);
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Size of the per-loop read buffer.
const READ_BUF: usize = 256 * 1024;

impl Loop {
    pub fn new(
        poll: Poll,
        shared: Arc<Shared>,
        sockets: Vec<LoopSocket>,
        mailbox: Arc<LoopMailbox>,
        spread: Spread,
        budget: usize,
    ) -> Self {
        let has_udp = sockets.iter().any(|s| matches!(s, LoopSocket::Udp(_)));
        Loop {
            poll,
            shared,
            sockets,
            mailbox,
            spread,
            slots: Vec::new(),
            free: Vec::new(),
            again: Vec::new(),
            udp_again: Vec::new(),
            accept_again: Vec::new(),
            timers: Timers::default(),
            buf: vec![0; READ_BUF],
            datagrams: has_udp.then(Datagrams::new),
            queued: 0,
            budget,
            accept_resume: None,
            backoff: BACKOFF_MIN,
            now: Instant::now(),
        }
    }

    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let control = self.shared.control.clone();
            if control.stopping() {
                // Stop accepting and receiving at once: the kernel refuses
                // new clients once the accepting loop has closed its copy of
                // a listener (a UDP socket: once every loop has). Deregister
                // first: other copies keep the socket open, and with it this
                // poll's interest in it.
                let registry = self.poll.registry();
                for socket in &mut self.sockets {
                    match socket {
                        LoopSocket::Tcp(l) => {
                            if let Some(mut l) = l.take() {
                                let _ = registry.deregister(&mut l);
                            }
                        }
                        LoopSocket::Udp(u) => {
                            if let Some(mut u) = u.take() {
                                let _ = registry.deregister(&mut u);
                            }
                        }
                    }
                }
                // Connections accepted for this loop before the stop are
                // served and drained like the others.
                self.open_handoffs();
                if self.open_here() == 0 && self.mailbox.inbox.close_if_empty() {
                    break;
                }
                if control
                    .drain_deadline()
                    .is_some_and(|d| Instant::now() >= d)
                {
                    self.close_all(CloseReason::Shutdown);
                    if self.mailbox.inbox.close_if_empty() {
                        break;
                    }
                    // Handed a last batch meanwhile: open and close it too.
                }
            }
            let timeout = if self.again.is_empty()
                && self.udp_again.is_empty()
                && self.accept_again.is_empty()
            {
                self.poll_timeout()
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.report(None, "", "waiting for events", &e);
                    std::thread::sleep(BACKOFF_MIN);
                }
                continue;
            }
            self.now = Instant::now();
            for event in events.iter() {
                match event.token() {
                    WAKER => {
                        // Shutdown (checked above), commands, connections
                        // handed over, or a slot freed up under a limit.
                        self.run_commands();
                        self.open_handoffs();
                        self.accept_all();
                    }
                    Token(t) if t < self.sockets.len() => match self.sockets[t] {
                        LoopSocket::Tcp(_) => self.accept(t),
                        LoopSocket::Udp(_) => self.receive(t),
                    },
                    Token(t) => {
                        let i = t - self.sockets.len();
                        if let Some(c) = self.slots.get_mut(i).and_then(|s| s.conn.as_mut()) {
                            c.ready(
                                event.is_readable(),
                                event.is_read_closed() || event.is_error(),
                            );
                            self.with_conn(i, |l, c| l.pump(c));
                        }
                    }
                }
            }
            for i in std::mem::take(&mut self.again) {
                self.with_conn(i, |l, c| l.pump(c));
            }
            for s in std::mem::take(&mut self.udp_again) {
                self.receive(s);
            }
            for s in std::mem::take(&mut self.accept_again) {
                self.accept(s);
            }
            let now = Instant::now();
            if self.accept_resume.is_some_and(|t| now >= t) {
                self.accept_resume = None;
                self.accept_all();
            }
            self.expire(now);
            self.prune_timers();
        }
        self.sockets.clear();
        self.mailbox.close();
        self.shared.control.loop_exited();
    }

    fn open_here(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        let control = &self.shared.control;
        let now = Instant::now();
        [
            self.timers.next(),
            self.accept_resume,
            control.drain_deadline().filter(|_| control.stopping()),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| t.saturating_duration_since(now))
    }

    pub fn report(
        &self,
        conn: Option<&ConnectionInfo>,
        service: &str,
        op: &'static str,
        error: &io::Error,
    ) {
        self.shared.control.emit(&Event::Error {
            service,
            conn,
            op,
            error,
        });
    }

    /// Takes connection `i` out of its slot, runs `f` on it, then puts it
    /// back, schedules it to run again, or closes it; keeps the loop's
    /// count of queued bytes and the connection's deadline up to date.
    pub fn with_conn(&mut self, i: usize, f: impl FnOnce(&mut Self, &mut Conn) -> Drive) {
        let Some(mut conn) = self.slots.get_mut(i).and_then(|s| s.conn.take()) else {
            return;
        };
        let before = conn.core.queued();
        let drive = f(self, &mut conn);
        self.queued = self.queued - before + conn.core.queued();
        match drive {
            Drive::Open | Drive::Again => {
                if drive == Drive::Again {
                    self.again.push(i);
                }
                let timeouts = self.shared.tcp(conn.service).map(|s| s.timeouts);
                if let Some(at) = timeouts.and_then(|t| conn.core.deadline(&t)) {
                    let key = Key {
                        slot: i,
                        generation: self.slots[i].generation,
                    };
                    self.timers.schedule(key, at, &mut conn.core.scheduled);
                }
                self.slots[i].conn = Some(conn);
            }
            Drive::Close(reason) => {
                self.queued -= conn.core.queued();
                self.free.push(i);
                let _ = self.poll.registry().deregister(&mut conn.stream);
                self.finish(*conn, reason);
            }
        }
    }

    /// Moves bytes both ways on a connection until it would block.
    pub fn pump(&mut self, conn: &mut Conn) -> Drive {
        let over_budget = self.queued > self.budget;
        let result = conn.pump(&mut self.buf, over_budget, self.now, &self.shared.control);
        if let Some((op, e)) = &result.error {
            let name = self.shared.tcp(conn.service).map_or("", |s| &s.name);
            self.report(Some(&conn.core.info), name, op, e);
        }
        result.drive
    }

    /// Runs the commands other threads posted for this loop's connections.
    fn run_commands(&mut self) {
        let commands = self.mailbox.take();
        let control = self.shared.control.clone();
        for (key, command) in commands {
            if self
                .slots
                .get(key.slot)
                .is_some_and(|s| s.generation == key.generation)
            {
                self.with_conn(key.slot, |l, c| match c.core.command(command, &control) {
                    Ok(()) => l.pump(c),
                    Err(reason) => Drive::Close(reason),
                });
            }
        }
    }

    /// Drops the heap entries of closed connections once they outnumber
    /// the open ones.
    fn prune_timers(&mut self) {
        if self.timers.len() <= 2 * self.open_here() + 1024 {
            return;
        }
        let slots = &self.slots;
        self.timers.prune(|key, at| {
            slots.get(key.slot).is_some_and(|slot| {
                slot.generation == key.generation
                    && slot
                        .conn
                        .as_ref()
                        .is_some_and(|c| c.core.scheduled.is_some_and(|s| s <= at))
            })
        });
    }

    /// Handles the connections whose deadlines have come.
    fn expire(&mut self, now: Instant) {
        self.now = now;
        let control = self.shared.control.clone();
        while let Some((key, at)) = self.timers.pop_due(now) {
            let Some(slot) = self.slots.get_mut(key.slot) else {
                continue;
            };
            if slot.generation != key.generation {
                continue;
            }
            let Some(conn) = slot.conn.as_mut() else {
                continue;
            };
            if conn.core.scheduled == Some(at) {
                conn.core.scheduled = None;
            }
            let Some(timeouts) = self.shared.tcp(conn.service).map(|s| s.timeouts) else {
                continue;
            };
            self.with_conn(key.slot, |l, c| {
                match c.core.expire(now, &timeouts, &control) {
                    Ok(()) => l.pump(c),
                    Err(reason) => Drive::Close(reason),
                }
            });
        }
    }

    /// Answers the datagrams waiting on UDP service `s`, up to a budget.
    fn receive(&mut self, s: usize) {
        let shared = self.shared.clone();
        let (Socket::Udp(service), LoopSocket::Udp(Some(socket)), Some(datagrams)) = (
            &shared.services[s],
            &self.sockets[s],
            self.datagrams.as_mut(),
        ) else {
            return;
        };
        if datagrams.drain(socket, service, &shared.control) {
            self.udp_again.push(s);
        }
    }

    /// Closes a connection that is no longer in the table.
    pub fn finish(&self, conn: Conn, reason: CloseReason) {
        let fin = conn.core.fin_on_close(reason);
        let Conn {
            stream,
            core,
            service,
            ..
        } = conn;
        if fin {
            // The server closes: FIN right after the last byte.
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        drop(stream);
        let control = &self.shared.control;
        control.emit(&Event::Closed {
            conn: &core.info,
            reason,
            bytes_in: core.bytes_in,
            bytes_out: core.bytes_out,
        });
        if let Some(service) = self.shared.tcp(service) {
            if let Some(peer) = core.info.peer {
                service.release(peer.ip());
            }
            service.give_back_slot(control);
        }
        // The handler is dropped last, and a Drop that panics loses only
        // itself, not the loop and its other connections.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(core)));
    }

    fn close_all(&mut self, reason: CloseReason) {
        for i in 0..self.slots.len() {
            if let Some(mut conn) = self.slots[i].conn.take() {
                self.shared
                    .control
                    .forced
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                self.free.push(i);
                let _ = self.poll.registry().deregister(&mut conn.stream);
                self.finish(*conn, reason);
            }
        }
    }
}
