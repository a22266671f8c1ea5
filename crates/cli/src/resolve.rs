//! `netlab resolve NAME...`: the lecture's `ipaddress.py` (`Host name:`,
//! `IP address:`), plus every address, reverse lookups, JSON, and asking
//! one DNS server directly. Parsing, printing and exit codes only: the
//! lookups are the `resolve` crate's.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use resolve::{Answer, DnsServer, ErrorKind, Family, Lookup, Query, Resolver, Reverse};
use serde_json::{Value, json};

use crate::exit::{self, Code};

const AFTER_HELP: &str = "\
Output: for a name, `Host name: NAME` then `IP address: ADDR` (the first IPv4 \
address, as Python's socket.gethostbyname gives it); for an IP address, \
`IP address: ADDR` then `Host name: NAME`. --all adds `Canonical name:` and \
prints every address.

Exit codes: 0 every lookup answered; 64 bad arguments (a bad --server); 68 a \
name does not exist or has no address; 69 the DNS server refused or cannot be \
reached; 74 a reply that makes no sense; 75 a temporary failure or a timeout. \
With several failures, the one that retrying will not fix wins: \
64 > 74 > 69 > 68 > 75.

Examples:
  # The lecture's ipaddress.py
  netlab resolve cs.princeton.edu
  # Every address and the canonical name; then a reverse lookup
  netlab resolve --all localhost
  netlab resolve 127.0.0.1";

/// Arguments of `netlab resolve`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ResolveArgs {
    /// Host names to look up, or IPv4/IPv6 addresses to look up in reverse.
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
    /// Every address (IPv4 and IPv6, each once, in the resolver's order)
    /// and the canonical name; for an address, every host name.
    #[arg(short, long)]
    pub all: bool,
    /// IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 addresses only (the first one, without --all).
    #[arg(short = '6')]
    pub ipv6: bool,
    /// One JSON document on stdout instead of text; errors still go to
    /// stderr as one line each.
    #[arg(long)]
    pub json: bool,
    /// Ask this DNS server directly (UDP; TCP when the answer is
    /// truncated) instead of the system resolver: A/AAAA for names, PTR for
    /// addresses, like `dig @ADDR`. Port 53 unless given.
    #[arg(short, long, value_name = "ADDR[:PORT]", value_parser = server)]
    pub server: Option<DnsServer>,
    /// With --server: seconds to wait for each answer [default: 2].
    #[arg(long, value_name = "SECS", allow_negative_numbers = true, value_parser = positive_seconds)]
    pub timeout: Option<Duration>,
    /// With --server: how many times to send a query again when no answer
    /// comes [default: 1].
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = crate::args::between(0u32, 10))]
    pub retries: Option<u32>,
    /// How many lookups run at once; output stays in argument order.
    #[arg(short, long, value_name = "N", default_value_t = resolve::DEFAULT_JOBS,
          allow_negative_numbers = true, value_parser = jobs)]
    pub jobs: usize,
}

fn server(text: &str) -> Result<DnsServer, String> {
    text.parse::<DnsServer>().map_err(|e| e.to_string())
}

fn positive_seconds(text: &str) -> Result<Duration, String> {
    match crate::seconds(text)? {
        d if d.is_zero() => Err(format!("{text:?}: the timeout must be more than 0")),
        d if d > Duration::from_secs(3600) => {
            Err(format!("{text:?}: the timeout must be at most 3600 s"))
        }
        d => Ok(d),
    }
}

fn jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=64) => Ok(n),
        _ => Err(format!("{text:?} is not a number of jobs from 1 to 64")),
    }
}

/// Runs `netlab resolve`.
pub fn run(args: ResolveArgs) -> ExitCode {
    let family = match (args.ipv4, args.ipv6, args.all) {
        (true, _, _) => Family::V4,
        (_, true, _) => Family::V6,
        (false, false, true) => Family::Any,
        // The lecture's gethostbyname: IPv4.
        (false, false, false) => Family::V4,
    };
    let resolver = match args.server.clone() {
        None if args.timeout.is_some() || args.retries.is_some() => {
            return exit::report(
                "--timeout and --retries need --server",
                Some(
                    "the system resolver's are set in /etc/resolv.conf: options timeout:N attempts:N",
                ),
                Code::Usage,
            );
        }
        None => Resolver::System,
        Some(mut server) => {
            if let Some(timeout) = args.timeout {
                server = server.timeout(timeout);
            }
            if let Some(retries) = args.retries {
                server = server.retries(retries);
            }
            Resolver::Server(server)
        }
    };
    let stdout = io::stdout();
    let mut out = Output::new(stdout.lock());
    let mut worst = Code::Ok;
    let mut results = Vec::new();
    resolver.resolve_all(&args.names, family, args.jobs, |i, result| {
        let arg = &args.names[i];
        if let Err(err) = &result {
            let code = code_for(err.kind());
            let _ = exit::report(err, hint(err.kind(), &resolver), code);
            worst = worse(worst, code);
        }
        if args.json {
            results.push(json_result(arg, &result, args.all));
        } else if let Ok(answer) = &result {
            out.write(&text(arg, answer, args.all));
        }
    });
    if args.json {
        let document = json!({
            "resolver": match &resolver {
                Resolver::Server(server) => json!({ "type": "dns_server", "address": server.to_string() }),
                _ => json!({ "type": "system" }),
            },
            "results": results,
            "exit_code": worst as u8,
        });
        out.write(&format!("{document:#}\n"));
    }
    if let Some(e) = out.failed {
        let _ = exit::report(format!("writing the output: {e}"), None, Code::IoErr);
        worst = worse(worst, Code::IoErr);
    }
    worst.into()
}

/// The lecture's lines for one answer.
fn text(arg: &str, answer: &Answer, all: bool) -> String {
    let mut lines = String::new();
    match answer {
        Answer::Forward(Lookup {
            canonical_name,
            addresses,
            ..
        }) => {
            lines.push_str(&format!("Host name: {arg}\n"));
            if all {
                if let Some(canonical) = canonical_name {
                    lines.push_str(&format!("Canonical name: {canonical}\n"));
                }
            }
            let shown = if all {
                &addresses[..]
            } else {
                first(addresses)
            };
            for ip in shown {
                lines.push_str(&format!("IP address: {ip}\n"));
            }
        }
        Answer::Reverse(Reverse { address, names, .. }) => {
            lines.push_str(&format!("IP address: {address}\n"));
            let shown = if all { &names[..] } else { first(names) };
            for name in shown {
                lines.push_str(&format!("Host name: {name}\n"));
            }
        }
    }
    lines
}

fn first<T>(items: &[T]) -> &[T] {
    &items[..items.len().min(1)]
}

/// One entry of `results` in the JSON document: the same data the text
/// shows, or the error.
fn json_result(arg: &str, result: &resolve::Result<Answer>, all: bool) -> Value {
    let family = |ip: &std::net::IpAddr| if ip.is_ipv4() { "ipv4" } else { "ipv6" };
    match result {
        Ok(Answer::Forward(lookup)) => {
            let shown = if all {
                &lookup.addresses[..]
            } else {
                first(&lookup.addresses)
            };
            json!({
                "query": arg,
                "type": "name",
                "host_name": arg,
                "canonical_name": lookup.canonical_name,
                "addresses": shown
                    .iter()
                    .map(|ip| json!({ "address": ip.to_string(), "family": family(ip) }))
                    .collect::<Vec<_>>(),
            })
        }
        Ok(Answer::Reverse(reverse)) => {
            let shown = if all {
                &reverse.names[..]
            } else {
                first(&reverse.names)
            };
            json!({
                "query": arg,
                "type": "address",
                "address": reverse.address.to_string(),
                "family": family(&reverse.address),
                "host_names": shown,
            })
        }
        Err(err) => json!({
            "query": arg,
            "type": match Query::parse(arg) {
                Query::Address(_) => "address",
                Query::Name(_) => "name",
            },
            "error": {
                "kind": err.kind().as_str(),
                "message": exit::chain(err),
                "exit_code": code_for(err.kind()) as u8,
            },
        }),
    }
}

fn code_for(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::NotFound => Code::NoHost,
        ErrorKind::Temporary | ErrorKind::TimedOut => Code::TempFail,
        ErrorKind::Unavailable | ErrorKind::Other => Code::Unavailable,
        ErrorKind::BadAnswer => Code::IoErr,
        ErrorKind::InvalidInput => Code::Usage,
        _ => Code::Software,
    }
}

/// The code that wins when several lookups fail: a failure that retrying
/// will not fix outranks one that it may (so a script does not loop on a
/// name that does not exist), and bad input outranks everything.
fn worse(a: Code, b: Code) -> Code {
    let rank = |code: Code| match code {
        Code::Ok => 0,
        Code::TempFail => 1,
        Code::NoHost => 2,
        Code::Unavailable => 3,
        Code::IoErr => 4,
        Code::Software => 5,
        Code::Usage => 6,
        _ => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn hint(kind: ErrorKind, resolver: &Resolver) -> Option<&'static str> {
    match (kind, resolver) {
        (ErrorKind::TimedOut, _) => {
            Some("is a DNS server running there? a longer --timeout may help")
        }
        (ErrorKind::Unavailable, Resolver::Server(_)) => {
            Some("is a DNS server listening there, and does it serve this name?")
        }
        _ => None,
    }
}

/// stdout, written block by block and flushed, so names appear as they
/// are resolved. A reader that went away (`| head`) is not an error: output
/// stops, the lookups' exit code stands.
struct Output<W: Write> {
    inner: W,
    closed: bool,
    failed: Option<io::Error>,
}

impl<W: Write> Output<W> {
    fn new(inner: W) -> Self {
        Output {
            inner,
            closed: false,
            failed: None,
        }
    }

    fn write(&mut self, text: &str) {
        if self.closed {
            return;
        }
        if let Err(e) = self
            .inner
            .write_all(text.as_bytes())
            .and_then(|()| self.inner.flush())
        {
            self.closed = true;
            if e.kind() != io::ErrorKind::BrokenPipe {
                self.failed = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str, canonical: Option<&str>, ips: &[&str]) -> Answer {
        let mut found = resolve::lookup("localhost").unwrap();
        found.name = name.to_owned();
        found.canonical_name = canonical.map(str::to_owned);
        found.addresses = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        Answer::Forward(found)
    }

    #[test]
    fn default_text_is_the_lectures_pair() {
        let answer = lookup("localhost", Some("localhost"), &["127.0.0.1", "127.0.1.1"]);
        assert_eq!(
            text("localhost", &answer, false),
            "Host name: localhost\nIP address: 127.0.0.1\n"
        );
        assert_eq!(
            text("localhost", &answer, true),
            "Host name: localhost\nCanonical name: localhost\n\
             IP address: 127.0.0.1\nIP address: 127.0.1.1\n"
        );
    }

    #[test]
    fn worst_code_wins() {
        assert_eq!(worse(Code::Ok, Code::TempFail), Code::TempFail);
        assert_eq!(worse(Code::TempFail, Code::NoHost), Code::NoHost);
        assert_eq!(worse(Code::NoHost, Code::TempFail), Code::NoHost);
        assert_eq!(worse(Code::NoHost, Code::Usage), Code::Usage);
        assert_eq!(worse(Code::Unavailable, Code::NoHost), Code::Unavailable);
    }

    #[test]
    fn broken_pipe_stops_output_quietly() {
        struct Gone;
        impl Write for Gone {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut out = Output::new(Gone);
        out.write("x");
        out.write("y");
        assert!(out.closed);
        assert!(out.failed.is_none());
    }

    #[test]
    fn timeouts_must_be_positive() {
        assert!(positive_seconds("0").is_err());
        assert!(positive_seconds("0.3").is_ok());
        assert!(positive_seconds("99999").is_err());
        assert!(jobs("0").is_err());
        assert!(jobs("65").is_err());
        assert_eq!(jobs("8"), Ok(8));
    }
}
