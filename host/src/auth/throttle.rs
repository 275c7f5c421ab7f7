//! Slows down password guessing. Failed logins are counted per account (tenant +
//! e-mail, both normalised as the login reads them) and per client address; past a
//! threshold each further attempt must wait an exponentially growing delay (capped),
//! answered with 429 and `Retry-After`.
//!
//! An attempt is counted from the moment it starts, not when its password check ends:
//! [`LoginThrottle::begin`] admits it only while the attempts in progress plus the
//! failures so far stay under the threshold, so guesses sent in parallel get no more
//! tries than guesses sent one after the other.
//!
//! The counters live in memory on each node: a guesser spreading attempts across
//! nodes gains at most a factor of the node count, which the exponential back-off
//! quickly absorbs. Memory is bounded by evicting idle entries.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tuning of the throttle.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures per account before delays start.
    pub account_failures: u32,
    /// Failures per client address before delays start (higher: offices share NATs).
    pub address_failures: u32,
    /// First delay once over the threshold; doubles with each further failure.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A key with no failure for this long is forgotten.
    pub forget_after: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_failures: 5,
            address_failures: 50,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// Attempts admitted and not yet finished.
    pending: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            pending: 0,
            last_failure: now,
            blocked_until: None,
        }
    }
}

/// Most keys tracked at once; idle ones are evicted first when full.
const MAX_KEYS: usize = 100_000;

#[derive(Debug)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

/// An admitted login attempt. Report how it ended with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropped without either (an internal error), it counts
/// as neither.
#[derive(Debug)]
pub struct Attempt<'t> {
    throttle: &'t LoginThrottle,
    account: String,
    address: Option<String>,
    done: bool,
}

impl Attempt<'_> {
    pub fn failed(mut self) {
        self.done = true;
        self.throttle
            .finish(&self.account, self.address.as_deref(), true);
    }

    pub fn succeeded(mut self) {
        self.done = true;
        self.throttle
            .finish(&self.account, self.address.as_deref(), false);
        self.throttle.lock().remove(&self.account);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.throttle
                .finish(&self.account, self.address.as_deref(), false);
        }
    }
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key of an account: the tenant and e-mail as the login looks them up, so
    /// that `" Demo"` and `"demo"` are one account.
    fn account_key(tenant: &str, email: &str) -> String {
        format!(
            "a:{}:{}",
            tenant.trim().to_lowercase(),
            email.trim().to_lowercase()
        )
    }

    fn address_key(address: &str) -> String {
        format!("ip:{address}")
    }

    /// Admits an attempt, or answers how long the caller must wait.
    pub fn begin(
        &self,
        tenant: &str,
        email: &str,
        address: Option<&str>,
    ) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_KEYS {
            let forget = self.policy.forget_after;
            entries.retain(|_, e| e.pending > 0 || now.duration_since(e.last_failure) < forget);
        }
        let account = Self::account_key(tenant, email);
        let mut keys = vec![(account.clone(), self.policy.account_failures)];
        keys.extend(address.map(|a| (Self::address_key(a), self.policy.address_failures)));
        let mut wait = Duration::ZERO;
        for (key, threshold) in &keys {
            let Some(e) = entries.get_mut(key) else {
                continue;
            };
            if now.duration_since(e.last_failure) >= self.policy.forget_after && e.pending == 0 {
                *e = Entry::new(now);
            }
            if let Some(until) = e.blocked_until.filter(|u| *u > now) {
                wait = wait.max(until - now);
            } else if e.pending >= threshold.saturating_sub(e.failures).max(1) {
                // As many attempts are under way as may still fail before the delay:
                // this one waits for them to finish.
                wait = wait.max(Duration::from_secs(1));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for (key, _) in &keys {
            entries
                .entry(key.clone())
                .or_insert_with(|| Entry::new(now))
                .pending += 1;
        }
        Ok(Attempt {
            throttle: self,
            account,
            address: address.map(Self::address_key),
            done: false,
        })
    }

    fn finish(&self, account: &str, address: Option<&str>, failed: bool) {
        let now = Instant::now();
        let mut entries = self.lock();
        let mut settle = |key: &str, threshold: u32| {
            let Some(entry) = entries.get_mut(key) else {
                return;
            };
            entry.pending = entry.pending.saturating_sub(1);
            if !failed {
                return;
            }
            entry.failures += 1;
            entry.last_failure = now;
            if entry.failures >= threshold {
                let over = entry.failures - threshold;
                let factor = 1u32.checked_shl(over.min(16)).unwrap_or(u32::MAX);
                let delay = self
                    .policy
                    .base_delay
                    .saturating_mul(factor)
                    .min(self.policy.max_delay);
                entry.blocked_until = Some(now + delay);
            }
        };
        settle(account, self.policy.account_failures);
        if let Some(address) = address {
            settle(address, self.policy.address_failures);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            account_failures: 3,
            address_failures: 5,
            ..ThrottlePolicy::default()
        }
    }

    fn fail(t: &LoginThrottle, tenant: &str, email: &str, address: Option<&str>) {
        match t.begin(tenant, email, address) {
            Ok(a) => a.failed(),
            Err(wait) => panic!("refused for {wait:?}"),
        }
    }

    fn wait(
        t: &LoginThrottle,
        tenant: &str,
        email: &str,
        address: Option<&str>,
    ) -> Option<Duration> {
        t.begin(tenant, email, address).err()
    }

    #[test]
    fn blocks_an_account_after_its_threshold_with_growing_delays() {
        let t = LoginThrottle::new(policy());
        for _ in 0..2 {
            fail(&t, "demo", "a@x.io", None);
            assert!(wait(&t, "demo", "a@x.io", None).is_none());
        }
        fail(&t, "demo", "A@X.io", None);
        let first = wait(&t, "demo", "a@x.io", None).unwrap_or_default();
        assert!(first > Duration::from_secs(25) && first <= Duration::from_secs(30));
        // Other accounts are unaffected; a success clears the account.
        assert!(wait(&t, "demo", "b@x.io", None).is_none());
        if let Some(e) = t.lock().get_mut("a:demo:a@x.io") {
            e.blocked_until = None;
        }
        let ok = t.begin("demo", "a@x.io", None);
        assert!(ok.is_ok());
        if let Ok(a) = ok {
            a.succeeded();
        }
        assert!(t.lock().get("a:demo:a@x.io").is_none());
    }

    #[test]
    fn the_tenant_is_normalised_as_the_login_reads_it() {
        let t = LoginThrottle::new(policy());
        for tenant in ["demo", " demo", "DEMO "] {
            fail(&t, tenant, "a@x.io", None);
        }
        assert!(wait(&t, "  Demo", " a@X.io", None).is_some());
    }

    #[test]
    fn parallel_guesses_get_no_more_tries_than_sequential_ones() {
        let t = LoginThrottle::new(policy());
        let admitted: Vec<_> = (0..10)
            .filter_map(|_| t.begin("demo", "a@x.io", None).ok())
            .collect();
        assert_eq!(admitted.len(), 3, "as many as may fail before the delay");
        for a in admitted {
            a.failed();
        }
        assert!(wait(&t, "demo", "a@x.io", None).unwrap_or_default() > Duration::from_secs(25));
    }

    #[test]
    fn an_attempt_dropped_unfinished_counts_as_nothing() {
        let t = LoginThrottle::new(policy());
        for _ in 0..10 {
            drop(t.begin("demo", "a@x.io", None));
        }
        assert!(wait(&t, "demo", "a@x.io", None).is_none());
    }

    #[test]
    fn blocks_an_address_guessing_many_accounts() {
        let t = LoginThrottle::new(policy());
        for i in 0..5 {
            fail(&t, "demo", &format!("user{i}@x.io"), Some("10.0.0.9"));
        }
        assert!(wait(&t, "demo", "fresh@x.io", Some("10.0.0.9")).is_some());
        assert!(wait(&t, "demo", "fresh@x.io", Some("10.0.0.10")).is_none());
    }

    #[test]
    fn delay_is_capped() {
        let t = LoginThrottle::new(policy());
        for _ in 0..40 {
            if let Ok(a) = t.begin("demo", "a@x.io", None) {
                a.failed();
            }
            if let Some(e) = t.lock().get_mut("a:demo:a@x.io") {
                e.blocked_until = None;
            }
        }
        fail(&t, "demo", "a@x.io", None);
        assert!(
            wait(&t, "demo", "a@x.io", None).unwrap_or_default() <= Duration::from_secs(15 * 60)
        );
    }
}
