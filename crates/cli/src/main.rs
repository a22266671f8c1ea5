//! The `netlab` command: thin glue that parses flags, calls the netlab
//! crates, prints, and maps errors to sysexits codes.

mod activation;
mod args;
mod bench;
mod clock_report;
mod config;
mod connect;
mod exit;
mod inetd_mode;
mod interfaces;
mod limits;
mod logging;
mod output;
mod protocols;
mod reachable;
mod render;
mod reply;
mod resolve;
mod serve;
mod serve_all;
mod serve_interface;
mod usage;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Classic client/server network programming: resolve names, run the
/// classic services (echo, discard, daytime, chargen, time), and talk to
/// them.
#[derive(Debug, Parser)]
#[command(name = "netlab", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 ok, 64 usage, 65 bad data (a reply that is not \
what the protocol sends), 66 a file that cannot be read, 68 unknown host, 69 refused or \
unavailable (address in use), 74 I/O error (reset mid-transfer), 75 timeout or \
temporary failure, 77 permission denied, 78 a mistake in a configuration file.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the IP address of host names (and host names of IP addresses).
    Resolve(resolve::ResolveArgs),
    /// Run a server (echo, discard, daytime, chargen, time, or all of them)
    /// until SIGINT, SIGTERM or SIGHUP.
    #[command(subcommand)]
    Serve(protocols::Serve),
    /// Talk to an echo, discard, daytime, chargen or time server.
    #[command(subcommand)]
    Connect(protocols::Connect),
    /// Load-test an echo, daytime, discard or chargen server.
    Bench(bench::BenchArgs),
    /// List this host's network interfaces: state, MAC address, IPv4 and
    /// IPv6 addresses (like `ip addr`, `ifconfig` or `ipconfig`).
    Interfaces(interfaces::InterfacesArgs),
}

pub use args::seconds;

fn main() -> ExitCode {
    // inetd mode: fds 1 and 2 are the client's, before any word is parsed.
    let inetd = inetd_mode::on_command_line();
    if inetd {
        inetd_mode::silence();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if inetd => return inetd_mode::refuse(&e),
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return exit::Code::Ok.into();
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Bare `netlab` (or `netlab serve`, `netlab bench`): the help, on stdout, as
            // git and cargo print theirs, not as an error line. Like git
            // (and unlike cargo) the exit code says nothing was done.
            let _ = write!(std::io::stdout(), "{}", e.render());
            return exit::Code::Usage.into();
        }
        Err(e) => {
            let words: Vec<String> = std::env::args_os()
                .map(|w| w.to_string_lossy().into_owned())
                .collect();
            return usage::report(&e, &words);
        }
    };
    match cli.command {
        Command::Resolve(args) => resolve::run(args),
        Command::Serve(protocol) => protocol.run(),
        Command::Connect(protocol) => protocol.run(),
        Command::Bench(args) => bench::run(args),
        Command::Interfaces(args) => interfaces::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
