//! The RFC 868 value round-trips: any instant from 1900 to 2100 comes back
//! from its 32 bits, to the second, when the reader's clock is within 68
//! years of it (the 2036-era rule of `from_rfc868`); and any 32 bits read
//! near any clock give an instant that is those 32 bits again.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;

/// 1900-01-01 and 2100-01-01 00:00:00 UTC in Unix seconds.
const Y1900: i64 = -2_208_988_800;
const Y2100: i64 = 4_102_444_800;
/// Just under 68 years: how far the reader's clock may be from the truth.
const HALF_ERA: i64 = (1 << 31) - 1;

fn unix(secs: i64, nanos: u32) -> SystemTime {
    let whole = if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    };
    whole + Duration::from_nanos(u64::from(nanos))
}

proptest! {
    #[test]
    fn instants_from_1900_to_2100_come_back_to_the_second(
        secs in Y1900..Y2100,
        nanos in 0u32..1_000_000_000,
        skew in -HALF_ERA..=HALF_ERA,
        near_nanos in 0u32..1_000_000_000,
    ) {
        let t = unix(secs, nanos);
        let raw = time::to_rfc868(t);
        prop_assert_eq!(time::reply(t), Some(raw.to_be_bytes()));
        // The reader's clock, anywhere within 68 years (even before 1900:
        // there is no era before the first).
        let near = unix(secs + skew, near_nanos);
        prop_assert_eq!(time::from_rfc868(raw, near), unix(secs, 0));
        let reading = time::Reading::new(raw, near, near);
        prop_assert_eq!(reading.time(), unix(secs, 0));
    }

    #[test]
    fn any_value_read_anywhere_is_that_value_again(
        raw in any::<u32>(),
        // 1700 to 2300: clocks far off, both sides of 1900 and 2036.
        near in -8_520_000_000i64..10_400_000_000,
    ) {
        let t = time::from_rfc868(raw, unix(near, 0));
        prop_assert!(!time::before_1900(t));
        prop_assert_eq!(time::to_rfc868(t), raw);
    }

    #[test]
    fn before_1900_there_is_nothing_to_send(secs in (Y1900 - 3_000_000_000)..Y1900) {
        prop_assert!(time::before_1900(unix(secs, 0)));
        prop_assert_eq!(time::reply(unix(secs, 0)), None);
    }
}
