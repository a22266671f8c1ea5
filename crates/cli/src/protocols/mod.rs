//! The protocols `netlab serve` and `netlab connect` speak: one file each,
//! registered once in [`protocols!`] below.
//!
//! A protocol's file says what only it knows: its own options (clap
//! arguments beside the shared [`EngineOptions`] and [`ClientOptions`]),
//! how to make its server from them, and how its client talks to a
//! server. Everything else (binding, limits, signals, the lecture's log
//! lines, exit codes) is the same for every protocol and lives in
//! `serve.rs`, `connect.rs` and `render.rs`.
//!
//! Adding one: a crate with the protocol (see crates/time, the smallest), a file
//! here implementing [`Protocol`], a `mod` line and a line in
//! [`protocols!`]. See docs/architecture.md, "Writing a new protocol".

use std::process::ExitCode;

use netcore::Client;

use crate::connect::{ClientOptions, Failure, Reply};
use crate::render::LogStyle;
use crate::serve::EngineOptions;

/// `impl From<::CRATE::Error> for Failure`: the variants named map to
/// [`Failure`]'s of the same name, which mean the same (the network, the
/// input, the output), and every other one is [`Failure::Other`], printed
/// as it is. Written out once here because the protocol crates' client
/// errors share those variants by convention, not by a common type.
///
/// ```ignore
/// failure_from!(echo: Net, Input, Output);
/// ```
macro_rules! failure_from {
    ($krate:ident: $($variant:ident),+ $(,)?) => {
        impl From<::$krate::Error> for crate::connect::Failure {
            fn from(e: ::$krate::Error) -> Self {
                match e {
                    $(::$krate::Error::$variant(e) => crate::connect::Failure::$variant(e),)+
                    other => crate::connect::Failure::Other(Box::new(other)),
                }
            }
        }
    };
}

mod chargen;
mod daytime;
mod discard;
mod echo;
mod time;

/// What the CLI needs from one protocol.
pub trait Protocol: std::fmt::Debug + 'static {
    /// The service's name, as in `/etc/services`; also its subcommand's.
    const NAME: &'static str;
    /// One line for `--help`: the RFC and what the service does.
    const ABOUT: &'static str;
    /// The end of `netlab serve NAME --help` (and of its part of `netlab
    /// man`): `Examples:`, then an example or two, each a `# what it does`
    /// line and the command, indented by two spaces.
    const SERVE_EXAMPLES: &'static str;
    /// The end of `netlab connect NAME --help`, as [`Self::SERVE_EXAMPLES`].
    const CONNECT_EXAMPLES: &'static str;
    /// `netlab serve NAME`'s own options, beside the [`EngineOptions`].
    type ServeOptions: clap::Args + std::fmt::Debug;
    /// `netlab connect NAME`'s own options, beside the [`ClientOptions`].
    type ConnectOptions: clap::Args + std::fmt::Debug;
    /// The server netcore runs, over TCP or UDP.
    type Server: netcore::Server + netcore::DatagramServer;

    /// The server `options` describe, for the transport `engine` names. An
    /// option that cannot work is reported (one line on stderr) here, and
    /// its exit code returned.
    fn server(
        options: &Self::ServeOptions,
        engine: &EngineOptions,
    ) -> Result<Self::Server, ExitCode>;

    /// What the server's log shows beyond the lines every server prints.
    fn log_style(options: &Self::ServeOptions) -> LogStyle;

    /// `netlab connect NAME HOST PORT`: talks to the server at
    /// `to.host:to.port` (over UDP with `to.udp`), writing what it sends
    /// to `out`.
    fn connect(
        client: &Client,
        to: &ClientOptions,
        options: &Self::ConnectOptions,
        out: &mut Reply<'_>,
    ) -> Result<(), Failure>;
}

/// Options for a side of a protocol that has none of its own.
#[derive(Debug, clap::Args)]
pub struct NoOptions {}

/// Declares the subcommands of `netlab serve` and `netlab connect`, one
/// per protocol, in the order given (which is the order of `--help`).
macro_rules! protocols {
    ($($variant:ident => $protocol:ty),+ $(,)?) => {
        /// `netlab serve PROTOCOL`: one subcommand per protocol.
        #[derive(Debug, clap::Subcommand)]
        pub enum Serve {
            $(
                #[command(name = <$protocol as Protocol>::NAME,
                          about = <$protocol as Protocol>::ABOUT,
                          after_help = <$protocol as Protocol>::SERVE_EXAMPLES)]
                $variant(crate::serve::ServeArgs<$protocol>),
            )+
            /// Every service from one process: echo on N+7, discard N+9,
            /// daytime N+13, chargen N+19, time N+37 (N: --port-offset),
            /// TCP and UDP; or those a --config file names.
            #[command(name = "all")]
            All(crate::serve_all::AllArgs),
        }

        impl Serve {
            /// Runs the server until SIGINT, SIGTERM or SIGHUP.
            pub fn run(self) -> ExitCode {
                match self {
                    $(Serve::$variant(args) => crate::serve::run(args),)+
                    Serve::All(args) => crate::serve_all::run(args),
                }
            }
        }

        /// Every protocol's name, in the order of `--help`.
        pub const NAMES: &[&str] = &[$(<$protocol as Protocol>::NAME),+];

        /// Adds the service `spec` describes to `engine`, made by its
        /// protocol (see [`crate::serve_all::add`]).
        pub fn add_service(
            engine: netcore::Engine,
            spec: &crate::config::Spec,
            shared: &crate::serve_all::Shared<'_>,
            adopt: Option<netcore::ServiceSocket>,
        ) -> Result<(netcore::Engine, LogStyle), crate::serve_all::Refusal> {
            $(
                if spec.service == <$protocol as Protocol>::NAME {
                    return crate::serve_all::add::<$protocol>(engine, spec, shared, adopt);
                }
            )+
            Err(crate::serve_all::Refusal::config(format!(
                "netlab serves no {:?}; the services are {}",
                spec.service,
                NAMES.join(", ")
            )))
        }

        /// `netlab connect PROTOCOL`: one subcommand per protocol.
        #[derive(Debug, clap::Subcommand)]
        pub enum Connect {
            $(
                #[command(name = <$protocol as Protocol>::NAME,
                          about = <$protocol as Protocol>::ABOUT,
                          after_help = <$protocol as Protocol>::CONNECT_EXAMPLES)]
                $variant(crate::connect::ConnectArgs<$protocol>),
            )+
        }

        impl Connect {
            /// Talks to the server, then exits.
            pub fn run(self) -> ExitCode {
                match self {
                    $(Connect::$variant(args) => crate::connect::run(args),)+
                }
            }
        }
    };
}

protocols! {
    Daytime => daytime::Daytime,
    Echo => echo::Echo,
    Time => time::Time,
    Discard => discard::Discard,
    Chargen => chargen::Chargen,
}
