use std::borrow::Cow;

use super::*;

fn faq(id: &str, zh: &str, en: &str) -> Faq {
    serde_json::from_value(serde_json::json!({
        "id": id, "question": zh, "answer": format!("{id} 的答案"),
        "translations": [{"question": en, "answer": format!("the answer of {id}")}]
    }))
    .unwrap()
}

#[test]
fn round_trips_through_bytes_and_reads_in_place() {
    let built = Index::build(
        &[
            faq("refund", "如何退款？", "How do I get a refund?"),
            faq("invoice", "如何开发票？", "Can I get an invoice?"),
        ],
        &[],
    );
    let bytes = built.to_bytes().unwrap();
    let read = Index::from_bytes(&bytes).unwrap();
    assert_eq!(read.faq_count(), 2);
    assert_eq!(read.faq_by_id("invoice"), Some(1));
    assert!(matches!(read.postings, Cow::Borrowed(_)));
    assert_eq!(read.rank("退款", None), built.rank("退款", None));
}

#[test]
fn gives_a_faq_in_the_language_asked_or_its_own() {
    let mut only_zh = faq("hours", "几点上班？", "x");
    only_zh.translations.clear();
    let index = Index::build(
        &[
            faq("refund", "如何退款？", "How do I get a refund?"),
            only_zh,
        ],
        &[],
    );
    let zh = index.faq(0, Some(Lang::Zh)).unwrap();
    assert_eq!(
        (zh.id, zh.lang, zh.answer),
        ("refund", Lang::Zh, "refund 的答案")
    );
    let en = index.faq(0, Some(Lang::En)).unwrap();
    assert_eq!(
        (en.question, en.answer),
        ("How do I get a refund?", "the answer of refund")
    );
    assert_eq!(index.faq(0, None).unwrap().lang, Lang::Zh);
    assert_eq!(index.faq(1, Some(Lang::En)).unwrap().lang, Lang::Zh);
    assert!(index.speaks(0, Lang::En) && !index.speaks(1, Lang::En));
    assert_eq!(index.faq(2, None), None);
}
