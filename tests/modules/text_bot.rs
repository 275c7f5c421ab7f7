//! `text-bot`: hot questions on entry, direct answers, "did you mean" and picking a
//! suggestion, misses and the transfer they lead to, keywords, the idle timeout, bad
//! configuration refused; `quality` measures the answers on the evaluation sets of
//! `data/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod quality;

use kefu_tests::modules::{Conversation, Harness, Step};
use serde_json::{Value, json};

/// The knowledge base of a bilingual online shop: 24 FAQs with their alternatives.
const KNOWLEDGE_BASE: &str = include_str!("data/text_bot_kb.json");

fn knowledge_base() -> Value {
    serde_json::from_str(KNOWLEDGE_BASE).unwrap()
}

/// The knowledge base with `extra` fields set.
fn config(extra: Value) -> Value {
    let mut config = knowledge_base();
    for (key, value) in extra.as_object().unwrap() {
        config[key] = value.clone();
    }
    config
}

/// The answer of FAQ `id` in the knowledge base.
fn answer(id: &str) -> String {
    knowledge_base()["faqs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap()["answer"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The FAQ a step answered directly (the `text_bot_faq` it set).
fn answered(step: &Step) -> Option<String> {
    step.set_variables()
        .into_iter()
        .find(|(name, _)| name == "text_bot_faq")
        .map(|(_, value)| value.as_str().unwrap().to_owned())
}

async fn entered<'h>(h: &'h Harness, config: Value) -> Conversation<'h> {
    let mut c = h.conversation("text-bot", config).await;
    c.enter().await;
    c
}

#[tokio::test]
async fn shows_the_hot_questions_on_entry() {
    let h = Harness::new();
    let mut c = h.conversation("text-bot", knowledge_base()).await;
    let step = c.enter().await;
    let (title, choices) = step.menu().unwrap();
    assert!(title.starts_with("您好，欢迎光临小店"), "{title}");
    assert_eq!(
        choices,
        [
            ("refund-apply", "如何申请退款？"),
            ("tracking", "怎么查询物流信息？"),
            ("invoice", "如何开具发票？"),
            ("reset-password", "忘记密码怎么办？"),
        ]
        .map(|(id, q)| (id.to_owned(), q.to_owned()))
    );
    assert_eq!(step.wait_ms(), Some(300_000));

    // Without hot questions, the welcome is a text.
    let mut c = h
        .conversation(
            "text-bot",
            config(json!({"hot_questions": [], "welcome": "Hi ${SystemClientUserID}"})),
        )
        .await;
    let step = c.enter().await;
    assert_eq!(step.texts(), ["Hi user_42"]);
    assert!(step.menu().is_none());
}

#[tokio::test]
async fn a_hot_question_is_picked_by_number_or_by_choice_id() {
    let h = Harness::new();
    let mut c = entered(&h, knowledge_base()).await;
    let step = c.say("２").await;
    assert_eq!(step.texts(), [answer("tracking")]);
    assert_eq!(answered(&step).as_deref(), Some("tracking"));

    let mut c = entered(&h, knowledge_base()).await;
    let step = c.say("invoice").await;
    assert_eq!(answered(&step).as_deref(), Some("invoice"));
    assert_eq!(c.variable("text_bot_faq"), Some(json!("invoice")));
}

#[tokio::test]
async fn answers_a_clear_question_with_placeholders_filled() {
    let h = Harness::new();
    let mut c = entered(&h, knowledge_base()).await;
    let step = c.say("我想申请退款，怎么弄？").await;
    assert_eq!(answered(&step).as_deref(), Some("refund-apply"));
    assert_eq!(
        step.texts(),
        ["小明您好，请在“我的订单”中找到该订单，点击“申请退款”并填写原因，审核通过后原路退回。"]
    );
    assert_eq!(step.wait_ms(), Some(300_000));

    let step = c.say("I FORGOT my password!!").await;
    assert_eq!(answered(&step).as_deref(), Some("reset-password"));
}

/// Two FAQs about refunds: a bare "退款" could be either.
fn refunds() -> Value {
    json!({
        "faqs": [
            {"id": "apply", "question": "如何申请退款？", "answer": "在订单中点击申请退款。"},
            {"id": "time", "question": "退款多久到账？", "answer": "1-3个工作日到账。"},
            {"id": "invoice", "question": "如何开发票？", "answer": "在订单中申请开票。"}
        ]
    })
}

#[tokio::test]
async fn offers_did_you_mean_when_two_faqs_are_close_and_takes_the_pick() {
    let h = Harness::new();
    let mut c = entered(&h, refunds()).await;
    let step = c.say("退款").await;
    let (title, choices) = step.menu().expect("a did-you-mean menu");
    assert_eq!(title, "您是不是想问：");
    let ids: Vec<&str> = choices.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{choices:?}");
    assert!(
        ids.contains(&"apply") && ids.contains(&"time"),
        "{choices:?}"
    );
    assert!(answered(&step).is_none());
    assert!(step.wait_ms().is_some());

    // By number.
    let second = ids[1].to_owned();
    let step = c.say("2").await;
    assert_eq!(answered(&step), Some(second));

    // By choice id, as a rich client sends it back.
    c.say("退款").await;
    let step = c.say("time").await;
    assert_eq!(step.texts(), ["1-3个工作日到账。"]);

    // By the question's text.
    c.say("退款").await;
    let step = c.say("如何申请退款").await;
    assert_eq!(answered(&step).as_deref(), Some("apply"));

    // A number after the menu was answered is just a message.
    let step = c.say("1").await;
    assert!(answered(&step).is_none());
}

#[tokio::test]
async fn says_it_did_not_understand() {
    let h = Harness::new();
    let mut c = entered(&h, knowledge_base()).await;
    for message in ["今天天气怎么样", "what's the capital of France"] {
        let step = c.say(message).await;
        assert!(
            step.texts()[0].starts_with("抱歉，我没有理解您的问题"),
            "{message}"
        );
        assert!(step.menu().is_none());
        assert!(step.exit().is_none());
    }
}

#[tokio::test]
async fn transfers_on_a_keyword() {
    let h = Harness::new();
    for message in [
        "转人工",
        "我要人工客服！",
        "Can I talk to a HUMAN?",
        "agent",
    ] {
        let mut c = entered(
            &h,
            config(json!({"transfer_message": "正在为您转接人工客服"})),
        )
        .await;
        let step = c.say(message).await;
        assert_eq!(step.exit(), Some("transfer"), "{message}");
        assert_eq!(step.texts(), ["正在为您转接人工客服"]);
        assert_eq!(
            c.variable("text_bot_transfer_reason"),
            Some(json!("keyword"))
        );
        assert_eq!(c.variable("text_bot_last_message"), Some(json!(message)));
    }
    // Configured keywords replace the default ones.
    let mut c = entered(&h, config(json!({"transfer_keywords": ["找经理"]}))).await;
    assert!(c.say("人工").await.exit().is_none());
    assert_eq!(c.say("我要找经理").await.exit(), Some("transfer"));
}

/// The travel agency of the evaluation set: every FAQ in Chinese and in English.
fn travel(extra: Value) -> Value {
    let mut config: Value =
        serde_json::from_str(include_str!("data/text_bot_travel_kb.json")).unwrap();
    for (key, value) in extra.as_object().unwrap() {
        config[key] = value.clone();
    }
    config
}

#[tokio::test]
async fn answers_in_the_language_the_user_writes_in() {
    let h = Harness::new();
    let mut c = entered(&h, travel(json!({}))).await;
    let step = c.say("怎么开发票？").await;
    assert_eq!(answered(&step).as_deref(), Some("invoice"));
    assert!(step.texts()[0].starts_with("行程结束后在订单中点击“开发票”"));
    let step = c.say("How do I get an invoice?").await;
    assert_eq!(answered(&step).as_deref(), Some("invoice"));
    assert!(step.texts()[0].starts_with("After your trip, tap \"Invoice\""));
    // Traditional characters and full-width forms are Chinese too.
    let step = c.say("怎麼開發票？").await;
    assert_eq!(answered(&step).as_deref(), Some("invoice"));
    assert!(step.texts()[0].starts_with("行程结束后"));
}

/// Two FAQs about refunds, each in Chinese and English: a bare "refund" could be either.
fn bilingual_refunds() -> Value {
    json!({
        "faqs": [
            {"id": "apply", "question": "如何申请退款？", "answer": "在订单中点击申请退款。",
             "translations": [{"question": "How do I ask for a refund?", "answer": "Tap Refund in the order."}]},
            {"id": "time", "question": "退款多久到账？", "answer": "1-3个工作日到账。",
             "translations": [{"question": "When does a refund arrive?", "answer": "Within 1-3 business days."}]}
        ],
        "texts": {"en": {"did_you_mean": "Did you mean:", "timeout_message": "Goodbye for now."}},
        "timeout_message": "会话结束。"
    })
}

#[tokio::test]
async fn offers_each_faq_once_in_the_user_s_language() {
    let h = Harness::new();
    let mut c = entered(&h, bilingual_refunds()).await;
    let step = c.say("refund").await;
    let (title, choices) = step.menu().expect("a did-you-mean menu");
    assert_eq!(title, "Did you mean:");
    let mut labels: Vec<&str> = choices.iter().map(|(_, q)| q.as_str()).collect();
    labels.sort();
    assert_eq!(
        labels,
        ["How do I ask for a refund?", "When does a refund arrive?"]
    );
    // A pick by number is answered in the language of the conversation.
    let second = choices[1].0.clone();
    let step = c.say("2").await;
    assert_eq!(answered(&step), Some(second));
    assert!(step.texts()[0].is_ascii(), "{:?}", step.texts());

    let step = c.say("退款").await;
    let (title, choices) = step.menu().expect("a did-you-mean menu");
    assert_eq!(title, "您是不是想问：");
    let mut labels: Vec<&str> = choices.iter().map(|(_, q)| q.as_str()).collect();
    labels.sort();
    assert_eq!(labels, ["如何申请退款？", "退款多久到账？"]);

    // The timeout speaks the last language the user wrote in.
    let mut c = entered(&h, bilingual_refunds()).await;
    c.say("hello there").await;
    assert_eq!(c.time_out().await.texts(), ["Goodbye for now."]);
}

#[tokio::test]
async fn prefers_the_faq_in_the_user_s_language_when_each_language_is_its_own_faq() {
    let h = Harness::new();
    let config = json!({"faqs": [
        {"id": "wifi-zh", "question": "酒店wifi密码是多少", "answer": "密码是12345678。"},
        {"id": "wifi-en", "question": "What is the hotel wifi password?", "answer": "It is 12345678."}
    ]});
    let mut c = entered(&h, config).await;
    assert_eq!(
        answered(&c.say("wifi密码").await).as_deref(),
        Some("wifi-zh")
    );
    assert_eq!(
        answered(&c.say("wifi password?").await).as_deref(),
        Some("wifi-en")
    );
}

#[tokio::test]
async fn answers_a_question_that_mentions_an_agent_and_transfers_a_request() {
    let h = Harness::new();
    let mut c = entered(&h, travel(json!({}))).await;
    let step = c.say("人工客服的电话是多少？").await;
    assert_eq!(step.exit(), None);
    assert_eq!(answered(&step).as_deref(), Some("contact"));
    let step = c.say("what is the phone number for a human agent").await;
    assert_eq!(step.exit(), None);
    assert_eq!(answered(&step).as_deref(), Some("contact"));
    for request in [
        "我要人工客服",
        "我的行李丢了，转人工",
        "Can I talk to a human?",
    ] {
        let mut c = entered(&h, travel(json!({}))).await;
        let step = c.say(request).await;
        assert_eq!(step.exit(), Some("transfer"), "{request}");
        assert_eq!(
            c.variable("text_bot_transfer_reason"),
            Some(json!("keyword"))
        );
    }
}

/// The demo flow's bot (`host/src/demo/flow.json`) keeps its configuration valid and
/// answers in both languages.
#[tokio::test]
async fn the_demo_flow_s_bot_still_answers() {
    let flow: Value = serde_json::from_str(include_str!("../../host/src/demo/flow.json")).unwrap();
    let node = flow["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["module"] == "text-bot")
        .unwrap();
    let h = Harness::new();
    let mut c = entered(&h, node["config"].clone()).await;
    assert_eq!(
        answered(&c.say("怎么退款？").await).as_deref(),
        Some("refund")
    );
    assert_eq!(
        answered(&c.say("how do I get a refund").await).as_deref(),
        Some("refund")
    );
    assert_eq!(c.say("转人工").await.exit(), Some("transfer"));
}

#[tokio::test]
async fn transfers_after_consecutive_misses_and_an_answer_resets_the_count() {
    let h = Harness::new();
    let mut c = entered(&h, config(json!({"max_misses": 2}))).await;
    assert!(c.say("给我讲个笑话").await.exit().is_none());
    // An answer between two misses starts the count again.
    assert!(answered(&c.say("发票怎么开").await).is_some());
    assert!(c.say("你喜欢猫吗").await.exit().is_none());
    let step = c.say("sing me a song").await;
    assert_eq!(step.exit(), Some("transfer"));
    assert_eq!(
        c.variable("text_bot_transfer_reason"),
        Some(json!("misses"))
    );
    assert_eq!(
        c.variable("text_bot_last_message"),
        Some(json!("sing me a song"))
    );

    // The default is three; 0 never transfers.
    let mut c = entered(&h, knowledge_base()).await;
    assert!(c.say("北京有什么好吃的").await.exit().is_none());
    assert!(c.say("怎么做红烧肉").await.exit().is_none());
    assert_eq!(c.say("1加1等于几").await.exit(), Some("transfer"));
    let mut c = entered(&h, config(json!({"max_misses": 0}))).await;
    for _ in 0..5 {
        assert!(c.say("tell me a joke").await.exit().is_none());
    }
}

#[tokio::test]
async fn leaves_by_timeout_when_idle_and_by_done_on_goodbye() {
    let h = Harness::new();
    let mut c = entered(
        &h,
        config(json!({"idle_timeout_secs": 60, "timeout_message": "长时间未收到消息，会话结束"})),
    )
    .await;
    let step = c.say("运费怎么算").await;
    assert_eq!(step.wait_ms(), Some(60_000));
    let step = c.time_out().await;
    assert_eq!(step.exit(), Some("timeout"));
    assert_eq!(step.texts(), ["长时间未收到消息，会话结束"]);

    let mut c = entered(&h, config(json!({"end_message": "感谢咨询，再见！"}))).await;
    let step = c.say("没有了，").await;
    assert_eq!(step.exit(), Some("done"));
    assert_eq!(step.texts(), ["感谢咨询，再见！"]);
    let mut c = entered(&h, knowledge_base()).await;
    assert_eq!(c.say("Bye!").await.exit(), Some("done"));
}

#[tokio::test]
async fn refuses_bad_configuration_precisely() {
    let h = Harness::new();
    let exits = h.validate("text-bot", &knowledge_base()).await.unwrap();
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["transfer", "done", "timeout"]);
    assert!(
        h.validate_node("text-bot", &knowledge_base())
            .await
            .unwrap()
            .waits
    );

    let problems = h
        .validate(
            "text-bot",
            &json!({
                "faqs": [
                    {"id": "a", "question": "如何退款", "answer": "ok"},
                    {"id": "b", "question": "发票", "answer": "ok"},
                    {"id": "c", "question": "运费", "answer": "ok"},
                    {"id": "d", "question": "密码", "answer": ""},
                    {"id": "a", "question": "地址", "answer": "ok"}
                ],
                "hot_questions": ["b", "zzz"],
                "max_misses": 99
            }),
        )
        .await
        .unwrap_err();
    let found: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.path.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("/faqs/3/answer", "must not be empty"),
            ("/faqs/4/id", "duplicate FAQ id \"a\""),
            ("/hot_questions/1", "no FAQ has the id \"zzz\""),
            ("/max_misses", "must be at most 20"),
        ]
    );

    // What serde refuses inside the knowledge base is named by its pointer too.
    let problems = h
        .validate(
            "text-bot",
            &json!({"faqs": [{"id": "a", "question": "q", "answer": "x", "anwser": "y"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(problems[0].path, "/faqs/0/anwser");
    let problems = h
        .validate("text-bot", &json!({"faqs": [], "colour": 1}))
        .await
        .unwrap_err();
    assert_eq!(problems[0].path, "/colour");
    let problems = h
        .validate("text-bot", &json!({"faqs": []}))
        .await
        .unwrap_err();
    assert_eq!(problems[0].path, "/faqs");
    let too_many: Vec<Value> = (0..2001)
        .map(|i| json!({"id": format!("f{i}"), "question": format!("问题{i}"), "answer": "a"}))
        .collect();
    let problems = h
        .validate("text-bot", &json!({"faqs": too_many}))
        .await
        .unwrap_err();
    assert_eq!(problems[0].path, "/faqs");
    assert_eq!(problems[0].message, "has 2001 FAQs; at most 2000");
}
