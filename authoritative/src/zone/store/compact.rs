//! The compact record form: records between the reader and the store,
//! about 130 bytes each instead of the 300 of a `SourcedRecord`, kept in
//! chunks that building the store frees one by one ([`CompactRecords`],
//! the loader's [`RecordSink`]), and RDATA as the store keeps it
//! ([`StoredRData`]: addresses inline, the rest boxed).
//!
//! The checker ([`crate::zone::check`]) judges these records as they are;
//! [`super::Zone::from_compact`] moves them into the nodes of
//! [`super::node`].

use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::zone::check::CheckedRecord;
use crate::zone::reader::{type_covered, RecordSink};
use crate::zone::{Location, SourcedRecord};

/// RDATA as stored: addresses inline, everything else boxed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum StoredRData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Other(Box<RData>),
}

/// RDATA as the store holds it, borrowed: what zone transfers encode
/// without building an `RData` per record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RDataRef<'a> {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Other(&'a RData),
}

impl StoredRData {
    pub(super) fn as_ref(&self) -> RDataRef<'_> {
        match self {
            StoredRData::A(a) => RDataRef::A(*a),
            StoredRData::Aaaa(a) => RDataRef::Aaaa(*a),
            StoredRData::Other(other) => RDataRef::Other(other),
        }
    }

    pub(super) fn new(data: RData) -> Self {
        match data {
            RData::A(a) => StoredRData::A(a.0),
            RData::AAAA(aaaa) => StoredRData::Aaaa(aaaa.0),
            other => StoredRData::Other(Box::new(other)),
        }
    }

    pub(super) fn to_rdata(&self) -> RData {
        match self {
            StoredRData::A(a) => RData::A(A(*a)),
            StoredRData::Aaaa(a) => RData::AAAA(AAAA(*a)),
            StoredRData::Other(other) => (**other).clone(),
        }
    }

    /// The RDATA without a copy, when it is not an address.
    pub(super) fn as_other(&self) -> Option<&RData> {
        match self {
            StoredRData::Other(other) => Some(other),
            _ => None,
        }
    }
}

/// A record between the reader and the store: about 130 bytes instead of
/// the 300 of a `SourcedRecord`, because a million-record zone is held
/// whole while it is checked, and that vector is the peak of the load.
#[derive(Debug)]
pub(crate) struct CompactRecord {
    pub(super) owner: Name,
    pub(super) record_type: RecordType,
    pub(super) ttl: u32,
    pub(super) data: StoredRData,
    location: Location,
}

impl From<SourcedRecord> for CompactRecord {
    fn from(SourcedRecord { record, location }: SourcedRecord) -> Self {
        let record_type = record.record_type();
        let Record {
            name, ttl, data, ..
        } = record;
        CompactRecord {
            owner: name,
            record_type,
            ttl,
            data: StoredRData::new(data),
            location,
        }
    }
}

impl CompactRecord {
    /// An NSEC3 record or a signature over one: the hashed-owner chain that
    /// lives beside the zone's names, not among them.
    pub(super) fn is_nsec3_chain(&self) -> bool {
        match self.record_type {
            RecordType::NSEC3 => true,
            RecordType::RRSIG => {
                self.data.as_other().and_then(type_covered) == Some(RecordType::NSEC3)
            }
            _ => false,
        }
    }
}

impl CheckedRecord for CompactRecord {
    fn owner(&self) -> &Name {
        &self.owner
    }

    fn record_type(&self) -> RecordType {
        self.record_type
    }

    fn data(&self) -> Option<&RData> {
        self.data.as_other()
    }

    fn location(&self) -> Location {
        self.location.clone()
    }
}

/// Records as the loader keeps them between the reader and the store: in
/// chunks, so that building the store frees each chunk once its records
/// are in, instead of holding the whole zone twice at the end.
#[derive(Debug, Default)]
pub(crate) struct CompactRecords {
    pub(super) chunks: Vec<Vec<CompactRecord>>,
}

impl CompactRecords {
    /// Records a chunk: 8 MiB, large enough for the allocator to return
    /// each one to the system as soon as it is freed.
    const CHUNK: usize = 1 << 16;

    pub(super) fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &CompactRecord> + Clone {
        self.chunks.iter().flatten()
    }
}

impl From<Vec<SourcedRecord>> for CompactRecords {
    fn from(records: Vec<SourcedRecord>) -> Self {
        // Collected in place: the compact records reuse the vector's buffer.
        let records: Vec<CompactRecord> = records.into_iter().map(CompactRecord::from).collect();
        CompactRecords {
            chunks: vec![records],
        }
    }
}

/// The loader's sink: records go compact as the reader makes them.
impl RecordSink for CompactRecords {
    fn reserve(&mut self, additional: usize) {
        if self.chunks.is_empty() {
            self.chunks
                .push(Vec::with_capacity(additional.min(Self::CHUNK)));
        }
    }

    fn push(&mut self, record: Record, location: Location) {
        let record = CompactRecord::from(SourcedRecord { record, location });
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < Self::CHUNK => chunk.push(record),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK);
                chunk.push(record);
                self.chunks.push(chunk);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::testing::{self, name, records, texts, SOA};
    use super::super::{Zone, ZoneSummary};
    use super::*;
    use crate::zone::check::{self, Problem, ProblemKind};

    /// The loader holds a whole zone in this form at once: its size is
    /// the peak memory of loading a big zone.
    #[test]
    fn a_compact_record_is_less_than_half_a_sourced_record() {
        let compact = std::mem::size_of::<CompactRecord>();
        let sourced = std::mem::size_of::<SourcedRecord>();
        assert!(compact * 2 <= sourced, "{compact} vs {sourced} bytes");
    }

    /// The compact form keeps addresses without an `RData`; every rule
    /// must still judge it exactly as it judges the records as read.
    #[test]
    fn compact_records_have_the_problems_of_the_records_as_read() {
        let origin = name("example.");
        let sourced = records(
            &origin,
            &format!(
                "{SOA}
                 www 300 IN CNAME a.example.net.
                 www 300 IN A 192.0.2.1
                 old 300 IN DNAME new.example.
                 x.old 300 IN A 192.0.2.2
                 sub 300 IN NS ns.sub.example.
                 sub2 300 IN NS ns.sub2.example.
                 ns.sub2 300 IN AAAA 2001:db8::1
                 x.sub2 300 IN TXT \"t\"
                 @ 300 IN NS ns2.example.
                 www2 300 IN SOA ns.example.net. admin.example. 2 7200 900 1209600 300
                 far.example.org. 300 IN A 192.0.2.3"
            ),
        );
        let texts = |problems: Vec<Problem>| -> Vec<String> {
            problems.iter().map(ToString::to_string).collect()
        };
        let as_read = texts(check::check_zone(&origin, &sourced));
        assert_eq!(as_read.len(), 8, "{as_read:#?}");
        let compact = texts(Zone::from_records(origin, sourced).unwrap_err());
        assert_eq!(compact, as_read);
    }

    /// A zone bigger than one chunk of the loader's sink keeps every
    /// record, and a problem in a later chunk keeps its line.
    #[test]
    fn records_across_chunks_are_all_checked_and_stored() {
        let origin = name("example.");
        let mut sink = CompactRecords::default();
        let hosts = CompactRecords::CHUNK + 2;
        let apex = records(&origin, SOA);
        let lines = apex.len();
        sink.reserve(lines + hosts);
        for sourced in apex {
            sink.push(sourced.record, sourced.location);
        }
        let file = Arc::new(std::path::PathBuf::from("big.zone"));
        let at = |line: usize| Location {
            file: file.clone(),
            line: line as u32,
        };
        for i in 0..hosts {
            let host = format!("h{i} 300 IN A 192.0.2.{}", i % 256);
            sink.push(testing::record(&origin, &host), at(lines + i + 1));
        }
        assert_eq!(sink.chunks.len(), 2);
        let zone = Zone::from_compact(origin.clone(), sink).unwrap();
        assert_eq!(
            zone.summary(),
            ZoneSummary {
                records: hosts + 2,
                names: hosts + 1,
                delegations: 0,
                signatures: 0,
                proves_denial: false,
            }
        );
        let last = zone
            .node(&name(&format!("h{}.example.", hosts - 1)))
            .unwrap();
        let a = last.rrset(RecordType::A).unwrap();
        assert_eq!(
            texts(&a.records(&last.name()).collect::<Vec<_>>()),
            [format!(
                "h{}.example. 300 IN A 192.0.2.{}",
                hosts - 1,
                (hosts - 1) % 256
            )]
        );

        let mut sink = CompactRecords::default();
        for sourced in records(&origin, SOA) {
            sink.push(sourced.record, sourced.location);
        }
        for i in 0..hosts {
            sink.push(
                testing::record(&origin, &format!("h{i} 300 IN A 192.0.2.1")),
                at(lines + i + 1),
            );
        }
        let stray = testing::record(&origin, "www.example.org. 300 IN A 192.0.2.1");
        sink.push(stray, at(lines + hosts + 1));
        // A warning (BIND ignores out-of-zone data), found in the last chunk.
        let zone = Zone::from_compact(origin.clone(), sink).unwrap();
        let problems = zone.warnings();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::OutOfZone { apex: origin });
        assert_eq!(
            problems[0].location.as_ref().map(ToString::to_string),
            Some(format!("big.zone:{}", lines + hosts + 1))
        );
    }
}
