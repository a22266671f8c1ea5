//! What a run measured, for people (`Display`) and scripts (`serde`).

use std::fmt;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Latency {
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Slowest.
    pub max_us: f64,
    /// Arithmetic mean.
    pub mean_us: f64,
}

impl Latency {
    /// Percentiles of a histogram recorded in nanoseconds.
    pub(crate) fn from_nanos(hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Latency::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Latency {
            p50_us: us(hist.value_at_quantile(0.50)),
            p99_us: us(hist.value_at_quantile(0.99)),
            p999_us: us(hist.value_at_quantile(0.999)),
            max_us: us(hist.max()),
            mean_us: hist.mean() / 1000.0,
        }
    }
}

/// The server's resources over the measured window, when its PID was
/// given.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ServerUsage {
    /// The server process.
    pub pid: u32,
    /// CPU time (user + system) of the server and its descendants during
    /// the measured window, in microseconds. Resolution: one clock tick
    /// (10 ms).
    pub cpu_us: f64,
    /// `cpu_us` divided by the operations completed: per request (echo),
    /// per connection (daytime) or per GB moved (bulk, discard, chargen); see
    /// [`Report::cpu_unit`].
    pub cpu_us_per_op: f64,
    /// The server's resident set size at the end of the run, in KiB.
    pub rss_kib: u64,
}

/// The result of one run of the load generator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// `echo`, `echo-bulk`, `daytime`, `discard` or `chargen`.
    pub workload: &'static str,
    /// `tcp` or `udp`.
    pub transport: &'static str,
    /// The server's address.
    pub target: String,
    /// Concurrent connections (or UDP sockets, or connectors for daytime).
    pub connections: usize,
    /// UDP requests in flight per socket (1 for TCP).
    pub depth: usize,
    /// Bytes per request (echo), `0` otherwise.
    pub size: usize,
    /// Bytes each connection streams in bulk mode (echo `--bulk`,
    /// discard, chargen), `0` otherwise.
    pub bulk_bytes: u64,
    /// Connections that could not be opened at the start.
    pub connect_failures: u64,
    /// The measured window, in seconds.
    pub elapsed_s: f64,
    /// Completed operations: requests answered (echo), connections served
    /// to the end (daytime), transfers finished (bulk, discard, chargen).
    pub ops: u64,
    /// `ops` per second.
    pub ops_per_s: f64,
    /// What one op is: `request`, `connection` or `transfer`.
    pub op: &'static str,
    /// Payload bytes verified: echoed back (echo), matching the pattern
    /// (chargen), or taken by a server that then closed (discard).
    pub bytes: u64,
    /// Verified bytes per second, in GB/s (10^9 bytes); for discard, bytes
    /// the server confirmed by closing after them.
    pub gb_per_s: f64,
    /// Latency per op: request round trip, connect-to-EOF (daytime), or a
    /// whole transfer (bulk).
    pub latency: Latency,
    /// I/O errors: resets, refused or failed connects, a server that
    /// closed early, a stalled transfer.
    pub errors: u64,
    /// Replies that were not what was sent (echo), not a line (daytime),
    /// not the pattern (chargen), or any reply at all (discard).
    pub mismatches: u64,
    /// UDP requests that got no reply within the timeout.
    pub losses: u64,
    /// The first error seen, if any, for the message a person reads.
    pub first_error: Option<String>,
    /// The server's CPU time and RSS, when `--server-pid` was given.
    pub server: Option<ServerUsage>,
    /// The unit of [`ServerUsage::cpu_us_per_op`]: `request`, `connection`
    /// or `GB`.
    pub cpu_unit: &'static str,
    /// The load generator's own CPU time per op (same unit as the
    /// server's), from `/proc/self/stat`: with the server's figure, it
    /// shows which side of a shared machine is the bottleneck.
    pub client_cpu_us_per_op: f64,
    /// Load-generator threads used.
    pub threads: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} over {} to {}: {} connection{}",
            self.workload,
            self.transport,
            self.target,
            self.connections,
            if self.connections == 1 { "" } else { "s" }
        )?;
        if self.depth > 1 {
            write!(f, ", {} requests in flight on each", self.depth)?;
        }
        if self.size > 0 {
            write!(f, ", {} B requests", self.size)?;
        }
        if self.bulk_bytes > 0 {
            write!(f, ", {} bytes each", self.bulk_bytes)?;
        }
        writeln!(f, ", {:.2} s", self.elapsed_s)?;
        writeln!(
            f,
            "  {:<12}{} {}s, {:.0}/s{}",
            "throughput",
            self.ops,
            self.op,
            self.ops_per_s,
            if self.bytes > 0 {
                format!(", {:.3} GB/s", self.gb_per_s)
            } else {
                String::new()
            }
        )?;
        let l = &self.latency;
        writeln!(
            f,
            "  {:<12}p50 {}  p99 {}  p99.9 {}  max {}",
            "latency",
            Micros(l.p50_us),
            Micros(l.p99_us),
            Micros(l.p999_us),
            Micros(l.max_us)
        )?;
        write!(
            f,
            "  {:<12}{} errors, {} mismatches",
            "checks", self.errors, self.mismatches
        )?;
        if self.transport == "udp" {
            write!(f, ", {} lost", self.losses)?;
        }
        if self.connect_failures > 0 {
            write!(f, ", {} connections failed to open", self.connect_failures)?;
        }
        if let Some(e) = &self.first_error {
            write!(f, " (first error: {e})")?;
        }
        if let Some(s) = &self.server {
            write!(
                f,
                "\n  {:<12}{:.2} µs CPU per {} ({:.0} ms in all), RSS {} KiB",
                "server",
                s.cpu_us_per_op,
                self.cpu_unit,
                s.cpu_us / 1000.0,
                s.rss_kib
            )?;
        }
        if self.client_cpu_us_per_op > 0.0 {
            write!(
                f,
                "\n  {:<12}{:.2} µs CPU per {} ({} thread{})",
                "bench",
                self.client_cpu_us_per_op,
                self.cpu_unit,
                self.threads,
                if self.threads == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

/// Microseconds, printed in the unit that reads best.
struct Micros(f64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1_000_000.0 {
            write!(f, "{:.2} s", self.0 / 1_000_000.0)
        } else if self.0 >= 1000.0 {
            write!(f, "{:.2} ms", self.0 / 1000.0)
        } else {
            write!(f, "{:.1} µs", self.0)
        }
    }
}
