//! The formats, one function each: a line's shape picks the function,
//! which then checks every field, so a wrong field is reported as such
//! ("no month Fob") instead of as an unknown format.

use std::time::Duration;

use chrono::{Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

use super::{Format, Nist, Zone};

/// What a format function reads from a line.
pub(super) type Fields = (NaiveDateTime, Zone, Duration, Option<Nist>);

const SECOND: Duration = Duration::from_secs(1);

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("Mon", Weekday::Mon),
    ("Tue", Weekday::Tue),
    ("Wed", Weekday::Wed),
    ("Thu", Weekday::Thu),
    ("Fri", Weekday::Fri),
    ("Sat", Weekday::Sat),
    ("Sun", Weekday::Sun),
];

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn all_letters(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Which format a line looks like, from its first characters alone.
pub(super) fn shape(line: &str) -> Option<Format> {
    let mut words = line.split(' ');
    let first = words.next().unwrap_or_default();
    let second = words.next().unwrap_or_default();
    let b = line.as_bytes();
    if first.len() == 5 && all_digits(first) && second.contains('-') {
        Some(Format::Nist)
    } else if b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        Some(Format::Rfc3339)
    } else if first.len() == 3 && all_letters(first) {
        Some(Format::Ctime)
    } else if (1..=2).contains(&first.len()) && all_digits(first) && all_letters(second) {
        Some(Format::Xinetd)
    } else {
        None
    }
}

/// A number of exactly `digits` digits (`what` names it in the error).
fn number(s: &str, digits: usize, what: &str) -> Result<u32, String> {
    if s.len() != digits || !all_digits(s) {
        return Err(format!("{what} {s:?} is not {digits} digits"));
    }
    s.parse()
        .map_err(|_| format!("{what} {s:?} is not a number"))
}

fn month(name: &str) -> Result<u32, String> {
    let lower = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as u32 + 1)
        .ok_or_else(|| format!("no month {name:?}"))
}

fn date(year: i32, month: u32, day: u32) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("no date {year:04}-{month:02}-{day:02}"))
}

/// `HH:MM:SS`, second 60 allowed (a leap second), plus `nanos`.
fn time(s: &str, nanos: u32) -> Result<NaiveTime, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let [h, m, sec] = parts[..] else {
        return Err(format!("time {s:?} is not HH:MM:SS"));
    };
    let (h, m, sec) = (
        number(h, 2, "hour")?,
        number(m, 2, "minute")?,
        number(sec, 2, "second")?,
    );
    // chrono writes a leap second as second 59 with a nanosecond past 1e9.
    let (sec, nanos) = if sec == 60 {
        (59, nanos + 1_000_000_000)
    } else {
        (sec, nanos)
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos).ok_or_else(|| format!("no time {s:?}"))
}

/// `61082 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *`.
pub(super) fn nist(line: &str) -> Result<Fields, String> {
    let words: Vec<&str> = line.split(' ').collect();
    let [mjd, ymd, hms, dst, leap, health, advance, label, marker] = words[..] else {
        return Err(format!("{} fields instead of 9", words.len()));
    };
    let mjd = number(mjd, 5, "MJD")?;
    let ymd: Vec<&str> = ymd.split('-').collect();
    let [yy, mm, dd] = ymd[..] else {
        return Err("the date is not YY-MM-DD".to_owned());
    };
    let (yy, mm, dd) = (
        number(yy, 2, "year")?,
        number(mm, 2, "month")?,
        number(dd, 2, "day")?,
    );
    // The MJD gives the century the two-digit year leaves out.
    let day = NaiveDate::from_ymd_opt(1858, 11, 17)
        .and_then(|epoch| epoch.checked_add_days(Days::new(u64::from(mjd))))
        .ok_or_else(|| format!("MJD {mjd} is out of range"))?;
    let date = date(day.year() - day.year() % 100 + yy as i32, mm, dd)?;
    if date != day {
        return Err(format!("MJD {mjd} is {day}, not {date}"));
    }
    let time = time(hms, 0)?;
    let dst = u8::try_from(number(dst, 2, "DST code")?).map_err(|e| e.to_string())?;
    let leap = match leap {
        "0" | "1" | "2" => {
            u8::try_from(number(leap, 1, "leap flag")?).map_err(|e| e.to_string())?
        }
        _ => return Err(format!("leap flag {leap:?} is not 0, 1 or 2")),
    };
    let health = if all_digits(health) && health.len() <= 2 {
        health
            .parse()
            .map_err(|_| format!("health {health:?} is not a number"))?
    } else {
        return Err(format!("health {health:?} is not a number"));
    };
    let advance_ms = match advance.split_once('.') {
        Some((whole, frac)) if all_digits(whole) && all_digits(frac) => advance.parse().ok(),
        None if all_digits(advance) => advance.parse().ok(),
        _ => None,
    }
    .filter(|ms: &f64| ms.is_finite())
    .ok_or_else(|| format!("advance {advance:?} is not milliseconds"))?;
    if label != "UTC(NIST)" {
        return Err(format!("label {label:?} is not UTC(NIST)"));
    }
    let marker = match marker {
        "*" => '*',
        "#" => '#',
        _ => return Err(format!("on-time marker {marker:?} is not * or #")),
    };
    let nist = Nist {
        mjd,
        dst,
        leap,
        health,
        advance_ms,
        marker,
    };
    Ok((date.and_time(time), Zone::Utc, SECOND, Some(nist)))
}

/// `Wed Feb 11 16:32:10 2026`, the day space- (or zero-) padded.
pub(super) fn ctime(line: &str) -> Result<Fields, String> {
    let b = line.as_bytes();
    if b.len() != 24 || [3, 7, 10, 19].iter().any(|&i| b[i] != b' ') {
        return Err("not \"Www Mmm DD HH:MM:SS YYYY\" (24 characters)".to_owned());
    }
    // ASCII (checked by the caller): every index is a character boundary.
    let (weekday, mon, day, hms, year) = (
        &line[0..3],
        &line[4..7],
        &line[8..10],
        &line[11..19],
        &line[20..24],
    );
    let month = month(mon)?;
    // asctime pads the day with a space (`Feb  1`); accept a zero too.
    let digits = day.strip_prefix(' ').unwrap_or(day);
    let day = number(digits, digits.len(), "day")?;
    let year = number(year, 4, "year")?;
    let date = date(year as i32, month, day)?;
    let (_, expected) = WEEKDAYS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(weekday))
        .ok_or_else(|| format!("no weekday {weekday:?}"))?;
    if date.weekday() != *expected {
        return Err(format!("{date} is a {}, not a {weekday}", date.weekday()));
    }
    let zone = Zone::Unknown { abbreviation: None };
    Ok((date.and_time(time(hms, 0)?), zone, SECOND, None))
}

/// `2026-02-11T16:32:10Z`, `2026-02-11 16:32:10.123+01:00`.
pub(super) fn rfc3339(line: &str) -> Result<Fields, String> {
    let (ymd, rest) = (
        line.get(..10).unwrap_or(line),
        line.get(10..).unwrap_or_default(),
    );
    let parts: Vec<&str> = ymd.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err("the date is not YYYY-MM-DD".to_owned());
    };
    let date = date(
        number(y, 4, "year")? as i32,
        number(m, 2, "month")?,
        number(d, 2, "day")?,
    )?;
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .ok_or("no T between the date and the time")?;
    let hms = rest.get(..8).ok_or("no HH:MM:SS after the date")?;
    let mut rest = rest.get(8..).unwrap_or_default();
    let (mut nanos, mut resolution) = (0, SECOND);
    if let Some(after) = rest.strip_prefix('.') {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return Err("the fraction of a second is not 1 to 9 digits".to_owned());
        }
        let frac = &after[..digits];
        let scale = 10u32.pow(9 - digits as u32);
        nanos = frac.parse::<u32>().map_err(|e| e.to_string())? * scale;
        resolution = Duration::from_nanos(u64::from(scale));
        rest = &after[digits..];
    }
    let time = time(hms, nanos)?;
    let zone = match rest {
        "Z" | "z" => Zone::Utc,
        // RFC 3339 4.3: "-00:00" is UTC, the local offset unknown.
        "-00:00" => Zone::Utc,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(format!("offset {rest:?} is not Z or +HH:MM")),
            };
            let (h, m) = rest[1..]
                .split_once(':')
                .ok_or_else(|| format!("offset {rest:?} is not Z or +HH:MM"))?;
            let (h, m) = (number(h, 2, "offset hour")?, number(m, 2, "offset minute")?);
            if h > 23 || m > 59 {
                return Err(format!("no offset {rest:?}"));
            }
            let seconds = sign * (h * 3600 + m * 60) as i32;
            Zone::Offset(
                FixedOffset::east_opt(seconds).ok_or_else(|| format!("no offset {rest:?}"))?,
            )
        }
    };
    Ok((date.and_time(time), zone, resolution, None))
}

/// xinetd's `11 FEB 2026 16:32:10 EST`.
pub(super) fn xinetd(line: &str) -> Result<Fields, String> {
    let words: Vec<&str> = line.split(' ').collect();
    let [day, mon, year, hms, zone] = words[..] else {
        return Err(format!(
            "{} fields instead of 5 (DD MON YYYY HH:MM:SS ZONE)",
            words.len()
        ));
    };
    let day = number(day, day.len(), "day")?;
    let date = date(number(year, 4, "year")? as i32, month(mon)?, day)?;
    let zone = match zone.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "UT" | "Z" => Zone::Utc,
        _ if all_letters(zone) && zone.len() <= 6 => Zone::Unknown {
            abbreviation: Some(zone.to_owned()),
        },
        _ => return Err(format!("zone {zone:?} is not an abbreviation")),
    };
    Ok((date.and_time(time(hms, 0)?), zone, SECOND, None))
}
