//! A zone being changed by a batch of updates: the version served, read
//! where nothing changed, and an overlay of the names the batch changed,
//! each copied whole from the zone on its first change. One message's
//! changes are kept or undone as a whole (RFC 2136 3.4: "all or none"),
//! and the difference each message made is written out as a
//! [`Changeset`] for the journal, IXFR and the next version
//! ([`Zone::patched`]).
//!
//! Reading through the overlay keeps a batch's cost in proportion to what
//! it changes, not to the zone's size; the zone itself is never copied
//! here.
//!
//! Besides applying changes, [`ZoneEdit::check`] judges what a message
//! changed by the rule of the checks of a load that an update can break
//! while following RFC 2136 3.4.2: an in-zone name server keeps an
//! address. (CNAME and singleton types replace or are ignored, the SOA and
//! the apex NS are protected: `super::apply` makes sure of the rest.)

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::zone::check::ProblemKind;
use crate::zone::diff::{soa_serial, Changeset};
use crate::zone::Zone;

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

/// A name the batch changed: its spelling and every RRset it has now.
#[derive(Clone, Debug)]
struct EditNode {
    /// As the zone spells it, or as the update that created it does.
    name: Name,
    rrsets: Vec<EditSet>,
}

/// An RRset as it was before the open message touched it.
#[derive(Debug)]
struct Saved {
    name: Name,
    rtype: RecordType,
    before: Option<EditSet>,
}

/// A zone's records, changed message by message.
#[derive(Debug)]
pub(crate) struct ZoneEdit {
    base: Arc<Zone>,
    /// The names changed so far (case-insensitive, as `Name`'s `Hash` and
    /// `Eq` are); a name with no RRsets owns nothing now.
    overlay: HashMap<Name, EditNode>,
    /// The RRsets the open message changed, each once, before its change.
    undo: Vec<Saved>,
    /// The (owner, type) of each RRset in `undo`: a message of thousands
    /// of records looks each up once, not through the whole list.
    saved: HashSet<(Name, RecordType)>,
}

impl ZoneEdit {
    /// The zone `base`, unchanged so far.
    pub(crate) fn new(base: Arc<Zone>) -> ZoneEdit {
        ZoneEdit {
            base,
            overlay: HashMap::new(),
            undo: Vec::new(),
            saved: HashSet::new(),
        }
    }

    pub(crate) fn origin(&self) -> &Name {
        self.base.origin()
    }

    /// The apex SOA record.
    pub(crate) fn soa(&self) -> Option<Record> {
        let set = self.rrset(self.origin(), RecordType::SOA)?;
        let (ttl, data) = set.records.first()?;
        Some(Record::from_rdata(
            self.origin().clone(),
            *ttl,
            data.clone(),
        ))
    }

    /// The name's RRsets now: the overlay's, else the zone's.
    fn sets_at(&self, name: &Name) -> Option<EditNode> {
        if let Some(node) = self.overlay.get(name) {
            return Some(node.clone());
        }
        let node = self.base.node(name)?;
        let mut rrsets: Vec<EditSet> = Vec::new();
        for set in node.rrsets() {
            let records = set.rdatas().map(|data| (set.ttl(), data));
            match rrsets.iter_mut().find(|s| s.rtype == set.record_type()) {
                // RRSIGs: one stored RRset per TTL, one here.
                Some(same) => same.records.extend(records),
                None => rrsets.push(EditSet {
                    rtype: set.record_type(),
                    records: records.collect(),
                }),
            }
        }
        Some(EditNode {
            name: node.name(),
            rrsets,
        })
    }

    /// RFC 2136 2.4.4 "name is in use": at least one record is owned by
    /// `name` (an empty non-terminal is not in use).
    pub(crate) fn name_in_use(&self, name: &Name) -> bool {
        match self.overlay.get(name) {
            Some(node) => !node.rrsets.is_empty(),
            None => self
                .base
                .node(name)
                .is_some_and(|node| !node.rrsets().is_empty()),
        }
    }

    pub(crate) fn rrset(&self, name: &Name, rtype: RecordType) -> Option<EditSet> {
        self.sets_at(name)?
            .rrsets
            .into_iter()
            .find(|set| set.rtype == rtype)
    }

    /// The types of the RRsets at `name`.
    pub(crate) fn types_at(&self, name: &Name) -> Vec<RecordType> {
        self.sets_at(name)
            .map(|node| node.rrsets.iter().map(|set| set.rtype).collect())
            .unwrap_or_default()
    }

    /// Replaces the RRset of type `rtype` at `name` with `set` (`None`
    /// deletes it), remembering the old one for [`ZoneEdit::rollback`]
    /// and [`ZoneEdit::commit`]. Every change goes through here.
    pub(crate) fn put(&mut self, name: &Name, rtype: RecordType, set: Option<EditSet>) {
        if !self.overlay.contains_key(name) {
            let node = self.sets_at(name).unwrap_or_else(|| EditNode {
                name: name.clone(),
                rrsets: Vec::new(),
            });
            self.overlay.insert(name.clone(), node);
        }
        let Some(node) = self.overlay.get_mut(name) else {
            return;
        };
        let position = node.rrsets.iter().position(|s| s.rtype == rtype);
        let before = position.map(|p| node.rrsets[p].clone());
        if self.saved.insert((name.clone(), rtype)) {
            self.undo.push(Saved {
                name: name.clone(),
                rtype,
                before,
            });
        }
        install(node, rtype, set);
    }

    /// Starts a message: nothing to undo yet.
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
        self.saved.clear();
    }

    /// Undoes every change since [`ZoneEdit::begin`].
    pub(crate) fn rollback(&mut self) {
        self.saved.clear();
        for saved in std::mem::take(&mut self.undo).into_iter().rev() {
            if let Some(node) = self.overlay.get_mut(&saved.name) {
                install(node, saved.rtype, saved.before);
            }
        }
    }

    /// The RRsets the open message changed: (owner, type, before, now),
    /// only those that differ.
    fn changes(&self) -> Vec<(&Name, RecordType, Option<&EditSet>, Option<&EditSet>)> {
        self.undo
            .iter()
            .filter_map(|saved| {
                let node = self.overlay.get(&saved.name)?;
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
        let serial = |record: &Record| soa_serial(record).unwrap_or(0);
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
        self.saved.clear();
        Some(changeset)
    }

    /// The rule of the checks of a load the open message breaks, if any:
    /// an in-zone name server (not below a zone cut, where glue is only
    /// recommended) must have an address. Only names the message touched,
    /// and the name servers those names serve or shelter, are judged: the
    /// zone was clean before it. Every NS target of the zone is gathered
    /// (one pass over it) only when an address or a cut went away.
    pub(crate) fn check(&self) -> Result<(), Box<ProblemKind>> {
        let mut targets: Vec<Name> = Vec::new();
        let mut all_targets: Option<HashSet<Name>> = None;
        for (name, rtype, before, now) in self.changes() {
            match rtype {
                // New NS records need their targets addressed.
                RecordType::NS => targets.extend(ns_targets(now)),
                RecordType::A | RecordType::AAAA => {}
                _ => continue,
            }
            let cut_gone = rtype == RecordType::NS && before.is_some() && now.is_none();
            let address_gone = rtype != RecordType::NS
                && [RecordType::A, RecordType::AAAA]
                    .iter()
                    .all(|&t| self.rrset(name, t).is_none());
            if cut_gone {
                // The names below a cut that went away are in the zone now.
                let all = all_targets.get_or_insert_with(|| self.every_ns_target());
                targets.extend(all.iter().filter(|t| name.zone_of(t)).cloned());
            }
            if address_gone {
                // A name that lost its addresses may be a name server.
                let all = all_targets.get_or_insert_with(|| self.every_ns_target());
                if all.contains(name) {
                    targets.push(name.clone());
                }
            }
        }
        for target in targets {
            let addressed = [RecordType::A, RecordType::AAAA]
                .iter()
                .any(|&t| self.rrset(&target, t).is_some());
            if self.origin().zone_of(&target) && !addressed && self.enclosing_cut(&target).is_none()
            {
                return Err(Box::new(ProblemKind::NsWithoutAddress(target)));
            }
        }
        Ok(())
    }

    /// Every name an NS record of the zone names, as the batch left it.
    fn every_ns_target(&self) -> HashSet<Name> {
        let mut targets = HashSet::new();
        for at in 0.. {
            let Some(node) = self.base.node_at(at) else {
                break;
            };
            let Some(set) = node.rrset(RecordType::NS) else {
                continue;
            };
            if self.overlay.contains_key(&node.name()) {
                continue;
            }
            targets.extend(set.other_rdatas().filter_map(|data| match data {
                RData::NS(ns) => Some(ns.0.clone()),
                _ => None,
            }));
        }
        for node in self.overlay.values() {
            let ns = node.rrsets.iter().find(|s| s.rtype == RecordType::NS);
            targets.extend(ns_targets(ns));
        }
        targets
    }

    /// The zone cut at or above `name`, below the apex, if any.
    fn enclosing_cut(&self, name: &Name) -> Option<Name> {
        let apex_labels = self.origin().num_labels();
        (apex_labels.saturating_add(1)..=name.num_labels())
            .rev()
            .map(|labels| name.trim_to(usize::from(labels)))
            .find(|ancestor| self.rrset(ancestor, RecordType::NS).is_some())
    }
}

/// Stores `set` as the RRset of type `rtype` of `node` (`None`: none).
fn install(node: &mut EditNode, rtype: RecordType, set: Option<EditSet>) {
    let position = node.rrsets.iter().position(|s| s.rtype == rtype);
    match (position, set) {
        (Some(p), Some(set)) => node.rrsets[p] = set,
        (Some(p), None) => {
            node.rrsets.remove(p);
        }
        (None, Some(set)) => node.rrsets.push(set),
        (None, None) => {}
    }
}

/// The names an NS RRset names.
fn ns_targets(set: Option<&EditSet>) -> impl Iterator<Item = Name> + '_ {
    set.into_iter()
        .flat_map(|s| s.records.iter())
        .filter_map(|(_, data)| match data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
}

fn records_of(set: Option<&EditSet>) -> &[(u32, RData)] {
    set.map_or(&[][..], |s| &s.records[..])
}

/// The same records, in any order (a set's records are distinct).
fn same_records(a: &EditSet, b: &EditSet) -> bool {
    a.records.len() == b.records.len() && a.records.iter().all(|r| b.records.contains(r))
}
