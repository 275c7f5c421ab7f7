//! Text analysis: normalisation, spelling, synonyms and the built-in lexicon,
//! segmentation into index terms, and the character grams of the fuzzy similarity.
//!
//! The same [`Analyzer`] reads the knowledge base (once, in `prepare`) and the user's
//! message (on every step), so both sides always agree on what a term is. Its tables
//! are built in `prepare` and kept in the prepared index, where a step reads them in
//! place: a step only looks words up.

use std::borrow::Cow;

use kefu_flow_sdk::text::{fold_and_strip, is_cjk};
use serde::{Deserialize, Serialize};

use crate::lexicon::{LEXICON, Mode};
use crate::table::Strings;

/// Chinese characters that carry no topic on their own: pronouns, particles, question
/// words, auxiliaries. They are not indexed as unigrams, and a bigram made of two of
/// them (我们, 怎么, 可以, 请问, 一下) is not indexed either; a bigram with one topical
/// character (下单, 会员) is.
const CJK_STOP_CHARS: &str = "的了吗呢吧啊呀哦嘛么我你您他她它们是在请问一下个这那和与及就都也还很把被给让得地着过哈嗯想要能会可以怎什如何样咋哪儿些啥该有帮呗啦噢喔哎诶又才再";

/// English words that carry no topic: articles, pronouns, auxiliaries, question words,
/// politeness, light verbs and adverbs. Matched after folding, before stemming.
/// Negations are kept: "not received" differs from "received".
const EN_STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "also", "am", "an", "and", "another", "any", "are", "around",
    "as", "at", "be", "been", "before", "both", "but", "by", "can", "come", "could", "d", "did",
    "do", "does", "doing", "each", "even", "ever", "every", "few", "for", "from", "get", "getting",
    "give", "go", "going", "got", "had", "has", "have", "hello", "help", "here", "hey", "hi",
    "how", "i", "if", "im", "in", "into", "is", "it", "its", "just", "know", "let", "like", "ll",
    "m", "may", "me", "might", "more", "most", "much", "my", "myself", "need", "new", "now", "of",
    "off", "ok", "okay", "on", "once", "one", "only", "or", "other", "our", "out", "over", "own",
    "please", "pls", "put", "re", "really", "s", "same", "see", "shall", "should", "since", "so",
    "some", "such", "t", "take", "tell", "than", "thank", "thanks", "that", "the", "their", "them",
    "then", "there", "these", "they", "thing", "this", "those", "to", "too", "try", "trying", "u",
    "up", "us", "usually", "ve", "very", "want", "was", "way", "we", "well", "were", "what",
    "when", "where", "which", "while", "who", "why", "will", "with", "would", "yes", "you", "your",
];

/// Chinese function words removed before segmentation: they carry no topic, and their
/// characters would otherwise pair up with their neighbours.
const CJK_STOP_WORDS: &[&str] = &[
    "一直",
    "时候",
    "已经",
    "现在",
    "刚才",
    "刚刚",
    "为什么",
    "什么",
    "怎么办",
    "知道",
    "需要",
    "如果",
    "但是",
    "因为",
    "所以",
    "然后",
    "还是",
    "或者",
    "这个",
    "那个",
    "比较",
    "应该",
    "自己",
    "请问",
    "麻烦",
    "谢谢",
    "你好",
    "您好",
    "你们",
    "我们",
    "有没有",
    "是不是",
    "能不能",
    "可不可以",
    "一下",
    "是否",
    "一般",
    "大概",
    "到底",
    "究竟",
    "的话",
    "这样",
    "那样",
    "操作",
    "处理",
];

/// The first character of the private-use area, where concepts are written: concept
/// `i` of the lexicon is the character U+E000 + `i` in normalised text.
const CONCEPT_BASE: u32 = 0xE000;

/// Opens the Chinese member of a tagging group in normalised text; its concept closes
/// it. Its characters are explained by the concept: unknown to the knowledge base,
/// they do not count against a match.
const SPAN: char = '\u{F8FF}';

/// Whether `c` is a concept of the lexicon.
pub fn is_concept(c: char) -> bool {
    ('\u{E000}'..SPAN).contains(&c)
}

/// Whether `c` is a private-use character: messages have no use for them, and they
/// are read as spaces before the analyser writes concepts with them.
fn is_private(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c)
}

/// The character that writes concept `i`.
fn concept(i: usize) -> char {
    u32::try_from(i)
        .ok()
        .and_then(|i| char::from_u32(CONCEPT_BASE + i))
        .filter(|&c| c < SPAN)
        .unwrap_or('\u{F8FE}')
}

/// Whether concept `c` is generic (see `lexicon::Mode::Generic`).
pub fn is_generic(c: char) -> bool {
    (c as u32)
        .checked_sub(CONCEPT_BASE)
        .and_then(|i| LEXICON.get(i as usize))
        .is_some_and(|(mode, _)| *mode == Mode::Generic)
}

/// Whether `c` is part of a Latin word: a letter or digit that is not Chinese (nor a
/// concept, which is not alphanumeric).
fn is_latin(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Whether `c` is one of the topic-less Chinese characters.
pub fn is_stop_char(c: char) -> bool {
    CJK_STOP_CHARS.contains(c)
}

/// Whether `word` (folded) is an English stop word.
pub fn is_stop_word(word: &str) -> bool {
    EN_STOP_WORDS.binary_search(&word).is_ok()
}

/// Text replacements: each variant (normalised) and what replaces it, sorted by
/// variant so that a step finds the variants starting at a position by binary search.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Replacements<'a> {
    #[serde(borrow)]
    variants: Strings<'a>,
    #[serde(borrow)]
    replacements: Strings<'a>,
}

impl Replacements<'static> {
    /// The table of `pairs`, in order of priority: a variant named twice keeps its first
    /// replacement. Empty variants and variants replaced by themselves are dropped.
    fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut pairs: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(v, r)| !v.trim().is_empty() && v != r)
            .collect();
        // Stable: the first of equal variants stays first, and dedup keeps it.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        Self {
            variants: Strings::new(pairs.iter().map(|p| &p.0)),
            replacements: Strings::new(pairs.iter().map(|p| &p.1)),
        }
    }
}

impl Replacements<'_> {
    /// `text` with every variant replaced, in one left-to-right pass, the longest variant
    /// at each position first. A variant that starts or ends with a Latin letter or
    /// digit only matches at word boundaries (`log in` in "log in", not in "blog input").
    pub fn apply(&self, text: &str) -> String {
        if self.variants.len() == 0 {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut prev: Option<char> = None;
        let mut at = 0;
        while let Some(c) = text[at..].chars().next() {
            // A variant starting with a Latin character needs a word boundary before it.
            let found = if is_latin(c) && prev.is_some_and(is_latin) {
                None
            } else {
                self.longest_at(&text[at..], c, prev)
            };
            match found {
                Some((len, replacement)) => {
                    out.push_str(replacement);
                    prev = replacement.chars().next_back().or(prev);
                    at += len;
                }
                None => {
                    out.push(c);
                    prev = Some(c);
                    at += c.len_utf8();
                }
            }
        }
        out
    }

    /// The longest variant that starts `rest` (whose first character is `first`) on
    /// word boundaries: its length in bytes, and its replacement.
    fn longest_at(&self, rest: &str, first: char, prev: Option<char>) -> Option<(usize, &str)> {
        let mut buf = [0u8; 4];
        let key = first.encode_utf8(&mut buf).as_bytes();
        let (mut lo, mut hi) = (0, self.variants.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.variants.bytes(mid) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut best: Option<(usize, usize)> = None;
        for i in lo..self.variants.len() {
            let variant = self.variants.bytes(i);
            if !variant.starts_with(key) {
                break;
            }
            if variant.len() <= best.map_or(0, |b| b.0) || !rest.as_bytes().starts_with(variant) {
                continue;
            }
            let last = std::str::from_utf8(variant)
                .ok()
                .and_then(|v| v.chars().next_back());
            let Some(after) = rest.get(variant.len()..) else {
                continue;
            };
            if bounded(prev, first, last, after.chars().next()) {
                best = Some((variant.len(), i));
            }
        }
        let (len, i) = best?;
        Some((len, self.replacements.get(i)?))
    }
}

/// Whether a variant from `first` to `last`, between `before` and `after`, sits on
/// word boundaries where it needs to.
fn bounded(before: Option<char>, first: char, last: Option<char>, after: Option<char>) -> bool {
    let starts_latin = is_latin(first);
    let ends_latin = last.is_some_and(is_latin);
    !(starts_latin && before.is_some_and(is_latin) || ends_latin && after.is_some_and(is_latin))
}

/// Corrects misspelt Latin words: a word the knowledge base and the lexicon do not
/// know is replaced by a known word one edit away (a letter missing, added, changed,
/// or two swapped: `refnud`, `adress`, `trak`).
///
/// Known words and the single-letter deletions of each are hashed into a sorted table
/// in `prepare`; two words one edit apart share a key, so a step finds candidates by
/// binary search on the message word's own deletions, and checks them.
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
    /// The speller of `words` (folded Latin words, repeats allowed).
    fn new<'w>(words: impl IntoIterator<Item = &'w str>) -> Self {
        let mut all: Vec<&str> = words
            .into_iter()
            .filter(|w| !w.is_empty() && !is_stop_word(w))
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut known: Vec<u64> = all.iter().map(|w| hash_str(&stem(w))).collect();
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
    fn correct(&self, word: &str) -> Option<&str> {
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

/// The analyser of one configuration: its synonyms, the lexicon, and the speller.
///
/// Normalising a text: fold width, case and punctuation; correct and stem each Latin
/// word; replace the configured synonyms by their group's first member; remove the
/// Chinese function words and replace question words and generic words by their
/// concepts; then tag the topical words with theirs.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Analyzer<'a> {
    /// The configured synonym groups: each variant and its group's first member.
    #[serde(borrow)]
    synonyms: Replacements<'a>,
    /// The Chinese function words (removed), and the members of the lexicon's
    /// replacing groups, with their concepts.
    #[serde(borrow)]
    function: Replacements<'a>,
    /// The members of the lexicon's tagging groups, with their concepts.
    #[serde(borrow)]
    lexicon: Replacements<'a>,
    /// Spelling corrections.
    #[serde(borrow)]
    speller: Speller<'a>,
}

impl Analyzer<'static> {
    /// The analyser of the configured synonym `groups` (raw text), without a speller:
    /// what reads the knowledge base itself.
    pub fn new<'g>(groups: impl IntoIterator<Item = &'g [String]>) -> Self {
        let mut pairs = Vec::new();
        for group in groups {
            let members: Vec<String> = group.iter().map(|m| words(&fold(m), None)).collect();
            let Some(canonical) = members.first().filter(|c| !c.trim().is_empty()) else {
                continue;
            };
            for member in &members[1..] {
                pairs.push((member.clone(), canonical.clone()));
            }
        }
        let synonyms = Replacements::new(pairs);

        // Function words, question words and generic concepts first, so that the
        // Chinese function words join their neighbours (退一下钱 → 退钱) before the
        // topical concepts are found.
        let mut first = Vec::new();
        let mut second = Vec::new();
        for (i, (mode, group)) in LEXICON.iter().enumerate() {
            let c = concept(i);
            for member in *group {
                let variant = words(&fold(member), None);
                if *mode == Mode::Tag {
                    let replacement = if variant.chars().any(is_cjk) {
                        format!("{SPAN}{variant}{c}")
                    } else {
                        c.to_string()
                    };
                    second.push((variant, replacement));
                } else {
                    first.push((variant, c.to_string()));
                }
            }
        }
        for word in CJK_STOP_WORDS {
            first.push(((*word).to_owned(), String::new()));
        }
        Self {
            synonyms,
            function: Replacements::new(first),
            lexicon: Replacements::new(second),
            speller: Speller::default(),
        }
    }

    /// Adds the speller, which knows the Latin words of `texts` (the knowledge base's
    /// phrasings and answers), of the configured synonyms and of the lexicon.
    pub fn with_speller<'t>(
        mut self,
        texts: impl IntoIterator<Item = &'t str>,
        groups: impl IntoIterator<Item = &'t [String]>,
    ) -> Self {
        let mut folded: Vec<String> = texts.into_iter().map(fold).collect();
        folded.extend(groups.into_iter().flatten().map(|m| fold(m)));
        folded.extend(
            LEXICON
                .iter()
                .flat_map(|(_, members)| members.iter())
                .map(|m| fold(m)),
        );
        self.speller = Speller::new(
            folded
                .iter()
                .flat_map(|t| t.split(|c: char| !is_latin(c)))
                .filter(|w| !w.is_empty()),
        );
        self
    }
}

impl Analyzer<'_> {
    /// The normalised form of `text`: what matching and exact comparison look at.
    pub fn normalize(&self, text: &str) -> String {
        let stemmed = words(&fold(text), Some(&self.speller));
        let synonyms = self.synonyms.apply(&stemmed);
        self.lexicon.apply(&self.function.apply(&synonyms))
    }
}

/// Folds width, case and punctuation (see `kefu_flow_sdk::text::fold_and_strip`);
/// private-use characters, which write concepts, are read as spaces.
fn fold(text: &str) -> String {
    let folded = fold_and_strip(text);
    if folded.chars().any(is_private) {
        folded
            .chars()
            .map(|c| if is_private(c) { ' ' } else { c })
            .collect()
    } else {
        folded
    }
}

/// `folded` with each Latin word corrected (when a speller is given) and stemmed; stop
/// words are kept as they are, for the phrases of the lexicon ("log in").
fn words(folded: &str, speller: Option<&Speller<'_>>) -> String {
    let mut out = String::with_capacity(folded.len());
    let mut rest = folded;
    while let Some(c) = rest.chars().next() {
        if is_latin(c) {
            let end = rest.find(|c: char| !is_latin(c)).unwrap_or(rest.len());
            let word = &rest[..end];
            if is_stop_word(word) {
                out.push_str(word);
            } else {
                let word = speller.and_then(|s| s.correct(word)).unwrap_or(word);
                out.push_str(&stem(word));
            }
            rest = &rest[end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// One index term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// The term's hash, which is all the index stores of it.
    pub hash: u64,
    /// What kind of term it is.
    pub kind: Kind,
    /// A bigram's two characters.
    pub pair: Option<(char, char)>,
    /// Whether a concept of the lexicon explains it (a character of a member).
    pub explained: bool,
}

/// The kinds of terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Chinese character.
    Unigram,
    /// Two adjacent Chinese characters.
    Bigram,
    /// A Latin word or a number, stemmed.
    Word,
    /// A concept of the lexicon.
    Concept,
    /// A generic concept of the lexicon.
    Generic,
}

/// Splits normalised text into index terms, in order, repeats included.
///
/// Chinese runs give one unigram per character (stop characters excepted) and one
/// bigram per pair of adjacent characters (pairs of two stop characters excepted).
/// Concepts are terms of their own. Other letters and digits form words (already
/// stemmed), split at spaces, punctuation, concepts and Chinese characters; stop
/// words are dropped.
pub fn terms(normalized: &str) -> Vec<Term> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_cjk: Option<(char, bool)> = None;
    let mut in_span = false;
    for c in normalized.chars() {
        if c == SPAN {
            // Transparent for pairs: 申请退款 still gives 请退.
            in_span = true;
        } else if is_cjk(c) {
            push_word(&mut word, &mut out);
            let stop = is_stop_char(c);
            if !stop {
                out.push(Term {
                    hash: hash_char(c),
                    kind: Kind::Unigram,
                    pair: None,
                    explained: in_span,
                });
            }
            if let Some((p, p_span)) = prev_cjk
                && !(is_stop_char(p) && stop)
            {
                out.push(Term {
                    hash: hash_pair(p, c),
                    kind: Kind::Bigram,
                    pair: Some((p, c)),
                    explained: p_span && in_span,
                });
            }
            prev_cjk = Some((c, in_span));
        } else if is_latin(c) {
            prev_cjk = None;
            word.push(c);
        } else {
            prev_cjk = None;
            push_word(&mut word, &mut out);
            if is_concept(c) {
                in_span = false;
                out.push(Term {
                    hash: hash_char(c),
                    kind: if is_generic(c) {
                        Kind::Generic
                    } else {
                        Kind::Concept
                    },
                    pair: None,
                    explained: false,
                });
            }
        }
    }
    push_word(&mut word, &mut out);
    out
}

/// Ends the current Latin word: drops it if a stop word, else adds it.
fn push_word(word: &mut String, out: &mut Vec<Term>) {
    if !word.is_empty() && !is_stop_word(word) {
        out.push(Term {
            hash: hash_str(word),
            kind: Kind::Word,
            pair: None,
            explained: false,
        });
    }
    word.clear();
}

/// A light English stemmer: plural `-s`/`-es`/`-ies`, `-ing` and `-ed`, undoubling a
/// final consonant they leave (`shipped` → `ship`). Short words are left alone, and so
/// is anything not ASCII. Enough to match "refunds" with "refund" and "shipping" with
/// "ship", without a dictionary. A final silent `e` is dropped as well.
pub fn stem(word: &str) -> String {
    if !word.is_ascii() || word.len() <= 3 {
        return word.to_owned();
    }
    let stemmed = strip_suffix(word);
    // A final silent `e` goes too, so that "change", "changed" and "changing" meet.
    match stemmed.strip_suffix('e') {
        Some(s) if s.len() >= 4 => s.to_owned(),
        _ => stemmed,
    }
}

/// The inflection [`stem`] removes.
fn strip_suffix(w: &str) -> String {
    let undouble = |s: &str| -> String {
        let b = s.as_bytes();
        let n = b.len();
        if n >= 3 && b[n - 1] == b[n - 2] && !b"aeiouslz".contains(&b[n - 1]) {
            s[..n - 1].to_owned()
        } else {
            s.to_owned()
        }
    };
    if let Some(s) = w.strip_suffix("ies").filter(|s| s.len() >= 2) {
        return format!("{s}y");
    }
    if let Some(s) = w.strip_suffix("ied").filter(|s| s.len() >= 2) {
        return format!("{s}y");
    }
    if let Some(s) = w.strip_suffix("sses") {
        return format!("{s}ss");
    }
    if let Some(s) = w.strip_suffix("ing").filter(|s| s.len() >= 3) {
        return undouble(s);
    }
    if let Some(s) = w.strip_suffix("ed").filter(|s| s.len() >= 3) {
        return undouble(s);
    }
    if let Some(s) = w
        .strip_suffix("es")
        .filter(|s| s.ends_with("sh") || s.ends_with("ch") || s.ends_with('x') || s.ends_with("ss"))
    {
        return s.to_owned();
    }
    if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

/// The character grams the fuzzy similarity compares, sorted and without repeats:
/// adjacent-character pairs inside each Chinese run and each Latin word (a lone
/// character counts as itself), and each concept. English stop words are left out;
/// Chinese characters are all kept, which lets the fuzzy score see word order and
/// phrasing.
pub fn grams(normalized: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut piece: Vec<char> = Vec::new();
    let flush = |piece: &mut Vec<char>, out: &mut Vec<u64>| {
        let skip = match piece.first() {
            None => true,
            Some(&c) if !is_cjk(c) => is_stop_word(&piece.iter().collect::<String>()),
            Some(_) => false,
        };
        if !skip {
            if let [c] = piece.as_slice() {
                out.push(hash_char(*c));
            }
            for pair in piece.windows(2) {
                out.push(hash_pair(pair[0], pair[1]));
            }
        }
        piece.clear();
    };
    for c in normalized.chars().filter(|&c| c != SPAN) {
        if is_cjk(c) || is_latin(c) {
            if piece.last().is_some_and(|&p| is_cjk(p) != is_cjk(c)) {
                flush(&mut piece, &mut out);
            }
            piece.push(c);
        } else {
            flush(&mut piece, &mut out);
            if is_concept(c) {
                out.push(hash_char(c));
            }
        }
    }
    flush(&mut piece, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

/// The Dice coefficient of two sorted gram sets: 2|A∩B| / (|A|+|B|), 0 when both are
/// empty.
pub fn dice(a: &[u64], b: &[u64]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f32 / (a.len() + b.len()) as f32
}

/// The u64 (little-endian) at byte `at` of `bytes`.
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// FNV-1a, 64 bits: stable across builds and platforms, which the prepared index needs.
fn fnv(bytes: impl IntoIterator<Item = u8>, mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The hash of a word.
pub fn hash_str(s: &str) -> u64 {
    fnv(s.bytes(), FNV_OFFSET)
}

/// The hash of one character as a term.
pub fn hash_char(c: char) -> u64 {
    let mut buf = [0u8; 4];
    hash_str(c.encode_utf8(&mut buf))
}

/// The hash of two adjacent characters as a term.
pub fn hash_pair(a: char, b: char) -> u64 {
    let mut buf = [0u8; 8];
    let n = a.encode_utf8(&mut buf).len();
    let m = b.encode_utf8(&mut buf[n..]).len();
    fnv(buf[..n + m].iter().copied(), FNV_OFFSET)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Analyzer<'static> {
        Analyzer::new([])
    }

    fn kinds(text: &str) -> Vec<&'static str> {
        terms(&plain().normalize(text))
            .iter()
            .map(|t| match t.kind {
                Kind::Unigram => "u",
                Kind::Bigram => "b",
                Kind::Word => "w",
                Kind::Concept => "c",
                Kind::Generic => "g",
            })
            .collect()
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(EN_STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_lexicon_member_names_one_concept() {
        let mut seen = std::collections::HashSet::new();
        for (_, members) in LEXICON {
            for m in *members {
                assert!(seen.insert(*m), "{m} is in two groups");
                assert_eq!(fold(m), *m, "{m} is not folded");
            }
        }
        assert!(
            LEXICON.len() < 0x1900,
            "concepts fit in the private-use area"
        );
        // The first pass must leave the tagging groups' members whole.
        let first: Vec<&str> = LEXICON
            .iter()
            .filter(|(mode, _)| *mode != Mode::Tag)
            .flat_map(|(_, members)| members.iter().copied())
            .chain(CJK_STOP_WORDS.iter().copied())
            .collect();
        for (_, members) in LEXICON.iter().filter(|(mode, _)| *mode == Mode::Tag) {
            for m in *members {
                let hit = first.iter().find(|f| {
                    m.match_indices(**f).any(|(at, _)| {
                        bounded(
                            m[..at].chars().next_back(),
                            f.chars().next().unwrap_or(' '),
                            f.chars().next_back(),
                            m[at + f.len()..].chars().next(),
                        )
                    })
                });
                assert!(hit.is_none(), "{m} contains {hit:?}");
            }
        }
    }

    #[test]
    fn segments_chinese_into_unigrams_and_bigrams() {
        // 我 and 要 are stop characters: no unigrams, and 我要 is no bigram.
        // Left: 要退, 退, 款, 退款, and the refund concept.
        assert_eq!(kinds("我要退款！"), ["u", "b", "u", "b", "c"]);
        let t = terms("退款");
        assert_eq!(t[0].hash, hash_char('退'));
        assert_eq!(t[2].hash, hash_pair('退', '款'));
        assert!(terms("怎么可以").is_empty());
        // A character the lexicon does not know: no concept.
        assert_eq!(kinds("猫"), ["u"]);
    }

    #[test]
    fn splits_latin_words_and_drops_stop_words() {
        let t = terms(&plain().normalize("How do I get my REFUNDS?"));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].kind, Kind::Concept);
        let t = terms(&plain().normalize("my sweaters"));
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].hash, t[0].kind), (hash_str("sweater"), Kind::Word));
        // Words next to Chinese characters are split from them.
        assert_eq!(kinds("iPhone猫咪"), ["w", "u", "u", "b"]);
    }

    #[test]
    fn the_lexicon_meets_chinese_and_english_phrasings() {
        let a = plain();
        let concepts = |text: &str| -> Vec<u64> {
            terms(&a.normalize(text))
                .into_iter()
                .filter(|t| matches!(t.kind, Kind::Concept | Kind::Generic))
                .map(|t| t.hash)
                .collect()
        };
        assert_eq!(concepts("退钱"), concepts("refund"));
        assert_eq!(concepts("I want my money back"), concepts("退款"));
        assert_eq!(concepts("Shipping fees"), concepts("运费"));
        assert_eq!(concepts("how long"), concepts("多长时间"));
        assert_ne!(concepts("退货"), concepts("退款"));
        // Latin members only match whole words: "pay" is not in "paypal"'s concept.
        assert_ne!(concepts("paypal"), concepts("pay"));
        // A Chinese member keeps its characters; a question word does not.
        assert!(a.normalize("退钱").contains("退钱"));
        assert!(!a.normalize("多久").contains('多'));
    }

    #[test]
    fn stems_lightly() {
        for (word, stemmed) in [
            ("refunds", "refund"),
            ("shipping", "ship"),
            ("shipped", "ship"),
            ("deliveries", "delivery"),
            ("invoices", "invoic"),
            ("invoice", "invoic"),
            ("change", "chang"),
            ("boxes", "box"),
            ("address", "address"),
            ("status", "status"),
            ("passwords", "password"),
            ("bus", "bus"),
            ("changed", "chang"),
            ("changing", "chang"),
        ] {
            assert_eq!(stem(word), stemmed, "{word}");
        }
    }

    #[test]
    fn replaces_synonyms_longest_first_and_on_word_boundaries() {
        let groups = [
            vec!["退款".to_owned(), "退钱".to_owned()],
            vec![
                "sweater".to_owned(),
                "jumper".to_owned(),
                "pull over".to_owned(),
            ],
        ];
        let a = Analyzer::new(groups.iter().map(Vec::as_slice));
        assert_eq!(a.normalize("退钱"), plain().normalize("退款"));
        // Members are stemmed like messages.
        assert_eq!(a.normalize("Jumpers"), "sweater");
        assert_eq!(a.normalize("a pull-over"), "a sweater");
        assert_eq!(a.normalize("blog input"), "blog input");
        let s = Replacements::new([("log in".to_owned(), "x".to_owned())]);
        assert_eq!(s.apply("log in"), "x");
        assert_eq!(s.apply("blog input"), "blog input");
        assert_eq!(plain().normalize("Ｅ-Mail？"), plain().normalize("邮箱"));
    }

    #[test]
    fn corrects_one_edit_to_a_known_word() {
        let a = plain().with_speller(["How do I track my sweater?", "收货地址"], []);
        for (typo, fixed) in [
            ("refnud", "refund"),
            ("adress", "address"),
            ("trak", "track"),
            ("sweeter", "sweater"),
            ("sweaterr", "sweater"),
            ("cancle", "cancel"),
        ] {
            assert_eq!(a.normalize(typo), a.normalize(fixed), "{typo}");
        }
        // Known words, short words and words too far are left alone.
        assert_eq!(a.speller.correct("sweater"), None);
        assert_eq!(a.speller.correct("sweaters"), None);
        assert_eq!(a.speller.correct("tram"), None);
        assert_eq!(a.speller.correct("swtaeer"), None);
        assert!(one_edit(b"abcd", b"abdc"));
        assert!(one_edit(b"abc", b"abxc"));
        assert!(!one_edit(b"abcd", b"bacx"));
    }

    #[test]
    fn dice_of_similar_phrasings() {
        let a = grams("退款多久到账");
        let b = grams("退款什么时候到账");
        let c = grams("修改收货地址");
        assert!(dice(&a, &a) > 0.99);
        assert!(dice(&a, &b) > 0.3);
        assert!(dice(&a, &c) < 0.01);
        assert_eq!(dice(&[], &[]), 0.0);
        // Latin words compare by their letter pairs, stop words left out.
        assert!(dice(&grams("the refund"), &grams("refund")) > 0.99);
    }
}
