//! The time client: one reading of a server's RFC 868 clock, with the
//! local clock around it so the caller can tell how far apart they are.

use std::time::SystemTime;

use netcore::Client;

use crate::from_rfc868;

/// What went wrong in a time client.
///
/// The message says what was being done; the cause is the
/// [`source`](std::error::Error::source): print the chain (anyhow's `{:#}`)
/// to see both, each once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reaching or reading from the server failed: netcore's error,
    /// message and source as they are.
    #[error(transparent)]
    Net(#[from] netcore::Error),
    /// The server's reply was not the 4 bytes of an RFC 868 time. Over
    /// TCP, 0 bytes is a server that could not tell the time (RFC 868:
    /// it "should … close [the connection] without sending anything").
    #[error("the server sent {got} byte{}; RFC 868 time is 4", if *got == 1 { "" } else { "s" })]
    Length {
        /// How many bytes arrived (counting stops at 5 over TCP).
        got: usize,
    },
}

/// One reading of a time server.
///
/// `sent` and `received` are the local clock just before the exchange and
/// as the reply arrived; the server read its clock somewhere in between.
/// Over TCP `sent` is when the connection was established, not when
/// `connect(2)` began: the server accepts (and reads its clock) only once
/// the handshake's last ACK reaches it, so the interval is one round trip
/// instead of two, and it still holds the server's reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reading {
    /// The 32-bit value, as sent.
    pub raw: u32,
    /// The local clock when the request went out (TCP: the connection was
    /// established; UDP: the datagram was first sent).
    pub sent: SystemTime,
    /// The local clock when the reply had arrived.
    pub received: SystemTime,
}

impl Reading {
    /// The server's time, in the era nearest the local clock (see
    /// [`from_rfc868`]).
    pub fn time(&self) -> SystemTime {
        from_rfc868(self.raw, self.received)
    }
}

/// Connects to `host:port` over TCP and reads the server's 4 bytes until
/// it closes.
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(time::Time::new())?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().timeout(Some(Duration::from_secs(5)));
/// let reading = time::query(&client, "127.0.0.1", port)?;
/// // One clock on both ends: the server's second falls within the
/// // exchange, give or take the second RFC 868 rounds away.
/// let server = reading.time();
/// assert!(server + Duration::from_secs(1) >= reading.sent && server <= reading.received);
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn query(client: &Client, host: &str, port: u16) -> Result<Reading, Error> {
    let stream = client.connect(host, port)?;
    let sent = SystemTime::now();
    // One byte more than a reply holds: a fifth byte is an error too.
    let mut buf = [0u8; 5];
    let mut got = 0;
    let mut received = sent;
    while got < buf.len() {
        let n = stream.receive(&mut buf[got..])?;
        if n == 0 {
            break;
        }
        if got < 4 {
            received = SystemTime::now();
        }
        got += n;
    }
    reading(&buf[..got], sent, received)
}

/// Sends one empty datagram to `host:port` (RFC 868: "U: Send an empty
/// datagram to port 37") and reads the reply, with the client's read
/// timeout and retries. With a retry, `sent` is the first sending: the
/// interval is then wider than the exchange, but still holds it.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A server whose clock says 2026-02-11 16:32:10 UTC.
/// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_770_827_530);
/// let server = time::Time::new().clock(time::FixedClock(at));
/// let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(server)?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().read_timeout(Some(Duration::from_secs(1)));
/// let reading = time::query_udp(&client, "127.0.0.1", port)?;
/// assert_eq!(reading.time(), at);
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn query_udp(client: &Client, host: &str, port: u16) -> Result<Reading, Error> {
    let socket = client.udp(host, port)?;
    let sent = SystemTime::now();
    let reply = socket.request(b"")?;
    let received = SystemTime::now();
    reading(&reply, sent, received)
}

fn reading(reply: &[u8], sent: SystemTime, received: SystemTime) -> Result<Reading, Error> {
    let raw: [u8; 4] = reply
        .try_into()
        .map_err(|_| Error::Length { got: reply.len() })?;
    Ok(Reading {
        raw: u32::from_be_bytes(raw),
        sent,
        received,
    })
}

impl Reading {
    /// A reading of `raw` between `sent` and `received` (for tests and
    /// for callers that did the exchange themselves).
    pub fn new(raw: u32, sent: SystemTime, received: SystemTime) -> Self {
        Reading {
            raw,
            sent,
            received,
        }
    }
}
