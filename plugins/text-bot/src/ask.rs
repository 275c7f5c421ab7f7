//! What a question asks for: a time, a place, a reason, an amount, or what to do about
//! a mishap. Two phrasings that share a topic word but ask for different things are
//! different questions ("when will my refund arrive" is not "how do I pay"), and a
//! customer's wording seldom shares more than the topic with the FAQ's: the kind of
//! answer asked for is what tells them apart. Read from a normalised text (see
//! `Analyzer::normalize`), so the built-in thesaurus has already read "how soon" as
//! "how long" and 多长时间 as 多久.

/// The kinds of answer a text asks for, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Asks(pub u8);

/// A time or a duration.
const TIME: u8 = 1;
/// A place, in the world or in the product.
const PLACE: u8 = 1 << 1;
/// A cause.
const REASON: u8 = 1 << 2;
/// A number: how much, how many, how big.
const AMOUNT: u8 = 1 << 3;
/// What to do now that something went wrong.
const REMEDY: u8 = 1 << 4;

/// Chinese cues, found anywhere in the text.
const ZH: &[(&str, u8)] = &[
    ("多久", TIME),
    ("什么时候", TIME),
    ("啥时候", TIME),
    ("几点", TIME),
    ("哪天", TIME),
    ("多少天", TIME),
    ("几天", TIME),
    ("哪里", PLACE),
    ("哪儿", PLACE),
    ("在哪", PLACE),
    ("什么地方", PLACE),
    ("哪个地方", PLACE),
    ("为什么", REASON),
    ("为啥", REASON),
    ("怎么会", REASON),
    ("多少", AMOUNT),
    ("几个", AMOUNT),
    ("几件", AMOUNT),
    ("多大", AMOUNT),
    ("多重", AMOUNT),
    ("几公斤", AMOUNT),
    ("怎么办", REMEDY),
    ("咋办", REMEDY),
    ("怎么处理", REMEDY),
];

/// English cues, as whole words (a phrase's words in a row).
const EN: &[(&[&str], u8)] = &[
    (&["how", "long"], TIME),
    (&["when"], TIME),
    (&["what", "time"], TIME),
    (&["what", "day"], TIME),
    (&["where"], PLACE),
    (&["why"], REASON),
    (&["how", "come"], REASON),
    (&["how", "much"], AMOUNT),
    (&["how", "many"], AMOUNT),
    (&["how", "big"], AMOUNT),
    (&["how", "heavy"], AMOUNT),
    (&["what", "now"], REMEDY),
    (&["what", "should", "i", "do"], REMEDY),
    (&["what", "do", "i", "do"], REMEDY),
    (&["what", "can", "i", "do"], REMEDY),
    (&["what", "happens", "if"], REMEDY),
];

impl Asks {
    /// What the normalised `text` asks for: nothing when it asks no such thing (a yes
    /// or no question, a "how do I").
    pub fn of(text: &str) -> Asks {
        let mut asks = 0;
        for (cue, kind) in ZH {
            if text.contains(cue) {
                asks |= kind;
            }
        }
        let words: Vec<&str> = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        for (cue, kind) in EN {
            if words.windows(cue.len()).any(|w| w == *cue) {
                asks |= kind;
            }
        }
        Asks(asks)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the two ask for something in common.
    pub fn meets(self, other: Asks) -> bool {
        self.0 & other.0 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_asks_for_the_kind_its_question_words_name() {
        assert_eq!(Asks::of("退款多久能到账"), Asks(TIME));
        assert_eq!(Asks::of("when will my refund arrive"), Asks(TIME));
        assert_eq!(Asks::of("下个月的航班在哪下单"), Asks(PLACE));
        assert_eq!(Asks::of("why did the price go up"), Asks(REASON));
        assert_eq!(Asks::of("能带几个箱子"), Asks(AMOUNT));
        assert_eq!(Asks::of("my flight is late what now"), Asks(REMEDY));
        assert!(Asks::of("how do i book a flight").is_empty());
        assert!(Asks::of("可以带宠物吗").is_empty());
        // Whole words only: "whenever" and "somewhere" ask nothing.
        assert!(Asks::of("call me whenever").is_empty());
        assert!(Asks::of("somewhere nice").is_empty());
    }

    #[test]
    fn kinds_meet_when_they_share_one() {
        let refund = Asks::of("退款多久能到账");
        assert!(Asks::of("钱什么时候退回来").meets(refund));
        assert!(!Asks::of("行李丢了怎么办").meets(Asks::of("可以托运多少行李")));
    }
}
