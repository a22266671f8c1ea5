//! `netlab completions SHELL`: the shell's completion script for netlab,
//! made by clap_complete from the same definition `--help` is made from,
//! so it knows every subcommand and flag there is.

use clap_complete::Shell;

/// Arguments of `netlab completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  # bash: for this shell, then for every new one
  source <(netlab completions bash)
  netlab completions bash > ~/.local/share/bash-completion/completions/netlab
  # zsh: a file named _netlab in a directory of $fpath
  netlab completions zsh > ~/.zfunc/_netlab
  # fish
  netlab completions fish > ~/.config/fish/completions/netlab.fish")]
pub struct CompletionsArgs {
    /// The shell to complete netlab's words in.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script of `cli` (netlab's whole command) for `shell`.
pub fn script(shell: Shell, mut cli: clap::Command) -> Vec<u8> {
    // Into memory first: clap_complete panics on a failed write, and a
    // closed stdout is the caller's to handle.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cli, "netlab", &mut script);
    script
}
