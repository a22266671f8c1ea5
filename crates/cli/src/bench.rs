//! `netlab bench`: the load generator (the `bench` crate) behind flags, a
//! progress bar and exit codes.
//!
//! Exit codes: 0 when every reply verified (I/O errors and UDP losses are
//! counted in the report, not fatal); 65 (EX_DATAERR) when any reply did
//! not match what was sent (chargen: a byte off the pattern; discard: a
//! server that sent anything back); 69 (EX_UNAVAILABLE) when not a single
//! connection could be opened or not a single UDP reply came back; 74
//! (EX_IOERR) when connections opened but no request completed (a server
//! that resets or stalls), or when some of the connections asked for never
//! opened (the run measured fewer than asked); 64 for bad flags or a
//! `--server-pid` with no such process; 68 for an unknown host.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use bench::{Config, Progress, Report, Transport, Workload};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args;
use crate::exit::{self, Code};

/// Arguments of `netlab bench`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  # 50 connections doing echo rounds for 10 seconds
  netlab bench echo localhost 7777 -c 50 -d 10
  # Upload throughput: 4 connections, 1 GiB each
  netlab bench discard localhost 9999 -c 4 --bytes 1G")]
pub struct BenchArgs {
    #[command(subcommand)]
    workload: BenchWorkload,
}

#[derive(Debug, clap::Subcommand)]
enum BenchWorkload {
    /// Echo (RFC 862): request/response rounds (send --size bytes, read
    /// them back, check, repeat), or with --bulk a stream echoed back
    /// concurrently; every byte is verified.
    #[command(after_help = "\
Examples:
  # 50 connections, 64-byte rounds, for 10 seconds
  netlab bench echo localhost 7777 -c 50 -d 10
  # Over UDP, 8 requests in flight per socket, as one JSON object
  netlab bench echo localhost 7777 --udp --depth 8 --json
  # Bulk: each connection streams 100 MiB and reads it back
  netlab bench echo localhost 7777 --bulk 100M")]
    Echo(EchoArgs),
    /// Daytime (RFC 867): concurrent connectors that connect, read the
    /// line to end-of-file, close and start over (UDP: an empty datagram,
    /// a line back).
    #[command(after_help = "\
Examples:
  # Connections per second, 20 connectors for 5 seconds
  netlab bench daytime localhost 55555 -c 20
  # With the server's CPU time per connection (its process id)
  netlab bench daytime localhost 55555 --server-pid 4242")]
    Daytime(DaytimeArgs),
    /// Discard (RFC 863): upload throughput. Each connection streams
    /// --bytes, half-closes and waits for the server's close, which
    /// confirms every byte arrived; runs until all are done, ignoring
    /// --duration.
    #[command(after_help = "\
Examples:
  # 4 connections, each uploading 1 GiB
  netlab bench discard localhost 9999 -c 4 --bytes 1G")]
    Discard(StreamArgs),
    /// Chargen (RFC 864): download throughput. Each connection reads
    /// --bytes, every byte checked against the chargen pattern; runs until
    /// all are done, ignoring --duration.
    #[command(after_help = "\
Examples:
  # 4 connections, each downloading (and checking) 1 GiB
  netlab bench chargen localhost 1919 -c 4 --bytes 1G")]
    Chargen(StreamArgs),
}

#[derive(Debug, clap::Args)]
struct EchoArgs {
    #[command(flatten)]
    common: Common,
    /// Bytes per request.
    #[arg(long, short = 's', default_value_t = 64, allow_negative_numbers = true,
          value_parser = args::at_least(1usize))]
    size: usize,
    /// Bulk mode: each connection streams this many bytes (suffixes K, M,
    /// G for KiB, MiB, GiB) while reading the echo back; runs until all
    /// are echoed, ignoring --duration.
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true, value_parser = args::bytes)]
    bulk: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct DaytimeArgs {
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, clap::Args)]
struct StreamArgs {
    #[command(flatten)]
    common: Common,
    /// Bytes each connection moves (suffixes K, M, G for KiB, MiB, GiB).
    #[arg(long, value_name = "BYTES", default_value = "100M", allow_negative_numbers = true,
          value_parser = args::bytes)]
    bytes: u64,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The server's host name or IP address.
    #[arg(value_parser = args::host)]
    host: String,
    /// The server's port.
    #[arg(allow_negative_numbers = true, value_parser = args::server_port)]
    port: u16,
    /// Use UDP: one datagram per request, a reply expected within --timeout.
    #[arg(long)]
    udp: bool,
    /// Concurrent connections (UDP: sockets, each with --depth requests in flight).
    #[arg(long, short = 'c', default_value_t = 10, allow_negative_numbers = true,
          value_parser = args::at_least(1u32))]
    connections: u32,
    /// UDP: requests in flight on each socket (1: wait for each reply, so
    /// the run measures wake-ups; more: the server always has work queued).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true,
          value_parser = args::between(1u32, 1024))]
    depth: u32,
    /// How long to run, in seconds (fractions allowed: 0.5).
    #[arg(long, short = 'd', default_value = "5", allow_negative_numbers = true,
          value_parser = parse_secs)]
    duration: Duration,
    /// Print one JSON object on stdout and nothing else there.
    #[arg(long)]
    json: bool,
    /// Also report this server process's CPU time per request (per
    /// connection for daytime, per GB for bulk) and its RSS, from /proc.
    #[arg(long, value_name = "PID", allow_negative_numbers = true, value_parser = args::at_least(1u32))]
    server_pid: Option<u32>,
    /// Load-generator event-loop threads.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true,
          value_parser = args::between(1u32, 64))]
    threads: u32,
    /// Seconds before a UDP request counts as lost (default 0.2), or before
    /// a TCP connect or a stalled transfer counts as an error (default 10).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_secs)]
    timeout: Option<Duration>,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        return Err(format!("`{s}` is not a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs `netlab bench`.
pub fn run(args: BenchArgs) -> ExitCode {
    let (common, workload) = match args.workload {
        BenchWorkload::Echo(e) => (
            e.common,
            match e.bulk {
                Some(bytes) => Workload::Bulk { bytes },
                None => Workload::Echo { size: e.size },
            },
        ),
        BenchWorkload::Daytime(d) => (d.common, Workload::Daytime),
        BenchWorkload::Discard(d) => (d.common, Workload::Discard { bytes: d.bytes }),
        BenchWorkload::Chargen(c) => (c.common, Workload::Chargen { bytes: c.bytes }),
    };
    if let Some(pid) = common.server_pid {
        // Before the run, not after it as an unreadable /proc file.
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return exit::report(
                format!("--server-pid {pid}: no such process"),
                Some("give the server's process id, e.g. from `pgrep netlab`"),
                Code::Usage,
            );
        }
    }
    let addr = match netcore::resolve(&common.host, common.port) {
        Ok(addrs) => match addrs.first() {
            Some(addr) => *addr,
            None => {
                return exit::report(
                    format!("{} has no address", common.host),
                    None,
                    Code::NoHost,
                );
            }
        },
        Err(e) => return exit::report(&e, None, exit::for_net(&e)),
    };
    let mut config = Config::new(addr, workload)
        .transport(if common.udp {
            Transport::Udp
        } else {
            Transport::Tcp
        })
        .connections(common.connections as usize)
        .depth(common.depth as usize)
        .duration(common.duration)
        .threads(common.threads as usize);
    if let Some(timeout) = common.timeout {
        config = config.timeout(timeout);
    }
    if let Some(pid) = common.server_pid {
        config = config.server_pid(pid);
    }

    let progress = Progress::default();
    let outcome = thread::scope(|scope| {
        let worker = scope.spawn(|| bench::run(&config, &progress));
        if std::io::stderr().is_terminal() {
            show_progress(&worker, &progress, workload, &common);
        }
        worker.join()
    });
    let report = match outcome {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return report_error(&e),
        Err(_) => return exit::report("the load generator crashed", None, Code::Software),
    };
    if let Err(e) = print(&report, common.json) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return exit::report(format!("writing the report: {e}"), None, Code::IoErr);
        }
    }
    // Wrong data outranks everything else: a run whose every transfer
    // was cut short by a wrong byte completed nothing, and that is not
    // the news.
    if report.mismatches > 0 {
        let (what, hint) = mismatch(workload, report.mismatches);
        return exit::report(what, Some(hint), Code::DataErr);
    }
    if report.ops == 0 {
        return exit::report(
            format!(
                "no {} completed: {}",
                report.op,
                report
                    .first_error
                    .as_deref()
                    .unwrap_or("the run was too short")
            ),
            None,
            Code::IoErr,
        );
    }
    if report.connect_failures > 0 {
        // The figures above are for fewer connections than asked for.
        let asked = report.connections as u64;
        return exit::report(
            format!(
                "only {} of {asked} connections opened: {}",
                asked.saturating_sub(report.connect_failures),
                report
                    .first_error
                    .as_deref()
                    .unwrap_or("the rest failed to connect")
            ),
            Some("ask for fewer --connections, or raise the open-files limit with `ulimit -n`"),
            Code::IoErr,
        );
    }
    Code::Ok.into()
}

/// What `n` mismatches mean for `workload`, and what to make of it.
fn mismatch(workload: Workload, n: u64) -> (String, &'static str) {
    let s = if n == 1 { "" } else { "s" };
    match workload {
        Workload::Chargen { .. } => (
            format!("{n} stream{s} did not follow the chargen pattern"),
            "is it a chargen server? it corrupted, lost or reordered data",
        ),
        Workload::Discard { .. } => (
            format!("{n} server{s} sent data back"),
            "a discard server sends nothing; is it a discard server?",
        ),
        _ => (
            format!(
                "{n} repl{} did not match what was sent",
                if n == 1 { "y" } else { "ies" }
            ),
            "the server corrupted, lost or reordered data",
        ),
    }
}

fn print(report: &Report, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string(report).map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    } else {
        writeln!(out, "{report}")?;
    }
    out.flush()
}

fn report_error(e: &bench::Error) -> ExitCode {
    match e {
        bench::Error::Connect { .. } => exit::report(
            e,
            Some("is the server running on that port?"),
            Code::Unavailable,
        ),
        bench::Error::NoReply { .. } => exit::report(
            e,
            Some("is a UDP server running on that port?"),
            Code::Unavailable,
        ),
        bench::Error::Config(_) => exit::report(e, None, Code::Usage),
        bench::Error::Io { source, .. } => exit::report(e, None, exit::for_io_kind(source.kind())),
        _ => exit::report(e, None, Code::Software),
    }
}

/// A progress bar on stderr (only called when stderr is a terminal): time
/// for timed runs, bytes for bulk.
fn show_progress<T>(
    worker: &thread::ScopedJoinHandle<'_, T>,
    progress: &Progress,
    workload: Workload,
    common: &Common,
) {
    let (bar, bulk) = match workload {
        Workload::Bulk { bytes } | Workload::Discard { bytes } | Workload::Chargen { bytes } => {
            let total = bytes.saturating_mul(u64::from(common.connections));
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            (bar, true)
        }
        _ => {
            let bar = ProgressBar::new(common.duration.as_millis() as u64);
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{bar:30}] {msg}") {
                bar.set_style(style.progress_chars("=> "));
            }
            (bar, false)
        }
    };
    let mut started = None;
    while !worker.is_finished() {
        thread::sleep(Duration::from_millis(100));
        if !progress.started() {
            bar.set_message("connecting");
            continue;
        }
        let since = *started.get_or_insert_with(std::time::Instant::now);
        let secs = since.elapsed().as_secs_f64().max(1e-3);
        if bulk {
            bar.set_position(progress.bytes());
        } else {
            bar.set_position(since.elapsed().as_millis() as u64);
            bar.set_message(format!(
                "{} done, {:.0}/s",
                progress.ops(),
                progress.ops() as f64 / secs
            ));
        }
    }
    bar.finish_and_clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_fractions() {
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("nan").is_err());
        assert!(parse_secs("abc").is_err());
    }
}
