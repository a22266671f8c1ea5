//! Echo (RFC 862) at the command line: `netlab serve echo [--mode line]`
//! and `netlab connect echo HOST PORT`.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use netcore::Client;

use super::{NoOptions, Protocol};
use crate::connect::{ClientOptions, Failure, Reply};
use crate::render::LogStyle;
use crate::serve::EngineOptions;

/// The echo service.
#[derive(Debug)]
pub struct Echo;

/// `netlab serve echo`'s own options.
#[derive(Debug, Args)]
pub struct ServeOptions {
    /// How to echo (TCP only).
    #[arg(long, value_enum, default_value_t = Mode::Stream, conflicts_with = "udp")]
    mode: Mode,
}

/// How an echo server echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// RFC 862: echo every byte until the client closes.
    Stream,
    /// The lecture's echoserver.py: echo one line, then close.
    Line,
}

impl Protocol for Echo {
    const NAME: &'static str = "echo";
    const ABOUT: &'static str = "RFC 862: every byte sent back.";
    const SERVE_EXAMPLES: &'static str = "\
Examples:
  # Every byte back until the client closes (RFC 862), on port 7777
  netlab serve echo --port 7777
  # The lecture's echoserver.py: one line back, then close
  netlab serve echo --port 55556 --mode line";
    const CONNECT_EXAMPLES: &'static str = "\
Examples:
  # Send a line, print what comes back
  echo 'Hello, COS 333' | netlab connect echo localhost 7777
  # The same in one UDP datagram, reported as one JSON object
  echo hello | netlab connect echo localhost 7777 --udp --json";
    type ServeOptions = ServeOptions;
    type ConnectOptions = NoOptions;
    type Server = ::echo::Echo;

    fn server(options: &ServeOptions, _: &EngineOptions) -> Result<::echo::Echo, ExitCode> {
        Ok(::echo::Echo::new(match options.mode {
            Mode::Stream => ::echo::Mode::Stream,
            Mode::Line => ::echo::Mode::Line,
        }))
    }

    fn log_style(options: &ServeOptions) -> LogStyle {
        LogStyle {
            show_data: true,
            line_mode: options.mode == Mode::Line,
        }
    }

    fn connect(
        client: &Client,
        to: &ClientOptions,
        _: &NoOptions,
        out: &mut Reply<'_>,
    ) -> Result<(), Failure> {
        let (host, port) = (to.host.as_str(), to.port);
        // Standard input, counted for --json.
        let input = out.input();
        let sent = if to.udp {
            ::echo::session_udp(client, host, port, input, out)
        } else {
            ::echo::session(client, host, port, input, out)
        };
        sent.map(drop).map_err(Failure::from)
    }
}

failure_from!(echo: Net, Input, Output);
