//! The built-in `branch` flow module: sends the session down the first of its branches
//! whose conditions hold — on the user's reply, a menu choice, or session variables.
//!
//! # Configuration
//!
//! ```json
//! {
//!   "prompt": "您好 ${SystemClientNickName}，请问需要什么帮助？",
//!   "menu": {
//!     "title": "请选择业务：",
//!     "choices": [
//!       { "id": "refund", "label": "退款", "branch": "refund" },
//!       { "id": "human",  "label": "人工客服", "branch": "human" }
//!     ]
//!   },
//!   "branches": [
//!     { "name": "vip-refund", "match": "all", "conditions": [
//!         { "type": "choice", "choice": "refund" },
//!         { "type": "variable", "name": "vip", "op": "equals", "value": true } ] },
//!     { "name": "refund", "match": "any", "conditions": [
//!         { "type": "keyword_any", "keywords": ["退款", "refund"] },
//!         { "type": "regex", "pattern": "^R\\d{8}$" } ] },
//!     { "name": "human", "description": "The user asked for an agent", "conditions": [
//!         { "type": "exact", "values": ["人工", "转人工"] } ] }
//!   ],
//!   "timeout_secs": 300,
//!   "max_reprompts": 2,
//!   "reprompt_message": "抱歉，没有理解，请回复序号。",
//!   "store_as": "menu_choice"
//! }
//! ```
//!
//! - `branches` (required, 1 to 50): tried in order; **the first that matches wins**.
//!   Each has a `name`, which is its exit (lower-case letters, digits and dashes, at
//!   most 64 bytes; not `no-match`, `timeout` or `error`), an optional `description`
//!   for the flow editor, `match` (`all`, the default, or `any`) and up to 20
//!   `conditions`. A branch matches when its conditions hold, or when the reply picks
//!   a menu choice bound to it. A branch without conditions is taken only through its
//!   menu choices (and must have one).
//! - Conditions on the reply — width (`１` = `1`), case and punctuation never matter:
//!   - `{"type": "keyword_any", "keywords": [...]}`: the reply contains one of them;
//!     `keyword_all`: it contains all. A keyword beginning or ending with a Latin
//!     letter or digit matches whole words only (`hi` is not in `this`).
//!   - `{"type": "exact", "values": [...]}`: the reply is one of them (spaces ignored too).
//!   - `{"type": "regex", "pattern": "...", "ignore_case": true}`: the reply, with
//!     full-width forms folded to half-width and its ends trimmed, matches somewhere
//!     (anchor with `^…$` for the whole reply). Syntax of the `regex` crate; patterns
//!     are at most 1000 bytes and size-limited once compiled.
//!   - `{"type": "choice", "choice": "<choice id>"}`: the reply picks that menu choice.
//! - Conditions on session variables: `{"type": "variable", "name": "vip", "op": ...,
//!   "value": ...}` with `op` one of `equals`, `not_equals` (a scalar value),
//!   `exists`, `not_exists` (no value), `lt`, `le`, `gt`, `ge` (a number; the variable
//!   must be a number or a numeric string) and `in`, `not_in` (a list of scalars).
//!   Strings compare folded for width and case, a numeric string equals its number,
//!   `"true"` equals `true`. A missing or `null` variable equals nothing: `not_equals`
//!   and `not_in` hold for it, comparisons do not.
//! - `menu` (optional): `title` (a `${…}` template) and up to 50 `choices`, each an
//!   `id`, a `label` and the `branch` it leads to. The user answers with the choice's
//!   id, its number (`2`, `２`, `2.`), its label, or its number and label (`2 人工客服`).
//!   An id or label that reads as another choice's number is refused as ambiguous.
//! - `prompt` (optional): a text (a `${…}` template) sent on entry, before the menu.
//! - `wait_for_reply` (default `true`): wait for the user's reply and match it. With
//!   `false` the module decides at once on entry, from **variable conditions only**:
//!   there is no reply to look at, so a menu or a condition on the reply is refused.
//! - `timeout_secs` (default 300, 1 to 86400): how long each wait for a reply lasts.
//! - `max_reprompts` (default 2, at most 10): a reply that matches nothing is answered
//!   with `reprompt_message` (a template; default 「抱歉，没有理解您的回复，请重新
//!   选择。」, empty for none) and the question again — the menu, or the prompt
//!   without a menu — this many times; the reply after that leads to `no-match`.
//! - `store_as` (optional): a session variable set to the name of the branch taken,
//!   and removed when the node is left by `no-match` or `timeout`.
//!
//! # Exits
//!
//! One per branch, named after it; `no-match` when no branch matches (after the
//! re-prompts); `timeout` when the user does not answer in time (only when waiting).
//!
//! # Behaviour
//!
//! On entry the module sends the prompt and the menu and waits; each reply is matched
//! against the branches in order. Every step runs in a fresh instance, so the number
//! of re-prompts already made travels in the module's private state. Patterns are
//! compiled when a step reaches them rather than in `prepare`: a compiled pattern
//! cannot be handed from `prepare` to a step, and the few a reply reaches compile in
//! far less time than a step may take.

mod config;
mod matching;

use kefu_flow_sdk::{Error, ExitInfo, FlowModule, Input, ModuleInfo, Output, Trigger};
use serde::{Deserialize, Serialize};

use config::{Branch, Config, DEFAULT_REPROMPT, NO_MATCH, TIMEOUT};
use matching::{Facts, Reply};

/// What the module remembers while waiting for a reply.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Re-prompts already sent.
    reprompts: u32,
}

struct BranchModule;

impl FlowModule for BranchModule {
    type Config = Config;

    /// The node waits for the user's reply, unless it decides on entry.
    fn waits(config: &Config) -> bool {
        config.wait_for_reply
    }

    fn describe() -> ModuleInfo {
        ModuleInfo::new("branch", "1.0.0")
            .description(
                "Takes the first branch whose conditions hold: keywords, exact replies, \
                 patterns or menu choices in the user's reply, or session variables.",
            )
            .config_schema(config::schema())
            .exit(NO_MATCH, "No branch matched (after the re-prompts)")
            .exit(TIMEOUT, "The user did not reply in time")
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        config::validate(config)
    }

    fn exits(config: &Config) -> Vec<ExitInfo> {
        let mut exits: Vec<ExitInfo> = config
            .branches
            .iter()
            .map(|branch| ExitInfo {
                name: branch.name.clone(),
                description: if branch.description.is_empty() {
                    format!("Branch `{}` matched", branch.name)
                } else {
                    branch.description.clone()
                },
            })
            .collect();
        let fixed = Self::describe().exits;
        exits.extend(
            fixed
                .into_iter()
                .filter(|exit| config.wait_for_reply || exit.name != TIMEOUT),
        );
        exits
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        let config = input.config();
        if !config.wait_for_reply {
            // Whatever woke it, a node that does not wait decides on variables alone.
            return decide(&input, None);
        }
        match input.trigger() {
            Trigger::UserMessage(message) => decide(&input, Some(&Reply::new(&message.text))),
            Trigger::WaitTimedOut => Ok(leave(config, TIMEOUT)),
            Trigger::Entered | Trigger::Resumed(_) => ask(config, &input, State::default(), false),
        }
    }
}

/// Matches the reply (none on a node that does not wait) and leaves by the branch
/// found; without one, asks again or leaves by `no-match`.
fn decide(input: &Input<Config>, reply: Option<&Reply>) -> Result<Output, Error> {
    let config = input.config();
    let variable = |name: &str| {
        input
            .variable_json(name)
            .and_then(|json| serde_json::from_str(json).ok())
    };
    let picked = reply.and_then(|reply| matching::picked_choice(config.menu.as_ref()?, reply));
    let facts = Facts {
        reply,
        picked,
        variable: &variable,
    };
    let branch = matching::choose(config, &facts).map_err(Error::failed)?;
    if let Some(branch) = branch {
        return take(config, branch);
    }
    let state = input.state::<State>()?.unwrap_or_default();
    if reply.is_some() && state.reprompts < config.max_reprompts {
        let state = State {
            reprompts: state.reprompts + 1,
        };
        return ask(config, input, state, true);
    }
    Ok(leave(config, NO_MATCH))
}

/// Sends the question (after the re-prompt when asking again) and waits for the reply.
fn ask(config: &Config, input: &Input<Config>, state: State, again: bool) -> Result<Output, Error> {
    let mut output = Output::wait_ms(u64::from(config.timeout_secs) * 1000);
    let prompt = config.prompt.as_deref().filter(|p| !p.trim().is_empty());
    if again {
        let reprompt = config
            .reprompt_message
            .as_deref()
            .unwrap_or(DEFAULT_REPROMPT);
        if !reprompt.trim().is_empty() {
            output = output.send_text(input.render(reprompt));
        }
    }
    if let Some(prompt) = prompt
        && (!again || config.menu.is_none())
    {
        output = output.send_text(input.render(prompt));
    }
    if let Some(menu) = &config.menu {
        let choices = menu
            .choices
            .iter()
            .map(|c| (c.id.as_str(), c.label.as_str()));
        output = output.send_menu(input.render(&menu.title), choices);
    }
    output.state(&state)
}

/// Leaves by a branch, recording its name if asked to.
fn take(config: &Config, branch: &Branch) -> Result<Output, Error> {
    let output = Output::exit(&branch.name);
    match &config.store_as {
        Some(variable) => output.set_variable(variable, &branch.name),
        None => Ok(output),
    }
}

/// Leaves by a fixed exit, removing a branch name recorded on an earlier visit.
fn leave(config: &Config, exit: &str) -> Output {
    let output = Output::exit(exit);
    match &config.store_as {
        Some(variable) => output.unset_variable(variable),
        None => output,
    }
}

kefu_flow_sdk::export!(BranchModule);

#[cfg(test)]
mod tests;
