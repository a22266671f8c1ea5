//! Slow work without stalling the server: each client sends a host name on
//! a line and gets its addresses back. Resolving calls `getaddrinfo(3)`,
//! which may block for seconds on a slow DNS server; done in the handler,
//! that would stall every connection of the event loop. So the handler
//! hands the name to a worker thread and returns at once; the worker
//! resolves, leaves the answer in a slot the two share, and wakes the
//! connection with its [`ConnHandle`], which calls
//! [`Handler::on_wake`] back on the loop to send it.
//!
//! ```text
//! cargo run -p netlab-netcore --example offload -- 9000
//! echo localhost | nc 127.0.0.1 9000   # 127.0.0.1 ::1, or what your hosts say
//! ```
//!
//! The client waits for the answer before it closes: a half-close (`nc -N`)
//! ends the connection, as for every netcore handler, before the worker is
//! done.
//!
//! One worker keeps the number of threads bounded whatever the number of
//! clients; a pool of several would answer several at once.
//!
//! Arguments: `[PORT] [--once]`; `--once` stops after the first client.

use std::sync::{Arc, Mutex, mpsc};

use netcore::{
    Builder, ConnHandle, Connection, ConnectionInfo, Event, Flow, Handler, LineFramer, Server,
};

/// Where the worker leaves an answer for its connection.
type Slot = Arc<Mutex<Option<String>>>;

/// A name to resolve, and how to hand the answer back.
struct Job {
    name: String,
    slot: Slot,
    handle: ConnHandle,
}

/// The service: the queue to the worker thread.
struct Lookups {
    jobs: mpsc::Sender<Job>,
}

/// One connection: its first line is the name; then it waits for the answer.
struct LookupHandler {
    lines: LineFramer,
    jobs: mpsc::Sender<Job>,
    slot: Slot,
    asked: bool,
}

impl Handler for LookupHandler {
    fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
        if self.asked {
            // One question per connection; the rest is ignored.
            return Flow::Continue;
        }
        let mut first = None;
        let framed = self.lines.push(data, |line| {
            first.get_or_insert_with(|| line.to_vec());
        });
        if framed.is_err() {
            return Flow::Abort;
        }
        let (Some(line), Some(handle)) = (first, conn.handle()) else {
            return Flow::Continue;
        };
        self.asked = true;
        let name = String::from_utf8_lossy(&line).trim().to_owned();
        let slot = self.slot.clone();
        // Returns at once: the loop goes on serving everyone else.
        if self.jobs.send(Job { name, slot, handle }).is_err() {
            conn.send(b"error: the worker is gone\n");
            return Flow::Close;
        }
        Flow::Continue
    }

    fn on_wake(&mut self, conn: &mut Connection<'_>) -> Flow {
        let answer = self.slot.lock().map(|mut s| s.take()).unwrap_or_default();
        match answer {
            Some(answer) => {
                conn.send(answer.as_bytes());
                Flow::Close
            }
            None => Flow::Continue,
        }
    }
}

impl Server for Lookups {
    type Handler = LookupHandler;
    fn handler(&self, _conn: &ConnectionInfo) -> LookupHandler {
        LookupHandler {
            lines: LineFramer::new(1024),
            jobs: self.jobs.clone(),
            slot: Slot::default(),
            asked: false,
        }
    }
}

/// The worker: here, and only here, blocking is fine.
fn work(jobs: mpsc::Receiver<Job>) {
    for job in jobs {
        let answer = match netcore::resolve(&job.name, 0) {
            Ok(addrs) => {
                let ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                format!("{}\n", ips.join(" "))
            }
            Err(err) => format!("error: {err}\n"),
        };
        if let Ok(mut slot) = job.slot.lock() {
            *slot = Some(answer);
        }
        // A connection that closed meanwhile ignores the wake.
        job.handle.wake();
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let port = std::env::args().skip(1).find(|a| a != "--once");
    let port: u16 = port.as_deref().unwrap_or("0").parse()?;
    let (jobs, queue) = mpsc::channel();
    std::thread::spawn(move || work(queue));
    let (closed_tx, closed) = mpsc::channel();
    let running = Builder::new(([127, 0, 0, 1], port).into())
        .observer(move |event: &Event<'_>| {
            if let Event::Closed { .. } = event {
                let _ = closed_tx.send(());
            }
        })
        .serve(Lookups { jobs })?;
    println!("listening on {}", running.local_addr());
    if once {
        closed.recv()?;
    } else {
        running.wait();
    }
    Ok(())
}
