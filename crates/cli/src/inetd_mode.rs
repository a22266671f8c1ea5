//! `netlab serve PROTOCOL --inetd`: serve what inetd, xinetd or systemd
//! hands the process, then exit.
//!
//! - TCP (inetd `nowait`, xinetd `wait = no`, systemd `Accept=yes`): the
//!   one connection on fds 0 and 1, with [`netcore::Inetd`]; exit 0 when
//!   it ends.
//! - UDP (`--udp`, inetd `dgram udp wait`): the bound datagram socket on
//!   fd 0, served by a one-socket engine until no datagram has come for
//!   `--exit-idle` seconds; inetd starts netlab again for the next one.
//!
//! inetd connects fds 0, 1 **and 2** to the client, so in this mode
//! nothing but the protocol's bytes may be written to stdout or stderr:
//! the log defaults to syslog ([`crate::logging::start`] with `inetd`),
//! error lines go to the log ([`exit::report_to_log`]), so do usage
//! errors ([`refuse`]) and panics (the hook [`silence`] installs).

use std::ffi::OsStr;
use std::net::UdpSocket;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use netcore::{DatagramBuilder, Event, Inetd, Observer};

use crate::exit::{self, Code, Problem};
use crate::logging::{self, LogFormat, LogOptions, LogTo};
use crate::protocols::Protocol;
use crate::render::{LectureLog, Refusals};
use crate::serve::{self, ServeArgs};

/// `--exit-idle`'s default: a minute without a datagram.
const EXIT_IDLE: Duration = Duration::from_secs(60);

/// How long the last log lines may take to reach the log before exit.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// Whether `--inetd` is one of the command line's words: known before
/// clap has parsed them, so that not even a usage error reaches stderr.
pub fn on_command_line() -> bool {
    is_inetd_command(std::env::args_os().skip(1))
}

fn is_inetd_command<W: AsRef<OsStr>>(words: impl IntoIterator<Item = W>) -> bool {
    words
        .into_iter()
        .take_while(|w| w.as_ref() != "--")
        .any(|w| w.as_ref() == "--inetd" || w.as_ref().as_encoded_bytes().starts_with(b"--inetd="))
}

/// From now on nothing of netlab's own reaches stdout or stderr: error
/// reports go to the log, and a panic is logged at error level instead
/// of printed (std's hook would write it on fd 2, to the client).
pub fn silence() {
    exit::report_to_log();
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // One line, as every netlab error.
        let message = message.replace('\n', " ");
        log::error!(target: logging::SERVE, "thread '{name}' panicked{at}: {message}");
    }));
}

/// Reports clap's error `e` (a usage error, or `--help`, whose text would
/// go to the client) to the log the command line names, and returns 64.
pub fn refuse(e: &clap::Error) -> ExitCode {
    let words: Vec<String> = std::env::args_os()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    with_log(&log_options(&words), || {
        if e.use_stderr() {
            crate::usage::report(e, &words)
        } else {
            exit::report(
                "--help and --version write to stdout, which is the client's connection with --inetd",
                Some("run them without --inetd"),
                Code::Usage,
            )
        }
    })
}

/// The log options of a command line clap refused, read word by word
/// (what cannot be read is left at its default: syslog).
fn log_options(words: &[String]) -> LogOptions {
    let mut options = LogOptions {
        log: None,
        log_file: None,
        log_format: LogFormat::Text,
        syslog_socket: PathBuf::from("/dev/log"),
        verbose: 0,
    };
    let mut words = words.iter().skip(1);
    while let Some(word) = words.next() {
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (word.as_str(), None),
        };
        if !matches!(
            name,
            "--log" | "--log-file" | "--syslog-socket" | "--log-format"
        ) {
            continue;
        }
        let Some(value) = inline.or_else(|| words.next().cloned()) else {
            break;
        };
        match (name, value.as_str()) {
            ("--log-file", _) => options.log_file = Some(PathBuf::from(value)),
            ("--syslog-socket", _) => options.syslog_socket = PathBuf::from(value),
            ("--log", "none") => options.log = Some(LogTo::None),
            ("--log", "syslog") => options.log = Some(LogTo::Syslog),
            ("--log-format", "json") => options.log_format = LogFormat::Json,
            _ => {}
        }
    }
    options
}

/// Runs `report` with the logger of `options` started (or, if it cannot
/// start, syslog's if that can be reached: nobody else could be told),
/// and waits for its lines to be written.
fn with_log(options: &LogOptions, report: impl FnOnce() -> ExitCode) -> ExitCode {
    let writers = match logging::start(options, false, true) {
        Ok(writers) => writers,
        Err(problem) => {
            let Ok(writers) = logging::start(&syslog_only(options), false, true) else {
                return report();
            };
            problem.report();
            writers
        }
    };
    let code = report();
    logging::finish(writers, OUTPUT_GRACE);
    code
}

/// `options` with the log going to syslog, quietly nowhere if it cannot
/// be reached.
fn syslog_only(options: &LogOptions) -> LogOptions {
    LogOptions {
        log: None,
        log_file: None,
        ..options.clone()
    }
}

/// Runs `netlab serve P --inetd`.
pub fn run<P: Protocol>(args: &ServeArgs<P>) -> ExitCode {
    // main() has silenced stdout and stderr already, since `--inetd` was
    // on the command line; again here, so that this never depends on it.
    silence();
    let engine = &args.engine;
    let writers = match logging::start(&engine.log, engine.quiet, true) {
        Ok(writers) => writers,
        // Said in syslog, if it can be reached: nobody else could be told.
        Err(problem) => return with_log(&syslog_only(&engine.log), || problem.report()),
    };
    // The hook has logged a panic; unwinding to here lets its line be
    // written before the process exits.
    let code = std::panic::catch_unwind(AssertUnwindSafe(|| serve::<P>(args)))
        .unwrap_or_else(|_| Code::Software.into());
    logging::finish(writers, OUTPUT_GRACE);
    code
}

fn serve<P: Protocol>(args: &ServeArgs<P>) -> ExitCode {
    let engine = &args.engine;
    // Lets a test prove that a panic reaches the log and not the client.
    if std::env::var_os("NETLAB_TEST_PANIC").is_some() {
        panic!("NETLAB_TEST_PANIC is set");
    }
    let server = match P::server(&args.options, engine) {
        Ok(server) => server,
        Err(code) => return code,
    };
    let observer = LectureLog {
        announce_port: false,
        style: P::log_style(&args.options),
        styles: Default::default(),
        prefix: false,
        refusals: Refusals::default(),
    };
    if engine.udp {
        return serve_datagrams::<P>(server, observer, engine);
    }
    let served = Inetd::new()
        .name(P::NAME)
        .observer(observer)
        .idle_timeout((!engine.idle_timeout.is_zero()).then_some(engine.idle_timeout))
        .write_timeout(Some(Duration::from_secs(60)))
        .serve(server);
    match served {
        // However it ended (the peer's reset is in the log): inetd has
        // nothing to do with the exit code.
        Ok(_) => Code::Ok.into(),
        Err(e) => exit::report(&e, None, Code::OsErr),
    }
}

/// Serves the datagram socket on fd 0 until it has been idle for
/// `--exit-idle`.
fn serve_datagrams<P: Protocol>(
    server: P::Server,
    observer: LectureLog,
    engine: &serve::EngineOptions,
) -> ExitCode {
    let socket = match datagram_socket() {
        Ok(socket) => socket,
        Err(problem) => return problem.report(),
    };
    let builder = match DatagramBuilder::from_socket(socket) {
        Ok(builder) => builder,
        Err(e) => return exit::report(&e, None, exit::for_net(&e)),
    };
    let idle = Arc::new(Idle::default());
    // One socket, one loop, unless asked.
    let threads = engine
        .threads
        .map_or(1, |n| usize::try_from(n).unwrap_or(1));
    let running = serve::with_udp_options(builder, engine)
        .name(P::NAME)
        .threads(threads)
        .observer(Watched {
            inner: observer,
            idle: idle.clone(),
        })
        .serve(server);
    let running = match running {
        Ok(running) => running,
        Err(e) => return exit::report(&e, None, exit::for_net(&e)),
    };
    let limit = engine.exit_idle.unwrap_or(EXIT_IDLE);
    let watcher = (!limit.is_zero()).then(|| {
        let handle = running.shutdown_handle();
        let idle = idle.clone();
        std::thread::Builder::new()
            .name("exit-idle".into())
            .spawn(move || {
                if idle.wait(limit) {
                    handle.shutdown(Duration::ZERO);
                }
            })
    });
    let watcher = match watcher.transpose() {
        Ok(watcher) => watcher,
        Err(e) => {
            running.shutdown(Duration::ZERO);
            return exit::report(format!("starting the idle watcher: {e}"), None, Code::OsErr);
        }
    };
    running.wait();
    idle.stop();
    if let Some(watcher) = watcher {
        let _ = watcher.join();
    }
    Code::Ok.into()
}

/// fd 0 as the UDP socket inetd passes a `dgram udp wait` service, or
/// why it is not one.
fn datagram_socket() -> Result<UdpSocket, Problem> {
    let hint = "--inetd --udp serves the datagram socket inetd passes on fd 0: an inetd.conf \
                `dgram udp wait` entry, or xinetd's `socket_type = dgram` with `wait = yes`";
    // A duplicate: std has no safe way to take fd 0 itself over.
    let fd: OwnedFd = std::io::stdin().as_fd().try_clone_to_owned().map_err(|e| {
        Problem::new(
            format!("duplicating fd 0: {}", netcore::describe(&e)),
            Code::OsErr,
        )
    })?;
    let kind = socket2::SockRef::from(&fd).r#type().map_err(|e| {
        Problem::new(
            format!("fd 0 is not a socket ({})", netcore::describe(&e)),
            Code::Usage,
        )
        .hint(hint)
    })?;
    if kind != socket2::Type::DGRAM {
        return Err(Problem::new("fd 0 is not a datagram socket", Code::Usage).hint(hint));
    }
    let socket = UdpSocket::from(fd);
    // A Unix datagram socket has no IP address.
    match socket.local_addr() {
        Ok(_) => Ok(socket),
        Err(_) => Err(Problem::new("fd 0 is not a UDP socket", Code::Usage).hint(hint)),
    }
}

/// When the last datagram came, and whether the server has stopped.
#[derive(Debug)]
struct Idle {
    state: Mutex<(Instant, bool)>,
    changed: Condvar,
}

impl Default for Idle {
    fn default() -> Self {
        Idle {
            state: Mutex::new((Instant::now(), false)),
            changed: Condvar::new(),
        }
    }
}

impl Idle {
    /// A datagram came now. Nobody is woken: the watcher sees it when its
    /// wait ends, and waits again from it.
    fn touch(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 = Instant::now();
    }

    /// The server stopped otherwise: the watcher ends.
    fn stop(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.changed.notify_all();
    }

    /// Waits until no datagram has come for `limit` (true) or the server
    /// stopped (false). Wakes once per `limit` at most, not in a poll.
    fn wait(&self, limit: Duration) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let (last, stopped) = *state;
            if stopped {
                return false;
            }
            let elapsed = last.elapsed();
            if elapsed >= limit {
                return true;
            }
            state = self
                .changed
                .wait_timeout(state, limit - elapsed)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The lecture's log, and the time of each datagram for [`Idle`].
struct Watched {
    inner: LectureLog,
    idle: Arc<Idle>,
}

impl Observer for Watched {
    fn event(&self, event: &Event<'_>) {
        match event {
            // A refused datagram came too: the client is still there.
            Event::Datagram { .. } | Event::Refused { .. } => self.idle.touch(),
            _ => {}
        }
        let data = matches!(
            event,
            Event::Datagram { .. } | Event::Read { .. } | Event::Wrote { .. }
        );
        if !data || self.inner.wants_data() {
            self.inner.event(event);
        }
    }

    /// Always: the datagram events are the clock of `--exit-idle`.
    fn wants_data(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inetd_mode_is_known_from_the_words_alone() {
        assert!(is_inetd_command(["serve", "echo", "--inetd"]));
        assert!(is_inetd_command(["serve", "echo", "--inetd=x", "--bogus"]));
        assert!(!is_inetd_command(["serve", "echo", "--port", "7"]));
        assert!(!is_inetd_command(["connect", "echo", "--", "--inetd"]));
    }

    #[test]
    fn a_refused_command_line_still_names_its_log() {
        let words: Vec<String> = [
            "netlab",
            "serve",
            "echo",
            "--inetd",
            "--bogus",
            "--log-file",
            "/tmp/x.log",
            "--syslog-socket=/run/s",
            "--log-format",
            "json",
        ]
        .map(String::from)
        .into();
        let options = log_options(&words);
        assert_eq!(options.log_file, Some(PathBuf::from("/tmp/x.log")));
        assert_eq!(options.syslog_socket, PathBuf::from("/run/s"));
        assert_eq!(options.log_format, LogFormat::Json);
        let options = log_options(&["netlab".into(), "--log".into(), "none".into()]);
        assert_eq!(options.log, Some(LogTo::None));
        assert_eq!(log_options(&["netlab".into(), "--log".into()]).log, None);
    }

    #[test]
    fn the_idle_watch_ends_when_idle_or_stopped() {
        let idle = Idle::default();
        assert!(idle.wait(Duration::from_millis(20)));
        let idle = Arc::new(Idle::default());
        let stopper = idle.clone();
        let stopped = std::thread::spawn(move || stopper.stop());
        assert!(!idle.wait(Duration::from_secs(600)));
        stopped.join().unwrap();
    }
}
