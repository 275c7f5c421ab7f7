//! Per-module figures: steps, failures by kind, latency percentiles and fuel used.
//! Lock-free counters and a fixed log-scale latency histogram, so recording a step
//! costs a few atomic adds.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use super::FailureKind;

/// Histogram buckets: bucket `i` holds latencies up to `BASE_NS * GROWTH^i`.
const BUCKETS: usize = 96;
const BASE_NS: f64 = 1_000.0;
const GROWTH: f64 = 1.25;

#[derive(Debug)]
pub struct ModuleMetrics {
    steps: AtomicU64,
    failures: [AtomicU64; FailureKind::ALL.len()],
    fuel: AtomicU64,
    latency: [AtomicU64; BUCKETS],
    logs_dropped: AtomicU64,
}

impl Default for ModuleMetrics {
    fn default() -> Self {
        Self {
            steps: AtomicU64::new(0),
            failures: std::array::from_fn(|_| AtomicU64::new(0)),
            fuel: AtomicU64::new(0),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
            logs_dropped: AtomicU64::new(0),
        }
    }
}

/// A snapshot of a module's figures since the server started.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricsSnapshot {
    pub steps: u64,
    /// Failed steps by kind (only kinds that occurred).
    #[schema(value_type = Object)]
    pub failures: std::collections::BTreeMap<&'static str, u64>,
    /// Median step latency, microseconds (upper bound of its histogram bucket).
    pub latency_p50_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    pub fuel_used: u64,
    /// Log lines the module wrote beyond its allowances, not written to the log.
    pub logs_dropped: u64,
}

impl ModuleMetrics {
    pub fn record(&self, latency: Duration, fuel: u64, failure: Option<FailureKind>) {
        self.steps.fetch_add(1, Relaxed);
        self.fuel.fetch_add(fuel, Relaxed);
        if let Some(kind) = failure {
            self.failures[kind as usize].fetch_add(1, Relaxed);
        }
        self.latency[bucket(latency)].fetch_add(1, Relaxed);
    }

    pub fn logs_dropped(&self, lines: u64) {
        if lines > 0 {
            self.logs_dropped.fetch_add(lines, Relaxed);
        }
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let counts: Vec<u64> = self.latency.iter().map(|c| c.load(Relaxed)).collect();
        MetricsSnapshot {
            steps: self.steps.load(Relaxed),
            failures: FailureKind::ALL
                .iter()
                .filter_map(|k| {
                    let n = self.failures[*k as usize].load(Relaxed);
                    (n > 0).then_some((k.as_str(), n))
                })
                .collect(),
            latency_p50_us: percentile(&counts, 0.50),
            latency_p99_us: percentile(&counts, 0.99),
            fuel_used: self.fuel.load(Relaxed),
            logs_dropped: self.logs_dropped.load(Relaxed),
        }
    }
}

fn bucket(latency: Duration) -> usize {
    let ns = latency.as_nanos() as f64;
    if ns <= BASE_NS {
        return 0;
    }
    let i = ((ns / BASE_NS).ln() / GROWTH.ln()).ceil() as usize;
    i.min(BUCKETS - 1)
}

fn percentile(counts: &[u64], p: f64) -> Option<u64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * p).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some((BASE_NS * GROWTH.powi(i as i32) / 1_000.0).round() as u64);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_distribution() {
        let m = ModuleMetrics::default();
        for _ in 0..98 {
            m.record(Duration::from_micros(100), 10, None);
        }
        m.record(Duration::from_millis(50), 10, Some(FailureKind::Deadline));
        m.record(Duration::from_millis(50), 10, Some(FailureKind::Deadline));
        let s = m.snapshot();
        assert_eq!(s.steps, 100);
        assert_eq!(s.fuel_used, 1000);
        assert_eq!(s.failures.get("deadline"), Some(&2));
        let p50 = s.latency_p50_us.unwrap();
        assert!((100..=125).contains(&p50), "{p50}");
        assert!(s.latency_p99_us.unwrap() >= 50_000);
    }
}
