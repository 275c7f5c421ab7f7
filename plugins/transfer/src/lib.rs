//! The built-in `transfer` flow module (TCCC's "transfer to human"): queues the
//! session for the agents of a skill group and waits until it comes back.
//!
//! # Configuration
//!
//! ```json
//! {
//!   "skill_group_id": "after-sales",
//!   "priority": 7,
//!   "queued_message": "正在为您转接人工客服，您前面还有 ${WaitNo} 人，预计等待 ${EstimatedWait} 分钟。",
//!   "no_agent_message": "当前没有客服在线，请稍后再试。",
//!   "failed_message": "暂时无法为您转接人工客服，请稍后再试。"
//! }
//! ```
//!
//! - The skill group: exactly one of
//!   - `skill_group_id`: the group's id (1–64 characters), or
//!   - `skill_group_variable`: the name of a session variable holding the id as a
//!     string, e.g. set by an earlier menu or collect-input node.
//! - `priority`: queue priority, 0–10 (higher is served first); default 5.
//! - `require_online_agent`: when `true` (the default) the session leaves by
//!   `no-agent` instead of queueing when no agent of the group is signed in; when
//!   `false` it queues anyway (agents may sign in later; the queue's own limits
//!   apply).
//! - `queued_message`: sent when the session is queued. Besides the usual `${Name}`
//!   placeholders it may use `${WaitNo}` (sessions waiting ahead, from the queue
//!   status), `${EstimatedWait}` (the estimated wait in whole minutes, rounded up) and
//!   `${EstimatedWaitSecs}` (in seconds).
//! - `no_agent_message`: sent when leaving by `no-agent`.
//! - `failed_message`: sent when leaving by `failed`.
//!
//! Each message is up to 1000 characters; an empty one sends nothing. The defaults
//! are the Chinese texts of the example above.
//!
//! # Behaviour and exits
//!
//! On entry the module resolves the skill group and asks kefu for its queue:
//!
//! - no such group (kefu answers no queue status), or `skill_group_variable` names a
//!   variable that is missing or not a non-empty string: a warning goes to kefu's log
//!   (a flow that points to nowhere should be noticed) and the session leaves by
//!   `no-agent` after the no-agent message: for the user the outcome is the same;
//! - nobody of the group online (`agents_online == 0`) and `require_online_agent`:
//!   the no-agent message, then `no-agent`;
//! - otherwise: the queued message, the transfer action (group and priority), and
//!   the node suspends while the session is with the queue and the agents.
//!
//! When the session comes back:
//!
//! - `Resumed(TransferFailed)` (queue full, waited too long, nobody accepted): the
//!   failed message, then `failed`;
//! - `Resumed(AgentFinished)` or `Resumed(SessionEnded)`: `done`, with no message;
//!   the flow goes on, typically to a satisfaction survey.
//!
//! A user message or a timeout while suspended changes nothing: the node stays
//! suspended.

use kefu_flow_sdk::{
    Action, ConfigProblem, Error, FlowModule, Input, ModuleInfo, Output, ResumeReason, Trigger,
    host, json,
};
use serde::Deserialize;

const MAX_PRIORITY: u8 = 10;
const DEFAULT_PRIORITY: u8 = 5;
const MAX_ID: usize = 64;
const MAX_MESSAGE: usize = 1000;

const QUEUED_MESSAGE: &str =
    "正在为您转接人工客服，您前面还有 ${WaitNo} 人，预计等待 ${EstimatedWait} 分钟。";
const NO_AGENT_MESSAGE: &str = "当前没有客服在线，请稍后再试。";
const FAILED_MESSAGE: &str = "暂时无法为您转接人工客服，请稍后再试。";

/// The node configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    skill_group_id: Option<String>,
    #[serde(default)]
    skill_group_variable: Option<String>,
    #[serde(default = "default_priority")]
    priority: u8,
    #[serde(default = "yes")]
    require_online_agent: bool,
    #[serde(default = "queued_message")]
    queued_message: String,
    #[serde(default = "no_agent_message")]
    no_agent_message: String,
    #[serde(default = "failed_message")]
    failed_message: String,
}

fn default_priority() -> u8 {
    DEFAULT_PRIORITY
}

fn yes() -> bool {
    true
}

fn queued_message() -> String {
    QUEUED_MESSAGE.to_owned()
}

fn no_agent_message() -> String {
    NO_AGENT_MESSAGE.to_owned()
}

fn failed_message() -> String {
    FAILED_MESSAGE.to_owned()
}

/// Where the skill group's id comes from.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    Fixed(&'a str),
    Variable(&'a str),
}

impl Config {
    fn target(&self) -> Option<Target<'_>> {
        match (&self.skill_group_id, &self.skill_group_variable) {
            (Some(id), None) => Some(Target::Fixed(id)),
            (None, Some(name)) => Some(Target::Variable(name)),
            _ => None,
        }
    }
}

fn check(config: &Config) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let mut length = |path: &str, text: &str, min: usize, max: usize| {
        let count = text.chars().count();
        if count < min {
            problems.push(ConfigProblem::new(path, "must not be empty"));
        } else if count > max {
            problems.push(ConfigProblem::new(
                path,
                format!("is {count} characters long; at most {max} are allowed"),
            ));
        }
    };
    if let Some(id) = &config.skill_group_id {
        length("/skill_group_id", id, 1, MAX_ID);
    }
    if let Some(name) = &config.skill_group_variable {
        length("/skill_group_variable", name, 1, MAX_ID);
    }
    length("/queued_message", &config.queued_message, 0, MAX_MESSAGE);
    length(
        "/no_agent_message",
        &config.no_agent_message,
        0,
        MAX_MESSAGE,
    );
    length("/failed_message", &config.failed_message, 0, MAX_MESSAGE);
    match (&config.skill_group_id, &config.skill_group_variable) {
        (None, None) => problems.push(ConfigProblem::new(
            "",
            "set either `skill_group_id` or `skill_group_variable`",
        )),
        (Some(_), Some(_)) => problems.push(ConfigProblem::new(
            "/skill_group_variable",
            "set either `skill_group_id` or `skill_group_variable`, not both",
        )),
        _ => {}
    }
    if config.priority > MAX_PRIORITY {
        problems.push(ConfigProblem::new(
            "/priority",
            format!(
                "{} is out of range; expected 0 to {MAX_PRIORITY}",
                config.priority
            ),
        ));
    }
    problems
}

/// The skill group id a variable's JSON value names, if it is a non-empty string.
fn group_from_variable(json: &str) -> Option<String> {
    match json.parse::<kefu_flow_sdk::Value>() {
        Ok(kefu_flow_sdk::Value::String(id)) if !id.trim().is_empty() => Some(id.trim().to_owned()),
        _ => None,
    }
}

/// Whole minutes, rounded up.
fn minutes(secs: u32) -> u32 {
    secs.div_ceil(60)
}

/// Sends `message` rendered, unless it is empty.
fn send(output: Output, input: &Input<Config>, message: &str, extra: &[(&str, String)]) -> Output {
    if message.is_empty() {
        output
    } else {
        output.send_text(input.render_with(message, extra))
    }
}

/// Leaves by `no-agent` after the no-agent message.
fn no_agent(input: &Input<Config>) -> Output {
    send(
        Output::exit("no-agent"),
        input,
        &input.config().no_agent_message,
        &[],
    )
}

/// The entry step: look at the queue, then queue the session or leave.
fn enter(input: &Input<Config>) -> Result<Output, Error> {
    let config = input.config();
    let group = match config.target() {
        Some(Target::Fixed(id)) => id.to_owned(),
        Some(Target::Variable(name)) => {
            match input.variable_json(name).and_then(group_from_variable) {
                Some(id) => id,
                None => {
                    host::warn(&format!(
                        "transfer: the variable `{name}` does not hold a skill group id; leaving by no-agent"
                    ));
                    return Ok(no_agent(input));
                }
            }
        }
        None => return Err(Error::failed("no skill group configured")),
    };
    let Some(queue) = host::skill_group_queue(&group) else {
        host::warn(&format!(
            "transfer: there is no skill group `{group}`; leaving by no-agent"
        ));
        return Ok(no_agent(input));
    };
    if queue.agents_online == 0 && config.require_online_agent {
        return Ok(no_agent(input));
    }
    let figures = [
        ("WaitNo", queue.sessions_waiting.to_string()),
        (
            "EstimatedWait",
            minutes(queue.estimated_wait_secs).to_string(),
        ),
        ("EstimatedWaitSecs", queue.estimated_wait_secs.to_string()),
    ];
    let output = send(Output::suspend(), input, &config.queued_message, &figures);
    Ok(output.action(Action::transfer_with_priority(group, config.priority)))
}

struct Transfer;

impl FlowModule for Transfer {
    type Config = Config;

    /// The node suspends while the session is queued or with an agent.
    fn waits(_config: &Config) -> bool {
        true
    }

    fn describe() -> ModuleInfo {
        let message = |description: &str, default: &str| {
            json!({
                "description": description,
                "type": "string", "maxLength": MAX_MESSAGE, "default": default
            })
        };
        ModuleInfo::new("transfer", "1.0.0")
            .description("Transfers the session to the human agents of a skill group and waits until it comes back.")
            .config_schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "skill_group_id": {
                        "description": "The skill group's id. Set this or skill_group_variable.",
                        "type": "string", "minLength": 1, "maxLength": MAX_ID
                    },
                    "skill_group_variable": {
                        "description": "The name of a session variable holding the skill group's id as a string. Set this or skill_group_id.",
                        "type": "string", "minLength": 1, "maxLength": MAX_ID
                    },
                    "priority": {
                        "description": "Queue priority: higher is served first.",
                        "type": "integer", "minimum": 0, "maximum": MAX_PRIORITY, "default": DEFAULT_PRIORITY
                    },
                    "require_online_agent": {
                        "description": "Leave by no-agent instead of queueing when no agent of the group is signed in.",
                        "type": "boolean", "default": true
                    },
                    "queued_message": message("Sent when queued; ${WaitNo} is the number of sessions ahead, ${EstimatedWait} the estimated wait in minutes, ${EstimatedWaitSecs} in seconds. Empty sends nothing.", QUEUED_MESSAGE),
                    "no_agent_message": message("Sent when leaving by no-agent. Empty sends nothing.", NO_AGENT_MESSAGE),
                    "failed_message": message("Sent when leaving by failed. Empty sends nothing.", FAILED_MESSAGE)
                },
                "oneOf": [
                    {"required": ["skill_group_id"], "not": {"required": ["skill_group_variable"]}},
                    {"required": ["skill_group_variable"], "not": {"required": ["skill_group_id"]}}
                ],
                "additionalProperties": false
            }))
            .exit("done", "The agent finished or the session with the agent ended")
            .exit("failed", "The transfer failed: queue full, waited too long or nobody accepted")
            .exit("no-agent", "No agent of the group is online, or the skill group does not exist")
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        let problems = check(config);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_config(problems))
        }
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        match input.trigger() {
            Trigger::Entered => enter(&input),
            Trigger::Resumed(ResumeReason::TransferFailed) => Ok(send(
                Output::exit("failed"),
                &input,
                &input.config().failed_message,
                &[],
            )),
            Trigger::Resumed(ResumeReason::AgentFinished | ResumeReason::SessionEnded) => {
                Ok(Output::exit("done"))
            }
            // While queued or with an agent nothing is for this node to do.
            Trigger::UserMessage(_) | Trigger::WaitTimedOut => {
                Ok(Output::suspend().keep_state(&input))
            }
        }
    }
}

kefu_flow_sdk::export!(Transfer);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: kefu_flow_sdk::Value) -> Config {
        serde_json::from_value(json).unwrap()
    }

    fn problems(json: kefu_flow_sdk::Value) -> Vec<(String, String)> {
        check(&config(json))
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    #[test]
    fn takes_the_group_from_an_id_or_a_variable() {
        assert_eq!(
            config(json!({"skill_group_id": "g1"})).target(),
            Some(Target::Fixed("g1"))
        );
        assert_eq!(
            config(json!({"skill_group_variable": "group"})).target(),
            Some(Target::Variable("group"))
        );
        let defaults = config(json!({"skill_group_id": "g1"}));
        assert_eq!(defaults.priority, 5);
        assert!(defaults.require_online_agent);
        assert_eq!(defaults.queued_message, QUEUED_MESSAGE);
    }

    #[test]
    fn reads_a_group_id_from_string_variables_only() {
        assert_eq!(group_from_variable(r#""g2""#), Some("g2".to_owned()));
        assert_eq!(group_from_variable(r#"" g2 ""#), Some("g2".to_owned()));
        assert_eq!(group_from_variable(r#""""#), None);
        assert_eq!(group_from_variable("12"), None);
        assert_eq!(group_from_variable("null"), None);
    }

    #[test]
    fn rounds_the_estimated_wait_up_to_minutes() {
        assert_eq!(minutes(0), 0);
        assert_eq!(minutes(1), 1);
        assert_eq!(minutes(60), 1);
        assert_eq!(minutes(61), 2);
    }

    #[test]
    fn reports_every_problem() {
        assert_eq!(
            problems(json!({})),
            [(
                "".to_owned(),
                "set either `skill_group_id` or `skill_group_variable`".to_owned()
            )]
        );
        assert_eq!(
            problems(json!({
                "skill_group_id": "",
                "skill_group_variable": "g",
                "priority": 11,
                "failed_message": "x".repeat(1001)
            })),
            [
                ("/skill_group_id".to_owned(), "must not be empty".to_owned()),
                (
                    "/failed_message".to_owned(),
                    "is 1001 characters long; at most 1000 are allowed".to_owned()
                ),
                (
                    "/skill_group_variable".to_owned(),
                    "set either `skill_group_id` or `skill_group_variable`, not both".to_owned()
                ),
                (
                    "/priority".to_owned(),
                    "11 is out of range; expected 0 to 10".to_owned()
                ),
            ]
        );
    }
}
