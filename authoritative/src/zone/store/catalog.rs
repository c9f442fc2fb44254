//! The catalogue: every zone this server answers for, and which of them
//! answers a query name (the most specific enclosing origin).
//!
//! The zones themselves are [`super::Zone`]s; origins are compared as
//! [`super::WireName`]s.

use std::sync::Arc;

use hickory_proto::rr::Name;

use super::{WireName, Zone};

/// Every zone this server answers for.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    zones: Vec<Arc<Zone>>,
    /// Indices into `zones`, hashed by the lowercased wire form of the origin.
    index: hashbrown::HashMap<Box<[u8]>, usize>,
}

/// Why a set of zones cannot be served together.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("zone {0} is loaded twice; give each origin one master file")]
    DuplicateOrigin(Name),
}

impl Catalog {
    pub(crate) fn new(zones: Vec<Arc<Zone>>) -> Result<Catalog, CatalogError> {
        let mut index = hashbrown::HashMap::with_capacity(zones.len());
        for (at, zone) in zones.iter().enumerate() {
            let key: Box<[u8]> = WireName::new(zone.origin()).bytes().into();
            if index.insert(key, at).is_some() {
                return Err(CatalogError::DuplicateOrigin(zone.origin().clone()));
            }
        }
        Ok(Catalog { zones, index })
    }

    /// The zone with the longest origin that is an ancestor-or-self of
    /// `qname`: the most specific zone we are authoritative for (a child
    /// zone loaded beside its parent answers for its own names).
    pub(crate) fn find(&self, qname: &Name) -> Option<&Arc<Zone>> {
        let wire = WireName::new(qname);
        (0..=wire.labels())
            .rev()
            .find_map(|labels| self.index.get(wire.ancestor(labels)))
            .map(|&at| &self.zones[at])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{name, zone, SOA};
    use super::*;

    #[test]
    fn catalog_finds_the_most_specific_enclosing_zone() {
        let parent = Arc::new(zone("example.", SOA));
        let child = Arc::new(zone("sub.example.", SOA));
        let catalog = Catalog::new(vec![parent, child]).unwrap();
        let origin_of = |qname: &str| catalog.find(&name(qname)).map(|z| z.origin().to_string());
        assert_eq!(
            origin_of("www.SUB.example.").as_deref(),
            Some("sub.example.")
        );
        assert_eq!(origin_of("sub.example.").as_deref(), Some("sub.example."));
        assert_eq!(origin_of("www.example.").as_deref(), Some("example."));
        assert_eq!(origin_of("example.org."), None);
        assert_eq!(origin_of("."), None);
    }

    #[test]
    fn catalog_rejects_an_origin_loaded_twice() {
        let first = Arc::new(zone("example.", SOA));
        let again = Arc::new(zone("EXAMPLE.", SOA));
        let err = Catalog::new(vec![first, again]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "zone EXAMPLE. is loaded twice; give each origin one master file"
        );
    }
}
