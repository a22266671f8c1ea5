//! DNS messages, sans I/O: the bytes of a query, and what a reply's bytes
//! say about it. hickory-proto does the wire format (RFC 1035 §4, name
//! compression, IDNA); this module decides what the reply means.

use std::net::IpAddr;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use crate::answer::without_root_dot;

/// A question to send: the name as a fully qualified DNS name and the
/// record type.
#[derive(Debug, Clone)]
pub(crate) struct Question {
    pub(crate) name: Name,
    pub(crate) rtype: RecordType,
}

impl Question {
    /// A question for `name` exactly as given: made fully qualified, so no
    /// search domain is ever appended (like `dig`, unlike `getaddrinfo`).
    /// Non-ASCII names are turned into their IDNA (punycode) form.
    pub(crate) fn for_name(name: &str, rtype: RecordType) -> Result<Question, String> {
        if name.is_empty() {
            return Err("it is empty".to_owned());
        }
        let mut parsed = Name::from_utf8(name).map_err(|e| e.to_string())?;
        parsed.set_fqdn(true);
        Ok(Question {
            name: parsed,
            rtype,
        })
    }

    /// The PTR question for `ip`: `4.3.2.1.in-addr.arpa.` or the nibbles
    /// under `ip6.arpa.` (RFC 1035 §3.5, RFC 3596 §2.5).
    pub(crate) fn for_address(ip: IpAddr) -> Question {
        let mut name = Name::from(ip);
        name.set_fqdn(true);
        Question {
            name,
            rtype: RecordType::PTR,
        }
    }

    /// The query's bytes: one question, recursion desired, no EDNS (so a
    /// UDP answer is at most 512 bytes and larger ones come truncated,
    /// answered again over TCP).
    pub(crate) fn to_bytes(&self, id: u16) -> Result<Vec<u8>, String> {
        let mut message = Message::new();
        message
            .set_id(id)
            .set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(Query::query(self.name.clone(), self.rtype));
        message.to_vec().map_err(|e| e.to_string())
    }
}

/// What one reply says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The answer did not fit in the UDP datagram (TC bit): ask over TCP.
    Truncated,
    /// NOERROR: the records found, possibly none (NODATA).
    Found(Found),
    /// NXDOMAIN: the name does not exist.
    NoSuchName,
    /// SERVFAIL: the server could not answer now.
    ServerFailure,
    /// Any other response code (REFUSED, NOTIMP, FORMERR, ...).
    Rejected {
        /// The response code.
        code: u16,
    },
}

/// The useful part of a NOERROR answer, CNAMEs followed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Found {
    /// The last name of the CNAME chain that starts at the question's name
    /// (the question's name when there is no CNAME), without the root dot.
    pub(crate) canonical_name: String,
    /// A/AAAA addresses of the canonical name, in the server's order.
    pub(crate) addresses: Vec<IpAddr>,
    /// PTR targets of the canonical name, in the server's order, without
    /// the root dot.
    pub(crate) names: Vec<String>,
}

/// Reads a reply to `question` sent with `id`. An `Err` says why the bytes
/// are no answer to this question.
pub(crate) fn read_reply(bytes: &[u8], id: u16, question: &Question) -> Result<Reply, String> {
    if bytes.len() < 12 {
        return Err(format!("{} bytes, shorter than a DNS header", bytes.len()));
    }
    if u16::from_be_bytes([bytes[0], bytes[1]]) != id {
        return Err("the reply's id is not the query's".to_owned());
    }
    // The TC bit is read before parsing: a server may cut a truncated
    // reply in the middle of a record.
    if bytes[2] & 0x02 != 0 {
        return Ok(Reply::Truncated);
    }
    let message = Message::from_vec(bytes).map_err(|e| e.to_string())?;
    if message.message_type() != MessageType::Response {
        return Err("it is a query, not a response".to_owned());
    }
    // Some servers leave the question out of an error reply; when it is
    // there, it must be ours.
    if let Some(asked) = message.queries().first() {
        if message.queries().len() != 1
            || asked.query_type() != question.rtype
            || !asked.name().eq_ignore_root(&question.name)
        {
            return Err(format!(
                "it answers {} {} instead",
                asked.name(),
                asked.query_type()
            ));
        }
    }
    Ok(match message.response_code() {
        ResponseCode::NoError => Reply::Found(follow(&message, question)),
        ResponseCode::NXDomain => Reply::NoSuchName,
        ResponseCode::ServFail => Reply::ServerFailure,
        other => Reply::Rejected {
            code: u16::from(other),
        },
    })
}

/// Follows the CNAME chain from the question's name through the answer
/// section, then takes the records of the asked type owned by its end.
/// Bounded by the number of records, so a CNAME loop ends.
fn follow(message: &Message, question: &Question) -> Found {
    let answers = message.answers();
    let mut owner = question.name.clone();
    for _ in 0..answers.len() {
        let next = answers.iter().find_map(|record| match record.data() {
            RData::CNAME(target) if record.name().eq_ignore_root(&owner) => Some(target.0.clone()),
            _ => None,
        });
        match next {
            Some(target) if !target.eq_ignore_root(&owner) => owner = target,
            _ => break,
        }
    }
    let mut found = Found {
        canonical_name: without_root_dot(&owner.to_utf8()),
        ..Found::default()
    };
    for record in answers.iter().filter(|r| r.name().eq_ignore_root(&owner)) {
        match (record.data(), question.rtype) {
            (RData::A(a), RecordType::A) => found.addresses.push(IpAddr::V4(a.0)),
            (RData::AAAA(aaaa), RecordType::AAAA) => found.addresses.push(IpAddr::V6(aaaa.0)),
            (RData::PTR(ptr), RecordType::PTR) => {
                found.names.push(without_root_dot(&ptr.0.to_utf8()));
            }
            _ => {}
        }
    }
    found
}

/// The mnemonic of a DNS response code (RFC 6895 §2.3).
pub(crate) fn rcode_name(code: u16) -> String {
    let name = match code {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        other => return format!("RCODE{other}"),
    };
    name.to_owned()
}

/// A query id nobody on the path can guess in advance (RFC 5452 §4.3):
/// std's randomly keyed SipHash over the clock and a counter.
pub(crate) fn random_id() -> u16 {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let hash = std::collections::hash_map::RandomState::new()
        .hash_one((nanos, COUNTER.fetch_add(1, Ordering::Relaxed)));
    (hash & 0xffff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME, PTR};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn reply(question: &Question, id: u16, code: ResponseCode, answers: Vec<Record>) -> Vec<u8> {
        let mut message = Message::new();
        message
            .set_id(id)
            .set_message_type(MessageType::Response)
            .set_op_code(OpCode::Query)
            .set_response_code(code)
            .add_query(Query::query(question.name.clone(), question.rtype));
        for record in answers {
            message.add_answer(record);
        }
        message.to_vec().unwrap()
    }

    #[test]
    fn a_query_is_one_question_with_recursion_desired() {
        let q = Question::for_name("www.netlab.test", RecordType::A).unwrap();
        let bytes = q.to_bytes(0x1234).unwrap();
        let parsed = Message::from_vec(&bytes).unwrap();
        assert_eq!(parsed.id(), 0x1234);
        assert!(parsed.recursion_desired());
        assert_eq!(parsed.queries().len(), 1);
        assert_eq!(parsed.queries()[0].name().to_ascii(), "www.netlab.test.");
        assert_eq!(parsed.queries()[0].query_type(), RecordType::A);
        assert!(parsed.extensions().is_none(), "no EDNS");
    }

    #[test]
    fn reverse_names_are_in_arpa() {
        let q = Question::for_address("192.0.2.10".parse().unwrap());
        assert_eq!(q.name.to_ascii(), "10.2.0.192.in-addr.arpa.");
        let q = Question::for_address("2001:db8::10".parse().unwrap());
        assert!(q.name.to_ascii().ends_with(".8.b.d.0.1.0.0.2.ip6.arpa."));
    }

    #[test]
    fn cname_chain_is_followed_to_the_addresses() {
        let q = Question::for_name("alias.netlab.test", RecordType::A).unwrap();
        let bytes = reply(
            &q,
            7,
            ResponseCode::NoError,
            vec![
                Record::from_rdata(
                    name("alias.netlab.test."),
                    60,
                    RData::CNAME(CNAME(name("www.netlab.test."))),
                ),
                Record::from_rdata(
                    name("www.netlab.test."),
                    60,
                    RData::A(A("192.0.2.10".parse().unwrap())),
                ),
                // Not on the chain: ignored.
                Record::from_rdata(
                    name("other.netlab.test."),
                    60,
                    RData::A(A("192.0.2.99".parse().unwrap())),
                ),
            ],
        );
        let Reply::Found(found) = read_reply(&bytes, 7, &q).unwrap() else {
            panic!("not found");
        };
        assert_eq!(found.canonical_name, "www.netlab.test");
        assert_eq!(
            found.addresses,
            vec!["192.0.2.10".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn cname_loop_ends() {
        let q = Question::for_name("a.test", RecordType::AAAA).unwrap();
        let bytes = reply(
            &q,
            1,
            ResponseCode::NoError,
            vec![
                Record::from_rdata(name("a.test."), 60, RData::CNAME(CNAME(name("b.test.")))),
                Record::from_rdata(name("b.test."), 60, RData::CNAME(CNAME(name("a.test.")))),
                Record::from_rdata(
                    name("b.test."),
                    60,
                    RData::AAAA(AAAA("2001:db8::1".parse().unwrap())),
                ),
            ],
        );
        let Reply::Found(found) = read_reply(&bytes, 1, &q).unwrap() else {
            panic!("not found");
        };
        assert!(found.canonical_name == "a.test" || found.canonical_name == "b.test");
    }

    #[test]
    fn ptr_names_lose_the_root_dot() {
        let q = Question::for_address("192.0.2.10".parse().unwrap());
        let bytes = reply(
            &q,
            9,
            ResponseCode::NoError,
            vec![Record::from_rdata(
                q.name.clone(),
                60,
                RData::PTR(PTR(name("www.netlab.test."))),
            )],
        );
        let Reply::Found(found) = read_reply(&bytes, 9, &q).unwrap() else {
            panic!("not found");
        };
        assert_eq!(found.names, ["www.netlab.test"]);
    }

    #[test]
    fn response_codes() {
        let q = Question::for_name("x.test", RecordType::A).unwrap();
        let nx = reply(&q, 2, ResponseCode::NXDomain, vec![]);
        assert_eq!(read_reply(&nx, 2, &q).unwrap(), Reply::NoSuchName);
        let fail = reply(&q, 2, ResponseCode::ServFail, vec![]);
        assert_eq!(read_reply(&fail, 2, &q).unwrap(), Reply::ServerFailure);
        let refused = reply(&q, 2, ResponseCode::Refused, vec![]);
        assert_eq!(
            read_reply(&refused, 2, &q).unwrap(),
            Reply::Rejected { code: 5 }
        );
        assert_eq!(rcode_name(5), "REFUSED");
        assert_eq!(rcode_name(23), "RCODE23");
    }

    #[test]
    fn truncated_replies_are_seen_before_parsing() {
        let q = Question::for_name("big.test", RecordType::A).unwrap();
        let mut bytes = reply(&q, 3, ResponseCode::NoError, vec![]);
        bytes[2] |= 0x02;
        bytes.truncate(20); // cut mid-question: unparseable, still truncated
        assert_eq!(read_reply(&bytes, 3, &q).unwrap(), Reply::Truncated);
    }

    #[test]
    fn replies_to_other_questions_are_refused() {
        let q = Question::for_name("x.test", RecordType::A).unwrap();
        let bytes = reply(&q, 4, ResponseCode::NoError, vec![]);
        assert!(read_reply(&bytes, 5, &q).unwrap_err().contains("id"));
        let other = Question::for_name("y.test", RecordType::A).unwrap();
        assert!(read_reply(&bytes, 4, &other).is_err());
        let query = q.to_bytes(4).unwrap();
        assert!(read_reply(&query, 4, &q).unwrap_err().contains("query"));
        assert!(read_reply(&[0; 5], 0, &q).is_err());
        let mut garbage = [0xff; 64];
        garbage[2] = 0x81; // a response, not truncated
        assert!(read_reply(&garbage, 0xffff, &q).is_err());
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(Question::for_name("", RecordType::A).is_err());
        let long_label = "a".repeat(64);
        assert!(Question::for_name(&long_label, RecordType::A).is_err());
        assert!(Question::for_name("bücher.test", RecordType::A).is_ok());
    }

    #[test]
    fn ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..32).map(|_| random_id()).collect();
        assert!(ids.len() > 16);
    }
}
