//! The system resolver: `getaddrinfo(3)` and `getnameinfo(3)` through the
//! C library, so `/etc/hosts`, `/etc/nsswitch.conf`, `/etc/resolv.conf`
//! and the search domains all apply, exactly as for `getent ahosts` or
//! Python's `socket` module. The calls are netcore's
//! ([`netcore::getaddrinfo`], [`netcore::getnameinfo`]), the ones every
//! netlab client resolves with, so `netlab resolve` and `netlab connect`
//! agree on every name; here their verdicts become [`Error`]s.

use std::net::{IpAddr, SocketAddr};

use netcore::{LookupError, LookupErrorKind};

use crate::answer::{Family, Lookup, Reverse, dedup_in_order, without_root_dot};
use crate::error::{Error, Result};

/// Looks up every address of `name`, IPv4 and IPv6, with the canonical
/// name: `getaddrinfo(name, NULL, {AF_UNSPEC, SOCK_STREAM, AI_CANONNAME})`,
/// one entry per address, in the resolver's order (RFC 6724 sorting in
/// glibc), duplicates removed.
///
/// Like `getent ahosts` and unlike the default `getaddrinfo` hints, it does
/// not set `AI_ADDRCONFIG`: it reports what the name maps to, not only what
/// this host could connect to.
///
/// ```
/// let lookup = resolve::lookup("localhost")?;
/// assert!(lookup.addresses.iter().all(|ip| ip.is_loopback()));
/// # Ok::<(), resolve::Error>(())
/// ```
pub fn lookup(name: &str) -> Result<Lookup> {
    lookup_family(name, Family::Any)
}

/// [`lookup`] restricted to one family (`ai_family` `AF_INET` or
/// `AF_INET6`). With [`Family::V4`], the first address is the one Python's
/// `socket.gethostbyname` returns.
///
/// ```
/// use resolve::Family;
/// let lookup = resolve::lookup_family("localhost", Family::V4)?;
/// assert_eq!(lookup.addresses[0].to_string(), "127.0.0.1");
/// # Ok::<(), resolve::Error>(())
/// ```
pub fn lookup_family(name: &str, family: Family) -> Result<Lookup> {
    let found =
        netcore::getaddrinfo(name, 0, family).map_err(|e| from_lookup(name, family, false, e))?;
    Ok(Lookup {
        name: name.to_owned(),
        canonical_name: found.canonical_name.as_deref().map(without_root_dot),
        addresses: dedup_in_order(found.addresses.iter().map(SocketAddr::ip)),
    })
}

/// Looks up the host name of `ip`: `getnameinfo(3)` with `NI_NAMEREQD`, so
/// an address without a name is [`Error::NoSuchHost`] rather than the
/// address printed back. `/etc/hosts` answers first, then DNS (PTR).
///
/// ```
/// let reverse = resolve::reverse("127.0.0.1".parse().unwrap())?;
/// assert_eq!(reverse.name(), "localhost");
/// # Ok::<(), resolve::Error>(())
/// ```
pub fn reverse(ip: IpAddr) -> Result<Reverse> {
    let host = netcore::getnameinfo(ip)
        .map_err(|e| from_lookup(&ip.to_string(), Family::of(&ip), true, e))?;
    Ok(Reverse {
        address: ip,
        names: vec![without_root_dot(&host)],
    })
}

/// netcore's verdict as ours: the three a DNS server gives too (no such
/// host, no address, try again) as the same variants it gets; any other
/// as netcore's own error, so it reads as `netlab connect` says it.
fn from_lookup(query: &str, family: Family, reverse: bool, err: LookupError) -> Error {
    let query = query.to_owned();
    match err.kind() {
        LookupErrorKind::NoSuchHost => Error::NoSuchHost {
            query,
            server: None,
            reverse,
        },
        LookupErrorKind::NoAddress if reverse => Error::NoSuchHost {
            query,
            server: None,
            reverse,
        },
        LookupErrorKind::NoAddress => Error::NoAddress {
            query,
            family,
            server: None,
        },
        LookupErrorKind::TemporaryFailure => Error::TemporaryFailure {
            query,
            server: None,
        },
        _ => Error::System {
            source: netcore::Error::Resolve {
                host: query,
                source: err.into(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// `{:#}` of ours and of netcore's error for the same name: what
    /// `netlab resolve` and `netlab connect` print.
    fn both(name: &str) -> (String, String) {
        let ours = lookup(name).unwrap_err();
        let netcore = netcore::resolve(name, 7).unwrap_err();
        (
            format!("{:#}", anyhow::Error::from(ours)),
            format!("{:#}", anyhow::Error::from(netcore)),
        )
    }

    #[test]
    fn verdicts_read_as_netcore_gives_them() {
        for name in [
            "nonexistent.invalid",
            "",
            "a\0b",
            "two words",
            "::1%",
            "::1%no-such-if",
            "fe80::1%99999999999",
        ] {
            let (ours, netcore) = both(name);
            assert_eq!(ours, netcore, "{name:?}");
        }
    }

    #[test]
    fn verdicts_sort_by_kind() {
        let kind = |name| lookup(name).unwrap_err().kind();
        assert_eq!(kind("nonexistent.invalid"), ErrorKind::NotFound);
        assert_eq!(kind("::1%no-such-if"), ErrorKind::NotFound);
        assert_eq!(kind(""), ErrorKind::InvalidInput);
        assert_eq!(kind("a\0b"), ErrorKind::InvalidInput);
        assert_eq!(kind("::1%"), ErrorKind::InvalidInput);
        let err = lookup_family("::1", Family::V4).unwrap_err();
        assert_eq!(err.to_string(), "resolving ::1: no IPv4 address");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = lookup("::1%no-such-if").unwrap_err();
        assert_eq!(err.query(), "::1%no-such-if");
    }

    #[test]
    fn scoped_and_bracketed_literals_resolve_as_for_connect() {
        let found = lookup("[::1%1]").unwrap();
        assert_eq!(found.addresses, ["::1".parse::<IpAddr>().unwrap()]);
    }
}
