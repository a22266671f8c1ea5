//! The TCP engine: one mio event loop per thread, each accepting from the
//! shared listening socket and driving the connections it accepted.
//!
//! Per connection the loop reads into one shared buffer, hands the bytes to
//! the handler, and writes what the handler queued. Readiness is
//! edge-triggered; a read shorter than the buffer means the socket is drained
//! (no speculative read that would only return `EAGAIN`). A connection whose
//! output piles up past [`HIGH_WATER`] is not read until the output drains
//! (backpressure), and one connection gets at most [`READ_BUDGET`] reads per
//! turn so a flood cannot starve the others.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::builder::{Builder, Control, Running, Wake, spawn_loops};
use crate::error::{Error, Result};
use crate::event::{CloseReason, Event};
use crate::handler::{Connection, ConnectionInfo, Flow, Handler, Server};
use crate::socket::unmap;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;
/// Size of the per-loop read buffer.
const READ_BUF: usize = 256 * 1024;
/// Stop reading from a peer while this much output waits for it.
const HIGH_WATER: usize = 256 * 1024;
/// Longest a closing connection waits for the peer's end-of-file.
const LINGER: Duration = Duration::from_secs(2);
/// Reads per connection per turn of the loop.
const READ_BUDGET: usize = 16;
/// First and longest pause after a resource error from `accept(2)`.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What all loops of one TCP server share.
struct Shared<S> {
    server: S,
    control: Arc<Control>,
    next_id: AtomicU64,
    /// Some loop stopped accepting because the connection limit was reached.
    saturated: AtomicBool,
    max_connections: usize,
    idle_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    nodelay: bool,
    wants_data: bool,
    /// The listener's own address, when it is not a wildcard: accepted
    /// connections share it, which saves a `getsockname(2)` per accept.
    fixed_local: Option<SocketAddr>,
}

pub(crate) fn start<S: Server>(
    builder: Builder,
    server: S,
    listener: std::net::TcpListener,
    local: SocketAddr,
) -> Result<Running> {
    let engine = |source| Error::Engine { source };
    let control = Control::new(builder.observer.clone(), builder.threads);
    let shared = Arc::new(Shared {
        server,
        control: control.clone(),
        next_id: AtomicU64::new(1),
        saturated: AtomicBool::new(false),
        max_connections: builder.max_connections,
        idle_timeout: builder.idle_timeout,
        read_timeout: builder.read_timeout,
        write_timeout: builder.write_timeout,
        nodelay: builder.nodelay,
        wants_data: builder.observer.wants_data(),
        fixed_local: (!local.ip().is_unspecified()).then_some(local),
    });
    let mut loops = Vec::with_capacity(builder.threads);
    let mut wakers = Vec::with_capacity(builder.threads);
    for _ in 0..builder.threads {
        let poll = Poll::new().map_err(engine)?;
        let mut listener = TcpListener::from_std(listener.try_clone().map_err(engine)?);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .map_err(engine)?;
        wakers.push(Wake::Poll(
            Waker::new(poll.registry(), WAKER).map_err(engine)?,
        ));
        loops.push(Loop {
            poll,
            listener: Some(listener),
            shared: shared.clone(),
            conns: Vec::new(),
            free: Vec::new(),
            again: Vec::new(),
            buf: vec![0; READ_BUF],
            accept_resume: None,
            backoff: BACKOFF_MIN,
        });
    }
    drop(listener);
    let _ = control.wakers.set(wakers);
    let bodies = loops
        .into_iter()
        .map(|mut l| Box::new(move || l.run()) as Box<dyn FnOnce() + Send>)
        .collect();
    let threads = spawn_loops("netcore-tcp", &control, bodies)?;
    Ok(Running::new(local, control, threads))
}

/// One connection owned by a loop.
struct Conn<H> {
    stream: TcpStream,
    info: ConnectionInfo,
    handler: H,
    out: Vec<u8>,
    /// Bytes at the front of `out` already written.
    sent: usize,
    /// The handler asked to close.
    closing: bool,
    /// The peer sent end-of-file.
    peer_eof: bool,
    /// The socket may have unread input (edge-triggered readiness).
    readable: bool,
    /// Readiness reported end-of-file or an error: a short read does not
    /// mean the socket is drained.
    hangup: bool,
    last_read: Instant,
    last_write: Instant,
    /// Since when queued output has been waiting for the socket.
    write_blocked_since: Option<Instant>,
    /// Since when the server has half-closed and is discarding input until
    /// the peer's end-of-file (a lingering close).
    lingering: Option<Instant>,
    bytes_in: u64,
    bytes_out: u64,
}

/// What driving a connection left it as.
enum Drive {
    /// Waiting for readiness.
    Open,
    /// Has more to read but used its budget this turn.
    Again,
    /// Done; close it for this reason.
    Close(CloseReason),
}

struct Loop<S: Server> {
    poll: Poll,
    listener: Option<TcpListener>,
    shared: Arc<Shared<S>>,
    conns: Vec<Option<Conn<S::Handler>>>,
    free: Vec<usize>,
    /// Connections to drive again without waiting for readiness.
    again: Vec<usize>,
    buf: Vec<u8>,
    /// While set, `accept(2)` is paused after a resource error.
    accept_resume: Option<Instant>,
    backoff: Duration,
}

impl<S: Server> Loop<S> {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let sweep_every = sweep_interval(&self.shared);
        let mut next_sweep = sweep_every.map(|d| Instant::now() + d);
        loop {
            let control = &self.shared.control;
            if control.stopping() && self.listener.is_some() {
                // Stop accepting at once: closing our copy of the listening
                // socket; the kernel refuses new clients once every loop has.
                self.listener = None;
            }
            if control.stopping() {
                if self.open_here() == 0 {
                    break;
                }
                if control
                    .drain_deadline()
                    .is_some_and(|d| Instant::now() >= d)
                {
                    self.close_all(CloseReason::Shutdown);
                    break;
                }
            }
            let timeout = if self.again.is_empty() {
                self.poll_timeout(next_sweep)
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.report(None, "waiting for events", &e);
                    std::thread::sleep(BACKOFF_MIN);
                }
                continue;
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(),
                    // Woken for shutdown (checked above) or because a slot
                    // freed up under the connection limit.
                    WAKER => self.accept(),
                    Token(t) => {
                        let i = t - FIRST_CONN;
                        if let Some(Some(c)) = self.conns.get_mut(i) {
                            if event.is_readable() {
                                c.readable = true;
                            }
                            if event.is_read_closed() || event.is_error() {
                                // End-of-file or an error is already queued
                                // behind any data: read until it shows, since
                                // no further edge will announce it.
                                c.readable = true;
                                c.hangup = true;
                            }
                            self.drive(i);
                        }
                    }
                }
            }
            for i in std::mem::take(&mut self.again) {
                self.drive(i);
            }
            let now = Instant::now();
            if self.accept_resume.is_some_and(|t| now >= t) {
                self.accept_resume = None;
                self.accept();
            }
            if next_sweep.is_some_and(|due| now >= due) {
                self.sweep(now);
                next_sweep = sweep_every.map(|d| now + d);
            }
        }
        self.listener = None;
        self.shared.control.loop_exited();
    }

    fn open_here(&self) -> usize {
        self.conns.len() - self.free.len()
    }

    fn poll_timeout(&self, next_sweep: Option<Instant>) -> Option<Duration> {
        let now = Instant::now();
        [
            next_sweep,
            self.accept_resume,
            self.shared
                .control
                .drain_deadline()
                .filter(|_| self.shared.control.stopping()),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| t.saturating_duration_since(now))
    }

    fn report(&self, conn: Option<&ConnectionInfo>, op: &'static str, error: &io::Error) {
        self.shared.control.emit(&Event::Error { conn, op, error });
    }

    fn accept(&mut self) {
        let shared = self.shared.clone();
        let control = &shared.control;
        while self.accept_resume.is_none() && !control.stopping() {
            let Some(listener) = &self.listener else {
                return;
            };
            if control.open.fetch_add(1, Ordering::SeqCst) >= shared.max_connections {
                control.open.fetch_sub(1, Ordering::SeqCst);
                shared.saturated.store(true, Ordering::SeqCst);
                // A slot freed between our check and the store would have
                // found no flag to clear and woken nobody: look again.
                if control.open.load(Ordering::SeqCst) < shared.max_connections {
                    continue;
                }
                return;
            }
            match listener.accept() {
                Ok((stream, peer)) => {
                    self.backoff = BACKOFF_MIN;
                    self.open_connection(stream, peer);
                }
                Err(e) => {
                    control.open.fetch_sub(1, Ordering::AcqRel);
                    match accept_error(&e) {
                        AcceptError::Drained => return,
                        AcceptError::Retry => continue,
                        AcceptError::BackOff => {
                            self.report(None, "accepting a connection", &e);
                            self.accept_resume = Some(Instant::now() + self.backoff);
                            self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn open_connection(&mut self, stream: TcpStream, peer: SocketAddr) {
        let shared = &self.shared;
        let now = Instant::now();
        let local = match shared.fixed_local {
            Some(l) => Ok(l),
            None => stream.local_addr().map(unmap),
        };
        let local = match local {
            Ok(l) => l,
            Err(e) => {
                self.report(None, "reading the local address of", &e);
                shared.control.open.fetch_sub(1, Ordering::AcqRel);
                return;
            }
        };
        let info = ConnectionInfo {
            id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            peer: unmap(peer),
            local,
        };
        shared.control.emit(&Event::Accepted { conn: &info });
        let handler = match catch_unwind(AssertUnwindSafe(|| shared.server.handler(&info))) {
            Ok(h) => h,
            Err(_) => {
                let e = io::Error::other("the server panicked making a handler");
                self.report(Some(&info), "accepting", &e);
                self.emit_closed(&info, CloseReason::HandlerPanic, 0, 0);
                shared.control.open.fetch_sub(1, Ordering::AcqRel);
                return;
            }
        };
        let mut conn = Conn {
            stream,
            info,
            handler,
            out: Vec::new(),
            sent: 0,
            closing: false,
            peer_eof: false,
            // Registration reports input that is already waiting, so no
            // read is tried before readiness says so.
            readable: false,
            hangup: false,
            last_read: now,
            last_write: now,
            write_blocked_since: None,
            lingering: None,
            bytes_in: 0,
            bytes_out: 0,
        };
        let flow = call(&mut conn, |h, c| h.on_open(c));
        match flow {
            Err(()) => return self.finish(conn, CloseReason::HandlerPanic),
            Ok(Flow::Close) => {
                conn.closing = true;
                // The lean path (daytime): greet and close without ever
                // registering the socket, when the greeting fits the socket
                // buffer.
                if let Err(e) = self.flush(&mut conn) {
                    self.report(Some(&conn.info), "writing to", &e);
                    return self.finish(conn, CloseReason::Error);
                }
                if conn.sent == conn.out.len() {
                    return self.finish(conn, CloseReason::Handler);
                }
            }
            Ok(Flow::Continue) => {
                if shared.nodelay {
                    let _ = conn.stream.set_nodelay(true);
                }
            }
        }
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.conns.push(None);
                self.conns.len() - 1
            }
        };
        if let Err(e) = self.poll.registry().register(
            &mut conn.stream,
            Token(i + FIRST_CONN),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.free.push(i);
            self.report(Some(&conn.info), "registering", &e);
            return self.finish(conn, CloseReason::Error);
        }
        self.conns[i] = Some(conn);
        self.drive(i);
    }

    /// Moves bytes both ways on connection `i` until it would block, then
    /// closes it if it is done.
    fn drive(&mut self, i: usize) {
        let Some(mut conn) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        match self.pump(&mut conn) {
            Drive::Open => self.conns[i] = Some(conn),
            Drive::Again => {
                self.conns[i] = Some(conn);
                self.again.push(i);
            }
            Drive::Close(reason) => {
                self.free.push(i);
                let _ = self.poll.registry().deregister(&mut conn.stream);
                self.finish(conn, reason);
            }
        }
    }

    fn pump(&mut self, conn: &mut Conn<S::Handler>) -> Drive {
        let mut budget = READ_BUDGET;
        loop {
            if let Err(e) = self.flush(conn) {
                self.report(Some(&conn.info), "writing to", &e);
                return Drive::Close(CloseReason::Error);
            }
            let queued = conn.out.len() - conn.sent;
            if conn.closing || conn.peer_eof {
                if queued > 0 {
                    return Drive::Open;
                }
                if conn.peer_eof {
                    let reason = if conn.closing {
                        CloseReason::Handler
                    } else {
                        CloseReason::PeerClosed
                    };
                    return Drive::Close(reason);
                }
                match self.linger(conn, &mut budget) {
                    Some(drive) => return drive,
                    None => continue,
                }
            }
            if queued > HIGH_WATER || !conn.readable {
                return Drive::Open;
            }
            if budget == 0 {
                return Drive::Again;
            }
            budget -= 1;
            match conn.stream.read(&mut self.buf) {
                Ok(0) => {
                    conn.peer_eof = true;
                    conn.readable = false;
                    if call(conn, |h, c| {
                        h.on_eof(c);
                        Flow::Close
                    })
                    .is_err()
                    {
                        return Drive::Close(CloseReason::HandlerPanic);
                    }
                }
                Ok(n) => {
                    // A short read drained the socket, unless end-of-file
                    // is known to be waiting behind the data.
                    conn.readable = n == self.buf.len() || conn.hangup;
                    conn.bytes_in += n as u64;
                    conn.last_read = Instant::now();
                    let data = &self.buf[..n];
                    if self.shared.wants_data {
                        self.shared.control.emit(&Event::Read {
                            conn: &conn.info,
                            data,
                        });
                    }
                    compact(conn);
                    match call(conn, |h, c| h.on_data(c, data)) {
                        Ok(Flow::Continue) => {}
                        Ok(Flow::Close) => conn.closing = true,
                        Err(()) => return Drive::Close(CloseReason::HandlerPanic),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => conn.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.report(Some(&conn.info), "reading from", &e);
                    return Drive::Close(CloseReason::Error);
                }
            }
        }
    }

    /// The server closes a connection whose peer has sent input: closing at
    /// once with unread input would make the kernel send RST, which can
    /// destroy the reply still in flight. So: `shutdown(SHUT_WR)` (the peer
    /// reads the reply, then end-of-file), then read and discard until the
    /// peer's end-of-file, for at most [`LINGER`]. Returns what to do now,
    /// or `None` to go round again after a discarding read.
    fn linger(&mut self, conn: &mut Conn<S::Handler>, budget: &mut usize) -> Option<Drive> {
        if conn.bytes_in == 0 {
            // Nothing was ever sent to us (daytime): a plain close is clean.
            return Some(Drive::Close(CloseReason::Handler));
        }
        if conn.lingering.is_none() {
            let _ = conn.stream.shutdown(Shutdown::Write);
            conn.lingering = Some(Instant::now());
        }
        if !conn.readable {
            return Some(Drive::Open);
        }
        if *budget == 0 {
            return Some(Drive::Again);
        }
        *budget -= 1;
        match conn.stream.read(&mut self.buf) {
            Ok(0) => conn.peer_eof = true,
            Ok(n) => conn.readable = n == self.buf.len() || conn.hangup,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => conn.readable = false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // The peer went away: our side was done anyway.
            Err(_) => return Some(Drive::Close(CloseReason::Handler)),
        }
        None
    }

    /// Writes queued output until it is all sent or the socket is full.
    fn flush(&self, conn: &mut Conn<S::Handler>) -> io::Result<()> {
        while conn.sent < conn.out.len() {
            match conn.stream.write(&conn.out[conn.sent..]) {
                Ok(n) => {
                    if self.shared.wants_data {
                        self.shared.control.emit(&Event::Wrote {
                            conn: &conn.info,
                            data: &conn.out[conn.sent..conn.sent + n],
                        });
                    }
                    conn.sent += n;
                    conn.bytes_out += n as u64;
                    conn.last_write = Instant::now();
                    conn.write_blocked_since = None;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.write_blocked_since.get_or_insert_with(Instant::now);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        conn.out.clear();
        conn.sent = 0;
        if conn.out.capacity() > HIGH_WATER {
            conn.out.shrink_to(READ_BUF);
        }
        Ok(())
    }

    /// Closes a connection that is no longer in the table.
    fn finish(&self, conn: Conn<S::Handler>, reason: CloseReason) {
        if reason == CloseReason::Handler && !conn.peer_eof && conn.lingering.is_none() {
            // The server closes: FIN right after the last byte.
            let _ = conn.stream.shutdown(Shutdown::Write);
        }
        let Conn {
            stream,
            info,
            bytes_in,
            bytes_out,
            ..
        } = conn;
        drop(stream);
        self.emit_closed(&info, reason, bytes_in, bytes_out);
        let control = &self.shared.control;
        control.open.fetch_sub(1, Ordering::SeqCst);
        if self.shared.saturated.swap(false, Ordering::SeqCst) {
            // Waiting clients sit in the backlog with no new edge to wake a
            // loop: wake every loop so they accept again.
            control.wake_all();
        }
    }

    fn emit_closed(
        &self,
        info: &ConnectionInfo,
        reason: CloseReason,
        bytes_in: u64,
        bytes_out: u64,
    ) {
        self.shared.control.emit(&Event::Closed {
            conn: info,
            reason,
            bytes_in,
            bytes_out,
        });
    }

    fn close_all(&mut self, reason: CloseReason) {
        for i in 0..self.conns.len() {
            if let Some(mut conn) = self.conns[i].take() {
                self.free.push(i);
                let _ = self.poll.registry().deregister(&mut conn.stream);
                self.finish(conn, reason);
            }
        }
    }

    /// Closes connections whose timeouts have passed.
    fn sweep(&mut self, now: Instant) {
        let s = &self.shared;
        let (idle, read, write) = (s.idle_timeout, s.read_timeout, s.write_timeout);
        for i in 0..self.conns.len() {
            let Some(c) = &self.conns[i] else { continue };
            let past = |since: Instant, limit: Option<Duration>| {
                limit.is_some_and(|l| now.saturating_duration_since(since) >= l)
            };
            let reason = if c.lingering.is_some_and(|t| past(t, Some(LINGER))) {
                Some(CloseReason::Handler)
            } else if past(c.last_read.max(c.last_write), idle) {
                Some(CloseReason::IdleTimeout)
            } else if !c.peer_eof
                && !c.closing
                // Not while we stopped reading (backpressure): the peer may
                // well have sent more.
                && c.out.len() - c.sent <= HIGH_WATER
                && past(c.last_read, read)
            {
                Some(CloseReason::ReadTimeout)
            } else if c.write_blocked_since.is_some_and(|t| past(t, write)) {
                Some(CloseReason::WriteTimeout)
            } else {
                None
            };
            if let Some(reason) = reason {
                if let Some(mut conn) = self.conns[i].take() {
                    self.free.push(i);
                    let _ = self.poll.registry().deregister(&mut conn.stream);
                    self.finish(conn, reason);
                }
            }
        }
    }
}

/// Calls a handler method, turning a panic into `Err(())`.
fn call<H: Handler>(
    conn: &mut Conn<H>,
    f: impl FnOnce(&mut H, &mut Connection<'_>) -> Flow,
) -> std::result::Result<Flow, ()> {
    let Conn {
        handler,
        info,
        out,
        sent,
        ..
    } = conn;
    let mut view = Connection::with_sent(info, out, *sent);
    catch_unwind(AssertUnwindSafe(|| f(handler, &mut view))).map_err(|_| ())
}

/// Drops already-written bytes from the front of the output queue once they
/// are at least half of it, so the cost stays linear in bytes sent.
fn compact<H>(conn: &mut Conn<H>) {
    if conn.sent > 0 && conn.sent * 2 >= conn.out.len() {
        conn.out.drain(..conn.sent);
        conn.sent = 0;
    }
}

fn sweep_interval<S>(shared: &Shared<S>) -> Option<Duration> {
    [
        shared.idle_timeout,
        shared.read_timeout,
        shared.write_timeout,
        Some(LINGER),
    ]
    .into_iter()
    .flatten()
    .min()
    .map(|t| (t / 4).clamp(Duration::from_millis(5), Duration::from_secs(1)))
}

enum AcceptError {
    /// No more pending connections.
    Drained,
    /// That one connection failed (aborted before accept); try the next.
    Retry,
    /// Out of descriptors or memory, or something unexpected: pause
    /// accepting for a while instead of spinning.
    BackOff,
}

fn accept_error(e: &io::Error) -> AcceptError {
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
        assert!(matches!(
            accept_error(&e(libc::EMFILE)),
            AcceptError::BackOff
        ));
        assert!(matches!(
            accept_error(&e(libc::ENFILE)),
            AcceptError::BackOff
        ));
        assert!(matches!(
            accept_error(&e(libc::ENOBUFS)),
            AcceptError::BackOff
        ));
        assert!(matches!(
            accept_error(&e(libc::ECONNABORTED)),
            AcceptError::Retry
        ));
        assert!(matches!(
            accept_error(&e(libc::EAGAIN)),
            AcceptError::Drained
        ));
    }
}
