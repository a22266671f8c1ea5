//! The lecture's `ipaddress.py` for any number of arguments: a name gets
//! its addresses, an address its name, through the system resolver
//! (`/etc/hosts`, then DNS as `/etc/nsswitch.conf` says).
//!
//! ```text
//! cargo run -p netlab-resolve --example resolve_names -- localhost 127.0.0.1
//! ```
//!
//! With no arguments it looks up `localhost` and `127.0.0.1`, which
//! `/etc/hosts` answers without the network. Names are looked up at once,
//! on a few threads, and printed in the order given.

use std::net::IpAddr;

use resolve::{Answer, Family, Resolver};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        args = vec!["localhost".into(), "127.0.0.1".into()];
    }
    let mut failed = false;
    Resolver::System.resolve_all(&args, Family::Any, resolve::DEFAULT_JOBS, |i, answer| {
        match answer {
            Ok(Answer::Forward(lookup)) => {
                let ips: Vec<String> = lookup.addresses.iter().map(IpAddr::to_string).collect();
                println!("{}: {}", args[i], ips.join(" "));
            }
            Ok(Answer::Reverse(reverse)) => println!("{}: {}", args[i], reverse.name()),
            Err(err) => {
                // The message names the name; the kind says whether to retry.
                eprintln!("{}: {err} ({:?})", args[i], err.kind());
                failed = true;
            }
        }
    });
    if failed {
        std::process::exit(1);
    }
}
