//! The `netlab` command: thin glue that parses flags, calls the netlab
//! crates, prints, and maps errors to sysexits codes.

mod args;
mod bench;
mod connect;
mod exit;
mod limits;
mod render;
mod reply;
mod resolve;
mod serve;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Classic client/server network programming: resolve names, run daytime
/// and echo servers, and talk to them.
#[derive(Debug, Parser)]
#[command(name = "netlab", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit codes: 0 ok, 64 usage, 68 unknown host, 69 refused or \
unavailable (address in use), 74 I/O error (reset mid-transfer), 75 timeout or \
temporary failure, 77 permission denied.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the IP address of host names (and host names of IP addresses).
    Resolve(resolve::ResolveArgs),
    /// Run a daytime or echo server until SIGINT, SIGTERM or SIGHUP.
    Serve(serve::ServeArgs),
    /// Talk to a daytime or echo server.
    Connect(connect::ConnectArgs),
    /// Load-test a daytime or echo server.
    Bench(bench::BenchArgs),
}

/// The services netlab speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// RFC 867: one line with the date and time.
    Daytime,
    /// RFC 862: every byte sent back.
    Echo,
}

impl Protocol {
    /// The service's name, as in `/etc/services`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Daytime => "daytime",
            Protocol::Echo => "echo",
        }
    }
}

pub use args::seconds;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return exit::Code::Ok.into();
        }
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Bare `netlab` (or `netlab bench`): the help, on stdout, as
            // git and cargo print theirs, not as an error line. Like git
            // (and unlike cargo) the exit code says nothing was done.
            let _ = write!(std::io::stdout(), "{}", e.render());
            return exit::Code::Usage.into();
        }
        Err(e) => return usage_error(&e),
    };
    match cli.command {
        Command::Resolve(args) => resolve::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Bench(args) => bench::run(args),
    }
}

/// clap's multi-line error as the one line every netlab error is: the
/// message paragraph (which may list the missing arguments on lines of
/// their own), without the usage block that follows it.
fn usage_error(e: &clap::Error) -> ExitCode {
    exit::report(
        one_line(&e.render().to_string()),
        Some("see netlab --help"),
        exit::Code::Usage,
    )
}

fn one_line(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let joined = message.join(" ");
    let joined = joined.strip_prefix("error: ").unwrap_or(&joined);
    if joined.is_empty() {
        "invalid arguments".to_owned()
    } else {
        joined.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_keep_the_missing_argument() {
        let e = Cli::try_parse_from(["netlab", "connect", "echo"]).unwrap_err();
        let line = one_line(&e.render().to_string());
        assert!(
            line.starts_with("the following required arguments were not provided:"),
            "{line}"
        );
        assert!(line.contains("<HOST>"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
