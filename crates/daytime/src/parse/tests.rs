use chrono::{NaiveDate, Timelike};

use super::*;

const NIST: &str = "61082 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *";
const CTIME: &str = "Wed Feb 11 16:32:10 2026";
const CTIME_PADDED: &str = "Sun Feb  1 09:05:03 2026";
const RFC3339: [&str; 4] = [
    "2026-02-11T16:32:10Z",
    "2026-02-11T16:32:10.123+01:00",
    "2026-02-11 16:32:10Z",
    "2026-02-11t16:32:10.5-05:30",
];
const XINETD: &str = "11 FEB 2026 16:32:10 EST";

fn valid_lines() -> Vec<&'static str> {
    let mut lines = vec![
        NIST,
        CTIME,
        CTIME_PADDED,
        XINETD,
        "11 FEB 2026 16:32:10 GMT",
    ];
    lines.extend(RFC3339);
    lines
}

fn invalid(line: &str) -> String {
    match reply(line.as_bytes()) {
        Err(ParseError::Invalid { reason, .. }) => reason,
        other => panic!("{line:?}: {other:?}"),
    }
}

#[test]
fn nist_with_its_leading_blank_line() {
    let got = reply(format!("\n{NIST}\n").as_bytes()).unwrap();
    assert_eq!(got.format, Format::Nist);
    assert_eq!(got.line, NIST);
    assert_eq!(got.zone, Zone::Utc);
    assert_eq!(got.utc().unwrap().to_rfc3339(), "2026-02-11T21:30:43+00:00");
    let nist = got.nist.unwrap();
    assert_eq!(
        (nist.mjd, nist.dst, nist.leap, nist.health),
        (61082, 0, 0, 0)
    );
    assert_eq!((nist.advance_ms, nist.marker), (34.3, '*'));
    assert_eq!(nist.health_text(), "healthy");
    let sick = reply(b"\n56998 14-12-07 16:13:51 50 1 2 928.4 UTC(NIST) #\r\n").unwrap();
    let nist = sick.nist.unwrap();
    assert_eq!(
        (nist.dst, nist.leap, nist.health, nist.marker),
        (50, 1, 2, '#')
    );
    assert_eq!(
        sick.datetime.date(),
        NaiveDate::from_ymd_opt(2014, 12, 7).unwrap()
    );
}

#[test]
fn ctime_space_or_zero_padded_with_any_line_ending() {
    for ending in ["", "\n", "\r\n", "\n\n", "\r\n\r\n"] {
        let got = reply(format!("{CTIME}{ending}").as_bytes()).unwrap();
        assert_eq!(got.format, Format::Ctime);
        assert_eq!(got.line, CTIME);
        assert_eq!(got.zone, Zone::Unknown { abbreviation: None });
        assert_eq!(got.utc(), None);
        assert_eq!(got.datetime.to_string(), "2026-02-11 16:32:10");
    }
    let got = reply(CTIME_PADDED.as_bytes()).unwrap();
    assert_eq!(got.datetime.to_string(), "2026-02-01 09:05:03");
    let zero = reply(b"Sun Feb 01 09:05:03 2026").unwrap();
    assert_eq!(zero.datetime, got.datetime);
}

#[test]
fn rfc3339_with_fraction_offset_and_space() {
    let got: Vec<Parsed> = RFC3339
        .iter()
        .map(|l| reply(l.as_bytes()).unwrap())
        .collect();
    assert!(got.iter().all(|p| p.format == Format::Rfc3339));
    assert_eq!(
        got[0].utc().unwrap().to_rfc3339(),
        "2026-02-11T16:32:10+00:00"
    );
    assert_eq!(
        got[1].utc().unwrap().to_rfc3339(),
        "2026-02-11T15:32:10.123+00:00"
    );
    assert_eq!(got[1].resolution, Duration::from_millis(1));
    assert_eq!(got[2].utc(), got[0].utc());
    assert_eq!(
        got[3].utc().unwrap().to_rfc3339(),
        "2026-02-11T22:02:10.500+00:00"
    );
    assert_eq!(got[0].resolution, Duration::from_secs(1));
    let unknown_offset = reply(b"2026-02-11T16:32:10-00:00").unwrap();
    assert_eq!(unknown_offset.zone, Zone::Utc);
    let leap = reply(b"2016-12-31T23:59:60Z").unwrap();
    assert_eq!(leap.datetime.second(), 59);
    assert!(leap.datetime.nanosecond() >= 1_000_000_000);
}

#[test]
fn xinetd_knows_only_utc_and_gmt() {
    let est = reply(format!("{XINETD}\r\n").as_bytes()).unwrap();
    assert_eq!(est.format, Format::Xinetd);
    assert_eq!(
        est.zone,
        Zone::Unknown {
            abbreviation: Some("EST".into())
        }
    );
    assert_eq!(est.datetime.to_string(), "2026-02-11 16:32:10");
    let gmt = reply(b"1 feb 2026 16:32:10 GMT").unwrap();
    assert_eq!(gmt.utc().unwrap().to_rfc3339(), "2026-02-01T16:32:10+00:00");
}

#[test]
fn what_is_not_one_text_line() {
    assert_eq!(reply(b""), Err(ParseError::Empty));
    assert_eq!(reply(b"\n\r\n  \n"), Err(ParseError::Empty));
    assert_eq!(
        reply(b"\x00\x01\x02\x03"),
        Err(ParseError::NotText { byte: 0, offset: 0 })
    );
    assert_eq!(
        reply(b"Wed Feb 11 16:32:10 2026\xff"),
        Err(ParseError::NotText {
            byte: 0xff,
            offset: 24
        })
    );
    assert!(matches!(
        reply(b"Wed Feb\r11"),
        Err(ParseError::NotText { byte: b'\r', .. })
    ));
    assert!(matches!(
        reply(b"Wed\tFeb"),
        Err(ParseError::NotText { byte: b'\t', .. })
    ));
    assert_eq!(
        reply(format!("{CTIME}\n{CTIME}\n").as_bytes()),
        Err(ParseError::MoreThanOneLine)
    );
    assert_eq!(reply(b"hello there"), Err(ParseError::Unrecognised));
    assert_eq!(reply(b"1770827530"), Err(ParseError::Unrecognised));
    assert_eq!(
        ParseError::Unrecognised.to_string(),
        "not a daytime format netlab knows"
    );
}

#[test]
fn wrong_fields_are_named() {
    assert_eq!(invalid("Wed Fob 11 16:32:10 2026"), "no month \"Fob\"");
    assert_eq!(
        invalid("Thu Feb 11 16:32:10 2026"),
        "2026-02-11 is a Wed, not a Thu"
    );
    assert_eq!(invalid("Wed Feb 30 16:32:10 2026"), "no date 2026-02-30");
    assert_eq!(invalid("Wed Feb 11 25:32:10 2026"), "no time \"25:32:10\"");
    assert!(invalid("Wed Feb 11 16:32:10 2026 xyz").contains("24 characters"));
    assert_eq!(
        invalid("61083 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *"),
        "MJD 61083 is 2026-02-12, not 2026-02-11"
    );
    assert_eq!(invalid(&format!("{NIST} extra")), "10 fields instead of 9");
    assert_eq!(
        invalid("61082 26-02-11 21:30:43 00 0 0 34.3 UTC(PTB) *"),
        "label \"UTC(PTB)\" is not UTC(NIST)"
    );
    assert!(invalid("61082 26-02-11 21:30:43 00 7 0 34.3 UTC(NIST) *").contains("leap"));
    assert!(invalid("2026-02-11T16:32:10").contains("offset"));
    assert!(invalid("2026-02-11T16:32:10Zjunk").contains("offset"));
    assert!(invalid("2026-02-11X16:32:10Z").contains("no T"));
    assert!(invalid("2026-13-11T16:32:10Z").contains("no date"));
    assert!(invalid("2026-02-11T16:32:10.Z").contains("fraction"));
    assert!(invalid("2026-02-11T16:32:10+24:00").contains("offset"));
    assert!(invalid("11 FEB 2026 16:32:10 EST extra").contains("fields"));
    assert!(invalid("11 FEB 2026 16:32:10 +0100").contains("zone"));
    let e = reply(b"Wed Fob 11 16:32:10 2026").unwrap_err();
    assert_eq!(e.to_string(), "not a valid ctime line: no month \"Fob\"");
}

#[test]
fn trailing_spaces_are_no_garbage() {
    let got = reply(format!("{CTIME}  \r\n").as_bytes()).unwrap();
    assert_eq!(got.datetime.to_string(), "2026-02-11 16:32:10");
}

#[test]
fn no_truncation_or_corruption_panics() {
    // Every prefix and suffix of every valid line, and each with one byte
    // changed to a few troublesome values: an answer, never a panic.
    for valid in valid_lines() {
        let bytes = valid.as_bytes();
        for cut in 0..=bytes.len() {
            let _ = reply(&bytes[..cut]);
            let _ = reply(&bytes[cut..]);
            let _ = line(&valid[..cut]);
        }
        for at in 0..bytes.len() {
            for b in [
                b'0', b'9', b' ', b'-', b':', b'.', b'+', b'Z', 0x00, 0xff, b'\r',
            ] {
                let mut changed = bytes.to_vec();
                changed[at] = b;
                let _ = reply(&changed);
            }
        }
    }
    // Shapes that pass the first look but are short or huge.
    for odd in [
        "99999 99-99-99 99:99:99 99 9 99 9.9 UTC(NIST) *",
        "00000 58-11-17 00:00:00 00 0 0 0 UTC(NIST) *",
        "12345 -",
        "9999-",
        "0000-00-00T00:00:00Z",
        "9999-12-31T23:59:60.999999999+23:59",
        "1 a",
        "abc",
    ] {
        let _ = reply(odd.as_bytes());
    }
}
