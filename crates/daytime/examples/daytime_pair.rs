//! A daytime server (RFC 867) over TCP and UDP, and its client asking it
//! once over each: the lecture's `daytimeserver.py` and `daytimeclient.py`
//! in one program.
//!
//! ```text
//! cargo run -p netlab-daytime --example daytime_pair -- 9013
//! nc 127.0.0.1 9013         # while it runs: another line, then the close
//! ```
//!
//! Arguments: `[PORT] [--once]`: the port on 127.0.0.1 for both (0, the
//! default, lets the system pick); `--once` exits after the two queries
//! instead of serving on until Ctrl-C.

use std::time::Duration;

use daytime::{Daytime, DaytimeFormat};
use netcore::{Builder, Client, DatagramBuilder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let port = std::env::args().skip(1).find(|a| a != "--once");
    let port: u16 = port.as_deref().unwrap_or("0").parse()?;

    // One `Daytime` value answers both: the line is made in one place.
    let server = Daytime::new(DaytimeFormat::lecture());
    let tcp = Builder::new(([127, 0, 0, 1], port).into()).serve(server.clone())?;
    let port = tcp.local_addr().port();
    let udp = DatagramBuilder::new(([127, 0, 0, 1], port).into()).serve(server)?;
    println!("listening on 127.0.0.1:{port}, TCP and UDP");

    let client = Client::new().timeout(Some(Duration::from_secs(5)));
    let mut stdout = std::io::stdout();
    print!("TCP: ");
    daytime::query(&client, "127.0.0.1", port, &mut stdout)?;
    print!("UDP: ");
    daytime::query_udp(&client, "127.0.0.1", port, &mut stdout)?;

    if !once {
        println!("serving; try `nc 127.0.0.1 {port}`, Ctrl-C to stop");
        tcp.wait();
    }
    drop(udp);
    Ok(())
}
