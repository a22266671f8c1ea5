//! [`LookupError`]: why a host has no address, sorted by the `EAI_*` code
//! `getaddrinfo(3)` or `getnameinfo(3)` returned, never by the words of its
//! message.

use std::borrow::Cow;
use std::fmt;
use std::io;

use super::Family;

/// glibc's `EAI_ADDRFAMILY` ("address family for hostname not
/// supported"), which the `libc` crate does not define for Linux: glibc
/// returns it for a numeric host of the other family (`127.0.0.1` asked
/// for `AF_INET6`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const EAI_ADDRFAMILY: i32 = -9;

/// The few verdicts a lookup can end in, from [`LookupError::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LookupErrorKind {
    /// The name does not exist: `EAI_NONAME`; also every name under
    /// `.invalid` (RFC 6761), answered without asking anyone.
    NoSuchHost,
    /// The name exists but has no address of the family asked for:
    /// `EAI_NODATA`, `EAI_ADDRFAMILY`; an IP literal of the other family.
    NoAddress,
    /// The resolver could not answer now (`EAI_AGAIN`: no name server
    /// reachable, SERVFAIL); asking again later may work.
    TemporaryFailure,
    /// The name server failed for good (`EAI_FAIL`: REFUSED, a broken
    /// answer).
    Failed,
    /// The text cannot be a host: empty, a NUL byte, a space or a control
    /// character, or an `ADDR%SCOPE` whose scope is empty or out of range.
    /// No lookup was made.
    InvalidName,
    /// An `ADDR%SCOPE` names an interface this network namespace does not
    /// have (with IPv6).
    NoSuchInterface,
    /// Anything else: `EAI_SYSTEM` (the `errno` is the
    /// [`source`](std::error::Error::source)), `EAI_MEMORY`, an unknown code.
    Other,
}

impl LookupErrorKind {
    /// The [`io::ErrorKind`] this verdict travels as inside an
    /// [`io::Error`]: `NotFound` for the three "not there" verdicts,
    /// `TimedOut` for a temporary failure (try again), `InvalidInput` for
    /// an invalid name, `Other` otherwise.
    pub fn io_kind(self) -> io::ErrorKind {
        match self {
            LookupErrorKind::NoSuchHost
            | LookupErrorKind::NoAddress
            | LookupErrorKind::NoSuchInterface => io::ErrorKind::NotFound,
            LookupErrorKind::TemporaryFailure => io::ErrorKind::TimedOut,
            LookupErrorKind::InvalidName => io::ErrorKind::InvalidInput,
            LookupErrorKind::Failed | LookupErrorKind::Other => io::ErrorKind::Other,
        }
    }
}

/// Why a host has no address, from [`getaddrinfo`](crate::getaddrinfo) or
/// [`getnameinfo`](crate::getnameinfo).
///
/// The message is the reason alone (`no such host`, `no IPv6 address`,
/// `temporary failure, try again`); the caller adds what was looked up
/// (`resolving nonexistent.invalid: no such host`).
/// [`LookupError::kind`] is the verdict to act on,
/// [`LookupError::code`] the raw `EAI_*` code when there is one.
///
/// ```
/// use netcore::{Family, LookupErrorKind};
/// let err = netcore::getaddrinfo("nonexistent.invalid", 7, Family::Any).unwrap_err();
/// assert_eq!(err.kind(), LookupErrorKind::NoSuchHost);
/// assert_eq!(err.to_string(), "no such host");
/// ```
#[derive(Debug)]
pub struct LookupError {
    kind: LookupErrorKind,
    code: Option<i32>,
    message: Cow<'static, str>,
    source: Option<io::Error>,
}

impl LookupError {
    /// The verdict.
    pub fn kind(&self) -> LookupErrorKind {
        self.kind
    }

    /// The `EAI_*` code `getaddrinfo(3)` or `getnameinfo(3)` returned;
    /// `None` when netlab decided without asking (`.invalid`, an invalid
    /// name or scope, a literal of the other family).
    pub fn code(&self) -> Option<i32> {
        self.code
    }

    fn new(kind: LookupErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        LookupError {
            kind,
            code: None,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn no_such_host() -> Self {
        LookupError::new(LookupErrorKind::NoSuchHost, "no such host")
    }

    pub(crate) fn no_address(family: Family) -> Self {
        let message = match family {
            Family::Any => "no address",
            Family::V4 => "no IPv4 address",
            Family::V6 => "no IPv6 address",
        };
        LookupError::new(LookupErrorKind::NoAddress, message)
    }

    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        LookupError::new(LookupErrorKind::InvalidName, message)
    }

    pub(crate) fn no_interface(
        message: impl Into<Cow<'static, str>>,
        source: Option<io::Error>,
    ) -> Self {
        LookupError {
            source,
            ..LookupError::new(LookupErrorKind::NoSuchInterface, message)
        }
    }

    /// Sorts a failure of `getaddrinfo(3)`/`getnameinfo(3)` by its code.
    pub(crate) fn from_gai(err: dns_lookup::LookupError, family: Family) -> Self {
        let code = err.error_num();
        let with_code = |e: LookupError| LookupError {
            code: (code != 0).then_some(code),
            ..e
        };
        let sorted = match code {
            libc::EAI_NONAME => LookupError::no_such_host(),
            libc::EAI_NODATA => LookupError::no_address(family),
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            EAI_ADDRFAMILY => LookupError::no_address(family),
            libc::EAI_AGAIN => LookupError::new(
                LookupErrorKind::TemporaryFailure,
                "temporary failure, try again",
            ),
            libc::EAI_FAIL => LookupError::new(
                LookupErrorKind::Failed,
                "non-recoverable failure in name resolution",
            ),
            // dns-lookup took errno when the call returned: the cause.
            libc::EAI_SYSTEM => LookupError {
                source: Some(io::Error::from(err)),
                ..LookupError::new(LookupErrorKind::Other, "system error")
            },
            // gai_strerror(3)'s words (or, for a name with a NUL byte or an
            // entry of an unknown family, dns-lookup's): only shown.
            _ => LookupError::new(
                LookupErrorKind::Other,
                crate::error::describe(&io::Error::from(err)),
            ),
        };
        with_code(sorted)
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LookupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An [`io::Error`] of [`LookupErrorKind::io_kind`] (the `errno`'s own kind
/// for `EAI_SYSTEM`) that carries the [`LookupError`] inside: its message
/// is the lookup error's, and `get_ref` gives the lookup error back.
impl From<LookupError> for io::Error {
    fn from(err: LookupError) -> io::Error {
        let kind = match &err.source {
            Some(source) if err.kind == LookupErrorKind::Other => source.kind(),
            _ => err.kind.io_kind(),
        };
        io::Error::new(kind, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gai(code: i32, family: Family) -> LookupError {
        LookupError::from_gai(dns_lookup::LookupError::new(code), family)
    }

    #[test]
    fn eai_codes_sort_into_verdicts() {
        let cases = [
            (
                libc::EAI_NONAME,
                LookupErrorKind::NoSuchHost,
                "no such host",
            ),
            (
                libc::EAI_NODATA,
                LookupErrorKind::NoAddress,
                "no IPv6 address",
            ),
            (
                libc::EAI_AGAIN,
                LookupErrorKind::TemporaryFailure,
                "temporary failure, try again",
            ),
            (
                libc::EAI_FAIL,
                LookupErrorKind::Failed,
                "non-recoverable failure in name resolution",
            ),
        ];
        for (code, kind, message) in cases {
            let err = gai(code, Family::V6);
            assert_eq!(err.kind(), kind, "{code}");
            assert_eq!(err.to_string(), message);
            assert_eq!(err.code(), Some(code));
            assert!(std::error::Error::source(&err).is_none());
        }
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        assert_eq!(
            gai(EAI_ADDRFAMILY, Family::V4).to_string(),
            "no IPv4 address"
        );
        let other = gai(libc::EAI_MEMORY, Family::Any);
        assert_eq!(other.kind(), LookupErrorKind::Other);
        let text = other.to_string();
        assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
        assert!(!text.contains("os error"), "{text}");
    }

    #[test]
    fn a_system_error_keeps_errno_as_its_cause() {
        let err = gai(libc::EAI_SYSTEM, Family::Any);
        assert_eq!(err.kind(), LookupErrorKind::Other);
        assert_eq!(err.to_string(), "system error");
        let cause = std::error::Error::source(&err).expect("errno");
        assert!(cause.downcast_ref::<io::Error>().is_some());
    }

    #[test]
    fn travels_inside_an_io_error_and_comes_back() {
        let io = io::Error::from(LookupError::no_such_host());
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert_eq!(io.to_string(), "no such host");
        let back = io.get_ref().and_then(|e| e.downcast_ref::<LookupError>());
        assert_eq!(
            back.map(LookupError::kind),
            Some(LookupErrorKind::NoSuchHost)
        );
        let again = io::Error::from(gai(libc::EAI_AGAIN, Family::Any));
        assert_eq!(again.kind(), io::ErrorKind::TimedOut);
    }
}
