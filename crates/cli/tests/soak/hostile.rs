//! The soak test's hostile clients: each does its one bad thing for a few
//! seconds, lets go, and starts again, so the server sees them come and go
//! for the whole run. Their own errors are expected and ignored; what they
//! must not do is stop the honest clients being served.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::{Ports, Rng, Stats};

/// The kinds of hostile client, one thread each.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// One byte every 2–3 s to echo or discard (echo's byte is read back
    /// and checked: a slow client is still a client).
    Slowloris,
    /// Sends to echo until its socket is full, then never reads.
    EchoNonReader,
    /// Connects to chargen and never reads.
    ChargenNonReader,
    /// Sends and reads a little, then resets (SO_LINGER 0) mid-transfer.
    Resetter,
    /// Connects and says nothing; or half-closes and never reads; or
    /// closes before the server can accept.
    HalfOpen,
    /// UDP datagrams to echo as fast as a modest pace allows, never read.
    UdpFlood,
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn connect(port: u16) -> Option<TcpStream> {
    let s = TcpStream::connect_timeout(&addr(port), Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(10))).ok()?;
    Some(s)
}

/// A hold of 3–8 s, the hostile act's length.
fn hold(rng: &mut Rng) -> Duration {
    Duration::from_millis(3000 + rng.below(5000))
}

fn slowloris(rng: &mut Rng, ports: &Ports, stats: &Stats) {
    let echo = rng.below(2) == 0;
    let Some(mut s) = connect(if echo { ports.echo } else { ports.discard }) else {
        return;
    };
    let until = Instant::now() + hold(rng) * 2;
    while Instant::now() < until && !stats.stopping() {
        let byte = [b'a' + rng.below(26) as u8];
        if s.write_all(&byte).is_err() {
            return;
        }
        if echo {
            let mut back = [0u8];
            match s.read_exact(&mut back) {
                Ok(()) if back == byte => {}
                Ok(()) => stats.mismatch(format!("slowloris echo: {back:?} for {byte:?}")),
                Err(_) => return,
            }
        }
        stats.pause(Duration::from_millis(2000 + rng.below(1000)));
    }
}

fn echo_non_reader(rng: &mut Rng, ports: &Ports, stats: &Stats) {
    let Some(mut s) = connect(ports.echo) else {
        return;
    };
    if s.set_nonblocking(true).is_err() {
        return;
    }
    let chunk = super::random_bytes(64 * 1024, rng.next());
    // Until the socket is full (bounded: 64 MiB would be far past any
    // buffer), then hold it full.
    for _ in 0..1024 {
        if s.write(&chunk).is_err() {
            break;
        }
    }
    stats.pause(hold(rng));
}

fn chargen_non_reader(rng: &mut Rng, ports: &Ports, stats: &Stats) {
    let Some(s) = connect(ports.chargen) else {
        return;
    };
    stats.pause(hold(rng));
    drop(s);
}

fn resetter(rng: &mut Rng, ports: &Ports, stats: &Stats) {
    let chargen = rng.below(2) == 0;
    let Some(mut s) = connect(if chargen { ports.chargen } else { ports.echo }) else {
        return;
    };
    if !chargen {
        let data = super::random_bytes(1 + rng.below(256 * 1024) as usize, rng.next());
        let _ = s.set_nonblocking(true);
        let _sent = s.write(&data);
    }
    let mut some = vec![0u8; 1 + rng.below(16 * 1024) as usize];
    let _ = s.set_nonblocking(false);
    let _ = s.read(&mut some);
    // Closing with SO_LINGER 0 sends RST instead of FIN.
    let _ = SockRef::from(&s).set_linger(Some(Duration::ZERO));
    drop(s);
    stats.pause(Duration::from_millis(20 + rng.below(80)));
}

fn half_open(rng: &mut Rng, ports: &Ports, stats: &Stats) {
    let port = [ports.echo, ports.chargen, ports.discard, ports.daytime][rng.below(4) as usize];
    match rng.below(3) {
        0 => {
            let Some(s) = connect(port) else { return };
            stats.pause(hold(rng));
            drop(s);
        }
        1 => {
            let Some(s) = connect(port) else { return };
            let _ = s.shutdown(Shutdown::Write);
            stats.pause(hold(rng));
            drop(s);
        }
        _ => {
            // A non-blocking connect, closed at once: gone before (or
            // while) the server accepts it.
            let Ok(sock) = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            else {
                return;
            };
            let _ = sock.set_nonblocking(true);
            let _ = sock.connect(&addr(port).into());
            drop(sock);
            stats.pause(Duration::from_millis(10 + rng.below(40)));
        }
    }
}

fn udp_flood(rng: &mut Rng, ports: &Ports, stats: &Stats) {
    let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
        return;
    };
    // Different payloads each time, so the loop guard (which drops the same
    // payload repeated) is not what stops it: only the server's pace.
    for _ in 0..200 {
        let payload = super::random_bytes(1 + rng.below(1400) as usize, rng.next());
        let _ = s.send_to(&payload, addr(ports.echo));
    }
    stats.pause(Duration::from_millis(100));
}

/// Runs one hostile client of `kind` until `stop`.
pub fn run(kind: Kind, id: u64, ports: &Ports, stats: &Stats) {
    let mut rng = Rng::new(id);
    while !stats.stopping() {
        match kind {
            Kind::Slowloris => slowloris(&mut rng, ports, stats),
            Kind::EchoNonReader => echo_non_reader(&mut rng, ports, stats),
            Kind::ChargenNonReader => chargen_non_reader(&mut rng, ports, stats),
            Kind::Resetter => resetter(&mut rng, ports, stats),
            Kind::HalfOpen => half_open(&mut rng, ports, stats),
            Kind::UdpFlood => udp_flood(&mut rng, ports, stats),
        }
        stats.hostile_act();
        // A hostile client that keeps failing to connect must not spin.
        stats.pause(Duration::from_millis(10));
    }
}
