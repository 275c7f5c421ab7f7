//! Turns on this node: one async lock per key (a user on a channel, a tenant's queue
//! figures, a skill group's queue), so that work on the same key runs one at a time
//! while different keys go side by side. Locks nobody holds are dropped once many
//! keys were seen. Only orders this node's work: what must hold across nodes is
//! enforced in the database.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Beyond this many keys, the locks nobody holds are dropped.
const MAX_KEPT: usize = 10_000;

/// One async lock per key.
#[derive(Debug)]
pub struct Turns<K> {
    locks: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for Turns<K> {
    fn default() -> Self {
        Self {
            locks: Mutex::default(),
        }
    }
}

impl<K: Eq + Hash> Turns<K> {
    /// The lock of `key`: hold its guard for the whole turn.
    pub fn of(&self, key: K) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if locks.len() > MAX_KEPT {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(key).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_key_waits_and_another_key_does_not() {
        let turns = Turns::<u32>::default();
        let first = turns.of(1);
        let _held = first.lock().await;
        assert!(turns.of(1).try_lock().is_err(), "key 1 is taken");
        assert!(turns.of(2).try_lock().is_ok(), "key 2 is free");
    }

    #[test]
    fn locks_nobody_holds_are_dropped_when_many_keys_were_seen() {
        let turns = Turns::<usize>::default();
        let held = turns.of(0);
        for k in 1..=MAX_KEPT + 1 {
            drop(turns.of(k));
        }
        let kept = turns.locks.lock().unwrap().len();
        assert!(kept <= 2, "{kept} kept");
        assert!(Arc::ptr_eq(&held, &turns.of(0)), "a held lock is kept");
    }
}
