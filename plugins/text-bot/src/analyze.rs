//! Text analysis: normalisation, spelling and synonyms, segmentation into index terms,
//! and the character grams of the fuzzy similarity.
//!
//! The same [`Analyzer`] reads the knowledge base (once, in `prepare`) and the user's
//! message (on every step), so both sides always agree on what a term is. Its tables
//! (the configured synonyms, the speller's known words) are built in `prepare` and kept
//! in the prepared index, where a step reads them in place; the Chinese dictionary is
//! part of the component (see `dict`).

use kefu_flow_sdk::text::{fold, fold_and_strip, is_cjk};
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::dict::{self, Class, Dictionary, Entry};
use crate::lexicon;
use crate::replace::Replacements;
use crate::segment::{cut, inner_words};
use crate::spell::Speller;
use crate::thesaurus;

/// English words that carry no topic: articles, pronouns, auxiliaries, negations,
/// question words, politeness, light verbs and adverbs. Matched after folding, before
/// stemming.
const EN_STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "also", "am", "an", "and", "another", "any", "are", "around",
    "as", "at", "be", "been", "before", "both", "but", "by", "can", "cannot", "come", "could", "d",
    "did", "didn", "do", "does", "doesn", "doing", "don", "each", "even", "ever", "every", "few",
    "for", "from", "get", "getting", "give", "go", "going", "got", "had", "has", "have", "hello",
    "help", "here", "hey", "hi", "how", "i", "if", "im", "in", "into", "is", "isn", "it", "its",
    "just", "know", "let", "like", "ll", "m", "made", "make", "may", "me", "might", "more", "most",
    "much", "my", "myself", "need", "new", "no", "not", "now", "of", "off", "ok", "okay", "on",
    "once", "one", "only", "or", "other", "our", "out", "over", "own", "please", "pls", "put",
    "re", "really", "s", "same", "see", "shall", "should", "since", "so", "some", "such", "t",
    "take", "tell", "than", "thank", "thanks", "that", "the", "their", "them", "then", "there",
    "these", "they", "thing", "this", "those", "to", "too", "try", "trying", "u", "up", "us",
    "usually", "ve", "very", "want", "was", "wasn", "way", "we", "well", "were", "what", "when",
    "where", "which", "while", "who", "why", "will", "with", "won", "would", "yes", "you", "your",
];

/// English irregular plurals and verb forms, sorted, with the form the stemmer gives
/// their regular relatives (`children` → `child`, `paid` → `pay`):
/// the stemmer only knows suffixes.
const EN_IRREGULAR: &[(&str, &str)] = &[
    ("bought", "buy"),
    ("broke", "break"),
    ("broken", "break"),
    ("brought", "bring"),
    ("children", "child"),
    ("chose", "choose"),
    ("chosen", "choose"),
    ("feet", "foot"),
    ("flew", "fly"),
    ("flown", "fly"),
    ("forgot", "forget"),
    ("forgotten", "forget"),
    ("found", "find"),
    ("kept", "keep"),
    ("knives", "knife"),
    ("lives", "life"),
    ("men", "man"),
    ("mice", "mouse"),
    ("paid", "pay"),
    ("people", "person"),
    ("sent", "send"),
    ("sold", "sell"),
    ("spent", "spend"),
    ("stole", "steal"),
    ("stolen", "steal"),
    ("taken", "take"),
    ("teeth", "tooth"),
    ("thieves", "thief"),
    ("took", "take"),
    ("wives", "wife"),
    ("women", "woman"),
    ("written", "write"),
    ("wrote", "write"),
];

/// The base form of an irregular English word, if it is one.
fn irregular(word: &str) -> Option<&'static str> {
    EN_IRREGULAR
        .binary_search_by(|(w, _)| w.cmp(&word))
        .ok()
        .map(|i| EN_IRREGULAR[i].1)
}

/// Chinese words of politeness and of asking (请问, 您好, 怎么办), and the light verb
/// 有, that the dictionary does not mark as function words, sorted: like the English
/// stop words ("please", "have"), they carry no topic.
const ZH_STOP_WORDS: &[&str] = &[
    "一下",
    "亲",
    "你好",
    "咋办",
    "咋弄",
    "哦",
    "啊",
    "在吗",
    "多谢",
    "帮忙",
    "怎么办",
    "怎么弄",
    "怎么搞",
    "您好",
    "感谢",
    "有",
    "请",
    "请问",
    "谢谢",
    "麻烦",
];

/// Whether `word` is a Chinese stop word.
fn is_zh_stop_word(word: &str) -> bool {
    ZH_STOP_WORDS.binary_search(&word).is_ok()
}

/// Whether `word` (folded) is an English stop word.
pub fn is_stop_word(word: &str) -> bool {
    EN_STOP_WORDS.binary_search(&word).is_ok()
}

/// Whether `c` is part of a Latin word: a letter or digit that is not Chinese.
pub fn is_latin(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// The Snowball stem of an English word (`warranties` → `warranti`, `cancelled` →
/// `cancel`); anything else as it is.
pub fn stem(word: &str) -> String {
    if !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_owned();
    }
    Stemmer::create(Algorithm::English).stem(word).into_owned()
}

/// The analyser of one configuration: its synonyms and its speller.
///
/// Normalising a text: fold width and case, expand English contractions, strip
/// punctuation, simplify traditional Chinese characters; correct and stem each Latin
/// word; replace the configured synonyms by their group's first member.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Analyzer<'a> {
    /// The configured synonym groups: each variant and its group's first member.
    #[serde(borrow)]
    synonyms: Replacements<'a>,
    /// Spelling corrections.
    #[serde(borrow)]
    speller: Speller<'a>,
}

impl Analyzer<'static> {
    /// The analyser of the configured synonym `groups` (raw text), without a speller:
    /// what reads the knowledge base itself.
    pub fn new<'g>(groups: impl IntoIterator<Item = &'g [String]>) -> Self {
        let configured = groups
            .into_iter()
            .map(|g| g.iter().map(|m| words(&clean(m), None)).collect());
        let built_in = lexicon::GROUPS
            .iter()
            .map(|g| g.iter().map(|m| words(&clean(m), None)).collect());
        Self {
            synonyms: Replacements::new(merge(configured.chain(built_in).collect())),
            speller: Speller::default(),
        }
    }

    /// Adds the speller, which knows the Latin words of `texts` (the knowledge base's
    /// phrasings and answers) and of the synonyms, configured and built in: a misspelt
    /// synonym ("suitcse") is corrected, then read as its group. It also knows the
    /// thesaurus's English words, which it leaves as they are.
    pub fn with_speller<'t>(
        mut self,
        texts: impl IntoIterator<Item = &'t str>,
        groups: impl IntoIterator<Item = &'t [String]>,
    ) -> Self {
        let mut cleaned: Vec<String> = texts.into_iter().map(clean).collect();
        cleaned.extend(groups.into_iter().flatten().map(|m| clean(m)));
        cleaned.extend(
            lexicon::GROUPS
                .iter()
                .flat_map(|g| g.iter())
                .map(|m| clean(m)),
        );
        let thesaurus: Vec<String> = thesaurus::members().map(clean).collect();
        let latin = |texts: &'_ [String]| -> Vec<String> {
            texts
                .iter()
                .flat_map(|t| t.split(|c: char| !is_latin(c)))
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let (targets, known) = (latin(&cleaned), latin(&thesaurus));
        self.speller = Speller::new(
            targets.iter().map(String::as_str),
            known.iter().map(String::as_str),
        );
        self
    }
}

impl Analyzer<'_> {
    /// The normalised form of `text`: what matching and exact comparison look at.
    pub fn normalize(&self, text: &str) -> String {
        self.synonyms
            .apply(&words(&close_separable(&clean(text)), Some(&self.speller)))
    }
}

/// Synonym groups (normalised members, in order of priority) as (member, canonical)
/// pairs: groups that share a member are one group, read as the first member of the
/// first of them, so that the configured groups and the built-in ones never pull a word
/// two ways.
fn merge(groups: Vec<Vec<String>>) -> Vec<(String, String)> {
    let groups: Vec<Vec<String>> = groups
        .into_iter()
        .map(|g| {
            g.into_iter()
                .filter(|m| !m.trim().is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|g| g.len() > 1)
        .collect();
    // Union-find over the groups, joined by shared members.
    let mut parent: Vec<usize> = (0..groups.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, group) in groups.iter().enumerate() {
        for member in group {
            if let Some(&j) = owner.get(member.as_str()) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                // The earlier group leads.
                let (first, second) = if a < b { (a, b) } else { (b, a) };
                parent[second] = first;
            } else {
                owner.insert(member, i);
            }
        }
    }
    let mut pairs = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        let canonical = &groups[root(&mut parent, i)][0];
        for member in group {
            pairs.push((member.clone(), canonical.clone()));
        }
    }
    pairs
}

/// Folds width, case and punctuation (see `kefu_flow_sdk::text`), after expanding
/// English contractions (`don't` → `do not`, `I'm` → `I`), and writes traditional
/// Chinese characters in their simplified form.
pub fn clean(text: &str) -> String {
    let folded = fold(text).replace(['’', '‘', '`'], "'");
    let mut expanded = String::with_capacity(folded.len() + 8);
    let mut rest = folded.as_str();
    while let Some(at) = rest.find('\'') {
        let (before, after) = (&rest[..at], &rest[at + 1..]);
        let tail = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let suffix = &after[..tail];
        match suffix {
            "t" if before.ends_with('n') => {
                let stem = &before[..before.len() - 1];
                // can't → can not, won't → will not, don't → do not.
                let stem = match stem.rsplit(|c: char| !c.is_ascii_alphabetic()).next() {
                    Some("ca") => format!("{stem}n"),
                    Some("wo") => format!("{}will", &stem[..stem.len() - 2]),
                    _ => stem.to_owned(),
                };
                expanded.push_str(&stem);
                expanded.push_str(" not");
            }
            "s" | "re" | "m" | "ll" | "ve" | "d" => expanded.push_str(before),
            _ => {
                expanded.push_str(before);
                expanded.push(' ');
                expanded.push_str(suffix);
            }
        }
        rest = &after[tail..];
    }
    expanded.push_str(rest);
    fold_and_strip(&expanded)
        .chars()
        .map(|c| if is_cjk(c) { dict::simplified(c) } else { c })
        .collect()
}

/// What Chinese puts inside a separable verb: 退一下钱, 换个货, 退了款.
const SEPARABLE_INFIXES: &[&str] = &["一下", "个", "了"];

/// `cleaned` with each separable verb closed (退一下钱 → 退钱, 换个货 → 换货): a
/// character, an infix and a character that together, without the infix, are a word of
/// the dictionary that is not a function word.
fn close_separable(cleaned: &str) -> String {
    let dict = Dictionary::default();
    let chars: Vec<char> = cleaned.chars().collect();
    let mut out = String::with_capacity(cleaned.len());
    let mut i = 0;
    while i < chars.len() {
        out.push(chars[i]);
        if is_cjk(chars[i]) {
            let closed = SEPARABLE_INFIXES.iter().find_map(|infix| {
                let n = infix.chars().count();
                let next = *chars.get(i + 1 + n)?;
                let inside = chars.get(i + 1..i + 1 + n)?;
                let word = [chars[i], next];
                (is_cjk(next)
                    && inside.iter().copied().eq(infix.chars())
                    && dict.get(&word).is_some_and(|e| e.class != Class::Function))
                .then_some(n)
            });
            if let Some(n) = closed {
                i += n;
            }
        }
        i += 1;
    }
    out
}

/// `cleaned` with each Latin word corrected (when a speller is given) and stemmed; stop
/// words are kept as they are, for the configured synonym phrases.
fn words(cleaned: &str, speller: Option<&Speller<'_>>) -> String {
    let mut out = String::with_capacity(cleaned.len());
    let mut rest = cleaned;
    while let Some(c) = rest.chars().next() {
        if is_latin(c) {
            let end = rest.find(|c: char| !is_latin(c)).unwrap_or(rest.len());
            let word = &rest[..end];
            if is_stop_word(word) {
                out.push_str(word);
            } else {
                let word = match irregular(word) {
                    Some(base) => base,
                    None => speller.and_then(|s| s.correct(word)).unwrap_or(word),
                };
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Term {
    /// The term's hash, which is all the index stores of it.
    pub hash: u64,
    /// What kind of term it is.
    pub kind: Kind,
    /// A word that carries no topic (see `dict::Class::Function`).
    pub function: bool,
    /// How much the word tells when the knowledge base lacks it, 0 to 1: nothing for a
    /// function word, much for a noun or a word rare in general language ("了" 0,
    /// "看" little, "北京" and "红烧肉" much).
    pub rarity: f32,
}

/// The kinds of terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Chinese word of two characters or more.
    Word,
    /// A dictionary word inside a longer Chinese word (jieba's search mode).
    Inner,
    /// A Chinese word of one character.
    Char,
    /// A character of a Chinese word of two characters or more: lets 换 meet 换货.
    Piece,
    /// A Latin word, stemmed.
    Latin,
    /// A verb and its particle written as one (`log in` → `login`, `check-in` →
    /// `checkin`): lets an open compound meet its closed form. It counts only where the
    /// knowledge base has it, and is left out of an entry's length and weight.
    Joined,
    /// A number.
    Number,
}

/// Corpus costs (`-ln p × 1000`) at and below which a word counts as common, and at
/// and above which as rare; jieba's 的 costs 5,200 and 退款 14,700.
const COMMON_COST: f32 = 8_000.0;
const RARE_COST: f32 = 12_000.0;

/// The least rarity of a noun.
const NOUN_RARITY: f32 = 0.7;

/// Whether a Chinese word is a function word, and its rarity (see [`Term`]), from what
/// the dictionary says of it (nothing: a character it does not know).
fn describe(entry: Option<Entry>) -> (bool, f32) {
    let Some(entry) = entry else {
        return (false, 1.0);
    };
    let by_cost =
        ((f32::from(entry.cost) - COMMON_COST) / (RARE_COST - COMMON_COST)).clamp(0.0, 1.0);
    match entry.class {
        Class::Function => (true, 0.0),
        Class::Noun => (false, by_cost.max(NOUN_RARITY)),
        Class::Other => (false, by_cost),
    }
}

/// Splits normalised text into index terms, in order, repeats included.
///
/// Chinese runs are cut into words with jieba's dictionary: a word of several
/// characters gives itself, the dictionary words inside it and its characters; a word
/// of one character gives itself. Other letters and digits form words (already
/// stemmed), split at spaces and Chinese characters; stop words are dropped.
pub fn terms(normalized: &str) -> Vec<Term> {
    let dict = Dictionary::default();
    let mut out = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    // The Latin word before the current one, when only spaces part them.
    let mut previous = String::new();
    for c in normalized.chars().chain(std::iter::once(' ')) {
        if is_cjk(c) {
            push_word(&mut word, &mut previous, &mut out);
            previous.clear();
            run.push(c);
        } else {
            push_run(&dict, &mut run, &mut out);
            if is_latin(c) {
                word.push(c);
            } else {
                push_word(&mut word, &mut previous, &mut out);
                if c != ' ' {
                    previous.clear();
                }
            }
        }
    }
    out
}

/// Ends a run of Chinese characters: cuts it into terms.
fn push_run(dict: &Dictionary, run: &mut Vec<char>, out: &mut Vec<Term>) {
    if run.is_empty() {
        return;
    }
    let term = |chars: &[char], kind, entry| {
        let text: String = chars.iter().collect();
        let (function, rarity) = if is_zh_stop_word(&text) {
            (true, 0.0)
        } else {
            describe(entry)
        };
        Term {
            hash: hash_str(&text),
            kind,
            function,
            rarity,
        }
    };
    for w in cut(dict, run) {
        let chars = &run[w.start..w.end];
        if w.len() == 1 {
            out.push(term(chars, Kind::Char, w.entry));
            continue;
        }
        let word = term(chars, Kind::Word, w.entry);
        out.push(word);
        if word.function {
            continue;
        }
        for inner in inner_words(dict, run, w) {
            let chars = &run[inner.start..inner.end];
            out.push(term(chars, Kind::Inner, inner.entry));
        }
        for c in chars {
            let piece = std::slice::from_ref(c);
            out.push(term(piece, Kind::Piece, dict.get(piece)));
        }
    }
    run.clear();
}

/// The particles of English phrasal verbs, which are also written closed (`log in`
/// and `login`, `check-in` and `checkin`, `sign up` and `signup`).
const PARTICLES: &[&str] = &["back", "down", "in", "off", "on", "out", "over", "up"];

/// Ends the current Latin word: adds it unless it is a stop word, and adds a verb and
/// its particle, or a single letter and the next word (`e-mail`), joined.
fn push_word(word: &mut String, previous: &mut String, out: &mut Vec<Term>) {
    if word.is_empty() {
        return;
    }
    let number = word.bytes().all(|b| b.is_ascii_digit());
    if !is_stop_word(word) {
        out.push(Term {
            hash: hash_str(word),
            kind: if number { Kind::Number } else { Kind::Latin },
            function: false,
            rarity: 1.0,
        });
    }
    let letters = |w: &str| !w.is_empty() && !w.bytes().any(|b| b.is_ascii_digit());
    if letters(previous)
        && !is_stop_word(previous)
        && (PARTICLES.contains(&word.as_str()) || previous.len() == 1)
        && letters(word)
    {
        previous.push_str(word);
        out.push(Term {
            hash: hash_str(previous),
            kind: Kind::Joined,
            function: false,
            rarity: 1.0,
        });
    }
    std::mem::swap(previous, word);
    word.clear();
}

/// The character grams the fuzzy similarity compares, sorted and without repeats:
/// adjacent-character pairs inside each Chinese run and each Latin word (a lone
/// character counts as itself). English stop words are left out; Chinese characters
/// are all kept, which lets the fuzzy score see word order and phrasing.
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
    for c in normalized.chars() {
        if is_cjk(c) || is_latin(c) {
            if piece.last().is_some_and(|&p| is_cjk(p) != is_cjk(c)) {
                flush(&mut piece, &mut out);
            }
            piece.push(c);
        } else {
            flush(&mut piece, &mut out);
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
pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    if let Some(s) = bytes.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    u64::from_le_bytes(b)
}

/// FNV-1a, 64 bits: stable across builds and platforms, which the prepared index needs.
fn fnv(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The hash of a word.
pub fn hash_str(s: &str) -> u64 {
    fnv(s.bytes())
}

/// The hash of one character as a term.
pub fn hash_char(c: char) -> u64 {
    let mut buf = [0u8; 4];
    hash_str(c.encode_utf8(&mut buf))
}

/// The hash of two adjacent characters, a gram.
fn hash_pair(a: char, b: char) -> u64 {
    let mut buf = [0u8; 8];
    let n = a.encode_utf8(&mut buf).len();
    let m = b.encode_utf8(&mut buf[n..]).len();
    fnv(buf[..n + m].iter().copied())
}

#[cfg(test)]
mod tests;
