//! Discard over real loopback sockets: a megabyte of any bytes taken,
//! nothing sent back, the close after the client's; UDP never answers and
//! logs no error for it; the client's errors said once.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use discard::Discard;
use netcore::{Builder, Client, DatagramBuilder, Event};

const DEADLINE: Duration = Duration::from_secs(10);

/// Deterministic bytes of every value (xorshift64).
fn random_bytes(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn chain(err: discard::Error) -> String {
    format!("{:#}", anyhow::Error::from(err))
}

/// Records the events that matter here: errors and datagram replies.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn observer(&self) -> impl netcore::Observer {
        let seen = self.0.clone();
        netcore::WithData(move |e: &Event<'_>| {
            let line = match e {
                Event::Error { op, error, .. } => format!("error {op}: {error}"),
                Event::Datagram { .. } => "datagram".to_owned(),
                Event::Wrote { .. } => "wrote".to_owned(),
                _ => return,
            };
            seen.lock().unwrap().push(line);
        })
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn a_mebibyte_is_taken_and_nothing_comes_back() {
    let seen = Seen::default();
    let running = Builder::new("127.0.0.1:0".parse().unwrap())
        .observer(seen.observer())
        .serve(Discard)
        .unwrap();
    let data = random_bytes(1 << 20);
    let mut s = TcpStream::connect_timeout(&running.local_addr(), DEADLINE).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.write_all(&data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    // The server closes after our end-of-file, having sent nothing.
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    assert!(back.is_empty(), "{} bytes back", back.len());

    let port = running.local_addr().port();
    let mut out = Vec::new();
    let sent = discard::send(&Client::new(), "127.0.0.1", port, &data[..], &mut out).unwrap();
    assert_eq!(sent, 1 << 20);
    assert!(out.is_empty());
    running.shutdown(Duration::from_secs(1));
    assert_eq!(seen.lines(), Vec::<String>::new());
}

#[test]
fn udp_never_answers_and_reports_no_error() {
    let seen = Seen::default();
    let running = DatagramBuilder::new("127.0.0.1:0".parse().unwrap())
        .observer(seen.observer())
        .serve(Discard)
        .unwrap();
    let addr = running.local_addr();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    for request in [&b""[..], b"hello\n", &random_bytes(1400)] {
        client.send(request).unwrap();
    }
    let sent = discard::send_udp(&Client::new(), "127.0.0.1", addr.port(), &b"one\ntwo"[..]);
    assert_eq!(sent.unwrap(), 7);
    // A reply, if one were sent, would be here long before the deadline.
    let err = client.recv(&mut [0u8; 2048]).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    running.shutdown(Duration::from_secs(1));
    assert_eq!(seen.lines(), Vec::<String>::new());
}

#[test]
fn a_server_that_never_closes_times_out_once() {
    // The backlog completes the handshake; nobody reads or closes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = Client::new().read_timeout(Some(Duration::from_millis(100)));
    let err = discard::send(
        &client,
        "127.0.0.1",
        addr.port(),
        &b"x"[..],
        &mut io::sink(),
    )
    .unwrap_err();
    assert_eq!(
        chain(err),
        format!("reading from {addr}: timed out after 0.1 s")
    );
}

#[test]
fn refusals_and_input_failures_say_which_once() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    let client = Client::new();
    let text =
        chain(discard::send(&client, "127.0.0.1", port, &b""[..], &mut io::sink()).unwrap_err());
    assert!(
        text.starts_with(&format!("connecting to 127.0.0.1:{port}: ")),
        "{text}"
    );
    assert_eq!(text.matches("onnection refused").count(), 1, "{text}");

    let err = discard::send_udp(&client, "nonexistent.invalid", 9, &b""[..]).unwrap_err();
    assert_eq!(chain(err), "resolving nonexistent.invalid: no such host");

    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let running = Builder::new("127.0.0.1:0".parse().unwrap())
        .serve(Discard)
        .unwrap();
    let port = running.local_addr().port();
    let err = discard::send(&client, "127.0.0.1", port, Broken, &mut io::sink()).unwrap_err();
    assert_eq!(chain(err), "reading the input: disk on fire");
    let err = discard::send_udp(&client, "127.0.0.1", port, Broken).unwrap_err();
    assert_eq!(chain(err), "reading the input: disk on fire");
    running.shutdown(Duration::from_secs(1));
}
