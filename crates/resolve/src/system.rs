//! The system resolver: `getaddrinfo(3)` and `getnameinfo(3)` through the
//! C library, so `/etc/hosts`, `/etc/nsswitch.conf`, `/etc/resolv.conf`
//! and the search domains all apply, exactly as for `getent ahosts` or
//! Python's `socket` module.

use std::net::{IpAddr, SocketAddr};

use dns_lookup::{AddrInfoHints, LookupError, LookupErrorKind};

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
    check_name(name)?;
    if netcore::is_invalid_name(name) {
        // RFC 6761 6.4: `.invalid` names never exist and resolvers answer
        // so at once; glibc would still ask the configured name server.
        return Err(Error::NoSuchHost {
            query: name.to_owned(),
            server: None,
            reverse: false,
        });
    }
    let hints = AddrInfoHints {
        flags: libc::AI_CANONNAME,
        address: match family {
            Family::Any => libc::AF_UNSPEC,
            Family::V4 => libc::AF_INET,
            Family::V6 => libc::AF_INET6,
        },
        // One entry per address instead of one per socket type.
        socktype: libc::SOCK_STREAM,
        protocol: 0,
    };
    let fail = |e: LookupError| from_gai(name, family, false, e);
    let mut canonical_name = None;
    let mut found = Vec::new();
    for info in dns_lookup::getaddrinfo(Some(name), None, Some(hints)).map_err(fail)? {
        let info = info.map_err(|e| from_gai(name, family, false, LookupError::from(e)))?;
        if canonical_name.is_none() {
            canonical_name = info.canonname.as_deref().map(without_root_dot);
        }
        found.push(info.sockaddr.ip());
    }
    let addresses = dedup_in_order(found.into_iter().filter(|ip| family.contains(ip)));
    if addresses.is_empty() {
        return Err(Error::NoAddress {
            query: name.to_owned(),
            family,
            server: None,
        });
    }
    Ok(Lookup {
        name: name.to_owned(),
        canonical_name,
        addresses,
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
    let query = ip.to_string();
    let (host, _service) = dns_lookup::getnameinfo(&SocketAddr::new(ip, 0), libc::NI_NAMEREQD)
        .map_err(|e| from_gai(&query, Family::of(&ip), true, e))?;
    Ok(Reverse {
        address: ip,
        names: vec![without_root_dot(&host)],
    })
}

/// Rejects what the C library cannot be given or would answer confusingly.
fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.contains('\0') {
        "it contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        query: name.to_owned(),
        reason: reason.to_owned(),
    })
}

/// Sorts a `getaddrinfo`/`getnameinfo` failure into our cases by its
/// `EAI_*` code.
fn from_gai(query: &str, family: Family, reverse: bool, err: LookupError) -> Error {
    let query = query.to_owned();
    match err.kind() {
        LookupErrorKind::NoName => Error::NoSuchHost {
            query,
            server: None,
            reverse,
        },
        LookupErrorKind::NoData if !reverse => Error::NoAddress {
            query,
            family,
            server: None,
        },
        LookupErrorKind::NoData => Error::NoSuchHost {
            query,
            server: None,
            reverse,
        },
        LookupErrorKind::Again => Error::TemporaryFailure {
            query,
            server: None,
        },
        _ => Error::System {
            query,
            code: err.error_num(),
            message: lower_first(&std::io::Error::from(err).to_string()),
        },
    }
}

fn lower_first(text: &str) -> String {
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn eai_codes_map_to_our_cases() {
        let err = from_gai("x", Family::Any, false, LookupError::new(libc::EAI_NONAME));
        assert_eq!(err.to_string(), "resolving x: no such host");
        let err = from_gai("x", Family::V6, false, LookupError::new(libc::EAI_NODATA));
        assert_eq!(err.to_string(), "resolving x: no IPv6 address");
        let err = from_gai("x", Family::Any, false, LookupError::new(libc::EAI_AGAIN));
        assert_eq!(err.kind(), ErrorKind::Temporary);
        let err = from_gai("x", Family::Any, false, LookupError::new(libc::EAI_FAIL));
        assert_eq!(err.kind(), ErrorKind::Other);
        assert!(err.to_string().starts_with("resolving x: "), "{err}");
        let err = from_gai("::2", Family::V6, true, LookupError::new(libc::EAI_NONAME));
        assert_eq!(
            err.to_string(),
            "resolving ::2: no host name for this address"
        );
    }

    #[test]
    fn empty_and_nul_names_are_invalid() {
        assert_eq!(lookup("").unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(lookup("a\0b").unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
