//! Value parsers for netlab's flags. Each one says what is allowed when a
//! value is refused, and clap prefixes the option's name, so a bad value
//! reads `invalid value '-1' for '--port <PORT>': ports are 0 to 65535`.
//!
//! Numeric arguments are declared with `allow_negative_numbers`: without
//! it clap takes `-1` for an unknown flag ("unexpected argument '-1'")
//! and never says which option was wrong; with it, `-1` reaches these
//! parsers, which refuse it by name.

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// The longest time any option takes: a year.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// A number of seconds, fractions allowed (`0.5`), from 0 up to a year.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let refused =
        || format!("give a number of seconds from 0 to {MAX_SECONDS} (fractions allowed: 0.5)");
    let secs: f64 = text.trim().parse().map_err(|_| refused())?;
    if !(0.0..=MAX_SECONDS).contains(&secs) {
        return Err(refused());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A port to listen on: 0 (any free port) to 65535.
pub fn port(text: &str) -> Result<u16, String> {
    whole(text, 0, u16::MAX)
        .map_err(|()| "give a port from 0 to 65535 (0: any free port)".to_owned())
}

/// A server's port: 1 to 65535 (nothing can be reached on port 0).
pub fn server_port(text: &str) -> Result<u16, String> {
    whole(text, 1, u16::MAX).map_err(|()| "give the server's port, 1 to 65535".to_owned())
}

/// A host name or address, which cannot be empty: an empty name would go
/// to the resolver and come back as "no such host" (exit 68), which
/// misleads about what was wrong.
pub fn host(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(
            "the host is empty; give an IP address such as 127.0.0.1 or ::1, or a host name"
                .to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// A parser for whole numbers from `min` to `max`, for clap's
/// `value_parser`.
pub fn between<T>(min: T, max: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: FromStr + PartialOrd + Display + Copy + Send + Sync + 'static,
{
    move |text| {
        whole(text, min, max).map_err(|()| format!("give a whole number from {min} to {max}"))
    }
}

/// A parser for whole numbers of at least `min` (up to what `T` holds).
pub fn at_least<T>(min: T) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: FromStr + PartialOrd + Display + Copy + Send + Sync + 'static,
{
    move |text| match text.trim().parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!("give a whole number of {min} or more")),
    }
}

/// A byte count: digits and an optional binary suffix (K, M, G: KiB,
/// MiB, GiB), at least 1.
pub fn bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a byte count (like 1048576, 256M, 1G)"))?;
    let unit: u64 = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ if suffix.starts_with(['.', ',']) => {
            return Err(format!(
                "`{s}` is not a whole number of bytes: give 1536 rather than 1.5K"
            ));
        }
        _ => return Err(format!("unknown unit in `{s}`: use K, M or G")),
    };
    match n.checked_mul(unit) {
        Some(0) => Err("the byte count must be at least 1".into()),
        Some(v) => Ok(v),
        None => Err(format!("`{s}` is too large")),
    }
}

fn whole<T: FromStr + PartialOrd>(text: &str, min: T, max: T) -> Result<T, ()> {
    match text.trim().parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_fractions_and_refuse_junk() {
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("3"), Ok(Duration::from_secs(3)));
        assert!(seconds("-1").is_err());
        assert!(seconds("1e19").is_err());
        assert!(seconds("NaN").is_err());
        assert!(seconds("soon").is_err());
    }

    #[test]
    fn byte_counts_say_what_is_wrong() {
        assert_eq!(bytes("1536"), Ok(1536));
        assert_eq!(bytes("2K"), Ok(2048));
        assert!(bytes("1.5K").unwrap_err().contains("whole number of bytes"));
        assert!(bytes("3Q").unwrap_err().contains("use K, M or G"));
    }

    #[test]
    fn ports_say_what_is_allowed() {
        assert_eq!(port("0"), Ok(0));
        assert_eq!(port("65535"), Ok(65535));
        for bad in ["-1", "65536", "seven", ""] {
            assert!(port(bad).unwrap_err().contains("from 0 to 65535"), "{bad}");
        }
        assert_eq!(server_port("7"), Ok(7));
        assert!(server_port("0").unwrap_err().contains("1 to 65535"));
        assert!(server_port("-7").unwrap_err().contains("1 to 65535"));
    }

    #[test]
    fn whole_numbers_refuse_negatives_with_the_range() {
        let threads = between(1u64, 1024);
        assert_eq!(threads("4"), Ok(4));
        assert_eq!(
            threads("-5").unwrap_err(),
            "give a whole number from 1 to 1024"
        );
        let connections = at_least(1u64);
        assert_eq!(connections("10000"), Ok(10_000));
        assert_eq!(
            connections("-5").unwrap_err(),
            "give a whole number of 1 or more"
        );
        assert!(connections("0").is_err());
    }

    #[test]
    fn byte_counts_take_binary_suffixes() {
        assert_eq!(bytes("4096"), Ok(4096));
        assert_eq!(bytes("256M"), Ok(256 << 20));
        assert_eq!(bytes("1GiB"), Ok(1 << 30));
        assert_eq!(bytes("8k"), Ok(8192));
        assert!(bytes("0").is_err());
        assert!(bytes("12X").is_err());
        assert!(bytes("-1").is_err());
    }

    #[test]
    fn an_empty_host_is_refused() {
        assert!(host("").unwrap_err().contains("the host is empty"));
        assert!(host("  ").is_err());
        assert_eq!(host("::1%lo"), Ok("::1%lo".to_owned()));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Text a user might type for a number: digits, signs, dots,
        /// exponents, suffixes, blanks, and anything else now and then.
        const NUMBERISH: &str = "[ \\t]?[-+]?[0-9]{0,25}([.,][0-9]{0,5})?([eE][-+]?[0-9]{1,4})?[kKmMgGbBiIqQ]{0,3}[ ]?|\\PC{0,12}";

        proptest! {
            #[test]
            fn no_text_makes_a_parser_panic(text in NUMBERISH) {
                // Ok or Err, each with a message for the user; never a panic.
                if let Ok(d) = seconds(&text) {
                    prop_assert!(d <= Duration::from_secs_f64(MAX_SECONDS));
                }
                let _ = port(&text);
                if let Ok(p) = server_port(&text) {
                    prop_assert!(p >= 1);
                }
                let _ = host(&text);
                prop_assert!(bytes(&text).map_or(true, |n| n >= 1));
                prop_assert!(between(1u64, 1024)(&text).map_or(true, |n| (1..=1024).contains(&n)));
                prop_assert!(between(-5i32, 5)(&text).map_or(true, |n| (-5..=5).contains(&n)));
                prop_assert!(at_least(1usize)(&text).map_or(true, |n| n >= 1));
                for parsed in [port(&text), server_port(&text)] {
                    if let Err(message) = parsed {
                        prop_assert!(!message.is_empty());
                    }
                }
            }

            #[test]
            fn every_port_reads_back(p in any::<u16>(), pad in "[ ]{0,2}") {
                prop_assert_eq!(port(&format!("{pad}{p}{pad}")), Ok(p));
                prop_assert_eq!(server_port(&p.to_string()).is_ok(), p != 0);
            }

            #[test]
            fn byte_counts_read_back_or_say_too_large(n in any::<u64>(), unit in 0usize..4) {
                let (suffix, scale) = [("", 1u64), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)][unit];
                let parsed = bytes(&format!("{n}{suffix}"));
                match n.checked_mul(scale) {
                    Some(0) => prop_assert!(parsed.is_err()),
                    Some(v) => prop_assert_eq!(parsed, Ok(v)),
                    None => prop_assert!(parsed.unwrap_err().contains("too large")),
                }
            }
        }
    }
}
