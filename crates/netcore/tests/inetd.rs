//! inetd mode: one connection on already-open descriptors, over a socket
//! pair (what inetd hands over), over two pipes (no addresses, no
//! half-close), and over loopback TCP (addresses).

mod util;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use netcore::{CloseReason, Connection, ConnectionInfo, Event, Flow, Handler, Inetd, Server};
use util::*;

/// The longest any test waits for anything.
const LIMIT: Duration = Duration::from_secs(10);

/// Runs `f` on a thread and waits for it at most [`LIMIT`], so a hung
/// driver or a blocked pipe fails the test instead of hanging it.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

fn wait<T>(rx: &mpsc::Receiver<T>) -> T {
    rx.recv_timeout(LIMIT).expect("timed out")
}

/// Serves `server` on a thread over `input` and `output`.
fn serve_on<S: Server>(
    inetd: Inetd,
    server: S,
    input: impl Into<std::os::fd::OwnedFd> + Send + 'static,
    output: impl Into<std::os::fd::OwnedFd> + Send + 'static,
) -> mpsc::Receiver<CloseReason> {
    within(move || inetd.serve_fds(server, input, output).unwrap())
}

/// The server's end of a socket pair, as the two descriptors inetd passes.
fn socket_pair() -> (UnixStream, UnixStream, UnixStream) {
    let (client, server) = UnixStream::pair().unwrap();
    client.set_read_timeout(Some(LIMIT)).unwrap();
    client.set_write_timeout(Some(LIMIT)).unwrap();
    let input = server.try_clone().unwrap();
    (client, input, server)
}

/// Reads a pipe or a socket to its end, on a thread, within [`LIMIT`].
fn read_to_end(mut r: impl Read + Send + 'static) -> Vec<u8> {
    wait(&within(move || {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map(|_| v)
    }))
    .unwrap()
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Every `Closed` event's reason and byte counts, and every error.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn observer(&self) -> impl Fn(&Event<'_>) + Send + Sync + 'static {
        let log = self.0.clone();
        move |e: &Event<'_>| {
            let line = match e {
                Event::Accepted { conn } => format!("accepted {}", conn.service),
                Event::Closed {
                    reason,
                    bytes_in,
                    bytes_out,
                    ..
                } => format!("closed {reason:?} in {bytes_in} out {bytes_out}"),
                Event::Error { op, .. } => format!("error {op}"),
                _ => return,
            };
            log.lock().unwrap().push(line);
        }
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn inetd_is_send_and_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Inetd>();
}

#[test]
fn echo_over_a_socket_pair_is_byte_exact_after_a_half_close() {
    let (client, input, output) = socket_pair();
    let seen = Seen::default();
    let inetd = Inetd::new().name("echo").observer(seen.observer());
    let served = serve_on(inetd, Echo, input, output);
    let data = noise(64 * 1024);
    let mut writer = client.try_clone().unwrap();
    let sent = data.clone();
    let wrote = within(move || {
        writer.write_all(&sent)?;
        writer.shutdown(Shutdown::Write)
    });
    let echoed = read_to_end(client);
    wait(&wrote).unwrap();
    assert!(echoed == data, "echo differs ({} bytes)", echoed.len());
    assert_eq!(wait(&served), CloseReason::PeerClosed);
    assert_eq!(
        seen.lines(),
        ["accepted echo", "closed PeerClosed in 65536 out 65536"]
    );
}

#[test]
fn echo_over_two_pipes_is_byte_exact() {
    let (input, mut to_server) = io::pipe().unwrap();
    let (from_server, output) = io::pipe().unwrap();
    let served = serve_on(Inetd::new(), Echo, input, output);
    let data = noise(300 * 1024);
    let sent = data.clone();
    let wrote = within(move || to_server.write_all(&sent));
    let echoed = read_to_end(from_server);
    wait(&wrote).unwrap();
    assert!(echoed == data, "echo differs ({} bytes)", echoed.len());
    assert_eq!(wait(&served), CloseReason::PeerClosed);
}

/// Greets and closes at once, as daytime does.
struct Greeting;
struct GreetingHandler;

impl Handler for GreetingHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        let peer = conn
            .peer_addr()
            .map_or("nobody".to_owned(), |a| a.to_string());
        conn.send(format!("hello {peer}\r\n").as_bytes());
        Flow::Close
    }
    fn on_data(&mut self, _: &mut Connection<'_>, _: &[u8]) -> Flow {
        Flow::Close
    }
}

impl Server for Greeting {
    type Handler = GreetingHandler;
    fn handler(&self, _: &ConnectionInfo) -> GreetingHandler {
        GreetingHandler
    }
}

#[test]
fn a_greeting_ends_the_output_over_pipes_while_the_input_stays_open() {
    let (input, to_server) = io::pipe().unwrap();
    let (from_server, output) = io::pipe().unwrap();
    let served = serve_on(Inetd::new(), Greeting, input, output);
    assert_eq!(read_to_end(from_server), b"hello nobody\r\n");
    assert_eq!(wait(&served), CloseReason::Handler);
    drop(to_server);
}

#[test]
fn a_greeting_over_a_socket_pair_ends_with_the_servers_close() {
    let (client, input, output) = socket_pair();
    let served = serve_on(Inetd::new(), Greeting, input, output);
    assert_eq!(read_to_end(client), b"hello nobody\r\n");
    assert_eq!(wait(&served), CloseReason::Handler);
}

#[test]
fn a_tcp_socket_gives_the_handler_both_addresses() {
    let listener = TcpListener::bind(any_local_v4()).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client.set_read_timeout(Some(LIMIT)).unwrap();
    let (accepted, peer) = listener.accept().unwrap();
    let infos = Arc::new(Mutex::new(Vec::new()));
    let seen = infos.clone();
    let inetd = Inetd::new().observer(move |e: &Event<'_>| {
        if let Event::Accepted { conn } = e {
            seen.lock().unwrap().push((conn.peer, conn.local));
        }
    });
    let input = accepted.try_clone().unwrap();
    let served = serve_on(inetd, Greeting, input, accepted);
    assert_eq!(read_to_end(client), format!("hello {peer}\r\n").as_bytes());
    assert_eq!(wait(&served), CloseReason::Handler);
    let local = listener.local_addr().unwrap();
    assert_eq!(*infos.lock().unwrap(), [(Some(peer), Some(local))]);
}

/// Answers the first chunk with "bye" and closes (input may still come).
struct OneReply;
struct OneReplyHandler;

impl Handler for OneReplyHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, _: &[u8]) -> Flow {
        conn.send(b"bye\n");
        Flow::Close
    }
}

impl Server for OneReply {
    type Handler = OneReplyHandler;
    fn handler(&self, _: &ConnectionInfo) -> OneReplyHandler {
        OneReplyHandler
    }
}

#[test]
fn closing_with_input_unread_half_closes_a_socket_and_lingers() {
    let (mut client, input, output) = socket_pair();
    let served = serve_on(Inetd::new(), OneReply, input, output);
    client.write_all(b"hi\n").unwrap();
    let mut reply = [0u8; 4];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"bye\n");
    // Our end-of-file came; the server still reads (and discards) until
    // ours, then closes.
    assert_eq!(client.read(&mut [0u8; 16]).unwrap(), 0);
    client.write_all(b"more, ignored\n").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(wait(&served), CloseReason::Handler);
}

#[test]
fn closing_with_input_unread_closes_a_pipe_at_once() {
    let (input, mut to_server) = io::pipe().unwrap();
    let (from_server, output) = io::pipe().unwrap();
    let served = serve_on(Inetd::new(), OneReply, input, output);
    to_server.write_all(b"hi\n").unwrap();
    assert_eq!(read_to_end(from_server), b"bye\n");
    assert_eq!(wait(&served), CloseReason::Handler);
    drop(to_server);
}

#[test]
fn a_pushing_handler_is_paced_by_a_slow_reader_with_a_bounded_queue() {
    let (input, to_server) = io::pipe().unwrap();
    let (mut from_server, output) = io::pipe().unwrap();
    let (tx, most_queued) = mpsc::channel();
    let seen = Seen::default();
    let inetd = Inetd::new().observer(seen.observer());
    let served = serve_on(inetd, Push(tx, None, None), input, output);
    // Small reads: the server produces only as fast as they take it.
    let got = wait(&within(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while got.len() < 4 << 20 {
            let n = from_server.read(&mut buf).unwrap();
            assert!(n > 0, "end-of-file after {} bytes", got.len());
            got.extend_from_slice(&buf[..n]);
        }
        got
    }));
    assert!(is_lines(&got));
    // The reader left: the next write fails, and only the connection ends.
    assert_eq!(wait(&served), CloseReason::Error);
    let most = most_queued.recv_timeout(LIMIT).unwrap();
    assert!(most < Connection::HIGH_WATER + LINE.len(), "{most}");
    let lines = seen.lines();
    assert_eq!(lines[1], "error writing to", "{lines:?}");
    drop(to_server);
}

#[test]
fn timers_fire_while_the_driver_waits_for_input() {
    let (input, to_server) = io::pipe().unwrap();
    let (from_server, output) = io::pipe().unwrap();
    let started = Instant::now();
    let served = serve_on(Inetd::new(), Ticker, input, output);
    assert_eq!(read_to_end(from_server), b"tick 1\ntick 2\ntick 3\n");
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(wait(&served), CloseReason::Handler);
    drop(to_server);
}

#[test]
fn an_idle_timeout_ends_a_silent_connection() {
    let (client, input, output) = socket_pair();
    let seen = Seen::default();
    let inetd = Inetd::new()
        .idle_timeout(Some(Duration::from_millis(50)))
        .observer(seen.observer());
    let started = Instant::now();
    let served = serve_on(inetd, Echo, input, output);
    assert_eq!(read_to_end(client), b"");
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(wait(&served), CloseReason::IdleTimeout);
    assert_eq!(seen.lines()[1], "closed IdleTimeout in 0 out 0");
}

#[test]
fn an_idle_timeout_ends_a_silent_pipe() {
    let (input, to_server) = io::pipe().unwrap();
    let (from_server, output) = io::pipe().unwrap();
    let inetd = Inetd::new().idle_timeout(Some(Duration::from_millis(50)));
    let served = serve_on(inetd, Echo, input, output);
    assert_eq!(read_to_end(from_server), b"");
    assert_eq!(wait(&served), CloseReason::IdleTimeout);
    drop(to_server);
}

#[test]
fn a_handle_wakes_and_closes_the_connection_from_another_thread() {
    let (mut client, input, output) = socket_pair();
    let (tx, rx) = mpsc::channel();
    let served = serve_on(Inetd::new(), Remote(tx), input, output);
    let handle = rx.recv_timeout(LIMIT).unwrap();
    handle.wake();
    let mut line = [0u8; 6];
    client.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"woken\n");
    handle.wake();
    handle.close();
    assert_eq!(read_to_end(client), b"woken\n");
    assert_eq!(wait(&served), CloseReason::Handler);
    // The connection is gone: the handle does nothing, and never blocks.
    handle.wake();
    handle.close();
}

#[test]
fn a_pushing_handler_notices_the_peers_half_close() {
    let (mut client, input, output) = socket_pair();
    let (tx, _most_queued) = mpsc::channel();
    let served = serve_on(Inetd::new(), Push(tx, None, None), input, output);
    let mut buf = vec![0u8; 1 << 20];
    client.read_exact(&mut buf).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    // What was queued comes, then end-of-file: the stream stopped.
    let rest = read_to_end(client);
    // At most the queue and the socket buffers.
    assert!(rest.len() < 4 << 20, "{}", rest.len());
    assert_eq!(wait(&served), CloseReason::PeerClosed);
}

#[test]
fn a_pushing_handlers_timer_fires_while_it_streams() {
    let (input, to_server) = io::pipe().unwrap();
    let (from_server, output) = io::pipe().unwrap();
    let (tx, _most_queued) = mpsc::channel();
    let stop = Some(Duration::from_millis(30));
    let served = serve_on(Inetd::new(), Push(tx, stop, None), input, output);
    let got = read_to_end(from_server);
    assert!(got.len() > Connection::HIGH_WATER, "{}", got.len());
    assert!(got.chunks(LINE.len()).all(|line| line == LINE));
    assert_eq!(wait(&served), CloseReason::Handler);
    drop(to_server);
}

#[test]
fn a_write_timeout_ends_a_socket_peer_that_stops_reading() {
    let (client, input, output) = socket_pair();
    let (tx, _most_queued) = mpsc::channel();
    let inetd = Inetd::new().write_timeout(Some(Duration::from_millis(50)));
    let served = serve_on(inetd, Push(tx, None, None), input, output);
    assert_eq!(wait(&served), CloseReason::WriteTimeout);
    drop(client);
}
