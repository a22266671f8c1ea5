//! The soak test's honest clients: each exchange over TCP or UDP with a
//! random size, every reply checked byte for byte against what the
//! protocol must send.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use super::{Ports, Rng, Stats};

/// How long one honest exchange may wait for the server. Generous: the
/// machine may be loaded, and a slow reply is not what is measured here.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// What one exchange came to.
pub enum Outcome {
    Ok,
    /// The server answered something other than the protocol's bytes.
    Mismatch(String),
    /// The exchange failed (refused, reset, timed out): not a wrong byte,
    /// but an honest client not served.
    Failed(String),
}

/// RFC 868 counts from 1900, Unix from 1970.
const SECONDS_1900_TO_1970: u64 = 2_208_988_800;

/// The chargen stream from its start (RFC 864): lines of 72 of the 95
/// printable characters, each one further along the ring, CR LF.
pub fn chargen_prefix(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 74);
    let mut line = 0usize;
    while out.len() < len {
        out.extend((0..72).map(|j| b' ' + ((line + j) % 95) as u8));
        out.extend_from_slice(b"\r\n");
        line += 1;
    }
    out.truncate(len);
    out
}

/// A size spread over four orders of magnitude, small ones most often.
fn random_size(rng: &mut Rng) -> usize {
    match rng.below(10) {
        0..=3 => rng.below(64) as usize,
        4..=6 => rng.below(4096) as usize,
        7..=8 => rng.below(65_536) as usize,
        _ => rng.below(512 * 1024) as usize,
    }
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s = TcpStream::connect_timeout(&addr, PATIENCE).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(PATIENCE))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(PATIENCE))
        .map_err(|e| e.to_string())?;
    Ok(s)
}

/// `?` for io results inside an exchange: an I/O error is a failure.
fn io<T>(what: &str, r: std::io::Result<T>) -> Result<T, Outcome> {
    r.map_err(|e| Outcome::Failed(format!("{what}: {e}")))
}

fn tcp_echo(rng: &mut Rng, addr: SocketAddr) -> Result<(), Outcome> {
    let mut s = connect(addr).map_err(Outcome::Failed)?;
    let data = super::random_bytes(random_size(rng), rng.next());
    let mut back = vec![0u8; 32 * 1024];
    let mut at = 0;
    // Lock-step chunks of random size: never more than 32 KiB in flight,
    // so the exchange cannot deadlock on full buffers, and the server sees
    // every chunking from 1 byte up.
    while at < data.len() {
        let k = (1 + rng.below(32 * 1024) as usize).min(data.len() - at);
        io("echo write", s.write_all(&data[at..at + k]))?;
        io("echo read", s.read_exact(&mut back[..k]))?;
        if back[..k] != data[at..at + k] {
            return Err(Outcome::Mismatch(format!(
                "echo: bytes {at}..{} of {} came back different",
                at + k,
                data.len()
            )));
        }
        at += k;
    }
    if rng.below(2) == 0 {
        // Half-close: the server must close too, with nothing more.
        io("echo shutdown", s.shutdown(Shutdown::Write))?;
        let mut rest = Vec::new();
        io("echo read to end", s.read_to_end(&mut rest))?;
        if !rest.is_empty() {
            return Err(Outcome::Mismatch(format!(
                "echo: {} extra bytes",
                rest.len()
            )));
        }
    }
    Ok(())
}

fn tcp_discard(rng: &mut Rng, addr: SocketAddr) -> Result<(), Outcome> {
    let mut s = connect(addr).map_err(Outcome::Failed)?;
    let data = super::random_bytes(random_size(rng), rng.next());
    io("discard write", s.write_all(&data))?;
    io("discard shutdown", s.shutdown(Shutdown::Write))?;
    let mut rest = Vec::new();
    io("discard read to end", s.read_to_end(&mut rest))?;
    if !rest.is_empty() {
        return Err(Outcome::Mismatch(format!(
            "discard sent {} bytes",
            rest.len()
        )));
    }
    Ok(())
}

fn tcp_chargen(rng: &mut Rng, addr: SocketAddr) -> Result<(), Outcome> {
    let mut s = connect(addr).map_err(Outcome::Failed)?;
    let want = chargen_prefix(1 + random_size(rng));
    let mut got = vec![0u8; want.len()];
    io("chargen read", s.read_exact(&mut got))?;
    if got != want {
        let at = got.iter().zip(&want).position(|(a, b)| a != b);
        return Err(Outcome::Mismatch(format!("chargen: differs at {at:?}")));
    }
    Ok(())
}

fn tcp_read_all(addr: SocketAddr) -> Result<Vec<u8>, Outcome> {
    let s = connect(addr).map_err(Outcome::Failed)?;
    let mut got = Vec::new();
    io("read to end", s.take(4096).read_to_end(&mut got))?;
    Ok(got)
}

/// The lecture's daytime line, `TZ=UTC` on the server: its exact shape and
/// a time near now (a minute: a loaded machine may be slow to answer).
pub fn check_daytime(reply: &[u8]) -> Result<(), Outcome> {
    const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";
    let bad = || Outcome::Mismatch(format!("daytime: {:?}", String::from_utf8_lossy(reply)));
    let text = std::str::from_utf8(reply).map_err(|_| bad())?;
    let line = text.strip_suffix('\n').ok_or_else(bad)?;
    let when = chrono::NaiveDateTime::parse_from_str(line, ASCTIME).map_err(|_| bad())?;
    let skew = (when - chrono::Utc::now().naive_utc()).num_seconds().abs();
    if text.len() != 25 || when.format(ASCTIME).to_string() != line || skew > 60 {
        return Err(bad());
    }
    Ok(())
}

/// RFC 868's 4 bytes, a time near now.
pub fn check_time(reply: &[u8]) -> Result<(), Outcome> {
    let bad = || Outcome::Mismatch(format!("time: {reply:?}"));
    let bytes: [u8; 4] = reply.try_into().map_err(|_| bad())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| bad())?
        .as_secs()
        + SECONDS_1900_TO_1970;
    let skew = (u64::from(u32::from_be_bytes(bytes))).abs_diff(now % (1 << 32));
    if skew > 60 {
        return Err(bad());
    }
    Ok(())
}

/// One chargen datagram: one line of the ring (any line), CR LF.
fn check_chargen_line(reply: &[u8]) -> Result<(), Outcome> {
    let ok = reply.len() == 74
        && reply.ends_with(b"\r\n")
        && reply[..72].windows(2).all(|w| {
            (b' '..=b'~').contains(&w[0]) && w[1] == if w[0] == b'~' { b' ' } else { w[0] + 1 }
        });
    if ok {
        Ok(())
    } else {
        Err(Outcome::Mismatch(format!("chargen/udp: {reply:?}")))
    }
}

/// One honest TCP exchange with a service chosen at random.
pub fn tcp_exchange(rng: &mut Rng, ports: &Ports) -> Outcome {
    let addr = |p| SocketAddr::from(([127, 0, 0, 1], p));
    let r = match rng.below(10) {
        0..=3 => tcp_echo(rng, addr(ports.echo)),
        4 => tcp_discard(rng, addr(ports.discard)),
        5..=6 => tcp_chargen(rng, addr(ports.chargen)),
        7..=8 => tcp_read_all(addr(ports.daytime)).and_then(|r| check_daytime(&r)),
        _ => tcp_read_all(addr(ports.time)).and_then(|r| check_time(&r)),
    };
    match r {
        Ok(()) => Outcome::Ok,
        Err(o) => o,
    }
}

/// A UDP client: one socket, requests with a random service each. An echo
/// request carries its own number, so a late reply to an earlier request
/// (UDP may duplicate and delay) is recognised and checked too, never
/// taken for this one's.
pub struct UdpClient {
    socket: UdpSocket,
    id: u64,
    seq: u64,
}

impl UdpClient {
    pub fn new(id: u64) -> UdpClient {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        UdpClient { socket, id, seq: 0 }
    }

    /// The payload of request `seq`: its header, then bytes drawn from it.
    fn payload(&self, seq: u64, len: usize) -> Vec<u8> {
        let mut p = Vec::with_capacity(24 + len);
        p.extend_from_slice(&self.id.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&(len as u64).to_be_bytes());
        p.extend(super::random_bytes(len, self.id << 32 ^ seq));
        p
    }

    /// One request with up to 3 tries; `Failed` when every try was lost.
    pub fn exchange(&mut self, rng: &mut Rng, ports: &Ports) -> Outcome {
        self.seq += 1;
        let (port, request) = match rng.below(5) {
            0 | 1 => (ports.echo, self.payload(self.seq, rng.below(8192) as usize)),
            2 => (ports.daytime, Vec::new()),
            3 => (ports.time, Vec::new()),
            _ => (ports.chargen, Vec::new()),
        };
        let mut buf = vec![0u8; 65_536];
        for _ in 0..3 {
            if let Err(e) = self.socket.send_to(&request, ("127.0.0.1", port)) {
                return Outcome::Failed(format!("udp send: {e}"));
            }
            // Replies until this request's own, or the try's timeout.
            for _ in 0..16 {
                let Ok((n, from)) = self.socket.recv_from(&mut buf) else {
                    break;
                };
                let reply = &buf[..n];
                let verdict = if from.port() == ports.echo {
                    self.check_echo(reply)
                } else if from.port() == ports.daytime {
                    check_daytime(reply).map(|()| u64::MAX)
                } else if from.port() == ports.time {
                    check_time(reply).map(|()| u64::MAX)
                } else if from.port() == ports.chargen {
                    check_chargen_line(reply).map(|()| u64::MAX)
                } else {
                    Err(Outcome::Mismatch(format!("udp reply from {from}")))
                };
                match verdict {
                    Err(o) => return o,
                    Ok(seq) if from.port() == port && (port != ports.echo || seq == self.seq) => {
                        return Outcome::Ok;
                    }
                    Ok(_) => {} // a late reply to an earlier request: checked, skipped
                }
            }
        }
        Outcome::Failed("udp: 3 tries lost".into())
    }

    /// An echo reply must be exactly one of our requests; returns its number.
    fn check_echo(&self, reply: &[u8]) -> Result<u64, Outcome> {
        let bad = || Outcome::Mismatch(format!("echo/udp: {} bytes not one of ours", reply.len()));
        let field = |i: usize| -> Option<u64> {
            Some(u64::from_be_bytes(
                reply.get(i * 8..i * 8 + 8)?.try_into().ok()?,
            ))
        };
        let (Some(id), Some(seq), Some(len)) = (field(0), field(1), field(2)) else {
            return Err(bad());
        };
        if id != self.id
            || seq > self.seq
            || len > 65_536
            || self.payload(seq, len as usize) != reply
        {
            return Err(bad());
        }
        Ok(seq)
    }
}

/// Runs honest exchanges until `stop`, paced so the test's own CPU stays
/// modest: the point is many clients at once, not the most requests.
pub fn run(id: u64, udp: bool, ports: &Ports, stats: &Stats) {
    let mut rng = Rng::new(id);
    let mut client = udp.then(|| UdpClient::new(id));
    while !stats.stopping() {
        let outcome = match client.as_mut() {
            Some(c) => c.exchange(&mut rng, ports),
            None => tcp_exchange(&mut rng, ports),
        };
        stats.record(udp, outcome);
        stats.pause(Duration::from_millis(50 + rng.below(250)));
    }
}
