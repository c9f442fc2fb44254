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
//! under a second and stay small (what each choice saved, measured, is in
//! `bench/results/2026-11-22.md`, by way of `bench/README.md`):
//! - owner names live once, in wire format, in one byte arena; a node
//!   refers to its name by offset instead of holding an 80-byte `Name`;
//! - a `hashbrown::HashTable` of `u32` node indices finds a node by the hash
//!   of its lowercased wire name (4 bytes a slot instead of a boxed key);
//! - a node's RRsets and an RRset's RDATA are small vectors holding one
//!   element inline, so a name with one record costs no allocation;
//! - RDATA of A and AAAA, the bulk of big zones, is stored inline instead of
//!   as a 184-byte `RData`.
//!
//! Loading keeps the peak low too, since holding every record as a
//! `SourcedRecord` first would cost more than the built store: the reader
//! hands each record to `CompactRecords`, under half a `SourcedRecord`'s
//! size, in 8 MiB chunks; the checker reads them there, and building the
//! store frees each chunk once its records are in.
//!
//! Each part has its own file under `store/`: `arena` (the name arena and its hash index),
//! `node` (a name's RRsets), `compact` (the records between the reader and
//! the store), `catalog` (every zone, and which one answers a name) and
//! `patch` (the next version from this one and a batch of updates).
//! This file holds the zone: building it, and what the lookup asks of it.

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::check::{self, Problem, ProblemKind};
use super::nsec3::Nsec3Chain;
use super::SourcedRecord;

mod arena;
mod catalog;
mod compact;
mod node;
mod patch;

pub(crate) use catalog::Catalog;
pub use catalog::CatalogError;
pub(crate) use compact::CompactRecords;
pub(crate) use compact::RDataRef;
pub(crate) use dnslab_wire::WireName;
pub(crate) use node::{Node, RRset};
pub(crate) use patch::PatchError;

use arena::name_wire;
use dnslab_wire::canonical_cmp;
use node::NodeData;

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
    /// (`crate::dnssec`).
    pub proves_denial: bool,
}

/// One zone, immutable once built; share it as `Arc<Zone>`. A new
/// version is a new `Zone` (a reload's, a transfer's, or this one
/// patched by updates: `patch.rs`).
#[derive(Clone)]
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
    /// What the checks found that BIND loads a zone with (usually none).
    warnings: Vec<Problem>,
    /// How many indexed names sit directly below each node, by index in
    /// `nodes`: empty until a patch first takes a name away (`patch.rs`),
    /// which needs them to know whether its ancestors go too.
    children: Vec<u32>,
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
    /// found no error: it is the checker that rejects a missing SOA and
    /// the like, with their file and line; warnings are kept
    /// ([`Zone::warnings`]) and out-of-zone records left out.
    pub fn from_records(origin: Name, records: Vec<SourcedRecord>) -> Result<Zone, Vec<Problem>> {
        Self::from_compact(origin, CompactRecords::from(records))
    }

    /// [`Zone::from_records`] for records the loader kept compact.
    pub(crate) fn from_compact(
        origin: Name,
        records: CompactRecords,
    ) -> Result<Zone, Vec<Problem>> {
        let problems = check::check_zone(&origin, records.iter());
        if problems.iter().any(|p| !p.kind.is_warning()) {
            return Err(problems);
        }
        let warnings = problems;
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
            warnings,
            children: Vec::new(),
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
    /// Removes duplicates, returns spare room and counts, once every record
    /// is in.
    fn finish(&mut self) {
        for node in &mut self.nodes {
            for set in &mut node.rrsets {
                set.dedup();
                set.rdatas.shrink_to_fit();
            }
            node.rrsets.shrink_to_fit();
        }
        self.order_nsec_chain();
        self.summarize();
        self.names.shrink_to_fit();
        self.nodes.shrink_to_fit();
        self.index.shrink_to(0, |&i| {
            let wire = name_wire(&self.names, &self.nodes[i as usize]);
            self.hasher.hash_one(WireName::from_wire(wire).bytes())
        });
    }

    /// Counts the zone's records, names and delegations.
    fn summarize(&mut self) {
        let mut summary = ZoneSummary::default();
        let origin = WireName::new(&self.origin);
        for node in &self.nodes {
            for set in &node.rrsets {
                summary.records += set.len();
                if set.record_type == RecordType::RRSIG {
                    summary.signatures += set.len();
                }
            }
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
        summary.proves_denial = !self.nsec_chain.is_empty() || self.nsec3.is_usable();
        self.summary = summary;
    }

    /// Orders the nodes that own NSEC into the NSEC chain.
    fn order_nsec_chain(&mut self) {
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
        self.nsec_chain = chain;
    }

    /// The node at `name`, ignoring case.
    pub(crate) fn node(&self, name: &Name) -> Option<Node<'_>> {
        self.node_at_wire(WireName::new(name).bytes())
    }

    pub(crate) fn origin(&self) -> &Name {
        &self.origin
    }

    pub(crate) fn origin_labels(&self) -> usize {
        self.origin_labels
    }

    /// The SOA record at the apex.
    pub(crate) fn soa(&self) -> &Record {
        &self.soa
    }

    /// The SOA to put in the authority section of NXDOMAIN and NODATA
    /// responses: RFC 2308 3, "the TTL of this record is set from the
    /// minimum of the MINIMUM field of the SOA record and the TTL of the
    /// SOA itself".
    pub(crate) fn negative_soa(&self) -> Record {
        let mut soa = self.soa.clone();
        if let RData::SOA(SOA { minimum, .. }) = &soa.data {
            soa.ttl = soa.ttl.min(*minimum);
        }
        soa
    }

    /// Signed with NSEC: denial of existence can be proven (see
    /// [`Zone::nsec_covering`]).
    pub(crate) fn is_nsec_signed(&self) -> bool {
        !self.nsec_chain.is_empty()
    }

    /// The node whose NSEC covers `name`, a name this zone does not have:
    /// the last owner before it in canonical order, or the last of all
    /// (whose NSEC points back to the apex) when none is before it.
    pub(crate) fn nsec_covering(&self, name: &Name) -> Option<Node<'_>> {
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

    /// The NSEC3 records, which are not in the name tree (see the field);
    /// zone transfers send them after the nodes.
    pub(crate) fn nsec3_records(&self) -> &[Record] {
        self.nsec3.records()
    }

    /// Signed with NSEC3, with a chain that denial proofs can use.
    pub(crate) fn nsec3_chain(&self) -> Option<&Nsec3Chain> {
        Some(&self.nsec3).filter(|chain| chain.is_usable())
    }

    pub fn summary(&self) -> ZoneSummary {
        self.summary
    }

    /// The checks' warnings: the zone loaded with them (see
    /// [`check::ProblemKind::is_warning`]).
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// Every record of the zone: the apex SOA first, then by owner name in
    /// canonical order (RFC 4034 6.1), NSEC3 records among them, each
    /// name's RRsets in the order their types were read. A stable order
    /// for what an AXFR sends between its SOAs (RFC 5936 2.2), what the
    /// zone writer writes, and a version for [`super::diff`].
    pub(crate) fn records(&self) -> impl Iterator<Item = Record> + '_ {
        enum Owner {
            Node(usize),
            Nsec3(usize),
        }
        let nsec3_wires: Vec<WireName> = self
            .nsec3
            .records()
            .iter()
            .map(|record| WireName::new(&record.name))
            .collect();
        let wire = |owner: &Owner| match owner {
            Owner::Node(at) => name_wire(&self.names, &self.nodes[*at]),
            Owner::Nsec3(at) => nsec3_wires[*at].bytes(),
        };
        let mut order: Vec<Owner> = (0..self.nodes.len())
            .map(Owner::Node)
            .chain((0..nsec3_wires.len()).map(Owner::Nsec3))
            .collect();
        // Stable: an NSEC3 owner's record and its RRSIG keep their order.
        order.sort_by(|a, b| canonical_cmp(wire(a), wire(b)));
        let apex = WireName::new(&self.origin);
        let rest = order.into_iter().flat_map(move |owner| {
            let records: Vec<Record> = match owner {
                Owner::Node(at) => {
                    let node = self.view(at);
                    let is_apex = node.wire.eq_ignore_ascii_case(apex.bytes());
                    let name = node.name();
                    node.rrsets()
                        .iter()
                        .filter(|set| !(is_apex && set.record_type == RecordType::SOA))
                        .flat_map(|set| set.records(&name).collect::<Vec<_>>())
                        .collect()
                }
                Owner::Nsec3(at) => vec![self.nsec3.records()[at].clone()],
            };
            records
        });
        std::iter::once(self.soa.clone()).chain(rest)
    }

    /// The `at`-th node in the order of [`Zone::nodes`]: a cursor that
    /// outlives a borrow, for a transfer sent message by message.
    pub(crate) fn node_at(&self, at: usize) -> Option<Node<'_>> {
        (at < self.nodes.len()).then(|| self.view(at))
    }

    /// Every node, parents before children, otherwise in file order.
    #[cfg(test)]
    fn nodes(&self) -> impl Iterator<Item = Node<'_>> + '_ {
        (0..self.nodes.len()).map(|at| self.view(at))
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::testing::{self, name, records, zone, SOA};
    use super::*;

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
    fn records_are_the_soa_then_every_record_in_canonical_order() {
        let zone = zone(
            "example.",
            &format!(
                "b 300 IN A 192.0.2.2\n{SOA}\nb 300 IN TXT \"t\"\nA.b 300 IN A 192.0.2.3\n\
                 a 300 IN A 192.0.2.1\nhashed 60 IN NSEC3 1\nb 300 IN A 192.0.2.2\n\
                 @ 300 IN MX 10 mx.example."
            ),
        );
        assert_eq!(
            testing::texts(&zone.records().collect::<Vec<_>>()),
            [
                "example. 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300",
                "example. 3600 IN NS ns.example.net.",
                "example. 300 IN MX 10 mx.example.",
                "a.example. 300 IN A 192.0.2.1",
                "b.example. 300 IN A 192.0.2.2",
                "b.example. 300 IN TXT t",
                "A.b.example. 300 IN A 192.0.2.3",
                "hashed.example. 60 IN NSEC3 AQ==",
            ]
        );
        assert_eq!(zone.records().count(), zone.summary().records);
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
            &format!("{SOA}\nwww 300 IN CNAME a.example.\nwww 300 IN A 192.0.2.1"),
        );
        let problems = Zone::from_records(origin.clone(), recs).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].kind,
            ProblemKind::CnameAndOtherData(RecordType::A)
        );
        assert_eq!(problems[0].location.as_ref().map(|l| l.line), Some(4));
    }

    /// BIND loads a zone with an out-of-zone record ("ignoring out-of-zone
    /// data"): so does the store, without the record, with a warning.
    #[test]
    fn a_zone_with_warnings_is_built_without_its_out_of_zone_records() {
        let origin = name("example.");
        let recs = records(
            &origin,
            &format!("{SOA}\nwww.example.org. 300 IN A 192.0.2.1"),
        );
        let zone = Zone::from_records(origin.clone(), recs).unwrap();
        let warnings = zone.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].kind, ProblemKind::OutOfZone { apex: origin });
        assert_eq!(warnings[0].location.as_ref().map(|l| l.line), Some(3));
        assert!(warnings[0]
            .to_string()
            .contains(": warning: www.example.org."));
        assert!(zone.node(&name("www.example.org.")).is_none());
        assert_eq!(zone.summary().records, 2);
    }
}
