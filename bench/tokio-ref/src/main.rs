//! A reference tokio echo (RFC 862) and daytime (RFC 867) server, TCP and
//! UDP, written the way tokio's own examples (`examples/echo-tcp.rs`,
//! `examples/echo-udp.rs`) write them: the multi-thread runtime, one task
//! per accepted connection, a read/write_all loop over a 16 KiB buffer.
//! netlab's servers are measured against it (`bench/compare.py`).
//!
//! Usage: `tokio-ref echo|daytime PORT [--udp]`; binds 127.0.0.1 only.
//! The one deviation from the examples: `TCP_NODELAY` on accepted
//! connections, as netlab sets it, so the comparison is about the engine.

use std::error::Error;
use std::process::ExitCode;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const BUF: usize = 16 * 1024;

#[derive(Clone, Copy)]
enum Service {
    Echo,
    Daytime,
}

/// The lecture's daytime line: `asctime()` of local time plus a newline.
fn daytime_line() -> String {
    chrono::Local::now().format("%a %b %e %H:%M:%S %Y\n").to_string()
}

fn usage() -> ExitCode {
    eprintln!("usage: tokio-ref echo|daytime PORT [--udp]");
    ExitCode::from(64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let service = match args.first().map(String::as_str) {
        Some("echo") => Service::Echo,
        Some("daytime") => Service::Daytime,
        _ => return usage(),
    };
    let Some(port) = args.get(1).and_then(|p| p.parse::<u16>().ok()) else {
        return usage();
    };
    let udp = match args.get(2).map(String::as_str) {
        None => false,
        Some("--udp") => true,
        Some(_) => return usage(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_io().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio-ref: starting the runtime: {e}");
            return ExitCode::from(71);
        }
    };
    let result = runtime.block_on(async move {
        let addr = ("127.0.0.1", port);
        if udp {
            serve_udp(UdpSocket::bind(addr).await?, service).await
        } else {
            serve_tcp(TcpListener::bind(addr).await?, service).await
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokio-ref: {e}");
            ExitCode::from(69)
        }
    }
}

async fn serve_tcp(listener: TcpListener, service: Service) -> Result<(), Box<dyn Error>> {
    loop {
        let (mut socket, _) = match listener.accept().await {
            Ok(conn) => conn,
            // EMFILE and friends: keep serving the connections we have.
            Err(_) => {
                tokio::task::yield_now().await;
                continue;
            }
        };
        tokio::spawn(async move {
            match service {
                Service::Echo => {
                    let _ = socket.set_nodelay(true);
                    let mut buf = vec![0u8; BUF];
                    loop {
                        let n = match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if socket.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
                Service::Daytime => {
                    let _ = socket.write_all(daytime_line().as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
            }
        });
    }
}

async fn serve_udp(socket: UdpSocket, service: Service) -> Result<(), Box<dyn Error>> {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        let _ = match service {
            Service::Echo => socket.send_to(&buf[..n], peer).await,
            Service::Daytime => socket.send_to(daytime_line().as_bytes(), peer).await,
        };
    }
}
