//! Time (RFC 868) at the command line: `netlab serve time` and `netlab
//! connect time HOST PORT [--raw | --json]`.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use netcore::Client;

use super::{NoOptions, Protocol};
use crate::clock_report::{self, Output};
use crate::connect::{ClientOptions, Failure, Reply};
use crate::render::LogStyle;
use crate::serve::EngineOptions;

/// The time service.
#[derive(Debug)]
pub struct Time;

/// `netlab connect time`'s own options: how to show the time (`--json`,
/// shared by every client, prints the time, the raw number and the
/// offset as one object).
#[derive(Debug, Args)]
pub struct ConnectOptions {
    /// Print only the 32-bit number the server sent, in decimal.
    #[arg(long, conflicts_with = "json")]
    raw: bool,
}

impl Protocol for Time {
    const NAME: &'static str = "time";
    const ABOUT: &'static str = "RFC 868: the time as 32-bit seconds since 1900.";
    const SERVE_EXAMPLES: &'static str = "\
Examples:
  # RFC 868 time on port 3737, over TCP; then over UDP
  netlab serve time --port 3737
  netlab serve time --port 3737 --udp";
    const CONNECT_EXAMPLES: &'static str = "\
Examples:
  # The server's time, and how far off the local clock is
  netlab connect time localhost 3737
  # Only the 32-bit number, asked over UDP
  netlab connect time localhost 3737 --udp --raw";
    type ServeOptions = NoOptions;
    type ConnectOptions = ConnectOptions;
    type Server = ::time::Time;

    fn server(_: &NoOptions, _: &EngineOptions) -> Result<::time::Time, ExitCode> {
        Ok(::time::Time::new())
    }

    /// Like daytime's: no data lines (the 4 bytes are binary).
    fn log_style(_: &NoOptions) -> LogStyle {
        LogStyle::default()
    }

    fn connect(
        client: &Client,
        to: &ClientOptions,
        options: &ConnectOptions,
        out: &mut Reply<'_>,
    ) -> Result<(), Failure> {
        // Its --json is the time report, not the bytes.
        out.own_report();
        let (host, port) = (to.host.as_str(), to.port);
        let reading = if to.udp {
            ::time::query_udp(client, host, port)
        } else {
            ::time::query(client, host, port)
        };
        let reading = match reading {
            Ok(reading) => reading,
            Err(::time::Error::Net(e)) => return Err(Failure::Net(e)),
            Err(e @ ::time::Error::Length { .. }) => {
                return Err(clock_report::data_error(
                    out,
                    None,
                    &e.to_string(),
                    "is that a time server? RFC 868 sends a 32-bit number",
                ));
            }
            Err(other) => return Err(Failure::Other(Box::new(other))),
        };
        if options.raw {
            return writeln!(out, "{}", reading.raw).map_err(Failure::Output);
        }
        let report = clock_report::for_time(&reading, &chrono::Local);
        let output = if to.json { Output::Json } else { Output::Human };
        clock_report::print(&report, output, out).map_err(Failure::Output)
    }
}
