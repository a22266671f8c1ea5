//! Interop in both directions with the lecture's Python programs
//! (`tests/peers/*.py`), over real loopback sockets: the lecture clients
//! against `netlab serve`, and `netlab connect` against the lecture
//! servers. The lecture programs are IPv4 and TCP only.

mod util;

use std::io::Write;

use util::*;

// ---- lecture clients against netlab servers ----

#[test]
fn lecture_daytime_client_prints_the_netlab_utc_line() {
    let server = serve(&["daytime", "--host", "127.0.0.1", "--utc"]);
    let out = lecture_client("daytimeclient.py", "127.0.0.1", server.port, b"");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_daytime_utc_now(&String::from_utf8(out.stdout).unwrap());
    let lines = server
        .proc
        .stdout
        .wait_for("the connection lines", |l| l.len() >= 7);
    assert_eq!(lines[3], "Accepted connection");
    assert_eq!(lines[4], "Opened socket");
    assert_eq!(
        lines[5],
        format!("Server IP addr and port: ('127.0.0.1', {})", server.port)
    );
    assert!(lines[6].starts_with("Client IP addr and port: ('127.0.0.1', "));
}

/// Local time follows `TZ` as Python's `localtime()` does: the lecture
/// server and netlab, both in a zone 5 hours west of UTC, send the same
/// line (to the second, give or take the time between the two requests).
#[test]
fn netlab_daytime_local_time_follows_tz_like_the_lecture_server() {
    let tz = [("TZ", "EST5")];
    let ours = serve_env(&["daytime", "--host", "127.0.0.1"], &tz);
    let theirs = lecture_server("daytimeserver.py", &tz);
    let a = lecture_client("daytimeclient.py", "127.0.0.1", ours.port, b"");
    let b = lecture_client("daytimeclient.py", "127.0.0.1", theirs.port, b"");
    let five_hours_west = chrono::Duration::hours(-5);
    assert_daytime_near(&String::from_utf8(a.stdout).unwrap(), five_hours_west);
    assert_daytime_near(&String::from_utf8(b.stdout).unwrap(), five_hours_west);
}

#[test]
fn lecture_echo_client_against_netlab_stream_mode() {
    let server = serve(&["echo", "--host", "127.0.0.1"]);
    let line = "Hello, COS 333. \u{e9}\n";
    let out = lecture_client("echoclient.py", "127.0.0.1", server.port, line.as_bytes());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), line);
}

#[test]
fn lecture_echo_client_against_netlab_line_mode_logs_read_and_wrote() {
    let server = serve(&["echo", "--host", "127.0.0.1", "--mode", "line"]);
    let line = "Hello, COS 333. \u{e9}\n";
    let out = lecture_client("echoclient.py", "127.0.0.1", server.port, line.as_bytes());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), line);
    let lines = server.proc.stdout.wait_for("Wrote to client", |l| {
        l.iter().any(|x| x.starts_with("Wrote to client: "))
    });
    // The newline is shown escaped, as every unprintable byte is.
    let read = "Read from client: Hello, COS 333. \u{e9}\\n";
    let wrote = "Wrote to client: Hello, COS 333. \u{e9}\\n";
    let at = |want: &str| lines.iter().position(|x| x == want);
    let (r, w) = (at(read), at(wrote));
    assert!(r.is_some() && w.is_some() && r < w, "{lines:#?}");
}

/// A line longer than line mode accepts is dropped without a reply. The
/// lecture client then says the server crashed, or, when the server's
/// close met bytes it had not read (Linux then resets), prints the reset;
/// either way it gets no echo and does not hang.
#[test]
fn lecture_echo_client_gets_no_reply_for_a_too_long_line() {
    let server = serve(&["echo", "--host", "127.0.0.1", "--mode", "line"]);
    let long = format!("{}\n", "x".repeat(echo::DEFAULT_MAX_LINE + 10));
    let out = lecture_client("echoclient.py", "127.0.0.1", server.port, long.as_bytes());
    assert_eq!(out.stdout, b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr == "The echo server crashed\n" || stderr.contains("Connection reset"),
        "{stderr:?}"
    );
}

// ---- netlab clients against lecture servers ----

#[test]
fn netlab_daytime_client_prints_the_lecture_server_line() {
    let server = lecture_server("daytimeserver.py", &[("TZ", "UTC")]);
    let out = netlab_cmd()
        .args(["connect", "daytime", "127.0.0.1", &server.port.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.stdout.len(), 25, "{:?}", out.stdout);
    assert_daytime_utc_now(&String::from_utf8(out.stdout).unwrap());
    let lines = server
        .proc
        .stdout
        .wait_for("the connection lines", |l| l.len() >= 7);
    assert_eq!(
        &lines[..5],
        [
            "Opened server socket",
            "Bound server socket to port",
            "Listening",
            "Accepted connection",
            "Opened socket"
        ]
    );
}

#[test]
fn netlab_echo_client_against_the_lecture_echo_server() {
    let server = lecture_server("echoserver.py", &[]);
    let line = "Hello, COS 333. \u{e9}\n";
    let out = netlab_cmd()
        .args(["connect", "echo", "127.0.0.1", &server.port.to_string()])
        .write_stdin(line)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), line);
    let lines = server.proc.stdout.wait_for("Wrote to client", |l| {
        l.iter().any(|x| x.starts_with("Wrote to client: "))
    });
    assert!(lines.contains(&"Read from client: Hello, COS 333. \u{e9}".to_owned()));
    assert!(lines.contains(&"Wrote to client: Hello, COS 333. \u{e9}".to_owned()));
}

/// The lecture server echoes one line and closes; netlab's client, given
/// several lines at once, prints exactly the first and exits 0.
#[test]
fn netlab_echo_client_sending_several_lines_gets_the_first_from_the_lecture_server() {
    let server = lecture_server("echoserver.py", &[]);
    let out = netlab_cmd()
        .args(["connect", "echo", "127.0.0.1", &server.port.to_string()])
        .write_stdin("one\ntwo\nthree\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "one\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Typed interactively: the lecture server answers the first line and
/// closes while the user has not finished typing; netlab's client ends at
/// once (it does not wait for more input), and later input is not needed.
#[test]
fn netlab_echo_client_ends_when_the_lecture_server_closes_with_stdin_open() {
    let server = lecture_server("echoserver.py", &[]);
    let mut cmd = netlab();
    cmd.args(["connect", "echo", "127.0.0.1", &server.port.to_string()]);
    let mut client = Proc::spawn(cmd);
    let mut stdin = client.stdin.take().unwrap();
    stdin.write_all(b"first line\n").unwrap();
    stdin.flush().unwrap();
    // stdin stays open: the client must end because the server closed.
    let status = client.wait_exit();
    assert!(status.success(), "{status:?} {:?}", client.stderr.all());
    assert_eq!(client.stdout.all(), ["first line"]);
    assert_eq!(client.stderr.all(), Vec::<String>::new());
    let lines = server.proc.stdout.wait_for("Wrote to client", |l| {
        l.iter().any(|x| x.starts_with("Wrote to client: "))
    });
    assert!(lines.contains(&"Read from client: first line".to_owned()));
    drop(stdin);
}

/// A client that connects and sends nothing but end-of-file "crashed", in
/// the lecture server's words: netlab's client with empty input sends
/// nothing, half-closes, and gets nothing back.
#[test]
fn netlab_echo_client_with_no_input_is_a_crashed_client_to_the_lecture_server() {
    let server = lecture_server("echoserver.py", &[]);
    let out = netlab_cmd()
        .args(["connect", "echo", "127.0.0.1", &server.port.to_string()])
        .write_stdin("")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"");
    server.proc.stdout.wait_for("The echo client crashed", |l| {
        l.iter().any(|x| x == "The echo client crashed")
    });
}
