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

use crate::lookup::{End, Lookup, ResponseRecords};
use crate::respond::Sections;

/// What kind of answer a question got, as the one-line query log names
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AnswerKind {
    Answer,
    /// No answer, not authoritative, NS records of a child zone.
    Referral(Name),
    NxDomain,
    NoData,
    Refused,
    /// Any other RCODE (SERVFAIL when a response could not be encoded).
    Error(ResponseCode),
}

impl AnswerKind {
    /// The kind of the response `lookup` makes, as its client sees it: a
    /// chain of aliases is an answer, whatever ends it, unless its last
    /// name does not exist (NXDOMAIN) or cannot (YXDOMAIN).
    pub(crate) fn of(lookup: &Lookup<'_>) -> AnswerKind {
        match &lookup.end {
            End::Refused => AnswerKind::Refused,
            End::NxDomain { .. } => AnswerKind::NxDomain,
            End::YxDomain { .. } => AnswerKind::Error(ResponseCode::YXDomain),
            _ if !lookup.aliases.is_empty() => AnswerKind::Answer,
            End::Answer { .. } | End::OutOfZones | End::ChainStopped => AnswerKind::Answer,
            End::NoData { .. } => AnswerKind::NoData,
            End::Referral { cut, .. } => AnswerKind::Referral(cut.name()),
        }
    }
}

impl fmt::Display for AnswerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerKind::Answer => write!(f, "answer"),
            AnswerKind::Referral(zone) => write!(f, "referral to {zone}"),
            AnswerKind::NxDomain => write!(f, "NXDOMAIN"),
            AnswerKind::NoData => write!(f, "NODATA"),
            AnswerKind::Refused => write!(f, "REFUSED"),
            AnswerKind::Error(ResponseCode::FormErr) => write!(f, "FORMERR"),
            AnswerKind::Error(ResponseCode::ServFail) => write!(f, "SERVFAIL"),
            AnswerKind::Error(ResponseCode::NotImp) => write!(f, "NOTIMP"),
            AnswerKind::Error(rcode) => write!(f, "{rcode:?}"),
        }
    }
}

/// The encoded response sections for one (lowercased name, type).
#[derive(Clone, Debug)]
pub(crate) struct PreparedAnswer {
    rcode: ResponseCode,
    authoritative: bool,
    counts: [u16; 3],
    /// Answer, authority and additional sections, compressed as if the
    /// question (lowercased) started at offset 12.
    body: Box<[u8]>,
    /// For the query log.
    pub(crate) kind: AnswerKind,
}

impl PreparedAnswer {
    /// Encodes `records`, of a response of `kind`, as the response to
    /// `qname` (lowercased) `qtype`. A response that cannot be encoded
    /// becomes SERVFAIL, logged.
    pub(crate) fn build(
        qname: &Name,
        qtype: RecordType,
        records: ResponseRecords,
        kind: AnswerKind,
    ) -> PreparedAnswer {
        match Self::encode(qname, qtype, records, kind) {
            Ok(prepared) => prepared,
            Err(error) => {
                tracing::error!(%qname, ?qtype, %error, "response does not encode; SERVFAIL");
                PreparedAnswer::error(ResponseCode::ServFail)
            }
        }
    }

    /// A response with no records and `rcode`.
    pub(crate) fn error(rcode: ResponseCode) -> PreparedAnswer {
        PreparedAnswer {
            rcode,
            authoritative: false,
            counts: [0; 3],
            body: Box::default(),
            kind: AnswerKind::Error(rcode),
        }
    }

    fn encode(
        qname: &Name,
        qtype: RecordType,
        records: ResponseRecords,
        kind: AnswerKind,
    ) -> Result<PreparedAnswer, hickory_proto::ProtoError> {
        let count = |records: &[Record]| {
            u16::try_from(records.len())
                .map_err(|_| hickory_proto::ProtoError::Message("more than 65535 records"))
        };
        let counts = [
            count(&records.answers)?,
            count(&records.authority)?,
            count(&records.additionals)?,
        ];
        let mut msg = Message::new(0, MessageType::Response, OpCode::Query);
        msg.add_query(Query::query(qname.clone(), qtype));
        msg.answers = records.answers;
        msg.authorities = records.authority;
        msg.additionals = records.additionals;
        let bytes = msg.to_vec()?;
        // Header, then the question: name, type, class.
        let skip = HEADER_LEN + qname.to_bytes()?.len() + 4;
        Ok(PreparedAnswer {
            rcode: records.rcode,
            authoritative: records.authoritative,
            counts,
            body: bytes.get(skip..).unwrap_or_default().into(),
            kind,
        })
    }

    pub(crate) fn sections(&self) -> Sections<'_> {
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

/// A bounded LRU of prepared answers keyed by [`dnslab_wire::Request::key`].
pub(crate) struct PreparedCache {
    answers: ShardedLru<Entry>,
}

/// A prepared answer and the key it answers.
struct Entry {
    key: Box<[u8]>,
    prepared: Arc<PreparedAnswer>,
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
    pub(crate) fn new(max_entries: usize, max_bytes: usize) -> PreparedCache {
        PreparedCache {
            answers: ShardedLru::new(max_entries, SHARDS).max_bytes(max_bytes),
        }
    }

    /// The answer for `key`, building and remembering it on a miss. The
    /// build runs without the lock held; two workers missing the same key
    /// at once both build it, which is harmless.
    pub(crate) fn get_or_build(
        &self,
        key: &[u8],
        build: impl FnOnce() -> PreparedAnswer,
    ) -> Arc<PreparedAnswer> {
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

    /// Answers held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.answers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::RData;

    use crate::lookup::lookup;
    use crate::zone::store::testing::{name, zone, SOA};
    use crate::zone::Catalog;

    /// A response of `rcode` with `answers` only.
    fn records(rcode: ResponseCode, answers: Vec<Record>) -> ResponseRecords {
        ResponseRecords {
            rcode,
            authoritative: true,
            answers,
            authority: Vec::new(),
            additionals: Vec::new(),
        }
    }

    #[test]
    fn owner_equal_to_the_question_is_a_pointer_to_offset_12() {
        let owner = name("www.example.com.");
        let a = Record::from_rdata(owner.clone(), 300, RData::A(A(Ipv4Addr::new(192, 0, 2, 1))));
        let answer = records(ResponseCode::NoError, vec![a]);
        let prepared = PreparedAnswer::build(&owner, RecordType::A, answer, AnswerKind::Answer);
        assert_eq!(&prepared.body[..2], &[0xC0, 12]);
        assert_eq!(prepared.body.len(), 2 + 10 + 4);
        assert_eq!(prepared.counts, [1, 0, 0]);
        assert_eq!(prepared.kind, AnswerKind::Answer);
    }

    /// The query log names what the lookup found, as the client sees it:
    /// a chain ending in NODATA is an answer, one ending in NXDOMAIN is
    /// NXDOMAIN.
    #[test]
    fn answer_kinds_name_what_the_lookup_found() {
        let example = zone(
            "example.",
            &format!(
                "{SOA}\nwww 300 IN A 192.0.2.1\nalias 300 IN CNAME www.example.\n\
                 to-nx 300 IN CNAME nope.example.\nsub 300 IN NS ns.example.net.\n\
                 to-sub 300 IN CNAME www.sub.example."
            ),
        );
        let catalog = Catalog::new(vec![Arc::new(example)]).unwrap();
        let kind = |qname: &str, qtype| AnswerKind::of(&lookup(&catalog, &name(qname), qtype));
        let cases = [
            ("www.example.", RecordType::A, "answer"),
            ("www.example.", RecordType::AAAA, "NODATA"),
            ("nope.example.", RecordType::A, "NXDOMAIN"),
            (
                "www.sub.example.",
                RecordType::A,
                "referral to sub.example.",
            ),
            ("alias.example.", RecordType::AAAA, "answer"),
            ("to-nx.example.", RecordType::A, "NXDOMAIN"),
            ("to-sub.example.", RecordType::A, "answer"),
            ("www.example.org.", RecordType::A, "REFUSED"),
        ];
        for (qname, qtype, expected) in cases {
            assert_eq!(kind(qname, qtype).to_string(), expected, "{qname} {qtype}");
        }
    }

    #[test]
    fn cache_stays_within_its_entry_bound() {
        let cache = PreparedCache::new(SHARDS * 2, usize::MAX);
        let nxdomain = records(ResponseCode::NXDomain, Vec::new());
        let build = |qname: &Name| {
            PreparedAnswer::build(qname, RecordType::A, nxdomain.clone(), AnswerKind::NxDomain)
        };
        for i in 0..1000u32 {
            let qname = name(&format!("n{i}.example."));
            cache.get_or_build(&i.to_be_bytes(), || build(&qname));
        }
        assert!(cache.len() <= SHARDS * 2, "{} entries", cache.len());
        let mut built = false;
        cache.get_or_build(&999u32.to_be_bytes(), || {
            built = true;
            build(&name("x."))
        });
        assert!(!built, "the most recent entry is still cached");
    }
}
