//! `netlab serve PROTOCOL --inetd`: the connection (or, with `--udp`, the
//! datagram socket) on fds 0, 1 and 2, as inetd passes it, and nothing on
//! those fds but the protocol's bytes, whatever goes wrong.
//!
//! The first tests play inetd themselves: a loopback socket of the test's
//! own becomes the child's fds 0, 1 and 2. The last ones hand
//! docs/operators.md's inetd.conf lines (and a few more) to the real
//! openbsd-inetd, in a network namespace of their own
//! (`tests/support/inetd.rs`; they need root, and skip otherwise).

mod util;

#[path = "../../../tests/support/inetd.rs"]
mod inetd;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use util::*;

/// A path of this test's own in the temporary directory.
fn temp_path(what: &str) -> PathBuf {
    let test = current_test().replace("::", "-");
    let path = std::env::temp_dir().join(format!(
        "netlab-inetd-mode-{}-{test}-{what}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// A netlab started as inetd starts it, killed and reaped when dropped.
struct Started(Child);

impl Started {
    /// Waits for the exit, up to the deadline.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "netlab did not exit in time");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `netlab ARGS` with `socket` as its fds 0, 1 and 2, as inetd runs a
/// server.
fn start_on(socket: impl Into<OwnedFd>, args: &[&str], env: &[(&str, &str)]) -> Started {
    let fd: OwnedFd = socket.into();
    let mut cmd = netlab();
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::from(fd.try_clone().unwrap()))
        .stdout(Stdio::from(fd.try_clone().unwrap()))
        .stderr(Stdio::from(fd));
    Started(cmd.spawn().unwrap())
}

/// A connected pair of loopback TCP sockets: the client's, the server's.
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    (client, server)
}

/// Sends `data`, half-closes, and reads until the server closes.
fn exchange(mut client: TcpStream, data: &[u8]) -> Vec<u8> {
    let mut writer = client.try_clone().unwrap();
    let data = data.to_vec();
    // From a thread: 64 KiB may fill both ways' buffers before the echo
    // is read.
    let sent = std::thread::spawn(move || {
        writer.write_all(&data)?;
        writer.shutdown(Shutdown::Write)
    });
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    sent.join().unwrap().unwrap();
    got
}

/// The log file's text, once `pred` holds for it (up to the deadline):
/// the writer thread may still be writing when the process has exited
/// its connection.
fn wait_log(path: &Path, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if pred(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "no {what} in the log: {text:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---- nothing on fds 1 and 2 ----

/// A usage error: exit 64, and not a byte on stdout or stderr (the
/// client's connection), the line in the log instead.
#[test]
fn a_usage_error_goes_to_the_log_file_not_the_client() {
    let log = temp_path("log");
    let log_arg = log.to_str().unwrap();
    for args in [
        vec![
            "serve",
            "echo",
            "--inetd",
            "--bogus-flag",
            "--log-file",
            log_arg,
        ],
        vec![
            "serve",
            "echo",
            "--inetd",
            "--port",
            "7",
            "--log-file",
            log_arg,
        ],
        vec!["serve", "echo", "--inetd", "--help", "--log-file", log_arg],
        vec![
            "serve",
            "echo",
            "--inetd",
            "--interface",
            "lo",
            "--log-file",
            log_arg,
        ],
    ] {
        let out = netlab_cmd().args(&args).write_stdin("").output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert_eq!(out.stdout, b"", "{args:?}");
        assert_eq!(out.stderr, b"", "{args:?}");
    }
    let text = wait_log(&log, "four usage lines", |t| t.lines().count() == 4);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("netlab: unexpected argument '--bogus-flag' found"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("'--inetd' cannot be used with '--port"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("--help and --version write to stdout"),
        "{lines:?}"
    );
    assert!(
        lines[3].contains("'--inetd' cannot be used with '--interface"),
        "{lines:?}"
    );
    let _ = std::fs::remove_file(&log);
}

/// The receiving end of a syslog socket of the test's own.
fn syslog_socket() -> (UnixDatagram, PathBuf) {
    let path = temp_path("syslog");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    (socket, path)
}

fn next_message(syslog: &UnixDatagram) -> String {
    let mut buf = [0; 2048];
    let n = syslog.recv(&mut buf).expect("a syslog message in time");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Reads syslog messages until one contains `what` (each `recv` bounded
/// by the deadline, and so is their count).
fn wait_syslog(syslog: &UnixDatagram, what: &str) {
    let mut said = Vec::new();
    while !said.iter().any(|m: &String| m.contains(what)) {
        assert!(said.len() < 1000, "no {what:?} in syslog: {said:#?}");
        said.push(next_message(syslog));
    }
}

/// Syslog is the default log with --inetd: the usage line goes there,
/// and so does the refusal of `--log stdout` (a log that cannot start).
#[test]
fn usage_errors_go_to_syslog_by_default() {
    let (syslog, path) = syslog_socket();
    let socket = path.to_str().unwrap();
    for (args, said) in [
        (
            vec![
                "serve",
                "echo",
                "--inetd",
                "--bogus-flag",
                "--syslog-socket",
                socket,
            ],
            "netlab: unexpected argument '--bogus-flag' found",
        ),
        (
            vec![
                "serve",
                "echo",
                "--inetd",
                "--log",
                "stdout",
                "--syslog-socket",
                socket,
            ],
            "netlab: --log stdout with --inetd: stdout is the client's connection",
        ),
    ] {
        let out = netlab_cmd().args(&args).write_stdin("").output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert_eq!((out.stdout.len(), out.stderr.len()), (0, 0), "{args:?}");
        let message = next_message(&syslog);
        // RFC 3164 as syslog(3) sends it: facility daemon (3), error (3).
        assert!(message.starts_with("<27>"), "{message:?}");
        assert!(message.contains(said), "{message:?}");
    }
    let _ = std::fs::remove_file(&path);
}

/// A panic is logged, never printed on stderr (the client's socket).
#[test]
fn a_panic_is_logged_and_the_client_gets_nothing() {
    let log = temp_path("log");
    let (client, server) = tcp_pair();
    let mut netlab = start_on(
        server,
        &[
            "serve",
            "echo",
            "--inetd",
            "--log-file",
            log.to_str().unwrap(),
        ],
        &[("NETLAB_TEST_PANIC", "1")],
    );
    // Nothing sent: netlab would not read it, and its close would reset
    // the connection.
    let got = exchange(client, b"");
    assert_eq!(
        got,
        b"",
        "the client got {:?}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(netlab.wait().code(), Some(70));
    let text = wait_log(&log, "the panic", |t| t.contains("panicked"));
    assert!(text.contains("NETLAB_TEST_PANIC is set"), "{text:?}");
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    let _ = std::fs::remove_file(&log);
}

/// `--udp` on a stream socket (an inetd.conf entry that says `stream`):
/// refused in the log, nothing to the client, exit 64.
#[test]
fn udp_mode_refuses_a_stream_socket() {
    let log = temp_path("log");
    let (client, server) = tcp_pair();
    let mut netlab = start_on(
        server,
        &[
            "serve",
            "echo",
            "--inetd",
            "--udp",
            "--log-file",
            log.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(netlab.wait().code(), Some(64));
    assert_eq!(exchange(client, b""), b"");
    let text = wait_log(&log, "the refusal", |t| t.ends_with('\n'));
    assert!(text.contains("fd 0 is not a datagram socket"), "{text:?}");
}

// ---- serving ----

/// 64 KiB of every byte value, echoed exactly after the half-close; the
/// lecture's lines in the log, none on the connection.
#[test]
fn tcp_echo_serves_the_connection_on_fds_0_and_1() {
    let log = temp_path("log");
    let (client, server) = tcp_pair();
    let peer = client.local_addr().unwrap();
    let mut netlab = start_on(
        server,
        &[
            "serve",
            "echo",
            "--inetd",
            "--log-file",
            log.to_str().unwrap(),
        ],
        &[],
    );
    let data = random_bytes(64 << 10, 0x1E7D);
    assert_same_bytes(&exchange(client, &data), &data);
    assert!(netlab.wait().success());
    // The lecture's words for the client: ('127.0.0.1', PORT).
    let client = format!("Client IP addr and port: ('127.0.0.1', {})", peer.port());
    wait_log(&log, "the client's address", |t| t.contains(&client));
}

/// A datagram on the socket inetd hands over is answered, and netlab
/// exits 0 once none has come for --exit-idle.
#[test]
fn udp_echo_answers_then_exits_when_idle() {
    let log = temp_path("log");
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.connect(server.local_addr().unwrap()).unwrap();
    // Queued before netlab starts, as the datagram that woke inetd is.
    client.send(b"first").unwrap();
    let mut netlab = start_on(
        server,
        &[
            "serve",
            "echo",
            "--inetd",
            "--udp",
            "--exit-idle",
            "0.3",
            "--log-file",
            log.to_str().unwrap(),
        ],
        &[],
    );
    let mut buf = [0; 64];
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"first");
    client.send(b"second").unwrap();
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"second");
    assert!(netlab.wait().success());
    wait_log(&log, "the stop", |t| t.contains("Stopped"));
}

// ---- under the real openbsd-inetd ----

/// The lines between the marker `<!-- {marker}` and the end of the
/// fenced block after it in docs/operators.md, comments left out.
fn doc_example(marker: &str) -> Vec<String> {
    let doc = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/operators.md");
    let text = std::fs::read_to_string(doc).unwrap();
    let start = text
        .find(&format!("<!-- {marker}"))
        .unwrap_or_else(|| panic!("no {marker} marker in {doc}"));
    let block = text[start..]
        .split("```")
        .nth(1)
        .expect("a fenced block after the marker");
    block
        .lines()
        .skip(1) // the fence's language
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Runs `netlab ARGS` inside inetd's namespace with `stdin`.
fn netlab_in(inetd: &inetd::Inetd, args: &[&str], stdin: &[u8]) -> std::process::Output {
    let out = assert_cmd::Command::from_std(inetd.command(env!("CARGO_BIN_EXE_netlab")))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .timeout(DEADLINE)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{args:?}: {:?}, stderr {:?}; inetd said {:#?}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        inetd.log()
    );
    out
}

/// docs/operators.md's inetd.conf lines, with netlab's real path and a
/// syslog socket of the test's own, run by openbsd-inetd as written:
/// echo TCP gives 64 KiB back exactly, daytime UDP answers a local client
/// (inetd's 127/8 rule is its built-ins' alone), and each logs to syslog.
#[test]
fn the_documented_inetd_conf_lines_work_under_openbsd_inetd() {
    let lines = doc_example("inetd.conf example");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (syslog, path) = syslog_socket();
    // The entries run netlab as nobody, who must be able to log.
    allow_everyone(&path);
    let netlab = env!("CARGO_BIN_EXE_netlab");
    let mut config: Vec<String> = lines
        .iter()
        .map(|l| {
            assert!(l.contains("/usr/local/bin/netlab"), "{l}");
            l.replace("/usr/local/bin/netlab", netlab).replace(
                "--inetd",
                &format!("--inetd --syslog-socket {}", path.display()),
            )
        })
        .collect();
    // Stream entries last: inetd is ready when the last one accepts.
    config.sort_by_key(|l| l.contains(" stream "));
    let Some(inetd) = inetd::start_with(&(config.join("\n") + "\n"), ("127.0.0.1", inetd::ECHO))
    else {
        return;
    };
    let data = random_bytes(64 << 10, 0xEC40);
    let out = netlab_in(&inetd, &["connect", "echo", "127.0.0.1", "7"], &data);
    assert_same_bytes(&out.stdout, &data);
    let out = netlab_in(
        &inetd,
        &["connect", "daytime", "--udp", "127.0.0.1", "13"],
        b"",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert_daytime_utc_now(&text);
    // The readiness probe's connection and the echo client's, each logged.
    wait_syslog(&syslog, "Read from client");
    let _ = std::fs::remove_file(&path);
}

/// Lets any user send to the socket at `path`.
fn allow_everyone(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).unwrap();
}

/// On a high port of 127.0.0.1, with a log file: daytime TCP is one line,
/// UDP echo comes back, the UDP netlab exits after --exit-idle and inetd
/// starts another one for the next datagram.
#[test]
fn inetd_runs_netlab_for_tcp_daytime_and_udp_echo() {
    let log = temp_path("log");
    let daytime_log = temp_path("daytime-log");
    let netlab = env!("CARGO_BIN_EXE_netlab");
    let config = format!(
        "127.0.0.1:7007 dgram udp wait root {netlab} netlab serve echo --inetd --udp \
         --exit-idle 0.3 --log-file {}\n\
         127.0.0.1:1313 stream tcp nowait root {netlab} netlab serve daytime --inetd \
         --log-file {}\n",
        log.display(),
        daytime_log.display()
    );
    let Some(inetd) = inetd::start_with(&config, ("127.0.0.1", 1313)) else {
        return;
    };
    let out = netlab_in(&inetd, &["connect", "daytime", "127.0.0.1", "1313"], b"");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert_daytime_utc_now(&text);
    for round in 1..=2 {
        let out = netlab_in(
            &inetd,
            &["connect", "echo", "--udp", "127.0.0.1", "7007"],
            b"ping\n",
        );
        assert_eq!(out.stdout, b"ping\n");
        // Exited when idle: its engine's last line, once per process.
        wait_log(&log, "the UDP server's stop", |t| {
            t.matches("Stopped").count() == round
        });
    }
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&daytime_log);
}

/// docs/operators.md's xinetd.d entries, with netlab's real path and a
/// syslog socket of the test's own, run by xinetd as written: echo TCP
/// gives 64 KiB back exactly, daytime UDP (`wait = yes`) one line.
#[test]
fn the_documented_xinetd_entries_work_under_xinetd() {
    let (syslog, path) = syslog_socket();
    allow_everyone(&path);
    let entries = doc_example("xinetd.d example").join("\n");
    assert_eq!(entries.matches("server_args").count(), 2, "{entries}");
    assert!(entries.contains("/usr/local/bin/netlab"), "{entries}");
    let config = entries
        .replace("/usr/local/bin/netlab", env!("CARGO_BIN_EXE_netlab"))
        .replace(
            "--inetd",
            &format!("--inetd --syslog-socket {}", path.display()),
        );
    // xinetd binds every entry before it serves any.
    let Some(xinetd) = inetd::start_xinetd(&(config + "\n"), ("127.0.0.1", inetd::ECHO)) else {
        return;
    };
    let data = random_bytes(64 << 10, 0x71E7);
    let out = netlab_in(&xinetd, &["connect", "echo", "127.0.0.1", "7"], &data);
    assert_same_bytes(&out.stdout, &data);
    // xinetd gives its servers no TZ: the line is in the machine's zone.
    let out = netlab_in(
        &xinetd,
        &["connect", "daytime", "--udp", "127.0.0.1", "13"],
        b"",
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "{text:?}"
    );
    wait_syslog(&syslog, "Read from client");
    let _ = std::fs::remove_file(&path);
}
