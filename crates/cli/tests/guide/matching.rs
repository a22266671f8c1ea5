//! The harness's pure part: matching output against the guide's, with
//! trycmd's wildcards, and the guide's port numbers replaced by free ones.

use std::net::{TcpListener, UdpSocket};

/// Whether `got` matches `want`, line by line: `...` is any number of
/// lines, `[..]` any text within one.
pub fn lines_match(want: &[String], got: &[String]) -> bool {
    match want.split_first() {
        None => got.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=got.len()).any(|skip| lines_match(rest, &got[skip..]))
        }
        Some((first, rest)) => {
            !got.is_empty() && line_matches(first, &got[0]) && lines_match(rest, &got[1..])
        }
    }
}

fn line_matches(want: &str, got: &str) -> bool {
    match want.split_once("[..]") {
        None => want == got,
        Some((head, tail)) => {
            let Some(rest) = got.strip_prefix(head) else {
                return false;
            };
            rest.char_indices()
                .map(|(i, _)| i)
                .chain([rest.len()])
                .any(|at| line_matches(tail, &rest[at..]))
        }
    }
}

pub fn split_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
        .collect()
}

/// Replaces each whole number `from` in `text` by `to`.
pub fn replace_numbers(text: &str, map: &[(u32, u32)]) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        let mapped = digits
            .parse::<u32>()
            .ok()
            .and_then(|n| map.iter().find(|(from, _)| *from == n))
            .map(|(_, to)| to.to_string());
        out.push_str(mapped.as_deref().unwrap_or(digits));
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// Whether `port` is free on loopback for TCP and UDP alike.
fn port_free(port: u32) -> bool {
    let Ok(port) = u16::try_from(port) else {
        return false;
    };
    TcpListener::bind(("127.0.0.1", port)).is_ok() && UdpSocket::bind(("127.0.0.1", port)).is_ok()
}

/// The services' ports relative to `serve all --port-offset`.
const SERVICE_PORTS: [u32; 5] = [7, 9, 13, 19, 37];

/// Free ports for the guide's: each number of 10000 and up in `command`.
pub fn port_map(command: &str) -> Vec<(u32, u32)> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let mut map = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let Ok(n) = word.parse::<u32>() else { continue };
        if n < 10000 {
            continue;
        }
        if i > 0 && words[i - 1] == "--port-offset" {
            // Below the ephemeral range (32768 and up on Linux), where
            // other tests' client sockets come and go: an offset found
            // free there stays free.
            let seed = std::process::id();
            let offset = (0..500u32)
                .map(|k| 10_000 + (seed.wrapping_mul(7919).wrapping_add(k * 331)) % 22_000)
                .find(|&o| SERVICE_PORTS.iter().all(|p| port_free(o + p)))
                .expect("a free --port-offset");
            map.push((n, offset));
            map.extend(SERVICE_PORTS.iter().map(|p| (n + p, offset + p)));
        } else {
            map.push((n, u32::from(free_port())));
        }
    }
    map
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("binding 127.0.0.1:0");
    listener.local_addr().expect("its address").port()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn wildcards() {
        assert!(lines_match(
            &lines("a[..]c\n...\nz"),
            &lines("abbc\nx\ny\nz")
        ));
        assert!(lines_match(&lines("a[..]"), &lines("a")));
        assert!(!lines_match(&lines("a[..]c"), &lines("abd")));
        assert!(!lines_match(&lines("a"), &lines("a\nb")));
        assert!(lines_match(&lines("..."), &[]));
    }

    #[test]
    fn numbers_replaced_whole() {
        let map = [(55555, 40000)];
        assert_eq!(
            replace_numbers("port 55555, 555550 x55555", &map),
            "port 40000, 555550 x40000"
        );
    }
}
