//! A bounded soak: one `netlab serve all` on 127.0.0.1 under hundreds of
//! concurrent clients, TCP and UDP, for `NETLAB_SOAK_SECS` seconds (25 by
//! default, so the suite stays short on 2 cores; docs/reliability.md has
//! the long command). Honest clients exchange random sizes with every
//! service and check each reply byte for byte; hostile ones mix in
//! slowloris, non-readers, resets, half-open connections and a UDP flood.
//!
//! It proves, for the whole run: no wrong byte to any honest client; some
//! honest client served in every second; the server's RSS flat after a
//! warm-up; its descriptors back to their start once every client has
//! gone; a clean exit 0 on SIGTERM with nothing on stderr.

mod util;

#[path = "soak/honest.rs"]
mod honest;
#[path = "soak/hostile.rs"]
mod hostile;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use honest::Outcome;
use hostile::Kind;
use util::{Proc, connect_when_ready, netlab, random_bytes};

/// How far the server's RSS may grow from the warm-up to the end. The
/// working set is in place by the warm-up (non-readers holding full
/// queues, the loops' buffers, the allocator's arenas); what can still
/// move it is which connections happen to be mid-burst when sampled, a few
/// MiB (3 MiB measured). A leak of about 1 KiB per connection shows: the
/// default run opens some 30,000 connections (`tcp ok` + `hostile acts`
/// in its output with --nocapture). The
/// output budget (64 MiB) is above the bound, so queues that kept growing
/// toward it would show too.
const RSS_GROWTH_BOUND: u64 = 32 * 1024 * 1024;

/// Descriptors the server may still hold after every client has gone,
/// beyond those at the start: the readiness probe's connection may not
/// have been closed yet when the start was counted.
const FD_SLACK: usize = 3;

/// The services' ports under `serve all --port-offset`.
#[derive(Debug)]
pub struct Ports {
    echo: u16,
    discard: u16,
    daytime: u16,
    chargen: u16,
    time: u16,
}

/// xorshift64*: deterministic per client, so a failing run can be replayed
/// by its seed.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What every client reports to.
#[derive(Debug)]
pub struct Stats {
    start: Instant,
    stop: AtomicBool,
    served_per_second: Vec<AtomicU64>,
    tcp_ok: AtomicU64,
    udp_ok: AtomicU64,
    udp_lost: AtomicU64,
    hostile_acts: AtomicU64,
    mismatches: Mutex<Vec<String>>,
    tcp_failures: Mutex<Vec<String>>,
}

impl Stats {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Waits `d`, or less if the run stops meanwhile: a client's pace, not
    /// a wait for the server.
    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }

    fn record(&self, udp: bool, outcome: Outcome) {
        match outcome {
            Outcome::Ok => {
                let second = self.start.elapsed().as_secs() as usize;
                if let Some(n) = self.served_per_second.get(second) {
                    n.fetch_add(1, Ordering::Relaxed);
                }
                let ok = if udp { &self.udp_ok } else { &self.tcp_ok };
                ok.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Mismatch(what) => self.mismatch(what),
            // UDP may lose datagrams, even on loopback under a flood: a
            // loss is counted, not a failure. A TCP client not served is.
            Outcome::Failed(_) if udp => {
                self.udp_lost.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Failed(what) => {
                let at = self.start.elapsed().as_secs_f64();
                self.tcp_failures
                    .lock()
                    .unwrap()
                    .push(format!("{at:.1} s: {what}"));
            }
        }
    }

    fn mismatch(&self, what: String) {
        self.mismatches.lock().unwrap().push(what);
    }

    fn hostile_act(&self) {
        self.hostile_acts.fetch_add(1, Ordering::Relaxed);
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn vm_rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status");
    kib * 1024
}

fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// The run's length: `NETLAB_SOAK_SECS`, or 25 s.
fn soak_secs() -> u64 {
    match std::env::var("NETLAB_SOAK_SECS") {
        Ok(s) => s
            .parse()
            .expect("NETLAB_SOAK_SECS: a whole number of seconds"),
        Err(_) => 25,
    }
}

/// Waits until every TCP service accepts and UDP daytime answers.
fn wait_ready(ports: &Ports) {
    for port in [
        ports.echo,
        ports.discard,
        ports.chargen,
        ports.time,
        ports.daytime,
    ] {
        drop(connect_when_ready(addr(port)));
    }
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + util::DEADLINE;
    loop {
        probe.send_to(b"", addr(ports.daytime)).unwrap();
        if probe.recv(&mut [0u8; 512]).is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "UDP daytime never answered");
    }
}

#[test]
fn hundreds_of_clients_honest_and_hostile_for_a_bounded_time() {
    let secs = soak_secs();
    let warmup = Duration::from_secs((secs / 4).clamp(5, 60));
    assert!(
        secs > warmup.as_secs() + 2,
        "NETLAB_SOAK_SECS must be at least 8"
    );
    let offset = util::free_offset(std::process::id());
    let ports = Ports {
        echo: offset + 7,
        discard: offset + 9,
        daytime: offset + 13,
        chargen: offset + 19,
        time: offset + 37,
    };
    let mut cmd = netlab();
    cmd.args(["serve", "all", "-q", "--host", "127.0.0.1", "--port-offset"])
        .arg(offset.to_string())
        .env("TZ", "UTC");
    let mut server = Proc::spawn(cmd);
    let pid = server.pid();
    wait_ready(&ports);
    let fds_at_start = open_fds(pid);

    let stats = Stats {
        start: Instant::now(),
        stop: AtomicBool::new(false),
        served_per_second: (0..secs + 2).map(|_| AtomicU64::new(0)).collect(),
        tcp_ok: AtomicU64::new(0),
        udp_ok: AtomicU64::new(0),
        udp_lost: AtomicU64::new(0),
        hostile_acts: AtomicU64::new(0),
        mismatches: Mutex::new(Vec::new()),
        tcp_failures: Mutex::new(Vec::new()),
    };
    let hostile_mix = [
        (Kind::Slowloris, 24),
        (Kind::EchoNonReader, 16),
        (Kind::ChargenNonReader, 16),
        (Kind::Resetter, 12),
        (Kind::HalfOpen, 24),
        (Kind::UdpFlood, 2),
    ];
    let (mut warm_rss, mut end_rss, mut peak_rss) = (0, 0, 0);
    std::thread::scope(|scope| {
        // Small stacks: hundreds of client threads, their buffers on the heap.
        let thread = || std::thread::Builder::new().stack_size(256 * 1024);
        let (ports, stats) = (&ports, &stats);
        for id in 0..200u64 {
            thread()
                .spawn_scoped(scope, move || honest::run(id, id >= 160, ports, stats))
                .expect("a client thread");
        }
        let mut id = 1000;
        for (kind, count) in hostile_mix {
            for _ in 0..count {
                id += 1;
                thread()
                    .spawn_scoped(scope, move || hostile::run(kind, id, ports, stats))
                    .expect("a client thread");
            }
        }
        // Sample the server once a second until the run's end.
        let end = stats.start + Duration::from_secs(secs);
        while Instant::now() < end {
            std::thread::sleep(Duration::from_secs(1).min(end - Instant::now()));
            let rss = vm_rss(pid);
            if warm_rss == 0 && stats.start.elapsed() >= warmup {
                warm_rss = rss;
            }
            if warm_rss != 0 {
                peak_rss = peak_rss.max(rss);
            }
            end_rss = rss;
            eprintln!(
                "soak {:>5.1} s: rss {:.1} MiB, fds {}, tcp ok {}, udp ok {}, udp lost {}, hostile acts {}",
                stats.start.elapsed().as_secs_f64(),
                rss as f64 / 1048576.0,
                open_fds(pid),
                stats.tcp_ok.load(Ordering::Relaxed),
                stats.udp_ok.load(Ordering::Relaxed),
                stats.udp_lost.load(Ordering::Relaxed),
                stats.hostile_acts.load(Ordering::Relaxed),
            );
        }
        stats.stop.store(true, Ordering::Relaxed);
    });

    let mismatches = stats.mismatches.lock().unwrap();
    assert!(
        mismatches.is_empty(),
        "{} wrong replies: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
    let failures = stats.tcp_failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} honest TCP clients not served: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    let per_second: Vec<u64> = stats.served_per_second[..secs as usize]
        .iter()
        .map(|n| n.load(Ordering::Relaxed))
        .collect();
    assert!(
        per_second.iter().all(|&n| n > 0),
        "a second with no honest client served: {per_second:?}"
    );
    assert!(
        stats.udp_ok.load(Ordering::Relaxed) > 0,
        "no UDP client served"
    );
    assert!(
        end_rss <= warm_rss + RSS_GROWTH_BOUND,
        "RSS grew from {warm_rss} after the warm-up to {end_rss} at the end (peak {peak_rss})"
    );

    // Every client has closed: the server's descriptors come back.
    let deadline = Instant::now() + util::DEADLINE * 2;
    while open_fds(pid) > fds_at_start + FD_SLACK {
        assert!(
            Instant::now() < deadline,
            "descriptors: {} at the start, {} after every client closed",
            fds_at_start,
            open_fds(pid)
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    server.signal("TERM");
    let status = server.wait_exit();
    let stderr = String::from_utf8_lossy(&server.stderr.bytes()).into_owned();
    assert!(status.success(), "{status:?}; stderr: {stderr}");
    // The one line a server may print here is the open-files warning, on a
    // machine whose hard limit is below --max-connections.
    let unexpected: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("netlab: the open-files limit is"))
        .collect();
    assert!(unexpected.is_empty(), "stderr: {unexpected:#?}");
}
