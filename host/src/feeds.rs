//! Live feeds on this node, one per key: whoever subscribes to a key gets what is
//! published for that key from then on, and nothing published for any other. Each
//! key has its own small buffer, so a burst for one subscriber (or one that stopped
//! reading) never makes another lag. A key's channel goes when its last subscriber
//! does.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use tokio::sync::broadcast;

#[derive(Debug)]
pub struct Feeds<K, V> {
    capacity: usize,
    keys: Mutex<HashMap<K, broadcast::Sender<V>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Feeds<K, V> {
    /// Feeds that buffer `capacity` items per key for a subscriber that has not read
    /// them yet; one further behind is told it lagged.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, broadcast::Sender<V>>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a feed of what is published for `key`.
    pub fn subscribe(&self, key: K) -> broadcast::Receiver<V> {
        self.lock()
            .entry(key)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
    }

    /// Hands `value` to the subscribers of `key`, if any.
    pub fn publish(&self, key: &K, value: V) {
        let mut keys = self.lock();
        if let Some(tx) = keys.get(key) {
            if tx.receiver_count() == 0 {
                keys.remove(key);
            } else {
                let _ = tx.send(value);
            }
        }
    }

    /// Whether `key` has a subscriber.
    pub fn has(&self, key: &K) -> bool {
        self.lock()
            .get(key)
            .is_some_and(|tx| tx.receiver_count() > 0)
    }

    /// The keys that have a subscriber.
    pub fn keys(&self) -> Vec<K> {
        self.lock()
            .iter()
            .filter(|(_, tx)| tx.receiver_count() > 0)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_key_gets_only_its_own_and_a_flood_lags_only_its_key() {
        let feeds: Feeds<&str, u32> = Feeds::new(4);
        let mut a = feeds.subscribe("a");
        let mut b = feeds.subscribe("b");
        for n in 0..100 {
            feeds.publish(&"a", n);
        }
        feeds.publish(&"b", 7);
        assert!(matches!(
            a.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
        assert_eq!(b.recv().await.ok(), Some(7));
        assert!(feeds.has(&"b") && !feeds.has(&"c"));
        drop(b);
        feeds.publish(&"b", 8);
        assert_eq!(feeds.keys(), vec!["a"]);
    }
}
