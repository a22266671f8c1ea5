//! The DNS answer path: `resolve::DnsServer` asks our responder, which
//! answers with the fuzzed bytes (the query's id copied in), over UDP and,
//! when those bytes set the TC bit, again over TCP. hickory-proto reads
//! the message; `resolve` decides what it means.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use resolve::{DnsServer, ErrorKind, Family};

use super::responder::{Style, with_reply};

/// The name every forward question asks for; the seeds' questions name it.
pub const NAME: &str = "fuzz.netlab.test";

/// First byte: which question (A, AAAA, both, or PTR for 127.0.0.1); the
/// rest: the reply.
pub fn dns_answer(data: &[u8]) {
    let Some((&which, reply)) = data.split_first() else {
        return;
    };
    with_reply(Style::Dns, reply, |addr| {
        // Our responder answers at once or never (a reply too large for a
        // datagram): a short wait is enough.
        let server = DnsServer::new(addr)
            .timeout(Duration::from_millis(200))
            .retries(0);
        match which % 4 {
            0 => forward(&server, Family::V4),
            1 => forward(&server, Family::V6),
            2 => forward(&server, Family::Any),
            _ => {
                let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
                match server.reverse(ip) {
                    Ok(reverse) => {
                        assert_eq!(reverse.address, ip);
                        assert!(!reverse.names.is_empty());
                        let _ = reverse.name();
                    }
                    Err(e) => described(&e),
                }
            }
        }
    });
}

fn forward(server: &DnsServer, family: Family) {
    match server.lookup_family(NAME, family) {
        Ok(lookup) => {
            assert_eq!(lookup.name, NAME);
            assert!(!lookup.addresses.is_empty());
            assert!(lookup.addresses.iter().all(|ip| family.contains(ip)));
            let mut seen = lookup.addresses.clone();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), lookup.addresses.len(), "duplicates");
        }
        Err(e) => described(&e),
    }
}

/// Every failure has a kind and a message that names the query.
fn described(e: &resolve::Error) {
    let _: ErrorKind = e.kind();
    let text = e.to_string();
    assert!(text.contains(NAME) || text.contains("127.0.0.1"), "{text}");
}
