//! [`Stream`]: a connected TCP stream whose own methods fail with an
//! [`Error`] that names the operation and the server, and tell a timeout
//! from other failures; `Read` and `Write` (on `&Stream` too) for
//! everything that wants std's traits.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
#[cfg(unix)]
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use crate::error::{Error, Result};

/// A connected TCP stream from [`Client::connect`](crate::Client::connect).
///
/// [`Stream::send`], [`Stream::receive`] and the other methods fail with
/// an [`Error`] naming what was done and the server (`reading from
/// 127.0.0.1:7`), and a read or write that waited out its timeout is
/// [`Error::Timeout`]. `Read` and `Write` are implemented for `Stream`
/// and for `&Stream`, so one thread can read while another writes through
/// a shared reference (an `Arc<Stream>`).
///
/// ```
/// # use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, Server};
/// # struct Echo;
/// # impl Handler for Echo {
/// #     fn on_data(&mut self, c: &mut Connection<'_>, d: &[u8]) -> Flow { c.send(d); Flow::Continue }
/// # }
/// # struct EchoServer;
/// # impl Server for EchoServer {
/// #     type Handler = Echo;
/// #     fn handler(&self, _: &ConnectionInfo) -> Echo { Echo }
/// # }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let running = Builder::new("127.0.0.1:0".parse()?).serve(EchoServer)?;
/// # let port = running.local_addr().port();
/// let stream = netcore::Client::new().connect("127.0.0.1", port)?;
/// stream.send(b"ping")?;
/// stream.half_close()?;
/// let mut reply = [0u8; 4];
/// stream.receive_exact(&mut reply)?;
/// assert_eq!(&reply, b"ping");
/// assert_eq!(stream.receive(&mut [0u8; 8])?, 0, "end of file");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Stream {
    inner: TcpStream,
    peer: SocketAddr,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl Stream {
    pub(super) fn new(
        inner: TcpStream,
        peer: SocketAddr,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
    ) -> Self {
        Stream {
            inner,
            peer,
            read_timeout,
            write_timeout,
        }
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// This end's address (`getsockname(2)`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// One `read(2)` into `buf` (retried on `EINTR`): the number of bytes
    /// read, 0 at end-of-file.
    pub fn receive(&self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match (&self.inner).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result.map_err(|e| self.read_error("reading from", e)),
            }
        }
    }

    /// [`Stream::receive`] into `buf` until the server closes (a `read(2)`
    /// of 0), handing each chunk to `each` as it arrives; returns the
    /// number of bytes received. Stops at the first error: a failed read
    /// (as [`Error`], converted) or whatever `each` returned, so the
    /// caller's error type says which side failed.
    ///
    /// For the clients that pass a server's bytes on as they come (a
    /// chargen stream, a daytime line, whatever a discard server sends).
    /// `buf` must not be empty: an empty read looks like the close.
    ///
    /// ```
    /// # use std::io::Write;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let port = listener.local_addr()?.port();
    /// # let server = std::thread::spawn(move || -> std::io::Result<()> {
    /// #     listener.accept()?.0.write_all(b"Wed Feb 11 16:32:10 2026\n")
    /// # });
    /// let stream = netcore::Client::new().connect("127.0.0.1", port)?;
    /// let mut reply = Vec::new();
    /// let received = stream.receive_until_closed(&mut [0u8; 4096], |chunk| {
    ///     reply.extend_from_slice(chunk);
    ///     Ok::<(), netcore::Error>(())
    /// })?;
    /// assert_eq!(received, 25);
    /// assert_eq!(reply, b"Wed Feb 11 16:32:10 2026\n");
    /// # server.join().map_err(|_| "server panicked")??;
    /// # Ok(()) }
    /// ```
    pub fn receive_until_closed<E: From<Error>>(
        &self,
        buf: &mut [u8],
        mut each: impl FnMut(&[u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<u64, E> {
        let mut total = 0u64;
        loop {
            let n = self.receive(buf)?;
            if n == 0 {
                return Ok(total);
            }
            each(&buf[..n])?;
            total += n as u64;
        }
    }

    /// Reads exactly enough to fill `buf`; end-of-file first is an error.
    pub fn receive_exact(&self, buf: &mut [u8]) -> Result<()> {
        (&self.inner)
            .read_exact(buf)
            .map_err(|e| self.read_error("reading from", e))
    }

    /// Writes all of `bytes`.
    pub fn send(&self, bytes: &[u8]) -> Result<()> {
        (&self.inner)
            .write_all(bytes)
            .map_err(|e| self.write_error("writing to", e))
    }

    /// `shutdown(SHUT_WR)`: tell the server no more data will come (it
    /// reads end-of-file) while still reading its replies.
    pub fn half_close(&self) -> Result<()> {
        self.inner
            .shutdown(Shutdown::Write)
            .map_err(|e| self.error("half-closing", e))
    }

    /// `shutdown(SHUT_RDWR)`: ends the connection for every handle on the
    /// socket, waking at once a thread blocked reading on another handle
    /// (its read returns end-of-file), e.g. when the side that writes
    /// gives up.
    pub fn shutdown(&self) -> Result<()> {
        self.inner
            .shutdown(Shutdown::Both)
            .map_err(|e| self.error("shutting down", e))
    }

    /// The `SO_RCVTIMEO` this stream was given (by the
    /// [`Client`](crate::Client) or [`Stream::set_read_timeout`]).
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }

    /// Change `SO_RCVTIMEO` (it applies to every handle on the socket).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.inner
            .set_read_timeout(timeout)
            .map_err(|e| self.error("setting the read timeout on", e))?;
        self.read_timeout = timeout;
        Ok(())
    }

    /// Change `SO_SNDTIMEO` (it applies to every handle on the socket).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.inner
            .set_write_timeout(timeout)
            .map_err(|e| self.error("setting the write timeout on", e))?;
        self.write_timeout = timeout;
        Ok(())
    }

    /// A second handle on the same socket (`dup(2)`). Sharing one
    /// `Stream` through `&Stream` or an `Arc` needs no second descriptor.
    pub fn try_clone(&self) -> Result<Stream> {
        Ok(Stream {
            inner: self
                .inner
                .try_clone()
                .map_err(|e| self.error("duplicating the socket of", e))?,
            ..*self
        })
    }

    /// The std stream underneath.
    pub fn into_std(self) -> TcpStream {
        self.inner
    }

    /// A failed `op` on this stream as [`Error::Io`] naming the server.
    pub(crate) fn error(&self, op: &'static str, source: io::Error) -> Error {
        Error::Io {
            op,
            addr: self.peer,
            source,
        }
    }

    fn read_error(&self, op: &'static str, source: io::Error) -> Error {
        self.timeout_or(op, source, self.read_timeout)
    }

    fn write_error(&self, op: &'static str, source: io::Error) -> Error {
        self.timeout_or(op, source, self.write_timeout)
    }

    /// With a timeout set, `EAGAIN` means it ran out: [`Error::Timeout`].
    fn timeout_or(&self, op: &'static str, source: io::Error, limit: Option<Duration>) -> Error {
        match (source.kind(), limit) {
            (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(after)) => Error::Timeout {
                op,
                addr: self.peer,
                after,
            },
            _ => self.error(op, source),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.inner).read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&self.inner).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&self.inner).flush()
    }
}

#[cfg(unix)]
impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair() -> (TcpListener, Stream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stream = crate::Client::new().connect_addr(addr).unwrap();
        (listener, stream)
    }

    #[test]
    fn a_read_that_waits_out_its_timeout_is_a_timeout() {
        // The listener's backlog completes the handshake; nobody answers.
        let (_listener, mut stream) = pair();
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let err = stream.receive(&mut [0u8; 8]).unwrap_err();
        let addr = stream.peer_addr();
        assert_eq!(
            err.to_string(),
            format!("reading from {addr}: timed out after 0.05 s")
        );
        assert_eq!(err.io_kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_shared_stream_reads_and_writes_through_references() {
        let (listener, stream) = pair();
        let (mut server, _) = listener.accept().unwrap();
        (&stream).write_all(b"hi").unwrap();
        let mut got = [0u8; 2];
        server.read_exact(&mut got).unwrap();
        server.write_all(b"yo").unwrap();
        let mut reply = [0u8; 2];
        (&stream).read_exact(&mut reply).unwrap();
        assert_eq!((&got, &reply), (b"hi", b"yo"));
        assert!(stream.as_fd().try_clone_to_owned().is_ok());
        drop(server);
        let err = stream.receive_exact(&mut reply).unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::UnexpectedEof);
        assert!(
            err.to_string().starts_with("reading from 127.0.0.1:"),
            "{err}"
        );
    }
}
