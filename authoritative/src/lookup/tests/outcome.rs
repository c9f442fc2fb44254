//! What the lookup found, with the names the DNSSEC proofs are built
//! from: each alias step's provenance, the closest encloser of a wildcard
//! answer and of NXDOMAIN, the zone and the cut.

use super::*;

/// The node's name, or the wildcard's and its closest encloser.
fn describe(found: &Match<'_>) -> String {
    match found {
        Match::Exact(node) => format!("exact {}", node.name()),
        Match::Wildcard { star, encloser } => {
            format!("wildcard {} below {encloser}", star.name())
        }
    }
}

/// Each alias step as `kind name -> target`.
fn steps(found: &Lookup<'_>) -> Vec<String> {
    found
        .aliases
        .iter()
        .map(|alias| {
            let kind = match &alias.kind {
                AliasKind::Cname(found) => format!("CNAME {}", describe(found)),
                AliasKind::Dname { owner } => format!("DNAME at {}", owner.name()),
            };
            format!("{kind}: {} -> {}", alias.name, alias.target)
        })
        .collect()
}

/// Asserts what the lookup finds for each (name, type), as [`find`]
/// writes it.
#[track_caller]
fn assert_finds(cases: &[(&str, RecordType, &str)]) {
    let catalog = catalog();
    for (qname, qtype, expected) in cases {
        assert_eq!(find(&catalog, qname, *qtype), *expected, "{qname} {qtype}");
    }
}

fn find(catalog: &Catalog, qname: &str, qtype: RecordType) -> String {
    let found = lookup(catalog, &Name::from_ascii(qname).unwrap(), qtype);
    let end = match &found.end {
        End::Refused => "REFUSED".to_string(),
        End::Answer {
            zone, name, found, ..
        } => format!(
            "answer for {name} in {}: {}",
            zone.origin(),
            describe(found)
        ),
        End::NoData { zone, name, found } => {
            format!(
                "NODATA for {name} in {}: {}",
                zone.origin(),
                describe(found)
            )
        }
        End::NxDomain {
            zone,
            name,
            encloser,
        } => format!("NXDOMAIN for {name} in {} below {encloser}", zone.origin()),
        End::Referral { zone, cut, .. } => {
            format!("referral from {} at {}", zone.origin(), cut.name())
        }
        End::YxDomain { zone, owner, .. } => {
            format!("YXDOMAIN in {} at {}", zone.origin(), owner.name())
        }
        End::OutOfZones => "out of our zones".to_string(),
        End::ChainStopped => "chain stopped".to_string(),
    };
    let mut lines = steps(&found);
    lines.push(end);
    lines.join("; ")
}

#[test]
fn an_answer_says_which_node_it_came_from() {
    assert_finds(&[
        (
            "WWW.example.",
            RecordType::A,
            "answer for WWW.example. in example.: exact www.example.",
        ),
        (
            "ent.example.",
            RecordType::A,
            "NODATA for ent.example. in example.: exact ent.example.",
        ),
        ("www.example.org.", RecordType::A, "REFUSED"),
    ]);
}

/// RFC 4592 3.3.1: the closest encloser is the deepest existing
/// ancestor; the wildcard below it answers, or NXDOMAIN names it.
#[test]
fn a_wildcard_and_nxdomain_name_the_closest_encloser() {
    assert_finds(&[
        (
            "a.b.wild.example.",
            RecordType::A,
            "answer for a.b.wild.example. in example.: \
             wildcard *.wild.example. below wild.example.",
        ),
        (
            "x.wild.example.",
            RecordType::AAAA,
            "NODATA for x.wild.example. in example.: \
             wildcard *.wild.example. below wild.example.",
        ),
        (
            "x.host.wild.example.",
            RecordType::A,
            "NXDOMAIN for x.host.wild.example. in example. below host.wild.example.",
        ),
        (
            "a.b.nope.example.",
            RecordType::A,
            "NXDOMAIN for a.b.nope.example. in example. below example.",
        ),
    ]);
}

#[test]
fn each_alias_step_says_where_it_came_from() {
    assert_finds(&[
        (
            "foo.cwild.example.",
            RecordType::A,
            "CNAME wildcard *.cwild.example. below cwild.example.: \
             foo.cwild.example. -> www.example.; \
             answer for www.example. in example.: exact www.example.",
        ),
        (
            "to-nx.example.",
            RecordType::A,
            "CNAME exact to-nx.example.: to-nx.example. -> missing.other.; \
             NXDOMAIN for missing.other. in other. below other.",
        ),
        (
            "www.dname-in.example.",
            RecordType::A,
            "DNAME at dname-in.example.: www.dname-in.example. -> www.other.; \
             answer for www.other. in other.: exact www.other.",
        ),
        (
            "aaaaaaaaaa.long.example.",
            RecordType::A,
            "YXDOMAIN in example. at long.example.",
        ),
    ]);
}

#[test]
fn a_chain_ends_out_of_our_zones_at_a_cut_or_where_it_stops() {
    assert_finds(&[
        (
            "to-outside.example.",
            RecordType::A,
            "CNAME exact to-outside.example.: to-outside.example. -> www.example.net.; \
             out of our zones",
        ),
        (
            "to-cut.example.",
            RecordType::A,
            "CNAME exact to-cut.example.: to-cut.example. -> host.sub.example.; \
             referral from example. at sub.example.",
        ),
    ]);
    let loop1 = find(&catalog(), "loop1.example.", RecordType::A);
    assert!(loop1.ends_with("; chain stopped"), "{loop1}");
}

/// DS at a cut is the parent's data: answered from the parent's node
/// at the cut, not referred.
#[test]
fn ds_at_a_cut_is_found_in_the_parent() {
    assert_finds(&[
        (
            "sub.example.",
            RecordType::DS,
            "NODATA for sub.example. in example.: exact sub.example.",
        ),
        (
            "host.sub.example.",
            RecordType::DS,
            "referral from example. at sub.example.",
        ),
    ]);
}
