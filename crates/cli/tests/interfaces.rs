//! `netlab interfaces` on this host, and `netlab serve`'s `--interface`
//! and "Reachable at" lines, with traffic to loopback only. What another
//! host sees is tests/two_hosts.rs, in network namespaces.

mod util;

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;
use util::*;

/// This host's interfaces, as `netlab interfaces --json` gives them.
fn interfaces() -> Vec<Value> {
    let out = netlab_cmd()
        .args(["interfaces", "--json"])
        .output()
        .unwrap();
    assert_clean_exit(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json.as_array().unwrap().clone()
}

fn loopback() -> Value {
    interfaces()
        .into_iter()
        .find(|nic| nic["loopback"] == true)
        .expect("a loopback interface")
}

#[test]
fn the_table_shows_loopback_with_its_address() {
    let out = netlab_cmd().arg("interfaces").output().unwrap();
    assert_clean_exit(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    for column in ["INDEX", "NAME", "STATE", "MAC", "MTU", "ADDRESS", "SCOPE"] {
        assert!(header.contains(column), "{header}");
    }
    let lo = loopback();
    let row = text
        .lines()
        .find(|l| l.split_whitespace().nth(1) == lo["name"].as_str())
        .unwrap_or_else(|| panic!("no row for loopback in {text}"));
    assert!(row.contains("loopback"), "{row}");
    assert!(
        text.contains("127.0.0.1/8") && text.contains("host"),
        "{text}"
    );
}

#[test]
fn json_has_every_field_of_every_interface() {
    let all = interfaces();
    assert!(!all.is_empty());
    for nic in &all {
        for field in [
            "name",
            "index",
            "mac",
            "up",
            "running",
            "loopback",
            "mtu",
            "addresses",
        ] {
            assert!(nic.get(field).is_some(), "no {field} in {nic}");
        }
        for addr in nic["addresses"].as_array().unwrap() {
            let ip: IpAddr = addr["address"].as_str().unwrap().parse().unwrap();
            let family = if ip.is_ipv4() { "ipv4" } else { "ipv6" };
            assert_eq!(addr["family"], family, "{addr}");
            assert!(addr["prefix_len"].as_u64().unwrap() <= 128, "{addr}");
            assert!(["host", "link", "global"].contains(&addr["scope"].as_str().unwrap()));
        }
    }
    let lo = loopback();
    assert_eq!(lo["up"], true);
    assert!(
        lo["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["address"] == "127.0.0.1" && a["prefix_len"] == 8 && a["scope"] == "host")
    );
}

#[test]
fn one_interface_by_name_and_an_unknown_one_lists_the_others() {
    let lo = loopback();
    let name = lo["name"].as_str().unwrap();
    let out = netlab_cmd()
        .args(["interfaces", "--json", name])
        .output()
        .unwrap();
    assert_clean_exit(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["name"], name);

    let out = netlab_cmd()
        .args(["interfaces", "no-such-if0"])
        .output()
        .unwrap();
    assert_error(&out, 64);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"no-such-if0\""), "{stderr}");
    assert!(
        stderr.contains(name),
        "the line lists the interfaces: {stderr}"
    );
    // serve --interface says the same.
    let out = netlab_cmd()
        .args(["serve", "echo", "--interface", "no-such-if0", "--port", "0"])
        .output()
        .unwrap();
    assert_error(&out, 64);
    assert!(String::from_utf8_lossy(&out.stderr).contains(name));
}

/// The lines `--port 0` servers print up to `until`.
fn lines_until(server: &NetlabServer, until: &str) -> Vec<String> {
    server.proc.stdout.wait_line(until)
}

#[test]
fn serving_on_loopback_binds_each_of_its_addresses_on_one_port_and_announces_none() {
    let lo = loopback();
    let name = lo["name"].as_str().unwrap();
    let addrs: Vec<IpAddr> = lo["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap().parse().unwrap())
        .collect();
    let server = serve(&["echo", "--interface", name]);
    for ip in &addrs {
        let mut stream = connect_when_ready(SocketAddr::new(*ip, server.port));
        use std::io::{Read, Write};
        stream.write_all(b"ping").unwrap();
        let mut back = [0; 4];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"ping", "via {ip}");
    }
    let lines = lines_until(&server, "Accepted connection");
    let bound = format!("Bound server socket to port {}", server.port);
    assert_eq!(
        lines.iter().filter(|l| **l == bound).count(),
        addrs.len(),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("Reachable at")),
        "loopback is for this host only: {lines:#?}"
    );
}

#[test]
fn one_host_address_announces_nothing_more() {
    let server = serve(&["echo", "--host", "127.0.0.1"]);
    connect_when_ready(SocketAddr::from(([127, 0, 0, 1], server.port)));
    let lines = lines_until(&server, "Accepted connection");
    assert!(
        !lines.iter().any(|l| l.starts_with("Reachable")),
        "{lines:#?}"
    );
}

/// What the server bound to every interface must say: every address of
/// every interface that is up, but loopback ones.
fn expected_reachable(port: u16) -> Vec<String> {
    let mut want = Vec::new();
    for nic in interfaces() {
        if nic["up"] != true || nic["loopback"] == true {
            continue;
        }
        let name = nic["name"].as_str().unwrap();
        for addr in nic["addresses"].as_array().unwrap() {
            let ip = addr["address"].as_str().unwrap();
            let at = match addr["scope"].as_str().unwrap() {
                "host" => continue,
                "link" if ip.contains(':') => format!("[{ip}%{name}]:{port}"),
                _ if ip.contains(':') => format!("[{ip}]:{port}"),
                _ => format!("{ip}:{port}"),
            };
            want.push(format!("Reachable at {at} ({name})"));
        }
    }
    want
}

#[test]
fn all_interfaces_announce_where_other_computers_reach_it_after_listening() {
    for udp in [false, true] {
        let args: &[&str] = if udp {
            &["daytime", "--udp"]
        } else {
            &["daytime"]
        };
        let server = serve(args);
        let want = expected_reachable(server.port);
        // A client (on loopback) after them: the lines come before it.
        let lines = if udp {
            let out = netlab_cmd()
                .args(["connect", "daytime", "--udp", "127.0.0.1"])
                .arg(server.port.to_string())
                .output()
                .unwrap();
            assert_clean_exit(&out);
            lines_until(&server, "Received datagram")
        } else {
            connect_when_ready(SocketAddr::from(([127, 0, 0, 1], server.port)));
            lines_until(&server, "Accepted connection")
        };
        let listening = lines.iter().position(|l| l == "Listening").unwrap();
        let first_client = if udp {
            "Received datagram"
        } else {
            "Accepted connection"
        };
        let client = lines.iter().position(|l| l == first_client).unwrap();
        assert_eq!(lines[listening + 1..client], want, "{lines:#?}");
    }
}

#[test]
fn the_interface_options_are_checked_before_anything_is_bound() {
    for (args, code) in [
        (&["--interface", "lo", "--host", "127.0.0.1"][..], 64),
        (&["-4"][..], 64),
        (&["--interface", "lo", "-4", "-6"][..], 64),
    ] {
        let out = netlab_cmd()
            .args(["serve", "echo", "--port", "0"])
            .args(args)
            .output()
            .unwrap();
        assert_error(&out, code);
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn serve_all_refuses_an_interface_in_its_file() {
    let dir = std::env::temp_dir().join(format!("netlab-interfaces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("serve.toml");
    std::fs::write(
        &file,
        "[[service]]\nservice = \"echo\"\nport = 0\noptions = [\"--interface\", \"lo\"]\n",
    )
    .unwrap();
    let out = netlab_cmd()
        .args(["serve", "all", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_error(&out, 78);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--interface is for"));
}
