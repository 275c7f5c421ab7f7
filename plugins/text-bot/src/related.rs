//! The related terms of one knowledge base: for a word of a message that no phrasing of
//! the knowledge base has, the words of its phrasings the built-in thesaurus
//! (`thesaurus.rs`) relates it to — a near-synonym (航班 and 机票, "suitcase" and
//! "luggage") or a broader or narrower word (狗狗 and 宠物) — which `rank` matches in
//! its place, for less than the word itself.
//!
//! `prepare` reads every member of the thesaurus with the knowledge base's analyser (so
//! that the admin's synonyms and the built-in ones apply to it as to a message) and
//! keeps only the pairs whose second word is a term of the knowledge base's phrasings:
//! the table a step reads holds a few hundred pairs at most, whatever the size of the
//! thesaurus.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::analyze::{Analyzer, Kind, Term, hash_str, is_latin, terms, u64_at};
use crate::table::Strings;
use crate::thesaurus;

/// How two words are related.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Relation {
    /// Near-synonyms: the same thing in other words, or a colloquial name of it.
    Near,
    /// One word names a kind of what the other names (狗 and 宠物), either way.
    Broader,
}

impl Relation {
    fn to_byte(self) -> u8 {
        match self {
            Relation::Near => 0,
            Relation::Broader => 1,
        }
    }

    fn from_byte(b: u8) -> Self {
        if b == 0 {
            Relation::Near
        } else {
            Relation::Broader
        }
    }
}

/// Bytes per pair: the source term's hash, the related term's hash (u64 little-endian
/// each) and the relation (u8).
const PAIR_BYTES: usize = 17;

/// The pairs of related terms, sorted by source term, read in place.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Related<'a> {
    #[serde(borrow)]
    pairs: Cow<'a, [u8]>,
    /// The members that read as several words (托运行李, 行程单, "year old"), as
    /// normalised text: a message that has one is also read as having it as one
    /// term, whose hash is [`hash_str`] of this text.
    #[serde(borrow)]
    phrases: Strings<'a>,
}

/// What a thesaurus member reads as, once normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// One term: the one word it is made of (a Chinese word, a single character or an
    /// English word), or the closed form of an English verb and its particle ("call
    /// off").
    Term(u64),
    /// Several words (Chinese that jieba cuts into several, or English words): its
    /// normalised text.
    Phrase(String),
}

impl Member {
    /// The hash a message's term has when it is this member.
    fn hash(&self) -> u64 {
        match self {
            Member::Term(h) => *h,
            Member::Phrase(text) => hash_str(text),
        }
    }
}

/// What `member` reads as; `None` for a function word or a stop word.
pub fn member(analyzer: &Analyzer<'_>, member: &str) -> Option<Member> {
    let text = analyzer.normalize(member);
    let all = terms(&text);
    let heads: Vec<_> = all
        .iter()
        .filter(|t| !matches!(t.kind, Kind::Inner | Kind::Piece))
        .collect();
    match heads.as_slice() {
        [one] if !one.function => Some(Member::Term(one.hash)),
        [first, joined] if first.kind == Kind::Latin && joined.kind == Kind::Joined => {
            Some(Member::Term(joined.hash))
        }
        [_, _, ..] => Some(Member::Phrase(text)),
        _ => None,
    }
}

impl Related<'static> {
    /// The pairs of the built-in thesaurus, read with `analyzer`, whose related term
    /// `known` says the knowledge base's phrasings have; with, for the speller, the
    /// thesaurus members whose pairs were kept.
    pub fn build(
        analyzer: &Analyzer<'_>,
        known: impl Fn(u64) -> bool,
    ) -> (Self, Vec<&'static str>) {
        let mut read: HashMap<&'static str, Option<Member>> = HashMap::new();
        let mut links: Vec<(&'static str, &'static str, Relation)> = Vec::new();
        for group in thesaurus::NEAR {
            for &a in group.iter() {
                for &b in group.iter().filter(|&&b| b != a) {
                    links.push((a, b, Relation::Near));
                }
            }
        }
        for &(zh, en) in thesaurus::TRANSLATIONS {
            links.push((zh, en, Relation::Near));
            links.push((en, zh, Relation::Near));
        }
        for (head, narrower) in thesaurus::BROADER {
            for &n in narrower.iter() {
                links.push((n, head, Relation::Broader));
                links.push((head, n, Relation::Broader));
            }
        }
        let mut pairs: Vec<(u64, u64, Relation)> = Vec::new();
        let mut sources: Vec<&'static str> = Vec::new();
        let mut phrases: Vec<String> = Vec::new();
        for (a, b, relation) in links {
            let target = read.entry(b).or_insert_with(|| member(analyzer, b)).clone();
            // A related word must be a term of the phrasings.
            let Some(Member::Term(y)) = target.filter(|t| known(t.hash())) else {
                continue;
            };
            let Some(source) = read.entry(a).or_insert_with(|| member(analyzer, a)).clone() else {
                continue;
            };
            if source.hash() == y {
                continue;
            }
            pairs.push((source.hash(), y, relation));
            match source {
                Member::Term(_) => sources.push(a),
                Member::Phrase(text) => phrases.push(text),
            }
        }
        // The closest relation of a pair named twice.
        pairs.sort_unstable();
        pairs.dedup_by_key(|p| (p.0, p.1));
        let mut bytes = Vec::with_capacity(pairs.len() * PAIR_BYTES);
        for (source, target, relation) in pairs {
            bytes.extend_from_slice(&source.to_le_bytes());
            bytes.extend_from_slice(&target.to_le_bytes());
            bytes.push(relation.to_byte());
        }
        sources.sort_unstable();
        sources.dedup();
        phrases.sort_unstable();
        phrases.dedup();
        (
            Self {
                pairs: Cow::Owned(bytes),
                phrases: Strings::new(phrases),
            },
            sources,
        )
    }
}

impl Related<'_> {
    /// How many pairs there are.
    pub fn len(&self) -> usize {
        self.pairs.len() / PAIR_BYTES
    }

    /// The terms related to the term `source`, and how.
    pub fn of(&self, source: u64) -> impl Iterator<Item = (u64, Relation)> + '_ {
        let key = |i: usize| u64_at(&self.pairs, i * PAIR_BYTES);
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key(mid) < source {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo..self.len())
            .take_while(move |&i| key(i) == source)
            .map(move |i| {
                let at = i * PAIR_BYTES;
                let relation = self.pairs.get(at + 16).copied().unwrap_or(1);
                (u64_at(&self.pairs, at + 8), Relation::from_byte(relation))
            })
    }

    /// The terms of the thesaurus's phrases that the normalised text `text` has, as
    /// terms of a message: a word of its own each. One pass over the text: at each
    /// character, a binary search finds the phrases that start with it.
    pub fn phrases_in(&self, text: &str) -> Vec<Term> {
        let mut found: Vec<Term> = Vec::new();
        let n = self.phrases.len();
        if n == 0 {
            return found;
        }
        let mut prev: Option<char> = None;
        for (at, c) in text.char_indices() {
            let starts_word = !(is_latin(c) && prev.is_some_and(is_latin));
            prev = Some(c);
            if !starts_word {
                continue;
            }
            let rest = &text[at..];
            let key = &rest.as_bytes()[..c.len_utf8()];
            let (mut lo, mut hi) = (0, n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if self.phrases.bytes(mid) < key {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            for i in lo..n {
                let phrase = self.phrases.bytes(i);
                if !phrase.starts_with(key) {
                    break;
                }
                if !rest.as_bytes().starts_with(phrase) {
                    continue;
                }
                let ends_latin = phrase.last().is_some_and(|b| b.is_ascii_alphanumeric());
                let after = rest.get(phrase.len()..).and_then(|r| r.chars().next());
                if ends_latin && after.is_some_and(is_latin) {
                    continue;
                }
                let hash = hash_str(self.phrases.get(i).unwrap_or_default());
                if !found.iter().any(|t| t.hash == hash) {
                    found.push(Term {
                        hash,
                        kind: Kind::Word,
                        function: false,
                        rarity: 1.0,
                    });
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests;
