//! A client with netcore's [`Client`]: connect to `HOST PORT` (every
//! address the name resolves to is tried in turn), send a message, say
//! "no more" with a half-close, and print what the server sends back until
//! it closes.
//!
//! ```text
//! cargo run -p netlab-netcore --example line_lengths -- 9000 &
//! cargo run -p netlab-netcore --example client -- 127.0.0.1 9000 "hello" "world"
//! ```
//!
//! Each word after the port is sent as one line. The client does one
//! exchange and exits; timeouts keep it from waiting forever on a silent
//! server.

use std::io::Write;
use std::time::Duration;

use netcore::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(host), Some(port)) = (args.next(), args.next()) else {
        return Err("usage: client HOST PORT [LINE...]".into());
    };
    let port: u16 = port.parse().map_err(|_| format!("not a port: {port:?}"))?;
    let message: String = args.map(|line| line + "\n").collect();

    let client = Client::new().timeout(Some(Duration::from_secs(5)));
    let stream = client.connect(&host, port)?;
    eprintln!("connected to {}", stream.peer_addr());
    stream.send(message.as_bytes())?;
    // The server now reads end-of-file, while we can still read its reply.
    stream.half_close()?;

    let mut stdout = std::io::stdout().lock();
    // Each chunk is printed as it comes; the error type says which side
    // failed, the server's (netcore's) or our standard output.
    stream.receive_until_closed(&mut [0u8; 4096], |chunk| {
        stdout.write_all(chunk)?;
        stdout.flush().map_err(Box::<dyn std::error::Error>::from)
    })?;
    Ok(())
}
