//! `netlab serve PROTOCOL`: run a server until SIGINT, SIGTERM or SIGHUP.
//!
//! Every protocol's subcommand takes the same [`EngineOptions`] (where to
//! bind, TCP or UDP, limits, timeouts, the UDP policy, `-q`) beside its
//! own; this file turns them into a running netcore engine, whatever the
//! protocol.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use netcore::{Builder, DatagramBuilder, DatagramPolicy};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::activation;
use crate::exit::{self, Code, Problem};
use crate::limits;
use crate::logging::{self, LogOptions};
use crate::protocols::Protocol;
use crate::render::{LectureLog, Refusals};
use crate::{args, seconds};

/// Arguments of `netlab serve P`: the engine's, then protocol `P`'s own.
#[derive(Debug, Args)]
pub struct ServeArgs<P: Protocol> {
    #[command(flatten)]
    pub engine: EngineOptions,
    #[command(flatten)]
    pub options: P::ServeOptions,
}

/// The options every server takes, whatever its protocol.
#[derive(Debug, Clone, Args)]
pub struct EngineOptions {
    /// Address to bind: an IPv4 or IPv6 address or a host name. Default:
    /// all interfaces, IPv4 and IPv6 on one socket.
    #[arg(long, value_parser = args::host)]
    pub host: Option<String>,
    /// Bind every address of this network interface instead (IPv4 and
    /// IPv6, one socket each; see `netlab interfaces`).
    #[arg(long, value_name = "NAME", conflicts_with = "host")]
    pub interface: Option<String>,
    /// With --interface: its IPv4 addresses only.
    #[arg(short = '4', long, requires = "interface", conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// With --interface: its IPv6 addresses only.
    #[arg(short = '6', long, requires = "interface")]
    pub ipv6: bool,
    /// Port to listen on; 0 picks a free one, printed on the "Bound" line
    /// (even with --quiet). Not under socket activation (systemd's
    /// .socket units), which passes the sockets.
    // Not with --inetd, whose socket is fds 0 and 1: then it is 0 and unused.
    #[arg(long, short, allow_negative_numbers = true, value_parser = args::port,
          required = false,
          default_value_if("inetd", clap::builder::ArgPredicate::IsPresent, "0"))]
    pub port: Option<u16>,
    /// Serve UDP datagrams instead of TCP connections.
    #[arg(long)]
    pub udp: bool,
    /// Most connections open at once; more clients wait in the backlog (TCP).
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true,
          value_parser = args::at_least(1u64), conflicts_with = "udp")]
    pub max_connections: u64,
    /// Most connections open at once from one source address, like xinetd's
    /// per_source (default: no limit of its own; the last eighth of
    /// --max-connections is always kept for new sources) (TCP).
    #[arg(long, allow_negative_numbers = true, value_parser = args::at_least(1u64),
          conflicts_with = "udp")]
    pub max_per_source: Option<u64>,
    /// Close a connection after this many seconds without traffic (0: never; TCP).
    #[arg(long, default_value = "300", allow_negative_numbers = true, value_parser = seconds,
          conflicts_with = "udp")]
    pub idle_timeout: Duration,
    /// Event-loop threads (default: half the cores, rounded up).
    #[arg(long, allow_negative_numbers = true, value_parser = args::between(1u64, 1024))]
    pub threads: Option<u64>,
    /// On SIGINT/SIGTERM/SIGHUP, give open connections this many seconds to finish.
    #[arg(long, default_value = "5", allow_negative_numbers = true, value_parser = seconds)]
    pub drain: Duration,
    /// UDP: also answer source ports below 1024 (refused by default: loop hazard).
    #[arg(long, requires = "udp")]
    pub allow_privileged_sources: bool,
    /// UDP: allow --host to be a broadcast or multicast address (refused by
    /// default: replies to a group or broadcast address are a reflection
    /// and loop hazard).
    #[arg(long, requires = "udp")]
    pub allow_broadcast_host: bool,
    /// UDP: most replies per second to one non-loopback source (0: no limit).
    #[arg(long, default_value_t = 100, requires = "udp", allow_negative_numbers = true,
          value_parser = args::at_least(0u32))]
    pub rate_limit: u32,
    /// Print only warnings and errors (and the "Bound" line with --port 0).
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Serve the one connection inetd (`nowait`), xinetd or systemd
    /// (`Accept=yes`) passes on fds 0 and 1; with --udp, the datagram
    /// socket on fd 0 (inetd `wait`). Logs go to syslog by default.
    #[arg(long, conflicts_with_all = ["host", "port", "interface"])]
    pub inetd: bool,
    /// With --inetd --udp: exit once no datagram has come for this many
    /// seconds (inetd starts netlab again for the next one; 0: never).
    /// Default: 60.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true,
          value_parser = seconds, requires = "inetd",
          // Or clap lets `--port P --exit-idle S` through: no --inetd can
          // be required beside --port, which conflicts with it.
          conflicts_with_all = ["host", "port"])]
    pub exit_idle: Option<Duration>,
    #[command(flatten)]
    pub log: LogOptions,
}

/// How long a stopped server waits for its last output lines to be read.
const OUTPUT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `netlab serve P`.
pub fn run<P: Protocol>(args: ServeArgs<P>) -> ExitCode {
    if args.engine.inetd {
        return crate::inetd_mode::run(&args);
    }
    let writers = match logging::start(&args.engine.log, args.engine.quiet, false) {
        Ok(writers) => writers,
        Err(problem) => return problem.report(),
    };
    let code = serve::<P>(&args);
    // Every line queued before the server stopped (or failed) is written,
    // unless nobody reads them: then the server exits anyway.
    logging::finish(writers, OUTPUT_GRACE);
    code
}

fn serve<P: Protocol>(args: &ServeArgs<P>) -> ExitCode {
    let engine = &args.engine;
    // Sockets a service manager passed replace the one bound here.
    let handed = match activation::take(P::NAME) {
        Ok(handed) => handed,
        Err(problem) => return problem.report(),
    };
    let port = match activation::port(&handed, engine) {
        Ok(port) => port,
        Err(problem) => return problem.report(),
    };
    let addr = match bind_address(engine.host.as_deref(), port)
        .and_then(|addr| check_group(addr, engine))
    {
        Ok(addr) => addr,
        Err(problem) => return problem.report(),
    };
    let on_interface = match engine.interface.as_deref() {
        Some(name) => match crate::serve_interface::addresses(name, engine, port) {
            Ok(addrs) => Some(addrs),
            Err(problem) => return problem.report(),
        },
        None => None,
    };
    let server = match P::server(&args.options, engine) {
        Ok(server) => server,
        Err(code) => return code,
    };
    // Before the socket exists: a signal that arrives as soon as
    // `Listening` is printed must already mean "stop gracefully". SIGHUP
    // (the terminal closed, or an operator's "reload") drains too: there
    // is no configuration to read again, and its default action would
    // drop every open connection mid-transfer.
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
    let observer = LectureLog {
        announce_port: engine.port == Some(0),
        style: P::log_style(&args.options),
        styles: Default::default(),
        prefix: false,
        refusals: Refusals::default(),
    };
    let threads = engine.threads.map(|n| usize::try_from(n).unwrap_or(1));
    let mut limit_warning = None;
    let started = if !handed.is_empty() {
        match activation::start(handed, args, observer, &mut limit_warning) {
            Ok(running) => Ok(running),
            Err(code) => return code,
        }
    } else if let Some(addrs) = &on_interface {
        let started =
            crate::serve_interface::start(addrs, args, observer, server, &mut limit_warning);
        match started {
            Ok(running) => Ok(running),
            Err(code) => return code,
        }
    } else if engine.udp {
        let mut builder = with_udp_options(DatagramBuilder::new(addr), engine)
            .name(P::NAME)
            .observer(observer);
        if let Some(threads) = threads {
            builder = builder.threads(threads);
        }
        builder.serve(server)
    } else {
        let (builder, warning) =
            with_tcp_options(Builder::new(addr), engine, loops(engine.threads));
        limit_warning = warning;
        let mut builder = builder.name(P::NAME).observer(observer);
        if let Some(threads) = threads {
            builder = builder.threads(threads);
        }
        builder.serve(server)
    };
    let running = match started {
        Ok(r) => r,
        Err(e) => return bind_failed(&e, addr),
    };
    // After the engine's `Listening` lines, which it logged while binding.
    crate::reachable::announce(running.local_addrs(), engine.interface.as_deref());
    activation::ready();
    if let Some(warning) = limit_warning {
        // Not an error: the server runs, with fewer connections at once.
        // Said once it runs, so that a failure stays one line.
        log::warn!(target: logging::SERVE, "{warning}");
    }
    let handle = running.shutdown_handle();
    let drain = engine.drain;
    let signals_handle = signals.handle();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut count = 0;
            for _ in signals.forever() {
                count += 1;
                if count == 1 {
                    activation::stopping();
                    handle.shutdown(drain);
                } else {
                    // A second signal means "now": no more draining.
                    handle.shutdown(Duration::ZERO);
                }
            }
        });
    let signal_thread = match spawned {
        Ok(t) => t,
        Err(e) => {
            return exit::report(
                format!("starting the signal thread: {e}"),
                None,
                Code::OsErr,
            );
        }
    };
    running.wait();
    // The signal thread holds a handle on the server (and so on the
    // observer that feeds the output threads): end it so all is released.
    signals_handle.close();
    let _ = signal_thread.join();
    Code::Ok.into()
}

/// `builder` with `engine`'s UDP policy.
pub fn with_udp_options(builder: DatagramBuilder, engine: &EngineOptions) -> DatagramBuilder {
    builder.policy(
        DatagramPolicy::default()
            .allow_privileged_ports(engine.allow_privileged_sources)
            .rate_per_source(engine.rate_limit),
    )
}

/// `builder` with `engine`'s TCP limits and timeouts, its connection limit
/// fitted to the descriptors `loops` event loops can have (with a warning
/// to print once it runs, when it had to shrink).
pub fn with_tcp_options(
    builder: Builder,
    engine: &EngineOptions,
    loops: u64,
) -> (Builder, Option<String>) {
    let (max_connections, warning) = limits::fit_max_connections(engine.max_connections, loops);
    let builder = builder
        .max_connections(usize::try_from(max_connections).unwrap_or(usize::MAX))
        .max_per_source(
            engine
                .max_per_source
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        )
        .idle_timeout((!engine.idle_timeout.is_zero()).then_some(engine.idle_timeout))
        .write_timeout(Some(Duration::from_secs(60)));
    (builder, warning)
}

/// The event loops `threads` asks for, or as many as cores by default.
pub fn loops(threads: Option<u64>) -> u64 {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64))
}

/// The address to bind: all interfaces by default, an IP literal as is, a
/// host name's first address.
pub fn bind_address(host: Option<&str>, port: u16) -> Result<SocketAddr, Problem> {
    let Some(host) = host else {
        return Ok(netcore::any_interface(port));
    };
    // IP literals (brackets allowed) need no lookup; a name binds to its
    // first address.
    match netcore::resolve(host, port) {
        Ok(addrs) => Ok(addrs[0]),
        Err(e) => Err(Problem::new(&e, exit::for_net(&e))
            .hint("give --host an IP address of this machine, e.g. 127.0.0.1 or ::1")),
    }
}

/// Refuses a UDP server on a broadcast or multicast address unless
/// `--allow-broadcast-host` says it is meant.
pub fn check_group(addr: SocketAddr, engine: &EngineOptions) -> Result<SocketAddr, Problem> {
    if engine.udp && is_group_address(addr.ip()) && !engine.allow_broadcast_host {
        return Err(Problem::new(
            format!(
                "{} is a broadcast or multicast address, not one host's",
                addr.ip()
            ),
            Code::Usage,
        )
        .hint(
            "bind a unicast address such as 127.0.0.1, or add --allow-broadcast-host if a UDP server there is really meant",
        ));
    }
    Ok(addr)
}

/// Broadcast (`255.255.255.255`) or multicast (IPv4 `224.0.0.0/4`, IPv6
/// `ff00::/8`, also as an IPv4-mapped address).
fn is_group_address(ip: std::net::IpAddr) -> bool {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast(),
        std::net::IpAddr::V6(v6) => v6.is_multicast(),
    }
}

pub fn bind_failed(e: &netcore::Error, addr: SocketAddr) -> ExitCode {
    exit::report(e, Some(&bind_hint(e, addr)), exit::for_net(e))
}

/// What to do when binding `addr` failed with `e`.
pub fn bind_hint(e: &netcore::Error, addr: SocketAddr) -> String {
    let port = addr.port();
    match e.io_kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "another program is using port {port}; stop it, pick another --port, or use --port 0 for any free port"
        ),
        std::io::ErrorKind::PermissionDenied => {
            format!(
                "ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port of 1024 or more instead of {port}"
            )
        }
        std::io::ErrorKind::AddrNotAvailable => {
            format!(
                "{} is not an address of this machine; `netlab interfaces` lists them",
                addr.ip()
            )
        }
        _ => "check the address and port".to_owned(),
    }
}
