//! A server on 127.0.0.1 that answers whatever the fuzzer says, over UDP
//! and TCP on one port, so that the real clients (DNS, time, daytime) read
//! fuzzed replies through their whole path, sockets included.
//!
//! One per process, started on first use; [`with_reply`] holds a lock for
//! the whole exchange, so callers on several threads (the test harness)
//! take turns.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

/// How the responder answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// The bytes as they are: UDP replies with them, TCP sends them and
    /// closes (time, daytime).
    Raw,
    /// DNS: the reply's first two bytes become the query's id (a fuzzer
    /// cannot guess a random id), and over TCP both ways carry RFC 1035's
    /// two-byte length.
    Dns,
}

struct Responder {
    addr: SocketAddr,
    answer: Mutex<(Style, Vec<u8>)>,
}

/// Serialises exchanges: one fuzzed reply at a time.
static TURN: Mutex<()> = Mutex::new(());
static RESPONDER: OnceLock<&'static Responder> = OnceLock::new();

/// Runs `exchange` with the responder's address while it answers with
/// `reply` in `style`.
pub fn with_reply<T>(style: Style, reply: &[u8], exchange: impl FnOnce(SocketAddr) -> T) -> T {
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let responder = RESPONDER.get_or_init(start);
    *lock(&responder.answer) = (style, reply.to_vec());
    exchange(responder.addr)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn start() -> &'static Responder {
    // Bind TCP first, then UDP on its port; a port taken for UDP by
    // someone else is retried with another.
    let (tcp, udp) = (0..100)
        .find_map(|_| {
            let tcp = TcpListener::bind("127.0.0.1:0").ok()?;
            let udp = UdpSocket::bind(tcp.local_addr().ok()?).ok()?;
            Some((tcp, udp))
        })
        .expect("a port on 127.0.0.1 for both UDP and TCP");
    let responder: &'static Responder = Box::leak(Box::new(Responder {
        addr: udp.local_addr().expect("the UDP socket's address"),
        answer: Mutex::new((Style::Raw, Vec::new())),
    }));
    std::thread::spawn(move || serve_udp(responder, &udp));
    std::thread::spawn(move || serve_tcp(responder, &tcp));
    responder
}

fn answer(responder: &Responder, request: &[u8]) -> (Style, Vec<u8>) {
    let (style, mut reply) = lock(&responder.answer).clone();
    if style == Style::Dns && request.len() >= 2 && reply.len() >= 2 {
        reply[..2].copy_from_slice(&request[..2]);
    }
    (style, reply)
}

fn serve_udp(responder: &Responder, socket: &UdpSocket) {
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let (_, reply) = answer(responder, &buf[..n]);
        // Too large for a datagram: the client times out, as it would.
        let _ = socket.send_to(&reply, from);
    }
}

fn serve_tcp(responder: &Responder, listener: &TcpListener) {
    for stream in listener.incoming().flatten() {
        // A client that stalls costs a second, never the responder.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
        let _ = serve_connection(responder, stream);
    }
}

fn serve_connection(responder: &Responder, mut stream: TcpStream) -> std::io::Result<()> {
    let style = lock(&responder.answer).0;
    match style {
        Style::Raw => {
            let (_, reply) = answer(responder, &[]);
            stream.write_all(&reply)
        }
        Style::Dns => {
            let mut len = [0u8; 2];
            stream.read_exact(&mut len)?;
            let mut request = vec![0u8; usize::from(u16::from_be_bytes(len))];
            stream.read_exact(&mut request)?;
            let (_, reply) = answer(responder, &request);
            let len = u16::try_from(reply.len()).unwrap_or(u16::MAX);
            stream.write_all(&len.to_be_bytes())?;
            stream.write_all(&reply[..usize::from(len)])
        }
    }
}
