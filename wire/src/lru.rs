//! The one sharded LRU both servers cache in, and the hashes they key
//! their maps with: [`KeyHasher`] for keys from the network, [`Fnv`], the
//! one hand-rolled hasher, for the rest.
//!
//! The authoritative server keeps its prepared answers here; the resolver
//! its RRsets and its prepared cache-hit answers. Each is read by every
//! worker on every query, so:
//! - the entries are spread over shards, each behind its own
//!   `std::sync::Mutex` held for one map operation and a copy, never across
//!   an `.await`, so that workers rarely wait for one another;
//! - a key is hashed once, with [`KeyHasher`] (seeded per process, so that
//!   nobody can aim a flood of names at one shard): the middle bits of the
//!   hash pick the shard, and the shard's map is keyed by the hash itself,
//!   which [`Fnv`] passes through, so it is not hashed again and no boxed
//!   key sits beside the entry;
//! - an entry holds its own key ([`Cached::key`]), checked on every read:
//!   two keys that share a hash cost a miss (the later evicts the earlier),
//!   never a wrong answer.
//!
//! Bounded in entries, and optionally in bytes ([`Cached::weight`]): floods
//! of random names evict old entries instead of growing memory.

use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard};

use lru::LruCache;

/// The hash for keys from the network: foldhash (hashbrown's default),
/// fast on short byte strings, seeded per process. Every [`ShardedLru`]
/// hashes its keys with it; the zone store indexes its names with it.
pub type KeyHasher = hashbrown::DefaultHashBuilder;

/// The one hand-rolled hasher, for keys nobody can choose to collide:
/// FNV-1a over bytes, and a pass-through for a lone `u64`.
///
/// - hickory's `Name` feeds its hash one byte at a time, where SipHash is
///   slow and foldhash 15-30% slower than FNV over a million names: the
///   zone checks key their maps of names with it (the zone is the
///   operator's own file, so flooding resistance buys nothing there);
/// - a key that is a hash already (a [`ShardedLru`] shard's, computed
///   seeded with [`KeyHasher`]) is written with `write_u64`, which takes it
///   as the hash. (`Name`, and the other byte-wise keys, never call
///   `write_u64`: integers they hash go through `write`.)
pub struct Fnv(u64);

/// [`Fnv`] for maps: `HashMap<K, V, BuildFnv>`.
pub type BuildFnv = BuildHasherDefault<Fnv>;

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// Shards of each cache: enough that two workers rarely want the same lock.
pub const SHARDS: usize = 16;

/// What a [`ShardedLru`] holds: a value that knows its key.
pub trait Cached {
    /// The key the value was stored under.
    fn key(&self) -> &[u8];

    /// Bytes held, for a cache bounded in bytes ([`ShardedLru::max_bytes`]).
    fn weight(&self) -> usize {
        0
    }
}

/// LRU maps bounded in entries (and bytes) in all, spread over shards by
/// key hash; see the module doc.
pub struct ShardedLru<V> {
    shards: Box<[Mutex<Shard<V>>]>,
    hasher: KeyHasher,
}

/// One lock's share of the entries.
struct Shard<V> {
    entries: LruCache<u64, V, BuildFnv>,
    /// The sum of the entries' weights.
    bytes: usize,
    max_bytes: usize,
}

impl<V: Cached> ShardedLru<V> {
    /// At most about `max_entries` entries in all in `shards` shards (at
    /// least one entry per shard, rounded up to a multiple of the shards).
    pub fn new(max_entries: usize, shards: usize) -> ShardedLru<V> {
        let max_entries = max_entries.max(1);
        let shards = shards.clamp(1, max_entries);
        let per_shard =
            NonZeroUsize::new(max_entries.div_ceil(shards)).unwrap_or(NonZeroUsize::MIN);
        ShardedLru {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: LruCache::with_hasher(per_shard, BuildFnv::default()),
                        bytes: 0,
                        max_bytes: usize::MAX,
                    })
                })
                .collect(),
            hasher: KeyHasher::default(),
        }
    }

    /// Also bounded to about `max_bytes` of [`Cached::weight`] in all:
    /// least recently used entries go until each shard is within its share
    /// (a shard keeps its last entry whatever it weighs).
    pub fn max_bytes(self, max_bytes: usize) -> ShardedLru<V> {
        let per_shard = (max_bytes / self.shards.len()).max(1);
        for shard in &self.shards {
            lock(shard).max_bytes = per_shard;
        }
        self
    }

    /// The entry for `key`, locked: its shard is held until the slot is
    /// dropped.
    pub fn slot<'a>(&'a self, key: &'a [u8]) -> Slot<'a, V> {
        let (hash, shard) = self.locate(key);
        Slot {
            key,
            hash,
            shard: lock(shard),
        }
    }

    /// Stores `value` under its own key.
    pub fn put(&self, value: V) {
        let (hash, shard) = self.locate(value.key());
        lock(shard).put(hash, value);
    }

    /// The hash of `key` and the shard it lives in.
    fn locate(&self, key: &[u8]) -> (u64, &Mutex<Shard<V>>) {
        let hash = self.hasher.hash_one(key);
        // The middle bits pick the shard; the map inside uses the low ones
        // and the top 7.
        let index = ((hash >> 32) % self.shards.len() as u64) as usize;
        // `index` is below the number of shards.
        (hash, &self.shards[index])
    }

    /// Entries held in all shards.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| lock(shard).entries.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Visits every entry, one shard locked at a time, leaving the LRU
    /// order as it is (for an operator's dump, not for the query path).
    pub fn for_each(&self, mut visit: impl FnMut(&V)) {
        for shard in self.shards.iter() {
            for (_, value) in lock(shard).entries.iter() {
                visit(value);
            }
        }
    }

    /// Removes the entries `remove` picks, one shard locked at a time;
    /// returns how many went.
    pub fn remove_if(&self, mut remove: impl FnMut(&V) -> bool) -> usize {
        let mut removed = 0;
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            let picked: Vec<u64> = shard
                .entries
                .iter()
                .filter(|(_, value)| remove(value))
                .map(|(hash, _)| *hash)
                .collect();
            for hash in picked {
                if let Some(old) = shard.entries.pop(&hash) {
                    shard.bytes -= old.weight();
                    removed += 1;
                }
            }
        }
        removed
    }
}

impl<V: Cached> Shard<V> {
    fn put(&mut self, hash: u64, value: V) {
        self.bytes += value.weight();
        // `push` returns the entry it replaced or evicted.
        if let Some((_, old)) = self.entries.push(hash, value) {
            self.bytes -= old.weight();
        }
        while self.bytes > self.max_bytes && self.entries.len() > 1 {
            match self.entries.pop_lru() {
                Some((_, old)) => self.bytes -= old.weight(),
                None => break,
            }
        }
    }
}

/// One key's place in a [`ShardedLru`], with its shard locked.
pub struct Slot<'a, V> {
    key: &'a [u8],
    hash: u64,
    shard: MutexGuard<'a, Shard<V>>,
}

impl<V: Cached> Slot<'_, V> {
    /// The entry, marked as the most recently used.
    pub fn get(&mut self) -> Option<&mut V> {
        let key = self.key;
        self.shard
            .entries
            .get_mut(&self.hash)
            .filter(|value| value.key() == key)
    }

    /// The entry, leaving the LRU order as it is (a promotion writes to two
    /// more entries; see [`Slot::promote`]).
    pub fn peek(&mut self) -> Option<&mut V> {
        let key = self.key;
        self.shard
            .entries
            .peek_mut(&self.hash)
            .filter(|value| value.key() == key)
    }

    /// Marks the entry as the most recently used.
    pub fn promote(&mut self) {
        self.shard.entries.promote(&self.hash);
    }

    /// Removes the entry.
    pub fn remove(&mut self) -> Option<V> {
        // Only this key's entry, not another's under the same hash.
        self.peek()?;
        let old = self.shard.entries.pop(&self.hash)?;
        self.shard.bytes -= old.weight();
        Some(old)
    }

    /// Stores `value` here, under this slot's hash, replacing whatever is
    /// there; a value whose key is not the slot's is never returned for it.
    pub fn put(&mut self, value: V) {
        self.shard.put(self.hash, value);
    }
}

/// A poisoned shard only means another worker panicked mid-operation; the
/// LRU is still consistent enough to serve from.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Entry(Vec<u8>, usize);

    impl Cached for Entry {
        fn key(&self) -> &[u8] {
            &self.0
        }

        fn weight(&self) -> usize {
            self.1
        }
    }

    fn entry(key: &str, weight: usize) -> Entry {
        Entry(key.as_bytes().to_vec(), weight)
    }

    #[test]
    fn entries_are_found_by_key_and_the_least_recently_used_goes() {
        let cache = ShardedLru::new(2, 1);
        cache.put(entry("a", 0));
        cache.put(entry("b", 0));
        assert!(cache.slot(b"a").get().is_some(), "a is now the most recent");
        cache.put(entry("c", 0));
        assert!(cache.slot(b"b").get().is_none(), "b was evicted");
        assert!(cache.slot(b"a").get().is_some());
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.slot(b"c").remove(), Some(entry("c", 0)));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn an_entry_stored_under_another_keys_hash_is_a_miss() {
        let cache = ShardedLru::new(10, 2);
        cache.slot(b"www").put(entry("ftp", 0));
        assert_eq!(cache.slot(b"www").get(), None, "the stored key is checked");
        assert_eq!(cache.slot(b"www").remove(), None);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn entries_are_visited_and_removed_by_a_predicate() {
        let cache = ShardedLru::new(10, 3);
        for (key, weight) in [("a", 1), ("b", 2), ("c", 3)] {
            cache.put(entry(key, weight));
        }
        let mut seen = Vec::new();
        cache.for_each(|e| seen.push(e.1));
        seen.sort();
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(cache.remove_if(|e| e.1 >= 2), 2);
        assert_eq!(cache.len(), 1);
        assert!(cache.slot(b"a").get().is_some());
    }

    #[test]
    fn peeking_leaves_the_order_and_promoting_changes_it() {
        let cache = ShardedLru::new(2, 1);
        cache.put(entry("a", 0));
        cache.put(entry("b", 0));
        assert!(cache.slot(b"a").peek().is_some());
        cache.put(entry("c", 0));
        assert!(cache.slot(b"a").peek().is_none(), "a was still the oldest");
        cache.slot(b"b").promote();
        cache.put(entry("d", 0));
        assert!(cache.slot(b"b").peek().is_some(), "b was promoted");
        assert!(cache.slot(b"c").peek().is_none());
    }

    #[test]
    fn fnv_is_fnv_1a_over_bytes_and_passes_a_lone_u64_through() {
        let mut fnv = Fnv::default();
        fnv.write(b"a");
        assert_eq!(fnv.finish(), 0xaf63_dc4c_8601_ec8c, "FNV-1a's test vector");
        assert_eq!(BuildFnv::default().hash_one(0x1234_u64), 0x1234);
    }

    #[test]
    fn a_byte_bound_evicts_until_the_shard_fits() {
        let cache = ShardedLru::new(100, 1).max_bytes(100);
        for key in ["a", "b", "c"] {
            cache.put(entry(key, 40));
        }
        assert_eq!(cache.len(), 2, "three of 40 bytes exceed 100");
        assert!(cache.slot(b"a").get().is_none());
        cache.put(entry("huge", 1000));
        assert_eq!(cache.len(), 1, "the last entry stays whatever it weighs");
        cache.slot(b"huge").remove();
        cache.put(entry("d", 60));
        cache.put(entry("e", 40));
        assert_eq!(cache.len(), 2, "removals gave their bytes back");
    }
}
