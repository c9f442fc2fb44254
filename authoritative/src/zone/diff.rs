//! Differences between two versions of a zone: a [`Changeset`] laid out as
//! RFC 1995 (IXFR) lays out one difference, [`diff`] to compute it from
//! two versions' records, and [`RecordSet`] to turn the old version into
//! the new one by a chain of them (the journal replayed at start).
//!
//! Records are sets (RFC 2181 5: identical records are one record; what
//! makes two records identical is `wire::RecordKey`: owner without case,
//! type, TTL and data). A TTL change is a removal and an addition, as on
//! the wire of IXFR.
//!
//! The journal ([`crate::journal`]) stores changesets; IXFR sends them;
//! dynamic UPDATE produces them. Applying is strict: a changeset that
//! removes a record the zone does not have, adds one it already has, or
//! starts from another serial does not describe this zone, and applying
//! it anyway would silently build a zone nobody wrote. The error names the
//! record, so the log says which change did not fit.

use std::collections::{HashMap, HashSet};
use std::fmt;

use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{RData, Record, RecordType};

use super::wire::RecordKey;

/// One difference between two versions of a zone (RFC 1995 4): the SOA of
/// the old version then the records removed from it, the SOA of the new
/// version then the records added. `removed[0]` and `added[0]` are those
/// SOAs, whose serials are `from_serial` and `to_serial`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Changeset {
    pub from_serial: u32,
    pub to_serial: u32,
    pub removed: Vec<Record>,
    pub added: Vec<Record>,
}

impl Changeset {
    /// Changes besides the SOAs: records removed or added.
    pub(crate) fn changes(&self) -> usize {
        self.removed.len().saturating_sub(1) + self.added.len().saturating_sub(1)
    }
}

/// Why two versions could not be compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DiffError {
    #[error("the {0} version of the zone has no SOA record")]
    MissingSoa(Version),
    #[error("a record of the {version} version cannot be encoded: {reason}")]
    Unencodable { version: Version, reason: String },
}

/// Which side of a [`diff`] an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    Old,
    New,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::Old => "old",
            Version::New => "new",
        })
    }
}

/// Why a changeset does not fit the records it was applied to; each
/// variant names the record or serial that did not fit.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(crate) enum ApplyError {
    #[error("the zone has no SOA record")]
    MissingSoa,
    #[error("the changeset starts at serial {expected}, the zone is at serial {found}")]
    SerialMismatch { expected: u32, found: u32 },
    #[error("the changeset does not begin its removals and additions with the SOAs of serials {from} and {to} (RFC 1995 4)")]
    Malformed { from: u32, to: u32 },
    #[error("removes a record the zone does not have: {0}")]
    NotPresent(Box<Record>),
    #[error("adds a record the zone already has: {0}")]
    AlreadyPresent(Box<Record>),
    #[error("a record cannot be encoded: {0}")]
    Unencodable(String),
}

/// The difference from `old` to `new`, each the records of one version of
/// a zone with its SOA among them. Duplicates count once. Removed records
/// keep the order of `old`, added ones the order of `new`.
pub(crate) fn diff(old: &[Record], new: &[Record]) -> Result<Changeset, DiffError> {
    let old_soa = find_soa(old).ok_or(DiffError::MissingSoa(Version::Old))?;
    let new_soa = find_soa(new).ok_or(DiffError::MissingSoa(Version::New))?;
    let keys = |records: &[Record], version| {
        records
            .iter()
            .map(|record| {
                RecordKey::new(record).map_err(|e| DiffError::Unencodable {
                    version,
                    reason: format!("{record}: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let old_keys = keys(old, Version::Old)?;
    let new_keys = keys(new, Version::New)?;
    let in_old: HashSet<&RecordKey> = old_keys.iter().collect();
    let in_new: HashSet<&RecordKey> = new_keys.iter().collect();

    // Each side's records the other lacks, once each, the SOAs aside.
    let only = |records: &[Record], keys: &[RecordKey], other: &HashSet<&RecordKey>| {
        let mut seen = HashSet::new();
        records
            .iter()
            .zip(keys)
            .filter(|(record, key)| {
                record.record_type() != RecordType::SOA && !other.contains(key) && seen.insert(*key)
            })
            .map(|(record, _)| record.clone())
            .collect::<Vec<_>>()
    };
    let mut removed = vec![old_soa.0.clone()];
    removed.extend(only(old, &old_keys, &in_new));
    let mut added = vec![new_soa.0.clone()];
    added.extend(only(new, &new_keys, &in_old));
    Ok(Changeset {
        from_serial: old_soa.1,
        to_serial: new_soa.1,
        removed,
        added,
    })
}

/// `records` changed by `changeset`: removals first, then additions (RFC
/// 1995 4), or the first record that did not fit.
#[cfg(test)]
pub(crate) fn apply(
    records: Vec<Record>,
    changeset: &Changeset,
) -> Result<Vec<Record>, ApplyError> {
    let mut set = RecordSet::new(records)?;
    set.apply(changeset)?;
    Ok(set.into_records())
}

/// A version of a zone's records indexed by `RecordKey`, so that a chain
/// of changesets (the journal replayed at start) is applied without
/// indexing the whole zone again for each one.
pub(crate) struct RecordSet {
    /// `None` where a record was removed.
    records: Vec<Option<Record>>,
    index: HashMap<RecordKey, usize>,
}

impl RecordSet {
    /// Indexes `records`; duplicates count once (the first is kept).
    pub(crate) fn new(records: Vec<Record>) -> Result<RecordSet, ApplyError> {
        let mut set = RecordSet {
            records: Vec::with_capacity(records.len()),
            index: HashMap::with_capacity(records.len()),
        };
        for record in records {
            let key = key(&record)?;
            if !set.index.contains_key(&key) {
                set.index.insert(key, set.records.len());
                set.records.push(Some(record));
            }
        }
        Ok(set)
    }

    /// The serial of the SOA among the records.
    pub(crate) fn serial(&self) -> Option<u32> {
        find_soa(self.records.iter().flatten()).map(|(_, serial)| serial)
    }

    /// Applies `changeset`; on error the set is left as it was.
    pub(crate) fn apply(&mut self, changeset: &Changeset) -> Result<(), ApplyError> {
        let found = self.serial().ok_or(ApplyError::MissingSoa)?;
        if found != changeset.from_serial {
            return Err(ApplyError::SerialMismatch {
                expected: changeset.from_serial,
                found,
            });
        }
        let soa_serial = |records: &[Record]| records.first().and_then(soa_serial);
        if soa_serial(&changeset.removed) != Some(changeset.from_serial)
            || soa_serial(&changeset.added) != Some(changeset.to_serial)
        {
            return Err(ApplyError::Malformed {
                from: changeset.from_serial,
                to: changeset.to_serial,
            });
        }
        // Checked in full before anything changes, so that an error leaves
        // the set as it was.
        let mut removals: HashMap<RecordKey, usize> =
            HashMap::with_capacity(changeset.removed.len());
        for record in &changeset.removed {
            let key = key(record)?;
            match self.index.get(&key) {
                Some(&at) if !removals.contains_key(&key) => {
                    removals.insert(key, at);
                }
                _ => return Err(ApplyError::NotPresent(Box::new(record.clone()))),
            }
        }
        let mut additions: Vec<(RecordKey, &Record)> = Vec::with_capacity(changeset.added.len());
        let mut adding = HashSet::with_capacity(changeset.added.len());
        for record in &changeset.added {
            let key = key(record)?;
            // Present unless removed by this very changeset (a record
            // removed and added again is unchanged).
            let present = self.index.contains_key(&key) && !removals.contains_key(&key);
            if present || !adding.insert(key.clone()) {
                return Err(ApplyError::AlreadyPresent(Box::new(record.clone())));
            }
            additions.push((key, record));
        }
        for (key, at) in removals {
            self.index.remove(&key);
            self.records[at] = None;
        }
        for (key, record) in additions {
            self.index.insert(key, self.records.len());
            self.records.push(Some(record.clone()));
        }
        Ok(())
    }

    /// The records, in the order they were added to the set.
    pub(crate) fn into_records(self) -> Vec<Record> {
        self.records.into_iter().flatten().collect()
    }
}

fn key(record: &Record) -> Result<RecordKey, ApplyError> {
    RecordKey::new(record).map_err(|e| ApplyError::Unencodable(format!("{record}: {e}")))
}

pub(crate) fn soa_serial(record: &Record) -> Option<u32> {
    match &record.data {
        RData::SOA(SOA { serial, .. }) => Some(*serial),
        _ => None,
    }
}

/// The first SOA record among `records`, and its serial.
fn find_soa<'r>(records: impl IntoIterator<Item = &'r Record>) -> Option<(&'r Record, u32)> {
    records
        .into_iter()
        .find_map(|record| soa_serial(record).map(|serial| (record, serial)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::store::testing::{name, record, texts};

    const SOA_1: &str = "@ 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300";
    const SOA_2: &str = "@ 3600 IN SOA ns.example.net. admin.example. 2 7200 900 1209600 300";

    fn records(lines: &[&str]) -> Vec<Record> {
        let origin = name("example.");
        lines.iter().map(|line| record(&origin, line)).collect()
    }

    /// Records as a sorted list of texts, for comparing versions as sets
    /// (the tests' names differ in case only in owners, which is no
    /// difference).
    fn set(records: &[Record]) -> Vec<String> {
        let mut texts: Vec<String> = texts(records).iter().map(|t| t.to_lowercase()).collect();
        texts.sort();
        texts.dedup();
        texts
    }

    #[test]
    fn diff_lays_the_difference_out_as_ixfr_does() {
        let old = records(&[
            SOA_1,
            "www 300 IN A 192.0.2.1",
            "www 300 IN A 192.0.2.2",
            "mail 300 IN MX 10 mx.example.",
            "ttl 300 IN TXT \"t\"",
        ]);
        let new = records(&[
            SOA_2,
            "ttl 60 IN TXT \"t\"",
            "WWW 300 IN A 192.0.2.1",
            "www 300 IN A 192.0.2.3",
            "www 300 IN A 192.0.2.3",
            "mail 300 IN MX 10 mx.example.",
        ]);
        let changeset = diff(&old, &new).unwrap();
        assert_eq!((changeset.from_serial, changeset.to_serial), (1, 2));
        assert_eq!(
            texts(&changeset.removed),
            [
                "example. 3600 IN SOA ns.example.net. admin.example. 1 7200 900 1209600 300",
                "www.example. 300 IN A 192.0.2.2",
                "ttl.example. 300 IN TXT t",
            ]
        );
        // The owner's case is no change; the TTL is; duplicates count once.
        assert_eq!(
            texts(&changeset.added),
            [
                "example. 3600 IN SOA ns.example.net. admin.example. 2 7200 900 1209600 300",
                "ttl.example. 60 IN TXT t",
                "www.example. 300 IN A 192.0.2.3",
            ]
        );
        assert_eq!(changeset.changes(), 4);
        assert_eq!(set(&apply(old, &changeset).unwrap()), set(&new));
    }

    #[test]
    fn diff_needs_an_soa_on_both_sides() {
        let soa = records(&[SOA_1]);
        let none = records(&["www 300 IN A 192.0.2.1"]);
        assert_eq!(
            diff(&none, &soa).unwrap_err(),
            DiffError::MissingSoa(Version::Old)
        );
        assert_eq!(
            diff(&soa, &none).unwrap_err(),
            DiffError::MissingSoa(Version::New)
        );
    }

    #[test]
    fn apply_refuses_what_does_not_fit_and_names_the_record() {
        let zone = records(&[SOA_1, "www 300 IN A 192.0.2.1"]);
        let changeset = |removed: &[&str], added: &[&str]| Changeset {
            from_serial: 1,
            to_serial: 2,
            removed: records(&[&[SOA_1], removed].concat()),
            added: records(&[&[SOA_2], added].concat()),
        };
        let err = apply(zone.clone(), &changeset(&["www 300 IN A 192.0.2.9"], &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "removes a record the zone does not have: www.example. 300 IN A 192.0.2.9"
        );
        // A TTL is part of the record: removing it with another TTL fails.
        assert!(matches!(
            apply(zone.clone(), &changeset(&["www 60 IN A 192.0.2.1"], &[])),
            Err(ApplyError::NotPresent(_))
        ));
        let err = apply(zone.clone(), &changeset(&[], &["www 300 IN A 192.0.2.1"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "adds a record the zone already has: www.example. 300 IN A 192.0.2.1"
        );
        // Removed and added again in one changeset: unchanged, no error.
        let same = ["www 300 IN A 192.0.2.1"];
        assert_eq!(
            set(&apply(zone.clone(), &changeset(&same, &same)).unwrap()),
            set(&records(&[SOA_2, same[0]]))
        );
        let mut wrong_serial = changeset(&[], &[]);
        wrong_serial.from_serial = 5;
        assert_eq!(
            apply(zone.clone(), &wrong_serial).unwrap_err(),
            ApplyError::SerialMismatch {
                expected: 5,
                found: 1
            }
        );
        let mut no_soas = changeset(&[], &[]);
        no_soas.added.remove(0);
        assert_eq!(
            apply(zone, &no_soas).unwrap_err(),
            ApplyError::Malformed { from: 1, to: 2 }
        );
    }

    #[test]
    fn a_failed_apply_leaves_the_set_as_it_was() {
        let zone = records(&[SOA_1, "a 300 IN A 192.0.2.1", "b 300 IN A 192.0.2.2"]);
        let mut set = RecordSet::new(zone.clone()).unwrap();
        let bad = Changeset {
            from_serial: 1,
            to_serial: 2,
            removed: records(&[SOA_1, "a 300 IN A 192.0.2.1", "c 300 IN A 192.0.2.3"]),
            added: records(&[SOA_2]),
        };
        assert!(set.apply(&bad).is_err());
        assert_eq!(set.serial(), Some(1));
        assert_eq!(texts(&set.into_records()), texts(&zone));
    }

    #[test]
    fn a_chain_applies_in_order() {
        let v1 = records(&[SOA_1, "a 300 IN A 192.0.2.1"]);
        let v2 = records(&[SOA_2, "a 300 IN A 192.0.2.2"]);
        let v3 = records(&[
            "@ 3600 IN SOA ns.example.net. admin.example. 3 7200 900 1209600 300",
            "a 300 IN A 192.0.2.2",
            "b 300 IN AAAA 2001:db8::1",
        ]);
        let chain = [diff(&v1, &v2).unwrap(), diff(&v2, &v3).unwrap()];
        let mut set = RecordSet::new(v1).unwrap();
        for changeset in &chain {
            set.apply(changeset).unwrap();
        }
        assert_eq!(set.serial(), Some(3));
        assert_eq!(
            super::super::store::testing::texts(&set.into_records()).len(),
            3
        );
        // Out of order: the second does not start where the first does.
        let mut set = RecordSet::new(records(&[SOA_1, "a 300 IN A 192.0.2.1"])).unwrap();
        assert!(matches!(
            set.apply(&chain[1]),
            Err(ApplyError::SerialMismatch {
                expected: 2,
                found: 1
            })
        ));
    }
}
