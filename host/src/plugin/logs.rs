//! How much a module may write to kefu's log.
//!
//! A module's `log` lines go to the server's log, which every tenant shares. A cap
//! per step is not enough: a turn runs up to `sessions.max_steps_per_turn` steps and a
//! busy module runs thousands of turns a minute. So a line is written only while the
//! step's, the turn's and the module's per-minute allowances all have room; what is
//! dropped is counted in the module's metrics instead.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// What one step may log.
pub const PER_STEP: Allowance = Allowance {
    lines: 50,
    bytes: 16 * 1024,
};
/// What one turn of a session may log, over all its steps.
pub const PER_TURN: Allowance = Allowance {
    lines: 200,
    bytes: 64 * 1024,
};
/// What one module may log in a minute, over all sessions.
pub const PER_MINUTE: Allowance = Allowance {
    lines: 1_200,
    bytes: 1024 * 1024,
};
/// Longest log line kept.
pub const LINE_BYTES: usize = 2048;

/// A number of lines and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub lines: u64,
    pub bytes: u64,
}

/// What is left of an allowance, shared by the calls that draw on it.
#[derive(Debug)]
pub struct LogBudget {
    lines: AtomicU64,
    bytes: AtomicU64,
}

impl LogBudget {
    pub fn new(allowance: Allowance) -> Self {
        Self {
            lines: AtomicU64::new(allowance.lines),
            bytes: AtomicU64::new(allowance.bytes),
        }
    }

    /// Takes one line of `bytes`, when there is room for both.
    pub fn take(&self, bytes: u64) -> bool {
        if self
            .bytes
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(bytes))
            .is_err()
        {
            return false;
        }
        if self
            .lines
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
            .is_err()
        {
            self.bytes.fetch_add(bytes, Relaxed);
            return false;
        }
        true
    }
}

/// A module's allowance per minute.
#[derive(Debug)]
pub struct LogRate {
    window: Mutex<(Instant, Allowance)>,
    per_minute: Allowance,
}

impl Default for LogRate {
    fn default() -> Self {
        Self::new(PER_MINUTE)
    }
}

impl LogRate {
    pub fn new(per_minute: Allowance) -> Self {
        Self {
            window: Mutex::new((Instant::now(), Allowance { lines: 0, bytes: 0 })),
            per_minute,
        }
    }

    /// Takes one line of `bytes` from this minute's allowance.
    pub fn take(&self, bytes: u64) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if window.0.elapsed() >= Duration::from_secs(60) {
            *window = (Instant::now(), Allowance { lines: 0, bytes: 0 });
        }
        let used = &mut window.1;
        if used.lines >= self.per_minute.lines || used.bytes + bytes > self.per_minute.bytes {
            return false;
        }
        used.lines += 1;
        used.bytes += bytes;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_run_out_by_lines_or_bytes() {
        let budget = LogBudget::new(Allowance {
            lines: 3,
            bytes: 10,
        });
        assert!(budget.take(4));
        assert!(budget.take(4));
        assert!(!budget.take(4), "over the bytes");
        assert!(budget.take(2));
        assert!(!budget.take(0), "over the lines");

        let rate = LogRate::new(Allowance {
            lines: 2,
            bytes: 100,
        });
        assert!(rate.take(10));
        assert!(rate.take(10));
        assert!(!rate.take(1));
    }
}
