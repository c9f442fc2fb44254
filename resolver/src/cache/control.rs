//! What an operator does to the cache (`dnslab ctl flush`, `flush-zone`,
//! `dump-cache`, the page's Flush button): remove entries by name, RRset
//! or zone, and list everything held with the time it has left and where
//! it came from. Neither is on the query path; each locks one shard (or
//! the delegations) at a time.

use dnslab_wire::WireName;
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::BinDecodable;
use serde::{Deserialize, Serialize};

use super::{type_suffix, Cache, Entry, Stored, NXDOMAIN_ANY_TYPE};
use crate::clock::Stamp;
use crate::lock;

/// What to remove from the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flush {
    /// The whole cache (records, negative answers, delegations).
    All,
    /// Everything cached at this name, any type, its delegation included.
    Name(Name),
    /// One RRset (or the negative answer for it); with type NS, the
    /// delegation at the name too.
    RRset(Name, RecordType),
    /// Everything at and below this name, delegations included.
    Zone(Name),
}

/// One cached record, for `dump-cache`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheLine {
    /// A master-file line whose TTL is the TTL left.
    pub line: String,
    pub ttl_left: u32,
    pub origin: Origin,
}

/// Where a cached record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// What a server answered (the answer section, a CNAME chain).
    Answer,
    /// The NS records of a referral (a delegation).
    Referral,
    /// Addresses of name servers from a referral's additional section.
    Glue,
    /// An NXDOMAIN or NODATA answer, kept as its SOA.
    Negative,
}

impl Cache {
    /// Removes what `what` names; returns how many entries went (an RRset,
    /// a negative answer or a delegation each count one).
    pub(crate) fn flush(&self, what: &Flush) -> usize {
        let owners = match what {
            Flush::All => Owners::All,
            Flush::Name(name) | Flush::RRset(name, _) => {
                Owners::Exactly(WireName::new(name).bytes().to_vec())
            }
            Flush::Zone(zone) => Owners::AtOrBelow(WireName::new(zone).bytes().to_vec()),
        };
        let owner_matches = |owner: &[u8]| owners.take(owner);
        let type_matches = |rtype: [u8; 2]| match what {
            Flush::RRset(_, wanted) => {
                rtype == type_suffix(*wanted) || rtype == type_suffix(NXDOMAIN_ANY_TYPE)
            }
            _ => true,
        };
        let removed = self.rrsets.remove_if(|stored| {
            let (owner, rtype) = split_key(&stored.key);
            owner_matches(owner) && type_matches(rtype)
        });
        let delegations_too = match what {
            Flush::RRset(_, rtype) => *rtype == RecordType::NS,
            _ => true,
        };
        if !delegations_too {
            return removed;
        }
        let mut delegations = lock(&self.delegations);
        let zones: Vec<Box<[u8]>> = delegations
            .iter()
            .filter(|(zone, _)| owner_matches(zone))
            .map(|(zone, _)| zone.clone())
            .collect();
        for zone in &zones {
            delegations.pop(zone);
        }
        removed + zones.len()
    }

    /// Every live entry as master-file lines, sorted: RRsets (answers),
    /// negative answers (their SOA, with a comment naming what they deny),
    /// and delegations (NS records, and their glue).
    pub(crate) fn dump(&self) -> Vec<CacheLine> {
        let now = self.clock.now();
        let mut lines = Vec::new();
        self.rrsets
            .for_each(|stored| lines.extend(stored_lines(stored, now)));
        for (_, timed) in lock(&self.delegations).iter() {
            let Some((delegation, left)) = timed.live(now) else {
                continue;
            };
            for server in &delegation.servers {
                lines.push(CacheLine {
                    line: format!("{} {left} IN NS {server}", delegation.zone),
                    ttl_left: left,
                    origin: Origin::Referral,
                });
            }
            for (server, ip) in &delegation.glue {
                let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
                lines.push(CacheLine {
                    line: format!("{server} {left} IN {rtype} {ip}"),
                    ttl_left: left,
                    origin: Origin::Glue,
                });
            }
        }
        lines.sort_by(|a, b| a.line.cmp(&b.line));
        lines
    }
}

/// The owners a flush takes, by their wire names.
enum Owners {
    All,
    Exactly(Vec<u8>),
    AtOrBelow(Vec<u8>),
}

impl Owners {
    fn take(&self, owner: &[u8]) -> bool {
        match self {
            Owners::All => true,
            Owners::Exactly(name) => owner == name.as_slice(),
            Owners::AtOrBelow(zone) => WireName::from_wire(owner).ancestors().any(|a| a == zone),
        }
    }
}

/// The owner's wire name and the type suffix of an RRset cache key; a
/// key tied to a client network (`--ecs`) has the network after the type.
fn split_key(key: &[u8]) -> (&[u8], [u8; 2]) {
    let at = dnslab_wire::skip_name(key, 0).unwrap_or(key.len().saturating_sub(2));
    let (owner, rest) = key.split_at(at.min(key.len()));
    let rtype = rest;
    (
        owner,
        [
            rtype.first().copied().unwrap_or(0),
            rtype.get(1).copied().unwrap_or(0),
        ],
    )
}

fn stored_lines(stored: &Stored, now: Stamp) -> Vec<CacheLine> {
    let Some((entry, left)) = stored.timed.live(now) else {
        return Vec::new();
    };
    match entry {
        Entry::RRset(records) => records
            .into_iter()
            .map(|mut record| {
                record.ttl = left;
                CacheLine {
                    line: record.to_string(),
                    ttl_left: left,
                    origin: Origin::Answer,
                }
            })
            .collect(),
        Entry::Negative { nx, soa } => {
            let (owner, rtype) = split_key(&stored.key);
            let owner = Name::from_bytes(owner).map_or_else(|_| "?".into(), |n| n.to_string());
            let denied = if nx {
                format!("NXDOMAIN {owner}")
            } else {
                let rtype = RecordType::from(u16::from_be_bytes(rtype));
                format!("NODATA {owner} {rtype}")
            };
            // None came with it (cached for --min-ttl): the comment alone.
            let soa = match soa.map(|soa| *soa) {
                Some(mut soa) if matches!(soa.data, RData::SOA(_)) => {
                    soa.ttl = left;
                    soa.to_string()
                }
                _ => String::new(),
            };
            vec![CacheLine {
                line: format!("{soa} ; {denied}"),
                ttl_left: left,
                origin: Origin::Negative,
            }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Delegation;
    use crate::clock::Clock;
    use hickory_proto::rr::rdata::{A, SOA};
    use hickory_proto::rr::Record;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn a(name: &str) -> Record {
        Record::from_rdata(n(name), 300, RData::A(A::new(192, 0, 2, 1)))
    }

    /// A cache with three names under cs.umass.edu., one beside it, a
    /// negative answer and two delegations.
    fn filled() -> Cache {
        let cache = Cache::new(100, 0, 86400, Clock::frozen());
        cache.store_records(&[
            a("gaia.cs.umass.edu."),
            a("www.cs.umass.edu."),
            a("cs.umass.edu."),
            a("www.umass.edu."),
        ]);
        let soa = SOA::new(n("dns.cs.umass.edu."), n("h.cs.umass.edu."), 1, 1, 1, 1, 60);
        let soa = Record::from_rdata(n("cs.umass.edu."), 60, RData::SOA(soa));
        cache.store_negative(&n("nope.cs.umass.edu."), RecordType::A, true, Some(soa));
        for zone in ["umass.edu.", "cs.umass.edu."] {
            cache.store_delegation(&Delegation {
                zone: n(zone),
                servers: vec![n(&format!("dns.{zone}"))],
                glue: vec![(n(&format!("dns.{zone}")), "127.0.0.9".parse().unwrap())],
                ttl: 3600,
                ..Delegation::default()
            });
        }
        cache
    }

    #[test]
    fn the_dump_lists_answers_negatives_referrals_and_glue() {
        let cache = filled();
        cache.clock.jump_forward(std::time::Duration::from_secs(10));
        let dump = cache.dump();
        let origins = |origin| dump.iter().filter(|l| l.origin == origin).count();
        assert_eq!(origins(Origin::Answer), 4);
        assert_eq!(origins(Origin::Negative), 1);
        assert_eq!(origins(Origin::Referral), 2);
        assert_eq!(origins(Origin::Glue), 2);
        let gaia = dump.iter().find(|l| l.line.starts_with("gaia")).unwrap();
        assert_eq!(gaia.line, "gaia.cs.umass.edu. 290 IN A 192.0.2.1");
        assert_eq!(gaia.ttl_left, 290);
        let negative = dump.iter().find(|l| l.origin == Origin::Negative).unwrap();
        assert!(
            negative.line.ends_with("; NXDOMAIN nope.cs.umass.edu."),
            "{negative:?}"
        );
        assert_eq!(negative.ttl_left, 50);
    }

    #[test]
    fn flushes_remove_a_name_an_rrset_or_a_zone() {
        let cache = filled();
        assert_eq!(
            cache.flush(&Flush::RRset(n("www.umass.edu."), RecordType::MX)),
            0
        );
        assert_eq!(
            cache.flush(&Flush::RRset(n("WWW.umass.edu."), RecordType::A)),
            1
        );
        // The zone: three names, the negative answer, its delegation.
        assert_eq!(cache.flush(&Flush::Zone(n("cs.umass.edu."))), 5);
        assert!(cache
            .closest_delegation(&n("x.cs.umass.edu."))
            .is_some_and(|d| d.zone == n("umass.edu.")));
        assert_eq!(
            cache.flush(&Flush::Name(n("umass.edu."))),
            1,
            "its delegation"
        );
        assert_eq!(cache.len(), (0, 0));
        let cache = filled();
        assert_eq!(cache.flush(&Flush::All), 7);
        assert_eq!(cache.len(), (0, 0));
    }

    /// With `--ecs`, an answer tied to a client network is flushed by its
    /// name and by its RRset like everyone's.
    #[test]
    fn answers_tied_to_a_network_are_flushed_by_name_and_rrset() {
        let cache = Cache::new(100, 0, 86400, Clock::frozen());
        let west: dnslab_wire::Cidr = "127.0.1.0/24".parse().unwrap();
        let tied = || {
            cache
                .lookup_tied(
                    &n("cdn.example."),
                    RecordType::A,
                    "127.0.1.9".parse().unwrap(),
                    24,
                )
                .is_some()
        };
        cache.store_tied_records(&[a("cdn.example.")], &west);
        assert!(tied());
        assert_eq!(
            cache.flush(&Flush::RRset(n("cdn.example."), RecordType::MX)),
            0
        );
        assert_eq!(
            cache.flush(&Flush::RRset(n("cdn.example."), RecordType::A)),
            1
        );
        assert!(!tied());
        cache.store_tied_records(&[a("cdn.example.")], &west);
        assert_eq!(cache.flush(&Flush::Name(n("cdn.example."))), 1);
        assert!(!tied());
    }
}
