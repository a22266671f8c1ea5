//! The UDP engine over real loopback sockets: replies, the safety policy,
//! shutdown.

mod util;

use std::net::UdpSocket;
use std::time::Duration;

use netcore::{DatagramBuilder, DatagramPolicy};
use util::{Echo, Recorder, any_local_v4, any_local_v6};

fn client(addr: std::net::SocketAddr) -> UdpSocket {
    let local = if addr.is_ipv4() {
        any_local_v4()
    } else {
        any_local_v6()
    };
    let s = UdpSocket::bind(local).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.connect(addr).unwrap();
    s
}

#[test]
fn answers_each_datagram_with_its_payload_on_both_families() {
    for addr in [any_local_v4(), any_local_v6()] {
        let running = DatagramBuilder::new(addr).serve(Echo).unwrap();
        let s = client(running.local_addr());
        let mut buf = vec![0u8; 70_000];
        for payload in [&b""[..], b"x", &[0xffu8; 1400][..], &vec![9u8; 65_000][..]] {
            s.send(payload).unwrap();
            let n = s.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], payload);
        }
    }
}

#[test]
fn many_clients_get_their_own_replies() {
    let running = DatagramBuilder::new(any_local_v4()).serve(Echo).unwrap();
    let clients: Vec<_> = (0..20).map(|_| client(running.local_addr())).collect();
    for (i, c) in clients.iter().enumerate() {
        c.send(format!("client {i}").as_bytes()).unwrap();
    }
    for (i, c) in clients.iter().enumerate() {
        let mut buf = [0u8; 64];
        let n = c.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], format!("client {i}").as_bytes());
    }
}

#[test]
fn loopback_can_be_refused_by_policy() {
    let rec = Recorder::default();
    let running = DatagramBuilder::new(any_local_v4())
        .policy(DatagramPolicy::default().allow_loopback(false))
        .observer(rec.observer())
        .serve(Echo)
        .unwrap();
    let s = client(running.local_addr());
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s.send(b"hello").unwrap();
    assert!(s.recv(&mut [0u8; 16]).is_err());
    let lines = rec.wait_for(|l| l.iter().any(|x| x == "refused loopback source"));
    assert!(
        lines.iter().any(|x| x == "refused loopback source"),
        "{lines:?}"
    );
}

#[test]
fn shutdown_wakes_every_blocked_receiver_promptly() {
    for addr in [any_local_v4(), any_local_v6(), "[::]:0".parse().unwrap()] {
        let rec = Recorder::default();
        let running = DatagramBuilder::new(addr)
            .threads(3)
            .observer(rec.observer())
            .serve(Echo)
            .unwrap();
        // Let every receiver block in recv first: traffic from several
        // clients, answered.
        let clients: Vec<_> = (0..6).map(|_| client(running.local_addr())).collect();
        for c in &clients {
            c.send(b"ping").unwrap();
        }
        for c in &clients {
            let mut buf = [0u8; 8];
            assert_eq!(c.recv(&mut buf).unwrap(), 4);
        }
        let started = std::time::Instant::now();
        running.shutdown(Duration::from_secs(5));
        assert!(started.elapsed() < Duration::from_secs(2));
        // No receiver answered (or choked on) its wake-up datagram.
        let lines = rec.lines();
        assert!(!lines.iter().any(|l| l.starts_with("error")), "{lines:?}");
        assert_eq!(
            lines.last().map(String::as_str),
            Some("stopped"),
            "{lines:?}"
        );
    }
}
