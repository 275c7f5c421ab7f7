//! The node configuration: its fields and defaults, its JSON Schema, and the checks
//! serde cannot express.

use std::collections::HashSet;

use kefu_flow_sdk::{ConfigProblem, Error, Value, json};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::analyze::{Analyzer, terms};
use crate::index::Thresholds;

/// Most FAQs in one knowledge base.
pub const MAX_FAQS: usize = 2000;
/// Most alternative phrasings of one FAQ.
pub const MAX_ALTERNATIVES: usize = 20;
/// Longest FAQ id, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest question or alternative phrasing, in characters.
pub const MAX_QUESTION_CHARS: usize = 200;
/// Longest answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 4000;
/// Longest message text (welcome, did-you-mean title, …), in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Most hot questions.
pub const MAX_HOT_QUESTIONS: usize = 10;
/// Most keywords in one keyword list.
pub const MAX_KEYWORDS: usize = 50;
/// Longest keyword or synonym, in characters.
pub const MAX_KEYWORD_CHARS: usize = 50;
/// Most synonym groups.
pub const MAX_SYNONYM_GROUPS: usize = 500;
/// Most members of one synonym group.
pub const MAX_SYNONYMS_PER_GROUP: usize = 20;
/// Most consecutive misses that can be configured.
pub const MAX_MISSES: u32 = 20;
/// Shortest and longest idle timeout, in seconds.
pub const IDLE_TIMEOUT_SECS: (u64, u64) = (10, 86_400);

/// The node configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The knowledge base, as JSON text: a step reads the prepared index, not this, so
    /// it is only parsed (into [`Faq`]s) by `validate-config` and `prepare`.
    pub faqs: Box<RawValue>,
    /// Sent on entry, as the title of the hot-question menu (or alone without one).
    #[serde(default = "defaults::welcome")]
    pub welcome: String,
    /// Ids of the FAQs offered as a menu on entry, in order.
    #[serde(default)]
    pub hot_questions: Vec<String>,
    /// The title of the "did you mean" menu.
    #[serde(default = "defaults::did_you_mean")]
    pub did_you_mean: String,
    /// Sent when no FAQ matches.
    #[serde(default = "defaults::not_understood")]
    pub not_understood: String,
    /// Words that make the module leave by `transfer`.
    #[serde(default = "defaults::transfer_keywords")]
    pub transfer_keywords: Vec<String>,
    /// Sent before leaving by `transfer`; nothing when absent or empty.
    #[serde(default)]
    pub transfer_message: Option<String>,
    /// Messages that make the module leave by `done`.
    #[serde(default = "defaults::end_keywords")]
    pub end_keywords: Vec<String>,
    /// Sent before leaving by `done`; nothing when absent or empty.
    #[serde(default)]
    pub end_message: Option<String>,
    /// Consecutive misses after which the module leaves by `transfer`; 0 never does.
    #[serde(default = "defaults::max_misses")]
    pub max_misses: u32,
    /// How long to wait for the user's next message before leaving by `timeout`.
    #[serde(default = "defaults::idle_timeout_secs")]
    pub idle_timeout_secs: u64,
    /// Sent before leaving by `timeout`; nothing when absent or empty.
    #[serde(default)]
    pub timeout_message: Option<String>,
    /// Groups of words meaning the same, the first member being the canonical one: the
    /// shop's own vocabulary, on top of the built-in lexicon (see `lexicon`).
    #[serde(default)]
    pub synonyms: Vec<Vec<String>>,
    /// The confidence (0–1) at or above which the best FAQ is answered directly.
    #[serde(default = "defaults::answer_threshold")]
    pub answer_threshold: f32,
    /// The confidence (0–1) at or above which a FAQ is offered under "did you mean".
    #[serde(default = "defaults::suggest_threshold")]
    pub suggest_threshold: f32,
    /// How far ahead of the runner-up the best FAQ must be to be answered directly.
    #[serde(default = "defaults::ambiguity_margin")]
    pub ambiguity_margin: f32,
}

/// One FAQ of the knowledge base.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    /// Unique in the knowledge base; the menu choice id.
    pub id: String,
    /// The question, as menus show it.
    pub question: String,
    /// Other ways users ask it.
    #[serde(default)]
    pub alternatives: Vec<String>,
    /// The answer; `${…}` placeholders are filled from the session.
    pub answer: String,
}

/// The default values of the optional fields.
pub mod defaults {
    /// The welcome text.
    pub fn welcome() -> String {
        "您好，请问有什么可以帮您？".to_owned()
    }
    /// The "did you mean" title.
    pub fn did_you_mean() -> String {
        "您是不是想问：".to_owned()
    }
    /// The not-understood reply.
    pub fn not_understood() -> String {
        "抱歉，我没有理解您的问题。请换个说法试试，或回复“人工”联系人工客服。".to_owned()
    }
    /// The transfer keywords.
    pub fn transfer_keywords() -> Vec<String> {
        [
            "人工",
            "转人工",
            "人工客服",
            "真人",
            "客服小姐姐",
            "agent",
            "human",
            "real person",
            "operator",
        ]
        .map(str::to_owned)
        .to_vec()
    }
    /// The end keywords.
    pub fn end_keywords() -> Vec<String> {
        [
            "再见",
            "拜拜",
            "没有了",
            "没问题了",
            "没有问题了",
            "bye",
            "goodbye",
            "no more questions",
        ]
        .map(str::to_owned)
        .to_vec()
    }
    /// Three misses in a row.
    pub fn max_misses() -> u32 {
        3
    }
    /// Five minutes.
    pub fn idle_timeout_secs() -> u64 {
        300
    }
    /// Chosen, with the matching's weights, on the tuning part of the quality test set
    /// (`tests/modules/data/text_bot_queries.json`); its held-out part checks them.
    pub fn answer_threshold() -> f32 {
        0.4
    }
    /// Below the answer threshold, so that a close call is offered, not dropped.
    pub fn suggest_threshold() -> f32 {
        0.25
    }
    /// Chosen with the answer threshold.
    pub fn ambiguity_margin() -> f32 {
        0.04
    }
}

impl Config {
    /// The FAQs, parsed; a value serde refuses is reported under `/faqs`.
    pub fn faqs(&self) -> Result<Vec<Faq>, Error> {
        let mut de = serde_json::Deserializer::from_str(self.faqs.get());
        serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = format!("/faqs{}", pointer(err.path()));
            Error::config(path, strip_position(&err.inner().to_string()))
        })
    }

    /// The confidence levels matching decides by.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            answer: self.answer_threshold,
            suggest: self.suggest_threshold,
            margin: self.ambiguity_margin,
        }
    }

    /// The analyser of the knowledge base's phrasings: the configured synonyms and the
    /// built-in lexicon.
    pub fn analyzer(&self) -> Analyzer<'static> {
        Analyzer::new(self.synonyms.iter().map(Vec::as_slice))
    }

    /// Every problem serde could not see, each with its JSON pointer.
    pub fn problems(&self) -> Result<Vec<ConfigProblem>, Error> {
        let faqs = self.faqs()?;
        let mut p = Problems::default();
        let analyzer = self.analyzer();

        if faqs.is_empty() {
            p.add("/faqs", "must have at least one FAQ");
        }
        if faqs.len() > MAX_FAQS {
            p.add(
                "/faqs",
                format!("has {} FAQs; at most {MAX_FAQS}", faqs.len()),
            );
        }
        let mut ids = HashSet::new();
        for (i, faq) in faqs.iter().enumerate() {
            let at = format!("/faqs/{i}");
            p.text(&format!("{at}/id"), &faq.id, MAX_ID_CHARS);
            if !faq.id.trim().is_empty() && !ids.insert(faq.id.as_str()) {
                p.add(format!("{at}/id"), format!("duplicate FAQ id {:?}", faq.id));
            }
            p.phrase(&format!("{at}/question"), &faq.question, &analyzer);
            if faq.alternatives.len() > MAX_ALTERNATIVES {
                p.add(
                    format!("{at}/alternatives"),
                    format!("at most {MAX_ALTERNATIVES} alternatives"),
                );
            }
            for (j, alt) in faq.alternatives.iter().enumerate() {
                p.phrase(&format!("{at}/alternatives/{j}"), alt, &analyzer);
            }
            p.text(&format!("{at}/answer"), &faq.answer, MAX_ANSWER_CHARS);
        }

        if self.hot_questions.len() > MAX_HOT_QUESTIONS {
            p.add(
                "/hot_questions",
                format!("at most {MAX_HOT_QUESTIONS} hot questions"),
            );
        }
        let mut hot = HashSet::new();
        for (i, id) in self.hot_questions.iter().enumerate() {
            let at = format!("/hot_questions/{i}");
            if !ids.contains(id.as_str()) {
                p.add(&at, format!("no FAQ has the id {id:?}"));
            } else if !hot.insert(id.as_str()) {
                p.add(&at, format!("{id:?} is listed twice"));
            }
        }

        p.text("/welcome", &self.welcome, MAX_MESSAGE_CHARS);
        p.text("/did_you_mean", &self.did_you_mean, MAX_MESSAGE_CHARS);
        p.text("/not_understood", &self.not_understood, MAX_MESSAGE_CHARS);
        for (field, message) in [
            ("/transfer_message", &self.transfer_message),
            ("/end_message", &self.end_message),
            ("/timeout_message", &self.timeout_message),
        ] {
            if let Some(m) = message {
                p.length(field, m, MAX_MESSAGE_CHARS);
            }
        }
        p.keywords("/transfer_keywords", &self.transfer_keywords);
        p.keywords("/end_keywords", &self.end_keywords);

        if self.max_misses > MAX_MISSES {
            p.add("/max_misses", format!("must be at most {MAX_MISSES}"));
        }
        let (min, max) = IDLE_TIMEOUT_SECS;
        if !(min..=max).contains(&self.idle_timeout_secs) {
            p.add(
                "/idle_timeout_secs",
                format!("must be between {min} and {max} seconds"),
            );
        }

        if self.synonyms.len() > MAX_SYNONYM_GROUPS {
            p.add(
                "/synonyms",
                format!("at most {MAX_SYNONYM_GROUPS} synonym groups"),
            );
        }
        for (i, group) in self.synonyms.iter().enumerate() {
            let at = format!("/synonyms/{i}");
            if !(2..=MAX_SYNONYMS_PER_GROUP).contains(&group.len()) {
                p.add(
                    &at,
                    format!("a group has 2 to {MAX_SYNONYMS_PER_GROUP} members"),
                );
            }
            for (j, word) in group.iter().enumerate() {
                p.keyword(&format!("{at}/{j}"), word);
            }
        }

        for (field, value) in [
            ("/answer_threshold", self.answer_threshold),
            ("/suggest_threshold", self.suggest_threshold),
            ("/ambiguity_margin", self.ambiguity_margin),
        ] {
            if !(0.0..=1.0).contains(&value) {
                p.add(field, "must be between 0 and 1");
            }
        }
        if self.suggest_threshold > self.answer_threshold {
            p.add("/suggest_threshold", "must not be above answer_threshold");
        }
        Ok(p.0)
    }
}

/// Collects problems.
#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, message));
    }

    /// A text that must not be blank, at most `max` characters.
    fn text(&mut self, path: &str, text: &str, max: usize) {
        if text.trim().is_empty() {
            self.add(path, "must not be empty");
        } else {
            self.length(path, text, max);
        }
    }

    fn length(&mut self, path: &str, text: &str, max: usize) {
        let n = text.chars().count();
        if n > max {
            self.add(path, format!("is {n} characters long; at most {max}"));
        }
    }

    /// A question or alternative: not blank, bounded, and with something to match on.
    fn phrase(&mut self, path: &str, text: &str, analyzer: &Analyzer<'_>) {
        if text.trim().is_empty() {
            self.add(path, "must not be empty");
        } else if text.chars().count() > MAX_QUESTION_CHARS {
            self.length(path, text, MAX_QUESTION_CHARS);
        } else if terms(&analyzer.normalize(text)).is_empty() {
            self.add(
                path,
                "has nothing to match on: only punctuation or words too common to tell questions apart",
            );
        }
    }

    fn keywords(&mut self, path: &str, words: &[String]) {
        if words.len() > MAX_KEYWORDS {
            self.add(path, format!("at most {MAX_KEYWORDS} keywords"));
        }
        for (i, word) in words.iter().enumerate() {
            self.keyword(&format!("{path}/{i}"), word);
        }
    }

    fn keyword(&mut self, path: &str, word: &str) {
        if kefu_flow_sdk::text::fold_and_strip(word).is_empty() {
            self.add(path, "must contain a letter, digit or character");
        } else {
            self.length(path, word, MAX_KEYWORD_CHARS);
        }
    }
}

/// The JSON pointer of a serde path (inside `/faqs`).
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        let token = match segment {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => key.replace('~', "~0").replace('/', "~1"),
            Segment::Enum { variant } => variant.clone(),
            Segment::Unknown => break,
        };
        out.push('/');
        out.push_str(&token);
    }
    out
}

/// serde_json's message without " at line L column C": the pointer says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}

/// The JSON Schema (draft 2020-12) of the configuration.
pub fn schema() -> Value {
    let text = |description: &str, max: usize| json!({ "type": "string", "minLength": 1, "maxLength": max, "description": description });
    let optional = |description: &str| json!({ "type": ["string", "null"], "maxLength": MAX_MESSAGE_CHARS, "description": description });
    let keywords = |description: &str, default: Vec<String>| {
        json!({
            "type": "array",
            "description": description,
            "maxItems": MAX_KEYWORDS,
            "items": { "type": "string", "minLength": 1, "maxLength": MAX_KEYWORD_CHARS },
            "default": default
        })
    };
    let fraction = |description: &str, default: f32| json!({ "type": "number", "minimum": 0, "maximum": 1, "default": default, "description": description });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Text bot",
        "type": "object",
        "required": ["faqs"],
        "additionalProperties": false,
        "properties": {
            "faqs": {
                "description": "The knowledge base: each FAQ with its question, other ways users ask it, and the answer.",
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_FAQS,
                "items": {
                    "type": "object",
                    "required": ["id", "question", "answer"],
                    "additionalProperties": false,
                    "properties": {
                        "id": text("Unique id of the FAQ; the menu choice id, and what hot_questions name.", MAX_ID_CHARS),
                        "question": text("The question, as menus show it; matched like the alternatives.", MAX_QUESTION_CHARS),
                        "alternatives": {
                            "description": "Other ways users ask the question (paraphrases, keywords, the other language).",
                            "type": "array",
                            "maxItems": MAX_ALTERNATIVES,
                            "items": { "type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS },
                            "default": []
                        },
                        "answer": text("The answer; ${Name} placeholders are filled from the session's variables.", MAX_ANSWER_CHARS)
                    }
                }
            },
            "welcome": {
                "description": "Sent on entry: the title of the hot-question menu, or a text alone when there are no hot questions.",
                "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                "default": defaults::welcome()
            },
            "hot_questions": {
                "description": "Ids of FAQs offered as a menu on entry, in order. The user picks one by tapping it, by its number or by asking.",
                "type": "array", "maxItems": MAX_HOT_QUESTIONS, "uniqueItems": true,
                "items": { "type": "string" }, "default": []
            },
            "did_you_mean": {
                "description": "Title of the menu offering up to three close FAQs when the best match is not clear.",
                "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                "default": defaults::did_you_mean()
            },
            "not_understood": {
                "description": "Sent when no FAQ matches (a miss).",
                "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                "default": defaults::not_understood()
            },
            "transfer_keywords": keywords("A message containing one of these (Latin ones as whole words) leaves by the transfer exit.", defaults::transfer_keywords()),
            "transfer_message": optional("Sent before leaving by transfer (keyword or too many misses)."),
            "end_keywords": keywords("A message that is exactly one of these (ignoring case, width and punctuation) leaves by the done exit.", defaults::end_keywords()),
            "end_message": optional("Sent before leaving by done."),
            "max_misses": {
                "description": "Consecutive messages not understood after which the module leaves by transfer; 0 never does. An answer resets the count.",
                "type": "integer", "minimum": 0, "maximum": MAX_MISSES, "default": defaults::max_misses()
            },
            "idle_timeout_secs": {
                "description": "How long to wait for the user's next message before leaving by timeout.",
                "type": "integer", "minimum": IDLE_TIMEOUT_SECS.0, "maximum": IDLE_TIMEOUT_SECS.1,
                "default": defaults::idle_timeout_secs()
            },
            "timeout_message": optional("Sent before leaving by timeout."),
            "synonyms": {
                "description": "Groups of words or phrases meaning the same (e.g. [\"退款\", \"退钱\"], [\"sweater\", \"jumper\"]); every member is read as the first, ignoring case, width, punctuation and English inflections. For the shop's own vocabulary: a built-in lexicon already knows the general words of shopping and customer service in Chinese and English (退款 = 退钱 = refund = money back, 快递 = 物流 = delivery, …).",
                "type": "array", "maxItems": MAX_SYNONYM_GROUPS,
                "items": {
                    "type": "array", "minItems": 2, "maxItems": MAX_SYNONYMS_PER_GROUP,
                    "items": { "type": "string", "minLength": 1, "maxLength": MAX_KEYWORD_CHARS }
                },
                "default": []
            },
            "answer_threshold": fraction("Confidence (0-1) at or above which the best FAQ is answered directly (if clearly ahead of the runner-up).", defaults::answer_threshold()),
            "suggest_threshold": fraction("Confidence (0-1) at or above which a FAQ is offered under did_you_mean; below it for every FAQ, the message is a miss.", defaults::suggest_threshold()),
            "ambiguity_margin": fraction("How much more confident than the runner-up the best FAQ must be to be answered directly; otherwise the close ones are offered.", defaults::ambiguity_margin())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: Value) -> Config {
        serde_json::from_value(json).unwrap()
    }

    fn problems(json: Value) -> Vec<(String, String)> {
        config(json)
            .problems()
            .unwrap()
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect()
    }

    #[test]
    fn a_small_configuration_is_fine() {
        let p = problems(json!({
            "faqs": [{"id": "a", "question": "如何退款", "answer": "…"}],
            "hot_questions": ["a"]
        }));
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn reports_each_problem_with_its_pointer() {
        let p = problems(json!({
            "faqs": [
                {"id": "a", "question": "如何退款", "answer": "ok"},
                {"id": "a", "question": "？？", "alternatives": [""], "answer": " "}
            ],
            "hot_questions": ["b"],
            "idle_timeout_secs": 1,
            "suggest_threshold": 0.9,
            "synonyms": [["退款"]]
        }));
        let paths: Vec<&str> = p.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/faqs/1/id",
                "/faqs/1/question",
                "/faqs/1/alternatives/0",
                "/faqs/1/answer",
                "/hot_questions/0",
                "/idle_timeout_secs",
                "/synonyms/0",
                "/suggest_threshold"
            ]
        );
        assert_eq!(p[0].1, "duplicate FAQ id \"a\"");
        assert_eq!(p[3].1, "must not be empty");
        assert_eq!(p[4].1, "no FAQ has the id \"b\"");
    }

    #[test]
    fn reports_faq_type_errors_under_faqs() {
        let c = config(json!({"faqs": [{"id": "a", "question": "q", "answer": 3}]}));
        let err = c.faqs().unwrap_err();
        assert_eq!(err.problems()[0].path, "/faqs/0/answer");
        assert_eq!(
            err.problems()[0].message,
            "invalid type: integer `3`, expected a string"
        );
        let c = config(json!({"faqs": [{"id": "a", "question": "q", "answer": "x", "extra": 1}]}));
        assert_eq!(c.faqs().unwrap_err().problems()[0].path, "/faqs/0/extra");
    }
}
