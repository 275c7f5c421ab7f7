//! Native unit tests of the checks and of validation (no host functions are called).

use kefu_flow_sdk::{Value, json};

use super::*;
use crate::check::{check, choose, email, parse_number, phone};

fn expect(value: Value) -> Expect {
    serde_json::from_value(value).expect("expect deserializes")
}

fn problems(value: Value) -> Vec<(String, String)> {
    let config: Config = serde_json::from_value(value).expect("configuration deserializes");
    let err = config::validate(&config).expect_err("configuration is refused");
    err.problems()
        .iter()
        .map(|p| (p.path.clone(), p.message.clone()))
        .collect()
}

#[test]
fn reads_numbers_as_users_type_them() {
    let n = |s: &str| parse_number(s).map(|n| n.to_string());
    assert_eq!(n("42").as_deref(), Some("42"));
    assert_eq!(n("４２").as_deref(), Some("42"));
    assert_eq!(n(" －１２．５０ ").as_deref(), Some("-12.5"));
    assert_eq!(n("+3.0").as_deref(), Some("3"));
    assert_eq!(n("1,234,567").as_deref(), Some("1234567"));
    assert_eq!(n(".5").as_deref(), Some("0.5"));
    assert_eq!(n("7。").as_deref(), Some("7"));
    for bad in ["", "abc", "1e5", "12,34", "1.2.3", "inf", "NaN", "-", "."] {
        assert_eq!(n(bad), None, "{bad}");
    }
}

#[test]
fn checks_number_bounds_and_integers() {
    let rule = expect(json!({"type": "number", "integer": true, "min": 1, "max": 10}));
    assert_eq!(check(&rule, "３"), Ok(json!(3)));
    assert_eq!(check(&rule, "2.5"), Err("请输入整数".to_owned()));
    assert_eq!(check(&rule, "0"), Err("不能小于 1".to_owned()));
    assert_eq!(check(&rule, "11"), Err("不能大于 10".to_owned()));
    assert_eq!(check(&rule, "十"), Err("请输入数字".to_owned()));
    let decimal = expect(json!({"type": "number", "max": 99.5}));
    assert_eq!(check(&decimal, "99.5"), Ok(json!(99.5)));
    assert_eq!(check(&decimal, "99.6"), Err("不能大于 99.5".to_owned()));
}

#[test]
fn reads_chinese_and_international_phone_numbers() {
    for ok in [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "0086-13812345678",
        "8613812345678",
        "１３８１２３４５６７８",
    ] {
        assert_eq!(phone(ok, false).as_deref(), Some("13812345678"), "{ok}");
        assert_eq!(phone(ok, true).as_deref(), Some("+8613812345678"), "{ok}");
    }
    for bad in [
        "12812345678",
        "1381234567",
        "138123456789",
        "+44 7911 123456",
        "abc",
        "",
        "+86 12812345678",
    ] {
        assert_eq!(phone(bad, false), None, "{bad}");
    }
    assert_eq!(
        phone("+44 7911 123456", true).as_deref(),
        Some("+447911123456")
    );
    assert_eq!(
        phone("001 (415) 555-2671", true).as_deref(),
        Some("+14155552671")
    );
    assert_eq!(phone("+0 123 4567", true), None);
    assert_eq!(phone("+1234567890123456", true), None);
    assert_eq!(phone("4155552671", true), None);
}

#[test]
fn reads_email_addresses() {
    assert_eq!(
        email(" Li.Lei+cs@Example.COM ").as_deref(),
        Some("Li.Lei+cs@example.com")
    );
    assert_eq!(
        email("ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ").as_deref(),
        Some("li@example.cn")
    );
    assert_eq!(email("客服@例子.中国").as_deref(), Some("客服@例子.中国"));
    for bad in [
        "li",
        "li@",
        "@example.com",
        "li@example",
        "li@@example.com",
        "li..lei@example.com",
        "li lei@example.com",
        "li@-example.com",
        "li@example.c0m",
        "li@example.c",
    ] {
        assert_eq!(email(bad), None, "{bad}");
    }
}

#[test]
fn checks_text_length_in_characters() {
    let rule = expect(json!({"type": "text", "min_length": 2, "max_length": 4}));
    assert_eq!(check(&rule, "  你好  "), Ok(json!("你好")));
    assert_eq!(check(&rule, "你"), Err("请至少输入 2 个字".to_owned()));
    assert_eq!(
        check(&rule, "你好世界！"),
        Err("最多只能输入 4 个字".to_owned())
    );
    assert_eq!(check(&rule, "   "), Err("内容不能为空".to_owned()));
}

#[test]
fn matches_a_whole_pattern() {
    let rule = expect(
        json!({"type": "regex", "pattern": "[A-Z]\\d{6}", "hint": "订单号是一个字母加 6 位数字"}),
    );
    assert_eq!(check(&rule, "Ａ１２３４５６"), Ok(json!("A123456")));
    assert_eq!(
        check(&rule, "xA123456"),
        Err("订单号是一个字母加 6 位数字".to_owned())
    );
    assert_eq!(
        check(&rule, "a123456"),
        Err("订单号是一个字母加 6 位数字".to_owned())
    );
    let loose = expect(json!({"type": "regex", "pattern": "[A-Z]\\d{6}", "ignore_case": true}));
    assert_eq!(check(&loose, "a123456"), Ok(json!("a123456")));
    assert_eq!(check(&loose, "a12345"), Err("格式不正确".to_owned()));
}

#[test]
fn picks_options_by_text_or_number() {
    let options: Vec<String> = ["是", "否", "Not sure"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(choose(&options, "否。"), Some(1));
    assert_eq!(choose(&options, "２"), Some(1));
    assert_eq!(choose(&options, "NOT SURE!"), Some(2));
    assert_eq!(choose(&options, "3 not sure"), Some(2));
    assert_eq!(choose(&options, "4"), None);
    assert_eq!(choose(&options, ""), None);
    let rule = expect(json!({"type": "choice", "options": ["是", "否"]}));
    assert_eq!(
        check(&rule, "是的"),
        Err("请从以下选项中选择：是 / 否".to_owned())
    );
}

#[test]
fn reports_every_problem_with_its_pointer() {
    let found = problems(json!({
        "prompt": " ",
        "variable": "my var",
        "max_attempts": 0,
        "timeout_secs": 100000,
        "expect": {"type": "choice", "options": ["是", "ＹＥＳ", "yes", "1", "？"]}
    }));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/prompt",
            "/variable",
            "/max_attempts",
            "/timeout_secs",
            "/expect/options/2",
            "/expect/options/3",
            "/expect/options/4",
        ]
    );
    assert_eq!(found[4].1, "`yes` is the same as /expect/options/1");
    assert_eq!(found[5].1, "`1` would be taken for the number of option 1");
}

#[test]
fn refuses_bad_patterns_and_bounds() {
    let found = problems(
        json!({"prompt": "?", "variable": "v", "expect": {"type": "regex", "pattern": "a(b"}}),
    );
    assert_eq!(
        found,
        [(
            "/expect/pattern".to_owned(),
            "invalid regex: unclosed group (at character 2)".to_owned()
        )]
    );
    let found = problems(
        json!({"prompt": "?", "variable": "v", "expect": {"type": "number", "min": 5, "max": 1}}),
    );
    assert_eq!(
        found,
        [("/expect/min".to_owned(), "5 is more than max 1".to_owned())]
    );
    let found = problems(
        json!({"prompt": "?", "variable": "v", "expect": {"type": "text", "min_length": 9, "max_length": 3}}),
    );
    assert_eq!(found[0].0, "/expect/min_length");
}

#[test]
fn refuses_unknown_fields_of_an_input_type() {
    let parsed = serde_json::from_value::<Config>(
        json!({"prompt": "?", "variable": "v", "expect": {"type": "email", "strict": true}}),
    );
    assert!(parsed.is_err());
}

#[test]
fn describes_itself() {
    let info = CollectInput::describe();
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        ("collect-input", "1.0.0")
    );
    let exits: Vec<&str> = info.exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(exits, ["ok", "failed", "timeout"]);
    let schema: Value = serde_json::from_str(&info.config_schema).expect("schema is JSON");
    assert_eq!(schema["required"], json!(["prompt", "variable"]));
}
