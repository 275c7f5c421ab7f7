//! What an agent's workbench is told, as numbered frames of one stream per agent.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

/// The kinds of stored events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A session waits for the agent to accept it.
    Offer,
    /// A session is the agent's.
    Assigned,
    /// An offer is no longer the agent's to accept.
    OfferWithdrawn,
    /// A message of one of the agent's sessions.
    Message,
    /// One of the agent's sessions ended, or left the agent.
    SessionEnded,
    /// The agent's status changed.
    Status,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Assigned => "assigned",
            Self::OfferWithdrawn => "offer_withdrawn",
            Self::Message => "message",
            Self::SessionEnded => "session_ended",
            Self::Status => "status",
        }
    }
}

/// Why an offer was withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawn {
    /// The countdown ran out.
    Expired,
    /// The agent declined.
    Declined,
    /// The agent went offline.
    Disconnected,
    /// The session ended or left the queue meanwhile.
    Ended,
}

/// The JSON text frame of a stored event. `payload` is already JSON.
pub fn frame(seq: i64, kind: &str, at: DateTime<Utc>, payload: &str) -> String {
    format!(
        r#"{{"type":"event","seq":{seq},"kind":"{kind}","at":"{}","data":{payload}}}"#,
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// `offer_withdrawn` data.
pub fn withdrawn(session_id: Uuid, reason: Withdrawn) -> serde_json::Value {
    serde_json::json!({"session_id": session_id, "reason": reason})
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_frame_is_json_with_its_number() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let f = super::frame(7, "status", at, r#"{"status":"free"}"#);
        let v: serde_json::Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["kind"], "status");
        assert_eq!(v["data"]["status"], "free");
        assert_eq!(v["type"], "event");
    }
}
