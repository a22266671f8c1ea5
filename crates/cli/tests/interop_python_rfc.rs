//! `netlab serve` against clients written straight from the RFCs in
//! Python (`tests/peers/rfc_clients.py`, standard library only, checked
//! against openbsd-inetd's built-ins too): every service, over TCP and
//! UDP, on 127.0.0.1. What each client checks is in its header; a client
//! prints `ok ...` and exits 0, or says why it failed and exits 1.

mod util;

use util::*;

/// Runs `rfc_clients.py SERVICE TRANSPORT 127.0.0.1 PORT EXTRA...` and
/// checks it succeeded; its result line.
fn rfc_client(service: &str, udp: bool, port: u16, extra: &[&str]) -> String {
    let transport = if udp { "udp" } else { "tcp" };
    let out = assert_cmd::Command::new("python3")
        .arg(peer("rfc_clients.py"))
        .args([service, transport, "127.0.0.1", &port.to_string()])
        .args(extra)
        .timeout(DEADLINE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{service} {transport}: {:?}: {stderr}",
        out.status
    );
    let prefix = format!("ok {service} {transport}: ");
    assert!(stdout.starts_with(&prefix), "{stdout:?}");
    stdout
}

/// `netlab serve SERVICE [--udp]` on 127.0.0.1 against the RFC client,
/// with the client's `extra` arguments each time (one run per entry);
/// the server must still be serving afterwards, without a panic.
fn against_netlab(service: &str, udp: bool, runs: &[&[&str]]) {
    let Some(_python) = require_tool("python3", "python3") else {
        return;
    };
    let mut args = vec![service, "--host", "127.0.0.1"];
    if udp {
        args.push("--udp");
    }
    let server = serve(&args);
    for extra in runs {
        rfc_client(service, udp, server.port, extra);
    }
    assert_still_serving(&server.proc);
}

fn assert_still_serving(server: &Proc) {
    let stderr = String::from_utf8_lossy(&server.stderr.bytes()).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let status = std::fs::read_to_string(format!("/proc/{}/stat", server.pid()));
    let state = status.unwrap_or_default();
    assert!(!state.contains(") Z"), "the server exited: {stderr}");
}

// ---- echo ----

#[test]
fn echo_tcp() {
    against_netlab("echo", false, &[&[]]);
}

#[test]
fn echo_udp() {
    against_netlab("echo", true, &[&[]]);
}

// ---- daytime ----

#[test]
fn daytime_tcp() {
    against_netlab("daytime", false, &[&[], &[]]);
}

#[test]
fn daytime_udp() {
    against_netlab("daytime", true, &[&[], &[]]);
}

// ---- time ----

#[test]
fn time_tcp() {
    against_netlab("time", false, &[&[], &[]]);
}

#[test]
fn time_udp() {
    against_netlab("time", true, &[&[], &[]]);
}

// ---- discard ----

#[test]
fn discard_tcp() {
    against_netlab(
        "discard",
        false,
        &[&["--bytes", "1048576"], &["--bytes", "0"]],
    );
}

#[test]
fn discard_udp() {
    against_netlab("discard", true, &[&[], &["--bytes", "0"]]);
}

// ---- chargen ----

/// The careful close, the rude abort (an RST), and the server is still
/// there for a third client.
#[test]
fn chargen_tcp_careful_close_and_rude_abort() {
    against_netlab(
        "chargen",
        false,
        &[
            &["--bytes", "100000"],
            &["--bytes", "100000", "--rst"],
            &["--bytes", "7400"],
        ],
    );
}

#[test]
fn chargen_udp() {
    against_netlab("chargen", true, &[&[], &[], &[]]);
}

// ---- serve all ----

/// The ports of `serve all --port-offset N`: N + these.
const ALL: [(&str, u16); 5] = [
    ("echo", 7),
    ("discard", 9),
    ("daytime", 13),
    ("chargen", 19),
    ("time", 37),
];

/// Every RFC client, TCP and UDP, against one `netlab serve all` process.
#[test]
fn every_client_against_one_serve_all() {
    let Some(_python) = require_tool("python3", "python3") else {
        return;
    };
    let (server, offset) = serve_all();
    for (service, port) in ALL {
        for udp in [false, true] {
            rfc_client(service, udp, offset + port, &[]);
        }
    }
    rfc_client("chargen", false, offset + 19, &["--rst"]);
    assert_still_serving(&server);
}

/// Starts `netlab serve all --host 127.0.0.1 --port-offset N` with an N
/// whose ten ports (TCP and UDP) were free a moment ago, and waits for its
/// last `Listening` line. Should another program take one of them first,
/// netlab exits with an error and another N is tried.
fn serve_all() -> (Proc, u16) {
    for attempt in 0..5 {
        let offset = util::free_offset(std::process::id() ^ attempt);
        let mut cmd = netlab();
        cmd.args(["serve", "all", "--host", "127.0.0.1", "--port-offset"])
            .arg(offset.to_string());
        let server = Proc::spawn(cmd);
        // Polled: readiness is on stdout, an error on stderr, and each
        // pipe's waits wake only for its own output.
        let deadline = std::time::Instant::now() + DEADLINE;
        let error = loop {
            let error = server.stderr.all();
            if !error.is_empty() {
                break error.join("\n");
            }
            if server
                .stdout
                .all()
                .iter()
                .any(|l| l == "time/udp: Listening")
            {
                return (server, offset);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "serve all never listened: {:#?}",
                server.stdout.all()
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(error.contains("in use"), "{error}");
    }
    panic!("no free port offset in 5 tries");
}
