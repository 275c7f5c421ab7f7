//! Text replacements: the configured synonym groups, each member replaced by its
//! group's first in one pass over a normalised text.

use serde::{Deserialize, Serialize};

use crate::analyze::is_latin;
use crate::table::Strings;

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
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_longest_variant_on_word_boundaries() {
        let r = Replacements::new([
            ("log in".to_owned(), "login".to_owned()),
            ("退钱".to_owned(), "退款".to_owned()),
            ("退钱了".to_owned(), "已退款".to_owned()),
        ]);
        assert_eq!(r.apply("log in"), "login");
        assert_eq!(r.apply("blog input"), "blog input");
        assert_eq!(r.apply("帮我退钱"), "帮我退款");
        assert_eq!(r.apply("退钱了吗"), "已退款吗");
        assert_eq!(Replacements::default().apply("退钱"), "退钱");
    }
}
