//! The `netlab serve all --config FILE` file: which services, on which
//! addresses and ports, for operators who replace an inetd.conf.
//!
//! ```toml
//! host = "127.0.0.1"          # default address for every service (optional)
//!
//! [[service]]
//! service = "echo"            # echo, discard, daytime, chargen or time
//! port = 7                    # 0: any free port, printed on its "Bound" line
//! transport = "both"          # "tcp", "udp" or "both" (the default)
//!
//! [[service]]
//! service = "daytime"
//! port = 13013
//! transport = "tcp"
//! host = "::1"                # this service's own address
//! options = ["--utc", "--crlf"]   # options of `netlab serve daytime`
//! name = "daytime-utc"        # its name in the log (default "daytime/tcp")
//! ```
//!
//! Loading checks everything that can be checked without binding: unknown
//! keys and services, duplicate names, two services on one port. Options
//! are checked when the services are made (`serve_all.rs`).

use std::fmt;
use std::path::Path;

use serde::Deserialize;

/// One socket to serve: a protocol on a transport, address and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Its name in the log, unique in one configuration.
    pub name: String,
    /// The protocol (`echo`, `daytime`, ...).
    pub service: String,
    /// UDP instead of TCP.
    pub udp: bool,
    /// The address to bind; `None` for all interfaces.
    pub host: Option<String>,
    /// The port; 0 for any free one.
    pub port: u16,
    /// More options of `netlab serve SERVICE`.
    pub options: Vec<String>,
}

/// Why a configuration cannot be used, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// What is wrong, naming the file (and the line when known).
    pub message: String,
    /// The file could not be read at all (exit 66, not 78).
    pub unreadable: bool,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    host: Option<String>,
    #[serde(default, rename = "service")]
    services: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    service: String,
    port: u16,
    #[serde(default)]
    transport: Transport,
    host: Option<String>,
    #[serde(default)]
    options: Vec<String>,
    name: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Transport {
    Tcp,
    Udp,
    #[default]
    Both,
}

/// Reads and checks the configuration at `path`; `known` are the
/// services netlab serves.
pub fn load(path: &Path, known: &[&str]) -> Result<Vec<Spec>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        message: format!("reading {}: {}", path.display(), netcore::describe(&e)),
        unreadable: true,
    })?;
    parse(&text, known).map_err(|message| ConfigError {
        message: format!("{}: {message}", path.display()),
        unreadable: false,
    })
}

/// Parses and checks a configuration's text.
pub fn parse(text: &str, known: &[&str]) -> Result<Vec<Spec>, String> {
    let file: File = toml::from_str(text).map_err(|e| one_line(&e, text))?;
    if file.services.is_empty() {
        return Err(
            "no service configured; add a [[service]] table with service = \"echo\" and port = 7"
                .to_owned(),
        );
    }
    let mut specs: Vec<Spec> = Vec::new();
    for (i, entry) in file.services.into_iter().enumerate() {
        let which = format!("[[service]] number {}", i + 1);
        if !known.contains(&entry.service.as_str()) {
            return Err(format!(
                "{which}: netlab serves no {:?}; the services are {}",
                entry.service,
                known.join(", ")
            ));
        }
        let transports: &[bool] = match entry.transport {
            Transport::Tcp => &[false],
            Transport::Udp => &[true],
            Transport::Both => &[false, true],
        };
        for &udp in transports {
            let transport = if udp { "udp" } else { "tcp" };
            let name = match (&entry.name, entry.transport) {
                (Some(name), Transport::Both) => format!("{name}/{transport}"),
                (Some(name), _) => name.clone(),
                (None, _) => format!("{}/{transport}", entry.service),
            };
            let spec = Spec {
                name,
                service: entry.service.clone(),
                udp,
                host: entry.host.clone().or_else(|| file.host.clone()),
                port: entry.port,
                options: entry.options.clone(),
            };
            if let Some(other) = specs.iter().find(|s| s.name == spec.name) {
                return Err(format!(
                    "{which}: two services are named {:?} (the other is {} port {}); give one a name = \"...\"",
                    spec.name, other.service, other.port
                ));
            }
            if let Some(other) = specs.iter().find(|s| same_socket(s, &spec)) {
                return Err(format!(
                    "{which}: {} and {} both ask for {transport} port {} on {}",
                    other.name,
                    spec.name,
                    spec.port,
                    spec.host.as_deref().unwrap_or("all interfaces")
                ));
            }
            specs.push(spec);
        }
    }
    Ok(specs)
}

/// Two specs that cannot both bind: the same transport and fixed port,
/// on the same address or where either takes all interfaces.
fn same_socket(a: &Spec, b: &Spec) -> bool {
    a.udp == b.udp
        && a.port == b.port
        && a.port != 0
        && (a.host == b.host || a.host.is_none() || b.host.is_none())
}

/// A TOML error in one line, with the line number it is on.
fn one_line(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].lines().count().max(1);
            let line = if text[..span.start.min(text.len())].ends_with('\n') {
                line + 1
            } else {
                line
            };
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["echo", "discard", "daytime", "chargen", "time"];

    #[test]
    fn a_service_is_tcp_and_udp_unless_it_says_which() {
        let specs = parse(
            "host = \"127.0.0.1\"\n\
             [[service]]\nservice = \"echo\"\nport = 7\n\
             [[service]]\nservice = \"daytime\"\nport = 0\ntransport = \"tcp\"\nhost = \"::1\"\noptions = [\"--utc\"]\n",
            KNOWN,
        )
        .unwrap();
        let names: Vec<_> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["echo/tcp", "echo/udp", "daytime/tcp"]);
        assert_eq!(specs[1].host.as_deref(), Some("127.0.0.1"));
        assert!(specs[1].udp);
        assert_eq!(specs[2].host.as_deref(), Some("::1"));
        assert_eq!(specs[2].options, ["--utc"]);
    }

    #[test]
    fn names_are_unique_and_ports_not_shared() {
        let twice = "[[service]]\nservice = \"echo\"\nport = 7\n[[service]]\nservice = \"chargen\"\nport = 7\ntransport = \"udp\"\n";
        let err = parse(twice, KNOWN).unwrap_err();
        assert!(
            err.contains("echo/udp and chargen/udp both ask for udp port 7"),
            "{err}"
        );
        let named = "[[service]]\nservice = \"echo\"\nport = 7\nname = \"e\"\n[[service]]\nservice = \"echo\"\nport = 8\nname = \"e\"\n";
        let err = parse(named, KNOWN).unwrap_err();
        assert!(err.contains("two services are named \"e/tcp\""), "{err}");
        // Port 0 twice is two free ports; other addresses are other sockets.
        let fine = "[[service]]\nservice = \"echo\"\nport = 0\n[[service]]\nservice = \"time\"\nport = 0\n\
                    [[service]]\nservice = \"discard\"\nport = 9\nhost = \"127.0.0.1\"\n\
                    [[service]]\nservice = \"chargen\"\nport = 9\nhost = \"127.0.0.2\"\n";
        assert_eq!(parse(fine, KNOWN).unwrap().len(), 8);
    }

    #[test]
    fn mistakes_are_one_line_naming_what_and_where() {
        let cases = [
            ("", "no service configured"),
            (
                "[[service]]\nservice = \"ftp\"\nport = 21\n",
                "netlab serves no \"ftp\"; the services are echo, discard",
            ),
            (
                "[[service]]\nservice = \"echo\"\nport = 7\nprot = 1\n",
                "line 4: unknown field `prot`",
            ),
            ("[[service]]\nservice = \"echo\"\nport = 70000\n", "line 3:"),
            ("[[service]]\nservice = \"echo\"\n", "missing field `port`"),
            (
                "[[service]]\nservice = \"echo\"\nport = 7\ntransport = \"sctp\"\n",
                "line 4: unknown variant `sctp`",
            ),
            ("[[service]\n", "line 1:"),
        ];
        for (text, expected) in cases {
            let err = parse(text, KNOWN).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn an_unreadable_file_says_so() {
        let err = load(Path::new("/nonexistent/netlab.toml"), KNOWN).unwrap_err();
        assert!(err.unreadable);
        assert!(
            err.message
                .starts_with("reading /nonexistent/netlab.toml: "),
            "{err}"
        );
    }
}
