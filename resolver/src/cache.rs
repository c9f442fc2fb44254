//! The resolver's memory: RRsets, negative answers (RFC 2308) and zone cuts.
//!
//! Entries are bounded in number (LRU) and expire by TTL, clamped between
//! the configured minimum and maximum. The RRset cache is sharded so that
//! workers answering cache hits rarely contend; every lock is a
//! `std::sync::Mutex` held for a map operation only, never across `.await`.
//!
//! Delegations live apart from RRsets: the NS set and glue from a referral
//! tell the walk where to go, but are never served as answers (glue from a
//! parent zone is not authoritative data).

use std::collections::hash_map::DefaultHasher;
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hickory_proto::rr::{Name, RData, Record, RecordType};
use lru::LruCache;
use tokio::time::Instant;

use crate::classify::Delegation;
use crate::lock;

/// Shards of each sharded map, so that UDP workers rarely contend for a lock.
pub(crate) const SHARDS: usize = 16;
/// The key type under which an NXDOMAIN is kept: type 0 is reserved and
/// never asked for, so it cannot collide with a real RRset.
const NXDOMAIN_ANY_TYPE: RecordType = RecordType::ZERO;

/// A name as the cache keys it: lowercased wire format (RFC 1035 3.1,
/// 4.1.4 without compression), built once per lookup on the stack, with
/// room for the type after it. Its ancestors are suffixes at label starts,
/// so walking up to the closest delegation allocates nothing, and keys
/// hash and compare as plain bytes (hickory's `Name` hashes byte by byte).
struct WireName {
    /// The name, then two bytes for a type (see [`WireName::with_type`]).
    bytes: [u8; MAX_WIRE_NAME + 2],
    len: usize,
    /// Offset of each label, from the first; the root is at `len - 1`.
    starts: [u8; MAX_LABELS],
    labels: usize,
}

/// RFC 1035 3.1: a name is at most 255 bytes on the wire, so at most 127
/// labels and the root.
const MAX_WIRE_NAME: usize = 255;
const MAX_LABELS: usize = 128;

impl WireName {
    /// `None` for a name longer than RFC 1035 allows, which hickory does
    /// not build; such a name is neither looked up nor cached.
    fn new(name: &Name) -> Option<WireName> {
        let mut wire = WireName {
            bytes: [0; MAX_WIRE_NAME + 2],
            len: 0,
            starts: [0; MAX_LABELS],
            labels: 0,
        };
        for label in name.iter() {
            let end = wire.len + 1 + label.len();
            // The root byte must still fit after the label.
            if end >= MAX_WIRE_NAME || wire.labels + 1 >= MAX_LABELS {
                return None;
            }
            wire.starts[wire.labels] = u8::try_from(wire.len).ok()?;
            wire.labels += 1;
            wire.bytes[wire.len] = u8::try_from(label.len()).ok()?;
            for (to, from) in wire.bytes[wire.len + 1..end].iter_mut().zip(label) {
                *to = from.to_ascii_lowercase();
            }
            wire.len = end;
        }
        wire.bytes[wire.len] = 0;
        wire.len += 1;
        Some(wire)
    }

    /// The name itself: a delegation's key.
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The name and `rtype`: an RRset's key.
    fn with_type(&mut self, rtype: RecordType) -> &[u8] {
        let [hi, lo] = u16::from(rtype).to_be_bytes();
        self.bytes[self.len] = hi;
        self.bytes[self.len + 1] = lo;
        &self.bytes[..self.len + 2]
    }

    /// The keys of the name's proper ancestors but the root, longest
    /// first, each followed by `rtype` (as [`WireName::with_type`]): the
    /// type is written once after the name, which ends every ancestor.
    fn ancestor_keys(&mut self, rtype: RecordType) -> impl Iterator<Item = &[u8]> {
        let end = self.with_type(rtype).len();
        let (bytes, starts) = (&self.bytes, &self.starts[..self.labels]);
        starts
            .iter()
            .skip(1)
            .map(move |&start| &bytes[usize::from(start)..end])
    }

    /// The name and its ancestors, longest first, ending with the root.
    fn ancestors(&self) -> impl Iterator<Item = &[u8]> {
        let root = self.len - 1;
        self.starts[..self.labels]
            .iter()
            .map(|&start| usize::from(start))
            .chain(std::iter::once(root))
            .map(|start| &self.bytes[start..self.len])
    }
}

/// An RRset's key: [`WireName::with_type`], owned. The class is always IN:
/// the resolver refuses other classes before it looks anything up.
type Key = Box<[u8]>;

#[derive(Clone, Debug)]
enum Entry {
    RRset(Vec<Record>),
    /// RFC 2308: the name does not exist (`nx`) or has no such type; the SOA
    /// is kept to prove it to clients.
    Negative {
        nx: bool,
        soa: Box<Record>,
    },
}

#[derive(Clone, Debug)]
struct Timed<T> {
    value: T,
    expires: Instant,
}

impl<T: Clone> Timed<T> {
    /// The value and its remaining whole seconds, if not yet expired.
    fn live(&self, now: Instant) -> Option<(T, u32)> {
        let left = self.expires.checked_duration_since(now)?;
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
pub enum Lookup {
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

/// LRU maps bounded in entries in all, spread over shards by key hash so
/// that workers answering cache hits rarely contend for one lock. `S` is
/// each map's hasher.
pub(crate) struct Shards<K, V, S = lru::DefaultHasher> {
    shards: Vec<Mutex<LruCache<K, V, S>>>,
}

impl<K: Hash + Eq, V> Shards<K, V> {
    /// At most about `size` entries in all (at least one per shard).
    pub(crate) fn new(size: usize) -> Shards<K, V> {
        Shards::with_hasher(size, SHARDS, lru::DefaultHasher::default())
    }

    /// The shard holding `key` (any form of the key that hashes alike).
    pub(crate) fn of<Q: Hash + ?Sized>(&self, key: &Q) -> &Mutex<LruCache<K, V>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        self.at(hasher.finish())
    }
}

impl<K: Hash + Eq, V, S: BuildHasher + Clone> Shards<K, V, S> {
    /// At most about `size` entries in all in `shards` shards (at least
    /// one entry per shard).
    pub(crate) fn with_hasher(size: usize, shards: usize, hasher: S) -> Shards<K, V, S> {
        let size = size.max(1);
        let shards = shards.clamp(1, size);
        let per_shard = NonZeroUsize::new(size.div_ceil(shards)).unwrap_or(NonZeroUsize::MIN);
        Shards {
            shards: (0..shards)
                .map(|_| Mutex::new(LruCache::with_hasher(per_shard, hasher.clone())))
                .collect(),
        }
    }

    /// Entries held in all shards.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}

impl<K, V, S> Shards<K, V, S> {
    /// The shard for a key of hash `hash`.
    pub(crate) fn at(&self, hash: u64) -> &Mutex<LruCache<K, V, S>> {
        let index = (hash % self.shards.len() as u64) as usize;
        // `with_hasher` makes at least one shard, and `index` is below their count.
        &self.shards[index]
    }
}

pub struct Cache {
    shards: Shards<Key, Timed<Entry>>,
    delegations: Mutex<LruCache<Box<[u8]>, Timed<Delegation>>>,
    min_ttl: u32,
    max_ttl: u32,
    /// Set once a DNAME has been stored: until then a miss need not look
    /// for one above the name (DNAMEs are rare, misses are not).
    holds_dnames: AtomicBool,
}

impl Cache {
    /// `size` entries of RRsets (spread over shards) and `size` delegations.
    pub fn new(size: usize, min_ttl: u32, max_ttl: u32) -> Cache {
        Cache {
            shards: Shards::new(size),
            delegations: Mutex::new(LruCache::new(
                NonZeroUsize::new(size).unwrap_or(NonZeroUsize::MIN),
            )),
            min_ttl,
            max_ttl: max_ttl.max(min_ttl),
            holds_dnames: AtomicBool::new(false),
        }
    }

    /// The DNAME cached nearest above `name`, at a proper ancestor other
    /// than the root. Nothing exists below a DNAME's owner (RFC 6672 2.4),
    /// so it is the only one that can apply to `name`. Until a DNAME has
    /// been stored, nothing is looked up.
    pub fn dname_above(&self, name: &Name) -> Option<Record> {
        if !self.holds_dnames.load(Ordering::Relaxed) {
            return None;
        }
        let now = Instant::now();
        let mut wire = WireName::new(name)?;
        let found =
            wire.ancestor_keys(RecordType::DNAME)
                .find_map(|key| match self.get(key, now)? {
                    (Entry::RRset(records), left) => with_ttl(records, left).into_iter().next(),
                    (Entry::Negative { .. }, _) => None,
                });
        found
    }

    /// Entries held: RRsets and negative answers, and delegations. Each is
    /// bounded by the `size` given to [`Cache::new`] (rounded up to a
    /// multiple of the shard count for RRsets).
    pub fn len(&self) -> (usize, usize) {
        (self.shards.len(), lock(&self.delegations).len())
    }

    fn get(&self, key: &[u8], now: Instant) -> Option<(Entry, u32)> {
        let mut shard = lock(self.shards.of(key));
        let live = shard.get(key)?.live(now);
        if live.is_none() {
            shard.pop(key);
        }
        live
    }

    fn put(&self, key: Key, entry: Entry, ttl: u32, now: Instant) {
        if ttl == 0 {
            return;
        }
        let timed = Timed {
            value: entry,
            expires: now + Duration::from_secs(u64::from(ttl)),
        };
        lock(self.shards.of(&*key)).put(key, timed);
    }

    /// The TTL an RRset is kept for: the configured bounds applied.
    pub fn clamp(&self, ttl: u32) -> u32 {
        ttl.clamp(self.min_ttl, self.max_ttl)
    }

    pub fn lookup(&self, name: &Name, rtype: RecordType) -> Lookup {
        let now = Instant::now();
        let negative = |nx: bool, mut soa: Box<Record>, left: u32| {
            soa.ttl = left;
            let soa = Some(*soa);
            if nx {
                Lookup::NxDomain { soa }
            } else {
                Lookup::NoData { soa }
            }
        };
        let Some(mut wire) = WireName::new(name) else {
            return Lookup::Miss;
        };
        match self.get(wire.with_type(rtype), now) {
            Some((Entry::RRset(records), left)) => return Lookup::Hit(with_ttl(records, left)),
            Some((Entry::Negative { nx, soa }, left)) => return negative(nx, soa, left),
            None => {}
        }
        if let Some((Entry::Negative { nx, soa }, left)) =
            self.get(wire.with_type(NXDOMAIN_ANY_TYPE), now)
        {
            return negative(nx, soa, left);
        }
        if rtype != RecordType::CNAME {
            if let Some((Entry::RRset(records), left)) =
                self.get(wire.with_type(RecordType::CNAME), now)
            {
                if let Some(cname) = with_ttl(records, left).into_iter().next() {
                    return Lookup::Cname(cname);
                }
            }
        }
        Lookup::Miss
    }

    /// Stores records as RRsets grouped by owner and type; each set lives
    /// for its smallest TTL (RFC 2181 5.2 says they should be equal).
    pub fn store_records(&self, records: &[Record]) {
        let now = Instant::now();
        let keys: Vec<Option<Key>> = records
            .iter()
            .map(|record| {
                let mut wire = WireName::new(&record.name)?;
                Some(Key::from(wire.with_type(record.record_type())))
            })
            .collect();
        for (first, key) in keys.iter().enumerate() {
            // Each set once, at its first record; unkeyable names are skipped.
            let Some(key) = key else { continue };
            if keys[..first]
                .iter()
                .any(|other| other.as_ref() == Some(key))
            {
                continue;
            }
            let mut set: Vec<Record> = records
                .iter()
                .zip(&keys)
                .filter(|(_, other)| other.as_ref() == Some(key))
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
    /// TTL and its MINIMUM field. Without an SOA it is not cached (RFC 2308
    /// 5: "negative responses without SOA records SHOULD NOT be cached").
    /// NXDOMAIN is about the name, so it answers every type (RFC 2308 5:
    /// "a negative answer that resulted from a name error (NXDOMAIN) should
    /// be cached such that it can be retrieved and returned in response to
    /// another query for the same <QNAME, QCLASS>").
    /// Returns the SOA with the negative TTL, as clients should see it.
    pub fn store_negative(
        &self,
        name: &Name,
        rtype: RecordType,
        nx: bool,
        soa: Option<Record>,
    ) -> Option<Record> {
        let mut soa = soa?;
        let RData::SOA(data) = &soa.data else {
            return None;
        };
        soa.ttl = soa.ttl.min(data.minimum).min(self.max_ttl);
        let rtype = if nx { NXDOMAIN_ANY_TYPE } else { rtype };
        let entry = Entry::Negative {
            nx,
            soa: Box::new(soa.clone()),
        };
        if let Some(mut wire) = WireName::new(name) {
            let key = Key::from(wire.with_type(rtype));
            self.put(key, entry, soa.ttl, Instant::now());
        }
        Some(soa)
    }

    pub fn store_delegation(&self, delegation: &Delegation) {
        let ttl = self.clamp(delegation.ttl);
        if ttl == 0 {
            return;
        }
        let Some(zone) = WireName::new(&delegation.zone) else {
            return;
        };
        let timed = Timed {
            value: delegation.clone(),
            expires: Instant::now() + Duration::from_secs(u64::from(ttl)),
        };
        lock(&self.delegations).put(Box::from(zone.as_bytes()), timed);
    }

    /// The deepest cached zone cut at or above `name`, with its TTL counted
    /// down.
    pub fn closest_delegation(&self, name: &Name) -> Option<Delegation> {
        let now = Instant::now();
        let wire = WireName::new(name)?;
        let mut delegations = lock(&self.delegations);
        let closest = wire.ancestors().find_map(|zone| {
            let (mut delegation, left) = delegations.get(zone)?.live(now)?;
            delegation.ttl = left;
            Some(delegation)
        });
        closest
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
        let cache = Cache::new(100, 0, 86400);
        let to = n("example.net.");
        let dname = Record::from_rdata(
            n("moved.example."),
            300,
            dnslab_authoritative::zone::reader::dname_rdata(&to),
        );
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
    fn wire_names_are_lowercased_with_their_ancestors_as_suffixes() {
        let mut wire = WireName::new(&n("WWW.Example.com.")).unwrap();
        assert_eq!(wire.as_bytes(), b"\x03www\x07example\x03com\x00");
        let ancestors: Vec<&[u8]> = wire.ancestors().collect();
        assert_eq!(
            ancestors,
            [
                &b"\x03www\x07example\x03com\x00"[..],
                b"\x07example\x03com\x00",
                b"\x03com\x00",
                b"\x00",
            ]
        );
        assert_eq!(
            wire.with_type(RecordType::MX),
            b"\x03www\x07example\x03com\x00\x00\x0f"
        );
        let root = WireName::new(&Name::root()).unwrap();
        assert_eq!(root.ancestors().collect::<Vec<_>>(), [&b"\x00"[..]]);
        // The longest name RFC 1035 allows: 127 one-letter labels (255 bytes).
        let longest = n(&"a.".repeat(127));
        let wire = WireName::new(&longest).unwrap();
        assert_eq!(wire.as_bytes().len(), 255);
        assert_eq!(wire.ancestors().count(), 128);
    }

    #[tokio::test(start_paused = true)]
    async fn rrsets_expire_and_ttls_count_down() {
        let cache = Cache::new(100, 0, 86400);
        cache.store_records(&[a("www.example.com.", 10, 1), a("WWW.example.com.", 20, 2)]);
        let Lookup::Hit(records) = cache.lookup(&n("www.Example.com."), RecordType::A) else {
            panic!("cached")
        };
        assert_eq!(records.len(), 2);
        assert!(
            records.iter().all(|r| r.ttl == 10),
            "the set lives for its smallest TTL"
        );
        tokio::time::advance(Duration::from_secs(4)).await;
        let Lookup::Hit(records) = cache.lookup(&n("www.example.com."), RecordType::A) else {
            panic!("cached")
        };
        assert_eq!(records[0].ttl, 6);
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(
            cache.lookup(&n("www.example.com."), RecordType::A),
            Lookup::Miss
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stored_sets_hold_no_spare_capacity() {
        let cache = Cache::new(100, 0, 86400);
        cache.store_records(&[
            a("one.example.com.", 60, 1),
            a("two.example.com.", 60, 2),
            a("two.example.com.", 60, 3),
        ]);
        for (name, len) in [("one.example.com.", 1), ("two.example.com.", 2)] {
            let mut wire = WireName::new(&n(name)).unwrap();
            let key = wire.with_type(RecordType::A);
            let shard = lock(cache.shards.of(key));
            let Some(Timed {
                value: Entry::RRset(set),
                ..
            }) = shard.peek(key)
            else {
                panic!("{name} cached")
            };
            assert_eq!((set.len(), set.capacity()), (len, len), "{name}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ttls_are_clamped() {
        let cache = Cache::new(100, 30, 60);
        cache.store_records(&[a("low.example.com.", 1, 1), a("high.example.com.", 3600, 2)]);
        let Lookup::Hit(low) = cache.lookup(&n("low.example.com."), RecordType::A) else {
            panic!()
        };
        let Lookup::Hit(high) = cache.lookup(&n("high.example.com."), RecordType::A) else {
            panic!()
        };
        assert_eq!((low[0].ttl, high[0].ttl), (30, 60));
    }

    #[tokio::test(start_paused = true)]
    async fn negative_entries_use_the_soa_minimum() {
        let cache = Cache::new(100, 0, 86400);
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
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(
            cache.lookup(&n("nope.example.com."), RecordType::A),
            Lookup::Miss
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cname_is_found_for_other_types() {
        let cache = Cache::new(100, 0, 86400);
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

    #[tokio::test(start_paused = true)]
    async fn deepest_delegation_wins_and_size_is_bounded() {
        let cache = Cache::new(2, 0, 86400);
        let cut = |zone: &str| Delegation {
            zone: n(zone),
            servers: vec![n("ns.x.")],
            glue: vec![],
            ttl: 100,
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
