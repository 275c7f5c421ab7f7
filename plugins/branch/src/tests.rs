//! Native unit tests of matching and validation (no host functions are called).

use kefu_flow_sdk::{Value, json};

use super::*;
use crate::config::Op;
use crate::matching::{compile, contains_word, loosely_equal, normalize, variable_holds};

fn config(value: Value) -> Config {
    serde_json::from_value(value).expect("configuration deserializes")
}

fn problems(value: Value) -> Vec<(String, String)> {
    let err = config::validate(&config(value)).expect_err("configuration is refused");
    err.problems()
        .iter()
        .map(|p| (p.path.clone(), p.message.clone()))
        .collect()
}

fn menu_config() -> Value {
    json!({
        "menu": {"title": "请选择", "choices": [
            {"id": "refund", "label": "退款", "branch": "refund"},
            {"id": "human", "label": "人工客服", "branch": "human"}
        ]},
        "branches": [
            {"name": "vip-refund", "conditions": [
                {"type": "choice", "choice": "refund"},
                {"type": "variable", "name": "vip", "op": "equals", "value": true}
            ]},
            {"name": "refund", "match": "any", "conditions": [
                {"type": "keyword_any", "keywords": ["退款", "refund"]},
                {"type": "regex", "pattern": "^r\\d{3}$"}
            ]},
            {"name": "human"}
        ]
    })
}

/// The branch a reply leads to, with the variables given.
fn branch_for(config: &Config, reply: &str, variables: &Value) -> Option<String> {
    let reply = Reply::new(reply);
    let picked = config
        .menu
        .as_ref()
        .and_then(|menu| matching::picked_choice(menu, &reply));
    let lookup = |name: &str| variables.get(name).cloned();
    let facts = Facts {
        reply: Some(&reply),
        picked,
        variable: &lookup,
    };
    matching::choose(config, &facts)
        .expect("patterns compile")
        .map(|b| b.name.clone())
}

#[test]
fn first_matching_branch_wins() {
    let config = config(menu_config());
    let none = json!({});
    let vip = json!({"vip": true});
    assert_eq!(branch_for(&config, "1", &none).as_deref(), Some("refund"));
    assert_eq!(
        branch_for(&config, "１", &vip).as_deref(),
        Some("vip-refund")
    );
    assert_eq!(
        branch_for(&config, "REFUND", &vip).as_deref(),
        Some("vip-refund")
    );
    assert_eq!(
        branch_for(&config, "我要退款！", &vip).as_deref(),
        Some("refund")
    );
    assert_eq!(
        branch_for(&config, "R123", &none).as_deref(),
        Some("refund")
    );
    assert_eq!(branch_for(&config, "2", &none).as_deref(), Some("human"));
    assert_eq!(
        branch_for(&config, "2. 人工客服", &none).as_deref(),
        Some("human")
    );
    assert_eq!(
        branch_for(&config, "人工 客服", &none).as_deref(),
        Some("human")
    );
    assert_eq!(branch_for(&config, "3", &none), None);
    assert_eq!(branch_for(&config, "", &none), None);
}

#[test]
fn keywords_respect_latin_word_boundaries() {
    assert!(contains_word(&normalize("Hi there"), "hi"));
    assert!(!contains_word(&normalize("this"), "hi"));
    assert!(!contains_word(&normalize("10"), "1"));
    assert!(contains_word(&normalize("订单号1的退款"), "退款"));
    assert!(contains_word(&normalize("我要ＶＩＰ服务"), "vip"));
}

#[test]
fn keyword_all_needs_every_keyword() {
    let config = config(json!({"branches": [
        {"name": "late-order", "conditions": [{"type": "keyword_all", "keywords": ["订单", "没到"]}]}
    ]}));
    assert_eq!(
        branch_for(&config, "我的订单还没到", &json!({})).as_deref(),
        Some("late-order")
    );
    assert_eq!(branch_for(&config, "我的订单", &json!({})), None);
}

#[test]
fn exact_ignores_width_case_punctuation_and_spaces() {
    let config = config(json!({"branches": [
        {"name": "yes", "conditions": [{"type": "exact", "values": ["OK", "好的"]}]}
    ]}));
    for reply in ["ok", "Ｏｋ！", " o k ", "好的。"] {
        assert_eq!(
            branch_for(&config, reply, &json!({})).as_deref(),
            Some("yes"),
            "{reply}"
        );
    }
    assert_eq!(branch_for(&config, "ok then", &json!({})), None);
}

#[test]
fn variables_compare_loosely() {
    assert!(loosely_equal(&json!("VIP"), &json!("vip")));
    assert!(loosely_equal(&json!("３"), &json!(3)));
    assert!(loosely_equal(&json!(3.0), &json!(3)));
    assert!(loosely_equal(&json!("true"), &json!(true)));
    assert!(!loosely_equal(&json!("3"), &json!(true)));

    let gold = json!("gold");
    assert!(variable_holds(Some(&gold), Op::Exists, None));
    assert!(!variable_holds(Some(&Value::Null), Op::Exists, None));
    assert!(variable_holds(None, Op::NotExists, None));
    assert!(variable_holds(None, Op::NotEquals, Some(&json!("gold"))));
    assert!(!variable_holds(
        Some(&gold),
        Op::NotEquals,
        Some(&json!("GOLD"))
    ));
    assert!(variable_holds(
        Some(&json!("１８")),
        Op::Ge,
        Some(&json!(18))
    ));
    assert!(!variable_holds(
        Some(&json!(17.5)),
        Op::Ge,
        Some(&json!(18))
    ));
    assert!(variable_holds(Some(&json!(17.5)), Op::Lt, Some(&json!(18))));
    assert!(variable_holds(Some(&json!(18)), Op::Le, Some(&json!(18))));
    assert!(variable_holds(Some(&json!(19)), Op::Gt, Some(&json!(18))));
    assert!(!variable_holds(Some(&gold), Op::Gt, Some(&json!(18))));
    assert!(!variable_holds(None, Op::Lt, Some(&json!(18))));
    let list = json!(["silver", "gold"]);
    assert!(variable_holds(Some(&gold), Op::In, Some(&list)));
    assert!(!variable_holds(Some(&gold), Op::NotIn, Some(&list)));
    assert!(variable_holds(None, Op::NotIn, Some(&list)));
}

#[test]
fn a_valid_configuration_has_its_branches_as_exits() {
    let config = config(menu_config());
    assert!(config::validate(&config).is_ok());
    let exits: Vec<String> = BranchModule::exits(&config)
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        exits,
        ["vip-refund", "refund", "human", "no-match", "timeout"]
    );
}

#[test]
fn a_node_that_does_not_wait_has_no_timeout_exit() {
    let config = config(json!({"wait_for_reply": false, "branches": [
        {"name": "vip", "conditions": [{"type": "variable", "name": "vip", "op": "exists"}]}
    ]}));
    assert!(config::validate(&config).is_ok());
    let exits: Vec<String> = BranchModule::exits(&config)
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(exits, ["vip", "no-match"]);
}

#[test]
fn reports_every_problem_with_its_pointer() {
    let found = problems(json!({
        "wait_for_reply": false,
        "menu": {"title": "", "choices": [
            {"id": "a", "label": "A", "branch": "nowhere"},
            {"id": "a", "label": "ａ", "branch": "ok"},
            {"id": "1", "label": "C", "branch": "ok"}
        ]},
        "branches": [
            {"name": "ok", "conditions": [{"type": "regex", "pattern": "(abc"}]},
            {"name": "ok", "conditions": [{"type": "variable", "name": "n", "op": "gt", "value": "x"}]},
            {"name": "no-match"},
            {"name": "Bad_Name", "conditions": [{"type": "choice", "choice": "zz"}]}
        ],
        "timeout_secs": 0,
        "store_as": "a b"
    }));
    let has = |path: &str, part: &str| {
        assert!(
            found.iter().any(|(p, m)| p == path && m.contains(part)),
            "no problem at {path} containing {part:?} in {found:#?}"
        );
    };
    has("/branches/0/conditions/0", "needs `wait_for_reply: true`");
    has(
        "/branches/0/conditions/0/pattern",
        "invalid regex: unclosed group (at character 1)",
    );
    has("/branches/1/name", "already used by /branches/0");
    has(
        "/branches/1/conditions/0/value",
        "`gt` compares to a number",
    );
    has("/branches/2/name", "taken by a fixed exit");
    has("/branches/2/conditions", "can never be taken");
    has("/branches/3/name", "lower-case letters");
    has(
        "/branches/3/conditions/0/choice",
        "no menu choice has the id `zz`",
    );
    has("/wait_for_reply", "a menu needs");
    has("/menu/title", "must not be empty");
    has("/menu/choices/0/branch", "no branch is named `nowhere`");
    has("/menu/choices/1/id", "already used by /menu/choices/0");
    has("/menu/choices/1/label", "same as /menu/choices/0/label");
    has("/menu/choices/2/id", "number of choice 1");
    has("/timeout_secs", "between 1 and 86400");
    has("/store_as", "variable name `a b`");
}

#[test]
fn checks_operands_and_lists() {
    let found = problems(json!({"branches": [{"name": "x", "conditions": [
        {"type": "variable", "name": "v", "op": "exists", "value": 1},
        {"type": "variable", "name": "v", "op": "equals"},
        {"type": "variable", "name": "v", "op": "in", "value": [1, {"a": 1}]},
        {"type": "variable", "name": "v", "op": "not_in", "value": []},
        {"type": "keyword_any", "keywords": ["ok", "！？"]},
        {"type": "exact", "values": []}
    ]}]}));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/branches/0/conditions/0/value",
            "/branches/0/conditions/1/value",
            "/branches/0/conditions/2/value/1",
            "/branches/0/conditions/3/value",
            "/branches/0/conditions/4/keywords/1",
            "/branches/0/conditions/5/values",
        ]
    );
}

#[test]
fn limits_counts() {
    let branches: Vec<Value> = (0..51)
        .map(|i| json!({"name": format!("b{i}"), "conditions": [{"type": "exact", "values": ["x"]}]}))
        .collect();
    let found = problems(json!({ "branches": branches }));
    assert_eq!(
        found,
        [(
            "/branches".into(),
            "51 branches; at most 50 are allowed".into()
        )]
    );

    let conditions: Vec<Value> = (0..21)
        .map(|_| json!({"type": "exact", "values": ["x"]}))
        .collect();
    let found = problems(json!({"branches": [{"name": "b", "conditions": conditions}]}));
    assert_eq!(found[0].0, "/branches/0/conditions");
}

#[test]
fn refuses_unknown_condition_fields_and_types() {
    let bad_field = serde_json::from_value::<Config>(json!({"branches": [
        {"name": "b", "conditions": [{"type": "exact", "values": ["x"], "extra": 1}]}
    ]}));
    assert!(bad_field.is_err());
    let bad_type = serde_json::from_value::<Config>(json!({"branches": [
        {"name": "b", "conditions": [{"type": "sometimes"}]}
    ]}));
    assert!(bad_type.is_err());
}

#[test]
fn regex_limits_and_messages() {
    assert!(compile("^\\d{6}$", false).is_ok());
    assert!(compile("\\p{Han}+", false).is_ok());
    let err = compile("a{1000}{1000}", false).expect_err("too big");
    assert!(err.contains("too large"), "{err}");
    let err = compile("[z-a]", false).expect_err("bad range");
    assert!(err.starts_with("invalid character class range"), "{err}");
    assert!(err.ends_with("(at character 2)"), "{err}");
}

#[test]
fn describes_itself() {
    let info = BranchModule::describe();
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        ("branch", "1.0.0")
    );
    let schema: Value = serde_json::from_str(&info.config_schema).expect("schema is JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["properties"]["branches"]["maxItems"], 50);
}
