//! What an engine knows of its own sockets: it never answers a datagram
//! one of them sent (the echo/chargen loop pair in one process), and it
//! hands a duplicate of each to a successor engine (a reload that keeps
//! the ports).

mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use netcore::{Builder, DatagramBuilder, Engine, ServiceSocket};
use socket2::{Domain, Protocol, Socket, Type};
use util::{Echo, Recorder, any_local_v4, connect};

const OWN: &str = "refused sent from one of this server's own sockets (a loop)";

/// A UDP socket sharing `addr` with the engine's (both SO_REUSEPORT): a
/// datagram from it carries the engine's own source address and port.
fn beside(addr: SocketAddr) -> UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_reuse_port(true).unwrap();
    s.bind(&addr.into()).unwrap();
    s.into()
}

#[test]
fn a_datagram_from_one_of_the_engines_own_sockets_is_never_answered() {
    let log = Recorder::default();
    let running = Engine::new()
        .observer(log.observer())
        .serve_datagrams(
            DatagramBuilder::new(any_local_v4())
                .name("echo")
                .reuse_port(true),
            Echo,
        )
        .unwrap()
        .serve_datagrams(DatagramBuilder::new(any_local_v4()).name("other"), Echo)
        .unwrap()
        .start()
        .unwrap();
    let echo = running.local_addrs()[0].1;
    let other = running.local_addrs()[1].1;

    // From echo's address to the other service: answering would start
    // echo and the other answering each other for ever.
    let spoof = beside(echo);
    spoof.send_to(b"loop?", other).unwrap();
    let lines = log.wait_for(|l| l.iter().any(|l| l == OWN));
    assert!(lines.iter().any(|l| l == OWN), "{lines:?}");
    drop(spoof);

    // Anyone else is answered as before.
    let client = UdpSocket::bind(any_local_v4()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.send_to(b"hello", other).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"hello"[..], other));
    // The event follows the reply: wait for it, then count.
    let answered = |l: &[String]| l.iter().filter(|l| *l == "datagram").count();
    let lines = log.wait_for(|l| answered(l) >= 1);
    assert_eq!(answered(&lines), 1, "only the good client was answered");
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn a_successor_engine_takes_over_the_sockets_without_closing_them() {
    let old = Engine::new()
        .serve(Builder::new(any_local_v4()).name("tcp"), Echo)
        .unwrap()
        .serve_datagrams(DatagramBuilder::new(any_local_v4()).name("udp"), Echo)
        .unwrap()
        .start()
        .unwrap();
    let (tcp, udp) = (old.local_addrs()[0].1, old.local_addrs()[1].1);
    // A connection made before the handover is served to its end by the
    // old engine while it drains.
    let mut early = connect(tcp);

    let Some(Ok(ServiceSocket::Tcp(listener))) = old.clone_socket(0) else {
        panic!("service 0 is TCP");
    };
    let Some(Ok(ServiceSocket::Udp(socket))) = old.clone_socket(1) else {
        panic!("service 1 is UDP");
    };
    assert!(old.clone_socket(2).is_none());
    let new = Engine::new()
        .serve(Builder::from_listener(listener).unwrap().name("tcp"), Echo)
        .unwrap()
        .serve_datagrams(
            DatagramBuilder::from_socket(socket).unwrap().name("udp"),
            Echo,
        )
        .unwrap()
        .start()
        .unwrap();
    let handle = old.shutdown_handle();
    handle.shutdown(Duration::from_secs(5));
    assert!(old.clone_socket(0).is_none(), "none once shutdown began");

    early.write_all(b"early").unwrap();
    early.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    early.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"early");
    old.wait();

    // The same ports, now served by the new engine alone.
    assert_eq!(new.local_addrs()[0].1, tcp);
    let mut late = connect(tcp);
    late.write_all(b"late").unwrap();
    late.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    late.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"late");
    let client = UdpSocket::bind(any_local_v4()).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.send_to(b"still here", udp).unwrap();
    let mut buf = [0u8; 64];
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"still here");
    new.shutdown(Duration::from_secs(1));
}
