//! Several services in one engine: TCP and UDP side by side, each with its
//! own name on its events, one graceful shutdown for all.

mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use netcore::{Builder, DatagramBuilder, Engine, Event};
use util::*;

/// Says "hello" and closes.
struct Hello;
struct HelloHandler;

impl netcore::Handler for HelloHandler {
    fn on_open(&mut self, conn: &mut netcore::Connection<'_>) -> netcore::Flow {
        conn.send(b"hello\n");
        netcore::Flow::Close
    }
    fn on_data(&mut self, _: &mut netcore::Connection<'_>, _: &[u8]) -> netcore::Flow {
        netcore::Flow::Close
    }
}

impl netcore::Server for Hello {
    type Handler = HelloHandler;
    fn handler(&self, _: &netcore::ConnectionInfo) -> HelloHandler {
        HelloHandler
    }
}

#[test]
fn three_services_in_one_engine_with_one_shutdown() {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = log.clone();
    let running = Engine::new()
        .threads(2)
        .observer(netcore::WithData(move |e: &Event<'_>| {
            let line = match e {
                Event::Listening { service, .. } => format!("listening {service}"),
                Event::Accepted { conn } => format!("accepted {}", conn.service),
                Event::Datagram { service, .. } => format!("datagram {service}"),
                Event::Stopped => "stopped".to_owned(),
                _ => return,
            };
            seen.lock().unwrap().push(line);
        }))
        .serve(Builder::new(any_local_v4()).name("echo"), Echo)
        .unwrap()
        .serve(Builder::new(any_local_v6()).name("hello"), Hello)
        .unwrap()
        .serve_datagrams(DatagramBuilder::new(any_local_v4()).name("echo-udp"), Echo)
        .unwrap()
        .start()
        .unwrap();
    let addrs: Vec<_> = running.local_addrs().to_vec();
    assert_eq!(
        addrs.iter().map(|(n, _)| &**n).collect::<Vec<_>>(),
        ["echo", "hello", "echo-udp"]
    );

    let mut echo = connect(addrs[0].1);
    echo.write_all(b"ping").unwrap();
    echo.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut echo).unwrap(), b"ping");

    let mut hello = connect(addrs[1].1);
    assert_eq!(read_all(&mut hello).unwrap(), b"hello\n");

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    udp.send_to(b"dgram", addrs[2].1).unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = udp.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"dgram");

    // One connection still open while the engine shuts down: it is given
    // the drain time, and the engine stops once it ends.
    let mut open = connect(addrs[0].1);
    open.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    open.read_exact(&mut one).unwrap();
    let handle = running.shutdown_handle();
    handle.shutdown(Duration::from_secs(10));
    open.write_all(b"y").unwrap();
    open.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"y");
    open.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut open).unwrap(), b"");
    running.wait();

    let log = log.lock().unwrap().clone();
    for want in [
        "listening echo",
        "listening hello",
        "listening echo-udp",
        "accepted echo",
        "accepted hello",
        "datagram echo-udp",
    ] {
        assert!(log.iter().any(|l| l == want), "{want}: {log:#?}");
    }
    assert_eq!(log.last().map(String::as_str), Some("stopped"), "{log:#?}");
    // Every service stopped: nothing answers any more.
    assert!(std::net::TcpStream::connect(addrs[0].1).is_err());
    assert!(std::net::TcpStream::connect(addrs[1].1).is_err());
}

/// Keeps its loop busy: a timer of zero, again and again.
struct Busy;
struct BusyHandler;

impl netcore::Handler for BusyHandler {
    fn on_open(&mut self, conn: &mut netcore::Connection<'_>) -> netcore::Flow {
        conn.set_timer(Duration::ZERO);
        netcore::Flow::Continue
    }
    fn on_data(&mut self, _: &mut netcore::Connection<'_>, _: &[u8]) -> netcore::Flow {
        netcore::Flow::Continue
    }
    fn on_timer(&mut self, conn: &mut netcore::Connection<'_>) -> netcore::Flow {
        conn.set_timer(Duration::ZERO);
        netcore::Flow::Continue
    }
}

impl netcore::Server for Busy {
    type Handler = BusyHandler;
    fn handler(&self, _: &netcore::ConnectionInfo) -> BusyHandler {
        BusyHandler
    }
}

/// `ShuttingDown` comes before every connection closed for shutdown and
/// before `Stopped`, however the threads interleave (it used to be sent
/// after the stop flag was visible, so a loop that was awake could close
/// its connections and report `Stopped` first).
#[test]
fn shutting_down_is_always_the_first_word_of_a_shutdown() {
    for _ in 0..20 {
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = log.clone();
        let running = Builder::new(any_local_v4())
            .threads(2)
            .observer(move |e: &Event<'_>| {
                let line = match e {
                    Event::ShuttingDown { .. } => {
                        // A slow observer: what others report meanwhile
                        // must not overtake this event.
                        std::thread::sleep(Duration::from_millis(5));
                        "shutting down"
                    }
                    Event::Closed { .. } => "closed",
                    Event::Stopped => "stopped",
                    _ => return,
                };
                seen.lock().unwrap().push(line.to_owned());
            })
            .serve(Busy)
            .unwrap();
        let clients: Vec<_> = (0..4).map(|_| connect(running.local_addr())).collect();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while running.open_connections() < 4 {
            assert!(std::time::Instant::now() < deadline);
            std::thread::yield_now();
        }
        running.shutdown(Duration::ZERO);
        let log = log.lock().unwrap().clone();
        assert_eq!(
            log.first().map(String::as_str),
            Some("shutting down"),
            "{log:?}"
        );
        assert_eq!(log.last().map(String::as_str), Some("stopped"), "{log:?}");
        assert_eq!(log.iter().filter(|l| *l == "closed").count(), 4, "{log:?}");
        drop(clients);
    }
}

/// `shutdown` says how the open connections ended: one finishes within the
/// drain time, the other is closed when it runs out.
#[test]
fn shutdown_reports_drained_and_forced_connections() {
    let running = Builder::new(any_local_v4()).serve(Echo).unwrap();
    let mut finishes = connect(running.local_addr());
    let stays = connect(running.local_addr());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while running.open_connections() < 2 {
        assert!(std::time::Instant::now() < deadline);
        std::thread::yield_now();
    }
    let handle = running.shutdown_handle();
    let closer = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !handle.is_shutting_down() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::yield_now();
        }
        finishes.shutdown(Shutdown::Write).unwrap();
        read_all(&mut finishes).unwrap()
    });
    let report = running.shutdown(Duration::from_secs(2));
    assert_eq!(closer.join().unwrap(), b"");
    assert_eq!((report.drained, report.forced), (1, 1), "{report:?}");
    drop(stays);
}
