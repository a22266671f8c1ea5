//! What a lookup returns: [`Lookup`] for a name, [`Reverse`] for an
//! address, [`Answer`] for either; and the [`Family`] to ask for, netcore's
//! (with a DNS server it picks the queries sent: A and AAAA, A, AAAA).

use std::net::{IpAddr, Ipv4Addr};

pub use netcore::Family;

/// The result of a forward lookup: the addresses of one host name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lookup {
    /// The name as it was asked for.
    pub name: String,
    /// The canonical name: `ai_canonname` from `getaddrinfo(3)`, or the end
    /// of the CNAME chain in a DNS answer (the name itself when there is
    /// none). Without the DNS root's trailing dot.
    pub canonical_name: Option<String>,
    /// Every address, in the resolver's order, each once. Never empty: a
    /// name without addresses is an [`Error`](crate::Error).
    pub addresses: Vec<IpAddr>,
}

impl Lookup {
    /// The first IPv4 address, the one Python's `socket.gethostbyname`
    /// returns and the lecture's `ipaddress.py` prints.
    ///
    /// ```
    /// let lookup = resolve::lookup_family("localhost", resolve::Family::V4)?;
    /// assert_eq!(lookup.first_ipv4(), Some(std::net::Ipv4Addr::LOCALHOST));
    /// # Ok::<(), resolve::Error>(())
    /// ```
    pub fn first_ipv4(&self) -> Option<Ipv4Addr> {
        self.addresses.iter().find_map(|ip| match ip {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        })
    }

    /// The first address of `family` (the first of all for
    /// [`Family::Any`]).
    pub fn first(&self, family: Family) -> Option<IpAddr> {
        self.addresses
            .iter()
            .copied()
            .find(|ip| family.contains(ip))
    }
}

/// The result of a reverse lookup: the host names of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reverse {
    /// The address that was asked for.
    pub address: IpAddr,
    /// Its host names, the primary one first; without the trailing dot.
    /// The system resolver gives one (`getnameinfo(3)`); a DNS server gives
    /// every PTR record. Never empty.
    pub names: Vec<String>,
}

impl Reverse {
    /// The primary host name.
    pub fn name(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }
}

/// The result of [`Resolver::resolve`](crate::Resolver::resolve): a forward
/// lookup for a name, a reverse lookup for an IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A name was looked up.
    Forward(Lookup),
    /// An address was looked up.
    Reverse(Reverse),
}

/// What one command-line argument asks for: an IP literal (brackets allowed
/// around IPv6: `[::1]`) means a reverse lookup, anything else a name.
///
/// ```
/// use resolve::Query;
/// assert_eq!(Query::parse("::1"), Query::Address("::1".parse().unwrap()));
/// assert_eq!(Query::parse("[::1]"), Query::Address("::1".parse().unwrap()));
/// assert_eq!(Query::parse("localhost"), Query::Name("localhost".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Look up the addresses of this name.
    Name(String),
    /// Look up the names of this address.
    Address(IpAddr),
}

impl Query {
    /// Reads one argument: an IP literal or a host name.
    pub fn parse(arg: &str) -> Query {
        let bare = arg
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(arg);
        match bare.parse::<IpAddr>() {
            Ok(ip) => Query::Address(ip),
            Err(_) => Query::Name(arg.to_owned()),
        }
    }
}

/// Removes the DNS root's trailing dot (`localhost.` → `localhost`), the
/// way `getent` and the lecture print names.
pub(crate) fn without_root_dot(name: &str) -> String {
    match name.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => name.to_owned(),
    }
}

/// Keeps the first of each address, in order.
pub(crate) fn dedup_in_order(addresses: impl IntoIterator<Item = IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in addresses {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_go_and_order_stays() {
        let ips: Vec<IpAddr> = ["::1", "127.0.0.1", "::1", "10.0.0.1", "127.0.0.1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let out = dedup_in_order(ips);
        let text: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["::1", "127.0.0.1", "10.0.0.1"]);
    }

    #[test]
    fn trailing_dot_is_dropped_but_not_the_root() {
        assert_eq!(without_root_dot("localhost."), "localhost");
        assert_eq!(without_root_dot("localhost"), "localhost");
        assert_eq!(without_root_dot("."), ".");
    }

    #[test]
    fn first_of_family() {
        let lookup = Lookup {
            name: "x".into(),
            canonical_name: None,
            addresses: vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()],
        };
        assert_eq!(lookup.first_ipv4(), Some(Ipv4Addr::LOCALHOST));
        assert_eq!(lookup.first(Family::V6), Some("::1".parse().unwrap()));
        assert_eq!(lookup.first(Family::Any), Some("::1".parse().unwrap()));
    }

    #[test]
    fn queries_are_names_unless_ip_literals() {
        assert_eq!(
            Query::parse("127.0.0.1"),
            Query::Address("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            Query::parse("cs.princeton.edu"),
            Query::Name("cs.princeton.edu".into())
        );
        // getaddrinfo reads "127.1" as an address, but it is no literal we
        // reverse: it is looked up forward and comes back as 127.0.0.1.
        assert_eq!(Query::parse("127.1"), Query::Name("127.1".into()));
        assert_eq!(Query::parse("[::1"), Query::Name("[::1".into()));
    }
}
