//! The tables the build script packs into the component (see `build.rs`): jieba's
//! Chinese dictionary and OpenCC's traditional-to-simplified characters. They are
//! static data, part of the component's memory image: a step reads the few entries it
//! looks up, and loads nothing.
//!
//! `dict.bin`: `KDC2`, the cost of an unknown character (u32), the number of buckets
//! (u32), then per bucket — bucket `i` holds the words of `i + 1` characters — its word
//! count and the offsets of its keys, costs and classes (u32 each); the keys are the
//! words' UTF-16 units (all in the basic plane), sorted; a cost is `-ln p × 1000` of the
//! word's corpus probability (u16); a class is a byte (0 other, 1 function word, 2
//! noun). All little-endian.
//!
//! `t2s.bin`: (traditional, simplified) code points, u32 pairs sorted by the first.
//!
//! `longest.bin`: per character from U+4E00, one byte: the length of the longest word
//! it starts (0: none).

/// jieba's dictionary.
static DICT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dict.bin"));
/// OpenCC's traditional-to-simplified characters.
static T2S: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/t2s.bin"));
/// Per character of the basic CJK block (U+4E00…): the longest word it starts.
static LONGEST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/longest.bin"));

/// What the dictionary says of a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// `-ln p × 1000` of its corpus probability.
    pub cost: u16,
    /// Its part of speech, broadly.
    pub class: Class,
}

/// Parts of speech, as far as matching cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A particle, pronoun, preposition, conjunction, adverb, numeral, measure word or
    /// direction: a word that carries no topic.
    Function,
    /// A noun or a name: a topic, however common.
    Noun,
    /// A verb, an adjective, an idiom…
    Other,
}

/// The dictionary, as packed by the build script.
#[derive(Debug, Clone, Copy)]
pub struct Dictionary {
    bytes: &'static [u8],
}

impl Default for Dictionary {
    fn default() -> Self {
        Self { bytes: DICT }
    }
}

impl Dictionary {
    /// The cost of a character the dictionary does not know (as jieba: a frequency of 1).
    pub fn unknown_cost(&self) -> u16 {
        u16::try_from(u32_at(self.bytes, 4)).unwrap_or(u16::MAX)
    }

    /// The longest word, in characters.
    pub fn max_len(&self) -> usize {
        u32_at(self.bytes, 8) as usize
    }

    /// The length of the longest word that starts with `c`.
    pub fn longest_from(&self, c: char) -> usize {
        match u32::from(c).checked_sub(0x4E00) {
            Some(at) => LONGEST.get(at as usize).map_or(0, |&n| usize::from(n)),
            // Extension A: rare characters; look as far as the longest word.
            None => self.max_len(),
        }
    }

    /// The word made of `chars`, if the dictionary has it.
    pub fn get(&self, chars: &[char]) -> Option<Entry> {
        let len = chars.len();
        if len == 0 || len > self.max_len() {
            return None;
        }
        let mut key = [0u16; 32];
        for (k, &c) in key.iter_mut().zip(chars) {
            *k = u16::try_from(u32::from(c)).ok()?;
        }
        let key = &key[..len];
        let at = 12 + (len - 1) * 16;
        let count = u32_at(self.bytes, at) as usize;
        let keys = u32_at(self.bytes, at + 4) as usize;
        let costs = u32_at(self.bytes, at + 8) as usize;
        let classes = u32_at(self.bytes, at + 12) as usize;
        let unit = |word: usize, i: usize| u16_at(self.bytes, keys + (word * len + i) * 2);
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let order = (0..len)
                .map(|i| unit(mid, i).cmp(&key[i]))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
            match order {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return Some(Entry {
                        cost: u16_at(self.bytes, costs + mid * 2),
                        class: match self.bytes.get(classes + mid) {
                            Some(1) => Class::Function,
                            Some(2) => Class::Noun,
                            _ => Class::Other,
                        },
                    });
                }
            }
        }
        None
    }
}

/// The simplified form of a traditional character (`貨` → `货`); other characters as
/// they are.
pub fn simplified(c: char) -> char {
    if u32::from(c) < 0x3400 {
        return c;
    }
    let n = T2S.len() / 8;
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match u32_at(T2S, mid * 8).cmp(&u32::from(c)) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                return char::from_u32(u32_at(T2S, mid * 8 + 4)).unwrap_or(c);
            }
        }
    }
    c
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = bytes.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_le_bytes(b)
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    let mut b = [0u8; 2];
    if let Some(s) = bytes.get(at..at + 2) {
        b.copy_from_slice(s);
    }
    u16::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn knows_words_and_their_kind() {
        let d = Dictionary::default();
        let refund = d.get(&chars("退款")).unwrap();
        assert_eq!(refund.class, Class::Other);
        assert_eq!(d.get(&chars("怎么")).unwrap().class, Class::Function);
        assert_eq!(d.get(&chars("北京")).unwrap().class, Class::Noun);
        // Commoner words cost less.
        assert!(d.get(&chars("问题")).unwrap().cost < refund.cost);
        assert!(refund.cost < d.unknown_cost());
        assert_eq!(d.get(&chars("退款退款")), None);
        assert_eq!(d.get(&chars("")), None);
        assert_eq!(d.get(&chars("😀")), None);
        assert_eq!(d.max_len(), 16);
        assert!(d.longest_from('退') >= 2);
        assert_eq!(d.longest_from('\u{9FFF}'), 0);
    }

    #[test]
    fn simplifies_traditional_characters() {
        let s: String = "退貨發票嗎abc".chars().map(simplified).collect();
        assert_eq!(s, "退货发票吗abc");
        assert_eq!(simplified('退'), '退');
    }
}
