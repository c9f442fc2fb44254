//! RFC 1034 4.3.2, "Algorithm", as one pure function: [`lookup`] takes the
//! catalog, a name and a type, and returns what it found, as it found it:
//! a [`Lookup`] (`outcome.rs`), the alias steps it followed and how it
//! [`End`]ed, each with the zone and the node its records came from. No
//! sockets, no clocks, no wire format: the request path (which parses the
//! query, echoes the question as asked, handles EDNS and truncation)
//! writes the outcome out as the records of a response, plain or with
//! DNSSEC's (`crate::dnssec`), and the unit tests (`tests.rs`) build zones
//! in code.
//!
//! The steps are numbered as in the RFC:
//! 1. (recursion) does not apply: we are authoritative only.
//! 2. Find the zone: the catalog's most specific zone enclosing QNAME, or
//!    REFUSED.
//! 3. Walk down from the apex, label by label:
//!    - 3.b a zone cut (NS below the apex) on the way: a referral;
//!    - a DNAME at a proper ancestor (RFC 6672 3.2): substitute and follow;
//!    - 3.a the whole name matched: the answer, or a CNAME to follow (back to
//!      step 2 with the target, in whichever of our zones holds it), or
//!      NODATA;
//!    - 3.c no node: a wildcard (RFC 4592 3.3.1) or NXDOMAIN.
//! 4. and 5. (the cache, the resolver) do not apply either.
//! 6. Additional section: addresses of the names that NS, MX and SRV
//!    records of the answer point to, when one of our zones has them (for
//!    a referral, the glue of step 3.b instead).
//!
//! Negative answers carry the zone's SOA with the RFC 2308 3 TTL.

mod outcome;
#[cfg(test)]
mod tests;

pub(crate) use outcome::{Alias, AliasKind, End, Lookup, Match, ResponseRecords};

use hickory_proto::rr::rdata::CNAME;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tracing::debug;

use dnslab_wire::{dname_target, substitute_dname, WireName};

use crate::zone::{Catalog, Node, RRset, Zone};

/// CNAME and DNAME steps followed for one query before giving up. Chains
/// longer than this are misconfigurations or loops.
pub(crate) const MAX_CHAIN: usize = 16;

/// What step 3 concluded for one name in one zone: an alias to follow
/// (back to step 2 with its target), or the end of the lookup.
enum Step<'c> {
    Follow(Alias<'c>),
    Stop(End<'c>),
}

/// Answers `qname`/`qtype` from the zones of `catalog`, following CNAME and
/// DNAME chains through every zone we serve.
///
/// Choices where the RFCs leave room:
/// - QTYPE ANY: RFC 8482 4.1, answer with one RRset, the first at the name
///   in file order, so that ANY cannot amplify; a CNAME at the name is that
///   RRset and is not followed.
/// - QTYPE DS at a zone cut is answered from the parent side, as NSD,
///   Knot and BIND do (RFC 4035 3.1.4.1): the DS RRset if the zone has
///   one, else NODATA with the parent's SOA, authoritatively. A server for
///   both sides answers it from the parent zone. Below a cut, DS gets a
///   referral like any other type.
/// - A chain that loops or exceeds [`MAX_CHAIN`] stops with NOERROR and the
///   records so far, leaving the rest to the resolver (which will meet the
///   loop itself and give up).
/// - A chain that leaves our zones ends with NOERROR and the chain; one that
///   reaches a zone cut ends with that referral's NS and glue, AA still set
///   from the first step.
pub(crate) fn lookup<'c>(catalog: &'c Catalog, qname: &Name, qtype: RecordType) -> Lookup<'c> {
    // Step 2: the zone nearest to the name.
    let Some(mut zone) = zone_for(catalog, qname, qtype) else {
        return Lookup {
            aliases: Vec::new(),
            end: End::Refused,
            additionals: Vec::new(),
        };
    };
    let mut aliases: Vec<Alias<'c>> = Vec::new();
    let mut name = qname.clone();
    let end = loop {
        let alias = match step(zone, name, qtype) {
            Step::Follow(alias) => alias,
            Step::Stop(end) => break end,
        };
        let target = alias.target.clone();
        aliases.push(alias);
        if aliases.len() >= MAX_CHAIN || aliases.iter().any(|alias| alias.name == target) {
            debug!(qname = %qname, %target, chain = aliases.len(), "alias chain stopped");
            break End::ChainStopped;
        }
        // Back to step 2 with the target: it may live in another of our
        // zones, or in none (then the chain is the whole answer).
        match zone_for(catalog, &target, qtype) {
            Some(next) => zone = next,
            None => break End::OutOfZones,
        }
        name = target;
    };
    let additionals = additional_addresses(catalog, &end);
    Lookup {
        aliases,
        end,
        additionals,
    }
}

/// Step 2: the nearest zone to `qname` we serve; for DS at a child's apex,
/// the parent's if we serve it too (DS is the parent's data).
pub(crate) fn zone_for<'c>(
    catalog: &'c Catalog,
    qname: &Name,
    qtype: RecordType,
) -> Option<&'c Zone> {
    let zone = catalog.find(qname)?;
    if qtype == RecordType::DS && !qname.is_root() && zone.origin() == qname {
        if let Some(parent) = catalog.find(&qname.base_name()) {
            return Some(parent);
        }
    }
    Some(zone)
}

/// Step 3 for `name` in `zone`, which encloses it.
fn step(zone: &Zone, name: Name, qtype: RecordType) -> Step<'_> {
    let wire = WireName::new(&name);
    let apex_labels = zone.origin_labels();
    // Step 3, descending: every proper ancestor of QNAME from the apex down.
    for labels in apex_labels..wire.labels() {
        let Some(node) = zone.node_at_wire(wire.ancestor(labels)) else {
            // Every ancestor of a node exists (the store's invariant), so
            // the first missing one makes its parent the closest encloser.
            return wildcard(zone, &wire, labels.saturating_sub(1), name, qtype);
        };
        // 3.b: "If a match would take us out of the authoritative data, we
        // have a referral."
        if labels > apex_labels {
            if let Some(ns) = node.rrset(RecordType::NS) {
                return referral(zone, node, ns);
            }
        }
        // RFC 6672 3.2: a DNAME at a proper ancestor redirects the subtree.
        if let Some(dname) = node.rrset(RecordType::DNAME) {
            return dname_substitution(zone, node, dname, name);
        }
    }
    let Some(node) = zone.node_at_wire(wire.bytes()) else {
        return wildcard(zone, &wire, wire.labels().saturating_sub(1), name, qtype);
    };
    // 3.b also when QNAME is the cut itself, for every type but DS, which
    // the parent holds (RFC 4035 3.1.4.1).
    if wire.labels() > apex_labels && qtype != RecordType::DS {
        if let Some(ns) = node.rrset(RecordType::NS) {
            return referral(zone, node, ns);
        }
    }
    // 3.a: "If the whole of QNAME is matched, we have found the node."
    matched(zone, name, Match::Exact(node), qtype)
}

/// 3.a at the node `found` for `name`: the name's own node, or the
/// wildcard that answers for it (3.c), whose records then take `name` as
/// their owner.
fn matched<'c>(zone: &'c Zone, name: Name, found: Match<'c>, qtype: RecordType) -> Step<'c> {
    let (node, owner) = match &found {
        Match::Exact(node) => (*node, node.name()),
        Match::Wildcard { star, .. } => (*star, name.clone()),
    };
    if qtype == RecordType::ANY {
        // RFC 8482 4.1: a responder may select one RRset (or a subset) of
        // those at QNAME.
        return match node.rrsets().first() {
            Some(set) => answer(zone, name, found, set.records(&owner).collect()),
            None => Step::Stop(End::NoData { zone, name, found }),
        };
    }
    // "If the data at the node is a CNAME, and QTYPE doesn't match CNAME,
    // copy the CNAME RR into the answer section of the response, change
    // QNAME to the canonical name in the CNAME RR, and go back to step 1."
    // RFC 4035 2.5: a CNAME's own signatures and NSEC sit beside it, and
    // questions for them are answered with them, as NSD and Knot do.
    if !matches!(
        qtype,
        RecordType::CNAME | RecordType::RRSIG | RecordType::NSEC
    ) {
        if let Some(cname) = node.rrset(RecordType::CNAME) {
            let target = cname.other_rdatas().find_map(|data| match data {
                RData::CNAME(CNAME(target)) => Some(target.clone()),
                _ => None,
            });
            let records = cname.records(&owner).collect();
            return match target {
                Some(target) => Step::Follow(Alias {
                    zone,
                    name,
                    kind: AliasKind::Cname(found),
                    records,
                    target,
                }),
                None => answer(zone, name, found, records),
            };
        }
    }
    // "Otherwise, copy all RRs which match QTYPE into the answer section."
    // (The RRSIGs of a name are several RRsets, one per TTL.)
    let records: Vec<Record> = node
        .rrsets_of(qtype)
        .flat_map(|set| set.records(&owner))
        .collect();
    if records.is_empty() {
        Step::Stop(End::NoData { zone, name, found })
    } else {
        answer(zone, name, found, records)
    }
}

fn answer<'c>(zone: &'c Zone, name: Name, found: Match<'c>, records: Vec<Record>) -> Step<'c> {
    Step::Stop(End::Answer {
        zone,
        name,
        found,
        records,
    })
}

/// 3.c: no node at `name`. RFC 4592 3.3.1: the source of synthesis is
/// `*.<closest encloser>`; when it exists (even as an empty non-terminal) it
/// answers as if it were `name`, with `name` as owner; else NXDOMAIN. Names
/// below a zone cut or a DNAME never get here: the descent stopped there.
fn wildcard<'c>(
    zone: &'c Zone,
    wire: &WireName,
    encloser_labels: usize,
    name: Name,
    qtype: RecordType,
) -> Step<'c> {
    let encloser_wire = wire.ancestor(encloser_labels);
    let mut source = Vec::with_capacity(encloser_wire.len() + 2);
    source.extend_from_slice(&[1, b'*']);
    source.extend_from_slice(encloser_wire);
    let encloser = name.trim_to(encloser_labels);
    match zone.node_at_wire(&source) {
        Some(star) => matched(zone, name, Match::Wildcard { star, encloser }, qtype),
        None => Step::Stop(End::NxDomain {
            zone,
            name,
            encloser,
        }),
    }
}

/// 3.b: the NS RRset of the cut in authority and, as glue, the addresses
/// this zone has for its targets: those at or below the cut (which the
/// child needs) and in-zone ones elsewhere (as BIND gives them).
fn referral<'c>(zone: &'c Zone, cut: Node<'c>, ns: &RRset) -> Step<'c> {
    let mut glue = Vec::new();
    for target in ns.other_rdatas().filter_map(target_name) {
        if zone.origin().zone_of(target) {
            push_addresses(zone, target, &[], &mut glue);
        }
    }
    Step::Stop(End::Referral {
        zone,
        cut,
        ns: ns.records(&cut.name()).collect(),
        glue,
    })
}

/// RFC 6672 2.2 / 3.2: the DNAME at `owner` (a proper ancestor of `name`)
/// maps `name` to `name` with the owner suffix replaced by the target; the
/// answer gets the DNAME and a CNAME synthesised with the DNAME's TTL, and
/// the lookup follows the CNAME.
fn dname_substitution<'c>(zone: &'c Zone, owner: Node<'c>, dname: &RRset, name: Name) -> Step<'c> {
    // RFC 6672 2.4 allows one DNAME per owner; the checker enforces it.
    let Some(data) = dname.other_rdatas().next() else {
        // Unreachable: an RRset holds at least one record, and DNAME RDATA
        // is never stored inline.
        return Step::Stop(End::NoData {
            zone,
            name,
            found: Match::Exact(owner),
        });
    };
    let owner_name = owner.name();
    let dname_record = Record::from_rdata(owner_name.clone(), dname.ttl(), data.clone());
    let Some(target) = dname_target(data) else {
        // The reader only stores DNAME RDATA it could decode.
        return answer(zone, name, Match::Exact(owner), vec![dname_record]);
    };
    let Some(substituted) = substitute_dname(&name, &owner_name, &target) else {
        // RFC 6672 2.2: a substitution that would make a name longer than
        // 255 octets is answered with YXDOMAIN.
        return Step::Stop(End::YxDomain {
            zone,
            owner,
            dname: dname_record,
        });
    };
    let cname = RData::CNAME(CNAME(substituted.clone()));
    let records = vec![
        dname_record,
        Record::from_rdata(name.clone(), dname.ttl(), cname),
    ];
    Step::Follow(Alias {
        zone,
        name,
        kind: AliasKind::Dname { owner },
        records,
        target: substituted,
    })
}

/// The name an NS, MX or SRV record points to, whose addresses belong in
/// the additional section (RFC 1034 4.3.2 step 6, RFC 1035 3.3.9, RFC 2782).
fn target_name(data: &RData) -> Option<&Name> {
    match data {
        RData::NS(ns) => Some(&ns.0),
        RData::MX(mx) => Some(&mx.exchange),
        RData::SRV(srv) => Some(&srv.target),
        _ => None,
    }
}

/// Step 6: A and AAAA of the targets of the answer's NS, MX and SRV
/// records, from whichever of our zones holds them; each name once, and
/// none already in the answer. Only the RRset that ends the lookup can
/// hold such records: the alias steps before it are CNAMEs and DNAMEs.
fn additional_addresses(catalog: &Catalog, end: &End<'_>) -> Vec<Record> {
    let mut additionals = Vec::new();
    let End::Answer { records, .. } = end else {
        return additionals;
    };
    for target in records
        .iter()
        .filter_map(|record| target_name(&record.data))
    {
        if let Some(zone) = catalog.find(target) {
            push_addresses(zone, target, records, &mut additionals);
        }
    }
    additionals
}

/// Appends the A and AAAA RRsets `zone` has at `target`, unless `out` or
/// `answers` already hold that RRset.
fn push_addresses(zone: &Zone, target: &Name, answers: &[Record], out: &mut Vec<Record>) {
    let Some(node) = zone.node(target) else {
        return;
    };
    let owner = node.name();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let Some(set) = node.rrset(rtype) else {
            continue;
        };
        let present = |records: &[Record]| {
            records
                .iter()
                .any(|r| r.record_type() == rtype && r.name == owner)
        };
        if !present(out) && !present(answers) {
            out.extend(set.records(&owner));
        }
    }
}
