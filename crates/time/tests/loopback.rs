//! The time server and client over real loopback sockets, TCP and UDP:
//! the 4 bytes, a clock before 1900 (nothing sent), and replies of the
//! wrong length from a stand-in server.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, SystemTime};

use netcore::{Builder, Client, DatagramBuilder};
use time::{FixedClock, Time};

const LOCALHOST: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

fn client() -> Client {
    Client::new()
        .timeout(Some(Duration::from_secs(5)))
        .retries(0)
}

fn at(unix: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
}

#[test]
fn tcp_sends_four_bytes_and_closes() {
    let server = Time::new().clock(FixedClock(at(1_770_827_530)));
    let running = Builder::new(LOCALHOST).serve(server).unwrap();
    let before = SystemTime::now();
    let reading = time::query(&client(), "127.0.0.1", running.local_addr().port()).unwrap();
    assert_eq!(reading.raw, 3_979_816_330);
    assert_eq!(reading.time(), at(1_770_827_530));
    assert!(before <= reading.sent && reading.sent <= reading.received);
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn udp_answers_an_empty_datagram() {
    let server = Time::new().clock(FixedClock(at(1_770_827_530)));
    let running = DatagramBuilder::new(LOCALHOST).serve(server).unwrap();
    let reading = time::query_udp(&client(), "127.0.0.1", running.local_addr().port()).unwrap();
    assert_eq!(reading.raw, 3_979_816_330);
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn the_system_clock_is_told_as_it_is() {
    let running = Builder::new(LOCALHOST).serve(Time::new()).unwrap();
    let reading = time::query(&client(), "127.0.0.1", running.local_addr().port()).unwrap();
    let lo = time::to_rfc868(reading.sent);
    let hi = time::to_rfc868(reading.received);
    assert!(
        lo <= reading.raw && reading.raw <= hi,
        "{lo} {} {hi}",
        reading.raw
    );
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn before_1900_tcp_sends_nothing_and_udp_does_not_answer() {
    let clock = FixedClock(SystemTime::UNIX_EPOCH - Duration::from_secs(2_208_988_801));
    let tcp = Builder::new(LOCALHOST)
        .serve(Time::new().clock(clock))
        .unwrap();
    let err = time::query(&client(), "127.0.0.1", tcp.local_addr().port()).unwrap_err();
    assert!(matches!(err, time::Error::Length { got: 0 }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the server sent 0 bytes; RFC 868 time is 4"
    );
    tcp.shutdown(Duration::from_secs(1));

    let udp = DatagramBuilder::new(LOCALHOST)
        .serve(Time::new().clock(clock))
        .unwrap();
    let quick = Client::new()
        .timeout(Some(Duration::from_millis(300)))
        .retries(0);
    let err = time::query_udp(&quick, "127.0.0.1", udp.local_addr().port()).unwrap_err();
    assert!(
        matches!(err, time::Error::Net(netcore::Error::Timeout { .. })),
        "{err:?}"
    );
    udp.shutdown(Duration::from_secs(1));
}

/// A TCP server that sends `reply` to one client and closes.
fn sends_once(reply: &'static [u8]) -> u16 {
    let listener = TcpListener::bind(LOCALHOST).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.write_all(reply);
        }
    });
    port
}

#[test]
fn a_reply_of_the_wrong_length_is_an_error() {
    let err = time::query(&client(), "127.0.0.1", sends_once(b"abc")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server sent 3 bytes; RFC 868 time is 4"
    );
    let err = time::query(&client(), "127.0.0.1", sends_once(b"abcdefgh")).unwrap_err();
    assert!(matches!(err, time::Error::Length { got: 5 }), "{err:?}");
    let err = time::query(&client(), "127.0.0.1", sends_once(b"a")).unwrap_err();
    assert_eq!(err.to_string(), "the server sent 1 byte; RFC 868 time is 4");

    let socket = UdpSocket::bind(LOCALHOST).unwrap();
    let port = socket.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16];
        if let Ok((_, peer)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(b"12345", peer);
        }
    });
    let err = time::query_udp(&client(), "127.0.0.1", port).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server sent 5 bytes; RFC 868 time is 4"
    );
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Time>();
    check::<time::Reading>();
    check::<time::Error>();
    check::<time::TimeHandler>();
}
