//! Shared helpers for netcore's integration tests: loopback addresses and a
//! couple of tiny protocols.
#![allow(dead_code)]

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use netcore::{Connection, ConnectionInfo, DatagramServer, Event, Flow, Handler, Server};

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
