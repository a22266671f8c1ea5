//! Shared helpers for netcore's integration tests: loopback addresses and a
//! few tiny protocols (echo, a pushing stream, a ticker, a handler other
//! threads reach through its handle), served by the event loop and by the
//! inetd driver alike.
#![allow(dead_code)]

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use netcore::{
    ConnHandle, Connection, ConnectionInfo, DatagramServer, Event, Flow, Handler, Server,
};

pub fn any_local_v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

pub fn any_local_v6() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

/// Echoes every byte (a minimal RFC 862 handler).
pub struct Echo;
pub struct EchoHandler;

impl Handler for EchoHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        conn.send(data);
        Flow::Continue
    }
}

impl Server for Echo {
    type Handler = EchoHandler;
    fn handler(&self, _: &ConnectionInfo) -> EchoHandler {
        EchoHandler
    }
}

impl DatagramServer for Echo {
    fn respond(&self, request: &[u8], _: SocketAddr, reply: &mut Vec<u8>) -> bool {
        reply.extend_from_slice(request);
        true
    }
}

/// Connects with timeouts so a broken server fails the test instead of
/// hanging it.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Reads until end-of-file.
pub fn read_all(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    s.read_to_end(&mut v)?;
    Ok(v)
}

/// Records every event as a line of text.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<String>>>);

impl Recorder {
    pub fn observer(&self) -> impl netcore::Observer {
        let log = self.0.clone();
        netcore::WithData(move |e: &Event<'_>| {
            let line = match e {
                Event::Closed { reason, .. } => format!("closed {reason:?}"),
                Event::Error { op, error, .. } => format!("error {op}: {error}"),
                Event::Refused { why, .. } => format!("refused {why}"),
                other => {
                    let text = format!("{other:?}");
                    text.split([' ', '{', '('])
                        .next()
                        .unwrap_or("")
                        .to_lowercase()
                }
            };
            log.lock().unwrap().push(line);
        })
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// Polls until `pred` holds for the lines, for at most 5 s.
    pub fn wait_for(&self, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.lines();
            if pred(&lines) || Instant::now() > deadline {
                return lines;
            }
            std::thread::yield_now();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

// ---- protocols that push, shared by the engine and inetd tests ----

/// Streams a 74-byte line whenever the queue has drained, until the peer
/// closes or, if given, a timer; reports the largest queue it saw when
/// dropped, and adds every byte it queues to the counter, if given.
pub struct Push(
    pub mpsc::Sender<usize>,
    pub Option<Duration>,
    pub Option<Arc<AtomicUsize>>,
);
pub struct PushHandler {
    most_queued: usize,
    report: mpsc::Sender<usize>,
    stop: Option<Duration>,
    produced: Option<Arc<AtomicUsize>>,
}

pub const LINE: &[u8; 74] =
    b"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n";

/// Whether `got` is whole [`LINE`]s in order, however the reads cut them
/// (the last one may be cut short).
pub fn is_lines(got: &[u8]) -> bool {
    got.chunks(LINE.len())
        .all(|line| line == LINE || LINE.starts_with(line))
}

impl PushHandler {
    fn fill(&mut self, conn: &mut Connection<'_>) -> Flow {
        while conn.room() > 0 {
            conn.send(LINE);
            if let Some(produced) = &self.produced {
                produced.fetch_add(LINE.len(), Ordering::Relaxed);
            }
        }
        self.most_queued = self.most_queued.max(conn.queued());
        conn.notify_drained();
        Flow::Continue
    }
}

impl Handler for PushHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        if let Some(stop) = self.stop {
            conn.set_timer(stop);
        }
        self.fill(conn)
    }
    fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
        Flow::Continue
    }
    fn on_drained(&mut self, conn: &mut Connection<'_>) -> Flow {
        self.fill(conn)
    }
    fn on_timer(&mut self, _: &mut Connection<'_>) -> Flow {
        Flow::Close
    }
}

impl Drop for PushHandler {
    fn drop(&mut self) {
        let _ = self.report.send(self.most_queued);
    }
}

impl Server for Push {
    type Handler = PushHandler;
    fn handler(&self, _: &ConnectionInfo) -> PushHandler {
        PushHandler {
            most_queued: 0,
            report: self.0.clone(),
            stop: self.1,
            produced: self.2.clone(),
        }
    }
}

/// Says "tick N" every 20 ms, three times, then closes.
pub struct Ticker;
pub struct TickerHandler(u32);

impl Handler for TickerHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        conn.set_timer(Duration::from_millis(20));
        Flow::Continue
    }
    fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
        Flow::Continue
    }
    fn on_timer(&mut self, conn: &mut Connection<'_>) -> Flow {
        self.0 += 1;
        conn.send(format!("tick {}\n", self.0).as_bytes());
        if self.0 == 3 {
            return Flow::Close;
        }
        conn.set_timer(Duration::from_millis(20));
        Flow::Continue
    }
}

impl Server for Ticker {
    type Handler = TickerHandler;
    fn handler(&self, _: &ConnectionInfo) -> TickerHandler {
        TickerHandler(0)
    }
}

/// Hands every connection's handle out; says "woken" when woken.
pub struct Remote(pub mpsc::Sender<ConnHandle>);
pub struct RemoteHandler(Option<mpsc::Sender<ConnHandle>>);

impl Handler for RemoteHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        if let (Some(tx), Some(handle)) = (self.0.take(), conn.handle()) {
            tx.send(handle).unwrap();
        }
        Flow::Continue
    }
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        conn.send(data);
        Flow::Continue
    }
    fn on_wake(&mut self, conn: &mut Connection<'_>) -> Flow {
        conn.send(b"woken\n");
        Flow::Continue
    }
}

impl Server for Remote {
    type Handler = RemoteHandler;
    fn handler(&self, _: &ConnectionInfo) -> RemoteHandler {
        RemoteHandler(Some(self.0.clone()))
    }
}
