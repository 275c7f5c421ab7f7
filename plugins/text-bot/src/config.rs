//! The node configuration: its fields and defaults. `checks` holds what serde cannot
//! check, `schema` the JSON Schema `describe()` publishes.

use std::collections::BTreeMap;

use kefu_flow_sdk::Error;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::lang::Lang;
use crate::rank::Thresholds;

/// Most FAQs in one knowledge base.
pub const MAX_FAQS: usize = 2000;
/// Most alternative phrasings of one FAQ in one language.
pub const MAX_ALTERNATIVES: usize = 20;
/// Most translations of one FAQ: one per language besides its own.
pub const MAX_TRANSLATIONS: usize = 1;
/// Most phrasings and answers of a whole knowledge base, every language counted: the
/// prepared index numbers them in 16 bits.
pub const MAX_ENTRIES: usize = 65_535;
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
    /// Words that make the module leave by `transfer` when the user asks for an agent
    /// with them.
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
    /// The texts above in other languages, for users who write in them.
    #[serde(default)]
    pub texts: BTreeMap<Lang, Texts>,
    /// Groups of words meaning the same, the first member being the canonical one: the
    /// shop's own vocabulary.
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

/// The messages of the module in one language; each replaces the configured one for
/// users who write in that language.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub did_you_mean: Option<String>,
    pub not_understood: Option<String>,
    pub transfer_message: Option<String>,
    pub end_message: Option<String>,
    pub timeout_message: Option<String>,
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
    /// The language of the question and the answer; when absent, the question's.
    #[serde(default)]
    pub lang: Option<Lang>,
    /// The same FAQ in other languages.
    #[serde(default)]
    pub translations: Vec<Translation>,
}

/// A FAQ in another language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    pub question: String,
    #[serde(default)]
    pub alternatives: Vec<String>,
    pub answer: String,
    #[serde(default)]
    pub lang: Option<Lang>,
}

/// One language version of a FAQ: its own, or a translation.
#[derive(Debug, Clone, Copy)]
pub struct Version<'a> {
    pub lang: Lang,
    pub question: &'a str,
    pub alternatives: &'a [String],
    pub answer: &'a str,
}

impl Faq {
    /// The FAQ's versions, its own first. A version without a language is in its
    /// question's (English when it has no Chinese character).
    pub fn versions(&self) -> Vec<Version<'_>> {
        let lang = |given: Option<Lang>, question: &str| {
            given.or_else(|| Lang::detect(question)).unwrap_or(Lang::En)
        };
        std::iter::once(Version {
            lang: lang(self.lang, &self.question),
            question: &self.question,
            alternatives: &self.alternatives,
            answer: &self.answer,
        })
        .chain(self.translations.iter().map(|t| Version {
            lang: lang(t.lang, &t.question),
            question: &t.question,
            alternatives: &t.alternatives,
            answer: &t.answer,
        }))
        .collect()
    }
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
    /// Chosen, with the matching's weights, on the tuning halves of the quality test
    /// sets (`tests/modules/data/`); their held-out halves check them.
    pub fn answer_threshold() -> f32 {
        0.3
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

    /// The "did you mean" title for a user writing in `lang`.
    pub fn did_you_mean(&self, lang: Option<Lang>) -> &str {
        self.text(lang, |t| &t.did_you_mean)
            .unwrap_or(&self.did_you_mean)
    }

    /// The not-understood reply for a user writing in `lang`.
    pub fn not_understood(&self, lang: Option<Lang>) -> &str {
        self.text(lang, |t| &t.not_understood)
            .unwrap_or(&self.not_understood)
    }

    /// An optional message for a user writing in `lang`: the language's own, else the
    /// configured one; nothing when that is absent or blank.
    pub fn message<'a>(
        &'a self,
        lang: Option<Lang>,
        own: fn(&Texts) -> &Option<String>,
        default: &'a Option<String>,
    ) -> Option<&'a str> {
        self.text(lang, own)
            .or(default.as_deref())
            .filter(|t| !t.trim().is_empty())
    }

    fn text(&self, lang: Option<Lang>, field: fn(&Texts) -> &Option<String>) -> Option<&str> {
        lang.and_then(|l| self.texts.get(&l))
            .and_then(|t| field(t).as_deref())
            .filter(|t| !t.trim().is_empty())
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
