//! Chargen (RFC 864) at the command line: `netlab serve chargen` and
//! `netlab connect chargen HOST PORT`, which prints the stream until the
//! server closes, `--max-bytes` is reached, or whoever reads its output
//! goes away (`| head -c 7400` ends it quietly, exit 0).

use std::process::ExitCode;

use netcore::Client;

use super::{NoOptions, Protocol};
use crate::connect::{ClientOptions, Failure, Reply};
use crate::render::LogStyle;
use crate::serve::EngineOptions;

/// The chargen service.
#[derive(Debug)]
pub struct Chargen;

impl Protocol for Chargen {
    const NAME: &'static str = "chargen";
    const ABOUT: &'static str =
        "RFC 864: an endless stream of 72-character lines (UDP: one line per datagram).";
    const SERVE_EXAMPLES: &'static str = "\
Examples:
  # The endless character stream on port 1919 (UDP: one line per datagram)
  netlab serve chargen --port 1919
  netlab serve chargen --port 1919 --udp";
    const CONNECT_EXAMPLES: &'static str = "\
Examples:
  # The first ten lines
  netlab connect chargen localhost 1919 | head -n 10
  # One line, in one UDP datagram
  netlab connect chargen localhost 1919 --udp";
    type ServeOptions = NoOptions;
    type ConnectOptions = NoOptions;
    type Server = ::chargen::Chargen;

    fn server(_: &NoOptions, _: &EngineOptions) -> Result<::chargen::Chargen, ExitCode> {
        Ok(::chargen::Chargen::new())
    }

    /// No data lines: the stream is written at full speed, and a line per
    /// chunk would flood the log. A UDP reply (one line) is still shown.
    fn log_style(_: &NoOptions) -> LogStyle {
        LogStyle::default()
    }

    fn connect(
        client: &Client,
        to: &ClientOptions,
        _: &NoOptions,
        out: &mut Reply<'_>,
    ) -> Result<(), Failure> {
        let (host, port) = (to.host.as_str(), to.port);
        let got = if to.udp {
            ::chargen::receive_udp(client, host, port, out)
        } else {
            ::chargen::receive(client, host, port, out)
        };
        got.map(drop).map_err(Failure::from)
    }
}

failure_from!(chargen: Net, Output);
