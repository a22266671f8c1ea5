//! netcore's `examples/`, built by `cargo test` and run here once each,
//! the way their doc comments tell a reader to run them.

mod examples_util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use examples_util::{run, serve};

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connecting");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("setting a read timeout");
    stream
}

#[test]
fn minimal_server_greets_one_client_and_exits() {
    let (mut server, addr) = serve("minimal_server", &["0", "--once"]);
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    let mut stream = connect(addr);
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .expect("reading the greeting");
    let local = stream.local_addr().expect("our address");
    assert_eq!(reply, format!("hello, {local}\n"));
    assert!(server.wait().success());
}

#[test]
fn the_client_talks_to_line_lengths_which_answers_each_line() {
    let (mut server, addr) = serve("line_lengths", &["0", "--once"]);
    let port = addr.port().to_string();
    let out = run("client", &["127.0.0.1", &port, "hello", "world!", ""]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5\n6\n0\n");
    assert!(server.wait().success());
}

#[test]
fn line_lengths_answers_lines_not_reads() {
    let (mut server, addr) = serve("line_lengths", &["0", "--once"]);
    let mut stream = connect(addr);
    // Two lines in one write, a third cut across two, CR LF counted out.
    stream.write_all(b"ab\nabcd\r\nxy").expect("writing");
    stream.flush().expect("flushing");
    let mut lines = BufReader::new(stream.try_clone().expect("a second handle")).lines();
    assert_eq!(lines.next().expect("a line").expect("reading"), "2");
    assert_eq!(lines.next().expect("a line").expect("reading"), "4");
    stream.write_all(b"z\n").expect("writing");
    stream
        .shutdown(std::net::Shutdown::Write)
        .expect("half-closing");
    let rest: Vec<String> = lines.map(|l| l.expect("reading")).collect();
    assert_eq!(rest, ["3"]);
    assert!(server.wait().success());
}

#[test]
fn push_streams_numbered_lines_until_the_client_hangs_up() {
    let (mut server, addr) = serve("push", &["0", "--once"]);
    let stream = connect(addr);
    let lines = BufReader::new(stream).lines().take(1000);
    let got: Vec<String> = lines.map(|l| l.expect("reading")).collect();
    let want: Vec<String> = (1..=1000).map(|n| n.to_string()).collect();
    assert_eq!(got, want);
    // The stream was dropped with the reader: the server sees the client
    // go and, with --once, exits.
    assert!(server.wait().success());
}

#[test]
fn offload_answers_from_its_worker_thread() {
    let (mut server, addr) = serve("offload", &["0", "--once"]);
    let mut stream = connect(addr);
    stream.write_all(b"127.0.0.1\n").expect("writing");
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .expect("reading the answer");
    assert_eq!(reply, "127.0.0.1\n");
    assert!(server.wait().success());
}
