//! The figures of records: what one leg adds to the statistics (its sums), and the
//! averages, rates and percentiles made from sums. The README's "Statistics" section
//! defines each figure in these terms; this folder is the one place that computes them,
//! for the rollups and for the legs not yet rolled up alike.
//!
//! One file a kind of figure: `sessions` (a report's session figures), `agents` (each
//! agent's) and `waits` (the queue-wait bounds and their percentile); this file holds
//! the arithmetic they share. Nothing here reads or writes the database: the stored
//! sums are `crate::store::stats`', the reports that group them `report.rs`'.

use std::collections::BTreeMap;

mod agents;
mod sessions;
mod waits;

pub use agents::{AGENT_COLUMNS, AgentFigures, AgentSums, FAST_FIRST_REPLY_MS};
pub use sessions::{SESSION_COLUMNS, SessionFigures, SessionSums, session_columns};
pub use waits::WAIT_BOUNDS;

use super::Stored;

fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// The index in `scores` of a leg's rating, when it has one from 1 to 5.
fn score_index(r: &Stored) -> Option<usize> {
    r.survey_score
        .filter(|s| (1..=5).contains(s))
        .map(|score| (score - 1) as usize)
}

/// `mine` plus `other`, column by column.
fn added(mut mine: Vec<i64>, other: &[i64]) -> Vec<i64> {
    for (a, b) in mine.iter_mut().zip(other) {
        *a += b;
    }
    mine
}

/// `sum / count` milliseconds as seconds, rounded to the millisecond.
fn average_secs(sum_ms: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| (sum_ms as f64 / count as f64).round() / 1000.0)
}

/// `part / whole`, rounded to four decimals.
fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

fn by_score(scores: &[i64; 5]) -> BTreeMap<String, i64> {
    scores
        .iter()
        .enumerate()
        .map(|(i, n)| ((i + 1).to_string(), *n))
        .collect()
}
