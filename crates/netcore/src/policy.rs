//! The rules a UDP server checks before it answers: UDP echo and daytime
//! can be turned into reflectors and packet loops (CVE-1999-0103, CERT
//! CA-1996-01), so netcore refuses the dangerous sources and rate-limits the
//! rest.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Which datagrams a UDP server answers.
///
/// The defaults follow the inetd built-ins: no reply to a privileged source
/// port (below 1024: another service such as echo, chargen or DNS, which
/// would loop), to port 2049 (NFS), or to a broadcast, multicast or
/// unspecified source; at most [`DatagramPolicy::rate_per_source`] replies
/// a second to one source address. Loopback sources are answered and not
/// rate-limited by default (they cannot be spoofed from outside, and
/// OpenBSD's blanket loopback ban breaks local testing).
///
/// ```
/// let policy = netcore::DatagramPolicy::default()
///     .allow_privileged_ports(true)
///     .rate_per_source(10);
/// assert!(policy.allow_loopback);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatagramPolicy {
    /// Answer sources with a port below 1024 (and 2049).
    pub allow_privileged_ports: bool,
    /// Answer loopback sources (127.0.0.0/8, `::1`).
    pub allow_loopback: bool,
    /// Replies per second to one non-loopback source address; 0 means no
    /// limit. Bursts of up to twice this are allowed.
    pub rate_per_source: u32,
}

impl Default for DatagramPolicy {
    fn default() -> Self {
        DatagramPolicy {
            allow_privileged_ports: false,
            allow_loopback: true,
            rate_per_source: 100,
        }
    }
}

impl DatagramPolicy {
    /// Answer (or not) sources with a privileged port.
    pub fn allow_privileged_ports(mut self, allow: bool) -> Self {
        self.allow_privileged_ports = allow;
        self
    }

    /// Answer (or not) loopback sources.
    pub fn allow_loopback(mut self, allow: bool) -> Self {
        self.allow_loopback = allow;
        self
    }

    /// Replies per second to one non-loopback source (0: no limit).
    pub fn rate_per_source(mut self, rate: u32) -> Self {
        self.rate_per_source = rate;
        self
    }

    /// Why a datagram from `peer` gets no reply, or `None` to answer it.
    /// Does not count against the rate limit.
    ///
    /// ```
    /// use netcore::DatagramPolicy;
    /// let policy = DatagramPolicy::default();
    /// assert_eq!(policy.refuse("127.0.0.1:40000".parse().unwrap()), None);
    /// assert_eq!(
    ///     policy.refuse("127.0.0.1:19".parse().unwrap()),
    ///     Some("privileged source port")
    /// );
    /// ```
    pub fn refuse(&self, peer: SocketAddr) -> Option<&'static str> {
        let peer = crate::unmap(peer);
        let ip = peer.ip();
        if ip.is_unspecified() {
            return Some("unspecified source address");
        }
        if ip.is_multicast() || is_broadcast(ip) {
            return Some("broadcast or multicast source");
        }
        if !self.allow_privileged_ports && (peer.port() < 1024 || peer.port() == 2049) {
            return Some("privileged source port");
        }
        if !self.allow_loopback && ip.is_loopback() {
            return Some("loopback source");
        }
        None
    }
}

fn is_broadcast(ip: IpAddr) -> bool {
    match ip {
        // Directed broadcasts of other subnets look like unicast here; the
        // limited broadcast and the x.x.x.255 host of /24s are the common
        // reflection targets.
        IpAddr::V4(v4) => v4.is_broadcast() || v4.octets()[3] == 255,
        IpAddr::V6(_) => false,
    }
}

/// A token bucket per source address, for one UDP service.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

/// Most sources remembered at once; beyond it, the full buckets are
/// forgotten (a forgotten source starts with a full bucket, so forgetting
/// only the full ones changes nothing).
const MAX_SOURCES: usize = 65_536;

impl RateLimiter {
    /// A limiter allowing `rate` replies a second per source (0: no limit).
    pub fn new(rate: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate),
            buckets: HashMap::new(),
        }
    }

    /// Whether one more reply to `ip` at `now` is within the limit; takes a
    /// token when it is (bursts of twice the rate).
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let burst = self.rate * 2.0;
        if self.buckets.len() >= MAX_SOURCES && !self.buckets.contains_key(&ip) {
            let rate = self.rate;
            self.buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
            if self.buckets.len() >= MAX_SOURCES {
                // A spoofed flood from more sources than we remember: do
                // not scan the full table again for every new source.
                // Forgetting gives each a full bucket once more, which the
                // loop guard and the policy still bound.
                self.buckets.clear();
            }
        }
        let (tokens, at) = self.buckets.entry(ip).or_insert((burst, now));
        *tokens =
            (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_source_gets_a_burst_of_twice_the_rate_then_waits() {
        let mut limiter = super::RateLimiter::new(1);
        let ip = "192.0.2.1".parse().unwrap();
        let now = std::time::Instant::now();
        assert!(limiter.allow(ip, now));
        assert!(limiter.allow(ip, now));
        assert!(!limiter.allow(ip, now));
        assert!(limiter.allow(ip, now + std::time::Duration::from_secs(1)));
    }

    use super::*;
    use std::time::Duration;

    fn refuse(addr: &str) -> Option<&'static str> {
        DatagramPolicy::default().refuse(addr.parse().unwrap())
    }

    #[test]
    fn dangerous_sources_are_refused() {
        assert!(refuse("0.0.0.0:5000").is_some());
        assert!(refuse("255.255.255.255:5000").is_some());
        assert!(refuse("224.0.0.1:5000").is_some());
        assert!(refuse("[ff02::1]:5000").is_some());
        assert!(refuse("192.0.2.1:7").is_some());
        assert!(refuse("192.0.2.1:2049").is_some());
        assert!(refuse("[::ffff:192.0.2.1]:53").is_some());
        assert_eq!(refuse("[::1]:40000"), None);
        assert_eq!(refuse("192.0.2.1:40000"), None);
    }

    #[test]
    fn loopback_can_be_refused() {
        let policy = DatagramPolicy {
            allow_loopback: false,
            ..DatagramPolicy::default()
        };
        assert_eq!(
            policy.refuse("127.0.0.1:40000".parse().unwrap()),
            Some("loopback source")
        );
    }

    #[test]
    fn bucket_refills_over_time() {
        let mut limiter = RateLimiter::new(10);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        let allowed = (0..100).filter(|_| limiter.allow(ip, t0)).count();
        assert_eq!(allowed, 20);
        assert!(limiter.allow(ip, t0 + Duration::from_millis(150)));
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.allow(other, t0));
    }
}
