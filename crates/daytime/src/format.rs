//! The daytime line, computed from a clock and a format: pure, shared by TCP,
//! UDP and tests.

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Datelike, Local, TimeZone, Utc};

/// The lecture's format: `time.asctime()`, C's `ctime` without the newline:
/// `Wed Feb 11 16:32:10 2026`, the day of the month space-padded.
pub const ASCTIME: &str = "%a %b %e %H:%M:%S %Y";

/// How a line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    /// `\n`, as the lecture's `daytimeserver.py` sends.
    #[default]
    Lf,
    /// `\r\n`, as inetd's built-in daytime sends.
    CrLf,
}

impl LineEnding {
    /// The ending's bytes as a string.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// What the daytime line looks like: a strftime format, local time or UTC,
/// and the line ending. RFC 867 prescribes no syntax; the default is the
/// lecture's (`asctime`, local time, `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaytimeFormat {
    strftime: String,
    utc: bool,
    ending: LineEnding,
}

impl Default for DaytimeFormat {
    fn default() -> Self {
        DaytimeFormat {
            strftime: ASCTIME.to_owned(),
            utc: false,
            ending: LineEnding::Lf,
        }
    }
}

/// A strftime format chrono cannot render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time format {format:?}: {why}")]
#[non_exhaustive]
pub struct FormatError {
    /// The format as given.
    pub format: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl DaytimeFormat {
    /// The lecture's line: `asctime`, local time, `\n`.
    pub fn lecture() -> Self {
        DaytimeFormat::default()
    }

    /// inetd's line: `ctime`, local time, `\r\n`.
    pub fn inetd() -> Self {
        DaytimeFormat::default().ending(LineEnding::CrLf)
    }

    /// Use a custom strftime format (chrono's syntax, `%Y-%m-%d %H:%M:%S`).
    /// Fails on a specifier chrono does not know, or on a line break inside
    /// the format (RFC 867: "The daytime should be just one line").
    ///
    /// ```
    /// let f = daytime::DaytimeFormat::lecture().strftime("%Y-%m-%d").unwrap();
    /// assert!(daytime::DaytimeFormat::lecture().strftime("%Q").is_err());
    /// # let _ = f;
    /// ```
    pub fn strftime(mut self, format: &str) -> Result<Self, FormatError> {
        let bad = |why| FormatError {
            format: format.to_owned(),
            why,
        };
        if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
            return Err(bad("unknown or incomplete % specifier"));
        }
        if format.contains(['\n', '\r']) || format.contains("%n") {
            return Err(bad(
                "the daytime is one line; the line ending is a separate option",
            ));
        }
        self.strftime = format.to_owned();
        Ok(self)
    }

    /// The strftime format in use.
    pub fn strftime_str(&self) -> &str {
        &self.strftime
    }

    /// Render in UTC instead of local time.
    pub fn utc(mut self, utc: bool) -> Self {
        self.utc = utc;
        self
    }

    /// End the line with `ending`.
    pub fn ending(mut self, ending: LineEnding) -> Self {
        self.ending = ending;
        self
    }

    /// The line for the instant `now`, ending included.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use daytime::DaytimeFormat;
    /// let now = Utc.with_ymd_and_hms(2026, 2, 1, 9, 5, 3).unwrap();
    /// assert_eq!(DaytimeFormat::lecture().utc(true).line(now), "Sun Feb  1 09:05:03 2026\n");
    /// ```
    pub fn line(&self, now: DateTime<Utc>) -> String {
        let mut line = if self.utc {
            now.format(&self.strftime).to_string()
        } else {
            now.with_timezone(&Local).format(&self.strftime).to_string()
        };
        line.push_str(self.ending.as_str());
        line
    }

    /// The length in bytes of the longest line this format makes around
    /// `now`: the most of [`DaytimeFormat::line`] at `now` and at instants
    /// in `now`'s year that give every month name, weekday name and
    /// two-digit day and hour its turn (and both sides of a summer-time
    /// change), ending included. For checking once, before serving, that
    /// every line fits in a UDP datagram.
    ///
    /// ```
    /// let f = daytime::DaytimeFormat::lecture().strftime("%A, %B").unwrap();
    /// // "Wednesday, September\n"
    /// assert_eq!(f.utc(true).longest_line(chrono::Utc::now()), 21);
    /// ```
    pub fn longest_line(&self, now: DateTime<Utc>) -> usize {
        let year = now.year();
        // The 28th exists in every month; 21 to 27 September is a week of
        // the longest month name.
        let months =
            (1..=12).filter_map(|m| Utc.with_ymd_and_hms(year, m, 28, 23, 59, 59).single());
        let week = (21..=27).filter_map(|d| Utc.with_ymd_and_hms(year, 9, d, 12, 0, 0).single());
        std::iter::once(now)
            .chain(months)
            .chain(week)
            .map(|t| self.line(t).len())
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn lecture_line_pads_the_day_with_a_space() {
        let f = DaytimeFormat::lecture().utc(true);
        assert_eq!(
            f.line(at(2026, 2, 11, 16, 32, 10)),
            "Wed Feb 11 16:32:10 2026\n"
        );
        assert_eq!(
            f.line(at(2026, 2, 1, 9, 5, 3)),
            "Sun Feb  1 09:05:03 2026\n"
        );
        assert_eq!(f.line(at(2026, 2, 1, 9, 5, 3)).len(), 25);
    }

    #[test]
    fn the_longest_line_gives_every_name_its_turn() {
        let f = DaytimeFormat::lecture().utc(true);
        assert_eq!(f.longest_line(at(2026, 5, 1, 0, 0, 0)), 25);
        // In May, the month name is short; the longest is September's.
        let names = f.strftime("%A %B").unwrap();
        assert_eq!(names.line(at(2026, 5, 1, 0, 0, 0)), "Friday May\n");
        assert_eq!(
            names.longest_line(at(2026, 5, 1, 0, 0, 0)),
            "Wednesday September\n".len()
        );
    }

    #[test]
    fn inetd_line_ends_with_crlf() {
        let f = DaytimeFormat::inetd().utc(true);
        assert_eq!(
            f.line(at(2026, 11, 25, 7, 57, 10)),
            "Wed Nov 25 07:57:10 2026\r\n"
        );
    }

    #[test]
    fn custom_format_round_trips() {
        let f = DaytimeFormat::lecture()
            .utc(true)
            .strftime("%Y-%m-%d %H:%M:%S")
            .unwrap();
        let t = at(2030, 12, 31, 23, 59, 59);
        let line = f.line(t);
        let parsed = NaiveDateTime::parse_from_str(line.trim_end(), "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(parsed, t.naive_utc());
    }

    #[test]
    fn bad_formats_are_refused() {
        assert!(DaytimeFormat::lecture().strftime("%").is_err());
        assert!(DaytimeFormat::lecture().strftime("%H\n%M").is_err());
        assert!(DaytimeFormat::lecture().strftime("%n").is_err());
        let err = DaytimeFormat::lecture().strftime("%Q").unwrap_err();
        assert!(err.to_string().starts_with("invalid time format \"%Q\""));
    }

    #[test]
    fn asctime_round_trips() {
        let f = DaytimeFormat::lecture().utc(true);
        for t in [
            at(1999, 12, 31, 23, 59, 59),
            at(2026, 1, 5, 0, 0, 0),
            at(2036, 2, 7, 6, 28, 16),
        ] {
            let line = f.line(t);
            let parsed = NaiveDateTime::parse_from_str(line.trim_end(), ASCTIME).unwrap();
            assert_eq!(parsed, t.naive_utc());
        }
    }
}
