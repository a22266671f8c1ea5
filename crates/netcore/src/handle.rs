//! [`ConnHandle`]: reach one connection from any thread, to wake its
//! handler or to close it.
//!
//! A handle names the connection by the slot it occupies in its loop and
//! the slot's generation, which changes every time the slot is reused. A
//! command for a connection that has closed, even one whose slot now holds
//! another connection, is dropped: a stale handle can never touch a
//! stranger.

use std::sync::Arc;

use crate::timers::Key;

/// What another thread asks of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Call [`Handler::on_wake`](crate::Handler::on_wake).
    Wake,
    /// Send what is queued, then close, as [`Flow::Close`](crate::Flow::Close).
    Close,
}

/// Where a driver takes commands for its connections: a loop's queue and
/// waker, or the channel of a one-connection driver.
pub(crate) trait Mailbox: Send + Sync {
    /// Queues `command` for the connection `key` and wakes its driver.
    fn post(&self, key: Key, command: Command);
}

/// Wakes or closes one connection from any thread; cheap to clone.
///
/// Get one from [`Connection::handle`](crate::Connection::handle) during a
/// callback. After the connection has closed, its handle does nothing.
///
/// ```
/// use std::sync::mpsc;
/// use std::time::Duration;
/// use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
///
/// /// Hands each connection's handle to the test, says "hi" when woken.
/// struct Wakeable(mpsc::Sender<netcore::ConnHandle>);
/// struct WakeableHandler(Option<mpsc::Sender<netcore::ConnHandle>>);
///
/// impl Handler for WakeableHandler {
///     fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
///         if let (Some(tx), Some(handle)) = (self.0.take(), conn.handle()) {
///             let _ = tx.send(handle);
///         }
///         Flow::Continue
///     }
///     fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
///         Flow::Continue
///     }
///     fn on_wake(&mut self, conn: &mut Connection<'_>) -> Flow {
///         conn.send(b"hi\n");
///         Flow::Close
///     }
/// }
///
/// impl Server for Wakeable {
///     type Handler = WakeableHandler;
///     fn handler(&self, _: &ConnectionInfo) -> WakeableHandler {
///         WakeableHandler(Some(self.0.clone()))
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (tx, rx) = mpsc::channel();
/// let running = Builder::new("127.0.0.1:0".parse()?).serve(Wakeable(tx))?;
/// let mut client = std::net::TcpStream::connect(running.local_addr())?;
/// let handle = rx.recv_timeout(Duration::from_secs(5))?;
/// handle.wake();
/// let mut reply = String::new();
/// std::io::Read::read_to_string(&mut client, &mut reply)?;
/// assert_eq!(reply, "hi\n");
/// running.shutdown(Duration::from_secs(1));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConnHandle {
    mailbox: Arc<dyn Mailbox>,
    key: Key,
}

impl std::fmt::Debug for ConnHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnHandle")
            .field("slot", &self.key.slot)
            .field("generation", &self.key.generation)
            .finish_non_exhaustive()
    }
}

impl ConnHandle {
    pub(crate) fn new(mailbox: Arc<dyn Mailbox>, key: Key) -> Self {
        ConnHandle { mailbox, key }
    }

    /// Calls the handler's [`on_wake`](crate::Handler::on_wake) on the
    /// connection's own loop, soon. Does nothing if it has closed.
    pub fn wake(&self) {
        self.mailbox.post(self.key, Command::Wake);
    }

    /// Sends what is queued, then closes the connection, as if its handler
    /// had returned [`Flow::Close`](crate::Flow::Close). Does nothing if it
    /// has closed.
    pub fn close(&self) {
        self.mailbox.post(self.key, Command::Close);
    }
}
