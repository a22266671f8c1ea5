//! The discard client: sends its input to the server and makes sure the
//! server took it all.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use netcore::Client;

/// What went wrong in a discard client.
///
/// The message says what was being done; the cause is the
/// [`source`](std::error::Error::source): print the chain (anyhow's `{:#}`)
/// to see both, each once (`reading the input: is a directory`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reaching, writing to or reading from the server failed: netcore's
    /// error, message and source as they are.
    #[error(transparent)]
    Net(#[from] netcore::Error),
    /// Reading the input failed.
    #[error("reading the input")]
    Input(#[source] io::Error),
    /// Writing what the server sent (a discard server sends nothing) to
    /// the output failed.
    #[error("writing the reply")]
    Output(#[source] io::Error),
}

/// The largest UDP payload over IPv4: the most one datagram carries.
pub const MAX_DATAGRAM: usize = 65_507;

/// Bytes read from the input and written to the server per call.
const BUF: usize = 64 * 1024;

/// Connects to a discard server over TCP, sends all of `input`, half-closes,
/// and waits (with the client's read timeout) for the server to close:
/// only then is every byte known to have reached the server. Returns the
/// number of bytes sent.
///
/// A discard server sends nothing; whatever another server sends back is
/// copied to `out` once the input has ended, so a wrong server shows. A
/// server that stops reading fails the send after the client's write
/// timeout.
///
/// ```
/// use std::io::Read;
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(discard::Discard)?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().timeout(Some(Duration::from_secs(5)));
/// let input = std::io::repeat(b'x').take(1 << 20);
/// let mut reply = Vec::new();
/// let sent = discard::send(&client, "127.0.0.1", port, input, &mut reply)?;
/// // Returned only once the server closed: it read all of it.
/// assert_eq!(sent, 1 << 20);
/// assert!(reply.is_empty(), "a discard server sends nothing");
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn send(
    client: &Client,
    host: &str,
    port: u16,
    mut input: impl Read,
    out: &mut dyn Write,
) -> Result<u64, Error> {
    let stream = client.connect(host, port)?;
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Input(e)),
        };
        stream.send(&buf[..n])?;
        total += n as u64;
    }
    stream.half_close()?;
    // The server closes once it has read our end-of-file: after the last
    // byte. Until then a reset would mean data was lost.
    stream.receive_until_closed(&mut buf, |chunk| {
        out.write_all(chunk).map_err(Error::Output)?;
        out.flush().map_err(Error::Output)
    })?;
    Ok(total)
}

/// Sends `input` to a discard server over UDP, one line per datagram (a
/// line longer than [`MAX_DATAGRAM`] bytes is split), as the echo client
/// does; no reply is expected, so nothing confirms arrival: UDP may drop
/// datagrams, and a server that is not there is noticed only when the
/// ICMP "port unreachable" for an earlier datagram fails a later send.
/// Returns the number of bytes sent.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(discard::Discard)?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new();
/// let sent = discard::send_udp(&client, "127.0.0.1", port, &b"one\ntwo\n"[..])?;
/// assert_eq!(sent, 8);
/// running.shutdown(std::time::Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn send_udp(client: &Client, host: &str, port: u16, input: impl Read) -> Result<u64, Error> {
    // The client's options concern replies and connections; a send-only
    // UDP client has none of them.
    let _ = client;
    // `resolve` returns at least one address or an error.
    let addr = *netcore::resolve(host, port)?
        .first()
        .ok_or_else(|| netcore::Error::Resolve {
            host: host.to_owned(),
            source: io::ErrorKind::NotFound.into(),
        })?;
    let socket = open(addr)?;
    let mut input = BufReader::with_capacity(MAX_DATAGRAM, input);
    let mut total = 0u64;
    loop {
        let available = input.fill_buf().map_err(Error::Input)?;
        if available.is_empty() {
            return Ok(total);
        }
        let end = available
            .iter()
            .position(|&b| b == b'\n')
            .map_or(available.len(), |i| i + 1);
        socket.send(&available[..end]).map_err(|source| {
            if source.kind() == io::ErrorKind::ConnectionRefused {
                netcore::Error::Connect { addr, source }
            } else {
                netcore::Error::Io {
                    op: "sending to",
                    addr,
                    source,
                }
            }
        })?;
        input.consume(end);
        total += end as u64;
    }
}

/// A UDP socket connected to `addr`: it takes only the server's datagrams,
/// and an ICMP error about an earlier datagram shows up on a later send.
fn open(addr: SocketAddr) -> Result<UdpSocket, netcore::Error> {
    let local: SocketAddr = match addr.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).map_err(|source| netcore::Error::Open { addr, source })?;
    socket.connect(addr).map_err(|source| netcore::Error::Io {
        op: "connecting to",
        addr,
        source,
    })?;
    Ok(socket)
}
