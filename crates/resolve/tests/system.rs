//! The system resolver on names every machine answers without the outside
//! network: `localhost`, `127.0.0.1`, `::1`, and `*.invalid` (RFC 6761:
//! guaranteed not to exist).

use std::net::{IpAddr, Ipv4Addr};

use resolve::{Answer, ErrorKind, Family, Resolver};

#[test]
fn localhost_first_ipv4_is_the_lectures_answer() {
    let lookup = resolve::lookup_family("localhost", Family::V4).unwrap();
    assert_eq!(lookup.name, "localhost");
    assert_eq!(lookup.first_ipv4(), Some(Ipv4Addr::LOCALHOST));
    assert!(lookup.addresses.iter().all(IpAddr::is_ipv4));
}

#[test]
fn localhost_all_addresses_are_loopback_once_each() {
    let lookup = resolve::lookup("localhost").unwrap();
    assert!(!lookup.addresses.is_empty());
    assert!(lookup.addresses.iter().all(IpAddr::is_loopback));
    let mut unique = lookup.addresses.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), lookup.addresses.len(), "{lookup:?}");
    assert_eq!(lookup.canonical_name.as_deref(), Some("localhost"));
}

#[test]
fn loopback_address_reverses_to_localhost() {
    let reverse = resolve::reverse("127.0.0.1".parse().unwrap()).unwrap();
    assert_eq!(reverse.names, ["localhost"]);
}

/// The name `/etc/hosts` gives `ip`, if any.
fn hosts_file_name(ip: IpAddr) -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|line| {
        let mut fields = line.split('#').next()?.split_whitespace();
        let addr: IpAddr = fields.next()?.parse().ok()?;
        (addr == ip)
            .then(|| fields.next().map(str::to_owned))
            .flatten()
    })
}

/// `::1` has a name only where `/etc/hosts` gives it one (Debian's default
/// file does, a container's often does not). Where it does not, glibc would
/// go on to ask the configured name server, which is off this machine: the
/// network rule forbids that here, and the CLI test covers the not-found
/// answer inside a private network namespace instead.
#[test]
fn ipv6_loopback_reverse_agrees_with_the_hosts_file() {
    let ip: IpAddr = "::1".parse().unwrap();
    match hosts_file_name(ip) {
        Some(name) => assert_eq!(resolve::reverse(ip).unwrap().name(), name),
        None => eprintln!("note: /etc/hosts does not name ::1; reverse lookup not run in-process"),
    }
}

#[test]
fn invalid_names_do_not_exist() {
    for name in ["nonexistent.invalid", "no-such-host.invalid"] {
        let err = resolve::lookup(name).unwrap_err();
        // A machine whose resolver cannot be reached says "try again"
        // instead of "no such host".
        assert!(
            matches!(err.kind(), ErrorKind::NotFound | ErrorKind::Temporary),
            "{err}"
        );
        assert!(
            err.to_string().starts_with(&format!("resolving {name}: ")),
            "{err}"
        );
        assert_eq!(err.query(), name);
    }
}

#[test]
fn resolve_tells_names_from_addresses() {
    let resolver = Resolver::System;
    match resolver.resolve("127.0.0.1", Family::Any).unwrap() {
        Answer::Reverse(reverse) => assert_eq!(reverse.name(), "localhost"),
        other => panic!("{other:?}"),
    }
    match resolver.resolve("localhost", Family::V4).unwrap() {
        Answer::Forward(lookup) => assert_eq!(lookup.addresses[0].to_string(), "127.0.0.1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn many_names_come_back_in_argument_order() {
    let args: Vec<String> = (0..20)
        .map(|i| match i % 3 {
            0 => "localhost".to_owned(),
            1 => "127.0.0.1".to_owned(),
            _ => format!("n{i}.invalid"),
        })
        .collect();
    let mut seen = Vec::new();
    Resolver::System.resolve_all(&args, Family::V4, 4, |i, answer| seen.push((i, answer)));
    assert_eq!(seen.len(), args.len());
    for (n, (i, answer)) in seen.iter().enumerate() {
        assert_eq!(*i, n);
        match n % 3 {
            0 => assert!(matches!(answer, Ok(Answer::Forward(_)))),
            1 => assert!(matches!(answer, Ok(Answer::Reverse(_)))),
            _ => assert!(answer.is_err()),
        }
    }
}

/// Needs the outside network: `cargo test -- --ignored`.
#[test]
#[ignore = "needs the outside network"]
fn cs_princeton_edu() {
    let lookup = resolve::lookup_family("cs.princeton.edu", Family::V4).unwrap();
    assert!(lookup.first_ipv4().is_some());
}
