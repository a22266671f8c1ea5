//! [`DatagramBuilder`]: the options of one UDP service (only those UDP can
//! honour), and the call that binds it and starts an engine for it.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::builder::default_threads;
use crate::error::{Error, Result};
use crate::event::{Observer, Transport};
use crate::observers::Silent;
use crate::policy::DatagramPolicy;
use crate::socket::{self, BindOptions};

/// The options of a UDP service: where to bind, the safety policy, who to
/// tell. Then [`DatagramBuilder::serve`] binds it and starts an engine for
/// it alone, or [`Engine::serve_datagrams`](crate::Engine::serve_datagrams) adds it to an engine of
/// several services.
///
/// ```
/// use std::net::{SocketAddr, UdpSocket};
/// use std::time::Duration;
/// use netcore::{DatagramBuilder, DatagramServer};
///
/// struct Upper;
/// impl DatagramServer for Upper {
///     fn respond(&self, request: &[u8], _: SocketAddr, reply: &mut Vec<u8>) -> bool {
///         reply.extend(request.iter().map(u8::to_ascii_uppercase));
///         true
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = DatagramBuilder::new("127.0.0.1:0".parse()?).serve(Upper)?;
/// let client = UdpSocket::bind("127.0.0.1:0")?;
/// client.set_read_timeout(Some(Duration::from_secs(5)))?;
/// client.send_to(b"hi", running.local_addr())?;
/// let mut reply = [0; 8];
/// let (n, _) = client.recv_from(&mut reply)?;
/// assert_eq!(&reply[..n], b"HI");
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until it serves"]
pub struct DatagramBuilder {
    addr: SocketAddr,
    socket: Option<std::net::UdpSocket>,
    name: Arc<str>,
    pub(crate) threads: usize,
    reuse_port: bool,
    only_v6: Option<bool>,
    policy: DatagramPolicy,
    pub(crate) observer: Arc<dyn Observer>,
}

impl std::fmt::Debug for DatagramBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatagramBuilder")
            .field("addr", &self.addr)
            .field("name", &self.name)
            .field("threads", &self.threads)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A UDP service's settings, as the engine takes them.
pub(crate) struct UdpSpec {
    pub name: Arc<str>,
    pub local: SocketAddr,
    pub policy: DatagramPolicy,
}

impl DatagramBuilder {
    /// A UDP service on `addr` with the default [`DatagramPolicy`], one
    /// event loop per two cores, and a silent observer.
    pub fn new(addr: SocketAddr) -> Self {
        DatagramBuilder {
            addr,
            socket: None,
            name: Arc::from(""),
            threads: default_threads(),
            reuse_port: false,
            only_v6: None,
            policy: DatagramPolicy::default(),
            observer: Arc::new(Silent),
        }
    }

    /// Serve on a socket that is already bound (socket activation, inetd
    /// "wait" mode, a test) instead of binding one.
    pub fn from_socket(socket: std::net::UdpSocket) -> Result<Self> {
        let addr = socket
            .local_addr()
            .map_err(|source| Error::Engine { source })?;
        let mut builder = DatagramBuilder::new(socket::unmap(addr));
        builder.socket = Some(socket);
        Ok(builder)
    }

    /// The service's name, on every event about it (default: empty).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }

    /// How many event loops receive datagrams, when
    /// [`DatagramBuilder::serve`] starts an engine for this service alone.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Set `SO_REUSEPORT` before binding (off by default).
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.reuse_port = reuse;
        self
    }

    /// Set `IPV6_V6ONLY` explicitly for an IPv6 address. By default it is
    /// off for `::` and on otherwise.
    pub fn only_v6(mut self, only_v6: bool) -> Self {
        self.only_v6 = Some(only_v6);
        self
    }

    /// The rules the service applies before it answers a datagram.
    pub fn policy(mut self, policy: DatagramPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Who hears about the service's [`Event`](crate::Event)s, when
    /// [`DatagramBuilder::serve`] starts an engine for it alone.
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    /// Binds (telling `observer`) or adopts the socket.
    pub(crate) fn into_service(
        self,
        observer: &dyn Observer,
    ) -> Result<(UdpSpec, std::net::UdpSocket)> {
        let opts = BindOptions {
            backlog: 0,
            reuse_port: self.reuse_port,
            only_v6: self.only_v6,
        };
        let (socket, local) = match self.socket {
            Some(s) => {
                s.set_nonblocking(true)
                    .map_err(|source| Error::Engine { source })?;
                (s, self.addr)
            }
            None => {
                let (s, local) =
                    socket::bind(self.addr, Transport::Udp, opts, &self.name, observer)?;
                (s.into(), local)
            }
        };
        let spec = UdpSpec {
            name: self.name,
            local,
            policy: self.policy,
        };
        Ok((spec, socket))
    }
}
