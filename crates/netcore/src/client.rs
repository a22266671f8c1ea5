//! [`Client`]: the blocking client side: connect to `host:port` trying every
//! address the name resolves to, with timeouts ([`Stream`]); and a UDP
//! request/response with timeout and retries ([`DatagramClient`]).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{Error, Result};
use crate::getaddrinfo::{Family, LookupError, resolve};

mod datagram;
mod stream;
mod trace;

pub use datagram::DatagramClient;
pub use stream::Stream;
pub use trace::{Reached, Trace};

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
    trace: Option<Trace>,
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
            trace: None,
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

    /// Record in `trace` each server [`Client::connect`] or [`Client::udp`]
    /// reaches: its address, ours, and when (see [`Trace`]).
    pub fn trace(mut self, trace: &Trace) -> Self {
        self.trace = Some(trace.clone());
        self
    }

    /// Resolves `host` with [`resolve`](crate::resolve) (a name, or an IPv4
    /// or IPv6 literal, brackets and a scope allowed) and connects to
    /// `port` on each address in turn until one accepts. The error is the
    /// last address's.
    pub fn connect(&self, host: &str, port: u16) -> Result<Stream> {
        let started = Instant::now();
        let addrs = resolve(host, port)?;
        let resolved = Instant::now();
        let mut last = None;
        for addr in addrs {
            match self.connect_addr(addr) {
                Ok(stream) => {
                    self.record(started, resolved, addr, stream.local_addr().ok());
                    return Ok(stream);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| none_found(host)))
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
        Ok(Stream::new(
            socket.into(),
            addr,
            self.read_timeout,
            self.write_timeout,
        ))
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
        let started = Instant::now();
        let addr = *resolve(host, port)?
            .first()
            .ok_or_else(|| none_found(host))?;
        let resolved = Instant::now();
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
        self.record(started, resolved, addr, socket.local_addr().ok());
        Ok(DatagramClient::new(socket, addr, wait, self.retries))
    }

    /// Notes a server reached in the trace, if there is one.
    fn record(
        &self,
        started: Instant,
        resolved: Instant,
        peer: SocketAddr,
        local: Option<SocketAddr>,
    ) {
        if let Some(trace) = &self.trace {
            trace.record(Reached {
                peer,
                local,
                started,
                resolved,
                connected: Instant::now(),
            });
        }
    }
}

/// What an empty list of addresses would mean; [`resolve`] never returns
/// one, so this only keeps the code free of panics.
fn none_found(host: &str) -> Error {
    Error::Resolve {
        host: host.to_owned(),
        source: LookupError::no_address(Family::Any).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port on 127.0.0.1 that refuses connections for as long as the
    /// socket lives: bound, so nobody else can listen there, but not
    /// listening, so the kernel answers a SYN with a reset.
    fn refusing_port() -> (Socket, u16) {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket
            .bind(&SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))
            .unwrap();
        let port = socket.local_addr().unwrap().as_socket().unwrap().port();
        (socket, port)
    }

    #[test]
    fn refused_connection_names_the_address_and_keeps_the_cause() {
        let (_bound, port) = refusing_port();
        let err = Client::new().connect("127.0.0.1", port).unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(err.to_string(), format!("connecting to 127.0.0.1:{port}"));
        let cause = std::error::Error::source(&err).unwrap();
        assert_eq!(
            crate::describe(cause.downcast_ref().unwrap()),
            "connection refused"
        );
    }

    #[test]
    fn unknown_hosts_keep_the_resolvers_verdict() {
        let err = Client::new().connect("nonexistent.invalid", 7).unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::NotFound);
        assert_eq!(
            err.lookup_error().map(LookupError::kind),
            Some(crate::LookupErrorKind::NoSuchHost)
        );
        let err = Client::new().udp("::1%", 7).unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_trace_records_the_address_that_answered_not_those_that_refused() {
        let (_bound, refusing) = refusing_port();
        let trace = Trace::new();
        let client = Client::new().trace(&trace);
        assert!(client.connect("127.0.0.1", refusing).is_err());
        assert_eq!(trace.last(), None, "nothing reached");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stream = client.connect("127.0.0.1", addr.port()).unwrap();
        let reached = trace.last().unwrap();
        assert_eq!(reached.peer, addr);
        assert_eq!(reached.local, Some(stream.local_addr().unwrap()));
        assert!(reached.started <= reached.resolved);
        assert!(reached.resolved <= reached.connected);
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let peer = silent.local_addr().unwrap();
        let udp = client.udp("127.0.0.1", peer.port()).unwrap();
        let reached = trace.last().unwrap();
        assert_eq!((reached.peer, udp.peer_addr()), (peer, peer));
        assert!(reached.local.is_some_and(|l| l.port() != 0));
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
        assert_eq!(
            err.to_string(),
            format!("waiting for a reply from 127.0.0.1:{port}: timed out after 0.1 s")
        );
        assert_eq!(silent.recv(&mut [0; 8]).unwrap(), 1);
    }
}
