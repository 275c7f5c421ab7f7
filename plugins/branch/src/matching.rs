//! Deciding which branch a reply and the session's variables lead to.
//!
//! Nothing here calls the host, so that native unit tests exercise all of it.

use kefu_flow_sdk::{Value, text};
use regex::{Regex, RegexBuilder};

use crate::config::{Branch, Combine, Condition, Config, Menu, Op};

/// The most a compiled pattern may take, in bytes: enough for any sensible pattern,
/// far below the memory a step may use.
const REGEX_SIZE_LIMIT: usize = 512 * 1024;
/// The deepest nesting of groups and repetitions a pattern may have.
const REGEX_NEST_LIMIT: u32 = 64;

/// A text as keyword matching compares it: width and case folded, punctuation turned
/// into spaces, runs of spaces collapsed (`text::fold_and_strip`).
pub fn normalize(text: &str) -> String {
    text::fold_and_strip(text)
}

/// [`normalize`] without any space: what exact values, choice ids and labels compare.
pub fn compact(text: &str) -> String {
    normalize(text).chars().filter(|c| *c != ' ').collect()
}

/// The number a compact text reads as: 1 to 3 ASCII digits (full-width ones are
/// already folded).
pub fn as_number(compact: &str) -> Option<usize> {
    if compact.is_empty() || compact.len() > 3 || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    compact.parse().ok()
}

/// Compiles a pattern with the module's size limits. The error is one line, e.g.
/// `unclosed group (at character 1)`.
pub fn compile(pattern: &str, ignore_case: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .map_err(|err| match err {
            regex::Error::Syntax(message) => syntax_error(&message),
            regex::Error::CompiledTooBig(limit) => {
                format!("the pattern is too large once compiled (over {limit} bytes)")
            }
            other => other.to_string(),
        })
}

/// Turns the regex crate's multi-line syntax error (the pattern, a line of carets
/// under the offending part, then `error: …`) into one line naming the position.
fn syntax_error(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    let Some(what) = lines
        .iter()
        .find_map(|line| line.trim_start().strip_prefix("error: "))
    else {
        return message.split_whitespace().collect::<Vec<_>>().join(" ");
    };
    // The pattern is printed indented by four spaces; the carets line up under it.
    let column = lines
        .iter()
        .find(|line| line.trim_start().starts_with('^') && line.trim().chars().all(|c| c == '^'))
        .and_then(|line| line.find('^'))
        .and_then(|at| at.checked_sub(4));
    match column {
        Some(column) => format!("{what} (at character {})", column + 1),
        None => what.to_owned(),
    }
}

/// The user's reply, prepared once for every condition.
#[derive(Debug, Clone)]
pub struct Reply {
    /// [`normalize`]d.
    spaced: String,
    /// [`compact`]ed.
    compact: String,
    /// Full-width forms folded to half-width and the ends trimmed, case kept: what
    /// patterns are matched against.
    plain: String,
}

impl Reply {
    /// Prepares the text of a reply.
    pub fn new(reply: &str) -> Self {
        let plain: String = reply.chars().map(text::fold_width).collect();
        Self {
            spaced: normalize(reply),
            compact: compact(reply),
            plain: plain.trim().to_owned(),
        }
    }
}

/// The index of the menu choice a reply picks: by its id, then its number, then its
/// label (or its number followed by its label, as the menu shows it).
pub fn picked_choice(menu: &Menu, reply: &Reply) -> Option<usize> {
    let said = reply.compact.as_str();
    if said.is_empty() {
        return None;
    }
    if let Some(i) = menu.choices.iter().position(|c| compact(&c.id) == said) {
        return Some(i);
    }
    if let Some(n) = as_number(said).filter(|n| (1..=menu.choices.len()).contains(n)) {
        return Some(n - 1);
    }
    menu.choices.iter().enumerate().position(|(i, c)| {
        let label = compact(&c.label);
        said == label || said == format!("{}{label}", i + 1)
    })
}

/// What a decision looks at.
pub struct Facts<'a> {
    /// The user's reply; none when deciding on entry.
    pub reply: Option<&'a Reply>,
    /// The index of the menu choice the reply picks, if any.
    pub picked: Option<usize>,
    /// A session variable's value by name; none when it is not set.
    pub variable: &'a dyn Fn(&str) -> Option<Value>,
}

/// The first branch that matches, if any. Fails only on a pattern that does not
/// compile, which validation refuses.
pub fn choose<'c>(config: &'c Config, facts: &Facts<'_>) -> Result<Option<&'c Branch>, String> {
    let picked_branch = facts
        .picked
        .and_then(|i| config.menu.as_ref()?.choices.get(i))
        .map(|choice| choice.branch.as_str());
    for branch in &config.branches {
        if picked_branch == Some(branch.name.as_str()) || holds(config, branch, facts)? {
            return Ok(Some(branch));
        }
    }
    Ok(None)
}

/// Whether a branch's conditions hold; a branch without conditions has none that can.
fn holds(config: &Config, branch: &Branch, facts: &Facts<'_>) -> Result<bool, String> {
    if branch.conditions.is_empty() {
        return Ok(false);
    }
    for condition in &branch.conditions {
        let holds = condition_holds(config, condition, facts)?;
        match (branch.combine, holds) {
            (Combine::All, false) => return Ok(false),
            (Combine::Any, true) => return Ok(true),
            _ => {}
        }
    }
    Ok(branch.combine == Combine::All)
}

fn condition_holds(
    config: &Config,
    condition: &Condition,
    facts: &Facts<'_>,
) -> Result<bool, String> {
    if let Condition::Variable { name, op, value } = condition {
        return Ok(variable_holds(
            (facts.variable)(name).as_ref(),
            *op,
            value.as_ref(),
        ));
    }
    let Some(reply) = facts.reply else {
        return Ok(false);
    };
    Ok(match condition {
        Condition::KeywordAny { keywords } => keywords
            .iter()
            .any(|k| contains_word(&reply.spaced, &normalize(k))),
        Condition::KeywordAll { keywords } => keywords
            .iter()
            .all(|k| contains_word(&reply.spaced, &normalize(k))),
        Condition::Exact { values } => values.iter().any(|v| compact(v) == reply.compact),
        Condition::Regex {
            pattern,
            ignore_case,
        } => compile(pattern, *ignore_case)?.is_match(&reply.plain),
        Condition::Choice { choice } => facts
            .picked
            .and_then(|i| config.menu.as_ref()?.choices.get(i))
            .is_some_and(|picked| &picked.id == choice),
        Condition::Variable { .. } => false,
    })
}

/// Whether `text` contains `word` (both [`normalize`]d). A word that begins or ends
/// with a Latin letter or digit must do so at a word boundary, so that `hi` is not
/// found in `this` nor `1` in `10`; Chinese has no such boundaries.
pub fn contains_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let bounded_start = word.starts_with(alnum);
    let bounded_end = word.ends_with(alnum);
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        (!bounded_start || !before.is_some_and(alnum))
            && (!bounded_end || !after.is_some_and(alnum))
    })
}

/// Whether a variable's value (none when unset) satisfies `op` with the configured
/// operand. `null` counts as unset.
pub fn variable_holds(actual: Option<&Value>, op: Op, operand: Option<&Value>) -> bool {
    let actual = actual.filter(|v| !v.is_null());
    let equals = |expected: &Value| actual.is_some_and(|a| loosely_equal(a, expected));
    let compare = |test: fn(f64, f64) -> bool| match (
        actual.and_then(as_f64),
        operand.and_then(Value::as_f64),
    ) {
        (Some(a), Some(b)) => test(a, b),
        _ => false,
    };
    let listed = || {
        operand
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(equals))
    };
    match op {
        Op::Exists => actual.is_some(),
        Op::NotExists => actual.is_none(),
        Op::Equals => operand.is_some_and(equals),
        Op::NotEquals => !operand.is_some_and(equals),
        Op::Lt => compare(|a, b| a < b),
        Op::Le => compare(|a, b| a <= b),
        Op::Gt => compare(|a, b| a > b),
        Op::Ge => compare(|a, b| a >= b),
        Op::In => listed(),
        Op::NotIn => !listed(),
    }
}

/// Equality that forgives how a value was typed: strings compare folded for width,
/// case and spaces; a numeric string equals its number; `"true"` equals `true`.
pub fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => text::fold(x) == text::fold(y),
        (Value::Number(_), Value::Number(_)) => as_f64(a) == as_f64(b),
        (Value::Number(_), Value::String(_)) | (Value::String(_), Value::Number(_)) => {
            matches!((as_f64(a), as_f64(b)), (Some(x), Some(y)) if x == y)
        }
        (Value::Bool(x), Value::String(s)) | (Value::String(s), Value::Bool(x)) => {
            text::fold(s) == x.to_string()
        }
        _ => a == b,
    }
}

/// A value as a number: a JSON number, or a string holding one (full-width digits
/// allowed).
fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => text::fold(s).parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}
