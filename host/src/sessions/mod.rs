//! Sessions: one end user's conversation with a channel, from the first message to
//! its end status. Owns the lifecycle (in flow → queued → offered → with an agent →
//! ended, with the survey window after), strict ordering of each session's messages,
//! the durable timers (a node's wait timeout, the idle end with status 108) and the
//! transcript. Runs the flow through `flow::engine`; must not speak HTTP or IM.
//!
//! - `service`: the service each node runs: input under each user's lock, sessions
//!   opened, the live flow revision, the session each user's last turn here left,
//!   events for the web chat;
//! - `turn`: one turn run and applied to the session;
//! - `commit`: a turn written in one transaction with what it means for agents (the
//!   session routed when it joins a queue, the slot it leaves freed);
//! - `steps`: the step runner (nodes stepped with their installed modules);
//! - `timers`: the ticker that fires due waits and idle ends;
//! - `agent`: what agents do to sessions (reply, transfer, end, invite the survey);
//! - `visibility`: which sessions a caller may see.

pub mod agent;
mod commit;
pub mod service;
pub mod steps;
mod timers;
mod turn;
pub mod visibility;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::flow::engine::FlowState;
use crate::flow::{Choice, CustomElement, MessageElement, Outgoing};

pub use agent::{Acting, AgentActionError, Target};
pub use service::{
    Delivered, EndUser, EventKind, Inbound, SessionError, SessionEvent, Sessions, SessionsConfig,
};
pub use visibility::Visibility;

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The conversation service flow is talking with the user.
    InFlow,
    /// Waiting in a skill group's queue for an agent.
    Queued,
    /// Offered to an agent who has not accepted yet.
    Offered,
    /// An agent is serving the user.
    WithAgent,
    /// Served; the satisfaction survey is still open.
    Survey,
    /// Over, with an end status.
    Ended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InFlow => "in_flow",
            Self::Queued => "queued",
            Self::Offered => "offered",
            Self::WithAgent => "with_agent",
            Self::Survey => "survey",
            Self::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::InFlow,
            Self::Queued,
            Self::Offered,
            Self::WithAgent,
            Self::Survey,
            Self::Ended,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// How the end user reaches the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Tencent IM (`sendmsg` ingress or IM's callback); replies go out through IM.
    Im,
    /// kefu's built-in web chat; replies go to the user's open pages.
    Webchat,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Im => "im",
            Self::Webchat => "webchat",
        }
    }

    pub fn parse(text: &str) -> Self {
        if text == "webchat" {
            Self::Webchat
        } else {
            Self::Im
        }
    }
}

/// TCCC's end statuses (IM service records).
pub mod end_status {
    /// Ended abnormally.
    pub const ABNORMAL: u16 = 0;
    /// Ended normally.
    pub const NORMAL: u16 = 1;
    /// No agent online.
    pub const NO_AGENT: u16 = 3;
    /// The agent gave up, or nobody accepted the session.
    pub const NOT_ACCEPTED: u16 = 17;
    /// Transferred manually by the agent: a new leg goes on.
    pub const TRANSFERRED: u16 = 101;
    /// The user left while still in the flow.
    pub const LEFT_IN_FLOW: u16 = 102;
    /// The user stopped replying.
    pub const USER_TIMEOUT: u16 = 108;
}

/// A session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: Uuid,
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub channel_id: Uuid,
    /// The end user's account (IM `UserID`, or the web chat visitor).
    pub user_id: String,
    pub user_nickname: String,
    pub source: Source,
    pub status: Status,
    /// The flow revision the session runs; it keeps it to the end.
    pub revision_id: Option<Uuid>,
    /// The flow node the session is at.
    pub node: Option<String>,
    /// The session's variables (JSON values).
    #[schema(value_type = Object)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    pub flow: FlowState,
    /// When the node's wait for the user times out.
    pub wait_until: Option<DateTime<Utc>>,
    /// When the session ends with 108 unless the user writes.
    pub idle_deadline: Option<DateTime<Utc>>,
    pub skill_group_id: Option<Uuid>,
    pub priority: u8,
    pub queued_at: Option<DateTime<Utc>>,
    /// TCCC end status, once ended.
    pub end_status: Option<u16>,
    pub ended_at: Option<DateTime<Utc>>,
    pub message_count: u32,
    /// The agent serving the session, or offered it.
    pub agent_id: Option<Uuid>,
    /// When the session was last offered to an agent.
    pub offered_at: Option<DateTime<Utc>>,
    /// When a manual offer expires and moves on.
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// When the agent took the session.
    pub assigned_at: Option<DateTime<Utc>>,
    /// The leg this one was transferred from.
    pub parent_id: Option<Uuid>,
    /// Agents who declined or missed this session: it is not offered to them again.
    #[serde(skip)]
    pub skipped_agents: Vec<Uuid>,
    /// The satisfaction survey, once the user was invited to rate the session.
    pub survey: Option<SurveyRecord>,
    #[serde(skip)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Session {
    /// Sets one of the values kefu keeps in every session's variables under TCCC's
    /// names (`ClientAppID`, `StaffNickName`, …), where modules' messages read them.
    pub fn set_known_variable(&mut self, name: &str, value: serde_json::Value) {
        let text = value.to_string();
        if self.flow.variables.get(name) != Some(&text) {
            self.flow.variables.insert(name.to_owned(), text);
            self.variables.insert(name.to_owned(), value);
        }
    }
}

/// A session's satisfaction survey, on its service record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SurveyRecord {
    /// When the user was invited to rate the session.
    pub invited_at: Option<DateTime<Utc>>,
    /// 1 (worst) to 5 (best), once the user rated the session.
    pub score: Option<u8>,
    /// The score's label, as the survey showed it.
    pub label: Option<String>,
    pub comment: Option<String>,
    /// When the user rated (last: a new rating replaces the one before).
    pub rated_at: Option<DateTime<Utc>>,
}

impl SurveyRecord {
    /// What a module's survey action means for the record.
    pub fn apply(
        record: &mut Option<Self>,
        action: &crate::flow::SurveyAction,
        now: DateTime<Utc>,
    ) {
        let r = record.get_or_insert_with(Self::default);
        match action {
            crate::flow::SurveyAction::Invited => r.invited_at = Some(now),
            crate::flow::SurveyAction::Record {
                score,
                label,
                comment,
            } => {
                r.score = Some(*score);
                r.label = Some(label.clone());
                r.comment = comment.clone();
                r.rated_at = Some(now);
            }
        }
    }
}

/// One element of a stored message: what the web chat shows and IM egress sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    Text {
        text: String,
    },
    Menu {
        title: String,
        choices: Vec<Choice>,
    },
    Custom {
        data: String,
        desc: String,
        ext: String,
    },
    /// Any other IM element, with its `MsgContent`.
    Other {
        msg_type: String,
        #[schema(value_type = Object)]
        content: serde_json::Value,
    },
}

impl From<&MessageElement> for Element {
    fn from(e: &MessageElement) -> Self {
        match e {
            MessageElement::Text(text) => Self::Text { text: text.clone() },
            MessageElement::Custom(c) => Self::Custom {
                data: c.data.clone(),
                desc: c.desc.clone(),
                ext: c.ext.clone(),
            },
            MessageElement::Other { msg_type, content } => Self::Other {
                msg_type: msg_type.clone(),
                content: serde_json::from_str(content)
                    .unwrap_or_else(|_| serde_json::Value::String(content.clone())),
            },
        }
    }
}

impl From<&Outgoing> for Element {
    fn from(o: &Outgoing) -> Self {
        match o {
            Outgoing::Text { text } => Self::Text { text: text.clone() },
            Outgoing::Menu { title, choices } => Self::Menu {
                title: title.clone(),
                choices: choices.clone(),
            },
            Outgoing::Custom(c) => Self::Custom {
                data: c.data.clone(),
                desc: c.desc.clone(),
                ext: c.ext.clone(),
            },
        }
    }
}

impl Element {
    /// The element as a flow module's outgoing message, when it is one.
    pub fn to_outgoing(&self) -> Option<Outgoing> {
        match self {
            Self::Text { text } => Some(Outgoing::Text { text: text.clone() }),
            Self::Menu { title, choices } => Some(Outgoing::Menu {
                title: title.clone(),
                choices: choices.clone(),
            }),
            Self::Custom { data, desc, ext } => Some(Outgoing::Custom(CustomElement {
                data: data.clone(),
                desc: desc.clone(),
                ext: ext.clone(),
            })),
            Self::Other { .. } => None,
        }
    }

    /// The element's plain text for transcripts and search.
    pub fn plain_text(&self) -> String {
        match self {
            Self::Text { text } => text.clone(),
            Self::Menu { title, choices } => {
                let mut out = title.clone();
                for (i, c) in choices.iter().enumerate() {
                    out.push_str(&format!("\n{}. {}", i + 1, c.label));
                }
                out
            }
            Self::Custom { desc, .. } => desc.clone(),
            Self::Other { msg_type, .. } => format!("[{msg_type}]"),
        }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the end user.
    In,
    /// To the end user.
    Out,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    User,
    Bot,
    Agent,
    System,
}

/// A message of a session's transcript.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub session_id: Uuid,
    /// 1, 2, 3… in the order the session saw them.
    pub seq: u32,
    pub client_id: Option<String>,
    pub direction: Direction,
    pub sender: Sender,
    pub sender_name: Option<String>,
    pub at: DateTime<Utc>,
    /// The plain text of all elements.
    pub text: String,
    pub elements: Vec<Element>,
}
