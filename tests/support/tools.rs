//! What a test needs from the machine: an outside program (dnsmasq, socat,
//! ncat, ...) or a privilege (root). Shared by every package's tests with
//! `#[path]`.
//!
//! A test asks with [`require_tool`] or [`require_root`]. When the need is
//! met it gets the program's path (or `true`) and runs. When it is not:
//!
//! - under `CI=true` (what `.ci/run` sets), the test **fails**, naming what
//!   is missing and the Debian package that brings it: CI must never pass
//!   by testing less;
//! - otherwise it **skips loudly**: one `SKIPPED` line goes straight to the
//!   terminal's stderr (past the test harness's capture, so it shows even
//!   when the test passes) and the test returns early.
//!
//! `scripts/test` installs every tool named here, so on a machine where it
//! ran, nothing is skipped.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where Debian puts daemons (dnsmasq) that a user's `PATH` may lack.
const SBIN: [&str; 3] = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

/// Whether this run is CI's, where a missing tool is a failure (`CI` is
/// set to anything but `false` or `0`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The program `name` on `PATH` (or in an `sbin` directory), or `None`.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SBIN.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The program `name`, from Debian's package `package`, for the running
/// test. Missing: fails under CI, otherwise skips loudly (see the module
/// docs) and returns `None`; the test then returns.
pub fn require_tool(name: &str, package: &str) -> Option<PathBuf> {
    if let Some(found) = find_tool(name) {
        return Some(found);
    }
    missing(&format!(
        "`{name}` is not installed (Debian package `{package}`; `scripts/test` installs it)"
    ));
    None
}

/// Whether the tests run as root (`id -u` prints 0).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Whether the running test, which needs root (`why`), may run. Not root:
/// fails under CI, otherwise skips loudly and returns `false`.
pub fn require_root(why: &str) -> bool {
    if is_root() {
        return true;
    }
    missing(&format!("it needs root ({why})"));
    false
}

/// The running test's name, as the test harness names its thread (or
/// "this test" when it runs on the main thread).
pub fn current_test() -> String {
    std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .unwrap_or("this test")
        .to_owned()
}

fn missing(what: &str) {
    let test = current_test();
    if in_ci() {
        panic!("{test}: {what}; CI=true, so a missing requirement is a failure");
    }
    // Straight to the process's stderr: the harness captures only the
    // print macros, so this line shows even for a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {what}; set CI=true to make this a failure"
    );
}
