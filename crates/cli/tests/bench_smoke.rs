//! A short, bounded smoke run of `netlab bench` against `netlab serve`:
//! every workload completes requests and every reply verifies. This checks
//! correctness, not speed (CI asserts no figures).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;

/// A `netlab serve` child, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `netlab serve <args> --host 127.0.0.1 --port 0` and learns the
/// port from its `Bound server socket to port N` line (within 10 s). The
/// rest of its output is drained so the server never blocks on a full pipe.
fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(cargo_bin("netlab"))
        .arg("serve")
        .args(args)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        while lines.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(port) = line.trim().strip_prefix("Bound server socket to port ") {
                let _ = tx.send(port.parse::<u16>().unwrap());
                break;
            }
            line.clear();
        }
        let _ = std::io::copy(&mut lines.into_inner(), &mut std::io::sink());
    });
    let port = rx.recv_timeout(Duration::from_secs(10));
    let mut server = Server { child, port: 0 };
    server.port = port.expect("netlab serve printed no 'Bound server socket to port' line in 10 s");
    server
}

/// Runs `netlab bench <args> --json` and returns the parsed report,
/// asserting success.
fn bench(args: &[String]) -> serde_json::Value {
    let out = Command::new(cargo_bin("netlab"))
        .arg("bench")
        .args(args)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "netlab bench {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "--json prints one line: {text}");
    serde_json::from_str(&text).unwrap()
}

fn args(list: &[&str], port: u16) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.insert(2, port.to_string());
    v
}

fn assert_clean(report: &serde_json::Value) {
    assert!(report["ops"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["mismatches"], 0, "{report}");
}

#[test]
fn echo_request_response_and_bulk_verify() {
    let server = serve(&["echo"]);
    let pid = server.child.id().to_string();
    let mut rr = args(
        &[
            "echo",
            "127.0.0.1",
            "--connections",
            "4",
            "--size",
            "64",
            "--duration",
            "1",
        ],
        server.port,
    );
    rr.extend(["--server-pid".to_string(), pid]);
    let report = bench(&rr);
    assert_clean(&report);
    assert_eq!(report["workload"], "echo");
    assert!(report["server"]["cpu_us"].as_f64().is_some(), "{report}");

    let bulk = args(
        &["echo", "127.0.0.1", "--connections", "2", "--bulk", "4M"],
        server.port,
    );
    let report = bench(&bulk);
    assert_clean(&report);
    assert_eq!(report["bytes"], 2 * 4 * 1024 * 1024);
}

#[test]
fn daytime_verifies() {
    let server = serve(&["daytime"]);
    let report = bench(&args(
        &[
            "daytime",
            "127.0.0.1",
            "--connections",
            "4",
            "--duration",
            "1",
        ],
        server.port,
    ));
    assert_clean(&report);
    assert_eq!(report["op"], "connection");
}

#[test]
fn udp_echo_verifies() {
    let server = serve(&["echo", "--udp"]);
    let report = bench(&args(
        &[
            "echo",
            "127.0.0.1",
            "--udp",
            "--connections",
            "2",
            "--duration",
            "0.5",
        ],
        server.port,
    ));
    assert!(report["ops"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["mismatches"], 0, "{report}");
}

#[test]
fn a_closed_port_exits_69() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(cargo_bin("netlab"))
        .args([
            "bench",
            "echo",
            "127.0.0.1",
            &port.to_string(),
            "--duration",
            "0.2",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    assert!(out.stdout.is_empty());
    let mut err = String::new();
    out.stderr.as_slice().read_to_string(&mut err).unwrap();
    assert!(err.starts_with("netlab: connecting to 127.0.0.1:"), "{err}");
}

#[test]
fn discard_and_chargen_streams_verify() {
    let server = serve(&["discard", "--quiet"]);
    let report = bench(&args(
        &[
            "discard",
            "127.0.0.1",
            "--connections",
            "2",
            "--bytes",
            "4M",
        ],
        server.port,
    ));
    assert_clean(&report);
    assert_eq!(report["workload"], "discard");
    assert_eq!(report["ops"], 2);
    assert_eq!(report["bytes"], 2 * 4 * 1024 * 1024);

    let server = serve(&["chargen"]);
    let pid = server.child.id().to_string();
    let mut run = args(
        &[
            "chargen",
            "127.0.0.1",
            "--connections",
            "3",
            "--bytes",
            "2M",
        ],
        server.port,
    );
    run.extend(["--server-pid".to_string(), pid]);
    let report = bench(&run);
    assert_clean(&report);
    assert_eq!(report["workload"], "chargen");
    assert_eq!(report["ops"], 3);
    assert_eq!(report["bytes"], 3 * 2 * 1024 * 1024);
    assert_eq!(report["cpu_unit"], "GB");
}

#[test]
fn a_chargen_server_sending_a_wrong_byte_exits_65() {
    // One connection's worth of the pattern with byte 5000 changed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut stream = vec![0u8; 1 << 20];
            chargen::Generator::new().fill(&mut stream);
            stream[5000] ^= 0x01;
            // The client hangs up at the wrong byte: the rest may fail.
            let _ = std::io::Write::write_all(&mut conn, &stream);
        }
    });
    let out = Command::new(cargo_bin("netlab"))
        .args([
            "bench",
            "chargen",
            "127.0.0.1",
            &port.to_string(),
            "--connections",
            "1",
            "--bytes",
            "100K",
            "--timeout",
            "5",
            "--json",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["mismatches"], 1, "{report}");
    assert!(
        stderr.starts_with("netlab: 1 stream did not follow the chargen pattern"),
        "{stderr}"
    );
}
