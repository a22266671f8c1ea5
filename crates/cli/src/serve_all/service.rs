//! One service of `netlab serve all`: its options (those of `netlab serve
//! SERVICE`, with the command line's limits for the ones it does not set),
//! its server, and its socket, bound or taken over, added to the engine.

use std::process::ExitCode;

use clap::FromArgMatches;
use clap::parser::ValueSource;
use netcore::{Builder, DatagramBuilder, Engine, ServiceSocket};

use super::AllArgs;
use crate::config::Spec;
use crate::exit::{self, Code, Problem};
use crate::protocols::Protocol;
use crate::render::LogStyle;
use crate::serve::{self, ServeArgs};

/// What every service of one start or reload shares.
#[derive(Debug)]
pub struct Shared<'a> {
    pub(super) args: &'a AllArgs,
    pub(super) loops: u64,
}

/// Why a service could not be added.
#[derive(Debug)]
pub enum Refusal {
    /// Its protocol already printed the line (a bad protocol option).
    Reported(ExitCode),
    /// The line to print.
    Problem(Problem),
}

impl Refusal {
    /// A mistake in the configuration (exit 78).
    pub fn config(message: String) -> Self {
        Refusal::Problem(Problem::new(message, Code::Config))
    }
}

/// Adds `spec`'s service, made by protocol `P`, to `engine` (on `adopt`,
/// a socket taken over from the previous configuration, when given).
pub fn add<P: Protocol>(
    engine: Engine,
    spec: &Spec,
    shared: &Shared<'_>,
    adopt: Option<ServiceSocket>,
) -> Result<(Engine, LogStyle), Refusal> {
    let ServeArgs {
        engine: options,
        options: own,
    } = service_args::<P>(spec, shared.args)?;
    let server = P::server(&own, &options).map_err(Refusal::Reported)?;
    let style = P::log_style(&own);
    let builder = match adopt {
        Some(ServiceSocket::Tcp(listener)) => Builders::Tcp(Builder::from_listener(listener)),
        Some(ServiceSocket::Udp(socket)) => Builders::Udp(DatagramBuilder::from_socket(socket)),
        _ => {
            let addr = serve::bind_address(options.host.as_deref(), spec.port)
                .and_then(|addr| serve::check_group(addr, &options))
                .map_err(|p| named(spec, p))?;
            if spec.udp {
                Builders::Udp(Ok(DatagramBuilder::new(addr)))
            } else {
                Builders::Tcp(Ok(Builder::new(addr)))
            }
        }
    };
    let added = match builder {
        Builders::Tcp(builder) => builder.and_then(|b| {
            let (b, _) = serve::with_tcp_options(b, &options, shared.loops);
            engine.serve(b.name(&spec.name), server)
        }),
        Builders::Udp(builder) => builder.and_then(|b| {
            engine.serve_datagrams(
                serve::with_udp_options(b, &options).name(&spec.name),
                server,
            )
        }),
    };
    let engine = added.map_err(|e| {
        let mut problem = Problem::new(&e, exit::for_net(&e));
        if let Ok(addr) = serve::bind_address(options.host.as_deref(), spec.port) {
            problem = problem.hint(serve::bind_hint(&e, addr));
        }
        named(spec, problem)
    })?;
    Ok((engine, style))
}

/// A service's builder, on a new socket or one taken over.
enum Builders {
    Tcp(netcore::Result<Builder>),
    Udp(netcore::Result<DatagramBuilder>),
}

/// `problem`, said of the service `spec` describes.
fn named(spec: &Spec, problem: Problem) -> Refusal {
    Refusal::Problem(Problem {
        message: format!("{}: {}", spec.name, problem.message),
        ..problem
    })
}

/// The options of `netlab serve SERVICE` for `spec`: its address and
/// transport, its own options, and the command line's limits for those it
/// does not set. Options that apply to the whole process are refused here.
fn service_args<P: Protocol>(spec: &Spec, all: &AllArgs) -> Result<ServeArgs<P>, Refusal> {
    let mut words = vec!["--port".to_owned(), spec.port.to_string()];
    if spec.udp {
        words.push("--udp".to_owned());
    }
    if let Some(host) = &spec.host {
        words.push(format!("--host={host}"));
    }
    words.extend(spec.options.iter().cloned());
    let command = <ServeArgs<P> as clap::Args>::augment_args(
        clap::Command::new(P::NAME).no_binary_name(true),
    );
    let refuse = |what: String| {
        Refusal::config(format!(
            "{}: options {:?}: {what}",
            spec.name,
            spec.options.join(" ")
        ))
    };
    let matches = command.try_get_matches_from(&words).map_err(|e| {
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        refuse(first.to_owned())
    })?;
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    for id in [
        "threads",
        "drain",
        "quiet",
        "verbose",
        "log",
        "log_file",
        "log_format",
        "syslog_socket",
    ] {
        if given(id) {
            return Err(refuse(format!(
                "--{id} applies to every service: give it to `netlab serve all` instead"
            )));
        }
    }
    if given("interface") {
        // One spec is one socket here; an interface may have several addresses.
        return Err(refuse(
            "--interface is for `netlab serve SERVICE`; give the service a host (one address) instead"
                .to_owned(),
        ));
    }
    let mut args = ServeArgs::<P>::from_arg_matches(&matches).map_err(|e| refuse(e.to_string()))?;
    let engine = &mut args.engine;
    if !given("max_connections") {
        engine.max_connections = all.max_connections;
    }
    if !given("max_per_source") {
        engine.max_per_source = all.max_per_source;
    }
    if !given("idle_timeout") {
        engine.idle_timeout = all.idle_timeout;
    }
    if !given("rate_limit") {
        engine.rate_limit = all.rate_limit;
    }
    if !given("allow_privileged_sources") {
        engine.allow_privileged_sources = all.allow_privileged_sources;
    }
    engine.quiet = all.quiet;
    Ok(args)
}
