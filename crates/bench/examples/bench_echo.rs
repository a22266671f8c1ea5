//! A load test in a few lines: an echo server (RFC 862) on 127.0.0.1, and
//! the load generator driving it with many connections for a while, every
//! reply checked byte for byte.
//!
//! ```text
//! cargo run --release -p netlab-bench --example bench_echo -- 2
//! ```
//!
//! Arguments: `[SECONDS]` (1 by default; fractions allowed) is how long to
//! run; it runs once and exits. `netlab bench` does the same against any
//! server, with every option.

use std::time::Duration;

use bench::{Config, Progress, Workload};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f64 = std::env::args().nth(1).as_deref().unwrap_or("1").parse()?;

    let server = netcore::Builder::new("127.0.0.1:0".parse()?).serve(echo::Echo::default())?;
    println!("listening on {}", server.local_addr());

    let config = Config::new(server.local_addr(), Workload::Echo { size: 64 })
        .connections(8)
        .duration(Duration::from_secs_f64(seconds));
    let report = bench::run(&config, &Progress::default())?;
    println!(
        "{} round trips of 64 bytes in {:.2} s: {:.0}/s, p50 {:.0} µs, p99 {:.0} µs, {} mismatched",
        report.ops,
        report.elapsed_s,
        report.ops_per_s,
        report.latency.p50_us,
        report.latency.p99_us,
        report.mismatches,
    );
    server.shutdown(Duration::from_secs(1));
    Ok(())
}
