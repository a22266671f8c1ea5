//! Errors printed once, and one resolver: every failure is one line that
//! says what was being done, then each cause once (no `(os error N)`);
//! `connect`, `serve --host` and `resolve` give the same verdict, in the
//! same words, on the same name, because all three ask netcore's one
//! `getaddrinfo`.
//!
//! Nothing leaves the machine: names are literals, `.invalid` (refused
//! without a query), malformed, or in `/etc/hosts` with a loopback
//! address; connections go to loopback ports that refuse.

mod util;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::process::{Command, Output};

use socket2::{Domain, SockAddr, Socket, Type};
use util::*;

/// A port that refuses TCP connections on 127.0.0.1 and, where IPv6 works,
/// on ::1, for as long as the sockets live: bound (nobody else can listen
/// there) but not listening.
struct Refusing {
    port: u16,
    _sockets: Vec<Socket>,
}

fn refusing() -> Refusing {
    let bind = |addr: SocketAddr| {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).ok()?;
        socket.bind(&SockAddr::from(addr)).ok()?;
        Some(socket)
    };
    for _ in 0..20 {
        let v4 = bind((Ipv4Addr::LOCALHOST, 0).into()).unwrap();
        let port = v4.local_addr().unwrap().as_socket().unwrap().port();
        // Where ::1 cannot be bound at all, nothing can listen there either.
        let v6_works = bind((Ipv6Addr::LOCALHOST, 0).into()).is_some();
        match bind((Ipv6Addr::LOCALHOST, port).into()) {
            Some(v6) => {
                return Refusing {
                    port,
                    _sockets: vec![v4, v6],
                };
            }
            None if !v6_works => {
                return Refusing {
                    port,
                    _sockets: vec![v4],
                };
            }
            None => continue,
        }
    }
    panic!("no port free on both 127.0.0.1 and ::1 in 20 tries");
}

fn run(args: &[&str]) -> Output {
    netlab_cmd().args(args).write_stdin("").output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_refused_connect_says_refused_once() {
    let refusing = refusing();
    let port = refusing.port.to_string();
    for protocol in ["echo", "daytime"] {
        let out = run(&["connect", protocol, "127.0.0.1", &port]);
        assert_error(&out, 69);
        assert_eq!(
            stderr(&out),
            format!(
                "netlab: connecting to 127.0.0.1:{port}: connection refused \
                 (nothing listens on 127.0.0.1 port {port}; is the server running?)\n"
            )
        );
    }
    // The load generator says it the same way: the cause once, in words.
    let out = run(&["bench", "echo", "127.0.0.1", &port, "-d", "0.2"]);
    assert_error(&out, 69);
    assert_eq!(
        stderr(&out),
        format!(
            "netlab: connecting to 127.0.0.1:{port}: connection refused \
             (is the server running on that port?)\n"
        )
    );
}

#[test]
fn an_unknown_host_says_no_such_host_once_everywhere() {
    let resolve = run(&["resolve", "nonexistent.invalid"]);
    assert_error(&resolve, 68);
    assert_eq!(
        stderr(&resolve),
        "netlab: resolving nonexistent.invalid: no such host\n"
    );
    for args in [
        &["connect", "echo", "nonexistent.invalid", "7"][..],
        &["connect", "daytime", "--udp", "nonexistent.invalid", "13"],
        &[
            "serve",
            "echo",
            "--host",
            "nonexistent.invalid",
            "--port",
            "0",
        ],
    ] {
        let out = run(args);
        assert_error(&out, 68);
        let line = stderr(&out);
        assert!(
            line.starts_with("netlab: resolving nonexistent.invalid: no such host ("),
            "{args:?}: {line}"
        );
        assert_eq!(line.matches("no such host").count(), 1, "{line}");
    }
}

#[test]
fn timeouts_say_what_waited_and_how_long_once() {
    // The backlog completes the handshake; nobody ever sends a byte.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let port = addr.port().to_string();
    let out = run(&["connect", "daytime", "127.0.0.1", &port, "--timeout", "0.3"]);
    assert_error(&out, 75);
    let line = stderr(&out);
    assert!(
        line.starts_with(&format!(
            "netlab: reading from {addr}: timed out after 0.3 s ("
        )),
        "{line}"
    );
    assert_eq!(line.matches("timed out").count(), 1, "{line}");

    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();
    let out = run(&[
        "resolve",
        "--server",
        &server,
        "--timeout",
        "0.2",
        "--retries",
        "0",
        "www.netlab.test",
    ]);
    assert_error(&out, 75);
    let line = stderr(&out);
    assert!(
        line.starts_with(&format!(
            "netlab: resolving www.netlab.test at {server}: timed out after 0.2 s (1 try)"
        )),
        "{line}"
    );
    assert_eq!(line.matches("timed out").count(), 1, "{line}");
}

#[test]
fn a_refusing_dns_server_says_refused_once() {
    // Bind and drop: a UDP port nobody listens on answers with ICMP port
    // unreachable, which the connected socket reports as refused.
    let server = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let out = run(&[
        "resolve",
        "--server",
        &server,
        "--retries",
        "0",
        "www.netlab.test",
    ]);
    let line = stderr(&out);
    if out.status.code() == Some(75) {
        // Someone took the port in between and kept quiet.
        assert!(line.contains("timed out"), "{line}");
        return;
    }
    assert_error(&out, 69);
    assert!(
        line.starts_with(&format!(
            "netlab: resolving www.netlab.test at {server}: connecting to {server}: connection refused ("
        )),
        "{line}"
    );
    assert_eq!(line.matches("refused").count(), 1, "{line}");
}

/// Names `/etc/hosts` gives the addresses `which` picks (read from the
/// file: `getent` would ask the name server where the file is silent).
fn names_in_hosts_file(which: impl Fn(IpAddr) -> bool) -> Vec<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut names = Vec::new();
    for line in hosts.lines() {
        let mut fields = line.split('#').next().unwrap_or("").split_whitespace();
        let Some(Ok(ip)) = fields.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        if which(ip) {
            names.extend(fields.map(str::to_owned));
        }
    }
    names
}

#[test]
fn connect_serve_and_resolve_agree_on_names_that_resolve() {
    let refusing = refusing();
    let port = refusing.port.to_string();
    let mut names: Vec<String> = ["localhost", "LOCALHOST", "127.1", "::1%lo", "[::1%1]"]
        .map(str::to_owned)
        .to_vec();
    // Connecting to them stays on this machine.
    names.extend(names_in_hosts_file(|ip| ip.is_loopback()));
    for name in &names {
        if name.contains('%') && !std::path::Path::new("/proc/self/net/if_inet6").exists() {
            continue; // no IPv6 here
        }
        let resolve = run(&["resolve", "--all", name]);
        assert_eq!(resolve.status.code(), Some(0), "{name}: {resolve:?}");
        assert!(
            String::from_utf8_lossy(&resolve.stdout).contains("IP address: "),
            "{name}: {resolve:?}"
        );
        // Resolved: the failure is the refused connection, not the name.
        let connect = run(&["connect", "echo", name, &port]);
        assert_error(&connect, 69);
        assert!(
            stderr(&connect).starts_with("netlab: connecting to "),
            "{name}: {connect:?}"
        );
    }
}

#[test]
fn connect_serve_and_resolve_agree_on_names_that_do_not() {
    for name in [
        "nonexistent.invalid",
        "NONEXISTENT.Invalid.",
        "invalid",
        "::1%",
        "::1%no-such-if",
        "fe80::1%99999999999",
        "two words",
        " localhost",
    ] {
        let resolve = run(&["resolve", "--all", name]);
        let code = resolve.status.code().unwrap();
        assert_ne!(code, 0, "{name:?}: {resolve:?}");
        assert_error(&resolve, code);
        // Without resolve's own newline: the others add a hint.
        let verdict = stderr(&resolve).trim_end().to_owned();
        for args in [
            &["connect", "echo", name, "7"][..],
            &["serve", "echo", "--host", name, "--port", "0"],
        ] {
            let out = run(args);
            assert_error(&out, code);
            let line = stderr(&out);
            assert!(
                line.starts_with(&format!("{verdict} (")),
                "{args:?}: {line} vs {verdict}"
            );
        }
    }
    // An empty name is a usage error for all three; connect and serve
    // refuse it among their arguments.
    for args in [
        &["resolve", ""][..],
        &["connect", "echo", "", "7"],
        &["serve", "echo", "--host", "", "--port", "0"],
    ] {
        let out = run(args);
        assert_error(&out, 64);
        assert!(stderr(&out).contains("empty"), "{args:?}: {out:?}");
    }
}

/// `netlab ARGS` in a new, empty network namespace, where a query the
/// system resolver sends cannot leave; `None` where that is not allowed.
fn in_private_network(args: &[&str]) -> Option<Output> {
    for flags in [&["-n"][..], &["-r", "-n"][..]] {
        let probe = Command::new("unshare").args(flags).arg("true").output();
        if probe.is_ok_and(|o| o.status.success()) {
            let mut cmd = Command::new("unshare");
            cmd.args(flags).arg(env!("CARGO_BIN_EXE_netlab")).args(args);
            return Some(output_within_deadline(cmd));
        }
    }
    None
}

/// An IP literal needs no lookup: `connect` goes straight to it, and
/// `resolve` takes it as an address to look up in reverse, so its only
/// possible failure is about the address's name, never the address.
#[test]
fn connect_and_resolve_take_ip_literals_as_addresses() {
    let refusing = refusing();
    let port = refusing.port.to_string();
    let ipv6 = refusing._sockets.len() == 2;
    for literal in ["127.0.0.1", "::1", "[::1]"] {
        if literal.contains(':') && !ipv6 {
            continue;
        }
        let connect = run(&["connect", "echo", literal, &port]);
        assert_error(&connect, 69);
        assert!(
            stderr(&connect).starts_with("netlab: connecting to "),
            "{connect:?}"
        );
        // Where /etc/hosts does not name the address (::1 in many
        // containers), glibc asks the name server: only where it cannot
        // leave.
        let bare = literal.trim_matches(|c| c == '[' || c == ']');
        let ip: IpAddr = bare.parse().unwrap();
        let named = !names_in_hosts_file(|named| named == ip).is_empty();
        let resolve = if named {
            Some(run(&["resolve", literal]))
        } else {
            in_private_network(&["resolve", literal])
        };
        let Some(resolve) = resolve else {
            eprintln!("note: no network namespace; reverse {literal} not run");
            continue;
        };
        match resolve.status.code() {
            Some(0) => assert!(
                String::from_utf8_lossy(&resolve.stdout)
                    .starts_with(&format!("IP address: {bare}\n")),
                "{resolve:?}"
            ),
            Some(code) => {
                assert!(matches!(code, 68 | 75), "{resolve:?}");
                assert!(
                    stderr(&resolve).starts_with(&format!("netlab: resolving {bare}: ")),
                    "{resolve:?}"
                );
                assert!(!stderr(&resolve).contains("not a valid"), "{resolve:?}");
            }
            None => panic!("{resolve:?}"),
        }
    }
}
