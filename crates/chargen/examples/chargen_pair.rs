//! A character generator (RFC 864) over TCP and UDP, and its client taking
//! a few lines of the endless TCP stream, then one datagram's line.
//!
//! ```text
//! cargo run -p netlab-chargen --example chargen_pair -- 9019
//! nc 127.0.0.1 9019 | head  # while it runs
//! ```
//!
//! Arguments: `[PORT] [--once] [LINES]`: the port on 127.0.0.1 for both
//! (0, the default, lets the system pick); `--once` exits after the two
//! exchanges instead of serving on until Ctrl-C; `LINES` (after the port;
//! 5 by default) is how many TCP lines to take.

use std::time::Duration;

use chargen::Chargen;
use netcore::{Builder, Client, DatagramBuilder};

/// An RFC 864 line: 72 characters and CR LF.
const LINE: usize = 74;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let mut numbers = std::env::args().skip(1).filter(|a| a != "--once");
    let port: u16 = numbers.next().as_deref().unwrap_or("0").parse()?;
    let lines: usize = numbers.next().as_deref().unwrap_or("5").parse()?;

    let tcp = Builder::new(([127, 0, 0, 1], port).into()).serve(Chargen::new())?;
    let port = tcp.local_addr().port();
    let udp = DatagramBuilder::new(([127, 0, 0, 1], port).into()).serve(Chargen::new())?;
    println!("listening on 127.0.0.1:{port}, TCP and UDP");

    let client = Client::new().timeout(Some(Duration::from_secs(5)));
    // The stream never ends: the client stops when its output is full,
    // which is how a chargen client ends (`| head` does the same).
    let mut taken = vec![0u8; lines * LINE];
    match chargen::receive(&client, "127.0.0.1", port, &mut &mut taken[..]) {
        Err(chargen::Error::Output(_)) => {}
        other => return Err(format!("the stream ended: {other:?}").into()),
    }
    chargen::verify(0, &taken).map_err(|e| format!("not the pattern: {e:?}"))?;
    println!(
        "TCP:\n{}",
        String::from_utf8_lossy(&taken)
            .replace("\r\n", "\n")
            .trim_end()
    );
    let mut stdout = std::io::stdout();
    println!("UDP:");
    chargen::receive_udp(&client, "127.0.0.1", port, &mut stdout)?;

    if !once {
        println!("serving; try `nc 127.0.0.1 {port} | head`, Ctrl-C to stop");
        tcp.wait();
    }
    drop(udp);
    Ok(())
}
