//! Interop in both directions with two real peers, socat and ncat (Debian
//! packages `socat` and `ncat`; every test asks for its tool with
//! `require_tool`): their clients against `netlab serve`, and `netlab
//! connect` against servers they run. Everything is byte-exact, with
//! binary data holding all 256 byte values, over TCP and UDP, and only on
//! 127.0.0.1.
//!
//! Quirks of the tools (socat 1.7.4, ncat 7.93 as in Debian 12) that shape
//! these tests:
//!
//! - socat, at end-of-file on one side, half-closes the other and then
//!   waits at most `-t` seconds (default 0.5) for the other direction to
//!   end. It exits as soon as it does; `-t 10` only makes sure a loaded
//!   machine cannot cut the echo short. `-u` (one direction) exits at the
//!   first end-of-file, right for daytime.
//! - ncat as a TCP client half-closes (`shutdown SHUT_WR`) at end of stdin
//!   and reads on until the server closes: no flag is needed (not
//!   `--no-shutdown`, which keeps the write side open). `--recv-only`
//!   never reads stdin, right for daytime.
//! - ncat as a UDP client exits at end of stdin without waiting for the
//!   reply; socat waits only `-t`. The UDP client tests therefore keep
//!   stdin open until the reply is in.
//! - ncat's `--exec` server (7.93) stops relaying the child's output when
//!   the client half-closes (nmap/nmap#962, fixed in 7.96), and its relay
//!   writes to the child blocking, so a stream bigger than the pipes
//!   deadlocks inside ncat. The test against `ncat --exec /bin/cat` sends
//!   less than one pipe's worth and closes its input only after the whole
//!   echo is back.
//! - socat's addresses are limited in length (a `printf` of 300 escaped
//!   bytes is refused), so the daytime servers' `printf` takes its format
//!   from the environment.

mod util;

use std::path::Path;
use std::process::Command;

use util::*;

/// What the daytime servers run by socat and ncat send: a NIST-like reply
/// (blank first line, CR LF) and then every byte value, non-UTF-8 included.
fn daytime_reply() -> Vec<u8> {
    let mut reply = b"\n61041 25-12-01 03:50:00 00 0 0 416.0 UTC(NIST) * \r\n".to_vec();
    reply.extend(0..=255u8);
    reply
}

/// `bytes` as a `printf` format of octal escapes only (`%` too is `\045`,
/// printed as itself), for the daytime servers' shell.
fn printf_format(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:03o}")).collect()
}

/// The environment variable holding the daytime servers' `printf` format.
const REPLY_VAR: &str = "NETLAB_TEST_DAYTIME_REPLY";

// ---- socat and ncat clients against netlab servers ----

#[test]
fn socat_echo_client_gets_a_mebibyte_back_byte_exact() {
    let Some(socat) = require_tool("socat", "socat") else {
        return;
    };
    echo_client_gets_a_mebibyte_back(&socat, |port| {
        vec![
            "-t".into(),
            "10".into(),
            "-".into(),
            format!("TCP:127.0.0.1:{port}"),
        ]
    });
}

#[test]
fn ncat_echo_client_gets_a_mebibyte_back_byte_exact() {
    let Some(ncat) = require_tool("ncat", "ncat") else {
        return;
    };
    echo_client_gets_a_mebibyte_back(&ncat, |port| vec!["127.0.0.1".into(), port.to_string()]);
}

/// `program ARGS(port)` given 1 MiB of random bytes against `netlab serve
/// echo` prints exactly those bytes and exits cleanly.
fn echo_client_gets_a_mebibyte_back(program: &Path, args: impl Fn(u16) -> Vec<String>) {
    let server = serve(&["echo", "--host", "127.0.0.1"]);
    let data = random_bytes(1 << 20, 0x50CA7);
    let out = assert_cmd::Command::new(program)
        .args(args(server.port))
        .timeout(DEADLINE)
        .write_stdin(data.clone())
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_same_bytes(&out.stdout, &data);
}

#[test]
fn socat_daytime_client_prints_the_netlab_utc_line() {
    let Some(socat) = require_tool("socat", "socat") else {
        return;
    };
    daytime_client_prints_the_utc_line(&socat, |port| {
        vec![
            "-u".into(),
            format!("TCP:127.0.0.1:{port}"),
            "STDOUT".into(),
        ]
    });
}

#[test]
fn ncat_daytime_client_prints_the_netlab_utc_line() {
    let Some(ncat) = require_tool("ncat", "ncat") else {
        return;
    };
    daytime_client_prints_the_utc_line(&ncat, |port| {
        vec!["--recv-only".into(), "127.0.0.1".into(), port.to_string()]
    });
}

/// `program ARGS(port)` against `netlab serve daytime --utc` prints one
/// lecture daytime line for now.
fn daytime_client_prints_the_utc_line(program: &Path, args: impl Fn(u16) -> Vec<String>) {
    let server = serve(&["daytime", "--host", "127.0.0.1", "--utc"]);
    let out = assert_cmd::Command::new(program)
        .args(args(server.port))
        .timeout(DEADLINE)
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_daytime_utc_now(&String::from_utf8(out.stdout).unwrap());
    server.proc.stdout.wait_line("Accepted connection");
}

/// One datagram of 1000 random bytes (one write to socat's stdin, so one
/// read, so one datagram) comes back whole from `netlab serve echo --udp`.
#[test]
fn socat_udp_client_gets_its_datagram_back() {
    let Some(socat) = require_tool("socat", "socat") else {
        return;
    };
    let server = serve(&["echo", "--host", "127.0.0.1", "--udp"]);
    let mut cmd = Command::new(socat);
    cmd.args(["-", &format!("UDP:127.0.0.1:{}", server.port)]);
    udp_client_round_trip(cmd, &random_bytes(1000, 0x5D6));
    assert_one_datagram_of_1000_bytes(&server);
}

/// The same with `ncat -u`.
#[test]
fn ncat_udp_client_gets_its_datagram_back() {
    let Some(ncat) = require_tool("ncat", "ncat") else {
        return;
    };
    let server = serve(&["echo", "--host", "127.0.0.1", "--udp"]);
    let mut cmd = Command::new(ncat);
    cmd.args(["-u", "127.0.0.1", &server.port.to_string()]);
    udp_client_round_trip(cmd, &random_bytes(1000, 0x2C47));
    assert_one_datagram_of_1000_bytes(&server);
}

/// The server's log shows the 1000 bytes arrived as one datagram (its data
/// line gives a datagram's total size), and nothing was refused.
fn assert_one_datagram_of_1000_bytes(server: &NetlabServer) {
    let lines = server.proc.stdout.wait_for("the 1000-byte datagram", |l| {
        l.iter()
            .any(|x| x.starts_with("Read from client: ") && x.ends_with("... (1000 bytes)"))
    });
    assert!(
        !lines.iter().any(|l| l.starts_with("Refused")),
        "{lines:#?}"
    );
}

/// Runs a UDP client (`cmd`, talking to an echo server), writes `data` to
/// it in one write, and waits for exactly `data` back on its stdout, stdin
/// still open (neither tool waits for a reply after end of input); then
/// ends the input and checks that the client exits cleanly.
fn udp_client_round_trip(cmd: Command, data: &[u8]) {
    assert!(data.len() <= 4096, "one atomic pipe write: one datagram");
    let mut client = Proc::spawn(cmd);
    client.write_stdin(data);
    assert_same_bytes(&client.stdout.wait_len(data.len()), data);
    client.close_stdin();
    assert_clean_proc_exit(&mut client);
    assert_same_bytes(&client.stdout.bytes(), data);
}

// ---- netlab clients against socat and ncat servers ----

#[test]
fn netlab_echo_client_against_socat_pipe_server_is_byte_exact() {
    let Some(socat) = require_tool("socat", "socat") else {
        return;
    };
    let (_server, port) = socat_listen(
        &socat,
        &["-t", "10"],
        "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr",
        "PIPE",
        &[],
    );
    let data = random_bytes(1 << 20, 0xEC40);
    let out = netlab_cmd()
        .args(["connect", "echo", "127.0.0.1", &port.to_string()])
        .write_stdin(data.clone())
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_same_bytes(&out.stdout, &data);
}

/// `ncat -l --exec /bin/cat`, the echo server of ncat's guide. ncat 7.93
/// closes the connection as soon as the client half-closes, echo still in
/// `cat` or not (nmap/nmap#962), and its relay can deadlock on more than a
/// pipe's worth in flight: so 48 KiB, and netlab's input ends only once
/// the whole echo is back, as when typed interactively.
#[test]
fn netlab_echo_client_against_ncat_exec_cat_server_is_byte_exact() {
    let Some(ncat) = require_tool("ncat", "ncat") else {
        return;
    };
    let (_server, port) = ncat_listen(&ncat, false, &["--exec", "/bin/cat"], &[]);
    let data = random_bytes(48 << 10, 0xCA7);
    let mut cmd = netlab();
    cmd.args(["connect", "echo", "127.0.0.1", &port.to_string()]);
    let mut client = Proc::spawn(cmd);
    client.write_stdin(&data);
    assert_same_bytes(&client.stdout.wait_len(data.len()), &data);
    client.close_stdin();
    assert_clean_proc_exit(&mut client);
    assert_same_bytes(&client.stdout.bytes(), &data);
}

/// `connect daytime` prints everything the server sends, byte for byte
/// (docs/cli.md): a NIST-like reply with its blank first line and CR LF,
/// then bytes that are not UTF-8, NUL included.
#[test]
fn netlab_daytime_client_prints_the_socat_server_bytes_exactly() {
    let Some(socat) = require_tool("socat", "socat") else {
        return;
    };
    let reply = daytime_reply();
    let format = printf_format(&reply);
    let (_server, port) = socat_listen(
        &socat,
        &[],
        "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr",
        &format!("SYSTEM:printf \"${REPLY_VAR}\""),
        &[(REPLY_VAR, &format)],
    );
    netlab_daytime_prints_exactly(port, &reply);
}

/// The same from `ncat -l --sh-exec`.
#[test]
fn netlab_daytime_client_prints_the_ncat_server_bytes_exactly() {
    let Some(ncat) = require_tool("ncat", "ncat") else {
        return;
    };
    let reply = daytime_reply();
    let format = printf_format(&reply);
    let (_server, port) = ncat_listen(
        &ncat,
        false,
        &["--sh-exec", &format!("printf \"${REPLY_VAR}\"")],
        &[(REPLY_VAR, &format)],
    );
    netlab_daytime_prints_exactly(port, &reply);
}

/// Binary input with several newlines: `connect echo --udp` sends each
/// line as one datagram and waits for its reply before the next, so
/// socat's `UDP-LISTEN` (which takes the first client's datagrams, one
/// read each) and its `PIPE` give back each one whole.
#[test]
fn netlab_udp_echo_client_against_socat_udp_server_is_byte_exact() {
    let Some(socat) = require_tool("socat", "socat") else {
        return;
    };
    let (_server, port) = socat_listen(&socat, &[], "UDP-LISTEN:0,bind=127.0.0.1", "PIPE", &[]);
    udp_echo_session(port, &random_bytes(1000, 0x0D6));
}

/// The same against `ncat -u -l --exec /bin/cat` (UDP has no end-of-file,
/// so ncat's half-close quirk does not arise).
#[test]
fn netlab_udp_echo_client_against_ncat_udp_server_is_byte_exact() {
    let Some(ncat) = require_tool("ncat", "ncat") else {
        return;
    };
    let (_server, port) = ncat_listen(&ncat, true, &["--exec", "/bin/cat"], &[]);
    udp_echo_session(port, &random_bytes(1000, 0x0D7));
}

/// `netlab connect daytime 127.0.0.1 PORT` prints exactly `reply`.
fn netlab_daytime_prints_exactly(port: u16, reply: &[u8]) {
    let out = netlab_cmd()
        .args(["connect", "daytime", "127.0.0.1", &port.to_string()])
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_same_bytes(&out.stdout, reply);
}

/// `netlab connect echo --udp 127.0.0.1 PORT` with `data` (several lines,
/// so several datagrams) prints exactly `data`.
fn udp_echo_session(port: u16, data: &[u8]) {
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    assert!(
        lines >= 2,
        "want several datagrams, got {} lines",
        lines + 1
    );
    let out = netlab_cmd()
        .args(["connect", "echo", "--udp", "127.0.0.1", &port.to_string()])
        .write_stdin(data.to_vec())
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_same_bytes(&out.stdout, data);
}

// ---- running the tools' servers ----

/// Runs `socat -d -d OPTIONS LISTEN TARGET` with `LISTEN` on port 0 and
/// returns it with the port it logged (`listening on [UDP] AF=2
/// 127.0.0.1:PORT`, after it bound): no port race, and no probe
/// connection to use up a listener that takes one client.
fn socat_listen(
    socat: &Path,
    options: &[&str],
    listen: &str,
    target: &str,
    env: &[(&str, &str)],
) -> (Proc, u16) {
    let mut cmd = Command::new(socat);
    cmd.args(["-d", "-d"]).args(options).args([listen, target]);
    cmd.envs(env.iter().copied());
    let proc = Proc::spawn(cmd);
    let lines = proc.stderr.wait_for("socat's listening line", |l| {
        l.iter().any(|x| x.contains(" listening on "))
    });
    let line = lines.iter().find(|x| x.contains(" listening on ")).unwrap();
    let (addr, port) = line.rsplit_once(':').unwrap();
    assert!(addr.ends_with(" AF=2 127.0.0.1"), "{line:?}");
    let port = port.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"));
    (proc, port)
}

/// Runs `ncat -v [-u] -l 127.0.0.1 PORT ARGS` on a free port and waits for
/// `Ncat: Listening on 127.0.0.1:PORT`, which ncat prints after binding
/// (and listening). ncat cannot report a port 0 choice, so the port comes
/// from [`free_port`]; should another program take it first, ncat quits
/// and another port is tried.
fn ncat_listen(ncat: &Path, udp: bool, args: &[&str], env: &[(&str, &str)]) -> (Proc, u16) {
    for _ in 0..5 {
        let port = free_port("127.0.0.1");
        let mut cmd = Command::new(ncat);
        cmd.arg("-v")
            .args(udp.then_some("-u"))
            .args(["-l", "127.0.0.1", &port.to_string()])
            .args(args)
            .envs(env.iter().copied());
        let proc = Proc::spawn(cmd);
        let lines = proc.stderr.wait_for("ncat's listening line", |l| {
            l.iter()
                .any(|x| x.starts_with("Ncat: Listening on ") || x.ends_with("QUITTING."))
        });
        if lines.contains(&format!("Ncat: Listening on 127.0.0.1:{port}")) {
            return (proc, port);
        }
        assert!(
            lines.iter().any(|x| x.contains("Address already in use")),
            "{lines:#?}"
        );
    }
    panic!("ncat found no free port in 5 tries");
}
