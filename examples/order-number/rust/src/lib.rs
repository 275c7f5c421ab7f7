//! The order-number flow module, in Rust.
//!
//! Asks for an order number, checks it (digits only, of a configured length), asks
//! again when it is wrong, stores it in a session variable and confirms it. Leaves by
//! `next` once it has a number, by `invalid` after too many wrong answers and by
//! `timeout` when the user says nothing. Every step runs in a fresh instance, so the
//! number of attempts so far travels in the step's state.

use kefu_flow_sdk::{Error, FlowModule, Input, JsonSchema, ModuleInfo, Output, Trigger, host};
use serde::{Deserialize, Serialize};

kefu_flow_sdk::exits! {
    /// Where the node leaves.
    pub enum Exit {
        Next = "next": "The order number is stored in the variable.",
        Invalid = "invalid": "The user gave no valid order number in the attempts allowed.",
        Timeout = "timeout": "The user did not answer in time.",
    }
}

/// A node's configuration; its JSON Schema is derived from this type.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[schemars(crate = "kefu_flow_sdk::schemars")]
pub struct Config {
    /// The question.
    pub prompt: String,
    /// Asked again after a wrong answer; `{min}` and `{max}` are the lengths allowed.
    pub retry_prompt: String,
    /// The answer to a right one; `{order}` is the number.
    pub confirmation: String,
    /// The session variable the number is stored in.
    pub variable: String,
    /// Fewest digits of an order number (1–64).
    pub min_digits: usize,
    /// Most digits of an order number (1–64).
    pub max_digits: usize,
    /// Wrong answers before the node leaves by `invalid` (1–10).
    pub max_attempts: u32,
    /// How long to wait for an answer, in milliseconds (1 s – 1 day).
    pub timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            prompt: "请输入您的订单号".into(),
            retry_prompt: "订单号应为 {min}–{max} 位数字，请重新输入".into(),
            confirmation: "好的，已记录订单号 {order}".into(),
            variable: "order_number".into(),
            min_digits: 6,
            max_digits: 20,
            max_attempts: 3,
            timeout_ms: 120_000,
        }
    }
}

/// What a step remembers for the next.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    attempts: u32,
}

pub struct OrderNumber;

impl FlowModule for OrderNumber {
    type Config = Config;

    fn describe() -> ModuleInfo {
        kefu_flow_sdk::module_info!("order-number-rs")
            .description("Asks for an order number, checks it and stores it in a variable.")
            .config_schema_of::<Config>()
            .exits::<Exit>()
    }

    fn validate_config(c: &Config) -> Result<(), Error> {
        let mut problems = vec![];
        let mut check = |ok: bool, path: &str, message: &str| {
            if !ok {
                problems.push(kefu_flow_sdk::ConfigProblem::new(path, message));
            }
        };
        for (path, text) in [
            ("/prompt", &c.prompt),
            ("/retry_prompt", &c.retry_prompt),
            ("/confirmation", &c.confirmation),
        ] {
            check(!text.is_empty(), path, "must not be empty");
        }
        let name_ok = c.variable.len() <= 64
            && c.variable.starts_with(|ch: char| ch.is_ascii_lowercase())
            && c.variable
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
        check(
            name_ok,
            "/variable",
            "lower-case letters, digits and _, at most 64",
        );
        check(
            (1..=64).contains(&c.min_digits),
            "/min_digits",
            "must be 1 to 64",
        );
        check(
            (1..=64).contains(&c.max_digits),
            "/max_digits",
            "must be 1 to 64",
        );
        check(
            c.min_digits <= c.max_digits,
            "/min_digits",
            "must not exceed max_digits",
        );
        check(
            (1..=10).contains(&c.max_attempts),
            "/max_attempts",
            "must be 1 to 10",
        );
        check(
            (1_000..=86_400_000).contains(&c.timeout_ms),
            "/timeout_ms",
            "must be 1000 to 86400000",
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_config(problems))
        }
    }

    fn waits(_: &Config) -> bool {
        true
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        let c = input.config();
        let ask = |text: &str, attempts: u32| {
            Output::wait_ms(c.timeout_ms)
                .send_text(text)
                .state(&State { attempts })
        };
        let text = match input.trigger() {
            Trigger::Entered | Trigger::Resumed(_) => return ask(&c.prompt, 0),
            Trigger::WaitTimedOut => return Ok(Output::leave(Exit::Timeout)),
            Trigger::UserMessage(message) => &message.text,
        };
        if let Some(number) = order_number(text, c) {
            host::info(&format!("order number of {} digits", number.len()));
            return Output::leave(Exit::Next)
                .set_variable(&c.variable, &number)
                .map(|out| out.send_text(c.confirmation.replace("{order}", &number)));
        }
        let attempts = input.state::<State>()?.unwrap_or_default().attempts + 1;
        if attempts >= c.max_attempts {
            return Ok(Output::leave(Exit::Invalid));
        }
        let retry = c
            .retry_prompt
            .replace("{min}", &c.min_digits.to_string())
            .replace("{max}", &c.max_digits.to_string());
        ask(&retry, attempts)
    }
}

/// The order number in what the user wrote (spaces and dashes ignored), if valid.
pub fn order_number(text: &str, c: &Config) -> Option<String> {
    let digits: String = text
        .chars()
        .filter(|ch| !ch.is_whitespace() && *ch != '-')
        .collect();
    let ok = !digits.is_empty()
        && digits.chars().all(|ch| ch.is_ascii_digit())
        && (c.min_digits..=c.max_digits).contains(&digits.len());
    ok.then_some(digits)
}

kefu_flow_sdk::export!(OrderNumber);
