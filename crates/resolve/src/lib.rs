//! Host names to IP addresses and back: what the lecture's `ipaddress.py`
//! does with `socket.gethostbyname`, and what `getent ahosts`, `host` and
//! `dig @server` show beyond it.
//!
//! # A tour
//!
//! The system resolver, through the C library's `getaddrinfo(3)` and
//! `getnameinfo(3)`, so `/etc/hosts` and `/etc/resolv.conf` apply:
//!
//! - [`lookup`]: every address of a name, IPv4 and IPv6, with the
//!   canonical name; [`lookup_family`] for one family. [`Lookup::first_ipv4`]
//!   is the lecture's answer.
//! - [`reverse`]: the host name of an address.
//!
//! One DNS server asked directly, over UDP with a TCP retry for truncated
//! answers, like `dig @server`: [`DnsServer::lookup`],
//! [`DnsServer::lookup_family`], [`DnsServer::reverse`].
//!
//! [`Resolver`] is either of the two behind one interface, and
//! [`Resolver::resolve_all`] looks up many names at once on a bounded number
//! of threads, handing results back in the order asked.
//!
//! Errors are one [`Error`] enum whose messages name the name, the server
//! and the reason; [`Error::kind`] says whether the name does not exist,
//! the failure is temporary, or the server did not answer.
//!
//! ```
//! use resolve::{Family, Resolver};
//!
//! // The lecture's pair.
//! let lookup = resolve::lookup_family("localhost", Family::V4)?;
//! println!("Host name: {}", lookup.name);
//! println!("IP address: {}", lookup.addresses[0]);
//! assert_eq!(lookup.addresses[0].to_string(), "127.0.0.1");
//!
//! // And back.
//! let reverse = resolve::reverse("127.0.0.1".parse().unwrap())?;
//! assert_eq!(reverse.name(), "localhost");
//!
//! // Several arguments, names or addresses, in their order.
//! let mut answers = Vec::new();
//! Resolver::System.resolve_all(
//!     &["localhost", "127.0.0.1", "nonexistent.invalid"],
//!     Family::V4,
//!     8,
//!     |_, answer| answers.push(answer.is_ok()),
//! );
//! assert_eq!(answers, [true, true, false]);
//! # Ok::<(), resolve::Error>(())
//! ```
//!
//! Looking up a real name needs the outside network:
//!
//! ```no_run
//! let lookup = resolve::lookup_family("cs.princeton.edu", resolve::Family::V4)?;
//! println!("Host name: cs.princeton.edu");
//! println!("IP address: {}", lookup.addresses[0]);
//! # Ok::<(), resolve::Error>(())
//! ```
//!
//! Next: the `netlab resolve` command in `docs/resolve.md`, which prints
//! these results, and [`DnsServer`] for asking one server. The example
//! `examples/resolve_names.rs` is the lecture's `ipaddress.py` for any
//! number of names and addresses:
//! `cargo run -p netlab-resolve --example resolve_names -- localhost 127.0.0.1`.

#![deny(missing_docs)]

mod answer;
mod error;
mod many;
mod message;
mod server;
mod system;

use std::net::IpAddr;

pub use answer::{Answer, Family, Lookup, Query, Reverse};
pub use error::{Error, ErrorKind, Result};
pub use server::DnsServer;
pub use system::{lookup, lookup_family, reverse};

/// How many lookups [`Resolver::resolve_all`] runs at once unless told
/// otherwise.
pub const DEFAULT_JOBS: usize = 8;

/// Who answers: the system resolver, or one DNS server asked directly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Resolver {
    /// `getaddrinfo(3)` and `getnameinfo(3)`: [`lookup_family`], [`reverse`].
    #[default]
    System,
    /// One DNS server: [`DnsServer::lookup_family`], [`DnsServer::reverse`].
    Server(DnsServer),
}

impl Resolver {
    /// The addresses of `name` in `family`.
    pub fn lookup(&self, name: &str, family: Family) -> Result<Lookup> {
        match self {
            Resolver::System => lookup_family(name, family),
            Resolver::Server(server) => server.lookup_family(name, family),
        }
    }

    /// The host names of `ip`.
    pub fn reverse(&self, ip: IpAddr) -> Result<Reverse> {
        match self {
            Resolver::System => reverse(ip),
            Resolver::Server(server) => server.reverse(ip),
        }
    }

    /// One argument as a user gives it: an IP address (`127.0.0.1`, `::1`,
    /// `[::1]`) is looked up in reverse, anything else as a name in
    /// `family`. See [`Query::parse`].
    ///
    /// ```
    /// use resolve::{Answer, Family, Resolver};
    /// match Resolver::System.resolve("127.0.0.1", Family::Any)? {
    ///     Answer::Reverse(reverse) => assert_eq!(reverse.name(), "localhost"),
    ///     Answer::Forward(_) => unreachable!(),
    /// }
    /// # Ok::<(), resolve::Error>(())
    /// ```
    pub fn resolve(&self, arg: &str, family: Family) -> Result<Answer> {
        match Query::parse(arg) {
            Query::Address(ip) => self.reverse(ip).map(Answer::Reverse),
            Query::Name(name) => self.lookup(&name, family).map(Answer::Forward),
        }
    }

    /// [`Resolver::resolve`] for every argument, at most `jobs` at once
    /// (at least 1), calling `emit(index, result)` in argument order, each
    /// as soon as it and every one before it are done. One failure does not
    /// stop the others.
    pub fn resolve_all<S>(
        &self,
        args: &[S],
        family: Family,
        jobs: usize,
        emit: impl FnMut(usize, Result<Answer>),
    ) where
        S: AsRef<str> + Sync,
    {
        many::in_order(args, jobs, |arg| self.resolve(arg.as_ref(), family), emit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn is<T: Send + Sync>() {}
        is::<Resolver>();
        is::<Lookup>();
        is::<Reverse>();
        is::<Answer>();
        is::<Query>();
        is::<Family>();
    }
}
