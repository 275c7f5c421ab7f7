//! The module's conversation, tested natively with the SDK's runner: no WebAssembly,
//! no server.

use kefu_flow_sdk::testing::Runner;
use kefu_flow_sdk::{LogLevel, ResumeReason};
use order_number::OrderNumber;

#[test]
fn a_wrong_answer_is_asked_again_and_a_right_one_stored() {
    let mut node = Runner::<OrderNumber>::new(r#"{"min_digits": 8}"#).unwrap();
    assert!(node.node().waits);
    let asked = node.enter().unwrap();
    assert_eq!(asked.texts(), ["请输入您的订单号"]);
    assert_eq!(asked.waits_ms(), Some(120_000));
    let again = node.say("我不知道").unwrap();
    assert_eq!(again.texts(), ["订单号应为 8–20 位数字，请重新输入"]);
    let done = node.say("2026-1123-0042").unwrap();
    assert_eq!(done.left_by(), Some("next"));
    assert_eq!(done.texts(), ["好的，已记录订单号 202611230042"]);
    assert_eq!(node.variable("order_number"), Some("202611230042".into()));
    let logs = node.host(|h| h.logs.clone());
    assert_eq!(
        logs,
        [(LogLevel::Info, "order number of 12 digits".to_owned())]
    );
}

#[test]
fn too_many_wrong_answers_or_silence_leave() {
    let mut node = Runner::<OrderNumber>::new(r#"{"max_attempts": 2}"#).unwrap();
    node.enter().unwrap();
    assert_eq!(node.say("abc").unwrap().waits_ms(), Some(120_000));
    assert_eq!(node.say("12").unwrap().left_by(), Some("invalid"));
    node.enter().unwrap();
    assert_eq!(node.time_out().unwrap().left_by(), Some("timeout"));
    let back = node.resume(ResumeReason::TransferFailed).unwrap();
    assert_eq!(back.texts(), ["请输入您的订单号"]);
    assert_eq!(node.variable("order_number"), None);
}

#[test]
fn a_bad_configuration_is_refused_with_where() {
    let problems =
        Runner::<OrderNumber>::new(r#"{"min_digits": 30, "max_digits": 10}"#).unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/min_digits"]);
    let problems = Runner::<OrderNumber>::new(r#"{"colour": "red"}"#).unwrap_err();
    assert!(problems[0].message.contains("colour"), "{problems:?}");
}

#[test]
fn the_schema_comes_from_the_config_type() {
    use kefu_flow_sdk::FlowModule;
    let info = OrderNumber::describe();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let schema: serde_json::Value = serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["properties"]["min_digits"]["type"], "integer");
    assert_eq!(info.exits.len(), 3);
}
