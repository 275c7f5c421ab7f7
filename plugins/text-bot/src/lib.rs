//! The built-in `text-bot` flow module: answers the user's questions from a knowledge
//! base of FAQs ("FAQ / hot questions"), in the language the user writes in.
//!
//! # Behaviour
//!
//! On entry the module sends the welcome text, as the title of a menu of the hot
//! questions when some are configured (choice ids are FAQ ids), and waits. Each
//! message the user then sends is handled in this order:
//!
//! 1. **A request for an agent**: a message that asks for one with a transfer keyword
//!    (`人工`, `转人工`, `agent`, `human`, …) — the keyword alone, or with only the words
//!    people ask with ("我要人工客服", "can I talk to a human?"), in one of its clauses —
//!    leaves by `transfer`. A question that only mentions an agent ("人工客服的电话是
//!    多少？") is matched like any other (see `request.rs`).
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
//! **Languages.** A FAQ may carry `translations`: the same FAQ in another language
//! (`zh`, `en`), with its own question, alternatives and answer. A user who writes
//! Chinese (any Chinese character) gets the Chinese answer, one who writes English the
//! English one, when the FAQ has it (else its own). A "did you mean" menu offers each
//! FAQ once, by its question in the user's language, and `texts.<lang>` gives the
//! module's own messages in that language.
//!
//! Between messages the module waits at most `idle_timeout_secs`; then it leaves by
//! `timeout`. A session that comes back to the node (resumed) is welcomed again, as
//! on entry. Its private state is the miss count, the FAQs of the open menu and the
//! user's language. On leaving by `transfer` it sets `text_bot_transfer_reason`
//! (`keyword` or `misses`) and `text_bot_last_message` (what the user wrote last), for
//! the agent.
//!
//! # Exits
//!
//! | exit | when |
//! |---|---|
//! | `transfer` | the user asked for an agent, or `max_misses` messages in a row were not understood |
//! | `done` | an end keyword: the user has no more questions |
//! | `timeout` | no message for `idle_timeout_secs` |
//!
//! # Configuration
//!
//! ```json
//! {
//!   "faqs": [
//!     { "id": "refund", "question": "如何申请退款？", "alternatives": ["怎么退款"],
//!       "answer": "${SystemClientNickName}您好，在“我的订单”中点击“申请退款”即可。",
//!       "translations": [
//!         { "question": "How do I get a refund?", "alternatives": ["money back"],
//!           "answer": "Tap Request refund in My orders." }
//!       ] }
//!   ],
//!   "hot_questions": ["refund"],
//!   "welcome": "您好，请问有什么可以帮您？",
//!   "did_you_mean": "您是不是想问：",
//!   "not_understood": "抱歉，我没有理解您的问题……",
//!   "texts": { "en": { "did_you_mean": "Did you mean:", "not_understood": "Sorry…" } },
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
//! Only `faqs` is required (1–2000 FAQs, each with up to 20 alternatives per language
//! and one translation); every other field has the default shown. A version's language
//! is its `lang`, or its question's. `describe()` carries the full JSON Schema, and
//! `validate-config` names each problem by its JSON pointer (`/faqs/3/answer`: must not
//! be empty; duplicate FAQ ids; two versions in one language; hot questions naming no
//! FAQ; bounds).
//!
//! # Matching
//!
//! A message and every phrasing of the knowledge base are read the same way
//! (`analyze.rs`):
//!
//! 1. **Folding**: full and half width, case, punctuation; English contractions
//!    (`can't` → `can not`); traditional Chinese characters in their simplified form
//!    (退貨 → 退货, OpenCC's table).
//! 2. **Latin words** are spell-checked and stemmed: a word the knowledge base does not
//!    know is replaced by a known word one edit away (`refnud`, `adress`); then the
//!    Snowball stemmer makes "refunds" meet "refund" and "cancelled" meet "cancel", and
//!    a short table the irregular forms ("children", "paid", "bought"). A verb and its
//!    particle also count as their closed compound, so "log in" meets "login" and
//!    "check-in" meets "checkin".
//! 3. **Synonyms**: the configured groups (`synonyms`), then a small built-in table of
//!    everyday customer-service words and variant spellings (`lexicon.rs`: 登陆 for
//!    登录, "switch" for "change"), are replaced by their group's first member.
//!    Beyond them, a built-in thesaurus (`thesaurus.rs`: near-synonyms and broader and
//!    narrower words of customer service, shopping, delivery, accounts, payment and
//!    travel, in both languages) relates words that are not the same: a word of the
//!    message that no phrasing has is matched through a related word one has (狗狗
//!    through 宠物, "suitcase" through "luggage", 航班 through 机票), for 0.8 of the
//!    word itself when they are near-synonyms and 0.6 when one is a kind of the other.
//!    Its members may be phrases (托运行李, "boarding pass"), and a table of
//!    translations relates Chinese and English words, for a knowledge base written in
//!    one language. A FAQ that only the thesaurus relates to a message is not a
//!    candidate.
//! 4. **Chinese segmentation** with jieba's dictionary (`segment.rs`): the most probable
//!    cut into dictionary words, plus, as jieba's search mode, the words inside a long
//!    one. A word of several characters also gives its characters, as weaker terms, so
//!    that 换 meets 换货 and 用 meets 使用. The dictionary marks function words
//!    (particles, pronouns, prepositions, adverbs…), which weigh little, and says how
//!    common every word is in general language; a short list adds the words of
//!    politeness and asking (请问, 您好, 怎么办) and the light verb 有. A separable verb
//!    is closed (退一下钱 as 退钱, 换个货 as 换货).
//!
//! **Ranking** (`rank.rs`). Every question and alternative, in every language, is one
//! entry of an inverted index; each answer is indexed too, as weak evidence. A term
//! weighs its IDF over the FAQs (BM25's) times its kind's weight. BM25 (k1 1.2, b 0.75)
//! retrieves the best entries; each is re-ranked by a confidence in 0–1 that blends a
//! lexical similarity (how much of the message's weight the FAQ's phrasings match
//! together, an answer term counting less; how much the entry alone matches; how much
//! of the entry the message matches) with the Dice coefficient of their character
//! pairs. A word of the message the knowledge base lacks counts against the match by
//! its rarity in general language — "了" nothing, "红烧肉" fully — and a FAQ that
//! explains less than 30 % of the message has its confidence reduced in proportion: an
//! off-topic message that shares one word with a FAQ is not answered. When the message
//! asks for a time, a place, a reason, an amount or what to do (`ask.rs`: 多久, "where",
//! 为什么, "how many", 怎么办), a FAQ whose phrasings ask for the same counts more than
//! one of the same topic that asks for something else. A message that is exactly a
//! question or alternative is answered directly.
//!
//! The weights and default thresholds were chosen on the tuning halves of the quality
//! test sets (`tests/modules/data/`); the module tests report both halves.
//!
//! # Cost
//!
//! The dictionary (about 350,000 words) and the character table are packed by the
//! build script into the component's data, which a step reads in place: nothing is
//! loaded per step. `prepare` (once per flow revision) normalises and segments the
//! whole knowledge base and serialises the index with postcard: sorted term hashes,
//! document frequencies, postings and string tables as raw little-endian arrays, read in
//! place. A step decodes it without copying, normalises and segments only the user's
//! message (its first 300 characters) and scores it. The configuration a step receives
//! keeps `faqs` as unparsed JSON, so a large knowledge base is not deserialised on every
//! step either. Of the thesaurus, the index keeps only the pairs whose related word a
//! phrasing has (a few hundred, 17 bytes each) and the phrases among their first
//! words: a step makes a binary search per word of its message, and one pass over it
//! for the phrases.

mod analyze;
mod ask;
mod checks;
mod config;
mod dict;
mod index;
mod lang;
mod lexicon;
mod rank;
mod related;
mod replace;
mod request;
mod schema;
mod segment;
mod spell;
mod table;
mod thesaurus;

use kefu_flow_sdk::text::fold_and_strip;
use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, Output, Trigger};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::index::{FaqText, Index};
use crate::lang::Lang;
use crate::rank::Decision;

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
    /// The language the user last wrote in.
    #[serde(default)]
    lang: Option<Lang>,
}

struct TextBot;

impl FlowModule for TextBot {
    type Config = Config;

    fn describe() -> ModuleInfo {
        ModuleInfo::new("text-bot", "1.1.0")
            .description(
                "Answers questions from a knowledge base of FAQs in the user's language \
                 (Chinese and English), shows hot questions on entry, offers \"did you \
                 mean\" when unsure, and hands over to an agent on request or after \
                 repeated misses.",
            )
            .config_schema(schema::schema())
            .exit(
                "transfer",
                "The user asked for an agent (with a transfer keyword), or max_misses messages in a row were not understood.",
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
            Trigger::WaitTimedOut => {
                let lang = input.state::<State>()?.unwrap_or_default().lang;
                let message =
                    bot.config
                        .message(lang, |t| &t.timeout_message, &bot.config.timeout_message);
                Ok(bot.leave(message, Output::exit("timeout")))
            }
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
            self.wait().send_menu(welcome, self.choices(&hot, None))
        };
        output.state(&State {
            misses: 0,
            offered: hot,
            lang: None,
        })
    }

    /// Handles a user message.
    fn reply(&self, text: &str, mut state: State) -> Result<Output, Error> {
        let stripped = fold_and_strip(text);
        let lang = Lang::detect(text).or(state.lang);
        state.lang = lang;
        if request::asks_for_agent(text, &self.config.transfer_keywords) {
            return self.transfer(text, "keyword", lang);
        }
        if self
            .config
            .end_keywords
            .iter()
            .any(|k| fold_and_strip(k) == stripped)
        {
            let message = self
                .config
                .message(lang, |t| &t.end_message, &self.config.end_message);
            return Ok(self.leave(message, Output::exit("done")));
        }
        if let Some(faq) = self.picked(text, &stripped, &state.offered) {
            return self.answer(faq, lang);
        }
        if stripped.is_empty() {
            return self.miss(text, state);
        }

        let ranking = self.index.rank(text, lang);
        match ranking.decide(&self.config.thresholds()) {
            Decision::Answer(faq) => self.answer(u16::try_from(faq).unwrap_or(u16::MAX), lang),
            Decision::Suggest(faqs) => {
                let offered: Vec<u16> = faqs
                    .iter()
                    .map(|&f| u16::try_from(f).unwrap_or(u16::MAX))
                    .collect();
                let title = self.input.render(self.config.did_you_mean(lang));
                let output = self.wait().send_menu(title, self.choices(&offered, lang));
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
            .find(|&f| self.faq(f, None).is_some_and(|faq| faq.id == id))
    }

    /// Sends the answer of FAQ `faq` in `lang` (when it has it) and waits for the next
    /// question.
    fn answer(&self, faq: u16, lang: Option<Lang>) -> Result<Output, Error> {
        let data = self
            .faq(faq, lang)
            .ok_or_else(|| Error::failed(format!("no FAQ number {faq} in the index")))?;
        self.wait()
            .send_text(self.input.render(data.answer))
            .set_variable("text_bot_faq", data.id)?
            .state(&State {
                lang,
                ..State::default()
            })
    }

    /// A message not understood: says so, or transfers after too many in a row.
    fn miss(&self, text: &str, mut state: State) -> Result<Output, Error> {
        state.misses = state.misses.saturating_add(1);
        if self.config.max_misses > 0 && state.misses >= self.config.max_misses {
            return self.transfer(text, "misses", state.lang);
        }
        state.offered.clear();
        self.wait()
            .send_text(self.input.render(self.config.not_understood(state.lang)))
            .state(&state)
    }

    /// Leaves by `transfer`, telling the agent why and what the user wrote last.
    fn transfer(&self, text: &str, reason: &str, lang: Option<Lang>) -> Result<Output, Error> {
        let last: String = text.chars().take(MAX_LAST_MESSAGE_CHARS).collect();
        let output = Output::exit("transfer")
            .set_variable("text_bot_transfer_reason", reason)?
            .set_variable("text_bot_last_message", last)?;
        let message =
            self.config
                .message(lang, |t| &t.transfer_message, &self.config.transfer_message);
        Ok(self.leave(message, output))
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

    fn faq(&self, faq: u16, lang: Option<Lang>) -> Option<FaqText<'_>> {
        self.index.faq(usize::from(faq), lang)
    }

    fn faq_by_id(&self, id: &str) -> Option<u16> {
        self.index.faq_by_id(id).and_then(|i| u16::try_from(i).ok())
    }

    /// Menu choices for FAQs: id and question, in `lang` when the FAQ has it.
    fn choices(&self, faqs: &[u16], lang: Option<Lang>) -> Vec<(String, String)> {
        faqs.iter()
            .filter_map(|&f| self.faq(f, lang))
            .map(|f| (f.id.to_string(), f.question.to_string()))
            .collect()
    }
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
            ("text-bot", "1.1.0")
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
        let faq = &schema["properties"]["faqs"]["items"]["properties"];
        assert_eq!(faq["lang"]["enum"], serde_json::json!(["zh", "en"]));
        assert_eq!(faq["translations"]["maxItems"], 1);
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
        assert_eq!(index.rank("退钱", None).candidates[0].0, 0);
    }
}
