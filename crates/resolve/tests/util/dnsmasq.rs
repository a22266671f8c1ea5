//! A real DNS server for tests: dnsmasq on 127.0.0.1 serving fixed records
//! from a config file the test writes, with no upstream (`no-resolv`, no
//! `server=`), so every query stays on loopback and nothing is forwarded.
//! Also a "server" that never answers.
//!
//! Shared by `crates/resolve/tests` and `crates/cli/tests` (included with
//! `#[path]`), so both test against the same records.
#![allow(dead_code)]

use std::fs;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

#[path = "../../../../tests/support/tools.rs"]
mod tools;

/// The records every test server holds. `netlab.test` and the reverse zones
/// of 192.0.2.0/24 and 2001:db8::/32 are local (`local=`), so other names
/// in them are NXDOMAIN; names elsewhere are REFUSED (there is no upstream).
pub const RECORDS: &str = "\
local=/netlab.test/
local=/2.0.192.in-addr.arpa/
local=/8.b.d.0.1.0.0.2.ip6.arpa/
host-record=www.netlab.test,192.0.2.10,2001:db8::10
host-record=v4only.netlab.test,192.0.2.11
host-record=v6only.netlab.test,2001:db8::11
cname=alias.netlab.test,www.netlab.test
";

/// How many A records `big.netlab.test` has: 60, about 960 bytes of
/// answer, more than a 512-byte UDP reply holds, so it comes truncated and
/// has to be asked again over TCP.
pub const BIG_COUNT: u8 = 60;

/// The address of the `i`-th record of `big.netlab.test` (0-based).
pub fn big_address(i: u8) -> String {
    format!("192.0.2.{}", 100 + u16::from(i))
}

/// A running dnsmasq; killed and reaped on drop, its directory removed.
pub struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Dnsmasq {
    /// Starts dnsmasq on a free port of 127.0.0.1 and waits until it
    /// answers. When dnsmasq is missing: fails under `CI=true`, otherwise
    /// skips loudly and gives `None` (see `tests/support/tools.rs`).
    pub fn start() -> Option<Dnsmasq> {
        let binary = tools::require_tool("dnsmasq", "dnsmasq-base")?;
        let dir = scratch_dir();
        let mut last_log = String::new();
        // The port is free when probed but may be taken before dnsmasq binds
        // it; a few attempts cover that race.
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.join("dnsmasq.conf");
            fs::write(&config, config_text(port)).expect("writing dnsmasq.conf");
            let log = dir.join("dnsmasq.log");
            let log_file = fs::File::create(&log).expect("creating dnsmasq.log");
            let child = Command::new(&binary)
                .arg(format!("--conf-file={}", config.display()))
                .arg("--keep-in-foreground")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
            let mut server = Dnsmasq {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                dir: dir.clone(),
            };
            if server.wait_ready(Duration::from_secs(10)) {
                return Some(server);
            }
            last_log = fs::read_to_string(&log).unwrap_or_default();
            let _ = server.child.kill();
            let _ = server.child.wait();
            // Keep the directory for the next attempt.
            server.dir = PathBuf::new();
        }
        let _ = fs::remove_dir_all(&dir);
        panic!("dnsmasq did not start after 5 attempts; its log:\n{last_log}");
    }

    /// Where it listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Polls with a real query until dnsmasq answers, it exits, or the
    /// deadline passes.
    fn wait_ready(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let socket = UdpSocket::bind("127.0.0.1:0").expect("binding a probe socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("setting a read timeout");
        let probe = query_bytes(0x5eed, "www.netlab.test");
        let mut reply = [0u8; 512];
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if socket.send_to(&probe, self.addr).is_ok() {
                if let Ok((n, from)) = socket.recv_from(&mut reply) {
                    if from == self.addr && n >= 12 && reply[..2] == [0x5e, 0xed] {
                        return true;
                    }
                }
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        false
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A UDP socket on 127.0.0.1 that reads queries and never answers: a DNS
/// server that is down without saying so.
pub struct Silent {
    socket: UdpSocket,
}

impl Silent {
    /// Binds a free port.
    pub fn bind() -> Silent {
        Silent {
            socket: UdpSocket::bind("127.0.0.1:0").expect("binding the silent server"),
        }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("local address")
    }

    /// How many datagrams arrived so far (reads without waiting).
    pub fn received(&self) -> usize {
        self.socket
            .set_nonblocking(true)
            .expect("setting non-blocking");
        let mut buf = [0u8; 1024];
        let mut count = 0;
        while count < 1000 && self.socket.recv(&mut buf).is_ok() {
            count += 1;
        }
        count
    }
}

fn config_text(port: u16) -> String {
    let mut text = format!(
        "port={port}
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
pid-file=
log-queries
log-facility=-
"
    );
    text.push_str(RECORDS);
    for i in 0..BIG_COUNT {
        text.push_str(&format!("host-record=big.netlab.test,{}\n", big_address(i)));
    }
    text
}

/// A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both).
fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("binding port 0");
        let port = udp.local_addr().expect("local address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP on 127.0.0.1 after 50 tries");
}

fn scratch_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "netlab-dnsmasq-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating a scratch directory");
    dir
}

/// A minimal DNS query for the A record of `name` (RFC 1035 §4.1), built
/// by hand so the helper needs no DNS crate.
fn query_bytes(id: u16, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        bytes.push(label.len() as u8);
        bytes.extend_from_slice(label.as_bytes());
    }
    bytes.extend_from_slice(&[0, 0, 1, 0, 1]);
    bytes
}
