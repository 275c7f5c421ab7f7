use kefu_flow_sdk::{Value, json};

use crate::config::Config;

fn config(json: Value) -> Config {
    serde_json::from_value(json).unwrap()
}

fn problems(json: Value) -> Vec<(String, String)> {
    config(json)
        .problems()
        .unwrap()
        .into_iter()
        .map(|p| (p.path, p.message))
        .collect()
}

#[test]
fn a_small_configuration_is_fine() {
    let p = problems(json!({
        "faqs": [{"id": "a", "question": "如何退款", "answer": "…",
                  "translations": [{"question": "How do I get a refund?", "answer": "…"}]}],
        "hot_questions": ["a"],
        "texts": {"en": {"did_you_mean": "Did you mean:"}}
    }));
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn reports_each_problem_with_its_pointer() {
    let p = problems(json!({
        "faqs": [
            {"id": "a", "question": "如何退款", "answer": "ok"},
            {"id": "a", "question": "？？", "alternatives": [""], "answer": " "}
        ],
        "hot_questions": ["b"],
        "idle_timeout_secs": 1,
        "suggest_threshold": 0.9,
        "synonyms": [["退款"]]
    }));
    let paths: Vec<&str> = p.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/faqs/1/id",
            "/faqs/1/question",
            "/faqs/1/alternatives/0",
            "/faqs/1/answer",
            "/hot_questions/0",
            "/idle_timeout_secs",
            "/synonyms/0",
            "/suggest_threshold"
        ]
    );
    assert_eq!(p[0].1, "duplicate FAQ id \"a\"");
    assert_eq!(p[3].1, "must not be empty");
    assert_eq!(p[4].1, "no FAQ has the id \"b\"");
}

#[test]
fn checks_translations_like_the_faq_and_one_per_language() {
    let p = problems(json!({
        "faqs": [
            {"id": "a", "question": "如何退款", "answer": "ok",
             "translations": [{"question": "怎么退钱", "answer": ""}]},
            {"id": "b", "question": "Refund", "lang": "zh", "answer": "ok",
             "translations": [{"question": "Refunds", "answer": "ok"}, {"question": "x", "answer": "ok"}]}
        ],
        "texts": {"en": {"not_understood": "x".repeat(2001)}}
    }));
    assert_eq!(
        p,
        [
            (
                "/faqs/0/translations/0/answer".to_owned(),
                "must not be empty".to_owned()
            ),
            (
                "/faqs/0/translations/0/lang".to_owned(),
                "the FAQ is already in \"zh\": one version per language".to_owned()
            ),
            (
                "/faqs/1/translations".to_owned(),
                "at most 1 translation: one per other language".to_owned()
            ),
            (
                "/faqs/1/translations/1/lang".to_owned(),
                "the FAQ is already in \"en\": one version per language".to_owned()
            ),
            (
                "/texts/en/not_understood".to_owned(),
                "is 2001 characters long; at most 2000".to_owned()
            ),
        ]
    );
}

#[test]
fn reports_faq_type_errors_under_faqs() {
    let c = config(json!({"faqs": [{"id": "a", "question": "q", "answer": 3}]}));
    let err = c.faqs().unwrap_err();
    assert_eq!(err.problems()[0].path, "/faqs/0/answer");
    assert_eq!(
        err.problems()[0].message,
        "invalid type: integer `3`, expected a string"
    );
    let c = config(json!({"faqs": [{"id": "a", "question": "q", "answer": "x", "extra": 1}]}));
    assert_eq!(c.faqs().unwrap_err().problems()[0].path, "/faqs/0/extra");
    let c = config(json!({"faqs": [{"id": "a", "question": "q", "answer": "x", "lang": "fr"}]}));
    assert_eq!(c.faqs().unwrap_err().problems()[0].path, "/faqs/0/lang");
}
