//! Prepared answers: the encoded sections of the response to one
//! (lowercased name, type), built once per zone snapshot and copied into
//! every response to that question.
//!
//! The answer to (name, type) does not change until the zones are
//! reloaded, and encoding records (with name compression) is most of the
//! cost of answering. As NSD and Knot do, the sections after the question
//! are encoded once, for a question whose name is the lowercased qname at
//! offset 12. A real query's name has the same length whatever its case,
//! so compression pointers into it stay valid when the client's question is
//! echoed in its place (owner names then come out in the client's case).
//!
//! Answers are built lazily into a [`PreparedCache`] that belongs to one
//! snapshot, so a reload drops them all at once. The cache is the one
//! sharded LRU ([`dnslab_wire::ShardedLru`]), bounded in entries and bytes:
//! queries for random names (NXDOMAIN floods) evict old entries instead of
//! growing memory.

use std::fmt;
use std::sync::Arc;

use dnslab_wire::{Cached, ShardedLru, HEADER_LEN, SHARDS};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::BinEncodable;

use crate::respond::Sections;

/// What kind of answer a question got; for the one-line query log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Answer,
    /// No answer, not authoritative, NS records of a child zone.
    Referral(Name),
    NxDomain,
    NoData,
    Refused,
    /// Any other RCODE (SERVFAIL when a response could not be encoded).
    Error(ResponseCode),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Answer => write!(f, "answer"),
            Outcome::Referral(zone) => write!(f, "referral to {zone}"),
            Outcome::NxDomain => write!(f, "NXDOMAIN"),
            Outcome::NoData => write!(f, "NODATA"),
            Outcome::Refused => write!(f, "REFUSED"),
            Outcome::Error(ResponseCode::FormErr) => write!(f, "FORMERR"),
            Outcome::Error(ResponseCode::ServFail) => write!(f, "SERVFAIL"),
            Outcome::Error(ResponseCode::NotImp) => write!(f, "NOTIMP"),
            Outcome::Error(rcode) => write!(f, "{rcode:?}"),
        }
    }
}

/// The records of a response as the lookup produced them.
#[derive(Clone, Copy, Debug)]
pub struct Records<'a> {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    pub answers: &'a [Record],
    pub authority: &'a [Record],
    pub additionals: &'a [Record],
}

/// The encoded response sections for one (lowercased name, type).
#[derive(Clone, Debug)]
pub struct Prepared {
    rcode: ResponseCode,
    authoritative: bool,
    counts: [u16; 3],
    /// Answer, authority and additional sections, compressed as if the
    /// question (lowercased) started at offset 12.
    body: Box<[u8]>,
    pub outcome: Outcome,
}

impl Prepared {
    /// Encodes `records` as the response to `qname` (lowercased) `qtype`.
    /// A response that cannot be encoded becomes SERVFAIL, logged.
    pub fn build(qname: &Name, qtype: RecordType, records: Records<'_>) -> Prepared {
        match Self::encode(qname, qtype, &records) {
            Ok(prepared) => prepared,
            Err(error) => {
                tracing::error!(%qname, ?qtype, %error, "response does not encode; SERVFAIL");
                Prepared::error(ResponseCode::ServFail)
            }
        }
    }

    /// A response with no records and `rcode`.
    pub fn error(rcode: ResponseCode) -> Prepared {
        Prepared {
            rcode,
            authoritative: false,
            counts: [0; 3],
            body: Box::default(),
            outcome: Outcome::Error(rcode),
        }
    }

    fn encode(
        qname: &Name,
        qtype: RecordType,
        records: &Records<'_>,
    ) -> Result<Prepared, hickory_proto::ProtoError> {
        let mut msg = Message::new(0, MessageType::Response, OpCode::Query);
        msg.add_query(Query::query(qname.clone(), qtype));
        msg.answers = records.answers.to_vec();
        msg.authorities = records.authority.to_vec();
        msg.additionals = records.additionals.to_vec();
        let bytes = msg.to_vec()?;
        // Header, then the question: name, type, class.
        let skip = HEADER_LEN + qname.to_bytes()?.len() + 4;
        let count = |records: &[Record]| {
            u16::try_from(records.len())
                .map_err(|_| hickory_proto::ProtoError::Message("more than 65535 records"))
        };
        Ok(Prepared {
            rcode: records.rcode,
            authoritative: records.authoritative,
            counts: [
                count(records.answers)?,
                count(records.authority)?,
                count(records.additionals)?,
            ],
            body: bytes.get(skip..).unwrap_or_default().into(),
            outcome: Outcome::classify(records),
        })
    }

    pub fn sections(&self) -> Sections<'_> {
        Sections {
            rcode: self.rcode,
            authoritative: self.authoritative,
            counts: self.counts,
            body: &self.body,
        }
    }

    /// Bytes held, for the cache's budget.
    fn weight(&self) -> usize {
        self.body.len() + std::mem::size_of::<Self>()
    }
}

impl Outcome {
    fn classify(records: &Records<'_>) -> Outcome {
        match records.rcode {
            ResponseCode::NoError if !records.answers.is_empty() => Outcome::Answer,
            ResponseCode::NoError => match records
                .authority
                .iter()
                .find(|r| r.record_type() == RecordType::NS)
            {
                Some(ns) if !records.authoritative => Outcome::Referral(ns.name.clone()),
                _ => Outcome::NoData,
            },
            ResponseCode::NXDomain => Outcome::NxDomain,
            ResponseCode::Refused => Outcome::Refused,
            rcode => Outcome::Error(rcode),
        }
    }
}

/// A bounded LRU of prepared answers keyed by [`dnslab_wire::Request::key`].
pub struct PreparedCache {
    answers: ShardedLru<Entry>,
}

/// A prepared answer and the key it answers.
struct Entry {
    key: Box<[u8]>,
    prepared: Arc<Prepared>,
}

impl Cached for Entry {
    fn key(&self) -> &[u8] {
        &self.key
    }

    fn weight(&self) -> usize {
        self.prepared.weight() + self.key.len()
    }
}

impl PreparedCache {
    /// A cache of at most `max_entries` answers and about `max_bytes`.
    pub fn new(max_entries: usize, max_bytes: usize) -> PreparedCache {
        PreparedCache {
            answers: ShardedLru::new(max_entries, SHARDS).max_bytes(max_bytes),
        }
    }

    /// The answer for `key`, building and remembering it on a miss. The
    /// build runs without the lock held; two workers missing the same key
    /// at once both build it, which is harmless.
    pub fn get_or_build(&self, key: &[u8], build: impl FnOnce() -> Prepared) -> Arc<Prepared> {
        if let Some(hit) = self.answers.slot(key).get() {
            return Arc::clone(&hit.prepared);
        }
        let prepared = Arc::new(build());
        self.answers.put(Entry {
            key: key.into(),
            prepared: Arc::clone(&prepared),
        });
        prepared
    }

    /// Answers held, for tests and statistics.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::str::FromStr;

    use hickory_proto::rr::rdata::{A, NS};
    use hickory_proto::rr::RData;

    fn name(s: &str) -> Name {
        Name::from_str(s).expect("name")
    }

    fn a(owner: &str, ip: [u8; 4]) -> Record {
        Record::from_rdata(name(owner), 300, RData::A(A(Ipv4Addr::from(ip))))
    }

    #[test]
    fn owner_equal_to_the_question_is_a_pointer_to_offset_12() {
        let answers = [a("www.example.com.", [192, 0, 2, 1])];
        let records = Records {
            rcode: ResponseCode::NoError,
            authoritative: true,
            answers: &answers,
            authority: &[],
            additionals: &[],
        };
        let prepared = Prepared::build(&name("www.example.com."), RecordType::A, records);
        assert_eq!(&prepared.body[..2], &[0xC0, 12]);
        assert_eq!(prepared.body.len(), 2 + 10 + 4);
        assert_eq!(prepared.counts, [1, 0, 0]);
        assert_eq!(prepared.outcome, Outcome::Answer);
    }

    #[test]
    fn outcomes_are_classified() {
        let ns = [Record::from_rdata(
            name("sub.example.com."),
            300,
            RData::NS(NS(name("ns.sub.example.com."))),
        )];
        let referral = Records {
            rcode: ResponseCode::NoError,
            authoritative: false,
            answers: &[],
            authority: &ns,
            additionals: &[],
        };
        assert_eq!(
            Outcome::classify(&referral),
            Outcome::Referral(name("sub.example.com."))
        );
        let nodata = Records {
            authoritative: true,
            ..referral
        };
        assert_eq!(Outcome::classify(&nodata), Outcome::NoData);
        let nx = Records {
            rcode: ResponseCode::NXDomain,
            ..nodata
        };
        assert_eq!(Outcome::classify(&nx).to_string(), "NXDOMAIN");
    }

    #[test]
    fn cache_stays_within_its_entry_bound() {
        let cache = PreparedCache::new(SHARDS * 2, usize::MAX);
        let records = Records {
            rcode: ResponseCode::NXDomain,
            authoritative: true,
            answers: &[],
            authority: &[],
            additionals: &[],
        };
        for i in 0..1000u32 {
            let qname = name(&format!("n{i}.example."));
            cache.get_or_build(&i.to_be_bytes(), || {
                Prepared::build(&qname, RecordType::A, records)
            });
        }
        assert!(cache.len() <= SHARDS * 2, "{} entries", cache.len());
        let mut built = false;
        cache.get_or_build(&999u32.to_be_bytes(), || {
            built = true;
            Prepared::build(&name("x."), RecordType::A, records)
        });
        assert!(!built, "the most recent entry is still cached");
    }
}
