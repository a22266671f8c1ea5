//! What the event loops of one engine share: its services (each TCP
//! service's limits and connection count, each UDP service's policy) and
//! the counter that numbers connections.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// At most this many connections from one source address.
    pub max_per_source: Option<usize>,
    /// The last slots under `max_connections`, kept for sources that hold
    /// no connection yet.
    pub reserve: usize,
    /// Open connections per source address.
    pub per_source: Mutex<HashMap<IpAddr, usize>>,
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

    /// Whether a just-accepted connection from `ip` may keep the slot it
    /// took: not past the per-source limit, and in the reserve (the last
    /// eighth of the slots) only a source that holds nothing yet, so one
    /// source that fills the server cannot lock everyone else out. Counts
    /// the connection in when it may.
    pub fn admit(&self, ip: IpAddr) -> Result<(), &'static str> {
        let Ok(mut held) = self.per_source.lock() else {
            return Err("internal error");
        };
        let mine = held.get(&ip).copied().unwrap_or(0);
        if self.max_per_source.is_some_and(|cap| mine >= cap) {
            return Err("per-source limit");
        }
        let open = self.open.load(Ordering::SeqCst);
        if mine > 0 && open > self.max_connections - self.reserve {
            return Err("slots kept for new sources");
        }
        *held.entry(ip).or_insert(0) += 1;
        Ok(())
    }

    /// A connection from `ip` that was admitted has ended.
    pub fn release(&self, ip: IpAddr) {
        if let Ok(mut held) = self.per_source.lock() {
            if let Some(n) = held.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    held.remove(&ip);
                }
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
    fn handler(&self, info: &ConnectionInfo) -> Result<Box<dyn Handler>, String>;
}

impl<S: crate::Server> AnyServer for S {
    fn handler(&self, info: &ConnectionInfo) -> Result<Box<dyn Handler>, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Box::new(crate::Server::handler(self, info)) as Box<dyn Handler>
        }))
        .map_err(|payload| crate::conn::panic_message(payload.as_ref()))
    }
}
