//! The resolver's memory: RRsets, negative answers (RFC 2308) and zone
//! cuts, and the answers read from them.
//!
//! Entries are bounded in number (LRU) and expire by TTL, clamped between
//! the configured minimum and maximum, negative answers' too. TTLs count
//! on [`Clock`] (CLOCK_BOOTTIME, so that time suspended counts). The RRset cache is the one sharded
//! LRU ([`dnslab_wire::ShardedLru`]), so that workers answering cache hits
//! rarely contend; every lock is a `std::sync::Mutex` held for a map
//! operation only, never across `.await`. Names are keyed as
//! [`dnslab_wire::WireName`]s: lowercased wire form, built on the stack,
//! whose ancestors are suffixes, so that walking up to the closest
//! delegation allocates nothing.
//!
//! This file is the store of RRsets and negative answers; beside it:
//! - `delegation`: zone cuts ([`Delegation`]). They live apart from RRsets:
//!   the NS set and glue from a referral tell the walk where to go, but are
//!   never served as answers (glue from a parent zone is not authoritative
//!   data).
//! - `answer`: answering from the cache, the one place that does it: a
//!   question followed through cached CNAMEs and DNAMEs ([`CacheAnswer`]),
//!   the referral an RD=0 question gets, and what a conclusion from
//!   upstream leaves in the cache and gives the client. The handler (hits)
//!   and the walk (misses) both answer through it.
//! - `control`: what an operator does: flush by name, RRset or zone, and
//!   dump every entry ([`CacheLine`]).
//! - `tailored`: with `--ecs`, the answers that hold for one client
//!   network only (RFC 7871 7.3), in the same LRU under longer keys.

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use dnslab_wire::{Cached, ShardedLru, WireName, SHARDS};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use lru::LruCache;

use crate::clock::{Clock, Stamp};
use crate::lock;

mod answer;
mod control;
mod delegation;
mod tailored;

pub(crate) use answer::{CacheAnswer, Chain};
pub use control::{CacheLine, Flush, Origin};
pub use delegation::Delegation;
pub(crate) use tailored::tie;

/// The key type under which an NXDOMAIN is kept: type 0 is reserved and
/// never asked for, so it cannot collide with a real RRset.
const NXDOMAIN_ANY_TYPE: RecordType = RecordType::ZERO;

/// The key suffix of an RRset of `rtype` after its owner's [`WireName`].
fn type_suffix(rtype: RecordType) -> [u8; 2] {
    u16::from(rtype).to_be_bytes()
}

/// An RRset's key: the owner's [`WireName`] followed by the type, owned;
/// then, for an answer tied to a client network, that network (see
/// `tailored`). The class is always IN: the resolver refuses other
/// classes before it looks anything up.
type Key = Box<[u8]>;

/// An entry of the RRset cache, with the key it is stored under.
struct Stored {
    key: Key,
    timed: Timed<Entry>,
}

impl Cached for Stored {
    fn key(&self) -> &[u8] {
        &self.key
    }
}

#[derive(Clone, Debug)]
enum Entry {
    RRset(Vec<Record>),
    /// RFC 2308: the name does not exist (`nx`) or has no such type; the SOA
    /// is kept to prove it to clients (none came: cached for `min_ttl`).
    Negative {
        nx: bool,
        soa: Option<Box<Record>>,
    },
}

#[derive(Clone, Debug)]
struct Timed<T> {
    value: T,
    expires: Stamp,
}

impl<T: Clone> Timed<T> {
    /// The value and its remaining whole seconds, if not yet expired.
    fn live(&self, now: Stamp) -> Option<(T, u32)> {
        let left = now.until(self.expires);
        if left.is_zero() {
            return None;
        }
        Some((
            self.value.clone(),
            u32::try_from(left.as_secs()).unwrap_or(u32::MAX),
        ))
    }
}

/// What the cache knows about one (name, type).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lookup {
    /// The RRset, TTLs counted down to what is left.
    Hit(Vec<Record>),
    /// No RRset of the type, but a CNAME at the name: follow it.
    Cname(Record),
    NxDomain {
        soa: Option<Record>,
    },
    NoData {
        soa: Option<Record>,
    },
    Miss,
}

pub(crate) struct Cache {
    rrsets: ShardedLru<Stored>,
    delegations: Mutex<LruCache<Box<[u8]>, Timed<Delegation>>>,
    min_ttl: u32,
    max_ttl: u32,
    clock: Clock,
    /// Set once a DNAME has been stored: until then a miss need not look
    /// for one above the name (DNAMEs are rare, misses are not).
    holds_dnames: AtomicBool,
    /// The network lengths of answers tied to a client network (`--ecs`).
    tied: tailored::Lengths,
}

impl Cache {
    /// `size` entries of RRsets (spread over shards) and `size` delegations.
    pub(crate) fn new(size: usize, min_ttl: u32, max_ttl: u32, clock: Clock) -> Cache {
        Cache {
            rrsets: ShardedLru::new(size, SHARDS),
            delegations: Mutex::new(LruCache::new(
                NonZeroUsize::new(size).unwrap_or(NonZeroUsize::MIN),
            )),
            min_ttl,
            max_ttl: max_ttl.max(min_ttl),
            clock,
            holds_dnames: AtomicBool::new(false),
            tied: tailored::Lengths::default(),
        }
    }

    /// The DNAME cached nearest above `name`, at a proper ancestor other
    /// than the root. Nothing exists below a DNAME's owner (RFC 6672 2.4),
    /// so it is the only one that can apply to `name`. Until a DNAME has
    /// been stored, nothing is looked up.
    pub(crate) fn dname_above(&self, name: &Name) -> Option<Record> {
        if !self.holds_dnames.load(Ordering::Relaxed) {
            return None;
        }
        let now = self.clock.now();
        let mut wire = WireName::new(name);
        wire.set_suffix(&type_suffix(RecordType::DNAME));
        let found = wire
            .ancestor_keys()
            .find_map(|key| match self.get(key, now)? {
                (Entry::RRset(records), left) => with_ttl(records, left).into_iter().next(),
                (Entry::Negative { .. }, _) => None,
            });
        found
    }

    /// Entries held: RRsets and negative answers, and delegations. Each is
    /// bounded by the `size` given to [`Cache::new`] (rounded up to a
    /// multiple of the shard count for RRsets).
    pub(crate) fn len(&self) -> (usize, usize) {
        (self.rrsets.len(), lock(&self.delegations).len())
    }

    fn get(&self, key: &[u8], now: Stamp) -> Option<(Entry, u32)> {
        let mut slot = self.rrsets.slot(key);
        let live = slot.get()?.timed.live(now);
        if live.is_none() {
            slot.remove();
        }
        live
    }

    fn put(&self, key: Key, entry: Entry, ttl: u32, now: Stamp) {
        if ttl == 0 {
            return;
        }
        let timed = Timed {
            value: entry,
            expires: now.after(Duration::from_secs(u64::from(ttl))),
        };
        self.rrsets.put(Stored { key, timed });
    }

    /// The TTL an RRset is kept for: the configured bounds applied.
    pub(crate) fn clamp(&self, ttl: u32) -> u32 {
        ttl.clamp(self.min_ttl, self.max_ttl)
    }

    pub(crate) fn lookup(&self, name: &Name, rtype: RecordType) -> Lookup {
        self.lookup_in(name, rtype, None)
    }

    /// [`Cache::lookup`] among the entries of one client network
    /// (`tailored`: the network's key suffix), or the global ones.
    fn lookup_in(&self, name: &Name, rtype: RecordType, network: Option<&[u8]>) -> Lookup {
        let now = self.clock.now();
        let negative = |nx: bool, soa: Option<Box<Record>>, left: u32| {
            let soa = soa.map(|soa| {
                let mut soa = *soa;
                soa.ttl = left;
                soa
            });
            if nx {
                Lookup::NxDomain { soa }
            } else {
                Lookup::NoData { soa }
            }
        };
        let mut wire = WireName::new(name);
        let mut get = |rtype| match network {
            None => self.get(wire.key_with(&type_suffix(rtype)), now),
            Some(network) => self.get(&key_in(&mut wire, rtype, Some(network)), now),
        };
        match get(rtype) {
            Some((Entry::RRset(records), left)) => return Lookup::Hit(with_ttl(records, left)),
            Some((Entry::Negative { nx, soa }, left)) => return negative(nx, soa, left),
            None => {}
        }
        if let Some((Entry::Negative { nx, soa }, left)) = get(NXDOMAIN_ANY_TYPE) {
            return negative(nx, soa, left);
        }
        if rtype != RecordType::CNAME {
            if let Some((Entry::RRset(records), left)) = get(RecordType::CNAME) {
                if let Some(cname) = with_ttl(records, left).into_iter().next() {
                    return Lookup::Cname(cname);
                }
            }
        }
        Lookup::Miss
    }

    /// The addresses cached for a name server (its A and AAAA RRsets, the
    /// child side), for the walk: two map lookups, no CNAME or NXDOMAIN
    /// entry consulted (a server's name is not followed through either),
    /// and nothing cloned but the addresses.
    pub(crate) fn addresses(&self, server: &Name) -> Vec<IpAddr> {
        let now = self.clock.now();
        let mut wire = WireName::new(server);
        let mut found = Vec::new();
        for rtype in [RecordType::A, RecordType::AAAA] {
            let mut slot = self.rrsets.slot(wire.key_with(&type_suffix(rtype)));
            let Some(stored) = slot.get() else {
                continue;
            };
            if now.until(stored.timed.expires).is_zero() {
                continue;
            }
            if let Entry::RRset(records) = &stored.timed.value {
                found.extend(records.iter().filter_map(crate::classify::address));
            }
        }
        found
    }

    /// Stores records as RRsets grouped by owner and type; each set lives
    /// for its smallest TTL (RFC 2181 5.2 says they should be equal).
    pub(crate) fn store_records(&self, records: &[Record]) {
        self.store_records_in(records, None);
    }

    /// [`Cache::store_records`] for one client network (its key suffix),
    /// or for everyone.
    fn store_records_in(&self, records: &[Record], network: Option<&[u8]>) {
        let now = self.clock.now();
        let keys: Vec<Key> = records
            .iter()
            .map(|record| {
                key_in(
                    &mut WireName::new(&record.name),
                    record.record_type(),
                    network,
                )
            })
            .collect();
        for (first, key) in keys.iter().enumerate() {
            // Each set once, at its first record.
            if keys[..first].contains(key) {
                continue;
            }
            let mut set: Vec<Record> = records
                .iter()
                .zip(&keys)
                .filter(|(_, other)| *other == key)
                .map(|(record, _)| record.clone())
                .collect();
            // `collect` through a filter reserves four records at least
            // (272 bytes each): most sets hold one, for as long as cached.
            set.shrink_to_fit();
            if set.iter().any(|r| r.record_type() == RecordType::DNAME) {
                self.holds_dnames.store(true, Ordering::Relaxed);
            }
            let ttl = self.clamp(set.iter().map(|r| r.ttl).min().unwrap_or(0));
            self.put(key.clone(), Entry::RRset(with_ttl(set, ttl)), ttl, now);
        }
    }

    /// RFC 2308 5: a negative answer is cached for the smaller of the SOA's
    /// TTL and its MINIMUM field, clamped between `min_ttl` and `max_ttl`
    /// as positive answers are. Without an SOA, RFC 2308 5 says "negative
    /// responses without SOA records SHOULD NOT be cached": it is cached
    /// only when `min_ttl` is set, and then for `min_ttl` (the operator
    /// asked that nothing be asked again sooner; Unbound caches such an
    /// answer too, for its own short time).
    /// NXDOMAIN is about the name, so it answers every type (RFC 2308 5:
    /// "a negative answer that resulted from a name error (NXDOMAIN) should
    /// be cached such that it can be retrieved and returned in response to
    /// another query for the same <QNAME, QCLASS>").
    /// Returns the SOA with the negative TTL, as clients should see it.
    pub(crate) fn store_negative(
        &self,
        name: &Name,
        rtype: RecordType,
        nx: bool,
        soa: Option<Record>,
    ) -> Option<Record> {
        self.store_negative_in(name, rtype, nx, soa, None)
    }

    /// [`Cache::store_negative`] for one client network, or for everyone.
    fn store_negative_in(
        &self,
        name: &Name,
        rtype: RecordType,
        nx: bool,
        soa: Option<Record>,
        network: Option<&[u8]>,
    ) -> Option<Record> {
        let soa = soa.and_then(|mut soa| {
            let RData::SOA(data) = &soa.data else {
                return None;
            };
            soa.ttl = self.clamp(soa.ttl.min(data.minimum));
            Some(soa)
        });
        let ttl = soa.as_ref().map_or(self.min_ttl, |soa| soa.ttl);
        let rtype = if nx { NXDOMAIN_ANY_TYPE } else { rtype };
        let entry = Entry::Negative {
            nx,
            soa: soa.clone().map(Box::new),
        };
        let key = key_in(&mut WireName::new(name), rtype, network);
        self.put(key, entry, ttl, self.clock.now());
        soa
    }
}

/// The key of the RRset (`name`, `rtype`), for one client network when
/// `network` is its key suffix (see `tailored`), else for everyone.
fn key_in(name: &mut WireName, rtype: RecordType, network: Option<&[u8]>) -> Key {
    let key = name.key_with(&type_suffix(rtype));
    match network {
        None => Key::from(key),
        Some(network) => [key, network].concat().into(),
    }
}

fn with_ttl(mut records: Vec<Record>, ttl: u32) -> Vec<Record> {
    for record in &mut records {
        record.ttl = ttl;
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, CNAME, SOA};

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn clock() -> Clock {
        Clock::frozen()
    }

    fn a(name: &str, ttl: u32, last: u8) -> Record {
        Record::from_rdata(n(name), ttl, RData::A(A::new(192, 0, 2, last)))
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        let data = SOA::new(
            n("ns.example.com."),
            n("admin.example.com."),
            1,
            3600,
            600,
            86400,
            minimum,
        );
        Record::from_rdata(n("example.com."), ttl, RData::SOA(data))
    }

    #[test]
    fn the_dname_above_a_name_is_found_at_its_nearest_proper_ancestor() {
        let cache = Cache::new(100, 0, 86400, clock());
        let to = n("example.net.");
        let dname = Record::from_rdata(n("moved.example."), 300, dnslab_wire::dname_rdata(&to));
        assert_eq!(
            cache.dname_above(&n("a.moved.example.")),
            None,
            "none stored"
        );
        cache.store_records(std::slice::from_ref(&dname));
        for below in ["a.moved.example.", "b.a.MOVED.example."] {
            assert_eq!(cache.dname_above(&n(below)), Some(dname.clone()), "{below}");
        }
        // Not at the owner itself, nor beside or above it.
        for other in ["moved.example.", "other.example.", "example.", "."] {
            assert_eq!(cache.dname_above(&n(other)), None, "{other}");
        }
    }

    #[test]
    fn rrsets_expire_and_ttls_count_down() {
        let cache = Cache::new(100, 0, 86400, clock());
        cache.store_records(&[a("www.example.com.", 10, 1), a("WWW.example.com.", 20, 2)]);
        let Lookup::Hit(records) = cache.lookup(&n("www.Example.com."), RecordType::A) else {
            panic!("cached")
        };
        assert_eq!(records.len(), 2);
        assert!(
            records.iter().all(|r| r.ttl == 10),
            "the set lives for its smallest TTL"
        );
        cache.clock.jump_forward(Duration::from_secs(4));
        let Lookup::Hit(records) = cache.lookup(&n("www.example.com."), RecordType::A) else {
            panic!("cached")
        };
        assert_eq!(records[0].ttl, 6);
        cache.clock.jump_forward(Duration::from_secs(6));
        assert_eq!(
            cache.lookup(&n("www.example.com."), RecordType::A),
            Lookup::Miss
        );
    }

    #[test]
    fn stored_sets_hold_no_spare_capacity() {
        let cache = Cache::new(100, 0, 86400, clock());
        cache.store_records(&[
            a("one.example.com.", 60, 1),
            a("two.example.com.", 60, 2),
            a("two.example.com.", 60, 3),
        ]);
        for (name, len) in [("one.example.com.", 1), ("two.example.com.", 2)] {
            let mut wire = WireName::new(&n(name));
            let key = wire.key_with(&type_suffix(RecordType::A));
            let mut slot = cache.rrsets.slot(key);
            let Some(Stored {
                timed:
                    Timed {
                        value: Entry::RRset(set),
                        ..
                    },
                ..
            }) = slot.peek()
            else {
                panic!("{name} cached")
            };
            assert_eq!((set.len(), set.capacity()), (len, len), "{name}");
        }
    }

    #[test]
    fn ttls_are_clamped() {
        let cache = Cache::new(100, 30, 60, clock());
        cache.store_records(&[a("low.example.com.", 1, 1), a("high.example.com.", 3600, 2)]);
        let Lookup::Hit(low) = cache.lookup(&n("low.example.com."), RecordType::A) else {
            panic!()
        };
        let Lookup::Hit(high) = cache.lookup(&n("high.example.com."), RecordType::A) else {
            panic!()
        };
        assert_eq!((low[0].ttl, high[0].ttl), (30, 60));
    }

    #[test]
    fn negative_entries_use_the_soa_minimum() {
        let cache = Cache::new(100, 0, 86400, clock());
        cache.store_negative(
            &n("nope.example.com."),
            RecordType::A,
            true,
            Some(soa(600, 5)),
        );
        let Lookup::NxDomain { soa: Some(proof) } =
            cache.lookup(&n("nope.example.com."), RecordType::A)
        else {
            panic!("negative entry cached")
        };
        assert_eq!(proof.ttl, 5);
        assert!(
            matches!(
                cache.lookup(&n("nope.example.com."), RecordType::MX),
                Lookup::NxDomain { .. }
            ),
            "NXDOMAIN holds for every type"
        );
        cache.store_negative(&n("www.example.com."), RecordType::MX, false, None);
        assert_eq!(
            cache.lookup(&n("www.example.com."), RecordType::MX),
            Lookup::Miss,
            "no SOA, no caching"
        );
        cache.clock.jump_forward(Duration::from_secs(5));
        assert_eq!(
            cache.lookup(&n("nope.example.com."), RecordType::A),
            Lookup::Miss
        );
    }

    /// --min-ttl and --max-ttl bound negative answers as they bound
    /// RRsets; a negative answer without an SOA lives for --min-ttl.
    #[test]
    fn negative_ttls_are_clamped_and_without_soa_last_min_ttl() {
        let cache = Cache::new(100, 30, 60, clock());
        let low = cache.store_negative(
            &n("low.example.com."),
            RecordType::A,
            true,
            Some(soa(600, 5)),
        );
        let high = cache.store_negative(
            &n("high.example.com."),
            RecordType::A,
            false,
            Some(soa(3600, 3600)),
        );
        assert_eq!(
            (low.map(|s| s.ttl), high.map(|s| s.ttl)),
            (Some(30), Some(60)),
            "what the client is told"
        );
        assert_eq!(
            cache.store_negative(&n("bare.example.com."), RecordType::MX, false, None),
            None
        );
        assert_eq!(
            cache.lookup(&n("bare.example.com."), RecordType::MX),
            Lookup::NoData { soa: None }
        );
        cache.clock.jump_forward(Duration::from_secs(29));
        assert!(matches!(
            cache.lookup(&n("low.example.com."), RecordType::A),
            Lookup::NxDomain { soa: Some(proof) } if proof.ttl == 1
        ));
        cache.clock.jump_forward(Duration::from_secs(1));
        for name in ["low.example.com.", "bare.example.com."] {
            for rtype in [RecordType::A, RecordType::MX] {
                assert_eq!(
                    cache.lookup(&n(name), rtype),
                    Lookup::Miss,
                    "{name} {rtype}"
                );
            }
        }
        assert!(matches!(
            cache.lookup(&n("high.example.com."), RecordType::A),
            Lookup::NoData { soa: Some(proof) } if proof.ttl == 30
        ));
    }

    #[test]
    fn a_servers_addresses_are_its_a_and_aaaa_rrsets_until_they_expire() {
        let cache = Cache::new(100, 0, 86400, clock());
        let ns = n("ns.example.com.");
        assert!(cache.addresses(&ns).is_empty());
        let v6 = Record::from_rdata(
            ns.clone(),
            20,
            RData::AAAA(hickory_proto::rr::rdata::AAAA::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 1,
            )),
        );
        cache.store_records(&[a("ns.example.com.", 10, 1), a("ns.example.com.", 10, 2), v6]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            cache.addresses(&n("NS.example.com.")),
            [ip("192.0.2.1"), ip("192.0.2.2"), ip("2001:db8::1")]
        );
        cache.clock.jump_forward(Duration::from_secs(10));
        assert_eq!(cache.addresses(&ns), [ip("2001:db8::1")]);
    }

    #[test]
    fn cname_is_found_for_other_types() {
        let cache = Cache::new(100, 0, 86400, clock());
        let cname = Record::from_rdata(
            n("www.example.com."),
            60,
            RData::CNAME(CNAME(n("web.example.com."))),
        );
        cache.store_records(std::slice::from_ref(&cname));
        assert_eq!(
            cache.lookup(&n("www.example.com."), RecordType::A),
            Lookup::Cname(cname.clone())
        );
        assert!(matches!(
            cache.lookup(&n("www.example.com."), RecordType::CNAME),
            Lookup::Hit(_)
        ));
    }

    #[test]
    fn deepest_delegation_wins_and_size_is_bounded() {
        let cache = Cache::new(2, 0, 86400, clock());
        let cut = |zone: &str| Delegation {
            zone: n(zone),
            servers: vec![n("ns.x.")],
            ttl: 100,
            ..Delegation::default()
        };
        cache.store_delegation(&cut("com."));
        cache.store_delegation(&cut("example.com."));
        assert_eq!(
            cache
                .closest_delegation(&n("www.example.com."))
                .unwrap()
                .zone,
            n("example.com.")
        );
        assert_eq!(
            cache.closest_delegation(&n("www.other.com.")).unwrap().zone,
            n("com.")
        );
        assert_eq!(cache.closest_delegation(&n("www.example.org.")), None);
        // com. was used last, so example.com. is the one evicted.
        cache.store_delegation(&cut("org."));
        assert_eq!(
            cache
                .closest_delegation(&n("www.example.com."))
                .unwrap()
                .zone,
            n("com.")
        );
        assert_eq!(
            cache
                .closest_delegation(&n("www.example.org."))
                .unwrap()
                .zone,
            n("org.")
        );
        for i in 0..10 {
            cache.store_records(&[a(&format!("h{i}.example.com."), 100, i)]);
        }
        let cached = (0..10)
            .filter(|i| {
                cache.lookup(&n(&format!("h{i}.example.com.")), RecordType::A) != Lookup::Miss
            })
            .count();
        // Two shards of one entry: the last record stored in each stays
        // (all ten may hash to one shard, so at least one is kept).
        assert!(
            (1..=2).contains(&cached),
            "at most cache_size RRsets kept, and the latest still cached: got {cached}"
        );
        assert_eq!(cache.len().0, cached, "len() counts what lookups find");
    }
}
