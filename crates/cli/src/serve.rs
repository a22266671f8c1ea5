//! `netlab serve daytime|echo`: run a server until SIGINT, SIGTERM or SIGHUP.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use netcore::{Builder, DatagramBuilder, DatagramPolicy};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::exit::{self, Code};
use crate::limits;
use crate::render::{LectureLog, Output, Refusals};
use crate::{Protocol, args, seconds};

/// How an echo server echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EchoMode {
    /// RFC 862: echo every byte until the client closes.
    Stream,
    /// The lecture's echoserver.py: echo one line, then close.
    Line,
}

/// Arguments of `netlab serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The service to run.
    pub protocol: Protocol,
    /// Address to bind: an IPv4 or IPv6 address or a host name. Default:
    /// all interfaces, IPv4 and IPv6 on one socket.
    #[arg(long, value_parser = args::host)]
    pub host: Option<String>,
    /// Port to listen on; 0 picks a free one, printed on the "Bound" line
    /// (even with --quiet).
    #[arg(long, short, allow_negative_numbers = true, value_parser = args::port)]
    pub port: u16,
    /// Serve UDP datagrams instead of TCP connections.
    #[arg(long)]
    pub udp: bool,
    /// Echo mode (echo only; TCP).
    #[arg(long, value_enum, default_value_t = EchoMode::Stream, conflicts_with = "udp")]
    pub mode: EchoMode,
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
    /// Daytime: print the time in UTC instead of local time.
    #[arg(long)]
    pub utc: bool,
    /// Daytime: end the line with CR LF (as inetd does) instead of LF.
    #[arg(long)]
    pub crlf: bool,
    /// Daytime: a strftime format instead of the lecture's "%a %b %e %H:%M:%S %Y".
    #[arg(long, value_name = "STRFTIME")]
    pub format: Option<String>,
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
    /// Print only errors (and the "Bound" line with --port 0).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `netlab serve`.
pub fn run(args: ServeArgs) -> ExitCode {
    let (out, writer) = match Output::start() {
        Ok(started) => started,
        Err(e) => {
            return exit::report(
                format!("starting the output thread: {e}"),
                None,
                Code::OsErr,
            );
        }
    };
    let code = serve(args, out);
    // Every line queued before the server stopped (or failed) is printed.
    let _ = writer.join();
    code
}

fn serve(args: ServeArgs, out: Output) -> ExitCode {
    let addr = match bind_address(args.host.as_deref(), args.port) {
        Ok(addr) => addr,
        Err(code) => return code,
    };
    if args.udp && is_group_address(addr.ip()) && !args.allow_broadcast_host {
        return exit::report(
            format!(
                "{} is a broadcast or multicast address, not one host's",
                addr.ip()
            ),
            Some(
                "bind a unicast address such as 127.0.0.1, or add --allow-broadcast-host if a UDP server there is really meant",
            ),
            Code::Usage,
        );
    }
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
        out,
        quiet: args.quiet,
        announce_port: args.port == 0,
        show_data: args.protocol == Protocol::Echo,
        line_mode: args.protocol == Protocol::Echo && args.mode == EchoMode::Line,
        refusals: Refusals::default(),
    };
    let threads = args.threads.map_or(1, |n| usize::try_from(n).unwrap_or(1));
    let mut limit_warning = None;
    let started = if args.udp {
        let mut builder = DatagramBuilder::new(addr)
            .name(args.protocol.name())
            .policy(DatagramPolicy {
                allow_privileged_ports: args.allow_privileged_sources,
                rate_per_source: args.rate_limit,
                ..DatagramPolicy::default()
            })
            .observer(observer);
        if args.threads.is_some() {
            builder = builder.threads(threads);
        }
        match args.protocol {
            Protocol::Daytime => match daytime_format(&args) {
                Ok(format) => builder.serve(daytime::Daytime::new(format)),
                Err(code) => return code,
            },
            Protocol::Echo => builder.serve(echo::Echo::new(echo_mode(args.mode))),
        }
    } else {
        let loops = args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64));
        let (max_connections, warning) = limits::fit_max_connections(args.max_connections, loops);
        limit_warning = warning;
        let mut builder = Builder::new(addr)
            .name(args.protocol.name())
            .max_connections(usize::try_from(max_connections).unwrap_or(usize::MAX))
            .max_per_source(
                args.max_per_source
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            )
            .idle_timeout((!args.idle_timeout.is_zero()).then_some(args.idle_timeout))
            .write_timeout(Some(Duration::from_secs(60)))
            .observer(observer);
        if args.threads.is_some() {
            builder = builder.threads(threads);
        }
        match args.protocol {
            Protocol::Daytime => match daytime_format(&args) {
                Ok(format) => builder.serve(daytime::Daytime::new(format)),
                Err(code) => return code,
            },
            Protocol::Echo => builder.serve(echo::Echo::new(echo_mode(args.mode))),
        }
    };
    let running = match started {
        Ok(r) => r,
        Err(e) => return bind_failed(&e, addr),
    };
    if let Some(warning) = limit_warning {
        // Not an error: the server runs, with fewer connections at once.
        // Said once it runs, so that a failure stays one line.
        let _ = writeln!(std::io::stderr(), "{warning}");
    }
    let handle = running.shutdown_handle();
    let drain = args.drain;
    let signals_handle = signals.handle();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut count = 0;
            for _ in signals.forever() {
                count += 1;
                if count == 1 {
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
    // observer that feeds the output thread): end it so all is released.
    signals_handle.close();
    let _ = signal_thread.join();
    Code::Ok.into()
}

fn echo_mode(mode: EchoMode) -> echo::Mode {
    match mode {
        EchoMode::Stream => echo::Mode::Stream,
        EchoMode::Line => echo::Mode::Line,
    }
}

fn daytime_format(args: &ServeArgs) -> Result<daytime::DaytimeFormat, ExitCode> {
    let mut format = daytime::DaytimeFormat::lecture()
        .utc(args.utc)
        .ending(if args.crlf {
            daytime::LineEnding::CrLf
        } else {
            daytime::LineEnding::Lf
        });
    if let Some(f) = &args.format {
        format = format.strftime(f).map_err(|e| {
            exit::report(
                e,
                Some("see `man strftime` for the % specifiers"),
                Code::Usage,
            )
        })?;
    }
    // A reply that cannot be sent would fail on every request: refuse the
    // format once, now.
    let longest = if args.udp {
        format.longest_line(chrono::Utc::now())
    } else {
        0
    };
    if longest > MAX_DATAGRAM {
        return Err(exit::report(
            format!(
                "--format makes daytime lines of up to {longest} bytes; a UDP reply holds at most {MAX_DATAGRAM}"
            ),
            Some("shorten --format, or serve it over TCP: drop --udp"),
            Code::Usage,
        ));
    }
    Ok(format)
}

/// The largest UDP payload over IPv4 (65,535 bytes less the IP and UDP
/// headers); IPv6 allows 20 more, but one limit for both keeps it simple.
const MAX_DATAGRAM: usize = 65_507;

/// The address to bind: all interfaces by default, an IP literal as is, a
/// host name's first address.
fn bind_address(host: Option<&str>, port: u16) -> Result<SocketAddr, ExitCode> {
    let Some(host) = host else {
        return Ok(netcore::any_interface(port));
    };
    // IP literals (brackets allowed) need no lookup; a name binds to its
    // first address.
    match netcore::resolve(host, port) {
        Ok(addrs) => Ok(addrs[0]),
        Err(e) => Err(exit::report(
            &e,
            Some("give --host an IP address of this machine, e.g. 127.0.0.1 or ::1"),
            exit::for_net(&e),
        )),
    }
}

/// Broadcast (`255.255.255.255`) or multicast (IPv4 `224.0.0.0/4`, IPv6
/// `ff00::/8`, also as an IPv4-mapped address).
fn is_group_address(ip: std::net::IpAddr) -> bool {
    match netcore::unmap(SocketAddr::new(ip, 0)).ip() {
        std::net::IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast(),
        std::net::IpAddr::V6(v6) => v6.is_multicast(),
    }
}

fn bind_failed(e: &netcore::Error, addr: SocketAddr) -> ExitCode {
    let port = addr.port();
    let hint = match e.io_kind() {
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
                "{} is not an address of this machine; see `ip addr`",
                addr.ip()
            )
        }
        _ => "check the address and port".to_owned(),
    };
    exit::report(e, Some(&hint), exit::for_net(e))
}
