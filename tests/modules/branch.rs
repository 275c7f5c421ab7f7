//! `branch`: menus answered by number, id or label; conditions on the reply and on
//! variables; first match wins; re-prompts, `no-match`, `timeout`; bad configuration.

use kefu_tests::modules::{Conversation, Harness};
use serde_json::{Value, json};

/// A menu of two choices in front of three branches, the first of which combines a
/// choice with a variable.
fn menu_config() -> Value {
    json!({
        "prompt": "您好 ${SystemClientNickName}",
        "menu": {
            "title": "请选择业务：",
            "choices": [
                {"id": "refund", "label": "退款", "branch": "refund"},
                {"id": "human", "label": "人工客服", "branch": "human"}
            ]
        },
        "branches": [
            {"name": "vip-refund", "conditions": [
                {"type": "choice", "choice": "refund"},
                {"type": "variable", "name": "vip", "op": "equals", "value": true}
            ]},
            {"name": "refund", "conditions": [{"type": "keyword_any", "keywords": ["退款", "refund"]}]},
            {"name": "human", "description": "Wants an agent"}
        ],
        "timeout_secs": 60,
        "max_reprompts": 2,
        "reprompt_message": "${SystemClientNickName}，请回复序号。",
        "store_as": "business"
    })
}

/// Enters a node with `config` and sends `replies`; the exit the last one led to.
async fn exit_after(h: &Harness, config: &Value, replies: &[&str]) -> Option<String> {
    let mut c = h.conversation("branch", config.clone()).await;
    c.enter().await;
    let mut exit = None;
    for reply in replies {
        exit = c.say(reply).await.exit().map(str::to_owned);
    }
    exit
}

/// A node that does not wait, with one branch per condition on `var`; the branch
/// taken with `var` set to `value` (or unset when `None`).
async fn branch_on_variable(h: &Harness, condition: Value, value: Option<Value>) -> String {
    let mut condition = condition;
    condition["type"] = json!("variable");
    condition["name"] = json!("level");
    let config = json!({
        "wait_for_reply": false,
        "branches": [{"name": "yes", "conditions": [condition]}]
    });
    let mut c: Conversation<'_> = h.conversation("branch", config).await;
    if let Some(value) = value {
        c.set_variable("level", value);
    }
    let step = c.enter().await;
    assert!(step.texts().is_empty());
    step.exit()
        .unwrap_or_else(|| panic!("decides on entry"))
        .to_owned()
}

#[tokio::test]
async fn presents_the_menu_and_takes_the_chosen_branch() {
    let h = Harness::new();
    let mut c = h.conversation("branch", menu_config()).await;
    let entry = c.enter().await;
    assert_eq!(entry.texts(), ["您好 小明"]);
    let (title, choices) = entry.menu().expect("menu sent");
    assert_eq!(title, "请选择业务：");
    assert_eq!(
        choices,
        [
            ("refund".to_owned(), "退款".to_owned()),
            ("human".to_owned(), "人工客服".to_owned())
        ]
    );
    assert_eq!(entry.wait_ms(), Some(60_000));
    assert_eq!(entry.exit(), None);

    let step = c.say("２").await;
    assert_eq!(step.exit(), Some("human"));
    assert_eq!(
        step.set_variables(),
        [("business".to_owned(), json!("human"))]
    );
    assert_eq!(c.variable("business"), Some(json!("human")));
}

#[tokio::test]
async fn a_choice_is_answered_by_number_id_or_label_in_any_width_and_case() {
    let h = Harness::new();
    let config = menu_config();
    for reply in [
        "1",
        "１",
        "1.",
        "REFUND",
        "ｒｅｆｕｎｄ",
        "退款",
        "退款！",
        "1 退款",
    ] {
        assert_eq!(
            exit_after(&h, &config, &[reply]).await.as_deref(),
            Some("refund"),
            "{reply}"
        );
    }
    for reply in ["2", "Human", "人工客服", "人工 客服。"] {
        assert_eq!(
            exit_after(&h, &config, &[reply]).await.as_deref(),
            Some("human"),
            "{reply}"
        );
    }
}

#[tokio::test]
async fn the_first_matching_branch_wins() {
    let h = Harness::new();
    let mut c = h.conversation("branch", menu_config()).await;
    c.set_variable("vip", json!(true));
    c.enter().await;
    assert_eq!(c.say("1").await.exit(), Some("vip-refund"));

    // Typed rather than chosen, "退款" matches the keyword of `refund` only: the
    // choice condition of `vip-refund` needs the menu choice.
    let mut c = h.conversation("branch", menu_config()).await;
    c.set_variable("vip", json!("TRUE"));
    c.enter().await;
    assert_eq!(c.say("我想退款").await.exit(), Some("refund"));
}

#[tokio::test]
async fn matches_keywords_exact_values_and_patterns() {
    let h = Harness::new();
    let config = json!({
        "prompt": "请问有什么可以帮您？",
        "branches": [
            {"name": "late", "conditions": [{"type": "keyword_all", "keywords": ["订单", "没到"]}]},
            {"name": "order", "match": "any", "conditions": [
                {"type": "regex", "pattern": "^[A-Z]\\d{6}$", "ignore_case": false},
                {"type": "keyword_any", "keywords": ["订单", "order"]}
            ]},
            {"name": "thanks", "conditions": [{"type": "exact", "values": ["谢谢", "Thank you"]}]},
            {"name": "greeting", "conditions": [{"type": "keyword_any", "keywords": ["hi", "您好"]}]}
        ]
    });
    let cases = [
        ("我的订单还没到", Some("late")),
        ("Ａ１２３４５６", Some("order")),
        ("a123456", None),
        ("where is my ORDER?", Some("order")),
        ("谢谢！", Some("thanks")),
        ("ＴＨＡＮＫ  ＹＯＵ", Some("thanks")),
        ("谢谢你", None),
        ("Hi!", Some("greeting")),
        ("this", None),
        ("您好，在吗", Some("greeting")),
    ];
    for (reply, expected) in cases {
        let mut c = h.conversation("branch", config.clone()).await;
        let entry = c.enter().await;
        assert_eq!(entry.texts(), ["请问有什么可以帮您？"]);
        assert!(entry.menu().is_none());
        let step = c.say(reply).await;
        match expected {
            Some(branch) => assert_eq!(step.exit(), Some(branch), "{reply}"),
            None => {
                assert_eq!(step.exit(), None, "{reply}");
                assert!(step.wait_ms().is_some(), "{reply}: asks again");
            }
        }
    }
}

#[tokio::test]
async fn re_prompts_up_to_the_limit_then_leaves_by_no_match() {
    let h = Harness::new();
    let mut c = h.conversation("branch", menu_config()).await;
    c.set_variable("business", json!("stale"));
    c.enter().await;
    for _ in 0..2 {
        let step = c.say("我不知道").await;
        assert_eq!(step.exit(), None);
        assert_eq!(step.texts(), ["小明，请回复序号。"]);
        assert_eq!(step.menu().expect("menu again").0, "请选择业务：");
        assert_eq!(step.wait_ms(), Some(60_000));
    }
    let step = c.say("3").await;
    assert_eq!(step.exit(), Some("no-match"));
    assert!(step.messages().is_empty());
    assert_eq!(
        c.variable("business"),
        None,
        "a stale branch name is removed"
    );
}

#[tokio::test]
async fn without_a_menu_the_prompt_is_asked_again_after_the_default_re_prompt() {
    let h = Harness::new();
    let config = json!({
        "prompt": "需要人工吗？",
        "max_reprompts": 1,
        "branches": [{"name": "yes", "conditions": [{"type": "exact", "values": ["是", "要"]}]}]
    });
    let mut c = h.conversation("branch", config).await;
    c.enter().await;
    let step = c.say("嗯？").await;
    assert_eq!(
        step.texts(),
        ["抱歉，没有理解您的回复，请重新选择。", "需要人工吗？"]
    );
    assert_eq!(step.wait_ms(), Some(300_000), "the default timeout");
    assert_eq!(c.say("要").await.exit(), Some("yes"));

    // No re-prompts at all: the first reply that matches nothing leaves.
    let config = json!({
        "max_reprompts": 0,
        "reprompt_message": "",
        "branches": [{"name": "yes", "conditions": [{"type": "exact", "values": ["是"]}]}]
    });
    assert_eq!(
        exit_after(&h, &config, &["否"]).await.as_deref(),
        Some("no-match")
    );
}

#[tokio::test]
async fn a_silent_user_leads_to_timeout() {
    let h = Harness::new();
    let mut c = h.conversation("branch", menu_config()).await;
    c.set_variable("business", json!("stale"));
    c.enter().await;
    c.say("嗯").await;
    let step = c.time_out().await;
    assert_eq!(step.exit(), Some("timeout"));
    assert!(step.messages().is_empty());
    assert_eq!(c.variable("business"), None);
}

#[tokio::test]
async fn decides_on_variables_at_once_when_not_waiting() {
    let h = Harness::new();
    let cases = [
        (
            json!({"op": "equals", "value": "gold"}),
            Some(json!("ＧＯＬＤ")),
            "yes",
        ),
        (json!({"op": "equals", "value": 3}), Some(json!("3")), "yes"),
        (json!({"op": "equals", "value": "gold"}), None, "no-match"),
        (
            json!({"op": "not_equals", "value": "gold"}),
            Some(json!("silver")),
            "yes",
        ),
        (json!({"op": "not_equals", "value": "gold"}), None, "yes"),
        (
            json!({"op": "not_equals", "value": "gold"}),
            Some(json!("gold")),
            "no-match",
        ),
        (json!({"op": "exists"}), Some(json!(0)), "yes"),
        (json!({"op": "exists"}), Some(Value::Null), "no-match"),
        (json!({"op": "not_exists"}), None, "yes"),
        (json!({"op": "not_exists"}), Some(json!("")), "no-match"),
        (json!({"op": "lt", "value": 3}), Some(json!(2)), "yes"),
        (json!({"op": "lt", "value": 3}), Some(json!(3)), "no-match"),
        (json!({"op": "le", "value": 3}), Some(json!("３")), "yes"),
        (json!({"op": "gt", "value": 3}), Some(json!(3.5)), "yes"),
        (
            json!({"op": "gt", "value": 3}),
            Some(json!("many")),
            "no-match",
        ),
        (json!({"op": "ge", "value": 3}), Some(json!(3)), "yes"),
        (json!({"op": "ge", "value": 3}), None, "no-match"),
        (
            json!({"op": "in", "value": ["gold", "silver"]}),
            Some(json!("Silver")),
            "yes",
        ),
        (
            json!({"op": "in", "value": ["gold", "silver"]}),
            Some(json!("bronze")),
            "no-match",
        ),
        (
            json!({"op": "not_in", "value": ["gold", 1]}),
            Some(json!("bronze")),
            "yes",
        ),
        (
            json!({"op": "not_in", "value": ["gold", 1]}),
            Some(json!(1)),
            "no-match",
        ),
    ];
    for (condition, value, expected) in cases {
        let label = format!("{condition} with {value:?}");
        assert_eq!(
            branch_on_variable(&h, condition, value).await,
            expected,
            "{label}"
        );
    }
}

#[tokio::test]
async fn combines_variable_conditions_with_all_or_any() {
    let h = Harness::new();
    let config = json!({
        "wait_for_reply": false,
        "store_as": "segment",
        "branches": [
            {"name": "vip-big", "match": "all", "conditions": [
                {"type": "variable", "name": "vip", "op": "equals", "value": true},
                {"type": "variable", "name": "amount", "op": "ge", "value": 1000}
            ]},
            {"name": "attention", "match": "any", "conditions": [
                {"type": "variable", "name": "vip", "op": "equals", "value": true},
                {"type": "variable", "name": "complaints", "op": "gt", "value": 2}
            ]}
        ]
    });
    let exits = h.validate("branch", &config).await.expect("valid");
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["vip-big", "attention", "no-match"]);

    let run = |vars: Vec<(&'static str, Value)>| {
        let config = config.clone();
        let h = &h;
        async move {
            let mut c = h.conversation("branch", config).await;
            for (name, value) in vars {
                c.set_variable(name, value);
            }
            let step = c.enter().await;
            (step.exit().map(str::to_owned), c.variable("segment"))
        }
    };
    assert_eq!(
        run(vec![("vip", json!(true)), ("amount", json!(1500))]).await,
        (Some("vip-big".into()), Some(json!("vip-big")))
    );
    assert_eq!(
        run(vec![("vip", json!(true)), ("amount", json!(10))]).await,
        (Some("attention".into()), Some(json!("attention")))
    );
    assert_eq!(
        run(vec![("complaints", json!(5))]).await,
        (Some("attention".into()), Some(json!("attention")))
    );
    assert_eq!(run(vec![]).await, (Some("no-match".into()), None));
}

#[tokio::test]
async fn validation_answers_the_exits_of_the_configuration() {
    let h = Harness::new();
    let exits = h.validate("branch", &menu_config()).await.expect("valid");
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["vip-refund", "refund", "human", "no-match", "timeout"]
    );
    assert_eq!(exits[2].description, "Wants an agent");
}

/// The problems of a configuration `branch` refuses, as `(path, message)`.
async fn problems(h: &Harness, config: Value) -> Vec<(String, String)> {
    let problems = match h.validate("branch", &config).await {
        Ok(exits) => panic!("accepted, with exits {exits:?}"),
        Err(problems) => problems,
    };
    problems.into_iter().map(|p| (p.path, p.message)).collect()
}

#[tokio::test]
async fn refuses_bad_configuration_precisely() {
    let h = Harness::new();
    let found = problems(
        &h,
        json!({
            "menu": {"title": "选择", "choices": [
                {"id": "a", "label": "甲", "branch": "alpha"},
                {"id": "b", "label": "乙", "branch": "gamma"},
                {"id": "1", "label": "丙", "branch": "alpha"}
            ]},
            "branches": [
                {"name": "alpha", "conditions": [{"type": "regex", "pattern": "[0-9"}]},
                {"name": "alpha", "conditions": [{"type": "exact", "values": ["x"]}]},
                {"name": "timeout", "conditions": [{"type": "choice", "choice": "z"}]},
                {"name": "Beta", "conditions": [
                    {"type": "variable", "name": "n", "op": "lt", "value": "ten"}
                ]},
                {"name": "lonely"}
            ],
            "max_reprompts": 11
        }),
    )
    .await;
    let expected = [
        (
            "/branches/0/conditions/0/pattern",
            "invalid regex: unclosed character class (at character 1)",
        ),
        (
            "/branches/1/name",
            "branch name `alpha` is already used by /branches/0",
        ),
        (
            "/branches/2/name",
            "branch name `timeout` is taken by a fixed exit of the module",
        ),
        (
            "/branches/2/conditions/0/choice",
            "no menu choice has the id `z`",
        ),
        (
            "/branches/3/name",
            "branch name `Beta` must be 1 to 64 lower-case letters, digits or dashes, not starting with a dash",
        ),
        (
            "/branches/3/conditions/0/value",
            "`lt` compares to a number",
        ),
        (
            "/branches/4/conditions",
            "the branch can never be taken: give it conditions or bind a menu choice to it",
        ),
        ("/menu/choices/1/branch", "no branch is named `gamma`"),
        (
            "/menu/choices/2/id",
            "id `1` would be taken for the number of choice 1",
        ),
        ("/max_reprompts", "at most 10"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn refuses_reply_conditions_and_menus_on_a_node_that_does_not_wait() {
    let h = Harness::new();
    let found = problems(
        &h,
        json!({
            "wait_for_reply": false,
            "menu": {"title": "选择", "choices": [{"id": "a", "label": "甲", "branch": "a"}]},
            "branches": [
                {"name": "a", "conditions": [{"type": "keyword_any", "keywords": ["甲"]}]}
            ]
        }),
    )
    .await;
    assert_eq!(
        found,
        [
            (
                "/branches/0/conditions/0".to_owned(),
                "a condition on the user's reply needs `wait_for_reply: true`; without waiting only variable conditions can match".to_owned()
            ),
            ("/wait_for_reply".to_owned(), "a menu needs `wait_for_reply: true`".to_owned()),
        ]
    );
}

#[tokio::test]
async fn refuses_what_serde_refuses_with_its_pointer() {
    let h = Harness::new();
    let found = problems(&h, json!({"branches": [{"name": "a", "colour": "red"}]})).await;
    assert_eq!(found[0].0, "/branches/0/colour");
    assert!(found[0].1.contains("unknown field `colour`"), "{found:?}");

    let found = problems(&h, json!({"branches": [], "timeout_secs": "soon"})).await;
    assert_eq!(found[0].0, "/timeout_secs");

    let found = problems(
        &h,
        json!({"branches": [{"name": "a", "conditions": [{"type": "sometimes"}]}]}),
    )
    .await;
    assert_eq!(found[0].0, "/branches/0/conditions/0/type");
    assert!(
        found[0].1.contains("unknown variant `sometimes`"),
        "{found:?}"
    );

    let found = problems(
        &h,
        json!({"branches": [{"name": "a", "conditions": [{"type": "exact", "values": ["x"], "extra": 1}]}]}),
    )
    .await;
    // Inside a condition serde names the condition, and the field in its message.
    assert_eq!(found[0].0, "/branches/0/conditions/0");
    assert!(found[0].1.contains("unknown field `extra`"), "{found:?}");

    let found = problems(&h, json!({"branches": []})).await;
    assert_eq!(
        found,
        [(
            "/branches".to_owned(),
            "at least one branch is needed".to_owned()
        )]
    );

    let many: Vec<Value> = (0..51)
        .map(|i| json!({"name": format!("b{i}"), "conditions": [{"type": "exact", "values": ["x"]}]}))
        .collect();
    let found = problems(&h, json!({ "branches": many })).await;
    assert_eq!(
        found,
        [(
            "/branches".to_owned(),
            "51 branches; at most 50 are allowed".to_owned()
        )]
    );
}
