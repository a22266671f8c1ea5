//! [`Builder`]: the options of a server, and the calls that bind it and start
//! its event loops; [`Running`] and [`ShutdownHandle`] to stop it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::event::{Event, Observer, Silent, Transport};
use crate::handler::{DatagramServer, Server};
use crate::policy::DatagramPolicy;
use crate::socket::{self, BindOptions};
use crate::{tcp, udp};

/// The options of a server: where to bind, how many connections, how long to
/// wait, who to tell. Then [`Builder::serve`] (TCP) or
/// [`Builder::serve_datagrams`] (UDP) binds and starts it.
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
#[derive(Clone)]
pub struct Builder {
    addr: SocketAddr,
    listener: Option<Arc<Mutex<Option<std::net::TcpListener>>>>,
    pub(crate) backlog: i32,
    pub(crate) max_connections: usize,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) threads: usize,
    pub(crate) nodelay: bool,
    reuse_port: bool,
    only_v6: Option<bool>,
    pub(crate) policy: DatagramPolicy,
    pub(crate) observer: Arc<dyn Observer>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("addr", &self.addr)
            .field("backlog", &self.backlog)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("threads", &self.threads)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A server for `addr` with the defaults: backlog 1024, at most 10,000
    /// connections, no timeouts, one event loop per two cores (see
    /// [`Builder::threads`]), `TCP_NODELAY` on,
    /// the default [`DatagramPolicy`], and a silent observer.
    ///
    /// Port 0 lets the operating system pick a free port; read it back with
    /// [`Running::local_addr`]. For "all interfaces" use
    /// [`any_interface`](crate::any_interface).
    pub fn new(addr: SocketAddr) -> Self {
        Builder {
            addr,
            listener: None,
            backlog: 1024,
            max_connections: 10_000,
            idle_timeout: None,
            read_timeout: None,
            write_timeout: None,
            threads: default_threads(),
            nodelay: true,
            reuse_port: false,
            only_v6: None,
            policy: DatagramPolicy::default(),
            observer: Arc::new(Silent),
        }
    }

    /// Serve on a listener that is already bound and listening (socket
    /// activation, or a test that bound it first) instead of binding one.
    pub fn from_listener(listener: std::net::TcpListener) -> Result<Self> {
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Engine { source })?;
        let mut builder = Builder::new(addr);
        builder.listener = Some(Arc::new(Mutex::new(Some(listener))));
        Ok(builder)
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

    /// Close a connection when no byte has moved in either direction for
    /// this long. `None` (the default) waits forever.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Close a connection whose peer has sent nothing for this long, even
    /// while the server is still sending to it.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Close a connection whose queued output made no progress for this long
    /// (a peer that stopped reading).
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How many event-loop threads serve connections (at least 1). Each
    /// accepts from the same listening socket and owns the connections it
    /// accepted. UDP runs this many receivers.
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

    /// The rules a UDP server applies before it answers a datagram.
    pub fn datagram_policy(mut self, policy: DatagramPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Who hears about the server's [`Event`]s.
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    fn bind_options(&self) -> BindOptions {
        BindOptions {
            backlog: self.backlog,
            reuse_port: self.reuse_port,
            only_v6: self.only_v6,
        }
    }

    /// Bind a TCP socket (or take the adopted listener), then start the
    /// event loops serving `server`. Returns once the socket is listening:
    /// clients may connect as soon as this returns.
    pub fn serve<S: Server>(self, server: S) -> Result<Running> {
        let adopted = self
            .listener
            .as_ref()
            .and_then(|l| l.lock().ok().and_then(|mut l| l.take()));
        let (listener, local) = match adopted {
            Some(l) => {
                let local = l.local_addr().map_err(|source| Error::Engine { source })?;
                l.set_nonblocking(true)
                    .map_err(|source| Error::Engine { source })?;
                (l, socket::unmap(local))
            }
            None => {
                let (s, local) = socket::bind(
                    self.addr,
                    Transport::Tcp,
                    self.bind_options(),
                    &*self.observer,
                )?;
                (s.into(), local)
            }
        };
        tcp::start(self, server, listener, local)
    }

    /// Bind a UDP socket, then start the loop answering datagrams with
    /// `server`, under the [`DatagramPolicy`].
    pub fn serve_datagrams<D: DatagramServer>(self, server: D) -> Result<Running> {
        let (socket, local) = socket::bind(
            self.addr,
            Transport::Udp,
            self.bind_options(),
            &*self.observer,
        )?;
        udp::start(self, server, socket.into(), local)
    }
}

/// How to interrupt a loop wherever it waits.
pub(crate) enum Wake {
    /// A mio poll (a TCP event loop, a UDP receiver), through its waker.
    Poll(mio::Waker),
}

impl Wake {
    fn wake(&self) {
        match self {
            // A loop that already exited has dropped its poll: nothing to wake.
            Wake::Poll(waker) => drop(waker.wake()),
        }
    }
}

/// Half the cores, rounded up.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2))
}

/// State shared by a server's loops and its [`ShutdownHandle`]s.
pub(crate) struct Control {
    pub stop: AtomicBool,
    pub deadline: Mutex<Option<Instant>>,
    pub wakers: OnceLock<Vec<Wake>>,
    pub open: AtomicUsize,
    pub loops_alive: AtomicUsize,
    pub observer: Arc<dyn Observer>,
}

impl Control {
    pub fn new(observer: Arc<dyn Observer>, loops: usize) -> Arc<Self> {
        Arc::new(Control {
            stop: AtomicBool::new(false),
            deadline: Mutex::new(None),
            wakers: OnceLock::new(),
            open: AtomicUsize::new(0),
            loops_alive: AtomicUsize::new(loops),
            observer,
        })
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub fn drain_deadline(&self) -> Option<Instant> {
        self.deadline.lock().ok().and_then(|d| *d)
    }

    /// Tells the observer; an observer that panics loses that event, not
    /// the loop that reported it.
    pub fn emit(&self, event: &Event<'_>) {
        let observer = &self.observer;
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| observer.event(event)));
    }

    /// Interrupts every loop, wherever it waits.
    pub fn wake_all(&self) {
        for wake in self.wakers.get().into_iter().flatten() {
            wake.wake();
        }
    }

    /// Called by each loop as it exits; the last one reports `Stopped`.
    pub fn loop_exited(&self) {
        if self.loops_alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.emit(&Event::Stopped);
        }
    }
}

/// Stops a server from any thread; cheap to clone.
#[derive(Clone)]
pub struct ShutdownHandle {
    control: Arc<Control>,
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle")
            .field("stopping", &self.control.stopping())
            .finish()
    }
}

impl ShutdownHandle {
    /// Stop accepting now (the event loops are woken at once, and close the
    /// listening socket), let open connections finish for up to `drain`,
    /// then close the rest. Returns without waiting; see [`Running::wait`].
    /// Calling it again only ever brings the deadline closer.
    pub fn shutdown(&self, drain: Duration) {
        // A drain too long to represent means "as long as it takes".
        if let Some(deadline) = Instant::now().checked_add(drain) {
            if let Ok(mut d) = self.control.deadline.lock() {
                *d = Some(d.map_or(deadline, |old| old.min(deadline)));
            }
        }
        if !self.control.stop.swap(true, Ordering::AcqRel) {
            self.control.emit(&Event::ShuttingDown {
                open: self.control.open.load(Ordering::Acquire),
            });
        }
        self.control.wake_all();
    }

    /// Whether shutdown was asked for.
    pub fn is_shutting_down(&self) -> bool {
        self.control.stopping()
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.control.open.load(Ordering::Acquire)
    }
}

/// A server whose event loops are running. Dropping it shuts the server
/// down with no drain time and waits for the loops to exit.
pub struct Running {
    local: SocketAddr,
    handle: ShutdownHandle,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("local_addr", &self.local)
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Running {
    pub(crate) fn new(
        local: SocketAddr,
        control: Arc<Control>,
        threads: Vec<JoinHandle<()>>,
    ) -> Self {
        Running {
            local,
            handle: ShutdownHandle { control },
            threads,
        }
    }

    /// The bound address, with the real port when port 0 was asked.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// A handle that stops this server from another thread (a signal
    /// handler, a test).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.handle.open_connections()
    }

    /// Block until the server has stopped (after some
    /// [`ShutdownHandle::shutdown`]).
    pub fn wait(mut self) {
        self.join();
    }

    /// Stop accepting, give open connections up to `drain` to finish, close
    /// the rest, and wait until every loop has exited.
    pub fn shutdown(self, drain: Duration) {
        self.handle.shutdown(drain);
        self.wait();
    }

    fn join(&mut self) {
        for t in self.threads.drain(..) {
            // A loop thread only ends by returning; handler panics are
            // caught inside it.
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.handle.shutdown(Duration::ZERO);
            self.join();
        }
    }
}

/// Spawns one named thread with a small stack per body; if one cannot be
/// spawned, the ones already started are stopped.
pub(crate) fn spawn_loops(
    name: &str,
    control: &Arc<Control>,
    bodies: Vec<Box<dyn FnOnce() + Send>>,
) -> Result<Vec<JoinHandle<()>>> {
    let mut threads = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.into_iter().enumerate() {
        let spawned = std::thread::Builder::new()
            .name(format!("{name}-{i}"))
            .stack_size(256 * 1024)
            .spawn(body);
        match spawned {
            Ok(t) => threads.push(t),
            Err(source) => {
                ShutdownHandle {
                    control: control.clone(),
                }
                .shutdown(Duration::ZERO);
                for t in threads {
                    let _ = t.join();
                }
                return Err(Error::Engine { source });
            }
        }
    }
    Ok(threads)
}
