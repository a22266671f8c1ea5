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
