//! upcase: each line a client sends comes back in capitals, until the
//! client closes. A protocol of our own on netcore, from docs/guide.md.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use netcore::{Builder, Connection, ConnectionInfo, Flow, Handler, LineFramer, Server};

/// The longest line we take, newline included.
const MAX_LINE: usize = 1024;

/// The server: makes one handler for each client that connects.
struct Upcase;

impl Server for Upcase {
    type Handler = UpcaseHandler;

    fn handler(&self, _conn: &ConnectionInfo) -> UpcaseHandler {
        UpcaseHandler {
            lines: LineFramer::new(MAX_LINE),
        }
    }
}

/// One client's connection: what it sent of a line not yet ended.
struct UpcaseHandler {
    lines: LineFramer,
}

impl Handler for UpcaseHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        // TCP is a stream of bytes, not of lines: one read may hold half a
        // line, or three. The framer hands out whole lines.
        let upcased = self
            .lines
            .push(data, |line| conn.send(&line.to_ascii_uppercase()));
        match upcased {
            Ok(()) => Flow::Continue,
            // A client that never ends its line must not fill our memory.
            Err(_too_long) => Flow::Abort,
        }
    }

    fn on_eof(&mut self, conn: &mut Connection<'_>) {
        // The client closed after a last line without a newline.
        conn.send(&self.lines.rest().to_ascii_uppercase());
    }
}

fn main() -> ExitCode {
    let Some(Ok(port)) = std::env::args().nth(1).map(|p| p.parse::<u16>()) else {
        eprintln!("usage: upcase PORT");
        return ExitCode::from(64);
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let running = match Builder::new(addr).serve(Upcase) {
        Ok(running) => running,
        Err(e) => {
            // netcore's message says what failed; its source says why.
            let why = std::error::Error::source(&e).map(|s| format!(": {s}"));
            eprintln!("upcase: {e}{}", why.unwrap_or_default());
            return ExitCode::from(69);
        }
    };
    println!("upcase: listening on {}", running.local_addr());
    // Serves until the process is stopped (Ctrl-C).
    running.wait();
    ExitCode::SUCCESS
}
