//! The node configuration: its types, its JSON Schema and the checks serde cannot make.

use kefu_flow_sdk::{ConfigProblem, Error, Value, json};
use serde::Deserialize;

use crate::check::{self, compact};

/// Longest message template (prompt, re-prompt, confirmation, failure), in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4000;
/// Longest variable name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Most attempts a user may be given.
pub const MAX_ATTEMPTS: u32 = 10;
/// Longest wait for a reply: one day.
pub const MAX_TIMEOUT_SECS: u32 = 86_400;
/// Most characters a `text` input may be required to hold at most.
pub const MAX_TEXT_CHARS: u32 = 10_000;
/// Longest regular expression, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1000;
/// Most options of a `choice` input.
pub const MAX_OPTIONS: usize = 50;
/// Longest option or hint, in characters.
pub const MAX_OPTION_CHARS: usize = 200;

/// The re-prompt sent when `retry_message` is absent; `${problem}` says what was wrong.
pub const DEFAULT_RETRY: &str = "${problem}，请重新输入。";

/// The node configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The question (a template).
    pub prompt: String,
    /// The session variable the accepted value is stored in.
    pub variable: String,
    /// What a valid reply is.
    #[serde(default)]
    pub expect: Expect,
    /// Replies the user may give in all; after the last invalid one, `failed`.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Sent after an invalid reply (a template; `${problem}` says what was wrong).
    #[serde(default)]
    pub retry_message: Option<String>,
    /// Sent when the attempts are exhausted (a template).
    #[serde(default)]
    pub failure_message: Option<String>,
    /// Sent once the value is accepted (a template; `${value}` is the value).
    #[serde(default)]
    pub confirmation: Option<String>,
    /// How long to wait for each reply.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u32,
    /// Leave by `ok` at once, asking nothing, when the variable already has a value.
    #[serde(default)]
    pub skip_if_set: bool,
}

fn default_max_attempts() -> u32 {
    3
}

fn default_timeout_secs() -> u32 {
    300
}

fn default_max_length() -> u32 {
    500
}

fn one() -> u32 {
    1
}

/// What a valid reply is, and how it is stored.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// Any text of `min_length` to `max_length` characters, stored trimmed.
    Text {
        #[serde(default = "one")]
        min_length: u32,
        #[serde(default = "default_max_length")]
        max_length: u32,
    },
    /// A number (an integer only with `integer`), within `min`..=`max`; stored as a
    /// JSON number.
    Number {
        #[serde(default)]
        integer: bool,
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
    /// A Chinese mobile number, stored as its 11 digits; with `international`, any
    /// E.164 number, stored as `+` and its digits (Chinese mobiles as `+86…`).
    Phone {
        #[serde(default)]
        international: bool,
    },
    /// An e-mail address, stored with its domain in lower case.
    Email {},
    /// Text the whole of which matches `pattern`; `hint` describes the format.
    Regex {
        pattern: String,
        #[serde(default)]
        ignore_case: bool,
        #[serde(default)]
        hint: Option<String>,
    },
    /// One of `options`, answered by the option or its number; stored as configured.
    Choice {
        options: Vec<String>,
        #[serde(default)]
        as_menu: bool,
    },
}

impl Default for Expect {
    fn default() -> Self {
        Expect::Text {
            min_length: one(),
            max_length: default_max_length(),
        }
    }
}

/// The JSON Schema of [`Config`].
pub fn schema() -> Value {
    let kind = |name: &str, description: &str, properties: Value| {
        let mut properties = properties;
        properties["type"] = json!({ "const": name });
        json!({
            "description": description,
            "type": "object",
            "properties": properties,
            "required": ["type"],
            "additionalProperties": false
        })
    };
    let mut regex = kind(
        "regex",
        "Text the whole of which (full-width forms folded, ends trimmed) matches the pattern; stored as folded.",
        json!({
            "pattern": { "type": "string", "minLength": 1, "maxLength": MAX_PATTERN_BYTES },
            "ignore_case": { "type": "boolean", "default": false },
            "hint": { "description": "What the format is, for ${problem}; default 格式不正确.", "type": "string", "maxLength": MAX_OPTION_CHARS }
        }),
    );
    regex["required"] = json!(["type", "pattern"]);
    let mut choice = kind(
        "choice",
        "One of the options, answered by the option (width, case and punctuation ignored) or its number; stored as configured.",
        json!({
            "options": {
                "type": "array", "minItems": 1, "maxItems": MAX_OPTIONS,
                "items": { "type": "string", "minLength": 1, "maxLength": MAX_OPTION_CHARS }
            },
            "as_menu": { "description": "Send the prompt as a menu of the options.", "type": "boolean", "default": false }
        }),
    );
    choice["required"] = json!(["type", "options"]);
    let message = |description: &str| json!({ "description": description, "type": "string", "maxLength": MAX_MESSAGE_BYTES });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "collect-input",
        "type": "object",
        "properties": {
            "prompt": {
                "description": "The question; ${Name} placeholders are filled from the session.",
                "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_BYTES
            },
            "variable": {
                "description": "The session variable the accepted, normalised value is stored in.",
                "type": "string", "minLength": 1, "maxLength": MAX_NAME_BYTES
            },
            "expect": {
                "description": "What a valid reply is. Default: text of 1 to 500 characters.",
                "oneOf": [
                    kind("text", "Any text, stored trimmed.", json!({
                        "min_length": { "type": "integer", "minimum": 0, "maximum": MAX_TEXT_CHARS, "default": 1 },
                        "max_length": { "type": "integer", "minimum": 1, "maximum": MAX_TEXT_CHARS, "default": default_max_length() }
                    })),
                    kind("number", "A number (full-width digits and thousands separators accepted), stored as a JSON number.", json!({
                        "integer": { "description": "Refuse decimals.", "type": "boolean", "default": false },
                        "min": { "type": "number" },
                        "max": { "type": "number" }
                    })),
                    kind("phone", "A Chinese mobile number (1[3-9] and 9 digits; +86, spaces and dashes allowed), stored as 11 digits.", json!({
                        "international": { "description": "Also accept any E.164 number (+ or 00, then up to 15 digits); every number is then stored as + and its digits.", "type": "boolean", "default": false }
                    })),
                    kind("email", "An e-mail address, stored with its domain in lower case.", json!({})),
                    regex,
                    choice
                ]
            },
            "max_attempts": {
                "description": "Replies the user may give in all; after the last invalid one the node leaves by `failed`.",
                "type": "integer", "minimum": 1, "maximum": MAX_ATTEMPTS, "default": default_max_attempts()
            },
            "retry_message": message("Sent after an invalid reply; ${problem} says what was wrong, ${attempts_left} how many replies remain. Default: ${problem}，请重新输入。"),
            "failure_message": message("Sent when the attempts are exhausted, before leaving by `failed`."),
            "confirmation": message("Sent once the value is accepted; ${value} is the stored value."),
            "timeout_secs": {
                "description": "How long to wait for each reply before leaving by `timeout`.",
                "type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_SECS, "default": default_timeout_secs()
            },
            "skip_if_set": {
                "description": "Leave by `ok` at once, asking nothing, when the variable already has a (non-null) value.",
                "type": "boolean", "default": false
            }
        },
        "required": ["prompt", "variable"],
        "additionalProperties": false
    })
}

/// Every problem serde cannot find, each with its JSON pointer.
pub fn validate(config: &Config) -> Result<(), Error> {
    let mut problems = Vec::new();
    let mut add = |path: &str, message: String| problems.push(ConfigProblem::new(path, message));
    let too_long = |text: &str, max: usize| {
        (text.len() > max)
            .then(|| format!("is {} bytes long; at most {max} are allowed", text.len()))
    };

    if config.prompt.trim().is_empty() {
        add("/prompt", "must not be empty".into());
    }
    let messages = [
        ("/prompt", Some(&config.prompt)),
        ("/retry_message", config.retry_message.as_ref()),
        ("/failure_message", config.failure_message.as_ref()),
        ("/confirmation", config.confirmation.as_ref()),
    ];
    for (path, text) in messages {
        if let Some(message) = text.and_then(|t| too_long(t, MAX_MESSAGE_BYTES)) {
            add(path, message);
        }
    }
    let name = &config.variable;
    let valid_name = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid_name {
        add(
            "/variable",
            format!(
                "variable name `{name}` must be 1 to {MAX_NAME_BYTES} bytes of letters, digits, `_`, `-` or `.`"
            ),
        );
    }
    if !(1..=MAX_ATTEMPTS).contains(&config.max_attempts) {
        add(
            "/max_attempts",
            format!("must be between 1 and {MAX_ATTEMPTS}"),
        );
    }
    if !(1..=MAX_TIMEOUT_SECS).contains(&config.timeout_secs) {
        add(
            "/timeout_secs",
            format!("must be between 1 and {MAX_TIMEOUT_SECS} seconds"),
        );
    }
    validate_expect(&config.expect, &mut add);

    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_config(problems))
    }
}

fn validate_expect(expect: &Expect, add: &mut impl FnMut(&str, String)) {
    match expect {
        Expect::Text {
            min_length,
            max_length,
        } => {
            if !(1..=MAX_TEXT_CHARS).contains(max_length) {
                add(
                    "/expect/max_length",
                    format!("must be between 1 and {MAX_TEXT_CHARS}"),
                );
            } else if min_length > max_length {
                add(
                    "/expect/min_length",
                    format!("{min_length} is more than max_length {max_length}"),
                );
            }
        }
        Expect::Number { min, max, .. } => {
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                add("/expect/min", format!("{min} is more than max {max}"));
            }
        }
        Expect::Phone { .. } | Expect::Email {} => {}
        Expect::Regex {
            pattern,
            ignore_case,
            hint,
        } => {
            if pattern.is_empty() {
                add("/expect/pattern", "must not be empty".into());
            } else if pattern.len() > MAX_PATTERN_BYTES {
                add(
                    "/expect/pattern",
                    format!(
                        "is {} bytes long; at most {MAX_PATTERN_BYTES} are allowed",
                        pattern.len()
                    ),
                );
            } else if let Err(err) = check::compile(pattern, *ignore_case) {
                add("/expect/pattern", format!("invalid regex: {err}"));
            }
            if hint
                .as_ref()
                .is_some_and(|h| h.chars().count() > MAX_OPTION_CHARS)
            {
                add(
                    "/expect/hint",
                    format!("longer than {MAX_OPTION_CHARS} characters"),
                );
            }
        }
        Expect::Choice { options, .. } => validate_options(options, add),
    }
}

fn validate_options(options: &[String], add: &mut impl FnMut(&str, String)) {
    if options.is_empty() {
        add("/expect/options", "at least one option is needed".into());
    }
    if options.len() > MAX_OPTIONS {
        add(
            "/expect/options",
            format!(
                "{} options; at most {MAX_OPTIONS} are allowed",
                options.len()
            ),
        );
    }
    for (i, option) in options.iter().enumerate() {
        let path = format!("/expect/options/{i}");
        let folded = compact(option);
        if folded.is_empty() {
            add(
                &path,
                "is empty once punctuation and spaces are ignored".into(),
            );
        } else if option.chars().count() > MAX_OPTION_CHARS {
            add(&path, format!("longer than {MAX_OPTION_CHARS} characters"));
        } else if let Some(first) = options[..i].iter().position(|o| compact(o) == folded) {
            add(
                &path,
                format!("`{option}` is the same as /expect/options/{first}"),
            );
        } else if let Some(n) =
            check::as_number(&folded).filter(|n| (1..=options.len()).contains(n) && *n != i + 1)
        {
            add(
                &path,
                format!("`{option}` would be taken for the number of option {n}"),
            );
        }
    }
}
