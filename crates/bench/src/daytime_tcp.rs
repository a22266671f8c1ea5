//! Daytime over TCP: concurrent connectors, each connecting, reading to
//! end-of-file, checking the line, and starting over.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token};

use crate::engine::{self, Gate, LoopResult, Shared};

/// The longest reply kept for checking; a daytime line is about 26 bytes.
const MAX_REPLY: usize = 4096;

/// How long a connector waits before trying again after `connect(2)`
/// itself failed (no free local port, say), so it never spins.
const RETRY: Duration = Duration::from_millis(1);

struct Connector {
    stream: Option<TcpStream>,
    started: Instant,
    reply: Vec<u8>,
    /// When a failed connector may try again.
    retry_at: Option<Instant>,
}

/// Whether `reply` is what a daytime server sends: a non-empty line of
/// text (printable ASCII and whitespace, ending with a newline).
pub(crate) fn is_daytime_line(reply: &[u8]) -> bool {
    reply.last() == Some(&b'\n')
        && reply.iter().any(|b| b.is_ascii_graphic())
        && reply
            .iter()
            .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
}

pub(crate) fn connectors(
    shared: &Shared<'_>,
    indices: &[usize],
    gate: &mut Gate<'_, '_>,
) -> LoopResult {
    let mut result = LoopResult::new();
    let (mut poll, mut events) = match engine::new_poll() {
        Ok(p) => p,
        Err(e) => {
            result.connect_failed(e);
            return result;
        }
    };
    let Some(start) = gate.pass() else {
        return result;
    };
    let deadline = start + shared.config.duration;
    let timeout = shared.config.effective_timeout();
    let addr = shared.config.addr;
    let mut conns: Vec<Connector> = indices
        .iter()
        .map(|_| Connector {
            stream: None,
            started: start,
            reply: Vec::with_capacity(64),
            retry_at: Some(start),
        })
        .collect();
    let mut scratch = [0u8; 1024];
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        // (Re)open every connector that is due.
        let mut next_retry: Option<Instant> = None;
        for (i, conn) in conns.iter_mut().enumerate() {
            match conn.retry_at {
                Some(at) if at <= now => {
                    conn.retry_at = None;
                    conn.reply.clear();
                    conn.started = now;
                    let opened = TcpStream::connect(addr).and_then(|mut s| {
                        poll.registry()
                            .register(&mut s, Token(i), Interest::READABLE)?;
                        Ok(s)
                    });
                    match opened {
                        Ok(s) => conn.stream = Some(s),
                        Err(e) => {
                            result.error(e);
                            conn.retry_at = Some(now + RETRY);
                        }
                    }
                }
                _ => {}
            }
            if let Some(at) = conn.retry_at {
                next_retry = Some(next_retry.map_or(at, |n: Instant| n.min(at)));
            } else if conn.stream.is_some() && now.duration_since(conn.started) > timeout {
                conn.stream = None;
                result.error(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no end-of-file after {timeout:?}"),
                ));
                conn.retry_at = Some(now);
                next_retry = Some(now);
            }
        }
        let wake = next_retry.unwrap_or(now + timeout).min(deadline);
        if let Err(e) = engine::poll(&mut poll, &mut events, wake.saturating_duration_since(now)) {
            result.error(e);
            break;
        }
        for event in events.iter() {
            let Some(conn) = conns.get_mut(event.token().0) else {
                continue;
            };
            let Some(stream) = conn.stream.as_mut() else {
                continue;
            };
            // Read until end-of-file or until the socket is drained.
            let outcome = loop {
                match stream.read(&mut scratch) {
                    Ok(0) => break Some(Ok(())),
                    Ok(n) => {
                        if conn.reply.len() + n > MAX_REPLY {
                            break Some(Err(None));
                        }
                        conn.reply.extend_from_slice(&scratch[..n]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Some(Err(Some(e))),
                }
            };
            let Some(outcome) = outcome else { continue };
            // Closing here, after the server's FIN, leaves TIME_WAIT on the
            // server's side, as a daytime server that closes first expects.
            conn.stream = None;
            let now = Instant::now();
            match outcome {
                Ok(()) if is_daytime_line(&conn.reply) => {
                    if now <= deadline {
                        result.done(conn.started, now, 0, shared.progress);
                    }
                }
                Ok(()) | Err(None) => result.mismatches += 1,
                Err(Some(e)) => result.error(e),
            }
            conn.retry_at = Some(now);
        }
    }
    gate.finish();
    result
}

#[cfg(test)]
mod tests {
    use super::is_daytime_line;

    #[test]
    fn daytime_lines() {
        assert!(is_daytime_line(b"Wed Feb 11 16:32:10 2026\n"));
        assert!(is_daytime_line(
            b"\n61082 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *\r\n"
        ));
        assert!(!is_daytime_line(b""));
        assert!(!is_daytime_line(b"\n"));
        assert!(!is_daytime_line(b"no newline"));
        assert!(!is_daytime_line(b"bin\xffary\n"));
    }
}
