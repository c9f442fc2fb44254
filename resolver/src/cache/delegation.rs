//! Zone cuts: where the walk goes next. A [`Delegation`] is learned from a
//! referral (RFC 1034 4.3.2 step 3b) and kept in the cache by its zone, so
//! that a later question below it starts there instead of at the root;
//! the root's own cut comes from the hints and is never cached.

use std::net::IpAddr;
use std::time::Duration;

use dnslab_wire::WireName;
use hickory_proto::rr::Name;
use tokio::time::Instant;

use super::{Cache, Timed};
use crate::lock;

/// A zone cut learned from a referral: the servers of `zone` and whatever
/// addresses for them came with it. Glue is used to reach the servers only,
/// never handed out as an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    pub zone: Name,
    pub servers: Vec<Name>,
    pub glue: Vec<(Name, IpAddr)>,
    /// TTL of the NS RRset, for caching the cut.
    pub ttl: u32,
}

impl Delegation {
    /// The root zone cut from the hints; never cached, always available.
    pub(crate) fn root(hints: &[(Name, IpAddr)]) -> Delegation {
        let mut servers: Vec<Name> = Vec::new();
        for (name, _) in hints {
            if !servers.contains(name) {
                servers.push(name.clone());
            }
        }
        Delegation {
            zone: Name::root(),
            servers,
            glue: hints.to_vec(),
            ttl: 0,
        }
    }
}

impl Cache {
    /// Keeps `delegation` for its NS set's TTL, clamped as RRsets are.
    pub(crate) fn store_delegation(&self, delegation: &Delegation) {
        let ttl = self.clamp(delegation.ttl);
        if ttl == 0 {
            return;
        }
        let zone = WireName::new(&delegation.zone);
        let timed = Timed {
            value: delegation.clone(),
            expires: Instant::now() + Duration::from_secs(u64::from(ttl)),
        };
        lock(&self.delegations).put(Box::from(zone.bytes()), timed);
    }

    /// The deepest cached zone cut at or above `name`, with its TTL counted
    /// down.
    pub(crate) fn closest_delegation(&self, name: &Name) -> Option<Delegation> {
        let now = Instant::now();
        let wire = WireName::new(name);
        let mut delegations = lock(&self.delegations);
        let closest = wire.ancestors().find_map(|zone| {
            let (mut delegation, left) = delegations.get(zone)?.live(now)?;
            delegation.ttl = left;
            Some(delegation)
        });
        closest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    #[test]
    fn the_root_cut_lists_each_hint_server_once() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let hints = vec![
            (n("a.root."), ip("127.0.53.1")),
            (n("a.root."), ip("::1")),
            (n("b.root."), ip("127.0.53.2")),
        ];
        let root = Delegation::root(&hints);
        assert!(root.zone.is_root());
        assert_eq!(root.servers, vec![n("a.root."), n("b.root.")]);
        assert_eq!(root.glue, hints);
    }
}
