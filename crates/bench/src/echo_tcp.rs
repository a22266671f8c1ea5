//! Echo over TCP: request/response and bulk.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use crate::Workload;
use crate::connections::{self, Opened, Step};
use crate::engine::{self, CHUNK, Gate, LoopResult, Shared};
use crate::pattern::seed;

/// One request/response connection.
struct Exchange {
    stream: TcpStream,
    /// Where this connection's byte stream starts in the pattern.
    seed: u64,
    /// Stream offset of the current request's first byte.
    offset: u64,
    sent: usize,
    received: usize,
    started: Instant,
    /// No new request after the deadline.
    idle: bool,
}

impl Exchange {
    /// Sends what is left of the current request.
    fn write(&mut self, shared: &Shared<'_>, size: usize) -> Step {
        while self.sent < size && !self.idle {
            let bytes = shared
                .pattern
                .slice(self.seed + self.offset + self.sent as u64, size - self.sent);
            match self.stream.write(bytes) {
                Ok(0) => return Step::Failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n;
                    if self.sent < size {
                        // A short write: the socket buffer is full.
                        return Step::Ok;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Ok,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Failed(e),
            }
        }
        Step::Ok
    }

    /// Reads and checks what arrived; completes requests and starts the
    /// next one.
    fn read(
        &mut self,
        shared: &Shared<'_>,
        size: usize,
        deadline: Instant,
        scratch: &mut [u8],
        result: &mut LoopResult,
    ) -> Step {
        loop {
            let n = match self.stream.read(scratch) {
                Ok(0) => {
                    return Step::Failed(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection mid-run",
                    ));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Ok,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Step::Failed(e),
            };
            if self.received + n > self.sent {
                // More than was asked: never part of a correct echo.
                return Step::Mismatch;
            }
            let expected = shared
                .pattern
                .slice(self.seed + self.offset + self.received as u64, n);
            if scratch[..n] != *expected {
                return Step::Mismatch;
            }
            self.received += n;
            if self.received == size {
                let now = Instant::now();
                if now <= deadline {
                    result.done(self.started, now, size as u64, shared.progress);
                }
                self.offset += size as u64;
                self.sent = 0;
                self.received = 0;
                self.started = now;
                if now >= deadline {
                    self.idle = true;
                    return Step::Ok;
                }
                if let step @ (Step::Failed(_) | Step::Mismatch | Step::Done) =
                    self.write(shared, size)
                {
                    return step;
                }
                // The reply cannot be there yet: skip the read that would
                // only say EAGAIN. A new edge comes when it arrives.
                return Step::Ok;
            }
            if n < scratch.len() {
                // A short read drained the socket (as tokio assumes too):
                // the next edge will say when more arrives.
                return Step::Ok;
            }
        }
    }
}

/// Request/response: every connection sends `size` bytes, reads them back,
/// checks them and repeats until the deadline.
pub(crate) fn request_response(
    shared: &Shared<'_>,
    indices: &[usize],
    gate: &mut Gate<'_, '_>,
) -> LoopResult {
    let mut result = LoopResult::new();
    let Workload::Echo { size } = shared.config.workload else {
        return result;
    };
    let Some(Opened {
        mut poll,
        mut events,
        streams,
        start,
    }) = connections::open(shared, indices, gate, &mut result)
    else {
        return result;
    };
    let deadline = start + shared.config.duration;
    let mut conns: Vec<Option<Exchange>> = streams
        .into_iter()
        .zip(indices)
        .map(|(s, &index)| {
            s.map(|stream| Exchange {
                stream,
                seed: seed(index),
                offset: 0,
                sent: 0,
                received: 0,
                started: start,
                idle: false,
            })
        })
        .collect();
    let mut scratch = vec![0u8; size.clamp(4096, 64 * 1024)];
    let mut alive = 0;
    for slot in conns.iter_mut() {
        if let Some(conn) = slot {
            conn.started = Instant::now();
            match conn.write(shared, size) {
                Step::Ok | Step::Done => alive += 1,
                step => {
                    step.settle(&mut result);
                    *slot = None;
                }
            }
        }
    }
    while alive > 0 {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if let Err(e) = engine::poll(&mut poll, &mut events, deadline - now) {
            result.error(e);
            break;
        }
        for event in events.iter() {
            let Some(slot) = conns.get_mut(event.token().0) else {
                continue;
            };
            let Some(conn) = slot.as_mut() else { continue };
            let mut step = Step::Ok;
            if event.is_writable() {
                step = conn.write(shared, size);
            }
            if matches!(step, Step::Ok)
                && (event.is_readable() || event.is_read_closed() || event.is_error())
            {
                step = conn.read(shared, size, deadline, &mut scratch, &mut result);
            }
            if !matches!(step, Step::Ok) {
                step.settle(&mut result);
                *slot = None;
                alive -= 1;
            }
        }
    }
    let mut streams: Vec<Option<TcpStream>> =
        conns.into_iter().map(|c| c.map(|c| c.stream)).collect();
    connections::close_gracefully(&mut poll, &mut events, &mut streams, GRACE);
    result
}

/// How long the end of a run waits for servers to finish their last echo.
const GRACE: Duration = Duration::from_secs(1);

/// One bulk connection.
struct Transfer {
    stream: TcpStream,
    seed: u64,
    sent: u64,
    received: u64,
    half_closed: bool,
}

impl Transfer {
    fn write(&mut self, shared: &Shared<'_>, total: u64) -> Step {
        while self.sent < total {
            let want = usize::try_from(total - self.sent).map_or(CHUNK, |left| left.min(CHUNK));
            match self
                .stream
                .write(shared.pattern.slice(self.seed + self.sent, want))
            {
                Ok(0) => return Step::Failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n as u64;
                    if n < want {
                        return Step::Ok;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Ok,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Failed(e),
            }
        }
        if !self.half_closed {
            // Everything is sent: the server sees end-of-file once it has
            // echoed it all, as RFC 862 asks of a client.
            self.half_closed = true;
            if let Err(e) = self.stream.shutdown(Shutdown::Write) {
                return Step::Failed(e);
            }
        }
        Step::Ok
    }

    fn read(
        &mut self,
        shared: &Shared<'_>,
        total: u64,
        scratch: &mut [u8],
        result: &mut LoopResult,
    ) -> Step {
        loop {
            let n = match self.stream.read(scratch) {
                Ok(0) => {
                    return Step::Failed(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the server closed after echoing {} of {total} bytes",
                            self.received
                        ),
                    ));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Ok,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Step::Failed(e),
            };
            if self.received + n as u64 > self.sent {
                return Step::Mismatch;
            }
            if scratch[..n] != *shared.pattern.slice(self.seed + self.received, n) {
                return Step::Mismatch;
            }
            self.received += n as u64;
            result.bytes += n as u64;
            shared.progress.add(0, n as u64);
            if self.received == total {
                return Step::Done;
            }
            if n < scratch.len() {
                return Step::Ok;
            }
        }
    }
}

/// Bulk: every connection streams its bytes while reading the echo back,
/// verified; ends when all are done, or when nothing moved for the timeout.
pub(crate) fn bulk(shared: &Shared<'_>, indices: &[usize], gate: &mut Gate<'_, '_>) -> LoopResult {
    let mut result = LoopResult::new();
    let Workload::Bulk { bytes: total } = shared.config.workload else {
        return result;
    };
    let Some(Opened {
        mut poll,
        mut events,
        streams,
        start,
    }) = connections::open(shared, indices, gate, &mut result)
    else {
        return result;
    };
    let timeout = shared.config.effective_timeout();
    let mut conns: Vec<Option<Transfer>> = streams
        .into_iter()
        .zip(indices)
        .map(|(s, &index)| {
            s.map(|stream| Transfer {
                stream,
                seed: seed(index),
                sent: 0,
                received: 0,
                half_closed: false,
            })
        })
        .collect();
    let mut scratch = vec![0u8; CHUNK];
    let mut alive = 0;
    for slot in conns.iter_mut() {
        if let Some(conn) = slot {
            match conn.write(shared, total) {
                Step::Ok => alive += 1,
                step => {
                    step.settle(&mut result);
                    *slot = None;
                }
            }
        }
    }
    let mut last_progress = Instant::now();
    let mut done: Vec<TcpStream> = Vec::with_capacity(conns.len());
    while alive > 0 {
        let open = conns.iter().flatten().count();
        if !connections::poll_while_moving(
            &mut poll,
            &mut events,
            last_progress,
            timeout,
            open,
            &mut result,
        ) {
            break;
        }
        for event in events.iter() {
            let Some(slot) = conns.get_mut(event.token().0) else {
                continue;
            };
            let Some(conn) = slot.as_mut() else { continue };
            let before = (conn.sent, conn.received);
            let mut step = Step::Ok;
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                step = conn.read(shared, total, &mut scratch, &mut result);
            }
            if matches!(step, Step::Ok) && event.is_writable() {
                step = conn.write(shared, total);
            }
            if before != (conn.sent, conn.received) {
                last_progress = Instant::now();
            }
            match step {
                Step::Ok => {}
                Step::Done => {
                    // One op, timed from the start of the run; its bytes
                    // were counted as they arrived.
                    result.done(start, Instant::now(), 0, shared.progress);
                    // Kept open until the server's CPU time is read.
                    if let Some(conn) = slot.take() {
                        done.push(conn.stream);
                    }
                    alive -= 1;
                }
                step => {
                    step.settle(&mut result);
                    *slot = None;
                    alive -= 1;
                }
            }
        }
    }
    gate.finish();
    drop(done);
    result
}
