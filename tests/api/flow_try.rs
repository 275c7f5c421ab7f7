//! `POST /flows/{id}/try`: the editor's trial chat runs turns of a draft or a
//! revision with the installed modules, hands the flow's state back for the next
//! turn, and opens no session.

use kefu_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn graph() -> Value {
    json!({
        "start": "welcome",
        "nodes": [
            {"id": "welcome", "module": "send-message", "config": {"messages": [{"text": "您好 ${SystemClientNickName}"}]}},
            {"id": "ask", "module": "collect-input", "config": {"prompt": "订单号？", "variable": "order"}},
            {"id": "bye", "module": "end", "config": {"end_status": 1, "message": "再见"}}
        ],
        "edges": [
            {"from": "welcome", "exit": "next", "to": "ask"},
            {"from": "ask", "exit": "ok", "to": "bye"},
            {"from": "ask", "exit": "failed", "to": "bye"},
            {"from": "ask", "exit": "timeout", "to": "bye"}
        ]
    })
}

/// The texts a try's answer sends, in order.
pub(crate) fn texts(answer: &Value) -> Vec<String> {
    answer["sends"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_draft_is_tried_turn_by_turn_without_a_session() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let flow = app
        .post(
            "/api/v1/flows",
            &admin,
            json!({"name": "Try", "draft": graph()}),
        )
        .await;
    assert_eq!(flow.status, StatusCode::CREATED, "{:?}", flow.body);
    let id = flow.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/flows/{id}/try");

    let first = app
        .post(&path, &admin, json!({"input": {"type": "entered"}}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(texts(&first.body), ["您好 Tester", "订单号？"]);
    let steps = first.body["steps"].as_array().unwrap();
    assert_eq!(steps[0]["node"], "welcome");
    assert_eq!(steps[0]["module"], "send-message");
    assert_eq!(steps[0]["exit"], "next");
    assert_eq!(steps[0]["actions"][0]["action"], "send");
    assert_eq!(steps[1]["node"], "ask");
    assert_eq!(steps[1]["waits"], true);
    assert_eq!(first.body["outcome"]["type"], "waiting");
    assert_eq!(first.body["node"], "ask");

    let second = app
        .post(
            &path,
            &admin,
            json!({"state": first.body["state"], "input": {"type": "user_message", "text": "A-1001"}}),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.body);
    assert_eq!(second.body["steps"][0]["exit"], "ok");
    assert_eq!(second.body["steps"][0]["actions"][0]["name"], "order");
    assert_eq!(
        second.body["outcome"],
        json!({"type": "ended", "end_status": 1})
    );
    assert!(texts(&second.body).contains(&"再见".to_owned()));

    // Nothing of it is a session.
    let sessions = app.get("/api/v1/sessions", &admin).await;
    assert_eq!(sessions.body["total"], 0, "{:?}", sessions.body);

    // Refusals: a message of nothing, a state this endpoint never answered, another
    // tenant's flow, a draft with problems (each problem keyed by its pointer).
    let empty = app
        .post(
            &path,
            &admin,
            json!({"input": {"type": "user_message", "text": "  "}}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.field("input.text").is_some(), "{:?}", empty.body);
    let forged = app
        .post(
            &path,
            &admin,
            json!({"state": {"node": 7}, "input": {"type": "wait_timed_out"}}),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.field("state").is_some(), "{:?}", forged.body);
    let other = app.tenant("other").await;
    let stranger = app.admin_token(&other).await;
    let theirs = app
        .post(&path, &stranger, json!({"input": {"type": "entered"}}))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let published = app
        .post(
            &format!("/api/v1/flows/{id}/publish"),
            &admin,
            json!({"note": "v1"}),
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{:?}",
        published.body
    );
    let mut broken = graph();
    broken["nodes"][1]["config"] = json!({"variable": "order"});
    let saved = app
        .patch(
            &format!("/api/v1/flows/{id}"),
            &admin,
            json!({"draft": broken}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    let refused = app
        .post(&path, &admin, json!({"input": {"type": "entered"}}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "flow_invalid");
    assert!(
        refused.body["error"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("/nodes/1/config")),
        "{:?}",
        refused.body
    );
    // The published revision can still be tried; a revision that does not exist cannot.
    let revision = app
        .post(
            &path,
            &admin,
            json!({"revision": 1, "input": {"type": "entered"}}),
        )
        .await;
    assert_eq!(revision.status, StatusCode::OK, "{:?}", revision.body);
    assert_eq!(texts(&revision.body), ["您好 Tester", "订单号？"]);
    let missing = app
        .post(
            &path,
            &admin,
            json!({"revision": 9, "input": {"type": "entered"}}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
