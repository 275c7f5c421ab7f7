//! What each built-in module's node looks like to a flow: whether it may wait for the
//! user (a loop must pass through such a node), and its exits.

use kefu_tests::modules::Harness;
use serde_json::{Value, json};

async fn shape(h: &Harness, module: &str, config: Value) -> (bool, Vec<String>) {
    let node = h
        .validate_node(module, &config)
        .await
        .unwrap_or_else(|p| panic!("{module}: {p:?}"));
    (node.waits, node.exits.into_iter().map(|e| e.name).collect())
}

#[tokio::test]
async fn modules_that_wait_say_so() {
    let h = Harness::new();
    let cases = [
        ("send-message", json!({"messages": [{"text": "hi"}]}), false),
        (
            "service-time",
            json!({"weekly": {"monday": [{"start": "09:00", "end": "18:00"}]}}),
            false,
        ),
        (
            "collect-input",
            json!({"prompt": "phone?", "variable": "phone"}),
            true,
        ),
        ("transfer", json!({"skill_group_id": "g1"}), true),
        ("survey", json!({}), true),
        (
            "text-bot",
            json!({"faqs": [{"id": "a", "question": "q?", "answer": "a."}]}),
            true,
        ),
        ("end", json!({}), true),
    ];
    for (module, config, waits) in cases {
        assert_eq!(shape(&h, module, config).await.0, waits, "{module}");
    }

    // A branch waits for the reply unless it decides on entry from variables.
    let branches = json!([{"name": "vip", "conditions": [
        {"type": "variable", "name": "vip", "op": "equals", "value": true}]}]);
    let (waits, exits) = shape(&h, "branch", json!({"branches": branches})).await;
    assert!(waits);
    assert_eq!(exits, ["vip", "no-match", "timeout"]);
    let (waits, exits) = shape(
        &h,
        "branch",
        json!({"branches": branches, "wait_for_reply": false}),
    )
    .await;
    assert!(!waits);
    assert_eq!(exits, ["vip", "no-match"]);
}
