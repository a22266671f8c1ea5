//! The lecture's option 2, client and server on two computers, on one
//! machine: two network namespaces of the test's own ("server" and
//! "client") joined by a veth pair (a virtual cable), each end named
//! `veth0`, with documentation-range addresses that no real network uses:
//!
//! | namespace | veth0 |
//! |---|---|
//! | server | 192.0.2.1/24, 2001:db8::1/64, fe80::1/64 |
//! | client | 192.0.2.2/24, 2001:db8::2/64, fe80::2/64 |
//!
//! IPv6 addresses are added with `nodad` (and no automatic link-local
//! address) so they are usable at once. Every command of docs/guide.md,
//! "On two computers", runs here as the guide shows it (port 55555 is
//! free in a namespace nobody else uses); each step says which.
//!
//! Namespaces need root: without it these tests say so and are skipped,
//! except under CI, where they fail. They are deleted when a test ends,
//! passed or failed (a Drop guard), and named after the test process and
//! a counter, so parallel tests and reruns never meet.

mod util;

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use util::*;

/// The guide's port.
const PORT: &str = "55555";

/// Two namespaces joined by a veth pair; deleted on drop.
struct TwoHosts {
    server: String,
    client: String,
}

impl TwoHosts {
    /// The two hosts, or `None` (the test is skipped) without `ip` or root.
    fn new() -> Option<TwoHosts> {
        require_tool("ip", "iproute2")?;
        if !require_root("network namespaces of its own (ip netns add)") {
            return None;
        }
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let hosts = TwoHosts {
            server: format!("netlab-s-{pid}-{n}"),
            client: format!("netlab-c-{pid}-{n}"),
        };
        // From here on, dropping `hosts` deletes whatever was made.
        ip(&["netns", "add", &hosts.server]);
        ip(&["netns", "add", &hosts.client]);
        ip(&[
            "-n",
            &hosts.server,
            "link",
            "add",
            "veth0",
            "type",
            "veth",
            "peer",
            "name",
            "veth0",
            "netns",
            &hosts.client,
        ]);
        for (ns, me) in [(&hosts.server, "1"), (&hosts.client, "2")] {
            // No automatic link-local address: it would be tentative
            // (DAD) for a moment; fe80::1 and fe80::2 are usable at once.
            ip(&["-n", ns, "link", "set", "veth0", "addrgenmode", "none"]);
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("192.0.2.{me}/24"),
                "dev",
                "veth0",
            ]);
            for v6 in [format!("2001:db8::{me}/64"), format!("fe80::{me}/64")] {
                ip(&["-n", ns, "addr", "add", &v6, "dev", "veth0", "nodad"]);
            }
            ip(&["-n", ns, "link", "set", "veth0", "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        // The link is "running" (has a carrier) a moment after both ends
        // are up: wait, so that every check sees one state.
        for ns in [&hosts.server, &hosts.client] {
            let deadline = std::time::Instant::now() + DEADLINE;
            while !operstate_up(ns) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "veth0 never ran in {ns}"
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        Some(hosts)
    }

    /// `COMMAND...` run inside namespace `ns` (`ip netns exec`).
    fn exec(ns: &str, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, program]);
        // The daytime server's clock is read as UTC by the checks.
        cmd.env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LOG")
            .env("TZ", "UTC");
        cmd
    }

    /// `netlab ARGS` on the server host, started.
    fn serve(&self, args: &[&str]) -> Proc {
        let mut cmd = Self::exec(&self.server, env!("CARGO_BIN_EXE_netlab"));
        cmd.arg("serve").args(args);
        Proc::spawn(cmd)
    }

    /// `netlab ARGS` on `ns`, run to the end.
    fn netlab(ns: &str, args: &[&str]) -> Output {
        let mut cmd = Self::exec(ns, env!("CARGO_BIN_EXE_netlab"));
        cmd.args(args);
        output_within_deadline(cmd)
    }

    /// `netlab ARGS` on the client host, with `stdin`.
    fn connect(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut cmd = assert_cmd::Command::new("ip");
        cmd.args(["netns", "exec", &self.client, env!("CARGO_BIN_EXE_netlab")])
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .timeout(DEADLINE)
            .write_stdin(stdin);
        cmd.output().unwrap()
    }
}

impl Drop for TwoHosts {
    fn drop(&mut self) {
        for ns in [&self.server, &self.client] {
            // Processes still inside keep it alive until they end; the
            // name (and with it the veth pair, once empty) goes now.
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Whether `veth0` in `ns` is up with a carrier (`operstate` `UP`).
fn operstate_up(ns: &str) -> bool {
    let out = Command::new("ip")
        .args(["-n", ns, "-j", "link", "show", "veth0"])
        .output()
        .unwrap();
    let links: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    links[0]["operstate"] == "UP"
}

/// `ip ARGS`, which must succeed.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits for a server's `Listening` and its `Reachable at` lines (as many
/// as `want`), and checks they are `want`, right after `Listening`.
fn assert_reachable(server: &Proc, want: &[&str]) {
    let lines = server.stdout.wait_for("the Reachable lines", |l| {
        l.iter().filter(|x| x.starts_with("Reachable at ")).count() >= want.len()
    });
    let listening = lines.iter().rposition(|l| l == "Listening").unwrap();
    let got: Vec<&str> = lines[listening + 1..].iter().map(String::as_str).collect();
    let want: Vec<String> = want.iter().map(|w| format!("Reachable at {w}")).collect();
    assert_eq!(got, want, "the server said: {lines:#?}");
}

/// What `netlab interfaces --json` and `ip -j addr` both say of each
/// interface: name, index, MAC, up, running, loopback, MTU and the addresses with
/// prefix length and scope.
fn from_netlab(json: &Value) -> BTreeSet<String> {
    let list = json.as_array().expect("a JSON array");
    list.iter()
        .map(|nic| {
            let addrs: BTreeSet<String> = nic["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}/{} {}", a["address"], a["prefix_len"], a["scope"]))
                .collect();
            format!(
                "{} {} {} up={} running={} lo={} mtu={} {addrs:?}",
                nic["index"],
                nic["name"],
                nic["mac"],
                nic["up"],
                nic["running"],
                nic["loopback"],
                nic["mtu"]
            )
        })
        .collect()
}

fn from_ip(json: &Value) -> BTreeSet<String> {
    let list = json.as_array().expect("a JSON array");
    list.iter()
        .map(|nic| {
            let flags: Vec<&str> = nic["flags"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let addrs: BTreeSet<String> = nic["addr_info"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}/{} {}", a["local"], a["prefixlen"], a["scope"]))
                .collect();
            format!(
                "{} {} {} up={} running={} lo={} mtu={} {addrs:?}",
                nic["ifindex"],
                nic["ifname"],
                nic["address"],
                flags.contains(&"UP"),
                // IFF_RUNNING is the kernel's "operationally up", which
                // `ip` shows as operstate (UNKNOWN for lo, which runs).
                nic["operstate"] == "UP" || nic["operstate"] == "UNKNOWN",
                flags.contains(&"LOOPBACK"),
                nic["mtu"]
            )
        })
        .collect()
}

/// `netlab interfaces --json` and `ip -j addr`, as run by `run`, agree.
fn assert_interfaces_match(run: impl Fn(&str, &[&str]) -> Output) {
    let ours = run(env!("CARGO_BIN_EXE_netlab"), &["interfaces", "--json"]);
    assert_clean_exit(&ours);
    let theirs = run("ip", &["-j", "addr"]);
    assert!(theirs.status.success(), "ip -j addr: {theirs:?}");
    let ours = from_netlab(&serde_json::from_slice(&ours.stdout).unwrap());
    let theirs = from_ip(&serde_json::from_slice(&theirs.stdout).unwrap());
    assert_eq!(ours, theirs);
}

#[test]
fn netlab_interfaces_in_each_namespace_says_what_ip_addr_says() {
    let Some(hosts) = TwoHosts::new() else {
        return;
    };
    for (ns, me) in [(&hosts.server, "1"), (&hosts.client, "2")] {
        assert_interfaces_match(|program, args| {
            let mut cmd = TwoHosts::exec(ns, program);
            cmd.args(args);
            output_within_deadline(cmd)
        });
        // The guide, "Find the server computer's address": `netlab
        // interfaces` (and `--json`, above), and `ip addr`.
        let table = text(&TwoHosts::netlab(ns, &["interfaces"]));
        let veth0 = table.lines().find(|l| l.contains("veth0")).unwrap();
        assert!(veth0.contains(&format!("192.0.2.{me}/24")), "{table}");
        assert!(veth0.contains("up,running"), "{table}");
        assert!(table.contains(&format!("2001:db8::{me}/64")), "{table}");
        let mut ip_addr = TwoHosts::exec(ns, "ip");
        ip_addr.arg("addr");
        let ip_addr = text(&output_within_deadline(ip_addr));
        assert!(
            ip_addr.contains(&format!("inet 192.0.2.{me}/24")),
            "{ip_addr}"
        );
    }
}

#[test]
fn this_hosts_interfaces_are_what_ip_addr_says() {
    if require_tool("ip", "iproute2").is_none() {
        return;
    }
    // Another program may add or remove an address between the two
    // snapshots: a few tries, each with both snapshots afresh.
    let run = |program: &str, args: &[&str]| {
        let mut cmd = Command::new(program);
        cmd.args(args);
        output_within_deadline(cmd)
    };
    for attempt in 1..=3 {
        let result = std::panic::catch_unwind(|| assert_interfaces_match(run));
        match result {
            Ok(()) => return,
            Err(e) if attempt == 3 => std::panic::resume_unwind(e),
            Err(_) => {}
        }
    }
}

/// Serves `protocol` (`--udp` in `transport`) on the server host, on all
/// interfaces and then on `--interface veth0`, and talks to it from the
/// client host at each of its addresses.
fn across_the_cable(protocol: &str, udp: bool) {
    let Some(hosts) = TwoHosts::new() else {
        return;
    };
    let transport: &[&str] = if udp { &["--udp"] } else { &[] };
    // The guide, "Start the server": `netlab serve daytime --port 55555`,
    // `netlab serve echo --port 55555`, `netlab serve daytime --port 55555
    // --udp` (all interfaces), then on one interface, `netlab serve echo
    // --interface veth0 --port 55555`; each with its Reachable lines.
    for bind in [&[][..], &["--interface", "veth0"][..]] {
        let mut args = vec![protocol];
        args.extend(bind);
        args.extend(["--port", PORT]);
        args.extend(transport);
        let server = hosts.serve(&args);
        assert_reachable(
            &server,
            &[
                "192.0.2.1:55555 (veth0)",
                "[2001:db8::1]:55555 (veth0)",
                "[fe80::1%veth0]:55555 (veth0)",
            ],
        );
        // The guide, "Connect from the other computer": `netlab connect
        // daytime 192.0.2.1 55555`, the same with 2001:db8::1 and with
        // fe80::1%veth0 (the client's own veth0), `echo hello | netlab
        // connect echo 192.0.2.1 55555`, `netlab connect daytime --udp
        // 192.0.2.1 55555`.
        for host in ["192.0.2.1", "2001:db8::1", "fe80::1%veth0"] {
            let mut args = vec!["connect", protocol];
            args.extend(transport);
            args.extend([host, PORT]);
            let sent = "hello\n";
            let out = hosts.connect(&args, sent.as_bytes());
            assert_clean_exit(&out);
            let reply = text(&out);
            match protocol {
                "echo" => assert_eq!(reply, sent, "{args:?}"),
                _ => assert_daytime_utc_now(&reply),
            }
        }
        // The guide: the log shows the client computer's address
        // (`Client IP addr and port: ('192.0.2.2', ...)`), of each family.
        let clients = ["'192.0.2.2'", "'2001:db8::2'", "'fe80::2"];
        server
            .stdout
            .wait_for("the client's three addresses", |lines| {
                let log = lines.join("\n");
                clients.iter().all(|client| log.contains(client))
            });
    }
}

#[test]
fn daytime_over_tcp_from_the_other_host_over_ipv4_and_ipv6() {
    across_the_cable("daytime", false);
}

#[test]
fn daytime_over_udp_from_the_other_host_over_ipv4_and_ipv6() {
    across_the_cable("daytime", true);
}

#[test]
fn echo_over_tcp_from_the_other_host_over_ipv4_and_ipv6() {
    across_the_cable("echo", false);
}

#[test]
fn echo_over_udp_from_the_other_host_over_ipv4_and_ipv6() {
    across_the_cable("echo", true);
}

#[test]
fn an_interface_server_listens_on_that_interface_only() {
    let Some(hosts) = TwoHosts::new() else {
        return;
    };
    // The guide: `netlab serve echo --interface veth0 --port 55555`, "then
    // 127.0.0.1 is not served".
    let server = hosts.serve(&["echo", "--interface", "veth0", "--port", PORT]);
    server.stdout.wait_line("Listening");
    for host in ["127.0.0.1", "::1"] {
        let out = TwoHosts::netlab(&hosts.server, &["connect", "echo", host, PORT]);
        assert_error(&out, 69);
    }
    // The guide: `netlab serve echo --interface veth0 -4 --port 55555`, the
    // interface's IPv4 address alone.
    drop(server);
    let server = hosts.serve(&["echo", "--interface", "veth0", "-4", "--port", PORT]);
    assert_reachable(&server, &["192.0.2.1:55555 (veth0)"]);
    let out = hosts.connect(&["connect", "echo", "2001:db8::1", PORT], b"x");
    assert_error(&out, 69);
}

#[test]
fn what_goes_wrong_between_two_hosts_says_so_in_one_line() {
    let Some(hosts) = TwoHosts::new() else {
        return;
    };
    // The guide, "connection refused": `netlab connect daytime 192.0.2.1
    // 55555` with nothing listening on the server host.
    let out = hosts.connect(&["connect", "daytime", "192.0.2.1", PORT], b"");
    assert_error(&out, 69);
    assert!(text(&out).is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("connection refused"));
    // The guide, "timed out": `netlab connect daytime 192.0.2.1 55555
    // --timeout 2` through a firewall that drops the packets. Here the
    // client's frames go to a MAC address nobody has, so they vanish as a
    // dropping firewall makes them vanish.
    ip(&[
        "-n",
        &hosts.client,
        "neigh",
        "replace",
        "192.0.2.1",
        "lladdr",
        "02:00:00:00:00:99",
        "dev",
        "veth0",
        "nud",
        "permanent",
    ]);
    let out = hosts.connect(
        &["connect", "daytime", "192.0.2.1", PORT, "--timeout", "2"],
        b"",
    );
    assert_error(&out, 75);
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));

    // An interface that is not there: 64, naming those that are.
    let out = TwoHosts::netlab(
        &hosts.server,
        &["serve", "echo", "--interface", "eth0", "--port", PORT],
    );
    assert_error(&out, 64);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"eth0\"") && stderr.contains("its interfaces are lo, veth0"),
        "{stderr}"
    );
    // An address of the other host: 69.
    let out = TwoHosts::netlab(
        &hosts.server,
        &["serve", "echo", "--host", "192.0.2.2", "--port", PORT],
    );
    assert_error(&out, 69);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("192.0.2.2 is not an address of this machine"),
        "{stderr}"
    );
    // An interface without addresses, then without IPv6 ones: 69.
    ip(&[
        "-n",
        &hosts.server,
        "link",
        "add",
        "veth1",
        "type",
        "veth",
        "peer",
        "name",
        "veth2",
    ]);
    ip(&[
        "-n",
        &hosts.server,
        "link",
        "set",
        "veth1",
        "addrgenmode",
        "none",
    ]);
    ip(&["-n", &hosts.server, "link", "set", "veth1", "up"]);
    let out = TwoHosts::netlab(
        &hosts.server,
        &["serve", "echo", "--interface", "veth1", "--port", PORT],
    );
    assert_error(&out, 69);
    assert!(String::from_utf8_lossy(&out.stderr).contains("veth1 has no IP address"));
    ip(&[
        "-n",
        &hosts.server,
        "addr",
        "add",
        "192.0.2.9/32",
        "dev",
        "veth1",
    ]);
    let out = TwoHosts::netlab(
        &hosts.server,
        &[
            "serve",
            "echo",
            "--interface",
            "veth1",
            "-6",
            "--port",
            PORT,
        ],
    );
    assert_error(&out, 69);
    assert!(String::from_utf8_lossy(&out.stderr).contains("veth1 has no IPv6 address"));
}
