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

use crate::analyze::{Analyzer, Kind, terms, u64_at};
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
}

/// The term a thesaurus member stands for, once normalised: the one word it is made of
/// (a Chinese word, a single character or an English word), or the closed form of an
/// English verb and its particle ("call off"). `None` for a member that reads as
/// several words, which could only match as a phrase.
pub fn member_term(analyzer: &Analyzer<'_>, member: &str) -> Option<u64> {
    let all = terms(&analyzer.normalize(member));
    let heads: Vec<_> = all
        .iter()
        .filter(|t| !matches!(t.kind, Kind::Inner | Kind::Piece))
        .collect();
    match heads.as_slice() {
        [one] if !one.function => Some(one.hash),
        [first, joined] if first.kind == Kind::Latin && joined.kind == Kind::Joined => {
            Some(joined.hash)
        }
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
        let mut term_of: HashMap<&'static str, Option<u64>> = HashMap::new();
        let mut term =
            |m: &'static str| *term_of.entry(m).or_insert_with(|| member_term(analyzer, m));
        let mut pairs: Vec<(u64, u64, Relation)> = Vec::new();
        let mut sources: Vec<&'static str> = Vec::new();
        let mut link = |a: &'static str,
                        b: &'static str,
                        relation,
                        pairs: &mut Vec<_>,
                        sources: &mut Vec<_>| {
            if let (Some(x), Some(y)) = (term(a), term(b))
                && x != y
                && known(y)
            {
                pairs.push((x, y, relation));
                sources.push(a);
            }
        };
        for group in thesaurus::NEAR {
            for &a in group.iter() {
                for &b in group.iter() {
                    link(a, b, Relation::Near, &mut pairs, &mut sources);
                }
            }
        }
        for (head, narrower) in thesaurus::BROADER {
            for &n in narrower.iter() {
                link(n, head, Relation::Broader, &mut pairs, &mut sources);
                link(head, n, Relation::Broader, &mut pairs, &mut sources);
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
        (
            Self {
                pairs: Cow::Owned(bytes),
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
}

#[cfg(test)]
mod tests;
