//! Finding one's way in: `cargo build` at the root builds the `netlab`
//! binary, every subcommand's help ends with examples, `netlab --help`'s
//! exit-code table agrees with docs/cli.md's, and `netlab completions` and
//! `netlab man` print scripts and a page that their tools accept.

mod util;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use util::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `netlab ARGS` on success: its stdout.
fn stdout_of(args: &[&str]) -> String {
    let out = netlab_cmd().args(args).output().unwrap();
    assert_clean_exit(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// The commands a help text lists under `Commands:`, less `help`.
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command under `netlab`, as its words (`["serve", "echo"]`),
/// depth first; bounded by the tree's depth (3 words at most).
fn every_subcommand() -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(words) = todo.pop() {
        assert!(
            words.len() <= 3,
            "a command tree deeper than expected: {words:?}"
        );
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.push("--help");
        for name in commands_in(&stdout_of(&args)) {
            let mut sub = words.clone();
            sub.push(name);
            todo.push(sub.clone());
            found.push(sub);
        }
    }
    found
}

#[test]
fn cargo_build_at_the_root_builds_the_netlab_binary() {
    // What a bare `cargo build` (or `cargo install --path crates/cli`)
    // builds, asked of cargo itself rather than by building.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let defaults: Vec<&str> = meta["workspace_default_members"]
        .as_array()
        .expect("cargo metadata names the default members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let cli = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "netlab-cli")
        .expect("the netlab-cli package");
    assert!(
        defaults.contains(&cli["id"].as_str().unwrap()),
        "crates/cli is not a default member: `cargo build` at the root gives no netlab binary"
    );
    let bins: Vec<&str> = cli["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(bins, ["netlab"]);
}

#[test]
fn every_subcommands_help_ends_with_examples() {
    let subcommands = every_subcommand();
    // The tree as documented: a command missing here would go unchecked.
    for words in [
        "resolve",
        "serve",
        "serve echo",
        "serve all",
        "connect",
        "connect time",
        "bench",
        "bench chargen",
        "interfaces",
        "completions",
        "man",
    ] {
        let words: Vec<String> = words.split(' ').map(str::to_owned).collect();
        assert!(
            subcommands.contains(&words),
            "no `netlab {}`",
            words.join(" ")
        );
    }
    for words in &subcommands {
        for flag in ["-h", "--help"] {
            let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
            args.push(flag);
            let help = stdout_of(&args);
            let shown = format!("`netlab {}`:\n{help}", args.join(" "));
            let (_, examples) = help.rsplit_once("\nExamples:\n").expect(&shown);
            // Only the examples after the heading: `# what` lines and
            // commands, indented.
            let lines: Vec<&str> = examples.lines().filter(|l| !l.is_empty()).collect();
            assert!(lines.iter().all(|l| l.starts_with("  ")), "{shown}");
            assert!(
                lines
                    .iter()
                    .any(|l| l.trim_start().starts_with("netlab ") || l.contains("| netlab ")),
                "{shown}"
            );
        }
    }
}

/// The exit codes of a table's rows: lines whose first word (or first
/// cell, `| 64 |`) is a number.
fn codes_in(rows: &str) -> BTreeSet<u8> {
    rows.lines()
        .filter_map(|line| {
            let first = line
                .trim_start()
                .trim_start_matches('|')
                .split_whitespace()
                .next()?;
            first.parse().ok()
        })
        .collect()
}

#[test]
fn the_exit_code_tables_of_help_and_docs_agree() {
    let help = stdout_of(&["--help"]);
    let (_, table) = help.split_once("\nExit codes:\n").expect(&help);
    let (table, _) = table.split_once("\n\n").unwrap();
    let in_help = codes_in(table);
    let want: BTreeSet<u8> = [0, 64, 65, 66, 68, 69, 70, 71, 73, 74, 75, 77, 78].into();
    assert_eq!(in_help, want, "the table of `netlab --help`");

    let docs = std::fs::read_to_string(Path::new(ROOT).join("docs/cli.md")).unwrap();
    let (_, section) = docs.split_once("\n## Errors and exit codes\n").unwrap();
    let section = section.split("\n## ").next().unwrap();
    assert_eq!(
        codes_in(section),
        in_help,
        "docs/cli.md's table, against --help's"
    );
    // -h keeps one line, and names every code too.
    let short = stdout_of(&["-h"]);
    let line = short
        .lines()
        .find(|l| l.starts_with("Exit codes: "))
        .expect(&short);
    for code in &want {
        assert!(line.contains(&format!(" {code} ")), "{code} in {line}");
    }
}

#[test]
fn the_bash_completion_script_parses_and_completes() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = std::env::temp_dir().join(format!("netlab-help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("netlab.bash");
    std::fs::write(&path, &script).unwrap();
    let status = Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(status.success(), "bash -n rejects the script");
    // Sourced, it completes a subcommand and a protocol.
    let complete = |words: &str| {
        let probe = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _netlab netlab \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[*]}}\"",
            path.display()
        );
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &probe])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(complete("netlab se"), "serve");
    assert_eq!(complete("netlab connect ch"), "chargen");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_other_shells_scripts_parse_where_the_shell_is_installed() {
    for (shell, check) in [
        ("zsh", Some("zsh")),
        ("fish", Some("fish")),
        ("powershell", None),
        ("elvish", None),
    ] {
        let script = stdout_of(&["completions", shell]);
        assert!(
            script.contains("netlab") && script.contains("serve"),
            "{shell}"
        );
        // Not tools the tests need: checked only where they happen to be.
        let Some(program) = check.and_then(find_tool) else {
            continue;
        };
        let mut child = Command::new(program)
            .arg("-n")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{shell} -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_man_page_renders_without_warnings_and_holds_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH netlab 1"), "{page}");
    let Some(groff) = require_tool("groff", "groff-base") else {
        return;
    };
    let mut child = Command::new(groff)
        .args(["-man", "-Tutf8", "-ww"])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(page.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && warnings.is_empty(),
        "groff: {warnings}"
    );
    // Bold and underline are overstrikes (`X\bX`); the plain text is what
    // a reader sees.
    let rendered = String::from_utf8(out.stdout).unwrap();
    let mut text = String::new();
    for c in rendered.chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    for words in every_subcommand() {
        let name = format!("netlab {}", words.join(" "));
        assert!(
            text.contains(&format!("\n   {name}\n")),
            "no subsection {name}:\n{text}"
        );
    }
    for section in ["SYNOPSIS", "OPTIONS", "COMMANDS", "EXIT STATUS", "EXAMPLES"] {
        assert!(
            text.contains(&format!("\n{section}\n")),
            "no {section}:\n{text}"
        );
    }
    assert!(text.contains("EX_CANTCREAT"), "{text}");
    assert!(
        text.contains("netlab serve echo --port 55556 --mode line"),
        "{text}"
    );
}
