//! What the event loops of one engine share: its services (each TCP
//! service's limits and connection count, each UDP service's policy) and
//! the counter that numbers connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::conn::Timeouts;
use crate::handler::{ConnectionInfo, Handler};
use crate::lifecycle::Control;
use crate::udp::UdpService;

/// What every loop of an engine shares.
pub(crate) struct Shared {
    pub control: Arc<Control>,
    pub services: Vec<Socket>,
    pub next_id: AtomicU64,
}

impl Shared {
    /// The TCP service at index `i`, if it is one.
    pub fn tcp(&self, i: usize) -> Option<&TcpService> {
        match self.services.get(i) {
            Some(Socket::Tcp(s)) => Some(s),
            _ => None,
        }
    }

    /// A fresh connection id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// One service as the loops share it.
pub(crate) enum Socket {
    Tcp(TcpService),
    Udp(UdpService),
}

/// What every loop shares of one TCP service.
pub(crate) struct TcpService {
    pub name: Arc<str>,
    pub server: Box<dyn AnyServer>,
    pub max_connections: usize,
    pub open: AtomicUsize,
    /// Some loop stopped accepting because the limit was reached.
    pub saturated: AtomicBool,
    pub timeouts: Timeouts,
    pub nodelay: bool,
    /// The listener's own address, when it is not a wildcard: accepted
    /// connections share it, which saves a `getsockname(2)` per accept.
    pub fixed_local: Option<SocketAddr>,
}

impl TcpService {
    /// Counts one more connection, unless the service is at its limit.
    pub fn take_slot(&self, control: &Control) -> bool {
        loop {
            if self.open.fetch_add(1, Ordering::SeqCst) < self.max_connections {
                control.open.fetch_add(1, Ordering::SeqCst);
                return true;
            }
            self.open.fetch_sub(1, Ordering::SeqCst);
            self.saturated.store(true, Ordering::SeqCst);
            // A slot freed between our check and the store would have found
            // no flag to clear and woken nobody: look again.
            if self.open.load(Ordering::SeqCst) >= self.max_connections {
                return false;
            }
        }
    }

    /// A connection ended (or never started): count it out, and wake the
    /// loops if clients may be waiting in the backlog for a slot, since no
    /// new edge will announce them.
    pub fn give_back_slot(&self, control: &Control) {
        self.open.fetch_sub(1, Ordering::SeqCst);
        control.open.fetch_sub(1, Ordering::SeqCst);
        if self.saturated.swap(false, Ordering::SeqCst) {
            control.wake_all();
        }
    }
}

/// Makes the handler for a new connection, catching a panic.
pub(crate) trait AnyServer: Send + Sync {
    fn handler(&self, info: &ConnectionInfo) -> Result<Box<dyn Handler>, ()>;
}

impl<S: crate::Server> AnyServer for S {
    fn handler(&self, info: &ConnectionInfo) -> Result<Box<dyn Handler>, ()> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Box::new(crate::Server::handler(self, info)) as Box<dyn Handler>
        }))
        .map_err(|_| ())
    }
}
