//! Who may run a module instance now: the instance pool shared fairly.
//!
//! The pool has `max_instances` slots for the whole server. Left to first come, first
//! served, one tenant's busy (or stalling) module takes them all and every other
//! tenant's steps, built-ins included, fail with `capacity`. So each call claims a
//! slot under three caps: the tenant's share, the share of one module of that tenant,
//! and, for modules tenants uploaded, all slots but a reserve kept for the built-in
//! modules that every flow runs. A call that finds its share taken waits a moment for
//! a slot to free before it fails with `capacity`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

/// How the slots are shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotPolicy {
    pub total: u32,
    /// Most slots one tenant's calls may hold.
    pub per_tenant: u32,
    /// Most slots one module may hold for one tenant.
    pub per_module: u32,
    /// Slots that only built-in modules may take.
    pub builtin_reserve: u32,
    /// How long a call waits for a slot before it fails with `capacity`.
    pub wait: Duration,
}

impl SlotPolicy {
    /// Shares `total` slots: `per_tenant` and `per_module` are capped at the total,
    /// and an eighth of the slots (at least one) is kept for the built-in modules.
    pub fn new(total: u32, per_tenant: u32, per_module: u32, wait: Duration) -> Self {
        let total = total.max(1);
        Self {
            total,
            per_tenant: per_tenant.clamp(1, total),
            per_module: per_module.clamp(1, total),
            builtin_reserve: (total / 8).max(1).min(total - 1),
            wait,
        }
    }
}

/// Who a call runs for.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The tenant; empty for the server's own calls (loading built-ins).
    pub tenant: &'a str,
    /// The module, by its SHA-256.
    pub module: &'a str,
    pub builtin: bool,
}

#[derive(Debug, Default)]
struct Held {
    all: u32,
    uploaded: u32,
    by_tenant: HashMap<String, u32>,
    by_module: HashMap<(String, String), u32>,
}

/// The instance slots of one runtime.
#[derive(Debug)]
pub struct Slots {
    policy: SlotPolicy,
    held: Mutex<Held>,
    freed: Notify,
}

/// A slot held; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    tenant: String,
    module: String,
    builtin: bool,
}

impl Slots {
    pub fn new(policy: SlotPolicy) -> Arc<Self> {
        Arc::new(Self {
            policy,
            held: Mutex::default(),
            freed: Notify::new(),
        })
    }

    pub fn policy(&self) -> &SlotPolicy {
        &self.policy
    }

    /// Takes a slot for `claim`, waiting at most the policy's wait for one to free.
    pub async fn acquire(self: &Arc<Self>, claim: Claim<'_>) -> Option<Slot> {
        let until = tokio::time::Instant::now() + self.policy.wait;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before looking, so a slot freed in between is not missed.
            freed.as_mut().enable();
            if self.try_take(claim) {
                return Some(Slot {
                    slots: self.clone(),
                    tenant: claim.tenant.to_owned(),
                    module: claim.module.to_owned(),
                    builtin: claim.builtin,
                });
            }
            if tokio::time::timeout_at(until, freed).await.is_err() {
                return None;
            }
        }
    }

    fn try_take(&self, claim: Claim<'_>) -> bool {
        let p = &self.policy;
        let mut held = self.lock();
        if held.all >= p.total || (!claim.builtin && held.uploaded >= p.total - p.builtin_reserve) {
            return false;
        }
        if !claim.tenant.is_empty() {
            let tenant = held.by_tenant.get(claim.tenant).copied().unwrap_or(0);
            let key = (claim.tenant.to_owned(), claim.module.to_owned());
            let module = held.by_module.get(&key).copied().unwrap_or(0);
            if tenant >= p.per_tenant || module >= p.per_module {
                return false;
            }
            *held.by_tenant.entry(claim.tenant.to_owned()).or_default() += 1;
            *held.by_module.entry(key).or_default() += 1;
        }
        held.all += 1;
        if !claim.builtin {
            held.uploaded += 1;
        }
        true
    }

    fn give_back(&self, slot: &Slot) {
        let mut held = self.lock();
        held.all = held.all.saturating_sub(1);
        if !slot.builtin {
            held.uploaded = held.uploaded.saturating_sub(1);
        }
        if !slot.tenant.is_empty() {
            decrement(&mut held.by_tenant, slot.tenant.clone());
            decrement(
                &mut held.by_module,
                (slot.tenant.clone(), slot.module.clone()),
            );
        }
        drop(held);
        self.freed.notify_waiters();
    }

    /// Slots held now.
    pub fn held(&self) -> u32 {
        self.lock().all
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            map.remove(&key);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.clone().give_back(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim<'a>(tenant: &'a str, module: &'a str, builtin: bool) -> Claim<'a> {
        Claim {
            tenant,
            module,
            builtin,
        }
    }

    #[tokio::test]
    async fn one_tenant_cannot_take_every_slot_and_built_ins_keep_a_reserve() {
        let slots = Slots::new(SlotPolicy::new(8, 4, 2, Duration::from_millis(20)));
        let mut held = Vec::new();
        // One module of one tenant: its own share only.
        for _ in 0..2 {
            held.push(slots.acquire(claim("a", "m", false)).await.unwrap());
        }
        assert!(slots.acquire(claim("a", "m", false)).await.is_none());
        // The tenant's other modules, up to the tenant's share.
        for _ in 0..2 {
            held.push(slots.acquire(claim("a", "n", false)).await.unwrap());
        }
        assert!(slots.acquire(claim("a", "o", false)).await.is_none());
        // Other tenants' uploads fill what is left but the built-ins' reserve.
        for t in ["b", "c", "d"] {
            held.push(slots.acquire(claim(t, "m", false)).await.unwrap());
        }
        assert!(slots.acquire(claim("e", "m", false)).await.is_none());
        let builtin = slots.acquire(claim("e", "send", true)).await.unwrap();
        assert_eq!(slots.held(), 8);
        assert!(slots.acquire(claim("f", "send", true)).await.is_none());
        drop(builtin);
        assert!(slots.acquire(claim("f", "send", true)).await.is_some());
    }

    #[tokio::test]
    async fn a_waiting_call_gets_the_slot_that_frees() {
        let slots = Slots::new(SlotPolicy::new(2, 1, 1, Duration::from_secs(5)));
        let first = slots.acquire(claim("a", "m", false)).await.unwrap();
        let waiting = {
            let slots = slots.clone();
            tokio::spawn(async move { slots.acquire(claim("a", "m", false)).await.is_some() })
        };
        tokio::task::yield_now().await;
        drop(first);
        assert!(waiting.await.unwrap());
        assert_eq!(slots.held(), 0);
    }
}
