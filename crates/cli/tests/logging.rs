//! Where `netlab serve` logs, and how much: stdout (the lecture's lines),
//! a file, syslog, nowhere; text or JSON; -q, -v and RUST_LOG.

mod util;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use util::{DEADLINE, Proc, assert_error, connect_when_ready, netlab, output_within_deadline};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netlab-logging-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One echo exchange with the server on `port`.
fn echo_once(port: u16) {
    let mut s = connect_when_ready(SocketAddr::from(([127, 0, 0, 1], port)));
    s.write_all(b"hi\n").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"hi\n");
}

/// Polls `path` until `pred` holds for its text, up to the deadline.
fn wait_file(path: &Path, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if pred(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{}: {text:?}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `netlab serve echo --host 127.0.0.1 --port 0 ARGS`; the port
/// comes from the log file `log` (the log is not on stdout).
fn serve_logging_to(log: &Path, args: &[&str]) -> (Proc, u16) {
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--host", "127.0.0.1", "--port", "0"])
        .args(args);
    let server = Proc::spawn(cmd);
    let text = wait_file(log, |t| t.contains("Listening"));
    let port = text
        .lines()
        .find_map(|l| l.split("Bound server socket to port ").nth(1))
        .and_then(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no port in {text:?}"));
    (server, port)
}

#[test]
fn a_log_file_gets_every_line_with_its_time_and_stdout_nothing() {
    let dir = temp_dir("file");
    let log = dir.join("netlab.log");
    let (mut server, port) = serve_logging_to(&log, &["--log-file", log.to_str().unwrap()]);
    echo_once(port);
    wait_file(&log, |t| t.contains("Wrote to client: hi\\n"));
    server.signal("TERM");
    assert!(server.wait_exit().success());
    let text = std::fs::read_to_string(&log).unwrap();
    for line in text.lines() {
        // 2026-12-01T06:22:43.282+00:00 Listening
        let (time, _) = line.split_once(' ').unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok(),
            "{line:?}"
        );
    }
    assert!(text.ends_with(" Stopped\n"), "{text}");
    assert_eq!(server.stdout.all(), Vec::<String>::new());
    assert_eq!(server.stderr.all(), Vec::<String>::new());
}

#[test]
fn json_lines_carry_time_level_service_event_peer_and_bytes() {
    let dir = temp_dir("json");
    let log = dir.join("netlab.json");
    let (mut server, port) = serve_logging_to(
        &log,
        &["--log-file", log.to_str().unwrap(), "--log-format", "json"],
    );
    echo_once(port);
    let text = wait_file(&log, |t| t.contains("\"event\":\"wrote\""));
    server.signal("TERM");
    assert!(server.wait_exit().success());
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    for record in &records {
        assert!(record["time"].as_str().is_some(), "{record}");
        assert_eq!(record["level"], "info", "{record}");
        assert_eq!(record["service"], "echo", "{record}");
    }
    let wrote = records.iter().find(|r| r["event"] == "wrote").unwrap();
    assert_eq!(wrote["bytes"], 3);
    assert_eq!(wrote["message"], "Wrote to client: hi\\n");
    let peer: SocketAddr = wrote["peer"].as_str().unwrap().parse().unwrap();
    assert_eq!(peer.ip().to_string(), "127.0.0.1");
    let accepted = records.iter().find(|r| r["event"] == "accepted").unwrap();
    assert_eq!(accepted["peer"], wrote["peer"]);
}

#[test]
fn syslog_gets_one_message_per_line_with_its_severity() {
    let dir = temp_dir("syslog");
    let path = dir.join("log.sock");
    let daemon = UnixDatagram::bind(&path).unwrap();
    daemon.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--host", "127.0.0.1", "--port", "0"])
        .args(["--log", "syslog", "--syslog-socket"])
        .arg(&path);
    let server = Proc::spawn(cmd);
    let mut messages = Vec::new();
    let mut buf = [0u8; 4096];
    while !messages.iter().any(|m: &String| m.ends_with("Listening")) {
        let n = daemon.recv(&mut buf).expect("a syslog message");
        messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let pid = server.pid();
    // <30>: facility daemon (3), severity info (6); then the time, and
    // `netlab[PID]: ` as syslog(3) writes it.
    for (message, text) in messages.iter().zip([
        "Opened server socket",
        "Bound server socket to port ",
        "Listening",
    ]) {
        assert!(message.starts_with("<30>"), "{message:?}");
        assert!(
            message.contains(&format!(" netlab[{pid}]: {text}")),
            "{message:?}"
        );
    }
    assert_eq!(server.stdout.all(), Vec::<String>::new());
}

#[test]
fn an_unreachable_log_is_one_line_at_start() {
    let dir = temp_dir("unreachable");
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "echo",
        "--port",
        "0",
        "--log",
        "syslog",
        "--syslog-socket",
    ])
    .arg(dir.join("no-such.sock"));
    let out = output_within_deadline(cmd);
    assert_error(&out, 69);
    assert!(String::from_utf8_lossy(&out.stderr).contains("reaching syslog at"));
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--port", "0", "--log-file"])
        .arg(dir.join("missing-dir/netlab.log"));
    let out = output_within_deadline(cmd);
    assert_error(&out, 73);
    assert!(String::from_utf8_lossy(&out.stderr).contains("opening the log file"));
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "echo",
        "--port",
        "0",
        "--log",
        "none",
        "--log-file",
        "x",
    ]);
    assert_error(&output_within_deadline(cmd), 64);
}

/// `--log none` writes nothing anywhere; `-q` keeps warnings, errors and
/// the port; `-v` adds the engine's own account; RUST_LOG overrides both.
#[test]
fn how_much_is_said() {
    // -q: the port (nothing else tells it), no lecture lines.
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--host", "127.0.0.1", "--port", "0", "-q"]);
    let server = util::spawn_server(cmd);
    echo_once(server.port);
    let lines = server.proc.stdout.all();
    assert_eq!(
        lines,
        [format!("Bound server socket to port {}", server.port)]
    );

    // -v: the engine's account of each event as well.
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--host", "127.0.0.1", "--port", "0", "-v"]);
    let server = util::spawn_server(cmd);
    echo_once(server.port);
    let lines = server.proc.stdout.wait_for("the engine's close line", |l| {
        l.iter()
            .any(|x| x.contains("closed") && x.contains("connection"))
    });
    assert!(
        lines.contains(&"Wrote to client: hi\\n".to_owned()),
        "{lines:#?}"
    );

    // RUST_LOG=warn: as quiet as -q, whatever the flags say.
    let mut cmd = netlab();
    cmd.env("RUST_LOG", "warn")
        .args(["serve", "echo", "--host", "127.0.0.1", "--port", "0", "-v"]);
    let server = util::spawn_server(cmd);
    echo_once(server.port);
    assert_eq!(server.proc.stdout.all().len(), 1);

    // --log none: not even the port.
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "echo",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log",
        "none",
    ]);
    let mut server = Proc::spawn(cmd);
    server.signal("TERM");
    assert!(server.wait_exit().success());
    assert_eq!(server.stdout.all(), Vec::<String>::new());
    assert_eq!(server.stderr.all(), Vec::<String>::new());

    // -q and -v contradict each other.
    let mut cmd = netlab();
    cmd.args(["serve", "echo", "--port", "0", "-q", "-v"]);
    assert_error(&output_within_deadline(cmd), 64);
}
