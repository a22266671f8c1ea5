//! Careless users and hostile peers (the "Hardening" issue): each test
//! here failed before its fix. A failure is one line on stderr and a
//! sysexits code, never a hang.

mod util;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use util::*;

/// Runs `cmd` to the end with its output collected, killing it and failing
/// the test if it is still running at the deadline.
fn output_within_deadline(mut cmd: Command) -> Output {
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

/// stdin that cannot be read (a directory: read(2) gives EISDIR) ends the
/// echo session at once with one line and 74. Before, the input thread
/// died quietly and the client waited forever for an echo of nothing.
#[test]
fn connect_echo_with_a_directory_on_stdin_is_74_not_a_hang() {
    let server = serve(&["echo", "--host", "127.0.0.1"]);
    let dir = std::fs::File::open(env!("CARGO_MANIFEST_DIR")).unwrap();
    for timeout in ["10", "0"] {
        let mut cmd = netlab();
        cmd.args(["connect", "echo", "127.0.0.1", &server.port.to_string()])
            .args(["--timeout", timeout])
            .stdin(Stdio::from(dir.try_clone().unwrap()));
        let out = output_within_deadline(cmd);
        assert_error(&out, 74);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("reading the input"), "{stderr}");
    }
}

/// `--port 0 -q`: the chosen port is printed once on stdout even when
/// quiet, since nothing else can tell it; with a fixed port, quiet stays
/// silent.
#[test]
fn quiet_with_port_zero_still_prints_the_port_once() {
    for protocol in [&["echo"][..], &["daytime", "--udp"]] {
        let mut cmd = netlab();
        cmd.arg("serve")
            .args(protocol)
            .args(["--host", "127.0.0.1", "--port", "0", "-q"]);
        let server = Proc::spawn(cmd);
        let port: u16 = server
            .stdout
            .wait_prefix("Bound server socket to port ")
            .parse()
            .unwrap();
        assert_ne!(port, 0);
        if protocol[0] == "echo" {
            let mut conn = connect_when_ready(([127, 0, 0, 1], port).into());
            std::io::Write::write_all(&mut conn, b"ping").unwrap();
            let mut back = [0u8; 4];
            std::io::Read::read_exact(&mut conn, &mut back).unwrap();
            assert_eq!(&back, b"ping");
        }
        server.signal("TERM");
        let mut server = server;
        assert!(server.wait_exit().success());
        assert_eq!(
            server.stdout.all(),
            [format!("Bound server socket to port {port}")]
        );
        assert_eq!(server.stderr.all(), Vec::<String>::new());
    }

    let port = free_port("127.0.0.1").to_string();
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "echo",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "-q",
    ]);
    let mut server = Proc::spawn(cmd);
    drop(connect_when_ready(
        format!("127.0.0.1:{port}").parse().unwrap(),
    ));
    server.signal("TERM");
    assert!(server.wait_exit().success());
    assert_eq!(server.stdout.all(), Vec::<String>::new());
}
