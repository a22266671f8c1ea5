//! The accept policy: every `accept(2)` error is sorted into "the backlog
//! is empty", "that one connection failed, take the next", or "out of a
//! resource, pause accepting" (with a backoff, never a busy spin), and the
//! accept loop never dies of one.

use std::io;
use std::time::Duration;

/// First and longest pause after a resource error from `accept(2)`.
pub(crate) const BACKOFF_MIN: Duration = Duration::from_millis(10);
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(1);

pub(crate) enum AcceptError {
    /// No more pending connections.
    Drained,
    /// That one connection failed (aborted before accept); try the next.
    Retry,
    /// Out of descriptors or memory, or something unexpected: pause
    /// accepting for a while instead of spinning.
    BackOff,
}

pub(crate) fn classify(e: &io::Error) -> AcceptError {
    match e.kind() {
        io::ErrorKind::WouldBlock => return AcceptError::Drained,
        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => return AcceptError::Retry,
        _ => {}
    }
    match e.raw_os_error() {
        Some(
            libc::EPROTO
            | libc::EPERM
            | libc::ECONNRESET
            | libc::ENETDOWN
            | libc::ENOPROTOOPT
            | libc::EHOSTDOWN
            | libc::ENONET
            | libc::EHOSTUNREACH
            | libc::EOPNOTSUPP
            | libc::ENETUNREACH,
        ) => AcceptError::Retry,
        _ => AcceptError::BackOff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_classified() {
        let e = |n| io::Error::from_raw_os_error(n);
        assert!(matches!(classify(&e(libc::EMFILE)), AcceptError::BackOff));
        assert!(matches!(classify(&e(libc::ENFILE)), AcceptError::BackOff));
        assert!(matches!(classify(&e(libc::ENOBUFS)), AcceptError::BackOff));
        assert!(matches!(
            classify(&e(libc::ECONNABORTED)),
            AcceptError::Retry
        ));
        assert!(matches!(classify(&e(libc::EAGAIN)), AcceptError::Drained));
    }
}
