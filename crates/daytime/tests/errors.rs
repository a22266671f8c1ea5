//! The daytime client's errors printed as a chain (anyhow's `{:#}`): what
//! was being done, then each cause once. Loopback only; unknown names are
//! `.invalid`, which fail without a query.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use daytime::Daytime;
use netcore::{Builder, Client};
use socket2::{Domain, SockAddr, Socket, Type};

fn chain(err: daytime::Error) -> String {
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

/// Output that fails.
struct Full;

impl Write for Full {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_refused_connect_says_refused_once() {
    let (_bound, port) = refusing_port();
    let err = daytime::query(&Client::new(), "127.0.0.1", port, &mut Vec::new()).unwrap_err();
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
    let err = daytime::query(&client, "nonexistent.invalid", 13, &mut Vec::new()).unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");
    let err = daytime::query_udp(&client, "nonexistent.invalid", 13, &mut Vec::new()).unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");
}

#[test]
fn a_silent_server_times_out_once() {
    // The backlog completes the handshake; nobody ever sends the line.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = Client::new().read_timeout(Some(Duration::from_millis(100)));
    let err = daytime::query(&client, "127.0.0.1", addr.port(), &mut Vec::new()).unwrap_err();
    assert_eq!(
        chain(err),
        format!("reading from {addr}: timed out after 0.1 s")
    );

    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let client = client.retries(0);
    let err = daytime::query_udp(&client, "127.0.0.1", addr.port(), &mut Vec::new()).unwrap_err();
    assert_eq!(
        chain(err),
        format!("waiting for a reply from {addr}: timed out after 0.1 s")
    );
}

#[test]
fn an_output_failure_says_so_once() {
    let running = Builder::new("127.0.0.1:0".parse().unwrap())
        .serve(Daytime::default())
        .unwrap();
    let port = running.local_addr().port();
    let err = daytime::query(&Client::new(), "127.0.0.1", port, &mut Full).unwrap_err();
    assert_eq!(chain(err), "writing the reply: disk full");
    running.shutdown(Duration::from_secs(1));
}
