//! resolve's errors printed as a chain (anyhow's `{:#}`): each cause once,
//! for an unknown name, a DNS server that refuses, and one that is silent.
//! Loopback only; `.invalid` names fail without a query.

#[path = "util/dnsmasq.rs"]
mod dnsmasq;

use std::time::Duration;

use dnsmasq::Silent;
use resolve::{DnsServer, ErrorKind, Family};

fn chain(err: resolve::Error) -> String {
    format!("{:#}", anyhow::Error::from(err))
}

#[test]
fn an_unknown_name_says_no_such_host_once() {
    let err = resolve::lookup("nonexistent.invalid").unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");
    let err = resolve::lookup("::1%no-such-if").unwrap_err();
    assert_eq!(
        chain(err),
        "resolving ::1%no-such-if: no network interface \"no-such-if\" with IPv6"
    );
}

#[test]
fn a_refusing_server_says_refused_once() {
    // Bind and drop to find a UDP port nobody listens on: the kernel
    // answers with ICMP port unreachable, which a connected socket reports.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = DnsServer::new(([127, 0, 0, 1], port).into())
        .timeout(Duration::from_millis(500))
        .retries(0)
        .lookup_family("www.netlab.test", Family::V4)
        .unwrap_err();
    let kind = err.kind();
    let text = chain(err);
    let server = format!("127.0.0.1:{port}");
    if kind == ErrorKind::Unavailable {
        assert!(
            text.starts_with(&format!(
                "resolving www.netlab.test at {server}: connecting to {server}: "
            )),
            "{text}"
        );
        assert_eq!(text.matches("onnection refused").count(), 1, "{text}");
    } else {
        // Someone took the port in between and kept quiet.
        assert_eq!(kind, ErrorKind::TimedOut, "{text}");
    }
}

#[test]
fn a_silent_server_times_out_once() {
    let silent = Silent::bind();
    let err = DnsServer::new(silent.addr())
        .timeout(Duration::from_millis(100))
        .retries(0)
        .lookup_family("www.netlab.test", Family::V4)
        .unwrap_err();
    assert_eq!(
        chain(err),
        format!(
            "resolving www.netlab.test at {}: timed out after 0.1 s (1 try)",
            silent.addr()
        )
    );
}
