//! Chinese word segmentation, as jieba does it without its HMM: of all the ways to cut
//! a run of characters into dictionary words (a character the dictionary lacks standing
//! alone), the one whose words are together the most probable; and, as jieba's search
//! mode, the dictionary words of two and three characters inside a longer word
//! (笔记本电脑 also gives 笔记, 电脑 and 笔记本).

use crate::dict::{Dictionary, Entry};

/// One word of a cut: characters `start..end` of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    /// What the dictionary says of it; `None` for a character it does not know.
    pub entry: Option<Entry>,
}

impl Word {
    /// The word's length, in characters.
    pub fn len(&self) -> usize {
        self.end - self.start
    }
}

/// The most probable cut of `chars` (Chinese characters) into words, in order.
pub fn cut(dict: &Dictionary, chars: &[char]) -> Vec<Word> {
    let n = chars.len();
    let unknown = u32::from(dict.unknown_cost());
    // best[i]: the lowest total cost of cutting chars[i..], and its first word.
    let mut best: Vec<(u32, Word)> = vec![
        (
            0,
            Word {
                start: n,
                end: n,
                entry: None
            }
        );
        n + 1
    ];
    for start in (0..n).rev() {
        let alone = Word {
            start,
            end: start + 1,
            entry: None,
        };
        let mut pick = (unknown + best[start + 1].0, alone);
        let mut found = false;
        for len in 1..=dict.longest_from(chars[start]).min(n - start) {
            let end = start + len;
            let Some(entry) = dict.get(&chars[start..end]) else {
                continue;
            };
            let total = u32::from(entry.cost) + best[end].0;
            // As jieba: the most probable, and the longer word on a tie.
            if !found || total <= pick.0 {
                pick = (
                    total,
                    Word {
                        start,
                        end,
                        entry: Some(entry),
                    },
                );
                found = true;
            }
        }
        best[start] = pick;
    }
    let mut words = Vec::new();
    let mut at = 0;
    while at < n {
        let word = best[at].1;
        words.push(word);
        at = word.end;
    }
    words
}

/// The dictionary words of two and three characters inside `word` (of a cut of
/// `chars`), when it is longer than them: what jieba's search mode adds.
pub fn inner_words(dict: &Dictionary, chars: &[char], word: Word) -> Vec<Word> {
    let mut out = Vec::new();
    for n in [2, 3] {
        if word.len() <= n {
            continue;
        }
        for start in word.start..=word.end - n {
            if let Some(entry) = dict.get(&chars[start..start + n]) {
                out.push(Word {
                    start,
                    end: start + n,
                    entry: Some(entry),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        cut(&Dictionary::default(), &chars)
            .iter()
            .map(|w| chars[w.start..w.end].iter().collect())
            .collect()
    }

    /// Sentences of the kind customers write, cut by jieba-rs itself (without its HMM)
    /// and by this module: the same words.
    #[test]
    fn cuts_as_jieba_does() {
        let jieba = jieba_rs::Jieba::new();
        for text in [
            "积分能当钱用吗",
            "如何使用会员积分",
            "鞋子小了能换大一码吗",
            "人工客服的电话是多少",
            "我想买一张下周去成都的机票",
            "行李超重了怎么收费",
            "笔记本电脑开不了机",
            "如何开发票",
            "今天天气怎么样",
            "退款审核通过后一般三到七个工作日原路退回",
            "航班延误或取消时我们会短信通知您",
            "南京市长江大桥",
        ] {
            let theirs: Vec<String> = jieba
                .cut(text, false)
                .iter()
                .map(|t| t.word.to_owned())
                .collect();
            assert_eq!(words(text), theirs, "{text}");
        }
    }

    #[test]
    fn unknown_characters_stand_alone() {
        assert_eq!(words("㐀㐁"), ["㐀", "㐁"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn search_mode_finds_the_words_inside() {
        let chars: Vec<char> = "笔记本电脑".chars().collect();
        let dict = Dictionary::default();
        let whole = cut(&dict, &chars);
        assert_eq!(whole.len(), 1);
        let inner: Vec<String> = inner_words(&dict, &chars, whole[0])
            .iter()
            .map(|w| chars[w.start..w.end].iter().collect())
            .collect();
        assert_eq!(inner, ["笔记", "电脑", "笔记本"]);
    }
}
