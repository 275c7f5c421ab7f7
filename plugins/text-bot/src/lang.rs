//! The languages of a knowledge base, and the language of a message.

use kefu_flow_sdk::text::is_cjk;
use serde::{Deserialize, Serialize};

/// A language FAQs are written in and users write in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese (simplified or traditional).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The language `text` is written in: Chinese when it has a Chinese character
    /// ("我的booking在哪" is Chinese with an English word), English when it has a Latin
    /// letter, neither for digits, emoji and punctuation.
    pub fn detect(text: &str) -> Option<Lang> {
        if text.chars().any(is_cjk) {
            Some(Lang::Zh)
        } else if text
            .chars()
            .any(|c| c.is_ascii_alphabetic() || c.is_alphabetic())
        {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Its code in configurations: `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Its number in the prepared index.
    pub fn to_byte(self) -> u8 {
        match self {
            Lang::Zh => 0,
            Lang::En => 1,
        }
    }

    /// The language numbered `b` in the prepared index.
    pub fn from_byte(b: u8) -> Lang {
        if b == 1 { Lang::En } else { Lang::Zh }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_chinese_from_english() {
        assert_eq!(Lang::detect("退款多久到账？"), Some(Lang::Zh));
        assert_eq!(Lang::detect("訂機票"), Some(Lang::Zh));
        assert_eq!(Lang::detect("订单的confirmation邮件"), Some(Lang::Zh));
        assert_eq!(Lang::detect("Where is my ＰａｃｋａＧＥ?"), Some(Lang::En));
        assert_eq!(Lang::detect("123 !!"), None);
        assert_eq!(Lang::detect(""), None);
        assert_eq!(Lang::from_byte(Lang::En.to_byte()), Lang::En);
    }
}
