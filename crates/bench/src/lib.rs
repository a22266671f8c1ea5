//! bench: the load generator behind `netlab bench`, for echo (RFC 862),
//! daytime (RFC 867), discard (RFC 863) and chargen (RFC 864) servers, the
//! way `wrk` is one for HTTP.
//!
//! Five workloads, over TCP or UDP:
//!
//! - [`Workload::Echo`]: every connection sends a request of `size` bytes,
//!   reads exactly `size` bytes back, checks them against what it sent, and
//!   repeats until the duration is over. Each round trip goes into an HDR
//!   latency histogram.
//! - [`Workload::Bulk`]: every connection streams `bytes` bytes while it
//!   reads the echo back at the same time, verified byte for byte.
//! - [`Workload::Daytime`]: `connections` concurrent connectors each
//!   connect, read to end-of-file, check the reply is a line, close, and
//!   start over.
//! - [`Workload::Discard`] (TCP): every connection uploads `bytes` bytes,
//!   half-closes, and waits for the server's close, which says it read
//!   them all.
//! - [`Workload::Chargen`] (TCP): every connection downloads `bytes` bytes,
//!   each checked against the chargen pattern (from offset 0 on every
//!   connection).
//!
//! The generator is built not to be the bottleneck on a small machine: one
//! mio event loop per thread (one thread by default) drives every
//! connection with nonblocking, edge-triggered sockets; requests are cut
//! from one precomputed pattern ([`pattern`](crate) windows), so nothing is
//! allocated or copied per request; bulk reads and writes move 256 KiB at a
//! time.
//!
//! ```
//! use std::time::Duration;
//! use bench::{Config, Progress, Workload};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = netcore::Builder::new("127.0.0.1:0".parse()?).serve(echo::Echo::default())?;
//! let config = Config::new(server.local_addr(), Workload::Echo { size: 64 })
//!     .connections(4)
//!     .duration(Duration::from_millis(200));
//! let report = bench::run(&config, &Progress::default())?;
//! assert!(report.ops > 0);
//! assert_eq!(report.mismatches, 0);
//! server.shutdown(Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! With [`Config::server_pid`], the [`Report`] also carries the server's CPU
//! time per operation, read from `/proc` (see [`cpu`]): when load generator
//! and server share two cores, that is the figure that stays honest.
//!
//! # Where to go next
//!
//! - [`Config`]: the target, the [`Workload`], the [`Transport`], how many
//!   connections, for how long; [`run`] runs it, [`Progress`] watches it
//!   from another thread.
//! - [`Report`]: throughput, [`Latency`] percentiles, errors and
//!   mismatches; its fields are what `netlab bench --json` prints.
//! - `examples/bench_echo.rs`: an echo server and a load on it in one
//!   program, `cargo run --release -p netlab-bench --example bench_echo -- [SECONDS]`.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod connections;
pub mod cpu;
mod daytime_tcp;
mod echo_tcp;
mod engine;
mod pattern;
mod report;
mod stream_tcp;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

pub use report::{Latency, Report, ServerUsage};

/// What each connection does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Request/response echo: send `size` bytes, read them back, check,
    /// repeat.
    Echo {
        /// Bytes per request.
        size: usize,
    },
    /// Bulk echo (TCP only): stream `bytes` bytes while reading the echo
    /// back concurrently, then half-close.
    Bulk {
        /// Bytes each connection sends.
        bytes: u64,
    },
    /// Daytime: connect, read to end-of-file, close, repeat (TCP); send an
    /// empty datagram, read the line (UDP).
    Daytime,
    /// Upload to a discard server (TCP only): stream `bytes` bytes,
    /// half-close, wait for the server to close.
    Discard {
        /// Bytes each connection sends.
        bytes: u64,
    },
    /// Download from a chargen server (TCP only): read `bytes` bytes, each
    /// verified against the pattern, then close.
    Chargen {
        /// Bytes each connection reads.
        bytes: u64,
    },
}

impl Workload {
    /// Whether the workload moves a fixed number of bytes per connection
    /// and runs until that is done, ignoring the duration.
    pub fn is_bulk(&self) -> bool {
        matches!(
            self,
            Workload::Bulk { .. } | Workload::Discard { .. } | Workload::Chargen { .. }
        )
    }
}

/// Which transport to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// TCP.
    #[default]
    Tcp,
    /// UDP: one datagram per request, [`Config::depth`] requests in
    /// flight per socket (one by default).
    Udp,
}

/// How to run the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    addr: SocketAddr,
    workload: Workload,
    transport: Transport,
    connections: usize,
    depth: usize,
    duration: Duration,
    threads: usize,
    timeout: Option<Duration>,
    server_pid: Option<u32>,
}

/// The largest UDP payload over IPv4 (65,535 minus the IP and UDP headers).
pub const MAX_DATAGRAM: usize = 65_507;

/// The largest request size in TCP echo mode.
pub const MAX_REQUEST: usize = 16 * 1024 * 1024;

impl Config {
    /// A run of `workload` against `addr` with the defaults: TCP, 1
    /// connection, 5 seconds, 1 load-generator thread, the transport's
    /// default timeout, no server PID.
    pub fn new(addr: SocketAddr, workload: Workload) -> Self {
        Config {
            addr,
            workload,
            transport: Transport::Tcp,
            connections: 1,
            depth: 1,
            duration: Duration::from_secs(5),
            threads: 1,
            timeout: None,
            server_pid: None,
        }
    }

    /// TCP or UDP.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Concurrent connections (TCP) or sockets (UDP), at least 1.
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n.max(1);
        self
    }

    /// UDP: requests in flight on each socket, at least 1 (default 1).
    ///
    /// With 1, each socket waits for its reply before it sends again, so a
    /// run mostly measures the round trip's wake-ups; with more, the
    /// server always has datagrams queued and the run measures its cost
    /// per datagram. TCP ignores it: a TCP request waits for its echo.
    pub fn depth(mut self, n: usize) -> Self {
        self.depth = n.max(1);
        self
    }

    /// How long to run (ignored by the bulk workloads, [`Workload::Bulk`],
    /// [`Workload::Discard`] and [`Workload::Chargen`], which run until
    /// every transfer is done).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Event-loop threads of the load generator, at least 1; connections
    /// are spread over them.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// TCP: how long connecting may take and how long a transfer may make
    /// no progress before it counts as an error (default 10 s). UDP: how
    /// long to wait for a reply before counting the request lost (default
    /// 200 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Measure this process's CPU time and RSS (see [`cpu`]).
    pub fn server_pid(mut self, pid: u32) -> Self {
        self.server_pid = Some(pid);
        self
    }

    /// The effective timeout.
    pub(crate) fn effective_timeout(&self) -> Duration {
        self.timeout.unwrap_or(match self.transport {
            Transport::Tcp => Duration::from_secs(10),
            Transport::Udp => Duration::from_millis(200),
        })
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::Config(msg));
        match (self.workload, self.transport) {
            (Workload::Echo { size: 0 }, _) => {
                bad("the request size must be at least 1 byte".into())
            }
            (Workload::Echo { size }, Transport::Udp) if size > MAX_DATAGRAM => bad(format!(
                "a UDP request holds at most {MAX_DATAGRAM} bytes, not {size}"
            )),
            (Workload::Echo { size }, Transport::Tcp) if size > MAX_REQUEST => bad(format!(
                "a request holds at most {MAX_REQUEST} bytes, not {size}"
            )),
            (Workload::Bulk { .. }, Transport::Udp) => {
                bad("bulk mode streams over TCP; drop --udp".into())
            }
            (Workload::Discard { .. } | Workload::Chargen { .. }, Transport::Udp) => {
                bad("discard and chargen runs stream over TCP; drop --udp".into())
            }
            (_, Transport::Tcp) if self.depth > 1 => {
                bad("requests in flight per socket (depth) applies to UDP only; add --udp".into())
            }
            (
                Workload::Bulk { bytes: 0 }
                | Workload::Discard { bytes: 0 }
                | Workload::Chargen { bytes: 0 },
                _,
            ) => bad("the bulk size must be at least 1 byte".into()),
            _ if self.duration.is_zero() && !self.workload.is_bulk() => {
                bad("the duration must be more than 0 seconds".into())
            }
            _ if self.effective_timeout().is_zero() => {
                bad("the timeout must be more than 0 seconds".into())
            }
            _ => Ok(()),
        }
    }
}

/// Live counters of a run, for a progress display: the run updates them,
/// another thread reads them. Cloning shares the counters.
#[derive(Debug, Clone, Default)]
pub struct Progress(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    started: AtomicBool,
    ops: AtomicU64,
    bytes: AtomicU64,
}

impl Progress {
    /// Whether the measured window has begun (connections are open).
    pub fn started(&self) -> bool {
        self.0.started.load(Ordering::Relaxed)
    }

    /// Operations completed so far.
    pub fn ops(&self) -> u64 {
        self.0.ops.load(Ordering::Relaxed)
    }

    /// Payload bytes verified so far.
    pub fn bytes(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn start(&self) {
        self.0.started.store(true, Ordering::Relaxed);
    }

    pub(crate) fn add(&self, ops: u64, bytes: u64) {
        if ops > 0 {
            self.0.ops.fetch_add(ops, Ordering::Relaxed);
        }
        if bytes > 0 {
            self.0.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a single connection to the server could be opened.
    #[error("connecting to {addr}")]
    Connect {
        /// The server's address.
        addr: SocketAddr,
        /// Why the connection failed.
        #[source]
        source: io::Error,
    },
    /// The server never answered a single UDP request.
    #[error("no reply from {addr} over UDP within {timeout:?} ({lost} requests lost)")]
    NoReply {
        /// The server's address.
        addr: SocketAddr,
        /// The per-request timeout.
        timeout: Duration,
        /// How many requests went unanswered.
        lost: u64,
    },
    /// A system call the load generator needs failed (creating the event
    /// loop, a thread, reading `/proc`).
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The configuration makes no sense (a zero size, bulk over UDP).
    #[error("{0}")]
    Config(String),
}

/// Runs the load described by `config` and reports what it measured;
/// `progress` is updated as it goes.
///
/// Blocks for the duration (or until every bulk transfer is done). Fails
/// only when nothing could be measured: not one connection opened, not one
/// UDP reply, or the load generator's own resources failed. Errors and
/// mismatches during the run are counted in the [`Report`], not returned.
pub fn run(config: &Config, progress: &Progress) -> Result<Report, Error> {
    config.validate()?;
    engine::run(config, progress)
}
