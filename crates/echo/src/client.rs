//! The echo client: input to the server, the server's replies to the output,
//! at the same time, so it works typed line by line and piped megabytes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::mpsc;

use netcore::Client;

/// What went wrong in an echo client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reaching, writing to or reading from the server failed.
    #[error(transparent)]
    Net(#[from] netcore::Error),
    /// Reading the input failed.
    #[error("reading the input: {0}")]
    Input(#[source] io::Error),
    /// Writing the server's reply to the output failed.
    #[error("writing the reply: {0}")]
    Output(#[source] io::Error),
}

/// Connects to an echo server over TCP, sends all of `input` while copying
/// every byte the server sends back to `output` (flushed as it arrives),
/// half-closes when `input` ends, and returns when the server closes, with
/// the number of bytes received.
///
/// The client's read timeout applies only after the input has ended (how
/// long to wait for the rest of the echo), so a person may pause at the
/// keyboard. If the server closes first (a line-mode server), the session
/// ends at once; the thread reading `input` is left to end with the
/// process.
pub fn session(
    client: &Client,
    host: &str,
    port: u16,
    input: impl Read + Send + 'static,
    output: &mut dyn Write,
) -> Result<u64, Error> {
    let tail_wait = client.read_timeout_value();
    let mut stream = client.clone().read_timeout(None).connect(host, port)?;
    let writer = stream.try_clone().map_err(|e| stream.error("cloning", e))?;
    let (done, input_result) = mpsc::channel();
    std::thread::Builder::new()
        .name("echo-input".into())
        .spawn(move || {
            let _ = done.send(pump_input(input, writer, tail_wait));
        })
        .map_err(|e| stream.error("starting the input thread for", e))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                output.write_all(&buf[..n]).map_err(Error::Output)?;
                output.flush().map_err(Error::Output)?;
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let e = match (e.kind(), tail_wait) {
                    (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(after)) => {
                        netcore::Error::Timeout {
                            op: "waiting for the echo from",
                            addr: stream.peer_addr(),
                            after,
                        }
                    }
                    _ => stream.error("reading from", e),
                };
                return Err(e.into());
            }
        }
    }
    match input_result.try_recv() {
        // The server closed first: writes failing after that are expected.
        Ok(Err(Error::Net(_))) | Ok(Ok(())) | Err(_) => Ok(total),
        Ok(Err(e)) => Err(e),
    }
}

/// Copies `input` to the server, then half-closes and starts the tail
/// timeout.
fn pump_input(
    mut input: impl Read,
    mut writer: netcore::Stream,
    tail_wait: Option<std::time::Duration>,
) -> Result<(), Error> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Input(e)),
        };
        writer
            .write_all(&buf[..n])
            .map_err(|e| writer.error("writing to", e))?;
    }
    writer
        .set_read_timeout(tail_wait)
        .map_err(|e| writer.error("setting options on", e))?;
    writer
        .half_close()
        .map_err(|e| writer.error("half-closing", e))?;
    Ok(())
}

/// The largest UDP payload over IPv4.
const MAX_UDP: usize = 65_507;

/// Echo over UDP: sends `input` one line at a time (a line longer than a
/// datagram is split), each as a datagram, and copies each reply to
/// `output`. Each request waits for its reply with the client's read
/// timeout and retries. Returns the bytes received.
pub fn session_udp(
    client: &Client,
    host: &str,
    port: u16,
    input: impl Read,
    output: &mut dyn Write,
) -> Result<u64, Error> {
    let mut input = BufReader::with_capacity(MAX_UDP, input);
    let mut total = 0u64;
    loop {
        let chunk = {
            let available = input.fill_buf().map_err(Error::Input)?;
            if available.is_empty() {
                break;
            }
            let end = available
                .iter()
                .position(|&b| b == b'\n')
                .map_or(available.len(), |i| i + 1);
            available[..end].to_vec()
        };
        input.consume(chunk.len());
        let reply = client.request(host, port, &chunk)?;
        output.write_all(&reply).map_err(Error::Output)?;
        output.flush().map_err(Error::Output)?;
        total += reply.len() as u64;
    }
    Ok(total)
}
