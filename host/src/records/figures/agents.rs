//! Agent figures: what one leg adds to its agent's report (the sums stored in
//! `agent_stats`) and the figures made from them. Session figures are in
//! `sessions.rs`.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{added, average_secs, by_score, counted, flag, rating, share, since_accepted};
use crate::records::Stored;

/// A first response this fast counts as fast (TCCC: under 30 s).
pub const FAST_FIRST_REPLY_MS: i64 = 30_000;

pub const AGENT_COLUMNS: [&str; 15] = [
    "served",
    "messages",
    "first_replies",
    "first_reply_ms",
    "fast_first_replies",
    "responses",
    "response_ms",
    "handled",
    "handle_ms",
    "rated",
    "score_1",
    "score_2",
    "score_3",
    "score_4",
    "score_5",
];

/// What legs add up to in an agent report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentSums {
    pub served: i64,
    pub messages: i64,
    pub first_replies: i64,
    pub first_reply_ms: i64,
    pub fast_first_replies: i64,
    pub responses: i64,
    pub response_ms: i64,
    pub handled: i64,
    pub handle_ms: i64,
    pub rated: i64,
    pub scores: [i64; 5],
}

impl AgentSums {
    /// What one leg adds to its agent's figures: nothing unless an agent took it.
    pub fn of(r: &Stored) -> Option<(uuid::Uuid, Self)> {
        let agent = r.agent_id?;
        let accepted = r.accepted_ms?;
        let mut s = AgentSums {
            served: 1,
            messages: i64::from(r.agent_messages.max(0)),
            responses: i64::from(r.responses.max(0)),
            response_ms: r.response_ms.max(0),
            ..AgentSums::default()
        };
        let (first_reply, handling) = since_accepted(r, accepted);
        (s.first_replies, s.first_reply_ms) = counted(first_reply);
        s.fast_first_replies = first_reply.map_or(0, |ms| flag(ms <= FAST_FIRST_REPLY_MS));
        (s.handled, s.handle_ms) = counted(handling);
        (s.rated, s.scores) = rating(r);
        Some((agent, s))
    }

    pub fn add(&mut self, o: &Self) {
        *self = Self::from_values(&added(self.values(), &o.values()));
    }

    /// The sums in the order of [`AGENT_COLUMNS`].
    pub fn values(&self) -> Vec<i64> {
        let mut v = vec![
            self.served,
            self.messages,
            self.first_replies,
            self.first_reply_ms,
            self.fast_first_replies,
            self.responses,
            self.response_ms,
            self.handled,
            self.handle_ms,
            self.rated,
        ];
        v.extend(self.scores);
        v
    }

    pub fn from_values(v: &[i64]) -> Self {
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        AgentSums {
            served: at(0),
            messages: at(1),
            first_replies: at(2),
            first_reply_ms: at(3),
            fast_first_replies: at(4),
            responses: at(5),
            response_ms: at(6),
            handled: at(7),
            handle_ms: at(8),
            rated: at(9),
            scores: [at(10), at(11), at(12), at(13), at(14)],
        }
    }
}

/// An agent's figures over a report's legs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AgentFigures {
    /// Legs the agent took.
    pub sessions_served: i64,
    /// Messages the agent wrote in them.
    pub messages_sent: i64,
    pub average_first_response_secs: Option<f64>,
    /// First responses within 30 s of acceptance ÷ legs taken.
    pub first_responses_within_30s_share: Option<f64>,
    pub average_response_secs: Option<f64>,
    pub average_handling_secs: Option<f64>,
    pub ratings: i64,
    #[schema(value_type = Object)]
    pub ratings_by_score: BTreeMap<String, i64>,
    /// The mean score, rounded to two decimals.
    pub average_score: Option<f64>,
}

impl From<&AgentSums> for AgentFigures {
    fn from(s: &AgentSums) -> Self {
        let total: i64 = s
            .scores
            .iter()
            .enumerate()
            .map(|(i, n)| (i as i64 + 1) * n)
            .sum();
        AgentFigures {
            sessions_served: s.served,
            messages_sent: s.messages,
            average_first_response_secs: average_secs(s.first_reply_ms, s.first_replies),
            first_responses_within_30s_share: share(s.fast_first_replies, s.served),
            average_response_secs: average_secs(s.response_ms, s.responses),
            average_handling_secs: average_secs(s.handle_ms, s.handled),
            ratings: s.rated,
            ratings_by_score: by_score(&s.scores),
            average_score: (s.rated > 0)
                .then(|| (total as f64 / s.rated as f64 * 100.0).round() / 100.0),
        }
    }
}
