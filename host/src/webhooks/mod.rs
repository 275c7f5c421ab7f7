//! Webhooks (TCCC's data push), after the Standard Webhooks specification: the
//! endpoints a tenant registers, the events kefu pushes to them, how they are signed,
//! and the worker that delivers them.
//!
//! Events are written to a durable outbox (`webhook_deliveries`) in the transaction of
//! the change they tell of (`store::records::track`, `store::presence`), one row per
//! endpoint that wants them; the worker delivers each endpoint's rows in order, retries
//! with backoff over about a day, and never lets an endpoint hold up another. Must not
//! block the turn that caused an event: nothing here runs inside a turn but the
//! writing of its outbox rows.

pub mod events;
pub mod sign;
pub mod worker;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The kinds of event an endpoint may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// A user started a session.
    #[serde(rename = "session.started")]
    SessionStarted,
    #[serde(rename = "message.user")]
    UserMessage,
    #[serde(rename = "message.bot")]
    BotMessage,
    #[serde(rename = "message.agent")]
    AgentMessage,
    /// The session joined a skill group's queue (transfer to a human).
    #[serde(rename = "session.queued")]
    SessionQueued,
    /// The session was offered to an agent who accepts by hand.
    #[serde(rename = "session.offered")]
    SessionOffered,
    /// An agent has the session (accepted, assigned automatically, or transferred to
    /// them).
    #[serde(rename = "session.accepted")]
    SessionAccepted,
    /// The transfer to a human failed: the queue gave up, or nobody accepted.
    #[serde(rename = "session.transfer_failed")]
    SessionTransferFailed,
    /// An agent transferred the session to another agent or skill group.
    #[serde(rename = "session.transferred")]
    SessionTransferred,
    /// A leg ended; the event carries its service record.
    #[serde(rename = "session.ended")]
    SessionEnded,
    #[serde(rename = "survey.rated")]
    SurveyRated,
    #[serde(rename = "agent.status_changed")]
    AgentStatusChanged,
    /// A ping sent by `POST …/test`.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    pub const ALL: [EventType; 13] = [
        Self::SessionStarted,
        Self::UserMessage,
        Self::BotMessage,
        Self::AgentMessage,
        Self::SessionQueued,
        Self::SessionOffered,
        Self::SessionAccepted,
        Self::SessionTransferFailed,
        Self::SessionTransferred,
        Self::SessionEnded,
        Self::SurveyRated,
        Self::AgentStatusChanged,
        Self::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionStarted => "session.started",
            Self::UserMessage => "message.user",
            Self::BotMessage => "message.bot",
            Self::AgentMessage => "message.agent",
            Self::SessionQueued => "session.queued",
            Self::SessionOffered => "session.offered",
            Self::SessionAccepted => "session.accepted",
            Self::SessionTransferFailed => "session.transfer_failed",
            Self::SessionTransferred => "session.transferred",
            Self::SessionEnded => "session.ended",
            Self::SurveyRated => "survey.rated",
            Self::AgentStatusChanged => "agent.status_changed",
            Self::WebhookTest => "webhook.test",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// An event ready for the outbox: its id (the `webhook-id` of every delivery of it)
/// and the exact body that is signed and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Uuid,
    pub kind: EventType,
    pub body: String,
}

/// A tenant's endpoint, as the API shows it (the secret only when it is made).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// The event types sent to it; `["*"]` for all.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why kefu disabled it (the endpoint answered 410), if it did.
    pub disabled_reason: Option<String>,
    /// The signing secret, shown in full only when the endpoint is created or its
    /// secret rotated; otherwise its last four characters.
    pub secret: String,
    /// During a rotation, until when the previous secret signs too.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// The event id: the `webhook-id` header, the same on every attempt.
    pub event_id: Uuid,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: u32,
    /// The HTTP status of the last attempt, if it got an answer.
    pub response_status: Option<u16>,
    /// How long the last attempt took.
    pub latency_ms: Option<u32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// How webhooks are delivered, server-wide (`webhooks.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhooksConfig {
    /// Pauses before the 2nd, 3rd … attempt, in seconds (jittered by ±20%); once
    /// they are used up the delivery has failed. The default spreads 11 attempts
    /// over about a day.
    pub retry_delays_secs: Vec<u64>,
    /// How long one attempt may take, connection included, in ms.
    pub timeout_ms: u64,
    /// How long a node holds a delivery it is making before another node may make
    /// it instead (the first may have died), in seconds.
    pub lease_secs: u64,
    /// Endpoints one tenant may register.
    pub max_endpoints_per_tenant: u32,
    /// Deliveries one tenant's endpoints may have in flight at once.
    pub max_in_flight_per_tenant: u32,
    /// How long delivered and failed deliveries are kept, in days.
    pub keep_days: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            retry_delays_secs: vec![5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800],
            timeout_ms: 15_000,
            lease_secs: 60,
            max_endpoints_per_tenant: 20,
            max_in_flight_per_tenant: 4,
            keep_days: 7,
        }
    }
}

impl WebhooksConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.retry_delays_secs.len() > 30 || self.retry_delays_secs.iter().any(|d| *d > 86_400) {
            return Err(
                "webhooks.retry_delays_secs takes at most 30 pauses of at most 86400 s".into(),
            );
        }
        if self.timeout_ms < 100 || self.timeout_ms > 60_000 {
            return Err("webhooks.timeout_ms must be between 100 and 60000".into());
        }
        if self.lease_secs < 2 || self.lease_secs * 1000 < self.timeout_ms * 2 {
            return Err(
                "webhooks.lease_secs must be at least 2 and twice webhooks.timeout_ms".into(),
            );
        }
        if self.max_endpoints_per_tenant == 0 || self.max_endpoints_per_tenant > 1000 {
            return Err("webhooks.max_endpoints_per_tenant must be between 1 and 1000".into());
        }
        if self.max_in_flight_per_tenant == 0 || self.max_in_flight_per_tenant > 64 {
            return Err("webhooks.max_in_flight_per_tenant must be between 1 and 64".into());
        }
        if self.keep_days == 0 {
            return Err("webhooks.keep_days must be at least 1".into());
        }
        Ok(())
    }
}

/// The largest event body kefu sends; a message too long for it is cut (the event
/// says so with `"truncated": true`).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
