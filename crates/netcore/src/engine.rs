//! [`Engine`]: several services, TCP and UDP, on one set of event loops,
//! with one shutdown; and what its loops share.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

use mio::{Interest, Poll, Token, Waker};

use crate::builder::{Builder, DEFAULT_OUTPUT_BUDGET};
use crate::datagram_builder::DatagramBuilder;
use crate::error::{Error, Result};
use crate::event::Observer;
use crate::event_loop::{Loop, LoopMailbox, LoopSocket, WAKER};
use crate::handler::{DatagramServer, Server};
use crate::handoff::Spread;
use crate::lifecycle::{Control, Running, spawn_loops};
use crate::observers::Silent;
use crate::policy::RateLimiter;
use crate::services::{Shared, Socket, TcpService};
use crate::socket::ServiceSocket;
use crate::udp::UdpService;

/// Several services on one set of event loops: each (socket, server) pair
/// with its own name, limits and timeouts, one shutdown for them all.
///
/// Set the observer and threads first: each [`Engine::serve`] binds its
/// socket at once and reports it to the engine's observer.
///
/// ```
/// use std::time::Duration;
/// use netcore::{Builder, DatagramBuilder, Engine};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let running = Engine::new()
///     .serve(Builder::new("127.0.0.1:0".parse()?).name("echo"), echo_server())?
///     .serve_datagrams(DatagramBuilder::new("127.0.0.1:0".parse()?).name("echo-udp"), echo_server())?
///     .start()?;
/// assert_eq!(running.local_addrs().len(), 2);
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// # fn echo_server() -> Echo { Echo }
/// # struct Echo;
/// # struct EchoHandler;
/// # impl netcore::Handler for EchoHandler {
/// #     fn on_data(&mut self, c: &mut netcore::Connection<'_>, d: &[u8]) -> netcore::Flow { c.send(d); netcore::Flow::Continue }
/// # }
/// # impl netcore::Server for Echo {
/// #     type Handler = EchoHandler;
/// #     fn handler(&self, _: &netcore::ConnectionInfo) -> EchoHandler { EchoHandler }
/// # }
/// # impl netcore::DatagramServer for Echo {
/// #     fn respond(&self, r: &[u8], _: std::net::SocketAddr, out: &mut Vec<u8>) -> bool { out.extend_from_slice(r); true }
/// # }
/// ```
#[must_use = "an engine does nothing until started"]
pub struct Engine {
    threads: usize,
    observer: Arc<dyn Observer>,
    output_budget: usize,
    services: Vec<Socket>,
    sockets: Vec<ServiceSocket>,
    locals: Vec<(Arc<str>, SocketAddr)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("threads", &self.threads)
            .field("output_budget", &self.output_budget)
            .field("services", &self.locals)
            .finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An engine with no services yet: one event loop per two cores (see
    /// [`Builder::threads`]), a silent observer, the default output budget.
    pub fn new() -> Self {
        Engine {
            threads: crate::builder::default_threads(),
            observer: Arc::new(Silent),
            output_budget: DEFAULT_OUTPUT_BUDGET,
            services: Vec::new(),
            sockets: Vec::new(),
            locals: Vec::new(),
        }
    }

    /// How many event loops serve every service (at least 1).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Who hears about the engine's events. Set it before adding services.
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    pub(crate) fn observer_arc(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// The most bytes all connections together may have queued for their
    /// peers (default 64 MiB). Past it, the loops read only from
    /// connections whose queue is empty, a little at a time, so peers that
    /// send but never read cannot grow the server's memory without bound,
    /// while everyone else is still served.
    pub fn output_budget(mut self, bytes: usize) -> Self {
        self.output_budget = bytes;
        self
    }

    /// Binds `builder`'s TCP socket (or takes its adopted listener) and
    /// adds it, served by `server`, with the builder's limits and timeouts.
    /// The builder's own threads and observer are not used.
    pub fn serve<S: Server>(mut self, builder: Builder, server: S) -> Result<Self> {
        let (spec, listener) = builder.into_service(&*self.observer)?;
        self.locals.push((spec.name.clone(), spec.local));
        self.services.push(Socket::Tcp(TcpService {
            name: spec.name,
            server: Box::new(server),
            max_connections: spec.max_connections,
            max_per_source: spec.max_per_source,
            // At least one slot whenever there are two, so even a small
            // server cannot be filled by one source.
            reserve: if spec.max_connections >= 2 {
                (spec.max_connections / 8).max(1)
            } else {
                0
            },
            per_source: Mutex::default(),
            open: AtomicUsize::new(0),
            saturated: AtomicBool::new(false),
            timeouts: spec.timeouts,
            nodelay: spec.nodelay,
            fixed_local: (!spec.local.ip().is_unspecified()).then_some(spec.local),
        }));
        self.sockets.push(ServiceSocket::Tcp(listener));
        Ok(self)
    }

    /// Binds `builder`'s UDP socket (or takes its adopted one) and adds it,
    /// answered by `server` under the builder's [`DatagramPolicy`](crate::DatagramPolicy).
    pub fn serve_datagrams<D: DatagramServer>(
        mut self,
        builder: DatagramBuilder,
        server: D,
    ) -> Result<Self> {
        let (spec, socket) = builder.into_service(&*self.observer)?;
        self.locals.push((spec.name.clone(), spec.local));
        self.services.push(Socket::Udp(UdpService {
            name: spec.name,
            server: Box::new(server),
            policy: spec.policy,
            limiter: Mutex::new(RateLimiter::new(spec.policy.rate_per_source)),
            guard: Mutex::default(),
            own: Arc::from([]),
        }));
        self.sockets.push(ServiceSocket::Udp(socket));
        Ok(self)
    }

    /// Starts the event loops. Returns once every socket is being served.
    pub fn start(self) -> Result<Running> {
        let engine = |source| Error::Engine { source };
        let Engine {
            threads,
            observer,
            output_budget,
            services,
            sockets,
            locals,
        } = self;
        // Every UDP service knows the engine's UDP addresses: a datagram
        // from one of them is the engine answering itself (echo and chargen
        // in one process are the classic loop pair).
        let own: Arc<[SocketAddr]> = services
            .iter()
            .zip(&locals)
            .filter(|(s, _)| matches!(s, Socket::Udp(_)))
            .map(|(_, (_, addr))| *addr)
            .collect();
        let services = services
            .into_iter()
            .map(|s| match s {
                Socket::Udp(mut udp) => {
                    udp.own = own.clone();
                    Socket::Udp(udp)
                }
                tcp => tcp,
            })
            .collect();
        let control = Control::new(observer, threads);
        let shared = Arc::new(Shared {
            control: control.clone(),
            services,
            next_id: AtomicU64::new(1),
        });
        let mut polls = Vec::with_capacity(threads);
        let mut mailboxes = Vec::with_capacity(threads);
        for _ in 0..threads {
            let poll = Poll::new().map_err(engine)?;
            let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(engine)?);
            mailboxes.push(Arc::new(LoopMailbox::new(waker)));
            polls.push(poll);
        }
        let mailboxes: Arc<[Arc<LoopMailbox>]> = mailboxes.into();
        let wakers = mailboxes.iter().map(|m| m.waker.clone()).collect();
        let mut loops = Vec::with_capacity(threads);
        for (me, poll) in polls.into_iter().enumerate() {
            let registry = poll.registry();
            let mut mine = Vec::with_capacity(sockets.len());
            // The k-th TCP listener is accepted from by loop k alone (mod
            // the loops), which deals its connections to all of them.
            let mut tcp = 0;
            for (i, socket) in sockets.iter().enumerate() {
                mine.push(match socket {
                    ServiceSocket::Tcp(l) => {
                        tcp += 1;
                        if (tcp - 1) % threads != me {
                            LoopSocket::Tcp(None)
                        } else {
                            let l = l.try_clone().map_err(engine)?;
                            let mut l = mio::net::TcpListener::from_std(l);
                            registry
                                .register(&mut l, Token(i), Interest::READABLE)
                                .map_err(engine)?;
                            LoopSocket::Tcp(Some(l))
                        }
                    }
                    ServiceSocket::Udp(u) => {
                        let mut u = mio::net::UdpSocket::from_std(u.try_clone().map_err(engine)?);
                        registry
                            .register(&mut u, Token(i), Interest::READABLE)
                            .map_err(engine)?;
                        LoopSocket::Udp(Some(u))
                    }
                });
            }
            loops.push(Loop::new(
                poll,
                shared.clone(),
                mine,
                mailboxes[me].clone(),
                Spread::new(mailboxes.clone(), me),
                output_budget / threads,
            ));
        }
        // Kept until shutdown, for `Running::clone_socket`.
        *control.sockets.lock().unwrap_or_else(|e| e.into_inner()) = sockets;
        let _ = control.wakers.set(wakers);
        let bodies = loops
            .into_iter()
            .map(|l| Box::new(move || l.run()) as Box<dyn FnOnce() + Send>)
            .collect();
        let handles = spawn_loops("netcore", &control, bodies)?;
        Ok(Running::new(locals, control, handles))
    }
}

// The single-service shortcuts live here, beside the engine they start, so
// that the builders need not know the engine.
impl Builder {
    /// Bind the TCP socket (or take the adopted listener), then start an
    /// engine serving `server` on it alone. Returns once the socket is
    /// listening: clients may connect as soon as this returns.
    pub fn serve<S: Server>(self, server: S) -> Result<Running> {
        Engine::new()
            .threads(self.threads)
            .output_budget(self.output_budget)
            .observer_arc(self.observer.clone())
            .serve(self, server)?
            .start()
    }
}

impl DatagramBuilder {
    /// Bind the UDP socket (or take the adopted one), then start an engine
    /// answering datagrams with `server`, under the
    /// [`DatagramPolicy`](crate::DatagramPolicy).
    pub fn serve<D: DatagramServer>(self, server: D) -> Result<Running> {
        Engine::new()
            .threads(self.threads)
            .observer_arc(self.observer.clone())
            .serve_datagrams(self, server)?
            .start()
    }
}
