//! A discard server (RFC 863) over TCP and UDP, and its client sending it
//! some bytes over each. Over TCP the client knows every byte arrived (the
//! server closes only after reading its end-of-file); over UDP nothing
//! confirms anything.
//!
//! ```text
//! cargo run -p netlab-discard --example discard_pair -- 9009
//! yes | nc 127.0.0.1 9009   # while it runs: swallowed, nothing comes back
//! ```
//!
//! Arguments: `[PORT] [--once] [BYTES]`: the port on 127.0.0.1 for both
//! (0, the default, lets the system pick); `--once` exits after sending
//! instead of serving on until Ctrl-C; `BYTES` (after the port; 1 MiB by
//! default) is how much to send over TCP.

use std::io::Read;
use std::time::Duration;

use discard::Discard;
use netcore::{Builder, Client, DatagramBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let mut numbers = std::env::args().skip(1).filter(|a| a != "--once");
    let port: u16 = numbers.next().as_deref().unwrap_or("0").parse()?;
    let bytes: u64 = numbers.next().as_deref().unwrap_or("1048576").parse()?;

    let tcp = Builder::new(([127, 0, 0, 1], port).into()).serve(Discard)?;
    let port = tcp.local_addr().port();
    let udp = DatagramBuilder::new(([127, 0, 0, 1], port).into()).serve(Discard)?;
    println!("listening on 127.0.0.1:{port}, TCP and UDP");

    let client = Client::new().timeout(Some(Duration::from_secs(5)));
    // A discard server sends nothing back; anything it did would go here.
    let mut reply = Vec::new();
    let input = std::io::repeat(b'x').take(bytes);
    let sent = discard::send(&client, "127.0.0.1", port, input, &mut reply)?;
    println!(
        "TCP: {sent} bytes sent and read by the server, {} came back",
        reply.len()
    );
    let sent = discard::send_udp(&client, "127.0.0.1", port, &b"one\ntwo\n"[..])?;
    println!("UDP: {sent} bytes sent in 2 datagrams, no reply expected");

    if !once {
        println!("serving; try `yes | nc 127.0.0.1 {port}`, Ctrl-C to stop");
        tcp.wait();
    }
    drop(udp);
    Ok(())
}
