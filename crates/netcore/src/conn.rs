//! The connection core: one connection's state (its handler, output queue,
//! half-close, lingering close, timers and timeouts) as a state machine
//! that does no I/O. Drivers move the bytes and ask it what to do next:
//! the event loop over nonblocking sockets, the inetd driver over blocking
//! descriptors. So the rules of a connection are written once.
//!
//! A driver's round: write [`Core::output`] and report it with
//! [`Core::wrote`]; call [`Core::drained`]; then [`Core::next`] says
//! whether to read (and hand the bytes to [`Core::received`] or
//! [`Core::received_eof`]), wait for the peer to take output, half-close
//! and linger, or close.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::event::{CloseReason, Event};
use crate::handle::{Command, ConnHandle};
use crate::handler::{Connection, ConnectionInfo, Flow, Handler};
use crate::lifecycle::Control;

/// An output queue's capacity kept once it has drained; anything larger
/// is freed.
const KEEP_CAPACITY: usize = 16 * 1024;

/// While the loop is over its output budget, a connection reads, and a
/// producing handler queues ([`Connection::room`]), at most this much at a
/// time, and only once its queue is empty.
pub(crate) const SMALL_STEP: usize = 4096;

/// Longest a closing connection waits for the peer's end-of-file.
pub(crate) const LINGER: Duration = Duration::from_secs(2);

/// The timeouts a connection obeys (see [`Builder`](crate::Builder)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub idle: Option<Duration>,
    pub read: Option<Duration>,
    pub write: Option<Duration>,
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading and answering.
    Open,
    /// The handler (or a [`ConnHandle`]) asked to close: send what is
    /// queued, then close.
    Closing,
    /// The handler refused the input: close now, queue and all.
    Aborted,
    /// Our side is half-closed; input is read and discarded until the
    /// peer's end-of-file, since closing with unread input makes the kernel
    /// reset the connection under the reply (RFC 1122 4.2.2.13).
    Lingering(Instant),
}

/// What the driver should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Read from the peer (if it has anything).
    Read,
    /// Do not read: wait until the peer takes queued output.
    Wait,
    /// Half-close (`shutdown(SHUT_WR)`), then call [`Core::start_linger`].
    Linger,
    /// Close for this reason.
    Close(CloseReason),
}

/// One connection's state, whatever carries its bytes.
pub(crate) struct Core<H> {
    handler: H,
    pub info: ConnectionInfo,
    handle: Option<ConnHandle>,
    out: Vec<u8>,
    /// Bytes at the front of `out` already written.
    sent: usize,
    phase: Phase,
    peer_eof: bool,
    want_drained: bool,
    timer_at: Option<Instant>,
    last_read: Instant,
    last_write: Instant,
    /// Since when queued output has been waiting for the peer.
    write_blocked_since: Option<Instant>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Bytes echoed into a kernel pipe (zero-copy echo) and not yet sent:
    /// they go out before the queue, and count as queued output.
    piped: usize,
    /// The pipe may be full: reading waits until some of it is sent.
    pipe_full: bool,
    /// The earliest entry this connection has in its loop's timer heap.
    pub scheduled: Option<Instant>,
    /// The loop is over its output budget: produce little, and only into
    /// an empty queue.
    tight: bool,
}

impl<H: Handler> Core<H> {
    pub fn new(handler: H, info: ConnectionInfo, handle: Option<ConnHandle>, now: Instant) -> Self {
        Core {
            handler,
            info,
            handle,
            out: Vec::new(),
            sent: 0,
            phase: Phase::Open,
            peer_eof: false,
            want_drained: false,
            timer_at: None,
            last_read: now,
            last_write: now,
            write_blocked_since: None,
            bytes_in: 0,
            bytes_out: 0,
            piped: 0,
            pipe_full: false,
            scheduled: None,
            tight: false,
        }
    }

    /// Calls the handler's `on_open`.
    pub fn open(&mut self, control: &Control) -> Result<(), CloseReason> {
        self.call(control, |h, c| h.on_open(c))
    }

    /// The queued bytes not yet written.
    pub fn output(&self) -> &[u8] {
        &self.out[self.sent..]
    }

    /// How many bytes are queued.
    pub fn queued(&self) -> usize {
        self.out.len() - self.sent
    }

    /// The peer took `n` bytes of [`Core::output`] (at `now`, the time of
    /// the driver's turn).
    pub fn wrote(&mut self, n: usize, now: Instant, control: &Control) {
        if control.wants_data {
            control.emit(&Event::Wrote {
                conn: &self.info,
                data: &self.out[self.sent..self.sent + n],
            });
        }
        let was_above_mark = self.queued() > Connection::HIGH_WATER;
        self.sent += n;
        self.bytes_out += n as u64;
        self.last_write = now;
        self.write_blocked_since = None;
        if was_above_mark && self.queued() <= Connection::HIGH_WATER {
            // Reading resumes now: the peer's silence while we did not
            // read (back-pressure) must not count against its read timeout.
            self.last_read = now;
        }
        if self.sent == self.out.len() {
            self.sent = 0;
            if self.out.capacity() > KEEP_CAPACITY {
                // A burst made the queue big; give the memory back rather
                // than keep it for a connection that may now sit idle
                // (10,000 of them would hold gigabytes). A busy connection
                // gets a fresh buffer from the allocator next time.
                self.out = Vec::new();
            } else {
                self.out.clear();
            }
        }
    }

    /// The peer would not take more output just now.
    pub fn write_blocked(&mut self, now: Instant) {
        self.write_blocked_since.get_or_insert(now);
    }

    /// Whether the loop is over its output budget (the driver says so
    /// before each round; an inetd driver never is).
    pub fn set_tight(&mut self, tight: bool) {
        self.tight = tight;
    }

    /// Calls `on_drained` if the handler asked and the queue is low (over
    /// the budget: empty). Returns whether it was called.
    pub fn drained(&mut self, control: &Control) -> Result<bool, CloseReason> {
        let low = if self.tight { 0 } else { Connection::LOW_WATER };
        if !self.want_drained
            || self.phase != Phase::Open
            || self.peer_eof
            || self.queued() + self.piped > low
        {
            return Ok(false);
        }
        self.want_drained = false;
        self.call(control, |h, c| h.on_drained(c))?;
        Ok(true)
    }

    /// Whether bytes may be echoed in the kernel now: the handler asked
    /// ([`Handler::passthrough`]), the connection is open and reading, and
    /// nothing waits in the queue that the echo would overtake.
    pub fn may_splice(&self) -> bool {
        self.phase == Phase::Open
            && !self.peer_eof
            && self.queued() == 0
            && self.handler.passthrough()
    }

    /// Bytes echoed into the pipe and not yet sent.
    pub fn piped(&self) -> usize {
        self.piped
    }

    /// Whether reading into the pipe waits for some of it to be sent.
    pub fn pipe_full(&self) -> bool {
        self.pipe_full
    }

    /// `n` bytes of input went into the pipe, to be echoed.
    pub fn spliced_in(&mut self, n: usize, now: Instant) {
        self.piped += n;
        self.bytes_in += n as u64;
        self.last_read = now;
    }

    /// The pipe took no more, maybe because it is full: stop reading until
    /// the peer takes some of the echo.
    pub fn pipe_stalled(&mut self) {
        self.pipe_full = true;
    }

    /// The peer took `n` bytes from the pipe.
    pub fn spliced_out(&mut self, n: usize, now: Instant) {
        self.piped -= n;
        self.bytes_out += n as u64;
        self.last_write = now;
        self.write_blocked_since = None;
        if self.pipe_full {
            // Reading resumes: as past the high-water mark, the peer's
            // silence while we did not read is not its fault.
            self.pipe_full = false;
            self.last_read = now;
        }
    }

    /// What to do next.
    pub fn next(&self) -> Next {
        let queued = self.queued() + self.piped;
        match self.phase {
            Phase::Aborted => Next::Close(CloseReason::Refused),
            Phase::Open if self.peer_eof => {
                if queued > 0 {
                    Next::Wait
                } else {
                    Next::Close(CloseReason::PeerClosed)
                }
            }
            Phase::Open if queued > Connection::HIGH_WATER => Next::Wait,
            Phase::Open => Next::Read,
            Phase::Closing if queued > 0 => Next::Wait,
            // Nothing was ever sent to us (daytime), or the peer is done
            // sending: a plain close is clean.
            Phase::Closing if self.peer_eof || self.bytes_in == 0 => {
                Next::Close(CloseReason::Handler)
            }
            Phase::Closing => Next::Linger,
            Phase::Lingering(_) if self.peer_eof => Next::Close(CloseReason::Handler),
            Phase::Lingering(_) => Next::Read,
        }
    }

    /// Whether our side is half-closed and input is being discarded.
    pub fn lingering(&self) -> bool {
        matches!(self.phase, Phase::Lingering(_))
    }

    /// The driver half-closed; discard input until end-of-file.
    pub fn start_linger(&mut self, now: Instant) {
        self.phase = Phase::Lingering(now);
    }

    /// Whether closing for `reason` should first send our FIN right after
    /// the last byte (the server closes and has not half-closed yet).
    pub fn fin_on_close(&self, reason: CloseReason) -> bool {
        reason == CloseReason::Handler
            && !self.peer_eof
            && !matches!(self.phase, Phase::Lingering(_))
    }

    /// Bytes arrived from the peer (at `now`, the time of the driver's
    /// turn: one clock read per turn, not per read).
    pub fn received(
        &mut self,
        data: &[u8],
        now: Instant,
        control: &Control,
    ) -> Result<(), CloseReason> {
        if let Phase::Lingering(_) = self.phase {
            return Ok(());
        }
        self.bytes_in += data.len() as u64;
        self.last_read = now;
        if control.wants_data {
            control.emit(&Event::Read {
                conn: &self.info,
                data,
            });
        }
        self.call(control, |h, c| h.on_data(c, data))
    }

    /// The peer half-closed its side.
    pub fn received_eof(&mut self, control: &Control) -> Result<(), CloseReason> {
        self.peer_eof = true;
        if self.phase != Phase::Open {
            return Ok(());
        }
        self.call(control, |h, c| {
            h.on_eof(c);
            Flow::Continue
        })
    }

    /// A command from a [`ConnHandle`].
    pub fn command(&mut self, command: Command, control: &Control) -> Result<(), CloseReason> {
        match command {
            Command::Wake if self.phase == Phase::Open => self.call(control, |h, c| h.on_wake(c)),
            Command::Wake => Ok(()),
            Command::Close => {
                if self.phase == Phase::Open {
                    self.phase = Phase::Closing;
                }
                Ok(())
            }
        }
    }

    /// When this connection next needs looking at: its timer, or a timeout.
    pub fn deadline(&self, limits: &Timeouts) -> Option<Instant> {
        let after = |since: Instant, limit: Option<Duration>| limit.map(|l| since + l);
        [
            self.timer_at,
            after(self.last_read.max(self.last_write), limits.idle),
            self.read_timeout_applies()
                .then(|| after(self.last_read, limits.read))
                .flatten(),
            self.write_blocked_since
                .and_then(|t| after(t, limits.write)),
            match self.phase {
                Phase::Lingering(t) => Some(t + LINGER),
                _ => None,
            },
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn read_timeout_applies(&self) -> bool {
        // Not while we stopped reading (back-pressure): the peer may well
        // have sent more.
        self.phase == Phase::Open
            && !self.peer_eof
            && self.queued() <= Connection::HIGH_WATER
            && !self.pipe_full
    }

    /// Handles whatever is due at `now`: a timeout closes (`Err`), the
    /// timer calls `on_timer`.
    pub fn expire(
        &mut self,
        now: Instant,
        limits: &Timeouts,
        control: &Control,
    ) -> Result<(), CloseReason> {
        let past = |since: Instant, limit: Option<Duration>| {
            limit.is_some_and(|l| now.saturating_duration_since(since) >= l)
        };
        if let Phase::Lingering(t) = self.phase {
            if past(t, Some(LINGER)) {
                return Err(CloseReason::Handler);
            }
        }
        if past(self.last_read.max(self.last_write), limits.idle) {
            return Err(CloseReason::IdleTimeout);
        }
        if self.read_timeout_applies() && past(self.last_read, limits.read) {
            return Err(CloseReason::ReadTimeout);
        }
        if self
            .write_blocked_since
            .is_some_and(|t| past(t, limits.write))
        {
            return Err(CloseReason::WriteTimeout);
        }
        if self.timer_at.is_some_and(|t| t <= now) {
            self.timer_at = None;
            if self.phase == Phase::Open {
                return self.call(control, |h, c| h.on_timer(c));
            }
        }
        Ok(())
    }

    /// Calls a handler method with a view of this connection, then applies
    /// what it asked; a panic closes the connection.
    fn call(
        &mut self,
        control: &Control,
        f: impl FnOnce(&mut H, &mut Connection<'_>) -> Flow,
    ) -> Result<(), CloseReason> {
        // Before the handler adds to the queue, drop what was sent: a
        // producer refills before the queue is ever empty, and the queue
        // would otherwise keep every byte it ever produced. (Not on every
        // write: while a queue drains, moving its rest each time would
        // double the copying of bulk transfers.)
        self.compact();
        let Core {
            handler,
            info,
            handle,
            out,
            sent,
            tight,
            ..
        } = self;
        let limit = if *tight {
            SMALL_STEP
        } else {
            Connection::HIGH_WATER
        };
        let mut view = Connection::engine(info, out, *sent, handle.as_ref(), limit);
        let flow = match catch_unwind(AssertUnwindSafe(|| f(handler, &mut view))) {
            Ok(flow) => flow,
            Err(payload) => {
                let error = std::io::Error::other(panic_message(payload.as_ref()));
                control.emit(&Event::Error {
                    service: &self.info.service,
                    conn: Some(&self.info),
                    op: "running the handler of",
                    error: &error,
                });
                return Err(CloseReason::HandlerPanic);
            }
        };
        let asks = view.asks();
        if asks.drained {
            self.want_drained = true;
        }
        if let Some(timer) = asks.timer {
            self.timer_at = timer.and_then(|d| Instant::now().checked_add(d));
        }
        match flow {
            Flow::Close if self.phase == Phase::Open => self.phase = Phase::Closing,
            Flow::Abort => self.phase = Phase::Aborted,
            _ => {}
        }
        Ok(())
    }

    /// Drops already-written bytes from the front of the queue once they
    /// are at least half of it (and worth a move), so the cost stays linear
    /// in bytes sent.
    fn compact(&mut self) {
        if self.sent >= 4096 && self.sent * 2 >= self.out.len() {
            self.out.drain(..self.sent);
            self.sent = 0;
        }
    }
}

/// What a panic said: its message when it was a string (as `panic!` makes
/// them), for the `Error` event that reports it.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    format!("the handler panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observers::Silent;
    use std::sync::Arc;

    /// Fills its queue to the high-water mark whenever it drains.
    struct Producer;

    impl Handler for Producer {
        fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
            self.on_drained(conn)
        }
        fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
            Flow::Continue
        }
        fn on_drained(&mut self, conn: &mut Connection<'_>) -> Flow {
            while conn.queued() < Connection::HIGH_WATER {
                conn.send(&[b'x'; 1000]);
            }
            conn.notify_drained();
            Flow::Continue
        }
    }

    fn core<H: Handler>(handler: H) -> (Core<H>, Arc<Control>) {
        let control = Control::new(Arc::new(Silent), 1);
        let core = Core::new(handler, ConnectionInfo::new(1), None, Instant::now());
        (core, control)
    }

    /// Once a burst has been sent, the connection holds no big buffer.
    #[test]
    fn a_drained_queue_gives_its_memory_back() {
        struct Burst;
        impl Handler for Burst {
            fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
                conn.send(data);
                Flow::Continue
            }
        }
        let (mut core, control) = core(Burst);
        core.received(&vec![7u8; 300_000], Instant::now(), &control)
            .unwrap();
        while !core.output().is_empty() {
            let n = core.output().len().min(65_536);
            core.wrote(n, Instant::now(), &control);
        }
        assert!(
            core.out.capacity() <= KEEP_CAPACITY,
            "{}",
            core.out.capacity()
        );
    }

    /// A producer refills before its queue is ever empty; what the peer
    /// took must still leave memory (it used to stay, and grow forever).
    #[test]
    fn a_producer_queue_keeps_only_what_is_unsent() {
        let (mut core, control) = core(Producer);
        core.open(&control).unwrap();
        for _ in 0..20_000 {
            // A slow peer: 4 KiB at a time, and the handler refills.
            let n = core.output().len().min(4096);
            core.wrote(n, Instant::now(), &control);
            core.drained(&control).unwrap();
            assert!(
                core.out.len() <= 2 * Connection::HIGH_WATER,
                "{}",
                core.out.len()
            );
        }
        assert!(core.bytes_out > 50_000_000);
    }

    /// Echo with a read timeout: while the queue was over the mark the
    /// server did not read, so that time does not count as the peer's
    /// silence once the queue drains.
    #[test]
    fn back_pressure_does_not_count_against_the_read_timeout() {
        struct Echo;
        impl Handler for Echo {
            fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
                conn.send(data);
                Flow::Continue
            }
        }
        let (mut core, control) = core(Echo);
        let limits = Timeouts {
            read: Some(Duration::from_millis(50)),
            ..Timeouts::default()
        };
        core.received(
            &vec![0u8; Connection::HIGH_WATER + 1000],
            Instant::now(),
            &control,
        )
        .unwrap();
        assert_eq!(core.next(), Next::Wait);
        // Long after the last read, the peer starts taking the echo.
        std::thread::sleep(Duration::from_millis(60));
        core.wrote(2000, Instant::now(), &control);
        assert_eq!(core.next(), Next::Read);
        assert_eq!(core.expire(Instant::now(), &limits, &control), Ok(()));
    }
}
