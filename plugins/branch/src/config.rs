//! The node configuration: its types, its JSON Schema and the checks serde cannot make.

use kefu_flow_sdk::{ConfigProblem, Error, Value, json};
use serde::Deserialize;

use crate::matching::{self, compact, normalize};

/// The exit taken when no branch matches.
pub const NO_MATCH: &str = "no-match";
/// The exit taken when the user does not answer in time.
pub const TIMEOUT: &str = "timeout";
/// Names a branch may not take: the fixed exits, and the engine's `error` exit.
const RESERVED: [&str; 3] = [NO_MATCH, TIMEOUT, "error"];

/// Most branches a node may have.
pub const MAX_BRANCHES: usize = 50;
/// Most conditions a branch may have.
pub const MAX_CONDITIONS: usize = 20;
/// Most menu choices.
pub const MAX_CHOICES: usize = 50;
/// Most keywords or exact values of one condition, and values of an `in` list.
pub const MAX_VALUES: usize = 100;
/// Longest keyword, exact value or menu label, in characters.
pub const MAX_WORD_CHARS: usize = 200;
/// Longest branch name, choice id or variable name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest message template (prompt, menu title, re-prompt), in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4000;
/// Longest regular expression, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1000;
/// Longest branch description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 500;
/// Longest wait for a reply: one day.
pub const MAX_TIMEOUT_SECS: u32 = 86_400;
/// Most re-prompts after replies that match nothing.
pub const MAX_REPROMPTS: u32 = 10;

/// The node configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The branches, in the order they are tried.
    pub branches: Vec<Branch>,
    /// A menu sent on entry, whose choices lead to branches.
    #[serde(default)]
    pub menu: Option<Menu>,
    /// A text sent on entry (before the menu, if any).
    #[serde(default)]
    pub prompt: Option<String>,
    /// Whether to wait for the user's reply (`true`) or decide at once on entry.
    #[serde(default = "yes")]
    pub wait_for_reply: bool,
    /// How long to wait for each reply.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u32,
    /// How many times a reply that matches nothing is answered by asking again.
    #[serde(default = "default_max_reprompts")]
    pub max_reprompts: u32,
    /// Sent before asking again; the default is [`DEFAULT_REPROMPT`].
    #[serde(default)]
    pub reprompt_message: Option<String>,
    /// A session variable set to the name of the branch taken.
    #[serde(default)]
    pub store_as: Option<String>,
}

/// The re-prompt sent when `reprompt_message` is absent.
pub const DEFAULT_REPROMPT: &str = "抱歉，没有理解您的回复，请重新选择。";

fn yes() -> bool {
    true
}

fn default_timeout_secs() -> u32 {
    300
}

fn default_max_reprompts() -> u32 {
    2
}

/// One branch: an exit of the node, and when to take it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// The exit's name.
    pub name: String,
    /// What the flow editor shows for the exit.
    #[serde(default)]
    pub description: String,
    /// How the conditions combine.
    #[serde(default, rename = "match")]
    pub combine: Combine,
    /// The conditions; a branch without any is taken only through its menu choices.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// How a branch's conditions combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Every condition holds.
    #[default]
    All,
    /// At least one condition holds.
    Any,
}

/// One condition of a branch.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The reply contains at least one of the keywords.
    KeywordAny { keywords: Vec<String> },
    /// The reply contains every keyword.
    KeywordAll { keywords: Vec<String> },
    /// The reply is one of the values.
    Exact { values: Vec<String> },
    /// The reply matches the regular expression.
    Regex {
        pattern: String,
        #[serde(default = "yes")]
        ignore_case: bool,
    },
    /// The reply picks the menu choice with this id (by its number, id or label).
    Choice { choice: String },
    /// A session variable compares to a value.
    Variable {
        name: String,
        op: Op,
        #[serde(default)]
        value: Option<Value>,
    },
}

impl Condition {
    /// Whether the condition looks at the user's reply (rather than at variables).
    pub fn reads_reply(&self) -> bool {
        !matches!(self, Condition::Variable { .. })
    }
}

/// A comparison of a session variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal to `value` (strings folded for width and case; `"3"` equals `3`).
    Equals,
    /// Not equal to `value`; holds when the variable is missing.
    NotEquals,
    /// The variable is set and not `null`.
    Exists,
    /// The variable is missing or `null`.
    NotExists,
    /// A number less than `value`.
    Lt,
    /// A number less than or equal to `value`.
    Le,
    /// A number greater than `value`.
    Gt,
    /// A number greater than or equal to `value`.
    Ge,
    /// Equal to one of the values of the list `value`.
    In,
    /// Equal to none of the values of the list `value`; holds when it is missing.
    NotIn,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Equals => "equals",
            Op::NotEquals => "not_equals",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::In => "in",
            Op::NotIn => "not_in",
        }
    }
}

/// The menu sent on entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Menu {
    /// The menu's title (a template).
    pub title: String,
    /// The choices, numbered from 1.
    pub choices: Vec<MenuChoice>,
}

/// One choice of the menu.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuChoice {
    /// What a rich client sends back; also accepted typed.
    pub id: String,
    /// What the user sees.
    pub label: String,
    /// The name of the branch the choice leads to.
    pub branch: String,
}

/// The JSON Schema of [`Config`].
pub fn schema() -> Value {
    let strings = |description: &str| {
        json!({
            "description": description,
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_VALUES,
            "items": { "type": "string", "minLength": 1, "maxLength": MAX_WORD_CHARS }
        })
    };
    let reply_condition = |kind: &str, description: &str, properties: Value, required: Value| {
        let mut properties = properties;
        properties["type"] = json!({ "const": kind });
        json!({
            "description": description,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false
        })
    };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "branch",
        "type": "object",
        "properties": {
            "branches": {
                "description": "The branches, tried in order: the first that matches is taken. Each is an exit of the node.",
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BRANCHES,
                "items": { "$ref": "#/$defs/branch" }
            },
            "menu": {
                "description": "A menu sent on entry. Each choice leads to a branch; the user answers with the choice's number, id or label.",
                "type": "object",
                "properties": {
                    "title": {
                        "description": "The menu's title; ${Name} placeholders are filled from the session.",
                        "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_BYTES
                    },
                    "choices": {
                        "type": "array", "minItems": 1, "maxItems": MAX_CHOICES,
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": { "description": "What a rich client sends back; accepted typed too.", "type": "string", "minLength": 1, "maxLength": MAX_NAME_BYTES },
                                "label": { "description": "What the user sees.", "type": "string", "minLength": 1, "maxLength": MAX_WORD_CHARS },
                                "branch": { "description": "The name of the branch this choice leads to.", "type": "string" }
                            },
                            "required": ["id", "label", "branch"],
                            "additionalProperties": false
                        }
                    }
                },
                "required": ["title", "choices"],
                "additionalProperties": false
            },
            "prompt": {
                "description": "A text sent on entry, before the menu if there is one; ${Name} placeholders are filled from the session.",
                "type": "string", "maxLength": MAX_MESSAGE_BYTES
            },
            "wait_for_reply": {
                "description": "true: wait for the user's reply and match it. false: decide at once on entry, from variable conditions only (no menu, no reply conditions).",
                "type": "boolean", "default": true
            },
            "timeout_secs": {
                "description": "How long to wait for each reply before leaving by `timeout`.",
                "type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_SECS, "default": default_timeout_secs()
            },
            "max_reprompts": {
                "description": "How many times a reply that matches nothing is answered with the re-prompt and the question again; after that, `no-match`.",
                "type": "integer", "minimum": 0, "maximum": MAX_REPROMPTS, "default": default_max_reprompts()
            },
            "reprompt_message": {
                "description": "Sent before asking again; ${Name} placeholders are filled from the session. Empty: ask again without it.",
                "type": "string", "maxLength": MAX_MESSAGE_BYTES, "default": DEFAULT_REPROMPT
            },
            "store_as": {
                "description": "A session variable set to the name of the branch taken (and removed on `no-match` or `timeout`).",
                "type": "string", "minLength": 1, "maxLength": MAX_NAME_BYTES
            }
        },
        "required": ["branches"],
        "additionalProperties": false,
        "$defs": {
            "branch": {
                "type": "object",
                "properties": {
                    "name": {
                        "description": "The exit's name: lower-case letters, digits and dashes, not `no-match`, `timeout` or `error`.",
                        "type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"
                    },
                    "description": { "description": "What the flow editor shows for the exit.", "type": "string", "maxLength": MAX_DESCRIPTION_BYTES },
                    "match": {
                        "description": "all: every condition must hold; any: one is enough.",
                        "enum": ["all", "any"], "default": "all"
                    },
                    "conditions": {
                        "description": "When the branch is taken. A branch without conditions is taken only through its menu choices.",
                        "type": "array", "maxItems": MAX_CONDITIONS,
                        "items": { "$ref": "#/$defs/condition" }
                    }
                },
                "required": ["name"],
                "additionalProperties": false
            },
            "condition": {
                "oneOf": [
                    reply_condition("keyword_any", "The reply contains one of the keywords (width, case and punctuation ignored).",
                        json!({ "keywords": strings("The keywords.") }), json!(["type", "keywords"])),
                    reply_condition("keyword_all", "The reply contains every keyword (width, case and punctuation ignored).",
                        json!({ "keywords": strings("The keywords.") }), json!(["type", "keywords"])),
                    reply_condition("exact", "The reply is one of the values (width, case, punctuation and spaces ignored).",
                        json!({ "values": strings("The values.") }), json!(["type", "values"])),
                    reply_condition("regex", "The reply (full-width forms folded to half-width, trimmed) matches the regular expression somewhere; anchor it with ^…$ to match the whole reply.",
                        json!({
                            "pattern": { "type": "string", "minLength": 1, "maxLength": MAX_PATTERN_BYTES },
                            "ignore_case": { "type": "boolean", "default": true }
                        }), json!(["type", "pattern"])),
                    reply_condition("choice", "The reply picks the menu choice with this id, by its number, id or label.",
                        json!({ "choice": { "type": "string" } }), json!(["type", "choice"])),
                    reply_condition("variable", "A session variable compares to a value. Strings compare folded for width and case, and a numeric string equals its number. A missing variable equals nothing.",
                        json!({
                            "name": { "type": "string", "minLength": 1, "maxLength": MAX_NAME_BYTES },
                            "op": { "enum": ["equals", "not_equals", "exists", "not_exists", "lt", "le", "gt", "ge", "in", "not_in"] },
                            "value": { "description": "A scalar for equals/not_equals, a number for lt/le/gt/ge, a list of scalars for in/not_in; absent for exists/not_exists." }
                        }), json!(["type", "name", "op"]))
                ]
            }
        }
    })
}

/// Collects the problems of a configuration, each with its JSON pointer.
#[derive(Debug, Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, message));
    }

    /// Checks that `text` (at `path`) is at most `max` bytes.
    fn max_bytes(&mut self, path: &str, text: &str, max: usize) {
        if text.len() > max {
            self.add(
                path,
                format!("is {} bytes long; at most {max} are allowed", text.len()),
            );
        }
    }
}

/// Everything serde cannot check about a configuration.
pub fn validate(config: &Config) -> Result<(), Error> {
    let mut problems = Problems::default();
    validate_branches(config, &mut problems);
    validate_menu(config, &mut problems);
    validate_messages(config, &mut problems);
    if problems.0.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_config(problems.0))
    }
}

fn validate_branches(config: &Config, problems: &mut Problems) {
    if config.branches.is_empty() {
        problems.add("/branches", "at least one branch is needed");
    }
    if config.branches.len() > MAX_BRANCHES {
        problems.add(
            "/branches",
            format!(
                "{} branches; at most {MAX_BRANCHES} are allowed",
                config.branches.len()
            ),
        );
    }
    for (i, branch) in config.branches.iter().enumerate() {
        let path = format!("/branches/{i}");
        let name = &branch.name;
        if !is_exit_name(name) {
            problems.add(
                format!("{path}/name"),
                format!("branch name `{name}` must be 1 to 64 lower-case letters, digits or dashes, not starting with a dash"),
            );
        } else if RESERVED.contains(&name.as_str()) {
            problems.add(
                format!("{path}/name"),
                format!("branch name `{name}` is taken by a fixed exit of the module"),
            );
        } else if let Some(first) = config.branches[..i].iter().position(|b| &b.name == name) {
            problems.add(
                format!("{path}/name"),
                format!("branch name `{name}` is already used by /branches/{first}"),
            );
        }
        problems.max_bytes(
            &format!("{path}/description"),
            &branch.description,
            MAX_DESCRIPTION_BYTES,
        );
        if branch.conditions.len() > MAX_CONDITIONS {
            problems.add(
                format!("{path}/conditions"),
                format!(
                    "{} conditions; at most {MAX_CONDITIONS} are allowed",
                    branch.conditions.len()
                ),
            );
        }
        let chosen = config
            .menu
            .as_ref()
            .is_some_and(|menu| menu.choices.iter().any(|c| &c.branch == name));
        if branch.conditions.is_empty() && !chosen {
            problems.add(
                format!("{path}/conditions"),
                "the branch can never be taken: give it conditions or bind a menu choice to it",
            );
        }
        for (j, condition) in branch.conditions.iter().enumerate() {
            validate_condition(
                config,
                condition,
                &format!("{path}/conditions/{j}"),
                problems,
            );
        }
    }
}

fn validate_condition(config: &Config, condition: &Condition, path: &str, problems: &mut Problems) {
    if condition.reads_reply() && !config.wait_for_reply {
        problems.add(
            path,
            "a condition on the user's reply needs `wait_for_reply: true`; without waiting only variable conditions can match",
        );
    }
    match condition {
        Condition::KeywordAny { keywords } | Condition::KeywordAll { keywords } => {
            validate_words(keywords, &format!("{path}/keywords"), problems);
        }
        Condition::Exact { values } => validate_words(values, &format!("{path}/values"), problems),
        Condition::Regex {
            pattern,
            ignore_case,
        } => {
            let path = format!("{path}/pattern");
            if pattern.is_empty() {
                problems.add(path, "must not be empty");
            } else if pattern.len() > MAX_PATTERN_BYTES {
                problems.max_bytes(&path, pattern, MAX_PATTERN_BYTES);
            } else if let Err(err) = matching::compile(pattern, *ignore_case) {
                problems.add(path, format!("invalid regex: {err}"));
            }
        }
        Condition::Choice { choice } => {
            let path = format!("{path}/choice");
            match &config.menu {
                None => problems.add(path, "a choice condition needs a menu"),
                Some(menu) if !menu.choices.iter().any(|c| &c.id == choice) => {
                    problems.add(path, format!("no menu choice has the id `{choice}`"));
                }
                Some(_) => {}
            }
        }
        Condition::Variable { name, op, value } => {
            validate_variable_name(name, &format!("{path}/name"), problems);
            validate_operand(*op, value.as_ref(), &format!("{path}/value"), problems);
        }
    }
}

fn validate_words(words: &[String], path: &str, problems: &mut Problems) {
    if words.is_empty() {
        problems.add(path, "at least one is needed");
    }
    if words.len() > MAX_VALUES {
        problems.add(
            path,
            format!("{} given; at most {MAX_VALUES} are allowed", words.len()),
        );
    }
    for (k, word) in words.iter().enumerate() {
        if word.chars().count() > MAX_WORD_CHARS {
            problems.add(
                format!("{path}/{k}"),
                format!("longer than {MAX_WORD_CHARS} characters"),
            );
        } else if normalize(word).is_empty() {
            problems.add(
                format!("{path}/{k}"),
                "is empty once punctuation and spaces are ignored",
            );
        }
    }
}

/// Checks the `value` of a variable condition against its operator.
fn validate_operand(op: Op, value: Option<&Value>, path: &str, problems: &mut Problems) {
    let op_name = op.name();
    match (op, value) {
        (Op::Exists | Op::NotExists, None) => {}
        (Op::Exists | Op::NotExists, Some(_)) => {
            problems.add(path, format!("`{op_name}` takes no value"));
        }
        (_, None) => problems.add(path, format!("`{op_name}` needs a value")),
        (Op::Equals | Op::NotEquals, Some(value)) => {
            if !is_scalar(value) {
                problems.add(
                    path,
                    format!("`{op_name}` compares to a string, number or boolean"),
                );
            }
        }
        (Op::Lt | Op::Le | Op::Gt | Op::Ge, Some(value)) => {
            if !value.is_number() {
                problems.add(path, format!("`{op_name}` compares to a number"));
            }
        }
        (Op::In | Op::NotIn, Some(value)) => match value.as_array() {
            None => problems.add(path, format!("`{op_name}` needs a list of values")),
            Some(list) if list.is_empty() => problems.add(path, "the list is empty"),
            Some(list) if list.len() > MAX_VALUES => problems.add(
                path,
                format!("{} values; at most {MAX_VALUES} are allowed", list.len()),
            ),
            Some(list) => {
                for (k, item) in list.iter().enumerate() {
                    if !is_scalar(item) {
                        problems.add(format!("{path}/{k}"), "must be a string, number or boolean");
                    }
                }
            }
        },
    }
}

fn is_scalar(value: &Value) -> bool {
    value.is_string() || value.is_number() || value.is_boolean()
}

fn validate_menu(config: &Config, problems: &mut Problems) {
    let Some(menu) = &config.menu else {
        return;
    };
    if !config.wait_for_reply {
        problems.add("/wait_for_reply", "a menu needs `wait_for_reply: true`");
    }
    if menu.title.trim().is_empty() {
        problems.add("/menu/title", "must not be empty");
    }
    problems.max_bytes("/menu/title", &menu.title, MAX_MESSAGE_BYTES);
    if menu.choices.is_empty() {
        problems.add("/menu/choices", "at least one choice is needed");
    }
    if menu.choices.len() > MAX_CHOICES {
        problems.add(
            "/menu/choices",
            format!(
                "{} choices; at most {MAX_CHOICES} are allowed",
                menu.choices.len()
            ),
        );
    }
    let count = menu.choices.len();
    for (i, choice) in menu.choices.iter().enumerate() {
        let path = format!("/menu/choices/{i}");
        let earlier = &menu.choices[..i];
        if choice.id.trim().is_empty() {
            problems.add(format!("{path}/id"), "must not be empty");
        } else if choice.id.len() > MAX_NAME_BYTES {
            problems.max_bytes(&format!("{path}/id"), &choice.id, MAX_NAME_BYTES);
        } else if let Some(first) = earlier.iter().position(|c| c.id == choice.id) {
            problems.add(
                format!("{path}/id"),
                format!(
                    "id `{}` is already used by /menu/choices/{first}",
                    choice.id
                ),
            );
        } else if let Some(number) = other_number(&choice.id, i, count) {
            problems.add(
                format!("{path}/id"),
                format!(
                    "id `{}` would be taken for the number of choice {number}",
                    choice.id
                ),
            );
        }
        if normalize(&choice.label).is_empty() {
            problems.add(format!("{path}/label"), "must not be empty");
        } else if choice.label.chars().count() > MAX_WORD_CHARS {
            problems.add(
                format!("{path}/label"),
                format!("longer than {MAX_WORD_CHARS} characters"),
            );
        } else if let Some(first) = earlier
            .iter()
            .position(|c| compact(&c.label) == compact(&choice.label))
        {
            problems.add(
                format!("{path}/label"),
                format!(
                    "label `{}` is the same as /menu/choices/{first}/label",
                    choice.label
                ),
            );
        } else if let Some(number) = other_number(&choice.label, i, count) {
            problems.add(
                format!("{path}/label"),
                format!(
                    "label `{}` would be taken for the number of choice {number}",
                    choice.label
                ),
            );
        }
        if !config.branches.iter().any(|b| b.name == choice.branch) {
            problems.add(
                format!("{path}/branch"),
                format!("no branch is named `{}`", choice.branch),
            );
        }
    }
}

/// The number of another choice that `text` reads as, if any: an id or label `2` on
/// the first of three choices would be ambiguous with choice 2.
fn other_number(text: &str, index: usize, count: usize) -> Option<usize> {
    matching::as_number(&compact(text)).filter(|&n| (1..=count).contains(&n) && n != index + 1)
}

fn validate_messages(config: &Config, problems: &mut Problems) {
    if let Some(prompt) = &config.prompt {
        problems.max_bytes("/prompt", prompt, MAX_MESSAGE_BYTES);
    }
    if let Some(reprompt) = &config.reprompt_message {
        problems.max_bytes("/reprompt_message", reprompt, MAX_MESSAGE_BYTES);
    }
    if !(1..=MAX_TIMEOUT_SECS).contains(&config.timeout_secs) {
        problems.add(
            "/timeout_secs",
            format!("must be between 1 and {MAX_TIMEOUT_SECS} seconds"),
        );
    }
    if config.max_reprompts > MAX_REPROMPTS {
        problems.add("/max_reprompts", format!("at most {MAX_REPROMPTS}"));
    }
    if let Some(name) = &config.store_as {
        validate_variable_name(name, "/store_as", problems);
    }
}

fn validate_variable_name(name: &str, path: &str, problems: &mut Problems) {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid {
        problems.add(
            path,
            format!("variable name `{name}` must be 1 to {MAX_NAME_BYTES} bytes of letters, digits, `_`, `-` or `.`"),
        );
    }
}

/// An exit name kefu accepts: 1 to 64 lower-case letters, digits or dashes, not
/// starting with a dash.
fn is_exit_name(name: &str) -> bool {
    (1..=MAX_NAME_BYTES).contains(&name.len())
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
