//! Runs a crate's `examples/` the way a reader would, for the tests that
//! keep them working: the binaries `cargo test` built beside the test
//! (`target/<profile>/examples/<name>`), each child killed if the test
//! ends first. Shared by every library crate's `tests/examples.rs`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long an example may take to start or to finish its one round.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The example's binary. `cargo test` builds every example of the package
/// before it runs the tests; a run filtered to one test target
/// (`cargo test --test examples`) does not, so an example missing, or
/// older than this test (perhaps stale), is built here first.
pub fn path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let path = profile.join("examples").join(name);
    let modified = |p: &std::path::Path| p.metadata().and_then(|m| m.modified()).ok();
    if modified(&path).is_none() || modified(&path) < modified(&exe) {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "--quiet", "--example", name, "--manifest-path"]);
        cargo.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        if profile.file_name().is_some_and(|p| p == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("running cargo build");
        assert!(status.success(), "building example {name}");
    }
    assert!(path.exists(), "example {name} not at {}", path.display());
    path
}

/// Runs an example to its end with `args`, within [`LIMIT`].
pub fn run(name: &str, args: &[&str]) -> Output {
    let child = Command::new(path(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting example {name}: {e}"));
    let mut running = Running {
        name: name.to_owned(),
        child,
    };
    let status = running.wait();
    let mut output = Output {
        status,
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    if let Some(mut out) = running.child.stdout.take() {
        out.read_to_end(&mut output.stdout)
            .expect("reading the example's output");
    }
    if let Some(mut err) = running.child.stderr.take() {
        err.read_to_end(&mut output.stderr)
            .expect("reading the example's errors");
    }
    output
}

/// A server example started with `args`, and the address from its first
/// line (`listening on 127.0.0.1:PORT`).
pub fn serve(name: &str, args: &[&str]) -> (Running, SocketAddr) {
    let mut child = Command::new(path(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting example {name}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let running = Running {
        name: name.to_owned(),
        child,
    };
    // Read on a thread, so that an example that never prints fails the
    // test at the limit instead of hanging it.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(LIMIT)
        .unwrap_or_else(|_| panic!("example {name} printed no address"));
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("example {name} began with {line:?}"));
    (running, addr)
}

/// A running example; killed if dropped before it ended.
pub struct Running {
    name: String,
    child: Child,
}

impl Running {
    /// Waits for the example to exit, polling, for at most [`LIMIT`].
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the example") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "example {} did not exit",
                self.name
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
