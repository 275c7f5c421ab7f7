//! `send-message`: several messages in order (text, menu, custom data) with
//! placeholders filled from the session, then `next`.

use kefu::flow::{CustomElement, Outgoing};
use kefu_tests::modules::Harness;
use serde_json::json;

#[tokio::test]
async fn sends_every_message_in_order_with_placeholders_filled() {
    let h = Harness::new();
    let mut c = h
        .conversation(
            "send-message",
            json!({"messages": [
                {"text": "您好 ${SystemClientNickName}（${SystemClientUserID}），欢迎来到 ${ClientAppName}！"},
                {"text": "客服 ${StaffNickName}（工号 ${StaffNo}）为您服务，前面还有 ${WaitNo} 人。${Unknown}"},
                {"menu": {"title": "订单 ${order_id} 需要什么帮助？", "choices": [
                    {"id": "refund", "label": "退款"},
                    {"label": "查询 ${order_id}"}
                ]}},
                {"custom": {"data": "{\"card\":\"${order_id}\"}", "desc": "订单 ${order_id}", "ext": "app ${ClientAppID}"}}
            ]}),
        )
        .await;
    c.set_variable("ClientAppName", json!("好物商城"));
    c.set_variable("ClientAppID", json!(1400000001));
    c.set_variable("StaffNickName", json!("小李"));
    c.set_variable("StaffNo", json!("1024"));
    c.set_variable("WaitNo", json!(3));
    c.set_variable("order_id", json!("A-17"));

    let step = c.enter().await;
    assert_eq!(step.exit(), Some("next"));
    assert_eq!(
        step.texts(),
        [
            "您好 小明（user_42），欢迎来到 好物商城！",
            "客服 小李（工号 1024）为您服务，前面还有 3 人。",
        ]
    );
    assert_eq!(
        step.menu(),
        Some((
            "订单 A-17 需要什么帮助？".to_owned(),
            vec![
                ("refund".to_owned(), "退款".to_owned()),
                ("2".to_owned(), "查询 A-17".to_owned())
            ]
        ))
    );
    let messages = step.messages();
    assert_eq!(messages.len(), 4);
    assert!(matches!(messages[2], Outgoing::Menu { .. }));
    // The custom data is sent as configured; desc and ext are filled.
    assert_eq!(
        messages[3],
        &Outgoing::Custom(CustomElement {
            data: "{\"card\":\"${order_id}\"}".into(),
            desc: "订单 A-17".into(),
            ext: "app 1400000001".into(),
        })
    );
}

#[tokio::test]
async fn leaves_by_next_only() {
    let h = Harness::new();
    let exits = h
        .validate("send-message", &json!({"messages": [{"text": "hi"}]}))
        .await
        .unwrap();
    let names: Vec<&str> = exits.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["next"]);
    let mut c = h
        .conversation(
            "send-message",
            json!({"messages": [{"text": "$${WaitNo} is literal"}]}),
        )
        .await;
    let step = c.enter().await;
    assert_eq!(step.texts(), ["${WaitNo} is literal"]);
    assert_eq!(step.exit(), Some("next"));
}

#[tokio::test]
async fn refuses_bad_configuration_with_precise_paths() {
    let h = Harness::new();
    let problem = |problems: Vec<kefu::flow::ConfigProblem>| {
        problems
            .into_iter()
            .map(|p| (p.path, p.message))
            .collect::<Vec<_>>()
    };

    let found = h.validate("send-message", &json!({})).await.unwrap_err();
    assert_eq!(found[0].path, "");
    assert!(
        found[0].message.contains("missing field `messages`"),
        "{found:?}"
    );

    let found = h
        .validate(
            "send-message",
            &json!({"messages": [{"text": "a", "colour": 1}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/messages/0");

    let found = h
        .validate("send-message", &json!({"messages": [{"menu": {"title": "t", "choices": [{"label": "a", "icon": "x"}]}}]}))
        .await
        .unwrap_err();
    assert_eq!(found[0].path, "/messages/0/menu/choices/0/icon");
    assert!(found[0].message.contains("unknown field `icon`"));

    let found = h
        .validate(
            "send-message",
            &json!({"messages": [
                {"text": ""},
                {"menu": {"title": "t", "choices": [{"label": "a"}, {"id": "1", "label": "b"}]}},
                {"menu": {"choices": []}},
                {"custom": {"data": ""}}
            ]}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        problem(found),
        [
            (
                "/messages/0/text".to_owned(),
                "must not be empty".to_owned()
            ),
            (
                "/messages/1/menu/choices/1/id".to_owned(),
                "the id `1` is used by an earlier choice of this menu".to_owned()
            ),
            (
                "/messages/2/menu/choices".to_owned(),
                "must not be empty".to_owned()
            ),
            (
                "/messages/3/custom/data".to_owned(),
                "must not be empty".to_owned()
            ),
        ]
    );

    let many: Vec<_> = (0..21).map(|i| json!({"text": format!("m{i}")})).collect();
    let found = h
        .validate("send-message", &json!({ "messages": many }))
        .await
        .unwrap_err();
    assert_eq!(
        problem(found),
        [(
            "/messages".to_owned(),
            "has 21 messages; at most 20 are allowed".to_owned()
        )]
    );
}
