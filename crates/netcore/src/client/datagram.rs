//! [`DatagramClient`]: a UDP socket connected to one server, for requests
//! with a timeout and retries.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use crate::error::{Error, Result};

/// A UDP socket connected to one server, from
/// [`Client::udp`](crate::Client::udp).
///
/// Each [`DatagramClient::request`] is one datagram out and one back, sent
/// again when the answer is late (UDP may drop either). The name is
/// resolved once, when the client is made.
///
/// ```
/// use std::time::Duration;
/// # struct Upper;
/// # impl netcore::DatagramServer for Upper {
/// #     fn respond(&self, req: &[u8], _: std::net::SocketAddr, reply: &mut Vec<u8>) -> bool {
/// #         reply.extend(req.iter().map(u8::to_ascii_uppercase));
/// #         true
/// #     }
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(Upper)?;
/// # let port = running.local_addr().port();
/// // A server that answers each datagram in capitals.
/// let client = netcore::Client::new()
///     .read_timeout(Some(Duration::from_millis(500)))
///     .retries(3);
/// let server = client.udp("127.0.0.1", port)?;
/// assert_eq!(server.request(b"hello")?, b"HELLO");
/// assert_eq!(server.request(b"again")?, b"AGAIN");
/// assert_eq!(server.peer_addr().port(), port);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DatagramClient {
    socket: UdpSocket,
    addr: SocketAddr,
    wait: Duration,
    retries: u32,
}

impl DatagramClient {
    pub(super) fn new(socket: UdpSocket, addr: SocketAddr, wait: Duration, retries: u32) -> Self {
        DatagramClient {
            socket,
            addr,
            wait,
            retries,
        }
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `request` as one datagram and returns the first reply, sending
    /// again up to the client's retries when none comes in time. A reply
    /// that arrives after its request timed out may be taken as the answer
    /// to the next one: UDP has no request ids; where the protocol lets the
    /// client recognise its answer, use [`DatagramClient::request_matching`].
    pub fn request(&self, request: &[u8]) -> Result<Vec<u8>> {
        self.request_matching(request, |_| true)
    }

    /// [`DatagramClient::request`], taking only a reply `accept` approves:
    /// others (a late reply to an earlier request, a duplicate) are
    /// skipped while the attempt's time lasts, so they are never taken for
    /// this request's answer.
    pub fn request_matching(
        &self,
        request: &[u8],
        mut accept: impl FnMut(&[u8]) -> bool,
    ) -> Result<Vec<u8>> {
        let addr = self.addr;
        let mut buf = vec![0u8; 65_536];
        for _ in 0..=self.retries {
            self.socket
                .send(request)
                .map_err(|e| refused_or(addr, "sending to", e))?;
            let deadline = std::time::Instant::now() + self.wait;
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                self.socket
                    .set_read_timeout(Some(left))
                    .map_err(|e| refused_or(addr, "waiting for a reply from", e))?;
                match self.socket.recv(&mut buf) {
                    Ok(n) if accept(&buf[..n]) => {
                        buf.truncate(n);
                        return Ok(buf);
                    }
                    // Not this request's answer: wait for the next one.
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) =>
                    {
                        break;
                    }
                    Err(e) => return Err(refused_or(addr, "waiting for a reply from", e)),
                }
            }
        }
        Err(Error::Timeout {
            op: "waiting for a reply from",
            addr,
            after: self.wait.saturating_mul(self.retries.saturating_add(1)),
        })
    }
}

/// A connected UDP socket reports an ICMP "port unreachable" as
/// connection refused: nothing listens there, as for a refused TCP connect.
fn refused_or(addr: SocketAddr, op: &'static str, source: io::Error) -> Error {
    if source.kind() == io::ErrorKind::ConnectionRefused {
        Error::Connect { addr, source }
    } else {
        Error::Io { op, addr, source }
    }
}
