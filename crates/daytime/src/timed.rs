//! The client for reading the time out of a reply: the whole reply in
//! memory (bounded), with the local clock around the exchange.

use std::time::SystemTime;

use netcore::Client;

use crate::Error;

/// A server's whole reply and the local clock around it.
///
/// The server read its clock somewhere between `sent` and `received`.
/// Over TCP `sent` is when the connection was established (not when
/// `connect(2)` began: the server accepts, and reads its clock, only once
/// the handshake's last ACK reaches it), and `received` is when the first
/// bytes arrived; the interval is one round trip and holds the server's
/// reading. Over UDP it is from the first sending of the request to the
/// reply (wider if a retry was needed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimedReply {
    /// Everything the server sent.
    pub bytes: Vec<u8>,
    /// The local clock as the request went out.
    pub sent: SystemTime,
    /// The local clock as the reply arrived.
    pub received: SystemTime,
}

/// Connects to `host:port` over TCP and reads the reply until the server
/// closes, failing with [`Error::TooLong`] past `limit` bytes (a daytime
/// reply is one line; a server that streams is no daytime server).
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(daytime::Daytime::default())?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().timeout(Some(Duration::from_secs(5)));
/// let reply = daytime::fetch(&client, "127.0.0.1", port, 1024)?;
/// // The server read its clock between these two of ours.
/// assert!(reply.sent <= reply.received);
/// assert!(daytime::parse::reply(&reply.bytes).is_ok());
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn fetch(client: &Client, host: &str, port: u16, limit: usize) -> Result<TimedReply, Error> {
    let stream = client.connect(host, port)?;
    let sent = SystemTime::now();
    let mut received = None;
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.receive(&mut buf)?;
        if n == 0 {
            break;
        }
        received.get_or_insert_with(SystemTime::now);
        if bytes.len() + n > limit {
            return Err(Error::TooLong { limit });
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    Ok(TimedReply {
        bytes,
        sent,
        received: received.unwrap_or_else(SystemTime::now),
    })
}

/// Sends one empty datagram to `host:port` and takes the reply (with the
/// client's read timeout and retries).
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = daytime::Daytime::default();
/// let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(server)?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().read_timeout(Some(Duration::from_secs(1)));
/// let reply = daytime::fetch_udp(&client, "127.0.0.1", port)?;
/// assert!(reply.bytes.ends_with(b"\n") && reply.sent <= reply.received);
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn fetch_udp(client: &Client, host: &str, port: u16) -> Result<TimedReply, Error> {
    let socket = client.udp(host, port)?;
    let sent = SystemTime::now();
    let bytes = socket.request(b"")?;
    let received = SystemTime::now();
    Ok(TimedReply {
        bytes,
        sent,
        received,
    })
}
