//! `collect-input`: the prompt, every input type, normalised values stored in a
//! variable, retries with the problem named, `ok` / `failed` / `timeout`, bad
//! configuration.

use kefu_tests::modules::Harness;
use serde_json::{Value, json};

/// Enters a node asking for `expect` into `answer`, sends `reply`; the exit taken and
/// the variable afterwards.
async fn answer(h: &Harness, expect: Value, reply: &str) -> (Option<String>, Option<Value>) {
    let config = json!({"prompt": "请输入", "variable": "answer", "expect": expect});
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    let step = c.say(reply).await;
    (step.exit().map(str::to_owned), c.variable("answer"))
}

/// Like [`answer`], for a reply that must be accepted: the stored value.
async fn accepted(h: &Harness, expect: Value, reply: &str) -> Value {
    let (exit, value) = answer(h, expect, reply).await;
    assert_eq!(exit.as_deref(), Some("ok"), "{reply}");
    value.unwrap_or_else(|| panic!("{reply}: nothing stored"))
}

/// Like [`answer`], for a reply that must be refused.
async fn refused(h: &Harness, expect: Value, reply: &str) {
    let (exit, value) = answer(h, expect, reply).await;
    assert_eq!(exit, None, "{reply}: should be asked again");
    assert_eq!(value, None, "{reply}");
}

#[tokio::test]
async fn collects_a_phone_number_and_confirms_it() {
    let h = Harness::new();
    let config = json!({
        "prompt": "${SystemClientNickName}，请输入手机号：",
        "variable": "phone",
        "expect": {"type": "phone"},
        "confirmation": "已记录 ${value}（${phone}）",
        "timeout_secs": 120
    });
    let mut c = h.conversation("collect-input", config).await;
    let entry = c.enter().await;
    assert_eq!(entry.texts(), ["小明，请输入手机号："]);
    assert_eq!(entry.wait_ms(), Some(120_000));

    let step = c.say("+86 138-1234-5678").await;
    assert_eq!(step.exit(), Some("ok"));
    assert_eq!(
        step.set_variables(),
        [("phone".to_owned(), json!("13812345678"))]
    );
    assert_eq!(step.texts(), ["已记录 13812345678（13812345678）"]);
}

#[tokio::test]
async fn retries_naming_the_problem_then_accepts() {
    let h = Harness::new();
    let config = json!({
        "prompt": "您的年龄？",
        "variable": "age",
        "expect": {"type": "number", "integer": true, "min": 1, "max": 120},
        "max_attempts": 4,
        "retry_message": "${problem}，还可以输入 ${attempts_left} 次"
    });
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    let cases = [
        ("十八", "请输入数字，还可以输入 3 次"),
        ("18.5", "请输入整数，还可以输入 2 次"),
        ("200", "不能大于 120，还可以输入 1 次"),
    ];
    for (reply, retry) in cases {
        let step = c.say(reply).await;
        assert_eq!(step.exit(), None, "{reply}");
        assert_eq!(step.texts(), [retry]);
        assert_eq!(step.wait_ms(), Some(300_000));
    }
    let step = c.say("１８").await;
    assert_eq!(step.exit(), Some("ok"));
    assert_eq!(c.variable("age"), Some(json!(18)));
}

#[tokio::test]
async fn leaves_by_failed_when_the_attempts_are_exhausted() {
    let h = Harness::new();
    let config = json!({
        "prompt": "请输入邮箱",
        "variable": "email",
        "expect": {"type": "email"},
        "max_attempts": 2,
        "failure_message": "抱歉，${SystemClientNickName}，稍后再试。"
    });
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    let step = c.say("not an address").await;
    assert_eq!(step.texts(), ["请输入正确的邮箱地址，请重新输入。"]);
    let step = c.say("still@wrong").await;
    assert_eq!(step.exit(), Some("failed"));
    assert_eq!(step.texts(), ["抱歉，小明，稍后再试。"]);
    assert_eq!(c.variable("email"), None);
}

#[tokio::test]
async fn one_attempt_fails_at_once() {
    let h = Harness::new();
    let config =
        json!({"prompt": "?", "variable": "v", "expect": {"type": "email"}, "max_attempts": 1});
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    let step = c.say("x").await;
    assert_eq!(step.exit(), Some("failed"));
    assert!(step.messages().is_empty());
}

#[tokio::test]
async fn leaves_by_timeout_when_the_user_is_silent() {
    let h = Harness::new();
    let config = json!({"prompt": "请输入订单号", "variable": "order"});
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    c.say(" ").await;
    let step = c.time_out().await;
    assert_eq!(step.exit(), Some("timeout"));
    assert!(step.messages().is_empty());
    assert_eq!(c.variable("order"), None);
}

#[tokio::test]
async fn text_is_stored_trimmed_within_its_length() {
    let h = Harness::new();
    assert_eq!(
        accepted(&h, json!({"type": "text"}), "  我的地址在北京  ").await,
        json!("我的地址在北京")
    );
    let short = json!({"type": "text", "min_length": 5, "max_length": 10});
    refused(&h, short.clone(), "太短").await;
    refused(&h, short.clone(), "这一句话实在是太长太长了").await;
    assert_eq!(accepted(&h, short, "正好五个字").await, json!("正好五个字"));

    let config =
        json!({"prompt": "?", "variable": "v", "expect": {"type": "text", "min_length": 5}});
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    assert_eq!(
        c.say("短").await.texts(),
        ["请至少输入 5 个字，请重新输入。"]
    );
}

#[tokio::test]
async fn numbers_are_stored_as_json_numbers() {
    let h = Harness::new();
    let any = json!({"type": "number"});
    assert_eq!(accepted(&h, any.clone(), "42").await, json!(42));
    assert_eq!(accepted(&h, any.clone(), "４２．５").await, json!(42.5));
    assert_eq!(accepted(&h, any.clone(), "1,299.00").await, json!(1299));
    assert_eq!(accepted(&h, any.clone(), "－３").await, json!(-3));
    refused(&h, any.clone(), "1e3").await;
    refused(&h, any, "四十二").await;
    let bounded = json!({"type": "number", "min": 0.5, "max": 9.5});
    assert_eq!(accepted(&h, bounded.clone(), "0.5").await, json!(0.5));
    refused(&h, bounded, "0.4").await;
}

#[tokio::test]
async fn phones_chinese_and_international() {
    let h = Harness::new();
    let cn = json!({"type": "phone"});
    for reply in [
        "13812345678",
        "１３８ １２３４ ５６７８",
        "0086 138 1234 5678",
    ] {
        assert_eq!(
            accepted(&h, cn.clone(), reply).await,
            json!("13812345678"),
            "{reply}"
        );
    }
    for reply in ["12812345678", "1381234567", "+44 7911 123456", "电话"] {
        refused(&h, cn.clone(), reply).await;
    }
    let world = json!({"type": "phone", "international": true});
    assert_eq!(
        accepted(&h, world.clone(), "+44 7911 123456").await,
        json!("+447911123456")
    );
    assert_eq!(
        accepted(&h, world.clone(), "138 1234 5678").await,
        json!("+8613812345678")
    );
    refused(&h, world.clone(), "7911 123456").await;

    let config = json!({"prompt": "?", "variable": "v", "expect": world});
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    assert_eq!(
        c.say("123").await.texts(),
        ["请输入正确的电话号码（国际号码请以 + 开头），请重新输入。"]
    );
}

#[tokio::test]
async fn emails_keep_the_local_part_and_lower_the_domain() {
    let h = Harness::new();
    let email = json!({"type": "email"});
    assert_eq!(
        accepted(&h, email.clone(), " Li.Lei@Example.COM ").await,
        json!("Li.Lei@example.com")
    );
    assert_eq!(
        accepted(&h, email.clone(), "ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ").await,
        json!("li@example.cn")
    );
    for reply in ["li", "li@example", "li..lei@example.com", "li@example..com"] {
        refused(&h, email.clone(), reply).await;
    }
}

#[tokio::test]
async fn patterns_must_match_the_whole_reply() {
    let h = Harness::new();
    let order = json!({"type": "regex", "pattern": "[A-Z]\\d{6}", "hint": "订单号是一个大写字母加 6 位数字"});
    assert_eq!(
        accepted(&h, order.clone(), " Ａ１２３４５６ ").await,
        json!("A123456")
    );
    refused(&h, order.clone(), "A1234567").await;
    refused(&h, order.clone(), "a123456").await;
    let loose = json!({"type": "regex", "pattern": "[A-Z]\\d{6}", "ignore_case": true});
    assert_eq!(accepted(&h, loose, "a123456").await, json!("a123456"));

    let config =
        json!({"prompt": "?", "variable": "v", "expect": order, "retry_message": "${problem}。"});
    let mut c = h.conversation("collect-input", config).await;
    c.enter().await;
    assert_eq!(
        c.say("x").await.texts(),
        ["订单号是一个大写字母加 6 位数字。"]
    );
}

#[tokio::test]
async fn choices_by_option_or_number_optionally_as_a_menu() {
    let h = Harness::new();
    let options = json!({"type": "choice", "options": ["满意", "一般", "Not Good"]});
    assert_eq!(accepted(&h, options.clone(), "满意！").await, json!("满意"));
    assert_eq!(accepted(&h, options.clone(), "２").await, json!("一般"));
    assert_eq!(
        accepted(&h, options.clone(), "not good").await,
        json!("Not Good")
    );
    refused(&h, options.clone(), "4").await;
    refused(&h, options, "还行").await;

    let config = json!({
        "prompt": "您对服务满意吗？",
        "variable": "rating",
        "expect": {"type": "choice", "options": ["满意", "不满意"], "as_menu": true}
    });
    let mut c = h.conversation("collect-input", config).await;
    let entry = c.enter().await;
    assert!(entry.texts().is_empty());
    let (title, choices) = entry.menu().expect("a menu");
    assert_eq!(title, "您对服务满意吗？");
    assert_eq!(
        choices,
        [
            ("1".to_owned(), "满意".to_owned()),
            ("2".to_owned(), "不满意".to_owned())
        ]
    );
    let step = c.say("嗯").await;
    assert_eq!(
        step.texts(),
        ["请从以下选项中选择：满意 / 不满意，请重新输入。"]
    );
    assert_eq!(c.say("2").await.exit(), Some("ok"));
    assert_eq!(c.variable("rating"), Some(json!("不满意")));
}

#[tokio::test]
async fn skips_a_variable_already_set_when_asked_to() {
    let h = Harness::new();
    let config = json!({"prompt": "手机号？", "variable": "phone", "expect": {"type": "phone"}, "skip_if_set": true});
    let mut c = h.conversation("collect-input", config.clone()).await;
    c.set_variable("phone", json!("13812345678"));
    let step = c.enter().await;
    assert_eq!(step.exit(), Some("ok"));
    assert!(step.messages().is_empty());

    let mut c = h.conversation("collect-input", config).await;
    c.set_variable("phone", Value::Null);
    let step = c.enter().await;
    assert_eq!(step.texts(), ["手机号？"]);
}

/// The problems of a configuration `collect-input` refuses, as `(path, message)`.
async fn problems(h: &Harness, config: Value) -> Vec<(String, String)> {
    let problems = match h.validate("collect-input", &config).await {
        Ok(exits) => panic!("accepted, with exits {exits:?}"),
        Err(problems) => problems,
    };
    problems.into_iter().map(|p| (p.path, p.message)).collect()
}

#[tokio::test]
async fn validation_answers_the_fixed_exits() {
    let h = Harness::new();
    let exits = h
        .validate("collect-input", &json!({"prompt": "?", "variable": "v"}))
        .await
        .expect("valid");
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["ok", "failed", "timeout"]);
}

#[tokio::test]
async fn refuses_bad_configuration_precisely() {
    let h = Harness::new();
    let found = problems(
        &h,
        json!({
            "prompt": "",
            "variable": "订单 号",
            "max_attempts": 11,
            "timeout_secs": 0,
            "expect": {"type": "choice", "options": ["是", "否", "ＹＥＳ", "yes", "2", "……"]}
        }),
    )
    .await;
    let expected = [
        ("/prompt", "must not be empty"),
        (
            "/variable",
            "variable name `订单 号` must be 1 to 64 bytes of letters, digits, `_`, `-` or `.`",
        ),
        ("/max_attempts", "must be between 1 and 10"),
        ("/timeout_secs", "must be between 1 and 86400 seconds"),
        (
            "/expect/options/3",
            "`yes` is the same as /expect/options/2",
        ),
        (
            "/expect/options/4",
            "`2` would be taken for the number of option 2",
        ),
        (
            "/expect/options/5",
            "is empty once punctuation and spaces are ignored",
        ),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(found, expected);

    let found = problems(
        &h,
        json!({"prompt": "?", "variable": "v", "expect": {"type": "regex", "pattern": "(a|b"}}),
    )
    .await;
    assert_eq!(
        found,
        [(
            "/expect/pattern".to_owned(),
            "invalid regex: unclosed group (at character 1)".to_owned()
        )]
    );
    let found = problems(
        &h,
        json!({"prompt": "?", "variable": "v", "expect": {"type": "number", "min": 10, "max": 1}}),
    )
    .await;
    assert_eq!(
        found,
        [("/expect/min".to_owned(), "10 is more than max 1".to_owned())]
    );
}

#[tokio::test]
async fn refuses_what_serde_refuses_with_its_pointer() {
    let h = Harness::new();
    let found = problems(&h, json!({"prompt": "?"})).await;
    assert_eq!(found[0].0, "");
    assert!(found[0].1.contains("missing field `variable`"), "{found:?}");
    let found = problems(&h, json!({"prompt": "?", "variable": "v", "retries": 3})).await;
    assert_eq!(found[0].0, "/retries");
    let found = problems(
        &h,
        json!({"prompt": "?", "variable": "v", "expect": {"type": "date"}}),
    )
    .await;
    assert_eq!(found[0].0, "/expect/type");
    assert!(found[0].1.contains("unknown variant `date`"), "{found:?}");
}
