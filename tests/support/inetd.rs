//! A real inetd (Debian's `openbsd-inetd`) serving its five built-in
//! services (echo, discard, daytime, chargen, time; TCP and UDP) in a
//! network namespace of the test's own, for netlab's clients to talk to;
//! or, with [`start_with`], a configuration of the test's (netlab itself
//! as the external server, `netlab serve ... --inetd`).
//! Included with `#[path]` by a test crate whose `util` module re-exports
//! `tests/support/{peers,tools}.rs` (as `crates/cli/tests/util` does).
//!
//! Why a namespace, and why an address of its own:
//!
//! - openbsd-inetd finds a built-in by its service name, so it binds the
//!   standard ports (7, 9, 13, 19, 37): privileged, and on the host
//!   perhaps taken. A private namespace (`unshare -n`, root) has them all
//!   free, and nothing in it is reachable from outside.
//! - Its UDP built-ins drop every datagram from 127/8 (`dg_badinput`, so
//!   that a spoofed loopback source cannot start a loop), so a client on
//!   127.0.0.1 never gets an answer. In the namespace, loopback also
//!   carries [`ADDR`] (192.0.2.1, a documentation address: RFC 5737), and
//!   a client connecting to it has it as its source too. (A dummy
//!   interface would do as well, but containers often lack its module.)
//!   netlab's client binds an ephemeral port, so the other rule (no
//!   privileged source ports) is met.
//!
//! The binary is `scripts/test`'s unpacked copy under
//! `target/peers/openbsd-inetd`, or `$NETLAB_INETD`. Missing binary or no
//! root: the test fails under `CI=true`, otherwise skips with a `SKIPPED`
//! line, as `require_tool` does.
//!
//! [`Inetd`] holds inetd as a child process: inetd itself is the
//! namespace's first process (`unshare` and `sh` exec it), so killing it
//! when the guard drops, even on a panic, ends the namespace; the forked
//! handlers of stream echo, discard and chargen die with their
//! connections, whose clients have ended by then.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{DEADLINE, Proc, current_test, in_ci, require_root, require_tool};

/// The address inetd listens on, inside its namespace.
pub const ADDR: &str = "192.0.2.1";

/// The standard ports of the five services.
pub const ECHO: u16 = 7;
pub const DISCARD: u16 = 9;
pub const DAYTIME: u16 = 13;
pub const CHARGEN: u16 = 19;
pub const TIME: u16 = 37;

/// Every built-in, TCP and UDP. Stream daytime comes last: inetd binds
/// each entry as it reads it, so when daytime answers, all are bound.
const SERVICES: [&str; 5] = ["echo", "discard", "chargen", "time", "daytime"];

/// Where `scripts/test` unpacks the package, below the workspace root.
const UNPACKED: &str = "target/peers/openbsd-inetd/usr/sbin/inetd";

/// Where `scripts/test` unpacks xinetd.
const XINETD_UNPACKED: &str = "target/peers/xinetd/usr/sbin/xinetd";

/// A running inetd in its own network namespace; killed (and the
/// namespace with it) when dropped.
pub struct Inetd {
    proc: Proc,
    config: PathBuf,
    nsenter: PathBuf,
}

/// Starts inetd with its built-ins, or says why not (see the module docs)
/// and returns `None`.
pub fn start() -> Option<Inetd> {
    start_with(&builtins(), (ADDR, DAYTIME))
}

/// Starts inetd with the configuration `config` (inetd.conf lines: an
/// external server such as `netlab serve ... --inetd`), ready once a TCP
/// connection to `ready` (its last stream entry, bound last) is accepted;
/// or says why not and returns `None`. Inside the namespace, `127.0.0.1`
/// and [`ADDR`] are both on loopback.
pub fn start_with(config: &str, ready: (&str, u16)) -> Option<Inetd> {
    let inetd = require_unpacked("openbsd-inetd", UNPACKED, "NETLAB_INETD")?;
    // `-d`: in the foreground, each entry and request on stderr.
    spawn(&inetd, &["-d"], config, ready)
}

/// Starts Debian's xinetd (unpacked by `scripts/test` at
/// `target/peers/xinetd`, or `$NETLAB_XINETD`) with the configuration
/// `config` (xinetd.d entries) in the same kind of namespace, ready once a
/// TCP connection to `ready` is accepted; or says why not and returns
/// `None`. xinetd passes its servers no environment of its own (no TZ).
pub fn start_xinetd(config: &str, ready: (&str, u16)) -> Option<Inetd> {
    let xinetd = require_unpacked("xinetd", XINETD_UNPACKED, "NETLAB_XINETD")?;
    // `-dontfork`: in the foreground, so the guard's kill ends it.
    spawn(&xinetd, &["-dontfork", "-f"], config, ready)
}

/// Runs `program FLAGS... CONFIG` as the first process of a new network
/// namespace.
fn spawn(program: &Path, flags: &[&str], config: &str, ready: (&str, u16)) -> Option<Inetd> {
    let (Some(unshare), Some(nsenter), Some(_ip)) = (
        require_tool("unshare", "util-linux"),
        require_tool("nsenter", "util-linux"),
        require_tool("ip", "iproute2"),
    ) else {
        return None;
    };
    if !require_root("inetd's standard ports, in a network namespace of its own") {
        return None;
    }
    let config = write_config(config);
    let mut cmd = Command::new(unshare);
    // `exec`: inetd takes the shell's pid, the one the guard kills. TZ=UTC
    // makes its daytime line UTC, to compare with the clock.
    cmd.args(["-n", "sh", "-c"])
        .arg(format!(
            "ip link set lo up && ip addr add {ADDR}/24 dev lo && exec \"$0\" \"$@\""
        ))
        .arg(program)
        .args(flags)
        .arg(&config)
        .env("TZ", "UTC");
    let server = Inetd {
        proc: Proc::spawn(cmd),
        config,
        nsenter,
    };
    server.wait_ready(ready);
    Some(server)
}

impl Inetd {
    /// `program` run inside inetd's namespace (`nsenter --net`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(&self.nsenter);
        cmd.arg(format!("--net=/proc/{}/ns/net", self.proc.pid()))
            .arg("--")
            .arg(program);
        cmd
    }

    /// What inetd printed so far (`-d`: one line per entry and request).
    pub fn log(&self) -> Vec<String> {
        self.proc.stderr.all()
    }

    /// Waits until `addr` accepts (stream daytime for the built-ins: the
    /// last entry bound, see [`SERVICES`]), probing from inside the
    /// namespace with bash's `/dev/tcp`, up to the deadline; fails at once
    /// if inetd exits.
    fn wait_ready(&self, (host, port): (&str, u16)) {
        let deadline = Instant::now() + DEADLINE;
        let probe = format!("exec 3<>/dev/tcp/{host}/{port}");
        loop {
            let ok = self
                .command("bash")
                .args(["-c", &probe])
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return;
            }
            let log = self.log();
            // Exited, inetd stays a zombie (`Z`) until the guard reaps it.
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.proc.pid()));
            assert!(
                !stat.unwrap_or_default().contains(") Z"),
                "inetd exited: {log:#?}"
            );
            assert!(Instant::now() < deadline, "inetd never answered: {log:#?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Inetd {
    fn drop(&mut self) {
        // The servers it started that outlive their clients (a UDP `wait`
        // server until its --exit-idle) are in its namespace: killed with
        // it, found by that namespace, not by name.
        let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
        if let Some(own) = ns(&self.proc.pid().to_string()) {
            let pids: Vec<String> = std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
                .filter(|pid| ns(pid).as_ref() == Some(&own))
                .collect();
            if !pids.is_empty() {
                let _ = Command::new("kill").arg("-KILL").args(&pids).status();
            }
        }
        let _ = std::fs::remove_file(&self.config);
    }
}

/// inetd's configuration for its built-ins: every one on [`ADDR`], TCP and
/// UDP.
fn builtins() -> String {
    let mut text = String::new();
    for service in SERVICES {
        text += &format!("{ADDR}:{service} dgram udp wait root internal\n");
        text += &format!("{ADDR}:{service} stream tcp nowait root internal\n");
    }
    text
}

/// Writes `text` to a configuration file of this process's own.
fn write_config(text: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("netlab-inetd-{}-{n}.conf", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// The binary of `package`: `$VARIABLE`, or `scripts/test`'s unpacked copy
/// in the workspace's `target`. Missing: fails under CI, otherwise skips
/// loudly.
fn require_unpacked(package: &str, unpacked: &str, variable: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    // The including package's directory, or one above it: the workspace.
    let found = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(unpacked))
        .find(|path| path.is_file());
    if found.is_none() {
        let what = format!(
            "{package} is not unpacked at {unpacked} (`scripts/test` fetches it; \
             or set {variable})"
        );
        let test = current_test();
        assert!(
            !in_ci(),
            "{test}: {what}; CI=true, so a missing requirement is a failure"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: {what}; set CI=true to make this a failure"
        );
    }
    found
}
