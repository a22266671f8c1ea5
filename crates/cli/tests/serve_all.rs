//! `netlab serve all`: the five classic services from one process, by
//! port offset or from a TOML file that SIGHUP re-reads.

mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::time::Duration;

use util::{Proc, assert_error, connect_when_ready, netlab, output_within_deadline};

const STANDARD: [(&str, u16); 5] = [
    ("echo", 7),
    ("discard", 9),
    ("daytime", 13),
    ("chargen", 19),
    ("time", 37),
];

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn tcp_exchange(port: u16, send: &[u8], want: usize) -> Vec<u8> {
    let mut s = connect_when_ready(addr(port));
    s.write_all(send).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    s.take(want as u64).read_to_end(&mut got).unwrap();
    got
}

fn udp_exchange(port: u16, send: &[u8]) -> Vec<u8> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 1024];
    // UDP is lossy even on loopback under load: a few tries.
    for _ in 0..3 {
        s.send_to(send, addr(port)).unwrap();
        if let Ok(n) = s.recv(&mut buf) {
            return buf[..n].to_vec();
        }
    }
    panic!("no UDP reply from port {port}");
}

#[test]
fn every_service_on_its_offset_port_tcp_and_udp_with_one_shutdown() {
    let offset = util::free_offset(std::process::id());
    let mut cmd = netlab();
    cmd.args(["serve", "all", "--host", "127.0.0.1", "--port-offset"])
        .arg(offset.to_string());
    let mut server = Proc::spawn(cmd);
    let lines = server
        .stdout
        .wait_for("every service listening, or an exit", |l| {
            l.iter().filter(|x| x.ends_with(": Listening")).count() == 10
        });
    for (service, port) in STANDARD {
        for transport in ["tcp", "udp"] {
            let bound = format!(
                "{service}/{transport}: Bound server socket to port {}",
                offset + port
            );
            assert!(lines.contains(&bound), "{bound:?} in {lines:#?}");
        }
    }

    assert_eq!(tcp_exchange(offset + 7, b"hello", 5), b"hello");
    assert_eq!(udp_exchange(offset + 7, b"hello"), b"hello");
    assert_eq!(tcp_exchange(offset + 9, &[7u8; 100_000], 1), b"");
    let daytime = tcp_exchange(offset + 13, b"", 100);
    assert!(daytime.ends_with(b"\n"), "{daytime:?}");
    assert!(udp_exchange(offset + 13, b"").ends_with(b"\n"));
    let chargen = tcp_exchange(offset + 19, b"", 74);
    assert_eq!(&chargen[..], &ring_line(0)[..]);
    assert_eq!(udp_exchange(offset + 19, b"").len(), 74);
    assert_eq!(tcp_exchange(offset + 37, b"", 8).len(), 4);
    assert_eq!(udp_exchange(offset + 37, b"").len(), 4);

    // Every line carries its service.
    let lines = server.stdout.wait_line("echo/udp: Wrote to client: hello");
    assert!(lines.contains(&"chargen/tcp: Accepted connection".to_owned()));
    server.signal("TERM");
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}: {:?}", server.stderr.all());
    let lines = server.stdout.all();
    assert_eq!(
        lines.iter().filter(|l| *l == "Stopped").count(),
        1,
        "{lines:#?}"
    );
}

/// Line `n` of the chargen ring: 72 printable characters from `n`, CRLF.
fn ring_line(n: usize) -> Vec<u8> {
    let mut line: Vec<u8> = (0..72).map(|i| b' ' + ((n + i) % 95) as u8).collect();
    line.extend_from_slice(b"\r\n");
    line
}

#[test]
fn no_udp_serves_tcp_alone() {
    let offset = util::free_offset(std::process::id() ^ 0x5a5a);
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "all",
        "--host",
        "127.0.0.1",
        "--no-udp",
        "--port-offset",
    ])
    .arg(offset.to_string());
    let server = Proc::spawn(cmd);
    let lines = server.stdout.wait_for("five listening", |l| {
        l.iter().filter(|x| x.ends_with(": Listening")).count() == 5
    });
    assert!(lines.iter().all(|l| !l.contains("/udp")), "{lines:#?}");
    assert_eq!(tcp_exchange(offset + 7, b"x", 1), b"x");
}

/// Writes `text` to `path` at once (a reader never sees half a file).
fn write_config(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn config_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("netlab-serve-all-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The port on `NAME: Bound server socket to port N`, the last one said.
fn bound_port(lines: &[String], name: &str) -> u16 {
    let prefix = format!("{name}: Bound server socket to port ");
    lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {lines:#?}"))
        .parse()
        .unwrap()
}

#[test]
fn a_config_file_names_the_services_and_sighup_rereads_it() {
    let dir = config_dir("reload");
    let path = dir.join("netlab.toml");
    write_config(
        &path,
        "host = \"127.0.0.1\"\n\
         [[service]]\nservice = \"echo\"\nport = 0\ntransport = \"tcp\"\n\
         [[service]]\nservice = \"daytime\"\nport = 0\ntransport = \"udp\"\noptions = [\"--utc\"]\n",
    );
    let mut cmd = netlab();
    cmd.args(["serve", "all", "--config"]).arg(&path);
    let server = Proc::spawn(cmd);
    let lines = server.stdout.wait_for("two listening", |l| {
        l.iter().filter(|x| x.ends_with(": Listening")).count() == 2
    });
    let echo = bound_port(&lines, "echo/tcp");
    let daytime = bound_port(&lines, "daytime/udp");
    assert!(udp_exchange(daytime, b"").ends_with(b"\n"));

    // A connection open across the reload is served to its end.
    let mut early = connect_when_ready(addr(echo));
    early.write_all(b"before ").unwrap();

    // Echo stays (same port, never closed); daytime goes; time comes.
    write_config(
        &path,
        "host = \"127.0.0.1\"\n\
         [[service]]\nservice = \"echo\"\nport = 0\ntransport = \"tcp\"\n\
         [[service]]\nservice = \"time\"\nport = 0\ntransport = \"tcp\"\nname = \"clock\"\n",
    );
    server.signal("HUP");
    // Kept sockets are reported once the new services listen.
    let kept = format!("echo/tcp: Kept server socket on port {echo}");
    let lines = server.stdout.wait_line(&kept);
    assert!(lines.contains(&"clock: Listening".to_owned()), "{lines:#?}");
    let time = bound_port(&lines, "clock");
    assert_eq!(tcp_exchange(time, b"", 8).len(), 4);
    assert_eq!(tcp_exchange(echo, b"again", 5), b"again");
    early.write_all(b"and after").unwrap();
    early.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    early.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"before and after");
    // The daytime socket is closed once the old engine has drained.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let gone = (0..50).any(|_| {
        let _ = probe.send_to(b"", addr(daytime));
        let mut buf = [0u8; 64];
        probe.recv(&mut buf).is_err()
    });
    assert!(gone, "daytime still answers after the reload");

    // A broken file keeps the running services, and says so in one line.
    write_config(&path, "[[service]]\nservice = \"gopher\"\nport = 70\n");
    server.signal("HUP");
    let errors = server
        .stderr
        .wait_for("the reload error", |l| !l.is_empty());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("netlab serves no \"gopher\""),
        "{errors:?}"
    );
    assert!(
        errors[0].ends_with("(still serving the previous configuration)"),
        "{errors:?}"
    );
    assert_eq!(tcp_exchange(echo, b"still", 5), b"still");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mistakes_in_the_config_are_one_line_and_exit_78_or_66() {
    let dir = config_dir("mistakes");
    let cases: [(&str, &str); 5] = [
        (
            "[[service]]\nservice = \"echo\"\nport = 0\nport2 = 1\n",
            "line 4: unknown field `port2`",
        ),
        (
            "[[service]]\nservice = \"finger\"\nport = 0\n",
            "netlab serves no \"finger\"",
        ),
        (
            "[[service]]\nservice = \"echo\"\nport = 0\noptions = [\"--mode\", \"lines\"]\n",
            "echo/tcp: options",
        ),
        (
            "[[service]]\nservice = \"echo\"\nport = 0\noptions = [\"--threads\", \"2\"]\n",
            "--threads applies to every service",
        ),
        (
            "[[service]]\nservice = \"daytime\"\nport = 0\noptions = [\"--format\", \"%Q\"]\n",
            "format",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = dir.join(format!("{i}.toml"));
        write_config(&path, text);
        let mut cmd = netlab();
        cmd.args(["serve", "all", "--config"]).arg(&path);
        let out = output_within_deadline(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_error(&out, 78);
        assert!(stderr.contains(expected), "{text:?}: {stderr}");
    }
    let mut cmd = netlab();
    cmd.args(["serve", "all", "--config"])
        .arg(dir.join("missing.toml"));
    let out = output_within_deadline(cmd);
    assert_error(&out, 66);
    // --config and the flags it replaces do not mix.
    let mut cmd = netlab();
    cmd.args(["serve", "all", "--port-offset", "1000", "--config"])
        .arg(dir.join("0.toml"));
    assert_error(&output_within_deadline(cmd), 64);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_port_in_use_is_one_line_naming_the_service() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let offset = port - 13;
    let mut cmd = netlab();
    cmd.args([
        "serve",
        "all",
        "--host",
        "127.0.0.1",
        "--no-udp",
        "--port-offset",
    ])
    .arg(offset.to_string());
    let out = output_within_deadline(cmd);
    assert_error(&out, 69);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("daytime/tcp: binding"), "{stderr}");
}
