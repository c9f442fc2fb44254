//! The checks of `named-checkzone`: whether the records read from a master
//! file ([`super::reader`]) make a zone that can be served.
//!
//! Every rule is one [`ProblemKind`] variant naming it; every problem points
//! at the record (file and line) that breaks the rule. `dnslab check`
//! prints them all.
//!
//! Errors and warnings are as BIND classifies them, since a secondary must
//! serve whatever a primary sends that BIND would serve: what
//! named-checkzone refuses is an error, and the store refuses the zone;
//! what it accepts, with a warning or silently, is a warning
//! ([`ProblemKind::is_warning`]) and the zone loads:
//! - an out-of-zone record ("ignoring out-of-zone data"): left out;
//! - data occluded by a cut or a DNAME (loaded by BIND without a word):
//!   kept, and never answered, since the lookup stops at the cut or the
//!   DNAME (it is sent in zone transfers, as BIND sends it);
//! - a name server below a cut without glue ("has no REQUIRED GLUE"), the
//!   apex's included, as for RFC 1034 6.1's own EDU zone (C.ISI.EDU below
//!   the ISI.EDU cut).
//!
//! Other choices: glue is an A/AAAA whose owner is the target of any NS
//! record of the zone, so sibling glue (a server of one delegation living
//! below another) is accepted; at a cut, NS, DS, NSEC, RRSIG and glue are
//! expected, anything else is occluded.
//!
//! The checks run in two passes over the records so that a million-record
//! zone costs one or two hash lookups a record, not a sort: the first
//! collects the few names that matter (SOA, CNAME, DNAME, NS owners and NS
//! targets), the second judges every record against them.

use std::collections::{HashMap, HashSet};
use std::fmt;

use dnslab_wire::BuildFnv;
use hickory_proto::rr::{Name, RData, RecordType};

use super::{Location, SourcedRecord};

/// One broken rule, with where it was found.
#[derive(Clone, Debug)]
pub struct Problem {
    /// The record that breaks the rule; `None` only for an empty zone.
    pub location: Option<Location>,
    /// The owner name the problem is about.
    pub name: Name,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    /// `file:line: name: what`, with `warning: ` before the name for a
    /// warning (as `dnslab check` prints reader warnings).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let warning = if self.kind.is_warning() {
            "warning: "
        } else {
            ""
        };
        match &self.location {
            Some(loc) => write!(f, "{loc}: {warning}{}: {}", self.name, self.kind),
            None => write!(f, "{warning}{}: {}", self.name, self.kind),
        }
    }
}

impl ProblemKind {
    /// BIND loads a zone with this (see the module doc); the zone loads.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            ProblemKind::OutOfZone { .. }
                | ProblemKind::BelowDelegation { .. }
                | ProblemKind::BelowDname { .. }
                | ProblemKind::MissingGlue { .. }
        )
    }
}

/// The rule a [`Problem`] breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// RFC 1035 5.2: a zone starts with exactly one SOA.
    #[error("no SOA record at the zone apex")]
    MissingSoa,
    #[error("more than one SOA record")]
    MultipleSoa,
    #[error("SOA record not at the zone apex {apex}")]
    SoaNotAtApex { apex: Name },
    /// RFC 1034 4.2.1: the apex names the zone's servers.
    #[error("no NS records at the zone apex")]
    MissingApexNs,
    /// RFC 1034 3.6.2: a CNAME owner has no other data.
    #[error("CNAME and other data ({0}) at the same name")]
    CnameAndOtherData(RecordType),
    #[error("more than one CNAME at the same name")]
    MultipleCnames,
    /// RFC 1034 3.6.2 again: the apex always has SOA and NS.
    #[error("CNAME at the zone apex")]
    CnameAtApex,
    /// RFC 6672 2.4: at most one DNAME per owner.
    #[error("more than one DNAME at the same name")]
    MultipleDnames,
    /// RFC 6672 2.3: a DNAME owner has no descendants.
    #[error("data ({rtype}) below the DNAME at {dname}")]
    BelowDname { dname: Name, rtype: RecordType },
    /// RFC 1034 4.2.1: a zone holds names at or below its apex only.
    #[error("out of zone: not at or below {apex}")]
    OutOfZone { apex: Name },
    /// RFC 1034 4.2.1: below a cut only glue (addresses of the cut's name
    /// servers) belongs to the parent; at the cut, NS and DS.
    #[error("data ({rtype}) at or below the delegation at {cut}: only NS, DS and glue A/AAAA belong there")]
    BelowDelegation { cut: Name, rtype: RecordType },
    /// RFC 1034 4.2.1: a name server inside the delegated zone cannot be
    /// reached without glue.
    #[error("name server {ns} is below the delegation at {cut} but has no glue A/AAAA")]
    MissingGlue { cut: Name, ns: Name },
    /// named-checkzone's integrity check: an in-zone name server must have
    /// an address.
    #[error("name server {0} is in the zone but has no A/AAAA record")]
    NsWithoutAddress(Name),
}

/// Maps keyed by [`Name`] hash with FNV ([`BuildFnv`]): `Name`'s `Hash`
/// feeds one byte at a time, which SipHash makes slow on a million names.
type NameMap<'a, V> = HashMap<&'a Name, V, BuildFnv>;
type NameSet<'a> = HashSet<&'a Name, BuildFnv>;

/// What the checks need of a record. The checks run on records as read
/// ([`SourcedRecord`]) and on the store loader's compact form, which keeps
/// addresses inline instead of as an `RData`.
pub trait CheckedRecord {
    fn owner(&self) -> &Name;
    fn record_type(&self) -> RecordType;
    /// The RDATA; `None` is allowed for A and AAAA only, whose data no rule
    /// reads.
    fn data(&self) -> Option<&RData>;
    fn location(&self) -> Location;
}

impl CheckedRecord for SourcedRecord {
    fn owner(&self) -> &Name {
        &self.record.name
    }

    fn record_type(&self) -> RecordType {
        self.record.record_type()
    }

    fn data(&self) -> Option<&RData> {
        Some(&self.record.data)
    }

    fn location(&self) -> Location {
        self.location.clone()
    }
}

/// Every problem of the zone `origin` made of `records` (walked twice, so
/// any cheap-to-clone sequence: a slice, the loader's chunks); empty when
/// clean. Problems come in record order within each rule.
pub fn check_zone<'r, R: CheckedRecord + 'r>(
    origin: &Name,
    records: impl IntoIterator<Item = &'r R> + Clone,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let problem = |sr: &R, kind| Problem {
        location: Some(sr.location()),
        name: sr.owner().clone(),
        kind,
    };

    // Pass 1: the names that matter.
    let mut soas = Vec::new();
    let mut apex_ns = Vec::new();
    let mut cnames: NameMap<'_, Vec<&R>> = NameMap::default();
    let mut dnames: NameMap<'_, Vec<&R>> = NameMap::default();
    let mut cuts: NameMap<'_, Vec<&R>> = NameMap::default();
    let mut ns_targets: NameSet<'_> = NameSet::default();
    for sr in records.clone() {
        let name = sr.owner();
        if !origin.zone_of(name) {
            problems.push(problem(
                sr,
                ProblemKind::OutOfZone {
                    apex: origin.clone(),
                },
            ));
            continue;
        }
        match sr.data() {
            Some(RData::SOA(_)) => soas.push(sr),
            Some(RData::CNAME(_)) => cnames.entry(name).or_default().push(sr),
            Some(RData::NS(ns)) => {
                ns_targets.insert(&ns.0);
                if name == origin {
                    apex_ns.push(sr);
                } else {
                    cuts.entry(name).or_default().push(sr);
                }
            }
            Some(RData::Unknown {
                code: RecordType::DNAME,
                ..
            }) => dnames.entry(name).or_default().push(sr),
            _ => {}
        }
    }

    // The apex: one SOA, some NS (RFC 1035 5.2, RFC 1034 4.2.1).
    match soas.split_first() {
        None => problems.push(Problem {
            location: records.clone().into_iter().next().map(R::location),
            name: origin.clone(),
            kind: ProblemKind::MissingSoa,
        }),
        Some((first, others)) => {
            for sr in soas.iter().filter(|sr| sr.owner() != origin) {
                problems.push(problem(
                    sr,
                    ProblemKind::SoaNotAtApex {
                        apex: origin.clone(),
                    },
                ));
            }
            for sr in others {
                problems.push(problem(sr, ProblemKind::MultipleSoa));
            }
            if apex_ns.is_empty() {
                problems.push(Problem {
                    name: origin.clone(),
                    ..problem(first, ProblemKind::MissingApexNs)
                });
            }
        }
    }

    // One CNAME, one DNAME per owner; no CNAME at the apex.
    for (owner, set) in cnames.iter() {
        if *owner == origin {
            problems.push(problem(set[0], ProblemKind::CnameAtApex));
        }
        for sr in &set[1..] {
            problems.push(problem(sr, ProblemKind::MultipleCnames));
        }
    }
    for set in dnames.values() {
        for sr in &set[1..] {
            problems.push(problem(sr, ProblemKind::MultipleDnames));
        }
    }

    // Pass 2: every record against those names.
    let apex_labels = origin.num_labels();
    let mut cname_reported: NameSet<'_> = NameSet::default();
    let mut addressed: NameSet<'_> = NameSet::default();
    // One lookup a record: is the owner a CNAME owner, an NS target?
    let mut marks: NameMap<'_, (bool, bool)> = NameMap::default();
    for owner in cnames.keys() {
        marks.entry(owner).or_default().0 = true;
    }
    for target in &ns_targets {
        marks.entry(target).or_default().1 = true;
    }
    for sr in records {
        let name = sr.owner();
        let rtype = sr.record_type();
        let (is_cname_owner, is_ns_target) = marks.get(name).copied().unwrap_or_default();
        let glue = is_ns_target && matches!(rtype, RecordType::A | RecordType::AAAA);
        if glue {
            addressed.insert(name);
        }
        // RFC 4035 2.5: RRSIG and NSEC may sit beside a CNAME.
        let beside_cname_ok = matches!(
            rtype,
            RecordType::CNAME | RecordType::RRSIG | RecordType::NSEC
        );
        // At the apex, CnameAtApex already says it.
        if is_cname_owner && !beside_cname_ok && name != origin && cname_reported.insert(name) {
            problems.push(problem(sr, ProblemKind::CnameAndOtherData(rtype)));
        }
        if cuts.is_empty() && dnames.is_empty() {
            continue;
        }
        // Proper ancestors strictly between the owner and the apex, closest
        // first: the first cut or DNAME there rules the record.
        let depth = name.num_labels();
        let mut ruled = false;
        for labels in (apex_labels.saturating_add(1)..depth).rev() {
            let ancestor = name.trim_to(usize::from(labels));
            if dnames.contains_key(&ancestor) {
                problems.push(problem(
                    sr,
                    ProblemKind::BelowDname {
                        dname: ancestor,
                        rtype,
                    },
                ));
                ruled = true;
                break;
            }
            if cuts.contains_key(&ancestor) {
                if !glue {
                    problems.push(problem(
                        sr,
                        ProblemKind::BelowDelegation {
                            cut: ancestor,
                            rtype,
                        },
                    ));
                }
                ruled = true;
                break;
            }
        }
        if !ruled && cuts.contains_key(name) && !at_cut_allowed(rtype, glue) {
            problems.push(problem(
                sr,
                ProblemKind::BelowDelegation {
                    cut: name.clone(),
                    rtype,
                },
            ));
        }
    }

    // Name servers inside the zone need addresses; below a cut, as glue.
    let mut reported: NameSet<'_> = NameSet::default();
    for sr in apex_ns.iter().chain(cuts.values().flatten()) {
        let Some(RData::NS(ns)) = sr.data() else {
            continue;
        };
        let target = &ns.0;
        if !origin.zone_of(target) || addressed.contains(target) || !reported.insert(target) {
            continue;
        }
        let kind = match enclosing_cut(target, origin, &cuts) {
            Some(cut) => ProblemKind::MissingGlue {
                cut,
                ns: target.clone(),
            },
            None => ProblemKind::NsWithoutAddress(target.clone()),
        };
        problems.push(problem(sr, kind));
    }
    problems
}

/// What may sit at a delegation point besides nothing (RFC 1034 4.2.1,
/// RFC 4035 2.4 for DS and the parent's NSEC/RRSIG).
fn at_cut_allowed(rtype: RecordType, glue: bool) -> bool {
    glue || matches!(
        rtype,
        RecordType::NS | RecordType::DS | RecordType::NSEC | RecordType::RRSIG
    )
}

/// The delegation at or above `name` (below the apex), if any.
fn enclosing_cut<V>(name: &Name, origin: &Name, cuts: &NameMap<'_, V>) -> Option<Name> {
    (origin.num_labels().saturating_add(1)..=name.num_labels())
        .rev()
        .map(|labels| name.trim_to(usize::from(labels)))
        .find(|ancestor| cuts.contains_key(ancestor))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use hickory_proto::rr::rdata::{A, CNAME, MX, NS, SOA};
    use hickory_proto::rr::Record;

    use super::*;
    use dnslab_wire::dname_rdata;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("test name parses")
    }

    /// A zone `example.` whose records are one a line, in order.
    fn zone(records: Vec<(&str, RData)>) -> Vec<SourcedRecord> {
        let file = Arc::new(PathBuf::from("test.zone"));
        let soa = SOA::new(name("ns.example."), name("h.example."), 1, 2, 3, 4, 5);
        let mut all = vec![
            ("example.", RData::SOA(soa)),
            ("example.", RData::NS(NS(name("ns.example.")))),
            ("ns.example.", RData::A(A::new(192, 0, 2, 1))),
        ];
        all.extend(records);
        all.into_iter()
            .zip(1..)
            .map(|((owner, data), line)| SourcedRecord {
                record: Record::from_rdata(name(owner), 300, data),
                location: Location {
                    file: file.clone(),
                    line,
                },
            })
            .collect()
    }

    fn kinds(records: &[SourcedRecord]) -> Vec<(u32, ProblemKind)> {
        check_zone(&name("example."), records)
            .into_iter()
            .map(|p| (p.location.map_or(0, |l| l.line), p.kind))
            .collect()
    }

    fn ns(target: &str) -> RData {
        RData::NS(NS(name(target)))
    }

    fn a() -> RData {
        RData::A(A::new(192, 0, 2, 9))
    }

    #[test]
    fn a_clean_zone_has_no_problems() {
        assert_eq!(kinds(&zone(vec![])), []);
    }

    /// Glue for a sibling delegation's server sits below another cut.
    #[test]
    fn sibling_glue_is_accepted() {
        let records = zone(vec![
            ("a.example.", ns("ns.b.example.")),
            ("b.example.", ns("ns.b.example.")),
            ("ns.b.example.", a()),
        ]);
        assert_eq!(kinds(&records), []);
    }

    #[test]
    fn nested_delegation_and_non_glue_at_a_cut_are_problems() {
        let records = zone(vec![
            ("sub.example.", ns("ns.example.")),
            ("sub.example.", RData::MX(MX::new(10, name("ns.example.")))),
            ("deep.sub.example.", ns("ns.example.")),
        ]);
        assert_eq!(
            kinds(&records),
            [
                (
                    5,
                    ProblemKind::BelowDelegation {
                        cut: name("sub.example."),
                        rtype: RecordType::MX
                    }
                ),
                (
                    6,
                    ProblemKind::BelowDelegation {
                        cut: name("sub.example."),
                        rtype: RecordType::NS
                    }
                ),
            ]
        );
    }

    /// RFC 6672 2.3: DNAME may sit with other data, but not with a CNAME.
    #[test]
    fn dname_coexists_with_data_but_not_with_cname() {
        let with_a = zone(vec![
            ("old.example.", dname_rdata(&name("new.example."))),
            ("old.example.", a()),
        ]);
        assert_eq!(kinds(&with_a), []);
        let with_cname = zone(vec![
            ("old.example.", RData::CNAME(CNAME(name("x.example.")))),
            ("old.example.", dname_rdata(&name("new.example."))),
        ]);
        assert_eq!(
            kinds(&with_cname),
            [(5, ProblemKind::CnameAndOtherData(RecordType::DNAME))]
        );
    }

    #[test]
    fn an_in_zone_name_server_needs_an_address() {
        let records = zone(vec![("example.", ns("ns2.example."))]);
        assert_eq!(
            kinds(&records),
            [(4, ProblemKind::NsWithoutAddress(name("ns2.example.")))]
        );
    }

    #[test]
    fn an_empty_zone_misses_its_soa() {
        let problems = check_zone(&name("example."), &[] as &[SourcedRecord]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, ProblemKind::MissingSoa);
        assert_eq!(
            problems[0].to_string(),
            "example.: no SOA record at the zone apex"
        );
    }
}
