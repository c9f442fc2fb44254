//! DNSSEC records in answers to queries with the DO bit (RFC 4035 3.1),
//! for zones signed with NSEC or NSEC3 (RFC 5155 7.2): added to a finished
//! [`Response`] of [`crate::lookup`], which stays the plain RFC 1034
//! algorithm.
//!
//! - Every RRset of the zone's own data in any section gets the RRSIGs that
//!   cover it (3.1.1); an RRset synthesised from a wildcard gets the
//!   wildcard's, with the query name as owner, and the NSEC (or NSEC3)
//!   that proves no closer name exists (3.1.3.3; RFC 5155 7.2.6).
//! - NODATA (3.1.3.1, 3.1.3.4; 7.2.3-7.2.5) and NXDOMAIN (3.1.3.2; 7.2.2):
//!   the SOA's RRSIG (with the SOA's negative TTL, as NSD gives it) and the
//!   NSECs or NSEC3s that prove it.
//! - A referral (3.1.4; 7.2.7): the DS RRset and its RRSIG, or the NSEC or
//!   NSEC3 of the cut proving there is none (for an opt-out cut with no
//!   NSEC3 of its own, the closest provable encloser proof).

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::lookup::{zone_for, Response};
use crate::zone::nsec3::Nsec3Chain;
use crate::zone::reader::type_covered;
use crate::zone::{Catalog, Node, Zone};

/// How a signed zone proves what it does not have.
#[derive(Clone, Copy)]
enum Chain<'z> {
    Nsec(&'z Zone),
    Nsec3(&'z Zone, &'z Nsec3Chain),
}

impl<'z> Chain<'z> {
    /// `None` for an unsigned zone (or one whose chain is unusable): its
    /// answers get no DNSSEC records.
    fn of(zone: &'z Zone) -> Option<Chain<'z>> {
        if zone.is_nsec_signed() {
            Some(Chain::Nsec(zone))
        } else {
            zone.nsec3_chain().map(|chain| Chain::Nsec3(zone, chain))
        }
    }

    fn zone(self) -> &'z Zone {
        match self {
            Chain::Nsec(zone) | Chain::Nsec3(zone, _) => zone,
        }
    }

    /// RFC 4035 3.1.3.3 / RFC 5155 7.2.6: `name`, answered from the
    /// wildcard at `encloser`, does not exist itself.
    fn deny_exact_match(self, name: &Name, encloser: &Name, out: &mut Vec<Record>) {
        match self {
            Chain::Nsec(zone) => push_covering_nsec(zone, name, out),
            Chain::Nsec3(_, chain) => {
                out.extend(
                    chain
                        .covering(&next_closer(name, encloser))
                        .unwrap_or_default(),
                );
            }
        }
    }
}

/// Adds the RRSIGs and denial records a security-aware server gives (RFC
/// 4035 3.1) to the answer `lookup` gave for `qname`.
pub fn add_dnssec_records(catalog: &Catalog, qname: &Name, response: &mut Response) {
    let mut denials = Vec::new();
    response.answers = signed(catalog, &response.answers, &mut denials);
    let negative = response
        .authority
        .iter()
        .find(|r| r.record_type() == RecordType::SOA)
        .cloned();
    let mut authority = signed(catalog, &response.authority, &mut Vec::new());
    if let Some(soa) = negative {
        // The name the chain ended at: the last CNAME's target, else QNAME.
        let last = response
            .answers
            .iter()
            .rev()
            .find_map(|r| match &r.data {
                RData::CNAME(target) => Some(target.0.clone()),
                _ => None,
            })
            .unwrap_or_else(|| qname.clone());
        if let Some(chain) = catalog.find(&soa.name).and_then(|zone| Chain::of(zone)) {
            let nxdomain = response.rcode == ResponseCode::NXDomain;
            denial(chain, &last, nxdomain, &mut denials);
        }
    } else if let Some(cut) = referral_cut(&response.authority) {
        if let Some(chain) = catalog.find(&cut).and_then(|zone| Chain::of(zone)) {
            referral(chain, &cut, &mut authority, &mut denials);
        }
    }
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
    response.authority = authority;
    response.additionals = signed(catalog, &response.additionals, &mut Vec::new());
}

/// `records` with the RRSIGs of each RRset after it; the proofs that
/// wildcard answers need go to `denials`.
fn signed(catalog: &Catalog, records: &[Record], denials: &mut Vec<Record>) -> Vec<Record> {
    let mut out = Vec::with_capacity(records.len() * 2);
    let mut at = 0;
    while let Some(first) = records.get(at) {
        let rtype = first.record_type();
        let len = records[at..]
            .iter()
            .take_while(|r| r.record_type() == rtype && r.name == first.name)
            .count();
        out.extend_from_slice(&records[at..at + len]);
        at += len;
        let Some(chain) = zone_for(catalog, &first.name, rtype).and_then(Chain::of) else {
            continue;
        };
        let zone = chain.zone();
        let sigs = match zone.node(&first.name) {
            Some(node) => signatures(node, rtype, &node.name()),
            None => {
                // Synthesised from a wildcard (or from a DNAME: then there
                // is no wildcard and nothing to sign).
                let encloser = closest_encloser(zone, &first.name);
                let Some(star) = wildcard_at(&encloser).and_then(|star| zone.node(&star)) else {
                    continue;
                };
                chain.deny_exact_match(&first.name, &encloser, denials);
                signatures(star, rtype, &first.name)
            }
        };
        // RFC 4034 3: an RRSIG's TTL is that of the RRset it covers, as
        // sent: for a negative answer's SOA, the negative TTL (as NSD does).
        out.extend(sigs.into_iter().map(|mut sig| {
            sig.ttl = first.ttl;
            sig
        }));
    }
    out
}

/// NODATA and NXDOMAIN for `name` in the chain's zone.
fn denial(chain: Chain<'_>, name: &Name, nxdomain: bool, out: &mut Vec<Record>) {
    match chain {
        Chain::Nsec(zone) => {
            if let Some(node) = zone.node(name) {
                // RFC 4035 3.1.3.1: NODATA at a name with data, or (no
                // NSEC of its own) at an empty non-terminal.
                match node.rrset(RecordType::NSEC) {
                    Some(_) => push_nsec(node, out),
                    None => push_covering_nsec(zone, name, out),
                }
                return;
            }
            // 3.1.3.2 and 3.1.3.4: the name does not exist, and the
            // wildcard either does not (NXDOMAIN) or lacks the type.
            push_covering_nsec(zone, name, out);
            let Some(star) = wildcard_at(&closest_encloser(zone, name)) else {
                return;
            };
            match zone.node(&star) {
                Some(node) if !nxdomain => push_nsec(node, out),
                Some(_) => {}
                None => push_covering_nsec(zone, &star, out),
            }
        }
        Chain::Nsec3(zone, nsec3) => {
            if zone.node(name).is_some() {
                // RFC 5155 7.2.3 and 7.2.4: the NSEC3 matching the name;
                // without one (an opt-out empty non-terminal or DS at an
                // opt-out cut), the closest provable encloser proof.
                match nsec3.matching(name) {
                    Some(records) => out.extend(records),
                    None => provable_encloser_proof(zone, nsec3, name, out),
                }
                return;
            }
            let encloser = closest_encloser(zone, name);
            closest_encloser_proof(nsec3, name, &encloser, out);
            let Some(star) = wildcard_at(&encloser) else {
                return;
            };
            if nxdomain {
                // 7.2.2: nor could a wildcard have answered.
                out.extend(nsec3.covering(&star).unwrap_or_default());
            } else {
                // 7.2.5: the wildcard exists without the type.
                out.extend(nsec3.matching(&star).unwrap_or_default());
            }
        }
    }
}

/// RFC 4035 3.1.4 / RFC 5155 7.2.7: DS at the cut and its RRSIG, or proof
/// that there is none.
fn referral(chain: Chain<'_>, cut: &Name, authority: &mut Vec<Record>, denials: &mut Vec<Record>) {
    let zone = chain.zone();
    let Some(node) = zone.node(cut) else {
        return;
    };
    if let Some(ds) = node.rrset(RecordType::DS) {
        authority.extend(ds.records(&node.name()));
        authority.extend(signatures(node, RecordType::DS, &node.name()));
        return;
    }
    match chain {
        Chain::Nsec(_) => push_nsec(node, denials),
        Chain::Nsec3(_, nsec3) => match nsec3.matching(cut) {
            Some(records) => denials.extend(records),
            None => provable_encloser_proof(zone, nsec3, cut, denials),
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

/// The deepest existing ancestor of `name` (which the zone does not have).
fn closest_encloser(zone: &Zone, name: &Name) -> Name {
    nearest_ancestor(zone, name, |ancestor| zone.node(ancestor).is_some())
}

/// The deepest proper ancestor of `name` for which `holds` is true, else
/// the apex of `zone`.
fn nearest_ancestor(zone: &Zone, name: &Name, holds: impl Fn(&Name) -> bool) -> Name {
    let mut ancestor = name.base_name();
    while ancestor.num_labels() > zone.origin().num_labels() && !holds(&ancestor) {
        ancestor = ancestor.base_name();
    }
    ancestor
}

/// RFC 5155 1.3: the ancestor of `name` one label longer than `encloser`.
fn next_closer(name: &Name, encloser: &Name) -> Name {
    let mut next = name.clone();
    while next.num_labels() > encloser.num_labels() + 1 {
        next = next.base_name();
    }
    next
}

/// `*.<encloser>`.
fn wildcard_at(encloser: &Name) -> Option<Name> {
    Name::from_ascii("*")
        .and_then(|star| star.append_domain(encloser))
        .ok()
}

/// The zone cut of a referral: the owner of the NS records in authority
/// (positive answers carry none: they are minimal).
fn referral_cut(authority: &[Record]) -> Option<Name> {
    authority
        .iter()
        .find(|r| r.record_type() == RecordType::NS)
        .map(|r| r.name.clone())
}
