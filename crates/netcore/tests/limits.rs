//! Connection limits that one hostile source cannot turn against everyone
//! else: a per-source cap, and the last slots kept for new sources.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use netcore::Builder;
use socket2::{Domain, Socket, Type};
use util::*;

/// The tests here open thousands of sockets and time a good client: run
/// them one at a time so they never compete with each other.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A connection from `source` (any address of 127.0.0.0/8, all local).
fn connect_from(source: &str, addr: SocketAddr) -> std::io::Result<TcpStream> {
    connect_within(source, addr, Duration::from_secs(5))
}

fn connect_within(source: &str, addr: SocketAddr, limit: Duration) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    let from: SocketAddr = format!("{source}:0").parse().unwrap();
    socket.bind(&from.into())?;
    socket.connect_timeout(&addr.into(), limit)?;
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(stream)
}

/// Whether the server closed `s` without a word (EOF or reset on read).
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1];
    match s.read(&mut buf) {
        Ok(0) => true,
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
        ),
        Ok(_) => false,
    }
}

fn echo_once(s: &mut TcpStream) -> Vec<u8> {
    s.write_all(b"hello").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    read_all(s).unwrap()
}

#[test]
fn one_source_filling_the_server_cannot_lock_out_another() {
    let _serial = serial();
    let running = Builder::new(any_local_v4())
        .max_connections(100)
        .serve(Echo)
        .unwrap();
    let addr = running.local_addr();
    // The hostile source opens far more silent connections than the cap
    // (until the kernel's backlog is full, if the server stopped taking
    // them).
    let hostile: Vec<TcpStream> = (0..2000)
        .map_while(|_| connect_within("127.0.0.1", addr, Duration::from_millis(200)).ok())
        .collect();
    assert!(hostile.len() > 100);
    // A client from another source is served within a second.
    let started = Instant::now();
    let mut good = connect_within("127.0.0.2", addr, Duration::from_secs(1))
        .expect("the good client could not even connect");
    good.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    assert_eq!(echo_once(&mut good), b"hello");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(running.open_connections() <= 100);
    drop(hostile);
    running.shutdown(Duration::ZERO);
}

#[test]
fn a_per_source_cap_refuses_the_extra_connections_at_once() {
    let _serial = serial();
    let running = Builder::new(any_local_v4())
        .max_per_source(Some(3))
        .serve(Echo)
        .unwrap();
    let addr = running.local_addr();
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| connect_from("127.0.0.1", addr).unwrap())
        .collect();
    // Each of the three is served (so each was admitted)...
    for s in &mut held {
        s.write_all(b"x").unwrap();
        let mut one = [0u8; 1];
        s.read_exact(&mut one).unwrap();
    }
    // ...the fourth is closed at once, while another source still gets in.
    let mut fourth = connect_from("127.0.0.1", addr).unwrap();
    assert!(closed_by_server(&mut fourth));
    let mut other = connect_from("127.0.0.2", addr).unwrap();
    assert_eq!(echo_once(&mut other), b"hello");
    // Once one closes, the source may connect again.
    let mut first = held.remove(0);
    assert_eq!(echo_once(&mut first), b"hello");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut again = loop {
        let mut s = connect_from("127.0.0.1", addr).unwrap();
        s.write_all(b"y").unwrap();
        let mut one = [0u8; 1];
        if s.read_exact(&mut one).is_ok() {
            break s;
        }
        assert!(Instant::now() < deadline, "the slot never came back");
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(echo_once(&mut again), b"hello");
    running.shutdown(Duration::ZERO);
}
