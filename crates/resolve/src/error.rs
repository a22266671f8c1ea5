//! The one error type of resolve: every message names what was looked up
//! and the DNS server when one was asked; why it failed is in the message
//! when nothing underneath failed (NXDOMAIN, a timeout), or the source when
//! something did (netcore's error), never both.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use netcore::LookupErrorKind;

use crate::answer::Family;

/// Why a lookup failed, and for which name or address.
///
/// Messages read `resolving NAME: REASON`, or `resolving NAME at SERVER:
/// REASON` when a DNS server was asked directly:
/// `resolving nonexistent.invalid: no such host`,
/// `resolving www.example.test at 127.0.0.1:53: timed out after 4 s (2 tries)`.
/// [`Error::Transport`] and [`Error::System`] have a source that says why:
/// print the chain (anyhow's `{:#}`) to see it, each cause once:
/// `resolving www.example.test at 127.0.0.1:53: connecting to
/// 127.0.0.1:53: connection refused`. The system resolver's verdicts read
/// the same as netcore's for `netlab connect` and `serve --host`.
/// [`Error::kind`] sorts them into the few cases a caller acts on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The name does not exist (`EAI_NONAME`, DNS NXDOMAIN), or the address
    /// has no host name.
    #[error("resolving {query}{}: {}", at(server), if *reverse { "no host name for this address" } else { "no such host" })]
    NoSuchHost {
        /// The name or address as asked for.
        query: String,
        /// The DNS server that said so, if one was asked directly.
        server: Option<SocketAddr>,
        /// Whether this was a reverse lookup.
        reverse: bool,
    },
    /// The name exists but has no address of the family asked for
    /// (`EAI_NODATA`, a DNS answer with no A/AAAA records).
    #[error("resolving {query}{}: no {}address", at(server), family_word(*family))]
    NoAddress {
        /// The name as asked for.
        query: String,
        /// The family that was asked for.
        family: Family,
        /// The DNS server that said so, if one was asked directly.
        server: Option<SocketAddr>,
    },
    /// The resolver could not answer now (`EAI_AGAIN`, DNS SERVFAIL):
    /// trying again later may work.
    #[error("resolving {query}{}: temporary failure, try again", at(server))]
    TemporaryFailure {
        /// The name or address as asked for.
        query: String,
        /// The DNS server that failed, if one was asked directly.
        server: Option<SocketAddr>,
    },
    /// The DNS server sent no answer in time, after every try.
    #[error("resolving {query} at {server}: timed out after {} ({tries} {})", secs(*after), if *tries == 1 { "try" } else { "tries" })]
    Timeout {
        /// The name or address as asked for.
        query: String,
        /// The DNS server that did not answer.
        server: SocketAddr,
        /// How long was waited in all.
        after: Duration,
        /// How many times the query was sent.
        tries: u32,
    },
    /// The DNS server answered with an error code other than NXDOMAIN or
    /// SERVFAIL (REFUSED, NOTIMP, FORMERR, ...).
    #[error("resolving {query} at {server}: the server answered {code_name} (rcode {code})")]
    Rejected {
        /// The name or address as asked for.
        query: String,
        /// The DNS server.
        server: SocketAddr,
        /// The DNS response code (RFC 1035 §4.1.1, RFC 6895).
        code: u16,
        /// Its name (`REFUSED`, `NOTIMP`, ...).
        code_name: String,
    },
    /// The DNS server could not be reached (`connection refused` is an ICMP
    /// port unreachable for UDP), or the TCP exchange broke off: netcore's
    /// error, which names the operation, the address and the OS error, is
    /// the source.
    #[error("resolving {query} at {server}")]
    Transport {
        /// The name or address as asked for.
        query: String,
        /// The DNS server.
        server: SocketAddr,
        /// netcore's error: the operation, the address and the OS error.
        #[source]
        source: netcore::Error,
    },
    /// The DNS server's reply could not be read or does not answer the
    /// question that was asked.
    #[error("resolving {query} at {server}: bad answer: {reason}")]
    BadAnswer {
        /// The name or address as asked for.
        query: String,
        /// The DNS server.
        server: SocketAddr,
        /// What was wrong with it.
        reason: String,
    },
    /// The name cannot be put in a DNS query (it is empty, a label is
    /// longer than 63 bytes, ...). The system resolver's refusals are
    /// [`Error::System`], as netcore words them.
    #[error("resolving {query:?}: not a valid host name ({reason})")]
    InvalidName {
        /// The name as given.
        query: String,
        /// Why it is not valid.
        reason: String,
    },
    /// Any other verdict of the system resolver, exactly as netcore gives
    /// it to every netlab client ([`netcore::Error::Resolve`], with the
    /// [`netcore::LookupError`] as its source): text that cannot be a host
    /// name, an unknown interface in `ADDR%SCOPE`, `EAI_FAIL`,
    /// `EAI_SYSTEM`, ... (`resolving ::1%eth9: no network interface
    /// "eth9" with IPv6`).
    #[error(transparent)]
    System {
        /// netcore's error.
        source: netcore::Error,
    },
    /// A DNS server address that is not `ADDR`, `ADDR:PORT`, `[V6ADDR]` or
    /// `[V6ADDR]:PORT`.
    #[error("DNS server {given:?}: {reason}")]
    BadServer {
        /// The text as given.
        given: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The few cases a caller acts on, from [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The name or address has no answer and asking again will not change
    /// that: [`Error::NoSuchHost`], [`Error::NoAddress`].
    NotFound,
    /// Asking again later may work: [`Error::TemporaryFailure`].
    Temporary,
    /// The DNS server did not answer in time: [`Error::Timeout`].
    TimedOut,
    /// The DNS server refused the query or could not be reached:
    /// [`Error::Rejected`], [`Error::Transport`]; a name server that failed
    /// for good behind the system resolver (`EAI_FAIL`, [`Error::System`]).
    Unavailable,
    /// The DNS server's reply made no sense: [`Error::BadAnswer`].
    BadAnswer,
    /// The caller's input was wrong: [`Error::InvalidName`],
    /// [`Error::BadServer`], or a name or scope the system resolver
    /// refused ([`Error::System`]).
    InvalidInput,
    /// Anything else: the rest of [`Error::System`].
    Other,
}

impl ErrorKind {
    /// A short snake_case name for scripts (`no_such_host`, `timed_out`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Temporary => "temporary_failure",
            ErrorKind::TimedOut => "timed_out",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::BadAnswer => "bad_answer",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// Which of the few cases this is.
    ///
    /// ```
    /// let err = resolve::lookup("nonexistent.invalid").unwrap_err();
    /// // No such host, or, on a machine whose resolver cannot be reached,
    /// // a temporary failure.
    /// assert!(matches!(
    ///     err.kind(),
    ///     resolve::ErrorKind::NotFound | resolve::ErrorKind::Temporary
    /// ));
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoSuchHost { .. } | Error::NoAddress { .. } => ErrorKind::NotFound,
            Error::TemporaryFailure { .. } => ErrorKind::Temporary,
            Error::Timeout { .. } => ErrorKind::TimedOut,
            Error::Rejected { .. } | Error::Transport { .. } => ErrorKind::Unavailable,
            Error::BadAnswer { .. } => ErrorKind::BadAnswer,
            Error::InvalidName { .. } | Error::BadServer { .. } => ErrorKind::InvalidInput,
            Error::System { source } => match source.lookup_error().map(|e| e.kind()) {
                Some(
                    LookupErrorKind::NoSuchHost
                    | LookupErrorKind::NoAddress
                    | LookupErrorKind::NoSuchInterface,
                ) => ErrorKind::NotFound,
                Some(LookupErrorKind::TemporaryFailure) => ErrorKind::Temporary,
                Some(LookupErrorKind::InvalidName) => ErrorKind::InvalidInput,
                Some(LookupErrorKind::Failed) => ErrorKind::Unavailable,
                _ => ErrorKind::Other,
            },
        }
    }

    /// The name or address the failed lookup was for (the server text for
    /// [`Error::BadServer`]).
    pub fn query(&self) -> &str {
        match self {
            Error::NoSuchHost { query, .. }
            | Error::NoAddress { query, .. }
            | Error::TemporaryFailure { query, .. }
            | Error::Timeout { query, .. }
            | Error::Rejected { query, .. }
            | Error::Transport { query, .. }
            | Error::BadAnswer { query, .. }
            | Error::InvalidName { query, .. } => query,
            Error::BadServer { given, .. } => given,
            Error::System { source } => match source {
                netcore::Error::Resolve { host, .. } => host,
                _ => "",
            },
        }
    }
}

fn at(server: &Option<SocketAddr>) -> String {
    match server {
        Some(addr) => format!(" at {addr}"),
        None => String::new(),
    }
}

fn family_word(family: Family) -> String {
    match family {
        Family::Any => String::new(),
        other => format!("{other} "),
    }
}

/// `4 s`, `0.3 s`: whole seconds without a fraction.
pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        // Round away float noise (0.30000000000000004) without hiding
        // milliseconds.
        let ms = (s * 1000.0).round() / 1000.0;
        format!("{ms} s")
    }
}

/// The result type of resolve.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_query_the_server_and_the_reason() {
        let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let err = Error::NoSuchHost {
            query: "nonexistent.invalid".into(),
            server: None,
            reverse: false,
        };
        assert_eq!(
            err.to_string(),
            "resolving nonexistent.invalid: no such host"
        );
        let err = Error::NoSuchHost {
            query: "192.0.2.99".into(),
            server: Some(server),
            reverse: true,
        };
        assert_eq!(
            err.to_string(),
            "resolving 192.0.2.99 at 127.0.0.1:53: no host name for this address"
        );
        let err = Error::NoAddress {
            query: "v4only.test".into(),
            family: Family::V6,
            server: None,
        };
        assert_eq!(err.to_string(), "resolving v4only.test: no IPv6 address");
        let err = Error::Timeout {
            query: "www.test".into(),
            server,
            after: Duration::from_millis(900),
            tries: 3,
        };
        assert_eq!(
            err.to_string(),
            "resolving www.test at 127.0.0.1:53: timed out after 0.9 s (3 tries)"
        );
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(err.query(), "www.test");
        let err = Error::TemporaryFailure {
            query: "x.test".into(),
            server: None,
        };
        assert_eq!(
            err.to_string(),
            "resolving x.test: temporary failure, try again"
        );
    }

    #[test]
    fn seconds_print_without_float_noise() {
        assert_eq!(secs(Duration::from_secs(4)), "4 s");
        assert_eq!(secs(Duration::from_secs_f64(0.1) * 3), "0.3 s");
    }

    #[test]
    fn errors_are_send_and_sync() {
        fn is<T: Send + Sync + 'static>() {}
        is::<Error>();
        is::<ErrorKind>();
    }
}
