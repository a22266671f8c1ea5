//! One-way bulk streams over TCP: uploads to a discard server (RFC 863)
//! and downloads from a chargen server (RFC 864), on the same footing as
//! bulk echo: every connection moves `bytes` bytes, the run ends when all
//! are done or nothing moved for the timeout.
//!
//! An upload is done when the server, having read the client's
//! end-of-file, closes: only then did every byte arrive. A download is
//! checked byte for byte against the chargen pattern, which starts at
//! offset 0 on every connection; when it is done the connection is ended
//! politely (half-close, then read what the server still had queued until
//! it closes), so the server sees a normal end, not a reset.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use crate::Workload;
use crate::connections::{self, Opened, Step};
use crate::engine::{CHUNK, Gate, LoopResult, Shared};

/// Which way the bytes go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// To a discard server.
    Upload,
    /// From a chargen server, verified.
    Download,
}

/// One connection's transfer.
struct Transfer {
    stream: TcpStream,
    /// Bytes written (upload) or read and verified (download).
    moved: u64,
    half_closed: bool,
}

impl Transfer {
    /// Upload: writes what is left, then half-closes.
    fn write(&mut self, shared: &Shared<'_>, total: u64) -> Step {
        while self.moved < total {
            let want = usize::try_from(total - self.moved).map_or(CHUNK, |left| left.min(CHUNK));
            match self.stream.write(shared.pattern.slice(self.moved, want)) {
                Ok(0) => return Step::Failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.moved += n as u64;
                    shared.progress.add(0, n as u64);
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
            // RFC 863: the server closes once the client has; its close
            // then says every byte was read.
            self.half_closed = true;
            if let Err(e) = self.stream.shutdown(Shutdown::Write) {
                return Step::Failed(e);
            }
        }
        Step::Ok
    }

    /// Upload: waits for the server's close; anything it sends is wrong.
    fn await_close(&mut self, total: u64, scratch: &mut [u8]) -> Step {
        loop {
            match self.stream.read(scratch) {
                Ok(0) if self.half_closed => return Step::Done,
                Ok(0) => {
                    return Step::Failed(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the server closed after taking {} of {total} bytes",
                            self.moved
                        ),
                    ));
                }
                Ok(_) => return Step::Mismatch,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Ok,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Failed(e),
            }
        }
    }

    /// Download: reads and verifies up to `total` bytes.
    fn read(
        &mut self,
        shared: &Shared<'_>,
        total: u64,
        scratch: &mut [u8],
        result: &mut LoopResult,
    ) -> Step {
        while self.moved < total {
            let want =
                usize::try_from(total - self.moved).map_or(scratch.len(), |l| l.min(scratch.len()));
            let n = match self.stream.read(&mut scratch[..want]) {
                Ok(0) => {
                    return Step::Failed(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the server closed after sending {} of {total} bytes",
                            self.moved
                        ),
                    ));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Ok,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Step::Failed(e),
            };
            if chargen::verify(self.moved, &scratch[..n]).is_err() {
                return Step::Mismatch;
            }
            self.moved += n as u64;
            result.bytes += n as u64;
            shared.progress.add(0, n as u64);
            if n < want {
                // A short read drained the socket: wait for the next edge.
                return Step::Ok;
            }
        }
        Step::Done
    }
}

/// Discard: every connection uploads its bytes, half-closes and waits for
/// the server's close.
pub(crate) fn upload(
    shared: &Shared<'_>,
    indices: &[usize],
    gate: &mut Gate<'_, '_>,
) -> LoopResult {
    transfers(shared, indices, gate, Direction::Upload)
}

/// Chargen: every connection downloads its bytes, verified.
pub(crate) fn download(
    shared: &Shared<'_>,
    indices: &[usize],
    gate: &mut Gate<'_, '_>,
) -> LoopResult {
    transfers(shared, indices, gate, Direction::Download)
}

/// How long the end of a download waits for the server's close.
const GRACE: Duration = Duration::from_secs(1);

fn transfers(
    shared: &Shared<'_>,
    indices: &[usize],
    gate: &mut Gate<'_, '_>,
    direction: Direction,
) -> LoopResult {
    let mut result = LoopResult::new();
    let (Workload::Discard { bytes: total } | Workload::Chargen { bytes: total }) =
        shared.config.workload
    else {
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
        .map(|s| {
            s.map(|stream| Transfer {
                stream,
                moved: 0,
                half_closed: false,
            })
        })
        .collect();
    // Finished transfers, kept open (at their token's place) until the
    // server's CPU time is read, then closed politely (an upload's server
    // has closed already).
    let mut done: Vec<Option<TcpStream>> = (0..conns.len()).map(|_| None).collect();
    let mut scratch = vec![0u8; CHUNK];
    let mut alive = 0;
    for (token, slot) in conns.iter_mut().enumerate() {
        if let Some(conn) = slot {
            // The server may have filled the socket already, during the
            // connect phase, whose events are gone: no new edge would
            // come for that data, so read it now.
            let step = match direction {
                Direction::Upload => conn.write(shared, total),
                Direction::Download => conn.read(shared, total, &mut scratch, &mut result),
            };
            match step {
                Step::Ok => alive += 1,
                Step::Done => {
                    finished(&mut result, start, shared, direction, total);
                    done[token] = slot.take().map(|conn| conn.stream);
                }
                step => {
                    step.settle(&mut result);
                    *slot = None;
                }
            }
        }
    }
    let mut last_progress = Instant::now();
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
            let token = event.token().0;
            let Some(slot) = conns.get_mut(token) else {
                continue;
            };
            let Some(conn) = slot.as_mut() else { continue };
            let before = conn.moved;
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let mut step = Step::Ok;
            match direction {
                Direction::Upload => {
                    if event.is_writable() || event.is_error() {
                        step = conn.write(shared, total);
                    }
                    if matches!(step, Step::Ok) && readable {
                        step = conn.await_close(total, &mut scratch);
                    }
                }
                Direction::Download if readable => {
                    step = conn.read(shared, total, &mut scratch, &mut result);
                }
                Direction::Download => {}
            }
            if before != conn.moved || !matches!(step, Step::Ok) {
                last_progress = Instant::now();
            }
            match step {
                Step::Ok => {}
                Step::Done => {
                    finished(&mut result, start, shared, direction, total);
                    done[token] = slot.take().map(|conn| conn.stream);
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
    connections::close_gracefully(&mut poll, &mut events, &mut done, GRACE);
    result
}

/// A transfer completed: one op, timed from the start of the run. The
/// bytes were counted as they arrived (download), or are counted now that
/// the server's close confirmed them (upload).
fn finished(
    result: &mut LoopResult,
    start: Instant,
    shared: &Shared<'_>,
    direction: Direction,
    total: u64,
) {
    result.done(start, Instant::now(), 0, shared.progress);
    if direction == Direction::Upload {
        result.bytes += total;
    }
}
