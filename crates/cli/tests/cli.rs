//! The `netlab` command as a user meets it: the lecture's lines from
//! `serve`, `-q`, signals, UDP, a binary-safe `connect echo`, and one exit
//! code and one error line for each kind of bad input. Everything runs on
//! loopback (127.0.0.1 and ::1).

mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use util::*;

// ---- the lecture's lines ----

/// Connects to a netlab server and checks the lecture's four lines for
/// that connection, with both addresses printed as Python tuples.
fn check_connection_lines(server: &NetlabServer, ip: &str, tuple: impl Fn(u16) -> String) {
    let lines = server.proc.stdout.wait_for("Listening", |l| l.len() >= 3);
    assert_eq!(
        &lines[..3],
        [
            "Opened server socket",
            &format!("Bound server socket to port {}", server.port),
            "Listening"
        ]
    );
    let addr: SocketAddr = (ip.parse::<std::net::IpAddr>().unwrap(), server.port).into();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let client_port = stream.local_addr().unwrap().port();
    let lines = server
        .proc
        .stdout
        .wait_for("the connection lines", |l| l.len() >= 7);
    assert_eq!(
        &lines[3..7],
        [
            "Accepted connection".to_owned(),
            "Opened socket".to_owned(),
            format!("Server IP addr and port: {}", tuple(server.port)),
            format!("Client IP addr and port: {}", tuple(client_port)),
        ]
    );
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert_daytime_utc_now(&reply);
}

#[test]
fn serve_prints_the_lecture_lines_over_ipv4() {
    let server = serve(&["daytime", "--host", "127.0.0.1", "--utc"]);
    check_connection_lines(&server, "127.0.0.1", |p| format!("('127.0.0.1', {p})"));
}

#[test]
fn serve_prints_the_lecture_lines_over_ipv6_as_python_does() {
    let server = serve(&["daytime", "--host", "::1", "--utc"]);
    check_connection_lines(&server, "::1", |p| format!("('::1', {p}, 0, 0)"));
}

/// `netlab serve PROTOCOL -q` on 127.0.0.1: it prints no port, so the
/// port is one that was free a moment ago, and readiness is polled.
fn serve_quiet(args: &[&str]) -> (Proc, u16) {
    let port = free_port("127.0.0.1");
    let mut cmd = netlab();
    cmd.arg("serve")
        .args(args)
        .args(["-q", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string());
    let proc = Proc::spawn(cmd);
    drop(connect_when_ready(SocketAddr::from(([127, 0, 0, 1], port))));
    (proc, port)
}

#[test]
fn quiet_serve_prints_nothing_on_stdout() {
    let (mut proc, port) = serve_quiet(&["echo"]);
    let mut stream = connect_when_ready(SocketAddr::from(([127, 0, 0, 1], port)));
    stream.write_all(b"quiet please\n").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    stream.read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed, b"quiet please\n");
    proc.signal("TERM");
    assert!(proc.wait_exit().success());
    assert_eq!(proc.stdout.all(), Vec::<String>::new());
    assert_eq!(proc.stderr.all(), Vec::<String>::new());
}

// ---- signals ----

#[test]
fn sigint_stops_the_server_with_exit_0_and_frees_the_port() {
    let mut server = serve(&["echo", "--host", "127.0.0.1"]);
    server.proc.signal("INT");
    let status = server.proc.wait_exit();
    assert_eq!(status.code(), Some(0), "{:?}", server.proc.stderr.all());
    let err = TcpStream::connect(("127.0.0.1", server.port)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

/// SIGTERM with a connection still open: the server stops accepting,
/// gives the connection the drain time, closes it, and exits 0.
#[test]
fn sigterm_stops_the_server_with_exit_0_and_closes_open_connections() {
    let mut server = serve(&["echo", "--host", "127.0.0.1", "--drain", "0.3"]);
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    idle.set_read_timeout(Some(DEADLINE)).unwrap();
    server
        .proc
        .stdout
        .wait_for("Accepted", |l| l.iter().any(|x| x == "Accepted connection"));
    let started = Instant::now();
    server.proc.signal("TERM");
    let status = server.proc.wait_exit();
    assert_eq!(status.code(), Some(0), "{:?}", server.proc.stderr.all());
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut rest = Vec::new();
    // Closed by the server: end-of-file (or a reset), never a timeout.
    match idle.read_to_end(&mut rest) {
        Ok(_) => assert!(rest.is_empty()),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
}

/// A supervisor (or a test) that sends SIGTERM as soon as the server says
/// `Listening` must get the graceful stop and exit 0, not a process killed
/// by the signal. The window is short: 40 servers, 8 at a time, so the
/// machine is busy enough to hit it.
#[test]
fn a_signal_right_after_listening_still_stops_gracefully() {
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            std::thread::spawn(move || {
                for attempt in 0..5 {
                    let mut server = serve(&["echo", "--host", "127.0.0.1"]);
                    server.proc.signal_now("TERM");
                    let status = server.proc.wait_exit();
                    if status.code() != Some(0) {
                        return Err(format!("worker {worker} attempt {attempt}: {status:?}"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    // Join every worker before failing, so each one's server is reaped.
    let results: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
    for result in results {
        result.unwrap().unwrap();
    }
}

// ---- UDP ----

fn udp_daytime(host: &str) {
    let server = serve(&["daytime", "--udp", "--host", host, "--utc"]);
    let out = netlab_cmd()
        .args([
            "connect",
            "daytime",
            "--udp",
            host,
            &server.port.to_string(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_daytime_utc_now(&String::from_utf8(out.stdout).unwrap());
}

/// A UDP daytime server logs each request, as a TCP one logs each
/// connection (`Received datagram`, then the client's address).
#[test]
fn udp_daytime_server_logs_each_datagram() {
    let server = serve(&["daytime", "--udp", "--host", "127.0.0.1"]);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.connect(("127.0.0.1", server.port)).unwrap();
    client.send(b"").unwrap();
    let mut buf = [0u8; 128];
    let n = client.recv(&mut buf).unwrap();
    assert!(n > 0);
    let me = client.local_addr().unwrap().port();
    let lines = server
        .proc
        .stdout
        .wait_for("Received datagram", |l| l.len() >= 5);
    assert_eq!(
        &lines[3..5],
        [
            "Received datagram".to_owned(),
            format!("Client IP addr and port: ('127.0.0.1', {me})")
        ]
    );
}

fn udp_echo(host: &str) {
    let server = serve(&["echo", "--udp", "--host", host]);
    let input = "first\nsecond \u{e9}\n\u{0}\u{7f} no newline";
    let out = netlab_cmd()
        .args(["connect", "echo", "--udp", host, &server.port.to_string()])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), input);
    // One datagram per line.
    let lines = server.proc.stdout.wait_for("three datagrams", |l| {
        l.iter().filter(|x| *x == "Received datagram").count() >= 3
    });
    assert!(lines.contains(&"Read from client: second \u{e9}\\n".to_owned()));
}

#[test]
fn udp_daytime_over_ipv4() {
    udp_daytime("127.0.0.1");
}

#[test]
fn udp_daytime_over_ipv6() {
    udp_daytime("::1");
}

#[test]
fn udp_echo_over_ipv4() {
    udp_echo("127.0.0.1");
}

#[test]
fn udp_echo_over_ipv6() {
    udp_echo("::1");
}

// ---- bulk ----

#[test]
fn connect_echo_pipes_megabytes_of_binary_byte_exact() {
    // Quiet, so the server's output is not 4 MiB of log lines.
    let (_server, port) = serve_quiet(&["echo"]);
    let data = random_bytes(4 << 20, 0x5eed_f00d);
    let out = netlab_cmd()
        .args(["connect", "echo", "127.0.0.1", &port.to_string()])
        .write_stdin(data.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), data.len());
    assert!(out.stdout == data, "the echo differs from the input");
    assert_eq!(out.stderr, b"");
}

#[test]
fn connect_echo_over_ipv6_tcp() {
    let server = serve(&["echo", "--host", "::1"]);
    let out = netlab_cmd()
        .args(["connect", "echo", "::1", &server.port.to_string()])
        .write_stdin("over six\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"over six\n");
}

// ---- bad input: exit codes and one-line errors ----

fn run(args: &[&str]) -> std::process::Output {
    netlab_cmd().args(args).output().unwrap()
}

#[test]
fn a_port_out_of_range_or_not_a_number_is_a_usage_error() {
    for args in [
        &["serve", "echo", "--port", "70000"][..],
        &["serve", "daytime", "--port", "seven"],
        &["serve", "echo", "--port", "-1"],
        &["connect", "echo", "127.0.0.1", "70000"],
        &["connect", "daytime", "127.0.0.1", "thirteen"],
        &["connect", "daytime", "127.0.0.1", "0"],
    ] {
        let out = run(args);
        assert_eq!(out.stdout, b"", "{args:?}");
        assert_error(&out, 64);
    }
}

#[test]
fn an_invalid_daytime_format_is_a_usage_error() {
    for format in ["%Q", "%Y\n", "%"] {
        let out = run(&[
            "serve",
            "daytime",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--format",
            format,
        ]);
        assert_error(&out, 64);
    }
}

/// 68 "no such host"; 75 is accepted too, because without a reachable
/// name server the resolver can only say "try again".
#[test]
fn an_unknown_host_is_68() {
    for args in [
        &["connect", "daytime", "nonexistent.invalid", "13"][..],
        &["connect", "echo", "--udp", "nonexistent.invalid", "7"],
        &[
            "serve",
            "echo",
            "--host",
            "nonexistent.invalid",
            "--port",
            "0",
        ],
    ] {
        let out = netlab_cmd().args(args).write_stdin("x\n").output().unwrap();
        let code = out.status.code();
        assert!(matches!(code, Some(68 | 75)), "{args:?}: {out:?}");
        assert_error(&out, code.unwrap());
    }
}

#[test]
fn an_address_in_use_is_69() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port().to_string();
    let out = run(&["serve", "echo", "--host", "127.0.0.1", "--port", &port]);
    assert_error(&out, 69);

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port().to_string();
    let out = run(&[
        "serve",
        "daytime",
        "--udp",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
    ]);
    assert_error(&out, 69);
}

/// 77 needs a user without the right to bind ports below 1024. As root,
/// the server is run as `nobody` through setpriv(1) when it is there;
/// otherwise the assertion is skipped with a note.
#[test]
fn permission_denied_on_a_low_port_is_77() {
    let unprivileged_start: u16 =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1024);
    let (mut cmd, port) = if is_root() {
        let has_setpriv = std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_setpriv {
            eprintln!("note: running as root without setpriv; exit code 77 not checked");
            return;
        }
        // Root may bind low ports: find one that is free now.
        let Some(port) = (unprivileged_start.saturating_sub(24)..unprivileged_start)
            .find(|p| *p > 0 && TcpListener::bind(("127.0.0.1", *p)).is_ok())
        else {
            eprintln!("note: no free port below {unprivileged_start}; 77 not checked");
            return;
        };
        let mut cmd = assert_cmd::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_netlab"));
        (cmd, port)
    } else {
        // An unprivileged user cannot bind it whether or not it is free.
        (netlab_cmd(), unprivileged_start.saturating_sub(1).max(1))
    };
    if port >= unprivileged_start {
        eprintln!("note: every port may be bound here; exit code 77 not checked");
        return;
    }
    let out = cmd
        .args(["serve", "echo", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .timeout(DEADLINE)
        .output()
        .unwrap();
    assert_error(&out, 77);
}

#[test]
fn connection_refused_is_69() {
    let port = free_port("127.0.0.1").to_string();
    for args in [
        &["connect", "daytime", "127.0.0.1", &port][..],
        &["connect", "echo", "127.0.0.1", &port],
        // UDP: the ICMP "port unreachable" reads as refused.
        &[
            "connect",
            "daytime",
            "--udp",
            "--timeout",
            "2",
            "127.0.0.1",
            &port,
        ],
    ] {
        let out = netlab_cmd().args(args).write_stdin("x\n").output().unwrap();
        assert_error(&out, 69);
    }
    let port6 = free_port("::1").to_string();
    let out = run(&["connect", "daytime", "::1", &port6]);
    assert_error(&out, 69);
}

#[test]
fn a_udp_server_that_never_answers_is_a_timeout_75() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    let out = run(&[
        "connect",
        "daytime",
        "--udp",
        "--timeout",
        "0.2",
        "127.0.0.1",
        &port,
    ]);
    assert_error(&out, 75);
    // Three tries of 0.2 s, not the default 10 s.
    assert!(started.elapsed() < Duration::from_secs(4));
    let mut buf = [0u8; 16];
    silent.set_nonblocking(true).unwrap();
    assert!(silent.recv(&mut buf).is_ok(), "no request arrived");
}

#[test]
fn a_tcp_server_that_never_sends_is_a_timeout_75() {
    // Connections complete in the backlog; nobody ever accepts or sends.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let out = run(&["connect", "daytime", "--timeout", "0.3", "127.0.0.1", &port]);
    assert_error(&out, 75);
}

#[test]
fn an_echo_server_that_never_answers_is_a_timeout_75_after_the_input_ends() {
    // Like a discard server: the connection completes and stays open, and
    // nothing ever comes back.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let started = Instant::now();
    let out = netlab_cmd()
        .args(["connect", "echo", "--timeout", "0.3", "127.0.0.1", &port])
        .write_stdin("anyone there?\n")
        .output()
        .unwrap();
    assert_error(&out, 75);
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for the echo from"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A server that accepts, reads a little (or writes a little), then
/// closes with SO_LINGER 0: the client sees a reset mid-transfer.
fn resetting_server(read_first: bool) -> (u16, std::thread::JoinHandle<()>) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(1).unwrap();
    let port = socket.local_addr().unwrap().as_socket().unwrap().port();
    let listener: TcpListener = socket.into();
    let handle = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(DEADLINE)).unwrap();
        let conn = Socket::from(conn);
        if read_first {
            let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 16];
            let n = conn.recv(&mut buf).unwrap();
            assert!(n > 0, "the client sent nothing");
        } else {
            conn.send(b"Wed Feb 11").unwrap();
        }
        conn.set_linger(Some(Duration::ZERO)).unwrap();
        drop(conn);
    });
    (port, handle)
}

/// Typed input: the client has sent a line and waits for more input when
/// the server resets the connection.
#[test]
fn a_reset_mid_echo_is_an_io_error_74() {
    let (port, server) = resetting_server(true);
    let mut cmd = netlab();
    cmd.args(["connect", "echo", "127.0.0.1", &port.to_string()]);
    let mut client = Proc::spawn(cmd);
    let mut stdin = client.stdin.take().unwrap();
    stdin.write_all(&[b'x'; 64]).unwrap();
    stdin.flush().unwrap();
    server.join().unwrap();
    let status = client.wait_exit();
    drop(stdin);
    assert_eq!(status.code(), Some(74), "{:?}", client.stderr.all());
    let stderr = client.stderr.all();
    assert_one_error_line(&format!("{}\n", stderr.join("\n")));
    assert!(stderr[0].contains("reset"), "{stderr:?}");
}

/// Piped input: the reset reaches the thread writing stdin to the server
/// or the one reading the echo, whichever asks the socket first; either
/// way the session must fail with 74. Two hundred tries, as the race goes
/// either way.
#[test]
fn a_reset_during_a_piped_echo_is_an_io_error_74() {
    let input = random_bytes(4 << 20, 7);
    for attempt in 0..200 {
        let (port, server) = resetting_server(true);
        let out = netlab_cmd()
            .args(["connect", "echo", "127.0.0.1", &port.to_string()])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        server.join().unwrap();
        assert_eq!(out.status.code(), Some(74), "attempt {attempt}: {out:?}");
        assert_error(&out, 74);
    }
}

#[test]
fn a_reset_mid_daytime_is_an_io_error_74() {
    let (port, server) = resetting_server(false);
    let out = run(&["connect", "daytime", "127.0.0.1", &port.to_string()]);
    server.join().unwrap();
    assert_error(&out, 74);
}

/// With very few descriptors, the server lowers its connection limit to
/// what fits (one at a time here) instead of accepting into EMFILE, and
/// once a crowd of clients leaves, new ones are served again. (The accept
/// loop's back-off on EMFILE itself is netcore's, unit-tested there.)
#[test]
fn running_out_of_descriptors_is_avoided() {
    let Some(prlimit) = require_tool("prlimit", "util-linux") else {
        return;
    };
    let mut cmd = std::process::Command::new(prlimit);
    cmd.args(["--nofile=24:24", "--", env!("CARGO_BIN_EXE_netlab")])
        .args(["serve", "echo", "--host", "127.0.0.1", "--port", "0"]);
    let NetlabServer { proc: server, port } = spawn_server(cmd);
    let warning = server.stderr.wait_for("the warning", |l| !l.is_empty());
    assert!(
        warning[0].contains("serving at most 1 connection at once"),
        "{warning:?}"
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // More clients than the server has descriptors for; the kernel's
    // backlog completes their handshakes either way.
    let crowd: Vec<TcpStream> = (0..40).map(|_| connect_when_ready(addr)).collect();
    server.stdout.wait_line("Accepted connection");
    drop(crowd);
    // Served again once descriptors are free (within the deadline).
    let mut client = connect_when_ready(addr);
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.write_all(b"still here").unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    client.read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed, b"still here");
    let errors = server.stderr.all();
    assert_eq!(errors.len(), 1, "only the warning: {errors:?}");
}

/// Log lines go through a bounded queue: a stdout nobody reads (a stalled
/// terminal, a full pipe) must not stall the server.
#[test]
fn a_stdout_nobody_reads_does_not_stall_the_server() {
    let port = free_port("127.0.0.1").to_string();
    /// Kills and reaps the server even if the test fails.
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reaped(
        netlab()
            .args(["serve", "echo", "--host", "127.0.0.1", "--port", &port])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Nobody reads the pipe: after 64 KiB of log lines it is full.
    let _unread = child.0.stdout.take();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut s = connect_when_ready(addr);
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    let chunk = [b'x'; 200];
    let mut back = [0u8; 200];
    // Each round trip logs about 500 bytes: 1000 of them overflow the pipe
    // many times over.
    for _ in 0..1000 {
        s.write_all(&chunk).unwrap();
        s.read_exact(&mut back).unwrap();
    }
}
