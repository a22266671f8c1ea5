//! The chargen client: copies what the server sends to an output until the
//! server closes, or until the output takes no more (`| head`).

use std::io::{self, Write};

use netcore::Client;

/// What went wrong in a chargen client.
///
/// The message says what was being done; the cause is the
/// [`source`](std::error::Error::source): print the chain (anyhow's `{:#}`)
/// to see both, each once (`writing the stream: broken pipe`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reaching or reading from the server failed: netcore's error,
    /// message and source as they are.
    #[error(transparent)]
    Net(#[from] netcore::Error),
    /// Writing what the server sent to the output failed. Since the stream
    /// is endless, this is how a client that wanted only some of it ends:
    /// a `BrokenPipe` here is the reader going away, not a failure.
    #[error("writing the stream")]
    Output(#[source] io::Error),
}

/// Bytes read from the server per call.
const BUF: usize = 64 * 1024;

/// Connects to `host:port` over TCP and copies everything the server sends
/// to `out` (flushed as it arrives) until the server closes; returns the
/// number of bytes.
///
/// A chargen server never closes first: the copy ends when `out` fails
/// ([`Error::Output`]), which drops the connection; the server takes the
/// reset as the client's normal end.
pub fn receive(client: &Client, host: &str, port: u16, out: &mut dyn Write) -> Result<u64, Error> {
    let stream = client.connect(host, port)?;
    stream.receive_until_closed(&mut vec![0u8; BUF], |chunk| {
        out.write_all(chunk).map_err(Error::Output)?;
        out.flush().map_err(Error::Output)
    })
}

/// Sends one empty datagram to `host:port` and copies the reply (one line
/// of the pattern, from a chargen server) to `out`, with the client's read
/// timeout and retries.
pub fn receive_udp(
    client: &Client,
    host: &str,
    port: u16,
    out: &mut dyn Write,
) -> Result<u64, Error> {
    let reply = client.request(host, port, b"")?;
    out.write_all(&reply).map_err(Error::Output)?;
    out.flush().map_err(Error::Output)?;
    Ok(reply.len() as u64)
}
