//! `netlab interfaces`: this host's network interfaces, as `ip addr`,
//! `ifconfig` or `ipconfig` show them: each one's state, MAC address, MTU
//! and IPv4 and IPv6 addresses with their prefix length and scope; the
//! lecture's first key concepts, and where a client on another computer
//! finds this one.
//!
//! The snapshot comes from the `netdev` crate (netlink on Linux), not from
//! parsing another program's output. [`snapshot`] is also what `netlab
//! serve --interface` and its "Reachable at" lines read.

use std::io::{self, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::exit::{Code, Problem};

/// Arguments of `netlab interfaces`.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 ok, 64 no interface of that name \
(the line names those that exist), 71 the interfaces cannot be read.

Examples:
  # Every interface, as a table
  netlab interfaces
  # Only the loopback interface, as JSON
  netlab interfaces lo --json")]
pub struct InterfacesArgs {
    /// Show only this interface (e.g. eth0, wlan0, lo).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// One JSON array on stdout instead of the table: every interface's
    /// name, index, mac, up, running, loopback, mtu and addresses (each
    /// with family, address, prefix_len, scope and scope_id).
    #[arg(long)]
    pub json: bool,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Its name (`eth0`, `lo`).
    pub name: String,
    /// The kernel's index, the number an IPv6 scope may use instead of the name.
    pub index: u32,
    /// Its link-layer (MAC) address, when it has one.
    pub mac: Option<String>,
    /// Administratively up (`IFF_UP`: `ip link set NAME up`).
    pub up: bool,
    /// Up and with a link (`IFF_RUNNING`: a cable, a peer, an access point).
    pub running: bool,
    /// The loopback interface: reachable from this host only.
    pub loopback: bool,
    /// The largest packet it sends, in bytes, when known.
    pub mtu: Option<u32>,
    /// Its IPv4 addresses, then its IPv6 addresses.
    pub addresses: Vec<Address>,
}

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// `ipv4` or `ipv6`.
    pub family: &'static str,
    /// The address.
    pub address: IpAddr,
    /// The prefix length: how many leading bits name the network.
    pub prefix_len: u8,
    /// Where it is valid, in `ip addr`'s words.
    pub scope: Scope,
    /// For an IPv6 address, the scope id the kernel gives it (the
    /// interface's index for a link-local address, else 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_id: Option<u32>,
}

/// Where an address is valid, as `ip addr` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// This host only (127.0.0.0/8, ::1).
    Host,
    /// This link only (169.254.0.0/16, fe80::/10): a client on the same
    /// cable or Wi-Fi, naming its own interface.
    Link,
    /// Anywhere a route leads.
    Global,
}

impl Scope {
    /// The scope of `ip`, from the address alone (the kernel's rule for
    /// IPv6; for IPv4, what `ip addr add` gives unless told otherwise).
    pub fn of(ip: IpAddr) -> Scope {
        match ip {
            IpAddr::V4(v4) if v4.is_loopback() => Scope::Host,
            IpAddr::V4(v4) if v4.is_link_local() => Scope::Link,
            IpAddr::V6(v6) if v6.is_loopback() => Scope::Host,
            IpAddr::V6(v6) if v6.is_unicast_link_local() => Scope::Link,
            _ => Scope::Global,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Scope::Host => "host",
            Scope::Link => "link",
            Scope::Global => "global",
        }
    }
}

/// Every interface of this host, by index.
pub fn snapshot() -> Vec<Interface> {
    let mut all: Vec<Interface> = netdev::get_interfaces().iter().map(convert).collect();
    all.sort_by_key(|i| i.index);
    all
}

fn convert(nic: &netdev::Interface) -> Interface {
    let v4 = nic.ipv4.iter().map(|net| Address {
        family: "ipv4",
        address: IpAddr::V4(net.addr()),
        prefix_len: net.prefix_len(),
        scope: Scope::of(IpAddr::V4(net.addr())),
        scope_id: None,
    });
    let v6 = nic.ipv6.iter().enumerate().map(|(i, net)| Address {
        family: "ipv6",
        address: IpAddr::V6(net.addr()),
        prefix_len: net.prefix_len(),
        scope: Scope::of(IpAddr::V6(net.addr())),
        scope_id: Some(nic.ipv6_scope_ids.get(i).copied().unwrap_or(0)),
    });
    Interface {
        name: nic.name.clone(),
        index: nic.index,
        mac: nic.mac_addr.map(|mac| mac.to_string()),
        up: nic.is_up(),
        running: nic.is_running(),
        loopback: nic.is_loopback(),
        mtu: nic.mtu,
        addresses: v4.chain(v6).collect(),
    }
}

/// The interface called `name` in `all`; unknown, a usage error (64) that
/// lists the names there are.
pub fn find<'a>(all: &'a [Interface], name: &str) -> Result<&'a Interface, Problem> {
    all.iter().find(|i| i.name == name).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        Problem::new(
            format!(
                "no network interface named {name:?} on this host; its interfaces are {}",
                names.join(", ")
            ),
            Code::Usage,
        )
        .hint("see `netlab interfaces`")
    })
}

/// Runs `netlab interfaces`.
pub fn run(args: InterfacesArgs) -> ExitCode {
    let all = snapshot();
    if all.is_empty() {
        // Even a host without a network has a loopback interface.
        return Problem::new(
            "reading this host's network interfaces found none",
            Code::OsErr,
        )
        .hint("is /proc or netlink available here?")
        .report();
    }
    let shown: Vec<Interface> = match &args.name {
        Some(name) => match find(&all, name) {
            Ok(one) => vec![one.clone()],
            Err(problem) => return problem.report(),
        },
        None => all,
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&shown) {
            Ok(json) => json + "\n",
            Err(e) => {
                return Problem::new(
                    format!("writing the interfaces as JSON: {e}"),
                    Code::Software,
                )
                .report();
            }
        }
    } else {
        table(&shown)
    };
    // A closed pipe (`| head`) is the reader's choice, not an error.
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            crate::exit::report(format!("writing to stdout: {e}"), None, Code::IoErr)
        }
        _ => Code::Ok.into(),
    }
}

/// The interfaces as a table: one row per address, the interface's own
/// columns on its first row only.
pub fn table(interfaces: &[Interface]) -> String {
    let header = ["INDEX", "NAME", "STATE", "MAC", "MTU", "ADDRESS", "SCOPE"];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for nic in interfaces {
        let mut state = vec![if nic.up { "up" } else { "down" }];
        if nic.running {
            state.push("running");
        }
        if nic.loopback {
            state.push("loopback");
        }
        let own = [
            nic.index.to_string(),
            nic.name.clone(),
            state.join(","),
            nic.mac.clone().unwrap_or_else(|| "-".to_owned()),
            nic.mtu.map_or_else(|| "-".to_owned(), |m| m.to_string()),
        ];
        if nic.addresses.is_empty() {
            let [a, b, c, d, e] = own.clone();
            rows.push([a, b, c, d, e, "-".to_owned(), String::new()]);
        }
        for (i, addr) in nic.addresses.iter().enumerate() {
            let [a, b, c, d, e] = if i == 0 {
                own.clone()
            } else {
                Default::default()
            };
            let address = format!("{}/{}", addr.address, addr.prefix_len);
            rows.push([a, b, c, d, e, address, addr.scope.word().to_owned()]);
        }
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (cell, w) in cells.iter().zip(widths) {
            text.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn veth() -> Interface {
        Interface {
            name: "veth0".into(),
            index: 7,
            mac: Some("02:00:00:00:00:01".into()),
            up: true,
            running: true,
            loopback: false,
            mtu: Some(1500),
            addresses: vec![
                Address {
                    family: "ipv4",
                    address: "192.0.2.1".parse().unwrap(),
                    prefix_len: 24,
                    scope: Scope::Global,
                    scope_id: None,
                },
                Address {
                    family: "ipv6",
                    address: "fe80::1".parse().unwrap(),
                    prefix_len: 64,
                    scope: Scope::Link,
                    scope_id: Some(7),
                },
            ],
        }
    }

    #[test]
    fn scopes_follow_ip_addr() {
        let scope = |s: &str| Scope::of(s.parse().unwrap());
        assert_eq!(scope("127.0.0.1"), Scope::Host);
        assert_eq!(scope("::1"), Scope::Host);
        assert_eq!(scope("169.254.1.1"), Scope::Link);
        assert_eq!(scope("fe80::1"), Scope::Link);
        assert_eq!(scope("192.0.2.1"), Scope::Global);
        assert_eq!(scope("2001:db8::1"), Scope::Global);
    }

    #[test]
    fn the_table_has_a_row_per_address() {
        let text = table(&[veth()]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("INDEX  NAME"), "{text}");
        assert!(lines[1].contains("veth0") && lines[1].contains("192.0.2.1/24"));
        assert!(lines[1].contains("up,running") && lines[1].contains("02:00:00:00:00:01"));
        assert!(lines[2].trim_start().starts_with("fe80::1/64"), "{text}");
        assert!(lines[2].ends_with("link"), "{text}");
    }

    #[test]
    fn json_names_every_field() {
        let json = serde_json::to_value([veth()]).unwrap();
        let nic = &json[0];
        for field in [
            "name",
            "index",
            "mac",
            "up",
            "running",
            "loopback",
            "mtu",
            "addresses",
        ] {
            assert!(nic.get(field).is_some(), "{field} in {nic}");
        }
        assert_eq!(nic["addresses"][1]["scope"], "link");
        assert_eq!(nic["addresses"][1]["scope_id"], 7);
        assert_eq!(nic["addresses"][0]["prefix_len"], 24);
        assert!(nic["addresses"][0].get("scope_id").is_none());
    }

    #[test]
    fn an_unknown_name_lists_the_interfaces() {
        let all = [veth()];
        let problem = find(&all, "eth9").unwrap_err();
        assert_eq!(problem.code, Code::Usage);
        assert!(problem.message.contains("\"eth9\""), "{}", problem.message);
        assert!(
            problem.message.ends_with("are veth0"),
            "{}",
            problem.message
        );
        assert!(find(&all, "veth0").is_ok());
    }

    #[test]
    fn this_host_has_a_loopback_interface() {
        let all = snapshot();
        let lo = all
            .iter()
            .find(|i| i.loopback)
            .expect("a loopback interface");
        assert!(lo.addresses.iter().any(|a| a.address.is_loopback()));
    }
}
