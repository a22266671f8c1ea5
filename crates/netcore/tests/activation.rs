//! Socket activation with descriptors passed for real: a Python launcher
//! binds sockets on 127.0.0.1, puts them on fds 3, 4, ..., sets
//! `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES` and execs this test binary
//! again (keeping its pid, as a service manager's child does) to run one
//! `child_*` test. The `child_*` tests are ignored and do nothing unless
//! [`SCENARIO`] names them, so a plain `--ignored` run passes through them.

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use netcore::{
    Activated, ActivatedSocket, Builder, DatagramBuilder, Engine, Error, activated_sockets,
};
use util::Echo;

/// Names the child test a re-executed binary is meant to run.
const SCENARIO: &str = "NETCORE_ACTIVATION_SCENARIO";
/// The error message a `child_refuses` run expects.
const EXPECT: &str = "NETCORE_ACTIVATION_EXPECT";
/// How long any one step may take before the test fails.
const STEP: Duration = Duration::from_secs(10);

/// `launcher KINDS NAMES PID -- PROGRAM ARGS...`: binds one descriptor per
/// comma-separated kind, prints `fd N KIND PORT` for each, then execs
/// PROGRAM with them on fds 3, 4, ... NAMES is `LISTEN_FDNAMES` (`-`: unset);
/// PID is `self`, `none` (unset) or a number for `LISTEN_PID`.
const LAUNCHER: &str = r#"
import fcntl, os, socket, sys
kinds, names, pid = sys.argv[1:4]
argv = sys.argv[5:]
high = []
keep = []  # never collected, so never closed, before the exec
for i, kind in enumerate(k for k in kinds.split(",") if k):
    port = 0
    if kind == "closed":  # counted in LISTEN_FDS, never opened
        high.append(None)
        print(f"fd {3 + i} {kind} {port}", flush=True)
        continue
    if kind == "null":
        fd = os.open(os.devnull, os.O_RDONLY)
    elif kind == "unix":
        s, peer = socket.socketpair()
        keep += [s, peer]
        fd = s.fileno()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind.startswith("udp") else socket.SOCK_STREAM)
        if kind != "udp-unbound":
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if kind == "tcp":
            s.listen(16)
        keep.append(s)
        fd = s.fileno()
    # Out of the way first, so placing one on 3+i cannot close another.
    high.append(fcntl.fcntl(fd, fcntl.F_DUPFD, 100))
    print(f"fd {3 + i} {kind} {port}", flush=True)
for i, fd in enumerate(high):
    if fd is not None:
        os.dup2(fd, 3 + i)
        os.close(fd)
env = dict(os.environ)
env["LISTEN_FDS"] = str(len(high))
env.pop("LISTEN_PID", None)
env.pop("LISTEN_FDNAMES", None)
if pid != "none":
    env["LISTEN_PID"] = str(os.getpid()) if pid == "self" else pid
if names != "-":
    env["LISTEN_FDNAMES"] = names
os.execve(argv[0], argv, env)
"#;

/// A child process: its stdout as lines on a channel, its stderr collected,
/// killed if the test ends before it does.
struct Launched {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Launched {
    /// Runs child test `test` with `scenario` set, under the launcher with
    /// `kinds`, `names` and `pid`, or directly when `kinds` is `None`.
    fn start(test: &str, launch: Option<(&str, &str, &str)>, env: &[(&str, &str)]) -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = match launch {
            Some((kinds, names, pid)) => {
                let mut cmd = Command::new("python3");
                cmd.args(["-c", LAUNCHER, kinds, names, pid, "--"])
                    .arg(&exe);
                cmd
            }
            None => Command::new(&exe),
        };
        cmd.args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDNAMES")
        .env_remove("LISTEN_FDS_FIRST_FD")
        .env(SCENARIO, test)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning the launcher (python3)");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Launched {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// The next line of the child's stdout that contains `text`,
    /// waiting at most [`STEP`].
    fn line_containing(&mut self, text: &str) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no line with {text:?} within {STEP:?}; saw {:?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the child ended before a line with {text:?}; saw {:?}",
                        self.seen
                    )
                }
            }
        }
    }

    /// The port the launcher bound for descriptor `fd`.
    fn port(&mut self, fd: i32) -> u16 {
        let line = self.line_containing(&format!("fd {fd} "));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    /// Closes the child's stdin (its signal to stop), waits at most
    /// [`STEP`] for it to exit, and checks that its one test passed.
    fn finish(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the child did not exit within {STEP:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        // The stdout reader ends at the child's exit; collect the rest.
        while let Ok(line) = self.lines.recv_timeout(STEP) {
            self.seen.push(line);
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        let report = format!("stdout: {:#?}\nstderr: {stderr}", self.seen);
        assert!(status.success(), "child failed: {status}\n{report}");
        // An --exact filter that matched nothing would pass as well.
        assert!(
            self.seen.iter().any(|l| l.contains("1 passed")),
            "the child test did not run\n{report}"
        );
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tcp_echo(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut stream = util::connect(SocketAddr::from(([127, 0, 0, 1], port)));
    stream.write_all(payload).unwrap();
    let mut reply = vec![0; payload.len()];
    stream.read_exact(&mut reply).unwrap();
    reply
}

fn udp_echo(port: u16, payload: &[u8]) -> Vec<u8> {
    let client = UdpSocket::bind(util::any_local_v4()).unwrap();
    client.set_read_timeout(Some(STEP)).unwrap();
    client.connect(("127.0.0.1", port)).unwrap();
    client.send(payload).unwrap();
    let mut reply = vec![0; 2048];
    let n = client.recv(&mut reply).unwrap();
    reply.truncate(n);
    reply
}

#[test]
fn serves_passed_tcp_and_udp_sockets_on_one_engine() {
    let mut child = Launched::start(
        "child_serves",
        Some(("tcp,udp,tcp", "echo:echo-udp:echo-2", "self")),
        &[],
    );
    let (first, udp, second) = (child.port(3), child.port(4), child.port(5));
    child.line_containing("serving");

    let every_byte: Vec<u8> = (0..=255).collect();
    assert_eq!(tcp_echo(first, &every_byte), every_byte);
    assert_eq!(tcp_echo(second, b"second\r\n\0"), b"second\r\n\0");
    let datagram: Vec<u8> = (0..=255).rev().chain(0..100).collect();
    assert_eq!(udp_echo(udp, &datagram), datagram);
    child.finish();
}

/// Adopts the three sockets of the test above and serves echo on them
/// until stdin closes.
#[test]
#[ignore = "run by serves_passed_tcp_and_udp_sockets_on_one_engine"]
fn child_serves() {
    if !is_scenario("child_serves") {
        return;
    }
    let adopted = activated_sockets().unwrap();
    // Taken once: the variables are gone and a second call finds nothing.
    assert!(std::env::var_os("LISTEN_FDS").is_none());
    assert!(std::env::var_os("LISTEN_PID").is_none());
    assert!(activated_sockets().unwrap().is_empty());

    let names: Vec<_> = adopted.iter().map(|a| a.name.as_deref()).collect();
    assert_eq!(names, [Some("echo"), Some("echo-udp"), Some("echo-2")]);
    let mut engine = Engine::new().threads(1);
    for Activated { name, socket, .. } in adopted {
        let name = name.unwrap();
        engine = match socket {
            ActivatedSocket::Tcp(l) => engine
                .serve(Builder::from_listener(l).unwrap().name(&name), Echo)
                .unwrap(),
            ActivatedSocket::Udp(s) => engine
                .serve_datagrams(DatagramBuilder::from_socket(s).unwrap().name(&name), Echo)
                .unwrap(),
            other => panic!("unexpected {other:?}"),
        };
    }
    let running = engine.start().unwrap();
    let served: Vec<_> = running.local_addrs().iter().map(|(n, _)| &**n).collect();
    assert_eq!(served, ["echo", "echo-udp", "echo-2"]);
    println!("serving");

    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    running.shutdown(Duration::from_secs(1));
}

#[test]
fn not_activated_is_no_sockets() {
    Launched::start("child_finds_none", None, &[]).finish();
}

#[test]
fn sockets_for_another_pid_are_not_taken() {
    // Pid 1 is never the test binary: it has a parent in its namespace.
    Launched::start("child_finds_none", Some(("tcp", "-", "1")), &[]).finish();
}

#[test]
fn sockets_without_listen_pid_are_not_taken() {
    // listenfd alone would take these; sd_listen_fds(3) does not.
    Launched::start("child_finds_none", Some(("tcp", "-", "none")), &[]).finish();
}

/// Finds no sockets, however `LISTEN_*` is set, and leaves them unset.
#[test]
#[ignore = "run by the tests that expect no sockets"]
fn child_finds_none() {
    if !is_scenario("child_finds_none") {
        return;
    }
    assert!(activated_sockets().unwrap().is_empty());
    assert!(std::env::var_os("LISTEN_FDS").is_none());
    assert!(std::env::var_os("LISTEN_PID").is_none());
}

fn refuses(kinds: &str, expect: &str) {
    Launched::start(
        "child_refuses",
        Some((kinds, "-", "self")),
        &[(EXPECT, expect)],
    )
    .finish();
}

#[test]
fn a_file_is_refused_by_descriptor_number() {
    refuses(
        "null",
        "adopting socket-activated descriptor 3: not a socket",
    );
    refuses(
        "tcp,null",
        "adopting socket-activated descriptor 4: not a socket",
    );
}

#[test]
fn a_descriptor_that_is_not_open_is_refused() {
    refuses(
        "tcp,closed",
        "adopting socket-activated descriptor 4: not an open descriptor",
    );
}

#[test]
fn a_unix_socket_is_refused() {
    refuses(
        "unix",
        "adopting socket-activated descriptor 3: a unix-domain socket; netcore serves TCP and UDP",
    );
}

#[test]
fn a_stream_that_is_not_listening_is_refused() {
    refuses(
        "stream",
        "adopting socket-activated descriptor 3: a TCP socket that is not listening",
    );
}

#[test]
fn an_unbound_udp_socket_is_refused() {
    refuses(
        "udp-unbound",
        "adopting socket-activated descriptor 3: a UDP socket that is not bound",
    );
}

/// Fails with the error in [`EXPECT`], as a value to match on.
#[test]
#[ignore = "run by the tests of refused descriptors"]
fn child_refuses() {
    if !is_scenario("child_refuses") {
        return;
    }
    let err = activated_sockets().unwrap_err();
    assert_eq!(err.to_string(), std::env::var(EXPECT).unwrap());
    assert!(matches!(err, Error::Activation { source: None, .. }));
    assert_eq!(err.io_kind(), std::io::ErrorKind::InvalidInput);
}

fn is_scenario(name: &str) -> bool {
    std::env::var(SCENARIO).as_deref() == Ok(name)
}

#[test]
fn adopted_sockets_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Activated>();
    send_sync::<ActivatedSocket>();
}
