//! Daytime (RFC 867) at the command line: `netlab serve daytime [--utc]
//! [--crlf] [--format STRFTIME]` and `netlab connect daytime HOST PORT
//! [--parse] [--json]`.

use std::process::ExitCode;

use clap::Args;
use netcore::Client;

use super::Protocol;
use crate::clock_report::{self, Exchange, Output};
use crate::connect::{ClientOptions, Failure, Reply};
use crate::exit::{self, Code};
use crate::render::LogStyle;
use crate::serve::EngineOptions;

/// The daytime service.
#[derive(Debug)]
pub struct Daytime;

/// `netlab serve daytime`'s own options: the line it sends.
#[derive(Debug, Args)]
pub struct ServeOptions {
    /// Print the time in UTC instead of local time.
    #[arg(long)]
    utc: bool,
    /// End the line with CR LF (as inetd does) instead of LF.
    #[arg(long)]
    crlf: bool,
    /// A strftime format instead of the lecture's "%a %b %e %H:%M:%S %Y".
    #[arg(long, value_name = "STRFTIME")]
    format: Option<String>,
}

/// `netlab connect daytime`'s own options: print the reply, or read the
/// time out of it (with `--json`, shared by every client, as one object).
#[derive(Debug, Args)]
pub struct ConnectOptions {
    /// Read the time in the reply (NIST, ctime, RFC 3339 or xinetd) and
    /// show it in UTC and local time, with the local clock's offset
    /// (--json: as one object).
    #[arg(long)]
    parse: bool,
}

/// The most `--parse` reads: a daytime reply is one line.
const MAX_PARSED_REPLY: usize = 64 * 1024;

/// What `--parse` says it expected, when the line is none of it.
const EXPECTED: &str = "expected NIST \"61082 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *\", \
ctime \"Wed Feb 11 16:32:10 2026\", RFC 3339 \"2026-02-11T16:32:10Z\" or xinetd \"11 FEB 2026 16:32:10 EST\"";

/// The largest UDP payload over IPv4 (65,535 bytes less the IP and UDP
/// headers); IPv6 allows 20 more, but one limit for both keeps it simple.
const MAX_DATAGRAM: usize = 65_507;

impl Protocol for Daytime {
    const NAME: &'static str = "daytime";
    const ABOUT: &'static str = "RFC 867: one line with the date and time.";
    const SERVE_EXAMPLES: &'static str = "\
Examples:
  # The lecture's daytime server, on port 55555
  netlab serve daytime --port 55555
  # inetd's line (UTC, CR LF) over UDP, on a free port it prints
  netlab serve daytime --port 0 --udp --utc --crlf";
    const CONNECT_EXAMPLES: &'static str = "\
Examples:
  # Print the server's line
  netlab connect daytime localhost 55555
  # Read the time NIST sends, and how far off the local clock is
  netlab connect daytime time-a.nist.gov 13 --parse";
    type ServeOptions = ServeOptions;
    type ConnectOptions = ConnectOptions;
    type Server = ::daytime::Daytime;

    fn server(
        options: &ServeOptions,
        engine: &EngineOptions,
    ) -> Result<::daytime::Daytime, ExitCode> {
        let mut format =
            ::daytime::DaytimeFormat::lecture()
                .utc(options.utc)
                .ending(if options.crlf {
                    ::daytime::LineEnding::CrLf
                } else {
                    ::daytime::LineEnding::Lf
                });
        if let Some(f) = &options.format {
            format = format.strftime(f).map_err(|e| {
                exit::report(
                    e.to_string(),
                    Some("see `man strftime` for the % specifiers"),
                    Code::Usage,
                )
            })?;
        }
        // A reply that cannot be sent would fail on every request: refuse
        // the format once, now.
        let longest = if engine.udp {
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
        Ok(::daytime::Daytime::new(format))
    }

    /// The lecture's daytime server prints no data lines.
    fn log_style(_: &ServeOptions) -> LogStyle {
        LogStyle::default()
    }

    fn connect(
        client: &Client,
        to: &ClientOptions,
        options: &ConnectOptions,
        out: &mut Reply<'_>,
    ) -> Result<(), Failure> {
        if options.parse {
            // Its --json is the time report, not the bytes.
            out.own_report();
            return parse(client, to, out);
        }
        let (host, port) = (to.host.as_str(), to.port);
        let got = if to.udp {
            ::daytime::query_udp(client, host, port, out)
        } else {
            ::daytime::query(client, host, port, out)
        };
        got.map(drop).map_err(Failure::from)
    }
}

/// `connect daytime --parse`: the reply, read as a time and reported.
fn parse(client: &Client, to: &ClientOptions, out: &mut Reply<'_>) -> Result<(), Failure> {
    let (host, port) = (to.host.as_str(), to.port);
    // --max-bytes below the cap is the user's limit, reported as for any
    // reply (exit 74); past the cap, the server is no daytime server.
    let user_limit = to
        .max_bytes
        .and_then(|max| usize::try_from(max).ok())
        .filter(|max| *max < MAX_PARSED_REPLY);
    let limit = user_limit.unwrap_or(MAX_PARSED_REPLY);
    let reply = if to.udp {
        ::daytime::fetch_udp(client, host, port)
    } else {
        ::daytime::fetch(client, host, port, limit)
    };
    let reply = match reply {
        Ok(reply) if reply.bytes.len() <= limit => reply,
        Ok(_) | Err(::daytime::Error::TooLong { .. }) => match user_limit {
            Some(max) => {
                let too_much = crate::reply::TooMuch::max_bytes(max as u64);
                return Err(Failure::Output(std::io::Error::other(too_much)));
            }
            None => {
                return Err(clock_report::data_error(
                    out,
                    None,
                    &::daytime::Error::TooLong { limit }.to_string(),
                    "is that a daytime server?",
                ));
            }
        },
        Err(e) => return Err(e.into()),
    };
    let parsed = match ::daytime::parse::reply(&reply.bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            let message = format!("reading the time in the reply: {e}");
            let shown = if to.json {
                let raw = String::from_utf8_lossy(&reply.bytes);
                format!("{}\n", serde_json::json!({ "error": message, "raw": raw })).into_bytes()
            } else {
                reply.bytes
            };
            return Err(clock_report::data_error(
                out,
                Some(&shown),
                &message,
                EXPECTED,
            ));
        }
    };
    let exchange = Exchange {
        sent: reply.sent,
        received: reply.received,
    };
    let report = clock_report::for_daytime(&parsed, &exchange, &chrono::Local);
    let output = if to.json { Output::Json } else { Output::Human };
    clock_report::print(&report, output, out).map_err(Failure::Output)
}

failure_from!(daytime: Net, Output);
