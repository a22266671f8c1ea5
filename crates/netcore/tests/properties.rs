//! Address parsing never panics, and IP literals come back as themselves.
//!
//! No property here may send a DNS query: every host given to
//! `getaddrinfo` is an IP literal (bracketed, scoped or not), or text the
//! resolver refuses before asking anyone (blanks, control characters),
//! or a name under `.invalid` (RFC 6761), which fails at once. Near-miss
//! literals (`1.2.3.256`, `[::1`) that could be host names get the
//! `.invalid` suffix: see [`without_a_query`].

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};

use netcore::{Family, LookupErrorKind};
use proptest::prelude::*;

/// `host` as given when `getaddrinfo` answers it without a query, else
/// under `.invalid`. Conservative: the literal and scope forms are what
/// getaddrinfo.rs reads itself; whitespace and control characters are
/// refused by its name check.
fn without_a_query(host: &str) -> String {
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

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u16; 8]>().prop_map(IpAddr::from),
        // The short forms people type.
        Just("::1".parse().unwrap()),
        Just("fe80::1".parse().unwrap()),
        any::<[u8; 4]>().prop_map(|v4| IpAddr::V6(std::net::Ipv4Addr::from(v4).to_ipv6_mapped())),
    ]
}

/// Text close to an address: its characters, brackets, a scope.
const ADDRESSISH: &str = "\\[?[0-9a-fA-F:.]{0,45}(%[0-9a-z]{0,12})?\\]?|[0-9.]{0,20}|\\PC{0,20}";

proptest! {
    #[test]
    fn ip_literals_come_back_as_themselves(ip in ip(), port in any::<u16>(), brackets in any::<bool>()) {
        let host = if brackets { format!("[{ip}]") } else { ip.to_string() };
        let found = netcore::getaddrinfo(&host, port, Family::Any).expect("a literal");
        prop_assert_eq!(found.addresses, vec![SocketAddr::new(ip, port)]);
        prop_assert_eq!(found.canonical_name, Some(ip.to_string()));
        let other = if ip.is_ipv4() { Family::V6 } else { Family::V4 };
        let err = netcore::getaddrinfo(&host, port, other).unwrap_err();
        prop_assert_eq!(err.kind(), LookupErrorKind::NoAddress);
        prop_assert_eq!(netcore::resolve(&host, port).ok(), Some(vec![SocketAddr::new(ip, port)]));
    }

    #[test]
    fn numeric_scopes_are_read_without_the_system(
        ip in any::<[u16; 8]>().prop_map(Ipv6Addr::from),
        scope in any::<u64>(),
        port in any::<u16>(),
    ) {
        let host = format!("{ip}%{scope}");
        let found = netcore::getaddrinfo(&host, port, Family::Any);
        match u32::try_from(scope) {
            Ok(id) => {
                let expected = SocketAddr::V6(SocketAddrV6::new(ip, port, 0, id));
                prop_assert_eq!(found.map(|f| f.addresses).ok(), Some(vec![expected]));
            }
            Err(_) => prop_assert_eq!(found.unwrap_err().kind(), LookupErrorKind::InvalidName),
        }
    }

    #[test]
    fn no_text_makes_the_resolver_panic(text in ADDRESSISH, port in any::<u16>()) {
        let host = without_a_query(&text);
        for family in [Family::Any, Family::V4, Family::V6] {
            if let Ok(found) = netcore::getaddrinfo(&host, port, family) {
                prop_assert!(!found.addresses.is_empty());
                prop_assert!(found.addresses.iter().all(|a| a.port() == port && family.contains(&a.ip())));
            }
        }
        let _ = netcore::resolve(&host, port).map_err(|e| e.to_string());
    }
}

#[test]
fn near_misses_are_kept_away_from_the_resolver() {
    for (given, sent) in [
        ("::1", "::1"),
        ("[::1]", "[::1]"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("1.2.3.256", "1.2.3.256.invalid"),
        ("[::1", "[::1.invalid"),
        ("example.com", "example.com.invalid"),
        ("a b", "a b"),
        ("", ""),
    ] {
        assert_eq!(without_a_query(given), sent, "{given:?}");
    }
}
