//! The block cache: a sharded LRU map `(file id, block offset) -> value` bounded by the
//! total charge in bytes, shared by every store-file reader of a process.
//!
//! Semantics (those of the Python `block_cache.py` it replaces, HBase LruBlockCache's
//! IN_MEMORY priority): each shard has two LRU lists, ordinary and in-memory; in-memory
//! blocks may use up to `in_memory_fraction` of the shard's budget and are evicted only
//! after every ordinary block (or beyond their share). A value whose charge alone exceeds
//! the shard's budget is not cached. `evict_file` drops a file's blocks (not counted as
//! evictions). Counters: hits, misses, evictions.
//! Sharding: a key's shard is picked by a hash of (file id, offset); the capacity is split
//! evenly. Small caches (under `SHARD_MIN_BYTES` per shard) use one shard, so their LRU
//! order is exact (the unit tests rely on it); large ones use up to `MAX_SHARDS`.
//! Invariants: per shard, `used` == sum of charges of its entries <= its capacity after
//! every `put`; `by_file` indexes exactly the cached keys; a key is in at most one list.
//! Concurrency: thread-safe; each shard has its own `parking_lot::Mutex`, held for a few
//! map operations only (values are cloned out: an `Arc` or a `Py` reference).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use hashlink::LinkedHashMap;
use parking_lot::Mutex;

/// `(file id, block offset)`.
pub type CacheKey = (u64, u64);

/// Fewest bytes per shard before the cache is split further.
pub const SHARD_MIN_BYTES: u64 = 32 << 20;
/// Most shards.
pub const MAX_SHARDS: usize = 16;

struct Shard<V> {
    capacity: u64,
    in_memory_capacity: u64,
    entries: LinkedHashMap<CacheKey, (V, u64)>,
    memory: LinkedHashMap<CacheKey, (V, u64)>,
    used: u64,
    memory_used: u64,
    by_file: HashMap<u64, HashSet<u64>>,
}

impl<V> Shard<V> {
    fn forget(&mut self, (file, offset): CacheKey) {
        if let Some(set) = self.by_file.get_mut(&file) {
            set.remove(&offset);
            if set.is_empty() {
                self.by_file.remove(&file);
            }
        }
    }
}

/// Counters and sizes at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub capacity_bytes: u64,
    pub used_bytes: u64,
    pub in_memory_bytes: u64,
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

/// The cache; `V` is cloned out on a hit, so it should be cheap to clone.
pub struct LruCache<V> {
    capacity: u64,
    shards: Vec<Mutex<Shard<V>>>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl<V: Clone> LruCache<V> {
    /// A cache of `capacity` bytes; in-memory blocks may use `in_memory_fraction` of it.
    pub fn new(capacity: u64, in_memory_fraction: f64) -> LruCache<V> {
        let mut n = 1usize;
        while n < MAX_SHARDS && capacity / (2 * n as u64) >= SHARD_MIN_BYTES {
            n *= 2;
        }
        let per = capacity / n as u64;
        let shards = (0..n)
            .map(|_| {
                Mutex::new(Shard {
                    capacity: per,
                    // the fraction is in [0, 1] (checked by the caller); truncation is intended
                    in_memory_capacity: (per as f64 * in_memory_fraction) as u64,
                    entries: LinkedHashMap::new(),
                    memory: LinkedHashMap::new(),
                    used: 0,
                    memory_used: 0,
                    by_file: HashMap::new(),
                })
            })
            .collect();
        LruCache {
            capacity,
            shards,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn shard(&self, key: CacheKey) -> &Mutex<Shard<V>> {
        if self.shards.len() == 1 {
            return &self.shards[0];
        }
        // offsets are block-aligned-ish and file ids are hashes: mix both
        let h = (key.0 ^ key.1.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.shards[(h >> 58) as usize % self.shards.len()]
    }

    /// The value cached for `key` (counts a hit or a miss; a hit makes it most recent).
    pub fn get(&self, key: CacheKey) -> Option<V> {
        let mut s = self.shard(key).lock();
        let found = if let Some((v, _)) = s.entries.to_back(&key) {
            Some(v.clone())
        } else {
            s.memory.to_back(&key).map(|(v, _)| v.clone())
        };
        drop(s);
        match found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    /// Insert or replace `key`, then evict least recently used entries until the budget
    /// holds. The displaced values are returned so the caller drops them outside the lock
    /// (a Python value's drop may need the interpreter).
    pub fn put(&self, key: CacheKey, value: V, charge: u64, in_memory: bool) -> Vec<V> {
        let mut dropped = Vec::new();
        let mut s = self.shard(key).lock();
        if charge > s.capacity {
            dropped.push(value);
            return dropped;
        }
        let old = match s.entries.remove(&key) {
            Some(o) => Some(o),
            None => {
                let o = s.memory.remove(&key);
                if let Some((_, c)) = &o {
                    s.memory_used -= c;
                }
                o
            }
        };
        match old {
            Some((v, c)) => {
                s.used -= c;
                dropped.push(v);
            }
            None => {
                s.by_file.entry(key.0).or_default().insert(key.1);
            }
        }
        if in_memory {
            s.memory.insert(key, (value, charge));
            s.memory_used += charge;
        } else {
            s.entries.insert(key, (value, charge));
        }
        s.used += charge;
        let mut evicted = 0;
        while s.used > s.capacity {
            let victim = if !s.entries.is_empty() && s.memory_used <= s.in_memory_capacity {
                s.entries.pop_front()
            } else {
                let v = s.memory.pop_front();
                if let Some((_, (_, c))) = &v {
                    s.memory_used -= c;
                }
                v
            };
            let Some((k, (v, c))) = victim else { break };
            s.used -= c;
            s.forget(k);
            dropped.push(v);
            evicted += 1;
        }
        drop(s);
        if evicted > 0 {
            self.evictions.fetch_add(evicted, Ordering::Relaxed);
        }
        dropped
    }

    /// Drop every cached block of `file`; how many (not counted as evictions).
    pub fn evict_file(&self, file: u64) -> (usize, Vec<V>) {
        let mut dropped = Vec::new();
        for shard in &self.shards {
            let mut s = shard.lock();
            let Some(offsets) = s.by_file.remove(&file) else {
                continue;
            };
            for off in offsets {
                if let Some((v, c)) = s.entries.remove(&(file, off)) {
                    s.used -= c;
                    dropped.push(v);
                } else if let Some((v, c)) = s.memory.remove(&(file, off)) {
                    s.used -= c;
                    s.memory_used -= c;
                    dropped.push(v);
                }
            }
        }
        (dropped.len(), dropped)
    }

    /// Drop everything (counters are kept).
    pub fn clear(&self) -> Vec<V> {
        let mut dropped = Vec::new();
        for shard in &self.shards {
            let mut s = shard.lock();
            dropped.extend(s.entries.drain().map(|(_, (v, _))| v));
            dropped.extend(s.memory.drain().map(|(_, (v, _))| v));
            s.by_file.clear();
            s.used = 0;
            s.memory_used = 0;
        }
        dropped
    }

    /// Every cached key (shard by shard, least recently used first; for tests and tools).
    pub fn keys(&self) -> Vec<CacheKey> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let s = shard.lock();
            out.extend(s.entries.keys().chain(s.memory.keys()).copied());
        }
        out
    }

    /// Counters and sizes (each shard read under its lock).
    pub fn stats(&self) -> CacheStats {
        let mut st = CacheStats {
            capacity_bytes: self.capacity,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            ..CacheStats::default()
        };
        for shard in &self.shards {
            let s = shard.lock();
            st.used_bytes += s.used;
            st.in_memory_bytes += s.memory_used;
            st.entries += (s.entries.len() + s.memory.len()) as u64;
        }
        st
    }

    /// Check every invariant; a description of the first broken one.
    pub fn check(&self) -> Result<(), String> {
        for (i, shard) in self.shards.iter().enumerate() {
            let s = shard.lock();
            let mem: u64 = s.memory.values().map(|(_, c)| c).sum();
            let total: u64 = s.entries.values().map(|(_, c)| c).sum::<u64>() + mem;
            if total != s.used || mem != s.memory_used {
                return Err(format!(
                    "shard {i}: used {} / in-memory {} != charges {total} / {mem}",
                    s.used, s.memory_used
                ));
            }
            if s.used > s.capacity {
                return Err(format!(
                    "shard {i} over budget: {} > {}",
                    s.used, s.capacity
                ));
            }
            let indexed: HashSet<CacheKey> = s
                .by_file
                .iter()
                .flat_map(|(f, offs)| offs.iter().map(move |o| (*f, *o)))
                .collect();
            let cached: HashSet<CacheKey> =
                s.entries.keys().chain(s.memory.keys()).copied().collect();
            if indexed != cached || cached.len() != s.entries.len() + s.memory.len() {
                return Err(format!(
                    "shard {i}: file index does not match the cached keys"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_budget_and_counters() {
        let c: LruCache<u32> = LruCache::new(100, 0.25);
        assert_eq!(c.shard_count(), 1);
        c.put((1, 0), 1, 40, false);
        c.put((1, 1), 2, 40, false);
        assert_eq!(c.get((1, 0)), Some(1));
        c.put((1, 2), 3, 40, false);
        assert_eq!(c.get((1, 1)), None);
        let s = c.stats();
        assert_eq!(
            (s.used_bytes, s.entries, s.hits, s.misses, s.evictions),
            (80, 2, 1, 1, 1)
        );
        assert!(
            c.put((1, 3), 4, 101, false).len() == 1,
            "oversized values are refused"
        );
        c.check().expect("invariants");
    }

    #[test]
    fn in_memory_blocks_outlive_ordinary_ones() {
        let c: LruCache<u32> = LruCache::new(100, 0.25);
        c.put((9, 0), 0, 20, true);
        for i in 0..20 {
            c.put((1, i), 1, 10, false);
        }
        assert_eq!(c.get((9, 0)), Some(0));
        // beyond its share the in-memory list evicts too
        c.put((9, 1), 0, 20, true);
        assert_eq!(c.stats().in_memory_bytes, 20);
        c.check().expect("invariants");
    }

    #[test]
    fn evict_file_and_clear() {
        let c: LruCache<u32> = LruCache::new(1 << 30, 0.25);
        assert!(c.shard_count() > 1);
        for f in 1..=2 {
            for off in 0..50 {
                c.put((f, off * 4096), 0, 10, off % 2 == 0);
            }
        }
        assert_eq!(c.evict_file(1).0, 50);
        assert_eq!(c.evict_file(1).0, 0);
        assert_eq!(c.stats().used_bytes, 500);
        assert_eq!(c.stats().evictions, 0);
        c.check().expect("invariants");
        c.clear();
        assert_eq!(c.stats().entries, 0);
    }

    #[test]
    fn concurrent_use_keeps_invariants() {
        let c = std::sync::Arc::new(LruCache::<u64>::new(4096, 0.25));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for i in 0..2000u64 {
                        let k = (t, (i * 7919) % 300);
                        if c.get(k).is_none() {
                            c.put(k, i, 1 + i % 50, i % 5 == 0);
                        }
                        if i % 500 == 0 {
                            c.evict_file(t);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        c.check().expect("invariants");
        assert!(c.stats().used_bytes <= 4096);
    }
}
