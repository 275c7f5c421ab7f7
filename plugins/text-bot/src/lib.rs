//! The built-in `text-bot` flow module: answers the user's questions from a knowledge
//! base of FAQs ("FAQ / hot questions"), in Chinese and English.
//!
//! # Behaviour
//!
//! On entry the module sends the welcome text, as the title of a menu of the hot
//! questions when some are configured (choice ids are FAQ ids), and waits. Each
//! message the user then sends is handled in this order:
//!
//! 1. **Transfer keywords** (`人工`, `转人工`, `agent`, `human`, …): a message containing
//!    one (a Latin keyword as whole words) leaves by `transfer`.
//! 2. **End keywords** (`再见`, `没有了`, `bye`, …): a message that is exactly one leaves
//!    by `done`.
//! 3. **A menu pick**: while a menu (hot questions or "did you mean") is open, `1`,
//!    `2`, `第3个`, … or a choice id (what a rich client sends back) answers that FAQ.
//! 4. **Matching** against the knowledge base (see below), which ends in one of:
//!    - an **answer**: the FAQ's answer is sent (its `${…}` placeholders filled from
//!      the session) and the session variable `text_bot_faq` set to the FAQ id;
//!    - **did you mean**: when the best FAQ is not clearly ahead of the next, or not
//!      confident enough, up to three FAQs are offered as a menu;
//!    - a **miss**: the not-understood text is sent. After `max_misses` misses in a
//!      row the module leaves by `transfer` instead. An answer resets the count; a
//!      "did you mean" leaves it as it is. A message without text (an image, a
//!      sticker) is a miss too.
//!
//! Between messages the module waits at most `idle_timeout_secs`; then it leaves by
//! `timeout`. A session that comes back to the node (resumed) is welcomed again, as
//! on entry. Its private state is the miss count and the FAQs of the open menu. On
//! leaving by `transfer` it sets `text_bot_transfer_reason` (`keyword` or `misses`)
//! and `text_bot_last_message` (what the user wrote last), for the agent.
//!
//! # Exits
//!
//! | exit | when |
//! |---|---|
//! | `transfer` | a transfer keyword, or `max_misses` misses in a row |
//! | `done` | an end keyword: the user has no more questions |
//! | `timeout` | no message for `idle_timeout_secs` |
//!
//! # Configuration
//!
//! ```json
//! {
//!   "faqs": [
//!     { "id": "refund", "question": "如何申请退款？",
//!       "alternatives": ["怎么退款", "How do I get a refund?"],
//!       "answer": "${SystemClientNickName}您好，在“我的订单”中点击“申请退款”即可。" }
//!   ],
//!   "hot_questions": ["refund"],
//!   "welcome": "您好，请问有什么可以帮您？",
//!   "did_you_mean": "您是不是想问：",
//!   "not_understood": "抱歉，我没有理解您的问题……",
//!   "transfer_keywords": ["人工", "转人工", "人工客服", "agent", "human"],
//!   "transfer_message": null,
//!   "end_keywords": ["再见", "没有了", "bye"],
//!   "end_message": null,
//!   "max_misses": 3,
//!   "idle_timeout_secs": 300,
//!   "timeout_message": null,
//!   "synonyms": [["退款", "退钱"]],
//!   "answer_threshold": 0.4,
//!   "suggest_threshold": 0.25,
//!   "ambiguity_margin": 0.04
//! }
//! ```
//!
//! Only `faqs` is required (1–2000 FAQs, each with up to 20 alternatives); every
//! other field has the default shown. `describe()` carries the full JSON Schema, and
//! `validate-config` names each problem by its JSON pointer (`/faqs/3/answer`: must
//! not be empty; duplicate FAQ ids; hot questions naming no FAQ; bounds).
//!
//! # Matching
//!
//! A message and every phrasing of the knowledge base are read the same way:
//!
//! 1. **Folding** with `kefu_flow_sdk::text::fold_and_strip`: full/half width, case,
//!    punctuation.
//! 2. **Latin words** are spell-checked and stemmed. A word the knowledge base and the
//!    lexicon do not know is replaced by a known word one edit away (`refnud`,
//!    `adress`, `trak`); then plurals, `-ing`, `-ed` and a silent `e` are stripped, so
//!    that "refunds" meets "refund" and "shipped" meets "shipping".
//! 3. **Configured synonyms** (`synonyms`) are replaced by their group's first member.
//! 4. **Chinese function words** (一下, 请问, 什么, …) are removed, which joins their
//!    neighbours (退一下钱 → 退钱), and question words (多久 = 多长时间 = 几天 = how
//!    long = when) and generic words (商品 = 东西 = 衣服 = item, 订单 = order) become
//!    concepts.
//! 5. **The built-in lexicon** (see `lexicon.rs`): about fifty groups of the general
//!    vocabulary of online shopping and customer service, in both languages (退款 =
//!    退钱 = refund = money back; 快递 = 物流 = 包裹 = delivery = parcel; 发票 = 收据 =
//!    invoice = receipt; 失败 = 不成功 = 无法 = declined = not working; …). A member
//!    adds its group's *concept*, one term for every way of saying it, so a question
//!    asked with other words or in the other language still meets the FAQ. A Chinese
//!    member keeps its characters too.
//!
//! **Segmentation** needs no dictionary beyond that lexicon: a Chinese run gives its
//! characters (unigrams) and its pairs of adjacent characters (bigrams). Bigrams carry
//! most words of modern Chinese (退款, 发票, 密码) and unigrams catch single-character
//! words and the overlap of differently cut phrases; a full dictionary would cost
//! megabytes in every instance and still miss a shop's own terms. About seventy
//! topic-less characters (我, 的, 吗, 怎, 么, …) are not indexed alone, nor as pairs of
//! two of them (怎么, 可以). English stop words are dropped.
//!
//! **Ranking.** Every question and alternative is one entry of an inverted index; each
//! answer is indexed too, as weak evidence. A term weighs its IDF (over the FAQs'
//! phrasings) times its kind's weight: a concept most, a pair of characters or a word
//! fully, a single character little, and the characters of a lexicon member little
//! (their concept carries them). BM25 (k1 1.2, b 0.75) retrieves the best entries; each
//! is re-ranked by a confidence in 0–1 that blends a lexical similarity (90 %: how much
//! of the message's weight the FAQ's phrasings match together, an answer term counting
//! less; how much the entry alone matches; how much of the entry the message matches)
//! with the Dice coefficient of their character pairs (10 %: the fuzzy part, which
//! rewards the same phrasing and tolerates small differences). A word or character of
//! the message that the knowledge base lacks counts against the match, and a FAQ that
//! explains less than 60 % of the message has its confidence reduced in proportion:
//! an off-topic message that shares one word with a FAQ is not answered. A message that
//! is exactly a question or alternative is answered directly.
//!
//! The weights and default thresholds were chosen on the tuning part of the quality
//! test set (`tests/modules/data/text_bot_queries.json`: paraphrases marked `tune` or
//! `held_out`, and off-topic messages); the module test reports both parts.
//!
//! # Cost
//!
//! `prepare` (once per flow revision) normalises and segments the whole knowledge
//! base, builds the analyser's tables (synonyms, lexicon, the speller's known words
//! and their one-letter deletions) and serialises everything with postcard: sorted term
//! hashes, document frequencies, postings and string tables as raw little-endian
//! arrays, read in place. A step decodes it without copying, normalises and segments
//! only the user's message (binary searches in the prepared tables) and scores it.
//! The configuration a step receives keeps `faqs` as unparsed JSON, so a large
//! knowledge base is not deserialised on every step either.

mod analyze;
mod config;
mod index;
mod lexicon;
mod table;

use kefu_flow_sdk::text::{fold_and_strip, is_cjk};
use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, Output, Trigger};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::index::{Decision, Index};

/// Longest user text kept in `text_bot_last_message`, in characters.
const MAX_LAST_MESSAGE_CHARS: usize = 500;

/// What the module remembers between steps.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Messages not understood in a row.
    #[serde(default)]
    misses: u32,
    /// The FAQs (by index) of the menu the user was last shown, in order.
    #[serde(default)]
    offered: Vec<u16>,
}

struct TextBot;

impl FlowModule for TextBot {
    type Config = Config;

    fn describe() -> ModuleInfo {
        ModuleInfo::new("text-bot", "1.0.0")
            .description(
                "Answers questions from a knowledge base of FAQs (Chinese and English), \
                 shows hot questions on entry, offers \"did you mean\" when unsure, and \
                 hands over to an agent on request or after repeated misses.",
            )
            .config_schema(config::schema())
            .exit(
                "transfer",
                "The user asked for an agent (a transfer keyword), or max_misses messages in a row were not understood.",
            )
            .exit(
                "done",
                "The user said they have no more questions (an end keyword).",
            )
            .exit(
                "timeout",
                "The user wrote nothing for idle_timeout_secs.",
            )
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        let problems = config.problems()?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_config(problems))
        }
    }

    /// The module waits for the user between messages.
    fn waits(_config: &Config) -> bool {
        true
    }

    fn prepare(config: &Config) -> Result<Vec<u8>, Error> {
        let faqs = config.faqs()?;
        Index::build(&faqs, &config.synonyms)
            .to_bytes()
            .map_err(|err| Error::failed(format!("cannot encode the index: {err}")))
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        let bytes = input
            .prepared_bytes()
            .ok_or_else(|| Error::failed("the knowledge base has not been prepared"))?;
        let index = Index::from_bytes(bytes)
            .map_err(|err| Error::failed(format!("prepared index: {err}")))?;
        let bot = Bot {
            input: &input,
            config: input.config(),
            index: &index,
        };
        match input.trigger() {
            Trigger::Entered | Trigger::Resumed(_) => bot.greet(),
            Trigger::WaitTimedOut => Ok(bot.leave(
                config_text(&bot.config.timeout_message),
                Output::exit("timeout"),
            )),
            Trigger::UserMessage(message) => {
                let state = input.state::<State>()?.unwrap_or_default();
                bot.reply(&message.text, state)
            }
        }
    }
}

kefu_flow_sdk::export!(TextBot);

/// One step's view of the node.
struct Bot<'a> {
    input: &'a Input<Config>,
    config: &'a Config,
    index: &'a Index<'a>,
}

impl Bot<'_> {
    fn wait(&self) -> Output {
        Output::wait_ms(self.config.idle_timeout_secs.saturating_mul(1000))
    }

    /// The welcome, with the hot questions as a menu when there are some.
    fn greet(&self) -> Result<Output, Error> {
        let hot: Vec<u16> = self
            .config
            .hot_questions
            .iter()
            .filter_map(|id| self.faq_by_id(id))
            .collect();
        let welcome = self.input.render(&self.config.welcome);
        let output = if hot.is_empty() {
            self.wait().send_text(welcome)
        } else {
            self.wait().send_menu(welcome, self.choices(&hot))
        };
        output.state(&State {
            misses: 0,
            offered: hot,
        })
    }

    /// Handles a user message.
    fn reply(&self, text: &str, mut state: State) -> Result<Output, Error> {
        let stripped = fold_and_strip(text);
        if self
            .config
            .transfer_keywords
            .iter()
            .any(|k| contains_keyword(&stripped, &fold_and_strip(k)))
        {
            return self.transfer(text, "keyword");
        }
        if self
            .config
            .end_keywords
            .iter()
            .any(|k| fold_and_strip(k) == stripped)
        {
            return Ok(self.leave(config_text(&self.config.end_message), Output::exit("done")));
        }
        if let Some(faq) = self.picked(text, &stripped, &state.offered) {
            return self.answer(faq);
        }
        if stripped.is_empty() {
            return self.miss(text, state);
        }

        let ranking = self.index.rank(text);
        match ranking.decide(&self.config.thresholds()) {
            Decision::Answer(faq) => self.answer(u16::try_from(faq).unwrap_or(u16::MAX)),
            Decision::Suggest(faqs) => {
                let offered: Vec<u16> = faqs
                    .iter()
                    .map(|&f| u16::try_from(f).unwrap_or(u16::MAX))
                    .collect();
                let title = self.input.render(&self.config.did_you_mean);
                let output = self.wait().send_menu(title, self.choices(&offered));
                state.offered = offered;
                output.state(&state)
            }
            Decision::Miss => self.miss(text, state),
        }
    }

    /// The FAQ a message picks from the open menu: by number or by choice id.
    fn picked(&self, text: &str, stripped: &str, offered: &[u16]) -> Option<u16> {
        if offered.is_empty() {
            return None;
        }
        if let Some(n) = menu_number(stripped) {
            return offered.get(n.checked_sub(1)?).copied();
        }
        let id = text.trim();
        offered
            .iter()
            .copied()
            .find(|&f| self.faq(f).is_some_and(|faq| faq.id == id))
    }

    /// Sends the answer of FAQ `faq` and waits for the next question.
    fn answer(&self, faq: u16) -> Result<Output, Error> {
        let data = self
            .faq(faq)
            .ok_or_else(|| Error::failed(format!("no FAQ number {faq} in the index")))?;
        self.wait()
            .send_text(self.input.render(data.answer))
            .set_variable("text_bot_faq", data.id)?
            .state(&State::default())
    }

    /// A message not understood: says so, or transfers after too many in a row.
    fn miss(&self, text: &str, mut state: State) -> Result<Output, Error> {
        state.misses = state.misses.saturating_add(1);
        if self.config.max_misses > 0 && state.misses >= self.config.max_misses {
            return self.transfer(text, "misses");
        }
        state.offered.clear();
        self.wait()
            .send_text(self.input.render(&self.config.not_understood))
            .state(&state)
    }

    /// Leaves by `transfer`, telling the agent why and what the user wrote last.
    fn transfer(&self, text: &str, reason: &str) -> Result<Output, Error> {
        let last: String = text.chars().take(MAX_LAST_MESSAGE_CHARS).collect();
        let output = Output::exit("transfer")
            .set_variable("text_bot_transfer_reason", reason)?
            .set_variable("text_bot_last_message", last)?;
        Ok(self.leave(config_text(&self.config.transfer_message), output))
    }

    /// `output` (an exit), after `message` when there is one.
    fn leave(&self, message: Option<&str>, output: Output) -> Output {
        match message {
            Some(m) => {
                let mut out = Output::new(output.next.clone())
                    .send_text(self.input.render(m))
                    .actions(output.actions);
                out.state = output.state;
                out
            }
            None => output,
        }
    }

    fn faq(&self, faq: u16) -> Option<index::FaqData<'_>> {
        self.index.faq(usize::from(faq))
    }

    fn faq_by_id(&self, id: &str) -> Option<u16> {
        self.index.faq_by_id(id).and_then(|i| u16::try_from(i).ok())
    }

    /// Menu choices for FAQs: id and question.
    fn choices(&self, faqs: &[u16]) -> Vec<(String, String)> {
        faqs.iter()
            .filter_map(|&f| self.faq(f))
            .map(|f| (f.id.to_string(), f.question.to_string()))
            .collect()
    }
}

/// An optional configured text, when not blank.
fn config_text(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|t| !t.trim().is_empty())
}

/// Whether `message` contains `keyword` (both folded and stripped): anywhere for a
/// keyword that starts and ends with Chinese characters, as whole words otherwise
/// ("agent" in "talk to an agent", not in "agents' fees"… nor "reagent").
fn contains_keyword(message: &str, keyword: &str) -> bool {
    if keyword.is_empty() {
        return false;
    }
    let latin = |c: char| c.is_alphanumeric() && !is_cjk(c);
    message.match_indices(keyword).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + keyword.len()..].chars().next();
        let starts_latin = keyword.chars().next().is_some_and(latin);
        let ends_latin = keyword.chars().next_back().is_some_and(latin);
        !(starts_latin && before.is_some_and(latin) || ends_latin && after.is_some_and(latin))
    })
}

/// The menu number a message names: `2`, `第2个`, `二`, `第二条`; 1-based.
fn menu_number(stripped: &str) -> Option<usize> {
    let s = stripped.strip_prefix('第').unwrap_or(stripped);
    let s = s.strip_suffix(['个', '条', '项', '题', '问']).unwrap_or(s);
    if !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().filter(|&n| n > 0);
    }
    let mut chars = s.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return None;
    };
    "一二三四五六七八九十"
        .chars()
        .position(|n| n == c)
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keywords_as_words() {
        assert!(contains_keyword("我要转人工", "人工"));
        assert!(contains_keyword("talk to an agent now", "agent"));
        assert!(contains_keyword("real person please", "real person"));
        assert!(!contains_keyword("reagent", "agent"));
        assert!(!contains_keyword("humane", "human"));
        assert!(!contains_keyword("anything", ""));
    }

    #[test]
    fn reads_menu_numbers() {
        assert_eq!(menu_number("2"), Some(2));
        assert_eq!(menu_number("第3个"), Some(3));
        assert_eq!(menu_number("第二条"), Some(2));
        assert_eq!(menu_number("一"), Some(1));
        assert_eq!(menu_number("0"), None);
        assert_eq!(menu_number("123"), None);
        assert_eq!(menu_number("退款"), None);
    }

    #[test]
    fn describes_every_exit_with_a_schema() {
        let info = TextBot::describe();
        assert_eq!(
            (info.name.as_str(), info.version.as_str()),
            ("text-bot", "1.0.0")
        );
        let exits: Vec<&str> = info.exits.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(exits, ["transfer", "done", "timeout"]);
        assert!(info.exits.iter().all(|e| !e.description.is_empty()));
        let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["properties"]["faqs"]["maxItems"], 2000);
    }

    #[test]
    fn prepares_a_decodable_index() {
        let config: Config = serde_json::from_str(
            r#"{"faqs":[{"id":"a","question":"如何退款","answer":"x"}],"synonyms":[["退款","退钱"]]}"#,
        )
        .unwrap();
        assert!(TextBot::validate_config(&config).is_ok());
        let bytes = TextBot::prepare(&config).unwrap();
        let index = Index::from_bytes(&bytes).unwrap();
        assert_eq!(index.rank("退钱").candidates[0].0, 0);
    }
}
