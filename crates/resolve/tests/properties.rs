//! The parsers of `netlab resolve`'s arguments and `--server` never panic,
//! and read back what they print. Nothing here asks a DNS server.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;
use resolve::{DnsServer, Query};

/// Text close to `ADDR`, `ADDR:PORT`, `[V6ADDR]:PORT`.
const SERVERISH: &str = "\\[?[0-9a-fA-F:.%a-z]{0,45}\\]?(:[0-9]{0,7})?|\\PC{0,20}";

proptest! {
    #[test]
    fn no_text_makes_a_parser_panic(text in SERVERISH) {
        match text.parse::<DnsServer>() {
            Ok(server) => prop_assert_ne!(server.addr().port(), 0),
            Err(e) => prop_assert!(e.to_string().starts_with("DNS server ")),
        }
        match Query::parse(&text) {
            Query::Address(ip) => prop_assert!(text.contains(&ip.to_string()) || text.contains(':')),
            Query::Name(name) => prop_assert_eq!(name, text),
        }
    }

    #[test]
    fn servers_read_back_what_they_print(ip in any::<IpAddr>(), port in 1u16..) {
        let addr = SocketAddr::new(ip, port);
        let server: DnsServer = addr.to_string().parse().expect("a printed address");
        prop_assert_eq!(server.addr(), addr);
        prop_assert_eq!(server.to_string().parse::<DnsServer>().map(|s| s.addr()).ok(), Some(addr));
        // An address alone is port 53.
        let bare: DnsServer = ip.to_string().parse().expect("an address");
        prop_assert_eq!(bare.addr(), SocketAddr::new(ip, 53));
        prop_assert_eq!(Query::parse(&ip.to_string()), Query::Address(ip));
    }
}
