//! Prepared answers: the encoded sections of the response to one
//! (lowercased name, type, DO, view), built once per zone snapshot and
//! copied into every response to that question (the view, which
//! `crate::views` chooses per query, is 0 for every query of a server
//! without views).
//!
//! The answer to (name, type) does not change until the zones are
//! reloaded, and encoding records (with name compression) is most of the
//! cost of answering. As NSD and Knot do, the sections after the question
//! are encoded once, for a question whose name is the lowercased qname at
//! offset 12. A real query's name has the same length whatever its case,
//! so compression pointers into it stay valid when the client's question is
//! echoed in its place (owner names then come out in the client's case).
//!
//! Load distribution rotates the records of each RRset per query
//! (`dnslab_wire::RrsetOrder`) without encoding per query: an answer with
//! RRsets of several records is encoded once per rotation, one after
//! another in one buffer, and each query copies the rotation the order
//! picks (one relaxed atomic increment when cyclic). An answer with no
//! such RRset, or in a fixed order, is encoded once, as before.
//!
//! Answers are built lazily into a [`PreparedCache`] that belongs to one
//! snapshot, so a reload drops them all at once. The cache is the one
//! sharded LRU ([`dnslab_wire::ShardedLru`]), bounded in entries and bytes:
//! queries for random names (NXDOMAIN floods) evict old entries instead of
//! growing memory.

use std::fmt;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use dnslab_wire::{rotate_rrsets, Cached, RrsetOrder, ShardedLru, HEADER_LEN, SHARDS};
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

/// The encoded response sections for one (lowercased name, type), in
/// each rotation of its RRsets.
#[derive(Debug)]
pub(crate) struct PreparedAnswer {
    rcode: ResponseCode,
    authoritative: bool,
    counts: [u16; 3],
    /// Answer, authority and additional sections, compressed as if the
    /// question (lowercased) started at offset 12: once per rotation, one
    /// after another.
    body: Box<[u8]>,
    /// Where each rotation ends in `body` when there are several; empty
    /// when there is one.
    ends: Box<[u32]>,
    order: RrsetOrder,
    /// The cyclic order's count of answers given.
    next: AtomicU32,
    /// Whether the answer depends on the view of the client (RFC 7871
    /// 7.2.1: its ECS scope is then not 0).
    pub(crate) by_view: bool,
    /// For the query log.
    pub(crate) kind: AnswerKind,
}

impl PreparedAnswer {
    /// Encodes `records`, of a response of `kind`, as the response to
    /// `qname` (lowercased) `qtype`, once per rotation `order` needs. A
    /// response that cannot be encoded becomes SERVFAIL, logged.
    pub(crate) fn build(
        qname: &Name,
        qtype: RecordType,
        records: ResponseRecords,
        kind: AnswerKind,
        order: RrsetOrder,
    ) -> PreparedAnswer {
        match Self::encode(qname, qtype, records, kind, order) {
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
            ends: Box::default(),
            order: RrsetOrder::Fixed,
            next: AtomicU32::new(0),
            by_view: false,
            kind: AnswerKind::Error(rcode),
        }
    }

    fn encode(
        qname: &Name,
        qtype: RecordType,
        records: ResponseRecords,
        kind: AnswerKind,
        order: RrsetOrder,
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
        let rotations = order.rotations([
            &records.answers[..],
            &records.authority[..],
            &records.additionals[..],
        ]);
        // Header, then the question: name, type, class.
        let skip = HEADER_LEN + qname.to_bytes()?.len() + 4;
        let mut body = Vec::new();
        let mut ends = Vec::new();
        for rotation in 0..rotations {
            let mut msg = Message::new(0, MessageType::Response, OpCode::Query);
            msg.add_query(Query::query(qname.clone(), qtype));
            for (section, records) in [
                (&mut msg.answers, &records.answers),
                (&mut msg.authorities, &records.authority),
                (&mut msg.additionals, &records.additionals),
            ] {
                section.clone_from(records);
                rotate_rrsets(section, rotation);
            }
            body.extend_from_slice(msg.to_vec()?.get(skip..).unwrap_or_default());
            if rotations > 1 {
                ends.push(u32::try_from(body.len()).map_err(|_| {
                    hickory_proto::ProtoError::Message("prepared answer over 4 GiB")
                })?);
            }
        }
        Ok(PreparedAnswer {
            rcode: records.rcode,
            authoritative: records.authoritative,
            counts,
            body: body.into(),
            ends: ends.into(),
            order,
            next: AtomicU32::new(0),
            by_view: false,
            kind,
        })
    }

    /// The sections of the next answer: the one encoding there is, or the
    /// rotation the order picks.
    pub(crate) fn sections(&self) -> Sections<'_> {
        let body = if self.ends.is_empty() {
            &self.body[..]
        } else {
            let at = self.order.pick(&self.next, self.ends.len());
            let start = at
                .checked_sub(1)
                .and_then(|before| self.ends.get(before))
                .map_or(0, |&end| end as usize);
            let end = self
                .ends
                .get(at)
                .map_or(self.body.len(), |&end| end as usize);
            self.body.get(start..end).unwrap_or_default()
        };
        Sections {
            rcode: self.rcode,
            authoritative: self.authoritative,
            counts: self.counts,
            body,
        }
    }

    /// Bytes held, for the cache's budget.
    fn weight(&self) -> usize {
        self.body.len() + 4 * self.ends.len() + std::mem::size_of::<Self>()
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
        let prepared = PreparedAnswer::build(
            &owner,
            RecordType::A,
            answer,
            AnswerKind::Answer,
            RrsetOrder::Cyclic,
        );
        assert_eq!(&prepared.body[..2], &[0xC0, 12]);
        assert_eq!(prepared.body.len(), 2 + 10 + 4);
        assert_eq!(prepared.counts, [1, 0, 0]);
        assert_eq!(prepared.kind, AnswerKind::Answer);
    }

    /// The first address of each of `n` answers, each written with the
    /// question and `prepared`'s next sections as a response is.
    fn first_addresses(prepared: &PreparedAnswer, qname: &Name, n: usize) -> Vec<String> {
        let header = dnslab_wire::RequestHeader {
            id: 1,
            opcode: 0,
            recursion_desired: false,
            checking_disabled: false,
        };
        let question = Query::query(qname.clone(), RecordType::A)
            .to_bytes()
            .unwrap();
        (0..n)
            .map(|_| {
                let mut wire = Vec::new();
                let (sections, limit) = (prepared.sections(), 65535);
                crate::respond::write(
                    &mut wire,
                    &header,
                    Some(&question),
                    sections,
                    None,
                    None,
                    1232,
                    limit,
                );
                let decoded = Message::from_vec(&wire).expect("every rotation decodes");
                let first = decoded.answers.into_iter().find_map(|r| match r.data {
                    RData::A(a) => Some(a.0.to_string()),
                    _ => None,
                });
                first.unwrap_or_default()
            })
            .collect()
    }

    /// Load distribution: every RRset of several records rotates, one
    /// encoding per rotation (compression pointers valid in each, behind
    /// a CNAME too); fixed keeps the file's order, one encoding.
    #[test]
    fn rrsets_rotate_per_answer_in_cyclic_order_and_stay_put_in_fixed() {
        let example = zone(
            "example.",
            &format!(
                "{SOA}\nwww 300 IN A 192.0.2.1\nwww 300 IN A 192.0.2.2\n\
                 www 300 IN A 192.0.2.3\nalias 300 IN CNAME www.example."
            ),
        );
        let catalog = Catalog::new(vec![Arc::new(example)]).unwrap();
        let prepare = |qname: &str, order| {
            let found = lookup(&catalog, &name(qname), RecordType::A);
            let kind = AnswerKind::of(&found);
            PreparedAnswer::build(
                &name(qname),
                RecordType::A,
                found.into_records(),
                kind,
                order,
            )
        };
        let cyclic = prepare("www.example.", RrsetOrder::Cyclic);
        assert_eq!(cyclic.ends.len(), 3, "one encoding per rotation");
        assert_eq!(
            first_addresses(&cyclic, &name("www.example."), 4),
            ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.1"]
        );
        let alias = prepare("alias.example.", RrsetOrder::Cyclic);
        assert_eq!(
            first_addresses(&alias, &name("alias.example."), 3),
            ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
        );
        let fixed = prepare("www.example.", RrsetOrder::Fixed);
        assert!(fixed.ends.is_empty());
        assert_eq!(
            first_addresses(&fixed, &name("www.example."), 3),
            ["192.0.2.1"; 3]
        );
        let random = prepare("www.example.", RrsetOrder::Random);
        let firsts = first_addresses(&random, &name("www.example."), 60);
        for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            assert!(firsts.iter().any(|a| a == address), "{address} never first");
        }
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
            PreparedAnswer::build(
                qname,
                RecordType::A,
                nxdomain.clone(),
                AnswerKind::NxDomain,
                RrsetOrder::Cyclic,
            )
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
