//! DNAME (RFC 6672): its RDATA as hickory-proto carries it, and the
//! substitution both servers make with it.
//!
//! hickory-proto 0.26 has no DNAME variant: its wire decoder, and the zone
//! reader, keep the RDATA as `RData::Unknown` holding the uncompressed
//! target name. The authoritative lookup synthesises CNAMEs from the DNAMEs
//! of its zones; the resolver checks the CNAMEs upstream servers
//! synthesised, and synthesises its own from cached DNAMEs.

use hickory_proto::rr::rdata::NULL;
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::BinDecodable;

use crate::name::push_name;

/// The target of a DNAME record, from its RDATA as hickory represents it.
pub fn dname_target(rdata: &RData) -> Option<Name> {
    match rdata {
        RData::Unknown {
            code: RecordType::DNAME,
            rdata,
        } => Name::from_bytes(&rdata.anything).ok(),
        _ => None,
    }
}

/// The RDATA of a DNAME record pointing at `target` (RFC 6672 2.1: the
/// target is never compressed).
pub fn dname_rdata(target: &Name) -> RData {
    let mut wire = Vec::with_capacity(target.len() + 2);
    push_name(target, &mut wire);
    RData::Unknown {
        code: RecordType::DNAME,
        rdata: NULL::with(wire),
    }
}

/// RFC 6672 2.2: `name`, which lies below the DNAME owner `owner`, with
/// that suffix replaced by the DNAME's `target`. `None` if `name` is not
/// below `owner`, or if the result would be longer than 255 octets (which
/// the authoritative server answers with YXDOMAIN).
pub fn substitute_dname(name: &Name, owner: &Name, target: &Name) -> Option<Name> {
    if name.num_labels() <= owner.num_labels() || !owner.zone_of(name) {
        return None;
    }
    let prefix = name
        .iter()
        .take(usize::from(name.num_labels() - owner.num_labels()));
    Name::from_labels(prefix)
        .and_then(|prefix| prefix.append_name(target))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::A;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn dname_round_trips() {
        let target = n("target.example.net.");
        assert_eq!(dname_target(&dname_rdata(&target)), Some(target));
        assert_eq!(dname_target(&RData::A(A::new(192, 0, 2, 1))), None);
    }

    #[test]
    fn substitute_dname_replaces_the_owner_suffix_of_names_below_it() {
        let (owner, target) = (n("moved.example."), n("example.net."));
        assert_eq!(
            substitute_dname(&n("a.b.Moved.example."), &owner, &target),
            Some(n("a.b.example.net."))
        );
        assert_eq!(
            substitute_dname(&n("moved.example."), &owner, &target),
            None
        );
        assert_eq!(
            substitute_dname(&n("a.other.example."), &owner, &target),
            None
        );
        let labels = |c: &str| vec![c.repeat(60); 3].join(".");
        let long = n(&format!("{}.example.", labels("a")));
        let deep = n(&format!("{}.moved.example.", labels("b")));
        assert_eq!(
            substitute_dname(&deep, &owner, &long),
            None,
            "over 255 octets"
        );
    }
}
