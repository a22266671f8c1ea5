//! The echo client: input to the server, the server's replies to the output,
//! at the same time, so it works typed line by line and piped megabytes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use netcore::{Client, Stream};

/// What went wrong in an echo client.
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
    /// Writing the server's reply to the output failed.
    #[error("writing the reply")]
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
///
/// ```
/// use std::time::Duration;
/// use echo::{Echo, Mode};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The lecture's line mode: one line echoed, then the server closes.
/// let running = netcore::Builder::new("127.0.0.1:0".parse()?).serve(Echo::new(Mode::Line))?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().timeout(Some(Duration::from_secs(5)));
/// let mut out = Vec::new();
/// // `input` is read on a thread of its own (stdin, usually), hence owned.
/// let input = std::io::Cursor::new(b"first\nsecond\n".to_vec());
/// let received = echo::session(&client, "127.0.0.1", port, input, &mut out)?;
/// assert_eq!((received, &out[..]), (6, &b"first\n"[..]));
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn session(
    client: &Client,
    host: &str,
    port: u16,
    input: impl Read + Send + 'static,
    output: &mut dyn Write,
) -> Result<u64, Error> {
    let mut stream = client.connect(host, port)?;
    let tail_wait = stream.read_timeout();
    // No send timeout: a slow reader of `output` stalls the echo and so,
    // through the server, our sending; that is flow control, not a dead
    // server. The read timeout applies only once the input has ended: wake
    // up now and then to see whether it has run out (a timeout set on a
    // read already blocked would never apply).
    stream.set_write_timeout(None)?;
    stream.set_read_timeout(tail_wait.map(|wait| wait.min(TICK)))?;
    let stream = Arc::new(stream);
    let (done, input_result) = mpsc::channel();
    let progress = Arc::new(Progress::default());
    let (writer, input_progress) = (stream.clone(), progress.clone());
    std::thread::Builder::new()
        .name("echo-input".into())
        .spawn(move || {
            let _ = done.send(pump_input(input, &writer, &input_progress));
        })
        .map_err(|source| netcore::Error::Io {
            op: "starting the input thread for",
            addr: stream.peer_addr(),
            source,
        })?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match stream.receive(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                output.write_all(&buf[..n]).map_err(Error::Output)?;
                output.flush().map_err(Error::Output)?;
                total += n as u64;
            }
            Err(netcore::Error::Timeout { .. }) => {
                let (Some(after), Some(ended)) = (tail_wait, progress.input_ended()) else {
                    continue;
                };
                if ended.elapsed() >= after {
                    return Err(netcore::Error::Timeout {
                        op: "waiting for the echo from",
                        addr: stream.peer_addr(),
                        after,
                    }
                    .into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The input failed: the input thread shut the socket down to wake this
    // loop, and its verdict is on its way.
    if progress.input_failed.load(Ordering::Acquire) {
        if let Ok(verdict) = input_result.recv_timeout(Duration::from_secs(5)) {
            verdict?;
        }
    }
    // The server closed. If the input thread is in the middle of a write,
    // that write is about to fail (or just did): wait for its verdict, since
    // a reset is reported to only one of the two threads and may have gone
    // to the writer. If it is waiting for input, nothing was lost.
    let verdict = if progress.writing.load(Ordering::Acquire) {
        input_result.recv_timeout(Duration::from_secs(5)).ok()
    } else {
        input_result.try_recv().ok()
    };
    match verdict {
        Some(Err(e)) => Err(e),
        Some(Ok(())) | None => Ok(total),
    }
}

/// How often a reader waiting out the tail timeout looks at the clock.
const TICK: Duration = Duration::from_millis(100);

/// What the input thread is doing, for the reading side.
#[derive(Default)]
struct Progress {
    /// In the middle of writing a chunk to the server.
    writing: AtomicBool,
    /// Reading the input failed (stdin is a directory, say): the
    /// connection was shut down and the session must end with that error.
    input_failed: AtomicBool,
    /// When the input ended and the connection was half-closed.
    ended: Mutex<Option<Instant>>,
}

impl Progress {
    fn input_ended(&self) -> Option<Instant> {
        self.ended.lock().ok().and_then(|t| *t)
    }
}

/// Copies `input` to the server, then half-closes and notes when.
fn pump_input(mut input: impl Read, writer: &Stream, progress: &Progress) -> Result<(), Error> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Without this the reading side would wait for an echo
                // that can never come: nothing more will be sent, and the
                // server does not close until it sees our end-of-file.
                progress.input_failed.store(true, Ordering::Release);
                let _ = writer.shutdown();
                return Err(Error::Input(e));
            }
        };
        progress.writing.store(true, Ordering::Release);
        writer.send(&buf[..n])?;
        progress.writing.store(false, Ordering::Release);
    }
    writer.half_close()?;
    if let Ok(mut ended) = progress.ended.lock() {
        *ended = Some(Instant::now());
    }
    Ok(())
}

/// The largest UDP payload over IPv4.
const MAX_UDP: usize = 65_507;

/// Echo over UDP: sends `input` one line at a time (a line longer than a
/// datagram is split), each as a datagram, and copies each reply to
/// `output`. The name is resolved once, before any input is read. Each
/// request waits for its reply with the client's read timeout and retries.
/// Returns the bytes received.
///
/// ```
/// use std::time::Duration;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(echo::Echo::default())?;
/// let port = running.local_addr().port();
///
/// let client = netcore::Client::new().read_timeout(Some(Duration::from_secs(1)));
/// let mut out = Vec::new();
/// // Two lines, two datagrams, two replies.
/// echo::session_udp(&client, "127.0.0.1", port, &b"one\ntwo\n"[..], &mut out)?;
/// assert_eq!(out, b"one\ntwo\n");
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
pub fn session_udp(
    client: &Client,
    host: &str,
    port: u16,
    input: impl Read,
    output: &mut dyn Write,
) -> Result<u64, Error> {
    let server = client.udp(host, port)?;
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
        // An echo answers with the request itself: anything else is a late
        // reply to an earlier line (or a duplicate), never this line's.
        let reply = server.request_matching(&chunk, |reply| reply == chunk)?;
        output.write_all(&reply).map_err(Error::Output)?;
        output.flush().map_err(Error::Output)?;
        total += reply.len() as u64;
    }
    Ok(total)
}
