//! Hostile modules inside flows: work that used to multiply (a failing `prepare` on
//! every pass of a loop, every node checked on every read of a flow), what a session
//! may be made to hold, and one tenant's module against everyone's instance slots.
//! Each test prints what the attack cost (`-- --nocapture`).

use std::time::{Duration, Instant};

use kefu_tests::agent_desk::{self, say};
use kefu_tests::fake_im::FakeIm;
use kefu_tests::fixtures;
use kefu_tests::{TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn install_havoc(app: &TestApp, admin: &str) -> String {
    let bytes = std::fs::read(fixtures::HAVOC).unwrap();
    let resp = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(admin)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let reply = TestApp::reply(resp).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// A flow whose node `h` runs havoc with `config` and, when it fails, goes back to
/// itself by its `error` edge.
fn looping_flow(config: Value) -> Value {
    json!({
        "start": "h",
        "nodes": [
            {"id": "h", "module": "havoc", "config": config},
            {"id": "bye", "module": "end", "config": {"end_status": 1}}
        ],
        "edges": [
            {"from": "h", "exit": "next", "to": "bye"},
            {"from": "h", "exit": "error", "to": "h"}
        ]
    })
}

/// The user's session after their message.
async fn session_of(app: &TestApp, admin: &str, user: &str) -> Value {
    let list = app
        .get(&format!("/api/v1/sessions?user_id={user}"), admin)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.get(&format!("/api/v1/sessions/{id}"), admin).await.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_prepare_in_a_loop_runs_once_and_the_turn_is_bounded() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    install_havoc(&app, &admin).await;
    let im = FakeIm::start(agent_desk::SDKAPPID, agent_desk::SECRET, "administrator").await;
    agent_desk::flow_channel(
        &app,
        &admin,
        &im,
        "kefu_loop",
        looping_flow(json!({"prepare": "loop"})),
        None,
    )
    .await;
    let started = Instant::now();
    say(&app, "kefu_loop", "u1", "hi").await;
    let first = started.elapsed();
    let session = session_of(&app, &admin, "u1").await;
    assert_eq!(session["status"], "ended", "{session}");
    assert_eq!(session["end_status"], 0, "{session}");
    // The prepare that failed is not run again for the next user either.
    let started = Instant::now();
    say(&app, "kefu_loop", "u2", "hi").await;
    let second = started.elapsed();
    println!(
        "a prepare that loops, in an error-edge loop: first message {first:.2?}, the next user's {second:.2?}"
    );
    // Before, each of the turn's 50 steps ran the 2 s prepare again (100 s and more).
    assert!(first < Duration::from_secs(30), "{first:?}");
    assert!(second < first, "{second:?} vs {first:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cannot_be_made_to_hold_megabytes() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    install_havoc(&app, &admin).await;
    let im = FakeIm::start(agent_desk::SDKAPPID, agent_desk::SECRET, "administrator").await;
    let flow = json!({
        "start": "h",
        "nodes": [
            {"id": "h", "module": "havoc", "config": {"step": "variables"}},
            {"id": "bye", "module": "end", "config": {"end_status": 1}}
        ],
        "edges": [{"from": "h", "exit": "next", "to": "bye"}]
    });
    agent_desk::flow_channel(&app, &admin, &im, "kefu_vars", flow, None).await;
    say(&app, "kefu_vars", "u1", "hi").await;
    let session = session_of(&app, &admin, "u1").await;
    // 200 variables of 60 KiB (12 MB) are refused: the step failed and the session
    // fell back, holding only what kefu itself keeps.
    assert_eq!(session["end_status"], 0, "{session}");
    let held = session["variables"].to_string().len();
    println!("a step setting 200 variables of 60 KiB: the session holds {held} bytes");
    assert!(held < 4096, "{held}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checking_a_flow_is_bounded_and_reading_it_runs_no_module() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    install_havoc(&app, &admin).await;
    // Twenty nodes whose validate-config loops until its 2 s deadline, each distinct.
    let nodes: Vec<Value> = (0..20)
        .map(|n| json!({"id": format!("n{n}"), "module": "havoc", "config": {"validate": "loop", "nonce": n}}))
        .collect();
    let graph = json!({"start": "n0", "nodes": nodes, "edges": []});
    let started = Instant::now();
    let created = app
        .post(
            "/api/v1/flows",
            &admin,
            json!({"name": "slow", "draft": graph}),
        )
        .await;
    let save = started.elapsed();
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["validation"]["valid"], false);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let started = Instant::now();
    let read = app.get(&format!("/api/v1/flows/{id}"), &admin).await;
    let get = started.elapsed();
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["validation"], created.body["validation"]);

    let started = Instant::now();
    let again = app.post("/api/v1/flows/validate", &admin, graph).await;
    let validate = started.elapsed();
    assert_eq!(again.body["valid"], false);
    println!(
        "a 20-node flow whose every validate-config loops: save {save:.2?}, read {get:.2?}, validate again {validate:.2?}"
    );
    // Before: 43 s per save, per read, per check. The save is bounded by the check's
    // budget (10 s, a few nodes at a time); a read runs nothing.
    assert!(save < Duration::from_secs(30), "{save:?}");
    assert!(get < save, "{get:?} vs {save:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenants_module_cannot_take_every_instance() {
    let app = spawn_app_with(|c| {
        c.plugins.max_instances = 32;
        c.plugins.max_instances_per_tenant = 16;
        c.plugins.max_instances_per_module = 8;
    })
    .await;
    let hostile = app.tenant("hostile").await;
    let hostile_admin = app.admin_token(&hostile).await;
    let havoc = install_havoc(&app, &hostile_admin).await;
    // Every looping step holds its instance for a whole second.
    let tuned = app
        .patch(
            &format!("/api/v1/plugins/{havoc}"),
            &hostile_admin,
            json!({"limits": {"fuel": 2_000_000_000u64, "deadline_ms": 1000}}),
        )
        .await;
    assert_eq!(tuned.status, StatusCode::OK, "{:?}", tuned.body);
    let victim = app.tenant("victim").await;
    let victim_admin = app.admin_token(&victim).await;
    let list = app.get("/api/v1/plugins", &victim_admin).await;
    let send = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "send-message")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (app_ref, havoc_ref) = (&app, &havoc);
    let flood = futures::future::join_all((0..64).map(|n| {
        let admin = hostile_admin.clone();
        async move {
            app_ref
                .post(
                    &format!("/api/v1/plugins/{havoc_ref}/dry-run"),
                    &admin,
                    json!({"config": {"step": "loop", "nonce": n}, "trigger": {"type": "entered"}}),
                )
                .await
        }
    }));
    let steady = futures::future::join_all((0..64).map(|_| {
        let admin = victim_admin.clone();
        let send = send.clone();
        async move {
            app_ref
                .post(
                    &format!("/api/v1/plugins/{send}/dry-run"),
                    &admin,
                    json!({"config": {"messages": [{"text": "您好"}]}, "trigger": {"type": "entered"}}),
                )
                .await
        }
    }));
    let (flooded, served) = tokio::join!(flood, steady);
    let capacity = flooded
        .iter()
        .filter(|r| {
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("capacity"))
        })
        .count();
    let ok = served.iter().filter(|r| r.status == StatusCode::OK).count();
    println!(
        "64 looping steps of one tenant's module against 64 send-message steps of another: {ok}/64 served, the looping tenant had {capacity} capacity failures"
    );
    assert_eq!(
        ok,
        64,
        "{:?}",
        served.iter().find(|r| r.status != StatusCode::OK)
    );
}
