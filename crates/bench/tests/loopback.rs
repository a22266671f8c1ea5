//! The load generator against real netlab servers on loopback: every
//! workload verifies, a corrupting server is caught, a closed port fails.

use std::net::SocketAddr;
use std::time::Duration;

use bench::{Config, Error, Progress, Transport, Workload};
use netcore::{
    Builder, Connection, ConnectionInfo, DatagramBuilder, DatagramServer, Flow, Handler, Running,
    Server,
};

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn short(addr: SocketAddr, workload: Workload) -> Config {
    Config::new(addr, workload).duration(Duration::from_millis(300))
}

fn echo_server() -> Running {
    Builder::new(local()).serve(echo::Echo::default()).unwrap()
}

#[test]
fn echo_request_response_verifies() {
    let server = echo_server();
    let config = short(server.local_addr(), Workload::Echo { size: 64 })
        .connections(8)
        .threads(2)
        .server_pid(std::process::id());
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 100, "{report}");
    assert_eq!((report.errors, report.mismatches), (0, 0), "{report}");
    assert_eq!(report.bytes, report.ops * 64);
    assert!(report.latency.p50_us > 0.0);
    assert!(report.server.is_some());
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn large_requests_verify() {
    let server = echo_server();
    let config = short(server.local_addr(), Workload::Echo { size: 1 << 20 }).connections(2);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 0, "{report}");
    assert_eq!((report.errors, report.mismatches), (0, 0), "{report}");
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn bulk_verifies_every_byte() {
    let server = echo_server();
    let config = Config::new(server.local_addr(), Workload::Bulk { bytes: 8 << 20 }).connections(3);
    let progress = Progress::default();
    let report = bench::run(&config, &progress).unwrap();
    assert_eq!(report.ops, 3, "{report}");
    assert_eq!(report.bytes, 3 * (8 << 20));
    assert_eq!(progress.bytes(), report.bytes);
    assert_eq!((report.errors, report.mismatches), (0, 0), "{report}");
    assert!(report.gb_per_s > 0.0);
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn daytime_connections_verify() {
    let server = Builder::new(local())
        .serve(daytime::Daytime::default())
        .unwrap();
    let config = short(server.local_addr(), Workload::Daytime).connections(4);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 10, "{report}");
    assert_eq!((report.errors, report.mismatches), (0, 0), "{report}");
    server.shutdown(Duration::from_secs(1));
}

#[test]
fn udp_echo_and_daytime_verify() {
    let echo = DatagramBuilder::new(local())
        .serve(echo::Echo::default())
        .unwrap();
    let config = short(echo.local_addr(), Workload::Echo { size: 512 })
        .transport(Transport::Udp)
        .connections(4);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 10, "{report}");
    assert_eq!(report.mismatches, 0, "{report}");

    let day = DatagramBuilder::new(local())
        .serve(daytime::Daytime::default())
        .unwrap();
    let config = short(day.local_addr(), Workload::Daytime)
        .transport(Transport::Udp)
        .connections(2);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 10, "{report}");
    assert_eq!(report.mismatches, 0, "{report}");
    echo.shutdown(Duration::from_secs(1));
    day.shutdown(Duration::from_secs(1));
}

/// Many requests in flight on each socket: every reply still verifies
/// against the one request it answers.
#[test]
fn udp_with_many_requests_in_flight_verifies() {
    let echo = DatagramBuilder::new(local())
        .serve(echo::Echo::default())
        .unwrap();
    let config = short(echo.local_addr(), Workload::Echo { size: 64 })
        .transport(Transport::Udp)
        .connections(4)
        .depth(16);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 100, "{report}");
    assert_eq!((report.mismatches, report.depth), (0, 16), "{report}");
    assert_eq!(report.bytes, report.ops * 64);
    echo.shutdown(Duration::from_secs(1));

    let day = DatagramBuilder::new(local())
        .serve(daytime::Daytime::default())
        .unwrap();
    let config = short(day.local_addr(), Workload::Daytime)
        .transport(Transport::Udp)
        .connections(2)
        .depth(8);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 100, "{report}");
    assert_eq!(report.mismatches, 0, "{report}");
    day.shutdown(Duration::from_secs(1));
}

/// Echoes UDP but drops every 5th datagram: the skipped requests are
/// losses, never mismatches, and the window keeps moving.
struct Lossy(std::sync::atomic::AtomicU64);

impl DatagramServer for Lossy {
    fn respond(&self, request: &[u8], _: SocketAddr, reply: &mut Vec<u8>) -> bool {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        reply.extend_from_slice(request);
        n % 5 != 4
    }
}

#[test]
fn udp_replies_skipped_in_a_window_are_losses() {
    let udp = DatagramBuilder::new(local())
        .serve(Lossy(Default::default()))
        .unwrap();
    let config = short(udp.local_addr(), Workload::Echo { size: 32 })
        .transport(Transport::Udp)
        .connections(2)
        .depth(8)
        .timeout(Duration::from_millis(50));
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.ops > 100, "{report}");
    assert!(report.losses > 10, "{report}");
    assert_eq!(report.mismatches, 0, "{report}");
    udp.shutdown(Duration::from_secs(1));
}

/// Echoes every byte but flips one bit in each 1000th.
struct Corrupt;
struct CorruptHandler(u64);

impl Handler for CorruptHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        for &b in data {
            self.0 += 1;
            conn.send(&[if self.0 % 1000 == 0 { b ^ 1 } else { b }]);
        }
        Flow::Continue
    }
}

impl Server for Corrupt {
    type Handler = CorruptHandler;
    fn handler(&self, _: &ConnectionInfo) -> CorruptHandler {
        CorruptHandler(0)
    }
}

impl DatagramServer for Corrupt {
    fn respond(&self, request: &[u8], _: SocketAddr, reply: &mut Vec<u8>) -> bool {
        reply.extend_from_slice(request);
        reply[0] ^= 1;
        true
    }
}

#[test]
fn corrupted_replies_are_mismatches() {
    let server = Builder::new(local()).serve(Corrupt).unwrap();
    let config = short(server.local_addr(), Workload::Echo { size: 64 }).connections(3);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert_eq!(report.mismatches, 3, "{report}");

    let config = Config::new(server.local_addr(), Workload::Bulk { bytes: 1 << 20 });
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert_eq!(report.mismatches, 1, "{report}");
    server.shutdown(Duration::from_secs(1));

    let udp = DatagramBuilder::new(local()).serve(Corrupt).unwrap();
    let config = short(udp.local_addr(), Workload::Echo { size: 16 }).transport(Transport::Udp);
    let report = bench::run(&config, &Progress::default()).unwrap();
    assert!(report.mismatches > 0, "{report}");
    udp.shutdown(Duration::from_secs(1));
}

#[test]
fn a_closed_port_is_a_connect_error() {
    // Bind and drop to find a port nobody listens on.
    let port = std::net::TcpListener::bind(local())
        .unwrap()
        .local_addr()
        .unwrap();
    for workload in [Workload::Echo { size: 8 }, Workload::Daytime] {
        let err = bench::run(&short(port, workload), &Progress::default()).unwrap_err();
        assert!(matches!(err, Error::Connect { .. }), "{err}");
    }
}

#[test]
fn bad_configurations_are_refused() {
    let addr = local();
    for config in [
        Config::new(addr, Workload::Echo { size: 0 }),
        Config::new(addr, Workload::Bulk { bytes: 10 }).transport(Transport::Udp),
        Config::new(addr, Workload::Echo { size: 70_000 }).transport(Transport::Udp),
        Config::new(addr, Workload::Daytime).duration(Duration::ZERO),
        Config::new(addr, Workload::Echo { size: 8 }).depth(4),
    ] {
        let err = bench::run(&config, &Progress::default()).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
    }
}
