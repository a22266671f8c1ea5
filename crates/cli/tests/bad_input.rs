//! Every bad command line in docs/reliability.md's table, run as written:
//! the test reads the table from the page, so the page and the test cannot
//! drift apart. A row is a command, its exit code, and a fragment of its
//! one stderr line (or *(help on stdout)*).

mod util;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use util::{netlab, output_within_deadline};

/// The repository's root: the commands run there (`--config Cargo.toml`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One row of the table.
#[derive(Debug)]
struct Row {
    command: String,
    exit: i32,
    /// `None`: the help on stdout, nothing on stderr.
    message: Option<String>,
}

/// The cell's text between its backticks.
fn code(cell: &str) -> Option<&str> {
    cell.strip_prefix('`')?.strip_suffix('`')
}

/// The rows of the first table under "## Bad command-line input".
fn rows(page: &str) -> Vec<Row> {
    let section = page
        .split_once("\n## Bad command-line input\n")
        .expect("docs/reliability.md has a \"Bad command-line input\" section")
        .1;
    section
        .lines()
        .skip_while(|l| !l.starts_with("| `netlab"))
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let [command, exit, message] = cells[..] else {
                panic!("not three cells: {line:?}");
            };
            Row {
                command: code(command)
                    .unwrap_or_else(|| panic!("{line:?}"))
                    .to_owned(),
                exit: exit
                    .parse()
                    .unwrap_or_else(|_| panic!("exit code in {line:?}")),
                message: match message {
                    "*(help on stdout)*" => None,
                    m => Some(code(m).unwrap_or_else(|| panic!("{line:?}")).to_owned()),
                },
            }
        })
        .collect()
}

/// Splits a command as the shell would, for what the table uses: words,
/// '...' and "..." (an empty pair is an empty word).
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in command.chars() {
        match (quote, c) {
            (None, ' ') => out.extend(word.take()),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (Some(q), c) if c == q => quote = None,
            (_, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(quote.is_none(), "unclosed quote in {command:?}");
    out.extend(word);
    out
}

/// What is wrong with the row's outcome, if anything.
fn check(row: &Row) -> Option<String> {
    let words = words(&row.command);
    assert_eq!(words[0], "netlab", "{row:?}");
    let mut cmd = netlab();
    cmd.args(&words[1..])
        .current_dir(root())
        .stdin(Stdio::null());
    let out = output_within_deadline(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let got = format!("exit {:?}, stderr {stderr:?}", out.status.code());
    if out.status.code() != Some(row.exit) {
        return Some(format!(
            "{}: want exit {}, got {got}",
            row.command, row.exit
        ));
    }
    let fine = match &row.message {
        None => stderr.is_empty() && stdout.contains("Usage:"),
        Some(fragment) => {
            stderr.starts_with("netlab: ")
                && stderr.ends_with('\n')
                && stderr.lines().count() == 1
                && !stderr.contains("panicked")
                && stderr.contains(fragment.as_str())
        }
    };
    (!fine).then(|| format!("{}: want {:?}, got {got}", row.command, row.message))
}

#[test]
fn the_table_splits_commands_as_the_shell_does() {
    assert_eq!(words("netlab serve echo"), ["netlab", "serve", "echo"]);
    assert_eq!(
        words(r#"netlab --host "" x"#),
        ["netlab", "--host", "", "x"]
    );
    assert_eq!(
        words("netlab --format '%a %b'"),
        ["netlab", "--format", "%a %b"]
    );
}

#[test]
fn every_bad_input_in_reliability_md_gets_its_message_and_exit_code() {
    let page = std::fs::read_to_string(root().join("docs/reliability.md")).unwrap();
    let rows = rows(&page);
    // A parser that found nothing would pass vacuously.
    assert!(rows.len() >= 50, "only {} rows read", rows.len());
    let wrong: Vec<String> = rows.iter().filter_map(check).collect();
    assert!(
        wrong.is_empty(),
        "{} of {} rows do not hold:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );
}
