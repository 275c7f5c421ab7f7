//! Conversions between the WIT types of `kefu:flow` and the flow engine's own types, and
//! the checks every guest answer must pass before kefu believes it: sizes, counts, and
//! names that must exist.

use super::bindings::{guest, wit};
use super::limits::Limits;
use crate::flow::{self, ModuleInfo};

pub fn input(i: flow::StepInput) -> wit::StepInput {
    wit::StepInput {
        session: wit::SessionInfo {
            id: i.session.id,
            tenant_id: i.session.tenant_id,
            channel_id: i.session.channel_id,
            user_id: i.session.user_id,
            user_nickname: i.session.user_nickname,
        },
        node_id: i.node_id,
        trigger: match i.trigger {
            flow::Trigger::Entered => wit::Trigger::Entered,
            flow::Trigger::UserMessage(m) => wit::Trigger::UserMessage(wit::UserMessage {
                elements: m.elements.into_iter().map(element).collect(),
                text: m.text,
                sent_at_ms: m.sent_at_ms,
            }),
            flow::Trigger::WaitTimedOut => wit::Trigger::WaitTimedOut,
            flow::Trigger::Resumed(r) => wit::Trigger::Resumed(match r {
                flow::ResumeReason::TransferFailed => wit::ResumeReason::TransferFailed,
                flow::ResumeReason::AgentFinished => wit::ResumeReason::AgentFinished,
                flow::ResumeReason::SessionEnded => wit::ResumeReason::SessionEnded,
            }),
        },
        config: i.config,
        prepared: i.prepared,
        variables: i
            .variables
            .into_iter()
            .map(|v| wit::Variable {
                name: v.name,
                value: v.value,
            })
            .collect(),
        state: i.state,
        turn: i.turn,
    }
}

fn element(e: flow::MessageElement) -> wit::MessageElement {
    match e {
        flow::MessageElement::Text(t) => wit::MessageElement::Text(t),
        flow::MessageElement::Custom(c) => wit::MessageElement::Custom(custom(c)),
        flow::MessageElement::Other { msg_type, content } => {
            wit::MessageElement::Other(wit::OtherElement { msg_type, content })
        }
    }
}

fn custom(c: flow::CustomElement) -> wit::CustomElement {
    wit::CustomElement {
        data: c.data,
        desc: c.desc,
        ext: c.ext,
    }
}

/// Why a guest's answer was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// Bigger than the module's limits allow.
    Oversized(String),
    /// Well-formed but meaningless (an exit the module does not have, …).
    Invalid(String),
}

/// Counts bytes against the output budget and checks each string on the way.
struct Budget<'a> {
    limits: &'a Limits,
    used: u64,
}

impl Budget<'_> {
    fn take(&mut self, what: &str, len: usize) -> Result<(), Rejected> {
        let len = len as u64;
        if len > self.limits.max_string_bytes && what != "state" {
            return Err(Rejected::Oversized(format!(
                "{what} is {len} bytes, over the limit of {}",
                self.limits.max_string_bytes
            )));
        }
        self.used = self.used.saturating_add(len);
        if self.used > self.limits.max_output_bytes {
            return Err(Rejected::Oversized(format!(
                "the output is over {} bytes",
                self.limits.max_output_bytes
            )));
        }
        Ok(())
    }
}

/// Checks and converts a step's output.
///
/// `exits` are the exits the node may leave by: what `validate-config` answered for
/// its configuration, or, when the caller has none, the module's own from `describe`.
pub fn output(
    o: wit::StepOutput,
    info: &ModuleInfo,
    exits: Option<&[String]>,
    limits: &Limits,
) -> Result<flow::StepOutput, Rejected> {
    if o.actions.len() > limits.max_actions as usize {
        return Err(Rejected::Oversized(format!(
            "{} actions, over the limit of {}",
            o.actions.len(),
            limits.max_actions
        )));
    }
    let mut budget = Budget { limits, used: 0 };
    if let Some(state) = &o.state {
        if state.len() as u64 > limits.max_state_bytes {
            return Err(Rejected::Oversized(format!(
                "the private state is {} bytes, over the limit of {}",
                state.len(),
                limits.max_state_bytes
            )));
        }
        budget.take("state", state.len())?;
    }
    let mut actions = Vec::with_capacity(o.actions.len());
    for a in o.actions {
        actions.push(action(a, &mut budget)?);
    }
    let next = match o.next {
        wit::Next::Exit(name) => {
            let known = match exits {
                Some(exits) => exits.contains(&name),
                None => info.exits.iter().any(|e| e.name == name),
            };
            if !known {
                return Err(Rejected::Invalid(format!(
                    "exit {name:?} is not one of the node's exits"
                )));
            }
            flow::Next::Exit { exit: name }
        }
        wit::Next::Wait(ms) => {
            if ms == 0 || ms > MAX_WAIT_MS {
                return Err(Rejected::Invalid(format!(
                    "a wait of {ms} ms is outside 1 ms – 30 days"
                )));
            }
            flow::Next::Wait { timeout_ms: ms }
        }
        wit::Next::Suspend => flow::Next::Suspend,
    };
    Ok(flow::StepOutput {
        actions,
        next,
        state: o.state,
    })
}

/// Longest wait a module may ask for.
pub const MAX_WAIT_MS: u64 = 30 * 24 * 3600 * 1000;

fn action(a: wit::Action, budget: &mut Budget<'_>) -> Result<flow::Action, Rejected> {
    Ok(match a {
        wit::Action::Send(out) => flow::Action::Send {
            message: match out {
                wit::Outgoing::Text(t) => {
                    budget.take("a message text", t.len())?;
                    flow::Outgoing::Text { text: t }
                }
                wit::Outgoing::Menu(m) => {
                    budget.take("a menu title", m.title.len())?;
                    if m.choices.len() > MAX_CHOICES {
                        return Err(Rejected::Oversized(format!(
                            "a menu has over {MAX_CHOICES} choices"
                        )));
                    }
                    let mut choices = Vec::with_capacity(m.choices.len());
                    for c in m.choices {
                        budget.take("a choice", c.id.len() + c.label.len())?;
                        choices.push(flow::Choice {
                            id: c.id,
                            label: c.label,
                        });
                    }
                    flow::Outgoing::Menu {
                        title: m.title,
                        choices,
                    }
                }
                wit::Outgoing::Custom(c) => {
                    budget.take(
                        "a custom element",
                        c.data.len() + c.desc.len() + c.ext.len(),
                    )?;
                    flow::Outgoing::Custom(flow::CustomElement {
                        data: c.data,
                        desc: c.desc,
                        ext: c.ext,
                    })
                }
            },
        },
        wit::Action::SetVariable(v) => {
            variable_name(&v.name)?;
            budget.take("a variable value", v.value.len())?;
            if serde_json::from_str::<serde::de::IgnoredAny>(&v.value).is_err() {
                return Err(Rejected::Invalid(format!(
                    "variable {:?} is not set to valid JSON",
                    v.name
                )));
            }
            flow::Action::SetVariable(flow::Variable {
                name: v.name,
                value: v.value,
            })
        }
        wit::Action::UnsetVariable(name) => {
            variable_name(&name)?;
            flow::Action::UnsetVariable { name }
        }
        wit::Action::Transfer(t) => {
            if t.skill_group_id.is_empty() || t.skill_group_id.len() > 64 {
                return Err(Rejected::Invalid(
                    "a transfer names no valid skill group".into(),
                ));
            }
            if t.priority > 10 {
                return Err(Rejected::Invalid(format!(
                    "transfer priority {} is outside 0–10",
                    t.priority
                )));
            }
            flow::Action::Transfer(flow::Transfer {
                skill_group_id: t.skill_group_id,
                priority: t.priority,
            })
        }
        wit::Action::EndSession(status) => {
            if !END_STATUSES.contains(&status) {
                return Err(Rejected::Invalid(format!(
                    "end status {status} is not a known end status"
                )));
            }
            flow::Action::EndSession { end_status: status }
        }
        wit::Action::Survey(s) => flow::Action::Survey {
            survey: match s {
                wit::SurveyAction::Invited => flow::SurveyAction::Invited,
                wit::SurveyAction::Rated(r) => {
                    if !(1..=5).contains(&r.score) {
                        return Err(Rejected::Invalid(format!(
                            "satisfaction score {} is outside 1–5",
                            r.score
                        )));
                    }
                    budget.take(
                        "a survey comment",
                        r.label.len() + r.comment.as_ref().map_or(0, String::len),
                    )?;
                    flow::SurveyAction::Record {
                        score: r.score,
                        label: r.label,
                        comment: r.comment,
                    }
                }
            },
        },
    })
}

/// TCCC's session end statuses.
pub const END_STATUSES: [u16; 8] = [0, 1, 3, 17, 100, 101, 102, 108];
/// Most choices in one menu.
pub const MAX_CHOICES: usize = 50;

fn variable_name(name: &str) -> Result<(), Rejected> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Rejected::Invalid(format!(
            "{name:?} is not a valid variable name"
        )))
    }
}

pub fn module_error(e: guest::ModuleError) -> flow::ModuleError {
    match e {
        wit::ModuleError::InvalidConfig(problems) => flow::ModuleError::InvalidConfig(
            problems
                .into_iter()
                .take(100)
                .map(|p| flow::ConfigProblem {
                    path: truncate(p.path, 256),
                    message: truncate(p.message, 1024),
                })
                .collect(),
        ),
        wit::ModuleError::Failed(msg) => flow::ModuleError::Failed(truncate(msg, 2048)),
    }
}

/// Checks and converts what `describe()` returned.
pub fn module_info(i: guest::ModuleInfo) -> Result<ModuleInfo, String> {
    if !valid_name(&i.name) {
        return Err(format!(
            "module name {:?} must be 1–64 lower-case letters, digits or dashes",
            i.name
        ));
    }
    if !valid_version(&i.version) {
        return Err(format!(
            "module version {:?} is not a semantic version like 1.2.0",
            i.version
        ));
    }
    if i.description.len() > 2048 {
        return Err("the description is over 2048 bytes".into());
    }
    let schema: serde_json::Value = serde_json::from_str(&i.config_schema)
        .map_err(|e| format!("the configuration schema is not JSON: {e}"))?;
    if !schema.is_object() && !schema.is_boolean() {
        return Err("the configuration schema must be a JSON object".into());
    }
    if i.config_schema.len() > 256 * 1024 {
        return Err("the configuration schema is over 256 KiB".into());
    }
    let exits = exits(i.exits)?;
    Ok(ModuleInfo {
        name: i.name,
        version: i.version,
        description: i.description,
        config_schema: schema,
        exits,
    })
}

/// Checks and converts a module's list of exits (from `describe` or `validate-config`).
pub fn exits(list: Vec<wit::ExitInfo>) -> Result<Vec<flow::ExitInfo>, String> {
    if list.len() > MAX_EXITS {
        return Err(format!("a module may have at most {MAX_EXITS} exits"));
    }
    let mut exits = Vec::with_capacity(list.len());
    for e in list {
        if !valid_name(&e.name) {
            return Err(format!(
                "exit name {:?} must be lower-case letters, digits or dashes",
                e.name
            ));
        }
        if exits.iter().any(|x: &flow::ExitInfo| x.name == e.name) {
            return Err(format!("exit {:?} is listed twice", e.name));
        }
        exits.push(flow::ExitInfo {
            name: e.name,
            description: truncate(e.description, 512),
        });
    }
    Ok(exits)
}

/// Most exits a module or a node may have.
pub const MAX_EXITS: usize = 64;

pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// `MAJOR.MINOR.PATCH` with an optional `-pre` part.
pub fn valid_version(v: &str) -> bool {
    let core = v
        .split_once('-')
        .map_or(v, |(c, pre)| if pre.is_empty() { "" } else { c });
    let parts: Vec<&str> = core.split('.').collect();
    v.len() <= 32
        && parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ModuleInfo {
        ModuleInfo {
            name: "m".into(),
            version: "1.0.0".into(),
            description: String::new(),
            config_schema: serde_json::json!({}),
            exits: vec![flow::ExitInfo {
                name: "next".into(),
                description: String::new(),
            }],
        }
    }

    fn out(actions: Vec<wit::Action>, next: wit::Next) -> wit::StepOutput {
        wit::StepOutput {
            actions,
            next,
            state: None,
        }
    }

    #[test]
    fn accepts_a_normal_answer() {
        let o = out(
            vec![wit::Action::Send(wit::Outgoing::Text("hi".into()))],
            wit::Next::Exit("next".into()),
        );
        let converted = output(o, &info(), None, &Limits::default()).unwrap();
        assert_eq!(
            converted.next,
            flow::Next::Exit {
                exit: "next".into()
            }
        );
    }

    #[test]
    fn refuses_unknown_exits_and_bad_values() {
        let limits = Limits::default();
        let o = out(vec![], wit::Next::Exit("elsewhere".into()));
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Invalid(_))
        ));
        // A node's configuration may add exits (a branch's named branches); when the
        // caller passes them, they are what a step may leave by.
        let node_exits = ["next".to_owned(), "refund".to_owned()];
        let o = out(vec![], wit::Next::Exit("refund".into()));
        assert!(output(o, &info(), Some(&node_exits), &limits).is_ok());
        let o = out(vec![], wit::Next::Exit("refund".into()));
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Invalid(_))
        ));
        let o = out(vec![wit::Action::EndSession(42)], wit::Next::Suspend);
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Invalid(_))
        ));
        let v = wit::Variable {
            name: "x".into(),
            value: "{not json".into(),
        };
        let o = out(vec![wit::Action::SetVariable(v)], wit::Next::Suspend);
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Invalid(_))
        ));
        let o = out(vec![], wit::Next::Wait(0));
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Invalid(_))
        ));
    }

    #[test]
    fn enforces_sizes() {
        let limits = Limits {
            max_actions: 2,
            max_string_bytes: 10,
            max_output_bytes: 15,
            ..Limits::default()
        };
        let text = |s: &str| wit::Action::Send(wit::Outgoing::Text(s.into()));
        let o = out(vec![text("a"), text("b"), text("c")], wit::Next::Suspend);
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Oversized(_))
        ));
        let o = out(vec![text("01234567890")], wit::Next::Suspend);
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Oversized(_))
        ));
        let o = out(
            vec![text("0123456789"), text("0123456789")],
            wit::Next::Suspend,
        );
        assert!(matches!(
            output(o, &info(), None, &limits),
            Err(Rejected::Oversized(_))
        ));
    }

    #[test]
    fn versions_and_names() {
        for ok in ["1.0.0", "0.12.3", "2.0.0-beta.1"] {
            assert!(valid_version(ok), "{ok}");
        }
        for bad in ["1.0", "01.0.0", "1.0.0-", "v1.0.0", "1.x.0"] {
            assert!(!valid_version(bad), "{bad}");
        }
        assert!(valid_name("text-bot"));
        assert!(!valid_name("Text Bot"));
    }
}
