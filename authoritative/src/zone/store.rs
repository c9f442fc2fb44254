//! The in-memory zone store: one [`Zone`] per loaded master file, and the
//! [`Catalog`] of every zone this server is authoritative for.
//!
//! The store owns the invariants the lookup relies on, so that
//! [`crate::lookup`] never has to re-check them:
//! - every record is at or below the origin, and the apex has one SOA;
//! - names match case-insensitively, while the records keep the case they
//!   had in the file (the first spelling of a name wins);
//! - every ancestor of every owner name, up to the origin, exists as a node
//!   (an empty non-terminal when it owns nothing, RFC 4592 2.2.2), so that
//!   "does this name exist" is one hash lookup;
//! - records are grouped into RRsets by (name, type), without duplicates
//!   (RFC 2181 5), and an RRset has one TTL: the first record's, as BIND
//!   warns and uses (RFC 2181 5.2).
//!
//! Layout, chosen for memory: a zone of 1,000,000 A records must stay small.
//! Nodes live in one `Vec` in file order; a `hashbrown::HashTable` of `u32`
//! indices finds them by the hash of the lowercased wire form of the name
//! (4 bytes a slot instead of a boxed key). RDATA of A and AAAA, the bulk of
//! big zones, is stored inline instead of as a 184-byte `RData`.

use std::fmt;
use std::hash::BuildHasher;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};
use hickory_proto::rr::rdata::{A, AAAA, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::check::{self, Problem};
use super::SourcedRecord;

/// A name in lowercased, uncompressed wire format (RFC 1035 3.1), built on
/// the stack. Because every label carries its length, the wire form of each
/// ancestor is a suffix of it, so walking up a name costs no allocation.
pub(crate) struct WireName {
    bytes: [u8; 255],
    len: u8,
    /// Offset in `bytes` where each label starts, most specific first.
    starts: [u8; 128],
    labels: u8,
}

impl WireName {
    /// The wire form of `name`, lowercased. Names longer than 255 octets
    /// cannot come from the wire or from a checked master file; should one
    /// appear, it is cut at the last label that fits.
    pub(crate) fn new(name: &Name) -> Self {
        let mut wire = WireName {
            bytes: [0; 255],
            len: 0,
            starts: [0; 128],
            labels: 0,
        };
        let mut at = 0usize;
        for label in name.iter() {
            // One length octet, the label, and the root octet must still fit.
            if at + 1 + label.len() + 1 > wire.bytes.len() || wire.labels as usize >= 127 {
                break;
            }
            wire.starts[wire.labels as usize] = at as u8;
            wire.labels += 1;
            wire.bytes[at] = label.len() as u8;
            for (dst, src) in wire.bytes[at + 1..at + 1 + label.len()]
                .iter_mut()
                .zip(label)
            {
                *dst = src.to_ascii_lowercase();
            }
            at += 1 + label.len();
        }
        wire.starts[wire.labels as usize] = at as u8;
        // The root label: bytes[at] is already 0.
        wire.len = (at + 1) as u8;
        wire
    }

    /// Number of labels, not counting the root.
    pub(crate) fn labels(&self) -> usize {
        self.labels as usize
    }

    /// The wire form of the whole name.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The wire form of the ancestor-or-self with `n` labels (0 = the root).
    pub(crate) fn ancestor(&self, n: usize) -> &[u8] {
        let n = n.min(self.labels());
        let start = self.starts[self.labels() - n] as usize;
        &self.bytes[start..self.len as usize]
    }
}

/// Whether `name` spells `wire` (lowercased wire form), ignoring case.
fn name_matches_wire(name: &Name, wire: &[u8]) -> bool {
    let mut rest = wire;
    for label in name.iter() {
        let Some((&len, tail)) = rest.split_first() else {
            return false;
        };
        if len as usize != label.len() || tail.len() < label.len() {
            return false;
        }
        let (bytes, tail) = tail.split_at(label.len());
        if !bytes.eq_ignore_ascii_case(label) {
            return false;
        }
        rest = tail;
    }
    rest == [0]
}

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

/// The records of one (name, type): one TTL, no duplicates.
#[derive(Clone, Debug)]
pub struct RRset {
    record_type: RecordType,
    ttl: u32,
    /// A `Vec` while the zone is built, shrunk to fit once it is.
    rdatas: Vec<StoredRData>,
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
}

/// One name of the zone and what it owns; an empty non-terminal owns nothing.
#[derive(Clone, Debug)]
pub struct Node {
    name: Name,
    rrsets: Vec<RRset>,
}

impl Node {
    /// The name as first spelled in the file.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// Every RRset at the name, in the order their types first appeared.
    pub fn rrsets(&self) -> &[RRset] {
        &self.rrsets
    }

    pub fn rrset(&self, record_type: RecordType) -> Option<&RRset> {
        self.rrsets
            .iter()
            .find(|set| set.record_type == record_type)
    }

    /// An empty non-terminal: exists only because names below it do.
    pub fn is_empty_non_terminal(&self) -> bool {
        self.rrsets.is_empty()
    }
}

/// Counts for the log line printed when a zone is loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZoneSummary {
    /// Records after removing duplicates.
    pub records: usize,
    /// Nodes, including empty non-terminals.
    pub names: usize,
    /// Zone cuts: names below the apex that own NS.
    pub delegations: usize,
}

/// One zone, immutable once built; share it as `Arc<Zone>`.
pub struct Zone {
    origin: Name,
    soa: Record,
    nodes: Vec<Node>,
    /// Indices into `nodes`, hashed by the lowercased wire form of the name.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
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
    /// Builds the zone `origin` from `records`, after `check::check_zone`
    /// and the store's own invariants (records in zone, one SOA at the
    /// apex) found no problem.
    pub fn from_records(origin: Name, records: Vec<SourcedRecord>) -> Result<Zone, Vec<Problem>> {
        let mut problems = check::check_zone(&origin, &records);
        if !problems.is_empty() {
            return Err(problems);
        }
        problems.extend(
            records
                .iter()
                .filter(|r| !origin.zone_of(&r.record.name))
                .map(|r| Problem {
                    location: Some(r.location.clone()),
                    message: format!("{} is out of zone {origin}", r.record.name),
                }),
        );
        let apex_soa = records
            .iter()
            .find(|r| r.record.record_type() == RecordType::SOA && r.record.name == origin);
        let Some(apex_soa) = apex_soa else {
            problems.push(Problem {
                location: None,
                message: format!("zone {origin} has no SOA record at its apex"),
            });
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let soa = apex_soa.record.clone();

        let mut zone = Zone {
            nodes: Vec::with_capacity(records.len() / 2 + 1),
            index: HashTable::with_capacity(records.len() / 2 + 1),
            hasher: DefaultHashBuilder::default(),
            summary: ZoneSummary::default(),
            soa,
            origin,
        };
        let origin_labels = zone.origin.iter().count();
        for sourced in records {
            let record = sourced.record;
            let wire = WireName::new(&record.name);
            let at = zone.node_or_insert(&wire, origin_labels, &record.name);
            zone.nodes[at].add(record);
        }
        zone.finish();
        Ok(zone)
    }

    /// The node at `wire`, inserted (with its missing ancestors down from
    /// the origin as empty non-terminals) if absent.
    fn node_or_insert(&mut self, wire: &WireName, origin_labels: usize, name: &Name) -> usize {
        if let Some(at) = self.find_wire(wire.bytes()) {
            return at;
        }
        // Insert the missing ancestors first, top-down, so that every
        // ancestor of a node exists before it (and the file order of the
        // nodes stays parents-first for readers of `nodes()`).
        let mut missing_from = wire.labels();
        while missing_from > origin_labels
            && self.find_wire(wire.ancestor(missing_from - 1)).is_none()
        {
            missing_from -= 1;
        }
        for labels in missing_from..wire.labels() {
            self.insert(wire.ancestor(labels), name.trim_to(labels));
        }
        self.insert(wire.bytes(), name.clone())
    }

    fn insert(&mut self, wire: &[u8], name: Name) -> usize {
        let at = self.nodes.len();
        self.nodes.push(Node {
            name,
            rrsets: Vec::new(),
        });
        let hash = self.hasher.hash_one(wire);
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.index.insert_unique(hash, at as u32, |&i| {
            hasher.hash_one(WireName::new(&nodes[i as usize].name).bytes())
        });
        at
    }

    /// Sorts out duplicates and counts, once every record is in.
    fn finish(&mut self) {
        let mut summary = ZoneSummary {
            names: self.nodes.len(),
            ..ZoneSummary::default()
        };
        for node in &mut self.nodes {
            for set in &mut node.rrsets {
                set.dedup();
                set.rdatas.shrink_to_fit();
                summary.records += set.len();
            }
            node.rrsets.shrink_to_fit();
            if node.name != self.origin && node.rrset(RecordType::NS).is_some() {
                summary.delegations += 1;
            }
        }
        self.summary = summary;
    }

    fn find_wire(&self, wire: &[u8]) -> Option<usize> {
        let hash = self.hasher.hash_one(wire);
        self.index
            .find(hash, |&i| {
                name_matches_wire(&self.nodes[i as usize].name, wire)
            })
            .map(|&i| i as usize)
    }

    /// The node at `wire` (lowercased wire form, see [`WireName`]).
    pub(crate) fn node_at_wire(&self, wire: &[u8]) -> Option<&Node> {
        self.find_wire(wire).map(|at| &self.nodes[at])
    }

    /// The node at `name`, ignoring case.
    pub fn node(&self, name: &Name) -> Option<&Node> {
        self.node_at_wire(WireName::new(name).bytes())
    }

    pub fn origin(&self) -> &Name {
        &self.origin
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

    pub fn summary(&self) -> ZoneSummary {
        self.summary
    }

    /// Every node, parents before children, otherwise in file order; for
    /// the request path to prepare answers ahead.
    pub fn nodes(&self) -> impl Iterator<Item = (&Name, &Node)> + '_ {
        self.nodes.iter().map(|node| (&node.name, node))
    }
}

impl Node {
    fn add(&mut self, record: Record) {
        let record_type = record.record_type();
        let data = StoredRData::new(record.data);
        match self
            .rrsets
            .iter_mut()
            .find(|set| set.record_type == record_type)
        {
            Some(set) => set.rdatas.push(data),
            None => self.rrsets.push(RRset {
                record_type,
                ttl: record.ttl,
                rdatas: vec![data],
            }),
        }
    }
}

impl RRset {
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
