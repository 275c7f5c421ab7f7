//! Slows down password guessing. Failed logins are counted per account (tenant +
//! e-mail) and per client address; past a threshold each further attempt must wait an
//! exponentially growing delay (capped), answered with 429 and `Retry-After`.
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
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

/// Most keys tracked at once; idle ones are evicted first when full.
const MAX_KEYS: usize = 100_000;

#[derive(Debug)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn account_key(tenant: &str, email: &str) -> String {
        format!("a:{tenant}:{}", email.trim().to_lowercase())
    }

    fn address_key(address: &str) -> String {
        format!("ip:{address}")
    }

    /// How long the caller must wait before trying again, if at all.
    pub fn check(&self, tenant: &str, email: &str, address: Option<&str>) -> Option<Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys = vec![Self::account_key(tenant, email)];
        keys.extend(address.map(Self::address_key));
        keys.iter()
            .filter_map(|k| entries.get(k).and_then(|e| e.blocked_until))
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// Records a failed attempt.
    pub fn failure(&self, tenant: &str, email: &str, address: Option<&str>) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_KEYS {
            let forget = self.policy.forget_after;
            entries.retain(|_, e| now.duration_since(e.last_failure) < forget);
        }
        let mut bump = |key: String, threshold: u32| {
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                last_failure: now,
                blocked_until: None,
            });
            if now.duration_since(entry.last_failure) >= self.policy.forget_after {
                *entry = Entry {
                    failures: 0,
                    last_failure: now,
                    blocked_until: None,
                };
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
        bump(
            Self::account_key(tenant, email),
            self.policy.account_failures,
        );
        if let Some(address) = address {
            bump(Self::address_key(address), self.policy.address_failures);
        }
    }

    /// Clears an account's record after a successful login. The address record stays:
    /// one good password must not reset a guesser's counter for other accounts.
    pub fn success(&self, tenant: &str, email: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&Self::account_key(tenant, email));
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

    #[test]
    fn blocks_an_account_after_its_threshold_with_growing_delays() {
        let t = LoginThrottle::new(policy());
        for _ in 0..2 {
            t.failure("demo", "a@x.io", None);
            assert!(t.check("demo", "a@x.io", None).is_none());
        }
        t.failure("demo", "A@X.io", None);
        let first = t.check("demo", "a@x.io", None).unwrap();
        assert!(first > Duration::from_secs(25) && first <= Duration::from_secs(30));
        t.failure("demo", "a@x.io", None);
        assert!(t.check("demo", "a@x.io", None).unwrap() > Duration::from_secs(55));
        // Other accounts are unaffected; success clears the account.
        assert!(t.check("demo", "b@x.io", None).is_none());
        t.success("demo", "a@x.io");
        assert!(t.check("demo", "a@x.io", None).is_none());
    }

    #[test]
    fn blocks_an_address_guessing_many_accounts() {
        let t = LoginThrottle::new(policy());
        for i in 0..5 {
            t.failure("demo", &format!("user{i}@x.io"), Some("10.0.0.9"));
        }
        assert!(t.check("demo", "fresh@x.io", Some("10.0.0.9")).is_some());
        assert!(t.check("demo", "fresh@x.io", Some("10.0.0.10")).is_none());
    }

    #[test]
    fn delay_is_capped() {
        let t = LoginThrottle::new(policy());
        for _ in 0..40 {
            t.failure("demo", "a@x.io", None);
        }
        assert!(t.check("demo", "a@x.io", None).unwrap() <= Duration::from_secs(15 * 60));
    }
}
