//! What a zone keeps for one name: its RRsets ([`RRset`]: one TTL, no
//! duplicates, RDATA in the compact form of [`super::compact`]), the
//! stored node ([`NodeData`], which refers to its name in the arena of
//! [`super::arena`]) and its public view ([`Node`]).

use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use smallvec::SmallVec;

use super::compact::{RDataRef, StoredRData};

/// The records of one (name, type): one TTL, no duplicates.
#[derive(Clone, Debug)]
pub(crate) struct RRset {
    pub(super) record_type: RecordType,
    ttl: u32,
    pub(super) rdatas: SmallVec<[StoredRData; 1]>,
}

impl RRset {
    /// The TTL of the whole set: the first record's in the file.
    pub(crate) fn record_type(&self) -> RecordType {
        self.record_type
    }

    pub(crate) fn ttl(&self) -> u32 {
        self.ttl
    }

    pub(crate) fn len(&self) -> usize {
        self.rdatas.len()
    }

    /// The RDATA of each record, in file order.
    pub(crate) fn rdatas(&self) -> impl Iterator<Item = RData> + '_ {
        self.rdatas.iter().map(StoredRData::to_rdata)
    }

    /// The `at`-th record's RDATA as stored, without a copy (zone
    /// transfers).
    pub(crate) fn rdata_ref(&self, at: usize) -> Option<RDataRef<'_>> {
        self.rdatas.get(at).map(StoredRData::as_ref)
    }

    /// Borrowed RDATA of the non-address types (NS, CNAME, DNAME, SOA, MX,
    /// ...), for the lookup to follow names without copying records.
    pub(crate) fn other_rdatas(&self) -> impl Iterator<Item = &RData> + '_ {
        self.rdatas.iter().filter_map(StoredRData::as_other)
    }

    /// The records of the set with `owner` as their name (the stored owner,
    /// or the query name when synthesised from a wildcard).
    pub(crate) fn records<'a>(&'a self, owner: &'a Name) -> impl Iterator<Item = Record> + 'a {
        self.rdatas()
            .map(move |data| Record::from_rdata(owner.clone(), self.ttl, data))
    }

    /// RFC 2181 5: "the RRset ... must not contain duplicate RRs"; keep the
    /// first of identical records, in file order, in O(n log n).
    pub(super) fn dedup(&mut self) {
        if self.rdatas.len() < 2 {
            return;
        }
        let mut order: Vec<usize> = (0..self.rdatas.len()).collect();
        order.sort_by(|&a, &b| self.rdatas[a].cmp(&self.rdatas[b]).then(a.cmp(&b)));
        let mut keep = vec![true; self.rdatas.len()];
        for pair in order.windows(2) {
            if self.rdatas[pair[0]] == self.rdatas[pair[1]] {
                keep[pair[1]] = false;
            }
        }
        if keep.iter().all(|&k| k) {
            return;
        }
        let mut keep = keep.into_iter();
        self.rdatas.retain(|_| keep.next().unwrap_or(true));
    }
}

/// What the zone keeps for one name; see [`Node`] for the public view.
#[derive(Clone, Debug)]
pub(super) struct NodeData {
    /// Where the name, in wire format as spelled in the file, starts in the
    /// zone's name arena, and its length.
    pub(super) name_at: u32,
    pub(super) name_len: u8,
    pub(super) rrsets: SmallVec<[RRset; 1]>,
}

impl NodeData {
    /// Adds a record to its RRset. Signatures keep their own TTLs, which
    /// are those of the RRsets they cover (RFC 4034 3): the RRSIGs of a name
    /// are one RRset per TTL.
    pub(super) fn add(&mut self, record_type: RecordType, ttl: u32, data: StoredRData) {
        let is_rrsig = record_type == RecordType::RRSIG;
        match self
            .rrsets
            .iter_mut()
            .find(|set| set.record_type == record_type && (!is_rrsig || set.ttl == ttl))
        {
            Some(set) => set.rdatas.push(data),
            None => self.rrsets.push(RRset {
                record_type,
                ttl,
                rdatas: smallvec::smallvec![data],
            }),
        }
    }
}

/// One name of the zone and what it owns; an empty non-terminal owns
/// nothing. A view into the [`Zone`](super::Zone), cheap to copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node<'z> {
    pub(super) wire: &'z [u8],
    pub(super) data: &'z NodeData,
}

impl<'z> Node<'z> {
    /// The name as first spelled in the file.
    pub(crate) fn name(&self) -> Name {
        // The arena holds only names this store encoded from a `Name`.
        Name::from_bytes(self.wire).unwrap_or_default()
    }

    /// The name in wire form, as spelled in the file.
    pub(crate) fn wire(&self) -> &'z [u8] {
        self.wire
    }

    /// Every RRset at the name, in the order their types first appeared.
    pub(crate) fn rrsets(&self) -> &'z [RRset] {
        &self.data.rrsets
    }

    /// The RRset of `record_type`; for RRSIG, the first of its TTLs (see
    /// [`Node::rrsets_of`]).
    pub(crate) fn rrset(&self, record_type: RecordType) -> Option<&'z RRset> {
        self.rrsets()
            .iter()
            .find(|set| set.record_type == record_type)
    }

    /// Every RRset of `record_type`: one at most, except RRSIG (one per TTL).
    pub(crate) fn rrsets_of(
        &self,
        record_type: RecordType,
    ) -> impl Iterator<Item = &'z RRset> + 'z {
        self.rrsets()
            .iter()
            .filter(move |set| set.record_type == record_type)
    }

    /// An empty non-terminal: exists only because names below it do.
    #[cfg(test)]
    pub(super) fn is_empty_non_terminal(&self) -> bool {
        self.data.rrsets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{name, texts, zone, SOA};
    use super::*;

    #[test]
    fn rrset_takes_the_first_ttl_and_drops_duplicates() {
        let zone = zone(
            "example.",
            &format!(
                "{SOA}\nwww 300 IN A 192.0.2.2\nwww 60 IN A 192.0.2.1\nwww 300 IN A 192.0.2.2\n\
                 www 300 IN TXT \"t\""
            ),
        );
        let node = zone.node(&name("www.example.")).unwrap();
        let a = node.rrset(RecordType::A).unwrap();
        assert_eq!(a.ttl(), 300);
        assert_eq!(
            texts(&a.records(&node.name()).collect::<Vec<_>>()),
            [
                "www.example. 300 IN A 192.0.2.2",
                "www.example. 300 IN A 192.0.2.1"
            ]
        );
        let types: Vec<RecordType> = node.rrsets().iter().map(|set| set.record_type).collect();
        assert_eq!(types, [RecordType::A, RecordType::TXT]);
    }
}
