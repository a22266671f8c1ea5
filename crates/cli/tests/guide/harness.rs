//! Runs the commands of docs/guide.md, so that the guide cannot rot. Shared
//! by `crates/cli/tests/guide.rs` (the netlab commands) and
//! `examples/guide-protocol/tests/guide.rs` (the guide's own crate) with
//! `#[path]`; the including module gives `tools` (tests/support/tools.rs).
//!
//! The guide marks its blocks by their info string:
//!
//! - ```` ```console ````: one-shot commands with deterministic output,
//!   handed to `trycmd` (by the including test: this module only collects
//!   them). `$ ` starts a command, `? N` an exit status other than 0.
//! - ```` ```console server ````: one `$ ` command that starts a server in
//!   the background, then the lines it prints once it is ready. It runs
//!   until the next server block (or a `^C` in its log).
//! - ```` ```console client ````: commands run by `sh` from the repository
//!   root while that server runs, each checked like trycmd's: its output
//!   (stdout and stderr together), and its status (`? N`, default 0).
//! - ```` ```text server-log ````: what the server printed since the last
//!   check. A `^C` line stops it with SIGINT (what Ctrl-C sends); the lines
//!   after it are what it prints on the way out.
//! - ```` ```rust file=PATH ```` (or `toml`): the whole text of that file
//!   of the repository, checked to be the same.
//!
//! In expected output, as in trycmd, `[..]` is any text within a line and
//! a `...` line any number of lines. Port numbers of 10000 and up in a
//! server's command are replaced by free ports (for `--port-offset N`,
//! `N + 7` and the other services' ports move with `N`), in that server's
//! session, its clients' commands and all expected output alike: the
//! guide says 55555, the tests use a port nobody else has.
#![allow(dead_code)]

mod matching;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use matching::lines_match;
use matching::{port_map, replace_numbers, split_lines};

/// How long any one wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The repository's root, seen from a package two levels down.
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("docs/guide.md").is_file())
        .expect("docs/guide.md above this package")
        .to_path_buf()
}

/// The guide's text.
pub fn guide() -> String {
    std::fs::read_to_string(repo_root().join("docs/guide.md")).expect("reading docs/guide.md")
}

/// One fenced block of the guide.
#[derive(Debug, Clone)]
pub struct Block {
    /// The info string after the fence (`console server`).
    pub info: String,
    /// The heading (`## ...`) it is under.
    pub section: String,
    /// The line of its opening fence, 1-based.
    pub line: usize,
    /// Its lines, without the fences.
    pub body: Vec<String>,
}

impl Block {
    fn at(&self) -> String {
        format!("docs/guide.md line {} ({})", self.line, self.info)
    }
}

/// Every fenced block of `text`, in order.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut open: Option<(String, Block)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some((fence, block)) = &mut open {
            if line.trim_end() == fence {
                out.push(block.clone());
                open = None;
            } else {
                block.body.push(line.to_owned());
            }
            continue;
        }
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading.trim().to_owned();
        }
        let ticks = line.chars().take_while(|&c| c == '`').count();
        if ticks >= 3 {
            open = Some((
                line[..ticks].to_owned(),
                Block {
                    info: line[ticks..].trim().to_owned(),
                    section: section.clone(),
                    line: i + 1,
                    body: Vec::new(),
                },
            ));
        }
    }
    assert!(open.is_none(), "docs/guide.md: a block is never closed");
    out
}

/// A child's output as it arrives, read on a thread of its own.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<Vec<u8>>>);

impl Output {
    fn collect(&self, mut pipe: impl Read + Send + 'static) -> JoinHandle<()> {
        let sink = self.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        })
    }

    fn lines(&self) -> Vec<String> {
        split_lines(&self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A server started by a `console server` block; killed when dropped.
struct Session {
    child: Child,
    stdout: Output,
    /// Shown when a check fails.
    stderr: Output,
    /// How many of its lines the guide has shown so far.
    seen: usize,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Session {
    /// Waits until the lines since the last check match `want`.
    fn expect(&mut self, want: &[String], at: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let lines = self.stdout.lines();
            let new = &lines[self.seen.min(lines.len())..];
            if lines_match(want, new) {
                self.seen = lines.len();
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{at}: the server printed\n{}\nnot\n{}\n(on stderr:\n{})",
                new.join("\n"),
                want.join("\n"),
                self.stderr.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn interrupt(&mut self, at: &str) {
        let status = Command::new("kill")
            .args(["-s", "INT", &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "{at}: kill -s INT");
    }

    fn wait_exit(&mut self, at: &str) {
        let deadline = Instant::now() + DEADLINE;
        while self.child.try_wait().expect("waiting").is_none() {
            assert!(Instant::now() < deadline, "{at}: the server did not stop");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs the guide's server, client and server-log blocks, and checks its
/// file blocks.
pub struct Runner {
    /// Commands as the guide writes them, and what runs instead
    /// (`cargo run -p upcase --` → the built binary).
    rewrites: Vec<(String, String)>,
    /// Directories put first on `PATH` (where `netlab` is).
    path: Vec<PathBuf>,
    session: Option<Session>,
    /// The last server's ports, kept after it stopped.
    ports: Vec<(u32, u32)>,
    /// How many commands ran.
    pub ran: usize,
}

impl Runner {
    pub fn new() -> Runner {
        Runner {
            rewrites: Vec::new(),
            path: Vec::new(),
            session: None,
            ports: Vec::new(),
            ran: 0,
        }
    }

    /// Puts `bin`'s directory first on `PATH`.
    pub fn bin(mut self, bin: &Path) -> Runner {
        self.path
            .push(bin.parent().expect("a binary in a directory").to_owned());
        self
    }

    /// Runs `to` where the guide says `from` (at the start of a command).
    pub fn rewrite(mut self, from: &str, to: &str) -> Runner {
        self.rewrites.push((from.to_owned(), to.to_owned()));
        self
    }

    /// `command` with the guide's port numbers replaced by free ones,
    /// and its program by what runs instead.
    fn rewritten(&self, command: &str) -> String {
        let mut command = self.ports(command);
        for (from, to) in &self.rewrites {
            if let Some(rest) = command.strip_prefix(from.as_str()) {
                command = format!("{to}{rest}");
            }
        }
        command
    }

    fn shell(&self, command: &str) -> Command {
        let path = std::env::join_paths(self.path.iter().cloned().chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .expect("a PATH");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .current_dir(repo_root())
            .env("PATH", path)
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("RUST_LOG")
            .env_remove("RUST_BACKTRACE");
        cmd
    }

    fn ports(&self, text: &str) -> String {
        replace_numbers(text, &self.ports)
    }

    fn expected(&self, lines: &[String]) -> Vec<String> {
        lines.iter().map(|l| self.ports(l)).collect()
    }

    /// Runs `block`, if it is one this module runs.
    pub fn run(&mut self, block: &Block) {
        let at = block.at();
        match block.info.as_str() {
            "console server" => self.server(block, &at),
            "console client" => self.client(block, &at),
            "text server-log" => self.log(block, &at),
            info if info.starts_with("rust file=") || info.starts_with("toml file=") => {
                self.file(block, &at)
            }
            "console" | "text" | "" | "rust" | "toml" | "python" | "sh" => {}
            other => panic!("{at}: a block this harness does not know: {other:?}"),
        }
    }

    fn server(&mut self, block: &Block, at: &str) {
        self.session = None;
        let (first, want) = block
            .body
            .split_first()
            .expect("a server block has a command");
        let command = first
            .strip_prefix("$ ")
            .unwrap_or_else(|| panic!("{at}: the first line is not `$ ...`"));
        self.ports = port_map(command);
        // exec: the server is sh's child itself, so SIGINT reaches it.
        let mut cmd = self.shell(&format!("exec {}", self.rewritten(command)));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("starting a server");
        let stdout = Output::default();
        stdout.collect(child.stdout.take().expect("its stdout"));
        let stderr = Output::default();
        stderr.collect(child.stderr.take().expect("its stderr"));
        let mut session = Session {
            child,
            stdout,
            stderr,
            seen: 0,
        };
        session.expect(&self.expected(want), at);
        self.session = Some(session);
        self.ran += 1;
    }

    fn log(&mut self, block: &Block, at: &str) {
        let mut session = self
            .session
            .take()
            .unwrap_or_else(|| panic!("{at}: a server log without a server"));
        let (before, after) = match block.body.iter().position(|l| l == "^C") {
            Some(i) => (&block.body[..i], Some(&block.body[i + 1..])),
            None => (&block.body[..], None),
        };
        session.expect(&self.expected(before), at);
        if let Some(after) = after {
            session.interrupt(at);
            session.wait_exit(at);
            session.expect(&self.expected(after), at);
        } else {
            self.session = Some(session);
        }
    }

    fn client(&mut self, block: &Block, at: &str) {
        if self.ports.is_empty() {
            // No server yet: the example's port is one where nothing listens.
            let commands: String = block
                .body
                .iter()
                .filter(|l| l.starts_with("$ "))
                .cloned()
                .collect();
            self.ports = port_map(&commands);
        }
        let mut lines = block.body.iter().peekable();
        while let Some(line) = lines.next() {
            let command = line
                .strip_prefix("$ ")
                .unwrap_or_else(|| panic!("{at}: expected `$ ...`, got {line:?}"));
            let mut status = 0;
            if let Some(code) = lines.peek().and_then(|l| l.strip_prefix("? ")) {
                status = code.trim().parse().expect("a status number");
                lines.next();
            }
            let mut want = Vec::new();
            while let Some(l) = lines.next_if(|l| !l.starts_with("$ ")) {
                want.push(l.clone());
            }
            self.command(command, status, &self.expected(&want), at);
        }
    }

    fn command(&mut self, command: &str, status: i32, want: &[String], at: &str) {
        let command = self.rewritten(command);
        let mut cmd = self.shell(&format!("( {command} ) 2>&1"));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("starting a command");
        let out = Output::default();
        let reader = out.collect(child.stdout.take().expect("its stdout"));
        let deadline = Instant::now() + DEADLINE;
        let exit = loop {
            if let Some(exit) = child.try_wait().expect("waiting") {
                break exit;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{at}: `{command}` still running after {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        reader.join().expect("reading its output");
        let got = out.lines();
        assert_eq!(
            exit.code(),
            Some(status),
            "{at}: `{command}` exit status; output:\n{}",
            got.join("\n")
        );
        assert!(
            lines_match(want, &got),
            "{at}: `{command}` printed\n{}\nnot\n{}",
            got.join("\n"),
            want.join("\n")
        );
        self.ran += 1;
    }

    fn file(&mut self, block: &Block, at: &str) {
        let path = block.info.split_once("file=").expect("file=").1.trim();
        let text = std::fs::read_to_string(repo_root().join(path))
            .unwrap_or_else(|e| panic!("{at}: reading {path}: {e}"));
        let shown = block.body.join("\n") + "\n";
        assert!(
            text == shown,
            "{at}: the guide shows another {path} than the repository has; copy the file into the guide"
        );
        self.ran += 1;
    }
}

/// The guide's one-shot (`console`) blocks, as a Markdown file of their
/// own for trycmd (which would also run the guide's other blocks).
pub fn one_shot_markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks.iter().filter(|b| b.info == "console") {
        out.push_str("```console\n");
        for (i, line) in block.body.iter().enumerate() {
            // trycmd drops the last newline of each step's output, so
            // that a step can say its output has none: give it one to drop.
            if i > 0 && line.starts_with("$ ") {
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("\n```\n\n");
    }
    out
}
