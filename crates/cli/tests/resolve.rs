//! `netlab resolve` end to end: the lecture's lines, reverse lookups, JSON,
//! exit codes, and `--server` against a real dnsmasq on loopback. Nothing
//! here needs the outside network.

#[path = "../../resolve/tests/util/dnsmasq.rs"]
mod dnsmasq;

use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use dnsmasq::{BIG_COUNT, Dnsmasq, Silent};
use predicates::prelude::*;
use serde_json::Value;

fn netlab() -> Command {
    let mut cmd = Command::cargo_bin("netlab").unwrap();
    cmd.timeout(Duration::from_secs(30));
    cmd
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The name `/etc/hosts` gives `::1`, if any. Read from the file, not
/// with `getent`, which would ask the name server when the file is silent.
fn hosts_file_name_of_ipv6_loopback() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|line| {
        let mut fields = line.split('#').next()?.split_whitespace();
        let addr: std::net::IpAddr = fields.next()?.parse().ok()?;
        (addr == std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST))
            .then(|| fields.next().map(str::to_owned))
            .flatten()
    })
}

/// `netlab ARGS` inside a new, empty network namespace (`unshare -n`, or
/// `unshare -rn` without root), where any query the system resolver sends
/// cannot leave the machine; `None` where namespaces are not allowed.
fn netlab_in_private_network(args: &[&str]) -> Option<std::process::Output> {
    for flags in [&["-n"][..], &["-r", "-n"][..]] {
        let probe = StdCommand::new("unshare").args(flags).arg("true").output();
        if !probe.is_ok_and(|o| o.status.success()) {
            continue;
        }
        let output = StdCommand::new("unshare")
            .args(flags)
            .arg(env!("CARGO_BIN_EXE_netlab"))
            .args(args)
            .output()
            .ok()?;
        return Some(output);
    }
    None
}

// ---- the system resolver ----

#[test]
fn localhost_prints_the_lectures_pair() {
    netlab()
        .args(["resolve", "localhost"])
        .assert()
        .success()
        .stdout("Host name: localhost\nIP address: 127.0.0.1\n")
        .stderr("");
}

#[test]
fn an_address_is_looked_up_in_reverse() {
    netlab()
        .args(["resolve", "127.0.0.1"])
        .assert()
        .success()
        .stdout("IP address: 127.0.0.1\nHost name: localhost\n");
}

#[test]
fn ipv6_loopback_reverse_agrees_with_the_hosts_file() {
    match hosts_file_name_of_ipv6_loopback() {
        Some(name) => {
            let output = netlab().args(["resolve", "::1"]).output().unwrap();
            assert_eq!(output.status.code(), Some(0));
            assert_eq!(
                stdout_of(&output),
                format!("IP address: ::1\nHost name: {name}\n")
            );
        }
        None => {
            // /etc/hosts does not name ::1, so glibc would ask the name
            // server: only do that where the query cannot leave.
            let Some(output) = netlab_in_private_network(&["resolve", "::1"]) else {
                eprintln!("note: no network namespace available; reverse ::1 not run");
                return;
            };
            assert!(matches!(output.status.code(), Some(68 | 75)), "{output:?}");
            assert_eq!(stdout_of(&output), "");
            let stderr = stderr_of(&output);
            assert!(stderr.starts_with("netlab: resolving ::1: "), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
    }
}

#[test]
fn unknown_name_is_one_line_on_stderr_and_68() {
    let output = netlab()
        .args(["resolve", "nonexistent.invalid"])
        .output()
        .unwrap();
    // 68 no such host; 75 where no resolver can be reached at all.
    let code = output.status.code();
    assert!(matches!(code, Some(68 | 75)), "{output:?}");
    assert_eq!(stdout_of(&output), "");
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let want = if code == Some(68) {
        "netlab: resolving nonexistent.invalid: no such host\n"
    } else {
        "netlab: resolving nonexistent.invalid: temporary failure, try again\n"
    };
    assert_eq!(stderr, want);
}

#[test]
fn other_names_are_still_printed_around_a_failure() {
    let output = netlab()
        .args(["resolve", "localhost", "nonexistent.invalid", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(matches!(output.status.code(), Some(68 | 75)), "{output:?}");
    assert_eq!(
        stdout_of(&output),
        "Host name: localhost\nIP address: 127.0.0.1\n\
         IP address: 127.0.0.1\nHost name: localhost\n"
    );
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("nonexistent.invalid"));
}

#[test]
fn all_gives_the_canonical_name_and_each_address_once() {
    let output = netlab()
        .args(["resolve", "--all", "localhost"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = stdout_of(&output);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("Host name: localhost"));
    assert_eq!(lines.next(), Some("Canonical name: localhost"));
    let addresses: Vec<&str> = lines
        .map(|l| l.strip_prefix("IP address: ").expect(l))
        .collect();
    assert!(addresses.contains(&"127.0.0.1"), "{stdout}");
    let mut unique = addresses.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), addresses.len(), "{stdout}");
    for a in addresses {
        assert!(a.parse::<std::net::IpAddr>().unwrap().is_loopback(), "{a}");
    }
}

#[test]
fn many_names_come_out_in_argument_order() {
    let mut args = vec!["resolve".to_owned(), "--jobs".to_owned(), "4".to_owned()];
    let mut want = String::new();
    for i in 0..24 {
        if i % 2 == 0 {
            args.push("localhost".to_owned());
            want.push_str("Host name: localhost\nIP address: 127.0.0.1\n");
        } else {
            args.push("127.0.0.1".to_owned());
            want.push_str("IP address: 127.0.0.1\nHost name: localhost\n");
        }
    }
    netlab().args(&args).assert().success().stdout(want);
}

#[test]
fn json_is_one_document_with_results_and_errors() {
    let output = netlab()
        .args([
            "resolve",
            "--json",
            "localhost",
            "nonexistent.invalid",
            "127.0.0.1",
        ])
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    assert!(code == 68 || code == 75, "{output:?}");
    let doc: Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["resolver"]["type"], "system");
    assert_eq!(doc["exit_code"], code);
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["query"], "localhost");
    assert_eq!(results[0]["type"], "name");
    assert_eq!(results[0]["canonical_name"], "localhost");
    assert_eq!(results[0]["addresses"][0]["address"], "127.0.0.1");
    assert_eq!(results[0]["addresses"][0]["family"], "ipv4");
    assert_eq!(results[1]["query"], "nonexistent.invalid");
    assert_eq!(results[1]["error"]["exit_code"], code);
    assert!(
        results[1]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("resolving nonexistent.invalid: ")
    );
    assert_eq!(results[2]["type"], "address");
    assert_eq!(results[2]["host_names"][0], "localhost");
    // Errors still go to stderr, one line each.
    assert_eq!(stderr_of(&output).lines().count(), 1);
}

#[test]
fn usage_errors_are_64() {
    for args in [
        &["resolve"][..],
        &["resolve", "-4", "-6", "localhost"],
        &["resolve", "--server", "not-an-address", "localhost"],
        &["resolve", "--server", "127.0.0.1:70000", "localhost"],
        &["resolve", "--timeout", "1", "localhost"],
        &[
            "resolve",
            "--server",
            "127.0.0.1",
            "--timeout",
            "0",
            "localhost",
        ],
        &["resolve", "--jobs", "0", "localhost"],
    ] {
        let output = netlab().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(64), "{args:?}: {output:?}");
        assert_eq!(stdout_of(&output), "", "{args:?}");
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("netlab: "), "{args:?}: {stderr}");
    }
}

// ---- --server, against dnsmasq on loopback ----

fn at(dns: &Dnsmasq) -> String {
    dns.addr().to_string()
}

#[test]
fn server_a_record_prints_the_lectures_pair() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    netlab()
        .args(["resolve", "--server", &at(&dns), "www.netlab.test"])
        .assert()
        .success()
        .stdout("Host name: www.netlab.test\nIP address: 192.0.2.10\n");
}

#[test]
fn server_aaaa_record() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    netlab()
        .args(["resolve", "-6", "--server", &at(&dns), "www.netlab.test"])
        .assert()
        .success()
        .stdout("Host name: www.netlab.test\nIP address: 2001:db8::10\n");
}

#[test]
fn server_all_follows_the_cname() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    netlab()
        .args([
            "resolve",
            "--all",
            "--server",
            &at(&dns),
            "alias.netlab.test",
        ])
        .assert()
        .success()
        .stdout(
            "Host name: alias.netlab.test\nCanonical name: www.netlab.test\n\
             IP address: 192.0.2.10\nIP address: 2001:db8::10\n",
        );
}

#[test]
fn server_ptr_records() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    netlab()
        .args([
            "resolve",
            "--server",
            &at(&dns),
            "192.0.2.10",
            "2001:db8::10",
        ])
        .assert()
        .success()
        .stdout(
            "IP address: 192.0.2.10\nHost name: www.netlab.test\n\
             IP address: 2001:db8::10\nHost name: www.netlab.test\n",
        );
}

#[test]
fn server_nxdomain_is_exactly_68_and_the_rest_still_prints() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    netlab()
        .args([
            "resolve",
            "--server",
            &at(&dns),
            "missing.netlab.test",
            "www.netlab.test",
        ])
        .assert()
        .code(68)
        .stdout("Host name: www.netlab.test\nIP address: 192.0.2.10\n")
        .stderr(format!(
            "netlab: resolving missing.netlab.test at {}: no such host\n",
            dns.addr()
        ));
}

#[test]
fn server_truncated_answer_comes_over_tcp() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let output = netlab()
        .args([
            "resolve",
            "--all",
            "-4",
            "--server",
            &at(&dns),
            "big.netlab.test",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = stdout_of(&output);
    let count = stdout
        .lines()
        .filter(|l| l.starts_with("IP address: 192.0.2."))
        .count();
    assert_eq!(count, usize::from(BIG_COUNT), "{stdout}");
}

#[test]
fn server_json() {
    let Some(dns) = Dnsmasq::start() else {
        return;
    };
    let output = netlab()
        .args([
            "resolve",
            "--json",
            "--all",
            "--server",
            &at(&dns),
            "www.netlab.test",
            "missing.netlab.test",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(68));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["resolver"]["type"], "dns_server");
    assert_eq!(doc["resolver"]["address"], at(&dns));
    let www = &doc["results"][0];
    assert_eq!(www["addresses"][0]["address"], "192.0.2.10");
    assert_eq!(www["addresses"][1]["address"], "2001:db8::10");
    assert_eq!(www["addresses"][1]["family"], "ipv6");
    assert_eq!(doc["results"][1]["error"]["kind"], "not_found");
}

#[test]
fn silent_server_times_out_with_75_quickly() {
    let silent = Silent::bind();
    let started = Instant::now();
    netlab()
        .args([
            "resolve",
            "--server",
            &silent.addr().to_string(),
            "--timeout",
            "0.3",
            "www.netlab.test",
        ])
        .assert()
        .code(75)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "netlab: resolving www.netlab.test at {}: timed out after 0.6 s (2 tries)",
            silent.addr()
        )));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(silent.received(), 2);
}
