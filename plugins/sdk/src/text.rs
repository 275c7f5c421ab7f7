//! Text helpers shared by modules that read what users type: width and case folding,
//! punctuation, and Chinese characters.
//!
//! Users type the same thing many ways: `ＡＢＣ１２３` on a Chinese keyboard and
//! `abc123` on another, `退款？` and `退款?`. [`fold`] makes those the same before a
//! module compares them.

/// Folds full-width forms to their ASCII twins (`Ａ１！` → `A1!`), the ideographic space
/// to a space, and letters to lower case; collapses runs of whitespace to one space and
/// trims the ends.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        let c = fold_width(c);
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// One character's half-width twin, if it has one: the full-width ASCII block
/// (U+FF01–U+FF5E) and the ideographic space.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Whether `c` is punctuation or a symbol users add around words: ASCII punctuation,
/// the CJK punctuation block, full-width forms and common marks (`…`, `·`, `～`).
pub fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '\u{3000}'..='\u{303F}'   // CJK symbols and punctuation: 、。「」【】〜
            | '\u{FF01}'..='\u{FF0F}' // ！＂＃＄％＆＇（）＊＋，－．／
            | '\u{FF1A}'..='\u{FF20}' // ：；＜＝＞？＠
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}'
            | '\u{2010}'..='\u{2027}' // dashes, quotes, bullets, ellipsis
            | '\u{2030}'..='\u{205E}'
            | '\u{00A1}'..='\u{00BF}'
            | '\u{FE10}'..='\u{FE1F}'
            | '\u{FE30}'..='\u{FE6F}')
}

/// [`fold`], then every punctuation character replaced by a space (and spaces
/// collapsed again): what keyword and exact matching compare.
pub fn fold_and_strip(text: &str) -> String {
    let folded: String = fold(text)
        .chars()
        .map(|c| if is_punctuation(c) { ' ' } else { c })
        .collect();
    fold(&folded)
}

/// Whether `c` is a CJK ideograph (Chinese characters and their extensions), which are
/// written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{3134F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_and_spaces() {
        assert_eq!(
            fold("  ＡＢＣ　１２３ Hello\t World "),
            "abc 123 hello world"
        );
        assert_eq!(fold("退款？"), "退款?");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn strips_punctuation_of_both_widths() {
        assert_eq!(fold_and_strip("我要退款！！"), "我要退款");
        assert_eq!(fold_and_strip("退款，怎么办？"), "退款 怎么办");
        assert_eq!(fold_and_strip("Refund... please?"), "refund please");
        assert_eq!(fold_and_strip("【订单】「123」"), "订单 123");
    }

    #[test]
    fn knows_chinese_characters() {
        assert!(is_cjk('退'));
        assert!(!is_cjk('a'));
        assert!(!is_cjk('。'));
    }
}
