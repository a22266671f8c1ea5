//! The TCP engine over real loopback sockets: concurrency, isolation,
//! timeouts, limits and shutdown.

mod util;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::thread;
use std::time::{Duration, Instant};

use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Running, Server};
use util::{Echo, Recorder, any_local_v4, any_local_v6, connect, read_all};

fn echo_server(builder: Builder) -> Running {
    builder.serve(Echo).unwrap()
}

#[test]
fn public_types_are_send_and_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Builder>();
    is_send_sync::<Running>();
    is_send_sync::<netcore::ShutdownHandle>();
    is_send_sync::<netcore::Client>();
    is_send_sync::<netcore::Stream>();
    is_send_sync::<netcore::Error>();
    is_send_sync::<netcore::ConnectionInfo>();
}

#[test]
fn echoes_over_ipv4_and_ipv6() {
    for addr in [any_local_v4(), any_local_v6()] {
        let running = echo_server(Builder::new(addr));
        assert_eq!(running.local_addr().ip(), addr.ip());
        let mut s = connect(running.local_addr());
        s.write_all(b"over both families").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_all(&mut s).unwrap(), b"over both families");
    }
}

#[test]
fn dual_stack_socket_serves_ipv4_clients_with_plain_addresses() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen2 = seen.clone();
    let running = Builder::new("[::]:0".parse().unwrap())
        .observer(move |e: &netcore::Event<'_>| {
            if let netcore::Event::Accepted { conn } = e {
                *seen2.lock().unwrap() = Some((*conn).clone());
            }
        })
        .serve(Echo)
        .unwrap();
    let mut s = connect(
        format!("127.0.0.1:{}", running.local_addr().port())
            .parse()
            .unwrap(),
    );
    s.write_all(b"v4").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut s).unwrap(), b"v4");
    let info = seen.lock().unwrap().clone().unwrap();
    assert_eq!(info.peer.unwrap().ip().to_string(), "127.0.0.1");
    assert_eq!(
        info.local.unwrap().to_string(),
        format!("127.0.0.1:{}", running.local_addr().port())
    );
}

#[test]
fn many_concurrent_clients_are_served_byte_exact() {
    let running = echo_server(Builder::new(any_local_v4()).threads(2));
    let addr = running.local_addr();
    let clients: Vec<_> = (0..64u8)
        .map(|i| {
            thread::spawn(move || {
                let mut s = connect(addr);
                let payload: Vec<u8> = (0..20_000u32).map(|n| (n as u8) ^ i).collect();
                let mut reader = s.try_clone().unwrap();
                let expected = payload.clone();
                let r = thread::spawn(move || read_all(&mut reader).unwrap());
                s.write_all(&payload).unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                assert_eq!(r.join().unwrap(), expected);
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

#[test]
fn a_silent_client_does_not_block_others() {
    let running = echo_server(Builder::new(any_local_v4()).threads(1));
    let addr = running.local_addr();
    let _silent = connect(addr);
    let _silent_too = connect(addr);
    let start = Instant::now();
    let mut s = connect(addr);
    s.write_all(b"still served").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut s).unwrap(), b"still served");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_megabyte_flood_is_echoed_while_the_client_reads_slowly() {
    let running = echo_server(Builder::new(any_local_v4()));
    let mut s = connect(running.local_addr());
    let payload: Vec<u8> = (0..4_000_000u32).map(|n| (n % 251) as u8).collect();
    let mut reader = s.try_clone().unwrap();
    let r = thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 1500];
        loop {
            match reader.read(&mut buf).unwrap() {
                0 => return got,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    s.write_all(&payload).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(r.join().unwrap() == payload);
}

#[test]
fn end_of_file_right_behind_data_is_seen() {
    // Data and FIN arriving together must still close the connection: a
    // short read may not be taken to mean "drained" then.
    let running = echo_server(Builder::new(any_local_v4()));
    for _ in 0..200 {
        let mut s = connect(running.local_addr());
        s.write_all(b"bye").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_all(&mut s).unwrap(), b"bye");
    }
}

#[test]
fn idle_connections_are_closed() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .idle_timeout(Some(Duration::from_millis(100)))
        .observer(rec.observer())
        .serve(Echo)
        .unwrap();
    let mut s = connect(running.local_addr());
    assert_eq!(read_all(&mut s).unwrap(), b"");
    let lines = rec.wait_for(|l| l.iter().any(|x| x == "closed IdleTimeout"));
    assert!(lines.iter().any(|x| x == "closed IdleTimeout"), "{lines:?}");
}

#[test]
fn read_timeout_closes_a_client_that_stops_sending() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .read_timeout(Some(Duration::from_millis(100)))
        .observer(rec.observer())
        .serve(Echo)
        .unwrap();
    let mut s = connect(running.local_addr());
    s.write_all(b"x").unwrap();
    assert_eq!(read_all(&mut s).unwrap(), b"x");
    let lines = rec.wait_for(|l| l.iter().any(|x| x == "closed ReadTimeout"));
    assert!(lines.iter().any(|x| x == "closed ReadTimeout"), "{lines:?}");
}

#[test]
fn write_timeout_closes_a_client_that_stops_reading() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .write_timeout(Some(Duration::from_millis(200)))
        .observer(rec.observer())
        .serve(Echo)
        .unwrap();
    let mut s = connect(running.local_addr());
    s.set_write_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    // Write without reading until the server gives up; bounded by size.
    let chunk = vec![7u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(10);
    for _ in 0..2000 {
        if s.write(&chunk).is_err() || Instant::now() > deadline {
            break;
        }
    }
    let lines = rec.wait_for(|l| l.iter().any(|x| x == "closed WriteTimeout"));
    assert!(
        lines.iter().any(|x| x == "closed WriteTimeout"),
        "{lines:?}"
    );
}

#[test]
fn max_connections_holds_extra_clients_in_the_backlog() {
    let running = echo_server(Builder::new(any_local_v4()).max_connections(1).threads(1));
    let addr = running.local_addr();
    let mut first = connect(addr);
    first.write_all(b"1").unwrap();
    let mut one = [0u8; 1];
    first.read_exact(&mut one).unwrap();
    // The second connects (kernel backlog) but is not served yet.
    let mut second = connect(addr);
    second.write_all(b"2").unwrap();
    second
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(second.read_exact(&mut one).is_err());
    assert_eq!(running.open_connections(), 1);
    // Once the first leaves, the second is accepted and served.
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    second.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"2");
}

struct Panicky;
struct PanickyHandler;

impl Handler for PanickyHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        if data.starts_with(b"boom") {
            panic!("handler failed on purpose");
        }
        conn.send(data);
        Flow::Continue
    }
}

impl Server for Panicky {
    type Handler = PanickyHandler;
    fn handler(&self, _: &ConnectionInfo) -> PanickyHandler {
        PanickyHandler
    }
}

#[test]
fn a_panicking_handler_loses_only_its_connection() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .threads(1)
        .observer(rec.observer())
        .serve(Panicky)
        .unwrap();
    let addr = running.local_addr();
    let mut good = connect(addr);
    let mut bad = connect(addr);
    bad.write_all(b"boom").unwrap();
    assert!(read_all(&mut bad).map(|v| v.is_empty()).unwrap_or(true));
    good.write_all(b"fine").unwrap();
    good.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut good).unwrap(), b"fine");
    let lines = rec.wait_for(|l| l.iter().any(|x| x == "closed HandlerPanic"));
    // The panic's own message is reported, as an Error event, before the
    // close.
    let said = "error running the handler of: the handler panicked: handler failed on purpose";
    let error = lines.iter().position(|l| l == said);
    let closed = lines.iter().position(|l| l == "closed HandlerPanic");
    assert!(error.is_some() && error < closed, "{lines:#?}");
}

#[test]
fn shutdown_stops_accepting_at_once_and_drains_open_connections() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .observer(rec.observer())
        .serve(Echo)
        .unwrap();
    let addr = running.local_addr();
    let mut open = connect(addr);
    open.write_all(b"a").unwrap();
    let mut one = [0u8; 1];
    open.read_exact(&mut one).unwrap();

    let handle = running.shutdown_handle();
    let started = Instant::now();
    handle.shutdown(Duration::from_secs(10));
    // The listener closes without a polling delay.
    let refused = (0..200).any(|_| {
        let r = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200));
        r.is_err() || {
            thread::yield_now();
            false
        }
    });
    assert!(refused, "new connections still accepted after shutdown");
    // The open connection still works during the drain.
    open.write_all(b"b").unwrap();
    open.read_exact(&mut one).unwrap();
    assert_eq!(&one, b"b");
    open.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut open).unwrap(), b"");
    running.wait();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited for the drain deadline"
    );
    let lines = rec.lines();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("stopped"),
        "{lines:?}"
    );
}

#[test]
fn drain_deadline_closes_stragglers() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .observer(rec.observer())
        .serve(Echo)
        .unwrap();
    let mut straggler = connect(running.local_addr());
    straggler.write_all(b"x").unwrap();
    let mut one = [0u8; 1];
    straggler.read_exact(&mut one).unwrap();
    let started = Instant::now();
    running.shutdown(Duration::from_millis(100));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(read_all(&mut straggler).unwrap_or_default(), b"");
    assert!(rec.lines().iter().any(|l| l == "closed Shutdown"));
}

#[test]
fn address_in_use_is_a_typed_error() {
    let running = echo_server(Builder::new(any_local_v4()));
    let err = Builder::new(running.local_addr()).serve(Echo).unwrap_err();
    assert_eq!(err.io_kind(), std::io::ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&running.local_addr().to_string()));
}

#[test]
fn an_adopted_listener_is_served() {
    let listener = std::net::TcpListener::bind(any_local_v4()).unwrap();
    let addr = listener.local_addr().unwrap();
    let running = Builder::from_listener(listener)
        .unwrap()
        .serve(Echo)
        .unwrap();
    assert_eq!(running.local_addr(), addr);
    let mut s = connect(addr);
    s.write_all(b"adopted").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut s).unwrap(), b"adopted");
}

#[test]
fn lifecycle_events_come_in_order() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .threads(1)
        .observer(rec.observer())
        .serve(Echo)
        .unwrap();
    let mut s = connect(running.local_addr());
    s.write_all(b"hi").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    read_all(&mut s).unwrap();
    rec.wait_for(|l| l.iter().any(|x| x.starts_with("closed")));
    running.shutdown(Duration::from_secs(1));
    let lines = rec.lines();
    assert_eq!(
        lines,
        [
            "opened",
            "bound",
            "listening",
            "accepted",
            "read",
            "wrote",
            "closed PeerClosed",
            "shuttingdown",
            "stopped"
        ],
    );
}

/// Answers the first chunk and closes (like the lecture's line-mode echo).
struct Once;
struct OnceHandler;

impl Handler for OnceHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        conn.send(data);
        Flow::Close
    }
}

impl Server for Once {
    type Handler = OnceHandler;
    fn handler(&self, _: &ConnectionInfo) -> OnceHandler {
        OnceHandler
    }
}

#[test]
fn a_server_close_lingers_so_late_input_gets_no_reset() {
    let running = Builder::new(any_local_v4()).serve(Once).unwrap();
    let mut s = connect(running.local_addr());
    s.write_all(b"first").unwrap();
    let mut reply = [0u8; 5];
    s.read_exact(&mut reply).unwrap();
    // Input the server will never use, sent after it decided to close: a
    // plain close would answer it with RST.
    s.write_all(b"late input").unwrap();
    assert_eq!(read_all(&mut s).unwrap(), b"", "end-of-file, not a reset");
    s.shutdown(Shutdown::Write).unwrap();
}

#[test]
fn a_lingering_close_ends_when_the_peer_never_closes() {
    let rec = Recorder::default();
    let running = Builder::new(any_local_v4())
        .observer(rec.observer())
        .serve(Once)
        .unwrap();
    let mut s = connect(running.local_addr());
    s.write_all(b"x").unwrap();
    assert_eq!(read_all(&mut s).unwrap(), b"x");
    // The client keeps its side open; the server gives up after its linger
    // time (2 s) and closes anyway.
    let lines = rec.wait_for(|l| l.iter().any(|x| x == "closed Handler"));
    assert!(lines.iter().any(|x| x == "closed Handler"), "{lines:?}");
    assert_eq!(running.open_connections(), 0);
}
