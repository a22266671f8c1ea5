//! Zero-copy echo (`Handler::passthrough`): byte-exact in every size, with
//! half-close, resets, back-pressure, timeouts and shutdown, and the byte
//! counts of `Closed`. Every scenario runs twice: with the fast path
//! (`fast`) and with it off (`plain`, the handler does not ask), which must
//! behave the same. That the fast path is really taken is shown by
//! `splice_proof.rs`.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use netcore::{Builder, CloseReason, Connection, ConnectionInfo, Event, Flow, Handler, Server};
use util::*;

/// Echoes every byte, asking for the fast path when `0` is true.
struct Splicer(bool);
struct SplicerHandler(bool);

impl Handler for SplicerHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        conn.send(data);
        Flow::Continue
    }
    fn passthrough(&self) -> bool {
        self.0
    }
}

impl Server for Splicer {
    type Handler = SplicerHandler;
    fn handler(&self, _: &ConnectionInfo) -> SplicerHandler {
        SplicerHandler(self.0)
    }
}

/// What `Closed` said: reason, bytes in, bytes out.
type Closed = Arc<Mutex<Vec<(CloseReason, u64, u64)>>>;

/// A builder on loopback whose observer (a closure: it does not want the
/// data, so the fast path may apply) records the `Closed` events.
fn builder() -> (Builder, Closed) {
    let closed = Closed::default();
    let log = closed.clone();
    let builder = Builder::new(any_local_v4()).observer(move |e: &Event<'_>| {
        if let Event::Closed {
            reason,
            bytes_in,
            bytes_out,
            ..
        } = e
        {
            log.lock().unwrap().push((*reason, *bytes_in, *bytes_out));
        }
    });
    (builder, closed)
}

/// Polls until `n` connections have closed, for at most 10 s.
fn wait_closed(closed: &Closed, n: usize) -> Vec<(CloseReason, u64, u64)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = closed.lock().unwrap().clone();
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `len` pseudo-random bytes (xorshift), different for each seed.
fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Sends `data` from one thread and reads the echo on another, at once,
/// then half-closes; returns what came back before the server's
/// end-of-file.
fn echo_through(addr: SocketAddr, data: Arc<Vec<u8>>) -> Vec<u8> {
    let mut s = connect(addr);
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        w.write_all(&data).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let got = read_all(&mut s).unwrap();
    writer.join().unwrap();
    got
}

/// Writes until the peer stops taking bytes (a write blocks for 200 ms),
/// never reading; returns how many it wrote. Bounded: a server that never
/// pushes back fails the test. A reset ends it too when `reset_ok` (a
/// server that gave up on us).
fn write_until_blocked(s: &mut TcpStream, reset_ok: bool) -> usize {
    s.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![0x5a; 64 * 1024];
    let mut total = 0;
    while total < 256 << 20 {
        match s.write(&chunk) {
            Ok(n) => total += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return total;
            }
            Err(e) if reset_ok && e.kind() == ErrorKind::ConnectionReset => return total,
            Err(e) => panic!("writing: {e}"),
        }
    }
    panic!("the server never pushed back: {total} bytes taken");
}

/// Each scenario, with the fast path and without.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn fast() {
                super::$name(true);
            }
            #[test]
            fn plain() {
                super::$name(false);
            }
        }
    )*};
}

both!(
    every_size_comes_back_byte_exact,
    concurrent_connections_each_get_their_own_bytes,
    a_half_close_with_data_in_flight_is_answered_in_full,
    a_reset_mid_transfer_loses_only_its_connection,
    a_client_that_never_reads_is_pushed_back,
    a_client_that_never_reads_hits_the_write_timeout,
    an_idle_connection_times_out,
    shutdown_drains_a_transfer_in_flight,
);

fn every_size_comes_back_byte_exact(fast: bool) {
    let (builder, closed) = builder();
    let running = builder.serve(Splicer(fast)).unwrap();
    let sizes = [0, 1, 4095, 64 * 1024 + 1, 64 << 20];
    for (i, &size) in sizes.iter().enumerate() {
        let data = Arc::new(random(size, i as u64 + 1));
        let got = echo_through(running.local_addr(), data.clone());
        assert!(got == *data, "size {size}: {} bytes came back", got.len());
        // The counts of the Closed event include what was spliced.
        let all = wait_closed(&closed, i + 1);
        assert_eq!(
            all.get(i),
            Some(&(CloseReason::PeerClosed, size as u64, size as u64))
        );
    }
    running.shutdown(Duration::from_secs(1));
}

fn concurrent_connections_each_get_their_own_bytes(fast: bool) {
    let (builder, closed) = builder();
    let running = builder.threads(2).serve(Splicer(fast)).unwrap();
    let addr = running.local_addr();
    let clients: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let data = Arc::new(random(4 << 20, 100 + i));
                echo_through(addr, data.clone()) == *data
            })
        })
        .collect();
    for c in clients {
        assert!(c.join().unwrap());
    }
    assert_eq!(wait_closed(&closed, 8).len(), 8);
    running.shutdown(Duration::from_secs(1));
}

fn a_half_close_with_data_in_flight_is_answered_in_full(fast: bool) {
    let (builder, _) = builder();
    let running = builder.serve(Splicer(fast)).unwrap();
    let data = random(64 * 1024, 7);
    let mut s = connect(running.local_addr());
    // All of it, then our end-of-file, before reading a byte: the echo is
    // still in flight when the server sees the end-of-file.
    s.write_all(&data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(read_all(&mut s).unwrap() == data);
    running.shutdown(Duration::from_secs(1));
}

fn a_reset_mid_transfer_loses_only_its_connection(fast: bool) {
    let (builder, closed) = builder();
    let running = builder.threads(1).serve(Splicer(fast)).unwrap();
    let mut s = connect(running.local_addr());
    let chunk = random(64 * 1024, 3);
    let mut back = vec![0u8; chunk.len()];
    for _ in 0..16 {
        s.write_all(&chunk).unwrap();
        s.read_exact(&mut back).unwrap();
        assert!(back == chunk);
    }
    s.write_all(&chunk).unwrap();
    s.write_all(&chunk).unwrap();
    // Some echo has arrived unread: closing now makes our kernel reset
    // the connection while the server is still sending.
    s.peek(&mut [0u8; 1]).unwrap();
    drop(s);
    let all = wait_closed(&closed, 1);
    assert_eq!(all.len(), 1);
    // The server goes on serving.
    let data = Arc::new(random(1 << 20, 4));
    assert!(echo_through(running.local_addr(), data.clone()) == *data);
    running.shutdown(Duration::from_secs(1));
}

fn a_client_that_never_reads_is_pushed_back(fast: bool) {
    let (builder, closed) = builder();
    let running = builder.serve(Splicer(fast)).unwrap();
    let mut s = connect(running.local_addr());
    let written = write_until_blocked(&mut s, false);
    // Bounded by the socket buffers and one pipe (or the queue's mark).
    assert!(written < 64 << 20, "{written}");
    drop(s);
    let all = wait_closed(&closed, 1);
    assert_eq!(all.len(), 1);
    let (_, bytes_in, bytes_out) = all[0];
    assert!(bytes_in <= written as u64 && bytes_out <= bytes_in);
    running.shutdown(Duration::from_secs(1));
}

fn a_client_that_never_reads_hits_the_write_timeout(fast: bool) {
    let (builder, closed) = builder();
    let running = builder
        .write_timeout(Some(Duration::from_millis(300)))
        .serve(Splicer(fast))
        .unwrap();
    let mut s = connect(running.local_addr());
    write_until_blocked(&mut s, true);
    let all = wait_closed(&closed, 1);
    assert_eq!(all.first().map(|c| c.0), Some(CloseReason::WriteTimeout));
    running.shutdown(Duration::from_secs(1));
}

fn an_idle_connection_times_out(fast: bool) {
    let (builder, closed) = builder();
    let running = builder
        .idle_timeout(Some(Duration::from_millis(200)))
        .serve(Splicer(fast))
        .unwrap();
    let mut s = connect(running.local_addr());
    s.write_all(b"hello").unwrap();
    let mut back = [0u8; 5];
    s.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"hello");
    // Then silence: the server closes, and we read its end-of-file.
    assert_eq!(read_all(&mut s).unwrap(), b"");
    let all = wait_closed(&closed, 1);
    assert_eq!(all, [(CloseReason::IdleTimeout, 5, 5)]);
    running.shutdown(Duration::from_secs(1));
}

fn shutdown_drains_a_transfer_in_flight(fast: bool) {
    let (builder, _) = builder();
    let running = builder.serve(Splicer(fast)).unwrap();
    let addr = running.local_addr();
    let (started, echoing) = mpsc::channel();
    let client = std::thread::spawn(move || {
        let data = random(16 << 20, 9);
        let mut s = connect(addr);
        let mut w = s.try_clone().unwrap();
        let sent = data.clone();
        let writer = std::thread::spawn(move || {
            w.write_all(&sent).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = vec![0u8; 1 << 20];
        s.read_exact(&mut got).unwrap();
        started.send(()).unwrap();
        s.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        got == data
    });
    echoing.recv_timeout(Duration::from_secs(10)).unwrap();
    // Shutdown stops accepting and waits for the transfer to end.
    let report = running.shutdown(Duration::from_secs(20));
    assert_eq!(report.forced, 0);
    assert!(client.join().unwrap(), "the echo was cut or changed");
}
