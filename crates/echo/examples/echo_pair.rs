//! An echo server (RFC 862) over TCP and UDP, and its client sending it a
//! few lines over each: the lecture's `echoserver.py` and `echoclient.py`
//! in one program.
//!
//! ```text
//! cargo run -p netlab-echo --example echo_pair -- 9007 hello world
//! nc 127.0.0.1 9007         # while it runs: type lines, they come back
//! ```
//!
//! Arguments: `[PORT] [--once] [--line] [WORDS...]`: the port on 127.0.0.1
//! for both (0, the default, lets the system pick); `--once` exits after
//! the two sessions instead of serving on until Ctrl-C; `--line` serves
//! the lecture's line mode (one line echoed, then the close) instead of
//! RFC 862's stream; each word is sent as one line.

use std::time::Duration;

use echo::{Echo, Mode};
use netcore::{Builder, Client, DatagramBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let once = args.iter().any(|a| a == "--once");
    let mode = match args.iter().any(|a| a == "--line") {
        true => Mode::Line,
        false => Mode::Stream,
    };
    let mut words = args.iter().filter(|a| !a.starts_with("--")).peekable();
    let port: u16 = match words.next_if(|w| w.parse::<u16>().is_ok()) {
        Some(port) => port.parse()?,
        None => 0,
    };
    let input: String = words.map(|w| format!("{w}\n")).collect();

    let tcp = Builder::new(([127, 0, 0, 1], port).into()).serve(Echo::new(mode))?;
    let port = tcp.local_addr().port();
    let udp = DatagramBuilder::new(([127, 0, 0, 1], port).into()).serve(Echo::new(mode))?;
    println!("listening on 127.0.0.1:{port}, TCP and UDP");

    let client = Client::new().timeout(Some(Duration::from_secs(5)));
    let mut stdout = std::io::stdout();
    println!("TCP:");
    // The session sends from its own thread, hence an owned input.
    echo::session(
        &client,
        "127.0.0.1",
        port,
        std::io::Cursor::new(input.clone()),
        &mut stdout,
    )?;
    println!("UDP:");
    echo::session_udp(&client, "127.0.0.1", port, input.as_bytes(), &mut stdout)?;

    if !once {
        println!("serving; try `nc 127.0.0.1 {port}`, Ctrl-C to stop");
        tcp.wait();
    }
    drop(udp);
    Ok(())
}
