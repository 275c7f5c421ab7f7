//! Flows through the admin API: drafts checked with precise problems, numbered
//! immutable revisions pinning module versions, rollback, two versions of one module
//! side by side, and modules that cannot be deleted while a live flow runs them.

use kefu_tests::fixtures;
use kefu_tests::{Reply, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn upload(app: &TestApp, token: &str, path: &str) -> String {
    let resp = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(token)
        .header("content-type", "application/wasm")
        .body(std::fs::read(path).unwrap())
        .send()
        .await
        .unwrap();
    let reply = TestApp::reply(resp).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// echo (waits for the user; exit `next`) → end.
fn echo_flow(version: &str) -> Value {
    json!({
        "start": "talk",
        "nodes": [
            {"id": "talk", "module": "echo", "version": version, "config": {"greeting": "hi"}},
            {"id": "bye", "module": "end", "config": {"end_status": 1, "message": "bye"}}
        ],
        "edges": [{"from": "talk", "exit": "next", "to": "bye"}]
    })
}

fn problems(reply: &Reply) -> Vec<(String, String)> {
    reply.body["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {:?}", reply.body))
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn create(app: &TestApp, token: &str, name: &str, draft: Value) -> Reply {
    app.post(
        "/api/v1/flows",
        token,
        json!({"name": name, "description": "test", "draft": draft}),
    )
    .await
}

#[tokio::test]
async fn publish_pins_modules_and_keeps_revisions_immutable() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let echo = upload(&app, &admin, fixtures::ECHO).await;

    let created = create(&app, &admin, "Main", echo_flow("^0.1")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(
        created.body["validation"]["valid"], true,
        "{:?}",
        created.body
    );
    assert_eq!(created.body["live_revision"], Value::Null);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let published = app
        .post(
            &format!("/api/v1/flows/{id}/publish"),
            &admin,
            json!({"note": "first"}),
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{:?}",
        published.body
    );
    assert_eq!(published.body["number"], 1);
    assert_eq!(published.body["note"], "first");
    let talk = &published.body["nodes"][0];
    assert_eq!(talk["plugin_id"], echo.as_str());
    assert_eq!(
        (talk["module"].as_str(), talk["version"].as_str()),
        (Some("echo"), Some("0.1.0"))
    );
    assert_eq!(talk["exits"], json!(["next"]));
    assert_eq!(talk["waits"], true);

    // Editing the draft leaves the live revision alone.
    let mut edited = echo_flow("^0.1");
    edited["nodes"][1]["config"]["message"] = json!("see you");
    let patched = app
        .patch(
            &format!("/api/v1/flows/{id}"),
            &admin,
            json!({"draft": edited}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["live_revision"], 1);
    let first = app
        .get(&format!("/api/v1/flows/{id}/revisions/1"), &admin)
        .await;
    assert_eq!(first.body["graph"]["nodes"][1]["config"]["message"], "bye");

    let second = app
        .post(&format!("/api/v1/flows/{id}/publish"), &admin, json!({}))
        .await;
    assert_eq!(second.body["number"], 2);
    assert_eq!(
        second.body["graph"]["nodes"][1]["config"]["message"],
        "see you"
    );

    // Rolling back publishes revision 1's graph again, as revision 3.
    let rolled = app
        .post(
            &format!("/api/v1/flows/{id}/rollback"),
            &admin,
            json!({"revision": 1}),
        )
        .await;
    assert_eq!(rolled.status, StatusCode::CREATED, "{:?}", rolled.body);
    assert_eq!(rolled.body["number"], 3);
    assert_eq!(rolled.body["restored_from"], 1);
    assert_eq!(rolled.body["note"], "rollback to revision 1");
    assert_eq!(rolled.body["graph"]["nodes"][1]["config"]["message"], "bye");
    let flow = app.get(&format!("/api/v1/flows/{id}"), &admin).await;
    assert_eq!(flow.body["live_revision"], 3);
    assert_eq!(
        flow.body["draft"]["nodes"][1]["config"]["message"],
        "see you"
    );

    let history = app
        .get(&format!("/api/v1/flows/{id}/revisions"), &admin)
        .await;
    let numbers: Vec<i64> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);

    let missing = app
        .post(
            &format!("/api/v1/flows/{id}/rollback"),
            &admin,
            json!({"revision": 9}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
}

#[tokio::test]
async fn every_problem_is_reported_at_its_place() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    upload(&app, &admin, fixtures::ECHO).await;

    let graph = json!({
        "start": "talk",
        "nodes": [
            {"id": "talk", "module": "echo", "version": "^0.1", "config": {"greeting": 7}},
            {"id": "bye", "module": "end", "config": {"end_status": 2}},
            {"id": "ghost", "module": "nope"},
            {"id": "later", "module": "echo", "version": "^3"},
            {"id": "island", "module": "end"}
        ],
        "edges": [
            {"from": "talk", "exit": "next", "to": "bye"},
            {"from": "bye", "exit": "next", "to": "talk"}
        ]
    });
    let verdict = app
        .post("/api/v1/flows/validate", &admin, graph.clone())
        .await;
    assert_eq!(verdict.status, StatusCode::OK, "{:?}", verdict.body);
    assert_eq!(verdict.body["valid"], false);
    let found = problems(&verdict);
    let has = |path: &str, fragment: &str| {
        assert!(
            found.iter().any(|(p, m)| p == path && m.contains(fragment)),
            "no problem at {path} mentioning {fragment:?} in {found:?}"
        );
    };
    has("/nodes/0/config/greeting", "invalid type");
    has("/nodes/1/config/end_status", "unknown end status 2");
    has("/nodes/2/module", "no module \"nope\" is installed");
    has(
        "/nodes/3/version",
        "no enabled version of \"echo\" matches \"^3\"; installed: 0.1.0",
    );
    has(
        "/nodes/4",
        "node \"island\" cannot be reached from the start",
    );

    // A valid shape with topology problems: an exit left open, an exit that does not
    // exist, and a node that cannot end.
    let graph = json!({
        "start": "a",
        "nodes": [
            {"id": "a", "module": "echo"},
            {"id": "b", "module": "echo"}
        ],
        "edges": [
            {"from": "a", "exit": "next", "to": "b"},
            {"from": "a", "exit": "sideways", "to": "b"}
        ]
    });
    let verdict = app
        .post("/api/v1/flows/validate", &admin, graph.clone())
        .await;
    let found = problems(&verdict);
    assert!(found.contains(&(
        "/edges/1/exit".into(),
        "node \"a\" has no exit \"sideways\"; its exits are: next".into()
    )));
    assert!(found.contains(&(
        "/nodes/1".into(),
        "exit \"next\" of node \"b\" is not connected".into()
    )));

    // Saved as a draft anyway, but never published.
    let created = create(&app, &admin, "Broken", graph).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["validation"]["valid"], false);
    let id = created.body["id"].as_str().unwrap();
    let refused = app
        .post(&format!("/api/v1/flows/{id}/publish"), &admin, json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "flow_invalid");
    assert!(refused.field("/edges/1/exit").unwrap().contains("sideways"));
    let flow = app.get(&format!("/api/v1/flows/{id}"), &admin).await;
    assert_eq!(flow.body["latest_revision"], 0);

    // Not a graph at all: the JSON path of the offending value.
    let bad = app
        .post(
            "/api/v1/flows",
            &admin,
            json!({"name": "x", "draft": {"start": "a", "nodes": [{"id": "a"}]}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.code(), "validation_failed");
}

#[tokio::test]
async fn two_versions_of_a_module_live_side_by_side() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let old = upload(&app, &admin, fixtures::ECHO).await;
    let new = upload(&app, &admin, fixtures::ECHO_NEXT).await;

    let list = app.get("/api/v1/plugins", &admin).await;
    let versions: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "echo")
        .map(|p| p["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(versions.contains(&"0.1.0") && versions.contains(&"0.2.0"));

    let pinned = |reply: &Reply| {
        reply.body["nodes"][0]["plugin_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a = create(&app, &admin, "Old", echo_flow("=0.1.0")).await;
    let a = a.body["id"].as_str().unwrap().to_owned();
    let b = create(&app, &admin, "New", echo_flow("*")).await;
    let b = b.body["id"].as_str().unwrap().to_owned();
    let rev_a = app
        .post(&format!("/api/v1/flows/{a}/publish"), &admin, json!({}))
        .await;
    let rev_b = app
        .post(&format!("/api/v1/flows/{b}/publish"), &admin, json!({}))
        .await;
    assert_eq!(pinned(&rev_a), old);
    assert_eq!(pinned(&rev_b), new);

    // Both run: one dry-run step each.
    for id in [&old, &new] {
        let run = app
            .post(
                &format!("/api/v1/plugins/{id}/dry-run"),
                &admin,
                json!({"config": {}, "trigger": {"type": "user_message", "text": "bye"}}),
            )
            .await;
        assert_eq!(run.status, StatusCode::OK, "{:?}", run.body);
        assert_eq!(run.body["next"]["exit"], "next");
    }

    // With 0.2.0 disabled, "any version" resolves to 0.1.0 again.
    let disabled = app
        .patch(
            &format!("/api/v1/plugins/{new}"),
            &admin,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{:?}", disabled.body);
    let again = app
        .post(&format!("/api/v1/flows/{b}/publish"), &admin, json!({}))
        .await;
    assert_eq!(pinned(&again), old);
}

#[tokio::test]
async fn a_module_in_a_live_flow_cannot_be_deleted() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let echo = upload(&app, &admin, fixtures::ECHO).await;
    let flow = create(&app, &admin, "Main", echo_flow("*")).await;
    let flow = flow.body["id"].as_str().unwrap().to_owned();
    app.post(&format!("/api/v1/flows/{flow}/publish"), &admin, json!({}))
        .await;

    let refused = app.delete(&format!("/api/v1/plugins/{echo}"), &admin).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "plugin_in_use");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"Main\" (revision 1)")
    );

    // Publish the flow without the module: now it can go.
    let without = json!({
        "start": "bye",
        "nodes": [{"id": "bye", "module": "end"}],
        "edges": []
    });
    app.patch(
        &format!("/api/v1/flows/{flow}"),
        &admin,
        json!({"draft": without}),
    )
    .await;
    let published = app
        .post(&format!("/api/v1/flows/{flow}/publish"), &admin, json!({}))
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{:?}",
        published.body
    );
    let deleted = app.delete(&format!("/api/v1/plugins/{echo}"), &admin).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn flows_belong_to_their_tenant() {
    let app = spawn_app().await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let acme_admin = app.admin_token(&acme).await;
    let other_admin = app.admin_token(&other).await;
    let flow = app
        .post("/api/v1/flows", &acme_admin, json!({"name": "Main"}))
        .await;
    assert_eq!(flow.status, StatusCode::CREATED, "{:?}", flow.body);
    let id = flow.body["id"].as_str().unwrap();

    for reply in [
        app.get(&format!("/api/v1/flows/{id}"), &other_admin).await,
        app.post(
            &format!("/api/v1/flows/{id}/publish"),
            &other_admin,
            json!({}),
        )
        .await,
        app.delete(&format!("/api/v1/flows/{id}"), &other_admin)
            .await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
    }
    let list = app.get("/api/v1/flows", &other_admin).await;
    assert_eq!(list.body["total"], 0);

    let taken = app
        .post("/api/v1/flows", &acme_admin, json!({"name": "Main"}))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.code(), "flow_name_taken");
    app.account(acme.id, "agent@acme.test", kefu::directory::Role::Agent)
        .await;
    let agent = app.token("acme", "agent@acme.test").await;
    let forbidden = app.get("/api/v1/flows", &agent).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}
