//! netlab's clients against a real inetd's built-in services: Debian's
//! `openbsd-inetd`, unpacked by `scripts/test` and run in a network
//! namespace of each test's own on 192.0.2.1 (why, and how it is cleaned
//! up: `tests/support/inetd.rs`). Every `netlab connect` runs inside that
//! namespace, so all traffic stays there. Needs root; otherwise each test
//! skips with a SKIPPED line (fails under CI=true).
//!
//! What openbsd-inetd sends (its `inetd.c`):
//!
//! - echo: every byte back (TCP), a datagram's payload back (UDP, ≤ 4096);
//! - daytime: `ctime()`, 24 characters and CR LF, in inetd's TZ (UTC here);
//! - time: 4 bytes, big-endian seconds since 1900;
//! - chargen: the ring of the 95 printable characters, 72 a line and CR
//!   LF, each line one character on; a connection starts at the space, a
//!   datagram gets one 74-byte line, each the next one on;
//! - discard: nothing.

mod util;

#[path = "../../../tests/support/inetd.rs"]
mod inetd;

use std::process::Output;

use chrono::{NaiveDateTime, Utc};
use inetd::{ADDR, Inetd};
use util::*;

/// `netlab ARGS` inside inetd's namespace, with `stdin`, to its end
/// (within the deadline).
fn netlab_in(inetd: &Inetd, args: &[&str], stdin: &[u8]) -> Output {
    assert_cmd::Command::from_std(inetd.command(env!("CARGO_BIN_EXE_netlab")))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .timeout(DEADLINE)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap()
}

/// `netlab connect SERVICE [--udp] 192.0.2.1 PORT EXTRA...`, which must
/// exit 0 with nothing on stderr; its stdout.
fn connect(inetd: &Inetd, service: &str, udp: bool, port: u16, extra: &[&str]) -> Vec<u8> {
    connect_with(inetd, service, udp, port, extra, b"")
}

fn connect_with(
    inetd: &Inetd,
    service: &str,
    udp: bool,
    port: u16,
    extra: &[&str],
    stdin: &[u8],
) -> Vec<u8> {
    let port = port.to_string();
    let mut args = vec!["connect", service];
    if udp {
        args.push("--udp");
    }
    args.extend([ADDR, &port]);
    args.extend(extra);
    let out = netlab_in(inetd, &args, stdin);
    if !out.status.success() || !out.stderr.is_empty() {
        panic!(
            "{args:?}: {:?}, stderr {:?}; inetd said {:#?}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            inetd.log()
        );
    }
    out.stdout
}

// ---- echo ----

#[test]
fn tcp_echo_of_64_kib_comes_back_exactly() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    let data = random_bytes(64 << 10, 0x1E7D);
    let got = connect_with(&inetd, "echo", false, inetd::ECHO, &[], &data);
    assert_same_bytes(&got, &data);
}

/// Several lines of binary data: one datagram each, each echoed.
#[test]
fn udp_echo_datagrams_come_back_exactly() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    let data = random_bytes(1000, 0x0D9);
    assert!(data.iter().filter(|&&b| b == b'\n').count() >= 2);
    let got = connect_with(&inetd, "echo", true, inetd::ECHO, &[], &data);
    assert_same_bytes(&got, &data);
}

// ---- daytime ----

#[test]
fn tcp_daytime_prints_inetds_ctime_line() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    assert_ctime_crlf_now(&connect(&inetd, "daytime", false, inetd::DAYTIME, &[]));
}

#[test]
fn udp_daytime_prints_inetds_ctime_line() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    assert_ctime_crlf_now(&connect(&inetd, "daytime", true, inetd::DAYTIME, &[]));
}

/// `connect daytime --parse` recognises inetd's line as `ctime` and reads
/// the time in it: the offset from this clock is small. `--json` for
/// the fields, and the text form names the format too.
#[test]
fn daytime_parse_reads_inetds_ctime_line() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    for udp in [false, true] {
        let out = connect(
            &inetd,
            "daytime",
            udp,
            inetd::DAYTIME,
            &["--parse", "--json"],
        );
        let json: serde_json::Value = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(&out)));
        assert_eq!(json["format"], "ctime", "{json}");
        let line = json["raw_line"].as_str().unwrap_or_default();
        assert_ctime_crlf_now(format!("{line}\r\n").as_bytes());
        let offset = json["offset_seconds"].as_f64().unwrap_or(f64::NAN);
        assert!(offset.abs() <= 5.0, "{json}");

        let out = connect(&inetd, "daytime", udp, inetd::DAYTIME, &["--parse"]);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("Server time: "), "{text:?}");
        assert!(text.contains("(ctime"), "{text:?}");
    }
}

/// Checks `bytes` is exactly one `ctime()` line and CR LF (day
/// space-padded) for a moment within a few seconds of now, in UTC.
fn assert_ctime_crlf_now(bytes: &[u8]) {
    const CTIME: &str = "%a %b %e %H:%M:%S %Y";
    let text = std::str::from_utf8(bytes).unwrap();
    let line = text
        .strip_suffix("\r\n")
        .unwrap_or_else(|| panic!("no CR LF: {text:?}"));
    let when =
        NaiveDateTime::parse_from_str(line, CTIME).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    // Rendered again, the same bytes: the exact shape.
    assert_eq!(when.format(CTIME).to_string(), line);
    assert_eq!(line.len(), 24, "{text:?}");
    let skew = (when - Utc::now().naive_utc()).num_seconds().abs();
    assert!(skew <= 5, "{text:?} is {skew} s away from now");
}

// ---- time ----

/// RFC 868's value for now: seconds since 1900, modulo 2^32.
fn rfc868_now() -> i64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from((unix + 2_208_988_800) % (1 << 32)).unwrap()
}

fn assert_raw_time_now(stdout: &[u8]) {
    let text = String::from_utf8_lossy(stdout);
    let value: i64 = text
        .trim_end()
        .parse()
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
    let skew = (value - rfc868_now()).abs();
    assert!(skew <= 5, "{text:?} is {skew} s away from now");
}

#[test]
fn tcp_time_raw_is_the_clock() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    assert_raw_time_now(&connect(&inetd, "time", false, inetd::TIME, &["--raw"]));
}

#[test]
fn udp_time_raw_is_the_clock() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    assert_raw_time_now(&connect(&inetd, "time", true, inetd::TIME, &["--raw"]));
}

/// The date form: `Server time: YYYY-MM-DD HH:MM:SS UTC (RFC 868)`, for
/// now, over TCP and UDP.
#[test]
fn tcp_and_udp_time_print_the_date() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    for udp in [false, true] {
        let out = connect(&inetd, "time", udp, inetd::TIME, &[]);
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let date = first
            .strip_prefix("Server time: ")
            .and_then(|rest| rest.strip_suffix(" UTC (RFC 868)"))
            .unwrap_or_else(|| panic!("{text:?}"));
        let when = NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S")
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let skew = (when - Utc::now().naive_utc()).num_seconds().abs();
        assert!(skew <= 5, "{text:?} is {skew} s away from now");
    }
}

// ---- discard ----

#[test]
fn tcp_discard_takes_a_mebibyte_and_exits_0() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    let data = random_bytes(1 << 20, 0xD15C);
    let out = connect_with(&inetd, "discard", false, inetd::DISCARD, &[], &data);
    assert_same_bytes(&out, b"");
}

#[test]
fn udp_discard_exits_0() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    let out = connect_with(
        &inetd,
        "discard",
        true,
        inetd::DISCARD,
        &[],
        b"thrown away\n",
    );
    assert_same_bytes(&out, b"");
}

// ---- chargen ----

/// `netlab connect chargen | head -c 7400`: a hundred lines of the ring
/// from its start, and netlab ends, silently, when the pipe closes.
#[test]
fn tcp_chargen_prefix_is_the_ring_from_its_start() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    let mut cmd = inetd.command("sh");
    cmd.args([
        "-c",
        "\"$0\" connect chargen \"$1\" \"$2\" | head -c 7400",
        env!("CARGO_BIN_EXE_netlab"),
        ADDR,
        &inetd::CHARGEN.to_string(),
    ]);
    let out = output_within_deadline(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    // netlab ends quietly when `head` closes the pipe.
    assert_eq!(stderr, "");
    assert_eq!(out.stdout.len(), 7400);
    assert_chargen(&out.stdout, Some(0));
}

#[test]
fn udp_chargen_is_one_line_of_the_ring() {
    let Some(inetd) = inetd::start() else {
        return;
    };
    let out = connect(&inetd, "chargen", true, inetd::CHARGEN, &[]);
    assert!(!out.is_empty() && out.len() <= 512, "{} bytes", out.len());
    assert_chargen(&out, None);
}

/// The 95 printable ASCII characters, space to `~`.
const RING: std::ops::RangeInclusive<u8> = b' '..=b'~';

/// Checks `bytes` is a prefix of the chargen pattern from some line on
/// (`first`: that line's first character, as an offset in the ring; any
/// if `None`): line N holds the 72 characters from offset first + N
/// (mod 95) on, then CR LF.
fn assert_chargen(bytes: &[u8], first: Option<usize>) {
    let ring: Vec<u8> = RING.collect();
    let start = first.unwrap_or_else(|| {
        let at = ring.iter().position(|&c| Some(&c) == bytes.first());
        at.unwrap_or_else(|| panic!("starts with {:?}", bytes.first()))
    });
    let expected: Vec<u8> = (0..bytes.len() / 74 + 1)
        .flat_map(|n| {
            let line = (0..72).map(|i| ring[(start + n + i) % ring.len()]);
            line.chain(*b"\r\n").collect::<Vec<u8>>()
        })
        .collect();
    assert_same_bytes(bytes, &expected[..bytes.len()]);
}
