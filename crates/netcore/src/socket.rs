//! Creating and binding server sockets with socket2: the options are set on
//! the right socket, before `bind(2)`, where they take effect.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{Error, Result};
use crate::event::{Event, Observer, Transport};

/// Socket-level options for binding a server socket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BindOptions {
    pub backlog: i32,
    pub reuse_port: bool,
    pub only_v6: Option<bool>,
}

/// Opens, configures, binds and (for TCP) listens, telling `observer` about
/// each step. Returns the socket and its real bound address.
///
/// Steps: `socket(2)` with close-on-exec; `SO_REUSEADDR` on Unix (so a
/// restarted server can rebind while old connections sit in TIME_WAIT;
/// never on Windows, where it allows port hijacking); `SO_REUSEPORT` only
/// when asked; for an IPv6 address `IPV6_V6ONLY` set explicitly (off for the
/// unspecified address `::`, so one socket takes IPv4 too, on for any other
/// unless asked otherwise); `bind(2)`; `listen(2)` with the backlog; and
/// non-blocking mode.
pub(crate) fn bind(
    addr: SocketAddr,
    transport: Transport,
    opts: BindOptions,
    service: &str,
    observer: &dyn Observer,
) -> Result<(Socket, SocketAddr)> {
    let open = |source| Error::Open { addr, source };
    let ty = match transport {
        Transport::Tcp => (Type::STREAM, Protocol::TCP),
        Transport::Udp => (Type::DGRAM, Protocol::UDP),
    };
    let socket = Socket::new(Domain::for_address(addr), ty.0, Some(ty.1)).map_err(open)?;
    observer.event(&Event::Opened {
        service,
        transport,
        addr,
    });
    #[cfg(unix)]
    if transport == Transport::Tcp {
        socket.set_reuse_address(true).map_err(open)?;
    }
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    if opts.reuse_port {
        socket.set_reuse_port(true).map_err(open)?;
    }
    if addr.is_ipv6() {
        let only_v6 = opts.only_v6.unwrap_or(!addr.ip().is_unspecified());
        socket.set_only_v6(only_v6).map_err(open)?;
    }
    socket
        .bind(&SockAddr::from(addr))
        .map_err(|source| Error::Bind { addr, source })?;
    let bound = local_addr(&socket).map_err(|source| Error::Bind { addr, source })?;
    observer.event(&Event::Bound {
        service,
        transport,
        addr: bound,
    });
    if transport == Transport::Tcp {
        socket
            .listen(opts.backlog)
            .map_err(|source| Error::Listen {
                addr: bound,
                source,
            })?;
    }
    socket.set_nonblocking(true).map_err(open)?;
    observer.event(&Event::Listening {
        service,
        transport,
        addr: bound,
    });
    Ok((socket, bound))
}

pub(crate) fn local_addr(socket: &Socket) -> std::io::Result<SocketAddr> {
    socket
        .local_addr()?
        .as_socket()
        .map(unmap)
        .ok_or_else(|| std::io::Error::other("socket has no IP address"))
}

/// A duplicate of one of a running engine's sockets
/// ([`Running::clone_socket`](crate::Running::clone_socket)): hand it to a
/// successor engine ([`Builder::from_listener`](crate::Builder::from_listener),
/// [`DatagramBuilder::from_socket`](crate::DatagramBuilder::from_socket)) to
/// reload a server without closing its ports.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServiceSocket {
    /// A listening TCP socket.
    Tcp(std::net::TcpListener),
    /// A bound UDP socket.
    Udp(std::net::UdpSocket),
}

impl ServiceSocket {
    /// Another descriptor for the same socket (`dup(2)`).
    pub(crate) fn try_clone(&self) -> std::io::Result<Self> {
        Ok(match self {
            ServiceSocket::Tcp(l) => ServiceSocket::Tcp(l.try_clone()?),
            ServiceSocket::Udp(u) => ServiceSocket::Udp(u.try_clone()?),
        })
    }
}

/// Turns an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) back into IPv4, as
/// a dual-stack socket reports IPv4 peers that way; other addresses are
/// returned as they are.
pub(crate) fn unmap(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), addr.port()),
            None => addr,
        },
        IpAddr::V4(_) => addr,
    }
}

/// The address "all interfaces" means here: dual-stack `[::]:port` when the
/// machine has IPv6, else `0.0.0.0:port`.
///
/// ```
/// let any = netcore::any_interface(55555);
/// assert!(any.ip().is_unspecified());
/// assert_eq!(any.port(), 55555);
/// ```
pub fn any_interface(port: u16) -> SocketAddr {
    let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
    match Socket::new(Domain::IPV6, Type::STREAM, None) {
        Ok(_) => v6,
        Err(_) => SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), port),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unmap_turns_mapped_addresses_back_into_ipv4() {
        let mapped: std::net::SocketAddr = "[::ffff:127.0.0.1]:50252".parse().unwrap();
        assert_eq!(super::unmap(mapped).to_string(), "127.0.0.1:50252");
        let v6: std::net::SocketAddr = "[::1]:7".parse().unwrap();
        assert_eq!(super::unmap(v6), v6);
    }

    use super::*;
    use crate::observers::Silent;

    const OPTS: BindOptions = BindOptions {
        backlog: 16,
        reuse_port: false,
        only_v6: None,
    };

    #[test]
    fn port_zero_reports_the_real_port() {
        let (_s, bound) = bind(
            "127.0.0.1:0".parse().unwrap(),
            Transport::Tcp,
            OPTS,
            "",
            &Silent,
        )
        .unwrap();
        assert_ne!(bound.port(), 0);
    }

    #[test]
    fn second_bind_is_address_in_use() {
        let (_s, bound) = bind(
            "127.0.0.1:0".parse().unwrap(),
            Transport::Tcp,
            OPTS,
            "",
            &Silent,
        )
        .unwrap();
        let err = bind(bound, Transport::Tcp, OPTS, "", &Silent).unwrap_err();
        assert_eq!(err.io_kind(), std::io::ErrorKind::AddrInUse);
        // The message is the operation; why is the source.
        assert_eq!(err.to_string(), format!("binding {bound}"));
        let cause = std::error::Error::source(&err).unwrap();
        assert!(cause.to_string().starts_with("Address"), "{cause}");
    }

    #[test]
    fn unmap_leaves_plain_addresses() {
        let v6: SocketAddr = "[::1]:7".parse().unwrap();
        assert_eq!(unmap(v6), v6);
    }
}
