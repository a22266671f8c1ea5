//! What `connect time` and `connect daytime --parse` print: the server's
//! time, in UTC and in local time, and how far the local clock is from
//! it. The arithmetic is pure (the local zone is passed in), so it is
//! tested with fixed clocks.
//!
//! The estimate: the server read its clock at some instant between `sent`
//! and `received` (see `time::Reading` and `daytime::TimedReply` for what
//! those are over TCP and UDP); taking the midpoint, the error is at most
//! half the round trip. Servers drop the fraction of a second, so their
//! true time is in `[shown, shown + resolution)`: the middle of that
//! interval is used, and half the resolution added to the error.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
use daytime::parse::{Nist, Parsed, Zone};
use serde_json::{Value, json};

use crate::connect::Failure;
use crate::connect::Reply;

/// The local zone: the real one ([`Local`]) or a fixed one in tests.
pub trait LocalZone {
    /// The zone's offset from UTC at `at`.
    fn offset_at(&self, at: DateTime<Utc>) -> FixedOffset;
    /// The instant a local wall-clock time names (the earlier of two in a
    /// repeated hour; none in a skipped one).
    fn instant_of(&self, wall: NaiveDateTime) -> Option<DateTime<Utc>>;
}

impl LocalZone for Local {
    fn offset_at(&self, at: DateTime<Utc>) -> FixedOffset {
        self.offset_from_utc_datetime(&at.naive_utc()).fix()
    }
    fn instant_of(&self, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.from_local_datetime(&wall)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

impl LocalZone for FixedOffset {
    fn offset_at(&self, _: DateTime<Utc>) -> FixedOffset {
        *self
    }
    fn instant_of(&self, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.from_local_datetime(&wall)
            .single()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// The local clock around an exchange with a server.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    /// As the request went out.
    pub sent: SystemTime,
    /// As the reply arrived.
    pub received: SystemTime,
}

/// How far the local clock is from the server's, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Local minus server: positive when the local clock is ahead.
    pub offset: f64,
    /// The most the offset can be wrong by (half the round trip plus
    /// half the server's resolution).
    pub uncertainty: f64,
    /// The round trip.
    pub rtt: f64,
}

/// Seconds from `a` to `b` (negative when `b` is earlier).
fn seconds_between(a: SystemTime, b: SystemTime) -> f64 {
    match b.duration_since(a) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// The estimate for a server that showed `server` (truncated to
/// `resolution`) during `exchange`.
pub fn estimate(server: SystemTime, resolution: Duration, exchange: &Exchange) -> Estimate {
    let rtt = seconds_between(exchange.sent, exchange.received).max(0.0);
    let middle_of_server = resolution.as_secs_f64() / 2.0;
    // Local clock at the middle of the exchange, minus the server's.
    let offset = seconds_between(server, exchange.sent) + rtt / 2.0 - middle_of_server;
    Estimate {
        offset,
        uncertainty: rtt / 2.0 + middle_of_server,
        rtt,
    }
}

/// How the zone of the server's time was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneUse {
    /// The server said it.
    Known,
    /// The server did not; UTC gave the smaller offset.
    AssumedUtc,
    /// The server did not; local time gave the smaller offset.
    AssumedLocal,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Report {
    /// The server's time as it showed it (truncated), in UTC.
    pub server: DateTime<Utc>,
    /// The local zone's offset at that instant.
    pub local_offset: FixedOffset,
    /// Where the time came from, for the first line: `RFC 868`,
    /// `NIST, healthy`, `ctime, no zone: assumed UTC …`.
    pub source: String,
    /// How the zone was settled.
    pub zone: ZoneUse,
    /// The offset.
    pub estimate: Estimate,
    /// Lines that deserve attention (NIST's health, a leap second).
    pub warnings: Vec<String>,
    /// What `--json` adds for this protocol.
    pub extra: serde_json::Map<String, Value>,
}

fn system_time(t: DateTime<Utc>) -> SystemTime {
    SystemTime::from(t)
}

/// The report for an RFC 868 reading.
pub fn for_time(reading: &time::Reading, zone: &dyn LocalZone) -> Report {
    let server: DateTime<Utc> = reading.time().into();
    let exchange = Exchange {
        sent: reading.sent,
        received: reading.received,
    };
    let mut extra = serde_json::Map::new();
    extra.insert("raw".into(), json!(reading.raw));
    Report {
        server,
        local_offset: zone.offset_at(server),
        source: "RFC 868".to_owned(),
        zone: ZoneUse::Known,
        estimate: estimate(reading.time(), Duration::from_secs(1), &exchange),
        warnings: Vec::new(),
        extra,
    }
}

/// The report for a parsed daytime line. A line without a zone is read
/// both as UTC and as local time, and the reading nearer the local clock
/// is taken (and said to be assumed).
pub fn for_daytime(parsed: &Parsed, exchange: &Exchange, zone: &dyn LocalZone) -> Report {
    let as_utc = parsed.datetime.and_utc();
    let (server, zone_use) = match parsed.utc() {
        Some(t) => (t, ZoneUse::Known),
        None => {
            let off = |t: DateTime<Utc>| {
                estimate(system_time(t), parsed.resolution, exchange)
                    .offset
                    .abs()
            };
            match zone.instant_of(parsed.datetime) {
                Some(local) if off(local) < off(as_utc) => (local, ZoneUse::AssumedLocal),
                _ => (as_utc, ZoneUse::AssumedUtc),
            }
        }
    };
    let mut source = parsed.format.to_string();
    let abbreviation = match &parsed.zone {
        Zone::Unknown { abbreviation } => abbreviation.clone(),
        _ => None,
    };
    let unknown = match &abbreviation {
        Some(a) => format!("zone {a} ambiguous"),
        None => "no zone".to_owned(),
    };
    match zone_use {
        ZoneUse::Known => {}
        ZoneUse::AssumedUtc => source.push_str(&format!(
            ", {unknown}: assumed UTC, nearer this clock than local time"
        )),
        ZoneUse::AssumedLocal => source.push_str(&format!(
            ", {unknown}: assumed local time, nearer this clock than UTC"
        )),
    }
    let mut warnings = Vec::new();
    if let Some(nist) = &parsed.nist {
        source.push_str(&format!(", {}", nist.health_text()));
        warnings.extend(nist_warnings(nist));
    }
    let mut extra = serde_json::Map::new();
    extra.insert("raw_line".into(), json!(parsed.line));
    extra.insert("format".into(), json!(parsed.format.to_string()));
    let zone_text = match (&parsed.zone, zone_use) {
        (Zone::Utc, _) => json!("UTC"),
        (Zone::Offset(o), _) => json!(o.to_string()),
        (_, ZoneUse::AssumedLocal) => json!("local"),
        _ => json!("UTC"),
    };
    extra.insert(
        if zone_use == ZoneUse::Known {
            "zone"
        } else {
            "zone_assumed"
        }
        .into(),
        zone_text,
    );
    if let Some(a) = abbreviation {
        extra.insert("zone_abbreviation".into(), json!(a));
    }
    if let Some(n) = &parsed.nist {
        extra.insert(
            "nist".into(),
            json!({
                "mjd": n.mjd, "dst": n.dst, "leap": n.leap, "health": n.health,
                "health_text": n.health_text(), "advance_ms": n.advance_ms,
                "marker": n.marker.to_string(),
            }),
        );
    }
    Report {
        server,
        local_offset: zone.offset_at(server),
        source,
        zone: zone_use,
        estimate: estimate(system_time(server), parsed.resolution, exchange),
        warnings,
        extra,
    }
}

fn nist_warnings(nist: &Nist) -> Vec<String> {
    let mut warnings = Vec::new();
    if nist.health > 0 {
        warnings.push(format!(
            "Warning: NIST says its time {} (health {})",
            nist.health_text(),
            nist.health
        ));
    }
    match nist.leap {
        1 => warnings.push("Note: a leap second will be added at the end of this month".to_owned()),
        2 => {
            warnings.push("Note: a leap second will be deleted at the end of this month".to_owned())
        }
        _ => {}
    }
    warnings
}

impl Report {
    /// The lines a person reads.
    pub fn human(&self) -> String {
        let e = &self.estimate;
        let local = self.server.with_timezone(&self.local_offset);
        let direction = if e.offset >= 0.0 { "ahead" } else { "behind" };
        let mut text = format!(
            "Server time: {} UTC ({})\nLocal time:  {}\nOffset: local clock is {:.3} s {direction} (±{:.3} s, round trip {:.3} s)\n",
            self.server.format("%Y-%m-%d %H:%M:%S%.f"),
            self.source,
            local.format("%Y-%m-%d %H:%M:%S%.f %:z"),
            e.offset.abs(),
            e.uncertainty,
            e.rtt,
        );
        for w in &self.warnings {
            text.push_str(w);
            text.push('\n');
        }
        text
    }

    /// One JSON object.
    pub fn json(&self) -> Value {
        let mut object = serde_json::Map::new();
        object.insert(
            "server_time".into(),
            json!(self.server.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        );
        object.insert(
            "server_time_local".into(),
            json!(
                self.server
                    .with_timezone(&self.local_offset)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true)
            ),
        );
        object.insert("zone_known".into(), json!(self.zone == ZoneUse::Known));
        object.extend(self.extra.clone());
        object.insert("offset_seconds".into(), json!(self.estimate.offset));
        object.insert(
            "uncertainty_seconds".into(),
            json!(self.estimate.uncertainty),
        );
        object.insert("rtt_seconds".into(), json!(self.estimate.rtt));
        object.insert("warnings".into(), json!(self.warnings));
        Value::Object(object)
    }
}

/// How to print a [`Report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// [`Report::human`].
    Human,
    /// [`Report::json`], one line.
    Json,
}

/// Writes `report` to `out`.
pub fn print(report: &Report, output: Output, out: &mut impl Write) -> io::Result<()> {
    match output {
        Output::Human => out.write_all(report.human().as_bytes()),
        Output::Json => writeln!(out, "{}", report.json()),
    }
}

/// The server sent something that is not a time: shows `shown` (what it
/// sent, through `out`, so escaped on a terminal) and returns the failure
/// that reports `message` and `hint` as the one error line, exit 65
/// (EX_DATAERR).
pub fn data_error(out: &mut Reply<'_>, shown: Option<&[u8]>, message: &str, hint: &str) -> Failure {
    if let Some(bytes) = shown {
        if let Err(e) = out.write_all(bytes) {
            return Failure::Output(e);
        }
    }
    Failure::Data {
        message: message.to_owned(),
        hint: hint.to_owned(),
    }
}

#[cfg(test)]
mod tests;
