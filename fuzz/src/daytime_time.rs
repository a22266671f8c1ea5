//! The daytime `--parse` path and the time client's reply handling: the
//! fuzzed bytes are what a server sent. They are read by
//! `daytime::parse::reply` directly, then fetched from our responder by
//! `daytime::fetch`/`fetch_udp` and parsed as `connect daytime --parse`
//! does, and read by `time::query`/`query_udp`.

use std::time::{Duration, SystemTime};

use daytime::parse;
use netcore::Client;

use super::responder::{Style, with_reply};

/// What `connect daytime --parse` reads at most.
const LIMIT: usize = 4096;

/// First byte: bit 0 picks TCP or UDP; the rest: the server's reply.
pub fn daytime_time(data: &[u8]) {
    let Some((&which, reply)) = data.split_first() else {
        return;
    };
    let direct = parse::reply(reply);
    if let Ok(parsed) = &direct {
        assert!(!parsed.line.contains(['\r', '\n']), "{:?}", parsed.line);
        assert!(!parsed.line.trim().is_empty());
        let _ = parsed.utc();
        let _ = parsed.nist.map(|n| n.health_text());
    }
    rfc868(reply);
    let udp = which & 1 == 1;
    let client = Client::new()
        .timeout(Some(Duration::from_millis(500)))
        .read_timeout(Some(Duration::from_millis(200)))
        .retries(0);
    with_reply(Style::Raw, reply, |addr| {
        let (host, port) = ("127.0.0.1", addr.port());
        let fetched = if udp {
            daytime::fetch_udp(&client, host, port)
        } else {
            daytime::fetch(&client, host, port, LIMIT)
        };
        match fetched {
            Ok(got) => {
                assert_eq!(got.bytes, reply);
                assert_eq!(parse::reply(&got.bytes), direct);
            }
            Err(daytime::Error::TooLong { .. }) => assert!(!udp && reply.len() > LIMIT),
            Err(_) => {}
        }
        let reading = if udp {
            time::query_udp(&client, host, port)
        } else {
            time::query(&client, host, port)
        };
        match reading {
            Ok(reading) => {
                let raw: [u8; 4] = reply.try_into().expect("a reading is 4 bytes");
                assert_eq!(reading.raw, u32::from_be_bytes(raw));
                assert_eq!(time::to_rfc868(reading.time()), reading.raw);
            }
            Err(time::Error::Length { got }) => {
                assert_ne!(reply.len(), 4);
                // Over TCP the client stops counting at a fifth byte.
                assert_eq!(got, if udp { reply.len() } else { reply.len().min(5) });
            }
            Err(_) => {}
        }
    });
}

/// Four bytes read in the era nearest a clock from the next eight (any
/// time from 1700 to 2300) name an instant whose value is those bytes.
fn rfc868(reply: &[u8]) {
    let (raw, rest) = super::take::<4>(reply);
    let (near, _) = super::take::<8>(rest);
    const SPAN: i64 = 600 * 366 * 86_400;
    let near = i64::from_be_bytes(near).rem_euclid(SPAN) - SPAN / 2 + 1_000_000_000;
    let near = if near >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(near.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(near.unsigned_abs())
    };
    let raw = u32::from_be_bytes(raw);
    let t = time::from_rfc868(raw, near);
    assert!(!time::before_1900(t));
    assert_eq!(time::to_rfc868(t), raw);
}
