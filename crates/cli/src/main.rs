//! The `netlab` command: thin glue that parses flags, calls the netlab
//! crates, prints, and maps errors to sysexits codes.

mod activation;
mod args;
mod bench;
mod clock_report;
mod completions;
mod config;
mod connect;
mod exit;
mod inetd_mode;
mod interfaces;
mod limits;
mod logging;
mod man;
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

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Classic client/server network programming: resolve names, run the
/// classic services (echo, discard, daytime, chargen, time), and talk to
/// them.
#[derive(Debug, Parser)]
#[command(name = "netlab", version, about, after_help = EXIT_CODES,
          after_long_help = concat!("Exit codes:\n", exit_table!(), "\n\n", examples!()))]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The end of `netlab -h`; `--help` has the table instead.
const EXIT_CODES: &str = "Exit codes: 0 ok, 64 usage, 65 bad data, 66 no input file, 68 \
unknown host, 69 unavailable, 70 internal error, 71 OS error, 73 cannot create the log, \
74 I/O error, 75 timeout or temporary failure, 77 permission denied, 78 configuration \
error (--help: what each means, and examples).";

/// The exit codes, one row each: the table of `netlab --help` and of the
/// man page's EXIT STATUS. docs/cli.md, "Errors and exit codes", has the
/// same codes with more detail; tests keep the three in step with
/// [`exit::Code`]. (A macro, not a const, so that `concat!` can take it.)
macro_rules! exit_table {
    () => {
        "  0   EX_OK           success; also when the reader of stdout went away (| head),
                      and a server stopped by SIGINT, SIGTERM or SIGHUP
  64  EX_USAGE        bad flags or arguments
  65  EX_DATAERR      a reply that is not what the protocol sends
  66  EX_NOINPUT      serve all --config: the file cannot be read
  68  EX_NOHOST       the host name does not exist
  69  EX_UNAVAILABLE  connection refused, no route, address in use
  70  EX_SOFTWARE     an internal error
  71  EX_OSERR        the system refused a thread, a descriptor or a signal handler
  73  EX_CANTCREAT    the --log-file cannot be created or opened
  74  EX_IOERR        an I/O error mid-transfer (reset by the peer), or past --max-bytes
  75  EX_TEMPFAIL     a timeout, or a temporary failure: trying again may work
  77  EX_NOPERM       permission denied (a port below 1024 without privileges)
  78  EX_CONFIG       serve all --config: a mistake in the file"
    };
}
use exit_table;

/// The end of `netlab --help` and the man page's EXAMPLES.
macro_rules! examples {
    () => {
        "Examples:
  # The lecture's daytime pair: a server on port 55555, then its client
  netlab serve daytime --port 55555
  netlab connect daytime localhost 55555
  # The host name's IP address, as the lecture's ipaddress.py prints it
  netlab resolve cs.princeton.edu
  # Every subcommand has its own --help, with examples
  netlab serve echo --help"
    };
}
use examples;

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the IP address of host names (and host names of IP addresses).
    Resolve(resolve::ResolveArgs),
    /// Run a server (echo, discard, daytime, chargen, time, or all of them)
    /// until SIGINT, SIGTERM or SIGHUP.
    #[command(
        subcommand,
        after_help = "\
Examples:
  # An echo server on port 7777; all five services from one process
  netlab serve echo --port 7777
  netlab serve all --port-offset 10000"
    )]
    Serve(protocols::Serve),
    /// Talk to an echo, discard, daytime, chargen or time server.
    #[command(
        subcommand,
        after_help = "\
Examples:
  # Send a line to an echo server; ask a daytime server the time
  echo hello | netlab connect echo localhost 7777
  netlab connect daytime localhost 55555"
    )]
    Connect(protocols::Connect),
    /// Load-test an echo, daytime, discard or chargen server.
    Bench(bench::BenchArgs),
    /// List this host's network interfaces: state, MAC address, IPv4 and
    /// IPv6 addresses (like `ip addr`, `ifconfig` or `ipconfig`).
    Interfaces(interfaces::InterfacesArgs),
    /// Print a completion script for bash, zsh, fish, PowerShell or elvish.
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff, every subcommand on one page).
    Man(man::ManArgs),
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
        Command::Completions(args) => print(&completions::script(args.shell, Cli::command())),
        Command::Man(_) => match man::page(Cli::command()) {
            Ok(page) => print(&page),
            Err(e) => exit::report(
                format!("rendering the man page: {e}"),
                None,
                exit::Code::Software,
            ),
        },
    }
}

/// Writes `text` to stdout: 0, or 74 when stdout fails (a closed pipe,
/// `| head`, is the reader's choice, not an error).
fn print(text: &[u8]) -> ExitCode {
    match io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            exit::report(format!("writing to stdout: {e}"), None, exit::Code::IoErr)
        }
        _ => exit::Code::Ok.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every exit code netlab has, each once. The match has no `_` arm:
    /// a new [`exit::Code`] does not compile until it is listed here, and
    /// then this test wants it in the table.
    fn every_code() -> Vec<exit::Code> {
        use exit::Code as C;
        let all = [
            C::Ok,
            C::Usage,
            C::DataErr,
            C::NoInput,
            C::NoHost,
            C::Unavailable,
            C::Software,
            C::OsErr,
            C::CantCreate,
            C::IoErr,
            C::TempFail,
            C::NoPerm,
            C::Config,
        ];
        for code in all {
            match code {
                C::Ok
                | C::Usage
                | C::DataErr
                | C::NoInput
                | C::NoHost
                | C::Unavailable
                | C::Software
                | C::OsErr
                | C::CantCreate
                | C::IoErr
                | C::TempFail
                | C::NoPerm
                | C::Config => {}
            }
        }
        all.to_vec()
    }

    #[test]
    fn the_help_tables_exit_codes_are_exactly_exit_codes() {
        let mut want: Vec<u8> = every_code().into_iter().map(|c| c as u8).collect();
        want.sort_unstable();
        want.dedup();
        let rows: Vec<u8> = exit_table!()
            .lines()
            .filter_map(|row| row.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(rows, want, "the rows of exit_table!, in order");
        // Each row also names the code as sysexits(3) does.
        for row in exit_table!()
            .lines()
            .filter(|r| r.trim_start().starts_with(char::is_numeric))
        {
            assert!(
                row.split_whitespace()
                    .nth(1)
                    .is_some_and(|n| n.starts_with("EX_")),
                "{row}"
            );
        }
    }
}
