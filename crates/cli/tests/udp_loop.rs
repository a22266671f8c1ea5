//! UDP reflection loops (CVE-1999-0103) die out: one spoofed datagram
//! between two `netlab serve echo --udp` processes (or from one to itself)
//! used to bounce forever, ~75,000 datagrams a second. The spoofing needs a
//! raw socket, so it runs as root in a network namespace of the test's own
//! (`unshare --net`), where only its loopback exists. Honest clients at
//! full speed are not throttled.

mod util;

use util::*;

/// Runs inside the namespace: brings up loopback, starts echo servers A, B,
/// C and E and a daytime server D, spoofs two datagrams from B to A, one
/// from C to itself and one from E to D, then prints the datagrams each
/// server answered one second later, and half a second after that:
/// `a b c d e a b c d e`.
const DRIVER: &str = r#"
import socket, struct, subprocess, sys, threading, time
netlab = sys.argv[1]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

counts = {}
def serve(name, protocol="echo"):
    p = subprocess.Popen([netlab, "serve", protocol, "--udp", "--host", "127.0.0.1", "--port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    for line in p.stdout:
        if line.startswith("Bound server socket to port "):
            port = int(line.split()[-1])
        if line.startswith("Listening"):
            break
    counts[name] = 0
    def count():
        for line in p.stdout:
            if line.startswith("Received datagram"):
                counts[name] += 1
    threading.Thread(target=count, daemon=True).start()
    return p, port

def spoof(src_port, dst_port, payload=b"round and round"):
    udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.sendto(ip + udp, ("127.0.0.1", 0))

servers = [serve("a"), serve("b"), serve("c"), serve("d", "daytime"), serve("e")]
(_, pa), (_, pb), (_, pc), (_, pd), (_, pe) = servers
# Two payloads at once between A and B: they alternate, so a guard that
# remembered only the last one would never see a repeat.
spoof(pb, pa, b"payload one")
spoof(pb, pa, b"payload two")
spoof(pc, pc)
spoof(pe, pd)
start = time.monotonic()
time.sleep(1.0)
first = dict(counts)
time.sleep(0.5)
names = ("a", "b", "c", "d", "e")
print(*[first[n] for n in names], *[counts[n] for n in names], flush=True)
for p, _ in servers:
    p.terminate()
    p.wait(timeout=10)
"#;

#[test]
fn a_spoofed_reflection_loop_dies_out_within_a_second() {
    let (Some(unshare), Some(_ip), Some(python)) = (
        require_tool("unshare", "util-linux"),
        require_tool("ip", "iproute2"),
        require_tool("python3", "python3"),
    ) else {
        return;
    };
    if !require_root("a raw socket to spoof a datagram, in a network namespace of its own") {
        return;
    }
    let out = assert_cmd::Command::new(unshare)
        .arg("--net")
        .arg(python)
        .args(["-c", DRIVER, env!("CARGO_BIN_EXE_netlab")])
        .timeout(DEADLINE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let numbers: Vec<u64> = stdout
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 10, "driver said {stdout:?}");
    let (first, later) = numbers.split_at(5);
    // Every loop between two servers did start (each answered at least
    // once) ...
    assert!([0, 1, 3, 4].iter().all(|&i| first[i] >= 1), "{stdout}");
    // ... but a datagram "from" a server's own socket is never answered.
    assert_eq!(first[2], 0, "c answered itself: {stdout}");
    // ... and was over within the first second: nothing more afterwards,
    // and only a few dozen bounces in all.
    assert_eq!(first, later, "still looping: {stdout}");
    assert!(later.iter().all(|&n| n < 100), "{stdout}");
}

/// Distinct requests at full speed, from one socket with many in flight and
/// from 16 sockets, are all answered, and so are a daytime client's empty
/// requests again and again from the same sockets: the loop guard looks
/// only for our own reply coming back, or the same non-empty payload again.
#[test]
fn honest_clients_at_full_speed_are_not_throttled() {
    // Quiet: the lecture's lines for 100,000 datagrams would be the
    // bottleneck. With --port 0, -q still prints the port.
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "echo",
        "--udp",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "-q",
    ]);
    let server = spawn_server(cmd);
    let port = server.port.to_string();
    for args in [&["-c", "1", "--depth", "16"][..], &["-c", "16"]] {
        let out = netlab_cmd()
            .args(["bench", "echo", "127.0.0.1", &port, "--udp"])
            .args(args)
            .args(["-d", "1", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["losses"], 0, "{args:?}: {report}");
        assert_eq!(report["mismatches"], 0, "{args:?}: {report}");
        assert!(
            report["ops"].as_u64().unwrap() > 5_000,
            "{args:?}: {report}"
        );
    }
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "daytime",
        "--udp",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "-q",
    ]);
    let daytime = spawn_server(cmd);
    let port = daytime.port.to_string();
    let out = netlab_cmd()
        .args([
            "bench",
            "daytime",
            "127.0.0.1",
            &port,
            "--udp",
            "-c",
            "8",
            "-d",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["losses"], 0, "daytime: {report}");
    assert!(report["ops"].as_u64().unwrap() > 5_000, "daytime: {report}");
}
