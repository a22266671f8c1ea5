//! `netlab connect PROTOCOL HOST PORT`: the lecture's clients.
//!
//! Every protocol's client takes the same [`ClientOptions`] (the server,
//! TCP or UDP, the timeout, the byte limit); this file makes the client,
//! the output and the one-line error, whatever the protocol.

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use netcore::{Client, LookupErrorKind};

use crate::exit::{self, Code};
use crate::protocols::Protocol;
use crate::reply::{self, ReplyOutput};
use crate::{args, seconds};

/// Arguments of `netlab connect P`: the shared ones, then protocol `P`'s.
#[derive(Debug, Args)]
pub struct ConnectArgs<P: Protocol> {
    #[command(flatten)]
    client: ClientOptions,
    #[command(flatten)]
    options: P::ConnectOptions,
}

/// The options every client takes, whatever its protocol.
#[derive(Debug, Args)]
pub struct ClientOptions {
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

/// Where a client writes what the server sends: stdout, escaped on a
/// terminal, cut at `--max-bytes`.
pub type Reply<'a> = ReplyOutput<io::StdoutLock<'a>>;

/// Runs `netlab connect P`.
pub fn run<P: Protocol>(args: ConnectArgs<P>) -> ExitCode {
    let to = &args.client;
    let timeout = (!to.timeout.is_zero()).then_some(to.timeout);
    let client = Client::new().timeout(timeout);
    let stdout = io::stdout();
    // A terminal gets control characters escaped: the server chose them.
    let terminal = stdout.is_terminal();
    let mut out = ReplyOutput::new(stdout.lock(), terminal, to.max_bytes);
    let result = P::connect(&client, to, &args.options, &mut out);
    let finished = out.finish();
    let result = result.and_then(|()| finished.map_err(Failure::Output));
    match result {
        Ok(()) => Code::Ok.into(),
        Err(Failure::Net(e)) => {
            let code = exit::for_net(&e);
            exit::report(&e, Some(&hint(&e, to)), code)
        }
        // Whoever read our output went away (`| head`): not an error.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Code::Ok.into(),
        Err(Failure::Output(e)) if reply::too_much(&e).is_some() => exit::report(
            e,
            Some("raise --max-bytes if the server is meant to send that much"),
            Code::IoErr,
        ),
        Err(Failure::Output(e)) => exit::report(
            format!("writing the reply: {}", netcore::describe(&e)),
            None,
            Code::IoErr,
        ),
        Err(Failure::Input(e)) => exit::report(
            format!("reading the input: {}", netcore::describe(&e)),
            None,
            Code::IoErr,
        ),
        Err(Failure::Data { message, hint }) => exit::report(message, Some(&hint), Code::DataErr),
        // Its own words and causes, never relabelled as another operation.
        Err(Failure::Other(e)) => exit::report(&*e, None, Code::Software),
    }
}

/// A client failure, whichever protocol crate it came from (each
/// protocol's file converts its crate's error).
#[derive(Debug)]
pub enum Failure {
    /// Reaching, writing to or reading from the server failed.
    Net(netcore::Error),
    /// Reading the input failed.
    Input(io::Error),
    /// Writing the server's reply failed (or passed `--max-bytes`).
    Output(io::Error),
    /// The server's reply is not what its protocol sends (a daytime line
    /// with no time, a time reply that is not 4 bytes): exit 65.
    Data {
        /// What was wrong with it.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// A failure this CLI does not know by name (the protocol crates'
    /// errors are `#[non_exhaustive]`): printed as it is, exit 70.
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// What to do about a network error, in a few words.
fn hint(e: &netcore::Error, to: &ClientOptions) -> String {
    let (host, port) = (&to.host, to.port);
    match e {
        netcore::Error::Resolve { .. } => match e.lookup_error().map(|l| l.kind()) {
            Some(LookupErrorKind::TemporaryFailure) => {
                "the name server did not answer; try again later".to_owned()
            }
            Some(LookupErrorKind::NoSuchInterface) => {
                "`ip -6 addr` lists this machine's interfaces with IPv6".to_owned()
            }
            _ => format!("check the spelling of {host:?}, or give an IP address"),
        },
        netcore::Error::Timeout { .. } => {
            format!("{host} did not answer in time; check the host and port, or raise --timeout")
        }
        _ => match e.io_kind() {
            io::ErrorKind::ConnectionRefused if to.udp => {
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
