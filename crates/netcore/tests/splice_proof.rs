//! The zero-copy echo is really taken, and only where it should be: a
//! connection echoing through `splice(2)` holds a pipe (counted in
//! `/proc/self/fd`) while its echo waits; a handler that does not ask, or
//! an observer that wants the data, gets none; and idle connections hold
//! none, however many. One test alone in its binary, so no other test's
//! descriptors disturb the count.
#![cfg(target_os = "linux")]

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use netcore::{Builder, Connection, ConnectionInfo, Event, Flow, Handler, Server, WithData};
use util::*;

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

/// Descriptors of this process that are pipes (both ends count).
fn pipes() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("pipe:"))
        .count()
}

/// Polls until `pred` holds for the pipe count, for at most 5 s; returns
/// the last count.
fn pipes_until(pred: impl Fn(usize) -> bool) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = pipes();
        if pred(n) || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Writes without reading until the server stops taking bytes.
fn stall(s: &mut TcpStream) {
    s.set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let chunk = vec![1u8; 64 * 1024];
    for _ in 0..4096 {
        match s.write(&chunk) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return,
            Err(e) => panic!("writing: {e}"),
        }
    }
    panic!("the server never pushed back");
}

/// Serves `server`, stalls one client on it, and returns how many pipes
/// the process gained meanwhile (0 once the server is gone).
fn pipes_while_stalled(builder: Builder, server: Splicer, expect_pipe: bool) -> usize {
    let before = pipes();
    let running = builder.threads(1).serve(server).unwrap();
    let mut s = connect(running.local_addr());
    stall(&mut s);
    let during = pipes_until(|n| !expect_pipe || n >= before + 2);
    drop(s);
    running.shutdown(Duration::from_secs(1));
    // The loop's thread is gone, and its pool with it.
    assert_eq!(pipes_until(|n| n == before), before);
    during - before
}

#[test]
fn the_fast_path_is_taken_only_when_asked_and_unwatched() {
    let quiet = || Builder::new(any_local_v4());
    // Asked, nobody watches the bytes: the stalled echo sits in a pipe.
    assert_eq!(pipes_while_stalled(quiet(), Splicer(true), true), 2);
    // Not asked: no pipe.
    assert_eq!(pipes_while_stalled(quiet(), Splicer(false), false), 0);
    // Asked, but the observer wants every byte it reads: no pipe.
    let watched = quiet().observer(WithData(|_: &Event<'_>| {}));
    assert_eq!(pipes_while_stalled(watched, Splicer(true), false), 0);

    // Many connections that echoed a byte and went idle hold no pipe: a
    // small request is echoed with plain reads and writes, which cost it
    // less than a pipe does; only a streaming peer takes the fast path.
    let before = pipes();
    let running = Builder::new(any_local_v4())
        .threads(1)
        .serve(Splicer(true))
        .unwrap();
    let clients: Vec<TcpStream> = (0..200)
        .map(|i| {
            let mut s = connect(running.local_addr());
            s.write_all(&[i as u8]).unwrap();
            let mut b = [0u8; 1];
            s.read_exact(&mut b).unwrap();
            assert_eq!(b[0], i as u8);
            s
        })
        .collect();
    let gained = pipes() - before;
    assert_eq!(gained, 0, "{gained} pipe ends");
    drop(clients);
    running.shutdown(Duration::from_secs(1));
}
