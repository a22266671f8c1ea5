//! `netlab bench`: placeholder until the performance issue lands.

use std::process::ExitCode;

/// Arguments of `netlab bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to run (filled in by the performance issue).
    pub rest: Vec<String>,
}

/// Runs `netlab bench`.
pub fn run(args: BenchArgs) -> ExitCode {
    let _ = args;
    crate::exit::report("bench is not built yet", None, crate::exit::Code::Software)
}
