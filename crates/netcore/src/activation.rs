//! Socket activation: the receiving side of sd_listen_fds(3) and
//! sd_listen_fds_with_names(3), for the sockets netcore can serve.
//!
//! The rules carried out, all documented to users on [`activated_sockets`]:
//! `LISTEN_FDS` descriptors in a row from fd 3 (`SD_LISTEN_FDS_START`);
//! ours only if `LISTEN_PID` is set and is our pid; `LISTEN_FDS` and
//! `LISTEN_PID` unset once read, whether or not they were ours
//! (`unset_environment`); each adopted descriptor close-on-exec;
//! `LISTEN_FDNAMES` colon-separated, one name per descriptor.
//!
//! The [`listenfd`] crate takes the descriptors (the `unsafe` lives there);
//! it checks the socket type and family. We add what it leaves out: the
//! strict `LISTEN_PID` check, the names, `SO_ACCEPTCONN` (a connected
//! stream from `Accept=yes` is not a listener), and a precise error for
//! whatever else was passed.

use std::io;
use std::net::{TcpListener, UdpSocket};

use listenfd::ListenFd;

use crate::error::{Error, Result};

/// `SD_LISTEN_FDS_START`: the first passed descriptor.
const LISTEN_FDS_START: i32 = 3;

/// One socket handed over by the service manager.
#[derive(Debug)]
#[non_exhaustive]
pub struct Activated {
    /// Its name from `LISTEN_FDNAMES` (`FileDescriptorName=`), if the
    /// manager named the descriptors.
    pub name: Option<String>,
    /// The socket itself, ready for [`Builder::from_listener`] or
    /// [`DatagramBuilder::from_socket`].
    ///
    /// [`Builder::from_listener`]: crate::Builder::from_listener
    /// [`DatagramBuilder::from_socket`]: crate::DatagramBuilder::from_socket
    pub socket: ActivatedSocket,
}

/// The kinds of socket netcore can serve.
#[derive(Debug)]
#[non_exhaustive]
pub enum ActivatedSocket {
    /// A TCP socket on which `listen(2)` was called (`ListenStream=`).
    Tcp(TcpListener),
    /// A bound UDP socket (`ListenDatagram=`).
    Udp(UdpSocket),
}

/// Takes the sockets a service manager (systemd, `systemd-socket-activate`,
/// systemfd) bound for this process and passed by file descriptor, in
/// descriptor order, following sd_listen_fds(3):
///
/// - the sockets are the `LISTEN_FDS` descriptors from fd 3 on;
/// - they are ours only if `LISTEN_PID` is our process id, so a child that
///   inherited the variables does not take its parent's sockets: otherwise,
///   or when `LISTEN_FDS` is unset or not a number, the `Vec` is empty;
/// - `LISTEN_FDS` and `LISTEN_PID` are unset once read, ours or not, so a
///   second call returns an empty `Vec`;
/// - each socket's name comes from `LISTEN_FDNAMES` (`FileDescriptorName=`
///   in the `.socket` unit), a colon-separated list.
///
/// Where we differ from sd_listen_fds_with_names(3): a `LISTEN_FDNAMES` with
/// the wrong number of names is ignored whole (all names `None`) rather
/// than failing, since the sockets are still good; and it is left set
/// (without `LISTEN_FDS` it means nothing). The descriptors start at
/// `LISTEN_FDS_FIRST_FD` instead of 3 when that is set, an extension of the
/// [`listenfd`] crate this uses.
///
/// Call it first thing in `main`, before starting threads: unsetting
/// environment variables races with other threads reading them.
///
/// # Errors
///
/// [`Error::Activation`], naming the descriptor, for the first one that is
/// not a listening TCP socket (`ListenStream=`) or a bound UDP socket
/// (`ListenDatagram=`): a file, a unix-domain socket, a connected stream
/// from `Accept=yes`. The sockets taken before it are closed.
///
/// # Example
///
/// With units like these (the names are free; systemd passes them on):
///
/// ```text
/// # echo.socket                      # echo.service
/// [Socket]                           [Service]
/// ListenStream=7                     ExecStart=/usr/local/bin/echo-server
/// ListenDatagram=7
/// FileDescriptorName=echo
/// ```
///
/// the service serves whatever it was given, on one engine (`no_run`: it
/// serves until stopped, and outside a service manager it has no sockets):
///
/// ```no_run
/// use netcore::{ActivatedSocket, Builder, DatagramBuilder, Engine, activated_sockets};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut engine = Engine::new();
/// for activated in activated_sockets()? {
///     let name = activated.name.as_deref().unwrap_or("echo");
///     engine = match activated.socket {
///         ActivatedSocket::Tcp(listener) => {
///             engine.serve(Builder::from_listener(listener)?.name(name), Echo)?
///         }
///         ActivatedSocket::Udp(socket) => engine
///             .serve_datagrams(DatagramBuilder::from_socket(socket)?.name(name), Echo)?,
///         other => return Err(format!("cannot serve {other:?}").into()),
///     };
/// }
/// engine.start()?.wait();
/// # Ok(()) }
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
pub fn activated_sockets() -> Result<Vec<Activated>> {
    // Read before listenfd unsets them. listenfd itself also accepts a
    // missing LISTEN_PID; sd_listen_fds(3) does not, and neither do we.
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|pid| pid.parse::<u32>().ok())
        == Some(std::process::id());
    let names = std::env::var("LISTEN_FDNAMES").ok();
    let first = std::env::var("LISTEN_FDS_FIRST_FD")
        .ok()
        .and_then(|fd| fd.parse().ok())
        .unwrap_or(LISTEN_FDS_START);
    let mut fds = ListenFd::from_env();
    if !ours {
        return Ok(Vec::new());
    }
    let names = fd_names(names.as_deref(), fds.len());
    (0..fds.len())
        .zip(first..)
        .zip(names)
        .map(|((idx, fd), name)| {
            let socket = adopt(&mut fds, idx, fd)?;
            Ok(Activated { name, socket })
        })
        .collect()
}

/// The name of each of `count` descriptors: `LISTEN_FDNAMES` split at
/// colons, an empty name as none; all none when the list is missing or its
/// length is not `count`.
fn fd_names(list: Option<&str>, count: usize) -> Vec<Option<String>> {
    let names: Vec<&str> = list.map(|l| l.split(':').collect()).unwrap_or_default();
    if names.len() != count {
        return vec![None; count];
    }
    names
        .into_iter()
        .map(|n| (!n.is_empty()).then(|| n.to_owned()))
        .collect()
}

/// Takes descriptor `fd` (listenfd's index `idx`) if it is a socket netcore
/// can serve.
fn adopt(fds: &mut ListenFd, idx: usize, fd: i32) -> Result<ActivatedSocket> {
    let fail = |problem, source| Error::Activation {
        fd,
        problem,
        source,
    };
    // listenfd checks the type (SO_TYPE) and the family (IPv4 or IPv6), and
    // leaves the descriptor in place when they do not match.
    if let Ok(Some(listener)) = fds.take_tcp_listener(idx) {
        return match is_listening(&listener) {
            Ok(true) => Ok(ActivatedSocket::Tcp(listener)),
            Ok(false) => Err(fail("a TCP socket that is not listening", None)),
            Err(e) => Err(fail("asking whether it listens (SO_ACCEPTCONN)", Some(e))),
        };
    }
    if let Ok(Some(socket)) = fds.take_udp_socket(idx) {
        return match socket.local_addr() {
            Ok(addr) if addr.port() != 0 => Ok(ActivatedSocket::Udp(socket)),
            Ok(_) => Err(fail("a UDP socket that is not bound", None)),
            Err(e) => Err(fail("reading its local address", Some(e))),
        };
    }
    Err(fail(what_instead(fds, idx, fd), None))
}

/// Whether `listen(2)` was called on the socket: a stream passed with
/// `Accept=yes` is one connection, not a listener.
#[cfg(target_os = "linux")]
fn is_listening(listener: &TcpListener) -> io::Result<bool> {
    socket2::SockRef::from(listener).is_listener()
}

/// Whether `listen(2)` was called on the socket. socket2 reads
/// `SO_ACCEPTCONN` only on Linux and a few others; here a connected stream
/// is caught, a bound one that never listened is not.
#[cfg(not(target_os = "linux"))]
fn is_listening(listener: &TcpListener) -> io::Result<bool> {
    Ok(listener.peer_addr().is_err())
}

/// What a descriptor that is neither TCP nor UDP is, for the error.
fn what_instead(fds: &mut ListenFd, idx: usize, fd: i32) -> &'static str {
    // /proc shows the kernel's view of a bare descriptor number without the
    // `unsafe` that fstat(2) on it would need. Where there is no /proc the
    // message is only less precise.
    let proc_fds = std::path::Path::new("/proc/self/fd");
    match std::fs::metadata(proc_fds.join(fd.to_string())) {
        Ok(meta) if !is_socket(&meta) => return "not a socket",
        Err(e) if e.kind() == io::ErrorKind::NotFound && proc_fds.is_dir() => {
            return "not an open descriptor";
        }
        _ => {}
    }
    if matches!(fds.take_unix_listener(idx), Ok(Some(_)))
        || matches!(fds.take_unix_datagram(idx), Ok(Some(_)))
    {
        return "a unix-domain socket; netcore serves TCP and UDP";
    }
    "neither a TCP nor a UDP socket"
}

fn is_socket(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_socket()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(names: &[&str]) -> Vec<Option<String>> {
        names.iter().map(|n| Some(n.to_string())).collect()
    }

    #[test]
    fn names_split_at_colons_in_descriptor_order() {
        assert_eq!(fd_names(Some("web:echo"), 2), some(&["web", "echo"]));
        assert_eq!(fd_names(Some("echo"), 1), some(&["echo"]));
    }

    #[test]
    fn an_empty_name_is_none() {
        assert_eq!(
            fd_names(Some("web::echo"), 3),
            vec![Some("web".into()), None, Some("echo".into())]
        );
        assert_eq!(fd_names(Some(""), 1), vec![None]);
    }

    #[test]
    fn missing_or_miscounted_names_are_all_none() {
        assert_eq!(fd_names(None, 2), vec![None, None]);
        assert_eq!(fd_names(Some("web"), 2), vec![None, None]);
        assert_eq!(fd_names(Some("a:b:c"), 2), vec![None, None]);
        assert_eq!(fd_names(None, 0), Vec::<Option<String>>::new());
    }
}
