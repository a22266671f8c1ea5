//! `netlab connect daytime|echo HOST PORT`: the lecture's clients.

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use netcore::Client;

use crate::exit::{self, Code};
use crate::reply::{self, ReplyOutput};
use crate::{Protocol, args, seconds};

/// Arguments of `netlab connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The service to talk to.
    pub protocol: Protocol,
    /// The server: a host name or an IPv4 or IPv6 address (a link-local
    /// one with its interface: fe80::1%eth0).
    #[arg(value_parser = args::host)]
    pub host: String,
    /// The server's port.
    #[arg(allow_negative_numbers = true, value_parser = args::server_port)]
    pub port: u16,
    /// Use UDP instead of TCP.
    #[arg(long)]
    pub udp: bool,
    /// Seconds to wait to connect, and for the server's reply once there is
    /// nothing more to send (UDP: per attempt; 2 retries).
    #[arg(long, default_value = "10", allow_negative_numbers = true, value_parser = seconds)]
    pub timeout: Duration,
    /// Accept at most this many bytes from the server (suffixes K, M, G);
    /// past it, stop reading and exit 74. Default: no limit.
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true, value_parser = args::bytes)]
    pub max_bytes: Option<u64>,
}

/// Runs `netlab connect`.
pub fn run(args: ConnectArgs) -> ExitCode {
    let timeout = (!args.timeout.is_zero()).then_some(args.timeout);
    let client = Client::new().timeout(timeout);
    let stdout = io::stdout();
    // A terminal gets control characters escaped: the server chose them.
    let terminal = stdout.is_terminal();
    let mut out = ReplyOutput::new(stdout.lock(), terminal, args.max_bytes);
    let (host, port) = (args.host.as_str(), args.port);
    let result = match (args.protocol, args.udp) {
        (Protocol::Daytime, false) => {
            daytime::query(&client, host, port, &mut out).map_err(Failure::from)
        }
        (Protocol::Daytime, true) => {
            daytime::query_udp(&client, host, port, &mut out).map_err(Failure::from)
        }
        (Protocol::Echo, false) => {
            echo::session(&client, host, port, io::stdin(), &mut out).map_err(Failure::from)
        }
        (Protocol::Echo, true) => {
            echo::session_udp(&client, host, port, io::stdin().lock(), &mut out)
                .map_err(Failure::from)
        }
    };
    let finished = out.finish();
    let result = result.and_then(|_| finished.map_err(Failure::Output));
    match result {
        Ok(_) => Code::Ok.into(),
        Err(Failure::Net(e)) => {
            let code = exit::for_net(&e);
            exit::report(&e, Some(&hint(&e, &args)), code)
        }
        // Whoever read our output went away (`| head`): not an error.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Code::Ok.into(),
        Err(Failure::Output(e)) if reply::too_much(&e).is_some() => exit::report(
            e,
            Some("raise --max-bytes if the server is meant to send that much"),
            Code::IoErr,
        ),
        Err(Failure::Output(e)) => {
            exit::report(format!("writing the reply: {e}"), None, Code::IoErr)
        }
        Err(Failure::Input(e)) => {
            exit::report(format!("reading the input: {e}"), None, Code::IoErr)
        }
    }
}

/// A client failure, whichever protocol crate it came from.
enum Failure {
    Net(netcore::Error),
    Input(io::Error),
    Output(io::Error),
}

impl From<daytime::Error> for Failure {
    fn from(e: daytime::Error) -> Self {
        match e {
            daytime::Error::Net(e) => Failure::Net(e),
            daytime::Error::Output(e) => Failure::Output(e),
            other => Failure::Net(netcore::Error::Engine {
                source: io::Error::other(other.to_string()),
            }),
        }
    }
}

impl From<echo::Error> for Failure {
    fn from(e: echo::Error) -> Self {
        match e {
            echo::Error::Net(e) => Failure::Net(e),
            echo::Error::Input(e) => Failure::Input(e),
            echo::Error::Output(e) => Failure::Output(e),
            other => Failure::Net(netcore::Error::Engine {
                source: io::Error::other(other.to_string()),
            }),
        }
    }
}

/// What to do about a network error, in a few words.
fn hint(e: &netcore::Error, args: &ConnectArgs) -> String {
    let (host, port) = (&args.host, args.port);
    match e {
        netcore::Error::Resolve { source, .. } if source.kind() == io::ErrorKind::TimedOut => {
            "the name server did not answer; try again later".to_owned()
        }
        netcore::Error::Resolve { .. } => {
            format!("check the spelling of {host:?}, or give an IP address")
        }
        netcore::Error::Timeout { .. } => {
            format!("{host} did not answer in time; check the host and port, or raise --timeout")
        }
        _ => match e.io_kind() {
            io::ErrorKind::ConnectionRefused if args.udp => {
                format!(
                    "nothing answers UDP on {host} port {port}; is the server running with --udp?"
                )
            }
            io::ErrorKind::ConnectionRefused => {
                format!("nothing listens on {host} port {port}; is the server running?")
            }
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted => {
                "the server dropped the connection mid-way; try again".to_owned()
            }
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                "no route to that host; check the address and your network".to_owned()
            }
            _ => "check the host and port".to_owned(),
        },
    }
}
