//! The one error type of netcore: every failure names the operation and the
//! address it failed on, and keeps the operating system's error as its source.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::getaddrinfo::LookupError;

/// What went wrong in netcore, and on which address.
///
/// A message says what was being done and on what (`binding 127.0.0.1:7`);
/// why it failed is the [`source`](std::error::Error::source), an
/// [`io::Error`], never repeated in the message. Print the chain to show
/// both once, as anyhow's `{:#}` does: `binding 127.0.0.1:7: address
/// already in use`. [`Error::io_kind`] gives the [`io::ErrorKind`] to act
/// on. Only [`Error::Timeout`] has no source: the message says it.
///
/// ```
/// use std::io::ErrorKind;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A port nothing listens on: bound (so no one else takes it), not listening.
/// let closed = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
/// closed.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>()?.into())?;
/// let port = closed.local_addr()?.as_socket().ok_or("an IP address")?.port();
///
/// let err = netcore::Client::new().connect("127.0.0.1", port).unwrap_err();
/// assert_eq!(err.to_string(), format!("connecting to 127.0.0.1:{port}"));
/// assert_eq!(err.io_kind(), ErrorKind::ConnectionRefused);
/// // The cause is the source, in words once: what `{:#}` of anyhow prints.
/// let cause = std::error::Error::source(&err).ok_or("a source")?;
/// let cause = cause.downcast_ref::<std::io::Error>().ok_or("an io::Error")?;
/// assert_eq!(netcore::describe(cause), "connection refused");
///
/// // The same port, bound again for a server: the address is taken.
/// # struct Nothing;
/// # impl netcore::DatagramServer for Nothing {
/// #     fn respond(&self, _: &[u8], _: std::net::SocketAddr, _: &mut Vec<u8>) -> bool { false }
/// # }
/// let taken = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(Nothing)?;
/// let err = netcore::DatagramBuilder::new(taken.local_addr()).serve(Nothing).unwrap_err();
/// assert!(matches!(err, netcore::Error::Bind { .. }));
/// assert_eq!(err.to_string(), format!("binding {}", taken.local_addr()));
/// assert_eq!(err.io_kind(), ErrorKind::AddrInUse);
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `socket(2)` or a socket option failed before binding.
    #[error("opening a socket for {addr}")]
    Open {
        /// The address the socket was meant for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// `bind(2)` failed (address in use, permission denied, ...).
    #[error("binding {addr}")]
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// `listen(2)` failed.
    #[error("listening on {addr}")]
    Listen {
        /// The bound address.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The host could not be turned into any address. The source is an
    /// [`io::Error`] carrying the [`LookupError`] (see
    /// [`Error::lookup_error`]) whose kind is
    /// [`LookupErrorKind::io_kind`](crate::LookupErrorKind::io_kind).
    #[error("resolving {}", Quoted(host))]
    Resolve {
        /// The host as given.
        host: String,
        /// The resolver's verdict.
        #[source]
        source: io::Error,
    },
    /// `connect(2)` failed on every address the name resolved to; this is
    /// the last address tried and its error.
    #[error("connecting to {addr}")]
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
    #[error("{op} {addr}")]
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
    #[error("{op}")]
    Inetd {
        /// What was being done (`duplicating standard input`, ...).
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The server's event loop could not be started.
    #[error("starting the server's event loop")]
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

    /// For [`Error::Resolve`], the resolver's typed verdict.
    pub fn lookup_error(&self) -> Option<&LookupError> {
        match self {
            Error::Resolve { source, .. } => source.get_ref()?.downcast_ref(),
            _ => None,
        }
    }
}

/// A host as a message shows it: as it is, or quoted when it is empty or
/// has blanks or control characters that would not show.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let odd = self.0.is_empty()
            || self
                .0
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"');
        if odd {
            write!(f, "{:?}", self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

/// An I/O error as one lower-case phrase, without the ` (os error N)` std
/// appends to the operating system's message: `address already in use`.
/// The one place netlab turns an `io::Error` into words; a leading capital
/// is lowered unless the word is all capitals (`IPv6`, `EOF`).
///
/// ```
/// let err = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
/// assert!(err.to_string().starts_with("Connection refused (os error"));
/// assert_eq!(netcore::describe(&err), "connection refused");
/// ```
pub fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain([second]).chain(chars).collect()
        }
        _ => text.to_owned(),
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
    fn messages_name_operation_and_address_and_the_cause_is_the_source() {
        let addr: SocketAddr = "127.0.0.1:7".parse().unwrap();
        let err = Error::Connect {
            addr,
            source: io::Error::from_raw_os_error(libc::ECONNREFUSED),
        };
        assert_eq!(err.to_string(), "connecting to 127.0.0.1:7");
        assert_eq!(
            std::error::Error::source(&err).map(|e| e.to_string()),
            Some(io::Error::from_raw_os_error(libc::ECONNREFUSED).to_string())
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
    fn odd_hosts_are_quoted() {
        let err = |host: &str| Error::Resolve {
            host: host.to_owned(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(err("x.test").to_string(), "resolving x.test");
        assert_eq!(err("").to_string(), "resolving \"\"");
        assert_eq!(err("a b").to_string(), "resolving \"a b\"");
        assert_eq!(err("::1%").to_string(), "resolving ::1%");
    }

    #[test]
    fn os_error_suffix_is_dropped_and_capitals_lowered() {
        let err = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(describe(&err), "address already in use");
        assert_eq!(describe(&io::Error::other("IPv6 is off")), "IPv6 is off");
        assert_eq!(describe(&io::Error::other("Bad thing")), "bad thing");
        assert_eq!(describe(&io::Error::other("")), "");
        assert_eq!(
            describe(&io::Error::from(io::ErrorKind::ConnectionRefused)),
            "connection refused"
        );
    }
}
