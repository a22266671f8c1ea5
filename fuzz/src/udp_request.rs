//! The UDP request path, as far as it is public: netcore's
//! `DatagramPolicy::refuse` for the source, then each service's
//! `DatagramServer::respond` for the datagram. (The loop guard and the
//! rate limiter are private to netcore's loop; its own tests cover them.)
//! Invariants: echo's reply is the request, never larger; discard never
//! answers; chargen answers one line; time answers its 4 bytes, or
//! nothing before 1900; daytime's line parses back to its clock.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use daytime::{Daytime, DaytimeFormat, FixedClock};
use netcore::{DatagramPolicy, DatagramServer};

use super::take;

/// Bytes 0-16: the source address (byte 0 picks IPv4 or IPv6); 17-18:
/// its port; 19-26: the servers' clock; the rest: the datagram.
pub fn udp_request(data: &[u8]) {
    let (family, rest) = take::<1>(data);
    let (ip, rest) = take::<16>(rest);
    let (port, rest) = take::<2>(rest);
    let (clock, request) = take::<8>(rest);
    let ip = if family[0] & 1 == 0 {
        IpAddr::from([ip[0], ip[1], ip[2], ip[3]])
    } else {
        IpAddr::from(ip)
    };
    let peer = SocketAddr::new(ip, u16::from_be_bytes(port));
    policies(peer);
    let now = clock_from(clock);
    responses(request, peer, now);
}

fn policies(peer: SocketAddr) {
    let strict = DatagramPolicy::default();
    let lenient = DatagramPolicy::default().allow_privileged_ports(true);
    let no_loopback = DatagramPolicy::default().allow_loopback(false);
    let refused = strict.refuse(peer);
    // Loosening a rule never refuses more; tightening never refuses less.
    if refused.is_none() {
        assert_eq!(lenient.refuse(peer), None, "{peer}");
    }
    if refused.is_some() {
        assert!(no_loopback.refuse(peer).is_some(), "{peer}");
    }
    // What no policy answers: a reply there would be a reflection.
    let ip = match peer.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if ip.is_unspecified() || ip.is_multicast() {
        assert!(lenient.refuse(peer).is_some(), "{peer}");
    }
}

/// Seconds from the 8 bytes, any time from 1800 to 2200.
fn clock_from(bytes: [u8; 8]) -> SystemTime {
    const SPAN: i64 = 400 * 366 * 86_400;
    let secs = i64::from_be_bytes(bytes).rem_euclid(SPAN) - SPAN / 2;
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn responses(request: &[u8], peer: SocketAddr, now: SystemTime) {
    let respond = |server: &dyn DatagramServer| {
        let mut reply = Vec::new();
        let sent = server.respond(request, peer, &mut reply);
        (sent, reply)
    };
    for mode in [echo::Mode::Stream, echo::Mode::Line] {
        let (sent, reply) = respond(&echo::Echo::new(mode).max_line(16));
        assert!(sent);
        assert_eq!(reply, request);
    }
    assert_eq!(respond(&discard::Discard), (false, Vec::new()));
    let (sent, reply) = respond(&chargen::Chargen::new());
    assert!(sent);
    assert!(reply.len() <= 512 && reply.ends_with(b"\r\n"));
    let (sent, reply) = respond(&time::Time::new().clock(FixedClock(now)));
    assert_eq!(sent, !time::before_1900(now));
    if sent {
        assert_eq!(reply, time::to_rfc868(now).to_be_bytes());
    }
    let server = Daytime::new(DaytimeFormat::lecture().utc(true)).clock(FixedClock(now));
    let (sent, reply) = respond(&server);
    assert!(sent);
    let parsed = daytime::parse::reply(&reply).expect("our own line parses");
    let second = chrono::DateTime::<chrono::Utc>::from(now).naive_utc();
    assert_eq!(parsed.datetime, second);
}
