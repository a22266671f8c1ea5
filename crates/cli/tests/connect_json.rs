//! `netlab connect PROTOCOL --json` against `netlab serve` on loopback:
//! one JSON object on one line, whose base64 is exactly the bytes received
//! (all 256 byte values through echo), whose peer is the server, whose
//! timings run in order; on failure the same object with the error, the
//! exit code and the one stderr line as without `--json`. `time` and
//! `daytime --parse` keep their own report.

mod util;

use std::process::Output;

use serde_json::Value;
use util::*;

fn run(args: &[&str], input: &[u8]) -> Output {
    netlab_cmd()
        .arg("connect")
        .args(args)
        .write_stdin(input.to_vec())
        .output()
        .unwrap()
}

/// The one object on stdout, checked to be alone on one ASCII line.
#[track_caller]
fn object(out: &Output) -> Value {
    let text = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    assert!(text.is_ascii(), "{text}");
    assert!(text.ends_with('\n'), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// RFC 4648 base64, decoded independently of the encoder under test.
fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        bits = bits << 6 | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

/// The timings: each at or after the one before, in milliseconds.
#[track_caller]
fn assert_timings_in_order(json: &Value) {
    let t = &json["timings"];
    let total = t["total_ms"].as_f64().unwrap();
    let mut last = 0.0;
    for name in ["resolve_ms", "connect_ms", "first_byte_ms"] {
        if let Some(ms) = t[name].as_f64() {
            assert!(ms >= last, "{name} before the one before it: {t}");
            last = ms;
        }
    }
    assert!(total >= last, "total before the rest: {t}");
}

#[track_caller]
fn assert_success(out: &Output, json: &Value) {
    assert_clean_exit(out);
    assert_eq!(json["exit"], 0, "{json}");
    assert_eq!(json["error"], Value::Null, "{json}");
}

#[test]
fn echo_over_tcp_every_byte_value_comes_back_exactly_in_base64() {
    let server = serve(&["echo", "--host", "127.0.0.1"]);
    let port = server.port.to_string();
    let mut sent: Vec<u8> = (0..=255).collect();
    sent.extend((0..=255u8).rev());
    let out = run(&["echo", "127.0.0.1", &port, "--json"], &sent);
    let json = object(&out);
    assert_success(&out, &json);
    assert_eq!(json["protocol"], "echo");
    assert_eq!(json["transport"], "tcp");
    assert_eq!(json["host"], "127.0.0.1");
    assert_eq!(json["peer"], format!("127.0.0.1:{port}"));
    let local = json["local"].as_str().unwrap();
    assert!(
        local.starts_with("127.0.0.1:") && !local.ends_with(":0"),
        "{local}"
    );
    assert_eq!(json["sent_bytes"], 512);
    assert_eq!(json["received_bytes"], 512);
    assert_eq!(json["utf8"], false);
    assert_eq!(json["truncated"], false);
    let received = decode_base64(json["received_base64"].as_str().unwrap());
    assert_same_bytes(&received, &sent);
    assert_eq!(
        json["received_text"].as_str().unwrap(),
        String::from_utf8_lossy(&sent)
    );
    assert_eq!(json["datagrams"], Value::Null);
    assert!(json["timings"]["first_byte_ms"].is_number(), "{json}");
    assert_timings_in_order(&json);
}

#[test]
fn echo_text_is_text_and_udp_counts_its_datagrams() {
    let tcp = serve(&["echo", "--host", "127.0.0.1"]);
    let out = run(
        &["echo", "localhost", &tcp.port.to_string(), "--json"],
        "hello\ncaf\u{e9}\n".as_bytes(),
    );
    let json = object(&out);
    assert_success(&out, &json);
    assert_eq!(json["received_text"], "hello\ncaf\u{e9}\n");
    assert_eq!(json["utf8"], true);
    assert_eq!(json["host"], "localhost");

    let udp = serve(&["echo", "--host", "127.0.0.1", "--udp"]);
    let port = udp.port.to_string();
    let out = run(
        &["echo", "127.0.0.1", &port, "--udp", "--json"],
        b"one\ntwo!\n",
    );
    let json = object(&out);
    assert_success(&out, &json);
    assert_eq!(json["transport"], "udp");
    assert_eq!(json["peer"], format!("127.0.0.1:{port}"));
    assert_eq!(json["received_text"], "one\ntwo!\n");
    assert_eq!(json["sent_bytes"], 9);
    assert_eq!(json["datagrams"]["received"], 2);
    assert_eq!(json["datagrams"]["sizes"], serde_json::json!([4, 5]));
    assert_eq!(json["datagrams"]["sizes_truncated"], false);
    assert_timings_in_order(&json);
}

#[test]
fn daytime_json_is_the_line_and_parse_json_stays_the_time_report() {
    for udp in [false, true] {
        let mut args = vec!["daytime", "--host", "127.0.0.1"];
        if udp {
            args.push("--udp");
        }
        let server = serve(&args);
        let port = server.port.to_string();
        let mut args = vec!["daytime", "127.0.0.1", &port, "--json"];
        if udp {
            args.push("--udp");
        }
        let out = run(&args, b"");
        let json = object(&out);
        assert_success(&out, &json);
        let text = json["received_text"].as_str().unwrap();
        assert!(text.ends_with('\n') && text.len() > 20, "{json}");
        assert_eq!(json["sent_bytes"], 0);
        assert_eq!(json["transport"], if udp { "udp" } else { "tcp" });

        args.push("--parse");
        let out = run(&args, b"");
        let json = object(&out);
        assert_clean_exit(&out);
        assert!(json["server_time"].is_string(), "{json}");
        assert!(json.get("protocol").is_none(), "{json}");
    }
}

#[test]
fn time_json_stays_the_time_report() {
    let server = serve(&["time", "--host", "127.0.0.1"]);
    let out = run(
        &["time", "127.0.0.1", &server.port.to_string(), "--json"],
        b"",
    );
    let json = object(&out);
    assert_clean_exit(&out);
    assert!(json["raw"].is_u64(), "{json}");
    assert!(json.get("received_base64").is_none(), "{json}");
}

#[test]
fn discard_reports_what_it_sent_and_nothing_received() {
    let tcp = serve(&["discard", "--host", "127.0.0.1"]);
    let input = random_bytes(100_000, 7);
    let out = run(
        &["discard", "127.0.0.1", &tcp.port.to_string(), "--json"],
        &input,
    );
    let json = object(&out);
    assert_success(&out, &json);
    assert_eq!(json["sent_bytes"], 100_000);
    assert_eq!(json["received_bytes"], 0);
    assert_eq!(json["received_base64"], "");
    assert_eq!(json["timings"]["first_byte_ms"], Value::Null);
    assert!(json["local"].is_string(), "{json}");

    let udp = serve(&["discard", "--host", "127.0.0.1", "--udp"]);
    let port = udp.port.to_string();
    let out = run(
        &["discard", "127.0.0.1", &port, "--udp", "--json"],
        b"a\nbb\n",
    );
    let json = object(&out);
    assert_success(&out, &json);
    assert_eq!(json["sent_bytes"], 5);
    assert_eq!(json["peer"], format!("127.0.0.1:{port}"));
    // Discard's UDP client has a socket of its own: its address is unknown.
    assert_eq!(json["local"], Value::Null);
    assert_eq!(json["datagrams"]["received"], 0);
}

#[test]
fn chargen_stops_at_max_bytes_truncated_with_the_usual_exit_code() {
    let tcp = serve(&["chargen", "--host", "127.0.0.1"]);
    let port = tcp.port.to_string();
    let args = ["chargen", "127.0.0.1", &port, "--max-bytes", "1000"];
    let plain = run(&args, b"");
    let out = run(&[&args[..], &["--json"]].concat(), b"");
    // The exit code and the error line are those without --json.
    assert_error(&out, 74);
    assert_eq!(out.stderr, plain.stderr);
    assert_eq!(plain.status.code(), Some(74));
    let json = object(&out);
    assert_eq!(json["truncated"], true);
    assert_eq!(json["received_bytes"], 1000);
    let received = decode_base64(json["received_base64"].as_str().unwrap());
    assert_same_bytes(&received, &plain.stdout);
    assert_eq!(json["exit"], 74);
    assert_eq!(json["error"]["exit"], 74);
    let line = String::from_utf8_lossy(&out.stderr);
    let message = json["error"]["message"].as_str().unwrap();
    assert_eq!(line.trim_end(), format!("netlab: {message}"));
    assert_timings_in_order(&json);

    let udp = serve(&["chargen", "--host", "127.0.0.1", "--udp"]);
    let port = udp.port.to_string();
    let out = run(&["chargen", "127.0.0.1", &port, "--udp", "--json"], b"");
    let json = object(&out);
    assert_success(&out, &json);
    assert_eq!(json["truncated"], false);
    assert!(
        json["received_text"].as_str().unwrap().ends_with("\r\n"),
        "{json}"
    );
    assert_eq!(json["datagrams"]["received"], 1);
}

#[test]
fn a_refused_connection_is_an_object_with_the_error_and_exit_69() {
    let port = free_port("127.0.0.1").to_string();
    for udp in [false, true] {
        let mut args = vec!["echo", "127.0.0.1", &port, "--timeout", "5"];
        if udp {
            args.push("--udp");
        }
        let plain = run(&args, b"x\n");
        args.push("--json");
        let out = run(&args, b"x\n");
        assert_error(&out, 69);
        assert_eq!(out.stderr, plain.stderr, "the same line as without --json");
        let json = object(&out);
        assert_eq!(json["exit"], 69);
        assert_eq!(json["error"]["exit"], 69);
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains("refused"), "{message}");
        assert_eq!(json["received_bytes"], 0);
        if !udp {
            assert_eq!(json["peer"], Value::Null);
            assert_eq!(json["timings"]["connect_ms"], Value::Null);
        }
    }
}
