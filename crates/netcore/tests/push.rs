//! Handlers that push: producing as fast as the peer reads (a chargen-like
//! stream), timers, and connections woken or closed from other threads.

mod util;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
use util::*;

#[test]
fn a_pushing_handler_streams_as_fast_as_the_peer_reads() {
    let (tx, most_queued) = mpsc::channel();
    let running = Builder::new(any_local_v4())
        .serve(Push(tx, None, None))
        .unwrap();
    let mut s = connect(running.local_addr());
    let mut got = vec![0u8; 32 << 20];
    s.read_exact(&mut got).unwrap();
    // Byte-exact: whole lines, in order, however the reads were cut.
    assert!(is_lines(&got));
    drop(s);
    let most = most_queued.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(most < Connection::HIGH_WATER + LINE.len(), "{most}");
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn a_pushing_handler_waits_for_a_slow_reader_with_bounded_memory() {
    let (tx, most_queued) = mpsc::channel();
    let running = Builder::new(any_local_v4())
        .serve(Push(tx, None, None))
        .unwrap();
    let mut s = connect(running.local_addr());
    let mut buf = [0u8; 4096];
    let mut total = 0;
    // A slow reader: a little at a time, with pauses, for about half a
    // second. Nothing is lost and the server never queues past its mark.
    let deadline = Instant::now() + Duration::from_millis(500);
    while Instant::now() < deadline {
        s.read_exact(&mut buf).unwrap();
        total += buf.len();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(total > 0);
    s.shutdown(Shutdown::Both).unwrap();
    drop(s);
    let most = most_queued.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(most < Connection::HIGH_WATER + LINE.len(), "{most}");
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn a_timer_calls_the_handler_after_its_delay() {
    let running = Builder::new(any_local_v4()).serve(Ticker).unwrap();
    let started = Instant::now();
    let mut s = connect(running.local_addr());
    let got = read_all(&mut s).unwrap();
    assert_eq!(got, b"tick 1\ntick 2\ntick 3\n");
    assert!(started.elapsed() >= Duration::from_millis(60));
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn a_handle_wakes_and_closes_its_connection_from_another_thread() {
    let (tx, handles) = mpsc::channel();
    let running = Builder::new(any_local_v4())
        .threads(1)
        .serve(Remote(tx))
        .unwrap();
    let mut s = connect(running.local_addr());
    let handle = handles.recv_timeout(Duration::from_secs(5)).unwrap();
    std::thread::spawn(move || {
        handle.wake();
        handle.close();
    })
    .join()
    .unwrap();
    assert_eq!(read_all(&mut s).unwrap(), b"woken\n");
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn a_stale_handle_never_touches_the_connection_that_reuses_its_slot() {
    let (tx, handles) = mpsc::channel();
    let running = Builder::new(any_local_v4())
        .threads(1)
        .serve(Remote(tx))
        .unwrap();
    // The first connection closes; the second takes its slot.
    let mut first = connect(running.local_addr());
    let stale = handles.recv_timeout(Duration::from_secs(5)).unwrap();
    first.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut first).unwrap(), b"");
    let deadline = Instant::now() + Duration::from_secs(5);
    while running.open_connections() > 0 {
        assert!(
            Instant::now() < deadline,
            "the first connection never closed"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut second = connect(running.local_addr());
    let fresh = handles.recv_timeout(Duration::from_secs(5)).unwrap();
    stale.wake();
    stale.close();
    // The stale commands were dropped: the second connection still echoes,
    // and only its own handle wakes it.
    second.write_all(b"ping\n").unwrap();
    let mut buf = [0u8; 5];
    second.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\n");
    fresh.wake();
    let mut woken = [0u8; 6];
    second.read_exact(&mut woken).unwrap();
    assert_eq!(&woken, b"woken\n");
    fresh.close();
    assert_eq!(read_all(&mut second).unwrap(), b"");
    running.shutdown(Duration::from_secs(1));
}

/// More than the kernel's socket buffers hold (tcp_wmem's maximum is
/// 4 MiB), so the server cannot have sent it all before the client speaks.
const BANNER: usize = 16 << 20;

/// Sends `BANNER` bytes on open and closes, never reading.
struct Banner;
struct BannerHandler;

impl Handler for BannerHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        conn.send(&vec![b'b'; BANNER]);
        Flow::Close
    }
    fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
        Flow::Close
    }
}

impl Server for Banner {
    type Handler = BannerHandler;
    fn handler(&self, _: &ConnectionInfo) -> BannerHandler {
        BannerHandler
    }
}

/// A client that sends something the server never reads still gets the
/// whole reply: the server half-closes and lingers instead of closing over
/// unread input, which made the kernel reset the connection and drop the
/// end of the reply.
#[test]
fn a_reply_is_not_lost_to_input_the_server_never_read() {
    let running = Builder::new(any_local_v4()).serve(Banner).unwrap();
    for _ in 0..3 {
        let mut s = connect(running.local_addr());
        // Sent before the client reads a byte, so before the server can
        // have finished its reply and decided how to close.
        s.write_all(b"hello\n").unwrap();
        let got = read_all(&mut s).expect("the reply was reset");
        assert_eq!(got.len(), BANNER);
    }
    running.shutdown(Duration::from_secs(1));
}
