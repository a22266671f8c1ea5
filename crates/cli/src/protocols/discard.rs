//! Discard (RFC 863) at the command line: `netlab serve discard` and
//! `netlab connect discard HOST PORT`, which sends its standard input and
//! exits 0 once all of it is written and the server has closed (UDP: once
//! every line is sent as a datagram; nothing confirms arrival).

use std::process::ExitCode;

use netcore::Client;

use super::{NoOptions, Protocol};
use crate::connect::{ClientOptions, Failure, Reply, json};
use crate::render::LogStyle;
use crate::serve::EngineOptions;

/// The discard service.
#[derive(Debug)]
pub struct Discard;

impl Protocol for Discard {
    const NAME: &'static str = "discard";
    const ABOUT: &'static str = "RFC 863: everything received is thrown away, nothing sent.";
    const SERVE_EXAMPLES: &'static str = "\
Examples:
  # Throw away whatever clients send, on port 9999
  netlab serve discard --port 9999";
    const CONNECT_EXAMPLES: &'static str = "\
Examples:
  # Send a file; exits once the server has closed (so has read it all)
  netlab connect discard localhost 9999 < notes.txt";
    type ServeOptions = NoOptions;
    type ConnectOptions = NoOptions;
    type Server = ::discard::Discard;

    fn server(_: &NoOptions, _: &EngineOptions) -> Result<::discard::Discard, ExitCode> {
        Ok(::discard::Discard)
    }

    /// Shows what was read, as echo's log does: each line is cut at 200
    /// bytes and the log's queue drops lines it cannot keep up with, so a
    /// fast sender cannot flood it (`-q` silences it). A datagram gets no
    /// reply and so no line.
    fn log_style(_: &NoOptions) -> LogStyle {
        LogStyle {
            show_data: true,
            line_mode: false,
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
            // The UDP client opens its own socket, not the traced
            // Client's: for --json, note the address it sends to.
            if let Some(capture) = out.capture_mut() {
                if let Some(endpoint) = json::first_address(host, port) {
                    capture.note(endpoint);
                }
            }
            ::discard::send_udp(client, host, port, input)
        } else {
            ::discard::send(client, host, port, input, out)
        };
        sent.map(drop).map_err(Failure::from)
    }
}

failure_from!(discard: Net, Input, Output);
