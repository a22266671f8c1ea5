//! Exit codes (sysexits(3)) and the one-line error report.

use std::io::{self, Write};
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
    /// 66 EX_NOINPUT: an input file does not exist or cannot be read.
    NoInput = 66,
    /// 73 EX_CANTCREAT: an output file (the log) cannot be created or
    /// opened.
    CantCreate = 73,
    /// 78 EX_CONFIG: a configuration file is wrong.
    Config = 78,
}

/// A failure not reported yet: its line, its hint and its exit code, for
/// callers that either exit with it or carry on (a reload that keeps the
/// previous configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What went wrong, on what.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The exit code, should the program stop.
    pub code: Code,
}

impl Problem {
    /// A problem with no hint.
    pub fn new(message: impl Message, code: Code) -> Self {
        Problem {
            message: message.text(),
            hint: None,
            code,
        }
    }

    /// The same problem, with a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The line [`report`] prints, without `netlab: ` and the newline.
    pub fn line(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{} ({hint})", self.message),
            None => self.message.clone(),
        }
    }

    /// Prints the line on stderr; returns the exit code.
    pub fn report(self) -> ExitCode {
        report(self.message, self.hint.as_deref(), self.code)
    }
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

/// The exit code for a netcore error. A resolver's verdict gets the code
/// `netlab resolve` gives the same name (see [`for_lookup`]).
pub fn for_net(err: &netcore::Error) -> Code {
    match err {
        netcore::Error::Resolve { source, .. } => match err.lookup_error() {
            Some(lookup) => for_lookup(lookup.kind()),
            None => for_io_kind(source.kind()),
        },
        netcore::Error::Engine { .. } => Code::OsErr,
        other => for_io_kind(other.io_kind()),
    }
}

/// The exit code for the resolver's verdict on a name, the same for
/// `connect`, `serve --host`, `bench` and `resolve`: 68 when the name (or
/// the interface of its scope) does not exist or has no address, 75 when
/// only for now, 64 for text that cannot be a host, 69 when the name
/// server or the system failed.
pub fn for_lookup(kind: netcore::LookupErrorKind) -> Code {
    use netcore::LookupErrorKind as K;
    match kind {
        K::NoSuchHost | K::NoAddress | K::NoSuchInterface => Code::NoHost,
        K::TemporaryFailure => Code::TempFail,
        K::InvalidName => Code::Usage,
        _ => Code::Unavailable,
    }
}

/// What [`report`] prints: a message as it is, or an error with its
/// causes (see [`chain`]).
pub trait Message {
    /// The text after `netlab: `.
    fn text(&self) -> String;
}

impl Message for str {
    fn text(&self) -> String {
        self.to_owned()
    }
}

impl Message for String {
    fn text(&self) -> String {
        self.clone()
    }
}

impl<T: Message + ?Sized> Message for &T {
    fn text(&self) -> String {
        (**self).text()
    }
}

/// Errors print as their chain. (Not one blanket impl over every error:
/// it would collide with the one for `String`; a new error type passed to
/// [`report`] gets a line here.)
macro_rules! errors_print_their_chain {
    ($($error:ty),+ $(,)?) => {$(
        impl Message for $error {
            fn text(&self) -> String {
                chain(self)
            }
        }
    )+};
}

errors_print_their_chain!(
    io::Error,
    netcore::Error,
    netcore::LookupError,
    resolve::Error,
    echo::Error,
    daytime::Error,
    daytime::FormatError,
    bench::Error,
    dyn std::error::Error + Send + Sync,
);

/// An error and its causes on one line: the message, then each
/// [`source`](std::error::Error::source) after `: `, as anyhow's `{:#}`
/// does, with two differences. An OS error reads as netcore describes it
/// (`connection refused`, not `Connection refused (os error 111)`), and a
/// cause whose words the line already ends with (an error that repeats
/// its source in its message) is not said twice.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    let mut next = Some(err);
    while let Some(err) = next {
        let text = match err.downcast_ref::<io::Error>() {
            Some(io) => netcore::describe(io),
            None => err.to_string(),
        };
        let said = line.ends_with(&text) || line.ends_with(&err.to_string());
        if !text.is_empty() && !said {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        next = err.source();
    }
    line
}

/// Set once stderr is not ours (inetd mode, where fds 1 and 2 are the
/// client's connection): [`report`] then logs instead of printing.
static TO_LOG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on, [`report`] sends its line to the log, never to stderr.
pub fn report_to_log() {
    TO_LOG.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Prints `netlab: <message>` and, when there is one, a hint on what to do,
/// as one line on stderr, and returns `code`. An error prints with its
/// causes ([`chain`]): `netlab: connecting to 127.0.0.1:1: connection
/// refused (nothing listens on 127.0.0.1 port 1; is the server running?)`.
pub fn report(message: impl Message, hint: Option<&str>, code: Code) -> ExitCode {
    let message = message.text();
    if TO_LOG.load(std::sync::atomic::Ordering::Relaxed) {
        let line = match hint {
            Some(hint) => format!("{message} ({hint})"),
            None => message,
        };
        log::error!(target: crate::logging::SERVE, "{line}");
        return code.into();
    }
    // One write(2) for the whole line, so a reader never sees half of it
    // (stderr is unbuffered: writeln! would write each piece on its own);
    // never panics on a closed stderr, unlike eprintln!.
    let line = match hint {
        Some(hint) => format!("netlab: {message} ({hint})\n"),
        None => format!("netlab: {message}\n"),
    };
    let _ = io::stderr().write_all(line.as_bytes());
    code.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// An error that repeats its cause in its own message, as some do.
    #[derive(Debug)]
    struct Repeats(io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "sending: {}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_chain_says_each_cause_once_in_lower_case() {
        let err = netcore::Error::Connect {
            addr: "127.0.0.1:1".parse().unwrap(),
            source: io::Error::from_raw_os_error(111),
        };
        assert!(err.source().is_some());
        assert_eq!(chain(&err), "connecting to 127.0.0.1:1: connection refused");
        let err = netcore::resolve("nonexistent.invalid", 7).unwrap_err();
        assert_eq!(chain(&err), "resolving nonexistent.invalid: no such host");
        let err = Repeats(io::Error::other("broken pipe"));
        assert_eq!(chain(&err), "sending: broken pipe");
        assert_eq!("plain".text(), "plain");
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        assert_eq!(boxed.text(), "sending: broken pipe");
    }

    #[test]
    fn the_resolvers_verdicts_have_one_code_each() {
        let code = |host: &str| for_net(&netcore::resolve(host, 7).unwrap_err());
        assert_eq!(code("nonexistent.invalid"), Code::NoHost);
        assert_eq!(code("::1%no-such-if"), Code::NoHost);
        assert_eq!(code("::1%"), Code::Usage);
        assert_eq!(code(""), Code::Usage);
        assert_eq!(
            for_lookup(netcore::LookupErrorKind::TemporaryFailure),
            Code::TempFail
        );
        assert_eq!(
            for_lookup(netcore::LookupErrorKind::Failed),
            Code::Unavailable
        );
    }
}
