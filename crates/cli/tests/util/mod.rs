//! Shared helpers for the `netlab` binary's tests: child processes that are
//! always killed (a Drop guard), their output collected line by line and
//! waited on with a deadline (never a sleep), loopback ports from port 0 or
//! bind-then-drop, and the checks every error report must pass.
#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use predicates::prelude::*;

/// How long any wait in these tests may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The lecture's daytime line: `asctime()` plus `\n`.
pub const DAYTIME_LINE: &str = r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d \d{4}\n$";

/// The `netlab` binary under test.
pub fn netlab() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netlab"));
    cmd.env_remove("RUST_BACKTRACE").env_remove("RUST_LOG");
    cmd
}

/// The same, as an `assert_cmd` command, with a deadline.
pub fn netlab_cmd() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_netlab"));
    cmd.env_remove("RUST_BACKTRACE").timeout(DEADLINE);
    cmd
}

/// `tests/peers/NAME` at the workspace root: the lecture's Python programs.
pub fn peer(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/peers")
        .join(name);
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

/// What a child wrote on one pipe, as lines, shared with the thread that
/// reads them. A last line without a newline yet counts as a line too (the
/// lecture's echo server prints some without one).
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<Vec<u8>>, Condvar)>);

impl Lines {
    fn collect(self, mut pipe: impl Read + Send + 'static) -> JoinHandle<()> {
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
        Self::split(&self.0.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Waits (on a condition variable, up to [`DEADLINE`]) until `pred`
    /// holds for the lines so far, and returns them; panics at the
    /// deadline, showing what did arrive.
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
    pub stdout: Lines,
    pub stderr: Lines,
    readers: Vec<JoinHandle<()>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stdout = Lines::default();
        let stderr = Lines::default();
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

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// Sends a signal (`INT`, `TERM`) to the child with kill(1), once the
    /// child has a handler for it (polled in /proc, up to the deadline):
    /// before that, the signal's default action would kill it.
    pub fn signal(&self, name: &str) {
        let number = match name {
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

/// A `netlab serve` process and the port it printed on its `Bound` line.
pub struct NetlabServer {
    pub proc: Proc,
    pub port: u16,
}

/// Starts `netlab serve ARGS --port 0` (ARGS should include `--host`) and
/// reads the port from `Bound server socket to port N`.
pub fn serve(args: &[&str]) -> NetlabServer {
    serve_env(args, &[])
}

/// [`serve`] with extra environment variables (`TZ`).
pub fn serve_env(args: &[&str], env: &[(&str, &str)]) -> NetlabServer {
    let mut cmd = netlab();
    cmd.arg("serve").args(args).args(["--port", "0"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let proc = Proc::spawn(cmd);
    let port = proc
        .stdout
        .wait_prefix("Bound server socket to port ")
        .parse()
        .unwrap();
    proc.stdout
        .wait_for("Listening", |l| l.iter().any(|x| x == "Listening"));
    NetlabServer { proc, port }
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
    proc.stdout
        .wait_for("Listening", |l| l.iter().any(|x| x == "Listening"));
    PeerServer { proc, port }
}

/// A port on `ip` that was free a moment ago: bound, then dropped.
pub fn free_port(ip: &str) -> u16 {
    let l = TcpListener::bind((ip, 0)).unwrap();
    l.local_addr().unwrap().port()
}

/// Connects to `addr` again and again until it accepts, up to the deadline
/// (for a server whose output says nothing, as with `-q`).
pub fn connect_when_ready(addr: SocketAddr) -> TcpStream {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => {
                s.set_read_timeout(Some(DEADLINE)).unwrap();
                return s;
            }
            Err(e) => {
                assert!(Instant::now() < deadline, "{addr} never accepted: {e}");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Checks that `text` is one lecture daytime line (`asctime` + `\n`) for a
/// moment within a few seconds of now, read as UTC: the server ran with
/// `--utc` or `TZ=UTC`.
pub fn assert_daytime_utc_now(text: &str) {
    assert_daytime_near(text, chrono::Duration::zero());
}

/// Checks that `text` is a lecture daytime line for now + `offset`.
pub fn assert_daytime_near(text: &str, offset: chrono::Duration) {
    assert!(
        predicate::str::is_match(DAYTIME_LINE).unwrap().eval(text),
        "not a daytime line: {text:?}"
    );
    let when = NaiveDateTime::parse_from_str(text.trim_end(), "%a %b %e %H:%M:%S %Y").unwrap();
    let expected = Utc::now().naive_utc() + offset;
    let skew = (when - expected).num_seconds().abs();
    assert!(skew <= 5, "{text:?} is {skew} s away from {expected}");
}

/// Checks the error contract: a failure is exactly one line on stderr,
/// `netlab: ...`, without a panic or backtrace, and the exit code.
pub fn assert_error(output: &Output, code: i32) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit status; stderr: {stderr:?}"
    );
    assert_one_error_line(&stderr);
}

pub fn assert_one_error_line(stderr: &str) {
    assert!(stderr.ends_with('\n'), "stderr: {stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.starts_with("netlab: "), "stderr: {stderr:?}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr:?}");
    assert!(!stderr.contains("backtrace"), "stderr: {stderr:?}");
}

/// Whether the tests run as root (`id -u` is 0), who may bind low ports.
pub fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Deterministic pseudo-random bytes (xorshift64*), all 256 values.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}
