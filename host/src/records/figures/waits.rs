//! The queue-wait distribution: the bounds its counts are kept under and the 90th
//! percentile read from those counts. What a leg waited is measured in `sessions.rs`.

/// Seconds bounding the queue-wait counts: a wait counts under the first bound it does
/// not exceed, or over the last. Matches `wait_le_N` of `session_stats`.
pub const WAIT_BOUNDS: [u32; 20] = [
    1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600, 7200, 86400,
];

/// The index of the bound a wait counts under, or `None` when it exceeds them all.
pub(super) fn wait_bin(ms: i64) -> Option<usize> {
    WAIT_BOUNDS.iter().position(|b| ms <= i64::from(*b) * 1000)
}

/// The smallest bound that at least 90% of `waits` do not exceed (nearest rank), from
/// the count per bound; `None` without waits, the last bound when the rank falls over.
pub(super) fn p90_bound(waits: i64, counts: &[i64; WAIT_BOUNDS.len()]) -> Option<u32> {
    if waits <= 0 {
        return None;
    }
    // Nearest rank: ceil(0.9 × n), in integers.
    let rank = (waits * 9 + 9) / 10;
    let mut seen = 0;
    for (i, n) in counts.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(WAIT_BOUNDS[i]);
        }
    }
    WAIT_BOUNDS.last().copied()
}
