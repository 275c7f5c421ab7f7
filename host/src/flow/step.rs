//! One step of a flow module: its input, its output, and what a module says about itself.
//! These mirror the `kefu:flow` WIT types, as plain Rust the flow engine works with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The session a step runs for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub tenant_id: String,
    pub channel_id: String,
    pub user_id: String,
    pub user_nickname: String,
}

/// A custom message element (IM `TIMCustomElem`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CustomElement {
    pub data: String,
    pub desc: String,
    pub ext: String,
}

/// One element of a user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageElement {
    Text(String),
    Custom(CustomElement),
    /// Any other IM element type, with its `MsgContent` as JSON.
    Other {
        msg_type: String,
        content: String,
    },
}

/// A message the end user sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserMessage {
    pub elements: Vec<MessageElement>,
    pub text: String,
    pub sent_at_ms: i64,
}

/// Why a session came back to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeReason {
    TransferFailed,
    AgentFinished,
    SessionEnded,
}

/// What woke the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Entered,
    UserMessage(UserMessage),
    WaitTimedOut,
    Resumed(ResumeReason),
}

/// A session variable with a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Variable {
    pub name: String,
    pub value: String,
}

/// Everything a step is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepInput {
    pub session: SessionInfo,
    pub node_id: String,
    pub trigger: Trigger,
    pub config: String,
    pub prepared: Option<Vec<u8>>,
    pub variables: Vec<Variable>,
    pub state: Option<Vec<u8>>,
    pub turn: u32,
}

/// A message to the end user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outgoing {
    Text { text: String },
    Menu { title: String, choices: Vec<Choice> },
    Custom(CustomElement),
}

/// One choice of a menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// Queue the session for a skill group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Transfer {
    pub skill_group_id: String,
    pub priority: u8,
}

/// Satisfaction-survey side effects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SurveyAction {
    Invited,
    Record {
        score: u8,
        label: String,
        comment: Option<String>,
    },
}

/// Something the host does on the module's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Send { message: Outgoing },
    SetVariable(Variable),
    UnsetVariable { name: String },
    Transfer(Transfer),
    EndSession { end_status: u16 },
    Survey { survey: SurveyAction },
}

/// What happens after a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Next {
    Exit { exit: String },
    Wait { timeout_ms: u64 },
    Suspend,
}

/// A step's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StepOutput {
    pub actions: Vec<Action>,
    pub next: Next,
    /// The module's private state for its next step.
    #[schema(value_type = Option<Vec<u8>>)]
    pub state: Option<Vec<u8>>,
}

/// One exit of a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitInfo {
    pub name: String,
    pub description: String,
}

/// What a node running a module with a given configuration looks like to a flow
/// (`validate-config`): the exits it can leave by, and whether it may wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeInfo {
    pub exits: Vec<ExitInfo>,
    /// Whether a step may wait for the user or suspend before leaving. A loop in a flow
    /// must pass through such a node.
    pub waits: bool,
}

/// What a module says about itself (`describe()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModuleInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    /// JSON Schema of the node configuration.
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
    pub exits: Vec<ExitInfo>,
}

/// One problem with a node configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConfigProblem {
    /// JSON pointer of the offending value; empty for the whole configuration.
    pub path: String,
    pub message: String,
}

/// A failure the module reported itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    #[error("invalid configuration: {}", describe_problems(.0))]
    InvalidConfig(Vec<ConfigProblem>),
    #[error("{0}")]
    Failed(String),
}

fn describe_problems(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            if p.path.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.path, p.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The current time in a tenant's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    pub unix_ms: i64,
    pub time_zone: String,
    pub utc_offset_secs: i32,
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// ISO weekday, 1 = Monday.
    pub weekday: u8,
}

/// A skill group as a module sees it (`kefu:flow/directory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub id: String,
    pub name: String,
}

/// The live state of a skill group's queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStatus {
    pub agents_online: u32,
    pub agents_free: u32,
    pub sessions_waiting: u32,
    pub estimated_wait_secs: u32,
}
