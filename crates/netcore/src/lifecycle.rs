//! A running engine's lifecycle: the state its loops share
//! ([`Control`]), [`ShutdownHandle`] to stop it from anywhere, [`Running`]
//! to wait for it, and the threads that run its loops.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::event::{Event, Observer};
use crate::socket::ServiceSocket;

/// State shared by a server's loops and its [`ShutdownHandle`]s.
pub(crate) struct Control {
    /// Whether the observer wants `Read`, `Wrote` and `Datagram` events.
    pub wants_data: bool,
    pub stop: AtomicBool,
    pub deadline: Mutex<Option<Instant>>,
    /// Each event loop's waker, to interrupt it wherever it waits.
    pub wakers: OnceLock<Vec<Arc<mio::Waker>>>,
    pub open: AtomicUsize,
    /// Connections open when shutdown began, and those of them closed at
    /// the drain deadline instead of finishing.
    pub open_at_shutdown: AtomicUsize,
    pub forced: AtomicUsize,
    pub loops_alive: AtomicUsize,
    pub observer: Arc<dyn Observer>,
    /// A descriptor of every service's socket, for
    /// [`Running::clone_socket`]; closed when shutdown begins, so that the
    /// sockets close once the loops let go of theirs.
    pub sockets: Mutex<Vec<ServiceSocket>>,
}

impl Control {
    pub fn new(observer: Arc<dyn Observer>, loops: usize) -> Arc<Self> {
        Arc::new(Control {
            wants_data: observer.wants_data(),
            stop: AtomicBool::new(false),
            deadline: Mutex::new(None),
            wakers: OnceLock::new(),
            open: AtomicUsize::new(0),
            open_at_shutdown: AtomicUsize::new(0),
            forced: AtomicUsize::new(0),
            loops_alive: AtomicUsize::new(loops),
            observer,
            sockets: Mutex::default(),
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
        for waker in self.wakers.get().into_iter().flatten() {
            // A loop that already exited has dropped its poll: nothing to wake.
            let _ = waker.wake();
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
        let control = &self.control;
        // Under the deadline's lock, so that of two callers the first has
        // told the observer before either makes the stop visible: no loop
        // can report a connection closed for shutdown, or `Stopped`,
        // before `ShuttingDown`.
        let mut deadline = control.deadline.lock().unwrap_or_else(|e| e.into_inner());
        // A drain too long to represent means "as long as it takes".
        if let Some(at) = Instant::now().checked_add(drain) {
            *deadline = Some(deadline.map_or(at, |old| old.min(at)));
        }
        if !control.stop.load(Ordering::Acquire) {
            let open = control.open.load(Ordering::Acquire);
            control.open_at_shutdown.store(open, Ordering::Release);
            control.emit(&Event::ShuttingDown { open });
            control.stop.store(true, Ordering::Release);
        }
        drop(deadline);
        control
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        control.wake_all();
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

/// How a shutdown went: of the connections open when it began, how many
/// finished within the drain time, and how many were closed at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Connections that ended by themselves during the drain.
    pub drained: usize,
    /// Connections closed when the drain time ran out.
    pub forced: usize,
}

/// A server whose event loops are running. Dropping it shuts the server
/// down with no drain time and waits for the loops to exit.
///
/// [`Builder::serve`](crate::Builder::serve) and
/// [`DatagramBuilder::serve`](crate::DatagramBuilder::serve) return one
/// once the socket is bound and listening: a client may connect as soon as
/// it exists, with no wait for readiness. Keep it for as long as the
/// server should run; stop it with [`Running::shutdown`] here, or with a
/// [`ShutdownHandle`] from another thread while this one [`Running::wait`]s.
///
/// ```
/// use std::time::Duration;
/// use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
///
/// /// Sends "bye" and closes.
/// struct Bye;
/// impl Handler for Bye {
///     fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
///         conn.send(b"bye\n");
///         Flow::Close
///     }
///     fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
///         Flow::Close
///     }
/// }
/// struct ByeServer;
/// impl Server for ByeServer {
///     type Handler = Bye;
///     fn handler(&self, _: &ConnectionInfo) -> Bye {
///         Bye
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Port 0: the system picks a free port; `local_addr` says which.
/// let running = Builder::new("127.0.0.1:0".parse()?).name("bye").serve(ByeServer)?;
/// let addr = running.local_addr();
/// assert_ne!(addr.port(), 0);
/// assert_eq!(&*running.local_addrs()[0].0, "bye");
///
/// let mut reply = String::new();
/// let mut stream = netcore::Client::new().connect_addr(addr)?;
/// std::io::Read::read_to_string(&mut stream, &mut reply)?;
/// assert_eq!(reply, "bye\n");
///
/// // Stopped from another thread (a signal handler, say) while this one waits.
/// let stopper = running.shutdown_handle();
/// std::thread::spawn(move || stopper.shutdown(Duration::from_secs(1)));
/// let report = running.wait();
/// assert_eq!(report.forced, 0);
/// # Ok(()) }
/// ```
#[must_use = "dropping a Running stops the server at once"]
pub struct Running {
    locals: Vec<(Arc<str>, SocketAddr)>,
    handle: ShutdownHandle,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("services", &self.locals)
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Running {
    pub(crate) fn new(
        locals: Vec<(Arc<str>, SocketAddr)>,
        control: Arc<Control>,
        threads: Vec<JoinHandle<()>>,
    ) -> Self {
        Running {
            locals,
            handle: ShutdownHandle { control },
            threads,
        }
    }

    /// The first service's bound address, with the real port when port 0
    /// was asked.
    pub fn local_addr(&self) -> SocketAddr {
        self.locals
            .first()
            .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |(_, a)| *a)
    }

    /// Every service's name and bound address, in the order they were
    /// added.
    pub fn local_addrs(&self) -> &[(Arc<str>, SocketAddr)] {
        &self.locals
    }

    /// A new descriptor for the socket of service `index` (in the order of
    /// [`Running::local_addrs`]), to hand to a successor engine: a reload
    /// that keeps the ports open, with no moment when a client is refused.
    /// `None` for no such service, or once shutdown has begun.
    ///
    /// ```
    /// use std::time::Duration;
    /// use netcore::{Builder, ServiceSocket};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # struct Quiet; struct Nothing;
    /// # impl netcore::Handler for Nothing {
    /// #     fn on_data(&mut self, _: &mut netcore::Connection<'_>, _: &[u8]) -> netcore::Flow { netcore::Flow::Close }
    /// # }
    /// # impl netcore::Server for Quiet {
    /// #     type Handler = Nothing;
    /// #     fn handler(&self, _: &netcore::ConnectionInfo) -> Nothing { Nothing }
    /// # }
    /// let old = Builder::new("127.0.0.1:0".parse()?).serve(Quiet)?;
    /// let port = old.local_addr().port();
    /// let Some(Ok(ServiceSocket::Tcp(listener))) = old.clone_socket(0) else {
    ///     panic!("a TCP service");
    /// };
    /// let new = Builder::from_listener(listener)?.serve(Quiet)?;
    /// old.shutdown(Duration::from_secs(5));
    /// assert_eq!(new.local_addr().port(), port);
    /// # Ok(()) }
    /// ```
    pub fn clone_socket(&self, index: usize) -> Option<Result<ServiceSocket>> {
        let sockets = self
            .handle
            .control
            .sockets
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let socket = sockets.get(index)?;
        Some(
            socket
                .try_clone()
                .map_err(|source| Error::Engine { source }),
        )
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
    /// [`ShutdownHandle::shutdown`]), and say how the connections ended.
    pub fn wait(mut self) -> ShutdownReport {
        self.join();
        let control = &self.handle.control;
        let forced = control.forced.load(Ordering::Acquire);
        ShutdownReport {
            drained: control
                .open_at_shutdown
                .load(Ordering::Acquire)
                .saturating_sub(forced),
            forced,
        }
    }

    /// Stop accepting, give open connections up to `drain` to finish, close
    /// the rest, and wait until every loop has exited.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let running = netcore::DatagramBuilder::new("127.0.0.1:0".parse()?).serve(Nothing)?;
    /// let report = running.shutdown(std::time::Duration::from_secs(1));
    /// assert_eq!((report.drained, report.forced), (0, 0));
    /// # Ok(()) }
    /// # struct Nothing;
    /// # impl netcore::DatagramServer for Nothing {
    /// #     fn respond(&self, _: &[u8], _: std::net::SocketAddr, _: &mut Vec<u8>) -> bool { false }
    /// # }
    /// ```
    pub fn shutdown(self, drain: Duration) -> ShutdownReport {
        self.handle.shutdown(drain);
        self.wait()
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
