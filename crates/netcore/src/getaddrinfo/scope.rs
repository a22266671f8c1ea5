//! IPv6 scope ids in `ADDR%SCOPE` (RFC 4007, section 11): `fe80::1%eth0`,
//! `::1%1`.
//!
//! We parse them ourselves because glibc's `getaddrinfo(3)` takes an
//! interface name after `%` only for link-local addresses (`::1%lo` is
//! "no such host"), and std's address parsers take no `%` at all.
//!
//! An interface name becomes its index through `/proc/self/net/if_inet6`,
//! not `if_nametoindex(3)` (FFI, so `unsafe`) and not
//! `/sys/class/net/NAME/ifindex`: sysfs shows the interfaces of the network
//! namespace it was mounted in, which after `unshare --net` is not the
//! caller's, so it would give another namespace's index without a word.
//! `/proc/self/net` is always the calling thread's namespace. It lists
//! only interfaces with an IPv6 address, and an interface without one
//! cannot carry link-local IPv6 traffic anyway.

use std::net::{Ipv6Addr, SocketAddrV6};

use super::LookupError;

/// Where the kernel lists each IPv6 address with its interface's index
/// and name, for the calling thread's network namespace.
const IF_INET6: &str = "/proc/self/net/if_inet6";

/// `ADDR%SCOPE` as an IPv6 socket address on `port`, or `None` when `host`
/// is not of that shape (a name, an IPv4 address: left to the resolver).
/// `SCOPE` is an interface index (`1`) or name (`lo`).
pub(super) fn parse(host: &str, port: u16) -> Option<Result<SocketAddrV6, LookupError>> {
    let (addr, scope) = host.split_once('%')?;
    let ip: Ipv6Addr = addr.parse().ok()?;
    Some(scope_id(scope).map(|id| SocketAddrV6::new(ip, port, 0, id)))
}

/// The interface index for a scope: a number as it is, a name looked up.
fn scope_id(scope: &str) -> Result<u32, LookupError> {
    if scope.is_empty() {
        return Err(LookupError::invalid("no interface name or index after %"));
    }
    if scope.bytes().all(|b| b.is_ascii_digit()) {
        return scope
            .parse()
            .map_err(|_| LookupError::invalid(format!("interface index {scope} out of range")));
    }
    let table = std::fs::read_to_string(IF_INET6).map_err(|e| {
        LookupError::no_interface(
            format!("no IPv6 interfaces to look {scope:?} up in {IF_INET6}"),
            Some(e),
        )
    })?;
    index_in(&table, scope).ok_or_else(|| {
        LookupError::no_interface(format!("no network interface {scope:?} with IPv6"), None)
    })
}

/// The index of interface `name` in the text of `/proc/net/if_inet6`: one
/// line per address, `ADDRESS INDEX PREFIXLEN SCOPE FLAGS NAME`, numbers in
/// hexadecimal.
fn index_in(table: &str, name: &str) -> Option<u32> {
    table.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, index, _, _, _, ifname] if *ifname == name => u32::from_str_radix(index, 16).ok(),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::getaddrinfo::LookupErrorKind;

    const TABLE: &str = "\
fd000000000000000000000000000002 04 40 00 82     eth0
fe8000000000000000fc00fffe000001 04 40 20 80     eth0
00000000000000000000000000000001 01 80 10 80       lo
fe800000000000000000000000000001 1a 40 20 80   nl-dummy
";

    #[test]
    fn interface_names_are_found_with_their_hex_index() {
        assert_eq!(index_in(TABLE, "lo"), Some(1));
        assert_eq!(index_in(TABLE, "eth0"), Some(4));
        assert_eq!(index_in(TABLE, "nl-dummy"), Some(26));
        assert_eq!(index_in(TABLE, "eth"), None);
        assert_eq!(index_in("", "lo"), None);
        assert_eq!(index_in("garbage\n", "lo"), None);
    }

    #[test]
    fn scopes_parse_as_numbers_or_names() {
        let addr = parse("fe80::1%7", 9).unwrap().unwrap();
        assert_eq!(addr, SocketAddrV6::new("fe80::1".parse().unwrap(), 9, 0, 7));
        // Every Linux machine has a loopback with IPv6 as index 1, unless
        // IPv6 is off; then the lookup fails, which is right too.
        if let Ok(addr) = parse("::1%lo", 7).unwrap() {
            assert_eq!(addr.scope_id(), 1);
        }
        assert!(parse("::1%", 7).unwrap().is_err());
        assert!(parse("::1%99999999999", 7).unwrap().is_err());
        let err = parse("::1%no-such-if", 7).unwrap().unwrap_err();
        assert_eq!(err.kind(), LookupErrorKind::NoSuchInterface);
        assert_eq!(
            err.to_string(),
            "no network interface \"no-such-if\" with IPv6"
        );
        let err = parse("::1%", 7).unwrap().unwrap_err();
        assert_eq!(err.kind(), LookupErrorKind::InvalidName);
        // Not ADDR%SCOPE: for the resolver.
        assert!(parse("::1", 7).is_none());
        assert!(parse("127.0.0.1%lo", 7).is_none());
        assert!(parse("example.com", 7).is_none());
    }
}
