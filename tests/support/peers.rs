//! Test helpers shared by the root package's tests (`tests/util`) and the
//! `netlab` binary's tests (`crates/cli/tests/util`), included by both with
//! `#[path]`: the lecture's Python programs (`tests/peers/`) as child
//! processes that are always killed (a Drop guard), their output collected
//! line by line and waited on with a deadline (never a sleep), and the
//! check of a lecture daytime line.
//!
//! The including module gives `PEERS_DIR`, where `tests/peers` is as seen
//! from its package.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};

/// How long any wait in these tests may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// `tests/peers/NAME` at the workspace root: the lecture's Python programs.
pub fn peer(name: &str) -> PathBuf {
    let path = PathBuf::from(super::PEERS_DIR).join(name);
    assert!(path.is_file(), "missing peer {}", path.display());
    path
}

/// A lecture client (`daytimeclient.py`, `echoclient.py`) run to the end
/// with `stdin`, within the deadline.
pub fn lecture_client(name: &str, host: &str, port: u16, stdin: &[u8]) -> Output {
    assert_cmd::Command::new("python3")
        .arg(peer(name))
        .arg(host)
        .arg(port.to_string())
        .env("PYTHONIOENCODING", "utf-8")
        .timeout(DEADLINE)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

/// What a child wrote on one pipe, shared with the thread that reads it:
/// as lines (a last line without a newline yet counts as a line too; the
/// lecture's echo server prints some without one), or as the exact bytes.
#[derive(Clone, Default)]
pub struct PipeOutput(Arc<(Mutex<Vec<u8>>, Condvar)>);

impl PipeOutput {
    /// Reads `pipe` to its end on a thread of its own, into this buffer.
    pub fn collect(self, mut pipe: impl Read + Send + 'static) -> JoinHandle<()> {
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let (lock, ready) = &*self.0;
                        let mut text = lock.lock().unwrap_or_else(|e| e.into_inner());
                        text.extend_from_slice(&buf[..n]);
                        ready.notify_all();
                    }
                }
            }
        })
    }

    fn split(text: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(text)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Every line so far.
    pub fn all(&self) -> Vec<String> {
        Self::split(&self.bytes())
    }

    /// Every byte so far, exactly.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (up to [`DEADLINE`]) for at least `len` bytes and returns
    /// them all; panics at the deadline.
    pub fn wait_len(&self, len: usize) -> Vec<u8> {
        self.wait_bytes(&format!("{len} bytes"), |b| b.len() >= len)
    }

    /// Waits (on a condition variable, up to [`DEADLINE`]) until `pred`
    /// holds for the lines so far, and returns them; panics at the
    /// deadline, showing what did arrive.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let text = self.wait_bytes(what, |b| pred(&Self::split(b)));
        Self::split(&text)
    }

    /// Waits (on a condition variable, up to [`DEADLINE`]) until `pred`
    /// holds for the bytes so far, and returns them; panics at the
    /// deadline, showing what did arrive.
    pub fn wait_bytes(&self, what: &str, pred: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        let (lock, ready) = &*self.0;
        let mut bytes = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if pred(&bytes) {
                return bytes.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let got = Self::split(&bytes);
                drop(bytes);
                panic!("timed out waiting for {what}; got {got:#?}");
            }
            bytes = ready
                .wait_timeout(bytes, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits for the line `line`.
    pub fn wait_line(&self, line: &str) -> Vec<String> {
        self.wait_for(line, |l| l.iter().any(|x| x == line))
    }

    /// Waits for a line starting with `prefix` and returns the rest of it.
    pub fn wait_prefix(&self, prefix: &str) -> String {
        let lines = self.wait_for(prefix, |l| l.iter().any(|x| x.starts_with(prefix)));
        let line = lines.iter().find(|x| x.starts_with(prefix)).unwrap();
        line[prefix.len()..].to_owned()
    }
}

/// A child process that is killed and reaped when dropped, even when the
/// test panics, with its stdout and stderr collected as lines.
pub struct Proc {
    child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: PipeOutput,
    pub stderr: PipeOutput,
    readers: Vec<JoinHandle<()>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stdout = PipeOutput::default();
        let stderr = PipeOutput::default();
        let readers = vec![
            stdout.clone().collect(child.stdout.take().unwrap()),
            stderr.clone().collect(child.stderr.take().unwrap()),
        ];
        Proc {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Writes `data` to the child's stdin from a thread, so that a big
    /// write cannot block the test while the child's output waits to be
    /// read; returns once the child has taken it all (up to the deadline).
    /// stdin stays open.
    pub fn write_stdin(&mut self, data: &[u8]) {
        use std::io::Write;
        let mut stdin = self.stdin.take().expect("stdin is open");
        let data = data.to_vec();
        let (back, returned) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let written = stdin.write_all(&data).and_then(|()| stdin.flush());
            let _ = back.send(written.map(|()| stdin));
        });
        let stdin = returned
            .recv_timeout(DEADLINE)
            .expect("the child did not take its input in time")
            .expect("writing to the child's stdin");
        self.stdin = Some(stdin);
    }

    /// Ends the child's input.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// Sends a signal (`INT`, `TERM`) to the child with kill(1), once the
    /// child has a handler for it (polled in /proc, up to the deadline):
    /// before that, the signal's default action would kill it.
    pub fn signal(&self, name: &str) {
        let number = match name {
            "HUP" => 1,
            "INT" => 2,
            "TERM" => 15,
            other => panic!("no number for SIG{other}"),
        };
        let deadline = Instant::now() + DEADLINE;
        while !self.catches(number) {
            assert!(Instant::now() < deadline, "no handler for SIG{name}");
            std::thread::sleep(Duration::from_millis(2));
        }
        self.signal_now(name);
    }

    /// Sends a signal at once, handler or not.
    pub fn signal_now(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -s {name} {}", self.pid());
    }

    /// Whether the child catches signal `number` (`SigCgt` in
    /// /proc/PID/status).
    fn catches(&self, number: u32) -> bool {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (number - 1)) != 0)
    }

    /// Waits for the child to exit, up to the deadline, then for its pipes
    /// to be read to the end.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the child did not exit in time");
            std::thread::sleep(Duration::from_millis(5));
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        status
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A lecture server (`daytimeserver.py`, `echoserver.py`) on 127.0.0.1,
/// port 0, and the port it announced on stderr.
pub struct PeerServer {
    pub proc: Proc,
    pub port: u16,
}

pub fn lecture_server(name: &str, env: &[(&str, &str)]) -> PeerServer {
    let mut cmd = Command::new("python3");
    cmd.arg(peer(name))
        .arg("0")
        .env("PEER_BIND_HOST", "127.0.0.1")
        .env("PEER_ANNOUNCE_PORT", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONIOENCODING", "utf-8");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let proc = Proc::spawn(cmd);
    let port = proc.stderr.wait_prefix("port ").parse().unwrap();
    proc.stdout.wait_line("Listening");
    PeerServer { proc, port }
}

/// Checks that `text` is exactly one lecture daytime line (`asctime()`,
/// day space-padded, `\n`) for a moment within a few seconds of now, read
/// as UTC: the server ran with `--utc` or `TZ=UTC`.
pub fn assert_daytime_utc_now(text: &str) {
    assert_daytime_near(text, chrono::Duration::zero());
}

/// Checks that `text` is exactly one lecture daytime line for now +
/// `offset`, within a few seconds.
pub fn assert_daytime_near(text: &str, offset: chrono::Duration) {
    const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";
    let line = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no newline: {text:?}"));
    let when =
        NaiveDateTime::parse_from_str(line, ASCTIME).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    // Rendering the time again gives the same bytes: the exact shape.
    assert_eq!(when.format(ASCTIME).to_string(), line);
    assert_eq!(text.len(), 25);
    let expected = Utc::now().naive_utc() + offset;
    let skew = (when - expected).num_seconds().abs();
    assert!(skew <= 5, "{text:?} is {skew} s away from {expected}");
}
