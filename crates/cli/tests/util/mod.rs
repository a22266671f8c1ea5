//! Shared helpers for the `netlab` binary's tests: child processes that are
//! always killed (a Drop guard), their output collected line by line and
//! waited on with a deadline (never a sleep), loopback ports from port 0 or
//! bind-then-drop, and the checks every error report must pass.
//!
//! The part shared with the root package's tests (the lecture's programs,
//! the child-process guard, the daytime check) is `tests/support/peers.rs`.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `tests/peers`, the lecture's Python programs, from this package.
const PEERS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers");

#[path = "../../../../tests/support/peers.rs"]
mod peers;
pub use peers::*;

#[path = "../../../../tests/support/tools.rs"]
mod tools;
// Each test binary includes this module and uses a part of it.
#[allow(unused_imports)]
pub use tools::*;

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
    let server = spawn_server(cmd);
    server
        .proc
        .stdout
        .wait_for("Listening", |l| l.iter().any(|x| x == "Listening"));
    server
}

/// Starts `cmd`, a `netlab serve ... --port 0` (perhaps under a wrapper
/// such as prlimit, or quiet), and reads the port from its `Bound server
/// socket to port N` line.
pub fn spawn_server(cmd: Command) -> NetlabServer {
    let proc = Proc::spawn(cmd);
    let port = proc
        .stdout
        .wait_prefix("Bound server socket to port ")
        .parse()
        .unwrap();
    NetlabServer { proc, port }
}

/// Runs `cmd` to the end with its output collected, killing it and failing
/// the test if it is still running at the deadline.
pub fn output_within_deadline(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {DEADLINE:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// A port on `ip` that was free a moment ago: bound, then dropped.
pub fn free_port(ip: &str) -> u16 {
    let l = TcpListener::bind((ip, 0)).unwrap();
    l.local_addr().unwrap().port()
}

/// The ports of `netlab serve all` relative to `--port-offset`.
pub const SERVE_ALL_PORTS: [u16; 5] = [7, 9, 13, 19, 37];

/// A `--port-offset` whose ten ports (TCP and UDP on 127.0.0.1) were free
/// a moment ago, tried in an order that `seed` varies. The offsets lie
/// below the ephemeral range (32768 and up on Linux), where other tests'
/// client sockets come and go, so one found free stays free.
pub fn free_offset(seed: u32) -> u16 {
    (0..500u32)
        .map(|k| 10_000 + (seed.wrapping_mul(7919).wrapping_add(k * 331)) % 22_000)
        .filter_map(|o| u16::try_from(o).ok())
        .find(|&offset| {
            SERVE_ALL_PORTS.iter().all(|p| {
                let addr = ("127.0.0.1", offset + p);
                TcpListener::bind(addr).is_ok() && std::net::UdpSocket::bind(addr).is_ok()
            })
        })
        .expect("no free port offset")
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

/// Checks that a command exited 0 with nothing on stderr, without printing
/// its (binary, maybe huge) stdout when it did not.
#[track_caller]
pub fn assert_clean_exit(out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}; stderr: {stderr:?}", out.status);
    assert_eq!(stderr, "");
}

/// Checks two byte strings are equal, showing where they first differ
/// rather than a megabyte of numbers.
#[track_caller]
pub fn assert_same_bytes(got: &[u8], want: &[u8]) {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "got {} bytes, want {}; first difference at {at:?}",
            got.len(),
            want.len()
        );
    }
}

/// Waits for `child` to exit and checks it exited 0 with nothing on
/// stderr.
#[track_caller]
pub fn assert_clean_proc_exit(child: &mut Proc) {
    let status = child.wait_exit();
    let stderr = String::from_utf8_lossy(&child.stderr.bytes()).into_owned();
    assert!(status.success(), "{status:?}; stderr: {stderr:?}");
    assert_eq!(stderr, "");
}
