//! Zone cuts: where the walk goes next. A [`Delegation`] is learned from a
//! referral (RFC 1034 4.3.2 step 3b) and kept in the cache by its zone, so
//! that a later question below it starts there instead of at the root;
//! the root's own cut comes from the hints and is never cached.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use dnslab_wire::WireName;
use hickory_proto::rr::Name;

use super::{Cache, Timed};
use crate::lock;

/// A zone cut learned from a referral: the servers of `zone` and whatever
/// addresses for them came with it. Glue is used to reach the servers only,
/// never handed out as an answer.
///
/// The parent's NS set (the referral's) and the child's (the zone's own
/// apex NS RRset) may differ. Once a server of the zone has answered
/// authoritatively with the child's set, it replaces the parent's in
/// `servers`, as Unbound does, and the parent's other servers move to
/// `fallback`, asked only when the child's all fail (a zone that moved to
/// new servers still resolves while its parent lists old ones, and the
/// other way round).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delegation {
    pub zone: Name,
    pub servers: Vec<Name>,
    /// Addresses for servers, from the parent (the parent side).
    pub glue: Vec<(Name, IpAddr)>,
    /// TTL of the NS RRset, for caching the cut.
    pub ttl: u32,
    /// Servers the parent listed that the child's NS set does not.
    pub fallback: Vec<Name>,
    /// A stub (or forward) zone's configured servers, with their ports:
    /// asked before `servers`, which such a cut leaves empty (see `zones`).
    pub stub: Vec<SocketAddr>,
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
            ..Delegation::default()
        }
    }

    /// A stub zone's cut: its configured servers; never cached. A forward
    /// zone's servers are asked through one too (with RD=1).
    pub(crate) fn stub(zone: &crate::ZoneServers) -> Delegation {
        Delegation {
            zone: zone.zone.clone(),
            stub: zone.servers.clone(),
            ..Delegation::default()
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
            expires: self.clock.now().after(Duration::from_secs(u64::from(ttl))),
        };
        lock(&self.delegations).put(Box::from(zone.bytes()), timed);
    }

    /// The child's NS set for `zone`, from an authoritative answer of one
    /// of its servers: it replaces the cached parent's set, whose other
    /// servers become the fallback (see [`Delegation`]), for the child's
    /// TTL. Nothing changes when the cut is not cached or the sets are
    /// already the same, the usual case: that costs a lock and a compare,
    /// nothing is cloned (servers that put their NS set in every answer's
    /// authority section, as NSD does, pass here on every cache miss).
    pub(crate) fn adopt_child_servers(&self, zone: &Name, child: &[&Name], ttl: u32) {
        let now = self.clock.now();
        let ttl = self.clamp(ttl);
        let key = WireName::new(zone);
        let mut delegations = lock(&self.delegations);
        let Some(cut) = delegations.peek_mut(key.bytes()) else {
            return;
        };
        let servers = &cut.value.servers;
        let same = child.len() == servers.len() && child.iter().all(|s| servers.contains(s));
        if same || child.is_empty() || cut.expires <= now || ttl == 0 {
            return;
        }
        let delegation = &mut cut.value;
        let mut fallback: Vec<Name> = Vec::new();
        for server in delegation.servers.iter().chain(&delegation.fallback) {
            if !child.contains(&server) && !fallback.contains(server) {
                fallback.push(server.clone());
            }
        }
        tracing::debug!(%zone, ?child, ?fallback, "the child's NS set replaces the parent's");
        delegation.servers = child.iter().map(|&server| server.clone()).collect();
        delegation.fallback = fallback;
        cut.expires = now.after(Duration::from_secs(u64::from(ttl)));
    }

    /// The addresses the parent gave for `server` in the closest cached
    /// cut at or above its name that lists it: what is known of it from
    /// glue, even where another delegation names it without glue.
    pub(crate) fn glue_for(&self, server: &Name) -> Vec<IpAddr> {
        self.closest_delegation(server)
            .map(|cut| {
                cut.glue
                    .iter()
                    .filter(|(name, _)| name == server)
                    .map(|(_, ip)| *ip)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The deepest cached zone cut at or above `name`, with its TTL counted
    /// down.
    pub(crate) fn closest_delegation(&self, name: &Name) -> Option<Delegation> {
        let now = self.clock.now();
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
