//! Whether a message asks for an agent, or only mentions one.
//!
//! "转人工", "我要人工客服" and "can I talk to a human?" ask for an agent; "人工客服的电话
//! 是多少" and "are your agents available at night" ask a question an FAQ may answer. A
//! message asks for an agent when one of its clauses (the parts between punctuation
//! marks) holds a transfer keyword and nothing else but the words people ask with:
//! "I want", "转", "请给我接", "在吗", "please". A keyword inside a clause about something
//! else (a phone number, opening hours, a flight) is a mention: the message is matched
//! against the knowledge base like any other.

use kefu_flow_sdk::text::{fold, is_punctuation};

use crate::analyze::{clean, is_latin};

/// Chinese words that only ask: who, for whom, how politely, how urgently.
const ZH_ASKING: &[&str] = &[
    "可不可以",
    "在不在",
    "有没有",
    "能不能",
    "一下",
    "一个",
    "你们",
    "你好",
    "可以",
    "呼叫",
    "在吗",
    "好吗",
    "客服",
    "对话",
    "帮忙",
    "帮我",
    "快点",
    "您好",
    "想要",
    "接通",
    "服务",
    "沟通",
    "现在",
    "直接",
    "立刻",
    "立即",
    "给我",
    "聊聊",
    "联系",
    "行吗",
    "说话",
    "请问",
    "谢谢",
    "赶紧",
    "转到",
    "转接",
    "需要",
    "马上",
    "麻烦",
    "个",
    "了",
    "你",
    "叫",
    "吗",
    "吧",
    "呀",
    "呢",
    "和",
    "哦",
    "啊",
    "啦",
    "喂",
    "在",
    "帮",
    "快",
    "想",
    "我",
    "找",
    "接",
    "有",
    "的",
    "给",
    "能",
    "要",
    "请",
    "跟",
    "转",
];

/// English words that only ask.
const EN_ASKING: &[&str] = &[
    "a",
    "am",
    "an",
    "any",
    "asap",
    "available",
    "away",
    "can",
    "chat",
    "connect",
    "could",
    "customer",
    "directly",
    "get",
    "give",
    "hello",
    "hey",
    "hi",
    "i",
    "immediately",
    "is",
    "just",
    "let",
    "like",
    "live",
    "may",
    "me",
    "need",
    "now",
    "ok",
    "okay",
    "one",
    "please",
    "pls",
    "plz",
    "put",
    "real",
    "right",
    "service",
    "some",
    "somebody",
    "someone",
    "speak",
    "support",
    "talk",
    "the",
    "there",
    "through",
    "to",
    "transfer",
    "urgent",
    "urgently",
    "wanna",
    "want",
    "with",
    "would",
    "yes",
    "you",
    "your",
];

/// The part of a message read for a request, in characters: a request is short.
const READ_CHARS: usize = 300;

/// Whether `message` asks for an agent with one of `keywords` (see the module's doc).
pub fn asks_for_agent(message: &str, keywords: &[String]) -> bool {
    let message: String = message.chars().take(READ_CHARS).collect();
    let mut keywords: Vec<String> = keywords
        .iter()
        .map(|k| clean(k))
        .filter(|k| !k.is_empty())
        .collect();
    // The longest first: 转人工 goes whole, not as 转 and 人工.
    keywords.sort_by_key(|k| std::cmp::Reverse(k.len()));
    let folded = fold(&message);
    folded
        .split(|c: char| is_punctuation(c) && c != '\'' && c != '’')
        .map(clean)
        .any(|clause| {
            let rest = remove_keywords(&clause, &keywords);
            rest.len() < clause.len() && only_asking(&rest)
        })
}

/// `clause` without the keywords it holds (a Latin keyword only as whole words).
fn remove_keywords(clause: &str, keywords: &[String]) -> String {
    let mut rest = clause.to_owned();
    for keyword in keywords {
        while let Some(at) = find_keyword(&rest, keyword) {
            rest.replace_range(at..at + keyword.len(), " ");
        }
    }
    rest
}

/// Where `keyword` first stands in `text`: anywhere for a keyword that starts and ends
/// with Chinese characters, as whole words otherwise ("agent" in "talk to an agent",
/// not in "agents" nor "reagent").
pub fn find_keyword(text: &str, keyword: &str) -> Option<usize> {
    if keyword.is_empty() {
        return None;
    }
    let starts_latin = keyword.chars().next().is_some_and(is_latin);
    let ends_latin = keyword.chars().next_back().is_some_and(is_latin);
    text.match_indices(keyword).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + keyword.len()..].chars().next();
        !(starts_latin && before.is_some_and(is_latin) || ends_latin && after.is_some_and(is_latin))
    })
}

/// Whether `rest` (cleaned) holds only words of asking.
fn only_asking(rest: &str) -> bool {
    rest.split(' ').filter(|w| !w.is_empty()).all(|piece| {
        if piece.chars().all(is_latin) {
            return EN_ASKING.binary_search(&piece).is_ok();
        }
        // Chinese, or Chinese and Latin: take the asking words off, longest first.
        let mut left = piece;
        'outer: while !left.is_empty() {
            for word in ZH_ASKING {
                if let Some(tail) = left.strip_prefix(word) {
                    left = tail;
                    continue 'outer;
                }
            }
            return false;
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        [
            "人工",
            "转人工",
            "人工客服",
            "真人",
            "agent",
            "human",
            "real person",
            "operator",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    #[test]
    fn asking_words_are_sorted_and_longest_first() {
        assert!(EN_ASKING.windows(2).all(|w| w[0] < w[1]));
        assert!(
            ZH_ASKING
                .windows(2)
                .all(|w| w[0].chars().count() >= w[1].chars().count())
        );
    }

    #[test]
    fn tells_a_request_from_a_question() {
        for request in [
            "人工",
            "转人工！",
            "我要人工客服",
            "人工客服在吗",
            "请给我接人工",
            "我不想跟机器人说话，转人工",
            "Agent",
            "human please",
            "Can I talk to a HUMAN?",
            "I'd like to speak to a real person",
            "connect me to an agent now",
        ] {
            assert!(asks_for_agent(request, &defaults()), "{request}");
        }
        for question in [
            "人工客服的电话是多少？",
            "人工客服几点下班",
            "你是人工还是机器人",
            "are your agents available at night",
            "can an agent change my flight date",
            "is a real person reading this",
            "what are your human agents' hours",
            "我要退款",
            "",
        ] {
            assert!(!asks_for_agent(question, &defaults()), "{question}");
        }
    }

    #[test]
    fn finds_keywords_as_words() {
        assert_eq!(find_keyword("我要转人工", "人工"), Some(9));
        assert_eq!(find_keyword("talk to an agent now", "agent"), Some(11));
        assert_eq!(find_keyword("reagent", "agent"), None);
        assert_eq!(find_keyword("humane", "human"), None);
        assert_eq!(find_keyword("anything", ""), None);
    }
}
