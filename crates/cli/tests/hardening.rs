//! Careless users and hostile peers (the "Hardening" issue): each test
//! here failed before its fix. A failure is one line on stderr and a
//! sysexits code, never a hang.

mod util;

use std::process::{Command, Stdio};

use util::*;

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
        let NetlabServer { proc: server, port } = spawn_server(cmd);
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

// ---- flags ----

/// A negative number for a numeric option names the option and what it
/// takes (exit 64). Before, clap read `-1` as an unknown flag: "unexpected
/// argument '-1' found", naming no option.
#[test]
fn a_negative_number_names_its_option() {
    let cases: &[(&[&str], &str)] = &[
        (&["serve", "echo", "--port", "-1"], "--port"),
        (&["serve", "echo", "-p", "-1"], "--port"),
        (
            &["serve", "echo", "-p", "0", "--max-connections", "-5"],
            "--max-connections",
        ),
        (
            &["serve", "echo", "-p", "0", "--idle-timeout", "-1"],
            "--idle-timeout",
        ),
        (
            &["serve", "echo", "-p", "0", "--threads", "-2"],
            "--threads",
        ),
        (&["serve", "echo", "-p", "0", "--drain", "-1"], "--drain"),
        (
            &["serve", "echo", "-p", "0", "--udp", "--rate-limit", "-1"],
            "--rate-limit",
        ),
        (
            &["connect", "echo", "127.0.0.1", "7", "--timeout", "-1"],
            "--timeout",
        ),
        (&["connect", "echo", "127.0.0.1", "-7"], "<PORT>"),
        (
            &["connect", "echo", "127.0.0.1", "7", "--max-bytes", "-1"],
            "--max-bytes",
        ),
        (
            &["bench", "echo", "127.0.0.1", "7", "-c", "-3"],
            "--connections",
        ),
        (&["bench", "echo", "127.0.0.1", "-7"], "<PORT>"),
        (
            &["bench", "echo", "127.0.0.1", "7", "--depth", "-1"],
            "--depth",
        ),
        (
            &["bench", "echo", "127.0.0.1", "7", "-d", "-1"],
            "--duration",
        ),
        (
            &["bench", "echo", "127.0.0.1", "7", "--size", "-64"],
            "--size",
        ),
        (
            &["bench", "echo", "127.0.0.1", "7", "--bulk", "-1"],
            "--bulk",
        ),
        (
            &["bench", "echo", "127.0.0.1", "7", "--threads", "-1"],
            "--threads",
        ),
        (
            &["bench", "echo", "127.0.0.1", "7", "--timeout", "-1"],
            "--timeout",
        ),
        (
            &["bench", "echo", "127.0.0.1", "7", "--server-pid", "-1"],
            "--server-pid",
        ),
        (&["resolve", "--jobs", "-1", "localhost"], "--jobs"),
        (&["resolve", "--retries", "-1", "localhost"], "--retries"),
        (&["resolve", "--timeout", "-1", "localhost"], "--timeout"),
    ];
    for (args, option) in cases {
        let out = netlab_cmd().args(*args).output().unwrap();
        assert_error(&out, 64);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("invalid value '-") && stderr.contains(option),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("unexpected argument"),
            "{args:?}: {stderr}"
        );
    }
}

/// An empty host is a usage error that says so (64). Before, it went to
/// the resolver and came back as "no such host" (68).
#[test]
fn an_empty_host_is_a_usage_error() {
    for args in [
        &["serve", "echo", "--host", "", "--port", "0"][..],
        &["serve", "daytime", "--udp", "--host", " ", "--port", "0"],
        &["connect", "echo", "", "7"],
        &["bench", "echo", "", "7"],
    ] {
        let out = netlab_cmd().args(args).output().unwrap();
        assert_error(&out, 64);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("the host is empty"), "{args:?}: {stderr}");
    }
}

/// Bare `netlab` prints its help on stdout, as git and cargo do, with no
/// error line; like git, the exit code (64) says nothing was done. Before,
/// it printed the description alone as an error: `netlab: The netlab
/// command: ...`.
#[test]
fn bare_netlab_prints_the_help_on_stdout() {
    for args in [&[][..], &["bench"]] {
        let out = netlab_cmd().args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert!(stdout.contains("Usage: netlab"), "{args:?}: {stdout}");
        assert!(stdout.contains("Commands:"), "{args:?}: {stdout}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}

// ---- bench ----

/// `--server-pid` of no process is a usage error before the run (64).
/// Before, the run failed on `/proc/PID/stat` with a raw OS error and 68.
#[test]
fn bench_with_no_such_server_pid_is_a_usage_error() {
    let server = serve(&["echo", "--host", "127.0.0.1"]);
    let out = netlab_cmd()
        .args(["bench", "echo", "127.0.0.1", &server.port.to_string()])
        .args(["-d", "0.2", "--server-pid", "999999999"])
        .output()
        .unwrap();
    assert_error(&out, 64);
    assert_eq!(out.stdout, b"", "no run, no report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no such process"), "{stderr}");
}

/// A run where some of the connections asked for never opened prints its
/// report, then one line saying how many opened, and exits 74. Before, it
/// exited 0 with thousands failed. Here the load generator may open only
/// 64 descriptors (`prlimit`) and is asked for 200 connections.
#[test]
fn bench_where_connections_failed_to_open_is_74() {
    let Some(prlimit) = require_tool("prlimit", "util-linux") else {
        return;
    };
    let server = serve(&["echo", "--host", "127.0.0.1"]);
    let mut cmd = Command::new(prlimit);
    cmd.args(["--nofile=64:64", "--", env!("CARGO_BIN_EXE_netlab")])
        .args(["bench", "echo", "127.0.0.1", &server.port.to_string()])
        .args(["-c", "200", "-d", "0.3"])
        .stdin(Stdio::null());
    let out = output_within_deadline(cmd);
    assert_error(&out, 74);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("of 200 connections opened"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("connections failed to open"), "{stdout}");
}
