//! [`Client`]: the blocking client side: connect to `host:port` trying every
//! address the name resolves to, with timeouts, and half-close; and a UDP
//! request/response with timeout and retries.

use std::io::{self, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket,
};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{Error, Result};

mod scope;

/// How to reach a server: timeouts and retries. Cheap to clone.
///
/// ```
/// use std::io::Read;
/// use std::time::Duration;
/// # use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
/// # struct Hi;
/// # impl Handler for Hi {
/// #     fn on_open(&mut self, c: &mut Connection<'_>) -> Flow { c.send(b"hi\n"); Flow::Close }
/// #     fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow { Flow::Close }
/// # }
/// # struct HiServer;
/// # impl Server for HiServer {
/// #     type Handler = Hi;
/// #     fn handler(&self, _: &ConnectionInfo) -> Hi { Hi }
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let running = Builder::new("127.0.0.1:0".parse()?).serve(HiServer)?;
/// # let port = running.local_addr().port();
/// let client = netcore::Client::new().timeout(Some(Duration::from_secs(5)));
/// let mut stream = client.connect("localhost", port)?;
/// let mut reply = String::new();
/// stream.read_to_string(&mut reply)?;
/// assert_eq!(reply, "hi\n");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    retries: u32,
    nodelay: bool,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    /// A client with a 10 s connect timeout, no read or write timeout,
    /// `TCP_NODELAY` on, and 2 retries for UDP requests.
    pub fn new() -> Self {
        Client {
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: None,
            write_timeout: None,
            retries: 2,
            nodelay: true,
        }
    }

    /// Set the connect, read and write timeouts at once.
    pub fn timeout(self, timeout: Option<Duration>) -> Self {
        self.connect_timeout(timeout)
            .read_timeout(timeout)
            .write_timeout(timeout)
    }

    /// Give up on one address after this long in `connect(2)`.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// `SO_RCVTIMEO` on the connected socket, and the wait for each UDP
    /// reply: a read that waits longer fails with
    /// [`io::ErrorKind::WouldBlock`] or [`io::ErrorKind::TimedOut`].
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The read timeout set with [`Client::read_timeout`].
    pub fn read_timeout_value(&self) -> Option<Duration> {
        self.read_timeout
    }

    /// `SO_SNDTIMEO` on the connected socket.
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How many times a UDP request is sent again when no reply comes
    /// within the read timeout.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Whether to set `TCP_NODELAY` (on by default).
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// Resolves `host` (a name, or an IPv4 or IPv6 literal, brackets
    /// allowed) and connects to `port` on each address in turn until one
    /// accepts. The error is the last address's.
    pub fn connect(&self, host: &str, port: u16) -> Result<Stream> {
        let addrs = resolve(host, port)?;
        let mut last = None;
        for addr in addrs {
            match self.connect_addr(addr) {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Resolve {
            host: host.to_owned(),
            source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
        }))
    }

    /// Connects to one address.
    pub fn connect_addr(&self, addr: SocketAddr) -> Result<Stream> {
        let fail = |source: io::Error| match source.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout {
                op: "connecting to",
                addr,
                after: self.connect_timeout.unwrap_or_default(),
            },
            _ => Error::Connect { addr, source },
        };
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(|source| Error::Open { addr, source })?;
        match self.connect_timeout {
            Some(t) => socket.connect_timeout(&SockAddr::from(addr), t),
            None => socket.connect(&SockAddr::from(addr)),
        }
        .map_err(fail)?;
        let setup = |source| Error::Io {
            op: "setting options on",
            addr,
            source,
        };
        socket.set_read_timeout(self.read_timeout).map_err(setup)?;
        socket
            .set_write_timeout(self.write_timeout)
            .map_err(setup)?;
        if self.nodelay {
            socket.set_tcp_nodelay(true).map_err(setup)?;
        }
        Ok(Stream {
            inner: socket.into(),
            peer: addr,
            read_timeout: self.read_timeout,
        })
    }

    /// Sends `request` as one UDP datagram to `host:port` and returns the
    /// first reply, sending again up to [`retries`](Client::retries) times
    /// when no reply comes within the read timeout (5 s when none is set).
    /// One-shot form of [`Client::udp`] + [`DatagramClient::request`].
    pub fn request(&self, host: &str, port: u16, request: &[u8]) -> Result<Vec<u8>> {
        self.udp(host, port)?.request(request)
    }

    /// Resolves `host` once and opens a UDP socket connected to its first
    /// address, for any number of [`DatagramClient::request`]s. Being
    /// connected, the socket only takes the server's replies, and an ICMP
    /// "port unreachable" shows up as connection refused.
    pub fn udp(&self, host: &str, port: u16) -> Result<DatagramClient> {
        let addr = resolve(host, port)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Resolve {
                host: host.to_owned(),
                source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
            })?;
        let wait = self.read_timeout.unwrap_or(Duration::from_secs(5));
        let local: SocketAddr = match addr.ip() {
            IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let io_err = |op, source| Error::Io { op, addr, source };
        let socket = UdpSocket::bind(local).map_err(|source| Error::Open { addr, source })?;
        socket
            .connect(addr)
            .map_err(|e| io_err("connecting to", e))?;
        socket
            .set_read_timeout(Some(wait))
            .map_err(|e| io_err("setting options on", e))?;
        Ok(DatagramClient {
            socket,
            addr,
            wait,
            retries: self.retries,
        })
    }
}

/// A UDP socket connected to one server, from [`Client::udp`].
#[derive(Debug)]
pub struct DatagramClient {
    socket: UdpSocket,
    addr: SocketAddr,
    wait: Duration,
    retries: u32,
}

impl DatagramClient {
    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `request` as one datagram and returns the first reply, sending
    /// again up to the client's retries when none comes in time. A reply
    /// that arrives after its request timed out may be taken as the answer
    /// to the next one: UDP has no request ids.
    pub fn request(&self, request: &[u8]) -> Result<Vec<u8>> {
        let addr = self.addr;
        let mut buf = vec![0u8; 65_536];
        for _ in 0..=self.retries {
            self.socket
                .send(request)
                .map_err(|e| refused_or(addr, "sending to", e))?;
            match self.socket.recv(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(refused_or(addr, "waiting for a reply from", e)),
            }
        }
        Err(Error::Timeout {
            op: "waiting for a reply from",
            addr,
            after: self.wait.saturating_mul(self.retries.saturating_add(1)),
        })
    }
}

fn refused_or(addr: SocketAddr, op: &'static str, source: io::Error) -> Error {
    if source.kind() == io::ErrorKind::ConnectionRefused {
        Error::Connect { addr, source }
    } else {
        Error::Io { op, addr, source }
    }
}

/// Resolves `host:port` with the system resolver (`getaddrinfo(3)`), in the
/// resolver's order; never empty. IP literals, with or without brackets,
/// need no lookup, and an IPv6 literal may carry a scope (RFC 4007):
/// `fe80::1%eth0` or `fe80::1%2`, an interface name or index, for any IPv6
/// address (glibc takes names only for link-local ones).
///
/// ```
/// let addrs = netcore::resolve("[::1]", 7).unwrap();
/// assert_eq!(addrs[0].to_string(), "[::1]:7");
/// let scoped = netcore::resolve("fe80::1%2", 7).unwrap();
/// assert_eq!(scoped[0].to_string(), "[fe80::1%2]:7");
/// ```
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let err = |source| Error::Resolve {
        host: host.to_owned(),
        source,
    };
    if let Some(scoped) = scope::parse(bare, port) {
        return scoped.map(|addr| vec![addr.into()]).map_err(err);
    }
    if is_invalid_name(bare) {
        return Err(err(io::Error::new(io::ErrorKind::NotFound, "no such host")));
    }
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| err(classify_lookup_error(e)))?
        .collect();
    if addrs.is_empty() {
        return Err(err(io::Error::new(io::ErrorKind::NotFound, "no addresses")));
    }
    Ok(addrs)
}

/// Whether `name` is in the `.invalid` domain, which RFC 6761 (section 6.4)
/// reserves as never existing: "Name resolution APIs and libraries SHOULD
/// recognize 'invalid' names as special and SHOULD always return
/// immediately with a negative response", so no query leaves the machine.
///
/// ```
/// assert!(netcore::is_invalid_name("nonexistent.INVALID."));
/// assert!(!netcore::is_invalid_name("invalid.example.com"));
/// ```
pub fn is_invalid_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "invalid" || name.ends_with(".invalid")
}

/// std reports every `getaddrinfo` failure as one opaque error whose text
/// is glibc's `gai_strerror`; give the two cases callers act on their own
/// kinds: a name that does not exist ([`io::ErrorKind::NotFound`]) and a
/// resolver that could not answer now ([`io::ErrorKind::TimedOut`]: try
/// again).
fn classify_lookup_error(e: io::Error) -> io::Error {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let message = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text)
        .to_owned();
    if lower.contains("temporary failure") || lower.contains("try again") {
        io::Error::new(io::ErrorKind::TimedOut, message)
    } else if lower.contains("not known")
        || lower.contains("no address")
        || lower.contains("nodename nor servname")
        || lower.contains("no such host")
    {
        io::Error::new(io::ErrorKind::NotFound, "no such host")
    } else {
        io::Error::other(message)
    }
}

/// A connected TCP stream from [`Client::connect`]: `Read` and `Write`, and
/// [`Stream::half_close`].
#[derive(Debug)]
pub struct Stream {
    inner: TcpStream,
    peer: SocketAddr,
    read_timeout: Option<Duration>,
}

impl Stream {
    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// `shutdown(SHUT_WR)`: tell the server no more data will come (it
    /// reads end-of-file) while still reading its replies.
    pub fn half_close(&self) -> io::Result<()> {
        self.inner.shutdown(Shutdown::Write)
    }

    /// `shutdown(SHUT_RDWR)`: ends the connection for every handle on the
    /// socket, waking at once a thread blocked reading on another handle
    /// (its read returns end-of-file), e.g. when the side that writes
    /// gives up.
    pub fn shutdown(&self) -> io::Result<()> {
        self.inner.shutdown(Shutdown::Both)
    }

    /// Change `SO_RCVTIMEO` (it applies to every handle on the socket).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout = timeout;
        self.inner.set_read_timeout(timeout)
    }

    /// A second handle on the same socket, for reading in one thread while
    /// writing in another.
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(Stream {
            inner: self.inner.try_clone()?,
            peer: self.peer,
            read_timeout: self.read_timeout,
        })
    }

    /// Names a failed `op` on this stream (`reading from`, `writing to`):
    /// a read that hit the read timeout becomes [`Error::Timeout`], anything
    /// else [`Error::Io`] with the peer's address.
    pub fn error(&self, op: &'static str, source: io::Error) -> Error {
        match (source.kind(), self.read_timeout) {
            (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(after)) => Error::Timeout {
                op,
                addr: self.peer,
                after,
            },
            _ => Error::Io {
                op,
                addr: self.peer,
                source,
            },
        }
    }

    /// The std stream underneath.
    pub fn into_std(self) -> TcpStream {
        self.inner
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_connection_names_the_address() {
        // Bind then drop a socket to find a port that is probably free.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = Client::new().connect("127.0.0.1", port).unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(
            err.to_string(),
            format!("connecting to 127.0.0.1:{port}: connection refused")
        );
    }

    #[test]
    fn invalid_names_fail_at_once_without_a_query() {
        let err = resolve("nonexistent.invalid", 7).unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            "resolving nonexistent.invalid: no such host"
        );
    }

    #[test]
    fn resolver_errors_are_classified_from_glibc_text() {
        let e = |t: &str| {
            classify_lookup_error(io::Error::other(format!(
                "failed to lookup address information: {t}"
            )))
        };
        assert_eq!(
            e("Name or service not known").kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            e("No address associated with hostname").kind(),
            io::ErrorKind::NotFound
        );
        let again = e("Temporary failure in name resolution");
        assert_eq!(again.kind(), io::ErrorKind::TimedOut);
        assert_eq!(again.to_string(), "Temporary failure in name resolution");
        assert_eq!(e("System error").kind(), io::ErrorKind::Other);
    }

    #[test]
    fn udp_request_times_out_after_retries() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let err = Client::new()
            .read_timeout(Some(Duration::from_millis(50)))
            .retries(1)
            .request("127.0.0.1", port, b"x")
            .unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::TimedOut);
        assert_eq!(silent.recv(&mut [0; 8]).unwrap(), 1);
    }
}
