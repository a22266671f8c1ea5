//! Which addresses a client on another computer could use to reach a
//! server: the "Reachable at" lines `netlab serve` prints after the
//! lecture's `Listening`, so that a student running the lecture's option 2
//! (client and server on two computers) need not look the address up.
//!
//! A server bound to every interface (`[::]` or `0.0.0.0`) is reachable at
//! every address of every interface that is up, except loopback ones,
//! which only this host can use; one bound with `--interface NAME` at that
//! interface's addresses. A link-local IPv6 address is shown with its
//! `%scope`, which a client must give (its own interface's name, on the
//! other computer).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::interfaces::{Interface, Scope, snapshot};
use crate::logging;

/// One address a client elsewhere could connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reachable {
    /// The address and port.
    pub addr: SocketAddr,
    /// The interface it belongs to.
    pub interface: String,
}

impl fmt::Display for Reachable {
    /// `192.0.2.1:7 (eth0)`, `[2001:db8::1]:7 (eth0)`, and a link-local
    /// address with its scope: `[fe80::1%eth0]:7 (eth0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr.ip() {
            IpAddr::V6(v6) if Scope::of(v6.into()) == Scope::Link => write!(
                f,
                "[{v6}%{}]:{} ({})",
                self.interface,
                self.addr.port(),
                self.interface
            ),
            _ => write!(f, "{} ({})", self.addr, self.interface),
        }
    }
}

/// Logs one `Reachable at ADDR (INTERFACE)` line for each address a client
/// on another computer could use to reach the sockets `bound` (a running
/// engine's), bound to `interface` when one was named. Call it once the
/// sockets listen: the lines come after `Listening`.
pub fn announce(bound: &[(Arc<str>, SocketAddr)], interface: Option<&str>) {
    let bound: Vec<SocketAddr> = bound.iter().map(|(_, addr)| *addr).collect();
    if interface.is_none() && !bound.iter().any(|a| a.ip().is_unspecified()) {
        // One address given with --host: the user knows it already.
        return;
    }
    for reachable in reachable(&bound, interface, &snapshot()) {
        log::info!(target: logging::SERVE, "Reachable at {reachable}");
    }
}

/// The addresses of `interfaces` at which sockets bound to `bound` can be
/// reached from another computer, each once, in the interfaces' order.
pub fn reachable(
    bound: &[SocketAddr],
    interface: Option<&str>,
    interfaces: &[Interface],
) -> Vec<Reachable> {
    let mut found: Vec<Reachable> = Vec::new();
    let mut add = |addr: SocketAddr, name: &str| {
        let new = Reachable {
            addr,
            interface: name.to_owned(),
        };
        if !found.contains(&new) {
            found.push(new);
        }
    };
    for socket in bound {
        let ip = socket.ip();
        if ip.is_loopback() {
            continue;
        }
        if !ip.is_unspecified() {
            // Bound to one address: `--interface NAME` named its interface.
            if let Some(name) = interface {
                add(*socket, name);
            }
            continue;
        }
        // `[::]` is dual-stack (netcore turns IPV6_V6ONLY off for it):
        // IPv4 clients reach it too. `0.0.0.0` takes IPv4 only.
        let takes = |ip: IpAddr| socket.is_ipv6() || ip.is_ipv4();
        for nic in interfaces.iter().filter(|n| n.up && !n.loopback) {
            for address in nic.addresses.iter().filter(|a| takes(a.address)) {
                if address.scope != Scope::Host {
                    add(SocketAddr::new(address.address, socket.port()), &nic.name);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::Address;

    fn nic(name: &str, up: bool, loopback: bool, addrs: &[&str]) -> Interface {
        Interface {
            name: name.into(),
            index: 1,
            mac: None,
            up,
            running: up,
            loopback,
            mtu: None,
            addresses: addrs
                .iter()
                .map(|a| {
                    let address: IpAddr = a.parse().unwrap();
                    Address {
                        family: if address.is_ipv4() { "ipv4" } else { "ipv6" },
                        address,
                        prefix_len: 24,
                        scope: Scope::of(address),
                        scope_id: None,
                    }
                })
                .collect(),
        }
    }

    fn host() -> Vec<Interface> {
        vec![
            nic("lo", true, true, &["127.0.0.1", "::1"]),
            nic(
                "veth0",
                true,
                false,
                &["192.0.2.1", "2001:db8::1", "fe80::1"],
            ),
            nic("eth1", false, false, &["198.51.100.1"]),
        ]
    }

    fn lines(bound: &[&str], interface: Option<&str>) -> Vec<String> {
        let bound: Vec<SocketAddr> = bound.iter().map(|a| a.parse().unwrap()).collect();
        reachable(&bound, interface, &host())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn all_interfaces_means_every_address_of_every_interface_that_is_up_but_loopback() {
        assert_eq!(
            lines(&["[::]:7"], None),
            [
                "192.0.2.1:7 (veth0)",
                "[2001:db8::1]:7 (veth0)",
                "[fe80::1%veth0]:7 (veth0)"
            ]
        );
    }

    #[test]
    fn ipv4_any_is_reachable_over_ipv4_only() {
        assert_eq!(lines(&["0.0.0.0:13"], None), ["192.0.2.1:13 (veth0)"]);
    }

    #[test]
    fn an_interfaces_sockets_are_its_addresses() {
        assert_eq!(
            lines(&["192.0.2.1:7", "[fe80::1%1]:7"], Some("veth0")),
            ["192.0.2.1:7 (veth0)", "[fe80::1%veth0]:7 (veth0)"]
        );
        assert!(lines(&["127.0.0.1:7", "[::1]:7"], Some("lo")).is_empty());
    }

    #[test]
    fn one_host_address_is_not_announced_again() {
        assert!(lines(&["192.0.2.1:7"], None).is_empty());
        assert!(lines(&["127.0.0.1:7"], None).is_empty());
    }
}
