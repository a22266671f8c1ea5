//! Chargen over real loopback sockets: the TCP stream verified byte for
//! byte, the client's end-of-file and reset, bounded memory with a client
//! that never reads, and UDP's one advancing line per datagram.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use chargen::Chargen;
use netcore::{Builder, Client, DatagramBuilder, Running};

const DEADLINE: Duration = Duration::from_secs(10);

fn serve() -> Running {
    Builder::new("127.0.0.1:0".parse().unwrap())
        .serve(Chargen::new())
        .unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, DEADLINE).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.set_write_timeout(Some(DEADLINE)).unwrap();
    s
}

/// Reads `len` bytes from the start of a connection and checks each one.
fn read_verified(s: &mut TcpStream, len: u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    while offset < len {
        let want = usize::try_from(len - offset).unwrap().min(buf.len());
        let n = s.read(&mut buf[..want]).unwrap();
        assert_ne!(n, 0, "the server closed after {offset} bytes");
        chargen::verify(offset, &buf[..n]).unwrap();
        offset += n as u64;
    }
}

#[test]
fn ten_mib_over_tcp_are_the_pattern() {
    let running = serve();
    let mut s = connect(running.local_addr());
    read_verified(&mut s, 10 << 20);
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn the_client_closing_its_side_ends_the_stream() {
    let running = serve();
    let mut s = connect(running.local_addr());
    s.write_all(b"thrown away\n").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    // What was queued still comes, then the server closes: bounded by its
    // queue and the socket buffers, far below what a run would send.
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    assert!(all.len() < 64 << 20, "{} bytes after the end", all.len());
    chargen::verify(0, &all).unwrap();
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn a_client_that_resets_mid_stream_leaves_the_server_serving() {
    let running = serve();
    let addr = running.local_addr();
    for _ in 0..3 {
        let mut s = connect(addr);
        read_verified(&mut s, 100_000);
        // Unread data in our buffer: closing sends a reset.
        let s = socket2::Socket::from(s);
        s.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s);
    }
    let mut next = connect(addr);
    read_verified(&mut next, 1 << 20);
    let mut out = Vec::new();
    let mut limited = Limited(&mut out, 5000);
    let err = chargen::receive(&Client::new(), "127.0.0.1", addr.port(), &mut limited);
    assert!(matches!(err, Err(chargen::Error::Output(_))), "{err:?}");
    chargen::verify(0, &out).unwrap();
    assert_eq!(out.len(), 5000);
    running.shutdown(Duration::from_secs(1));
}

/// An output that takes `.1` bytes, then fails like a closed pipe.
struct Limited<'a>(&'a mut Vec<u8>, usize);

impl Write for Limited<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.1 - self.0.len();
        if room == 0 {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = room.min(data.len());
        self.0.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// This process's resident set size, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn clients_that_never_read_cost_bounded_memory() {
    let running = serve();
    let addr = running.local_addr();
    let before = rss_kib();
    // Ten clients that read nothing: each holds the server's queue (256
    // KiB at most) and full socket buffers, and nothing more.
    let silent: Vec<TcpStream> = (0..10).map(|_| connect(addr)).collect();
    // Meanwhile another client is served at full speed; this is also the
    // time an unbounded server would take to pile up gigabytes.
    let started = Instant::now();
    let mut busy = connect(addr);
    read_verified(&mut busy, 50 << 20);
    assert!(started.elapsed() < DEADLINE);
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB");
    assert_eq!(running.open_connections(), 11);
    drop(silent);
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn udp_answers_each_datagram_with_the_next_line() {
    let running = DatagramBuilder::new("127.0.0.1:0".parse().unwrap())
        .serve(Chargen::new())
        .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.connect(running.local_addr()).unwrap();
    let mut buf = [0u8; 2048];
    for (n, request) in [&b""[..], b"x", &[7u8; 1400]].iter().enumerate() {
        client.send(request).unwrap();
        let got = client.recv(&mut buf).unwrap();
        assert!(got <= 512, "{got} bytes");
        assert_eq!(&buf[..got], chargen::line(n as u64));
    }
    let mut out = Vec::new();
    let port = running.local_addr().port();
    assert_eq!(
        chargen::receive_udp(&Client::new(), "127.0.0.1", port, &mut out).unwrap(),
        74
    );
    assert_eq!(out, chargen::line(3));
    running.shutdown(Duration::from_secs(1));
}
