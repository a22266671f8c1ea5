//! One TCP connection on an event loop: a nonblocking socket driven by the
//! connection core ([`Core`]).
//!
//! Readiness is edge-triggered; a read shorter than the buffer means the
//! socket is drained (no speculative read that would only return
//! `EAGAIN`). A connection gets at most [`READ_BUDGET`] reads (or
//! `on_drained` calls) per turn, so a flood cannot starve the others.
//!
//! A connection whose handler only echoes may have its bytes moved in the
//! kernel instead (socket → pipe → socket, [`crate::splice`]): the pipe's
//! bytes go out before the queue, and count as output waiting.

use std::io::{self, Read, Write};
use std::time::Instant;

use mio::net::TcpStream;

use crate::conn::{Core, Next};
use crate::event::CloseReason;
use crate::handler::Handler;
use crate::lifecycle::Control;
use crate::splice::{self, Pipe};

/// Reads per connection per turn of the loop.
const READ_BUDGET: usize = 16;

/// Largest read while the loop is over its output budget: a connection
/// with an empty queue may still read, but little at a time.
const SMALL_READ: usize = crate::conn::SMALL_STEP;

/// A read this large says the peer streams: from then on the connection
/// may take the zero-copy path. Requests and replies of a few bytes stay
/// on plain reads and writes, which cost them fewer system calls than a
/// pipe does (measured: 5.4 against 6.6 µs of server CPU per 64-byte echo).
const BULK_READ: usize = 64 * 1024;

/// What driving a connection left it as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drive {
    /// Waiting for readiness (or its deadline).
    Open,
    /// Has more to do but used its budget this turn.
    Again,
    /// Done; close it for this reason.
    Close(CloseReason),
}

/// The outcome of [`Conn::pump`], and the I/O error that ended it, if one
/// did (for the loop to report).
pub(crate) struct Pumped {
    pub drive: Drive,
    pub error: Option<(&'static str, io::Error)>,
}

impl From<Drive> for Pumped {
    fn from(drive: Drive) -> Self {
        Pumped { drive, error: None }
    }
}

/// A connection owned by a loop.
pub(crate) struct Conn {
    pub stream: TcpStream,
    /// Index of the service that accepted it.
    pub service: usize,
    pub core: Core<Box<dyn Handler>>,
    /// The socket may have unread input.
    readable: bool,
    /// Readiness reported end-of-file or an error: a short read does not
    /// mean the socket is drained.
    hangup: bool,
    /// The pipe lent to this connection while it holds echoed bytes.
    pipe: Option<Pipe>,
    /// `splice(2)` failed as unsupported here: read and write as usual.
    no_splice: bool,
    /// A read of [`BULK_READ`] bytes or more was seen: the peer streams.
    bulk: bool,
}

impl Conn {
    pub fn new(stream: TcpStream, service: usize, core: Core<Box<dyn Handler>>) -> Self {
        Conn {
            stream,
            service,
            core,
            // Registration reports input that is already waiting, so no
            // read is tried before readiness says so.
            readable: false,
            hangup: false,
            pipe: None,
            no_splice: false,
            bulk: false,
        }
    }

    /// Notes what a readiness event said.
    pub fn ready(&mut self, readable: bool, hangup: bool) {
        if readable {
            self.readable = true;
        }
        if hangup {
            // End-of-file or an error is already queued behind any data:
            // read until it shows, since no further edge will announce it.
            self.readable = true;
            self.hangup = true;
        }
    }

    /// Whether the peer sent bytes nobody has read yet (`recv(2)` with
    /// `MSG_PEEK`): closing over them would make the kernel reset the
    /// connection and drop the reply still in flight.
    pub fn has_unread_input(&self) -> bool {
        matches!(self.stream.peek(&mut [0u8; 1]), Ok(n) if n > 0)
    }

    /// Before a close "by the server" of a connection that never read a
    /// byte: if the peer did send something after all, half-close and
    /// linger instead (true), as for any connection that sent input.
    pub fn linger_if_input_waits(&mut self, reason: CloseReason) -> bool {
        if reason != CloseReason::Handler
            || self.core.bytes_in > 0
            || !self.core.fin_on_close(reason)
            || !self.has_unread_input()
        {
            return false;
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        self.core.start_linger(Instant::now());
        // The peeked bytes are there to discard.
        self.readable = true;
        true
    }

    /// Writes the pipe's bytes, then queued output, until it is all sent
    /// or the socket is full.
    pub fn flush(&mut self, now: Instant, control: &Control) -> io::Result<()> {
        if !self.flush_pipe(now)? {
            return Ok(());
        }
        while self.core.queued() > 0 {
            match self.stream.write(self.core.output()) {
                Ok(n) => self.core.wrote(n, now, control),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.core.write_blocked(now);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sends what the pipe holds; an emptied pipe goes back to the pool.
    /// Returns whether the pipe is empty.
    fn flush_pipe(&mut self, now: Instant) -> io::Result<bool> {
        let Some(pipe) = &self.pipe else {
            return Ok(true);
        };
        while self.core.piped() > 0 {
            match splice::drain(pipe, &self.stream, self.core.piped()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.core.spliced_out(n, now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.core.write_blocked(now);
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(pipe) = self.pipe.take() {
            splice::give_back(pipe);
        }
        Ok(true)
    }

    /// Reads from the socket into a pipe, when the fast path applies;
    /// `None` when it does not, and the caller reads as usual.
    fn splice_read(&mut self, now: Instant, control: &Control) -> Option<Result<(), Pumped>> {
        if !self.bulk || self.no_splice || control.wants_data || !self.core.may_splice() {
            return None;
        }
        let pipe = match self.pipe.take() {
            Some(pipe) => pipe,
            // Out of descriptors, say: this read goes the ordinary way.
            None => splice::borrow().ok()?,
        };
        let result = splice::fill(&self.stream, &pipe, splice::FILL_CHUNK);
        let held = self.core.piped();
        if held > 0 || matches!(result, Ok(n) if n > 0) {
            self.pipe = Some(pipe);
        } else {
            splice::give_back(pipe);
        }
        Some(match result {
            Ok(0) => {
                self.readable = false;
                self.core
                    .received_eof(control)
                    .map_err(|r| Drive::Close(r).into())
            }
            Ok(n) => {
                // A short move may mean the pipe is out of room rather
                // than the socket drained: keep reading until it says.
                self.core.spliced_in(n, now);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if held == 0 {
                    self.readable = false;
                } else {
                    // Socket empty or pipe full, the error does not say:
                    // wait for the peer to take some of the echo, which a
                    // writable edge will announce.
                    self.core.pipe_stalled();
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) if splice::unsupported(&e) => {
                self.no_splice = true;
                return None;
            }
            Err(e) => Err(Pumped {
                drive: Drive::Close(CloseReason::Error),
                error: Some(("reading from", e)),
            }),
        })
    }

    /// Moves bytes both ways until the socket would block, the core says
    /// wait or close, or the turn's budget is spent. Over the loop's output
    /// budget, only a connection whose queue is empty reads, a little at a
    /// time. `now` is the time of the loop's turn: one clock read per turn,
    /// not one per read and write (deadlines are seconds; a turn, at most
    /// milliseconds).
    pub fn pump(
        &mut self,
        buf: &mut [u8],
        over_budget: bool,
        now: Instant,
        control: &Control,
    ) -> Pumped {
        let mut budget = READ_BUDGET;
        self.core.set_tight(over_budget);
        loop {
            if let Err(e) = self.flush(now, control) {
                return Pumped {
                    drive: Drive::Close(CloseReason::Error),
                    error: Some(("writing to", e)),
                };
            }
            match self.core.drained(control) {
                Err(reason) => return Drive::Close(reason).into(),
                Ok(true) => {
                    if budget == 0 {
                        return Drive::Again.into();
                    }
                    budget -= 1;
                    continue;
                }
                Ok(false) => {}
            }
            match self.core.next() {
                Next::Close(reason) if self.linger_if_input_waits(reason) => continue,
                Next::Close(reason) => return Drive::Close(reason).into(),
                Next::Wait => return Drive::Open.into(),
                Next::Linger => {
                    let _ = self.stream.shutdown(std::net::Shutdown::Write);
                    self.core.start_linger(now);
                    continue;
                }
                Next::Read => {}
            }
            if !self.readable || (over_budget && self.core.queued() > 0) || self.core.pipe_full() {
                return Drive::Open.into();
            }
            if budget == 0 {
                return Drive::Again.into();
            }
            budget -= 1;
            match self.splice_read(now, control) {
                Some(Ok(())) => continue,
                Some(Err(pumped)) => return pumped,
                None => {}
            }
            let want = if over_budget { SMALL_READ } else { buf.len() };
            let buf = &mut buf[..want];
            let step = match self.stream.read(buf) {
                Ok(0) => {
                    self.readable = false;
                    self.core.received_eof(control)
                }
                Ok(n) => {
                    // A short read drained the socket, unless end-of-file
                    // is known to be waiting behind the data.
                    self.readable = n == want || self.hangup;
                    self.bulk |= n >= BULK_READ;
                    self.core.received(&buf[..n], now, control)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
                // The peer went away while we waited for its end-of-file:
                // our side was done anyway.
                Err(_) if self.core.lingering() => Err(CloseReason::Handler),
                Err(e) => {
                    return Pumped {
                        drive: Drive::Close(CloseReason::Error),
                        error: Some(("reading from", e)),
                    };
                }
            };
            if let Err(reason) = step {
                return Drive::Close(reason).into();
            }
        }
    }
}
