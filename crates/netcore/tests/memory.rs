//! Peers that send but never read cannot grow the server's memory without
//! bound: 1,000 of them keep the process under 256 MiB of RSS (it was
//! about 500 MB before the output budget), and a good client is still
//! served beside them. Alone in its test binary, so the process's RSS is
//! this test's.

mod util;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use netcore::Builder;
use socket2::{Domain, Socket, Type};
use util::*;

const PEERS: usize = 1000;
/// What each peer tries to send, at most.
const SEND_EACH: usize = 2 << 20;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// A client socket with a small receive buffer, so the server's replies
/// pile up in the server rather than in the kernel.
fn silent_peer(addr: std::net::SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .connect_timeout(&addr.into(), Duration::from_secs(5))
        .unwrap();
    let stream: TcpStream = socket.into();
    stream.set_nonblocking(true).unwrap();
    stream
}

#[test]
fn a_thousand_peers_that_never_read_keep_rss_bounded() {
    let running = Builder::new(any_local_v4()).threads(1).serve(Echo).unwrap();
    let addr = running.local_addr();
    let chunk = vec![0x5a_u8; 256 * 1024];
    let mut peers: Vec<(TcpStream, usize)> = (0..PEERS).map(|_| (silent_peer(addr), 0)).collect();
    // Each peer writes until the kernel takes no more (or SEND_EACH), in
    // rounds, so the server sees them all at once; bounded in time.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut progress = false;
        for (peer, sent) in &mut peers {
            if *sent >= SEND_EACH {
                continue;
            }
            match peer.write(&chunk[..chunk.len().min(SEND_EACH - *sent)]) {
                Ok(n) => {
                    *sent += n;
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("a peer's write failed: {e}"),
            }
        }
        if !progress {
            // Give the server a moment to read what is waiting, then see
            // whether anyone can send more.
            std::thread::sleep(Duration::from_millis(50));
            let more = peers.iter_mut().any(|(p, sent)| {
                *sent < SEND_EACH && p.write(&chunk[..1]).map(|n| *sent += n).is_ok()
            });
            if !more {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the peers kept sending for 60 s");
    }
    let sent: usize = peers.iter().map(|(_, s)| s).sum();
    let rss_mib = rss_kib() / 1024;
    assert!(
        rss_mib < 256,
        "RSS is {rss_mib} MiB with {PEERS} peers that never read ({} MiB sent)",
        sent >> 20
    );

    // A good client is still answered beside them.
    let mut good = connect(addr);
    good.write_all(b"still here").unwrap();
    good.shutdown(Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    good.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"still here");

    drop(peers);
    running.shutdown(Duration::ZERO);
}
