//! Zero-copy echo: a connection whose handler only echoes
//! ([`Handler::passthrough`](crate::Handler::passthrough)) has its bytes
//! moved socket → pipe → the same socket with `splice(2)`, never copied
//! into user space.
//!
//! A connection borrows a pipe only while the pipe holds its bytes and
//! gives it back empty, so idle connections hold none. Each loop is one
//! thread, so a thread-local pool is the loop's pool, with no lock and no
//! plumbing through the loop; the pool is capped, and a pipe given back
//! to a full pool is closed. A pipe that still holds bytes when its
//! connection closes is closed with it, never pooled.
//!
//! Elsewhere than Linux there is no `splice(2)`: [`borrow`] says
//! `Unsupported` and the caller reads as usual.

use std::io;

/// Pipes kept per loop for connections to borrow. Past this many busy
/// connections, pipes are made and closed as they are needed.
const POOL_CAP: usize = 64;

/// The pipe size asked for (`F_SETPIPE_SZ`): the most one connection
/// holds in the kernel between its read and its echo, and so how many
/// bytes one pair of `splice(2)` calls moves. Over the user's pipe
/// allowance the kernel refuses, and the default (64 KiB) stays.
const PIPE_SIZE: usize = 256 * 1024;

/// Bytes asked of one `splice(2)` from the socket: more than any pipe
/// holds, so the pipe's room is the limit.
pub(crate) const FILL_CHUNK: usize = 1 << 20;

#[cfg(target_os = "linux")]
mod imp {
    use std::cell::RefCell;
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};

    use rustix::pipe::{PipeFlags, SpliceFlags, fcntl_setpipe_size, pipe_with, splice};

    /// A pipe a connection has borrowed: its bytes go in at `write` and
    /// out at `read`.
    #[derive(Debug)]
    pub(crate) struct Pipe {
        read: OwnedFd,
        write: OwnedFd,
    }

    thread_local! {
        static POOL: RefCell<Vec<Pipe>> = const { RefCell::new(Vec::new()) };
    }

    const FLAGS: SpliceFlags = SpliceFlags::MOVE.union(SpliceFlags::NONBLOCK);

    /// An empty pipe from this loop's pool, or a new one.
    pub(crate) fn borrow() -> io::Result<Pipe> {
        if let Some(pipe) = POOL.with_borrow_mut(Vec::pop) {
            return Ok(pipe);
        }
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        // Fewer, larger moves; refused past the user's pipe allowance,
        // where the default size still works.
        let _ = fcntl_setpipe_size(&write, super::PIPE_SIZE);
        Ok(Pipe { read, write })
    }

    /// Gives back a pipe that holds no bytes.
    pub(crate) fn give_back(pipe: Pipe) {
        POOL.with_borrow_mut(|pool| {
            if pool.len() < super::POOL_CAP {
                pool.push(pipe);
            }
        });
    }

    /// How many pipes this thread's pool holds.
    #[cfg(test)]
    pub(crate) fn pooled() -> usize {
        POOL.with_borrow(Vec::len)
    }

    /// Moves up to `len` bytes from `socket` into `pipe`. `Ok(0)` is the
    /// peer's end-of-file; `WouldBlock` means the socket is empty or the
    /// pipe full.
    pub(crate) fn fill(socket: impl AsFd, pipe: &Pipe, len: usize) -> io::Result<usize> {
        Ok(splice(socket, None, &pipe.write, None, len, FLAGS)?)
    }

    /// Moves up to `len` bytes from `pipe` to `socket`; `WouldBlock` means
    /// the socket's send buffer is full.
    pub(crate) fn drain(pipe: &Pipe, socket: impl AsFd, len: usize) -> io::Result<usize> {
        Ok(splice(&pipe.read, None, socket, None, len, FLAGS)?)
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::io;

    /// No pipe is ever lent where there is no `splice(2)`.
    #[derive(Debug)]
    pub(crate) enum Pipe {}

    pub(crate) fn borrow() -> io::Result<Pipe> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(crate) fn give_back(pipe: Pipe) {
        match pipe {}
    }

    pub(crate) fn fill<S>(_: S, pipe: &Pipe, _: usize) -> io::Result<usize> {
        match *pipe {}
    }

    pub(crate) fn drain<S>(pipe: &Pipe, _: S, _: usize) -> io::Result<usize> {
        match *pipe {}
    }
}

pub(crate) use imp::{Pipe, borrow, drain, fill, give_back};

/// Whether a `splice(2)` error means it cannot work on these descriptors
/// (an old kernel, a socket type without splice support), so the
/// connection should go back to reading and writing.
pub(crate) fn unsupported(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(
            e.raw_os_error(),
            Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP | libc::EBADF)
        )
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    /// Bytes go socket → pipe → socket unchanged, and an empty pipe goes
    /// back to the pool to be lent again.
    #[test]
    fn bytes_cross_a_pooled_pipe_unchanged() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(b"zero-copy").unwrap();
        let pipe = borrow().unwrap();
        let mut held = 0;
        for _ in 0..1000 {
            match fill(&server, &pipe, FILL_CHUNK) {
                Ok(n) => held += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
            if held == 9 {
                break;
            }
        }
        assert_eq!(drain(&pipe, &server, held).unwrap(), 9);
        give_back(pipe);
        let mut got = [0u8; 9];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"zero-copy");
        // The pool is this test thread's own.
        assert_eq!(imp::pooled(), 1);
        let again = borrow().unwrap();
        assert_eq!(imp::pooled(), 0);
        give_back(again);
    }

    /// A full pool closes what it is given rather than grow.
    #[test]
    fn the_pool_is_capped() {
        let pipes: Vec<_> = (0..POOL_CAP + 5).map(|_| borrow().unwrap()).collect();
        pipes.into_iter().for_each(give_back);
        assert_eq!(imp::pooled(), POOL_CAP);
    }
}
