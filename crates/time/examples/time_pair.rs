//! A time server (RFC 868) over TCP and UDP, and its client reading it once
//! over each: 4 bytes, the seconds since 1900, and how far the server's
//! clock is from ours (here the same clock, so about nothing).
//!
//! ```text
//! cargo run -p netlab-time --example time_pair -- 9037
//! nc 127.0.0.1 9037 | xxd   # while it runs: the 4 bytes
//! ```
//!
//! Arguments: `[PORT] [--once]`: the port on 127.0.0.1 for both (0, the
//! default, lets the system pick); `--once` exits after the two readings
//! instead of serving on until Ctrl-C.

use std::time::{Duration, SystemTime};

use netcore::{Builder, Client, DatagramBuilder};
use time::{Reading, Time};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let port = std::env::args().skip(1).find(|a| a != "--once");
    let port: u16 = port.as_deref().unwrap_or("0").parse()?;

    let tcp = Builder::new(([127, 0, 0, 1], port).into()).serve(Time::new())?;
    let port = tcp.local_addr().port();
    let udp = DatagramBuilder::new(([127, 0, 0, 1], port).into()).serve(Time::new())?;
    println!("listening on 127.0.0.1:{port}, TCP and UDP");

    let client = Client::new().timeout(Some(Duration::from_secs(5)));
    show("TCP", &time::query(&client, "127.0.0.1", port)?);
    show("UDP", &time::query_udp(&client, "127.0.0.1", port)?);

    if !once {
        println!("serving; try `nc 127.0.0.1 {port} | xxd`, Ctrl-C to stop");
        tcp.wait();
    }
    drop(udp);
    Ok(())
}

/// One reading: the raw value, the Unix time it means, and whether it
/// falls within the exchange by our clock (RFC 868 counts whole seconds).
fn show(transport: &str, reading: &Reading) {
    let unix = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let (server, sent, received) = (
        unix(reading.time()),
        unix(reading.sent),
        unix(reading.received),
    );
    let agrees = (sent..=received).contains(&server);
    println!(
        "{transport}: {} = Unix {server}, within our clock's reading: {agrees}",
        reading.raw
    );
}
