//! The address parsers: the CLI's value parsers (its `args.rs`, compiled
//! in here as it is, since the CLI is a binary), `resolve`'s argument and
//! `--server` parsers, and netcore's `getaddrinfo` on literals, scopes
//! (`fe80::1%eth0`) and everything it refuses before asking anyone.

use std::net::{IpAddr, Ipv6Addr};

use netcore::Family;

#[allow(dead_code)]
#[path = "../../crates/cli/src/args.rs"]
mod args;

/// The whole input is the text typed (not UTF-8: nothing to parse).
pub fn address(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    cli_parsers(text);
    match resolve::Query::parse(text) {
        resolve::Query::Address(ip) => {
            let bare = text
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap_or(text);
            assert_eq!(bare.parse::<IpAddr>().ok(), Some(ip), "{text:?}");
        }
        resolve::Query::Name(name) => assert_eq!(name, text),
    }
    if let Ok(server) = text.parse::<resolve::DnsServer>() {
        assert_ne!(server.addr().port(), 0, "{text:?}");
    }
    let port = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let host = without_a_query(text);
    for family in [Family::Any, Family::V4, Family::V6] {
        if let Ok(found) = netcore::getaddrinfo(&host, port, family) {
            assert!(!found.addresses.is_empty(), "{host:?}");
            for addr in &found.addresses {
                assert_eq!(addr.port(), port, "{host:?}");
                assert!(family.contains(&addr.ip()), "{host:?} {family:?}");
            }
        }
    }
    let _ = netcore::resolve(&host, port).map_err(|e| e.to_string());
}

/// Each of the CLI's parsers: a value in its range, or a message.
fn cli_parsers(text: &str) {
    if let Ok(d) = args::seconds(text) {
        assert!(d.as_secs() <= 366 * 24 * 3600, "{text:?}");
    }
    let _ = args::port(text);
    if let Ok(p) = args::server_port(text) {
        assert_ne!(p, 0);
    }
    if let Ok(h) = args::host(text) {
        assert!(!h.trim().is_empty());
    }
    if let Ok(n) = args::bytes(text) {
        assert!(n >= 1);
    }
    if let Ok(n) = args::between(1u64, 1024)(text) {
        assert!((1..=1024).contains(&n));
    }
    if let Ok(n) = args::at_least(1usize)(text) {
        assert!(n >= 1);
    }
}

/// `host` when `getaddrinfo` answers it without a query, else `host`
/// under `.invalid` (RFC 6761: fails at once). Conservative: IP literals
/// and `ADDR%SCOPE` are read by netcore itself, and blank or control
/// characters are refused by its name check; anything else could be a
/// name for the system to look up.
pub fn without_a_query(host: &str) -> String {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let literal = bare.parse::<IpAddr>().is_ok();
    let scoped = bare
        .split_once('%')
        .is_some_and(|(addr, _)| addr.parse::<Ipv6Addr>().is_ok());
    let refused = bare.is_empty() || bare.chars().any(|c| c.is_whitespace() || c.is_control());
    if literal || scoped || refused {
        host.to_owned()
    } else {
        format!("{host}.invalid")
    }
}
