//! The one logger of `netlab serve`: where the server's log goes, in which
//! format, and how much of it.
//!
//! Everything a server reports (the lecture's lines from
//! [`LectureLog`](crate::render::LectureLog), warnings, errors) is a record
//! of the `log` facade with the fields `service`, `event`, `peer` and
//! `bytes`. The logger installed here filters the records (`-q`, `-v`,
//! `RUST_LOG`), renders them (the lecture's text, or one JSON object a
//! line) and queues them for a writer thread ([`Output`]), so the event
//! loops never wait for a terminal, a file or syslog.
//!
//! | destination | text | json |
//! |---|---|---|
//! | stdout (default) | the lecture's lines on stdout, `netlab: ...` warnings and errors on stderr | every record on stdout |
//! | `--log-file PATH` | the same lines, each after its time, appended to the file | every record, appended |
//! | `--log syslog` | one message per line, severity from the level | one message per record |
//! | `--log none` | nothing | nothing |

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use clap::{ArgAction, Args, ValueEnum};
use log::kv::{Key, Value, VisitSource};
use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::exit::{Code, Problem};
use crate::output::{Destination, Output, Writers};

/// The target of lines printed whatever the level (the port chosen with
/// `--port 0`, which nothing else can tell).
pub const ANNOUNCE: &str = "netlab::announce";

/// The target of the server's own records (the lecture's lines, warnings,
/// errors).
pub const SERVE: &str = "netlab::serve";

/// Where a server's log goes and how much of it: the options every `serve`
/// command takes.
#[derive(Debug, Clone, Args)]
pub struct LogOptions {
    /// Where the log goes: `stdout` (the lecture's lines; warnings and
    /// errors on stderr), `syslog`, or `none`. Default: stdout.
    #[arg(long, value_enum, value_name = "WHERE", conflicts_with = "log_file")]
    pub log: Option<LogTo>,
    /// Append the log to this file instead (created if missing).
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// `text`: the lecture's lines; `json`: one object a line (time,
    /// level, service, event, peer, bytes, message).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The syslog daemon's socket, for `--log syslog`.
    #[arg(long, value_name = "PATH", default_value = "/dev/log")]
    pub syslog_socket: PathBuf,
    /// More detail: -v adds every engine event, -vv the data too.
    /// `RUST_LOG` (e.g. `RUST_LOG=debug`, `RUST_LOG=netlab=warn`) overrides
    /// -v and -q.
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,
}

/// Where the log goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogTo {
    /// stdout, warnings and errors on stderr.
    Stdout,
    /// The system log, through its socket (`--syslog-socket`).
    Syslog,
    /// Nowhere.
    None,
}

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// The lecture's lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// The installed logger; `None` before [`start`] and after [`finish`].
static LOGGER: OnceLock<Logger> = OnceLock::new();

struct Logger {
    output: RwLock<Option<Output>>,
    filter: RwLock<Filter>,
}

/// Which records pass.
struct Filter {
    format: LogFormat,
    /// Files and syslog get the time with each text line; stdout does not
    /// (the lecture's lines are what they are).
    timestamps: bool,
    /// `RUST_LOG`'s filter, or the level of `-q`/`-v`.
    rules: env_filter::Filter,
}

/// Installs the logger for a server: `quiet` is its `-q`, `inetd` whether
/// stdout and stderr belong to the client (then they are never written:
/// the default is syslog, and `--log stdout` is refused).
///
/// Returns the writer threads, for [`finish`].
pub fn start(options: &LogOptions, quiet: bool, inetd: bool) -> Result<Writers, Problem> {
    let to = match (&options.log_file, options.log) {
        (Some(path), _) => Destination::File(path.clone()),
        (None, Some(LogTo::Stdout)) if inetd => {
            return Err(Problem::new(
                "--log stdout with --inetd: stdout is the client's connection",
                Code::Usage,
            )
            .hint("use --log syslog, --log-file PATH or --log none"));
        }
        (None, Some(LogTo::Stdout)) => Destination::Stdio,
        (None, None) if inetd => Destination::Syslog(options.syslog_socket.clone()),
        (None, None) => Destination::Stdio,
        (None, Some(LogTo::Syslog)) => Destination::Syslog(options.syslog_socket.clone()),
        (None, Some(LogTo::None)) => Destination::Nowhere,
    };
    let timestamps = matches!(to, Destination::File(_));
    let code = match to {
        Destination::Syslog(_) => Code::Unavailable,
        _ => Code::CantCreate,
    };
    let quietly = inetd && options.log.is_none();
    let (output, writers) = match Output::start(to, quietly) {
        Ok(started) => started,
        Err((what, e)) => {
            return Err(
                Problem::new(format!("{what}: {}", netcore::describe(&e)), code)
                    .hint("check the path, or choose another --log"),
            );
        }
    };
    let level = match (quiet, options.verbose) {
        (true, _) => LevelFilter::Warn,
        (false, 0) => LevelFilter::Info,
        (false, 1) => LevelFilter::Debug,
        (false, _) => LevelFilter::Trace,
    };
    let mut rules = env_filter::Builder::new();
    match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            rules.parse(&spec);
        }
        _ => {
            rules.filter_level(level);
        }
    }
    let filter = Filter {
        format: options.log_format,
        timestamps,
        rules: rules.build(),
    };
    let logger = LOGGER.get_or_init(|| Logger {
        output: RwLock::new(None),
        filter: RwLock::new(Filter {
            format: LogFormat::Text,
            timestamps: false,
            rules: env_filter::Builder::new().build(),
        }),
    });
    *logger.filter.write().unwrap_or_else(|e| e.into_inner()) = filter;
    *logger.output.write().unwrap_or_else(|e| e.into_inner()) = Some(output);
    // Only fails when a logger is already set, which is this one.
    let _ = log::set_logger(logger);
    log::set_max_level(LevelFilter::Trace);
    Ok(writers)
}

/// Stops logging: what was queued is written, for at most `grace` (a
/// stdout nobody reads must not keep a stopped server from exiting).
pub fn finish(writers: Writers, grace: Duration) {
    if let Some(logger) = LOGGER.get() {
        logger
            .output
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
    writers.join(grace);
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == ANNOUNCE || self.filter.read().is_ok_and(|f| f.rules.enabled(metadata))
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Ok(output) = self.output.read() else {
            return;
        };
        let Some(output) = output.as_ref() else {
            return;
        };
        let Ok(filter) = self.filter.read() else {
            return;
        };
        let level = record.level();
        let message = record.args().to_string();
        let text = match filter.format {
            LogFormat::Json => json(record, &message),
            LogFormat::Text => text(record, &message, filter.timestamps),
        };
        // In text, warnings and errors are what stderr is for.
        let to_stderr = filter.format == LogFormat::Text && level <= Level::Warn;
        output.send(to_stderr, level, text);
    }

    fn flush(&self) {}
}

/// The lecture's lines (warnings and errors as `netlab: ...`), each after
/// the time when `timestamps`.
fn text(record: &Record<'_>, message: &str, timestamps: bool) -> String {
    let warning = record.level() <= Level::Warn && record.target() != ANNOUNCE;
    let time = timestamps.then(|| {
        chrono::Local::now()
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z ")
            .to_string()
    });
    let mut out = String::with_capacity(message.len() + 40);
    for line in message.lines() {
        out.push_str(time.as_deref().unwrap_or(""));
        if warning {
            out.push_str("netlab: ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// One JSON object: time, level, the record's fields, the message.
fn json(record: &Record<'_>, message: &str) -> String {
    let mut object = serde_json::Map::new();
    object.insert(
        "time".into(),
        chrono::Utc::now()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .into(),
    );
    object.insert(
        "level".into(),
        record.level().as_str().to_lowercase().into(),
    );
    let mut fields = Fields(&mut object);
    let _ = record.key_values().visit(&mut fields);
    object.insert("message".into(), message.trim_end().into());
    let mut line = serde_json::Value::Object(object).to_string();
    line.push('\n');
    line
}

/// Copies a record's key-values into a JSON object.
struct Fields<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = match value.to_u64() {
            Some(n) => n.into(),
            None => {
                let mut text = String::new();
                let _ = write!(text, "{value}");
                text.into()
            }
        };
        self.0.insert(key.as_str().to_owned(), json);
        Ok(())
    }
}

/// Logs `message` about `service` at `level`, with the fields of the JSON
/// format: `event` (what happened, in one word), `peer` and `bytes` when
/// known.
pub fn emit(
    level: Level,
    target: &str,
    service: Option<&str>,
    event: &str,
    peer: Option<std::net::SocketAddr>,
    bytes: Option<u64>,
    message: std::fmt::Arguments<'_>,
) {
    let peer = peer.map(|p| p.to_string());
    let mut fields: Vec<(&str, Value<'_>)> = Vec::with_capacity(4);
    if let Some(service) = service {
        fields.push(("service", Value::from(service)));
    }
    fields.push(("event", Value::from(event)));
    if let Some(peer) = &peer {
        fields.push(("peer", Value::from(peer.as_str())));
    }
    if let Some(bytes) = bytes {
        fields.push(("bytes", Value::from(bytes)));
    }
    let fields: &[(&str, Value<'_>)] = &fields;
    log::logger().log(
        &Record::builder()
            .level(level)
            .target(target)
            .args(message)
            .key_values(&fields)
            .build(),
    );
}

/// Whether a record of `level` for the server would be written: callers
/// skip building costly lines nobody sees.
pub fn enabled(level: Level) -> bool {
    log::log_enabled!(target: SERVE, level)
}
