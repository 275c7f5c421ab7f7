//! Service records, statistics and live figures: read models over what kefu stores.
//!
//! Every leg of a session (a transfer between agents ends one leg with 101 and starts
//! the next) has a record, written by the store in the transaction of each change of
//! the leg ([`Change`]). Statistics are sums over records (`figures`), kept per
//! 15-minute slot once a leg has ended (`rollup`) and added up into the tenant's
//! local hours and days (`buckets`); live figures are read from sessions and agents'
//! presence as they are now (`live`). Records are exported as CSV or JSON lines
//! (`export`).
//!
//! Must not write session state: it only reads what sessions, routing and presence
//! stored, and writes its own rows (records and rollups).

pub mod buckets;
pub mod export;
pub mod figures;
pub mod live;
pub mod report;
pub mod rollup;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::sessions::{Message, Sender, Session, Source, Status, end_status};

pub use live::{Live, LiveFigures};

/// What happened to a session leg in one transaction: what its record and its
/// webhook events are made from.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// The leg as the transaction leaves it.
    pub session: &'a Session,
    /// Its status before; `None` for a leg that starts in this transaction.
    pub before: Option<Status>,
    /// The messages the transaction added to the leg's transcript, in order.
    pub messages: Vec<Message>,
    /// When the change was made: the time the turn or routing step used.
    pub at: DateTime<Utc>,
    /// Set on both legs of a transfer between agents.
    pub transfer: Option<Transfer>,
}

/// A transfer between agents: one leg ends with 101, the next one starts.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// The leg that ends.
    pub from: Uuid,
    /// The leg that starts.
    pub to: Uuid,
    /// The agent who handed the user on.
    pub by_agent: Uuid,
    /// The agent named as the target, if any.
    pub to_agent: Option<Uuid>,
    /// The skill group named as the target, if any.
    pub to_group: Option<Uuid>,
    pub note: Option<String>,
}

/// Who ended a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// The flow ended it in answer to the user's message.
    User,
    /// The agent: finished the session, or transferred it (101).
    Agent,
    /// kefu: a timer (108, a wait that timed out), routing (3, 17) or a failure (0).
    System,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Agent => "agent",
            Self::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::User, Self::Agent, Self::System]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

impl Change<'_> {
    /// An agent has the leg now and did not before: the offer was accepted (or the
    /// session was assigned automatically, or transferred to the agent by name).
    pub fn accepted_now(&self) -> bool {
        self.session.status == Status::WithAgent && self.before != Some(Status::WithAgent)
    }

    /// The leg joined a skill group's queue (not: went back to it after an offer).
    pub fn joined_queue(&self) -> bool {
        self.session.status == Status::Queued
            && !matches!(self.before, Some(Status::Queued | Status::Offered))
    }

    /// The leg left its queue without reaching an agent: the queue gave up (the flow
    /// goes on, or it ended), or nobody accepted it.
    pub fn left_queue_without_agent(&self) -> bool {
        matches!(self.before, Some(Status::Queued | Status::Offered))
            && matches!(self.session.status, Status::InFlow | Status::Ended)
    }

    pub fn ended_now(&self) -> bool {
        self.session.status == Status::Ended && self.before != Some(Status::Ended)
    }

    /// The user rated the leg in this change: a rating carries the time of the turn
    /// that recorded it, which is the time of this change.
    pub fn rated_now(&self) -> bool {
        self.session
            .survey
            .as_ref()
            .is_some_and(|s| s.score.is_some() && s.rated_at == Some(self.at))
    }

    /// Who ended the leg, when it ended in this change.
    pub fn ended_by(&self) -> Option<EndedBy> {
        if !self.ended_now() {
            return None;
        }
        let code = self.session.end_status;
        Some(if code == Some(end_status::TRANSFERRED) {
            EndedBy::Agent
        } else if code == Some(end_status::USER_TIMEOUT) {
            EndedBy::System
        } else if self.messages.iter().any(|m| m.sender == Sender::User) {
            EndedBy::User
        } else if self.before == Some(Status::WithAgent) {
            EndedBy::Agent
        } else {
            EndedBy::System
        })
    }

    /// The first user message of this change that waits for the agent's answer: one
    /// written while the agent serves the leg.
    pub fn user_waiting_at(&self) -> Option<DateTime<Utc>> {
        if self.before != Some(Status::WithAgent) || self.session.status != Status::WithAgent {
            return None;
        }
        self.messages
            .iter()
            .find(|m| m.sender == Sender::User)
            .map(|m| m.at)
    }

    /// The first message the agent wrote in this change.
    pub fn agent_reply_at(&self) -> Option<DateTime<Utc>> {
        self.messages
            .iter()
            .find(|m| m.sender == Sender::Agent)
            .map(|m| m.at)
    }

    /// Messages of this change by sender: user, bot, agent, system.
    pub fn counts(&self) -> [i32; 4] {
        let mut out = [0; 4];
        for m in &self.messages {
            out[sender_index(m.sender)] += 1;
        }
        out
    }
}

fn sender_index(s: Sender) -> usize {
    match s {
        Sender::User => 0,
        Sender::Bot => 1,
        Sender::Agent => 2,
        Sender::System => 3,
    }
}

/// Milliseconds since the Unix epoch, as records keep times.
pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A record time back as a date.
pub fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A leg's record as stored, with the names of what it refers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub conversation_id: Uuid,
    pub channel_id: Uuid,
    pub source: String,
    pub user_id: String,
    pub user_nickname: String,
    pub skill_group_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub status: String,
    pub started_ms: i64,
    pub queued_ms: Option<i64>,
    pub left_queue_ms: Option<i64>,
    pub offered_ms: Option<i64>,
    pub accepted_ms: Option<i64>,
    pub first_reply_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub end_status: Option<i32>,
    pub ended_by: Option<String>,
    pub transferred_from: Option<Uuid>,
    pub from_agent_id: Option<Uuid>,
    pub transferred_to: Option<Uuid>,
    pub to_agent_id: Option<Uuid>,
    pub to_skill_group_id: Option<Uuid>,
    pub user_messages: i32,
    pub bot_messages: i32,
    pub agent_messages: i32,
    pub system_messages: i32,
    pub response_ms: i64,
    pub responses: i32,
    pub survey_invited_ms: Option<i64>,
    pub survey_score: Option<i16>,
    pub survey_label: Option<String>,
    pub survey_comment: Option<String>,
    pub survey_rated_ms: Option<i64>,
    pub rolled_up: bool,
    pub channel_name: Option<String>,
    pub skill_group_name: Option<String>,
    pub agent_nickname: Option<String>,
    pub agent_staff_no: Option<String>,
}

impl Stored {
    /// The queue wait in ms: from entering the queue to the offer the agent accepted,
    /// or to leaving the queue without an agent; `None` while still waiting.
    pub fn queue_wait_ms(&self) -> Option<i64> {
        let queued = self.queued_ms?;
        let until = if self.accepted_ms.is_some() {
            self.offered_ms.or(self.accepted_ms)
        } else {
            self.left_queue_ms
        }?;
        Some((until - queued).max(0))
    }

    /// Whether the leg ever asked for a human: it entered a queue, was offered, or an
    /// agent had it.
    pub fn asked_for_agent(&self) -> bool {
        self.queued_ms.is_some() || self.offered_ms.is_some() || self.accepted_ms.is_some()
    }

    /// The bot handled the leg alone: no queue, no agent, not a transfer.
    pub fn bot_only(&self) -> bool {
        !self.asked_for_agent() && self.transferred_from.is_none()
    }
}

/// TCCC's name of an end status.
pub fn end_status_name(code: i32) -> &'static str {
    match code {
        0 => "ended abnormally",
        1 => "ended normally",
        3 => "no agent online",
        17 => "the agent gave up or did not accept",
        100 => "user on the block list",
        101 => "transferred manually",
        102 => "user left while in the flow",
        108 => "user timed out",
        _ => "other",
    }
}

/// A service record (TCCC's IM service record), one per session leg.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Record {
    /// The leg: its transcript is `GET /api/v1/sessions/{id}/messages`.
    pub id: Uuid,
    /// The conversation: the first leg's id, shared by the legs transfers made.
    pub session_id: Uuid,
    pub status: Status,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// From start to end, in seconds (ms precision).
    pub duration_secs: Option<f64>,
    /// When the leg first entered a skill group's queue.
    pub queued_at: Option<DateTime<Utc>>,
    /// When the offer the agent accepted was made.
    pub offered_at: Option<DateTime<Utc>>,
    /// When the agent took the leg.
    pub accepted_at: Option<DateTime<Utc>>,
    /// From entering the queue to the accepted offer (or to leaving the queue
    /// without an agent), in seconds.
    pub queue_wait_secs: Option<f64>,
    pub first_reply_at: Option<DateTime<Utc>>,
    /// From acceptance to the agent's first message, in seconds.
    pub first_reply_secs: Option<f64>,
    pub end_status: Option<u16>,
    /// TCCC's name of the end status.
    pub end_status_name: Option<&'static str>,
    pub ended_by: Option<EndedBy>,
    pub user: RecordUser,
    pub channel: RecordChannel,
    pub skill_group: Option<RecordGroup>,
    /// The agent who took the leg (or who holds its offer).
    pub agent: Option<RecordAgent>,
    pub transferred_from: Option<TransferredFrom>,
    pub transferred_to: Option<TransferredTo>,
    pub satisfaction: Option<Satisfaction>,
    pub messages: MessageCounts,
    /// The bot handled the leg alone: no queue, no agent, not a transfer.
    pub bot_only: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordUser {
    pub id: String,
    pub nickname: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordChannel {
    pub id: Uuid,
    pub name: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordGroup {
    pub id: Uuid,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordAgent {
    pub id: Uuid,
    pub staff_no: Option<String>,
    pub nickname: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferredFrom {
    /// The leg that ended with 101.
    pub record_id: Uuid,
    pub agent_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferredTo {
    /// The leg that started.
    pub record_id: Uuid,
    pub agent_id: Option<Uuid>,
    pub skill_group_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Satisfaction {
    pub invited_at: Option<DateTime<Utc>>,
    /// 1 (worst) to 5 (best).
    pub score: Option<u8>,
    pub label: Option<String>,
    pub comment: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct MessageCounts {
    pub user: u32,
    pub bot: u32,
    pub agent: u32,
    pub system: u32,
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

impl From<&Stored> for Record {
    fn from(r: &Stored) -> Self {
        let span = |from: Option<i64>, to: Option<i64>| Some(secs((to? - from?).max(0)));
        let count = |n: i32| n.max(0) as u32;
        Record {
            id: r.id,
            session_id: r.conversation_id,
            status: Status::parse(&r.status).unwrap_or(Status::Ended),
            started_at: at(r.started_ms),
            ended_at: r.ended_ms.map(at),
            duration_secs: span(Some(r.started_ms), r.ended_ms),
            queued_at: r.queued_ms.map(at),
            offered_at: r.offered_ms.map(at),
            accepted_at: r.accepted_ms.map(at),
            queue_wait_secs: r.queue_wait_ms().map(secs),
            first_reply_at: r.first_reply_ms.map(at),
            first_reply_secs: span(r.accepted_ms, r.first_reply_ms),
            end_status: r.end_status.map(|c| c.clamp(0, 65535) as u16),
            end_status_name: r.end_status.map(end_status_name),
            ended_by: r.ended_by.as_deref().and_then(EndedBy::parse),
            user: RecordUser {
                id: r.user_id.clone(),
                nickname: r.user_nickname.clone(),
            },
            channel: RecordChannel {
                id: r.channel_id,
                name: r.channel_name.clone(),
                source: Source::parse(&r.source),
            },
            skill_group: r.skill_group_id.map(|id| RecordGroup {
                id,
                name: r.skill_group_name.clone(),
            }),
            agent: r.agent_id.map(|id| RecordAgent {
                id,
                staff_no: r.agent_staff_no.clone(),
                nickname: r.agent_nickname.clone(),
            }),
            transferred_from: r.transferred_from.map(|id| TransferredFrom {
                record_id: id,
                agent_id: r.from_agent_id,
            }),
            transferred_to: r.transferred_to.map(|id| TransferredTo {
                record_id: id,
                agent_id: r.to_agent_id,
                skill_group_id: r.to_skill_group_id,
            }),
            satisfaction: (r.survey_invited_ms.is_some() || r.survey_score.is_some()).then(|| {
                Satisfaction {
                    invited_at: r.survey_invited_ms.map(at),
                    score: r.survey_score.map(|s| s.clamp(0, 255) as u8),
                    label: r.survey_label.clone(),
                    comment: r.survey_comment.clone(),
                    rated_at: r.survey_rated_ms.map(at),
                }
            }),
            messages: MessageCounts {
                user: count(r.user_messages),
                bot: count(r.bot_messages),
                agent: count(r.agent_messages),
                system: count(r.system_messages),
            },
            bot_only: r.bot_only(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_wait_ends_at_the_accepted_offer_or_when_the_leg_left_the_queue() {
        let mut r = Stored {
            queued_ms: Some(1_000),
            ..Stored::default()
        };
        assert_eq!(r.queue_wait_ms(), None, "still waiting");
        r.left_queue_ms = Some(4_000);
        assert_eq!(r.queue_wait_ms(), Some(3_000));
        r.offered_ms = Some(2_500);
        r.accepted_ms = Some(9_000);
        assert_eq!(r.queue_wait_ms(), Some(1_500), "the accepted offer wins");
        assert!(r.asked_for_agent() && !r.bot_only());
        assert!(Stored::default().bot_only());
    }
}
