//! The RFC 868 value, pure: seconds since 1900-01-01 00:00:00 UTC as an
//! unsigned 32-bit number, and back to an instant.
//!
//! 32 bits of seconds last 136 years: the count wraps to 0 on 2036-02-07
//! 06:28:16 UTC. The value alone cannot say which 136-year era it is in,
//! so [`from_rfc868`] takes a nearby instant (the reader's clock) and
//! picks the era closest to it, as NTP does with its own 1900-based
//! seconds (RFC 5905, section 6).

use std::time::{Duration, SystemTime};

/// Seconds from 1900-01-01 to 1970-01-01 (the Unix epoch): 70 years, 17
/// of them leap years. RFC 868 gives it as its example: "2,208,988,800
/// corresponds to 00:00 1 Jan 1970 GMT".
pub const UNIX_EPOCH_RFC868: u64 = 2_208_988_800;

/// The length of one era of the 32-bit count, in seconds.
const ERA: i128 = 1 << 32;

/// Signed seconds of `t` since 1900 (negative before 1900), with the
/// sub-second part dropped towards minus infinity.
fn seconds_since_1900(t: SystemTime) -> i128 {
    let unix = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i128::from(after.as_secs()),
        Err(before) => {
            let d = before.duration();
            // -0.5 s is in second -1, not second 0.
            -i128::from(d.as_secs()) - i128::from(d.subsec_nanos() > 0)
        }
    };
    unix + i128::from(UNIX_EPOCH_RFC868)
}

/// Whether `t` is before 1900-01-01 00:00:00 UTC, which RFC 868 cannot
/// express: a server whose clock says so must not answer.
pub fn before_1900(t: SystemTime) -> bool {
    seconds_since_1900(t) < 0
}

/// The RFC 868 value of `t`: whole seconds since 1900-01-01 00:00:00 UTC,
/// modulo 2^32 (so it wraps to 0 on 2036-02-07 06:28:16 UTC). The
/// fraction of a second is dropped, as every server does.
///
/// ```
/// use std::time::SystemTime;
/// assert_eq!(time::to_rfc868(SystemTime::UNIX_EPOCH), 2_208_988_800);
/// ```
pub fn to_rfc868(t: SystemTime) -> u32 {
    // Exact: the remainder is in 0..2^32.
    seconds_since_1900(t).rem_euclid(ERA) as u32
}

/// The instant `raw` names in the era nearest `near`: of every
/// `raw + k * 2^32` seconds after 1900, the one closest to `near`. With
/// `near` the reader's clock this is right as long as the server's clock
/// is within 68 years of the reader's: after 2036 a small value means
/// 2036 or later, and in 2026 no value is read as before 1900.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_770_827_530);
/// assert_eq!(time::from_rfc868(time::to_rfc868(now), now), now);
/// ```
pub fn from_rfc868(raw: u32, near: SystemTime) -> SystemTime {
    let near = seconds_since_1900(near);
    let base = near - near.rem_euclid(ERA);
    // Never before 1900: the count starts there (era 0 is the earliest).
    let best = [base - ERA, base, base + ERA]
        .map(|era| era + i128::from(raw))
        .into_iter()
        .filter(|c| *c >= 0)
        .min_by_key(|c| (c - near).abs())
        .unwrap_or(i128::from(raw));
    let unix = best - i128::from(UNIX_EPOCH_RFC868);
    let magnitude = Duration::from_secs(u64::try_from(unix.unsigned_abs()).unwrap_or(u64::MAX));
    if unix >= 0 {
        SystemTime::UNIX_EPOCH + magnitude
    } else {
        SystemTime::UNIX_EPOCH - magnitude
    }
}

/// The 4 bytes a server sends at `now` (network byte order), or `None`
/// when its clock says a time before 1900: RFC 868's server "unable to
/// determine the time" closes without sending, and sends no UDP reply.
pub fn reply(now: SystemTime) -> Option<[u8; 4]> {
    (!before_1900(now)).then(|| to_rfc868(now).to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(secs: i64) -> SystemTime {
        if secs >= 0 {
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64)
        } else {
            SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        }
    }

    /// 2036-02-07 06:28:16 UTC, where the count wraps, in Unix seconds.
    const WRAP: i64 = (1 << 32) - UNIX_EPOCH_RFC868 as i64;

    #[test]
    fn the_epoch_offset_is_the_rfcs() {
        assert_eq!(to_rfc868(SystemTime::UNIX_EPOCH), 2_208_988_800);
        assert_eq!(to_rfc868(unix(-2_208_988_800)), 0);
        // RFC 868's other examples.
        assert_eq!(
            to_rfc868(unix(-2_208_988_800 + 2_398_291_200)),
            2_398_291_200
        );
        assert_eq!(WRAP, 2_085_978_496);
        let wrap = chrono::DateTime::from_timestamp(WRAP, 0).unwrap();
        assert_eq!(wrap.to_rfc3339(), "2036-02-07T06:28:16+00:00");
    }

    #[test]
    fn the_fraction_of_a_second_is_dropped() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1999);
        assert_eq!(to_rfc868(t), 2_208_988_801);
        let t = SystemTime::UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(to_rfc868(t), 2_208_988_799);
    }

    #[test]
    fn the_count_wraps_in_2036_and_is_read_back_on_either_side() {
        let before = unix(WRAP - 1);
        let after = unix(WRAP + 1);
        assert_eq!(to_rfc868(before), u32::MAX);
        assert_eq!(to_rfc868(after), 1);
        for near in [
            unix(WRAP - 86_400 * 365),
            unix(WRAP),
            unix(WRAP + 86_400 * 365),
        ] {
            assert_eq!(from_rfc868(u32::MAX, near), before);
            assert_eq!(from_rfc868(1, near), after);
        }
    }

    #[test]
    fn in_2026_no_value_is_read_as_before_1900_or_1970() {
        let now = unix(1_770_827_530);
        for raw in [0, 1, 1000, u32::MAX / 2, u32::MAX] {
            let t = from_rfc868(raw, now);
            // Within 68 years of the reader's clock: 1958 to 2094.
            assert!(t >= unix(1_770_827_530 - (1 << 31)), "{raw}");
            assert!(t <= unix(1_770_827_530 + (1 << 31)), "{raw}");
        }
        // Near 1900 itself the earlier era does not exist.
        assert_eq!(from_rfc868(5, unix(-2_208_988_800)), unix(-2_208_988_795));
        assert_eq!(from_rfc868(u32::MAX, unix(-2_208_988_800)), unix(WRAP - 1));
    }

    #[test]
    fn round_trip_over_many_times() {
        // From 1900 to 2100 in uneven steps, read back with the reader's
        // clock up to 60 years either way.
        let mut secs = -2_208_988_800i64;
        let mut n = 0;
        while secs < 4_102_444_800 && n < 100_000 {
            let t = unix(secs);
            for skew in [0, 86_400 * 365 * 60, -86_400 * 365 * 60] {
                assert_eq!(
                    from_rfc868(to_rfc868(t), unix(secs + skew)),
                    t,
                    "{secs} {skew}"
                );
            }
            secs += 65_537 + (n % 7_919) * 1_000;
            n += 1;
        }
        assert!(n > 1000);
    }

    #[test]
    fn before_1900_there_is_no_reply() {
        assert_eq!(reply(unix(-2_208_988_801)), None);
        assert_eq!(reply(unix(-2_208_988_800)), Some([0; 4]));
        assert_eq!(
            reply(SystemTime::UNIX_EPOCH),
            Some(2_208_988_800u32.to_be_bytes())
        );
    }
}
