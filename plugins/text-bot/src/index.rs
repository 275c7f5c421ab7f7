//! The prepared knowledge base: an inverted index built once per configuration, read
//! in place by every step (`rank.rs` searches it).
//!
//! Every question and alternative phrasing, in every language, is one *entry* of the
//! index; so is every answer, as weak evidence. The index is serialised with postcard;
//! its large arrays (term hashes, postings) are raw little-endian bytes that a step
//! reads in place, so decoding it costs a few allocations whatever the size of the
//! knowledge base.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analyze::{Analyzer, Kind, Term, terms};
use crate::ask::Asks;
use crate::config::Faq;
use crate::lang::Lang;
use crate::rank::{idf, weight};
use crate::related::Related;
use crate::table::Strings;

/// Bytes per posting: the entry (u16) and the term's frequency in it (u8).
pub const POSTING_BYTES: usize = 3;
/// The part of an answer that is indexed, in characters: its opening says what it is
/// about, and the whole of 2,000 long answers would not fit `prepare`'s budget.
const INDEXED_ANSWER_CHARS: usize = 500;

/// One FAQ in one language, as steps need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaqText<'a> {
    /// The FAQ's id.
    pub id: &'a str,
    /// The language of this version.
    pub lang: Lang,
    /// Its question, as menus show it.
    pub question: &'a str,
    /// Its answer, a template.
    pub answer: &'a str,
}

/// The prepared form of a configuration.
#[derive(Debug, Serialize, Deserialize)]
pub struct Index<'a> {
    /// The FAQs' ids, in configuration order.
    #[serde(borrow)]
    pub(crate) ids: Strings<'a>,
    /// Per FAQ, and one more: where its versions start in the lists below.
    pub(crate) faq_versions: Vec<u32>,
    /// Per version: its language, question and answer.
    pub(crate) version_lang: Vec<u8>,
    #[serde(borrow)]
    pub(crate) questions: Strings<'a>,
    #[serde(borrow)]
    pub(crate) answers: Strings<'a>,
    /// How text is read: synonyms and spelling, applied to every message.
    #[serde(borrow)]
    pub analyzer: Analyzer<'a>,
    /// The thesaurus's pairs of related terms whose second is a term of the phrasings.
    #[serde(borrow)]
    pub(crate) related: Related<'a>,
    /// How many entries are questions and alternatives; the answers follow them, one
    /// per version.
    pub(crate) phrases: u32,
    /// Per entry: its FAQ.
    pub(crate) entry_faq: Vec<u16>,
    /// Per entry: how many terms it has (repeats included).
    pub(crate) entry_len: Vec<u16>,
    /// Per entry: the weight of its distinct terms.
    pub(crate) entry_mass: Vec<f32>,
    /// Per FAQ: what its phrasings ask for, together (see `ask`).
    pub(crate) faq_asks: Vec<u8>,
    /// Per entry: its normalised text, compared exactly and by character grams.
    #[serde(borrow)]
    pub(crate) entry_text: Strings<'a>,
    /// The average entry length, in terms.
    pub(crate) avg_len: f32,
    /// The distinct term hashes, sorted (u64 little-endian each).
    #[serde(borrow)]
    pub(crate) term_hashes: Cow<'a, [u8]>,
    /// Per term: in how many FAQs it appears (u16 little-endian each).
    #[serde(borrow)]
    pub(crate) term_df: Cow<'a, [u8]>,
    /// Per term, and one more: where its postings start (u32 little-endian each).
    #[serde(borrow)]
    pub(crate) term_offsets: Cow<'a, [u8]>,
    /// The postings of all terms, term after term, [`POSTING_BYTES`] each.
    #[serde(borrow)]
    pub(crate) postings: Cow<'a, [u8]>,
}

impl Index<'static> {
    /// Builds the index of `faqs` (already validated: at most 65,535 phrasings and
    /// answers in all, so entry numbers fit in u16) with the configured synonym
    /// `groups`.
    pub fn build(faqs: &[Faq], groups: &[Vec<String>]) -> Index<'static> {
        let versions: Vec<Vec<_>> = faqs.iter().map(Faq::versions).collect();
        // The knowledge base is read without the speller: its words are the known ones.
        let plain = Analyzer::new(groups.iter().map(Vec::as_slice));
        let mut entry_faq = Vec::new();
        let mut entry_text = Vec::new();
        let mut entry_terms: Vec<Vec<Term>> = Vec::new();
        let mut faq_asks = vec![0u8; faqs.len()];
        for (i, faq) in versions.iter().enumerate() {
            for version in faq {
                for phrase in std::iter::once(version.question)
                    .chain(version.alternatives.iter().map(String::as_str))
                {
                    let text = plain.normalize(phrase);
                    faq_asks[i] |= Asks::of(&text).0;
                    entry_terms.push(terms(&text));
                    entry_text.push(text);
                    entry_faq.push(u16::try_from(i).unwrap_or(u16::MAX));
                }
            }
        }
        // The answers come last, as weak evidence (see `rank`); their text is not kept.
        let phrases = entry_faq.len();
        for (i, faq) in versions.iter().enumerate() {
            for version in faq {
                let answer: String = version.answer.chars().take(INDEXED_ANSWER_CHARS).collect();
                entry_terms.push(terms(&plain.normalize(&answer)));
                entry_text.push(String::new());
                entry_faq.push(u16::try_from(i).unwrap_or(u16::MAX));
            }
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
                if e < phrases && seen.insert((hash, entry_faq[e])) {
                    *df.entry(hash).or_insert(0) += 1;
                }
            }
        }
        let mut hashes: Vec<u64> = postings.keys().copied().collect();
        hashes.sort_unstable();

        let mut term_hashes = Vec::with_capacity(hashes.len() * 8);
        let mut term_df = Vec::with_capacity(hashes.len() * 2);
        let mut term_offsets = Vec::with_capacity((hashes.len() + 1) * 4);
        let mut posting_bytes = Vec::new();
        for hash in &hashes {
            let d = df.get(hash).copied().unwrap_or(0);
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

        // A joined pair of words only stands in for a closed compound: it adds nothing
        // to an entry's length or weight.
        let own = |t: &&Term| t.kind != Kind::Joined;
        let entry_len: Vec<u16> = entry_terms
            .iter()
            .map(|t| u16::try_from(t.iter().filter(own).count()).unwrap_or(u16::MAX))
            .collect();
        let entry_mass = entry_terms
            .iter()
            .map(|t| {
                let mut distinct: Vec<&Term> = t.iter().filter(own).collect();
                distinct.sort_unstable_by_key(|t| t.hash);
                distinct.dedup_by_key(|t| t.hash);
                distinct
                    .iter()
                    .map(|t| weight(t) * idf(faqs.len(), df.get(&t.hash).copied().unwrap_or(0)))
                    .sum()
            })
            .collect();
        let total: usize = entry_len.iter().map(|&l| usize::from(l)).sum();
        let avg_len = total as f32 / entry_len.len().max(1) as f32;

        let mut faq_versions = vec![0u32];
        let mut count = 0u32;
        for faq in &versions {
            count += u32::try_from(faq.len()).unwrap_or(0);
            faq_versions.push(count);
        }
        let (related, related_words) =
            Related::build(&plain, |h| df.get(&h).is_some_and(|&d| d > 0));
        let all = versions.iter().flatten();
        // The speller also knows the thesaurus's words that relate to the knowledge
        // base, so that "suitcse" is corrected to "suitcase" rather than to a word of
        // the knowledge base one edit away.
        let texts = versions
            .iter()
            .flatten()
            .flat_map(|v| {
                std::iter::once(v.question)
                    .chain(v.alternatives.iter().map(String::as_str))
                    .chain(std::iter::once(v.answer))
            })
            .chain(related_words);
        Index {
            ids: Strings::new(faqs.iter().map(|f| &f.id)),
            faq_versions,
            version_lang: all.clone().map(|v| v.lang.to_byte()).collect(),
            questions: Strings::new(all.clone().map(|v| v.question)),
            answers: Strings::new(all.map(|v| v.answer)),
            analyzer: plain.with_speller(texts, groups.iter().map(Vec::as_slice)),
            related,
            phrases: u32::try_from(phrases).unwrap_or(u32::MAX),
            entry_faq,
            entry_len,
            entry_mass,
            faq_asks,
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

    /// The versions of FAQ `faq`: their numbers.
    fn versions(&self, faq: usize) -> std::ops::Range<usize> {
        let at = |i: usize| self.faq_versions.get(i).map_or(0, |&v| v as usize);
        at(faq)..at(faq + 1)
    }

    /// FAQ `faq` in `lang` when it has that language, else in its own.
    pub fn faq(&self, faq: usize, lang: Option<Lang>) -> Option<FaqText<'_>> {
        let versions = self.versions(faq);
        let version = versions
            .clone()
            .find(|&v| Some(self.version_lang(v)) == lang)
            .unwrap_or(versions.start);
        if versions.is_empty() {
            return None;
        }
        Some(FaqText {
            id: self.ids.get(faq)?,
            lang: self.version_lang(version),
            question: self.questions.get(version)?,
            answer: self.answers.get(version)?,
        })
    }

    /// What FAQ `faq`'s phrasings ask for.
    pub fn asks(&self, faq: usize) -> Asks {
        Asks(self.faq_asks.get(faq).copied().unwrap_or(0))
    }

    /// Whether FAQ `faq` has a version in `lang`.
    pub fn speaks(&self, faq: usize, lang: Lang) -> bool {
        self.versions(faq).any(|v| self.version_lang(v) == lang)
    }

    fn version_lang(&self, version: usize) -> Lang {
        Lang::from_byte(self.version_lang.get(version).copied().unwrap_or(0))
    }

    /// The number of the FAQ whose id is `id`.
    pub fn faq_by_id(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|f| f == id)
    }
}

#[cfg(test)]
mod tests;
