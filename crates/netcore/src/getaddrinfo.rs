//! The one resolver under every netlab program: [`getaddrinfo`] and
//! [`getnameinfo`] over the C library's `getaddrinfo(3)` and
//! `getnameinfo(3)` (so `/etc/hosts`, `/etc/nsswitch.conf` and
//! `/etc/resolv.conf` apply), with failures sorted by their `EAI_*` code
//! into a [`LookupError`]. [`Client`](crate::Client), `serve --host` (via
//! [`resolve`]) and the `resolve` crate all go through here, so they agree
//! on every name.
//!
//! What is settled before the C library is asked, the same way for all:
//! IP literals (brackets allowed) need no lookup; `ADDR%SCOPE` is read here
//! (see `scope.rs`); names under `.invalid` fail at once (RFC 6761); text
//! that cannot be a host name (empty, a NUL byte, a space or a control
//! character) is refused without a query.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use dns_lookup::AddrInfoHints;

use crate::error::{Error, Result};

mod error;
mod scope;

pub use error::{LookupError, LookupErrorKind};

/// Which address family a lookup asks for: `ai_family` in the
/// `getaddrinfo(3)` hints (`AF_UNSPEC`, `AF_INET`, `AF_INET6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Family {
    /// IPv4 and IPv6.
    #[default]
    Any,
    /// IPv4 only (`AF_INET`; A records).
    V4,
    /// IPv6 only (`AF_INET6`; AAAA records).
    V6,
}

impl Family {
    /// Whether `ip` belongs to this family.
    ///
    /// ```
    /// use netcore::Family;
    /// assert!(Family::V4.contains(&"127.0.0.1".parse().unwrap()));
    /// assert!(!Family::V4.contains(&"::1".parse().unwrap()));
    /// assert!(Family::Any.contains(&"::1".parse().unwrap()));
    /// ```
    pub fn contains(self, ip: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }

    /// The family of one address (never [`Family::Any`]).
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    fn ai_family(self) -> i32 {
        match self {
            Family::Any => libc::AF_UNSPEC,
            Family::V4 => libc::AF_INET,
            Family::V6 => libc::AF_INET6,
        }
    }
}

/// `IPv4`, `IPv6`, or nothing for [`Family::Any`], so that a message can
/// say "no IPv6 address" or "no address".
impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Any => "",
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// What [`getaddrinfo`] found for a host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddrInfo {
    /// Every address with the port asked for, in the resolver's order
    /// (RFC 6724 sorting in glibc), each once; IPv6 ones with their scope.
    /// Never empty.
    pub addresses: Vec<SocketAddr>,
    /// `ai_canonname`: the end of the CNAME chain, or the name itself; the
    /// text as given for an IP literal.
    pub canonical_name: Option<String>,
}

/// The addresses of `host` on `port`: `getaddrinfo(host, NULL,
/// {family, SOCK_STREAM, AI_CANONNAME})`, one entry per address.
///
/// `host` is what a user types: a name, an IPv4 or IPv6 literal (brackets
/// allowed: `[::1]`), or an IPv6 literal with a scope (RFC 4007):
/// `fe80::1%eth0` or `::1%1`, an interface name or index, for any IPv6
/// address (glibc takes names only on link-local ones). Unlike the default
/// hints it does not set `AI_ADDRCONFIG`: it reports what the name maps to.
///
/// ```
/// use netcore::{Family, LookupErrorKind};
/// let found = netcore::getaddrinfo("localhost", 7, Family::V4)?;
/// assert_eq!(found.addresses[0].to_string(), "127.0.0.1:7");
/// let scoped = netcore::getaddrinfo("[fe80::1%2]", 7, Family::Any)?;
/// assert_eq!(scoped.addresses[0].to_string(), "[fe80::1%2]:7");
/// let err = netcore::getaddrinfo("::1", 7, Family::V4).unwrap_err();
/// assert_eq!(err.kind(), LookupErrorKind::NoAddress);
/// # Ok::<(), netcore::LookupError>(())
/// ```
pub fn getaddrinfo(host: &str, port: u16, family: Family) -> Result<AddrInfo, LookupError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return literal(SocketAddr::new(ip, port), bare, family);
    }
    if let Some(scoped) = scope::parse(bare, port) {
        return literal(scoped?.into(), bare, family);
    }
    check_name(bare)?;
    if is_invalid_name(bare) {
        return Err(LookupError::no_such_host());
    }
    let hints = AddrInfoHints {
        flags: libc::AI_CANONNAME,
        address: family.ai_family(),
        // One entry per address instead of one per socket type.
        socktype: libc::SOCK_STREAM,
        protocol: 0,
    };
    let fail = |e| LookupError::from_gai(e, family);
    let mut found = AddrInfo {
        addresses: Vec::new(),
        canonical_name: None,
    };
    for info in dns_lookup::getaddrinfo(Some(bare), None, Some(hints)).map_err(fail)? {
        // An entry that cannot be read (an unknown family).
        let info = info.map_err(|e| fail(e.into()))?;
        if found.canonical_name.is_none() {
            found.canonical_name = info.canonname;
        }
        let mut addr = info.sockaddr;
        addr.set_port(port);
        if family.contains(&addr.ip()) && !found.addresses.contains(&addr) {
            found.addresses.push(addr);
        }
    }
    if found.addresses.is_empty() {
        return Err(LookupError::no_address(family));
    }
    Ok(found)
}

/// The host name of `ip`: `getnameinfo(3)` with `NI_NAMEREQD`, so an
/// address without a name is [`LookupErrorKind::NoSuchHost`] rather than
/// the address printed back. `/etc/hosts` answers first, then DNS (PTR).
///
/// ```
/// let name = netcore::getnameinfo("127.0.0.1".parse().unwrap())?;
/// assert_eq!(name, "localhost");
/// # Ok::<(), netcore::LookupError>(())
/// ```
pub fn getnameinfo(ip: IpAddr) -> Result<String, LookupError> {
    dns_lookup::getnameinfo(&SocketAddr::new(ip, 0), libc::NI_NAMEREQD)
        .map(|(host, _service)| host)
        .map_err(|e| LookupError::from_gai(e, Family::of(&ip)))
}

/// Every address of `host` on `port`, IPv4 and IPv6: [`getaddrinfo`] with
/// [`Family::Any`], its failure as [`Error::Resolve`] naming `host`.
///
/// ```
/// let addrs = netcore::resolve("[::1]", 7).unwrap();
/// assert_eq!(addrs[0].to_string(), "[::1]:7");
/// let err = netcore::resolve("nonexistent.invalid", 7).unwrap_err();
/// assert_eq!(err.to_string(), "resolving nonexistent.invalid");
/// assert_eq!(err.lookup_error().unwrap().to_string(), "no such host");
/// ```
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    getaddrinfo(host, port, Family::Any)
        .map(|found| found.addresses)
        .map_err(|e| Error::Resolve {
            host: host.to_owned(),
            source: e.into(),
        })
}

fn literal(addr: SocketAddr, given: &str, family: Family) -> Result<AddrInfo, LookupError> {
    if !family.contains(&addr.ip()) {
        return Err(LookupError::no_address(family));
    }
    Ok(AddrInfo {
        addresses: vec![addr],
        canonical_name: Some(given.to_owned()),
    })
}

/// Refuses, without a query, what cannot be a host name: the C library
/// cannot take a NUL byte, and an empty name or one with blanks would be
/// sent to the name server only to come back as "no such host".
fn check_name(name: &str) -> Result<(), LookupError> {
    let problem = if name.is_empty() {
        "the name is empty"
    } else if name.contains('\0') {
        "a host name cannot contain a NUL byte"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "a host name cannot contain spaces or control characters"
    } else {
        return Ok(());
    };
    Err(LookupError::invalid(problem))
}

/// Whether `name` is in the `.invalid` domain, which RFC 6761 (section 6.4)
/// reserves as never existing: "Name resolution APIs and libraries SHOULD
/// recognize 'invalid' names as special and SHOULD always return
/// immediately with a negative response", so no query leaves the machine.
fn is_invalid_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "invalid" || name.ends_with(".invalid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(host: &str, family: Family) -> LookupErrorKind {
        getaddrinfo(host, 7, family).unwrap_err().kind()
    }

    #[test]
    fn invalid_names_fail_at_once_without_a_query() {
        for name in ["nonexistent.invalid", "X.INVALID.", "invalid"] {
            let err = getaddrinfo(name, 7, Family::Any).unwrap_err();
            assert_eq!(err.kind(), LookupErrorKind::NoSuchHost, "{name}");
            assert_eq!(err.code(), None);
        }
        assert!(!is_invalid_name("invalid.example.com"));
    }

    #[test]
    fn text_that_cannot_be_a_name_is_refused() {
        for name in ["", "a\0b", " ", "local host", "localhost\n", "[]"] {
            assert_eq!(
                kind(name, Family::Any),
                LookupErrorKind::InvalidName,
                "{name:?}"
            );
        }
        assert_eq!(
            getaddrinfo("", 7, Family::Any).unwrap_err().to_string(),
            "the name is empty"
        );
    }

    #[test]
    fn literals_need_no_lookup_but_keep_to_their_family() {
        let found = getaddrinfo("[::1]", 9, Family::Any).unwrap();
        assert_eq!(found.addresses, ["[::1]:9".parse().unwrap()]);
        assert_eq!(found.canonical_name.as_deref(), Some("::1"));
        assert_eq!(kind("::1", Family::V4), LookupErrorKind::NoAddress);
        assert_eq!(kind("127.0.0.1", Family::V6), LookupErrorKind::NoAddress);
        assert_eq!(kind("fe80::1%2", Family::V4), LookupErrorKind::NoAddress);
        assert_eq!(kind("::1%", Family::Any), LookupErrorKind::InvalidName);
        assert_eq!(
            kind("::1%no-such-if", Family::Any),
            LookupErrorKind::NoSuchInterface
        );
    }

    #[test]
    fn localhost_is_found_with_the_port() {
        let found = getaddrinfo("localhost", 13, Family::V4).unwrap();
        assert!(!found.addresses.is_empty());
        for addr in &found.addresses {
            assert!(addr.ip().is_loopback() && addr.is_ipv4(), "{addr}");
            assert_eq!(addr.port(), 13);
        }
        assert_eq!(found.canonical_name.as_deref(), Some("localhost"));
    }

    #[test]
    fn resolve_names_the_host_and_keeps_the_verdict() {
        let err = resolve("nonexistent.invalid", 7).unwrap_err();
        assert_eq!(err.io_kind(), std::io::ErrorKind::NotFound);
        assert_eq!(err.to_string(), "resolving nonexistent.invalid");
        assert_eq!(
            err.lookup_error().map(LookupError::kind),
            Some(LookupErrorKind::NoSuchHost)
        );
    }
}
