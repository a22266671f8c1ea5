//! Where a server's lines go: the lecture's lines to stdout, errors to
//! stderr, each through a bounded queue to a writer thread of its own.
//!
//! The lines are made on the server's event loops, which must never wait
//! for a reader: a terminal that stalls (Ctrl-S, a pager), a pipe or a log
//! collector nobody reads. Sending a line only queues it; when a queue is
//! full the line is dropped and counted, and the count is written in its
//! place once there is room again. Each stream has its own queue and
//! thread, so a stalled stderr holds up neither the server nor stdout.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// Lines waiting for each writer thread, at most.
const QUEUE: usize = 8192;

/// The sending side of the stdout and stderr writer threads. Cheap to
/// clone; the threads end once every clone is dropped and their queues
/// are written.
#[derive(Debug, Clone)]
pub struct Output {
    stdout: Queue,
    stderr: Queue,
}

/// The writer threads of an [`Output`].
#[derive(Debug)]
pub struct Writers(Vec<JoinHandle<()>>);

impl Output {
    /// Starts the threads that write to stdout and stderr.
    pub fn start() -> io::Result<(Output, Writers)> {
        let (stdout, out_thread) = Queue::start("stdout", QUEUE, io::stdout(), |lost| {
            format!("({lost} log lines dropped: the output was too slow)\n")
        })?;
        let (stderr, err_thread) = Queue::start("stderr", QUEUE, io::stderr(), |lost| {
            format!("netlab: {lost} error lines dropped (stderr was too slow)\n")
        })?;
        Ok((
            Output { stdout, stderr },
            Writers(vec![out_thread, err_thread]),
        ))
    }

    /// Queues `text` (whole lines, each ending in `\n`) for stdout.
    pub fn print(&self, text: String) {
        self.stdout.send(text);
    }

    /// Queues one error line (without its `\n`) for stderr.
    pub fn error(&self, mut line: String) {
        line.push('\n');
        self.stderr.send(line);
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

/// One bounded queue and the count of what it dropped.
#[derive(Debug, Clone)]
struct Queue {
    lines: SyncSender<String>,
    dropped: Arc<AtomicU64>,
}

impl Queue {
    /// Starts a thread named `name` that writes what is queued to `to`, and
    /// `lost(n)` in place of `n` dropped messages.
    fn start(
        name: &str,
        capacity: usize,
        to: impl Write + Send + 'static,
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
    fn send(&self, text: String) {
        if let Err(TrySendError::Full(_)) = self.lines.try_send(text) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn write_lines(
    queue: &Receiver<String>,
    dropped: &AtomicU64,
    mut to: impl Write,
    lost: fn(u64) -> String,
) {
    // A line is dropped only when the queue is full, so a line always
    // follows the drops, and the count is written before it.
    for text in queue {
        let n = dropped.swap(0, Ordering::Relaxed);
        if n > 0 {
            let _ = to.write_all(lost(n).as_bytes());
        }
        // A reader that went away is not the server's problem.
        let _ = to.write_all(text.as_bytes());
    }
    let _ = to.flush();
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
        let to = Stalled {
            stalled: Some((stalled_tx, go_on_rx)),
            written: written.clone(),
        };
        let (queue, thread) = Queue::start("test", 2, to, |n| format!("({n} dropped)\n")).unwrap();
        queue.send("first\n".into());
        // The writer has taken the first line and is stuck writing it.
        stalled.recv().unwrap();
        for i in 0..1000 {
            queue.send(format!("line {i}\n"));
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
