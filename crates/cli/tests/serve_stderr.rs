//! A server's error lines go through a bounded queue and a writer thread,
//! as its log lines do: a stderr nobody reads (a full pipe, a stalled log
//! collector) must not stall the server. The sibling of
//! `a_stdout_nobody_reads_does_not_stall_the_server` in `cli.rs`.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use util::*;

/// Kills and reaps the server even if the test fails.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A connected pair whose second end cannot take one more byte: its
/// buffer was filled while non-blocking, so a blocking write to it waits
/// until the first end is read. Returns both ends and the bytes written.
fn full_stream() -> (UnixStream, UnixStream, usize) {
    let (reader, full) = UnixStream::pair().unwrap();
    full.set_nonblocking(true).unwrap();
    let mut filled = 0;
    for chunk in [vec![b'.'; 4096], vec![b'.']] {
        loop {
            match (&full).write(&chunk) {
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("filling the stream: {e}"),
            }
        }
    }
    full.set_nonblocking(false).unwrap();
    (reader, full, filled)
}

/// The soft open-files limit of process `pid`, from /proc.
fn soft_nofile(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .unwrap();
    line.split_whitespace().next().unwrap().to_owned()
}

/// Sets the soft open-files limit of the running process `pid`.
fn set_soft_nofile(prlimit: &std::path::Path, pid: u32, soft: &str) {
    let status = Command::new(prlimit)
        .args(["--pid", &pid.to_string(), &format!("--nofile={soft}:")])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit --pid {pid} --nofile={soft}:");
}

fn round_trip(stream: &mut TcpStream) {
    stream.write_all(b"still there?").unwrap();
    let mut back = [0u8; 12];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"still there?");
}

/// The server's stderr is full before it starts. Its open-files limit is
/// then lowered under its feet (`prlimit --pid`), so that every accept(2)
/// of a new client fails with EMFILE: an error the server survives and
/// reports on stderr, at once and again at each retry (after 10 ms,
/// doubling up to 1 s). A server that wrote that line from its event loop
/// would hang there; this one goes on echoing on an open connection, and
/// accepts the new client once the limit is back.
#[test]
fn a_stderr_nobody_reads_does_not_stall_the_server() {
    let Some(prlimit) = require_tool("prlimit", "util-linux") else {
        return;
    };
    let (stderr_reader, stderr, filled) = full_stream();
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--host", "127.0.0.1", "--port", "0"])
        .args(["--threads", "1", "--max-connections", "100"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(OwnedFd::from(stderr)));
    let mut child = Reaped(cmd.spawn().unwrap());
    let pid = child.0.id();
    let stdout = PipeOutput::default();
    stdout.clone().collect(child.0.stdout.take().unwrap());
    let port: u16 = stdout
        .wait_prefix("Bound server socket to port ")
        .parse()
        .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut served = connect_when_ready(addr);
    round_trip(&mut served);

    let soft = soft_nofile(pid);
    set_soft_nofile(&prlimit, pid, "3");
    let waiting = TcpStream::connect(addr).unwrap();
    // Long enough for the first accept and several retries to fail.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        round_trip(&mut served);
    }
    set_soft_nofile(&prlimit, pid, &soft);
    stdout.wait_for("the waiting client accepted", |l| {
        l.iter().filter(|x| *x == "Accepted connection").count() == 2
    });
    drop(waiting);

    // Someone reads stderr at last: the filler, then the server's lines.
    let errors = PipeOutput::default();
    errors.clone().collect(stderr_reader);
    let accept_failed = "netlab: accepting a connection: too many open files";
    let bytes = errors.wait_bytes(accept_failed, |b| {
        b.len() > filled && String::from_utf8_lossy(&b[filled..]).contains(accept_failed)
    });
    for line in String::from_utf8_lossy(&bytes[filled..]).lines() {
        assert!(line.starts_with("netlab: "), "{line:?}");
    }
    drop(served);
    Command::new("kill")
        .args(["-s", "TERM", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success(), "{status:?}");
}

/// SIGTERM stops a server whose stdout and stderr nobody reads: it waits
/// for its last lines a moment, then exits 0 without them, instead of
/// waiting for a reader forever.
#[test]
fn a_stopped_server_exits_even_if_nobody_reads_its_output() {
    let (_out_reader, stdout, _) = full_stream();
    let (_err_reader, stderr, _) = full_stream();
    let port = free_port("127.0.0.1");
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "echo",
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::from(OwnedFd::from(stdout)))
    .stderr(Stdio::from(OwnedFd::from(stderr)));
    let mut child = Reaped(cmd.spawn().unwrap());
    // A few connections make lines the writer thread cannot write.
    for _ in 0..3 {
        drop(connect_when_ready(SocketAddr::from(([127, 0, 0, 1], port))));
    }
    let status = Command::new("kill")
        .args(["-s", "TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still waiting for a reader");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}");
}
