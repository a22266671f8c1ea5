//! inetd mode: serve one connection that is already open on file
//! descriptors 0 and 1, as inetd (`nowait`), xinetd and systemd
//! (`Accept=yes`) hand it to a program, with any [`Server`].
//!
//! See [`Inetd`] for the API and an example.
//!
//! # Why blocking threads, not the event loop
//!
//! The descriptors may be a TCP socket, but also two pipes (`socat
//! EXEC:`, a test, a shell pipeline), a terminal or a file. epoll refuses
//! regular files, and switching an inherited descriptor to non-blocking
//! mode changes the open file description every process sharing it sees
//! (the shell's terminal, the parent's pipe). So this driver never does:
//! it moves bytes with blocking `read(2)`/`write(2)` on two threads, and
//! feeds the same connection core as the event loop, so the rules of a
//! connection (handler calls, half-close, lingering close, timers,
//! timeouts) are the same. With one connection per process, two threads
//! cost nothing.
//!
//! - A **reader thread** reads the input and sends the bytes, its
//!   end-of-file or its error over a bounded channel.
//! - The **driver** (the calling thread) owns the core: it calls the
//!   handler, writes the output with blocking writes, and waits on the
//!   channel with a timeout until the core's next deadline (the handler's
//!   timer, the idle and read timeouts, the lingering close). While it is
//!   writing it does not take from the channel, and the full channel stops
//!   the reader: memory stays bounded by the output queue's mark plus
//!   `AHEAD` reads of `READ_SIZE` bytes.
//! - A [`ConnHandle`](crate::ConnHandle) queues its command beside the
//!   channel and nudges the driver through it, never blocking the caller.
//!
//! What a socket can do and a pipe cannot: on [`Flow::Close`](crate::Flow::Close) with unread
//! input, a socket is half-closed (`shutdown(SHUT_WR)`) and the driver
//! lingers for the peer's end-of-file; a pipe has no half-close, so the
//! output is closed at once. A write to a socket is given `SO_SNDTIMEO` up
//! to the next deadline, so timers, timeouts and handle commands still run
//! while the peer is not reading; a write to a pipe or terminal cannot be
//! interrupted without non-blocking mode, so there they wait until the
//! write completes, and the write timeout does not apply.

mod driver;

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use crate::conn::Timeouts;
use crate::error::{Error, Result};
use crate::event::{CloseReason, Observer};
use crate::handler::{ConnectionInfo, Server};
use crate::lifecycle::Control;
use crate::observers::Silent;
use driver::Ends;

/// Serves one connection that is already open on descriptors (inetd
/// mode) with a [`Server`]: fds 0 and 1 of the process with
/// [`Inetd::serve`], any pair with [`Inetd::serve_fds`].
///
/// The descriptors stay in blocking mode: a reader thread feeds the same
/// connection core the event loop runs, so a handler behaves alike in
/// both. A socket is half-closed and lingers on
/// [`Flow::Close`](crate::Flow::Close); a pipe is closed at once.
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::Shutdown;
/// use std::os::unix::net::UnixStream;
/// use netcore::{CloseReason, Connection, ConnectionInfo, Flow, Handler, Inetd, Server};
///
/// struct Echo;
/// struct EchoHandler;
///
/// impl Handler for EchoHandler {
///     fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
///         conn.send(data);
///         Flow::Continue
///     }
/// }
///
/// impl Server for Echo {
///     type Handler = EchoHandler;
///     fn handler(&self, _: &ConnectionInfo) -> EchoHandler {
///         EchoHandler
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A program started by inetd calls `Inetd::new().name("echo").serve(Echo)`
/// // and exits; here a socket pair stands in for fds 0 and 1.
/// let (mut client, server_end) = UnixStream::pair()?;
/// let input = server_end.try_clone()?;
/// let served = std::thread::spawn(move || Inetd::new().serve_fds(Echo, input, server_end));
/// client.write_all(b"hello")?;
/// client.shutdown(Shutdown::Write)?;
/// let mut reply = String::new();
/// client.read_to_string(&mut reply)?;
/// assert_eq!(reply, "hello");
/// assert_eq!(served.join().unwrap()?, CloseReason::PeerClosed);
/// # Ok(()) }
/// ```
pub struct Inetd {
    name: Arc<str>,
    observer: Arc<dyn Observer>,
    timeouts: Timeouts,
}

impl std::fmt::Debug for Inetd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inetd")
            .field("name", &self.name)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl Default for Inetd {
    fn default() -> Self {
        Self::new()
    }
}

impl Inetd {
    /// No service name, no timeouts, a silent observer.
    pub fn new() -> Self {
        Inetd {
            name: Arc::from(""),
            observer: Arc::new(Silent),
            timeouts: Timeouts::default(),
        }
    }

    /// The service's name, in the [`ConnectionInfo`] and on every event.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }

    /// Who hears about the connection's [`Event`](crate::Event)s (`Accepted`, `Read`,
    /// `Wrote`, `Error`, `Closed`), on the driver's thread.
    pub fn observer(mut self, observer: impl Observer) -> Self {
        self.observer = Arc::new(observer);
        self
    }

    /// Close the connection when no byte has moved either way for this
    /// long. `None` (the default) waits forever.
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// Close the connection when the peer has sent nothing for this long.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.read = timeout;
        self
    }

    /// Close the connection when queued output made no progress for this
    /// long. Applies only when the output is a socket (through
    /// `SO_SNDTIMEO`): a blocked write to a pipe cannot be interrupted.
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.write = timeout;
        self
    }

    /// Serves the connection on this process's fd 0 (input) and fd 1
    /// (output) until it ends, and says why it ended. Nothing may have
    /// read standard input before (bytes in std's buffer would be lost).
    ///
    /// The driver works on duplicates (`dup(2)`) of fds 0 and 1, since std
    /// has no safe way to take them over; fds 0 and 1 themselves close when
    /// the process exits, as an inetd service does right after this
    /// returns. A socket's peer sees end-of-file at once regardless
    /// (`shutdown(2)` acts on the socket, not the descriptor).
    ///
    /// Errors only if the descriptors cannot be duplicated or the reader
    /// thread cannot be started; what goes wrong on the connection is an
    /// [`Event::Error`](crate::Event::Error) and ends it with [`CloseReason::Error`].
    pub fn serve<S: Server>(self, server: S) -> Result<CloseReason> {
        let dup = |fd: io::Result<OwnedFd>, op| fd.map_err(|source| Error::Inetd { op, source });
        // Anything printed before goes out before the service's bytes.
        let _ = io::stdout().flush();
        let input = dup(
            io::stdin().as_fd().try_clone_to_owned(),
            "duplicating standard input",
        )?;
        let output = dup(
            io::stdout().as_fd().try_clone_to_owned(),
            "duplicating standard output",
        )?;
        self.serve_fds(server, input, output)
    }

    /// Serves the connection on `input` and `output` (the same socket
    /// twice, or two pipes, a terminal, a file) until it ends, and says
    /// why. Both must be in blocking mode, as inetd and systemd pass them.
    /// Both are closed on return; a socket is also shut down, so the peer
    /// sees end-of-file even if other descriptors of it stay open.
    ///
    /// [`ConnectionInfo::peer`] and [`ConnectionInfo::local`] are set when
    /// `input` is an IP socket (`getpeername(2)`, `getsockname(2)`). The
    /// reader thread is not waited for: on a pipe it may stay blocked in
    /// `read(2)` until the writer closes it or the process exits.
    pub fn serve_fds<S: Server>(
        self,
        server: S,
        input: impl Into<OwnedFd>,
        output: impl Into<OwnedFd>,
    ) -> Result<CloseReason> {
        let ends = Ends::new(input.into(), output.into());
        let (peer, local) = ends.addresses();
        let info = ConnectionInfo {
            id: 1,
            service: self.name.clone(),
            peer,
            local,
        };
        let control = Control::new(self.observer, 1);
        driver::serve(&server, info, ends, &control, self.timeouts)
    }
}
