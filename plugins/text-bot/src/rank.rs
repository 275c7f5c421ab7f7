//! The search a step runs against the prepared index: BM25 retrieval of the entries,
//! re-ranked by a confidence in 0–1, and the decision it leads to.

use crate::analyze::{Kind, Term, dice, grams, terms, u64_at};
use crate::ask::Asks;
use crate::index::{Index, POSTING_BYTES};
use crate::lang::Lang;
use crate::related::Relation;

/// BM25's term-frequency saturation.
const K1: f32 = 1.2;
/// BM25's length normalisation.
const B: f32 = 0.75;
/// How many entries, best by BM25, the re-ranking looks at.
const RERANK: usize = 24;
/// The part of a message that is matched, in characters: a question is short, and a
/// long text pasted into the chat must not cost more than a question.
const MAX_MESSAGE_CHARS: usize = 300;

/// The weights of matching. [`Weights::DEFAULT`] were chosen on the tuning halves of
/// the quality test sets (`tests/modules/data/`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Weight, times its IDF, of each kind of term.
    pub word: f32,
    pub inner: f32,
    pub char: f32,
    pub piece: f32,
    pub latin: f32,
    pub joined: f32,
    pub number: f32,
    /// Factor of a function word's weight (a particle, pronoun, preposition…).
    pub function: f32,
    /// Weight, times the highest IDF, its kind's weight and its rarity, of a word of
    /// the message that the knowledge base lacks: information no FAQ can explain.
    pub unknown: f32,
    /// How much a term of the message found only in a FAQ's answer counts towards the
    /// FAQ's coverage of the message, against 1 for one found in its phrasings.
    pub answer: f32,
    /// Weights of the message's coverage by all phrasings of the FAQ together, of the
    /// message's coverage by the entry alone, and of the entry's coverage by the
    /// message, in the confidence; the rest is the fuzzy similarity.
    pub faq_coverage: f32,
    pub query_coverage: f32,
    pub entry_coverage: f32,
    /// The share of the message's information a FAQ must explain for its confidence to
    /// stand; below it, the confidence shrinks in proportion.
    pub min_coverage: f32,
    /// Factor of the confidence of a FAQ that has no version in the user's language,
    /// when another candidate has one (a knowledge base with one FAQ per language).
    pub other_language: f32,
    /// The rarity of an English word (see `analyze::Term::rarity`).
    pub latin_rarity: f32,
    /// Factors of a match through the thesaurus, against 1 for the word itself: by a
    /// near-synonym, and by a broader or narrower word.
    pub near: f32,
    pub broader: f32,
    /// Factors of the confidence of a FAQ when the message asks for a time, a place, a
    /// reason, an amount or what to do (see `ask`): when the FAQ's phrasings ask for
    /// it too, when they ask for none of these, and when they ask for another.
    pub ask_met: f32,
    pub ask_none: f32,
    pub ask_other: f32,
}

impl Weights {
    pub const DEFAULT: Weights = Weights {
        word: 1.0,
        inner: 0.5,
        char: 0.8,
        piece: 0.2,
        latin: 1.0,
        joined: 1.0,
        number: 0.3,
        function: 0.2,
        unknown: 1.3,
        answer: 0.7,
        faq_coverage: 0.36,
        query_coverage: 0.225,
        entry_coverage: 0.315,
        min_coverage: 0.3,
        other_language: 0.5,
        latin_rarity: 0.75,
        near: 0.8,
        broader: 0.6,
        ask_met: 1.2,
        ask_none: 0.9,
        ask_other: 0.8,
    };

    /// The weight of `term`, times its IDF.
    pub fn of(&self, term: &Term) -> f32 {
        let kind = match term.kind {
            Kind::Word => self.word,
            Kind::Inner => self.inner,
            Kind::Char => self.char,
            Kind::Piece => self.piece,
            Kind::Latin => self.latin,
            Kind::Joined => self.joined,
            Kind::Number => self.number,
        };
        if term.function {
            kind * self.function
        } else {
            kind
        }
    }

    /// Whether a term of the message may be matched through the thesaurus: a word, not
    /// a word or a character inside one (火车票 is not 车票), nor a number.
    fn relates(&self, term: &Term) -> bool {
        !term.function && !matches!(term.kind, Kind::Inner | Kind::Piece | Kind::Number)
    }

    /// The factor of a match through `relation`.
    fn relation(&self, relation: Relation) -> f32 {
        match relation {
            Relation::Near => self.near,
            Relation::Broader => self.broader,
        }
    }

    /// The weight, times the highest IDF, of a term of the message the knowledge base
    /// lacks: the parts of a word (its characters, the words inside it) say nothing the
    /// word does not.
    fn unknown(&self, term: &Term) -> f32 {
        match term.kind {
            Kind::Piece | Kind::Inner | Kind::Joined => 0.0,
            // No frequency list says how common an English word is: a word of the
            // message that is not a stop word counts as moderately rare.
            Kind::Latin | Kind::Number => self.of(term) * self.latin_rarity * self.unknown,
            _ => self.of(term) * term.rarity * self.unknown,
        }
    }
}

/// The weight of `term` with the default weights, as the index stores entries' mass.
pub fn weight(term: &Term) -> f32 {
    Weights::DEFAULT.of(term)
}

/// BM25's IDF of a term found in `df` of `n` FAQs.
pub fn idf(n: usize, df: u16) -> f32 {
    let (n, df) = (n as f32, f32::from(df));
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// How a message matched: the FAQs best first, with their confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// (FAQ index, confidence in 0–1), best first, each FAQ once.
    pub candidates: Vec<(usize, f32)>,
    /// The FAQ whose question or alternative is exactly the message, if any.
    pub exact: Option<usize>,
}

impl Index<'_> {
    /// Ranks the FAQs against a user's message written in `lang`.
    ///
    /// 1. The message is normalised and cut like the knowledge base. Each distinct term
    ///    weighs its IDF (over the FAQs' phrasings) times the weight of its kind. A
    ///    word the knowledge base lacks weighs the highest IDF times its rarity in
    ///    general language, as information no FAQ explains — unless a word the
    ///    thesaurus relates it to is in the phrasings: then it weighs that word's IDF,
    ///    and matches where that word is for [`Weights::near`] or [`Weights::broader`]
    ///    of its weight. The thesaurus's phrases the message has are terms too.
    /// 2. BM25 scores every entry sharing a term; the best [`RERANK`] are kept.
    /// 3. Each is re-ranked by a confidence in 0–1: the lexical similarity (how much of
    ///    the message's weight all the FAQ's phrasings match together, its answers'
    ///    terms counting [`ANSWER_WEIGHT`]; how much of it the entry matches; how much
    ///    of the entry's weight the message matches) blended with the Dice coefficient
    ///    of their character pairs, which rewards the same phrasing. A FAQ that explains
    ///    less than [`MIN_COVERAGE`] of the message has its confidence reduced in
    ///    proportion.
    /// 4. A FAQ's confidence is its best entry's. When the message asks for a time, a
    ///    place, a reason, an amount or what to do (see `ask`), a FAQ whose phrasings
    ///    ask for the same counts more, one whose phrasings ask for none of these a
    ///    little less, and one whose phrasings ask for another less again.
    /// 5. A FAQ with no version in the user's language counts less when another has
    ///    one.
    pub fn rank(&self, message: &str, lang: Option<Lang>) -> Ranking {
        self.rank_with(message, lang, &Weights::DEFAULT)
    }

    /// [`Index::rank`] with weights of one's own.
    fn rank_with(&self, message: &str, lang: Option<Lang>, w: &Weights) -> Ranking {
        let message: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
        let text = self.analyzer.normalize(&message);
        let n_faqs = self.faq_count();
        let exact = self
            .entry_text
            .iter()
            .position(|t| !text.is_empty() && t == text)
            .map(|e| usize::from(self.entry_faq[e]));

        let mut query = terms(&text);
        // Each term once, at its heaviest (换 alone outweighs 换 inside 换货).
        query.sort_unstable_by(|a, b| a.hash.cmp(&b.hash).then(w.of(b).total_cmp(&w.of(a))));
        query.dedup_by_key(|t| t.hash);

        let n_entries = self.entry_faq.len();
        let phrases = self.phrases as usize;
        let mut bm25 = vec![0f32; n_entries];
        let mut matched = vec![0f32; n_entries];
        let mut faq_matched = vec![0f32; n_faqs];
        // What the FAQ matched besides function words, word for word: without it,
        // nothing.
        let mut faq_content = vec![0f32; n_faqs];
        // Per FAQ and per entry, the query term that last reached it and its best share
        // there: a term counts once per FAQ and per entry, by its best match (itself or
        // a related word).
        let mut faq_best = vec![(usize::MAX, 0f32, false); n_faqs];
        let mut entry_best = vec![(usize::MAX, 0f32, 0f32); n_entries];
        let mut reached_faqs: Vec<usize> = Vec::new();
        let mut reached_entries: Vec<usize> = Vec::new();
        let mut variants: Vec<(usize, f32)> = Vec::new();
        let mut query_mass = 0f32;
        let max_idf = idf(n_faqs, 0);
        // The thesaurus's phrases the message has count as words of their own, when
        // they relate to a word of the phrasings.
        let phrases_found = self.related.phrases_in(&text);
        for (qi, term) in query.iter().chain(&phrases_found).enumerate() {
            let phrase = qi >= query.len();
            let found = if phrase { None } else { self.find(term.hash) };
            let own_df = found.map_or(0, |t| self.df(t));
            variants.clear();
            variants.extend(found.map(|t| (t, 1.0)));
            // A word no phrasing has may be matched by a related word one has.
            let mut related_df = None;
            if own_df == 0 && w.relates(term) {
                for (hash, relation) in self.related.of(term.hash) {
                    // A related word the message has too says nothing more: the word
                    // stays what the knowledge base cannot explain (邮轮旅游).
                    if query
                        .binary_search_by(|q| q.hash.cmp(&hash))
                        .is_ok_and(|i| !matches!(query[i].kind, Kind::Inner | Kind::Piece))
                    {
                        continue;
                    }
                    if let Some(t) = self.find(hash) {
                        variants.push((t, w.relation(relation)));
                        let df = self.df(t);
                        related_df = Some(related_df.map_or(df, |d: u16| d.min(df)));
                    }
                }
            }
            let q = match (found, related_df) {
                (_, Some(df)) => w.of(term) * idf(n_faqs, df),
                (Some(_), None) => w.of(term) * idf(n_faqs, own_df),
                (None, None) if phrase => continue,
                (None, None) => {
                    query_mass += max_idf * w.unknown(term);
                    continue;
                }
            };
            query_mass += q;
            reached_faqs.clear();
            reached_entries.clear();
            for (v, &(t, factor)) in variants.iter().enumerate() {
                let exact = v == 0 && found.is_some();
                for (e, tf) in self.postings(t) {
                    let faq = usize::from(self.entry_faq[e]);
                    let answer = e >= phrases;
                    let share = if answer {
                        q * factor * w.answer
                    } else {
                        q * factor
                    };
                    if faq_best[faq].0 != qi {
                        faq_best[faq] = (qi, 0.0, false);
                        reached_faqs.push(faq);
                    }
                    faq_best[faq].1 = faq_best[faq].1.max(share);
                    faq_best[faq].2 |= exact;
                    if answer {
                        continue;
                    }
                    if entry_best[e].0 != qi {
                        entry_best[e] = (qi, 0.0, 0.0);
                        reached_entries.push(e);
                    }
                    if share > entry_best[e].1 {
                        entry_best[e] = (qi, share, tf);
                    }
                }
            }
            for &faq in &reached_faqs {
                let (_, share, exact) = faq_best[faq];
                faq_matched[faq] += share;
                // A FAQ that only the thesaurus relates to the message is no match.
                if exact && !term.function {
                    faq_content[faq] += share;
                }
            }
            for &e in &reached_entries {
                let (_, share, tf) = entry_best[e];
                let len = f32::from(self.entry_len[e]);
                let norm = K1 * (1.0 - B + B * len / self.avg_len);
                bm25[e] += share * tf * (K1 + 1.0) / (tf + norm);
                matched[e] += share;
            }
        }

        // The fuzzy similarity is only worth computing for the best entries.
        let mut top: Vec<usize> = (0..phrases).filter(|&e| bm25[e] > 0.0).collect();
        top.sort_unstable_by(|&a, &b| bm25[b].total_cmp(&bm25[a]).then(a.cmp(&b)));
        top.truncate(RERANK);
        let query_grams = grams(&text);
        let mut fuzzy = vec![0f32; phrases];
        for &e in &top {
            fuzzy[e] = dice(
                &query_grams,
                &grams(self.entry_text.get(e).unwrap_or_default()),
            );
        }

        let share = |part: f32, whole: f32| {
            if whole > 0.0 {
                (part / whole).min(1.0)
            } else {
                0.0
            }
        };
        let fuzzy_weight = 1.0 - w.faq_coverage - w.query_coverage - w.entry_coverage;
        // Per FAQ, its best entry's part of the confidence.
        let mut entry_part = vec![0f32; n_faqs];
        for e in (0..phrases).filter(|&e| matched[e] > 0.0) {
            let faq = usize::from(self.entry_faq[e]);
            let part = w.query_coverage * share(matched[e], query_mass)
                + w.entry_coverage * share(matched[e], self.entry_mass[e])
                + fuzzy_weight * fuzzy[e];
            entry_part[faq] = entry_part[faq].max(part);
        }
        let mut best: Vec<(usize, f32)> = Vec::new();
        for faq in (0..n_faqs).filter(|&f| faq_content[f] > 0.0) {
            let faq_cov = share(faq_matched[faq], query_mass);
            let mut confidence = w.faq_coverage * faq_cov + entry_part[faq];
            if faq_cov < w.min_coverage {
                confidence *= faq_cov / w.min_coverage;
            }
            best.push((faq, confidence));
        }
        let asked = Asks::of(&text);
        if !asked.is_empty() {
            for (f, c) in &mut best {
                let asks = self.asks(*f);
                let factor = if asks.meets(asked) {
                    w.ask_met
                } else if asks.is_empty() {
                    w.ask_none
                } else {
                    w.ask_other
                };
                *c = (*c * factor).min(1.0);
            }
        }
        if let Some(lang) = lang
            && best.iter().any(|&(f, _)| self.speaks(f, lang))
        {
            for (f, c) in &mut best {
                if !self.speaks(*f, lang) {
                    *c *= w.other_language;
                }
            }
        }
        best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ranking {
            candidates: best,
            exact,
        }
    }

    /// The number of distinct terms.
    fn term_count(&self) -> usize {
        self.term_hashes.len() / 8
    }

    /// The position of the term `hash`, if the knowledge base has it.
    fn find(&self, hash: u64) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.term_count());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match u64_at(&self.term_hashes, mid * 8).cmp(&hash) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// In how many FAQs' phrasings term `term` appears.
    fn df(&self, term: usize) -> u16 {
        let at = term * 2;
        self.term_df
            .get(at..at + 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    }

    /// The entries term `term` appears in, with its frequency there.
    fn postings(&self, term: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let offset = |i: usize| {
            self.term_offsets
                .get(i * 4..i * 4 + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let bytes = self
            .postings
            .get(offset(term) * POSTING_BYTES..offset(term + 1) * POSTING_BYTES)
            .unwrap_or_default();
        bytes.chunks_exact(POSTING_BYTES).map(|p| {
            (
                usize::from(u16::from_le_bytes([p[0], p[1]])),
                f32::from(p[2]),
            )
        })
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

#[cfg(test)]
mod tests;
