//! netcore's errors printed as a chain (anyhow's `{:#}`): the message says
//! what was done and on what, each cause follows once. Over loopback only;
//! unknown names are `.invalid`, which fail without a query.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use netcore::{Client, Family, LookupErrorKind};
use socket2::{Domain, SockAddr, Socket, Type};

/// `{:#}`, as the CLI and anyhow print an error: each source after a `: `.
fn chain(err: netcore::Error) -> String {
    format!("{:#}", anyhow::Error::from(err))
}

fn once(text: &str, part: &str) {
    assert_eq!(text.matches(part).count(), 1, "{part:?} in {text:?}");
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

#[test]
fn a_refused_connect_says_refused_once() {
    let (_bound, port) = refusing_port();
    let err = Client::new().connect("127.0.0.1", port).unwrap_err();
    let text = chain(err);
    assert!(
        text.starts_with(&format!("connecting to 127.0.0.1:{port}: ")),
        "{text}"
    );
    // std's words for the OS error (the CLI lowers and trims them).
    once(&text, "onnection refused");
}

#[test]
fn an_unknown_host_says_so_once() {
    let err = Client::new().connect("nonexistent.invalid", 7).unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");
    let err = Client::new().udp("nonexistent.invalid", 7).unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");
    let err = netcore::resolve("::1%no-such-if", 7).unwrap_err();
    assert_eq!(
        chain(err),
        "resolving ::1%no-such-if: no network interface \"no-such-if\" with IPv6"
    );
    let err = netcore::resolve("", 7).unwrap_err();
    assert_eq!(chain(err), "resolving \"\": the name is empty");
}

#[test]
fn timeouts_say_what_waited_and_how_long() {
    // The backlog completes the handshake; nobody ever answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stream = Client::new()
        .read_timeout(Some(Duration::from_millis(100)))
        .connect_addr(addr)
        .unwrap();
    let err = stream.receive(&mut [0u8; 16]).unwrap_err();
    assert_eq!(
        chain(err),
        format!("reading from {addr}: timed out after 0.1 s")
    );

    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let err = Client::new()
        .read_timeout(Some(Duration::from_millis(50)))
        .retries(0)
        .request("127.0.0.1", addr.port(), b"?")
        .unwrap_err();
    assert_eq!(
        chain(err),
        format!("waiting for a reply from {addr}: timed out after 0.05 s")
    );
}

#[test]
fn lookup_errors_alone_are_the_reason() {
    let err = netcore::getaddrinfo("nonexistent.invalid", 7, Family::V4).unwrap_err();
    assert_eq!(err.kind(), LookupErrorKind::NoSuchHost);
    assert_eq!(format!("{:#}", anyhow::Error::from(err)), "no such host");
}

#[test]
fn client_and_resolver_types_are_send_and_sync() {
    fn is<T: Send + Sync + 'static>() {}
    is::<Client>();
    is::<netcore::Stream>();
    is::<netcore::DatagramClient>();
    is::<netcore::Error>();
    is::<netcore::LookupError>();
    is::<LookupErrorKind>();
    is::<netcore::AddrInfo>();
    is::<Family>();
}
