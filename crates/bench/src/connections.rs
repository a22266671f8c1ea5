//! The TCP connections a loop thread keeps for the whole run (echo, bulk
//! echo, discard, chargen): opened all at once before the start gate,
//! stepped through as events come, ended politely. What differs between
//! those workloads, what a connection does on an event, stays in theirs.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::engine::{self, Gate, LoopResult, Shared};

/// A loop's connections, past the start gate.
pub(crate) struct Opened {
    pub poll: Poll,
    pub events: Events,
    /// Connection `i` is the loop's `i`th index, registered with token
    /// `i`; `None` where it failed (counted already).
    pub streams: Vec<Option<TcpStream>>,
    /// The start of the measured window.
    pub start: Instant,
}

/// Opens one connection per index (see [`connect_all`]) and waits at the
/// gate for the other loops. `None` when the run was called off, or when
/// no event loop could be made: then every connection counts as failed,
/// with that error.
pub(crate) fn open(
    shared: &Shared<'_>,
    indices: &[usize],
    gate: &mut Gate<'_, '_>,
    result: &mut LoopResult,
) -> Option<Opened> {
    let (mut poll, mut events) = match engine::new_poll() {
        Ok(p) => p,
        Err(e) => {
            for _ in indices {
                result.connect_failed(io::Error::new(e.kind(), e.to_string()));
            }
            return None;
        }
    };
    let streams = connect_all(
        &mut poll,
        &mut events,
        shared.config.addr,
        indices.len(),
        shared.config.effective_timeout(),
        result,
    );
    let start = gate.pass()?;
    Some(Opened {
        poll,
        events,
        streams,
        start,
    })
}

/// How a connection fared after an event.
pub(crate) enum Step {
    /// Still going.
    Ok,
    /// Finished its work (a transfer verified or confirmed).
    Done,
    /// An I/O error or an early end-of-file.
    Failed(io::Error),
    /// The server sent what the workload does not expect: an echo that is
    /// not what was sent, a chargen byte off the pattern, or anything at
    /// all from a discard server.
    Mismatch,
}

impl Step {
    /// Counts a connection's end in `result`: an error or a mismatch.
    pub(crate) fn settle(self, result: &mut LoopResult) {
        match self {
            Step::Ok | Step::Done => {}
            Step::Failed(e) => result.error(e),
            Step::Mismatch => result.mismatches += 1,
        }
    }
}

/// Waits for events as long as something moved within `timeout`: a bulk
/// run ends when its transfers are done or stalled. `false` when it
/// stalled (each of the `open` connections left counts a timeout error)
/// or `poll(2)` failed (counted too): the loop should stop.
pub(crate) fn poll_while_moving(
    poll: &mut Poll,
    events: &mut Events,
    last_progress: Instant,
    timeout: Duration,
    open: usize,
    result: &mut LoopResult,
) -> bool {
    let stalled = last_progress.elapsed();
    if stalled >= timeout {
        for _ in 0..open {
            result.error(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no progress for {timeout:?}"),
            ));
        }
        return false;
    }
    if let Err(e) = engine::poll(poll, events, timeout - stalled) {
        result.error(e);
        return false;
    }
    true
}

/// Opens `count` nonblocking TCP connections to `addr` at once and waits
/// (at most `timeout`) until each is connected or failed. Connection `i`
/// is registered with token `i` for reading and writing; failures are
/// `None` and counted in `result`.
fn connect_all(
    poll_: &mut Poll,
    events: &mut Events,
    addr: SocketAddr,
    count: usize,
    timeout: Duration,
    result: &mut LoopResult,
) -> Vec<Option<TcpStream>> {
    let mut streams: Vec<Option<TcpStream>> = Vec::with_capacity(count);
    let mut connected = vec![false; count];
    let mut pending = 0usize;
    for i in 0..count {
        let opened = TcpStream::connect(addr).and_then(|mut s| {
            poll_
                .registry()
                .register(&mut s, Token(i), Interest::READABLE | Interest::WRITABLE)?;
            Ok(s)
        });
        match opened {
            Ok(s) => {
                streams.push(Some(s));
                pending += 1;
            }
            Err(e) => {
                result.connect_failed(e);
                streams.push(None);
            }
        }
    }
    let deadline = Instant::now() + timeout;
    while pending > 0 {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if let Err(e) = engine::poll(poll_, events, deadline - now) {
            result.connect_failed(e);
            break;
        }
        for event in events.iter() {
            let i = event.token().0;
            if connected.get(i) != Some(&false) {
                continue;
            }
            let Some(stream) = streams[i].as_ref() else {
                continue;
            };
            // mio's recipe: a writable (or error) event ends the connect;
            // SO_ERROR says how, and getpeername(2) says whether it is done.
            let state = match stream.take_error() {
                Ok(Some(e)) | Err(e) => Err(e),
                Ok(None) => match stream.peer_addr() {
                    Ok(_) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
                    Err(e) => Err(e),
                },
            };
            match state {
                Ok(true) => {
                    connected[i] = true;
                    pending -= 1;
                    // Request/response wants each request on the wire at once.
                    let _ = stream.set_nodelay(true);
                }
                Ok(false) => {}
                Err(e) => {
                    streams[i] = None;
                    pending -= 1;
                    result.connect_failed(e);
                }
            }
        }
    }
    for (stream, ok) in streams.iter_mut().zip(&connected) {
        if !ok && stream.take().is_some() {
            result.connect_failed(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("not connected after {timeout:?}"),
            ));
        }
    }
    streams
}

/// Ends connections politely at the end of a run: half-close each, then
/// read and discard until the server closes too (at most `grace`). Closing
/// with an echo still unread would make the kernel send a reset, which the
/// server would rightly log as an error. Connection `i` must be registered
/// with token `i`.
pub(crate) fn close_gracefully(
    poll_: &mut Poll,
    events: &mut Events,
    streams: &mut [Option<TcpStream>],
    grace: Duration,
) {
    let mut open = 0usize;
    for slot in streams.iter_mut() {
        if let Some(stream) = slot {
            if stream.shutdown(std::net::Shutdown::Write).is_ok() {
                open += 1;
            } else {
                *slot = None;
            }
        }
    }
    let deadline = Instant::now() + grace;
    let mut sink = [0u8; 16 * 1024];
    // A first pass reads what is already there (no edge may come for it).
    let mut ready: Vec<usize> = (0..streams.len()).collect();
    while open > 0 {
        for i in ready.drain(..) {
            let Some(stream) = streams.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            let finished = loop {
                match io::Read::read(stream, &mut sink) {
                    Ok(0) => break true,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break true,
                }
            };
            if finished {
                streams[i] = None;
                open -= 1;
            }
        }
        let now = Instant::now();
        if open == 0 || now >= deadline {
            break;
        }
        if engine::poll(poll_, events, deadline - now).is_err() {
            break;
        }
        ready.extend(events.iter().map(|e| e.token().0));
    }
}
