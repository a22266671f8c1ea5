//! `netlab serve` under a service manager, for real: sockets passed by
//! `systemd-socket-activate` (Debian package `systemd`; it needs no
//! running systemd), `READY=1` on a `NOTIFY_SOCKET` the test binds, and the
//! example units of docs/systemd checked by `systemd-analyze verify` and
//! then run, their `ListenStream=`/`ListenDatagram=` lines turned into the
//! `systemd-socket-activate` command that stands in for systemd.
//!
//! How `systemd-socket-activate` (systemd 252, Debian 12) behaves, which
//! shapes these tests:
//!
//! - it binds every `-l` address, prints `Listening on ADDR as FD.` on
//!   stderr, then waits for the first client before it execs the program
//!   (same pid, so the `Proc` guard still ends it). A test therefore waits
//!   for those lines, then connects (or sends a datagram): the connection
//!   waits in the backlog until netlab accepts it.
//! - `--datagram` applies to every `-l`. For TCP and UDP at once, one
//!   `systemd-socket-activate` execs a second one, which passes the first
//!   one's socket on (fd 3) beside its own (fd 4, ...). The second one's
//!   `--fdname` must then name every socket, the passed ones first.
//! - `--accept` passes each connection as fd 3 (`LISTEN_FDS=1`), a socket
//!   that is not listening: systemd's `Accept=yes`.
//!
//! Ports: a probed free one (bound for TCP and UDP, then dropped), and a
//! new one when `systemd-socket-activate` finds it taken in between.

mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;

use util::*;

/// Where the example units are.
const UNITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/systemd");

/// The path of netlab in the example units' `ExecStart=`.
const INSTALLED: &str = "/usr/local/bin/netlab";

/// `systemd-socket-activate`, or `None` (the test skips, or fails in CI).
fn activate_tool() -> Option<PathBuf> {
    require_tool("systemd-socket-activate", "systemd")
}

/// A socket for `systemd-socket-activate` to bind and pass: TCP or UDP,
/// a port on 127.0.0.1, and its `FileDescriptorName=`.
#[derive(Debug, Clone)]
struct Listen {
    udp: bool,
    port: u16,
    name: Option<String>,
}

/// A port free on 127.0.0.1 for TCP and UDP a moment ago.
fn free_port_both() -> u16 {
    for _ in 0..50 {
        let port = free_port("127.0.0.1");
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both TCP and UDP in 50 tries");
}

/// The command that passes `sockets` (streams first, then datagrams, as
/// their descriptors come) to netlab `args`: one `systemd-socket-activate`
/// for one kind, two chained for both.
fn activate_command(
    tool: &Path,
    sockets: &[Listen],
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let streams: Vec<&Listen> = sockets.iter().filter(|s| !s.udp).collect();
    let datagrams: Vec<&Listen> = sockets.iter().filter(|s| s.udp).collect();
    let names = |list: &[&Listen]| -> Option<String> {
        let names: Vec<&str> = list.iter().filter_map(|s| s.name.as_deref()).collect();
        (names.len() == list.len()).then(|| format!("--fdname={}", names.join(":")))
    };
    let listen = |cmd: &mut Command, list: &[&Listen]| {
        for s in list {
            cmd.arg(format!("--listen=127.0.0.1:{}", s.port));
        }
    };
    let mut cmd = Command::new(tool);
    for (k, v) in env {
        cmd.arg(format!("--setenv={k}={v}"));
    }
    if streams.is_empty() {
        cmd.arg("--datagram");
        listen(&mut cmd, &datagrams);
        cmd.args(names(&datagrams));
    } else {
        listen(&mut cmd, &streams);
        if datagrams.is_empty() {
            cmd.args(names(&streams));
        } else {
            cmd.arg(tool).arg("--datagram");
            listen(&mut cmd, &datagrams);
            let all: Vec<&Listen> = streams.iter().chain(&datagrams).copied().collect();
            cmd.args(names(&all));
        }
    }
    cmd.arg(env!("CARGO_BIN_EXE_netlab")).args(args);
    cmd.env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .env_remove("NOTIFY_SOCKET");
    cmd
}

/// Runs netlab `args` under `systemd-socket-activate` with sockets like
/// `shape` (ports are replaced by free ones; the same unit port stays one
/// port for TCP and UDP), once it listens on all of the first command's
/// sockets. Returns the process and the sockets with their real ports.
fn activated(
    tool: &Path,
    shape: &[Listen],
    args: &[&str],
    env: &[(&str, &str)],
) -> (Proc, Vec<Listen>) {
    for _ in 0..5 {
        let mut ports = std::collections::HashMap::new();
        let sockets: Vec<Listen> = shape
            .iter()
            .map(|s| Listen {
                port: *ports.entry(s.port).or_insert_with(free_port_both),
                ..s.clone()
            })
            .collect();
        let first: Vec<&Listen> = if sockets.iter().any(|s| !s.udp) {
            sockets.iter().filter(|s| !s.udp).collect()
        } else {
            sockets.iter().collect()
        };
        let proc = Proc::spawn(activate_command(tool, &sockets, args, env));
        let lines = proc.stderr.wait_for("the sockets, or a failure", |lines| {
            lines.iter().any(|l| l.contains("Address already in use"))
                || lines
                    .iter()
                    .filter(|l| l.starts_with("Listening on"))
                    .count()
                    == first.len()
        });
        if lines.iter().any(|l| l.contains("Address already in use")) {
            continue;
        }
        return (proc, sockets);
    }
    panic!("systemd-socket-activate found its ports taken five times");
}

/// One TCP echo round trip on `port`, which also starts netlab.
fn tcp_echo(port: u16) {
    let mut conn = connect_when_ready(SocketAddr::from(([127, 0, 0, 1], port)));
    conn.write_all(b"hello, activated\n").unwrap();
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = Vec::new();
    conn.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"hello, activated\n");
}

/// Sends `request` to UDP `port` until a reply comes (a datagram may be
/// sent before netlab reads: it waits in the socket), at most 10 times.
fn udp_request(port: u16, request: &[u8]) -> Vec<u8> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(DEADLINE / 10)).unwrap();
    let mut buf = [0u8; 2048];
    for _ in 0..10 {
        socket.send_to(request, ("127.0.0.1", port)).unwrap();
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            return buf[..n].to_vec();
        }
    }
    panic!("no reply from UDP port {port}");
}

fn tcp(port: u16) -> Listen {
    Listen {
        udp: false,
        port,
        name: None,
    }
}

fn udp(port: u16) -> Listen {
    Listen {
        udp: true,
        port,
        name: None,
    }
}

fn named(mut listen: Listen, name: &str) -> Listen {
    listen.name = Some(name.to_owned());
    listen
}

#[test]
fn echo_serves_a_passed_tcp_listener() {
    let Some(tool) = activate_tool() else { return };
    let (proc, sockets) = activated(&tool, &[tcp(1)], &["serve", "echo"], &[]);
    tcp_echo(sockets[0].port);
    let port = sockets[0].port;
    proc.stdout
        .wait_line(&format!("Activated server socket on port {port}"));
    let lines = proc.stdout.wait_line("Listening");
    assert!(!lines.iter().any(|l| l.starts_with("Bound")), "{lines:?}");
}

#[test]
fn daytime_answers_on_a_passed_udp_socket() {
    let Some(tool) = activate_tool() else { return };
    let (_proc, sockets) = activated(&tool, &[udp(1)], &["serve", "daytime"], &[]);
    let reply = udp_request(sockets[0].port, b"");
    assert!(reply.ends_with(b"\n") && reply.len() > 10, "{reply:?}");
}

#[test]
fn one_echo_process_serves_tcp_and_udp_together() {
    let Some(tool) = activate_tool() else { return };
    let (proc, sockets) = activated(&tool, &[tcp(7), udp(7)], &["serve", "echo"], &[]);
    let port = sockets[0].port;
    tcp_echo(port);
    assert_eq!(udp_request(port, b"datagram\n"), b"datagram\n");
    let lines = proc.stdout.wait_for("two Activated lines", |l| {
        l.iter().filter(|l| l.starts_with("Activated")).count() == 2
    });
    assert!(lines.contains(&format!("Activated server socket on port {port}")));
}

#[test]
fn serve_all_names_each_socket_by_its_fdname() {
    let Some(tool) = activate_tool() else { return };
    let shape = [
        named(tcp(1), "echo/tcp"),
        named(tcp(2), "daytime"),
        named(udp(1), "echo"),
    ];
    let (proc, sockets) = activated(&tool, &shape, &["serve", "all"], &[]);
    tcp_echo(sockets[0].port);
    let mut daytime = connect_when_ready(SocketAddr::from(([127, 0, 0, 1], sockets[1].port)));
    let mut line = String::new();
    daytime.read_to_string(&mut line).unwrap();
    assert!(line.ends_with('\n') && line.len() > 10, "{line:?}");
    assert_eq!(udp_request(sockets[2].port, b"x\n"), b"x\n");
    for (name, socket) in [
        ("echo/tcp", &sockets[0]),
        ("daytime/tcp", &sockets[1]),
        ("echo/udp", &sockets[2]),
    ] {
        proc.stdout.wait_line(&format!(
            "{name}: Activated server socket on port {}",
            socket.port
        ));
    }
}

/// The `netlab: ` line of a process run by `systemd-socket-activate`,
/// whose own lines share its stderr, once it has exited.
fn netlab_error(mut proc: Proc) -> (Option<i32>, String) {
    let status = proc.wait_exit();
    let lines = proc.stderr.all();
    let ours: Vec<&String> = lines.iter().filter(|l| l.starts_with("netlab")).collect();
    assert_eq!(ours.len(), 1, "not one netlab line: {lines:?}");
    (status.code(), ours[0].clone())
}

#[test]
fn serve_all_refuses_an_unnamed_socket_listing_the_names() {
    let Some(tool) = activate_tool() else { return };
    let (proc, sockets) = activated(&tool, &[tcp(1)], &["serve", "all"], &[]);
    // The connection starts netlab; it is refused with the process.
    let _ = TcpStream::connect(("127.0.0.1", sockets[0].port));
    let (code, line) = netlab_error(proc);
    assert_eq!(code, Some(64), "{line}");
    assert!(line.contains("descriptor 3: it has no name"), "{line}");
    assert!(
        line.contains("echo/tcp") && line.contains("daytime/udp"),
        "{line}"
    );
}

#[test]
fn serve_all_refuses_a_name_that_is_no_service() {
    let Some(tool) = activate_tool() else { return };
    let shape = [named(tcp(1), "netlab-all.socket")];
    let (proc, sockets) = activated(&tool, &shape, &["serve", "all"], &[]);
    let _ = TcpStream::connect(("127.0.0.1", sockets[0].port));
    let (code, line) = netlab_error(proc);
    assert_eq!(code, Some(64), "{line}");
    assert!(
        line.contains("\"netlab-all.socket\" names no service"),
        "{line}"
    );
}

#[test]
fn a_port_with_passed_sockets_is_refused() {
    let Some(tool) = activate_tool() else { return };
    let (proc, sockets) = activated(&tool, &[tcp(1)], &["serve", "echo", "--port", "0"], &[]);
    let _ = TcpStream::connect(("127.0.0.1", sockets[0].port));
    let (code, line) = netlab_error(proc);
    assert_eq!(code, Some(64), "{line}");
    assert!(line.contains("--port with socket activation"), "{line}");
}

#[test]
fn no_port_and_no_sockets_is_a_usage_error() {
    let output = netlab_cmd()
        .args(["serve", "echo"])
        .env_remove("LISTEN_FDS")
        .output()
        .unwrap();
    assert_error(&output, 64);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("give --port (or run under socket activation)"),
        "{stderr}"
    );
}

#[test]
fn a_connected_socket_from_accept_yes_points_to_inetd_mode() {
    let Some(tool) = activate_tool() else { return };
    let port = free_port("127.0.0.1");
    let mut cmd = Command::new(&tool);
    cmd.args(["--accept", &format!("--listen=127.0.0.1:{port}")])
        .args([env!("CARGO_BIN_EXE_netlab"), "serve", "echo"]);
    let proc = Proc::spawn(cmd);
    proc.stderr.wait_for("Listening on", |l| {
        l.iter().any(|l| l.starts_with("Listening on"))
    });
    let mut conn = connect_when_ready(SocketAddr::from(([127, 0, 0, 1], port)));
    let lines = proc.stderr.wait_for("netlab's error", |l| {
        l.iter().any(|l| l.starts_with("netlab: "))
    });
    let line = lines.iter().find(|l| l.starts_with("netlab: ")).unwrap();
    assert!(
        line.contains("is a connected socket (Accept=yes)"),
        "{line}"
    );
    assert!(line.contains("run netlab serve echo --inetd"), "{line}");
    // netlab exited: the connection is closed, nothing echoed.
    let mut rest = Vec::new();
    let _ = conn.write_all(b"x");
    let _ = conn.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{rest:?}");
}

/// A unix datagram socket for `NOTIFY_SOCKET`, in a directory of its own
/// removed on drop.
struct Notify {
    dir: PathBuf,
    socket: UnixDatagram,
}

impl Notify {
    fn bind() -> Notify {
        let dir = std::env::temp_dir().join(format!(
            "netlab-notify-{}-{}",
            std::process::id(),
            current_test().replace("::", "-")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = UnixDatagram::bind(dir.join("notify")).unwrap();
        socket.set_read_timeout(Some(DEADLINE)).unwrap();
        Notify { dir, socket }
    }

    fn path(&self) -> String {
        self.dir.join("notify").to_string_lossy().into_owned()
    }

    /// The next message, up to the deadline.
    fn next(&self) -> String {
        let mut buf = [0u8; 4096];
        let n = self
            .socket
            .recv(&mut buf)
            .expect("a message on NOTIFY_SOCKET in time");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

impl Drop for Notify {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn ready_once_listening_and_stopping_at_the_signal() {
    let notify = Notify::bind();
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--host", "127.0.0.1", "--port", "0"])
        .env("NOTIFY_SOCKET", notify.path());
    let mut server = spawn_server(cmd);
    assert_eq!(notify.next(), "READY=1\n");
    // Ready means served: the port accepts at once, no retry.
    let conn = TcpStream::connect(("127.0.0.1", server.port));
    assert!(conn.is_ok(), "{conn:?}");
    // Closed, so that the shutdown has nothing to drain.
    drop(conn);
    server.proc.signal("TERM");
    assert_eq!(notify.next(), "STOPPING=1\n");
    assert!(server.proc.wait_exit().success());
}

#[test]
fn ready_under_activation_and_for_serve_all() {
    let Some(tool) = activate_tool() else { return };
    let notify = Notify::bind();
    let env = [("NOTIFY_SOCKET", notify.path())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let shape = [named(tcp(1), "echo")];
    let (_proc, sockets) = activated(&tool, &shape, &["serve", "all"], &env);
    let _conn = TcpStream::connect(("127.0.0.1", sockets[0].port)).unwrap();
    assert_eq!(notify.next(), "READY=1\n");
}

#[test]
fn inetd_mode_under_systemd_socket_activate_inetd() {
    let Some(tool) = activate_tool() else { return };
    let help = netlab_cmd()
        .args(["serve", "echo", "--help"])
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&help.stdout).contains("--inetd") {
        eprintln!("SKIPPED: netlab serve echo has no --inetd yet");
        return;
    }
    let port = free_port("127.0.0.1");
    let mut cmd = Command::new(&tool);
    cmd.args(["--inetd", "--accept", &format!("--listen=127.0.0.1:{port}")])
        .args([
            env!("CARGO_BIN_EXE_netlab"),
            "serve",
            "echo",
            "--inetd",
            "--log",
            "none",
        ]);
    let proc = Proc::spawn(cmd);
    proc.stderr.wait_for("Listening on", |l| {
        l.iter().any(|l| l.starts_with("Listening on"))
    });
    tcp_echo(port);
}

// ---- The example units of docs/systemd ----

/// One unit file: its name and its `Key=value` lines, in order.
struct Unit {
    name: String,
    lines: Vec<(String, String)>,
}

impl Unit {
    fn values(&self, key: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.values(key).pop()
    }
}

fn units() -> Vec<Unit> {
    let mut units: Vec<Unit> = std::fs::read_dir(UNITS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|path| Unit {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            lines: std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect(),
        })
        .collect();
    units.sort_by(|a, b| a.name.cmp(&b.name));
    units
}

/// docs/systemd, in a directory of the test's own, with the real netlab in
/// every `ExecStart=`.
fn installed_units(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netlab-units-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(UNITS).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            dir.join(path.file_name().unwrap()),
            text.replace(INSTALLED, env!("CARGO_BIN_EXE_netlab")),
        )
        .unwrap();
    }
    dir
}

#[test]
fn the_example_units_pass_systemd_analyze_verify() {
    let Some(analyze) = require_tool("systemd-analyze", "systemd") else {
        return;
    };
    let dir = installed_units("verify");
    let names: Vec<String> = units().into_iter().map(|u| u.name).collect();
    assert!(names.len() >= 5, "{names:?}");
    for name in &names {
        assert!(
            std::fs::read_to_string(Path::new(UNITS).join(name))
                .unwrap()
                .contains("ExecStart=")
                == name.ends_with(".service"),
            "{name}: ExecStart= belongs in the .service units"
        );
    }
    let output = Command::new(analyze)
        .args(["verify", "--man=no"])
        .args(&names)
        .current_dir(&dir)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Strict about our files: any word about them (an unknown key, a
    // missing binary, a bad value) fails, even when the exit code is 0.
    let about_ours: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            names
                .iter()
                .any(|n| l.contains(n.trim_end_matches(".service").trim_end_matches(".socket")))
        })
        .collect();
    assert!(about_ours.is_empty(), "systemd-analyze verify: {stderr}");
    assert!(output.status.success(), "systemd-analyze verify: {stderr}");
}

/// The sockets of the `.socket` units that start `service`, as
/// `systemd-socket-activate` passes them: named by `FileDescriptorName=`,
/// or by the unit's name as systemd does without one.
fn sockets_of(units: &[Unit], service: &str) -> Vec<Listen> {
    let mut sockets = Vec::new();
    for unit in units.iter().filter(|u| u.name.ends_with(".socket")) {
        let starts = unit
            .value("Service")
            .map_or_else(|| unit.name.replace(".socket", ".service"), str::to_owned);
        if starts != service {
            continue;
        }
        let name = unit
            .value("FileDescriptorName")
            .unwrap_or(&unit.name)
            .to_owned();
        for (key, udp) in [("ListenStream", false), ("ListenDatagram", true)] {
            for port in unit.values(key) {
                let port: u16 = port.parse().expect("the examples listen on a port number");
                sockets.push(Listen {
                    udp,
                    port,
                    name: Some(name.clone()),
                });
            }
        }
    }
    // Descriptors come in the order systemd-socket-activate gives them.
    sockets.sort_by_key(|s| s.udp);
    sockets
}

/// `ExecStart=` of `service`, without the path of netlab.
fn exec_args(units: &[Unit], service: &str) -> Vec<String> {
    let unit = units
        .iter()
        .find(|u| u.name == service)
        .expect("the service unit");
    let exec = unit.value("ExecStart").expect("ExecStart=");
    let rest = exec
        .strip_prefix(INSTALLED)
        .expect("ExecStart= runs /usr/local/bin/netlab");
    rest.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn the_echo_units_serve_tcp_and_udp_from_one_process() {
    let Some(tool) = activate_tool() else { return };
    let units = units();
    let shape = sockets_of(&units, "netlab-echo.service");
    assert_eq!(shape.len(), 2, "ListenStream= and ListenDatagram=");
    let args = exec_args(&units, "netlab-echo.service");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_proc, sockets) = activated(&tool, &shape, &args, &[]);
    tcp_echo(sockets[0].port);
    assert_eq!(udp_request(sockets[1].port, b"unit\n"), b"unit\n");
}

#[test]
fn the_serve_all_units_serve_every_named_socket() {
    let Some(tool) = activate_tool() else { return };
    let units = units();
    let shape = sockets_of(&units, "netlab-all.service");
    assert_eq!(shape.len(), 10, "five services, TCP and UDP: {shape:?}");
    let args = exec_args(&units, "netlab-all.service");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (proc, sockets) = activated(&tool, &shape, &args, &[]);
    let echo = sockets
        .iter()
        .find(|s| s.name.as_deref() == Some("echo") && !s.udp)
        .unwrap();
    tcp_echo(echo.port);
    let echo_udp = sockets
        .iter()
        .find(|s| s.name.as_deref() == Some("echo") && s.udp)
        .unwrap();
    assert_eq!(udp_request(echo_udp.port, b"all\n"), b"all\n");
    for s in &sockets {
        let name = format!(
            "{}/{}",
            s.name.as_deref().unwrap(),
            if s.udp { "udp" } else { "tcp" }
        );
        proc.stdout.wait_line(&format!(
            "{name}: Activated server socket on port {}",
            s.port
        ));
    }
}

#[test]
fn the_accept_units_run_inetd_mode() {
    let units = units();
    let socket = units
        .iter()
        .find(|u| u.name == "netlab-echo-accept.socket")
        .unwrap();
    assert_eq!(socket.value("Accept"), Some("yes"));
    let args = exec_args(&units, "netlab-echo-accept@.service");
    assert_eq!(args, ["serve", "echo", "--inetd"]);
    let service = units
        .iter()
        .find(|u| u.name == "netlab-echo-accept@.service")
        .unwrap();
    // inetd mode reads the connection on stdin and writes it on stdout.
    assert_eq!(service.value("StandardInput"), Some("socket"));
    let Some(tool) = activate_tool() else { return };
    let help = netlab_cmd()
        .args(["serve", "echo", "--help"])
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&help.stdout).contains("--inetd") {
        eprintln!("SKIPPED: netlab serve echo has no --inetd yet");
        return;
    }
    let port = free_port("127.0.0.1");
    let mut cmd = Command::new(&tool);
    cmd.args(["--inetd", "--accept", &format!("--listen=127.0.0.1:{port}")])
        .arg(env!("CARGO_BIN_EXE_netlab"))
        .args(&args)
        .args(["--log", "none"]);
    let proc = Proc::spawn(cmd);
    proc.stderr.wait_for("Listening on", |l| {
        l.iter().any(|l| l.starts_with("Listening on"))
    });
    tcp_echo(port);
}
