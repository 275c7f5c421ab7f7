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

/// A measure as a count and a sum: `(1, ms)` when it was taken, `(0, 0)` when not.
fn counted(ms: Option<i64>) -> (i64, i64) {
    ms.map_or((0, 0), |ms| (1, ms))
}

/// From a leg's acceptance at `accepted_ms`: how long until the agent's first reply
/// and until the end, each when it came.
fn since_accepted(r: &Stored, accepted_ms: i64) -> (Option<i64>, Option<i64>) {
    (
        r.first_reply_ms.map(|reply| (reply - accepted_ms).max(0)),
        r.ended_ms.map(|end| (end - accepted_ms).max(0)),
    )
}

/// A leg's rating as `rated` and its count per score, when it has one from 1 to 5.
fn rating(r: &Stored) -> (i64, [i64; 5]) {
    let mut scores = [0; 5];
    match r.survey_score.filter(|s| (1..=5).contains(s)) {
        Some(score) => {
            scores[(score - 1) as usize] = 1;
            (1, scores)
        }
        None => (0, scores),
    }
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
