//! Running under a service manager: socket activation (sd_listen_fds(3))
//! and readiness (sd_notify(3)), for `netlab serve PROTOCOL` and
//! `netlab serve all`.
//!
//! When systemd (a `.socket` unit), `systemd-socket-activate` or systemfd
//! bound the sockets and passed them (`LISTEN_FDS`, `LISTEN_PID`), netlab
//! serves those instead of binding its own: `--port` is then not needed,
//! and refused (the manager said where). netcore takes the descriptors
//! ([`netcore::activated_sockets`]); this file decides what each one is
//! for:
//!
//! - `netlab serve PROTOCOL`: every socket serves that protocol, TCP
//!   listeners as connections and UDP sockets as datagrams, in one engine;
//!   the socket's type decides, not `--udp` (which still opens the UDP
//!   options such as `--rate-limit`).
//! - `netlab serve all`: each socket's name (`FileDescriptorName=`, passed
//!   in `LISTEN_FDNAMES`) says its service: `echo` (the transport from the
//!   socket's type), `echo/tcp`, `daytime/udp`, ...
//!
//! A socket that cannot be served is one line and exit 64 (how netlab was
//! started does not fit what it was handed): a connected stream from
//! `Accept=yes` (inetd mode: `--inetd`), a unix-domain socket, a name that
//! names no service. `READY=1` goes to `NOTIFY_SOCKET` once every socket
//! is served, activated or not (systemd's `Type=notify`), `STOPPING=1` when
//! a signal starts the shutdown.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use netcore::{
    Activated, ActivatedSocket, Builder, DatagramBuilder, Engine, Observer, Running, ServiceSocket,
};
use sd_notify::NotifyState;

use crate::config::Spec;
use crate::exit::{self, Code, Problem};
use crate::logging;
use crate::protocols::{self, Protocol};
use crate::serve::{self, EngineOptions, ServeArgs};

/// What netcore says of a stream socket on which `listen(2)` was never
/// called: with systemd, a connection passed by `Accept=yes`.
const NOT_LISTENING: &str = "a TCP socket that is not listening";

/// Takes the sockets passed to this process, if any, for `netlab serve
/// COMMAND` (`all` or a protocol's name, for the error line).
///
/// netcore asks for this before any thread starts, since it unsets
/// `LISTEN_FDS` and `LISTEN_PID`; the only threads running by now are the
/// log's writers, which read no environment variable.
pub fn take(command: &str) -> Result<Vec<Activated>, Problem> {
    netcore::activated_sockets().map_err(|e| match &e {
        netcore::Error::Activation { fd, problem, .. } if *problem == NOT_LISTENING => {
            let protocol = if command == "all" {
                "PROTOCOL"
            } else {
                command
            };
            Problem::new(
                format!("socket-activated descriptor {fd} is a connected socket (Accept=yes)"),
                Code::Usage,
            )
            .hint(format!("run netlab serve {protocol} --inetd"))
        }
        netcore::Error::Activation { source: None, .. } => Problem::new(&e, Code::Usage)
            .hint("netlab serves TCP and UDP sockets: ListenStream=PORT and ListenDatagram=PORT"),
        _ => Problem::new(&e, exit::for_net(&e)),
    })
}

/// The port `netlab serve PROTOCOL` binds: `--port`, or 0 (unused) when
/// `handed` holds sockets, which `--port`, `--host` and `--interface`
/// cannot then choose.
pub fn port(handed: &[Activated], engine: &EngineOptions) -> Result<u16, Problem> {
    if handed.is_empty() {
        return engine.port.ok_or_else(|| {
            Problem::new("give --port (or run under socket activation)", Code::Usage)
                .hint("--port 0 picks any free port")
        });
    }
    let given = [
        ("--port", engine.port.is_some()),
        ("--host", engine.host.is_some()),
        ("--interface", engine.interface.is_some()),
    ];
    refuse_placement(&given)?;
    Ok(0)
}

/// Refuses the first option of `given` that was given: under socket
/// activation the manager chose the addresses and ports.
fn refuse_placement(given: &[(&str, bool)]) -> Result<(), Problem> {
    match given.iter().find(|(_, given)| *given) {
        Some((option, _)) => Err(Problem::new(
            format!("{option} with socket activation: the service manager bound the sockets"),
            Code::Usage,
        )
        .hint(format!(
            "drop {option}, or set the address in the .socket unit (ListenStream=)"
        ))),
        None => Ok(()),
    }
}

/// Serves protocol `P` on every socket in `handed` (TCP as connections,
/// UDP as datagrams) from one engine, and logs where each one is. A
/// failure is reported here; its exit code is returned.
pub fn start<P: Protocol>(
    handed: Vec<Activated>,
    args: &ServeArgs<P>,
    observer: impl Observer,
    limit_warning: &mut Option<String>,
) -> Result<Running, ExitCode> {
    let options = &args.engine;
    let mut engine = Engine::new().observer(observer);
    if let Some(threads) = options.threads {
        engine = engine.threads(usize::try_from(threads).unwrap_or(1));
    }
    let failed = |e: netcore::Error| exit::report(&e, None, exit::for_net(&e));
    for activated in handed {
        engine = match activated.socket {
            ActivatedSocket::Tcp(listener) => {
                let tcp = EngineOptions {
                    udp: false,
                    ..options.clone()
                };
                let builder = Builder::from_listener(listener).map_err(failed)?;
                let (builder, warning) =
                    serve::with_tcp_options(builder, &tcp, serve::loops(tcp.threads));
                *limit_warning = warning;
                let server = P::server(&args.options, &tcp)?;
                engine.serve(builder.name(P::NAME), server)
            }
            ActivatedSocket::Udp(socket) => {
                // The protocol may check what fits in a datagram (daytime's
                // --format): it must know this socket is UDP.
                let udp = EngineOptions {
                    udp: true,
                    ..options.clone()
                };
                let builder = DatagramBuilder::from_socket(socket).map_err(failed)?;
                let server = P::server(&args.options, &udp)?;
                engine.serve_datagrams(serve::with_udp_options(builder, &udp).name(P::NAME), server)
            }
            other => {
                return Err(exit::report(
                    format!("a socket-activated socket netlab cannot serve: {other:?}"),
                    None,
                    Code::Usage,
                ));
            }
        }
        .map_err(failed)?;
    }
    let running = engine.start().map_err(failed)?;
    announce(running.local_addrs(), false);
    Ok(running)
}

/// The services of `netlab serve all`, and the socket of each.
pub type Services = (Vec<Spec>, Vec<ServiceSocket>);

/// The services `netlab serve all` runs on the sockets passed to it, one
/// per socket in descriptor order, named by their `FileDescriptorName=`;
/// `None` when none were passed. `binds` says whether the command line
/// chose addresses or a configuration (refused under activation).
pub fn take_for_all(binds: bool) -> Result<Option<Services>, Problem> {
    let handed = take("all")?;
    if handed.is_empty() {
        return Ok(None);
    }
    if binds {
        return Err(Problem::new(
            "--config, --host, --port-offset and --no-udp with socket activation: the service manager bound the sockets",
            Code::Usage,
        )
        .hint("drop them, and name each socket's service with FileDescriptorName= (echo/tcp, daytime/udp, ...)"));
    }
    let mut specs = Vec::with_capacity(handed.len());
    let mut sockets = Vec::with_capacity(handed.len());
    for (fd, activated) in (3..).zip(handed) {
        let (udp, port, socket) = match activated.socket {
            ActivatedSocket::Tcp(l) => (false, local_port(&l.local_addr()), ServiceSocket::Tcp(l)),
            ActivatedSocket::Udp(u) => (true, local_port(&u.local_addr()), ServiceSocket::Udp(u)),
            other => {
                return Err(Problem::new(
                    format!("socket-activated descriptor {fd} cannot be served: {other:?}"),
                    Code::Usage,
                ));
            }
        };
        let service = service_named(activated.name.as_deref(), udp).map_err(|why| {
            Problem::new(
                format!("socket-activated descriptor {fd}: {why}"),
                Code::Usage,
            )
            .hint(format!(
                "name each socket's service with FileDescriptorName=: {}",
                expected_names().join(", ")
            ))
        })?;
        specs.push(Spec {
            name: format!("{service}/{}", if udp { "udp" } else { "tcp" }),
            service,
            udp,
            host: None,
            port,
            options: Vec::new(),
        });
        sockets.push(socket);
    }
    Ok(Some((specs, sockets)))
}

/// The port of a socket's local address (0 if it cannot be read: only
/// the log shows it).
fn local_port(addr: &std::io::Result<SocketAddr>) -> u16 {
    addr.as_ref().map_or(0, SocketAddr::port)
}

/// The service `name` (`echo`, `echo/tcp`, `daytime/udp`) asks of a socket
/// that is UDP (`udp`) or TCP, or why it names none.
fn service_named(name: Option<&str>, udp: bool) -> Result<String, String> {
    let Some(name) = name else {
        return Err("it has no name".to_owned());
    };
    let (service, transport) = match name.split_once('/') {
        Some((service, transport)) => (service, Some(transport)),
        None => (name, None),
    };
    if !protocols::NAMES.contains(&service) {
        return Err(format!("its name {name:?} names no service"));
    }
    let is = if udp { "udp" } else { "tcp" };
    match transport {
        None => Ok(service.to_owned()),
        Some(t) if t == is => Ok(service.to_owned()),
        Some("tcp" | "udp") => Err(format!(
            "it is named {name:?} but is a {} socket",
            is.to_uppercase()
        )),
        Some(_) => Err(format!("its name {name:?} names no service")),
    }
}

/// Every name `netlab serve all` understands, for the error line.
fn expected_names() -> Vec<String> {
    protocols::NAMES
        .iter()
        .flat_map(|p| [p.to_string(), format!("{p}/tcp"), format!("{p}/udp")])
        .collect()
}

/// Logs where each socket a service manager passed is served: no
/// `Opened`/`Bound` lines, since netlab did neither. `prefix`: each line
/// starts with its service's name (`netlab serve all`).
pub fn announce(services: &[(Arc<str>, SocketAddr)], prefix: bool) {
    for (name, addr) in services {
        let start = if prefix {
            format!("{name}: ")
        } else {
            String::new()
        };
        log::info!(target: logging::SERVE, "{start}Activated server socket on port {}", addr.port());
        log::info!(target: logging::SERVE, "{start}Listening");
    }
}

/// Tells the service manager (`NOTIFY_SOCKET`, systemd's `Type=notify`)
/// that every socket is served; nothing when there is none.
pub fn ready() {
    notify(NotifyState::Ready, "ready");
}

/// Tells the service manager that the server is shutting down.
pub fn stopping() {
    notify(NotifyState::Stopping, "stopping");
}

fn notify(state: NotifyState<'_>, what: &str) {
    // A manager that cannot be told is the manager's problem to see (it
    // times out): the server itself runs on, with a warning.
    if let Err(e) = sd_notify::notify(&[state]) {
        log::warn!(
            target: logging::SERVE,
            "telling the service manager (NOTIFY_SOCKET) the server is {what}: {}",
            netcore::describe(&e)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_name_takes_the_transport_from_the_socket() {
        assert_eq!(service_named(Some("echo"), false).as_deref(), Ok("echo"));
        assert_eq!(service_named(Some("echo"), true).as_deref(), Ok("echo"));
        assert_eq!(
            service_named(Some("daytime/udp"), true).as_deref(),
            Ok("daytime")
        );
        assert_eq!(
            service_named(Some("chargen/tcp"), false).as_deref(),
            Ok("chargen")
        );
    }

    #[test]
    fn a_name_of_the_other_transport_says_what_the_socket_is() {
        let why = service_named(Some("echo/udp"), false).unwrap_err();
        assert!(why.contains("is a TCP socket"), "{why}");
        let why = service_named(Some("echo/tcp"), true).unwrap_err();
        assert!(why.contains("is a UDP socket"), "{why}");
    }

    #[test]
    fn unknown_and_missing_names_are_refused() {
        for name in ["netlab-all.socket", "echo/sctp", "ECHO", "", "/tcp"] {
            assert!(service_named(Some(name), false).is_err(), "{name}");
        }
        assert!(service_named(None, false).is_err());
        let names = expected_names();
        assert!(names.contains(&"echo/udp".to_owned()));
        assert!(names.contains(&"time".to_owned()));
    }
}
