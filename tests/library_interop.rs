//! The netlab libraries against the lecture's Python programs
//! (`tests/peers/`), in both directions, over loopback TCP: the lecture
//! clients against in-process `netcore` servers running `daytime::Daytime`
//! and `echo::Echo`, and `daytime::query` / `echo::session` against the
//! lecture servers.

mod util;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use netlab::daytime::{self, Daytime, DaytimeFormat, FixedClock};
use netlab::echo::{self, Echo, Mode};
use netlab::netcore::{Builder, Client, Event, Running};
use util::*;

fn loopback() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn client() -> Client {
    Client::new().timeout(Some(Duration::from_secs(5)))
}

/// Stops the in-process server at the end of a test, panic or not.
struct Stop(Option<Running>);

impl Stop {
    fn port(&self) -> u16 {
        self.0.as_ref().unwrap().local_addr().port()
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(running) = self.0.take() {
            running.shutdown(Duration::from_millis(200));
        }
    }
}

fn fixed_daytime(format: DaytimeFormat) -> Stop {
    // 1 February: the day of the month is space-padded, as asctime() does.
    let clock = FixedClock(Utc.with_ymd_and_hms(2026, 2, 1, 9, 5, 3).unwrap().into());
    let server = Daytime::new(format.utc(true)).clock(clock);
    Stop(Some(Builder::new(loopback()).serve(server).unwrap()))
}

// ---- lecture clients against netlab servers ----

#[test]
fn lecture_daytime_client_prints_the_exact_fixed_clock_line() {
    let server = fixed_daytime(DaytimeFormat::lecture());
    let out = lecture_client("daytimeclient.py", "127.0.0.1", server.port(), b"");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"Sun Feb  1 09:05:03 2026\n");
    assert_eq!(out.stderr, b"");
}

/// inetd's CRLF line reads as one line to the lecture client (text mode
/// turns `\r\n` into `\n`).
#[test]
fn lecture_daytime_client_reads_the_inetd_crlf_line() {
    let server = fixed_daytime(DaytimeFormat::inetd());
    let out = lecture_client("daytimeclient.py", "127.0.0.1", server.port(), b"");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"Sun Feb  1 09:05:03 2026\n");
}

/// Every Read and Wrote event's bytes, in order, tagged `read`/`wrote`.
type DataLog = Arc<Mutex<Vec<(&'static str, Vec<u8>)>>>;

fn recording_echo(mode: Mode) -> (Stop, DataLog) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let observer = netlab::netcore::WithData(move |e: &Event<'_>| match e {
        Event::Read { data, .. } => sink.lock().unwrap().push(("read", data.to_vec())),
        Event::Wrote { data, .. } => sink.lock().unwrap().push(("wrote", data.to_vec())),
        _ => {}
    });
    let running = Builder::new(loopback())
        .observer(observer)
        .serve(Echo::new(mode))
        .unwrap();
    (Stop(Some(running)), log)
}

fn lecture_echo_client_against(mode: Mode) {
    let (server, log) = recording_echo(mode);
    let line = "Hello, COS 333. \u{e9}\n";
    let out = lecture_client("echoclient.py", "127.0.0.1", server.port(), line.as_bytes());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), line);
    assert_eq!(out.stderr, b"");
    // The events may trail the reply the client already printed: wait for
    // them, up to the deadline.
    let bytes = |kind: &str| -> Vec<u8> {
        let log = log.lock().unwrap();
        log.iter()
            .filter(|(k, _)| *k == kind)
            .flat_map(|(_, d)| d.clone())
            .collect()
    };
    let deadline = std::time::Instant::now() + DEADLINE;
    while bytes("wrote").len() < line.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(bytes("read"), line.as_bytes());
    assert_eq!(bytes("wrote"), line.as_bytes());
}

#[test]
fn lecture_echo_client_against_echo_stream_mode() {
    lecture_echo_client_against(Mode::Stream);
}

#[test]
fn lecture_echo_client_against_echo_line_mode() {
    lecture_echo_client_against(Mode::Line);
}

// ---- netlab clients against lecture servers ----

#[test]
fn daytime_query_reads_the_lecture_server_line() {
    let server = lecture_server("daytimeserver.py", &[("TZ", "UTC")]);
    let mut out = Vec::new();
    let n = daytime::query(&client(), "127.0.0.1", server.port, &mut out).unwrap();
    assert_eq!(n, 25);
    assert_daytime_utc_now(std::str::from_utf8(&out).unwrap());
    server.proc.stdout.wait_line("Opened socket");
}

#[test]
fn echo_session_gets_its_line_back_from_the_lecture_server() {
    let server = lecture_server("echoserver.py", &[]);
    let line = "Hello, COS 333. \u{e9}\n".as_bytes();
    let mut out = Vec::new();
    let n = echo::session(&client(), "127.0.0.1", server.port, line, &mut out).unwrap();
    assert_eq!(out, line);
    assert_eq!(n, line.len() as u64);
    server
        .proc
        .stdout
        .wait_line("Wrote to client: Hello, COS 333. \u{e9}");
}

/// The lecture server answers the first line and closes: the session ends
/// with that line and no error.
#[test]
fn echo_session_with_several_lines_gets_only_the_first_from_the_lecture_server() {
    let server = lecture_server("echoserver.py", &[]);
    let mut out = Vec::new();
    echo::session(
        &client(),
        "127.0.0.1",
        server.port,
        &b"one\ntwo\nthree\n"[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(out, b"one\n");
}

/// Input without a final newline: the session half-closes, the lecture
/// server's readline() returns the partial line at end-of-file and echoes
/// it, and its two log lines run together (its prints add no newline).
#[test]
fn echo_session_half_close_lets_the_lecture_server_echo_a_partial_line() {
    let server = lecture_server("echoserver.py", &[]);
    let mut out = Vec::new();
    echo::session(
        &client(),
        "127.0.0.1",
        server.port,
        &b"no newline"[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(out, b"no newline");
    server
        .proc
        .stdout
        .wait_line("Read from client: no newlineWrote to client: no newline");
}

/// Bytes that are not UTF-8 make the lecture server fail the connection
/// (its decoder raises) and close without a reply; the session ends with
/// nothing, without an error.
#[test]
fn echo_session_with_invalid_utf8_gets_nothing_from_the_lecture_server() {
    let server = lecture_server("echoserver.py", &[]);
    let mut out = Vec::new();
    let n = echo::session(
        &client(),
        "127.0.0.1",
        server.port,
        &b"\xff\xfe not utf-8\n"[..],
        &mut out,
    )
    .unwrap();
    assert_eq!((n, out.as_slice()), (0, &b""[..]));
    server.proc.stderr.wait_for("the decode error", |l| {
        l.iter().any(|x| x.contains("can't decode byte 0xff"))
    });
}
