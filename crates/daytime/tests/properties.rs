//! Every line a daytime server of ours sends parses back to the instant it
//! was made from: the lecture's and inetd's `asctime` line (local time or
//! `--utc`), and RFC 3339 and xinetd-style strftime formats, for any
//! instant with a four-digit year. "Back" is as the parser documents it:
//! `asctime` carries no zone, so the wall-clock time is compared; a line
//! with a zone gives the instant itself. And no bytes at all make the
//! parser panic.

use chrono::{DateTime, Local, Offset, Timelike, Utc};
use daytime::parse::{self, Format, Zone};
use daytime::{DaytimeFormat, LineEnding};
use proptest::prelude::*;

/// 0001-01-01 to 9999-12-31 UTC, the years `%Y` writes as four digits,
/// less a day at each end so local time stays in them too.
const FIRST: i64 = -62_135_596_800 + 86_400;
const LAST: i64 = 253_402_300_799 - 86_400;

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (FIRST..=LAST, 0u32..1_000_000_000).prop_map(|(secs, nanos)| {
        DateTime::from_timestamp(secs, nanos).expect("within chrono's range")
    })
}

fn ending() -> impl Strategy<Value = LineEnding> {
    prop_oneof![Just(LineEnding::Lf), Just(LineEnding::CrLf)]
}

/// `t` to the second, as every whole-second format shows it.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).expect("0 ns is always valid")
}

proptest! {
    #[test]
    fn asctime_lines_give_the_wall_clock_time_back(
        t in instant(),
        utc in any::<bool>(),
        ending in ending(),
    ) {
        let format = DaytimeFormat::lecture().utc(utc).ending(ending);
        let line = format.line(t);
        let parsed = parse::reply(line.as_bytes()).map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?;
        prop_assert_eq!(parsed.format, Format::Ctime);
        prop_assert_eq!(&parsed.zone, &Zone::Unknown { abbreviation: None });
        let wall = if utc {
            whole_seconds(t).naive_utc()
        } else {
            whole_seconds(t).with_timezone(&Local).naive_local()
        };
        prop_assert_eq!(parsed.datetime, wall);
        prop_assert_eq!(parsed.utc(), None);
    }

    #[test]
    fn rfc3339_lines_give_the_instant_back(
        t in instant(),
        utc in any::<bool>(),
        ending in ending(),
        which in 0usize..4,
    ) {
        // Whole seconds with an offset, with a `Z`, with a space for the
        // T, and chrono's `%+` with the fraction of a second.
        let (strftime, exact) = [
            ("%Y-%m-%dT%H:%M:%S%:z", false),
            ("%Y-%m-%dT%H:%M:%SZ", false),
            ("%Y-%m-%d %H:%M:%S%:z", false),
            ("%+", true),
        ][which];
        // `Z` claims UTC, so that format is only ever written in UTC.
        let utc = utc || strftime.ends_with('Z');
        // Before standard time (1883 in the US), local time was mean solar
        // time, offsets like -04:56:02: RFC 3339 writes whole minutes, so
        // such a line is off by the offset's seconds. No clock is there.
        let offset = t.with_timezone(&Local).offset().fix().local_minus_utc();
        prop_assume!(utc || offset % 60 == 0);
        let format = DaytimeFormat::lecture().strftime(strftime).expect("a valid format").utc(utc).ending(ending);
        let line = format.line(t);
        let parsed = parse::reply(line.as_bytes()).map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?;
        prop_assert_eq!(parsed.format, Format::Rfc3339);
        let expected = if exact { t } else { whole_seconds(t) };
        prop_assert_eq!(parsed.utc(), Some(expected), "{:?}", line);
    }

    #[test]
    fn xinetd_lines_in_utc_give_the_instant_back(
        t in instant(),
        zone in prop_oneof![Just("UTC"), Just("GMT")],
        day in prop_oneof![Just("%d"), Just("%-d")],
    ) {
        // xinetd's day is one or two digits.
        let strftime = format!("{day} %b %Y %H:%M:%S {zone}");
        let format = DaytimeFormat::lecture().strftime(&strftime).expect("a valid format").utc(true);
        let line = format.line(t);
        let parsed = parse::reply(line.as_bytes()).map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?;
        prop_assert_eq!(parsed.format, Format::Xinetd);
        prop_assert_eq!(parsed.utc(), Some(whole_seconds(t)));
    }

    #[test]
    fn no_reply_makes_the_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        if let Ok(parsed) = parse::reply(&bytes) {
            // What it found is one line of what was sent, and its instant
            // can be asked for.
            prop_assert!(!parsed.line.contains(['\r', '\n']));
            let _ = parsed.utc();
        }
    }

    #[test]
    fn no_text_in_a_known_shape_makes_the_parser_panic(
        // Digits, separators and letters in the places the formats use.
        text in "[0-9]{1,5}[- :TZ.+a-zA-Z0-9]{0,40}|[A-Za-z]{3} [A-Za-z0-9 :]{0,30}",
    ) {
        let _ = parse::line(&text).map(|p| p.utc());
    }
}
