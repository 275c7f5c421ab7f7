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

use crate::analyze::{Kind, Synonyms, Term, dice, grams, normalize, terms};
use crate::config::Faq;

/// BM25's term-frequency saturation.
const K1: f32 = 1.2;
/// BM25's length normalisation.
const B: f32 = 0.75;
/// How many entries, best by BM25, the fuzzy re-ranking looks at.
const RERANK: usize = 24;
/// Weight of the query's coverage in the lexical similarity (the rest is the entry's).
const QUERY_COVERAGE_WEIGHT: f32 = 0.25;
/// Weight of the query's coverage by all phrasings of the FAQ together.
const FAQ_COVERAGE_WEIGHT: f32 = 0.4;
/// Weight of the lexical similarity in the confidence (the rest is the fuzzy one).
const LEXICAL_WEIGHT: f32 = 0.7;

/// How much a term of the message found only in a FAQ's answer counts towards the
/// FAQ's coverage of the message, against 1 for one found in its phrasings.
const ANSWER_WEIGHT: f32 = 0.5;

/// Bytes per posting: the entry (u16) and the term's frequency in it (u8).
const POSTING_BYTES: usize = 3;

/// One FAQ as steps need it.
#[derive(Debug, Serialize, Deserialize)]
pub struct FaqData<'a> {
    /// The FAQ's id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Its question, as menus show it.
    #[serde(borrow)]
    pub question: Cow<'a, str>,
    /// Its answer, a template.
    #[serde(borrow)]
    pub answer: Cow<'a, str>,
}

/// The prepared form of a configuration.
#[derive(Debug, Serialize, Deserialize)]
pub struct Index<'a> {
    /// The FAQs, in configuration order.
    #[serde(borrow)]
    pub faqs: Vec<FaqData<'a>>,
    /// The synonyms, applied to every message.
    pub synonyms: Synonyms,
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
    entry_text: Vec<Cow<'a, str>>,
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
    /// phrasings, so entry numbers fit in u16).
    pub fn build(faqs: &[Faq], synonyms: Synonyms) -> Index<'static> {
        let mut entry_faq = Vec::new();
        let mut entry_text = Vec::new();
        let mut entry_terms: Vec<Vec<Term>> = Vec::new();
        for (i, faq) in faqs.iter().enumerate() {
            for phrase in std::iter::once(&faq.question).chain(&faq.alternatives) {
                let text = normalize(phrase, &synonyms);
                entry_terms.push(terms(&text));
                entry_text.push(Cow::Owned(text));
                entry_faq.push(u16::try_from(i).unwrap_or(u16::MAX));
            }
        }
        // The answers come last, as weak evidence (see `rank`); their text is not kept.
        let phrases = u32::try_from(entry_faq.len()).unwrap_or(u32::MAX);
        for (i, faq) in faqs.iter().enumerate() {
            entry_terms.push(terms(&normalize(&faq.answer, &synonyms)));
            entry_text.push(Cow::Borrowed(""));
            entry_faq.push(u16::try_from(i).unwrap_or(u16::MAX));
        }

        // term → postings (entry, tf), and the FAQs it appears in.
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
                if seen.insert((hash, entry_faq[e])) {
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
            let d = df[hash];
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
                let mut seen: Vec<u64> = t.iter().map(|t| t.hash).collect();
                seen.sort_unstable();
                seen.dedup();
                seen.iter().map(|h| idf_of[h]).sum()
            })
            .collect();
        let total: usize = entry_len.iter().map(|&l| usize::from(l)).sum();
        let avg_len = total as f32 / entry_len.len().max(1) as f32;

        Index {
            faqs: faqs
                .iter()
                .map(|f| FaqData {
                    id: Cow::Owned(f.id.clone()),
                    question: Cow::Owned(f.question.clone()),
                    answer: Cow::Owned(f.answer.clone()),
                })
                .collect(),
            synonyms,
            phrases,
            entry_faq,
            entry_len,
            entry_mass,
            entry_text,
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
    ///    term weighs its IDF (over FAQs); a term the knowledge base lacks weighs the
    ///    highest IDF, as it is information the knowledge base cannot match; except a
    ///    Chinese bigram, which is the junction of two words (么退 in 怎么退款) or holds
    ///    an unknown character already counted, and weighs nothing.
    /// 2. BM25 scores every entry sharing a term; the best [`RERANK`] are kept.
    /// 3. Each is re-ranked by a confidence in 0–1: the lexical similarity (how much of
    ///    the message's IDF mass the entry matches, how much all the FAQ's entries
    ///    match together, the answer's terms counting [`ANSWER_WEIGHT`], and how much
    ///    of the entry's mass the message matches) blended with the Dice coefficient of their character bigrams,
    ///    which rewards the same phrasing and tolerates small differences.
    /// 4. A FAQ's confidence is its best entry's.
    pub fn rank(&self, message: &str) -> Ranking {
        let text = normalize(message, &self.synonyms);
        let n_faqs = self.faqs.len();
        let exact = self
            .entry_text
            .iter()
            .position(|t| !text.is_empty() && *t == text)
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
                if term.kind != Kind::Bigram {
                    query_mass += max_idf;
                }
                continue;
            };
            let w = idf(n_faqs, self.df(t));
            query_mass += w;
            for (e, tf) in self.postings(t) {
                let faq = usize::from(self.entry_faq[e]);
                let answer = e >= phrases;
                if faq_term[faq] != t {
                    faq_term[faq] = t;
                    faq_matched[faq] += if answer { w * ANSWER_WEIGHT } else { w };
                }
                if answer {
                    continue;
                }
                let len = f32::from(self.entry_len[e]);
                let norm = K1 * (1.0 - B + B * len / self.avg_len);
                bm25[e] += w * tf * (K1 + 1.0) / (tf + norm);
                matched[e] += w;
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
            let fuzzy = dice(&query_grams, &grams(&self.entry_text[e]));
            let confidence = LEXICAL_WEIGHT * lexical + (1.0 - LEXICAL_WEIGHT) * fuzzy;
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
        (index.faqs[faq].id.to_string(), confidence)
    }

    #[test]
    fn round_trips_through_bytes() {
        let built = Index::build(&kb(), Synonyms::new([]));
        let bytes = built.to_bytes().unwrap();
        let read = Index::from_bytes(&bytes).unwrap();
        assert_eq!(read.faqs.len(), 5);
        assert!(matches!(read.postings, Cow::Borrowed(_)));
        assert!(matches!(read.faqs[0].answer, Cow::Borrowed(_)));
        assert_eq!(read.rank("退款"), built.rank("退款"));
    }

    #[test]
    fn finds_the_faq_of_a_paraphrase() {
        let index = Index::build(&kb(), Synonyms::new([]));
        assert_eq!(best(&index, "我想修改一下地址").0, "address");
        assert_eq!(best(&index, "密码忘了").0, "password");
        assert_eq!(best(&index, "refund not received yet").0, "refund-time");
        assert_eq!(best(&index, "开一张发票").0, "invoice");
        assert_eq!(best(&index, "INVOICES please").0, "invoice");
    }

    #[test]
    fn exact_phrasings_are_recognised() {
        let index = Index::build(&kb(), Synonyms::new([]));
        assert_eq!(index.rank("如何开发票").exact, Some(3));
        assert_eq!(index.rank("如何开发票吗").exact, None);
        let (id, confidence) = best(&index, "忘记密码怎么办");
        assert_eq!(id, "password");
        assert!(confidence > 0.95, "{confidence}");
    }

    #[test]
    fn unrelated_messages_score_low() {
        let index = Index::build(&kb(), Synonyms::new([]));
        for message in ["今天天气怎么样", "tell me a joke", "你好"] {
            let ranking = index.rank(message);
            let top = ranking.candidates.first().map_or(0.0, |c| c.1);
            assert!(top < 0.3, "{message}: {top}");
        }
    }

    #[test]
    fn unknown_bigrams_do_not_count_against_the_message() {
        let index = Index::build(&kb(), Synonyms::new([]));
        // 要退 is not in the knowledge base, but 要 and 退 are known.
        let (id, confidence) = best(&index, "我要退款");
        assert_eq!(id, "refund");
        assert!(confidence > 0.6, "{confidence}");
    }
}
