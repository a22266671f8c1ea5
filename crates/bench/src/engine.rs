//! The parts every workload shares: threads, the start gate, result
//! merging and the report. The TCP connections a loop keeps for the whole
//! run are in `connections`.

use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mio::{Events, Poll};

use crate::pattern::Pattern;
use crate::report::{Latency, Report, ServerUsage};
use crate::{Config, Error, Progress, Transport, Workload, cpu};

/// Bytes moved per read or write in bulk mode: large enough that the
/// per-syscall cost vanishes next to the copy, small enough to stay in L2.
pub(crate) const CHUNK: usize = 256 * 1024;

/// Everything the loop threads share, read-only.
pub(crate) struct Shared<'a> {
    pub config: &'a Config,
    pub pattern: Pattern,
    pub progress: &'a Progress,
    start: StartLine,
}

/// Where the loops wait, connected, until the main thread has taken its
/// first reading of the server's CPU time (the main thread can also call
/// the run off: a loop thread could not be created); and where they wait
/// again at the end, connections still open, until it has taken the last
/// one. A forking server's children thus cannot exit, taking their CPU
/// time out of sight before their parent reaps them, mid-reading.
#[derive(Default)]
struct StartLine {
    state: Mutex<Line>,
    changed: Condvar,
}

#[derive(Default)]
struct Line {
    arrived: usize,
    phase: Phase,
    finished: usize,
    sampled: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Waiting,
    Go,
    Abort,
}

impl StartLine {
    fn lock(&self) -> MutexGuard<'_, Line> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_while(&self, mut done: impl FnMut(&Line) -> bool) -> MutexGuard<'_, Line> {
        let mut state = self.lock();
        while !done(&state) {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state
    }

    /// A loop arrives and waits for the verdict: `true` to go.
    fn arrive(&self) -> bool {
        self.lock().arrived += 1;
        self.changed.notify_all();
        self.wait_while(|l| l.phase != Phase::Waiting).phase == Phase::Go
    }

    /// A loop finished measuring; it waits for the last reading.
    fn finish(&self) {
        self.lock().finished += 1;
        self.changed.notify_all();
        drop(self.wait_while(|l| l.sampled));
    }

    /// The main thread waits until `n` loops arrived.
    fn wait_arrived(&self, n: usize) {
        drop(self.wait_while(|l| l.arrived >= n));
    }

    /// The main thread waits until `n` loops finished measuring.
    fn wait_finished(&self, n: usize) {
        drop(self.wait_while(|l| l.finished >= n));
    }

    fn release(&self, phase: Phase) {
        self.lock().phase = phase;
        self.changed.notify_all();
    }

    /// The last reading is taken: loops may close their connections.
    fn sampled(&self) {
        self.lock().sampled = true;
        self.changed.notify_all();
    }
}

/// A loop's pass through the [`StartLine`].
pub(crate) struct Gate<'s, 'a> {
    shared: &'s Shared<'a>,
    passed: Option<bool>,
    finished: bool,
}

impl Gate<'_, '_> {
    /// Wait for every loop to be connected and the main thread to take its
    /// first reading; returns the start of the measured window, or `None`
    /// when the run was called off. Later calls return at once.
    pub(crate) fn pass(&mut self) -> Option<Instant> {
        let go = *self
            .passed
            .get_or_insert_with(|| self.shared.start.arrive());
        go.then(Instant::now)
    }

    /// The measured window is over for this loop: wait, connections still
    /// open, until the main thread has read the server's CPU time. Later
    /// calls return at once.
    pub(crate) fn finish(&mut self) {
        self.pass();
        if !self.finished {
            self.finished = true;
            self.shared.start.finish();
        }
    }
}

/// What one loop thread measured.
pub(crate) struct LoopResult {
    pub hist: Histogram<u64>,
    pub ops: u64,
    pub bytes: u64,
    pub errors: u64,
    pub mismatches: u64,
    pub losses: u64,
    pub connect_failures: u64,
    pub first_error: Option<io::Error>,
    /// When the last operation completed.
    pub end: Option<Instant>,
}

impl LoopResult {
    pub(crate) fn new() -> Self {
        LoopResult {
            // 1 ns to 1 hour at 3 significant digits: about 190 KiB.
            hist: Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
                .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!())),
            ops: 0,
            bytes: 0,
            errors: 0,
            mismatches: 0,
            losses: 0,
            connect_failures: 0,
            first_error: None,
            end: None,
        }
    }

    /// One operation done at `now`, `started` earlier, with `bytes`
    /// verified payload.
    pub(crate) fn done(&mut self, started: Instant, now: Instant, bytes: u64, progress: &Progress) {
        let nanos = u64::try_from(now.duration_since(started).as_nanos()).unwrap_or(u64::MAX);
        self.hist.saturating_record(nanos.max(1));
        self.ops += 1;
        self.bytes += bytes;
        self.end = Some(now);
        progress.add(1, bytes);
    }

    pub(crate) fn error(&mut self, e: io::Error) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }

    pub(crate) fn connect_failed(&mut self, e: io::Error) {
        self.connect_failures += 1;
        self.first_error.get_or_insert(e);
    }

    fn merge(&mut self, other: LoopResult) {
        let _ = self.hist.add(&other.hist);
        self.ops += other.ops;
        self.bytes += other.bytes;
        self.errors += other.errors;
        self.mismatches += other.mismatches;
        self.losses += other.losses;
        self.connect_failures += other.connect_failures;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.end = self.end.max(other.end);
    }
}

/// A new event loop, or the error that explains why not.
pub(crate) fn new_poll() -> io::Result<(Poll, Events)> {
    Ok((Poll::new()?, Events::with_capacity(1024)))
}

/// `poll(2)` that treats `EINTR` as "no events".
pub(crate) fn poll(poll: &mut Poll, events: &mut Events, timeout: Duration) -> io::Result<()> {
    match poll.poll(events, Some(timeout)) {
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {
            events.clear();
            Ok(())
        }
        other => other,
    }
}

/// The loop body of one workload: serves the connections whose global
/// numbers are given, passes the gate once connected, and returns what it
/// measured.
type LoopFn = fn(&Shared<'_>, &[usize], &mut Gate<'_, '_>) -> LoopResult;

pub(crate) fn run(config: &Config, progress: &Progress) -> Result<Report, Error> {
    let io_err = |what: String| move |source| Error::Io { what, source };
    let pid = config.server_pid;
    if let Some(pid) = pid {
        cpu::tree_ticks(pid).map_err(io_err(format!("reading /proc/{pid}/stat")))?;
    }
    if config.transport == Transport::Tcp && config.workload == Workload::Daytime {
        // A connector loop against a closed port would spin on refusals
        // for the whole run: find out first.
        std::net::TcpStream::connect_timeout(&config.addr, config.effective_timeout()).map_err(
            |source| Error::Connect {
                addr: config.addr,
                source,
            },
        )?;
    }
    let body: LoopFn = match (config.transport, config.workload) {
        (Transport::Tcp, Workload::Echo { .. }) => crate::echo_tcp::request_response,
        (Transport::Tcp, Workload::Bulk { .. }) => crate::echo_tcp::bulk,
        (Transport::Tcp, Workload::Daytime) => crate::daytime_tcp::connectors,
        (Transport::Tcp, Workload::Discard { .. }) => crate::stream_tcp::upload,
        (Transport::Tcp, Workload::Chargen { .. }) => crate::stream_tcp::download,
        (Transport::Udp, _) => crate::udp::requests,
    };
    let max_len = match config.workload {
        Workload::Echo { size } => size,
        Workload::Bulk { .. }
        | Workload::Daytime
        | Workload::Discard { .. }
        | Workload::Chargen { .. } => 0,
    };
    let threads = config.threads.min(config.connections).max(1);
    let shared = Shared {
        config,
        pattern: crate::pattern::Pattern::new(max_len.max(CHUNK)),
        progress,
        start: StartLine::default(),
    };
    let timed = !config.workload.is_bulk();

    let (mut total, start, before, after, own_cpu_us) = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for t in 0..threads {
            let indices: Vec<usize> = (t..config.connections).step_by(threads).collect();
            let shared = &shared;
            let handle = thread::Builder::new()
                .name(format!("bench-loop-{t}"))
                .spawn_scoped(scope, move || {
                    let mut gate = Gate {
                        shared,
                        passed: None,
                        finished: false,
                    };
                    let result = body(shared, &indices, &mut gate);
                    gate.finish();
                    result
                });
            match handle {
                Ok(h) => handles.push(h),
                Err(e) => {
                    shared.start.release(Phase::Abort);
                    return Err(Error::Io {
                        what: "starting a load-generator thread".into(),
                        source: e,
                    });
                }
            }
        }
        shared.start.wait_arrived(threads);
        let before = pid.map(cpu::tree_ticks).transpose();
        let own_before = cpu::tree_ticks(std::process::id()).ok();
        progress.start();
        let start = Instant::now();
        shared.start.release(Phase::Go);
        // Every loop stops at the deadline (or when its transfers are
        // done) and waits here with its connections open.
        shared.start.wait_finished(threads);
        let after = pid.map(cpu::tree_ticks).transpose();
        let own_after = cpu::tree_ticks(std::process::id()).ok();
        shared.start.sampled();
        let mut total = LoopResult::new();
        for handle in handles {
            match handle.join() {
                Ok(result) => total.merge(result),
                Err(_) => total.error(io::Error::other("a load-generator thread panicked")),
            }
        }
        let own = own_before
            .zip(own_after)
            .map(|(b, a)| cpu::ticks_to_micros(a.saturating_sub(b)));
        Ok((total, start, before, after, own))
    })?;

    if total.ops == 0 {
        if config.transport == Transport::Udp && total.losses > 0 && total.first_error.is_none() {
            return Err(Error::NoReply {
                addr: config.addr,
                timeout: config.effective_timeout(),
                lost: total.losses,
            });
        }
        if total.connect_failures as usize >= config.connections {
            if let Some(source) = total.first_error.take() {
                return Err(Error::Connect {
                    addr: config.addr,
                    source,
                });
            }
        }
    }

    let elapsed = if timed {
        config.duration
    } else {
        total
            .end
            .map_or(Duration::ZERO, |end| end.duration_since(start))
    };
    let secs = elapsed.as_secs_f64().max(1e-9);
    let (workload, op, cpu_unit, size, bulk_bytes) = match config.workload {
        Workload::Echo { size } => ("echo", "request", "request", size, 0),
        Workload::Bulk { bytes } => ("echo-bulk", "transfer", "GB", 0, bytes),
        Workload::Daytime => ("daytime", "connection", "connection", 0, 0),
        Workload::Discard { bytes } => ("discard", "transfer", "GB", 0, bytes),
        Workload::Chargen { bytes } => ("chargen", "transfer", "GB", 0, bytes),
    };
    let (op, cpu_unit) = match (config.transport, config.workload) {
        (Transport::Udp, Workload::Daytime) => ("request", "request"),
        _ => (op, cpu_unit),
    };
    let per_op = if bulk_bytes > 0 {
        total.bytes as f64 / 1e9
    } else {
        total.ops as f64
    };
    let server = match (pid, before, after) {
        (Some(pid), Ok(Some(before)), Ok(Some(after))) => {
            let cpu_us = cpu::ticks_to_micros(after.saturating_sub(before));
            Some(ServerUsage {
                pid,
                cpu_us,
                cpu_us_per_op: if per_op > 0.0 { cpu_us / per_op } else { 0.0 },
                rss_kib: cpu::rss_kib(pid).unwrap_or(0),
            })
        }
        (Some(pid), Err(source), _) | (Some(pid), _, Err(source)) => {
            return Err(Error::Io {
                what: format!("reading /proc/{pid}/stat"),
                source,
            });
        }
        _ => None,
    };
    Ok(Report {
        workload,
        transport: match config.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        },
        target: config.addr.to_string(),
        connections: config.connections,
        depth: match config.transport {
            Transport::Tcp => 1,
            Transport::Udp => config.depth,
        },
        size,
        bulk_bytes,
        connect_failures: total.connect_failures,
        elapsed_s: secs,
        ops: total.ops,
        ops_per_s: total.ops as f64 / secs,
        op,
        bytes: total.bytes,
        gb_per_s: total.bytes as f64 / secs / 1e9,
        latency: Latency::from_nanos(&total.hist),
        errors: total.errors,
        mismatches: total.mismatches,
        losses: total.losses,
        server,
        cpu_unit,
        first_error: total.first_error.as_ref().map(ToString::to_string),
        client_cpu_us_per_op: match own_cpu_us {
            Some(us) if per_op > 0.0 => us / per_op,
            _ => 0.0,
        },
        threads,
    })
}
