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
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(chargen::Chargen::new())?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().timeout(Some(Duration::from_secs(5)));
/// // An output with room for 1000 bytes: when it is full, the client ends.
/// let mut taken = [0u8; 1000];
/// let end = chargen::receive(&client, "127.0.0.1", port, &mut &mut taken[..]);
/// assert!(matches!(end, Err(chargen::Error::Output(_))));
/// assert!(chargen::verify(0, &taken).is_ok());
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
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
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = chargen::Chargen::new();
/// let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(server)?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().read_timeout(Some(Duration::from_secs(1)));
/// let (mut first, mut second) = (Vec::new(), Vec::new());
/// chargen::receive_udp(&client, "127.0.0.1", port, &mut first)?;
/// chargen::receive_udp(&client, "127.0.0.1", port, &mut second)?;
/// // Each datagram gets the next line.
/// assert_eq!((&first[..], &second[..]), (chargen::line(0), chargen::line(1)));
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
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
