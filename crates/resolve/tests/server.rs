//! `DnsServer` against a real DNS server on loopback: dnsmasq serving fixed
//! records (see `util/dnsmasq.rs`), and a socket that never answers.

#[path = "util/dnsmasq.rs"]
mod dnsmasq;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dnsmasq::{BIG_COUNT, Dnsmasq, Silent, big_address};
use resolve::{DnsServer, ErrorKind, Family, Resolver};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn server(dns: &Dnsmasq) -> DnsServer {
    DnsServer::new(dns.addr()).timeout(Duration::from_secs(2))
}

#[test]
fn a_record() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let lookup = server(&dns)
        .lookup_family("www.netlab.test", Family::V4)
        .unwrap();
    assert_eq!(lookup.name, "www.netlab.test");
    assert_eq!(lookup.addresses, [ip("192.0.2.10")]);
    assert_eq!(lookup.canonical_name.as_deref(), Some("www.netlab.test"));
}

#[test]
fn aaaa_record() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let lookup = server(&dns)
        .lookup_family("www.netlab.test", Family::V6)
        .unwrap();
    assert_eq!(lookup.addresses, [ip("2001:db8::10")]);
}

#[test]
fn both_families_a_first() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let lookup = server(&dns).lookup("www.netlab.test").unwrap();
    assert_eq!(lookup.addresses, [ip("192.0.2.10"), ip("2001:db8::10")]);
}

#[test]
fn cname_gives_the_canonical_name() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let lookup = server(&dns).lookup("alias.netlab.test").unwrap();
    assert_eq!(lookup.name, "alias.netlab.test");
    assert_eq!(lookup.canonical_name.as_deref(), Some("www.netlab.test"));
    assert_eq!(lookup.addresses, [ip("192.0.2.10"), ip("2001:db8::10")]);
}

#[test]
fn ptr_records_ipv4_and_ipv6() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let reverse = server(&dns).reverse(ip("192.0.2.10")).unwrap();
    assert_eq!(reverse.address, ip("192.0.2.10"));
    assert_eq!(reverse.names, ["www.netlab.test"]);
    let reverse = server(&dns).reverse(ip("2001:db8::10")).unwrap();
    assert_eq!(reverse.name(), "www.netlab.test");
}

#[test]
fn nxdomain_is_no_such_host() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let err = server(&dns).lookup("missing.netlab.test").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!(
            "resolving missing.netlab.test at {}: no such host",
            dns.addr()
        )
    );
    let err = server(&dns).reverse(ip("192.0.2.99")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!(
            "resolving 192.0.2.99 at {}: no host name for this address",
            dns.addr()
        )
    );
}

#[test]
fn name_without_the_family_is_no_address() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let err = server(&dns)
        .lookup_family("v4only.netlab.test", Family::V6)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().ends_with(": no IPv6 address"), "{err}");
    // With both families, the one it has is enough.
    let lookup = server(&dns).lookup("v6only.netlab.test").unwrap();
    assert_eq!(lookup.addresses, [ip("2001:db8::11")]);
}

#[test]
fn truncated_answer_is_asked_again_over_tcp() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let lookup = server(&dns)
        .lookup_family("big.netlab.test", Family::V4)
        .unwrap();
    assert_eq!(lookup.addresses.len(), usize::from(BIG_COUNT));
    for i in 0..BIG_COUNT {
        assert!(lookup.addresses.contains(&ip(&big_address(i))), "{i}");
    }
}

#[test]
fn names_outside_the_servers_zones_are_refused() {
    // dnsmasq has no upstream, so it refuses rather than forwards.
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let err = server(&dns).lookup("www.other.test").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(err.to_string().contains("REFUSED (rcode 5)"), "{err}");
}

#[test]
fn silent_server_times_out_after_every_try() {
    let silent = Silent::bind();
    let started = Instant::now();
    let err = DnsServer::new(silent.addr())
        .timeout(Duration::from_millis(200))
        .retries(1)
        .lookup_family("www.netlab.test", Family::V4)
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert_eq!(
        err.to_string(),
        format!(
            "resolving www.netlab.test at {}: timed out after 0.4 s (2 tries)",
            silent.addr()
        )
    );
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(silent.received(), 2, "one query and one retry");
}

#[test]
fn closed_port_is_unavailable() {
    // Bind and drop to find a port nobody listens on; the kernel answers
    // with ICMP port unreachable, which a connected UDP socket reports.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = DnsServer::new(([127, 0, 0, 1], port).into())
        .timeout(Duration::from_millis(300))
        .retries(0)
        .lookup("www.netlab.test")
        .unwrap_err();
    // Unavailable (refused) where ICMP reaches the socket, a timeout where
    // it does not.
    assert!(
        matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::TimedOut),
        "{err}"
    );
}

#[test]
fn many_names_through_one_server_keep_their_order() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let resolver = Resolver::Server(server(&dns));
    let args = [
        "www.netlab.test",
        "192.0.2.10",
        "missing.netlab.test",
        "alias.netlab.test",
        "v4only.netlab.test",
    ];
    let mut seen = Vec::new();
    resolver.resolve_all(&args, Family::V4, 3, |i, answer| {
        seen.push((i, answer.map_err(|e| e.kind())))
    });
    let order: Vec<usize> = seen.iter().map(|(i, _)| *i).collect();
    assert_eq!(order, [0, 1, 2, 3, 4]);
    assert!(seen[0].1.is_ok());
    assert!(matches!(seen[1].1, Ok(resolve::Answer::Reverse(_))));
    assert_eq!(seen[2].1, Err(ErrorKind::NotFound));
    assert!(seen[3].1.is_ok());
    assert!(seen[4].1.is_ok());
}
