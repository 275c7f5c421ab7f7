//! Bounds on what one client address may do to the web chat: how many sockets it
//! holds open and how many it opens per minute (each may start a session and run its
//! flow). Counted on this node, in memory, for at most [`MAX_ADDRESSES`] addresses.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Addresses tracked at once; idle ones are forgotten first.
const MAX_ADDRESSES: usize = 100_000;
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Entry {
    open: u32,
    recent: VecDeque<Instant>,
}

impl Entry {
    fn idle(&self, now: Instant) -> bool {
        self.open == 0
            && self
                .recent
                .back()
                .is_none_or(|t| now.duration_since(*t) >= WINDOW)
    }
}

#[derive(Debug)]
pub struct AddressGuard {
    max_open: u32,
    per_minute: u32,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Why a socket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyOpen,
    TooManyNew,
}

/// An admitted socket; dropping it gives its place back.
#[derive(Debug)]
pub struct Admitted {
    guard: Arc<AddressGuard>,
    address: String,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut entries = self.guard.lock();
        if let Some(e) = entries.get_mut(&self.address) {
            e.open = e.open.saturating_sub(1);
        }
    }
}

impl AddressGuard {
    pub fn new(max_open: u32, per_minute: u32) -> Self {
        Self {
            max_open,
            per_minute,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits one more socket from `address`, or says why not.
    pub fn admit(self: &Arc<Self>, address: &str) -> Result<Admitted, Refusal> {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_ADDRESSES && !entries.contains_key(address) {
            entries.retain(|_, e| !e.idle(now));
            if entries.len() >= MAX_ADDRESSES {
                return Err(Refusal::TooManyNew);
            }
        }
        let e = entries.entry(address.to_owned()).or_default();
        while e
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            e.recent.pop_front();
        }
        if e.open >= self.max_open {
            return Err(Refusal::TooManyOpen);
        }
        if e.recent.len() >= self.per_minute as usize {
            return Err(Refusal::TooManyNew);
        }
        e.open += 1;
        e.recent.push_back(now);
        Ok(Admitted {
            guard: self.clone(),
            address: address.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_share_and_others_are_not_affected() {
        let guard = Arc::new(AddressGuard::new(2, 3));
        let a1 = guard.admit("10.0.0.1");
        let a2 = guard.admit("10.0.0.1");
        assert!(a1.is_ok() && a2.is_ok());
        assert_eq!(guard.admit("10.0.0.1").err(), Some(Refusal::TooManyOpen));
        assert!(guard.admit("10.0.0.2").is_ok());
        drop(a1);
        // A place is free again, but three were opened this minute.
        let a3 = guard.admit("10.0.0.1");
        assert!(a3.is_ok());
        drop(a3);
        assert_eq!(guard.admit("10.0.0.1").err(), Some(Refusal::TooManyNew));
    }
}
