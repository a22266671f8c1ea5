//! `netlab resolve`: placeholder until the resolve issue lands.

use std::process::ExitCode;

/// Arguments of `netlab resolve`.
#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// Host names or IP addresses.
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// Runs `netlab resolve`.
pub fn run(args: ResolveArgs) -> ExitCode {
    let _ = args;
    crate::exit::report(
        "resolve is not built yet",
        None,
        crate::exit::Code::Software,
    )
}
