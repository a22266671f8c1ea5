//! [`DnsServer`]: ask one DNS server directly, like `dig @server` or
//! `nslookup name server`, bypassing `/etc/hosts` and the system resolver.
//!
//! Queries go over UDP through [`netcore::Client::request`] (a connected
//! socket, so only that server's replies count, with a timeout per try and
//! retries); a truncated answer is asked again over TCP through
//! [`netcore::Client::connect`] with the two-byte length prefix of RFC 1035
//! §4.2.2.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::rr::RecordType;

use crate::answer::{Family, Lookup, Reverse, dedup_in_order};
use crate::error::{Error, Result};
use crate::message::{self, Found, Question, Reply};

/// One DNS server to ask directly, with the wait for each answer and the
/// number of retries.
///
/// Parse it from `ADDR`, `ADDR:PORT`, `[V6ADDR]` or `[V6ADDR]:PORT` (port 53
/// when none is given); only IP addresses, so that naming the server never
/// needs the resolver it replaces.
///
/// ```
/// use std::time::Duration;
/// use resolve::DnsServer;
///
/// let server: DnsServer = "[::1]:5353".parse()?;
/// assert_eq!(server.addr().to_string(), "[::1]:5353");
/// let server = "127.0.0.1".parse::<DnsServer>()?.timeout(Duration::from_millis(500));
/// assert_eq!(server.addr().port(), 53);
/// assert!("ns.example:53".parse::<DnsServer>().is_err());
/// # Ok::<(), resolve::Error>(())
/// ```
///
/// Asking a DNS server (not run here, it needs one):
///
/// ```no_run
/// let server: resolve::DnsServer = "127.0.0.1:5353".parse()?;
/// let lookup = server.lookup("www.netlab.test")?;
/// let reverse = server.reverse("192.0.2.10".parse().unwrap())?;
/// println!("{:?} {}", lookup.addresses, reverse.name());
/// # Ok::<(), resolve::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsServer {
    addr: SocketAddr,
    timeout: Duration,
    retries: u32,
}

impl DnsServer {
    /// The DNS port, 53.
    pub const PORT: u16 = 53;

    /// The server at `addr`, waiting 2 s for each answer, with 1 retry: a
    /// silent server fails after 4 s.
    pub fn new(addr: SocketAddr) -> Self {
        DnsServer {
            addr,
            timeout: Duration::from_secs(2),
            retries: 1,
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How long to wait for each UDP answer, and for each TCP connect, read
    /// and write.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times a UDP query is sent again when no answer comes in
    /// time.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Every A and AAAA address of `name`, A records first, each in the
    /// server's order, CNAMEs followed: two queries.
    pub fn lookup(&self, name: &str) -> Result<Lookup> {
        self.lookup_family(name, Family::Any)
    }

    /// The addresses of `name` in one family: an A query for
    /// [`Family::V4`], AAAA for [`Family::V6`], both for [`Family::Any`].
    /// The name is asked for exactly as given (no search domains).
    pub fn lookup_family(&self, name: &str, family: Family) -> Result<Lookup> {
        let types: &[RecordType] = match family {
            Family::Any => &[RecordType::A, RecordType::AAAA],
            Family::V4 => &[RecordType::A],
            Family::V6 => &[RecordType::AAAA],
        };
        let mut canonical_name = None;
        let mut addresses = Vec::new();
        for &rtype in types {
            let question =
                Question::for_name(name, rtype).map_err(|reason| Error::InvalidName {
                    query: name.to_owned(),
                    reason,
                })?;
            let found = self.ask(name, false, &question)?;
            canonical_name.get_or_insert(found.canonical_name);
            addresses.extend(found.addresses);
        }
        if addresses.is_empty() {
            return Err(Error::NoAddress {
                query: name.to_owned(),
                family,
                server: Some(self.addr),
            });
        }
        Ok(Lookup {
            name: name.to_owned(),
            canonical_name,
            addresses: dedup_in_order(addresses),
        })
    }

    /// The host names of `ip`: a PTR query for its `in-addr.arpa` or
    /// `ip6.arpa` name, every name in the server's order.
    pub fn reverse(&self, ip: IpAddr) -> Result<Reverse> {
        let query = ip.to_string();
        let found = self.ask(&query, true, &Question::for_address(ip))?;
        if found.names.is_empty() {
            return Err(Error::NoSuchHost {
                query,
                server: Some(self.addr),
                reverse: true,
            });
        }
        Ok(Reverse {
            address: ip,
            names: found.names,
        })
    }

    /// One question: over UDP, again over TCP if the answer was truncated;
    /// the response code turned into our errors.
    fn ask(&self, query: &str, reverse: bool, question: &Question) -> Result<Found> {
        let id = message::random_id();
        let request = question.to_bytes(id).map_err(|reason| Error::InvalidName {
            query: query.to_owned(),
            reason,
        })?;
        let mut reply = self.read(query, &self.udp(query, &request)?, id, question)?;
        if reply == Reply::Truncated {
            reply = self.read(query, &self.tcp(query, &request)?, id, question)?;
            if reply == Reply::Truncated {
                return Err(self.bad_answer(query, "truncated even over TCP".to_owned()));
            }
        }
        let server = Some(self.addr);
        let query = query.to_owned();
        match reply {
            Reply::Found(found) => Ok(found),
            Reply::NoSuchName => Err(Error::NoSuchHost {
                query,
                server,
                reverse,
            }),
            Reply::ServerFailure => Err(Error::TemporaryFailure { query, server }),
            Reply::Rejected { code } => Err(Error::Rejected {
                query,
                server: self.addr,
                code,
                code_name: message::rcode_name(code),
            }),
            Reply::Truncated => Err(self.bad_answer(&query, "truncated".to_owned())),
        }
    }

    fn read(&self, query: &str, bytes: &[u8], id: u16, question: &Question) -> Result<Reply> {
        message::read_reply(bytes, id, question).map_err(|reason| self.bad_answer(query, reason))
    }

    fn udp(&self, query: &str, request: &[u8]) -> Result<Vec<u8>> {
        netcore::Client::new()
            .read_timeout(Some(self.timeout))
            .retries(self.retries)
            .request(&self.addr.ip().to_string(), self.addr.port(), request)
            .map_err(|source| self.transport(query, source, self.retries.saturating_add(1)))
    }

    /// RFC 1035 §4.2.2 (and RFC 7766): the same message, each way prefixed
    /// with its length as two bytes, big-endian.
    fn tcp(&self, query: &str, request: &[u8]) -> Result<Vec<u8>> {
        let fail = |source| self.transport(query, source, 1);
        let stream = netcore::Client::new()
            .timeout(Some(self.timeout))
            .connect(&self.addr.ip().to_string(), self.addr.port())
            .map_err(fail)?;
        let len = u16::try_from(request.len())
            .map_err(|_| self.bad_answer(query, "query too long for TCP".to_owned()))?;
        let mut framed = Vec::with_capacity(request.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(request);
        stream.send(&framed).map_err(fail)?;
        let mut len = [0u8; 2];
        stream.receive_exact(&mut len).map_err(fail)?;
        let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.receive_exact(&mut reply).map_err(fail)?;
        Ok(reply)
    }

    fn transport(&self, query: &str, source: netcore::Error, tries: u32) -> Error {
        match source {
            netcore::Error::Timeout { after, .. } => Error::Timeout {
                query: query.to_owned(),
                server: self.addr,
                after,
                tries,
            },
            source => Error::Transport {
                query: query.to_owned(),
                server: self.addr,
                source,
            },
        }
    }

    fn bad_answer(&self, query: &str, reason: String) -> Error {
        Error::BadAnswer {
            query: query.to_owned(),
            server: self.addr,
            reason,
        }
    }
}

impl fmt::Display for DnsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.addr.fmt(f)
    }
}

impl FromStr for DnsServer {
    type Err = Error;

    /// `ADDR`, `ADDR:PORT`, `[V6ADDR]`, `[V6ADDR]:PORT`; a bare IPv6 address
    /// (`::1`) is the address, never address-and-port.
    fn from_str(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::BadServer {
            given: text.to_owned(),
            reason: reason.to_owned(),
        };
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(DnsServer::new(SocketAddr::new(ip, Self::PORT)));
        }
        if let Ok(ip) = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or("")
            .parse::<IpAddr>()
        {
            return Ok(DnsServer::new(SocketAddr::new(ip, Self::PORT)));
        }
        match text.parse::<SocketAddr>() {
            Ok(addr) if addr.port() == 0 => Err(bad("port 0 is not a port to ask")),
            Ok(addr) => Ok(DnsServer::new(addr)),
            Err(_) => match text.rsplit_once(':') {
                Some((host, port)) if host.parse::<IpAddr>().is_ok() || host.starts_with('[') => {
                    Err(bad(&format!("{port:?} is not a port number (1-65535)")))
                }
                _ => Err(bad(
                    "expected an IP address with an optional port: ADDR, ADDR:PORT, [V6ADDR]:PORT",
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_parse() {
        let cases = [
            ("127.0.0.1", "127.0.0.1:53"),
            ("127.0.0.1:5353", "127.0.0.1:5353"),
            ("::1", "[::1]:53"),
            ("[::1]", "[::1]:53"),
            ("[::1]:5353", "[::1]:5353"),
            ("2001:db8::1", "[2001:db8::1]:53"),
        ];
        for (text, want) in cases {
            let server: DnsServer = text.parse().unwrap();
            assert_eq!(server.to_string(), want, "{text}");
        }
    }

    #[test]
    fn bad_server_addresses_say_why() {
        for (text, why) in [
            ("localhost", "expected an IP address"),
            ("127.0.0.1:99999", "not a port number"),
            ("127.0.0.1:", "not a port number"),
            ("[::1]:x", "not a port number"),
            ("127.0.0.1:0", "port 0"),
            ("", "expected an IP address"),
        ] {
            let err = text.parse::<DnsServer>().unwrap_err();
            assert!(err.to_string().contains(why), "{text}: {err}");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn dns_server_is_send_and_sync() {
        fn is<T: Send + Sync>() {}
        is::<DnsServer>();
    }
}
