//! `netlab serve|connect chargen` and `discard` over TCP and UDP: the
//! stream verified, `| head -c 7400` ending quietly while the server goes
//! on serving, `--max-bytes` cutting the endless stream, a megabyte sent
//! to discard, and the server logs staying bounded.

mod util;

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use util::*;

/// A child killed and reaped when dropped, even when the test fails.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads `len` bytes of the stream from a fresh connection and checks them.
fn read_verified(port: u16, len: usize) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).unwrap();
    chargen::verify(0, &buf).unwrap();
}

#[test]
fn connect_chargen_into_head_ends_quietly_and_the_server_goes_on() {
    let server = serve(&["chargen", "--host", "127.0.0.1"]);
    let port = server.port.to_string();
    for _ in 0..2 {
        // `netlab connect chargen ... | head -c 7400`: a real pipe whose
        // reader goes away after 7400 bytes.
        let mut child = Reaped(
            netlab()
                .args(["connect", "chargen", "127.0.0.1", &port])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut stdout = child.0.stdout.take().unwrap();
        let mut head = vec![0u8; 7400];
        stdout.read_exact(&mut head).unwrap();
        drop(stdout);
        chargen::verify(0, &head).unwrap();
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the client did not end");
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut stderr = String::new();
        child
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(0), "stderr: {stderr:?}");
        assert_eq!(stderr, "");
    }
    // The server took the resets as ends, not errors, and serves on.
    read_verified(server.port, 1 << 20);
    server.proc.stdout.wait_for("two resets", |l| {
        l.iter()
            .filter(|x| x.starts_with("Closed socket: "))
            .count()
            >= 2
    });
    assert_eq!(server.proc.stderr.bytes(), b"");
    let lines = server.proc.stdout.all();
    assert!(
        !lines.iter().any(|l| l.starts_with("Wrote to client")),
        "no data lines for the stream: {lines:#?}"
    );
}

#[test]
fn connect_chargen_over_tcp_with_max_bytes_and_over_udp() {
    let server = serve(&["chargen", "--host", "127.0.0.1"]);
    let port = server.port.to_string();
    let out = netlab_cmd()
        .args([
            "connect",
            "chargen",
            "127.0.0.1",
            &port,
            "--max-bytes",
            "10K",
        ])
        .output()
        .unwrap();
    assert_error(&out, 74);
    assert_eq!(out.stdout.len(), 10 * 1024);
    chargen::verify(0, &out.stdout).unwrap();

    let server = serve(&["chargen", "--host", "127.0.0.1", "--udp"]);
    let port = server.port.to_string();
    for n in 0..2 {
        let out = netlab_cmd()
            .args(["connect", "chargen", "127.0.0.1", &port, "--udp"])
            .output()
            .unwrap();
        assert_clean_exit(&out);
        assert_eq!(out.stdout, chargen::line(n));
    }
    let lines = server.proc.stdout.wait_for("two replies", |l| {
        l.iter()
            .filter(|x| x.starts_with("Wrote to client: "))
            .count()
            >= 2
    });
    assert!(
        lines.contains(&"Received datagram".to_owned()),
        "{lines:#?}"
    );
}

#[test]
fn connect_discard_sends_a_mebibyte_and_exits_0() {
    let server = serve(&["discard", "--host", "127.0.0.1"]);
    let port = server.port.to_string();
    let data = random_bytes(1 << 20, 7);
    let out = netlab_cmd()
        .args(["connect", "discard", "127.0.0.1", &port])
        .write_stdin(data)
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_eq!(out.stdout, b"");
    let out = netlab_cmd()
        .args(["connect", "discard", "127.0.0.1", &port])
        .write_stdin("Hello, COS 333\n")
        .output()
        .unwrap();
    assert_clean_exit(&out);
    server
        .proc
        .stdout
        .wait_line("Read from client: Hello, COS 333\\n");

    let server = serve(&["discard", "--host", "127.0.0.1", "--udp"]);
    let port = server.port.to_string();
    let out = netlab_cmd()
        .args(["connect", "discard", "127.0.0.1", &port, "--udp"])
        .write_stdin("one\ntwo\n")
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_eq!(out.stdout, b"");
    // No reply, so no error either: the server said nothing on stderr.
    assert_eq!(server.proc.stderr.bytes(), b"");
}

#[test]
fn connect_discard_to_nothing_is_refused() {
    let port = free_port("127.0.0.1").to_string();
    let out = netlab_cmd()
        .args(["connect", "discard", "127.0.0.1", &port])
        .write_stdin("lost\n")
        .output()
        .unwrap();
    assert_error(&out, 69);
}
