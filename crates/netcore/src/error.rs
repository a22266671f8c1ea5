//! The one error type of netcore: every failure names the operation and the
//! address it failed on, and keeps the operating system's error as its source.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// What went wrong in netcore, and on which address.
///
/// Messages are lower-case, name the operation and the address, and say why
/// (`binding 127.0.0.1:7: address already in use`). The underlying
/// [`io::Error`] is the [`source`](std::error::Error::source) where there is
/// one, so callers can still match on [`io::ErrorKind`] through
/// [`Error::io_kind`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `socket(2)` or a socket option failed before binding.
    #[error("opening a socket for {addr}: {source}")]
    Open {
        /// The address the socket was meant for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// `bind(2)` failed (address in use, permission denied, ...).
    #[error("binding {addr}: {}", describe(source))]
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// `listen(2)` failed.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// The bound address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The host name could not be turned into any address.
    #[error("resolving {host}: {}", describe(source))]
    Resolve {
        /// The name as given.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// `connect(2)` failed on every address the name resolved to; this is
    /// the last address tried and its error.
    #[error("connecting to {addr}: {}", describe(source))]
    Connect {
        /// The last address tried.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// An operation did not finish in time.
    #[error("{op} {addr}: timed out after {}", secs(*after))]
    Timeout {
        /// What was being done (`connecting to`, `waiting for a reply from`).
        op: &'static str,
        /// The peer.
        addr: SocketAddr,
        /// The limit that was reached.
        after: Duration,
    },
    /// Any other I/O error on an established socket.
    #[error("{op} {addr}: {}", describe(source))]
    Io {
        /// What was being done (`reading from`, `writing to`, ...).
        op: &'static str,
        /// The peer or local address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The inetd driver could not take over its descriptors or start the
    /// thread that reads its input.
    #[error("{op}: {}", describe(source))]
    Inetd {
        /// What was being done (`duplicating standard input`, ...).
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The server's event loop could not be started.
    #[error("starting the server's event loop: {source}")]
    Engine {
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A descriptor passed by socket activation is not a listening TCP or
    /// a bound UDP socket, or could not be inspected
    /// (`adopting socket-activated descriptor 3: not a socket`).
    #[error("adopting socket-activated descriptor {fd}: {problem}")]
    Activation {
        /// The descriptor number (3 for the first).
        fd: i32,
        /// What the descriptor is instead (`not a socket`, `a TCP socket
        /// that is not listening`), or, with a `source`, the step that failed.
        problem: &'static str,
        /// The operating system's error, when a system call failed.
        #[source]
        source: Option<io::Error>,
    },
}

impl Error {
    /// The [`io::ErrorKind`] behind this error; [`io::ErrorKind::TimedOut`]
    /// for [`Error::Timeout`], [`io::ErrorKind::InvalidInput`] for an
    /// [`Error::Activation`] descriptor of the wrong kind.
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::Open { source, .. }
            | Error::Bind { source, .. }
            | Error::Listen { source, .. }
            | Error::Resolve { source, .. }
            | Error::Connect { source, .. }
            | Error::Io { source, .. }
            | Error::Inetd { source, .. }
            | Error::Engine { source } => source.kind(),
            Error::Timeout { .. } => io::ErrorKind::TimedOut,
            Error::Activation { source, .. } => source
                .as_ref()
                .map_or(io::ErrorKind::InvalidInput, io::Error::kind),
        }
    }
}

/// A short, lower-case description of an I/O error without the
/// `(os error N)` suffix std adds, so one-line messages read well.
pub(crate) fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// The result type of netcore.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_operation_and_address() {
        let addr: SocketAddr = "127.0.0.1:7".parse().unwrap();
        let err = Error::Connect {
            addr,
            source: io::Error::from(io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(
            err.to_string(),
            "connecting to 127.0.0.1:7: connection refused"
        );
        let err = Error::Timeout {
            op: "connecting to",
            addr,
            after: Duration::from_millis(1500),
        };
        assert_eq!(
            err.to_string(),
            "connecting to 127.0.0.1:7: timed out after 1.5 s"
        );
        assert_eq!(err.io_kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn os_error_suffix_is_dropped() {
        let err = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(describe(&err), "address already in use");
    }
}
