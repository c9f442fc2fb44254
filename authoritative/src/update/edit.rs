//! A zone being changed by updates: its records indexed by name and type,
//! changed one message at a time, each message's changes kept or undone
//! as a whole (RFC 2136 3.4: "all or none"), and the difference each
//! message made written out as a [`Changeset`] for the journal and IXFR.
//!
//! The served [`Zone`] is immutable; the writer ([`super::writer`]) builds
//! a `ZoneEdit` from it for each batch of updates, applies the batch
//! message by message, and builds the next version from
//! [`ZoneEdit::records`] (where the checks of a load run again).
//!
//! Besides applying changes, it keeps what the checks of a load need to
//! judge one message without reading the whole zone: which names are
//! named by NS records, so that an update cannot leave an in-zone name
//! server without an address ([`ZoneEdit::check`]). The other rules of
//! the checks cannot be broken by an update that follows RFC 2136 3.4.2
//! (CNAME and singleton types replace or are ignored, the SOA and the
//! apex NS are protected), which `super::apply` makes sure of.

use std::collections::HashMap;

use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::zone::check::ProblemKind;
use crate::zone::diff::Changeset;

/// One RRset as it stands: its type and its records' TTLs and data.
/// Records keep their own TTLs (an RRSIG set's differ); adding to a set
/// sets every TTL of it to the new record's (`super::apply`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EditSet {
    pub rtype: RecordType,
    pub records: Vec<(u32, RData)>,
}

impl EditSet {
    pub(crate) fn contains(&self, data: &RData) -> bool {
        self.records.iter().any(|(_, d)| d == data)
    }
}

/// One owner name and its RRsets; an empty `rrsets` is a name that no
/// longer owns anything.
#[derive(Clone, Debug)]
struct EditNode {
    /// As first spelled (in the zone, or by the update that created it).
    name: Name,
    rrsets: Vec<EditSet>,
}

/// An RRset as it was before the open message touched it.
#[derive(Debug)]
struct Saved {
    node: usize,
    rtype: RecordType,
    before: Option<EditSet>,
}

/// A zone's records, changed message by message.
#[derive(Debug)]
pub(crate) struct ZoneEdit {
    origin: Name,
    /// In the order the zone gave them, new names last.
    nodes: Vec<EditNode>,
    /// Case-insensitive, as `Name`'s `Hash` and `Eq` are.
    index: HashMap<Name, usize>,
    /// How many NS records name each target.
    ns_targets: HashMap<Name, usize>,
    /// The RRsets the open message changed, each once, before its change.
    undo: Vec<Saved>,
}

impl ZoneEdit {
    /// The zone `origin` made of `records` (its SOA among them).
    pub(crate) fn new(origin: Name, records: impl IntoIterator<Item = Record>) -> ZoneEdit {
        let mut edit = ZoneEdit {
            origin,
            nodes: Vec::new(),
            index: HashMap::new(),
            ns_targets: HashMap::new(),
            undo: Vec::new(),
        };
        for record in records {
            let rtype = record.record_type();
            let at = edit.node_or_insert(&record.name);
            if let RData::NS(ns) = &record.data {
                *edit.ns_targets.entry(ns.0.clone()).or_default() += 1;
            }
            let node = &mut edit.nodes[at];
            match node.rrsets.iter_mut().find(|set| set.rtype == rtype) {
                Some(set) if set.contains(&record.data) => {}
                Some(set) => set.records.push((record.ttl, record.data)),
                None => node.rrsets.push(EditSet {
                    rtype,
                    records: vec![(record.ttl, record.data)],
                }),
            }
        }
        edit
    }

    pub(crate) fn origin(&self) -> &Name {
        &self.origin
    }

    /// The apex SOA record.
    pub(crate) fn soa(&self) -> Option<Record> {
        let set = self.rrset(&self.origin, RecordType::SOA)?;
        let (ttl, data) = set.records.first()?;
        Some(Record::from_rdata(self.origin.clone(), *ttl, data.clone()))
    }

    /// RFC 2136 2.4.4 "name is in use": at least one record is owned by
    /// `name` (an empty non-terminal is not in use).
    pub(crate) fn name_in_use(&self, name: &Name) -> bool {
        self.node(name).is_some_and(|node| !node.rrsets.is_empty())
    }

    pub(crate) fn rrset(&self, name: &Name, rtype: RecordType) -> Option<&EditSet> {
        self.node(name)?
            .rrsets
            .iter()
            .find(|set| set.rtype == rtype)
    }

    /// The types of the RRsets at `name`.
    pub(crate) fn types_at(&self, name: &Name) -> Vec<RecordType> {
        self.node(name)
            .map(|node| node.rrsets.iter().map(|set| set.rtype).collect())
            .unwrap_or_default()
    }

    fn node(&self, name: &Name) -> Option<&EditNode> {
        self.index.get(name).map(|&at| &self.nodes[at])
    }

    fn node_or_insert(&mut self, name: &Name) -> usize {
        if let Some(&at) = self.index.get(name) {
            return at;
        }
        let at = self.nodes.len();
        self.nodes.push(EditNode {
            name: name.clone(),
            rrsets: Vec::new(),
        });
        self.index.insert(name.clone(), at);
        at
    }

    /// Replaces the RRset of type `rtype` at `name` with `set` (`None`
    /// deletes it), remembering the old one for [`ZoneEdit::rollback`]
    /// and [`ZoneEdit::commit`]. Every change goes through here.
    pub(crate) fn put(&mut self, name: &Name, rtype: RecordType, set: Option<EditSet>) {
        let at = self.node_or_insert(name);
        let node = &mut self.nodes[at];
        let position = node.rrsets.iter().position(|s| s.rtype == rtype);
        let before = position.map(|p| node.rrsets[p].clone());
        if !self
            .undo
            .iter()
            .any(|saved| saved.node == at && saved.rtype == rtype)
        {
            self.undo.push(Saved {
                node: at,
                rtype,
                before: before.clone(),
            });
        }
        self.install(at, rtype, position, before.as_ref(), set);
    }

    /// Stores `set` at node `at` in place of `old` (at `position`), and
    /// keeps the NS targets counted.
    fn install(
        &mut self,
        at: usize,
        rtype: RecordType,
        position: Option<usize>,
        old: Option<&EditSet>,
        set: Option<EditSet>,
    ) {
        if rtype == RecordType::NS {
            let targets = |set: Option<&EditSet>| -> Vec<Name> {
                set.map(|s| s.records.iter())
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, data)| match data {
                        RData::NS(ns) => Some(ns.0.clone()),
                        _ => None,
                    })
                    .collect()
            };
            for target in targets(old) {
                if let Some(count) = self.ns_targets.get_mut(&target) {
                    *count -= 1;
                    if *count == 0 {
                        self.ns_targets.remove(&target);
                    }
                }
            }
            for target in targets(set.as_ref()) {
                *self.ns_targets.entry(target).or_default() += 1;
            }
        }
        let node = &mut self.nodes[at];
        match (position, set) {
            (Some(p), Some(set)) => node.rrsets[p] = set,
            (Some(p), None) => {
                node.rrsets.remove(p);
            }
            (None, Some(set)) => node.rrsets.push(set),
            (None, None) => {}
        }
    }

    /// Starts a message: nothing to undo yet.
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
    }

    /// Undoes every change since [`ZoneEdit::begin`].
    pub(crate) fn rollback(&mut self) {
        for saved in std::mem::take(&mut self.undo).into_iter().rev() {
            let node = &self.nodes[saved.node];
            let position = node.rrsets.iter().position(|s| s.rtype == saved.rtype);
            let now = position.map(|p| node.rrsets[p].clone());
            self.install(
                saved.node,
                saved.rtype,
                position,
                now.as_ref(),
                saved.before,
            );
        }
    }

    /// The RRsets the open message changed: (owner, type, before, now),
    /// only those that differ.
    fn changes(&self) -> Vec<(&Name, RecordType, Option<&EditSet>, Option<&EditSet>)> {
        self.undo
            .iter()
            .filter_map(|saved| {
                let node = &self.nodes[saved.node];
                let now = node.rrsets.iter().find(|s| s.rtype == saved.rtype);
                let same = match (saved.before.as_ref(), now) {
                    (Some(before), Some(now)) => same_records(before, now),
                    (None, None) => true,
                    _ => false,
                };
                (!same).then_some((&node.name, saved.rtype, saved.before.as_ref(), now))
            })
            .collect()
    }

    /// Whether the open message changed anything (its SOA included).
    pub(crate) fn changed(&self) -> bool {
        !self.changes().is_empty()
    }

    /// Whether the open message replaced the SOA.
    pub(crate) fn soa_changed(&self) -> bool {
        self.changes()
            .iter()
            .any(|(_, rtype, _, _)| *rtype == RecordType::SOA)
    }

    /// Ends the open message, keeping its changes: their difference from
    /// `old_soa` (the SOA before it) to the SOA now, as RFC 1995 lays one
    /// out (each side's records the other lacks, TTLs included).
    pub(crate) fn commit(&mut self, old_soa: Record) -> Option<Changeset> {
        let new_soa = self.soa()?;
        let serial = |record: &Record| match &record.data {
            RData::SOA(soa) => soa.serial,
            _ => 0,
        };
        let mut changeset = Changeset {
            from_serial: serial(&old_soa),
            to_serial: serial(&new_soa),
            removed: vec![old_soa],
            added: vec![new_soa],
        };
        for (name, rtype, before, now) in self.changes() {
            if rtype == RecordType::SOA {
                continue;
            }
            let (before, now) = (records_of(before), records_of(now));
            let only = |side: &[(u32, RData)], other: &[(u32, RData)]| {
                side.iter()
                    .filter(|record| !other.contains(record))
                    .map(|(ttl, data)| Record::from_rdata(name.clone(), *ttl, data.clone()))
                    .collect::<Vec<_>>()
            };
            changeset.removed.extend(only(before, now));
            changeset.added.extend(only(now, before));
        }
        self.undo.clear();
        Some(changeset)
    }

    /// The rule of the checks of a load the open message breaks, if any:
    /// an in-zone name server (not below a
    /// zone cut, where glue is only recommended) must have an address.
    /// Only names the message touched, and the name servers those names
    /// serve or shelter, are judged: the zone was clean before it.
    pub(crate) fn check(&self) -> Result<(), Box<ProblemKind>> {
        let mut targets: Vec<Name> = Vec::new();
        for (name, rtype, before, _) in self.changes() {
            match rtype {
                // New NS records need their targets addressed; a cut that
                // went away leaves the names below it in the zone.
                RecordType::NS => {
                    if let Some(set) = self.rrset(name, RecordType::NS) {
                        targets.extend(set.records.iter().filter_map(|(_, d)| match d {
                            RData::NS(ns) => Some(ns.0.clone()),
                            _ => None,
                        }));
                    }
                    if before.is_some() && self.rrset(name, RecordType::NS).is_none() {
                        targets.extend(self.ns_targets.keys().filter(|t| name.zone_of(t)).cloned());
                    }
                }
                RecordType::A | RecordType::AAAA if self.ns_targets.contains_key(name) => {
                    targets.push(name.clone());
                }
                _ => {}
            }
        }
        for target in targets {
            let addressed = [RecordType::A, RecordType::AAAA]
                .iter()
                .any(|&t| self.rrset(&target, t).is_some());
            if self.origin.zone_of(&target) && !addressed && self.enclosing_cut(&target).is_none() {
                return Err(Box::new(ProblemKind::NsWithoutAddress(target)));
            }
        }
        Ok(())
    }

    /// The zone cut at or above `name`, below the apex, if any.
    fn enclosing_cut(&self, name: &Name) -> Option<Name> {
        let apex_labels = self.origin.num_labels();
        (apex_labels.saturating_add(1)..=name.num_labels())
            .rev()
            .map(|labels| name.trim_to(usize::from(labels)))
            .find(|ancestor| self.rrset(ancestor, RecordType::NS).is_some())
    }

    /// Every record, SOA first, for the next version of the zone.
    pub(crate) fn records(&self) -> Vec<Record> {
        let mut records: Vec<Record> = self.soa().into_iter().collect();
        for node in &self.nodes {
            for set in &node.rrsets {
                if set.rtype == RecordType::SOA && node.name == self.origin {
                    continue;
                }
                records.extend(
                    set.records.iter().map(|(ttl, data)| {
                        Record::from_rdata(node.name.clone(), *ttl, data.clone())
                    }),
                );
            }
        }
        records
    }
}

fn records_of(set: Option<&EditSet>) -> &[(u32, RData)] {
    set.map_or(&[][..], |s| &s.records[..])
}

/// The same records, in any order (a set's records are distinct).
fn same_records(a: &EditSet, b: &EditSet) -> bool {
    a.records.len() == b.records.len() && a.records.iter().all(|r| b.records.contains(r))
}
