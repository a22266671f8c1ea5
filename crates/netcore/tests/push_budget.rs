//! Producers under the output budget: many peers that open a pushing
//! connection and never read make the server hold a few KiB each once the
//! engine is over its budget, not up to the 256 KiB high-water mark each,
//! and a peer that does read is still served beside them.

mod util;

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use netcore::{Builder, Connection, Event, Observer};
use socket2::{Domain, Socket, Type};
use util::*;

const SILENT: usize = 100;
const BUDGET: usize = 1 << 20;
/// The most one fill queues while the engine is over its budget (netcore's
/// small step, 4 KiB), plus the line that crosses it.
const SMALL_FILL: usize = 4096 + LINE.len();

/// Counts the bytes the kernel took (`Event::Wrote`).
struct Written(Arc<AtomicUsize>);

impl Observer for Written {
    fn event(&self, event: &Event<'_>) {
        if let Event::Wrote { data, .. } = event {
            self.0.fetch_add(data.len(), Ordering::Relaxed);
        }
    }
}

/// A peer with a small receive buffer that never reads, so what the server
/// produces piles up in the server rather than in the kernel. It reads the
/// first byte only, to know the server has served it.
fn silent_peer(addr: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .connect_timeout(&addr.into(), Duration::from_secs(5))
        .unwrap();
    let mut stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).unwrap();
    stream
}

#[test]
fn producers_past_the_output_budget_hold_a_few_kib_each() {
    let produced = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicUsize::new(0));
    let (tx, _most_queued) = mpsc::channel();
    let running = Builder::new(any_local_v4())
        .threads(1)
        .output_budget(BUDGET)
        .observer(Written(written.clone()))
        .serve(Push(tx, None, Some(produced.clone())))
        .unwrap();
    let addr = running.local_addr();
    let silent: Vec<TcpStream> = (0..SILENT).map(|_| silent_peer(addr)).collect();

    // A reader beside them still gets its stream, byte-exact.
    let mut good = connect(addr);
    good.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = vec![0u8; 1 << 20];
    good.read_exact(&mut got).unwrap();
    assert!(is_lines(&got));
    drop(good);

    // What the server holds: produced and not yet taken by the kernel.
    // Wait (bounded) until it stops moving.
    let held = || produced.load(Ordering::Relaxed) - written.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = held();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = held();
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    // Without the budget's small step every silent peer would hold what
    // its socket did not take of a 256 KiB fill (about 6 MiB here).
    let bound = BUDGET + Connection::HIGH_WATER + SILENT * SMALL_FILL;
    assert!(
        last <= bound,
        "the server holds {last} bytes for {SILENT} silent peers, over {bound}"
    );
    drop(silent);
    running.shutdown(Duration::from_millis(100));
}
