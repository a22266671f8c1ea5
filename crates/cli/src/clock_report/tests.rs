use super::*;

/// 2026-02-11 21:30:43 UTC.
const T: u64 = 1_770_845_443;

fn at_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

fn cet() -> FixedOffset {
    FixedOffset::east_opt(3600).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// The local clock runs 0.5 s ahead in these tests, and the round trip
/// takes 18 ms: sent at T + 0.4, received at T + 0.418 (local), while
/// the server showed T (really T + 0.0 .. T + 1.0).
fn exchange() -> Exchange {
    Exchange {
        sent: at_ms(T * 1000 + 900),
        received: at_ms(T * 1000 + 918),
    }
}

#[test]
fn the_offset_is_taken_at_the_middle_of_the_exchange_and_the_second() {
    let e = estimate(at_ms(T * 1000), Duration::from_secs(1), &exchange());
    assert!(close(e.rtt, 0.018), "{e:?}");
    // Local middle T + 0.909, server middle T + 0.5.
    assert!(close(e.offset, 0.409), "{e:?}");
    assert!(close(e.uncertainty, 0.509), "{e:?}");
    let fine = estimate(at_ms(T * 1000 + 400), Duration::from_millis(1), &exchange());
    assert!(close(fine.offset, 0.5085), "{fine:?}");
    assert!(close(fine.uncertainty, 0.0095), "{fine:?}");
    // A clock that went backwards mid-exchange: no negative round trip.
    let odd = Exchange {
        sent: at_ms(2000),
        received: at_ms(1000),
    };
    assert_eq!(estimate(at_ms(5000), Duration::ZERO, &odd).rtt, 0.0);
    assert!(close(
        estimate(at_ms(5000), Duration::ZERO, &odd).offset,
        -3.0
    ));
}

#[test]
fn a_time_reading_in_utc_and_local_time() {
    let raw = time::to_rfc868(at_ms(T * 1000));
    let reading = time::Reading::new(raw, exchange().sent, exchange().received);
    let report = for_time(&reading, &cet());
    assert_eq!(
        report.human(),
        "Server time: 2026-02-11 21:30:43 UTC (RFC 868)\n\
         Local time:  2026-02-11 22:30:43 +01:00\n\
         Offset: local clock is 0.409 s ahead (±0.509 s, round trip 0.018 s)\n"
    );
    let json = report.json();
    assert_eq!(json["raw"], raw);
    assert_eq!(json["server_time"], "2026-02-11T21:30:43Z");
    assert_eq!(json["server_time_local"], "2026-02-11T22:30:43+01:00");
    assert!(close(json["offset_seconds"].as_f64().unwrap(), 0.409));
    assert!(close(json["rtt_seconds"].as_f64().unwrap(), 0.018));
}

#[test]
fn a_nist_line_with_its_health_and_leap_second() {
    let parsed =
        daytime::parse::reply(b"\n61082 26-02-11 21:30:43 00 1 1 34.3 UTC(NIST) *\n").unwrap();
    let report = for_daytime(&parsed, &exchange(), &cet());
    assert_eq!(report.zone, ZoneUse::Known);
    let text = report.human();
    assert!(
        text.starts_with(
            "Server time: 2026-02-11 21:30:43 UTC (NIST, may be off by up to 5 s)\n\
             Local time:  2026-02-11 22:30:43 +01:00\n\
             Offset: local clock is 0.409 s ahead"
        ),
        "{text}"
    );
    assert!(
        text.contains("Warning: NIST says its time may be off by up to 5 s (health 1)\n"),
        "{text}"
    );
    assert!(text.contains("leap second will be added"), "{text}");
    let json = report.json();
    assert_eq!(json["format"], "NIST");
    assert_eq!(json["zone"], "UTC");
    assert_eq!(json["zone_known"], true);
    assert_eq!(json["nist"]["health"], 1);
    assert_eq!(json["nist"]["mjd"], 61082);
    assert_eq!(
        json["raw_line"],
        "61082 26-02-11 21:30:43 00 1 1 34.3 UTC(NIST) *"
    );
}

#[test]
fn a_line_without_zone_takes_the_nearer_of_utc_and_local() {
    // The server showed 22:30:43, local time of the same instant.
    let local = daytime::parse::reply(b"Wed Feb 11 22:30:43 2026\r\n").unwrap();
    let report = for_daytime(&local, &exchange(), &cet());
    assert_eq!(report.zone, ZoneUse::AssumedLocal);
    assert_eq!(SystemTime::from(report.server), at_ms(T * 1000));
    assert!(close(report.estimate.offset, 0.409));
    assert!(
        report
            .human()
            .contains("(ctime, no zone: assumed local time, nearer this clock than UTC)")
    );
    assert_eq!(report.json()["zone_assumed"], "local");
    assert_eq!(report.json()["zone_known"], false);

    let utc = daytime::parse::reply(b"Wed Feb 11 21:30:43 2026").unwrap();
    let report = for_daytime(&utc, &exchange(), &cet());
    assert_eq!(report.zone, ZoneUse::AssumedUtc);
    assert!(report.human().contains("assumed UTC"));

    let est = daytime::parse::reply(b"11 FEB 2026 21:30:43 EST").unwrap();
    let report = for_daytime(&est, &exchange(), &cet());
    assert!(
        report
            .human()
            .contains("(xinetd, zone EST ambiguous: assumed UTC"),
        "{}",
        report.human()
    );
    assert_eq!(report.json()["zone_abbreviation"], "EST");
}

#[test]
fn an_offset_behind_and_a_fraction() {
    let parsed = daytime::parse::reply(b"2026-02-11T21:30:45.2Z").unwrap();
    let report = for_daytime(&parsed, &exchange(), &Utc.fix());
    let text = report.human();
    assert!(
        text.starts_with("Server time: 2026-02-11 21:30:45.200 UTC (RFC 3339)\n"),
        "{text}"
    );
    assert!(
        text.contains("local clock is 1.341 s behind (±0.059 s, round trip 0.018 s)"),
        "{text}"
    );
    assert_eq!(report.json()["server_time"], "2026-02-11T21:30:45.200Z");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Any instant from year 1 to 9999, as a daytime server could write it.
    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (-62_135_596_800i64..253_402_300_799).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
    }

    /// Any local clock from 1970 to 2200.
    fn clock() -> impl Strategy<Value = SystemTime> {
        (0u64..7_258_118_400).prop_map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
    }

    proptest! {
        // What `connect daytime --parse` and `connect time` print, for any
        // line or value a server sends and any local clock and zone: a
        // report, never a panic.
        #[test]
        fn any_server_time_gives_a_report(
            t in instant(),
            which in 0usize..4,
            // Real zones: within 14 hours, whole minutes.
            offset in (-840i32..=840).prop_map(|m| m * 60),
            sent in clock(),
            rtt_ms in 0u64..100_000,
            raw in any::<u32>(),
        ) {
            let zone = FixedOffset::east_opt(offset).unwrap();
            let line = match which {
                0 => t.format("%a %b %e %H:%M:%S %Y").to_string(),
                1 => t.with_timezone(&zone).to_rfc3339(),
                2 => t.format("%d %b %Y %H:%M:%S EST").to_string(),
                _ => t.format("%Y-%m-%dT%H:%M:%S.%fZ").to_string(),
            };
            let parsed = daytime::parse::reply(line.as_bytes()).unwrap();
            let exchange = Exchange { sent, received: sent + Duration::from_millis(rtt_ms) };
            for report in [
                for_daytime(&parsed, &exchange, &zone),
                for_time(&time::Reading::new(raw, exchange.sent, exchange.received), &zone),
            ] {
                prop_assert!(report.estimate.offset.is_finite());
                let mut out = Vec::new();
                print(&report, Output::Human, &mut out).unwrap();
                print(&report, Output::Json, &mut out).unwrap();
                prop_assert!(!out.is_empty());
            }
        }
    }
}
