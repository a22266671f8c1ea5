//! The `netlab` command: thin glue that parses flags, calls the netlab
//! crates, prints, and maps errors to sysexits codes.

mod bench;
mod exit;
mod resolve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Classic client/server network programming: resolve names, run daytime
/// and echo servers, and talk to them.
#[derive(Debug, Parser)]
#[command(name = "netlab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the IP address of host names (and host names of IP addresses).
    Resolve(resolve::ResolveArgs),
    /// Load-test a daytime or echo server.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::Code::Usage } else { exit::Code::Ok };
            let _ = e.print();
            return code.into();
        }
    };
    match cli.command {
        Command::Resolve(args) => resolve::run(args),
        Command::Bench(args) => bench::run(args),
    }
}
