//! Hardening addresses and `netlab connect` (the "Hardening" issue,
//! continued from `hardening.rs`): IPv6 scope ids, hostile servers. Each
//! test failed before its fix, except where its comment says what it
//! guards. Traffic stays on 127.0.0.1, ::1, or a network namespace of the
//! test's own.

mod util;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};

use util::*;

/// `netlab connect echo HOST PORT` with `input`, to the end.
fn echo_through(host: &str, port: u16, input: &[u8]) -> std::process::Output {
    netlab_cmd()
        .args(["connect", "echo", host, &port.to_string()])
        .write_stdin(input)
        .output()
        .unwrap()
}

/// `ADDR%SCOPE` with an interface name or index works for any IPv6
/// address, in `serve --host` and in `connect`. Before, `::1%lo` went to
/// getaddrinfo(3), which takes a scope only on link-local addresses:
/// "no such host", 68.
#[test]
fn ipv6_scope_ids_work_on_loopback() {
    for host in ["::1%lo", "::1%1"] {
        let server = serve(&["echo", "--host", host]);
        for client_host in ["::1%lo", "[::1%1]"] {
            let out = echo_through(client_host, server.port, b"scoped\n");
            assert_clean_exit(&out);
            assert_eq!(out.stdout, b"scoped\n", "{host} <- {client_host}");
        }
    }
    let out = echo_through("::1%no-such-if", 7, b"");
    assert_error(&out, 68);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no network interface \"no-such-if\""),
        "{stderr}"
    );
}

/// A link-local address with its interface, in a network namespace the
/// test makes (an interface with fe80::1; nothing leaves it). The
/// name is looked up in the caller's own namespace: sysfs, mounted for
/// the machine's namespace, does not know this interface. glibc handled
/// link-local names before too; this guards the lookup that replaced it.
#[test]
fn a_link_local_address_with_its_interface_in_a_namespace() {
    let (Some(unshare), Some(nsenter), Some(_)) = (
        require_tool("unshare", "util-linux"),
        require_tool("nsenter", "util-linux"),
        require_tool("ip", "iproute2"),
    ) else {
        return;
    };
    if !require_root("a network namespace of its own, unshare --net") {
        return;
    }
    // A veth pair with both ends inside: the `dummy` module is not on
    // every kernel (not on this project's machines), veth is.
    let setup = "ip link set lo up && ip link add nl-link0 type veth peer name nl-peer0 && \
                 ip link set nl-peer0 up && ip link set nl-link0 up && \
                 ip addr add fe80::1/64 dev nl-link0 nodad && \
                 exec \"$0\" serve echo --host fe80::1%nl-link0 --port 0";
    let mut cmd = Command::new(&unshare);
    // No --fork: sh, then netlab, take unshare's pid, the namespace's.
    cmd.args([
        "--net",
        "--",
        "sh",
        "-c",
        setup,
        env!("CARGO_BIN_EXE_netlab"),
    ]);
    let NetlabServer { proc: server, port } = spawn_server(cmd);
    let port = port.to_string();
    server.stdout.wait_line("Listening");
    let netns = format!("--net=/proc/{}/ns/net", server.pid());
    let in_namespace = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::new(&nsenter);
        cmd.arg(&netns).arg("--").args(args).timeout(DEADLINE);
        cmd
    };
    let link = in_namespace(&["ip", "-o", "link", "show", "nl-link0"])
        .output()
        .unwrap();
    let index = String::from_utf8_lossy(&link.stdout)
        .split(':')
        .next()
        .unwrap()
        .trim()
        .to_owned();
    for host in ["fe80::1%nl-link0".to_owned(), format!("fe80::1%{index}")] {
        let netlab = env!("CARGO_BIN_EXE_netlab");
        let out = in_namespace(&[netlab, "connect", "echo", &host, &port])
            .write_stdin("link-local\n")
            .output()
            .unwrap();
        assert_clean_exit(&out);
        assert_eq!(out.stdout, b"link-local\n", "{host}");
    }
    let lines = server.stdout.all();
    let local = format!("Server IP addr and port: ('fe80::1', {port}, 0, {index})");
    assert!(lines.contains(&local), "{local:?} not in {lines:?}");
}

/// A server on 127.0.0.1 that sends `reply` to each of `clients`
/// connections, then closes it.
fn hostile_server(reply: &'static [u8], clients: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for _ in 0..clients {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let _ = conn.write_all(reply);
        }
    });
    port
}

/// Printing to a terminal, `connect` escapes the control characters a
/// server sends (clear screen, set title, bell), keeping text, tabs and
/// line endings; to a pipe the bytes stay exact. Before, they reached the
/// terminal raw. The terminal is a pty from `script`.
#[test]
fn connect_escapes_control_characters_for_a_terminal_only() {
    let Some(script) = require_tool("script", "bsdutils") else {
        return;
    };
    const HOSTILE: &[u8] = b"\x1b[2J\x1b]0;owned\x07time:\tnow\r\n";
    let port = hostile_server(HOSTILE, 2);
    let command = format!(
        "'{}' connect daytime 127.0.0.1 {port}",
        env!("CARGO_BIN_EXE_netlab")
    );
    let mut cmd = Command::new(script);
    cmd.args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null());
    let out = output_within_deadline(cmd);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{:?}: {shown:?}", out.status);
    assert!(
        !out.stdout.contains(&0x1b),
        "raw escape on the terminal: {shown:?}"
    );
    assert!(
        !out.stdout.contains(&0x07),
        "raw bell on the terminal: {shown:?}"
    );
    // The terminal turns each `\n` into `\r\n` (onlcr) on its own.
    assert!(
        shown.starts_with("\\x1b[2J\\x1b]0;owned\\x07time:\tnow\r\r\n"),
        "{shown:?}"
    );

    let piped = netlab_cmd()
        .args(["connect", "daytime", "127.0.0.1", &port.to_string()])
        .output()
        .unwrap();
    assert_clean_exit(&piped);
    assert_eq!(piped.stdout, HOSTILE);
}

/// `--max-bytes N` bounds what the client takes: past N it stops reading,
/// having printed the first N bytes, and exits 74 with one line.
#[test]
fn connect_stops_reading_past_max_bytes() {
    static FLOOD: [u8; 10_000] = [b'a'; 10_000];
    let port = hostile_server(&FLOOD, 2);
    let out = netlab_cmd()
        .args(["connect", "daytime", "127.0.0.1", &port.to_string()])
        .args(["--max-bytes", "100"])
        .output()
        .unwrap();
    assert_error(&out, 74);
    assert_eq!(out.stdout, &FLOOD[..100]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("more than 100 bytes (--max-bytes)"),
        "{stderr}"
    );
    let enough = netlab_cmd()
        .args(["connect", "daytime", "127.0.0.1", &port.to_string()])
        .args(["--max-bytes", "10K"])
        .output()
        .unwrap();
    assert_clean_exit(&enough);
    assert_eq!(enough.stdout, FLOOD);

    let server = serve(&["echo", "--host", "127.0.0.1"]);
    let out = netlab_cmd()
        .args(["connect", "echo", "127.0.0.1", &server.port.to_string()])
        .args(["--max-bytes", "10"])
        .write_stdin(vec![b'e'; 1000])
        .output()
        .unwrap();
    assert_error(&out, 74);
    assert_eq!(out.stdout, [b'e'; 10]);
}

/// `connect echo --udp` never takes a stale or duplicate datagram for a
/// later line's echo: against a server that answers every datagram twice,
/// each line is printed once, in order (it used to print the duplicate of
/// line one as the answer to line two).
#[test]
fn connect_echo_udp_skips_replies_that_are_not_the_line() {
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    server
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let echo_twice = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        for _ in 0..3 {
            let Ok((n, from)) = server.recv_from(&mut buf) else {
                return;
            };
            for _ in 0..2 {
                let _ = server.send_to(&buf[..n], from);
            }
        }
    });
    let out = netlab_cmd()
        .args(["connect", "echo", "--udp", "127.0.0.1", &port.to_string()])
        .write_stdin("one\ntwo\nthree\n")
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "one\ntwo\nthree\n");
    echo_twice.join().unwrap();
}
