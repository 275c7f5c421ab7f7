//! Short-lived copies of what every message reads: rows admins rarely change (a
//! channel's keys, a flow's published revision, a module's installation, a skill
//! group's settings) and a busy queue's best members. Each copy is used for at most
//! its freshness (a second), so a change made on another node shows here within that;
//! the node that makes a change drops its copies at once. The sessions a node's turns
//! left are kept longer (see `sessions::service`): their version tells a stale copy.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a copy is used by default.
pub const FRESH: Duration = Duration::from_secs(1);
/// Beyond this many copies a cache starts over.
const MAX_KEPT: usize = 10_000;

/// Copies of values by key, each used for at most `fresh`.
#[derive(Debug)]
pub struct Fresh<K, V> {
    fresh: Duration,
    kept: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Default for Fresh<K, V> {
    fn default() -> Self {
        Self::new(FRESH)
    }
}

impl<K: Eq + Hash, V: Clone> Fresh<K, V> {
    pub fn new(fresh: Duration) -> Self {
        Self {
            fresh,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// The kept copy, if it is still fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        match self.lock().get(key) {
            Some((at, v)) if at.elapsed() < self.fresh => Some(v.clone()),
            _ => None,
        }
    }

    /// Keeps `value` for `key` from now.
    pub fn put(&self, key: K, value: V) {
        let mut kept = self.lock();
        if kept.len() >= MAX_KEPT && !kept.contains_key(&key) {
            kept.clear();
        }
        kept.insert(key, (Instant::now(), value));
    }

    /// The kept copy, or what `load` reads (then kept). A failed read is not kept.
    pub async fn get_or_load<E, Fut>(&self, key: K, load: impl FnOnce() -> Fut) -> Result<V, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let v = load().await?;
        self.put(key, v.clone());
        Ok(v)
    }

    /// Changes the kept copy of `key` in place, fresh or not, keeping its age: what
    /// this node learned since the copy was read.
    pub fn update(&self, key: &K, change: impl FnOnce(&mut V)) {
        if let Some((_, v)) = self.lock().get_mut(key) {
            change(v);
        }
    }

    /// Drops the copy of `key` (it was changed here).
    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Drops every copy.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_copy_is_used_while_fresh_and_read_again_after() {
        let cache: Fresh<u32, String> = Fresh::new(Duration::from_millis(50));
        let mut reads = 0;
        let v = cache
            .get_or_load(1, || {
                reads += 1;
                async { Ok::<_, ()>("one".to_owned()) }
            })
            .await;
        assert_eq!(v, Ok("one".to_owned()));
        assert_eq!(cache.get(&1).as_deref(), Some("one"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&1), None, "a stale copy is not used");
        let v = cache
            .get_or_load(1, || {
                reads += 1;
                async { Ok::<_, ()>("uno".to_owned()) }
            })
            .await;
        assert_eq!(v, Ok("uno".to_owned()));
        assert_eq!(reads, 2);
    }

    #[tokio::test]
    async fn failed_reads_are_not_kept_and_forget_drops_a_copy() {
        let cache: Fresh<u32, u32> = Fresh::default();
        let failed = cache
            .get_or_load(7, || async { Err::<u32, _>("down") })
            .await;
        assert_eq!(failed, Err("down"));
        assert_eq!(cache.get(&7), None);
        cache.put(7, 70);
        cache.put(8, 80);
        cache.forget(&7);
        assert_eq!(cache.get(&7), None);
        assert_eq!(cache.get(&8), Some(80));
        cache.clear();
        assert_eq!(cache.get(&8), None);
    }

    #[test]
    fn update_changes_a_kept_copy_and_nothing_else() {
        let cache: Fresh<u32, Vec<u32>> = Fresh::default();
        cache.put(1, vec![1, 2]);
        cache.update(&1, |v| v.retain(|x| *x != 1));
        cache.update(&2, |v| v.push(9));
        assert_eq!(cache.get(&1), Some(vec![2]));
        assert_eq!(cache.get(&2), None, "update does not make a copy");
    }
}
