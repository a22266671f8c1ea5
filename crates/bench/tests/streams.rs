//! Discard uploads and chargen downloads against real netlab servers on
//! loopback: every transfer completes and verifies; a chargen server that
//! sends one wrong byte, or a discard server that answers, is caught.

use std::net::SocketAddr;
use std::time::Duration;

use bench::{Config, Error, Progress, Transport, Workload};
use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn discard_uploads_complete() {
    let server = Builder::new(local()).serve(discard::Discard).unwrap();
    let config =
        Config::new(server.local_addr(), Workload::Discard { bytes: 4 << 20 }).connections(3);
    let progress = Progress::default();
    let report = bench::run(&config, &progress).unwrap();
    assert_eq!(report.ops, 3, "{report}");
    assert_eq!(report.bytes, 3 * (4 << 20));
    assert_eq!(progress.bytes(), report.bytes);
    assert_eq!((report.errors, report.mismatches), (0, 0), "{report}");
    assert_eq!((report.workload, report.op), ("discard", "transfer"));
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn chargen_downloads_verify_from_offset_0_on_each_connection() {
    let server = Builder::new(local())
        .serve(chargen::Chargen::new())
        .unwrap();
    let config = Config::new(server.local_addr(), Workload::Chargen { bytes: 4 << 20 })
        .connections(3)
        .threads(2);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert_eq!(report.ops, 3, "{report}");
    assert_eq!(report.bytes, 3 * (4 << 20));
    assert_eq!((report.errors, report.mismatches), (0, 0), "{report}");
    assert_eq!(report.workload, "chargen");
    // Ended politely: the server closed every connection, none is left.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.open_connections() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "connections left open"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    server.shutdown(Duration::from_secs(1));
}

/// Chargen with byte 100,000 of every connection changed.
struct Corrupt;
struct CorruptHandler(chargen::Generator);

impl Handler for CorruptHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        self.on_drained(conn)
    }
    fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
        Flow::Continue
    }
    fn on_drained(&mut self, conn: &mut Connection<'_>) -> Flow {
        let at = self.0.offset();
        let mut chunk = self.0.next_chunk(64 * 1024).to_vec();
        if (at..at + chunk.len() as u64).contains(&100_000) {
            chunk[(100_000 - at) as usize] ^= 0x20;
        }
        conn.send(&chunk);
        conn.notify_drained();
        Flow::Continue
    }
}

impl Server for Corrupt {
    type Handler = CorruptHandler;
    fn handler(&self, _: &ConnectionInfo) -> CorruptHandler {
        CorruptHandler(chargen::Generator::new())
    }
}

/// Discard that answers each read with `?`.
struct Chatty;
struct ChattyHandler;

impl Handler for ChattyHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, _: &[u8]) -> Flow {
        conn.send(b"?");
        Flow::Continue
    }
}

impl Server for Chatty {
    type Handler = ChattyHandler;
    fn handler(&self, _: &ConnectionInfo) -> ChattyHandler {
        ChattyHandler
    }
}

#[test]
fn a_wrong_byte_or_a_reply_is_a_mismatch() {
    let server = Builder::new(local()).serve(Corrupt).unwrap();
    let config = Config::new(server.local_addr(), Workload::Chargen { bytes: 1 << 20 })
        .connections(2)
        .timeout(Duration::from_secs(5));
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert_eq!(report.mismatches, 2, "{report}");
    assert_eq!(report.ops, 0, "{report}");
    server.shutdown(Duration::from_secs(1));

    let server = Builder::new(local()).serve(Chatty).unwrap();
    let config = Config::new(server.local_addr(), Workload::Discard { bytes: 1 << 20 })
        .timeout(Duration::from_secs(5));
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert_eq!(report.mismatches, 1, "{report}");
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn streams_are_tcp_only_and_not_empty() {
    let addr = local();
    for config in [
        Config::new(addr, Workload::Discard { bytes: 10 }).transport(Transport::Udp),
        Config::new(addr, Workload::Chargen { bytes: 10 }).transport(Transport::Udp),
        Config::new(addr, Workload::Chargen { bytes: 0 }),
        Config::new(addr, Workload::Discard { bytes: 0 }),
    ] {
        let err = bench::run(&config, &Progress::default()).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
    }
}
