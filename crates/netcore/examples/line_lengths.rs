//! A protocol of your own in under 50 lines: each line is answered with its
//! length. `cargo run -p netlab-netcore --example line_lengths -- [PORT]
//! [--once]`, then `printf 'hi\nworld\n' | nc -N 127.0.0.1 PORT` prints 2, 5.

use netcore::{Builder, Connection, ConnectionInfo, Event, Flow, Handler, LineFramer, Server};

struct Lengths;
struct LengthsHandler(LineFramer);

impl Handler for LengthsHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        // The framer cuts whole lines (newline included) out of any reads.
        let pushed = self.0.push(data, |line| {
            let len = line.len() - 1 - usize::from(line.ends_with(b"\r\n"));
            conn.send(format!("{len}\n").as_bytes());
        });
        // A line over the framer's limit is refused, not buffered on.
        pushed.map_or(Flow::Abort, |()| Flow::Continue)
    }
}

impl Server for Lengths {
    type Handler = LengthsHandler;
    fn handler(&self, _: &ConnectionInfo) -> LengthsHandler {
        LengthsHandler(LineFramer::new(4096))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `[PORT] [--once]`: `--once` stops after the first client (the tests).
    let once = std::env::args().any(|a| a == "--once");
    let port = std::env::args().skip(1).find(|a| a != "--once");
    let port: u16 = port.as_deref().unwrap_or("0").parse()?;
    let (closed_tx, closed) = std::sync::mpsc::channel();
    let running = Builder::new(([127, 0, 0, 1], port).into())
        .observer(move |e: &Event<'_>| {
            if let Event::Closed { .. } = e {
                let _ = closed_tx.send(());
            }
        })
        .serve(Lengths)?;
    println!("listening on {}", running.local_addr());
    if once {
        closed.recv()?; // dropping `running` stops the server
    } else {
        running.wait();
    }
    Ok(())
}
