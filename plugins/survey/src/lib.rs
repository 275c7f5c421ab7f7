//! The built-in `survey` flow module (TCCC's satisfaction survey): after a session
//! with an agent, asks the user to rate it from 1 (worst) to 5 (best) and records the
//! rating on the session's service record.
//!
//! # Configuration
//!
//! ```json
//! {
//!   "invitation": "请对本次服务进行评价：",
//!   "labels": ["非常不满意", "不满意", "一般", "满意", "非常满意"],
//!   "style": "stars",
//!   "validity_hours": 24,
//!   "retry_message": "抱歉，没有识别到您的评分，请回复 1-5 的数字（5 为非常满意）。",
//!   "max_retries": 1,
//!   "comment": { "prompt": "还有什么想对我们说的吗？", "wait_minutes": 10, "max_score": 3 },
//!   "thanks_message": "感谢您的评价（${Label}）！",
//!   "variable": "satisfaction"
//! }
//! ```
//!
//! Every field is optional; the example shows the defaults, except `comment` and
//! `variable` (none by default).
//!
//! - `invitation` (1–1000 characters): the title of the survey menu.
//! - `labels`: exactly five labels (1–32 characters each), for scores 1 to 5. Each
//!   must read back as its own score (so labels must differ, and a label such as `"5"`
//!   for score 1 is refused).
//! - `style`: how the menu shows the scores: `"stars"` (`★★★☆☆ 一般`) or `"numbers"`
//!   (`3 一般`). Choices go from 1 to 5, so a channel that numbers them shows each
//!   score under its own number; the id of each choice is its score (`"1"`…`"5"`).
//! - `validity_hours` (1–168): how long the survey can be answered after the
//!   invitation.
//! - `retry_message` (up to 1000 characters; empty sends nothing) and `max_retries`
//!   (0–5): how often a reply that is not a rating is answered with the retry message
//!   before the module gives up.
//! - `comment`: when present, a rating is followed by a request for a comment:
//!   `prompt` (1–1000 characters), `wait_minutes` (1–1440, default 10) and
//!   `max_score` (1–5, default 5: ask after every score; 3 asks only after 1–3).
//! - `thanks_message` (up to 1000 characters; empty sends nothing): sent after the
//!   rating (and the comment, if asked for). It may use `${Score}` and `${Label}`.
//! - `variable`: a session variable that receives the score (an integer, 1–5).
//!
//! All texts may use the usual `${Name}` placeholders (`${StaffNickName}`, session
//! variables, …).
//!
//! # Behaviour
//!
//! The survey starts when the session arrives on the node (`Entered`, e.g. after a
//! transfer's `done`) or comes back to it with `Resumed(SessionEnded)` or
//! `Resumed(AgentFinished)` (kefu enters it when the agent sends the survey): the
//! module sends the invitation menu, records `survey invited` (which opens the
//! validity window on the service record), and waits up to `validity_hours`. The time
//! of the invitation (`host::now()`) is kept in the node's state.
//!
//! Replies read as a rating (full-width forms, spaces and punctuation ignored):
//! a digit `1`–`5` or `一`–`五`, optionally followed by `分`, `星`, `颗星`, `star(s)`
//! or `point(s)` (`4星`, `５分`); stars `★`, `⭐` or `🌟`, counted (`★★★★`, empty `☆`
//! are ignored); a label (`满意`); or a menu choice as displayed (`★★★★☆ 满意`,
//! `4 满意`). Anything else is not a rating.
//!
//! - A rating records `survey rated` with the score and its label at once. Without
//!   a comment step (or for a score above `comment.max_score`) the thanks message
//!   follows and the module leaves by `rated`. With one, it sends the prompt and
//!   waits `wait_minutes`: the next message (its text, at most 500 characters) is
//!   recorded as the comment by recording the rating again with it (the host keeps
//!   the latest rating of a session, so the record ends up with score and comment),
//!   then the thanks message and `rated`; a message without text (a picture) leaves
//!   the rating without a comment. When the wait times out, the rating stands
//!   without a comment: thanks message and `rated`.
//! - A reply that is not a rating gets the retry message and the module waits for
//!   the rest of the validity period, at most `max_retries` times; the next one
//!   leaves by `skipped`, without a message, so that the flow can handle it.
//! - A reply sent after the validity period (its `sent_at_ms` compared with the
//!   invitation time) is not a rating: the module leaves by `expired` without a
//!   message, so the flow handles it as a new message. A wait that times out
//!   leaves by `expired` too.
//! - `Resumed(TransferFailed)`: nobody served the user, there is nothing to rate;
//!   the module leaves by `skipped` without inviting.
//! - A message on the node without a survey in progress (no state: not expected
//!   from the engine) starts the survey, as an entry does.
//!
//! # Exits
//!
//! - `rated`: the user rated the session (with or without a comment).
//! - `skipped`: the user answered with something that is not a rating (after the
//!   retries), or there was no service to rate.
//! - `expired`: the validity period ended without a rating.

use kefu_flow_sdk::text::{fold_and_strip, fold_width};
use kefu_flow_sdk::{
    Action, ConfigProblem, Error, FlowModule, Input, ModuleInfo, Output, ResumeReason, Trigger,
    host, json,
};
use serde::{Deserialize, Serialize};

const SCORES: usize = 5;
const MAX_LABEL: usize = 32;
const MAX_MESSAGE: usize = 1000;
const MAX_VALIDITY_HOURS: u32 = 168;
const MAX_RETRIES: u8 = 5;
const MAX_COMMENT_WAIT_MINUTES: u32 = 1440;
const MAX_COMMENT: usize = 500;
const MAX_VARIABLE: usize = 64;
const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: u64 = 60_000;

const INVITATION: &str = "请对本次服务进行评价：";
const LABELS: [&str; SCORES] = ["非常不满意", "不满意", "一般", "满意", "非常满意"];
const RETRY_MESSAGE: &str = "抱歉，没有识别到您的评分，请回复 1-5 的数字（5 为非常满意）。";
const THANKS_MESSAGE: &str = "感谢您的评价！";
const COMMENT_PROMPT: &str = "还有什么想对我们说的吗？";

/// The node configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default = "invitation")]
    invitation: String,
    #[serde(default = "labels")]
    labels: Vec<String>,
    #[serde(default)]
    style: Style,
    #[serde(default = "validity_hours")]
    validity_hours: u32,
    #[serde(default = "retry_message")]
    retry_message: String,
    #[serde(default = "one")]
    max_retries: u8,
    #[serde(default)]
    comment: Option<CommentConfig>,
    #[serde(default = "thanks_message")]
    thanks_message: String,
    #[serde(default)]
    variable: Option<String>,
}

/// How the menu shows the scores.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Style {
    #[default]
    Stars,
    Numbers,
}

/// The comment step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentConfig {
    #[serde(default = "comment_prompt")]
    prompt: String,
    #[serde(default = "ten")]
    wait_minutes: u32,
    #[serde(default = "five")]
    max_score: u8,
}

fn invitation() -> String {
    INVITATION.to_owned()
}
fn labels() -> Vec<String> {
    LABELS.iter().map(|&label| label.to_owned()).collect()
}
fn validity_hours() -> u32 {
    24
}
fn retry_message() -> String {
    RETRY_MESSAGE.to_owned()
}
fn one() -> u8 {
    1
}
fn thanks_message() -> String {
    THANKS_MESSAGE.to_owned()
}
fn comment_prompt() -> String {
    COMMENT_PROMPT.to_owned()
}
fn ten() -> u32 {
    10
}
fn five() -> u8 {
    5
}

/// What the module remembers between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum State {
    /// The invitation is out; `retries` replies that were not ratings came since.
    Invited { invited_at_ms: i64, retries: u8 },
    /// The score is recorded; waiting for a comment.
    Commenting { score: u8 },
}

/// Suffixes a score may carry: `4星`, `5分`, `3 stars`.
const SUFFIXES: [&str; 7] = ["颗星", "星", "分", "stars", "star", "points", "point"];

/// Whether `c` is a filled star, as users type or pick them.
fn is_star(c: char) -> bool {
    matches!(c, '★' | '⭐' | '🌟')
}

/// Text as ratings are compared: folded width and case, without punctuation,
/// spaces or emoji variation selectors.
fn compact(text: &str) -> String {
    fold_and_strip(text)
        .chars()
        .filter(|&c| !c.is_whitespace() && c != '\u{FE0F}')
        .collect()
}

/// A score written as one digit or Chinese numeral.
fn numeral(c: char) -> Option<u8> {
    match fold_width(c) {
        c @ '1'..='5' => Some(c as u8 - b'0'),
        '一' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        _ => None,
    }
}

/// The score `text` gives, if it is a rating; `labels` are the five labels, for
/// scores 1 to 5. See the module documentation for what is understood.
fn parse_score(text: &str, labels: &[String]) -> Option<u8> {
    let text = compact(text);
    if text.is_empty() {
        return None;
    }
    let label_score = |rest: &str| {
        labels
            .iter()
            .position(|label| compact(label) == rest)
            .and_then(|i| u8::try_from(i + 1).ok())
    };
    // A leading score (stars, empty ones ignored, or one numeral) followed by
    // nothing, a suffix or its own label; otherwise the whole text may be a label
    // (`一般` starts with a numeral but is a label).
    let stars = text.chars().take_while(|&c| is_star(c) || c == '☆').count();
    let leading = if stars > 0 {
        let filled = text.chars().take(stars).filter(|&c| is_star(c)).count();
        u8::try_from(filled)
            .ok()
            .filter(|n| (1..=5).contains(n))
            .map(|score| (score, text.chars().skip(stars).collect::<String>()))
    } else {
        let mut chars = text.chars();
        chars
            .next()
            .and_then(numeral)
            .map(|score| (score, chars.collect()))
    };
    if let Some((score, rest)) = leading {
        let fits = rest.is_empty()
            || SUFFIXES.contains(&rest.as_str())
            || label_score(&rest) == Some(score);
        if fits {
            return Some(score);
        }
    }
    label_score(&text)
}

/// The five menu choices: `(score, label as displayed)`.
fn choices(labels: &[String], style: Style) -> Vec<(String, String)> {
    labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let score = i + 1;
            let shown = match style {
                Style::Stars => format!(
                    "{}{} {label}",
                    "★".repeat(score),
                    "☆".repeat(SCORES - score)
                ),
                Style::Numbers => format!("{score} {label}"),
            };
            (score.to_string(), shown)
        })
        .collect()
}

/// Collects configuration problems, each with the JSON pointer of its value.
#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, message));
    }

    /// Checks that the text at `path` has between `min` and `max` characters;
    /// answers whether it has.
    fn length(&mut self, path: &str, text: &str, min: usize, max: usize) -> bool {
        let count = text.chars().count();
        if count < min {
            self.add(path, "must not be empty");
        } else if count > max {
            self.add(
                path,
                format!("is {count} characters long; at most {max} are allowed"),
            );
        } else {
            return true;
        }
        false
    }

    fn range<T: PartialOrd + std::fmt::Display>(&mut self, path: &str, value: T, min: T, max: T) {
        if value < min || value > max {
            self.add(
                path,
                format!("{value} is out of range; expected {min} to {max}"),
            );
        }
    }
}

fn check(config: &Config) -> Vec<ConfigProblem> {
    let mut problems = Problems::default();
    problems.length("/invitation", &config.invitation, 1, MAX_MESSAGE);
    let mut labels_fit = true;
    for (i, label) in config.labels.iter().enumerate() {
        labels_fit &= problems.length(&format!("/labels/{i}"), label, 1, MAX_LABEL);
    }
    if config.labels.len() != SCORES {
        problems.add(
            "/labels",
            format!(
                "has {} labels; exactly {SCORES} are needed, for scores 1 to 5",
                config.labels.len()
            ),
        );
    } else if labels_fit {
        for (i, label) in config.labels.iter().enumerate() {
            let score = i + 1;
            match parse_score(label, &config.labels) {
                Some(read) if usize::from(read) == score => {}
                Some(read) => problems.add(
                    format!("/labels/{i}"),
                    format!("`{label}` would be read as score {read}, not {score}"),
                ),
                None => problems.add(
                    format!("/labels/{i}"),
                    format!(
                        "`{label}` could not be told apart in a reply: it needs characters other than punctuation"
                    ),
                ),
            }
        }
    }
    problems.range(
        "/validity_hours",
        config.validity_hours,
        1,
        MAX_VALIDITY_HOURS,
    );
    problems.length("/retry_message", &config.retry_message, 0, MAX_MESSAGE);
    problems.range("/max_retries", config.max_retries, 0, MAX_RETRIES);
    if let Some(comment) = &config.comment {
        problems.length("/comment/prompt", &comment.prompt, 1, MAX_MESSAGE);
        problems.range(
            "/comment/wait_minutes",
            comment.wait_minutes,
            1,
            MAX_COMMENT_WAIT_MINUTES,
        );
        problems.range("/comment/max_score", comment.max_score, 1, 5);
    }
    problems.length("/thanks_message", &config.thanks_message, 0, MAX_MESSAGE);
    if let Some(name) = &config.variable {
        let valid = !name.is_empty()
            && name.chars().count() <= MAX_VARIABLE
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            problems.add(
                "/variable",
                format!(
                    "`{name}` is not a variable name: 1 to {MAX_VARIABLE} letters, digits, `_`, `-` or `.`"
                ),
            );
        }
    }
    problems.0
}

/// The validity period in milliseconds.
fn validity_ms(config: &Config) -> i64 {
    i64::from(config.validity_hours) * HOUR_MS
}

/// Sends `message` rendered, unless it is empty.
fn send(output: Output, input: &Input<Config>, message: &str, extra: &[(&str, String)]) -> Output {
    if message.is_empty() {
        output
    } else {
        output.send_text(input.render_with(message, extra))
    }
}

/// The label of `score` (1–5).
fn label(config: &Config, score: u8) -> String {
    config
        .labels
        .get(usize::from(score).saturating_sub(1))
        .cloned()
        .unwrap_or_default()
}

/// Sends the invitation and waits for the rating.
fn invite(input: &Input<Config>) -> Result<Output, Error> {
    let config = input.config();
    let invited_at_ms = host::now().unix_ms;
    let wait = u64::try_from(validity_ms(config)).unwrap_or(u64::MAX);
    Output::wait_ms(wait)
        .send_menu(
            input.render(&config.invitation),
            choices(&config.labels, config.style),
        )
        .survey_invited()
        .state(&State::Invited {
            invited_at_ms,
            retries: 0,
        })
}

/// Thanks the user and leaves by `rated`.
fn thank(input: &Input<Config>, score: u8) -> Output {
    let config = input.config();
    let figures = [
        ("Score", score.to_string()),
        ("Label", label(config, score)),
    ];
    send(
        Output::exit("rated"),
        input,
        &config.thanks_message,
        &figures,
    )
}

/// A reply while the invitation is out.
fn reply(
    input: &Input<Config>,
    text: &str,
    sent_at_ms: i64,
    invited_at_ms: i64,
    retries: u8,
) -> Result<Output, Error> {
    let config = input.config();
    let closes_at_ms = invited_at_ms.saturating_add(validity_ms(config));
    if sent_at_ms > closes_at_ms {
        return Ok(Output::exit("expired"));
    }
    let Some(score) = parse_score(text, &config.labels) else {
        if retries >= config.max_retries {
            return Ok(Output::exit("skipped"));
        }
        let remaining = closes_at_ms.saturating_sub(host::now().unix_ms).max(1);
        let output = send(
            Output::wait_ms(u64::try_from(remaining).unwrap_or(1)),
            input,
            &config.retry_message,
            &[],
        );
        return output.state(&State::Invited {
            invited_at_ms,
            retries: retries + 1,
        });
    };
    let mut output = match &config.comment {
        Some(comment) if score <= comment.max_score => send(
            Output::wait_ms(u64::from(comment.wait_minutes) * MINUTE_MS),
            input,
            &comment.prompt,
            &[],
        )
        .state(&State::Commenting { score })?,
        _ => thank(input, score),
    };
    // Recorded at once, so that the rating stands even if no comment comes.
    output
        .actions
        .insert(0, Action::survey_rated(score, label(config, score), None));
    if let Some(variable) = &config.variable {
        output = output.set_variable(variable, score)?;
    }
    Ok(output)
}

/// The comment after a rating: recorded with the rating again.
fn comment(input: &Input<Config>, text: &str, score: u8) -> Output {
    let comment: String = text.trim().chars().take(MAX_COMMENT).collect();
    let output = thank(input, score);
    if comment.is_empty() {
        return output;
    }
    let rated = Action::survey_rated(score, label(input.config(), score), Some(comment));
    let mut output = output;
    output.actions.insert(0, rated);
    output
}

struct Survey;

impl FlowModule for Survey {
    type Config = Config;

    /// The node waits for the user's rating.
    fn waits(_config: &Config) -> bool {
        true
    }

    fn describe() -> ModuleInfo {
        let message = |description: &str, default: &str| json!({"description": description, "type": "string", "maxLength": MAX_MESSAGE, "default": default});
        ModuleInfo::new("survey", "1.0.0")
            .description("Asks the user to rate the session with the agent from 1 to 5 and records the rating.")
            .config_schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "invitation": {
                        "description": "The title of the survey menu; ${Name} placeholders are filled.",
                        "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE, "default": INVITATION
                    },
                    "labels": {
                        "description": "The labels of scores 1 (worst) to 5 (best); each must read back as its own score.",
                        "type": "array", "minItems": SCORES, "maxItems": SCORES,
                        "items": {"type": "string", "minLength": 1, "maxLength": MAX_LABEL},
                        "default": LABELS
                    },
                    "style": {
                        "description": "How the menu shows scores: stars (★★★☆☆ 一般) or numbers (3 一般).",
                        "enum": ["stars", "numbers"], "default": "stars"
                    },
                    "validity_hours": {
                        "description": "How long after the invitation a rating is accepted.",
                        "type": "integer", "minimum": 1, "maximum": MAX_VALIDITY_HOURS, "default": 24
                    },
                    "retry_message": message("Answers a reply that is not a rating; empty sends nothing.", RETRY_MESSAGE),
                    "max_retries": {
                        "description": "How many replies that are not ratings get the retry message before the module leaves by skipped.",
                        "type": "integer", "minimum": 0, "maximum": MAX_RETRIES, "default": 1
                    },
                    "comment": {
                        "description": "Ask for a comment after the rating; absent or null for no comment step.",
                        "type": ["object", "null"],
                        "properties": {
                            "prompt": {"description": "The request for a comment.", "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE, "default": COMMENT_PROMPT},
                            "wait_minutes": {"description": "How long to wait for the comment.", "type": "integer", "minimum": 1, "maximum": MAX_COMMENT_WAIT_MINUTES, "default": 10},
                            "max_score": {"description": "Ask only after scores up to this one (5: always).", "type": "integer", "minimum": 1, "maximum": 5, "default": 5}
                        },
                        "additionalProperties": false
                    },
                    "thanks_message": message("Sent after the rating (and comment); ${Score} and ${Label} are filled. Empty sends nothing.", THANKS_MESSAGE),
                    "variable": {
                        "description": "A session variable that receives the score (1-5).",
                        "type": ["string", "null"], "minLength": 1, "maxLength": MAX_VARIABLE
                    }
                },
                "additionalProperties": false
            }))
            .exit("rated", "The user rated the session")
            .exit("skipped", "The user replied with something else, or there was no service to rate")
            .exit("expired", "The validity period ended without a rating")
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
        let state = input.state::<State>()?;
        match (input.trigger(), state) {
            (Trigger::Resumed(ResumeReason::TransferFailed), _) => Ok(Output::exit("skipped")),
            (Trigger::Entered | Trigger::Resumed(_), _) | (Trigger::UserMessage(_), None) => {
                invite(&input)
            }
            (Trigger::WaitTimedOut, Some(State::Commenting { score })) => Ok(thank(&input, score)),
            (Trigger::WaitTimedOut, _) => Ok(Output::exit("expired")),
            (
                Trigger::UserMessage(message),
                Some(State::Invited {
                    invited_at_ms,
                    retries,
                }),
            ) => reply(
                &input,
                &message.text,
                message.sent_at_ms,
                invited_at_ms,
                retries,
            ),
            (Trigger::UserMessage(message), Some(State::Commenting { score })) => {
                Ok(comment(&input, &message.text, score))
            }
        }
    }
}

kefu_flow_sdk::export!(Survey);

#[cfg(test)]
mod tests {
    use super::*;

    fn default_labels() -> Vec<String> {
        labels()
    }

    fn score(text: &str) -> Option<u8> {
        parse_score(text, &default_labels())
    }

    fn problems(json: kefu_flow_sdk::Value) -> Vec<(String, String)> {
        let config: Config = serde_json::from_value(json).unwrap();
        check(&config)
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    #[test]
    fn reads_numbers_of_both_widths_and_numerals() {
        assert_eq!(score("5"), Some(5));
        assert_eq!(score(" ４ "), Some(4));
        assert_eq!(score("3。"), Some(3));
        assert_eq!(score("4星"), Some(4));
        assert_eq!(score("５ 分"), Some(5));
        assert_eq!(score("二颗星"), Some(2));
        assert_eq!(score("五星"), Some(5));
        assert_eq!(score("3 Stars!"), Some(3));
        for not in ["0", "6", "10", "45", "5星好评", "4个", ""] {
            assert_eq!(score(not), None, "{not}");
        }
    }

    #[test]
    fn counts_stars() {
        assert_eq!(score("★★★★★"), Some(5));
        assert_eq!(score("⭐⭐⭐⭐"), Some(4));
        assert_eq!(score("⭐️⭐️"), Some(2));
        assert_eq!(score("🌟"), Some(1));
        assert_eq!(score("★ ★ ★"), Some(3));
        assert_eq!(score("★★★☆☆"), Some(3));
        assert_eq!(score("★★★★★★"), None);
        assert_eq!(score("☆☆☆"), None);
    }

    #[test]
    fn reads_labels_exactly() {
        assert_eq!(score("满意"), Some(4));
        assert_eq!(score("不满意"), Some(2));
        assert_eq!(score("非常满意！"), Some(5));
        assert_eq!(score("一般"), Some(3));
        assert_eq!(score("我很满意"), None);
        let english: Vec<String> = ["Awful", "Bad", "OK", "Good", "Great"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(parse_score("  GOOD ", &english), Some(4));
        assert_eq!(parse_score("ok.", &english), Some(3));
    }

    #[test]
    fn reads_menu_choices_as_displayed() {
        for style in [Style::Stars, Style::Numbers] {
            for (id, shown) in choices(&default_labels(), style) {
                let expected: u8 = id.parse().unwrap();
                assert_eq!(score(&shown), Some(expected), "{shown}");
                assert_eq!(score(&id), Some(expected));
            }
        }
        assert_eq!(choices(&default_labels(), Style::Stars)[2].1, "★★★☆☆ 一般");
        assert_eq!(
            choices(&default_labels(), Style::Numbers)[4].1,
            "5 非常满意"
        );
        // A score with another score's label is not a rating.
        assert_eq!(score("4 不满意"), None);
    }

    #[test]
    fn keeps_state_small_and_readable() {
        let state = State::Invited {
            invited_at_ms: 5,
            retries: 1,
        };
        let bytes = kefu_flow_sdk::encode(&state).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"phase":"invited","invited_at_ms":5,"retries":1}"#
        );
        assert_eq!(kefu_flow_sdk::decode::<State>(&bytes).unwrap(), state);
    }

    #[test]
    fn refuses_labels_that_do_not_read_back() {
        assert!(problems(json!({})).is_empty());
        assert_eq!(
            problems(json!({"labels": ["a", "b", "c"]})),
            [(
                "/labels".to_owned(),
                "has 3 labels; exactly 5 are needed, for scores 1 to 5".to_owned()
            )]
        );
        assert_eq!(
            problems(json!({"labels": ["5", "b", "b", "!!", ""]})),
            [("/labels/4".to_owned(), "must not be empty".to_owned()),]
        );
        assert_eq!(
            problems(json!({"labels": ["5", "b", "b", "!!", "e"]})),
            [
                (
                    "/labels/0".to_owned(),
                    "`5` would be read as score 5, not 1".to_owned()
                ),
                (
                    "/labels/2".to_owned(),
                    "`b` would be read as score 2, not 3".to_owned()
                ),
                (
                    "/labels/3".to_owned(),
                    "`!!` could not be told apart in a reply: it needs characters other than punctuation"
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn reports_ranges_and_names() {
        let found = problems(json!({
            "invitation": "",
            "validity_hours": 0,
            "max_retries": 6,
            "comment": {"prompt": "", "wait_minutes": 2000, "max_score": 0},
            "variable": "a b"
        }));
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/invitation",
                "/validity_hours",
                "/max_retries",
                "/comment/prompt",
                "/comment/wait_minutes",
                "/comment/max_score",
                "/variable"
            ]
        );
        assert_eq!(found[1].1, "0 is out of range; expected 1 to 168");
    }
}
