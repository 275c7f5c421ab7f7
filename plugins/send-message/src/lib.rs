//! The built-in `send-message` flow module (TCCC's "send message" / welcome module):
//! sends one or more messages, in order, then leaves by `next`.
//!
//! # Configuration
//!
//! ```json
//! {
//!   "messages": [
//!     { "text": "您好 ${SystemClientNickName}，欢迎来到 ${ClientAppName}！" },
//!     { "menu": {
//!         "title": "请问需要什么帮助？",
//!         "choices": [
//!           { "id": "order", "label": "查询订单" },
//!           { "label": "人工客服" }
//!         ]
//!     } },
//!     { "custom": { "data": "{\"card\":\"faq\"}", "desc": "常见问题", "ext": "" } }
//!   ]
//! }
//! ```
//!
//! - `messages` (required, 1–20): each one is exactly one of
//!   - `{"text": "…"}`: a text message (1–4000 characters);
//!   - `{"menu": {"title": "…", "choices": [{"id": "…", "label": "…"}]}}`: a message
//!     with choices that the channel shows as buttons or a numbered list. `title` is up
//!     to 1000 characters (may be empty); 1–20 `choices`, each with a `label` (1–200
//!     characters) and an optional `id` (1–64 characters, unique within the menu) that
//!     a rich client sends back; a choice without `id` gets its 1-based position
//!     (`"1"`, `"2"`, …). A later node (a branch, a collect-input) reads the answer.
//!   - `{"custom": {"data": "…", "desc": "…", "ext": "…"}}`: an IM `TIMCustomElem`;
//!     `data` (1–8000 characters) is sent exactly as configured, `desc` and `ext`
//!     (up to 1000 characters each) are optional.
//!
//! # Placeholders
//!
//! Texts, menu titles, choice labels and the `desc`/`ext` of custom messages may
//! contain `${Name}` placeholders, filled when the message is sent: TCCC's `${WaitNo}`,
//! `${StaffNo}`, `${StaffNickName}`, `${ClientAppID}`, `${ClientAppName}` (set by kefu
//! when it knows them), `${SystemClientUserID}`, `${SystemClientNickName}`, and any
//! session variable by its name. A placeholder without a value becomes nothing; `$${`
//! writes a literal `${`. See the SDK's `template` module. A custom message's `data`
//! is not filled: it is usually JSON, which a value could break.
//!
//! # Exits
//!
//! - `next`: always, right after the messages are sent. The module never waits.

use std::collections::HashSet;

use kefu_flow_sdk::{ConfigProblem, Error, FlowModule, Input, ModuleInfo, Output, json};
use serde::Deserialize;

const MAX_MESSAGES: usize = 20;
const MAX_TEXT: usize = 4000;
const MAX_TITLE: usize = 1000;
const MAX_CHOICES: usize = 20;
const MAX_LABEL: usize = 200;
const MAX_ID: usize = 64;
const MAX_DATA: usize = 8000;
const MAX_DESC: usize = 1000;

/// The node configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Sent in order.
    messages: Vec<Message>,
}

/// One message to send.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Message {
    Text(String),
    Menu(MenuConfig),
    Custom(CustomConfig),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MenuConfig {
    #[serde(default)]
    title: String,
    choices: Vec<ChoiceConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceConfig {
    #[serde(default)]
    id: Option<String>,
    label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomConfig {
    data: String,
    #[serde(default)]
    desc: String,
    #[serde(default)]
    ext: String,
}

impl ChoiceConfig {
    /// The id sent with the choice: the configured one, or the 1-based position.
    fn id(&self, index: usize) -> String {
        self.id.clone().unwrap_or_else(|| (index + 1).to_string())
    }
}

/// Collects configuration problems, each with the JSON pointer of its value.
#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, message));
    }

    /// Checks that the text at `path` has between `min` and `max` characters.
    fn length(&mut self, path: &str, text: &str, min: usize, max: usize) {
        let count = text.chars().count();
        if count < min {
            self.add(path, "must not be empty");
        } else if count > max {
            self.add(
                path,
                format!("is {count} characters long; at most {max} are allowed"),
            );
        }
    }

    fn count(&mut self, path: &str, len: usize, min: usize, max: usize, what: &str) {
        if len == 0 && min > 0 {
            self.add(path, "must not be empty");
        } else if len < min {
            self.add(path, format!("has {len} {what}; at least {min} are needed"));
        } else if len > max {
            self.add(path, format!("has {len} {what}; at most {max} are allowed"));
        }
    }

    fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_config(self.0))
        }
    }
}

fn check(config: &Config) -> Problems {
    let mut problems = Problems::default();
    problems.count(
        "/messages",
        config.messages.len(),
        1,
        MAX_MESSAGES,
        "messages",
    );
    for (i, message) in config.messages.iter().enumerate() {
        let at = format!("/messages/{i}");
        match message {
            Message::Text(text) => problems.length(&format!("{at}/text"), text, 1, MAX_TEXT),
            Message::Menu(menu) => {
                let at = format!("{at}/menu");
                problems.length(&format!("{at}/title"), &menu.title, 0, MAX_TITLE);
                problems.count(
                    &format!("{at}/choices"),
                    menu.choices.len(),
                    1,
                    MAX_CHOICES,
                    "choices",
                );
                let mut ids = HashSet::new();
                for (j, choice) in menu.choices.iter().enumerate() {
                    let at = format!("{at}/choices/{j}");
                    problems.length(&format!("{at}/label"), &choice.label, 1, MAX_LABEL);
                    if let Some(id) = &choice.id {
                        problems.length(&format!("{at}/id"), id, 1, MAX_ID);
                    }
                    let id = choice.id(j);
                    if !ids.insert(id.clone()) {
                        problems.add(
                            format!("{at}/id"),
                            format!("the id `{id}` is used by an earlier choice of this menu"),
                        );
                    }
                }
            }
            Message::Custom(custom) => {
                let at = format!("{at}/custom");
                problems.length(&format!("{at}/data"), &custom.data, 1, MAX_DATA);
                problems.length(&format!("{at}/desc"), &custom.desc, 0, MAX_DESC);
                problems.length(&format!("{at}/ext"), &custom.ext, 0, MAX_DESC);
            }
        }
    }
    problems
}

struct SendMessage;

impl FlowModule for SendMessage {
    type Config = Config;

    fn describe() -> ModuleInfo {
        let text = json!({
            "description": "A text message; ${Name} placeholders are filled from the session.",
            "type": "string", "minLength": 1, "maxLength": MAX_TEXT
        });
        let menu = json!({
            "description": "A message with choices, shown as buttons or a numbered list.",
            "type": "object",
            "properties": {
                "title": {
                    "description": "Shown above the choices; ${Name} placeholders are filled.",
                    "type": "string", "maxLength": MAX_TITLE, "default": ""
                },
                "choices": {
                    "type": "array", "minItems": 1, "maxItems": MAX_CHOICES,
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {
                                "description": "What a rich client sends back; defaults to the choice's 1-based position. Unique within the menu.",
                                "type": "string", "minLength": 1, "maxLength": MAX_ID
                            },
                            "label": {
                                "description": "What the user sees; ${Name} placeholders are filled.",
                                "type": "string", "minLength": 1, "maxLength": MAX_LABEL
                            }
                        },
                        "required": ["label"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["choices"],
            "additionalProperties": false
        });
        let custom = json!({
            "description": "An IM custom element (TIMCustomElem).",
            "type": "object",
            "properties": {
                "data": {
                    "description": "The payload, usually JSON; sent exactly as configured.",
                    "type": "string", "minLength": 1, "maxLength": MAX_DATA
                },
                "desc": {
                    "description": "Description; ${Name} placeholders are filled.",
                    "type": "string", "maxLength": MAX_DESC, "default": ""
                },
                "ext": {
                    "description": "Extension field; ${Name} placeholders are filled.",
                    "type": "string", "maxLength": MAX_DESC, "default": ""
                }
            },
            "required": ["data"],
            "additionalProperties": false
        });
        ModuleInfo::new("send-message", "1.0.0")
            .description("Sends one or more messages (text, menu, custom data) in order, then goes on.")
            .config_schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "messages": {
                        "description": "The messages to send, in order. Each has exactly one of `text`, `menu` or `custom`.",
                        "type": "array", "minItems": 1, "maxItems": MAX_MESSAGES,
                        "items": {
                            "oneOf": [
                                {"type": "object", "properties": {"text": text}, "required": ["text"], "additionalProperties": false},
                                {"type": "object", "properties": {"menu": menu}, "required": ["menu"], "additionalProperties": false},
                                {"type": "object", "properties": {"custom": custom}, "required": ["custom"], "additionalProperties": false}
                            ]
                        }
                    }
                },
                "required": ["messages"],
                "additionalProperties": false
            }))
            .exit("next", "After the messages have been sent")
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        check(config).into_result()
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        let mut output = Output::exit("next");
        for message in &input.config().messages {
            output = match message {
                Message::Text(text) => output.send_text(input.render(text)),
                Message::Menu(menu) => output.send_menu(
                    input.render(&menu.title),
                    menu.choices
                        .iter()
                        .enumerate()
                        .map(|(i, choice)| (choice.id(i), input.render(&choice.label))),
                ),
                Message::Custom(custom) => output.send_custom(
                    custom.data.clone(),
                    input.render(&custom.desc),
                    input.render(&custom.ext),
                ),
            };
        }
        Ok(output)
    }
}

kefu_flow_sdk::export!(SendMessage);

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(config: serde_json::Value) -> Vec<(String, String)> {
        let config: Config = serde_json::from_value(config).unwrap();
        check(&config)
            .0
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    #[test]
    fn accepts_every_kind_of_message() {
        let found = problems(json!({"messages": [
            {"text": "hi ${WaitNo}"},
            {"menu": {"title": "t", "choices": [{"label": "a"}, {"id": "x", "label": "b"}]}},
            {"custom": {"data": "{}"}}
        ]}));
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let found = problems(json!({"messages": [
            {"text": ""},
            {"menu": {"choices": [{"label": "a"}, {"id": "1", "label": ""}]}},
            {"menu": {"choices": []}},
            {"custom": {"data": "", "desc": "x".repeat(1001)}}
        ]}));
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/messages/0/text",
                "/messages/1/menu/choices/1/label",
                "/messages/1/menu/choices/1/id",
                "/messages/2/menu/choices",
                "/messages/3/custom/data",
                "/messages/3/custom/desc",
            ]
        );
        assert_eq!(
            found[2].1,
            "the id `1` is used by an earlier choice of this menu"
        );
        assert_eq!(
            found[5].1,
            "is 1001 characters long; at most 1000 are allowed"
        );
    }

    #[test]
    fn needs_between_one_and_twenty_messages() {
        assert_eq!(
            problems(json!({"messages": []})),
            [("/messages".to_owned(), "must not be empty".to_owned())]
        );
        let many: Vec<_> = (0..21).map(|_| json!({"text": "x"})).collect();
        assert_eq!(
            problems(json!({ "messages": many }))[0].1,
            "has 21 messages; at most 20 are allowed"
        );
    }
}
