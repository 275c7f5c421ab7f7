//! The events a change makes, as the bodies receivers get:
//! `{"type": "session.ended", "timestamp": "…", "data": {…}}` (Standard Webhooks).
//! `data.session` is the leg as the change left it; the rest depends on the type.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Event, EventType, MAX_BODY_BYTES};
use crate::records::{Change, Record};
use crate::sessions::{Message, Sender, Session, Status};

/// The leg as receivers see it in every session event.
fn session(s: &Session) -> Value {
    json!({
        "id": s.id,
        "parent_id": s.parent_id,
        "channel_id": s.channel_id,
        "source": s.source,
        "user_id": s.user_id,
        "user_nickname": s.user_nickname,
        "status": s.status,
        "skill_group_id": s.skill_group_id,
        "agent_id": s.agent_id,
        "end_status": s.end_status,
        "started_at": s.created_at,
    })
}

/// An event of `kind` at `at` with `data`, its body kept within [`MAX_BODY_BYTES`]
/// (by `shrink`, when given, then by dropping everything but the session).
fn event(
    kind: EventType,
    at: DateTime<Utc>,
    data: Value,
    shrink: Option<&dyn Fn() -> Value>,
) -> Event {
    let wrap = |data: &Value| {
        json!({
            "type": kind.as_str(),
            "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": data,
        })
        .to_string()
    };
    let mut body = wrap(&data);
    if body.len() > MAX_BODY_BYTES
        && let Some(shrink) = shrink
    {
        body = wrap(&shrink());
    }
    if body.len() > MAX_BODY_BYTES {
        body = wrap(&json!({"session": data.get("session"), "truncated": true}));
    }
    Event {
        id: Uuid::now_v7(),
        kind,
        body,
    }
}

/// A message event, its text cut to 8 KiB and its elements left out when the whole
/// would be too large.
fn message(s: &Session, m: &Message, at: DateTime<Utc>) -> Option<Event> {
    let kind = match m.sender {
        Sender::User => EventType::UserMessage,
        Sender::Bot => EventType::BotMessage,
        Sender::Agent => EventType::AgentMessage,
        Sender::System => return None,
    };
    let shrink = || {
        let text: String = m.text.chars().take(8 * 1024).collect();
        json!({
            "session": session(s),
            "message": {
                "id": m.id, "seq": m.seq, "sender": m.sender, "sender_name": m.sender_name,
                "at": m.at, "text": text, "truncated": true,
            },
        })
    };
    Some(event(
        kind,
        at,
        json!({"session": session(s), "message": m}),
        Some(&shrink),
    ))
}

/// The events of one change of a leg, in the order they happened; `record` is the
/// leg's service record when the change ended it.
pub fn of_change(change: &Change<'_>, record: Option<&Record>) -> Vec<Event> {
    let s = change.session;
    let at = change.at;
    let mut out = Vec::new();
    let starts_here = change.before.is_none();
    let transfer = change.transfer.as_ref();
    if starts_here && transfer.is_none() {
        out.push(event(
            EventType::SessionStarted,
            at,
            json!({"session": session(s)}),
            None,
        ));
    }
    out.extend(change.messages.iter().filter_map(|m| message(s, m, m.at)));
    if let Some(t) = transfer.filter(|t| t.from == s.id) {
        out.push(event(
            EventType::SessionTransferred,
            at,
            json!({
                "session": session(s),
                "by_agent_id": t.by_agent,
                "to": {"session_id": t.to, "agent_id": t.to_agent, "skill_group_id": t.to_group},
                "note": t.note,
            }),
            None,
        ));
    }
    if change.left_queue_without_agent() {
        out.push(event(
            EventType::SessionTransferFailed,
            at,
            json!({"session": session(s)}),
            None,
        ));
    }
    if change.joined_queue() {
        out.push(event(
            EventType::SessionQueued,
            at,
            json!({"session": session(s), "queued_at": s.queued_at, "priority": s.priority}),
            None,
        ));
    }
    if s.status == Status::Offered && change.before != Some(Status::Offered) {
        out.push(event(
            EventType::SessionOffered,
            at,
            json!({"session": session(s), "offer_expires_at": s.offer_expires_at}),
            None,
        ));
    }
    if change.accepted_now() {
        out.push(event(
            EventType::SessionAccepted,
            at,
            json!({"session": session(s), "accepted_at": s.assigned_at.unwrap_or(at)}),
            None,
        ));
    }
    if change.rated_now()
        && let Some(r) = &s.survey
    {
        out.push(event(
            EventType::SurveyRated,
            at,
            json!({"session": session(s), "rating": {
                "score": r.score, "label": r.label, "comment": r.comment, "rated_at": r.rated_at,
            }}),
            None,
        ));
    }
    if change.ended_now() {
        out.push(event(
            EventType::SessionEnded,
            at,
            json!({"session": session(s), "record": record}),
            None,
        ));
    }
    out
}

/// An agent's shown status changed.
pub fn agent_status(agent: Uuid, status: &str, reason: Option<&str>, at: DateTime<Utc>) -> Event {
    event(
        EventType::AgentStatusChanged,
        at,
        json!({"agent_id": agent, "status": status, "reason": reason, "since": at}),
        None,
    )
}

/// The ping an admin sends to check an endpoint.
pub fn test(endpoint: Uuid, at: DateTime<Utc>) -> Event {
    event(
        EventType::WebhookTest,
        at,
        json!({"endpoint_id": endpoint, "message": "kefu webhook test"}),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_message_is_cut_to_fit() {
        let text = "长".repeat(200_000);
        let body = event(
            EventType::UserMessage,
            Utc::now(),
            json!({"session": {"id": 1}, "message": {"text": text}}),
            Some(&|| json!({"session": {"id": 1}, "message": {"text": "cut", "truncated": true}})),
        )
        .body;
        assert!(body.len() <= MAX_BODY_BYTES);
        assert!(body.contains("\"truncated\":true"));
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(v["type"], "message.user");
    }
}
