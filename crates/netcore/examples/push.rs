//! A server that pushes, chargen-like: numbered lines (`1`, `2`, `3`, ...)
//! as fast as the client reads them, until it hangs up. What the client
//! sends is ignored.
//!
//! ```text
//! cargo run -p netlab-netcore --example push -- 9000
//! nc 127.0.0.1 9000 | head -3   # 1, 2, 3
//! ```
//!
//! The handler never loops "until done": it fills netcore's output queue
//! while [`Connection::room`] says there is room (up to
//! [`Connection::HIGH_WATER`]) and asks, with
//! [`Connection::notify_drained`], to be called again once the queue has
//! drained. A client that reads slowly, or not at all, costs at most that
//! much memory, and the loop stays free for every other connection.
//!
//! Arguments: `[PORT] [--once]`; `--once` stops after the first client.

use std::sync::mpsc;

use netcore::{Builder, Connection, ConnectionInfo, Event, Flow, Handler, Server};

struct Counter;

/// One connection: the number of the next line to send.
struct CounterHandler {
    next: u64,
}

impl CounterHandler {
    /// Queues lines while there is room, then asks to be called again.
    fn fill(&mut self, conn: &mut Connection<'_>) -> Flow {
        while conn.room() > 0 {
            conn.send(format!("{}\n", self.next).as_bytes());
            self.next += 1;
        }
        conn.notify_drained();
        Flow::Continue
    }
}

impl Handler for CounterHandler {
    fn on_open(&mut self, conn: &mut Connection<'_>) -> Flow {
        self.fill(conn)
    }

    fn on_data(&mut self, _conn: &mut Connection<'_>, _data: &[u8]) -> Flow {
        Flow::Continue
    }

    fn on_drained(&mut self, conn: &mut Connection<'_>) -> Flow {
        self.fill(conn)
    }
}

impl Server for Counter {
    type Handler = CounterHandler;
    fn handler(&self, _conn: &ConnectionInfo) -> CounterHandler {
        CounterHandler { next: 1 }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let port = std::env::args().skip(1).find(|a| a != "--once");
    let port: u16 = port.as_deref().unwrap_or("0").parse()?;
    let (closed_tx, closed) = mpsc::channel();
    let running = Builder::new(([127, 0, 0, 1], port).into())
        .observer(move |event: &Event<'_>| {
            if let Event::Closed { .. } = event {
                let _ = closed_tx.send(());
            }
        })
        .serve(Counter)?;
    println!("listening on {}", running.local_addr());
    if once {
        closed.recv()?;
    } else {
        running.wait();
    }
    Ok(())
}
