//! Exit codes (sysexits(3)) and the one-line error report.

use std::io;
use std::process::ExitCode;

/// The exit codes netlab uses, with sysexits(3) values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 0: success (also: stdout closed by a pipe reader, a server stopped by a signal).
    Ok = 0,
    /// 64 EX_USAGE: bad flags or arguments.
    Usage = 64,
    /// 65 EX_DATAERR: the data was wrong (`netlab bench`: a reply that does
    /// not match what was sent).
    DataErr = 65,
    /// 68 EX_NOHOST: a host name does not exist.
    NoHost = 68,
    /// 69 EX_UNAVAILABLE: connection refused, no route, address in use.
    Unavailable = 69,
    /// 70 EX_SOFTWARE: an internal error.
    Software = 70,
    /// 71 EX_OSERR: the operating system refused a resource (threads, descriptors).
    OsErr = 71,
    /// 74 EX_IOERR: an I/O error mid-transfer (reset by the peer, ...).
    IoErr = 74,
    /// 75 EX_TEMPFAIL: a timeout or a temporary failure; trying again may work.
    TempFail = 75,
    /// 77 EX_NOPERM: permission denied (a port below 1024 without privileges).
    NoPerm = 77,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// The exit code for an I/O error kind.
pub fn for_io_kind(kind: io::ErrorKind) -> Code {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => Code::NoHost,
        K::ConnectionRefused
        | K::AddrInUse
        | K::AddrNotAvailable
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::NetworkDown => Code::Unavailable,
        K::TimedOut | K::WouldBlock => Code::TempFail,
        K::PermissionDenied => Code::NoPerm,
        K::OutOfMemory => Code::OsErr,
        _ => Code::IoErr,
    }
}

/// The exit code for a netcore error: a resolver error is "no such host"
/// unless the resolver only failed for now.
pub fn for_net(err: &netcore::Error) -> Code {
    match err {
        netcore::Error::Resolve { source, .. } => match source.kind() {
            io::ErrorKind::TimedOut => Code::TempFail,
            _ => Code::NoHost,
        },
        netcore::Error::Engine { .. } => Code::OsErr,
        other => for_io_kind(other.io_kind()),
    }
}

/// Prints `netlab: <message>` and, when there is one, a hint on what to do,
/// as one line on stderr, and returns `code`.
pub fn report(message: impl std::fmt::Display, hint: Option<&str>, code: Code) -> ExitCode {
    match hint {
        Some(hint) => eprintln!("netlab: {message} ({hint})"),
        None => eprintln!("netlab: {message}"),
    }
    code.into()
}
