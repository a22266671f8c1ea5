//! Clients that understand the time: `netlab connect time` against `netlab
//! serve time` (TCP and UDP; the date, `--raw`, `--json`), and `netlab
//! connect daytime --parse` against `netlab serve daytime` in its formats
//! and against small stand-in servers (NIST's line with its leading blank
//! line; garbage, exit 65). All on loopback.

mod util;

use std::io::Write;
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use util::*;

fn run(args: &[&str]) -> std::process::Output {
    netlab_cmd().args(args).write_stdin("").output().unwrap()
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = netlab_cmd();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).write_stdin("").output().unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The RFC 868 value of the local clock now.
fn rfc868_now() -> u32 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    ((unix + 2_208_988_800) % (1 << 32)) as u32
}

/// The seconds of local-clock offset a report shows, checked small: every
/// server here reads this machine's clock.
#[track_caller]
fn assert_small_offset(text: &str) {
    let line = text
        .lines()
        .find(|l| l.starts_with("Offset: local clock is "))
        .unwrap_or_else(|| panic!("no offset line: {text}"));
    let seconds: f64 = line["Offset: local clock is ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seconds < 3.0, "{text}");
}

/// The `Server time: YYYY-MM-DD HH:MM:SS UTC` of a report, as Unix seconds.
#[track_caller]
fn server_time(text: &str) -> i64 {
    let line = text.lines().next().unwrap();
    let stamp = line
        .strip_prefix("Server time: ")
        .and_then(|l| l.get(..19))
        .unwrap_or_else(|| panic!("{text}"));
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S")
        .unwrap()
        .and_utc()
        .timestamp()
}

#[track_caller]
fn assert_now(unix: i64) {
    let now = chrono::Utc::now().timestamp();
    assert!((now - unix).abs() <= 3, "{unix} is not now ({now})");
}

#[test]
fn connect_time_over_tcp_shows_the_date_and_the_offset() {
    let server = serve(&["time", "--host", "127.0.0.1"]);
    let port = server.port.to_string();
    let out = run_env(&["connect", "time", "127.0.0.1", &port], &[("TZ", "EST5")]);
    assert_clean_exit(&out);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.starts_with("Server time: "), "{text}");
    assert!(text.contains(" UTC (RFC 868)\n"), "{text}");
    assert!(text.contains("\nLocal time:  "), "{text}");
    assert!(text.contains(" -05:00\n"), "local time in TZ=EST5: {text}");
    assert_now(server_time(&text));
    assert_small_offset(&text);

    let out = run(&["connect", "time", "127.0.0.1", &port, "--raw"]);
    assert_clean_exit(&out);
    let raw: u32 = stdout(&out).strip_suffix('\n').unwrap().parse().unwrap();
    assert!(raw.abs_diff(rfc868_now()) <= 3, "{raw} vs {}", rfc868_now());

    // The server's log: the lecture's lines, none with the binary reply.
    let log = server.proc.stdout.wait_for("Accepted", |l| {
        l.iter().filter(|x| *x == "Accepted connection").count() >= 2
    });
    assert!(log.iter().all(|l| l.is_ascii()), "{log:?}");
}

#[test]
fn connect_time_over_udp_as_raw_and_json() {
    let server = serve(&["time", "--host", "127.0.0.1", "--udp"]);
    let port = server.port.to_string();
    let out = run(&["connect", "time", "127.0.0.1", &port, "--udp", "--raw"]);
    assert_clean_exit(&out);
    let raw: u32 = stdout(&out).trim_end().parse().unwrap();
    assert!(raw.abs_diff(rfc868_now()) <= 3);

    let out = run(&["connect", "time", "127.0.0.1", &port, "--udp", "--json"]);
    assert_clean_exit(&out);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    let raw = json["raw"].as_u64().unwrap() as u32;
    assert!(raw.abs_diff(rfc868_now()) <= 3);
    let at = chrono::DateTime::parse_from_rfc3339(json["server_time"].as_str().unwrap()).unwrap();
    assert_eq!(at.timestamp() + 2_208_988_800, i64::from(raw));
    assert!(json["offset_seconds"].as_f64().unwrap().abs() < 3.0);
    assert!(json["rtt_seconds"].as_f64().unwrap() >= 0.0);
    assert!(json["uncertainty_seconds"].as_f64().unwrap() >= 0.5);
    assert_eq!(json["zone_known"], true);

    let out = run(&["connect", "time", "127.0.0.1", &port, "--raw", "--json"]);
    assert_error(&out, 64);
}

#[test]
fn connect_daytime_parse_reads_each_format_netlab_serves() {
    // The lecture's local time, with a zone of its own: read as local time.
    let tz = [("TZ", "EST5")];
    let lecture = serve_env(&["daytime", "--host", "127.0.0.1"], &tz);
    let port = lecture.port.to_string();
    let out = run_env(&["connect", "daytime", "127.0.0.1", &port, "--parse"], &tz);
    assert_clean_exit(&out);
    let text = stdout(&out);
    assert!(
        text.contains("(ctime, no zone: assumed local time"),
        "{text}"
    );
    assert!(text.contains(" -05:00\n"), "{text}");
    assert_now(server_time(&text));
    assert_small_offset(&text);

    let utc = serve(&["daytime", "--host", "127.0.0.1", "--utc", "--crlf"]);
    let port = utc.port.to_string();
    let out = run_env(&["connect", "daytime", "127.0.0.1", &port, "--parse"], &tz);
    assert_clean_exit(&out);
    let text = stdout(&out);
    assert!(text.contains("(ctime, no zone: assumed UTC"), "{text}");
    assert_now(server_time(&text));

    let rfc3339 = ["daytime", "--host", "127.0.0.1", "--utc"];
    let format = ["--format", "%Y-%m-%dT%H:%M:%SZ"];
    for udp in [false, true] {
        let mut args = rfc3339.to_vec();
        args.extend(format);
        if udp {
            args.push("--udp");
        }
        let server = serve(&args);
        let port = server.port.to_string();
        let mut connect = vec![
            "connect",
            "daytime",
            "127.0.0.1",
            &port,
            "--parse",
            "--json",
        ];
        if udp {
            connect.push("--udp");
        }
        let out = run(&connect);
        assert_clean_exit(&out);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["format"], "RFC 3339", "{json}");
        assert_eq!(json["zone"], "UTC");
        assert_eq!(json["zone_known"], true);
        assert!(json["raw_line"].as_str().unwrap().ends_with('Z'));
        let at = chrono::DateTime::parse_from_rfc3339(json["server_time"].as_str().unwrap());
        assert_now(at.unwrap().timestamp());
        assert!(json["offset_seconds"].as_f64().unwrap().abs() < 3.0);
    }
}

/// A TCP server on loopback that sends `reply` to one client and closes.
fn sends_once(reply: Vec<u8>) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.write_all(&reply);
        }
    });
    (port, thread)
}

#[test]
fn connect_daytime_parse_reads_nist_after_its_blank_line() {
    let now = chrono::Utc::now();
    let mjd =
        (now.date_naive() - chrono::NaiveDate::from_ymd_opt(1858, 11, 17).unwrap()).num_days();
    let line = format!(
        "{mjd} {} 00 0 0 50.0 UTC(NIST) *",
        now.format("%y-%m-%d %H:%M:%S")
    );
    let (port, thread) = sends_once(format!("\n{line}\n").into_bytes());
    let out = run(&[
        "connect",
        "daytime",
        "127.0.0.1",
        &port.to_string(),
        "--parse",
    ]);
    thread.join().unwrap();
    assert_clean_exit(&out);
    let text = stdout(&out);
    assert!(text.contains(" UTC (NIST, healthy)\n"), "{text}");
    assert_eq!(server_time(&text), now.timestamp());
    assert_small_offset(&text);

    let sick = format!(
        "{mjd} {} 00 0 2 50.0 UTC(NIST) *",
        now.format("%y-%m-%d %H:%M:%S")
    );
    let (port, thread) = sends_once(format!("\n{sick}\r\n").into_bytes());
    let out = run(&[
        "connect",
        "daytime",
        "127.0.0.1",
        &port.to_string(),
        "--parse",
        "--json",
    ]);
    thread.join().unwrap();
    assert_clean_exit(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["nist"]["health"], 2);
    assert_eq!(json["raw_line"], sick.as_str());
    assert!(
        json["warnings"][0].as_str().unwrap().contains("health 2"),
        "{json}"
    );
}

#[test]
fn connect_daytime_parse_refuses_garbage_with_65_and_shows_it() {
    let (port, thread) = sends_once(b"hello, this is no time\r\n".to_vec());
    let out = run(&[
        "connect",
        "daytime",
        "127.0.0.1",
        &port.to_string(),
        "--parse",
    ]);
    thread.join().unwrap();
    assert_error(&out, 65);
    assert_eq!(out.stdout, b"hello, this is no time\r\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a daytime format netlab knows"),
        "{stderr}"
    );
    assert!(stderr.contains("expected NIST"), "{stderr}");

    let (port, thread) = sends_once(b"Wed Fob 11 16:32:10 2026\n".to_vec());
    let out = run(&[
        "connect",
        "daytime",
        "127.0.0.1",
        &port.to_string(),
        "--parse",
        "--json",
    ]);
    thread.join().unwrap();
    assert_error(&out, 65);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["raw"], "Wed Fob 11 16:32:10 2026\n");
    assert!(
        json["error"].as_str().unwrap().contains("no month"),
        "{json}"
    );

    // Without --parse the same bytes are just printed.
    let (port, thread) = sends_once(b"hello, this is no time\r\n".to_vec());
    let out = run(&["connect", "daytime", "127.0.0.1", &port.to_string()]);
    thread.join().unwrap();
    assert_clean_exit(&out);
    assert_eq!(out.stdout, b"hello, this is no time\r\n");
}

#[test]
fn connect_time_refuses_a_reply_of_the_wrong_length() {
    let (port, thread) = sends_once(b"abc".to_vec());
    let out = run(&["connect", "time", "127.0.0.1", &port.to_string()]);
    thread.join().unwrap();
    assert_error(&out, 65);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the server sent 3 bytes; RFC 868 time is 4"),
        "{stderr}"
    );
}

#[test]
fn connect_daytime_parse_keeps_to_max_bytes() {
    let (port, thread) = sends_once(b"Wed Feb 11 16:32:10 2026\n".to_vec());
    let port = port.to_string();
    let out = run(&[
        "connect",
        "daytime",
        "127.0.0.1",
        &port,
        "--parse",
        "--max-bytes",
        "10",
    ]);
    thread.join().unwrap();
    assert_error(&out, 74);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-bytes"));

    // A server that never stops is no daytime server.
    let (port, thread) = sends_once(vec![b'x'; 200_000]);
    let out = run(&[
        "connect",
        "daytime",
        "127.0.0.1",
        &port.to_string(),
        "--parse",
    ]);
    thread.join().unwrap();
    assert_error(&out, 65);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is one line"));
}
