//! The echo client's errors printed as a chain (anyhow's `{:#}`): what was
//! being done, then each cause once. Loopback only; unknown names are
//! `.invalid`, which fail without a query.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use echo::{Echo, Mode};
use netcore::{Builder, Client};
use socket2::{Domain, SockAddr, Socket, Type};

fn chain(err: echo::Error) -> String {
    format!("{:#}", anyhow::Error::from(err))
}

/// A port on 127.0.0.1 that refuses connections while the socket lives:
/// bound (nobody else can take it) but not listening.
fn refusing_port() -> (Socket, u16) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    socket.bind(&SockAddr::from(addr)).unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    (socket, port)
}

/// Input or output that fails with `message`.
struct Broken(&'static str);

impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other(self.0))
    }
}

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other(self.0))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_refused_connect_says_refused_once() {
    let (_bound, port) = refusing_port();
    let err =
        echo::session(&Client::new(), "127.0.0.1", port, &b""[..], &mut Vec::new()).unwrap_err();
    let text = chain(err);
    assert!(
        text.starts_with(&format!("connecting to 127.0.0.1:{port}: ")),
        "{text}"
    );
    assert_eq!(text.matches("onnection refused").count(), 1, "{text}");
}

#[test]
fn an_unknown_host_says_so_once() {
    let client = Client::new();
    let err =
        echo::session(&client, "nonexistent.invalid", 7, &b""[..], &mut Vec::new()).unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");
    let err = echo::session_udp(&client, "nonexistent.invalid", 7, &b""[..], &mut Vec::new())
        .unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");
}

#[test]
fn a_server_that_never_echoes_times_out_once() {
    // The backlog completes the handshake; nobody reads or answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = Client::new().read_timeout(Some(Duration::from_millis(100)));
    let err = echo::session(
        &client,
        "127.0.0.1",
        addr.port(),
        &b"x\n"[..],
        &mut Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        chain(err),
        format!("waiting for the echo from {addr}: timed out after 0.1 s")
    );
}

#[test]
fn input_and_output_failures_say_which_once() {
    let running = Builder::new("127.0.0.1:0".parse().unwrap())
        .serve(Echo::new(Mode::Stream))
        .unwrap();
    let port = running.local_addr().port();
    let client = Client::new().timeout(Some(Duration::from_secs(10)));
    let err = echo::session(
        &client,
        "127.0.0.1",
        port,
        Broken("disk on fire"),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert_eq!(chain(err), "reading the input: disk on fire");
    let err = echo::session(
        &client,
        "127.0.0.1",
        port,
        &b"hi\n"[..],
        &mut Broken("disk full"),
    )
    .unwrap_err();
    assert_eq!(chain(err), "writing the reply: disk full");
    running.shutdown(Duration::from_secs(1));
}
