//! Where a server's log lines go: stdout and stderr (the lecture's lines
//! and the errors), a file, syslog, or nowhere; each through a bounded
//! queue to a writer thread of its own.
//!
//! The lines are made on the server's event loops, which must never wait
//! for a reader: a terminal that stalls (Ctrl-S, a pager), a pipe, a log
//! collector nobody reads, a syslog daemon that is slow. Sending a line
//! only queues it; when a queue is full the line is dropped and counted,
//! and the count is written in its place once there is room again. stdout
//! and stderr each have their own queue and thread, so a stalled stderr
//! holds up neither the server nor stdout.

use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use log::Level;

/// Lines waiting for each writer thread, at most.
const QUEUE: usize = 8192;

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// stdout, and stderr for what is sent `to_stderr`.
    Stdio,
    /// Appended to this file.
    File(PathBuf),
    /// Datagrams to the syslog daemon's socket at this path.
    Syslog(PathBuf),
    /// Nowhere.
    Nowhere,
}

/// The sending side of the writer threads. Cheap to clone; the threads end
/// once every clone is dropped and their queues are written.
#[derive(Debug, Clone)]
pub struct Output {
    routes: Routes,
}

#[derive(Debug, Clone)]
enum Routes {
    Split { stdout: Queue, stderr: Queue },
    One(Queue),
    Nowhere,
}

/// The writer threads of an [`Output`].
#[derive(Debug)]
pub struct Writers(Vec<JoinHandle<()>>);

impl Output {
    /// Opens `to` and starts its writer threads. A syslog socket that
    /// cannot be reached is an error, or, when `quietly`, nowhere (inetd
    /// mode, where nobody could be told).
    pub fn start(to: Destination, quietly: bool) -> Result<(Output, Writers), (String, io::Error)> {
        let spawn = |e| ("starting the output threads".to_owned(), e);
        let routes = match to {
            Destination::Stdio => {
                let (stdout, out_thread) =
                    Queue::start("stdout", QUEUE, Stream(io::stdout()), |lost| {
                        format!("({lost} log lines dropped: the output was too slow)\n")
                    })
                    .map_err(spawn)?;
                let (stderr, err_thread) =
                    Queue::start("stderr", QUEUE, Stream(io::stderr()), |lost| {
                        format!("netlab: {lost} error lines dropped (stderr was too slow)\n")
                    })
                    .map_err(spawn)?;
                return Ok((
                    Output {
                        routes: Routes::Split { stdout, stderr },
                    },
                    Writers(vec![out_thread, err_thread]),
                ));
            }
            Destination::File(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| (format!("opening the log file {}", path.display()), e))?;
                Queue::start("log", QUEUE, Stream(file), |lost| {
                    format!("({lost} log lines dropped: the file was too slow)\n")
                })
                .map_err(spawn)?
            }
            Destination::Syslog(path) => match Syslog::connect(path.clone()) {
                Ok(syslog) => Queue::start("syslog", QUEUE, syslog, |lost| {
                    format!("{lost} log lines dropped: syslog was too slow")
                })
                .map_err(spawn)?,
                Err(_) if quietly => {
                    return Ok((
                        Output {
                            routes: Routes::Nowhere,
                        },
                        Writers(Vec::new()),
                    ));
                }
                Err(e) => return Err((format!("reaching syslog at {}", path.display()), e)),
            },
            Destination::Nowhere => {
                return Ok((
                    Output {
                        routes: Routes::Nowhere,
                    },
                    Writers(Vec::new()),
                ));
            }
        };
        let (queue, thread) = routes;
        Ok((
            Output {
                routes: Routes::One(queue),
            },
            Writers(vec![thread]),
        ))
    }

    /// Queues `text` (whole lines, each ending in `\n`) of `level`: on
    /// stderr when `to_stderr` and the destination has one.
    pub fn send(&self, to_stderr: bool, level: Level, text: String) {
        match &self.routes {
            Routes::Split { stderr, .. } if to_stderr => stderr.send(level, text),
            Routes::Split { stdout, .. } => stdout.send(level, text),
            Routes::One(queue) => queue.send(level, text),
            Routes::Nowhere => {}
        }
    }
}

impl Writers {
    /// Waits until every line queued before the last [`Output`] was
    /// dropped is written, but at most `limit`: a stdout or stderr nobody
    /// reads must not keep a stopped server from exiting (the lines still
    /// queued are lost; nobody was reading them).
    pub fn join(self, limit: std::time::Duration) {
        let deadline = std::time::Instant::now() + limit;
        for thread in self.0 {
            while !thread.is_finished() {
                if std::time::Instant::now() >= deadline {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let _ = thread.join();
        }
    }
}

/// What a writer thread writes to.
trait Sink: Send + 'static {
    /// Writes `text` (whole lines) of `level`. Failures are dropped: a
    /// reader that went away is not the server's problem.
    fn write(&mut self, level: Level, text: &str);
    fn flush(&mut self) {}
}

/// A byte stream: stdout, stderr, a file.
struct Stream<W>(W);

impl<W: Write + Send + 'static> Sink for Stream<W> {
    fn write(&mut self, _: Level, text: &str) {
        let _ = self.0.write_all(text.as_bytes());
        let _ = self.0.flush();
    }

    fn flush(&mut self) {
        let _ = self.0.flush();
    }
}

/// The syslog daemon's datagram socket: one message per line, RFC 3164
/// as glibc's syslog(3) sends it locally, facility daemon, through the
/// `syslog` crate's formatter.
struct Syslog {
    socket: UnixDatagram,
    path: PathBuf,
    formatter: syslog::Formatter3164,
}

impl Syslog {
    fn connect(path: PathBuf) -> io::Result<Syslog> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(&path)?;
        Ok(Syslog {
            socket,
            path,
            formatter: syslog::Formatter3164 {
                facility: syslog::Facility::LOG_DAEMON,
                hostname: None,
                process: "netlab".into(),
                pid: std::process::id(),
            },
        })
    }
}

impl Sink for Syslog {
    fn write(&mut self, level: Level, text: &str) {
        let severity = match level {
            Level::Error => syslog::Severity::LOG_ERR,
            Level::Warn => syslog::Severity::LOG_WARNING,
            Level::Info => syslog::Severity::LOG_INFO,
            Level::Debug | Level::Trace => syslog::Severity::LOG_DEBUG,
        };
        for line in text.lines().filter(|l| !l.is_empty()) {
            let mut message = Vec::with_capacity(line.len() + 48);
            if syslog::LogFormat::format(&self.formatter, &mut message, severity, line).is_err() {
                continue;
            }
            // A restarted daemon has a new socket: connect again, once.
            if self.socket.send(&message).is_err() && self.socket.connect(&self.path).is_ok() {
                let _ = self.socket.send(&message);
            }
        }
    }
}

/// One bounded queue and the count of what it dropped.
#[derive(Debug, Clone)]
struct Queue {
    lines: SyncSender<(Level, String)>,
    dropped: Arc<AtomicU64>,
}

impl Queue {
    /// Starts a thread named `name` that writes what is queued to `to`, and
    /// `lost(n)` in place of `n` dropped messages.
    fn start(
        name: &str,
        capacity: usize,
        to: impl Sink,
        lost: fn(u64) -> String,
    ) -> io::Result<(Queue, JoinHandle<()>)> {
        let (lines, queue) = sync_channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let count = dropped.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || write_lines(&queue, &count, to, lost))?;
        Ok((Queue { lines, dropped }, thread))
    }

    /// Queues `text`, or counts it as dropped when the queue is full:
    /// never waits.
    fn send(&self, level: Level, text: String) {
        if let Err(TrySendError::Full(_)) = self.lines.try_send((level, text)) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn write_lines(
    queue: &Receiver<(Level, String)>,
    dropped: &AtomicU64,
    mut to: impl Sink,
    lost: fn(u64) -> String,
) {
    // A line is dropped only when the queue is full, so a line always
    // follows the drops, and the count is written before it.
    for (level, text) in queue {
        let n = dropped.swap(0, Ordering::Relaxed);
        if n > 0 {
            to.write(Level::Warn, &lost(n));
        }
        to.write(level, &text);
    }
    to.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc::{Sender, channel};

    /// A stream that stalls on its first write until told to go on, and
    /// keeps what is written to it.
    struct Stalled {
        stalled: Option<(Sender<()>, Receiver<()>)>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Stalled {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if let Some((stalled, go_on)) = self.stalled.take() {
                let _ = stalled.send(());
                let _ = go_on.recv();
            }
            self.written.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_stream_drops_and_counts_and_never_blocks_the_sender() {
        let (stalled_tx, stalled) = channel();
        let (go_on, go_on_rx) = channel();
        let written = Arc::new(Mutex::new(Vec::new()));
        let to = Stream(Stalled {
            stalled: Some((stalled_tx, go_on_rx)),
            written: written.clone(),
        });
        let (queue, thread) = Queue::start("test", 2, to, |n| format!("({n} dropped)\n")).unwrap();
        queue.send(Level::Info, "first\n".into());
        // The writer has taken the first line and is stuck writing it.
        stalled.recv().unwrap();
        for i in 0..1000 {
            queue.send(Level::Info, format!("line {i}\n"));
        }
        go_on.send(()).unwrap();
        drop(queue);
        thread.join().unwrap();
        let written = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        assert_eq!(
            written, "first\n(998 dropped)\nline 0\nline 1\n",
            "two lines fit the queue; the rest are counted"
        );
    }
}
