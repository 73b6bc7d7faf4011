//! A small in-process cache whose entries expire, for what every request reads and rarely
//! changes (sessions, preferences). Each replica has its own: a change made through this
//! replica removes its entry at once, and the other replicas see it when theirs expires, so an
//! entry's lifetime bounds how stale another replica can be.

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A cache keeping entries for `ttl` (zero turns it off) and at most `capacity` of them.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), ttl, capacity }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(_, until)| *until > Instant::now()).map(|(value, _)| value.clone())
    }

    /// Keeps `value` for the cache's lifetime, or until `at_most` if that comes sooner (a
    /// session that expires before the entry would).
    pub fn insert(&self, key: K, value: V, at_most: Option<Duration>) {
        let keep_for = at_most.map_or(self.ttl, |limit| limit.min(self.ttl));
        if keep_for.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, (_, until)| *until > now);
            // Still full of live entries: start over rather than grow. A miss only costs the
            // query the cache saves.
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (value, now + keep_for));
    }

    /// Runs `change` on the live entry of `key`, under the cache's lock so concurrent callers
    /// see each other's changes; `None` when there is no live entry.
    pub fn update<Q, R>(&self, key: &Q, change: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get_mut(key).filter(|(_, until)| *until > Instant::now()).map(|(value, _)| change(value))
    }

    pub fn remove(&self, key: &K) {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_removal_is_immediate() {
        let cache = TtlCache::new(Duration::from_millis(50), 10);
        cache.insert(1, "a", None);
        cache.insert(2, "b", Some(Duration::from_millis(1)));
        assert_eq!(cache.get(&1), Some("a"));
        assert_eq!(cache.update(&1, |v| std::mem::replace(v, "A")), Some("a"));
        assert_eq!(cache.get(&1), Some("A"));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(cache.update(&2, |_| ()), None, "an expired entry is not changed");
        assert_eq!(cache.get(&2), None, "an entry lives no longer than it was allowed");
        cache.remove(&1);
        assert_eq!(cache.get(&1), None);
        cache.insert(3, "c", None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&3), None, "an entry lives no longer than the cache's lifetime");
    }

    #[test]
    fn a_zero_lifetime_turns_the_cache_off_and_capacity_bounds_it() {
        let off = TtlCache::new(Duration::ZERO, 10);
        off.insert(1, 1, None);
        assert_eq!(off.get(&1), None);

        let small = TtlCache::new(Duration::from_mins(1), 3);
        for key in 0..10 {
            small.insert(key, key, None);
            assert!(small.entries.lock().unwrap().len() <= 3);
        }
        assert_eq!(small.get(&9), Some(9), "the newest entry is kept");
    }
}
