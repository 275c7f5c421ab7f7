use super::*;
use crate::config::Faq;

fn faq(id: &str, question: &str, alternatives: &[&str]) -> Faq {
    Faq {
        id: id.into(),
        question: question.into(),
        alternatives: alternatives.iter().map(|s| (*s).to_owned()).collect(),
        answer: format!("answer {id}"),
        lang: None,
        translations: Vec::new(),
    }
}

fn kb() -> Vec<Faq> {
    vec![
        faq(
            "refund",
            "如何申请退款？",
            &["怎么退款", "How do I get a refund?"],
        ),
        faq(
            "refund-time",
            "退款多久到账？",
            &["When will I receive my refund?"],
        ),
        faq(
            "address",
            "怎么修改收货地址？",
            &["Change my delivery address"],
        ),
        faq("invoice", "如何开发票？", &["Can I get an invoice?"]),
        faq("password", "忘记密码怎么办？", &["I forgot my password"]),
        faq(
            "points",
            "如何使用会员积分？",
            &["How do membership points work?"],
        ),
        faq("exchange", "如何换货？", &["How do I exchange an item?"]),
    ]
}

fn best(index: &Index<'_>, message: &str) -> (String, f32) {
    let ranking = index.rank(message, None);
    let (faq, confidence) = ranking.candidates[0];
    (index.faq(faq, None).unwrap().id.to_string(), confidence)
}

#[test]
fn finds_the_faq_of_a_paraphrase() {
    let index = Index::build(&kb(), &[]);
    assert_eq!(best(&index, "我想修改一下地址").0, "address");
    assert_eq!(best(&index, "密码忘了").0, "password");
    assert_eq!(best(&index, "refund not received yet").0, "refund-time");
    assert_eq!(best(&index, "开一张发票").0, "invoice");
    assert_eq!(best(&index, "INVOICES please").0, "invoice");
    // Different words, the same topic: the characters of words meet.
    assert_eq!(best(&index, "积分能当钱用吗").0, "points");
    assert_eq!(best(&index, "鞋子小了能换大一码吗").0, "exchange");
    assert_eq!(best(&index, "my points disappeared").0, "points");
}

#[test]
fn exact_phrasings_are_recognised() {
    let index = Index::build(&kb(), &[]);
    assert_eq!(index.rank("如何开发票", None).exact, Some(3));
    assert_eq!(index.rank("如何開發票？", None).exact, Some(3));
    assert_eq!(index.rank("如何开发票吗", None).exact, None);
    let (id, confidence) = best(&index, "忘记密码怎么办");
    assert_eq!(id, "password");
    assert!(confidence > 0.95, "{confidence}");
}

#[test]
fn unrelated_messages_score_low() {
    let index = Index::build(&kb(), &[]);
    for message in ["今天天气怎么样", "tell me a joke", "你好", "红烧肉怎么做"] {
        let ranking = index.rank(message, None);
        let top = ranking.candidates.first().map_or(0.0, |c| c.1);
        assert!(top < 0.3, "{message}: {top}");
    }
}

#[test]
fn misspelt_words_are_corrected() {
    let index = Index::build(&kb(), &[]);
    assert_eq!(best(&index, "refnud").0, "refund");
    assert_eq!(best(&index, "chnage my adress").0, "address");
    assert_eq!(best(&index, "pasword forgoten").0, "password");
}

#[test]
fn a_message_mostly_about_something_else_is_not_confident() {
    let index = Index::build(&kb(), &[]);
    let (id, about) = best(&index, "change my delivery address");
    assert_eq!(id, "address");
    // One word in common, the rest unexplained: far less confident.
    let (_, aside) = best(&index, "what is the best address book app for linux");
    assert!(aside < about / 2.0, "{aside} vs {about}");
}

#[test]
fn prefers_a_faq_in_the_user_s_language() {
    // One FAQ per language, as a knowledge base without translations has them.
    let kb = vec![
        faq("wifi-zh", "酒店wifi密码是多少", &[]),
        faq("wifi-en", "What is the hotel wifi password", &[]),
    ];
    let index = Index::build(&kb, &[]);
    let ranking = index.rank("wifi", Some(Lang::Zh));
    assert_eq!(ranking.candidates[0].0, 0);
    assert!(ranking.candidates[0].1 > ranking.candidates[1].1 * 1.5);
    assert_eq!(index.rank("wifi", Some(Lang::En)).candidates[0].0, 1);
}

#[test]
fn decides_answer_suggestion_or_miss() {
    let t = Thresholds {
        answer: 0.4,
        suggest: 0.25,
        margin: 0.04,
    };
    let ranking = |candidates: Vec<(usize, f32)>| Ranking {
        candidates,
        exact: None,
    };
    assert_eq!(
        ranking(vec![(2, 0.8), (1, 0.3)]).decide(&t),
        Decision::Answer(2)
    );
    assert_eq!(
        ranking(vec![(2, 0.5), (1, 0.48), (0, 0.1)]).decide(&t),
        Decision::Suggest(vec![2, 1])
    );
    assert_eq!(ranking(vec![(2, 0.2)]).decide(&t), Decision::Miss);
    let exact = Ranking {
        candidates: vec![(1, 0.5), (0, 0.49)],
        exact: Some(0),
    };
    assert_eq!(exact.decide(&t), Decision::Answer(0));
}

#[test]
fn what_a_question_asks_for_tells_faqs_of_one_topic_apart() {
    let kb = vec![
        faq(
            "payment",
            "支持哪些付款方式？",
            &["能用支付宝吗", "Can I pay by card?"],
        ),
        faq(
            "refund-time",
            "退款多久到账？",
            &["How long does a refund take?"],
        ),
        faq("lost", "行李丢了怎么办？", &["My luggage is lost"]),
        faq(
            "allowance",
            "可以托运多少行李？",
            &["How much luggage can I check in?"],
        ),
    ];
    let index = Index::build(&kb, &[]);
    let blind = Weights {
        ask_met: 1.0,
        ask_none: 1.0,
        ask_other: 1.0,
        ..Weights::DEFAULT
    };
    let top = |message: &str, w: &Weights| {
        let (faq, _) = index.rank_with(message, None, w).candidates[0];
        index.faq(faq, None).unwrap().id.to_string()
    };
    for (message, want) in [
        ("钱退到支付宝要多久", "refund-time"),
        ("能带几个箱子", "allowance"),
    ] {
        assert_eq!(top(message, &Weights::DEFAULT), want, "{message}");
        // The words alone lead elsewhere: the question's kind is what decides.
        assert_ne!(top(message, &blind), want, "{message}");
    }
}
