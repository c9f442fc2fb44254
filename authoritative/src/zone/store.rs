//! The in-memory zone store: one [`Zone`] per loaded master file, and the
//! [`Catalog`] of every zone this server is authoritative for.
//!
//! The store owns the invariants the lookup relies on, so that
//! [`crate::lookup`] never has to re-check them:
//! - every record is at or below the origin, and the apex has one SOA
//!   (`check::check_zone` rejects zones otherwise);
//! - names match case-insensitively, while the records keep the case they
//!   had in the file (the first spelling of a name wins);
//! - every ancestor of every owner name, up to the origin, exists as a node
//!   (an empty non-terminal when it owns nothing, RFC 4592 2.2.2), so that
//!   "does this name exist" is one hash lookup;
//! - records are grouped into RRsets by (name, type), without duplicates
//!   (RFC 2181 5), and an RRset has one TTL: the first record's, as BIND
//!   warns and uses (RFC 2181 5.2).
//!
//! Layout, chosen because a zone of 1,000,000 A records must build in well
//! under a second and stay small (about 90 bytes a name with one A record):
//! - owner names live once, in wire format, in one byte arena; a node
//!   refers to its name by offset instead of holding an 80-byte `Name`;
//! - a `hashbrown::HashTable` of `u32` node indices finds a node by the hash
//!   of its lowercased wire name (4 bytes a slot instead of a boxed key);
//! - a node's RRsets and an RRset's RDATA are small vectors holding one
//!   element inline, so a name with one record costs no allocation;
//! - RDATA of A and AAAA, the bulk of big zones, is stored inline instead of
//!   as a 184-byte `RData`.
//!
//! Loading keeps the peak low too (1,000,000 A records: 154 MB at the peak
//! for 104 MB built, where holding 288-byte `SourcedRecord`s peaked at
//! 377 MB): the reader hands each record to `CompactRecords`, 128 bytes
//! a record in 8 MiB chunks; the checker reads them there, and building the
//! store frees each chunk once its records are in.

use std::fmt;
use std::hash::BuildHasher;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use dnslab_wire::{canonical_cmp, WireName};
use hashbrown::{DefaultHashBuilder, HashTable};
use hickory_proto::rr::rdata::{A, AAAA, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use smallvec::SmallVec;

use super::check::{self, CheckedRecord, Problem, ProblemKind};
use super::nsec3::Nsec3Chain;
use super::reader::{type_covered, RecordSink};
use super::{Location, SourcedRecord};

/// RDATA as stored: addresses inline, everything else boxed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum StoredRData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Other(Box<RData>),
}

impl StoredRData {
    fn new(data: RData) -> Self {
        match data {
            RData::A(a) => StoredRData::A(a.0),
            RData::AAAA(aaaa) => StoredRData::Aaaa(aaaa.0),
            other => StoredRData::Other(Box::new(other)),
        }
    }

    fn to_rdata(&self) -> RData {
        match self {
            StoredRData::A(a) => RData::A(A(*a)),
            StoredRData::Aaaa(a) => RData::AAAA(AAAA(*a)),
            StoredRData::Other(other) => (**other).clone(),
        }
    }

    /// The RDATA without a copy, when it is not an address.
    fn as_other(&self) -> Option<&RData> {
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
    owner: Name,
    record_type: RecordType,
    ttl: u32,
    data: StoredRData,
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
    fn is_nsec3_chain(&self) -> bool {
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
    chunks: Vec<Vec<CompactRecord>>,
}

impl CompactRecords {
    /// Records a chunk: 8 MiB, large enough for the allocator to return
    /// each one to the system as soon as it is freed.
    const CHUNK: usize = 1 << 16;

    fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    fn iter(&self) -> impl Iterator<Item = &CompactRecord> + Clone {
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

/// The records of one (name, type): one TTL, no duplicates.
#[derive(Clone, Debug)]
pub struct RRset {
    record_type: RecordType,
    ttl: u32,
    rdatas: SmallVec<[StoredRData; 1]>,
}

impl RRset {
    pub fn record_type(&self) -> RecordType {
        self.record_type
    }

    /// The TTL of the whole set: the first record's in the file.
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    pub fn len(&self) -> usize {
        self.rdatas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rdatas.is_empty()
    }

    /// The RDATA of each record, in file order.
    pub fn rdatas(&self) -> impl Iterator<Item = RData> + '_ {
        self.rdatas.iter().map(StoredRData::to_rdata)
    }

    /// Borrowed RDATA of the non-address types (NS, CNAME, DNAME, SOA, MX,
    /// ...), for the lookup to follow names without copying records.
    pub fn other_rdatas(&self) -> impl Iterator<Item = &RData> + '_ {
        self.rdatas.iter().filter_map(StoredRData::as_other)
    }

    /// The records of the set with `owner` as their name (the stored owner,
    /// or the query name when synthesised from a wildcard).
    pub fn records<'a>(&'a self, owner: &'a Name) -> impl Iterator<Item = Record> + 'a {
        self.rdatas()
            .map(move |data| Record::from_rdata(owner.clone(), self.ttl, data))
    }

    /// RFC 2181 5: "the RRset ... must not contain duplicate RRs"; keep the
    /// first of identical records, in file order, in O(n log n).
    fn dedup(&mut self) {
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
struct NodeData {
    /// Where the name, in wire format as spelled in the file, starts in the
    /// zone's name arena, and its length.
    name_at: u32,
    name_len: u8,
    rrsets: SmallVec<[RRset; 1]>,
}

impl NodeData {
    /// Adds a record to its RRset. Signatures keep their own TTLs, which
    /// are those of the RRsets they cover (RFC 4034 3): the RRSIGs of a name
    /// are one RRset per TTL.
    fn add(&mut self, record_type: RecordType, ttl: u32, data: StoredRData) {
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
/// nothing. A view into the [`Zone`], cheap to copy.
#[derive(Clone, Copy, Debug)]
pub struct Node<'z> {
    wire: &'z [u8],
    data: &'z NodeData,
}

impl<'z> Node<'z> {
    /// The name as first spelled in the file.
    pub fn name(&self) -> Name {
        // The arena holds only names this store encoded from a `Name`.
        Name::from_bytes(self.wire).unwrap_or_default()
    }

    /// Every RRset at the name, in the order their types first appeared.
    pub fn rrsets(&self) -> &'z [RRset] {
        &self.data.rrsets
    }

    /// The RRset of `record_type`; for RRSIG, the first of its TTLs (see
    /// [`Node::rrsets_of`]).
    pub fn rrset(&self, record_type: RecordType) -> Option<&'z RRset> {
        self.rrsets()
            .iter()
            .find(|set| set.record_type == record_type)
    }

    /// Every RRset of `record_type`: one at most, except RRSIG (one per TTL).
    pub fn rrsets_of(&self, record_type: RecordType) -> impl Iterator<Item = &'z RRset> + 'z {
        self.rrsets()
            .iter()
            .filter(move |set| set.record_type == record_type)
    }

    /// An empty non-terminal: exists only because names below it do.
    pub fn is_empty_non_terminal(&self) -> bool {
        self.data.rrsets.is_empty()
    }
}

/// Counts for the log line printed when a zone is loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZoneSummary {
    /// Records after removing duplicates.
    pub records: usize,
    /// Distinct owner names; empty non-terminals are not counted.
    pub names: usize,
    /// Zone cuts: names below the apex that own NS.
    pub delegations: usize,
    /// RRSIG records: a signed zone.
    pub signatures: usize,
    /// Signed with an NSEC or NSEC3 chain that proves denial of existence:
    /// answers to queries with DO carry signatures and proofs
    /// ([`crate::dnssec`]).
    pub proves_denial: bool,
}

/// One zone, immutable once built; share it as `Arc<Zone>`.
pub struct Zone {
    origin: Name,
    /// Labels of the origin, where the lookup starts descending.
    origin_labels: usize,
    soa: Record,
    /// Every owner name in wire format, as spelled in the file.
    names: Vec<u8>,
    /// In file order, parents before children.
    nodes: Vec<NodeData>,
    /// Indices into `nodes`, hashed by the lowercased wire form of the name.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// The NSEC3 records of a signed zone and their signatures. Their
    /// hashed owner names are not names of the zone (RFC 5155 7.2.8:
    /// queries for them are answered as for any name that does not exist,
    /// as NSD and Knot do), so they are kept out of the tree.
    nsec3: Nsec3Chain,
    /// The nodes that own NSEC, in canonical order (RFC 4034 6.1): the
    /// NSEC chain of a zone signed with NSEC, for denial proofs.
    nsec_chain: Vec<u32>,
    summary: ZoneSummary,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Zone")
            .field("origin", &self.origin)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl Zone {
    /// Builds the zone `origin` from `records` once `check::check_zone`
    /// found no problem: it is the checker that rejects out-of-zone
    /// records, a missing SOA and the like, with their file and line.
    pub fn from_records(origin: Name, records: Vec<SourcedRecord>) -> Result<Zone, Vec<Problem>> {
        Self::from_compact(origin, CompactRecords::from(records))
    }

    /// [`Zone::from_records`] for records the loader kept compact.
    pub(crate) fn from_compact(
        origin: Name,
        records: CompactRecords,
    ) -> Result<Zone, Vec<Problem>> {
        let problems = check::check_zone(&origin, records.iter());
        if !problems.is_empty() {
            return Err(problems);
        }
        let apex_soa = records
            .iter()
            .find(|r| r.record_type == RecordType::SOA && r.owner == origin);
        let Some(soa) =
            apex_soa.map(|r| Record::from_rdata(r.owner.clone(), r.ttl, r.data.to_rdata()))
        else {
            // Unreachable while the checker checks; the store depends on it.
            return Err(vec![Problem {
                location: None,
                name: origin,
                kind: ProblemKind::MissingSoa,
            }]);
        };

        // Sized for one name a record, the common case of big zones; the
        // spare room is returned in `finish`.
        let count = records.len();
        let mut zone = Zone {
            names: Vec::with_capacity(count * 16),
            nodes: Vec::with_capacity(count),
            index: HashTable::with_capacity(count),
            hasher: DefaultHashBuilder::default(),
            nsec3: Nsec3Chain::default(),
            nsec_chain: Vec::new(),
            summary: ZoneSummary::default(),
            soa,
            origin_labels: origin.iter().count(),
            origin,
        };
        let origin_wire = WireName::new(&zone.origin);
        let origin_labels = zone.origin_labels;
        let mut nsec3 = Vec::new();
        // Chunk by chunk, each freed once its records are in.
        for record in records.chunks.into_iter().flatten() {
            let wire = WireName::new(&record.owner);
            // Rejected by the checker already (OutOfZone); skipping keeps
            // the "every node is under the origin" invariant regardless.
            if wire.ancestor(origin_labels) != origin_wire.bytes() {
                continue;
            }
            if record.is_nsec3_chain() {
                let data = record.data.to_rdata();
                nsec3.push(Record::from_rdata(record.owner, record.ttl, data));
                continue;
            }
            let at = zone.node_or_insert(&wire, origin_labels, &record.owner);
            zone.nodes[at].add(record.record_type, record.ttl, record.data);
        }
        if !nsec3.is_empty() {
            let param = zone
                .node(&zone.origin)
                .and_then(|apex| apex.rrset(RecordType::NSEC3PARAM))
                .and_then(|set| set.rdatas().next());
            zone.nsec3 = Nsec3Chain::new(nsec3, param.as_ref(), &zone.origin);
        }
        zone.finish();
        Ok(zone)
    }

    /// The node at `wire`, inserted (with its missing ancestors down from
    /// the origin as empty non-terminals) if absent; `name` spells it.
    fn node_or_insert(&mut self, wire: &WireName, origin_labels: usize, name: &Name) -> usize {
        let hash = self.hasher.hash_one(wire.bytes());
        if let Some(at) = self.find_wire(hash, wire.bytes()) {
            return at;
        }
        // Insert the missing ancestors first, top-down, so that parents come
        // before children in `nodes()`.
        let mut missing_from = wire.labels();
        while missing_from > origin_labels {
            let parent = wire.ancestor(missing_from - 1);
            if self
                .find_wire(self.hasher.hash_one(parent), parent)
                .is_some()
            {
                break;
            }
            missing_from -= 1;
        }
        for n in missing_from..wire.labels() {
            let ancestor = wire.ancestor(n);
            let labels = name.iter().skip(wire.labels() - n);
            self.insert(self.hasher.hash_one(ancestor), labels);
        }
        self.insert(hash, name.iter())
    }

    /// Appends a node for the name made of `labels` (as spelled).
    fn insert<'a>(&mut self, hash: u64, labels: impl Iterator<Item = &'a [u8]>) -> usize {
        let name_at = self.names.len();
        for label in labels {
            self.names.push(label.len() as u8);
            self.names.extend_from_slice(label);
        }
        self.names.push(0);
        let at = self.nodes.len();
        self.nodes.push(NodeData {
            name_at: name_at as u32,
            name_len: (self.names.len() - name_at) as u8,
            rrsets: SmallVec::new(),
        });
        let (names, nodes, hasher) = (&self.names, &self.nodes, &self.hasher);
        self.index.insert_unique(hash, at as u32, |&i| {
            let wire = name_wire(names, &nodes[i as usize]);
            hasher.hash_one(WireName::from_wire(wire).bytes())
        });
        at
    }

    /// Removes duplicates, returns spare room and counts, once every record
    /// is in.
    fn finish(&mut self) {
        let mut summary = ZoneSummary::default();
        let origin = WireName::new(&self.origin);
        for node in &mut self.nodes {
            for set in &mut node.rrsets {
                set.dedup();
                set.rdatas.shrink_to_fit();
                summary.records += set.len();
                if set.record_type == RecordType::RRSIG {
                    summary.signatures += set.len();
                }
            }
            node.rrsets.shrink_to_fit();
            summary.names += usize::from(!node.rrsets.is_empty());
            let is_cut = node
                .rrsets
                .iter()
                .any(|set| set.record_type == RecordType::NS);
            if is_cut && !name_wire(&self.names, node).eq_ignore_ascii_case(origin.bytes()) {
                summary.delegations += 1;
            }
        }
        summary.records += self.nsec3.records().len();
        summary.signatures += self
            .nsec3
            .records()
            .iter()
            .filter(|r| r.record_type() == RecordType::RRSIG)
            .count();
        let mut chain: Vec<u32> = (0..self.nodes.len())
            .filter(|&at| {
                self.nodes[at]
                    .rrsets
                    .iter()
                    .any(|set| set.record_type == RecordType::NSEC)
            })
            .filter_map(|at| u32::try_from(at).ok())
            .collect();
        chain.sort_by(|&a, &b| {
            canonical_cmp(
                name_wire(&self.names, &self.nodes[a as usize]),
                name_wire(&self.names, &self.nodes[b as usize]),
            )
        });
        summary.proves_denial = !chain.is_empty() || self.nsec3.is_usable();
        self.nsec_chain = chain;
        self.names.shrink_to_fit();
        self.nodes.shrink_to_fit();
        self.index.shrink_to(0, |&i| {
            let wire = name_wire(&self.names, &self.nodes[i as usize]);
            self.hasher.hash_one(WireName::from_wire(wire).bytes())
        });
        self.summary = summary;
    }

    fn find_wire(&self, hash: u64, wire: &[u8]) -> Option<usize> {
        self.index
            .find(hash, |&i| {
                name_wire(&self.names, &self.nodes[i as usize]).eq_ignore_ascii_case(wire)
            })
            .map(|&i| i as usize)
    }

    fn view(&self, at: usize) -> Node<'_> {
        let data = &self.nodes[at];
        Node {
            wire: name_wire(&self.names, data),
            data,
        }
    }

    /// The node at `wire` (lowercased wire form, see [`WireName`]).
    pub(crate) fn node_at_wire(&self, wire: &[u8]) -> Option<Node<'_>> {
        self.find_wire(self.hasher.hash_one(wire), wire)
            .map(|at| self.view(at))
    }

    /// The node at `name`, ignoring case.
    pub fn node(&self, name: &Name) -> Option<Node<'_>> {
        self.node_at_wire(WireName::new(name).bytes())
    }

    pub fn origin(&self) -> &Name {
        &self.origin
    }

    pub(crate) fn origin_labels(&self) -> usize {
        self.origin_labels
    }

    /// The SOA record at the apex.
    pub fn soa(&self) -> &Record {
        &self.soa
    }

    /// The SOA to put in the authority section of NXDOMAIN and NODATA
    /// responses: RFC 2308 3, "the TTL of this record is set from the
    /// minimum of the MINIMUM field of the SOA record and the TTL of the
    /// SOA itself".
    pub fn negative_soa(&self) -> Record {
        let mut soa = self.soa.clone();
        if let RData::SOA(SOA { minimum, .. }) = &soa.data {
            soa.ttl = soa.ttl.min(*minimum);
        }
        soa
    }

    /// Signed with NSEC: denial of existence can be proven (see
    /// [`Zone::nsec_covering`]).
    pub fn is_nsec_signed(&self) -> bool {
        !self.nsec_chain.is_empty()
    }

    /// The node whose NSEC covers `name`, a name this zone does not have:
    /// the last owner before it in canonical order, or the last of all
    /// (whose NSEC points back to the apex) when none is before it.
    pub fn nsec_covering(&self, name: &Name) -> Option<Node<'_>> {
        let wire = WireName::new(name);
        let before = self.nsec_chain.partition_point(|&at| {
            canonical_cmp(
                name_wire(&self.names, &self.nodes[at as usize]),
                wire.bytes(),
            ) == std::cmp::Ordering::Less
        });
        let at = match before.checked_sub(1) {
            Some(previous) => self.nsec_chain.get(previous),
            None => self.nsec_chain.last(),
        };
        at.map(|&at| self.view(at as usize))
    }

    /// The NSEC3 records, which are not in the name tree (see the field).
    pub fn nsec3_records(&self) -> &[Record] {
        self.nsec3.records()
    }

    /// Signed with NSEC3, with a chain that denial proofs can use.
    pub(crate) fn nsec3_chain(&self) -> Option<&Nsec3Chain> {
        Some(&self.nsec3).filter(|chain| chain.is_usable())
    }

    pub fn summary(&self) -> ZoneSummary {
        self.summary
    }

    /// Every node, parents before children, otherwise in file order; for
    /// the request path to prepare answers ahead.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> + '_ {
        (0..self.nodes.len()).map(|at| self.view(at))
    }
}

/// The wire-format name of `node` in the arena `names`.
fn name_wire<'a>(names: &'a [u8], node: &NodeData) -> &'a [u8] {
    let start = node.name_at as usize;
    names
        .get(start..start + node.name_len as usize)
        .unwrap_or_default()
}

/// Every zone this server answers for.
#[derive(Debug, Default)]
pub struct Catalog {
    zones: Vec<Arc<Zone>>,
    /// Indices into `zones`, hashed by the lowercased wire form of the origin.
    index: hashbrown::HashMap<Box<[u8]>, usize>,
}

/// Why a set of zones cannot be served together.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("zone {0} is loaded twice; give each origin one master file")]
    DuplicateOrigin(Name),
}

impl Catalog {
    pub fn new(zones: Vec<Arc<Zone>>) -> Result<Catalog, CatalogError> {
        let mut index = hashbrown::HashMap::with_capacity(zones.len());
        for (at, zone) in zones.iter().enumerate() {
            let key: Box<[u8]> = WireName::new(zone.origin()).bytes().into();
            if index.insert(key, at).is_some() {
                return Err(CatalogError::DuplicateOrigin(zone.origin().clone()));
            }
        }
        Ok(Catalog { zones, index })
    }

    /// The zone with the longest origin that is an ancestor-or-self of
    /// `qname`: the most specific zone we are authoritative for (a child
    /// zone loaded beside its parent answers for its own names).
    pub fn find(&self, qname: &Name) -> Option<&Arc<Zone>> {
        let wire = WireName::new(qname);
        (0..=wire.labels())
            .rev()
            .find_map(|labels| self.index.get(wire.ancestor(labels)))
            .map(|&at| &self.zones[at])
    }

    pub fn zones(&self) -> &[Arc<Zone>] {
        &self.zones
    }
}

/// Zones built in code for the unit tests of the store and of the lookup.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::PathBuf;
    use std::sync::Arc;

    use hickory_proto::rr::{Name, RData, Record, RecordType};
    use hickory_proto::serialize::binary::BinEncodable;

    use super::Zone;
    use crate::zone::reader::unknown;
    use crate::zone::{Location, SourcedRecord};
    use dnslab_wire::dname_rdata;

    /// Records from lines `owner ttl IN type rdata`: owner `@`, relative to
    /// `origin` or absolute; names inside RDATA absolute. DNAME and DS,
    /// which hickory cannot parse, are stored as the reader stores them.
    pub(crate) fn records(origin: &Name, lines: &str) -> Vec<SourcedRecord> {
        let file = Arc::new(PathBuf::from("test.zone"));
        lines
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(at, line)| SourcedRecord {
                record: record(origin, line),
                location: Location {
                    file: file.clone(),
                    line: at as u32 + 1,
                },
            })
            .collect()
    }

    /// One record written as in [`records`].
    pub(crate) fn record(origin: &Name, line: &str) -> Record {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [owner, ttl, _class, rtype, ..] = fields[..] else {
            panic!("bad test record {line:?}");
        };
        let rdata_text = fields[4..].join(" ");
        let owner = match owner {
            "@" => origin.clone(),
            // `Name::parse` would lowercase (IDNA); keep the case as written.
            name => {
                let name = Name::from_ascii(name).expect(line);
                if name.is_fqdn() {
                    name
                } else {
                    name.append_domain(origin).expect(line)
                }
            }
        };
        let rtype: RecordType = rtype.parse().expect(line);
        let data = match rtype {
            RecordType::DNAME => dname_rdata(&Name::from_ascii(&rdata_text).expect(line)),
            RecordType::DS => {
                let [tag, algorithm, digest_type, digest] = fields[4..] else {
                    panic!("bad test DS {line:?}");
                };
                let mut wire = tag.parse::<u16>().expect(line).to_be_bytes().to_vec();
                wire.push(algorithm.parse().expect(line));
                wire.push(digest_type.parse().expect(line));
                for pair in digest.as_bytes().chunks(2) {
                    let hex = std::str::from_utf8(pair).expect(line);
                    wire.push(u8::from_str_radix(hex, 16).expect(line));
                }
                unknown(RecordType::DS, wire)
            }
            // `RRSIG TYPE-COVERED N`: what the store reads of a signature
            // (the type it covers), then N standing for the rest.
            RecordType::RRSIG => {
                let [covered, n] = fields[4..] else {
                    panic!("bad test RRSIG {line:?}");
                };
                let covered: RecordType = covered.parse().expect(line);
                let mut wire = u16::from(covered).to_be_bytes().to_vec();
                wire.push(n.parse().expect(line));
                unknown(RecordType::RRSIG, wire)
            }
            // `NSEC NEXT`: the next name, without the type bitmap.
            RecordType::NSEC => {
                let next = Name::from_ascii(&rdata_text).expect(line);
                unknown(RecordType::NSEC, next.to_bytes().expect(line))
            }
            // `NSEC3 N`: an NSEC3 record, N standing for its data.
            RecordType::NSEC3 => unknown(RecordType::NSEC3, vec![rdata_text.parse().expect(line)]),
            _ => RData::try_from_str(rtype, &rdata_text).expect(line),
        };
        Record::from_rdata(owner, ttl.parse().expect(line), data)
    }

    pub(crate) fn zone(origin: &str, lines: &str) -> Zone {
        let origin = Name::from_ascii(origin).unwrap();
        Zone::from_records(origin.clone(), records(&origin, lines)).expect("test zone is valid")
    }

    /// Records as text, so that tests compare TTL and the case of names
    /// too (`Record`'s `PartialEq` ignores both).
    pub(crate) fn texts(records: &[Record]) -> Vec<String> {
        records.iter().map(Record::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{self, records, texts, zone};
    use super::*;

    /// The apex every test zone needs to pass the checker.
    const SOA: &str = "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
                       @ 3600 IN NS ns.example.net.";

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    #[test]
    fn ancestors_up_to_the_origin_exist_as_empty_non_terminals() {
        let zone = zone("example.", &format!("{SOA}\na.b.c 300 IN A 192.0.2.1"));
        for ent in ["b.c.example.", "c.example."] {
            let node = zone.node(&name(ent)).expect(ent);
            assert!(node.is_empty_non_terminal(), "{ent}");
        }
        assert!(!zone
            .node(&name("a.b.c.example."))
            .unwrap()
            .is_empty_non_terminal());
        assert!(zone.node(&name("example.")).is_some());
        assert!(
            zone.node(&name("com.")).is_none(),
            "nothing above the origin"
        );
        let order: Vec<String> = zone.nodes().map(|node| node.name().to_string()).collect();
        assert_eq!(
            order,
            ["example.", "c.example.", "b.c.example.", "a.b.c.example."]
        );
    }

    #[test]
    fn names_match_ignoring_case_and_keep_their_first_spelling() {
        let zone = zone(
            "example.",
            &format!("{SOA}\nMixed.Case 300 IN A 192.0.2.1\nmixed.case 300 IN A 192.0.2.2"),
        );
        let node = zone.node(&name("MIXED.case.EXAMPLE.")).unwrap();
        assert!(node.name().eq_case(&name("Mixed.Case.example.")));
        let set = node.rrset(RecordType::A).unwrap();
        assert_eq!(
            texts(&set.records(&node.name()).collect::<Vec<_>>()),
            [
                "Mixed.Case.example. 300 IN A 192.0.2.1",
                "Mixed.Case.example. 300 IN A 192.0.2.2"
            ]
        );
    }

    #[test]
    fn signatures_keep_their_ttls_and_the_nsec3_chain_is_not_in_the_tree() {
        let zone = zone(
            "example.",
            &format!(
                "{SOA}\nwww 300 IN A 192.0.2.1\nwww 300 IN RRSIG A 1\nwww 60 IN RRSIG NSEC 2\n\
                 www 300 IN RRSIG AAAA 3\nhashed 60 IN NSEC3 1\nhashed 60 IN RRSIG NSEC3 4"
            ),
        );
        let www = zone.node(&name("www.example.")).unwrap();
        let signatures: Vec<(u32, usize)> = www
            .rrsets_of(RecordType::RRSIG)
            .map(|set| (set.ttl(), set.len()))
            .collect();
        assert_eq!(signatures, [(300, 2), (60, 1)]);
        assert_eq!(www.rrsets_of(RecordType::A).count(), 1);
        // Neither the NSEC3 record nor its signature makes its owner a name.
        assert!(zone.node(&name("hashed.example.")).is_none());
        let chain: Vec<RecordType> = zone
            .nsec3_records()
            .iter()
            .map(Record::record_type)
            .collect();
        assert_eq!(chain, [RecordType::NSEC3, RecordType::RRSIG]);
        let summary = zone.summary();
        assert_eq!(
            (summary.records, summary.names, summary.signatures),
            (8, 2, 4)
        );
    }

    #[test]
    fn the_covering_nsec_is_the_last_owner_before_the_name() {
        let zone = zone(
            "example.",
            &format!(
                "{SOA}\n@ 300 IN NSEC b.example.\nb 300 IN NSEC d.example.\nb 300 IN A 192.0.2.1\n\
                 d 300 IN NSEC example.\nd 300 IN A 192.0.2.2"
            ),
        );
        assert!(zone.is_nsec_signed());
        let covering = |qname: &str| {
            zone.nsec_covering(&name(qname))
                .map(|node| node.name().to_string())
        };
        assert_eq!(covering("a.example."), Some("example.".into()));
        assert_eq!(covering("c.example."), Some("b.example.".into()));
        assert_eq!(covering("x.b.example."), Some("b.example.".into()));
        // After the last owner: its NSEC wraps around to the apex.
        assert_eq!(covering("e.example."), Some("d.example.".into()));
        assert!(!testing::zone("example.", SOA).is_nsec_signed());
    }

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
        let types: Vec<RecordType> = node.rrsets().iter().map(RRset::record_type).collect();
        assert_eq!(types, [RecordType::A, RecordType::TXT]);
    }

    #[test]
    fn summary_counts_records_names_and_delegations() {
        let zone = zone(
            "example.",
            &format!(
                "{SOA}\nns 300 IN A 192.0.2.53\n\
                 sub 300 IN NS ns.sub.example.\nns.sub 300 IN A 192.0.2.54\n\
                 a.deep 300 IN NS ns.example.\nns 300 IN A 192.0.2.53"
            ),
        );
        assert_eq!(
            zone.summary(),
            ZoneSummary {
                records: 6,
                names: 5,
                delegations: 2,
                signatures: 0,
                proves_denial: false,
            }
        );
    }

    #[test]
    fn negative_soa_ttl_is_the_smaller_of_ttl_and_minimum() {
        let short_ttl = zone(
            "example.",
            "@ 60 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300
             @ 60 IN NS ns.example.net.",
        );
        assert_eq!(short_ttl.negative_soa().ttl, 60);
        let short_minimum = zone("example.", SOA);
        assert_eq!(short_minimum.negative_soa().ttl, 300);
        assert_eq!(short_minimum.soa().ttl, 3600);
    }

    #[test]
    fn a_zone_the_checker_rejects_is_not_built() {
        let origin = name("example.");
        let recs = records(
            &origin,
            &format!("{SOA}\nwww.example.org. 300 IN A 192.0.2.1"),
        );
        let problems = Zone::from_records(origin.clone(), recs).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::OutOfZone { apex: origin });
        assert_eq!(problems[0].location.as_ref().map(|l| l.line), Some(3));
    }

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
        let problems = Zone::from_compact(origin.clone(), sink).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::OutOfZone { apex: origin });
        assert_eq!(
            problems[0].location.as_ref().map(ToString::to_string),
            Some(format!("big.zone:{}", lines + hosts + 1))
        );
    }

    #[test]
    fn catalog_finds_the_most_specific_enclosing_zone() {
        let parent = Arc::new(zone("example.", SOA));
        let child = Arc::new(zone("sub.example.", SOA));
        let catalog = Catalog::new(vec![parent, child]).unwrap();
        let origin_of = |qname: &str| catalog.find(&name(qname)).map(|z| z.origin().to_string());
        assert_eq!(
            origin_of("www.SUB.example.").as_deref(),
            Some("sub.example.")
        );
        assert_eq!(origin_of("sub.example.").as_deref(), Some("sub.example."));
        assert_eq!(origin_of("www.example.").as_deref(), Some("example."));
        assert_eq!(origin_of("example.org."), None);
        assert_eq!(origin_of("."), None);
    }

    #[test]
    fn catalog_rejects_an_origin_loaded_twice() {
        let first = Arc::new(zone("example.", SOA));
        let again = Arc::new(zone("EXAMPLE.", SOA));
        let err = Catalog::new(vec![first, again]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "zone EXAMPLE. is loaded twice; give each origin one master file"
        );
    }
}
