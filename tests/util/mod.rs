//! Shared helpers for the cross-crate tests: the lecture's Python programs
//! (`tests/peers/`) as child processes that are always killed (a Drop
//! guard), their output collected line by line and waited on with a
//! deadline, never a sleep.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};

/// How long any wait in these tests may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// `tests/peers/NAME`.
pub fn peer(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name);
    assert!(path.is_file(), "missing peer {}", path.display());
    path
}

/// A lecture client run to the end with `stdin`, killed at the deadline.
pub fn lecture_client(name: &str, port: u16, stdin: &[u8]) -> Output {
    assert_cmd::Command::new("python3")
        .arg(peer(name))
        .args(["127.0.0.1", &port.to_string()])
        .env("PYTHONIOENCODING", "utf-8")
        .timeout(DEADLINE)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

/// What a child wrote on one pipe, as lines, shared with the thread that
/// reads them. A last line without a newline yet counts as a line too (the
/// lecture's echo server prints some without one).
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<Vec<u8>>, Condvar)>);

impl Lines {
    fn collect(self, mut pipe: impl Read + Send + 'static) {
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
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
        });
    }

    fn split(text: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(text)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Every line so far.
    pub fn all(&self) -> Vec<String> {
        Self::split(&self.0.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Waits (on a condition variable, up to [`DEADLINE`]) until `pred`
    /// holds for the lines so far; panics at the deadline with them.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + DEADLINE;
        let (lock, ready) = &*self.0;
        let mut text = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let lines = Self::split(&text);
            if pred(&lines) {
                return lines;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                drop(text);
                panic!("timed out waiting for {what}; got {lines:#?}");
            }
            text = ready
                .wait_timeout(text, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits for the line `line`.
    pub fn wait_line(&self, line: &str) -> Vec<String> {
        self.wait_for(line, |l| l.iter().any(|x| x == line))
    }
}

/// A lecture server (`daytimeserver.py`, `echoserver.py`) on 127.0.0.1,
/// port 0, killed and reaped when dropped.
pub struct LectureServer {
    child: Child,
    pub port: u16,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl LectureServer {
    pub fn start(name: &str, env: &[(&str, &str)]) -> LectureServer {
        let mut cmd = Command::new("python3");
        cmd.arg(peer(name))
            .arg("0")
            .env("PEER_BIND_HOST", "127.0.0.1")
            .env("PEER_ANNOUNCE_PORT", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let (stdout, stderr) = (Lines::default(), Lines::default());
        stdout.clone().collect(child.stdout.take().unwrap());
        stderr.clone().collect(child.stderr.take().unwrap());
        let mut server = LectureServer {
            child,
            port: 0,
            stdout,
            stderr,
        };
        let lines = server
            .stderr
            .wait_for("the port", |l| l.iter().any(|x| x.starts_with("port ")));
        let line = lines.iter().find(|x| x.starts_with("port ")).unwrap();
        server.port = line["port ".len()..].parse().unwrap();
        server.stdout.wait_line("Listening");
        server
    }
}

impl Drop for LectureServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks that `text` is exactly one lecture daytime line (`asctime`, day
/// space-padded, `\n`) within a few seconds of now read as UTC.
pub fn assert_daytime_utc_now(text: &str) {
    const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";
    let line = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no newline: {text:?}"));
    let when =
        NaiveDateTime::parse_from_str(line, ASCTIME).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    // Rendering the time again gives the same bytes: the exact shape.
    assert_eq!(when.format(ASCTIME).to_string(), line);
    assert_eq!(text.len(), 25);
    let skew = (when - Utc::now().naive_utc()).num_seconds().abs();
    assert!(skew <= 5, "{text:?} is {skew} s from now");
}
