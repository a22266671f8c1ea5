//! `netlab serve all`: every service from one process, as inetd's
//! built-ins are: one engine, one graceful shutdown, each log line
//! prefixed with its service.
//!
//! Without `--config` it serves the five classic services on their
//! standard ports plus `--port-offset`, TCP and UDP. With `--config FILE`
//! it serves what the file names ([`crate::config`]), and SIGHUP re-reads
//! the file: the new services start on a new engine that takes over the
//! sockets of services whose transport, address and port did not change
//! (so their ports never close, and port 0 keeps the port it got), then
//! the old engine drains. A file that cannot be used leaves the old
//! configuration running, with one line on stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::Args;
use netcore::{Engine, Event, Observer, Running, ServiceSocket};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::config::{self, Spec};
use crate::exit::{self, Code, Problem};
use crate::logging::{self, LogOptions};
use crate::protocols;
use crate::render::{LectureLog, LogStyle, Refusals};
use crate::serve;
use crate::{args, seconds};

mod service;

pub use service::{Refusal, Shared, add};

/// The classic services and their standard ports.
const STANDARD: [(&str, u16); 5] = [
    ("echo", ::echo::PORT),
    ("discard", ::discard::PORT),
    ("daytime", ::daytime::PORT),
    ("chargen", ::chargen::PORT),
    ("time", ::time::PORT),
];

/// Arguments of `netlab serve all`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # All five, TCP and UDP: echo on 10007, discard 10009, daytime 10013,
  # chargen 10019, time 10037
  netlab serve all --port-offset 10000
  # The services a TOML file names (docs/services.md); SIGHUP re-reads it
  netlab serve all --config netlab.toml")]
pub struct AllArgs {
    /// Address to bind every service to: an IPv4 or IPv6 address or a host
    /// name. Default: all interfaces, IPv4 and IPv6.
    #[arg(long, value_parser = args::host, conflicts_with = "config")]
    host: Option<String>,
    /// Serve on N+7 (echo), N+9 (discard), N+13 (daytime), N+19 (chargen)
    /// and N+37 (time); 0 gives the standard ports, which need root.
    #[arg(long, value_name = "N", default_value_t = 0, allow_negative_numbers = true,
          value_parser = args::between(0u16, u16::MAX - 37), conflicts_with = "config")]
    port_offset: u16,
    /// TCP only: no UDP services.
    #[arg(long, conflicts_with = "config")]
    no_udp: bool,
    /// Serve the services this TOML file names instead (see docs/services.md);
    /// SIGHUP re-reads it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Most connections open at once, per TCP service.
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true,
          value_parser = args::at_least(1u64))]
    max_connections: u64,
    /// Most connections open at once from one source address, per TCP
    /// service (default: no limit of its own).
    #[arg(long, allow_negative_numbers = true, value_parser = args::at_least(1u64))]
    max_per_source: Option<u64>,
    /// Close a TCP connection after this many seconds without traffic (0: never).
    #[arg(long, default_value = "300", allow_negative_numbers = true, value_parser = seconds)]
    idle_timeout: Duration,
    /// Most UDP replies per second to one non-loopback source, per service
    /// (0: no limit).
    #[arg(long, default_value_t = 100, allow_negative_numbers = true,
          value_parser = args::at_least(0u32))]
    rate_limit: u32,
    /// UDP: also answer source ports below 1024 (refused by default: loop hazard).
    #[arg(long)]
    allow_privileged_sources: bool,
    /// Event-loop threads for all services together (default: half the
    /// cores, rounded up).
    #[arg(long, allow_negative_numbers = true, value_parser = args::between(1u64, 1024))]
    threads: Option<u64>,
    /// On SIGINT/SIGTERM (and on a reload, for the old services), give open
    /// connections this many seconds to finish.
    #[arg(long, default_value = "5", allow_negative_numbers = true, value_parser = seconds)]
    drain: Duration,
    /// Print only warnings and errors (and the "Bound" lines of ports
    /// chosen with port 0).
    #[arg(long, short, conflicts_with = "verbose")]
    quiet: bool,
    #[command(flatten)]
    log: LogOptions,
}

/// Runs `netlab serve all`.
pub fn run(args: AllArgs) -> ExitCode {
    let writers = match logging::start(&args.log, args.quiet, false) {
        Ok(writers) => writers,
        Err(problem) => return problem.report(),
    };
    let code = serve(&args);
    logging::finish(writers, Duration::from_secs(2));
    code
}

fn serve(args: &AllArgs) -> ExitCode {
    // Sockets a service manager passed, named by service, replace binding.
    let binds =
        args.config.is_some() || args.host.is_some() || args.port_offset != 0 || args.no_udp;
    let (specs, handed) = match crate::activation::take_for_all(binds) {
        Ok(Some(handed)) => handed,
        Ok(None) => match specs(args) {
            Ok(specs) => (specs, Vec::new()),
            Err(problem) => return problem.report(),
        },
        Err(problem) => return problem.report(),
    };
    // Before the sockets exist: a signal as soon as they listen must
    // already mean "stop gracefully" (or "reload").
    let mut signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            return exit::report(
                format!("installing signal handlers: {e}"),
                None,
                Code::OsErr,
            );
        }
    };
    let mut current = match Generation::start(specs, None, args, handed) {
        Ok(generation) => generation,
        // A protocol's option in the file is a mistake in the file.
        Err(Refusal::Reported(_)) if args.config.is_some() => return Code::Config.into(),
        Err(Refusal::Reported(code)) => return code,
        Err(Refusal::Problem(problem)) => return problem.report(),
    };
    crate::activation::ready();
    let mut retiring = Vec::new();
    for signal in signals.forever() {
        match (signal, &args.config) {
            (SIGHUP, Some(path)) => {
                if let Some(old) = reload(path, &mut current, args) {
                    retiring.push(old.retire(args.drain));
                }
            }
            _ => break,
        }
    }
    // SIGINT, SIGTERM, or SIGHUP with nothing to re-read: drain; a second
    // signal means "now".
    let handle = current.running.shutdown_handle();
    crate::activation::stopping();
    handle.shutdown(args.drain);
    let signals_handle = signals.handle();
    let hurry = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                handle.shutdown(Duration::ZERO);
            }
        });
    current.running.wait();
    for old in retiring {
        let _ = old.join();
    }
    signals_handle.close();
    if let Ok(thread) = hurry {
        let _ = thread.join();
    }
    Code::Ok.into()
}

/// The sockets to serve: the file's, or the five classic services'.
fn specs(args: &AllArgs) -> Result<Vec<Spec>, Problem> {
    if let Some(path) = &args.config {
        return config::load(path, protocols::NAMES).map_err(|e| {
            let code = if e.unreadable {
                Code::NoInput
            } else {
                Code::Config
            };
            Problem::new(e.message, code)
        });
    }
    let transports: &[bool] = if args.no_udp {
        &[false]
    } else {
        &[false, true]
    };
    Ok(STANDARD
        .iter()
        .flat_map(|&(service, port)| {
            transports.iter().map(move |&udp| Spec {
                name: format!("{service}/{}", if udp { "udp" } else { "tcp" }),
                service: service.to_owned(),
                udp,
                host: args.host.clone(),
                port: port + args.port_offset,
                options: Vec::new(),
            })
        })
        .collect())
}

/// One engine serving one configuration, and what its log needs to know.
struct Generation {
    running: Running,
    specs: Vec<Spec>,
    /// Set when a reload replaced it: its shutdown lines are not news.
    retired: Arc<AtomicBool>,
}

impl Generation {
    /// Binds (or takes over from `previous`, or from `handed`, the
    /// sockets of socket activation, one per spec) every spec's socket
    /// and starts the engine.
    fn start(
        specs: Vec<Spec>,
        previous: Option<&Generation>,
        args: &AllArgs,
        handed: Vec<ServiceSocket>,
    ) -> Result<Generation, Refusal> {
        let activated = !handed.is_empty();
        let mut handed = handed.into_iter();
        let styles = Arc::new(OnceLock::new());
        let retired = Arc::new(AtomicBool::new(false));
        let log = LectureLog {
            announce_port: specs.iter().any(|s| s.port == 0),
            style: LogStyle::default(),
            styles: styles.clone(),
            prefix: true,
            refusals: Refusals::default(),
        };
        let loops = serve::loops(args.threads);
        let mut engine = Engine::new();
        if let Some(threads) = args.threads {
            engine = engine.threads(usize::try_from(threads).unwrap_or(1));
        }
        let mut engine = engine.observer(Retirable {
            log,
            retired: retired.clone(),
        });
        let shared = Shared { args, loops };
        let mut taken = vec![false; previous.map_or(0, |p| p.specs.len())];
        let mut found = Vec::with_capacity(specs.len());
        let mut kept = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let adopt = previous.and_then(|p| p.take_socket(spec, &mut taken));
            if adopt.is_some() {
                kept.push(i);
            }
            let adopt = adopt.or_else(|| handed.next());
            let (next, style) = protocols::add_service(engine, spec, &shared, adopt)?;
            engine = next;
            found.push((spec.name.clone(), style));
        }
        let _ = styles.set(found);
        let running = engine
            .start()
            .map_err(|e| Refusal::Problem(Problem::new(&e, exit::for_net(&e))))?;
        // A socket taken over is not opened or bound again: say where it is.
        for (name, addr) in kept.iter().filter_map(|&i| running.local_addrs().get(i)) {
            log::info!(target: logging::SERVE, "{name}: Kept server socket on port {}", addr.port());
        }
        if activated {
            crate::activation::announce(running.local_addrs(), true);
        }
        Ok(Generation {
            running,
            specs,
            retired,
        })
    }

    /// A duplicate of the socket of an unused spec with `spec`'s
    /// transport, address and port, marking it used in `taken`.
    fn take_socket(&self, spec: &Spec, taken: &mut [bool]) -> Option<ServiceSocket> {
        let i = self.specs.iter().enumerate().position(|(i, old)| {
            !taken[i] && old.udp == spec.udp && old.host == spec.host && old.port == spec.port
        })?;
        taken[i] = true;
        self.running.clone_socket(i)?.ok()
    }

    /// Stops accepting, drains for `drain` in the background.
    fn retire(self, drain: Duration) -> std::thread::JoinHandle<()> {
        self.retired.store(true, Ordering::Release);
        let running = self.running;
        std::thread::spawn(move || {
            running.shutdown(drain);
        })
    }
}

/// SIGHUP: re-reads `path` and swaps in a new generation; returns the old
/// one to retire, or `None` (with a line on stderr) when the file cannot
/// be used and the current one keeps serving.
fn reload(path: &std::path::Path, current: &mut Generation, args: &AllArgs) -> Option<Generation> {
    let keep = |line: String| {
        log::error!(
            target: logging::SERVE,
            "reloading {}: {line} (still serving the previous configuration)",
            path.display()
        );
    };
    let specs = match config::load(path, protocols::NAMES) {
        Ok(specs) => specs,
        Err(e) => {
            // The message names the file already.
            log::error!(
                target: logging::SERVE,
                "reloading: {e} (still serving the previous configuration)"
            );
            return None;
        }
    };
    log::info!(target: logging::SERVE, "Reloading {}", path.display());
    match Generation::start(specs, Some(current), args, Vec::new()) {
        Ok(new) => Some(std::mem::replace(current, new)),
        Err(Refusal::Problem(problem)) => {
            keep(problem.line());
            None
        }
        Err(Refusal::Reported(_)) => {
            keep("a service's options are wrong".to_owned());
            None
        }
    }
}

/// The log of one generation: quiet about its own shutdown once a reload
/// replaced it (the server as a whole is not shutting down).
struct Retirable {
    log: LectureLog,
    retired: Arc<AtomicBool>,
}

impl Observer for Retirable {
    fn event(&self, event: &Event<'_>) {
        let ending = matches!(event, Event::ShuttingDown { .. } | Event::Stopped);
        if !(ending && self.retired.load(Ordering::Acquire)) {
            self.log.event(event);
        }
    }

    fn wants_data(&self) -> bool {
        self.log.wants_data()
    }
}
