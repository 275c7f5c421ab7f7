//! Corrects misspelt Latin words: a word the knowledge base does not know is replaced
//! by a known word one edit away (a letter missing, added, changed, or two swapped:
//! `refnud`, `adress`, `trak`).
//!
//! Known words and the single-letter deletions of each are hashed into a sorted table
//! in `prepare`; two words one edit apart share a key, so a step finds candidates by
//! binary search on the message word's own deletions, and checks them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::analyze::{hash_str, is_stop_word, stem, u64_at};
use crate::table::Strings;

/// The speller of one knowledge base.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Speller<'a> {
    /// The words corrections can give, sorted.
    #[serde(borrow)]
    words: Strings<'a>,
    /// The hashes of the stems of all known words, sorted (u64 little-endian each).
    #[serde(borrow)]
    known: Cow<'a, [u8]>,
    /// (key hash u64, word u32), little-endian, sorted: each word and each of its
    /// single-letter deletions.
    #[serde(borrow)]
    keys: Cow<'a, [u8]>,
}

/// Shortest word the speller corrects, or corrects to.
const MIN_SPELL_LEN: usize = 4;
/// Bytes per key of the speller.
const KEY_BYTES: usize = 12;

impl Speller<'static> {
    /// The speller of `words` (folded Latin words, repeats allowed), which also knows
    /// the words of `correct` without correcting to them: a real word is never
    /// "corrected" into another ("plans" is not a misspelt "plane").
    pub fn new<'w>(
        words: impl IntoIterator<Item = &'w str>,
        correct: impl IntoIterator<Item = &'w str>,
    ) -> Self {
        let mut all: Vec<&str> = words
            .into_iter()
            .filter(|w| !w.is_empty() && !is_stop_word(w))
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut known: Vec<u64> = all
            .iter()
            .copied()
            .chain(correct.into_iter().filter(|w| !w.is_empty()))
            .map(|w| hash_str(&stem(w)))
            .collect();
        known.sort_unstable();
        known.dedup();
        let words: Vec<&str> = all
            .into_iter()
            .filter(|w| w.len() >= MIN_SPELL_LEN && w.bytes().all(|b| b.is_ascii_lowercase()))
            .collect();
        let mut keys: Vec<(u64, u32)> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            keys.push((hash_str(word), i));
            for d in deletions(word) {
                keys.push((hash_str(&d), i));
            }
        }
        keys.sort_unstable();
        keys.dedup();
        Self {
            words: Strings::new(words),
            known: Cow::Owned(known.iter().flat_map(|h| h.to_le_bytes()).collect()),
            keys: Cow::Owned(
                keys.iter()
                    .flat_map(|(h, i)| {
                        let mut b = [0u8; KEY_BYTES];
                        b[..8].copy_from_slice(&h.to_le_bytes());
                        b[8..].copy_from_slice(&i.to_le_bytes());
                        b
                    })
                    .collect(),
            ),
        }
    }
}

impl Speller<'_> {
    /// The known word `word` (folded) is a misspelling of, if it is unknown and one edit
    /// from a known word. Short words, stop words and words with digits are left alone;
    /// a four-letter word is only completed (`trak` → `track`), never changed.
    pub fn correct(&self, word: &str) -> Option<&str> {
        if word.len() < MIN_SPELL_LEN
            || !word.bytes().all(|b| b.is_ascii_lowercase())
            || is_stop_word(word)
            || self.knows(word)
        {
            return None;
        }
        let mut best: Option<u32> = None;
        for key in std::iter::once(word.to_owned()).chain(deletions(word)) {
            for i in self.lookup(hash_str(&key)) {
                let Some(candidate) = self.words.get(i as usize) else {
                    continue;
                };
                let ok = (word.len() > MIN_SPELL_LEN || candidate.len() > word.len())
                    && one_edit(word.as_bytes(), candidate.as_bytes());
                if ok && best.is_none_or(|b| i < b) {
                    best = Some(i);
                }
            }
        }
        best.and_then(|i| self.words.get(i as usize))
    }

    /// Whether the stem of `word` is known.
    fn knows(&self, word: &str) -> bool {
        let hash = hash_str(&stem(word));
        let n = self.known.len() / 8;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match u64_at(&self.known, mid * 8).cmp(&hash) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// The words with the key `hash`.
    fn lookup(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let n = self.keys.len() / KEY_BYTES;
        let key = |i: usize| u64_at(&self.keys, i * KEY_BYTES);
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key(mid) < hash {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo..n).take_while(move |&i| key(i) == hash).map(|i| {
            let at = i * KEY_BYTES + 8;
            let mut b = [0u8; 4];
            b.copy_from_slice(&self.keys[at..at + 4]);
            u32::from_le_bytes(b)
        })
    }
}

/// The words `word` gives with one letter deleted (ASCII).
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    (0..word.len()).map(move |i| format!("{}{}", &word[..i], &word[i + 1..]))
}

/// Whether `a` and `b` (different) are one edit apart: one letter deleted, inserted,
/// replaced, or two adjacent letters swapped.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let i = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    match long.len() - short.len() {
        0 => {
            i < short.len()
                && (short[i + 1..] == long[i + 1..]
                    || (i + 1 < short.len()
                        && short[i] == long[i + 1]
                        && short[i + 1] == long[i]
                        && short[i + 2..] == long[i + 2..]))
        }
        1 => short[i..] == long[i + 1..],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrects_one_edit_to_a_known_word() {
        let s = Speller::new(
            ["how", "track", "sweater", "refund", "address", "cancel"],
            [],
        );
        for (typo, fixed) in [
            ("refnud", "refund"),
            ("adress", "address"),
            ("trak", "track"),
            ("sweeter", "sweater"),
            ("sweaterr", "sweater"),
            ("cancle", "cancel"),
        ] {
            assert_eq!(s.correct(typo), Some(fixed), "{typo}");
        }
        // Known words (by their stem), short words and words too far are left alone.
        assert_eq!(s.correct("sweater"), None);
        assert_eq!(s.correct("sweaters"), None);
        assert_eq!(s.correct("tram"), None);
        assert_eq!(s.correct("swtaeer"), None);
        // A real word it knows without correcting to it stays itself, though one edit
        // from a word it corrects to.
        let s = Speller::new(["plane", "refund"], ["plan", "refunds"]);
        assert_eq!(s.correct("plans"), None);
        assert_eq!(s.correct("planes"), None);
        assert_eq!(s.correct("plabe"), Some("plane"));
        assert_eq!(s.correct("plen"), None);
        assert!(one_edit(b"abcd", b"abdc"));
        assert!(one_edit(b"abc", b"abxc"));
        assert!(!one_edit(b"abcd", b"bacx"));
    }
}
