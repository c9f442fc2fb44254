//! The next version of a zone from a version and the changesets of dynamic
//! updates, without building the zone again from its records: the
//! changes are made on the version's nodes, arena and index, so that an
//! update costs in proportion to what it changes where a build reads,
//! checks and hashes every record. [`Zone::patch`] changes a zone nobody
//! else holds (the writer's spare copy, `crate::update::next`);
//! [`Zone::patched`] copies one first.
//!
//! The store's invariants hold after a patch as they do after a build: a
//! name added gets its missing ancestors as empty non-terminals
//! (`node_or_insert`); a name left with nothing and nothing below it is
//! taken out of the index, and so is each ancestor that this leaves
//! empty, so that it is NXDOMAIN again, not NODATA. To know "nothing
//! below it" without a scan, a patched zone counts each node's children;
//! the counts are made the first time a name goes (one pass over the
//! names: some 0.5 s for 1,000,000, paid once by each of the writer's two
//! copies; updates that only add and replace never pay it) and kept up to
//! date from then on. The summary is kept up
//! to date the same way, from what each change did to its node; the NSEC
//! chain is ordered again when NSEC records changed.
//!
//! A node taken out of the index stays in the node vector, empty: it has
//! no records to send in a transfer or write to a file, and a name added
//! again gets a new node. When most nodes are such ([`Zone::is_sparse`]),
//! the caller builds the zone afresh; reloads and restarts do anyway.
//!
//! Not patched, but built again by the caller: changes to the NSEC3 chain
//! (NSEC3 records, their signatures, NSEC3PARAM), which live beside the
//! names ([`PatchError::Nsec3`]). The checks of a load are not run again:
//! the update's own rules and checks (`crate::update`) keep what they
//! guard, and the zone's warnings are those of its load.

use std::collections::HashMap;
use std::hash::BuildHasher;

use hickory_proto::rr::{Record, RecordType};

use super::arena::name_wire;
use super::compact::StoredRData;
use super::node::NodeData;
use super::{WireName, Zone};
use crate::zone::diff::Changeset;
use crate::zone::reader::type_covered;

/// Why changesets could not be patched in; the caller builds the zone
/// from its records instead (or, for a record that does not fit, gives
/// up: the changesets do not describe this version).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum PatchError {
    #[error("the changes touch the NSEC3 chain, which is built with the zone")]
    Nsec3,
    #[error("removes a record the zone does not have: {0}")]
    NotPresent(Box<Record>),
    #[error("adds a record the zone has: {0}")]
    AlreadyPresent(Box<Record>),
    #[error("a record outside the zone: {0}")]
    OutOfZone(Box<Record>),
}

/// What a node counts for in the zone's summary.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Counted {
    /// Owns records: a name, not an empty non-terminal.
    name: bool,
    /// Owns NS below the apex: a delegation.
    cut: bool,
}

impl Zone {
    /// This version with `changesets` applied in order, as a new zone; this
    /// one is unchanged.
    pub(crate) fn patched(&self, changesets: &[Changeset]) -> Result<Zone, PatchError> {
        let mut zone = self.clone();
        zone.patch(changesets)?;
        Ok(zone)
    }

    /// Applies `changesets` in order to this zone. All or nothing only
    /// as far as [`PatchError::Nsec3`] goes (found before any change):
    /// after another error the zone is part-changed and must be dropped.
    pub(crate) fn patch(&mut self, changesets: &[Changeset]) -> Result<(), PatchError> {
        let touches_nsec3 = |record: &Record| match record.record_type() {
            RecordType::NSEC3 | RecordType::NSEC3PARAM => true,
            RecordType::RRSIG => type_covered(&record.data) == Some(RecordType::NSEC3),
            _ => false,
        };
        // The SOAs (first on each side) are not among the changes.
        let changes = || {
            changesets
                .iter()
                .flat_map(|c| c.removed.iter().skip(1).chain(c.added.iter().skip(1)))
        };
        if changes().any(touches_nsec3) {
            return Err(PatchError::Nsec3);
        }
        // Each node touched, with what it counted for before, and whether
        // it owned records at some point (only such a node can go: an
        // empty non-terminal made for a name below goes with that name).
        let mut touched: HashMap<usize, (Counted, bool)> = HashMap::new();
        for changeset in changesets {
            let (Some(old_soa), Some(new_soa)) =
                (changeset.removed.first(), changeset.added.first())
            else {
                continue;
            };
            for record in std::iter::once(old_soa).chain(changeset.removed.iter().skip(1)) {
                let at = self.find_record_node(record)?;
                touched
                    .entry(at)
                    .or_insert_with(|| (self.counted(at), true))
                    .1 = true;
                self.remove_record(at, record)?;
            }
            for record in std::iter::once(new_soa).chain(changeset.added.iter().skip(1)) {
                let at = self.node_for(record, &mut touched)?;
                touched
                    .entry(at)
                    .or_insert_with(|| (self.counted(at), true))
                    .1 = true;
                self.add_record(at, record)?;
            }
            self.soa = new_soa.clone();
        }
        for (&at, &(before, owned)) in &touched {
            let after = self.counted(at);
            if owned && !after.name {
                self.prune(at);
            }
            let names = isize::from(after.name) - isize::from(before.name);
            let cuts = isize::from(after.cut) - isize::from(before.cut);
            self.summary.names = self.summary.names.saturating_add_signed(names);
            self.summary.delegations = self.summary.delegations.saturating_add_signed(cuts);
        }
        for (records, sign) in changesets
            .iter()
            .flat_map(|c| [(&c.removed, -1), (&c.added, 1)])
        {
            let signatures = records
                .iter()
                .filter(|r| r.record_type() == RecordType::RRSIG)
                .count() as isize;
            let summary = &mut self.summary;
            summary.records = summary
                .records
                .saturating_add_signed(sign * records.len() as isize);
            summary.signatures = summary.signatures.saturating_add_signed(sign * signatures);
        }
        if changes().any(|r| r.record_type() == RecordType::NSEC) {
            self.order_nsec_chain();
        }
        self.summary.proves_denial = !self.nsec_chain.is_empty() || self.nsec3.is_usable();
        Ok(())
    }

    /// What the node at `at` counts for in the summary.
    fn counted(&self, at: usize) -> Counted {
        let node = &self.nodes[at];
        let is_apex =
            name_wire(&self.names, node).eq_ignore_ascii_case(WireName::new(&self.origin).bytes());
        Counted {
            name: !node.rrsets.is_empty(),
            cut: !is_apex
                && node
                    .rrsets
                    .iter()
                    .any(|set| set.record_type == RecordType::NS),
        }
    }

    /// The node that owns `record`, which the zone must have.
    fn find_record_node(&self, record: &Record) -> Result<usize, PatchError> {
        let wire = WireName::new(&record.name);
        self.find_wire(self.hasher.hash_one(wire.bytes()), wire.bytes())
            .ok_or_else(|| PatchError::NotPresent(Box::new(record.clone())))
    }

    /// Removes `record` from the node at `at` (from its type's RRset, an
    /// RRSIG from the set of its TTL).
    fn remove_record(&mut self, at: usize, record: &Record) -> Result<(), PatchError> {
        let missing = || PatchError::NotPresent(Box::new(record.clone()));
        let data = StoredRData::new(record.data.clone());
        let node = &mut self.nodes[at];
        let set = set_of(node, record).ok_or_else(missing)?;
        let rdatas = &mut node.rrsets[set].rdatas;
        let position = rdatas.iter().position(|d| *d == data).ok_or_else(missing)?;
        rdatas.remove(position);
        if rdatas.is_empty() {
            node.rrsets.remove(set);
        }
        Ok(())
    }

    /// Adds `record` to the node at `at`, where it must not be yet (a
    /// record of an RRset takes the set's TTL, as in a build).
    fn add_record(&mut self, at: usize, record: &Record) -> Result<(), PatchError> {
        let data = StoredRData::new(record.data.clone());
        let node = &mut self.nodes[at];
        if set_of(node, record).is_some_and(|set| node.rrsets[set].rdatas.contains(&data)) {
            return Err(PatchError::AlreadyPresent(Box::new(record.clone())));
        }
        node.add(record.record_type(), record.ttl, data);
        Ok(())
    }

    /// The node `record` goes to, inserted with its missing ancestors
    /// (each new one among `touched`, as counting for nothing before).
    fn node_for(
        &mut self,
        record: &Record,
        touched: &mut HashMap<usize, (Counted, bool)>,
    ) -> Result<usize, PatchError> {
        let wire = WireName::new(&record.name);
        if wire.ancestor(self.origin_labels) != WireName::new(&self.origin).bytes() {
            return Err(PatchError::OutOfZone(Box::new(record.clone())));
        }
        let before = self.nodes.len();
        let at = self.node_or_insert(&wire, self.origin_labels, &record.name);
        let nothing = Counted {
            name: false,
            cut: false,
        };
        for new in before..self.nodes.len() {
            touched.insert(new, (nothing, false));
        }
        Ok(at)
    }

    /// Takes the node at `at` out of the index if it owns nothing and has
    /// nothing below it, and then each ancestor this leaves so.
    fn prune(&mut self, mut at: usize) {
        if self.children.is_empty() {
            self.children = self.count_children();
        }
        loop {
            let node = &self.nodes[at];
            let wire = WireName::from_wire(name_wire(&self.names, node));
            let hash = self.hasher.hash_one(wire.bytes());
            let indexed = self.find_wire(hash, wire.bytes()) == Some(at);
            if !indexed
                || !node.rrsets.is_empty()
                || self.children.get(at).is_some_and(|&n| n > 0)
                || wire.labels() <= self.origin_labels
            {
                return;
            }
            if let Ok(entry) = self.index.find_entry(hash, |&i| i as usize == at) {
                entry.remove();
            }
            let parent = wire.ancestor(wire.labels() - 1);
            let Some(up) = self.find_wire(self.hasher.hash_one(parent), parent) else {
                return;
            };
            if let Some(count) = self.children.get_mut(up) {
                *count = count.saturating_sub(1);
            }
            at = up;
        }
    }

    /// Whether most nodes are names taken out of the index: time to
    /// build the zone afresh from its records.
    pub(crate) fn is_sparse(&self) -> bool {
        self.nodes.len() > 2 * self.index.len() + 64
    }

    /// How many names of the index sit directly below each node.
    fn count_children(&self) -> Vec<u32> {
        let mut children = vec![0; self.nodes.len()];
        for &at in self.index.iter() {
            let wire = WireName::from_wire(name_wire(&self.names, &self.nodes[at as usize]));
            if wire.labels() <= self.origin_labels {
                continue;
            }
            let parent = wire.ancestor(wire.labels() - 1);
            if let Some(up) = self.find_wire(self.hasher.hash_one(parent), parent) {
                children[up] += 1;
            }
        }
        children
    }
}

/// Where in `node` the RRset of `record` is: its type's, or for an
/// RRSIG the set of its TTL (one per TTL, see `NodeData::add`).
fn set_of(node: &NodeData, record: &Record) -> Option<usize> {
    let rtype = record.record_type();
    node.rrsets.iter().position(|set| {
        set.record_type == rtype && (rtype != RecordType::RRSIG || set.ttl() == record.ttl)
    })
}

#[cfg(test)]
mod tests;
