//! `netlab serve PROTOCOL` and `netlab connect PROTOCOL` are subcommands
//! with options of their own: an option of another protocol is a usage
//! error (64) that says whose option it is, not an option silently
//! ignored; the options every server or client takes work with each
//! protocol; the command lines of README.md and docs/cli.md keep working.

mod util;

use std::io::Read;
use std::net::{TcpStream, UdpSocket};

use util::*;

fn run(args: &[&str]) -> std::process::Output {
    netlab_cmd().args(args).write_stdin("").output().unwrap()
}

/// One error line, exit 64, nothing on stdout, and the hint names the
/// subcommand that does take the option.
fn assert_usage_error(args: &[&str], hint: &str) {
    let out = run(args);
    assert_eq!(out.stdout, b"", "{args:?}");
    assert_error(&out, 64);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(hint), "{args:?}: {stderr}");
}

#[test]
fn an_option_of_another_protocol_is_a_usage_error() {
    let daytimes = "is an option of netlab serve daytime, not of netlab serve echo";
    for option in [
        &["--utc"][..],
        &["--crlf"],
        &["--format", "%Y"],
        &["--format=%Y"],
    ] {
        let mut args = vec!["serve", "echo", "--host", "127.0.0.1", "--port", "0"];
        args.extend_from_slice(option);
        assert_usage_error(&args, daytimes);
    }
    let echos = "--mode is an option of netlab serve echo, not of netlab serve daytime";
    for extra in [&[][..], &["--udp"]] {
        let mut args = vec!["serve", "daytime", "--port", "0", "--mode", "line"];
        args.extend_from_slice(extra);
        assert_usage_error(&args, echos);
    }
}

/// A server's options are no client's: `connect` takes only the server's
/// address, `--udp`, `--timeout` and `--max-bytes`.
#[test]
fn a_server_option_is_a_usage_error_for_a_client() {
    for option in [
        &["--utc"][..],
        &["--mode", "line"],
        &["--port", "7"],
        &["-q"],
        &["--max-connections", "5"],
    ] {
        for protocol in ["echo", "daytime"] {
            let mut args = vec!["connect", protocol, "127.0.0.1", "7"];
            args.extend_from_slice(option);
            let out = run(&args);
            assert_eq!(out.stdout, b"", "{args:?}");
            assert_error(&out, 64);
        }
    }
}

/// Options come after the protocol's name, as every documented command
/// line has them; before it, the error says so.
#[test]
fn an_option_before_the_protocol_is_a_usage_error_that_says_where_it_goes() {
    assert_usage_error(
        &["serve", "--udp", "echo", "--port", "0"],
        "options come after the protocol: netlab serve echo ... --udp",
    );
    assert_usage_error(
        &["connect", "--udp", "daytime", "127.0.0.1", "13"],
        "options come after the protocol: netlab connect daytime ... --udp",
    );
    assert_usage_error(
        &["serve", "--port", "0"],
        "name the protocol first: netlab serve daytime|echo|time|discard|chargen ... --port",
    );
}

/// Bare `netlab serve` and `netlab connect` print their help on stdout,
/// listing the protocols, as bare `netlab` does; exit 64.
#[test]
fn serve_and_connect_without_a_protocol_list_the_protocols() {
    for command in ["serve", "connect"] {
        let out = run(&[command]);
        assert_eq!(out.status.code(), Some(64), "{command}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!("Usage: netlab {command}")),
            "{stdout}"
        );
        assert!(
            stdout.contains("daytime") && stdout.contains("echo"),
            "{stdout}"
        );
        assert_eq!(out.stderr, b"", "{command}");
    }
}

/// Each protocol's `--help` lists its own options and the shared ones,
/// and no other protocol's.
#[test]
fn each_protocols_help_lists_its_own_options() {
    let help = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let echo = help(&["serve", "echo", "--help"]);
    let daytime = help(&["serve", "daytime", "--help"]);
    for shared in [
        "--host",
        "--port",
        "--udp",
        "--max-connections",
        "--idle-timeout",
    ]
    .iter()
    .chain(&["--threads", "--drain", "--rate-limit", "--quiet"])
    {
        assert!(
            echo.contains(shared) && daytime.contains(shared),
            "{shared}"
        );
    }
    assert!(echo.contains("--mode"));
    for own in ["--utc", "--crlf", "--format"] {
        assert!(daytime.contains(own), "{own}");
        assert!(!echo.contains(own), "{own} in serve echo --help");
    }
    assert!(!daytime.contains("--mode"));
    for protocol in ["echo", "daytime"] {
        let connect = help(&["connect", protocol, "--help"]);
        for option in ["<HOST>", "<PORT>", "--udp", "--timeout", "--max-bytes"] {
            assert!(connect.contains(option), "connect {protocol}: {option}");
        }
    }
}

// ---- the documented command lines, on ports the system picks ----

/// README: `netlab serve daytime --port 1313 --utc --crlf --format '%Y-%m-%d
/// %H:%M:%S'`, and `netlab connect daytime HOST PORT` against it, over TCP
/// and (`--udp` after the address, as in the issue) UDP.
#[test]
fn daytime_with_its_options_over_tcp_and_udp() {
    let is_line = |text: &str| {
        let line = text
            .strip_suffix("\r\n")
            .unwrap_or_else(|| panic!("{text:?}"));
        chrono::NaiveDateTime::parse_from_str(line, "%Y-%m-%d %H:%M:%S").is_ok()
    };
    let format = ["--utc", "--crlf", "--format", "%Y-%m-%d %H:%M:%S"];
    let mut args = vec!["daytime", "--host", "127.0.0.1"];
    args.extend_from_slice(&format);
    let server = serve(&args);
    let port = server.port.to_string();
    let out = run(&["connect", "daytime", "127.0.0.1", &port]);
    assert_clean_exit(&out);
    assert!(is_line(&String::from_utf8_lossy(&out.stdout)));

    args.push("--udp");
    let server = serve(&args);
    let port = server.port.to_string();
    let out = run(&["connect", "daytime", "127.0.0.1", &port, "--udp"]);
    assert_clean_exit(&out);
    assert!(is_line(&String::from_utf8_lossy(&out.stdout)));
    let out = run(&[
        "connect",
        "daytime",
        "--udp",
        "127.0.0.1",
        &port,
        "--timeout",
        "5",
    ]);
    assert_clean_exit(&out);
    let out = run(&[
        "connect",
        "daytime",
        "127.0.0.1",
        &port,
        "--udp",
        "--max-bytes",
        "4",
    ]);
    assert_error(&out, 74);
    assert_eq!(out.stdout.len(), 4, "the year, and no more");
    assert!(
        out.stdout.iter().all(u8::is_ascii_digit),
        "{:?}",
        out.stdout
    );
}

/// README: `netlab serve echo --port 55556 --mode line` (the lecture's
/// echoserver.py) and `echo 'Hello, COS 333' | netlab connect echo
/// localhost 55556`; `netlab serve echo --port 7777 --udp`; and the
/// shared options with echo's own.
#[test]
fn echo_with_its_options_over_tcp_and_udp() {
    let server = serve(&["echo", "--host", "127.0.0.1", "--mode", "line"]);
    let port = server.port.to_string();
    let out = netlab_cmd()
        .args(["connect", "echo", "localhost", &port])
        .write_stdin("Hello, COS 333\nnot echoed\n")
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_eq!(out.stdout, b"Hello, COS 333\n");

    let server = serve(&["echo", "--host", "127.0.0.1", "--udp", "--rate-limit", "0"]);
    let port = server.port.to_string();
    let out = netlab_cmd()
        .args(["connect", "echo", "127.0.0.1", &port, "--udp"])
        .write_stdin("one\ntwo\n")
        .output()
        .unwrap();
    assert_clean_exit(&out);
    assert_eq!(out.stdout, b"one\ntwo\n");
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.set_read_timeout(Some(DEADLINE)).unwrap();
    probe.send_to(b"raw", ("127.0.0.1", server.port)).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(probe.recv(&mut buf).unwrap(), 3);

    let server = serve(&[
        "echo",
        "--host",
        "127.0.0.1",
        "--mode",
        "stream",
        "--max-connections",
        "4",
        "--max-per-source",
        "2",
        "--idle-timeout",
        "0.3",
        "--threads",
        "1",
        "--drain",
        "1",
    ]);
    // Idle past --idle-timeout: the server closes the connection.
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    idle.set_read_timeout(Some(DEADLINE)).unwrap();
    assert_eq!(idle.read(&mut [0u8; 1]).unwrap(), 0);
    server.proc.stdout.wait_line("Closed socket: idle timeout");
}
