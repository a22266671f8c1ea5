//! `netlab man`: the manual page, in roff, on stdout. One page holds the
//! whole command tree: netlab's own synopsis and options, then a
//! subsection per subcommand (`netlab serve echo`, ...) with its synopsis,
//! options and examples, then the exit codes and examples of `--help`.
//! One page, not one per subcommand, so that `man netlab` and a search in
//! it find everything.
//!
//! clap_mangen renders each part from the definition `--help` is made
//! from; this file only arranges them. Its pages put a command's
//! after-help text in filled paragraphs, which would run the examples'
//! lines together: here the indented lines are unfilled, line for line as
//! in `--help`.

use std::io;

use clap_mangen::Man;
use clap_mangen::roff::{Roff, roman};

/// Arguments of `netlab man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  # Read it now
  netlab man | man -l -
  # Install it, for `man netlab`
  netlab man > ~/.local/share/man/man1/netlab.1")]
pub struct ManArgs {}

/// The page of `cli`, netlab's whole command.
pub fn page(cli: clap::Command) -> io::Result<Vec<u8>> {
    // Built, so that each subcommand knows its full name
    // (`netlab serve echo`) for its synopsis. `help` is no page's matter.
    let mut cli = cli.disable_help_subcommand(true);
    cli.build();
    let mut page = Vec::new();
    let root = Man::new(cli.clone());
    root.render_title(&mut page)?;
    section(&mut page, |w| root.render_name_section(w))?;
    section(&mut page, |w| root.render_synopsis_section(w))?;
    section(&mut page, |w| root.render_description_section(w))?;
    section(&mut page, |w| root.render_options_section(w))?;

    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    commands.text([roman(
        "Each command below has its own --help, which says the same.",
    )]);
    page.extend(body(&commands));
    for sub in visible(&cli) {
        command(&mut page, sub)?;
    }

    let mut end = Roff::new();
    end.control("SH", ["EXIT STATUS"]);
    unfilled(&mut end, crate::exit_table!());
    end.control("PP", []);
    end.text([roman(
        "docs/cli.md, \"Errors and exit codes\", says more on each.",
    )]);
    end.control("SH", ["EXAMPLES"]);
    // The heading says it; the text's own first line would repeat it.
    unfilled(&mut end, without_heading(crate::examples!()));
    page.extend(body(&end));
    Ok(page)
}

/// `cmd` and, after it, each of its subcommands, depth first: a
/// subsection each.
fn command(page: &mut Vec<u8>, cmd: &clap::Command) -> io::Result<()> {
    let name = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    let mut head = Roff::new();
    head.control("SS", [name]);
    if let Some(about) = cmd.get_long_about().or_else(|| cmd.get_about()) {
        for line in about.to_string().lines() {
            head.text([roman(line)]);
        }
    }
    head.control("PP", []);
    page.extend(body(&head));
    let man = Man::new(cmd.clone());
    // Within a subsection: clap_mangen's own headings (`.SH SYNOPSIS`,
    // `.SH OPTIONS`) would each start a section of the page.
    page.extend(without_headings(&render(|w| {
        man.render_synopsis_section(w)
    })?));
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        page.extend(without_headings(&render(|w| {
            man.render_options_section(w)
        })?));
    }
    if let Some(after) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
        let mut extra = Roff::new();
        extra.control("PP", []);
        unfilled(&mut extra, &after.to_string());
        page.extend(body(&extra));
    }
    for sub in visible(cmd) {
        command(page, sub)?;
    }
    Ok(())
}

/// The subcommands a page shows.
fn visible(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// Help text as `--help` shows it: its indented lines (examples, table
/// rows) line for line, unfilled; the rest as filled paragraphs.
fn unfilled(roff: &mut Roff, text: &str) {
    let mut filling = true;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !filling {
                roff.control("fi", []);
                filling = true;
            }
            roff.control("PP", []);
            continue;
        }
        let indented = line.starts_with(' ');
        if indented == filling {
            roff.control(if indented { "nf" } else { "fi" }, []);
            filling = !indented;
        }
        roff.text([roman(line)]);
    }
    if !filling {
        roff.control("fi", []);
    }
}

/// `text` without its first line (`Examples:`).
fn without_heading(text: &str) -> &str {
    text.split_once('\n').map_or(text, |(_, rest)| rest)
}

/// Renders one of clap_mangen's sections and appends it, preamble off.
fn section(
    page: &mut Vec<u8>,
    render_it: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> io::Result<()> {
    page.extend(render(render_it)?);
    Ok(())
}

/// What `render_it` writes, less the preamble every roff render starts
/// with (it defines a string for apostrophes; the title has it once).
fn render(render_it: impl FnOnce(&mut dyn io::Write) -> io::Result<()>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    render_it(&mut out)?;
    let preamble = Roff::new().render();
    Ok(match out.strip_prefix(preamble.as_bytes()) {
        Some(rest) => rest.to_vec(),
        None => out,
    })
}

/// `roff` rendered, less the preamble.
fn body(roff: &Roff) -> Vec<u8> {
    let text = roff.render();
    let preamble = Roff::new().render();
    text.strip_prefix(&preamble)
        .unwrap_or(&text)
        .as_bytes()
        .to_vec()
}

/// Roff source without its `.SH` lines.
fn without_headings(roff: &[u8]) -> Vec<u8> {
    roff.split_inclusive(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b".SH "))
        .flatten()
        .copied()
        .collect()
}
