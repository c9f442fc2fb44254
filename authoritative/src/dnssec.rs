//! DNSSEC records in answers to queries with the DO bit (RFC 4035 3.1),
//! for zones signed with NSEC or NSEC3 (RFC 5155 7.2): a [`Lookup`] written
//! out with them. What the lookup found says which records go where:
//!
//! - Every RRset of the zone's own data in any section gets the RRSIGs that
//!   cover it (3.1.1); an RRset the lookup synthesised from a wildcard gets
//!   the wildcard's, with the query name as owner, and the NSEC (or NSEC3)
//!   that proves no closer name exists (3.1.3.3; RFC 5155 7.2.6); a CNAME
//!   synthesised from a DNAME gets none (RFC 6672 5.3: a validator checks
//!   the DNAME's).
//! - NODATA (3.1.3.1, 3.1.3.4; 7.2.3-7.2.5) and NXDOMAIN (3.1.3.2; 7.2.2):
//!   the SOA's RRSIG (with the SOA's negative TTL, as NSD gives it) and the
//!   NSECs or NSEC3s that prove it.
//! - A referral (3.1.4; 7.2.7): the DS RRset and its RRSIG, or the NSEC or
//!   NSEC3 of the cut proving there is none (for an opt-out cut with no
//!   NSEC3 of its own, the closest provable encloser proof).

use hickory_proto::rr::{Name, Record, RecordType};

use crate::lookup::{zone_for, AliasKind, End, Lookup, Match, ResponseRecords};
use crate::zone::nsec3::Nsec3Chain;
use crate::zone::reader::type_covered;
use crate::zone::{Catalog, Node, Zone};

/// The NSEC or NSEC3 chain with which a signed zone proves what it does
/// not have (not to be confused with the lookup's CNAME and DNAME chains).
#[derive(Clone, Copy)]
enum DenialChain<'z> {
    Nsec(&'z Zone),
    Nsec3(&'z Zone, &'z Nsec3Chain),
}

impl<'z> DenialChain<'z> {
    /// `None` for an unsigned zone (or one whose chain is unusable): its
    /// answers get no DNSSEC records.
    fn of(zone: &'z Zone) -> Option<DenialChain<'z>> {
        if zone.is_nsec_signed() {
            Some(DenialChain::Nsec(zone))
        } else {
            zone.nsec3_chain()
                .map(|chain| DenialChain::Nsec3(zone, chain))
        }
    }

    /// RFC 4035 3.1.3.3 / RFC 5155 7.2.6: `name`, answered from the
    /// wildcard at `encloser`, does not exist itself.
    fn deny_exact_match(self, name: &Name, encloser: &Name, out: &mut Vec<Record>) {
        match self {
            DenialChain::Nsec(zone) => push_covering_nsec(zone, name, out),
            DenialChain::Nsec3(_, chain) => {
                out.extend(
                    chain
                        .covering(&next_closer(name, encloser))
                        .unwrap_or_default(),
                );
            }
        }
    }
}

/// `lookup` written out with the RRSIGs and denial records a
/// security-aware server gives (RFC 4035 3.1).
pub(crate) fn records_with_dnssec(catalog: &Catalog, lookup: Lookup<'_>) -> ResponseRecords {
    let mut answers = Vec::new();
    // Proofs for the authority section, in the order the answer needs them.
    let mut denials = Vec::new();
    for alias in &lookup.aliases {
        match &alias.kind {
            AliasKind::Cname(found) => sign_match(
                alias.zone,
                &alias.name,
                found,
                &alias.records,
                &mut answers,
                &mut denials,
            ),
            AliasKind::Dname { owner } => {
                sign_dname(alias.zone, *owner, &alias.records, &mut answers)
            }
        }
    }
    // The DS RRset of a referral's cut, after its NS.
    let mut ds = Vec::new();
    match &lookup.end {
        End::Answer {
            zone,
            name,
            found,
            records,
        } => sign_match(zone, name, found, records, &mut answers, &mut denials),
        End::YxDomain { zone, owner, dname } => {
            sign_dname(zone, *owner, std::slice::from_ref(dname), &mut answers);
        }
        End::NoData { zone, name, found } => {
            if let Some(chain) = DenialChain::of(zone) {
                deny_type(chain, name, found, &mut denials);
            }
        }
        End::NxDomain {
            zone,
            name,
            encloser,
        } => {
            if let Some(chain) = DenialChain::of(zone) {
                deny_name(chain, name, encloser, &mut denials);
            }
        }
        End::Referral { zone, cut, .. } => {
            if let Some(chain) = DenialChain::of(zone) {
                referral(chain, *cut, &mut ds, &mut denials);
            }
        }
        End::Refused | End::OutOfZones | End::ChainStopped => {}
    }
    let plain = lookup.into_records();
    let mut authority = signed_by_owner(catalog, &plain.authority);
    authority.extend(ds);
    for record in denials {
        let present = authority.iter().any(|r| {
            r.name == record.name
                && r.record_type() == record.record_type()
                && r.data == record.data
        });
        if !present {
            authority.push(record);
        }
    }
    ResponseRecords {
        answers,
        authority,
        additionals: signed_by_owner(catalog, &plain.additionals),
        ..plain
    }
}

/// The RRsets of `records`: runs of one type at one owner.
fn rrsets(records: &[Record]) -> impl Iterator<Item = &[Record]> {
    records.chunk_by(|a, b| a.record_type() == b.record_type() && a.name == b.name)
}

/// `records`, found for `name` at `found` in `zone`, each RRset followed
/// by its RRSIGs; a wildcard's records also need the proof that `name`
/// does not exist, which goes to `denials`.
fn sign_match(
    zone: &Zone,
    name: &Name,
    found: &Match<'_>,
    records: &[Record],
    answers: &mut Vec<Record>,
    denials: &mut Vec<Record>,
) {
    let Some(chain) = DenialChain::of(zone) else {
        answers.extend_from_slice(records);
        return;
    };
    let (node, owner) = match found {
        Match::Exact(node) => (*node, node.name()),
        Match::Wildcard { star, encloser } => {
            chain.deny_exact_match(name, encloser, denials);
            (*star, name.clone())
        }
    };
    for rrset in rrsets(records) {
        answers.extend_from_slice(rrset);
        answers.extend(rrset_signatures(node, rrset, &owner));
    }
}

/// The records of a DNAME step: the DNAME with the RRSIGs at its `owner`,
/// and the CNAME synthesised from it, which has none.
fn sign_dname(zone: &Zone, owner: Node<'_>, records: &[Record], answers: &mut Vec<Record>) {
    let signed = DenialChain::of(zone).is_some();
    for rrset in rrsets(records) {
        answers.extend_from_slice(rrset);
        if signed && rrset.first().map(Record::record_type) == Some(RecordType::DNAME) {
            answers.extend(rrset_signatures(owner, rrset, &owner.name()));
        }
    }
}

/// `records` of the authority or additional section (an SOA, a cut's NS,
/// addresses) with the RRSIGs of each RRset after it, from the owner's
/// node in whichever of our signed zones holds it.
fn signed_by_owner(catalog: &Catalog, records: &[Record]) -> Vec<Record> {
    let mut out = Vec::with_capacity(records.len() * 2);
    for rrset in rrsets(records) {
        out.extend_from_slice(rrset);
        let Some(first) = rrset.first() else {
            continue;
        };
        let signed = zone_for(catalog, &first.name, first.record_type())
            .filter(|zone| DenialChain::of(zone).is_some())
            .and_then(|zone| zone.node(&first.name));
        if let Some(node) = signed {
            out.extend(rrset_signatures(node, rrset, &node.name()));
        }
    }
    out
}

/// The RRSIGs at `node` over `rrset`, with `owner` as their owner and,
/// as RFC 4034 3 says, the TTL of the RRset as sent: for a negative
/// answer's SOA, the negative TTL (as NSD does).
fn rrset_signatures(node: Node<'_>, rrset: &[Record], owner: &Name) -> Vec<Record> {
    let Some(first) = rrset.first() else {
        return Vec::new();
    };
    let mut sigs = signatures(node, first.record_type(), owner);
    for sig in &mut sigs {
        sig.ttl = first.ttl;
    }
    sigs
}

/// NODATA for `name`, which `found` matched: RFC 4035 3.1.3.1 and 3.1.3.4,
/// RFC 5155 7.2.3 to 7.2.5.
fn deny_type(chain: DenialChain<'_>, name: &Name, found: &Match<'_>, out: &mut Vec<Record>) {
    match (chain, found) {
        // 3.1.3.1: NODATA at a name with data, or (no NSEC of its own) at
        // an empty non-terminal.
        (DenialChain::Nsec(zone), Match::Exact(node)) => match node.rrset(RecordType::NSEC) {
            Some(_) => push_nsec(*node, out),
            None => push_covering_nsec(zone, name, out),
        },
        // 3.1.3.4: the name does not exist, and the wildcard lacks the type.
        (DenialChain::Nsec(zone), Match::Wildcard { star, .. }) => {
            push_covering_nsec(zone, name, out);
            push_nsec(*star, out);
        }
        // 7.2.3 and 7.2.4: the NSEC3 matching the name; without one (an
        // opt-out empty non-terminal or DS at an opt-out cut), the closest
        // provable encloser proof.
        (DenialChain::Nsec3(zone, nsec3), Match::Exact(_)) => match nsec3.matching(name) {
            Some(records) => out.extend(records),
            None => provable_encloser_proof(zone, nsec3, name, out),
        },
        // 7.2.5: the name does not exist, and the wildcard lacks the type.
        (DenialChain::Nsec3(_, nsec3), Match::Wildcard { star, encloser }) => {
            closest_encloser_proof(nsec3, name, encloser, out);
            out.extend(nsec3.matching(&star.name()).unwrap_or_default());
        }
    }
}

/// NXDOMAIN for `name`, whose closest encloser is `encloser`: the name
/// does not exist, nor could a wildcard have answered for it (RFC 4035
/// 3.1.3.2, RFC 5155 7.2.2).
fn deny_name(chain: DenialChain<'_>, name: &Name, encloser: &Name, out: &mut Vec<Record>) {
    let star = wildcard_at(encloser);
    match chain {
        DenialChain::Nsec(zone) => {
            push_covering_nsec(zone, name, out);
            if let Some(star) = star {
                push_covering_nsec(zone, &star, out);
            }
        }
        DenialChain::Nsec3(_, nsec3) => {
            closest_encloser_proof(nsec3, name, encloser, out);
            if let Some(star) = star {
                out.extend(nsec3.covering(&star).unwrap_or_default());
            }
        }
    }
}

/// RFC 4035 3.1.4 / RFC 5155 7.2.7: DS at the `cut` and its RRSIG, or
/// proof that there is none.
fn referral(
    chain: DenialChain<'_>,
    cut: Node<'_>,
    ds: &mut Vec<Record>,
    denials: &mut Vec<Record>,
) {
    let owner = cut.name();
    if let Some(set) = cut.rrset(RecordType::DS) {
        ds.extend(set.records(&owner));
        ds.extend(signatures(cut, RecordType::DS, &owner));
        return;
    }
    match chain {
        DenialChain::Nsec(_) => push_nsec(cut, denials),
        DenialChain::Nsec3(zone, nsec3) => match nsec3.matching(&owner) {
            Some(records) => denials.extend(records),
            None => provable_encloser_proof(zone, nsec3, &owner, denials),
        },
    }
}

/// RFC 5155 7.2.1: the closest encloser exists (its NSEC3 matches) and
/// the next closer name does not (an NSEC3 covers it).
fn closest_encloser_proof(chain: &Nsec3Chain, name: &Name, encloser: &Name, out: &mut Vec<Record>) {
    out.extend(chain.matching(encloser).unwrap_or_default());
    out.extend(
        chain
            .covering(&next_closer(name, encloser))
            .unwrap_or_default(),
    );
}

/// RFC 5155 7.2.1 for a name that exists in the tree but has no NSEC3 of
/// its own (opt-out): the closest ancestor that has one, and the NSEC3
/// (with the opt-out flag) covering the next name down towards it.
fn provable_encloser_proof(zone: &Zone, nsec3: &Nsec3Chain, name: &Name, out: &mut Vec<Record>) {
    let encloser = nearest_ancestor(zone, name, |ancestor| nsec3.matching(ancestor).is_some());
    closest_encloser_proof(nsec3, name, &encloser, out);
}

/// The NSEC of `node` and its RRSIGs.
fn push_nsec(node: Node<'_>, out: &mut Vec<Record>) {
    if let Some(nsec) = node.rrset(RecordType::NSEC) {
        let owner = node.name();
        out.extend(nsec.records(&owner));
        out.extend(signatures(node, RecordType::NSEC, &owner));
    }
}

/// The NSEC covering `name`, which `zone` does not have, and its RRSIGs.
fn push_covering_nsec(zone: &Zone, name: &Name, out: &mut Vec<Record>) {
    if let Some(covering) = zone.nsec_covering(name) {
        push_nsec(covering, out);
    }
}

/// The RRSIGs at `node` covering `rtype`, with `owner` as their owner.
fn signatures(node: Node<'_>, rtype: RecordType, owner: &Name) -> Vec<Record> {
    node.rrsets_of(RecordType::RRSIG)
        .flat_map(|set| set.records(owner))
        .filter(|sig| type_covered(&sig.data) == Some(rtype))
        .collect()
}

/// The deepest proper ancestor of `name` for which `holds` is true, else
/// the apex of `zone`.
fn nearest_ancestor(zone: &Zone, name: &Name, holds: impl Fn(&Name) -> bool) -> Name {
    let apex_labels = labels(zone.origin());
    let mut ancestor = name.base_name();
    while labels(&ancestor) > apex_labels && !holds(&ancestor) {
        ancestor = ancestor.base_name();
    }
    ancestor
}

/// RFC 5155 1.3: the ancestor of `name` one label longer than `encloser`.
fn next_closer(name: &Name, encloser: &Name) -> Name {
    name.trim_to(labels(encloser) + 1)
}

/// The labels of `name`, a leading `*` included (which
/// `Name::num_labels` leaves out, as RRSIG's label count does).
fn labels(name: &Name) -> usize {
    name.iter().count()
}

/// `*.<encloser>`.
fn wildcard_at(encloser: &Name) -> Option<Name> {
    Name::from_ascii("*")
        .and_then(|star| star.append_domain(encloser))
        .ok()
}
