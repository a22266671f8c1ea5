//! Accepts are spread evenly over the event loops: with four loops, each
//! serves its share of 10,000 connections (within ±20 % of the mean),
//! whether netcore bound the listener or adopted it. Each connection is
//! counted by the name of the thread that made its handler (`netcore-N`),
//! and closed as soon as it is counted, so no descriptor limit is needed.

use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};

const LOOPS: usize = 4;
const CONNECTIONS: usize = 10_000;
/// Client threads connecting at once. One at a time is where loops that
/// all wake for every connection spread worst: the race for `accept(2)`
/// is won by the same few, and four loops on two cores served from 47 %
/// down to 2 % of the connections each. Several clients at once hide it.
const CLIENTS: usize = 1;

/// Counts connections by the loop thread that served them, then says one
/// byte and closes.
#[derive(Clone, Default)]
struct Tally(Arc<Mutex<HashMap<String, usize>>>);

struct Once;

impl Handler for Once {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        conn.send(b".");
        Flow::Close
    }
    fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
        Flow::Close
    }
}

impl Server for Tally {
    type Handler = Once;
    fn handler(&self, _: &ConnectionInfo) -> Once {
        let name = thread::current().name().unwrap_or("unnamed").to_owned();
        *self.0.lock().unwrap().entry(name).or_insert(0) += 1;
        Once
    }
}

/// Makes `CONNECTIONS` connections from `CLIENTS` threads, each read to
/// its end (the server's close) before the next.
fn connect_many(addr: SocketAddr) {
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            thread::spawn(move || {
                for _ in 0..CONNECTIONS / CLIENTS {
                    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    let mut reply = Vec::new();
                    s.read_to_end(&mut reply).unwrap();
                    assert_eq!(reply, b".");
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
}

/// Every loop served within ±20 % of the mean.
fn assert_even(tally: &Tally) {
    let counts = tally.0.lock().unwrap().clone();
    let total: usize = counts.values().sum();
    assert_eq!(total, CONNECTIONS, "every connection counted: {counts:?}");
    let mean = CONNECTIONS / LOOPS;
    for i in 0..LOOPS {
        let served = counts.get(&format!("netcore-{i}")).copied().unwrap_or(0);
        assert!(
            served.abs_diff(mean) * 5 <= mean,
            "loop {i} served {served} of {CONNECTIONS}, mean {mean}: {counts:?}"
        );
    }
}

#[test]
fn accepts_spread_evenly_over_the_loops() {
    let tally = Tally::default();
    let running = Builder::new("127.0.0.1:0".parse().unwrap())
        .threads(LOOPS)
        .serve(tally.clone())
        .unwrap();
    connect_many(running.local_addr());
    running.shutdown(Duration::from_secs(5));
    assert_even(&tally);
}

#[test]
fn accepts_on_an_adopted_listener_spread_evenly_too() {
    // The socket-activation and reload path: a listener bound elsewhere.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tally = Tally::default();
    let running = Builder::from_listener(listener)
        .unwrap()
        .threads(LOOPS)
        .serve(tally.clone())
        .unwrap();
    connect_many(running.local_addr());
    running.shutdown(Duration::from_secs(5));
    assert_even(&tally);
}
