//! `netlab serve P --interface NAME`: one server on every address of one
//! network interface, IPv4 and IPv6, each address a socket of its own in
//! one netcore engine (one shutdown, one log).
//!
//! With `--port 0` the first socket's port is taken for all the others, so
//! that the interface has one port whatever the family; a link-local IPv6
//! address is bound with the interface's index as its scope, without which
//! the kernel would not know which link is meant.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use netcore::{Builder, DatagramBuilder, Engine, Event, Observer, Running};

use crate::exit::{self, Code, Problem};
use crate::interfaces::{self, Interface, Scope};
use crate::protocols::Protocol;
use crate::serve::{self, EngineOptions, ServeArgs};

/// The addresses `--interface NAME` (with `-4` or `-6`, one family) binds,
/// at `port`: 64 for an interface that does not exist, 69 for one without
/// an address of the family asked.
pub fn addresses(
    name: &str,
    engine: &EngineOptions,
    port: u16,
) -> Result<Vec<SocketAddr>, Problem> {
    let all = interfaces::snapshot();
    let nic = interfaces::find(&all, name)?;
    let family = match (engine.ipv4, engine.ipv6) {
        (true, _) => Some(false),
        (_, true) => Some(true),
        _ => None,
    };
    of_interface(nic, family, port)
}

/// `nic`'s addresses at `port`, of one family when `v6` says which.
fn of_interface(nic: &Interface, v6: Option<bool>, port: u16) -> Result<Vec<SocketAddr>, Problem> {
    let found: Vec<SocketAddr> = nic
        .addresses
        .iter()
        .filter(|a| v6.is_none_or(|v6| a.address.is_ipv6() == v6))
        .map(|a| match a.address {
            IpAddr::V6(ip) if a.scope == Scope::Link => {
                SocketAddr::V6(SocketAddrV6::new(ip, port, 0, nic.index))
            }
            ip => SocketAddr::new(ip, port),
        })
        .collect();
    if found.is_empty() {
        let what = match v6 {
            Some(false) => "IPv4 address",
            Some(true) => "IPv6 address",
            None => "IP address",
        };
        return Err(Problem::new(
            format!("network interface {} has no {what}", nic.name),
            Code::Unavailable,
        )
        .hint(format!(
            "see `netlab interfaces {}`; give it one (`ip addr add ADDR/LEN dev {}`) or pick another interface",
            nic.name, nic.name
        )));
    }
    Ok(found)
}

/// Binds every one of `addrs` for protocol `P` (the first with `server`,
/// the others with servers made alike) and starts one engine on them all.
/// A failure is reported here (one line on stderr); its exit code is
/// returned.
pub fn start<P: Protocol>(
    addrs: &[SocketAddr],
    args: &ServeArgs<P>,
    observer: impl Observer,
    server: P::Server,
    limit_warning: &mut Option<String>,
) -> Result<Running, ExitCode> {
    let options = &args.engine;
    let chosen = Arc::new(AtomicU16::new(0));
    let mut engine = Engine::new().observer(FirstPort {
        inner: observer,
        port: chosen.clone(),
    });
    if let Some(threads) = options.threads {
        engine = engine.threads(usize::try_from(threads).unwrap_or(1));
    }
    let mut first = Some(server);
    for &addr in addrs {
        let server = match first.take() {
            Some(server) => server,
            None => P::server(&args.options, options)?,
        };
        let mut addr = addr;
        if addr.port() == 0 {
            // 0 until the first socket is bound, which picks the port.
            addr.set_port(chosen.load(Ordering::Acquire));
        }
        let added = if options.udp {
            let builder = serve::with_udp_options(DatagramBuilder::new(addr), options);
            engine.serve_datagrams(builder.name(P::NAME), server)
        } else {
            let (builder, warning) =
                serve::with_tcp_options(Builder::new(addr), options, serve::loops(options.threads));
            *limit_warning = warning;
            engine.serve(builder.name(P::NAME), server)
        };
        engine = added.map_err(|e| serve::bind_failed(&e, addr))?;
    }
    engine
        .start()
        .map_err(|e| exit::report(&e, None, exit::for_net(&e)))
}

/// Passes every event on to `inner`, and keeps the port of the first
/// socket bound.
struct FirstPort<O> {
    inner: O,
    port: Arc<AtomicU16>,
}

impl<O: Observer> Observer for FirstPort<O> {
    fn event(&self, event: &Event<'_>) {
        if let Event::Bound { addr, .. } = event {
            let _ = self
                .port
                .compare_exchange(0, addr.port(), Ordering::AcqRel, Ordering::Acquire);
        }
        self.inner.event(event);
    }

    fn wants_data(&self) -> bool {
        self.inner.wants_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::Address;

    fn veth(addrs: &[&str]) -> Interface {
        Interface {
            name: "veth0".into(),
            index: 9,
            mac: None,
            up: true,
            running: true,
            loopback: false,
            mtu: None,
            addresses: addrs
                .iter()
                .map(|a| {
                    let address: IpAddr = a.parse().unwrap();
                    Address {
                        family: "",
                        address,
                        prefix_len: 64,
                        scope: Scope::of(address),
                        scope_id: None,
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn every_address_of_the_family_with_link_local_scoped() {
        let nic = veth(&["192.0.2.1", "2001:db8::1", "fe80::1"]);
        let all = of_interface(&nic, None, 7).unwrap();
        let shown: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["192.0.2.1:7", "[2001:db8::1]:7", "[fe80::1%9]:7"]);
        assert_eq!(of_interface(&nic, Some(false), 7).unwrap().len(), 1);
        assert_eq!(of_interface(&nic, Some(true), 7).unwrap().len(), 2);
    }

    #[test]
    fn no_address_of_the_family_is_unavailable() {
        let problem = of_interface(&veth(&["192.0.2.1"]), Some(true), 7).unwrap_err();
        assert_eq!(problem.code, Code::Unavailable);
        assert_eq!(
            problem.message,
            "network interface veth0 has no IPv6 address"
        );
        let problem = of_interface(&veth(&[]), None, 7).unwrap_err();
        assert_eq!(problem.message, "network interface veth0 has no IP address");
    }
}
