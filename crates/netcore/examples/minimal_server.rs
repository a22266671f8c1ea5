//! The smallest useful netcore server: greets each client by its address
//! and closes, like a daytime server with a friendlier line.
//!
//! ```text
//! cargo run -p netlab-netcore --example minimal_server -- 9000
//! nc 127.0.0.1 9000            # in another terminal: hello, 127.0.0.1:51234
//! ```
//!
//! Arguments: a port on 127.0.0.1 (0, the default, lets the system pick
//! one; the first line printed says which), and `--once` to stop after the
//! first client, which is how the tests run it.

use std::sync::mpsc;
use std::time::Duration;

use netcore::{Builder, Connection, ConnectionInfo, Event, Flow, Handler, Server};

/// The service: makes one handler per accepted connection.
struct Greeter;

/// One connection: all of it happens in `on_open`.
struct GreeterHandler;

impl Handler for GreeterHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        let who = conn
            .peer_addr()
            .map_or("stranger".to_owned(), |a| a.to_string());
        conn.send(format!("hello, {who}\n").as_bytes());
        // Send what is queued, then close.
        Flow::Close
    }

    fn on_data(&mut self, _conn: &mut Connection<'_>, _data: &[u8]) -> Flow {
        // Whatever the client says is ignored; `on_open` already closed.
        Flow::Close
    }
}

impl Server for Greeter {
    type Handler = GreeterHandler;
    fn handler(&self, _conn: &ConnectionInfo) -> GreeterHandler {
        GreeterHandler
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (port, once) = args()?;
    // The observer hears every step of the server; here it only says when
    // a connection has closed, so `--once` knows when to stop.
    let (closed_tx, closed) = mpsc::channel();
    let running = Builder::new(([127, 0, 0, 1], port).into())
        .observer(move |event: &Event<'_>| {
            if let Event::Closed { .. } = event {
                let _ = closed_tx.send(());
            }
        })
        .serve(Greeter)?;
    println!("listening on {}", running.local_addr());
    if once {
        closed.recv()?;
        running.shutdown(Duration::from_secs(1));
    } else {
        // Until the process is killed (Ctrl-C).
        running.wait();
    }
    Ok(())
}

/// `[PORT] [--once]`.
fn args() -> Result<(u16, bool), String> {
    let (mut port, mut once) = (0, false);
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--once" => once = true,
            _ => port = arg.parse().map_err(|_| format!("not a port: {arg:?}"))?,
        }
    }
    Ok((port, once))
}
