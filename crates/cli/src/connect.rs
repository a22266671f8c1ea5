//! `netlab connect PROTOCOL HOST PORT`: the lecture's clients.
//!
//! Every protocol's client takes the same [`ClientOptions`] (the server,
//! TCP or UDP, the timeout, the byte limit); this file makes the client,
//! the output and the one-line error, whatever the protocol; with
//! `--json`, the one JSON object instead of the reply (`connect/json.rs`).

use std::io::{self, IsTerminal};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use netcore::{Client, LookupErrorKind, Trace};

mod base64;
pub mod json;

use crate::exit::{self, Code, Problem};
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
    /// Print one JSON object instead of the reply: the bytes received (as
    /// text and base64), the peer, the timings, the error (see
    /// docs/cli.md). Keeps at most --max-bytes, 16M without it. `time` and
    /// `daytime --parse` print their own report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Where a client writes what the server sends: stdout, escaped on a
/// terminal, cut at `--max-bytes`.
pub type Reply<'a> = ReplyOutput<io::StdoutLock<'a>>;

/// Runs `netlab connect P`.
pub fn run<P: Protocol>(args: ConnectArgs<P>) -> ExitCode {
    let to = &args.client;
    let timeout = (!to.timeout.is_zero()).then_some(to.timeout);
    let trace = Trace::new();
    let client = Client::new().timeout(timeout).trace(&trace);
    let stdout = io::stdout();
    // A terminal gets control characters escaped: the server chose them.
    let terminal = stdout.is_terminal();
    let mut out = ReplyOutput::new(stdout.lock(), terminal, to.max_bytes);
    if to.json {
        out = out.capturing();
    }
    let started = Instant::now();
    let result = P::connect(&client, to, &args.options, &mut out);
    let ended = Instant::now();
    let finished = out.finish();
    let result = result.and_then(|()| finished.map_err(Failure::Output));
    let mut problem = result.err().and_then(|failure| problem(failure, to));
    // --json: the object, whatever happened, before the error line; the
    // exit code and that line are the same as without --json.
    if let Some((capture, stdout)) = out.take_capture() {
        let context = json::Context {
            protocol: P::NAME,
            host: &to.host,
            port: to.port,
            udp: to.udp,
            started,
            ended,
            endpoint: capture
                .endpoint()
                .or(trace.last().map(json::Endpoint::from)),
            problem: problem.as_ref(),
        };
        if let Err(e) = json::write(stdout, &capture, &context) {
            if problem.is_none() {
                problem = problem_of_output(e);
            }
        }
    }
    match problem {
        None => Code::Ok.into(),
        Some(problem) => problem.report(),
    }
}

/// The error line and exit code for a failure; none for one that is no
/// error (the reader of our output went away).
fn problem(failure: Failure, to: &ClientOptions) -> Option<Problem> {
    Some(match failure {
        Failure::Net(e) => {
            let code = exit::for_net(&e);
            Problem::new(&e, code).hint(hint(&e, to))
        }
        Failure::Output(e) => return problem_of_output(e),
        Failure::Input(e) => Problem::new(
            format!("reading the input: {}", netcore::describe(&e)),
            Code::IoErr,
        ),
        Failure::Data { message, hint } => Problem::new(message, Code::DataErr).hint(hint),
        // Its own words and causes, never relabelled as another operation.
        Failure::Other(e) => Problem::new(&*e, Code::Software),
    })
}

/// [`problem`] for a failure to write the output.
fn problem_of_output(e: io::Error) -> Option<Problem> {
    Some(match e {
        // Whoever read our output went away (`| head`): not an error.
        e if e.kind() == io::ErrorKind::BrokenPipe => return None,
        e if reply::too_much(&e).is_some() => Problem::new(&e, Code::IoErr)
            .hint("raise --max-bytes if the server is meant to send that much"),
        e => Problem::new(
            format!("writing the reply: {}", netcore::describe(&e)),
            Code::IoErr,
        ),
    })
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
