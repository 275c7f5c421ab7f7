//! Text analysis: normalisation, synonyms, segmentation into index terms, and the
//! character grams of the fuzzy similarity.
//!
//! The same code analyses the knowledge base (once, in `prepare`) and the user's
//! message (on every step), so both sides always agree on what a term is.

use kefu_flow_sdk::text::{fold_and_strip, is_cjk};

/// Chinese characters that carry no topic on their own: pronouns, particles, question
/// words, auxiliaries. They are not indexed as unigrams, and a bigram made of two of
/// them (我们, 怎么, 可以, 请问, 一下) is not indexed either; a bigram with one topical
/// character (下单, 会员) is.
const CJK_STOP_CHARS: &str = "的了吗呢吧啊呀哦嘛么我你您他她它们是在请问一下个这那和与及就都也还很把被给让得地着过哈嗯想要能会可以怎什如何样咋哪儿些啥该";

/// English words that carry no topic: articles, pronouns, auxiliaries, question words
/// and politeness. Matched after folding, before stemming. Negations are kept: "not
/// received" differs from "received".
const EN_STOP_WORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "d", "did", "do", "does", "doing", "for", "from", "get", "getting", "got", "had",
    "has", "have", "hello", "help", "hey", "hi", "how", "i", "if", "im", "in", "is", "it", "its",
    "just", "know", "let", "like", "ll", "m", "may", "me", "might", "my", "need", "of", "ok",
    "okay", "on", "or", "our", "please", "pls", "re", "s", "shall", "should", "so", "some", "t",
    "tell", "thank", "thanks", "that", "the", "there", "these", "this", "those", "to", "u", "us",
    "ve", "want", "was", "way", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "would", "you", "your",
];

/// Chinese function words removed before segmentation (after synonyms): they carry
/// no topic, and their characters would otherwise pair up with their neighbours.
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
];

/// Synonym groups every knowledge base gets: general ways of asking the same thing,
/// not tied to any business. Each variant is replaced by the group's first member.
pub const BUILTIN_SYNONYMS: &[&[&str]] = &[
    &[
        "多久",
        "多长时间",
        "多少时间",
        "几天",
        "多少天",
        "什么时候",
        "何时",
    ],
    &["login", "log in", "sign in", "signin", "logon", "log on"],
    &["email", "e mail"],
];

/// Whether `c` is one of the topic-less Chinese characters.
pub fn is_stop_char(c: char) -> bool {
    CJK_STOP_CHARS.contains(c)
}

/// Whether `word` (folded) is an English stop word.
pub fn is_stop_word(word: &str) -> bool {
    EN_STOP_WORDS.binary_search(&word).is_ok()
}

/// Replaces synonyms by their canonical form: pairs of (variant, canonical), both
/// normalised, the longest variant first.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Synonyms {
    pairs: Vec<(String, String)>,
}

impl Synonyms {
    /// The built-in groups followed by `groups` (raw text, normalised here). A group's
    /// first member is its canonical form; a variant named twice keeps its first group.
    /// The Chinese function words are replaced by a space.
    pub fn new<'a>(groups: impl IntoIterator<Item = &'a [String]>) -> Self {
        let builtin = BUILTIN_SYNONYMS
            .iter()
            .map(|g| g.iter().map(|s| fold_and_strip(s)).collect::<Vec<_>>());
        let configured = groups
            .into_iter()
            .map(|g| g.iter().map(|s| fold_and_strip(s)).collect::<Vec<_>>());
        let mut pairs: Vec<(String, String)> = Vec::new();
        for group in builtin.chain(configured) {
            let Some(canonical) = group.first().filter(|c| !c.is_empty()) else {
                continue;
            };
            for variant in &group[1..] {
                if !variant.is_empty()
                    && variant != canonical
                    && !pairs.iter().any(|(v, _)| v == variant)
                {
                    pairs.push((variant.clone(), canonical.clone()));
                }
            }
        }
        for word in CJK_STOP_WORDS {
            if !pairs.iter().any(|(v, _)| v == word) {
                pairs.push(((*word).to_owned(), " ".to_owned()));
            }
        }
        // Longest first, so that 多长时间 wins over a shorter variant inside it.
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Self { pairs }
    }

    /// `text` (normalised) with every variant replaced by its canonical form, in one
    /// left-to-right pass. A variant that starts or ends with a Latin letter or digit
    /// only matches at word boundaries (`log in` in "log in", not in "blog input").
    pub fn apply(&self, text: &str) -> String {
        if self.pairs.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut prev: Option<char> = None;
        'outer: while let Some(c) = rest.chars().next() {
            for (variant, canonical) in &self.pairs {
                if let Some(after) = rest.strip_prefix(variant.as_str())
                    && bounded(prev, variant, after.chars().next())
                {
                    out.push_str(canonical);
                    prev = canonical.chars().last();
                    rest = after;
                    continue 'outer;
                }
            }
            out.push(c);
            prev = Some(c);
            rest = &rest[c.len_utf8()..];
        }
        out
    }
}

/// Whether `variant`, between `before` and `after`, sits on word boundaries where it
/// needs to.
fn bounded(before: Option<char>, variant: &str, after: Option<char>) -> bool {
    let latin = |c: char| c.is_alphanumeric() && !is_cjk(c);
    let starts_latin = variant.chars().next().is_some_and(latin);
    let ends_latin = variant.chars().last().is_some_and(latin);
    !(starts_latin && before.is_some_and(latin) || ends_latin && after.is_some_and(latin))
}

/// Folds width, case and punctuation (see `kefu_flow_sdk::text::fold_and_strip`), then
/// applies the synonyms: the form matching and exact comparison look at.
pub fn normalize(text: &str, synonyms: &Synonyms) -> String {
    synonyms.apply(&fold_and_strip(text))
}

/// One index term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// The term's hash, which is all the index stores of it.
    pub hash: u64,
    /// What kind of term it is.
    pub kind: Kind,
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
}

/// Splits normalised text into index terms, in order, repeats included.
///
/// Chinese runs give one unigram per character (stop characters excepted) and one
/// bigram per pair of adjacent characters (pairs of two stop characters excepted).
/// Other letters and digits form words, split at spaces, punctuation and Chinese
/// characters; stop words are dropped and the rest lightly stemmed.
pub fn terms(normalized: &str) -> Vec<Term> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_cjk: Option<char> = None;
    for c in normalized.chars() {
        if is_cjk(c) {
            push_word(&mut word, &mut out);
            let stop = is_stop_char(c);
            if !stop {
                out.push(Term {
                    hash: hash_char(c),
                    kind: Kind::Unigram,
                });
            }
            if let Some(p) = prev_cjk {
                let stops = (is_stop_char(p), stop);
                if !(stops.0 && stops.1) {
                    out.push(Term {
                        hash: hash_pair(p, c),
                        kind: Kind::Bigram,
                    });
                }
            }
            prev_cjk = Some(c);
        } else if c.is_alphanumeric() {
            prev_cjk = None;
            word.push(c);
        } else {
            prev_cjk = None;
            push_word(&mut word, &mut out);
        }
    }
    push_word(&mut word, &mut out);
    out
}

/// Ends the current Latin word: drops it if a stop word, else stems and adds it.
fn push_word(word: &mut String, out: &mut Vec<Term>) {
    if !word.is_empty() && !is_stop_word(word) {
        out.push(Term {
            hash: hash_str(&stem(word)),
            kind: Kind::Word,
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
/// character counts as itself). English stop words are left out; Chinese characters
/// are all kept, which lets the fuzzy score see word order and phrasing.
pub fn grams(normalized: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for run in normalized.split(|c: char| !c.is_alphanumeric()) {
        // Split further where Chinese meets Latin.
        let mut start = 0;
        let chars: Vec<(usize, char)> = run.char_indices().collect();
        for i in 0..=chars.len() {
            let boundary =
                i == chars.len() || (i > 0 && is_cjk(chars[i].1) != is_cjk(chars[i - 1].1));
            if boundary {
                let piece = &chars[start..i];
                start = i;
                let text: String = piece.iter().map(|(_, c)| *c).collect();
                if piece.is_empty() || (!is_cjk(piece[0].1) && is_stop_word(&text)) {
                    continue;
                }
                if piece.len() == 1 {
                    out.push(hash_char(piece[0].1));
                }
                for pair in piece.windows(2) {
                    out.push(hash_pair(pair[0].1, pair[1].1));
                }
            }
        }
    }
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

    fn kinds(text: &str) -> Vec<&'static str> {
        terms(&normalize(text, &Synonyms::default()))
            .iter()
            .map(|t| match t.kind {
                Kind::Unigram => "u",
                Kind::Bigram => "b",
                Kind::Word => "w",
            })
            .collect()
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(EN_STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn segments_chinese_into_unigrams_and_bigrams() {
        // 我 and 要 are stop characters: no unigrams, and 我要 is no bigram.
        // Left: 退, 要退, 款, 退款.
        assert_eq!(kinds("我要退款！"), ["u", "b", "u", "b"]);
        let t = terms("退款");
        assert_eq!(t[0].hash, hash_char('退'));
        assert_eq!(t[2].hash, hash_pair('退', '款'));
        assert!(terms("怎么可以").is_empty());
    }

    #[test]
    fn splits_latin_words_and_drops_stop_words() {
        let t = terms(&normalize("How do I get my REFUNDS?", &Synonyms::default()));
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].hash, hash_str("refund"));
        // Words next to Chinese characters are split from them.
        assert_eq!(kinds("iPhone退货"), ["w", "u", "u", "b"]);
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
        let s = Synonyms::new([["退款".to_owned(), "退钱".to_owned()].as_slice()]);
        assert_eq!(s.apply("退钱要多长时间"), "退款要多久");
        assert_eq!(s.apply("how to log in"), "how to login");
        assert_eq!(s.apply("blog input"), "blog input");
        assert_eq!(normalize("Ｅ-Mail？", &s), "email");
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
