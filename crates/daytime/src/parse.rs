//! Reading a daytime reply: which of the formats real servers send it is
//! in, and the instant it names. Pure, and never panics, whatever the
//! server sent.
//!
//! RFC 867 prescribes no syntax, so a client can only recognise the
//! formats it knows. These are the ones servers in the wild send:
//!
//! | [`Format`] | example | zone |
//! |---|---|---|
//! | [`Nist`](Format::Nist) | `61082 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *` | UTC |
//! | [`Ctime`](Format::Ctime) | `Wed Feb 11 16:32:10 2026` (inetd, the lecture) | unknown |
//! | [`Rfc3339`](Format::Rfc3339) | `2026-02-11T16:32:10.123+01:00` | written |
//! | [`Xinetd`](Format::Xinetd) | `11 FEB 2026 16:32:10 EST` | UTC/GMT, else unknown |
//!
//! ```
//! use daytime::parse::{self, Format, Zone};
//!
//! let line = parse::reply(b"\n61082 26-02-11 21:30:43 00 0 0 34.3 UTC(NIST) *\n").unwrap();
//! assert_eq!(line.format, Format::Nist);
//! assert_eq!(line.zone, Zone::Utc);
//! assert_eq!(line.utc().unwrap().to_rfc3339(), "2026-02-11T21:30:43+00:00");
//! assert_eq!(line.nist.unwrap().health, 0);
//!
//! let line = parse::reply(b"Sun Feb  1 09:05:03 2026\r\n").unwrap();
//! assert_eq!(line.zone, Zone::Unknown { abbreviation: None });
//! assert_eq!(line.utc(), None);
//! ```

mod formats;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

/// A daytime format this module recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// NIST's ACTS-style line: `JJJJJ YY-MM-DD HH:MM:SS TT L H msADV
    /// UTC(NIST) OTM`, always UTC.
    Nist,
    /// C's `ctime()`/`asctime()`: `Wed Feb 11 16:32:10 2026`, the day
    /// space-padded; no zone (inetd and the lecture send local time).
    Ctime,
    /// RFC 3339: `2026-02-11T16:32:10Z`, with a fraction and an offset
    /// allowed, and a space for the `T`.
    Rfc3339,
    /// xinetd's `11 FEB 2026 16:32:10 EST`: a zone abbreviation, which is
    /// ambiguous (CST is three zones), so only UTC and GMT count as known.
    Xinetd,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Nist => "NIST",
            Format::Ctime => "ctime",
            Format::Rfc3339 => "RFC 3339",
            Format::Xinetd => "xinetd",
        })
    }
}

/// The zone a line's time is in, as far as the line says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Zone {
    /// UTC (NIST, `Z`, `-00:00`, or the abbreviation UTC/GMT).
    Utc,
    /// A numeric offset from UTC (RFC 3339's `+01:00`).
    Offset(FixedOffset),
    /// The line does not say (ctime), or says it in a way that names no
    /// single zone (xinetd's `EST`, kept here).
    Unknown {
        /// The zone abbreviation the line carried, if any.
        abbreviation: Option<String>,
    },
}

/// The fields of a NIST line beyond the date and time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Nist {
    /// The Modified Julian Date (days since 1858-11-17), checked against
    /// the date.
    pub mjd: u32,
    /// US daylight saving: 0 in standard time, 50 in DST, counting down
    /// through the month of a change.
    pub dst: u8,
    /// A leap second at the end of the month: 0 none, 1 added, 2 deleted.
    pub leap: u8,
    /// 0 healthy; 1 may be wrong by up to 5 s; 2 wrong by more than 5 s;
    /// higher, a failure with an unknown error.
    pub health: u8,
    /// Milliseconds the line was sent early to make up for network delay.
    pub advance_ms: f64,
    /// The on-time marker, `*` (`#` once ACTS calibrated the delay).
    pub marker: char,
}

impl Nist {
    /// What [`Nist::health`] means, in a few words.
    pub fn health_text(&self) -> &'static str {
        match self.health {
            0 => "healthy",
            1 => "may be off by up to 5 s",
            2 => "off by more than 5 s",
            _ => "failing, error unknown",
        }
    }
}

/// A recognised daytime line.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Parsed {
    /// The line, without its line ending.
    pub line: String,
    /// Its format.
    pub format: Format,
    /// The date and time as written, in [`Parsed::zone`].
    pub datetime: NaiveDateTime,
    /// Its zone.
    pub zone: Zone,
    /// How fine the time is: 1 s, or less with a fraction of a second.
    /// Servers drop what is finer, so the true instant is in
    /// `[time, time + resolution)`.
    pub resolution: Duration,
    /// NIST's extra fields, for a NIST line.
    pub nist: Option<Nist>,
}

impl Parsed {
    /// The instant, when the zone is known.
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        match &self.zone {
            Zone::Utc => Some(self.datetime.and_utc()),
            Zone::Offset(offset) => offset
                .from_local_datetime(&self.datetime)
                .single()
                .map(|t| t.with_timezone(&Utc)),
            Zone::Unknown { .. } => None,
        }
    }
}

/// Why a reply is not a daytime line this module knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but blank lines (or nothing at all).
    #[error("the server sent no line")]
    Empty,
    /// A byte that is not printable ASCII, CR or LF (RFC 867 recommends
    /// "the ASCII printing characters, space, carriage return, and line
    /// feed").
    #[error("the reply is not text: byte 0x{byte:02x} at offset {offset}")]
    NotText {
        /// The byte.
        byte: u8,
        /// Where it is in the reply.
        offset: usize,
    },
    /// A second non-blank line (RFC 867: "just one line").
    #[error("the reply has more than one line")]
    MoreThanOneLine,
    /// The line's shape is none of the known formats'.
    #[error("not a daytime format netlab knows")]
    Unrecognised,
    /// The line has a format's shape, but a field is wrong.
    #[error("not a valid {format} line: {reason}")]
    Invalid {
        /// The format the line looks like.
        format: Format,
        /// What is wrong with it.
        reason: String,
    },
}

/// Finds the daytime line in a server's whole reply and reads it.
///
/// Blank lines before and after it are skipped (NIST sends one first);
/// it may end in LF, CR LF, or nothing.
pub fn reply(bytes: &[u8]) -> Result<Parsed, ParseError> {
    if let Some((offset, &byte)) = bytes
        .iter()
        .enumerate()
        .find(|(_, b)| !matches!(b, b' '..=b'~' | b'\r' | b'\n'))
    {
        return Err(ParseError::NotText { byte, offset });
    }
    // Printable ASCII, CR and LF only: valid UTF-8.
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotText {
        byte: bytes.get(e.valid_up_to()).copied().unwrap_or(0),
        offset: e.valid_up_to(),
    })?;
    let mut found = None;
    let mut offset = 0;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        // A CR anywhere but before LF would move the cursor on a terminal.
        if let Some(at) = line.find('\r') {
            return Err(ParseError::NotText {
                byte: b'\r',
                offset: offset + at,
            });
        }
        offset += raw.len() + 1;
        if line.trim().is_empty() {
            continue;
        }
        if found.is_some() {
            return Err(ParseError::MoreThanOneLine);
        }
        found = Some(line);
    }
    line(found.ok_or(ParseError::Empty)?)
}

/// Reads one line (no line ending) in any of the known formats.
pub fn line(line: &str) -> Result<Parsed, ParseError> {
    let text = line.trim_end_matches([' ', '\t']);
    let format = formats::shape(text).ok_or(ParseError::Unrecognised)?;
    let (datetime, zone, resolution, nist) = match format {
        Format::Nist => formats::nist(text),
        Format::Ctime => formats::ctime(text),
        Format::Rfc3339 => formats::rfc3339(text),
        Format::Xinetd => formats::xinetd(text),
    }
    .map_err(|reason| ParseError::Invalid { format, reason })?;
    Ok(Parsed {
        line: line.to_owned(),
        format,
        datetime,
        zone,
        resolution,
        nist,
    })
}
