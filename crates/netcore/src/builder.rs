//! [`Builder`]: the options of one TCP service, and the call that binds it
//! and starts an engine for it. UDP has its own builder with only what UDP
//! can honour ([`DatagramBuilder`](crate::DatagramBuilder)).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::conn::Timeouts;
use crate::error::{Error, Result};
use crate::event::{Observer, Transport};
use crate::observers::Silent;
use crate::socket::{self, BindOptions};

/// The default [`Engine::output_budget`](crate::Engine::output_budget):
/// 64 MiB.
pub const DEFAULT_OUTPUT_BUDGET: usize = 64 << 20;

/// The options of a TCP service: where to bind, how many connections, how
/// long to wait, who to tell. Then [`Builder::serve`] binds it and starts
/// an engine for it alone, or [`Engine::serve`](crate::Engine::serve) adds it to an engine of
/// several services. UDP has its own builder,
/// [`DatagramBuilder`](crate::DatagramBuilder), with
/// the options UDP can honour.
///
/// ```
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
///
/// struct Echo;
/// struct EchoHandler;
/// impl Handler for EchoHandler {
///     fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
///         conn.send(data);
///         Flow::Continue
///     }
/// }
/// impl Server for Echo {
///     type Handler = EchoHandler;
///     fn handler(&self, _: &ConnectionInfo) -> EchoHandler {
///         EchoHandler
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = Builder::new("127.0.0.1:0".parse()?)
///     .max_connections(100)
///     .idle_timeout(Some(Duration::from_secs(30)))
///     .serve(Echo)?;
///
/// let mut client = std::net::TcpStream::connect(running.local_addr())?;
/// client.write_all(b"ping")?;
/// let mut reply = [0; 4];
/// client.read_exact(&mut reply)?;
/// assert_eq!(&reply, b"ping");
///
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
#[must_use = "a builder does nothing until it serves"]
pub struct Builder {
    addr: SocketAddr,
    listener: Option<std::net::TcpListener>,
    name: Arc<str>,
    backlog: i32,
    max_connections: usize,
    max_per_source: Option<usize>,
    timeouts: Timeouts,
    pub(crate) threads: usize,
    nodelay: bool,
    reuse_port: bool,
    only_v6: Option<bool>,
    pub(crate) output_budget: usize,
    pub(crate) observer: Arc<dyn Observer>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("addr", &self.addr)
            .field("name", &self.name)
            .field("backlog", &self.backlog)
            .field("max_connections", &self.max_connections)
            .field("timeouts", &self.timeouts)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

/// A TCP service's settings, as the engine takes them.
pub(crate) struct TcpSpec {
    pub name: Arc<str>,
    pub local: SocketAddr,
    pub max_connections: usize,
    pub max_per_source: Option<usize>,
    pub timeouts: Timeouts,
    pub nodelay: bool,
}

impl Builder {
    /// A TCP service on `addr` with the defaults: backlog 1024, at most
    /// 10,000 connections, no timeouts, one event loop per two cores (see
    /// [`Builder::threads`]), `TCP_NODELAY` on, and a silent observer.
    ///
    /// Port 0 lets the operating system pick a free port; read it back with
    /// [`Running::local_addr`](crate::Running::local_addr). For "all interfaces" use
    /// [`any_interface`](crate::any_interface).
    pub fn new(addr: SocketAddr) -> Self {
        Builder {
            addr,
            listener: None,
            name: Arc::from(""),
            backlog: 1024,
            max_connections: 10_000,
            max_per_source: None,
            timeouts: Timeouts::default(),
            threads: default_threads(),
            nodelay: true,
            reuse_port: false,
            only_v6: None,
            output_budget: DEFAULT_OUTPUT_BUDGET,
            observer: Arc::new(Silent),
        }
    }

    /// Serve on a listener that is already bound and listening (socket
    /// activation, or a test that bound it first) instead of binding one.
    pub fn from_listener(listener: std::net::TcpListener) -> Result<Self> {
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Engine { source })?;
        let mut builder = Builder::new(socket::unmap(addr));
        builder.listener = Some(listener);
        Ok(builder)
    }

    /// The service's name, on every event about it and in each
    /// [`ConnectionInfo`](crate::ConnectionInfo) (default: empty).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }

    /// The `listen(2)` backlog (capped by the kernel's `somaxconn`).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self
    }

    /// At most this many connections open at once. At the limit the server
    /// stops calling `accept(2)`; new clients wait in the kernel's backlog
    /// until a connection closes. At least 1.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// At most this many connections open at once from one source address
    /// (like xinetd's `per_source`); more are accepted and closed at once.
    /// `None` (the default) sets no limit of its own; whatever it is, the
    /// last eighth of `max_connections` is kept for sources that hold no
    /// connection yet, so one source that fills the server cannot lock
    /// everyone else out.
    pub fn max_per_source(mut self, max: Option<usize>) -> Self {
        self.max_per_source = max.map(|m| m.max(1));
        self
    }

    /// Close a connection when no byte has moved in either direction for
    /// this long. `None` (the default) waits forever.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// Close a connection whose peer has sent nothing for this long, even
    /// while the server is still sending to it.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.read = timeout;
        self
    }

    /// Close a connection whose queued output made no progress for this long
    /// (a peer that stopped reading).
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.write = timeout;
        self
    }

    /// How many event-loop threads serve connections (at least 1), when
    /// [`Builder::serve`] starts an engine for this service alone. One loop
    /// accepts from the listening socket and deals the connections out
    /// round-robin; each loop owns the connections it was dealt.
    ///
    /// The default is half the cores, rounded up. A loop is busy only while
    /// there is work, and the kernel's network stack and the clients
    /// themselves need cores too: measured on a 2-core machine with the
    /// load generator on the same machine, one loop served 64-byte echo
    /// requests at 50 connections about 1.5x faster than two.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Set `TCP_NODELAY` on accepted connections that stay open past their
    /// greeting (on by default: request/response protocols want replies sent
    /// at once).
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// Set `SO_REUSEPORT` before binding. Off by default: it lets another
    /// program of the same user bind the same port silently.
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.reuse_port = reuse;
        self
    }

    /// Set `IPV6_V6ONLY` explicitly for an IPv6 address. By default it is
    /// off for `::` (one socket serves IPv4 and IPv6) and on otherwise.
    pub fn only_v6(mut self, only_v6: bool) -> Self {
        self.only_v6 = Some(only_v6);
        self
    }

    /// The engine's [`Engine::output_budget`](crate::Engine::output_budget), when [`Builder::serve`]
    /// starts one for this service alone.
    pub fn output_budget(mut self, bytes: usize) -> Self {
        self.output_budget = bytes;
        self
    }

    /// Who hears about the server's [`Event`](crate::Event)s, when
    /// [`Builder::serve`] starts an engine for this service alone.
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    /// Binds (telling `observer`) or adopts the listener.
    pub(crate) fn into_service(
        self,
        observer: &dyn Observer,
    ) -> Result<(TcpSpec, std::net::TcpListener)> {
        let opts = BindOptions {
            backlog: self.backlog,
            reuse_port: self.reuse_port,
            only_v6: self.only_v6,
        };
        let (listener, local) = match self.listener {
            Some(l) => {
                l.set_nonblocking(true)
                    .map_err(|source| Error::Engine { source })?;
                (l, self.addr)
            }
            None => {
                let (s, local) =
                    socket::bind(self.addr, Transport::Tcp, opts, &self.name, observer)?;
                (s.into(), local)
            }
        };
        let spec = TcpSpec {
            name: self.name,
            local,
            max_connections: self.max_connections,
            max_per_source: self.max_per_source,
            timeouts: self.timeouts,
            nodelay: self.nodelay,
        };
        Ok((spec, listener))
    }
}

/// Half the cores, rounded up.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))
}
