//! Daytime (RFC 867) at the command line: `netlab serve daytime [--utc]
//! [--crlf] [--format STRFTIME]` and `netlab connect daytime HOST PORT`.

use std::process::ExitCode;

use clap::Args;
use netcore::Client;

use super::{NoOptions, Protocol};
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

/// The largest UDP payload over IPv4 (65,535 bytes less the IP and UDP
/// headers); IPv6 allows 20 more, but one limit for both keeps it simple.
const MAX_DATAGRAM: usize = 65_507;

impl Protocol for Daytime {
    const NAME: &'static str = "daytime";
    const ABOUT: &'static str = "RFC 867: one line with the date and time.";
    type ServeOptions = ServeOptions;
    type ConnectOptions = NoOptions;
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
        _: &NoOptions,
        out: &mut Reply<'_>,
    ) -> Result<(), Failure> {
        let (host, port) = (to.host.as_str(), to.port);
        let got = if to.udp {
            ::daytime::query_udp(client, host, port, out)
        } else {
            ::daytime::query(client, host, port, out)
        };
        got.map(drop).map_err(Failure::from)
    }
}

impl From<::daytime::Error> for Failure {
    fn from(e: ::daytime::Error) -> Self {
        match e {
            ::daytime::Error::Net(e) => Failure::Net(e),
            ::daytime::Error::Output(e) => Failure::Output(e),
            other => Failure::Other(Box::new(other)),
        }
    }
}
