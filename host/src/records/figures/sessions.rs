//! Session figures: what one leg adds to a session report (its sums, stored per
//! bucket in `session_stats`) and the figures made from those sums. Agents' figures
//! are in `agents.rs`, the queue-wait bounds in `waits.rs`.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::waits::{WAIT_BOUNDS, p90_bound, wait_bin};
use super::{added, average_secs, by_score, counted, flag, rating, share, since_accepted};
use crate::records::Stored;
use crate::sessions::end_status;

/// The sums columns of `session_stats`, in the order of [`SessionSums::values`].
pub const SESSION_COLUMNS: [&str; 27] = [
    "incoming",
    "agent_transfers",
    "to_agent",
    "accepted",
    "ended",
    "abandoned_flow",
    "abandoned_queue",
    "user_timeouts",
    "bot_contained",
    "waits",
    "wait_ms",
    "accepts",
    "accept_ms",
    "first_replies",
    "first_reply_ms",
    "responses",
    "response_ms",
    "handled",
    "handle_ms",
    "invited",
    "rated",
    "score_1",
    "score_2",
    "score_3",
    "score_4",
    "score_5",
    "wait_over",
];

/// Every column of `session_stats` that holds a sum: the fixed ones, then the wait
/// counts per bound.
pub fn session_columns() -> Vec<String> {
    SESSION_COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .chain(WAIT_BOUNDS.iter().map(|b| format!("wait_le_{b}")))
        .collect()
}

/// What legs add up to in a session report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionSums {
    pub incoming: i64,
    pub agent_transfers: i64,
    pub to_agent: i64,
    pub accepted: i64,
    pub ended: i64,
    pub abandoned_flow: i64,
    pub abandoned_queue: i64,
    pub user_timeouts: i64,
    pub bot_contained: i64,
    pub waits: i64,
    pub wait_ms: i64,
    pub accepts: i64,
    pub accept_ms: i64,
    pub first_replies: i64,
    pub first_reply_ms: i64,
    pub responses: i64,
    pub response_ms: i64,
    pub handled: i64,
    pub handle_ms: i64,
    pub invited: i64,
    pub rated: i64,
    pub scores: [i64; 5],
    /// Waits over the last bound.
    pub wait_over: i64,
    /// Waits per bound of [`WAIT_BOUNDS`].
    pub wait_counts: [i64; WAIT_BOUNDS.len()],
}

impl SessionSums {
    /// What one leg adds (see the README for each definition).
    pub fn of(r: &Stored) -> Self {
        let accepted = r.accepted_ms.is_some();
        let ended = r.ended_ms.is_some();
        let mut s = SessionSums {
            incoming: 1,
            agent_transfers: flag(r.transferred_from.is_some()),
            to_agent: flag(r.asked_for_agent()),
            accepted: flag(accepted),
            ended: flag(ended),
            abandoned_flow: flag(r.end_status == Some(i32::from(end_status::LEFT_IN_FLOW))),
            abandoned_queue: flag(r.queued_ms.is_some() && !accepted && ended),
            user_timeouts: flag(r.end_status == Some(i32::from(end_status::USER_TIMEOUT))),
            bot_contained: flag(ended && r.bot_only()),
            responses: i64::from(r.responses.max(0)),
            response_ms: r.response_ms.max(0),
            invited: flag(r.survey_invited_ms.is_some()),
            ..SessionSums::default()
        };
        if let Some(wait) = r.queue_wait_ms() {
            s.waits = 1;
            s.wait_ms = wait;
            match wait_bin(wait) {
                Some(i) => s.wait_counts[i] = 1,
                None => s.wait_over = 1,
            }
        }
        if let Some(accepted_ms) = r.accepted_ms {
            s.accepts = 1;
            s.accept_ms = (accepted_ms - r.offered_ms.unwrap_or(accepted_ms)).max(0);
            let (first_reply, handling) = since_accepted(r, accepted_ms);
            (s.first_replies, s.first_reply_ms) = counted(first_reply);
            (s.handled, s.handle_ms) = counted(handling);
        }
        (s.rated, s.scores) = rating(r);
        s
    }

    pub fn add(&mut self, o: &Self) {
        *self = Self::from_values(&added(self.values(), &o.values()));
    }

    /// The sums in the order of [`session_columns`].
    pub fn values(&self) -> Vec<i64> {
        let mut v = vec![
            self.incoming,
            self.agent_transfers,
            self.to_agent,
            self.accepted,
            self.ended,
            self.abandoned_flow,
            self.abandoned_queue,
            self.user_timeouts,
            self.bot_contained,
            self.waits,
            self.wait_ms,
            self.accepts,
            self.accept_ms,
            self.first_replies,
            self.first_reply_ms,
            self.responses,
            self.response_ms,
            self.handled,
            self.handle_ms,
            self.invited,
            self.rated,
        ];
        v.extend(self.scores);
        v.push(self.wait_over);
        v.extend(self.wait_counts);
        v
    }

    /// Sums read in the order of [`session_columns`]; missing ones are 0.
    pub fn from_values(v: &[i64]) -> Self {
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        let mut s = SessionSums {
            incoming: at(0),
            agent_transfers: at(1),
            to_agent: at(2),
            accepted: at(3),
            ended: at(4),
            abandoned_flow: at(5),
            abandoned_queue: at(6),
            user_timeouts: at(7),
            bot_contained: at(8),
            waits: at(9),
            wait_ms: at(10),
            accepts: at(11),
            accept_ms: at(12),
            first_replies: at(13),
            first_reply_ms: at(14),
            responses: at(15),
            response_ms: at(16),
            handled: at(17),
            handle_ms: at(18),
            invited: at(19),
            rated: at(20),
            scores: [at(21), at(22), at(23), at(24), at(25)],
            wait_over: at(26),
            wait_counts: [0; WAIT_BOUNDS.len()],
        };
        for (i, c) in s.wait_counts.iter_mut().enumerate() {
            *c = at(SESSION_COLUMNS.len() + i);
        }
        s
    }

    /// The smallest bound that at least 90% of the waits do not exceed (nearest rank);
    /// `None` without waits, the last bound when the rank falls over it.
    pub fn p90_wait_secs(&self) -> Option<u32> {
        p90_bound(self.waits, &self.wait_counts)
    }
}

/// The session figures of one bucket (or of a whole report).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SessionFigures {
    /// Legs that started (TotalSessionCnt).
    pub incoming: i64,
    /// Of those, legs an agent's transfer started.
    pub agent_transfers: i64,
    /// Legs that asked for a human: entered a queue or went to an agent
    /// (TransferAgentSessionCnt).
    pub transferred_to_agent: i64,
    /// Legs an agent took (AgentAcceptCnt).
    pub accepted: i64,
    /// accepted ÷ incoming.
    pub acceptance_rate: Option<f64>,
    /// Legs that ended with 102.
    pub abandoned_in_flow: i64,
    /// Legs that entered a queue and ended without an agent taking them.
    pub abandoned_in_queue: i64,
    /// Legs that ended with 108.
    pub user_timeouts: i64,
    /// Legs whose queue wait is known (they reached an agent or left the queue).
    pub queue_waits: i64,
    pub average_queue_wait_secs: Option<f64>,
    /// The smallest bound (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600,
    /// 1200, 1800, 3600, 7200, 86400 s) that 90% of the queue waits do not exceed.
    pub p90_queue_wait_secs: Option<u32>,
    /// From the accepted offer to the agent taking it (0 for automatic assignment).
    pub average_accept_secs: Option<f64>,
    /// From acceptance to the agent's first message.
    pub average_first_response_secs: Option<f64>,
    /// From a user message (while the agent serves) to the agent's next message.
    pub average_response_secs: Option<f64>,
    /// From acceptance to the end, over accepted legs that ended.
    pub average_handling_secs: Option<f64>,
    pub satisfaction_invitations: i64,
    pub ratings: i64,
    /// Ratings per score, `"1"` to `"5"`.
    #[schema(value_type = Object)]
    pub ratings_by_score: BTreeMap<String, i64>,
    /// (4 + 5) ÷ ratings.
    pub csat: Option<f64>,
    /// Legs that ended without asking for a human.
    pub bot_contained: i64,
    /// bot_contained ÷ incoming.
    pub bot_contained_share: Option<f64>,
}

impl From<&SessionSums> for SessionFigures {
    fn from(s: &SessionSums) -> Self {
        SessionFigures {
            incoming: s.incoming,
            agent_transfers: s.agent_transfers,
            transferred_to_agent: s.to_agent,
            accepted: s.accepted,
            acceptance_rate: share(s.accepted, s.incoming),
            abandoned_in_flow: s.abandoned_flow,
            abandoned_in_queue: s.abandoned_queue,
            user_timeouts: s.user_timeouts,
            queue_waits: s.waits,
            average_queue_wait_secs: average_secs(s.wait_ms, s.waits),
            p90_queue_wait_secs: s.p90_wait_secs(),
            average_accept_secs: average_secs(s.accept_ms, s.accepts),
            average_first_response_secs: average_secs(s.first_reply_ms, s.first_replies),
            average_response_secs: average_secs(s.response_ms, s.responses),
            average_handling_secs: average_secs(s.handle_ms, s.handled),
            satisfaction_invitations: s.invited,
            ratings: s.rated,
            ratings_by_score: by_score(&s.scores),
            csat: share(s.scores[3] + s.scores[4], s.rated),
            bot_contained: s.bot_contained,
            bot_contained_share: share(s.bot_contained, s.incoming),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waited(ms: i64) -> SessionSums {
        SessionSums::of(&Stored {
            queued_ms: Some(0),
            left_queue_ms: Some(ms),
            ended_ms: Some(ms),
            ..Stored::default()
        })
    }

    #[test]
    fn the_p90_is_the_bound_at_the_nearest_rank() {
        let mut all = SessionSums::default();
        // Nine waits of 4 s and one of 50 s: rank 9 of 10 is still 4 s, under 5.
        for _ in 0..9 {
            all.add(&waited(4_000));
        }
        all.add(&waited(50_000));
        assert_eq!(all.waits, 10);
        assert_eq!(all.p90_wait_secs(), Some(5));
        // Two slow ones out of ten: the ninth wait is 50 s, under 60.
        let mut more = SessionSums::default();
        for _ in 0..8 {
            more.add(&waited(4_000));
        }
        more.add(&waited(50_000));
        more.add(&waited(50_000));
        assert_eq!(more.p90_wait_secs(), Some(60));
        assert_eq!(waited(0).p90_wait_secs(), Some(1));
        assert_eq!(waited(100_000_000).p90_wait_secs(), Some(86_400));
        assert_eq!(SessionSums::default().p90_wait_secs(), None);
    }

    #[test]
    fn sums_survive_their_column_order() {
        let s = SessionSums::of(&Stored {
            queued_ms: Some(0),
            offered_ms: Some(7_000),
            accepted_ms: Some(9_000),
            first_reply_ms: Some(19_000),
            ended_ms: Some(60_000),
            responses: 2,
            response_ms: 8_000,
            survey_invited_ms: Some(60_000),
            survey_score: Some(4),
            ..Stored::default()
        });
        assert_eq!(s.values().len(), session_columns().len());
        assert_eq!(SessionSums::from_values(&s.values()), s);
        assert_eq!(
            (s.wait_ms, s.accept_ms, s.first_reply_ms),
            (7_000, 2_000, 10_000)
        );
        assert_eq!((s.handled, s.handle_ms), (1, 51_000));
        assert_eq!(s.wait_counts[3], 0);
        assert_eq!(s.wait_counts[4], 1, "7 s counts under 10 s");
        let f = SessionFigures::from(&s);
        assert_eq!(f.csat, Some(1.0));
        assert_eq!(f.acceptance_rate, Some(1.0));
    }
}
