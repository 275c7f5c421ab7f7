//! The prepared knowledge base: an inverted index built once per configuration, and
//! the search a step runs against it.
//!
//! Every question and alternative phrasing is one *entry* of the index. The index is
//! serialised with postcard; its large arrays (term hashes, postings) are raw
//! little-endian bytes that a step reads in place, so decoding it costs a few
//! allocations whatever the size of the knowledge base.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analyze::{Analyzer, Kind, Term, dice, grams, hash_char, is_stop_char, terms};
use crate::config::Faq;
use crate::table::Strings;

/// BM25's term-frequency saturation.
const K1: f32 = 1.2;
/// BM25's length normalisation.
const B: f32 = 0.75;
/// How many entries, best by BM25, the fuzzy re-ranking looks at.
const RERANK: usize = 24;

// The weights below were chosen on the tuning part of the quality test set
// (`tests/modules/data/text_bot_queries.json`), among the settings with the best
// top-1 accuracy, as the one that kept off-topic messages furthest below the answer
// threshold.

/// Weight, times its IDF, of a Chinese character: weak evidence alone (a character
/// is part of many words), but it lets differently cut phrasings overlap.
const UNIGRAM_WEIGHT: f32 = 0.2;
/// Weight of two adjacent Chinese characters, which carry most words.
const BIGRAM_WEIGHT: f32 = 1.0;
/// Weight of a Latin word.
const WORD_WEIGHT: f32 = 1.0;
/// Weight of a concept of the lexicon: it stands for every way of saying it, in both
/// languages, so meeting it is stronger evidence than meeting one word.
const CONCEPT_WEIGHT: f32 = 1.5;
/// Weight of a generic concept (an item, an order).
const GENERIC_WEIGHT: f32 = 0.6;
/// Factor of the characters and pairs inside a member of the lexicon (支付 in 支付宝):
/// their concept carries the meaning, and their characters shared with other words
/// must not outweigh it.
const SPAN_FACTOR: f32 = 0.2;
/// Weight, times the highest IDF and the kind's weight, of a word or concept of the
/// message that the knowledge base lacks: information no FAQ can explain.
const UNKNOWN_WEIGHT: f32 = 1.0;
/// Weight, times the highest IDF, of a Chinese character the knowledge base lacks (a
/// pair of two such characters, an unknown word, counts as an unknown pair too).
const UNKNOWN_CHAR_WEIGHT: f32 = 1.25;
/// How much a term of the message found only in a FAQ's answer counts towards the
/// FAQ's coverage of the message, against 1 for one found in its phrasings.
const ANSWER_WEIGHT: f32 = 0.3;
/// Weight of the message's coverage by all phrasings of the FAQ together, and by the
/// entry alone, in the lexical similarity (the rest is the entry's coverage by the
/// message).
const FAQ_COVERAGE_WEIGHT: f32 = 0.4;
const QUERY_COVERAGE_WEIGHT: f32 = 0.25;
/// Weight of the lexical similarity in the confidence (the rest is the fuzzy one).
const LEXICAL_WEIGHT: f32 = 0.9;
/// The share of the message's information a FAQ must explain for its confidence to
/// stand; below it, the confidence shrinks in proportion. A message that shares one
/// word with a FAQ and says something else ("what is the capital of France") is not
/// about that FAQ.
const MIN_COVERAGE: f32 = 0.6;

/// The weight of `term`, times its IDF.
fn weight(term: &Term) -> f32 {
    let kind = match term.kind {
        Kind::Unigram => UNIGRAM_WEIGHT,
        Kind::Bigram => BIGRAM_WEIGHT,
        Kind::Word => WORD_WEIGHT,
        Kind::Concept => CONCEPT_WEIGHT,
        Kind::Generic => GENERIC_WEIGHT,
    };
    if term.explained {
        kind * SPAN_FACTOR
    } else {
        kind
    }
}

/// Bytes per posting: the entry (u16) and the term's frequency in it (u8).
const POSTING_BYTES: usize = 3;

/// One FAQ as steps need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaqData<'a> {
    /// The FAQ's id.
    pub id: &'a str,
    /// Its question, as menus show it.
    pub question: &'a str,
    /// Its answer, a template.
    pub answer: &'a str,
}

/// The prepared form of a configuration.
#[derive(Debug, Serialize, Deserialize)]
pub struct Index<'a> {
    /// The FAQs' ids, questions and answers, in configuration order.
    #[serde(borrow)]
    ids: Strings<'a>,
    #[serde(borrow)]
    questions: Strings<'a>,
    #[serde(borrow)]
    answers: Strings<'a>,
    /// How text is read: synonyms, lexicon and spelling, applied to every message.
    #[serde(borrow)]
    pub analyzer: Analyzer<'a>,
    /// How many entries are questions and alternatives; the answers follow them,
    /// one per FAQ.
    phrases: u32,
    /// Per entry: its FAQ.
    entry_faq: Vec<u16>,
    /// Per entry: how many terms it has (repeats included).
    entry_len: Vec<u16>,
    /// Per entry: the IDF mass of its distinct terms.
    entry_mass: Vec<f32>,
    /// Per entry: its normalised text, compared exactly and by character grams.
    #[serde(borrow)]
    entry_text: Strings<'a>,
    /// The average entry length, in terms.
    avg_len: f32,
    /// The distinct term hashes, sorted (u64 little-endian each).
    #[serde(borrow)]
    term_hashes: Cow<'a, [u8]>,
    /// Per term: in how many FAQs it appears (u16 little-endian each).
    #[serde(borrow)]
    term_df: Cow<'a, [u8]>,
    /// Per term, and one more: where its postings start (u32 little-endian each).
    #[serde(borrow)]
    term_offsets: Cow<'a, [u8]>,
    /// The postings of all terms, term after term, [`POSTING_BYTES`] each.
    #[serde(borrow)]
    postings: Cow<'a, [u8]>,
}

/// How a message matched: the FAQs best first, with their confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// (FAQ index, confidence in 0–1), best first, each FAQ once.
    pub candidates: Vec<(usize, f32)>,
    /// The FAQ whose question or alternative is exactly the message, if any.
    pub exact: Option<usize>,
}

impl Index<'static> {
    /// Builds the index of `faqs` (already validated: at most 2000 FAQs of at most 21
    /// phrasings, so entry numbers fit in u16) with the configured synonym `groups`.
    pub fn build(faqs: &[Faq], groups: &[Vec<String>]) -> Index<'static> {
        let texts = faqs.iter().flat_map(|f| {
            std::iter::once(f.question.as_str())
                .chain(f.alternatives.iter().map(String::as_str))
                .chain(std::iter::once(f.answer.as_str()))
        });
        // The knowledge base is read without the speller: its words are the known ones.
        let plain = Analyzer::new(groups.iter().map(Vec::as_slice));
        let mut entry_faq = Vec::new();
        let mut entry_text = Vec::new();
        let mut entry_terms: Vec<Vec<Term>> = Vec::new();
        for (i, faq) in faqs.iter().enumerate() {
            for phrase in std::iter::once(&faq.question).chain(&faq.alternatives) {
                let text = plain.normalize(phrase);
                entry_terms.push(terms(&text));
                entry_text.push(text);
                entry_faq.push(u16::try_from(i).unwrap_or(u16::MAX));
            }
        }
        // The answers come last, as weak evidence (see `rank`); their text is not kept.
        let phrases = u32::try_from(entry_faq.len()).unwrap_or(u32::MAX);
        for (i, faq) in faqs.iter().enumerate() {
            entry_terms.push(terms(&plain.normalize(&faq.answer)));
            entry_text.push(String::new());
            entry_faq.push(u16::try_from(i).unwrap_or(u16::MAX));
        }

        // term → postings (entry, tf), and the FAQs whose phrasings have it (answers
        // are long and would make every word of the trade look common).
        let mut postings: HashMap<u64, Vec<(u16, u8)>> = HashMap::new();
        let mut df: HashMap<u64, u16> = HashMap::new();
        let mut seen: HashSet<(u64, u16)> = HashSet::new();
        for (e, entry) in entry_terms.iter().enumerate() {
            let e16 = u16::try_from(e).unwrap_or(u16::MAX);
            let mut counts: Vec<(u64, u8)> = Vec::new();
            for term in entry {
                match counts.iter_mut().find(|(h, _)| *h == term.hash) {
                    Some((_, n)) => *n = n.saturating_add(1),
                    None => counts.push((term.hash, 1)),
                }
            }
            for (hash, tf) in counts {
                postings.entry(hash).or_default().push((e16, tf));
                if e < phrases as usize && seen.insert((hash, entry_faq[e])) {
                    *df.entry(hash).or_insert(0) += 1;
                }
            }
        }
        let n_faqs = faqs.len();
        let mut hashes: Vec<u64> = postings.keys().copied().collect();
        hashes.sort_unstable();

        let mut term_hashes = Vec::with_capacity(hashes.len() * 8);
        let mut term_df = Vec::with_capacity(hashes.len() * 2);
        let mut term_offsets = Vec::with_capacity((hashes.len() + 1) * 4);
        let mut posting_bytes = Vec::new();
        let mut idf_of = HashMap::new();
        for hash in &hashes {
            let d = df.get(hash).copied().unwrap_or(0);
            idf_of.insert(*hash, idf(n_faqs, d));
            term_hashes.extend_from_slice(&hash.to_le_bytes());
            term_df.extend_from_slice(&d.to_le_bytes());
            let offset = u32::try_from(posting_bytes.len() / POSTING_BYTES).unwrap_or(u32::MAX);
            term_offsets.extend_from_slice(&offset.to_le_bytes());
            for (entry, tf) in &postings[hash] {
                posting_bytes.extend_from_slice(&entry.to_le_bytes());
                posting_bytes.push(*tf);
            }
        }
        let end = u32::try_from(posting_bytes.len() / POSTING_BYTES).unwrap_or(u32::MAX);
        term_offsets.extend_from_slice(&end.to_le_bytes());

        let entry_len: Vec<u16> = entry_terms
            .iter()
            .map(|t| u16::try_from(t.len()).unwrap_or(u16::MAX))
            .collect();
        let entry_mass = entry_terms
            .iter()
            .map(|t| {
                let mut seen: Vec<&Term> = t.iter().collect();
                seen.sort_unstable_by_key(|t| t.hash);
                seen.dedup_by_key(|t| t.hash);
                seen.iter().map(|t| weight(t) * idf_of[&t.hash]).sum()
            })
            .collect();
        let total: usize = entry_len.iter().map(|&l| usize::from(l)).sum();
        let avg_len = total as f32 / entry_len.len().max(1) as f32;

        Index {
            ids: Strings::new(faqs.iter().map(|f| &f.id)),
            questions: Strings::new(faqs.iter().map(|f| &f.question)),
            answers: Strings::new(faqs.iter().map(|f| &f.answer)),
            analyzer: plain.with_speller(texts, groups.iter().map(Vec::as_slice)),
            phrases,
            entry_faq,
            entry_len,
            entry_mass,
            entry_text: Strings::new(entry_text),
            avg_len: avg_len.max(1.0),
            term_hashes: Cow::Owned(term_hashes),
            term_df: Cow::Owned(term_df),
            term_offsets: Cow::Owned(term_offsets),
            postings: Cow::Owned(posting_bytes),
        }
    }
}

impl<'a> Index<'a> {
    /// The bytes `prepare` returns.
    pub fn to_bytes(&self) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(self)
    }

    /// Reads an index from `bytes` in place.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// How many FAQs there are.
    pub fn faq_count(&self) -> usize {
        self.ids.len()
    }

    /// FAQ number `i`.
    pub fn faq(&self, i: usize) -> Option<FaqData<'_>> {
        Some(FaqData {
            id: self.ids.get(i)?,
            question: self.questions.get(i)?,
            answer: self.answers.get(i)?,
        })
    }

    /// The number of the FAQ whose id is `id`.
    pub fn faq_by_id(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|f| f == id)
    }

    /// The number of distinct terms.
    fn term_count(&self) -> usize {
        self.term_hashes.len() / 8
    }

    fn term_hash(&self, i: usize) -> u64 {
        u64::from_le_bytes(array(&self.term_hashes[i * 8..]))
    }

    /// The position of the term `hash`, if the knowledge base has it.
    fn find(&self, hash: u64) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.term_count());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.term_hash(mid).cmp(&hash) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn df(&self, term: usize) -> u16 {
        u16::from_le_bytes(array(&self.term_df[term * 2..]))
    }

    fn postings(&self, term: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let offset = |i: usize| u32::from_le_bytes(array(&self.term_offsets[i * 4..])) as usize;
        let bytes = &self.postings[offset(term) * POSTING_BYTES..offset(term + 1) * POSTING_BYTES];
        bytes.chunks_exact(POSTING_BYTES).map(|p| {
            (
                usize::from(u16::from_le_bytes([p[0], p[1]])),
                f32::from(p[2]),
            )
        })
    }

    /// Ranks the FAQs against a user's message.
    ///
    /// 1. The message is normalised and split like the knowledge base. Each distinct
    ///    term weighs its IDF (over the FAQs' phrasings) times the weight of its kind.
    ///    A term the knowledge base lacks weighs the highest IDF, as information no
    ///    FAQ explains; except a Chinese pair with a known character (the junction of
    ///    two words, 么退 in 怎么退款) and a character a concept of the lexicon
    ///    explains.
    /// 2. BM25 scores every entry sharing a term; the best [`RERANK`] are kept.
    /// 3. Each is re-ranked by a confidence in 0–1: the lexical similarity (how much of
    ///    the message's mass all the FAQ's phrasings match together, its answer's
    ///    terms counting [`ANSWER_WEIGHT`]; how much of it the entry matches; how much
    ///    of the entry's mass the message matches) blended with the Dice coefficient of
    ///    their character pairs, which rewards the same phrasing and tolerates small
    ///    differences. A FAQ that explains less than [`MIN_COVERAGE`] of the message
    ///    has its confidence reduced in proportion.
    /// 4. A FAQ's confidence is its best entry's.
    pub fn rank(&self, message: &str) -> Ranking {
        let text = self.analyzer.normalize(message);
        let n_faqs = self.faq_count();
        let exact = self
            .entry_text
            .iter()
            .position(|t| !text.is_empty() && t == text)
            .map(|e| usize::from(self.entry_faq[e]));

        let mut query = terms(&text);
        query.sort_unstable_by_key(|t| t.hash);
        query.dedup_by_key(|t| t.hash);

        let n_entries = self.entry_faq.len();
        let phrases = self.phrases as usize;
        let mut bm25 = vec![0f32; n_entries];
        let mut matched = vec![0f32; n_entries];
        let mut faq_matched = vec![0f32; n_faqs];
        let mut faq_term = vec![usize::MAX; n_faqs];
        let mut query_mass = 0f32;
        let max_idf = idf(n_faqs, 0);
        for term in &query {
            let Some(t) = self.find(term.hash) else {
                if !term.explained {
                    query_mass += max_idf * self.unknown_weight(term);
                }
                continue;
            };
            let q = weight(term) * idf(n_faqs, self.df(t));
            query_mass += q;
            for (e, tf) in self.postings(t) {
                let faq = usize::from(self.entry_faq[e]);
                let answer = e >= phrases;
                if faq_term[faq] != t {
                    faq_term[faq] = t;
                    faq_matched[faq] += if answer { q * ANSWER_WEIGHT } else { q };
                }
                if answer {
                    continue;
                }
                let len = f32::from(self.entry_len[e]);
                let norm = K1 * (1.0 - B + B * len / self.avg_len);
                bm25[e] += q * tf * (K1 + 1.0) / (tf + norm);
                matched[e] += q;
            }
        }

        let mut top: Vec<usize> = (0..n_entries).filter(|&e| bm25[e] > 0.0).collect();
        top.sort_unstable_by(|&a, &b| bm25[b].total_cmp(&bm25[a]).then(a.cmp(&b)));
        top.truncate(RERANK);

        let query_grams = grams(&text);
        let mut best: Vec<(usize, f32)> = Vec::new();
        for e in top {
            let query_cov = if query_mass > 0.0 {
                matched[e] / query_mass
            } else {
                0.0
            };
            let entry_cov = if self.entry_mass[e] > 0.0 {
                matched[e] / self.entry_mass[e]
            } else {
                0.0
            };
            let faq = usize::from(self.entry_faq[e]);
            let faq_cov = if query_mass > 0.0 {
                faq_matched[faq] / query_mass
            } else {
                0.0
            };
            let lexical = FAQ_COVERAGE_WEIGHT * faq_cov.min(1.0)
                + QUERY_COVERAGE_WEIGHT * query_cov.min(1.0)
                + (1.0 - QUERY_COVERAGE_WEIGHT - FAQ_COVERAGE_WEIGHT) * entry_cov.min(1.0);
            let fuzzy = dice(
                &query_grams,
                &grams(self.entry_text.get(e).unwrap_or_default()),
            );
            let mut confidence = LEXICAL_WEIGHT * lexical + (1.0 - LEXICAL_WEIGHT) * fuzzy;
            if faq_cov < MIN_COVERAGE {
                confidence *= faq_cov / MIN_COVERAGE;
            }
            match best.iter_mut().find(|(f, _)| *f == faq) {
                Some((_, c)) => *c = c.max(confidence),
                None => best.push((faq, confidence)),
            }
        }
        best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ranking {
            candidates: best,
            exact,
        }
    }

    /// The weight, times the highest IDF, of a term of the message the knowledge base
    /// lacks.
    fn unknown_weight(&self, term: &Term) -> f32 {
        match (term.kind, term.pair) {
            (Kind::Unigram, _) => UNKNOWN_CHAR_WEIGHT,
            // An unknown word of two characters; a pair with a known (or topic-less)
            // character is the junction of two words, or holds a character counted.
            (Kind::Bigram, Some((a, b)))
                if [a, b]
                    .iter()
                    .all(|&c| !is_stop_char(c) && self.find(hash_char(c)).is_none()) =>
            {
                BIGRAM_WEIGHT * UNKNOWN_WEIGHT
            }
            (Kind::Bigram, _) => 0.0,
            _ => weight(term) * UNKNOWN_WEIGHT,
        }
    }
}

/// The confidence levels a [`Ranking`] is judged by (see the configuration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// At or above it, the best FAQ is answered (when clearly ahead).
    pub answer: f32,
    /// At or above it, a FAQ may be offered under "did you mean".
    pub suggest: f32,
    /// How far ahead of the runner-up the best FAQ must be to be answered.
    pub margin: f32,
}

/// What to do with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer this FAQ.
    Answer(usize),
    /// Offer these FAQs (one to three, best first) under "did you mean".
    Suggest(Vec<usize>),
    /// Say the message was not understood.
    Miss,
}

impl Ranking {
    /// The answer, the suggestions or the miss this ranking leads to: an exact phrasing
    /// is answered; so is a best FAQ confident enough and clearly ahead of the next;
    /// otherwise up to three FAQs above the suggestion level are offered.
    pub fn decide(&self, t: &Thresholds) -> Decision {
        if let Some(faq) = self.exact {
            return Decision::Answer(faq);
        }
        let Some(&(best, confidence)) = self.candidates.first() else {
            return Decision::Miss;
        };
        let runner_up = self.candidates.get(1).map_or(0.0, |c| c.1);
        if confidence >= t.answer && confidence - runner_up >= t.margin {
            return Decision::Answer(best);
        }
        if confidence >= t.suggest {
            return Decision::Suggest(
                self.candidates
                    .iter()
                    .take(3)
                    .filter(|c| c.1 >= t.suggest)
                    .map(|c| c.0)
                    .collect(),
            );
        }
        Decision::Miss
    }
}

/// BM25's IDF of a term found in `df` of `n` FAQs.
fn idf(n: usize, df: u16) -> f32 {
    let (n, df) = (n as f32, f32::from(df));
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The first `N` bytes of `bytes` (which the index's layout guarantees are there).
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faq(id: &str, question: &str, alternatives: &[&str]) -> Faq {
        Faq {
            id: id.into(),
            question: question.into(),
            alternatives: alternatives.iter().map(|s| (*s).to_owned()).collect(),
            answer: format!("answer {id}"),
        }
    }

    fn kb() -> Vec<Faq> {
        vec![
            faq(
                "refund",
                "如何申请退款？",
                &["怎么退款", "How do I get a refund?"],
            ),
            faq(
                "refund-time",
                "退款多久到账？",
                &["When will I receive my refund?"],
            ),
            faq(
                "address",
                "怎么修改收货地址？",
                &["Change my delivery address"],
            ),
            faq("invoice", "如何开发票？", &["Can I get an invoice?"]),
            faq("password", "忘记密码怎么办？", &["I forgot my password"]),
        ]
    }

    fn best(index: &Index<'_>, message: &str) -> (String, f32) {
        let ranking = index.rank(message);
        let (faq, confidence) = ranking.candidates[0];
        (index.faq(faq).unwrap().id.to_string(), confidence)
    }

    #[test]
    fn round_trips_through_bytes() {
        let built = Index::build(&kb(), &[]);
        let bytes = built.to_bytes().unwrap();
        let read = Index::from_bytes(&bytes).unwrap();
        assert_eq!(read.faq_count(), 5);
        assert_eq!(read.faq(4), built.faq(4));
        assert_eq!(read.faq_by_id("invoice"), Some(3));
        assert!(matches!(read.postings, Cow::Borrowed(_)));
        assert_eq!(read.rank("退款"), built.rank("退款"));
    }

    #[test]
    fn finds_the_faq_of_a_paraphrase() {
        let index = Index::build(&kb(), &[]);
        assert_eq!(best(&index, "我想修改一下地址").0, "address");
        assert_eq!(best(&index, "密码忘了").0, "password");
        assert_eq!(best(&index, "refund not received yet").0, "refund-time");
        assert_eq!(best(&index, "开一张发票").0, "invoice");
        assert_eq!(best(&index, "INVOICES please").0, "invoice");
    }

    #[test]
    fn exact_phrasings_are_recognised() {
        let index = Index::build(&kb(), &[]);
        assert_eq!(index.rank("如何开发票").exact, Some(3));
        assert_eq!(index.rank("如何开发票吗").exact, None);
        let (id, confidence) = best(&index, "忘记密码怎么办");
        assert_eq!(id, "password");
        assert!(confidence > 0.95, "{confidence}");
    }

    #[test]
    fn unrelated_messages_score_low() {
        let index = Index::build(&kb(), &[]);
        for message in ["今天天气怎么样", "tell me a joke", "你好"] {
            let ranking = index.rank(message);
            let top = ranking.candidates.first().map_or(0.0, |c| c.1);
            assert!(top < 0.3, "{message}: {top}");
        }
    }

    #[test]
    fn the_lexicon_crosses_languages_and_wordings() {
        let index = Index::build(&kb(), &[]);
        // Only Chinese phrasings say "invoice" as 发票 and "password" as 密码.
        assert_eq!(best(&index, "我要开收据").0, "invoice");
        assert_eq!(best(&index, "退钱").0, "refund");
        assert_eq!(best(&index, "can't remember my pwd").0, "password");
        assert_eq!(best(&index, "I want my money back").0, "refund");
        // Function words join their neighbours: 退一下钱 is 退钱.
        assert_eq!(best(&index, "帮我退一下钱").0, "refund");
    }

    #[test]
    fn misspelt_words_are_corrected() {
        let index = Index::build(&kb(), &[]);
        assert_eq!(best(&index, "refnud").0, "refund");
        assert_eq!(best(&index, "chnage my adress").0, "address");
        assert_eq!(best(&index, "pasword forgoten").0, "password");
    }

    #[test]
    fn a_message_mostly_about_something_else_is_not_confident() {
        let index = Index::build(&kb(), &[]);
        let (id, about) = best(&index, "change my delivery address");
        assert_eq!(id, "address");
        // One word in common, the rest unexplained: far less confident.
        let (_, aside) = best(&index, "what is the best address book app for linux");
        assert!(aside < about / 2.0, "{aside} vs {about}");
    }

    #[test]
    fn unknown_bigrams_do_not_count_against_the_message() {
        let index = Index::build(&kb(), &[]);
        // 要退 is not in the knowledge base, but 要 and 退 are known.
        let (id, confidence) = best(&index, "我要退款");
        assert_eq!(id, "refund");
        assert!(confidence > 0.6, "{confidence}");
    }
}
