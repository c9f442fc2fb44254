//! DNSSEC records in answers to queries with the DO bit (RFC 4035 3.1),
//! for zones signed with NSEC: added to a finished [`Response`] of
//! [`crate::lookup`], which stays the plain RFC 1034 algorithm.
//!
//! - Every RRset of the zone's own data in any section gets the RRSIGs that
//!   cover it (3.1.1); an RRset synthesised from a wildcard gets the
//!   wildcard's, with the query name as owner, and the NSEC that proves the
//!   name itself does not exist (3.1.3.3).
//! - NODATA (3.1.3.1, 3.1.3.4) and NXDOMAIN (3.1.3.2): the SOA's RRSIG (with
//!   the SOA's negative TTL, as NSD gives it) and the NSECs that prove it.
//! - A referral (3.1.4): the DS RRset and its RRSIG, or the NSEC of the cut
//!   proving there is none.
//!
//! Zones signed with NSEC3 are served as if DO were clear (see the README).

use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::lookup::{zone_for, Response};
use crate::zone::{Catalog, Node, Zone};

/// Adds the RRSIGs and NSECs a security-aware server gives (RFC 4035 3.1)
/// to the answer `lookup` gave for `qname`.
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
        if let Some(zone) = catalog.find(&soa.name) {
            let nxdomain = response.rcode == hickory_proto::op::ResponseCode::NXDomain;
            denial(zone, &last, nxdomain, &mut denials);
        }
    } else if let Some(cut) = referral_cut(&response.authority) {
        if let Some(zone) = catalog.find(&cut).filter(|z| z.is_nsec_signed()) {
            if let Some(node) = zone.node(&cut) {
                match node.rrset(RecordType::DS) {
                    Some(ds) => {
                        authority.extend(ds.records(&node.name()));
                        authority.extend(signatures(node, RecordType::DS, &node.name()));
                    }
                    None => push_nsec(node, &mut denials),
                }
            }
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

/// `records` with the RRSIGs of each RRset after it; the NSECs that wildcard
/// answers need go to `denials`.
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
        let Some(zone) = zone_for(catalog, &first.name, rtype).filter(|z| z.is_nsec_signed())
        else {
            continue;
        };
        if rtype == RecordType::SOA && first.name != *zone.origin() {
            continue;
        }
        match zone.node(&first.name) {
            Some(node) => {
                let mut sigs = signatures(node, rtype, &node.name());
                if rtype == RecordType::SOA {
                    // The negative SOA's TTL, as NSD gives it.
                    for sig in &mut sigs {
                        sig.ttl = first.ttl;
                    }
                }
                out.extend(sigs);
            }
            None => {
                // Synthesised from a wildcard (or from a DNAME: then there
                // is no wildcard and nothing to sign).
                if let Some(star) = wildcard_for(zone, &first.name) {
                    out.extend(signatures(star, rtype, &first.name));
                    if let Some(covering) = zone.nsec_covering(&first.name) {
                        push_nsec(covering, denials);
                    }
                }
            }
        }
    }
    out
}

/// RFC 4035 3.1.3: the NSECs proving `name` (in `zone`) has no data of the
/// type asked, or does not exist.
fn denial(zone: &Zone, name: &Name, nxdomain: bool, out: &mut Vec<Record>) {
    if !zone.is_nsec_signed() {
        return;
    }
    if let Some(node) = zone.node(name) {
        // NODATA at a name with data, or (no NSEC) an empty non-terminal.
        if node.rrset(RecordType::NSEC).is_some() {
            push_nsec(node, out);
        } else if let Some(covering) = zone.nsec_covering(name) {
            push_nsec(covering, out);
        }
        return;
    }
    if let Some(covering) = zone.nsec_covering(name) {
        push_nsec(covering, out);
    }
    let encloser = closest_encloser(zone, name);
    let Ok(star) = Name::from_ascii("*").and_then(|s| s.append_domain(&encloser)) else {
        return;
    };
    match zone.node(&star) {
        // NODATA from the wildcard: its NSEC shows the type is not there.
        Some(node) if !nxdomain => push_nsec(node, out),
        Some(_) => {}
        // NXDOMAIN: no wildcard could have answered either.
        None => {
            if let Some(covering) = zone.nsec_covering(&star) {
                push_nsec(covering, out);
            }
        }
    }
}

/// The NSEC of `node` and its RRSIGs.
fn push_nsec(node: Node<'_>, out: &mut Vec<Record>) {
    if let Some(nsec) = node.rrset(RecordType::NSEC) {
        let owner = node.name();
        out.extend(nsec.records(&owner));
        out.extend(signatures(node, RecordType::NSEC, &owner));
    }
}

/// The RRSIGs at `node` covering `rtype`, with `owner` as their owner.
fn signatures(node: Node<'_>, rtype: RecordType, owner: &Name) -> Vec<Record> {
    let covered = u16::from(rtype).to_be_bytes();
    node.rrsets_of(RecordType::RRSIG)
        .flat_map(|set| set.records(owner))
        .filter(|sig| match &sig.data {
            // RFC 4034 3.1: the data starts with the type covered.
            RData::Unknown { rdata, .. } => rdata.anything.get(..2) == Some(&covered[..]),
            _ => false,
        })
        .collect()
}

/// The deepest existing ancestor of `name` (which the zone does not have).
fn closest_encloser(zone: &Zone, name: &Name) -> Name {
    let mut encloser = name.base_name();
    while encloser.num_labels() > zone.origin().num_labels() && zone.node(&encloser).is_none() {
        encloser = encloser.base_name();
    }
    encloser
}

/// The wildcard `*.<closest encloser>` that answered for `name`, if any.
fn wildcard_for<'z>(zone: &'z Zone, name: &Name) -> Option<Node<'z>> {
    let star = Name::from_ascii("*")
        .and_then(|s| s.append_domain(&closest_encloser(zone, name)))
        .ok()?;
    zone.node(&star)
}

/// The zone cut of a referral: the owner of its NS records, when they are
/// not a zone's apex NS.
fn referral_cut(authority: &[Record]) -> Option<Name> {
    authority
        .iter()
        .find(|r| r.record_type() == RecordType::NS)
        .map(|r| r.name.clone())
}
