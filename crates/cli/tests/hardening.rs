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

/// A UDP server bound to a broadcast or multicast address stops on SIGTERM.
/// Its receivers were woken by a datagram sent to the socket's own address,
/// which fails there (and for a multicast group would leave the host), so
/// it logged "Shutting down" and ran on. Run in a network namespace of the
/// test's own (`unshare --net`: only a loopback, down), so nothing can
/// leave the machine whatever the server does.
#[test]
fn a_udp_server_on_a_broadcast_or_multicast_address_stops_on_sigterm() {
    let Some(unshare) = require_tool("unshare", "util-linux") else {
        return;
    };
    if !require_root("a network namespace of its own, unshare --net") {
        return;
    }
    for host in ["255.255.255.255", "224.0.0.1", "ff0e::1"] {
        let mut cmd = Command::new(&unshare);
        // No --fork: unshare execs netlab, so the signal goes to netlab.
        cmd.args(["--net", "--", env!("CARGO_BIN_EXE_netlab")])
            .args(["serve", "echo", "--udp", "--host", host, "--port", "0"])
            .arg("--allow-broadcast-host");
        let mut server = Proc::spawn(cmd);
        server.stdout.wait_line("Listening");
        server.signal("TERM");
        let status = server.wait_exit();
        assert!(
            status.success(),
            "{host}: {status:?} {:?}",
            server.stderr.all()
        );
    }
}

/// Without --allow-broadcast-host, such an address is a usage error for a
/// UDP server, before anything is bound.
#[test]
fn a_broadcast_or_multicast_udp_host_is_a_usage_error() {
    for host in [
        "255.255.255.255",
        "224.0.0.1",
        "239.1.2.3",
        "ff02::1",
        "::ffff:224.0.0.1",
    ] {
        for protocol in ["echo", "daytime"] {
            let out = netlab_cmd()
                .args(["serve", protocol, "--udp", "--host", host, "--port", "0"])
                .output()
                .unwrap();
            assert_error(&out, 64);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("--allow-broadcast-host"), "{stderr}");
        }
    }
}

/// An option UDP cannot honour is refused with --udp (it used to be
/// silently ignored), and a UDP-only option is refused without it.
#[test]
fn options_a_transport_cannot_honour_are_usage_errors() {
    for args in [
        &["--udp", "--idle-timeout", "5"][..],
        &["--udp", "--max-connections", "5"],
        &["--udp", "--mode", "line"],
        &["--rate-limit", "5"],
        &["--allow-privileged-sources"],
        &["--allow-broadcast-host"],
    ] {
        let out = netlab_cmd()
            .args(["serve", "echo", "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .output()
            .unwrap();
        assert_error(&out, 64);
    }
}
