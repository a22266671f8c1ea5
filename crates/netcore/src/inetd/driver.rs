//! The blocking driver of inetd mode: a reader thread feeding a bounded
//! channel, and the calling thread driving the connection core with
//! blocking writes (the blocking sibling of `stream_io`). The design is
//! explained in the parent module.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socket2::SockRef;

use crate::conn::{Core, Next, Timeouts};
use crate::error::{Error, Result};
use crate::event::{CloseReason, Event};
use crate::handle::{Command, ConnHandle, Mailbox};
use crate::handler::{ConnectionInfo, Handler, Server};
use crate::lifecycle::Control;
use crate::timers::Key;

/// Most bytes one `read(2)` of the input takes.
const READ_SIZE: usize = 64 * 1024;

/// How many reads the reader thread may be ahead of the driver.
const AHEAD: usize = 4;

/// Runs one connection: starts the reader thread, makes the handler,
/// drives the core to the end, closes and reports.
pub(super) fn serve<S: Server>(
    server: &S,
    info: ConnectionInfo,
    mut ends: Ends,
    control: &Arc<Control>,
    timeouts: Timeouts,
) -> Result<CloseReason> {
    let (tx, rx) = mpsc::sync_channel(AHEAD);
    let reader = ends.input.clone();
    let nudge = tx.clone();
    std::thread::Builder::new()
        .name("inetd-reader".into())
        .stack_size(64 * 1024)
        .spawn(move || read_input(&reader, &tx))
        .map_err(|source| Error::Inetd {
            op: "starting the thread that reads the input",
            source,
        })?;
    control.emit(&Event::Accepted { conn: &info });
    let made = catch_unwind(AssertUnwindSafe(|| server.handler(&info)));
    let Ok(handler) = made else {
        let e = io::Error::other("the server panicked making a handler");
        report(control, &info, "accepting", &e);
        return Ok(ends.close(control, &info, CloseReason::HandlerPanic, 0, 0));
    };
    let mailbox = Arc::new(DriverMailbox {
        pending: Mutex::new(Some(Vec::new())),
        nudge,
    });
    let key = Key {
        slot: 0,
        generation: 1,
    };
    let handle = ConnHandle::new(mailbox.clone(), key);
    let mut driver = Driver {
        core: Core::new(handler, info, Some(handle), Instant::now()),
        control: control.clone(),
        timeouts,
        ends,
        rx,
        mailbox,
        send_timeout: None,
    };
    let reason = driver.run();
    // Commands for a closed connection do nothing.
    if let Ok(mut pending) = driver.mailbox.pending.lock() {
        *pending = None;
    }
    let Driver { core, mut ends, .. } = driver;
    Ok(ends.close(control, &core.info, reason, core.bytes_in, core.bytes_out))
}

/// What the reader thread (or a [`ConnHandle`]) tells the driver.
enum Input {
    Data(Vec<u8>),
    Eof,
    Failed(io::Error),
    /// Commands wait in the mailbox.
    Posted,
}

/// The reader thread: blocking reads until end-of-file, an error, or the
/// driver is gone. A full channel blocks it: that is the back-pressure.
fn read_input(input: &File, tx: &SyncSender<Input>) {
    let mut buf = vec![0; READ_SIZE];
    loop {
        let msg = match (&*input).read(&mut buf) {
            Ok(0) => Input::Eof,
            Ok(n) => Input::Data(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Input::Failed(e),
        };
        let last = !matches!(msg, Input::Data(_));
        if tx.send(msg).is_err() || last {
            return;
        }
    }
}

/// Commands from [`ConnHandle`]s: queued here, announced on the channel.
struct DriverMailbox {
    /// `None` once the connection has closed.
    pending: Mutex<Option<Vec<Command>>>,
    nudge: SyncSender<Input>,
}

impl Mailbox for DriverMailbox {
    fn post(&self, _: Key, command: Command) {
        match self.pending.lock() {
            Ok(mut pending) => match pending.as_mut() {
                Some(commands) => commands.push(command),
                None => return,
            },
            Err(_) => return,
        }
        // Never blocks the caller (who may be the handler itself). If the
        // channel is full, the driver has messages to take, and looks at
        // the mailbox after each: the command is not missed.
        let _ = self.nudge.try_send(Input::Posted);
    }
}

/// The two descriptors and what they are.
pub(super) struct Ends {
    input: Arc<File>,
    input_socket: bool,
    output: Option<File>,
    output_socket: bool,
}

impl Ends {
    pub(super) fn new(input: OwnedFd, output: OwnedFd) -> Self {
        let (input, output) = (File::from(input), File::from(output));
        Ends {
            input_socket: is_socket(&input),
            output_socket: is_socket(&output),
            input: Arc::new(input),
            output: Some(output),
        }
    }

    /// The peer's and our address, when the input is an IP socket
    /// (`getpeername(2)`, `getsockname(2)`).
    pub(super) fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        if !self.input_socket {
            return (None, None);
        }
        let sock = SockRef::from(&*self.input);
        let ip = |a: io::Result<socket2::SockAddr>| a.ok()?.as_socket().map(crate::unmap);
        (ip(sock.peer_addr()), ip(sock.local_addr()))
    }

    /// Ends the connection and reports it. A socket is shut down, as other
    /// descriptors of it may stay open (inetd passes it as 0, 1 and 2):
    /// the peer gets our end-of-file now, and the reader thread, blocked
    /// in `read(2)`, wakes up.
    fn close(
        &mut self,
        control: &Control,
        info: &ConnectionInfo,
        reason: CloseReason,
        bytes_in: u64,
        bytes_out: u64,
    ) -> CloseReason {
        if let Some(output) = self.output.take() {
            if self.output_socket {
                let _ = SockRef::from(&output).shutdown(Shutdown::Write);
            }
        }
        if self.input_socket {
            let _ = SockRef::from(&*self.input).shutdown(Shutdown::Read);
        }
        control.emit(&Event::Closed {
            conn: info,
            reason,
            bytes_in,
            bytes_out,
        });
        reason
    }
}

/// The driver's side: the core, the channel, the output.
struct Driver<H> {
    core: Core<H>,
    control: Arc<Control>,
    timeouts: Timeouts,
    ends: Ends,
    rx: Receiver<Input>,
    mailbox: Arc<DriverMailbox>,
    /// The `SO_SNDTIMEO` last set on a socket output.
    send_timeout: Option<Duration>,
}

impl<H: Handler> Driver<H> {
    /// Runs the connection to its end.
    fn run(&mut self) -> CloseReason {
        match self.core.open(&self.control) {
            Ok(()) => match self.turns() {
                Ok(never) => match never {},
                Err(reason) => reason,
            },
            Err(reason) => reason,
        }
    }

    /// One turn per loop: commands, output, what the core says, due
    /// deadlines, then one message already waiting and one `on_drained`
    /// (so neither a flood of input nor a producing handler starves the
    /// other), and if there was nothing to do, a wait for the channel
    /// until the next deadline. Returns only with the reason to close.
    fn turns(&mut self) -> Result<std::convert::Infallible, CloseReason> {
        let control = self.control.clone();
        loop {
            let commands = match self.mailbox.pending.lock() {
                Ok(mut pending) => pending.as_mut().map(std::mem::take).unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            for command in commands {
                self.core.command(command, &control)?;
            }
            if !self.flush()? {
                // A socket's send timeout: the peer is not reading. Handle
                // what is due, then write again.
                self.expire_due()?;
                continue;
            }
            match self.core.next() {
                Next::Close(reason) => return Err(reason),
                // The queue is empty after a flush; keep writing if not.
                Next::Wait => continue,
                Next::Linger if self.ends.output_socket => {
                    if let Some(output) = &self.ends.output {
                        let _ = SockRef::from(output).shutdown(Shutdown::Write);
                    }
                    self.core.start_linger(Instant::now());
                    continue;
                }
                // A pipe has no half-close: close now, without lingering.
                Next::Linger => return Err(CloseReason::Handler),
                Next::Read => {}
            }
            if self.expire_due()? {
                continue;
            }
            let waiting = match self.rx.try_recv() {
                Ok(msg) => Some(msg),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Input::Eof),
            };
            let took = waiting.is_some();
            if let Some(msg) = waiting {
                self.take(msg)?;
            }
            if self.core.drained(&control)? || took {
                continue;
            }
            let msg = match self.core.deadline(&self.timeouts) {
                Some(at) => self
                    .rx
                    .recv_timeout(at.saturating_duration_since(Instant::now())),
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match msg {
                Ok(msg) => self.take(msg)?,
                // The next turn handles what is due.
                Err(RecvTimeoutError::Timeout) => {}
                // Cannot happen while the mailbox holds a sender; if it
                // did, no more input would come.
                Err(RecvTimeoutError::Disconnected) => self.take(Input::Eof)?,
            }
        }
    }

    /// Hands one message from the reader thread to the core.
    fn take(&mut self, msg: Input) -> Result<(), CloseReason> {
        match msg {
            Input::Data(bytes) => self.core.received(&bytes, Instant::now(), &self.control),
            Input::Eof => self.core.received_eof(&self.control),
            // The peer went away while we waited for its end-of-file: our
            // side was done anyway.
            Input::Failed(_) if self.core.lingering() => Err(CloseReason::Handler),
            Input::Failed(e) => {
                report(&self.control, &self.core.info, "reading from", &e);
                Err(CloseReason::Error)
            }
            Input::Posted => Ok(()),
        }
    }

    /// Calls [`Core::expire`] if a deadline has come; says whether one had.
    fn expire_due(&mut self) -> Result<bool, CloseReason> {
        let now = Instant::now();
        let due = self
            .core
            .deadline(&self.timeouts)
            .is_some_and(|at| at <= now);
        if due {
            self.core.expire(now, &self.timeouts, &self.control)?;
        }
        Ok(due)
    }

    /// Writes the queue with blocking writes. `Ok(false)`: a socket's send
    /// timeout expired first.
    fn flush(&mut self) -> Result<bool, CloseReason> {
        while self.core.queued() > 0 {
            let written = match self.limit_send() {
                Ok(()) => self.write(),
                Err(e) => Err(e),
            };
            match written {
                Ok(0) => self.fail(io::ErrorKind::WriteZero.into())?,
                Ok(n) => self.core.wrote(n, Instant::now(), &self.control),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Only a timeout we set: an output someone else made
                // non-blocking would otherwise spin here.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && self.send_timeout.is_some() => {
                    self.core.write_blocked(Instant::now());
                    return Ok(false);
                }
                Err(e) => self.fail(e)?,
            }
        }
        Ok(true)
    }

    fn write(&mut self) -> io::Result<usize> {
        let Some(output) = &self.ends.output else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        if self.ends.output_socket {
            // send(2) with MSG_NOSIGNAL: no SIGPIPE, whatever the program's
            // signal disposition.
            SockRef::from(output).send(self.core.output())
        } else {
            (&*output).write(self.core.output())
        }
    }

    /// Gives a socket's blocking write `SO_SNDTIMEO` up to the next
    /// deadline (or the write timeout), so the driver gets control back.
    fn limit_send(&mut self) -> io::Result<()> {
        let Some(output) = self
            .ends
            .output
            .as_ref()
            .filter(|_| self.ends.output_socket)
        else {
            return Ok(());
        };
        let now = Instant::now();
        let write_limit = self.timeouts.write.and_then(|w| now.checked_add(w));
        let until = [self.core.deadline(&self.timeouts), write_limit]
            .into_iter()
            .flatten()
            .min();
        // Zero would mean "no timeout": wait at least a millisecond.
        let timeout = until.map(|t| (t - now).max(Duration::from_millis(1)));
        if timeout != self.send_timeout {
            SockRef::from(output).set_write_timeout(timeout)?;
            self.send_timeout = timeout;
        }
        Ok(())
    }

    /// Reports a failed write; the connection closes.
    fn fail(&self, e: io::Error) -> Result<(), CloseReason> {
        report(&self.control, &self.core.info, "writing to", &e);
        Err(CloseReason::Error)
    }
}

fn report(control: &Control, info: &ConnectionInfo, op: &'static str, error: &io::Error) {
    control.emit(&Event::Error {
        service: &info.service,
        conn: Some(info),
        op,
        error,
    });
}

/// Whether `fd` is a socket: `getsockopt(SO_TYPE)` fails with `ENOTSOCK`
/// on anything else, which is all [`SockRef`] may be used for on an fd
/// that is not known to be a socket.
fn is_socket(fd: &impl AsFd) -> bool {
    SockRef::from(fd).r#type().is_ok()
}
