//! netcore: the socket layer of netlab.
//!
//! A protocol implements [`Server`] (TCP: one [`Handler`] per accepted
//! connection, told what arrived and queuing what to send) or
//! [`DatagramServer`] (UDP: one call per datagram). [`Builder`] binds the
//! socket, starts the engine and returns a [`Running`] server, which a
//! [`ShutdownHandle`] stops gracefully. [`Client`] is the blocking client
//! side; [`getaddrinfo`] is the resolver under every netlab program, its
//! failures sorted by `EAI_*` code into a [`LookupError`].
//!
//! A whole protocol, in a dozen lines: the server answers each line with
//! its length. TCP carries bytes, not lines, so a read may hold half a line
//! or several; [`LineFramer`] hands out whole lines however the reads were
//! cut.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use netcore::{Builder, Client, Connection, ConnectionInfo, Flow, Handler, LineFramer, Server};
//!
//! /// The service: one handler per connection.
//! struct Lengths;
//! /// One connection: the lines it has been cutting out of the reads.
//! struct LengthsHandler(LineFramer);
//!
//! impl Handler for LengthsHandler {
//!     fn on_data(&mut self, conn: &mut Connection<'_>, data: &[u8]) -> Flow {
//!         let framed = self.0.push(data, |line| {
//!             // `line` ends in its newline, which is not counted.
//!             conn.send(format!("{}\n", line.len() - 1).as_bytes());
//!         });
//!         // A line over the framer's limit is refused, not buffered on.
//!         framed.map_or(Flow::Abort, |()| Flow::Continue)
//!     }
//! }
//!
//! impl Server for Lengths {
//!     type Handler = LengthsHandler;
//!     fn handler(&self, _conn: &ConnectionInfo) -> LengthsHandler {
//!         LengthsHandler(LineFramer::new(1024))
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let running = Builder::new("127.0.0.1:0".parse()?).serve(Lengths)?;
//! let port = running.local_addr().port();
//!
//! let mut stream = Client::new().connect("127.0.0.1", port)?;
//! // Two lines, the second cut across two writes: still two answers.
//! stream.write_all(b"hello\nworld, ")?;
//! stream.write_all(b"again\n")?;
//! stream.half_close()?;
//! let mut reply = String::new();
//! stream.read_to_string(&mut reply)?;
//! assert_eq!(reply, "5\n12\n");
//!
//! running.shutdown(Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! # Where to go next
//!
//! - [`Handler`] and [`Connection`]: the callbacks and what a handler may
//!   ask of netcore (output, [`Connection::notify_drained`] to push,
//!   [`Connection::set_timer`], a [`ConnHandle`] for other threads). Read
//!   the warning there: a callback must never block.
//! - [`Running`] and [`ShutdownHandle`]: a started server, and how it
//!   stops; [`Builder`] and [`DatagramBuilder`] for the limits and timeouts.
//! - [`Event`] and [`Observer`]: what the server tells about itself.
//! - [`Client`], [`Stream`] and [`DatagramClient`]: the client side;
//!   [`Error`]: what fails, named by operation and address.
//! - `examples/`, each run with `cargo run -p netlab-netcore --example NAME`:
//!   `minimal_server` (a greeting and the close), `client` (connect, send,
//!   half-close, print the reply), `line_lengths` (this protocol, in under
//!   50 lines with its `main`), `push` (a chargen-like server that sends as
//!   fast as the client reads), `offload` (slow work on a worker thread,
//!   the answer sent back through a [`ConnHandle`]).
//! - The protocol crates (`echo`, `daytime`, `time`, `discard`, `chargen`)
//!   are netcore servers and clients of real RFCs, each with its own
//!   `examples/`.
//!
//! # The engine
//!
//! Connections are served by a few event loops (mio over epoll), not
//! a thread each: a slow or silent client costs a table entry and a file
//! descriptor, never a blocked worker. Concurrency is bounded by
//! [`Builder::max_connections`]; idle, read and write timeouts close
//! stragglers. `accept(2)` errors never end the server: `ECONNABORTED` and
//! friends are skipped, `EMFILE`/`ENFILE`/`ENOBUFS`/`ENOMEM` pause accepting
//! with a backoff from 10 ms to 1 s. A handler that panics loses only its
//! own connection.
//!
//! # Events
//!
//! netcore never prints. Every step (socket opened, bound, listening,
//! accepted, read, wrote, closed, errors survived) goes to the [`Observer`]
//! given to [`Builder::observer`].
//!
//! # Shutdown
//!
//! [`ShutdownHandle::shutdown`] wakes every loop at once (no polling
//! interval); they close the listening socket, let open connections finish
//! until the drain deadline, then close the rest.
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod accept;
mod activation;
mod builder;
mod client;
mod clock;
mod conn;
mod datagram_builder;
mod engine;
mod error;
mod event;
mod event_display;
mod event_loop;
mod framing;
mod getaddrinfo;
mod handle;
mod handler;
mod handoff;
mod inetd;
mod lifecycle;
mod loop_guard;
#[cfg(target_os = "linux")]
mod mmsg;
mod observers;
mod policy;
mod services;
mod socket;
mod splice;
mod stream_io;
mod timers;
mod udp;

pub use activation::{Activated, ActivatedSocket, activated_sockets};
pub use builder::{Builder, DEFAULT_OUTPUT_BUDGET};
pub use client::{Client, DatagramClient, Reached, Stream, Trace};
pub use clock::{Clock, FixedClock, SystemClock};
pub use datagram_builder::DatagramBuilder;
pub use engine::Engine;
pub use error::{Error, Result, describe};
pub use event::{CloseReason, Event, Observer, Transport};
pub use framing::{LineFramer, LineTooLong};
pub use getaddrinfo::{
    AddrInfo, Family, LookupError, LookupErrorKind, getaddrinfo, getnameinfo, resolve,
};
pub use handle::ConnHandle;
pub use handler::{Connection, ConnectionInfo, DatagramServer, Flow, Handler, Server};
pub use inetd::Inetd;
pub use lifecycle::{Running, ShutdownHandle, ShutdownReport};
pub use observers::{LogObserver, Silent, WithData};
pub use policy::DatagramPolicy;
pub(crate) use socket::unmap;
pub use socket::{ServiceSocket, any_interface};
