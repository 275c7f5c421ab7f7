//! The built-in `collect-input` flow module: asks the user for a value, checks the
//! reply, asks again while it is invalid, and stores the normalised value in a session
//! variable.
//!
//! # Configuration
//!
//! ```json
//! {
//!   "prompt": "${SystemClientNickName}，请输入您的手机号码：",
//!   "variable": "phone",
//!   "expect": { "type": "phone", "international": false },
//!   "max_attempts": 3,
//!   "retry_message": "${problem}（还可以输入 ${attempts_left} 次）",
//!   "failure_message": "抱歉，无法识别您的号码。",
//!   "confirmation": "好的，已记录号码 ${value}。",
//!   "timeout_secs": 300,
//!   "skip_if_set": false
//! }
//! ```
//!
//! - `prompt` (required): the question, a template (`${Name}` placeholders are
//!   filled from the session).
//! - `variable` (required): the session variable the accepted value is stored in.
//! - `expect` (default: text of 1 to 500 characters): what a valid reply is —
//!   - `{"type": "text", "min_length": 1, "max_length": 500}`: any text, in
//!     characters, stored trimmed;
//!   - `{"type": "number", "integer": false, "min": 0, "max": 100}`: a number
//!     (full-width digits, `+`/`-`, thousands separators and a trailing `。`
//!     accepted), stored as a JSON number — an integer when it is whole (`3.0` → `3`);
//!   - `{"type": "phone", "international": false}`: a Chinese mobile number
//!     (`1[3-9]` and 9 digits, with an optional `+86`/`0086`/`86` and any spaces,
//!     dashes, dots or brackets), stored as its 11 digits. With `international: true`
//!     any E.164 number (`+` or `00`, a country code, 7 to 15 digits in all) is also
//!     accepted, and every number is stored as `+` and its digits (`+8613812345678`);
//!   - `{"type": "email"}`: an e-mail address, stored with its domain in lower case;
//!   - `{"type": "regex", "pattern": "…", "ignore_case": false, "hint": "…"}`: the
//!     reply, full-width forms folded to half-width and its ends trimmed, must match
//!     as a whole; stored so folded. `hint` is the problem the user is told;
//!   - `{"type": "choice", "options": ["是", "否"], "as_menu": false}`: one of the
//!     options, answered by the option (width, case, punctuation and spaces ignored)
//!     or its number; stored as configured. With `as_menu` the prompt is sent as a
//!     menu of the options.
//! - `max_attempts` (default 3, 1 to 10): replies the user may give in all.
//! - `retry_message` (default 「${problem}，请重新输入。」): sent after an invalid
//!   reply; `${problem}` says what was wrong (e.g. 「请输入正确的手机号码」) and
//!   `${attempts_left}` how many replies remain.
//! - `failure_message` (optional): sent when the attempts are exhausted.
//! - `confirmation` (optional): sent once the value is stored; `${value}` (and the
//!   variable's own name) is the stored value.
//! - `timeout_secs` (default 300, 1 to 86400): how long each wait for a reply lasts.
//! - `skip_if_set` (default false): when the variable already has a non-null value,
//!   leave by `ok` at once without asking.
//!
//! # Exits
//!
//! `ok` once the value is stored; `failed` when the attempts are exhausted (the
//! variable is left untouched); `timeout` when the user does not answer in time.
//!
//! # Behaviour
//!
//! On entry the module sends the prompt and waits. Each invalid reply is answered by
//! the retry message (not the prompt again) until `max_attempts` replies have been
//! given. Every step runs in a fresh instance, so the number of invalid replies so far
//! travels in the module's private state. The pattern of a `regex` input is compiled
//! in the step that checks a reply rather than in `prepare`: a compiled pattern cannot
//! be handed from `prepare` to a step, and compiling one takes a fraction of a step.

mod check;
mod config;

use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, Output, Trigger, template};
use serde::{Deserialize, Serialize};

use config::{Config, DEFAULT_RETRY, Expect};

/// The exit taken once the value is stored.
const OK: &str = "ok";
/// The exit taken when the attempts are exhausted.
const FAILED: &str = "failed";
/// The exit taken when the user does not answer in time.
const TIMEOUT: &str = "timeout";

/// What the module remembers while waiting for a reply.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Invalid replies so far.
    failures: u32,
}

struct CollectInput;

impl FlowModule for CollectInput {
    type Config = Config;

    /// The node waits for the user's reply.
    fn waits(_config: &Config) -> bool {
        true
    }

    fn describe() -> ModuleInfo {
        ModuleInfo::new("collect-input", "1.0.0")
            .description(
                "Asks for a value (text, number, phone, e-mail, pattern or one of a list), \
                 asks again while the reply is invalid, and stores it in a session variable.",
            )
            .config_schema(config::schema())
            .exit(OK, "The value was stored in the variable")
            .exit(FAILED, "Every attempt was invalid")
            .exit(TIMEOUT, "The user did not reply in time")
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        config::validate(config)
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        let config = input.config();
        match input.trigger() {
            Trigger::UserMessage(message) => on_reply(&input, &message.text),
            Trigger::WaitTimedOut => Ok(Output::exit(TIMEOUT)),
            Trigger::Entered | Trigger::Resumed(_) => {
                let set = input
                    .variable_json(&config.variable)
                    .is_some_and(|v| v.trim() != "null");
                if config.skip_if_set && set {
                    return Ok(Output::exit(OK));
                }
                ask(&input)
            }
        }
    }
}

/// Sends the prompt and waits for the reply.
fn ask(input: &Input<Config>) -> Result<Output, Error> {
    let config = input.config();
    let prompt = input.render(&config.prompt);
    let output = match &config.expect {
        Expect::Choice {
            options,
            as_menu: true,
        } => {
            let choices = options
                .iter()
                .enumerate()
                .map(|(i, option)| ((i + 1).to_string(), option.as_str()));
            wait(config).send_menu(prompt, choices)
        }
        _ => wait(config).send_text(prompt),
    };
    output.state(&State::default())
}

/// Checks a reply: stores it and leaves by `ok`, asks again, or leaves by `failed`.
fn on_reply(input: &Input<Config>, reply: &str) -> Result<Output, Error> {
    let config = input.config();
    let problem = match check::check(&config.expect, reply) {
        Ok(value) => return accept(input, value),
        Err(problem) => problem,
    };
    let failures = input.state::<State>()?.unwrap_or_default().failures + 1;
    if failures >= config.max_attempts {
        let mut output = Output::exit(FAILED);
        if let Some(message) = config
            .failure_message
            .as_deref()
            .filter(|m| !m.trim().is_empty())
        {
            output = output.send_text(input.render(message));
        }
        return Ok(output);
    }
    let retry = config.retry_message.as_deref().unwrap_or(DEFAULT_RETRY);
    let left = (config.max_attempts - failures).to_string();
    let mut output = wait(config);
    if !retry.trim().is_empty() {
        let text = input.render_with(retry, &[("problem", problem), ("attempts_left", left)]);
        output = output.send_text(text);
    }
    output.state(&State { failures })
}

/// Stores the value, confirms it if asked to, and leaves by `ok`.
fn accept(input: &Input<Config>, value: kefu_flow_sdk::Value) -> Result<Output, Error> {
    let config = input.config();
    let mut output = Output::exit(OK).set_variable(&config.variable, &value)?;
    if let Some(confirmation) = config
        .confirmation
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        let shown = template::value_text(&value.to_string());
        let extra = [("value", shown.clone()), (config.variable.as_str(), shown)];
        output = output.send_text(input.render_with(confirmation, &extra));
    }
    Ok(output)
}

/// Waits for the next reply, at most the configured time.
fn wait(config: &Config) -> Output {
    Output::wait_ms(u64::from(config.timeout_secs) * 1000)
}

kefu_flow_sdk::export!(CollectInput);

#[cfg(test)]
mod tests;
