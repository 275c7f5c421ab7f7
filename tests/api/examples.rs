//! The order-number example module in Python and JavaScript (`examples/order-number/`),
//! built by its own scripts from componentize-py and componentize-js, installed into a
//! real kefu through the admin API and talked to through a published flow and the web
//! chat, as a module author would.
//!
//! The components are built before the tests (`.ci/run` runs the build scripts); a
//! missing one is skipped with a warning, or fails the test when
//! `KEFU_REQUIRE_EXAMPLES=1` (CI). Compiling an interpreter takes tens of seconds in a
//! debug build: the servers of this suite share one compile cache, so the second
//! database's run loads what the first compiled.

use std::path::PathBuf;

use kefu_tests::webchat::{self, frame_where, next_frame};
use kefu_tests::{TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The component an example's build script writes, if it has been built.
fn example(lang: &str, file: &str) -> Option<Vec<u8>> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "examples",
        "order-number",
        lang,
        file,
    ]
    .iter()
    .collect();
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            assert!(
                std::env::var("KEFU_REQUIRE_EXAMPLES").as_deref() != Ok("1"),
                "KEFU_REQUIRE_EXAMPLES=1 but {} is missing ({e}): run examples/order-number/{lang}/build.sh",
                path.display()
            );
            eprintln!(
                "\n!! EXAMPLE SKIPPED: {} is not built ({e}).\n!! Run examples/order-number/{lang}/build.sh, or set KEFU_REQUIRE_EXAMPLES=1 to make this a failure.\n",
                path.display()
            );
            None
        }
    }
}

/// A server whose compile cache is shared by this suite's servers, and which waits for
/// an interpreter's compilation in a debug build.
async fn server() -> TestApp {
    spawn_app_with(|c| {
        c.data_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("example-modules");
        c.plugins.compile_timeout_secs = 600;
    })
    .await
}

async fn install(app: &TestApp, admin: &str, bytes: Vec<u8>) -> Value {
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
    reply.body
}

/// Publishes `ask → bye` with the module on `ask` and opens a web chat channel on it.
async fn channel(app: &TestApp, admin: &str, module: &str, account: &str) -> String {
    let graph = json!({
        "start": "ask",
        "nodes": [
            {"id": "ask", "module": module, "config": {"min_digits": 8, "max_attempts": 2}},
            {"id": "bye", "module": "end", "config": {"end_status": 1, "message": "再见"}}
        ],
        "edges": [
            {"from": "ask", "exit": "next", "to": "bye"},
            {"from": "ask", "exit": "invalid", "to": "bye"},
            {"from": "ask", "exit": "timeout", "to": "bye"},
            {"from": "ask", "exit": "error", "to": "bye"}
        ]
    });
    let flow = app
        .post(
            "/api/v1/flows",
            admin,
            json!({"name": module, "draft": graph}),
        )
        .await;
    assert_eq!(flow.status, StatusCode::CREATED, "{:?}", flow.body);
    let flow_id = flow.body["id"].as_str().unwrap();
    let published = app
        .post(
            &format!("/api/v1/flows/{flow_id}/publish"),
            admin,
            json!({}),
        )
        .await;
    assert!(published.status.is_success(), "{:?}", published.body);
    let channel = app
        .post(
            "/api/v1/channels",
            admin,
            json!({
                "name": module, "account": account, "sdkappid": 1400000001u64,
                "secret_key": "example-secret-key-0001", "callback_token": "example-callback-token",
                "flow_id": flow_id,
            }),
        )
        .await;
    assert_eq!(channel.status, StatusCode::CREATED, "{:?}", channel.body);
    channel.body["id"].as_str().unwrap().to_owned()
}

/// Sends `text` and answers the flow's next reply. A message the page already has
/// (the history and the live feed may both carry one written as the page connected)
/// is skipped by its id, as the page does.
async fn say(ws: &mut webchat::Socket, seen: &mut Vec<Value>, id: &str, text: &str) -> String {
    webchat::send(
        ws,
        json!({"type": "message", "client_id": id, "text": text}),
    )
    .await;
    loop {
        let reply = frame_where(ws, |f| {
            f["type"] == "message" && f["message"]["direction"] == "out"
        })
        .await;
        if !seen.contains(&reply["message"]["id"]) {
            seen.push(reply["message"]["id"].clone());
            return reply["message"]["text"].as_str().unwrap().to_owned();
        }
    }
}

/// A user talks to the module through the web chat: a wrong answer is asked again,
/// a right one is stored in the session's variable and confirmed.
async fn talk(app: &TestApp, admin: &str, channel: &str, visitor: &str) {
    let mut ws = webchat::visit(app, channel, visitor, visitor).await;
    let ready = next_frame(&mut ws).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    let history = next_frame(&mut ws).await;
    assert_eq!(
        history["messages"][0]["text"], "请输入您的订单号",
        "{history}"
    );
    let mut seen: Vec<Value> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(
        say(&mut ws, &mut seen, "c1", "我不知道").await,
        "订单号应为 8–20 位数字，请重新输入"
    );
    assert_eq!(
        say(&mut ws, &mut seen, "c2", "2026-1123-0042").await,
        "好的，已记录订单号 202611230042"
    );
    let session = ready["session"]["id"].as_str().unwrap();
    let session = app.get(&format!("/api/v1/sessions/{session}"), admin).await;
    assert_eq!(session.status, StatusCode::OK, "{:?}", session.body);
    assert_eq!(
        session.body["variables"]["order_number"], "202611230042",
        "{:?}",
        session.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_and_javascript_examples_install_and_talk_through_a_flow() {
    let python = example("python", "order_number_py.wasm");
    let js = example("js", "order_number_js.wasm");
    if python.is_none() && js.is_none() {
        return;
    }
    let app = server().await;
    let tenant = app.tenant("examples").await;
    let admin = app.admin_token(&tenant).await;
    for (n, (bytes, name)) in [(python, "order-number-py"), (js, "order-number-js")]
        .into_iter()
        .enumerate()
    {
        let Some(bytes) = bytes else { continue };
        let size = bytes.len();
        let installed = install(&app, &admin, bytes).await;
        assert_eq!(installed["name"], name);
        assert_eq!(installed["size"], size);
        // An interpreter's step costs tens of milliseconds where a Rust one costs a
        // tenth of one: kefu sees the interpreter and installs it with the deadline it
        // needs, nothing for the admin to tune.
        assert_eq!(
            installed["limits"]["deadline_ms"], 1000,
            "{name}: {installed}"
        );
        let id = installed["id"].as_str().unwrap();
        let exits: Vec<&str> = installed["exits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(exits, ["next", "invalid", "timeout"]);
        let refused = app
            .post(
                &format!("/api/v1/plugins/{id}/validate-config"),
                &admin,
                json!({"config": {"min_digits": 30, "max_digits": 10, "colour": "red"}}),
            )
            .await;
        assert_eq!(refused.status, StatusCode::OK, "{:?}", refused.body);
        assert_eq!(refused.body["valid"], false, "{:?}", refused.body);
        let channel = channel(&app, &admin, name, &format!("shop{n}")).await;
        talk(&app, &admin, &channel, &format!("visitor of {name}")).await;
    }
}

/// A hostile fixture of `tests/fixtures/interpreted/`, if it has been built.
fn hostile(file: &str) -> Option<Vec<u8>> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fixtures", "interpreted", file]
        .iter()
        .collect();
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            assert!(
                std::env::var("KEFU_REQUIRE_EXAMPLES").as_deref() != Ok("1"),
                "KEFU_REQUIRE_EXAMPLES=1 but {} is missing ({e}): run tests/fixtures/interpreted/build.sh",
                path.display()
            );
            eprintln!(
                "\n!! HOSTILE FIXTURE SKIPPED: {} is not built ({e}).\n",
                path.display()
            );
            None
        }
    }
}

/// A Python or JavaScript module that spins, hogs memory, throws or floods is contained
/// like a Rust one, under the limits an interpreter is installed with, and the
/// module and the server go on answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_python_and_javascript_modules_are_contained() {
    let python = hostile("hostile_py.wasm");
    let js = hostile("hostile_js.wasm");
    if python.is_none() && js.is_none() {
        return;
    }
    let app = server().await;
    let tenant = app.tenant("hostile").await;
    let admin = app.admin_token(&tenant).await;
    for bytes in [python, js].into_iter().flatten() {
        let installed = install(&app, &admin, bytes).await;
        let name = installed["name"].as_str().unwrap().to_owned();
        let id = installed["id"].as_str().unwrap().to_owned();
        assert_eq!(installed["limits"]["deadline_ms"], 1000, "{installed}");
        let cases: [(&str, &[&str]); 4] = [
            ("spin", &["out_of_fuel", "deadline"]),
            ("hog", &["out_of_memory", "trap"]),
            ("raise", &["trap", "module_error"]),
            (
                "flood",
                &["oversized_output", "out_of_memory", "out_of_fuel"],
            ),
        ];
        for (what, kinds) in cases {
            let run = app
                .post(
                    &format!("/api/v1/plugins/{id}/dry-run"),
                    &admin,
                    json!({"config": {"do": what}, "trigger": {"type": "entered"}}),
                )
                .await;
            assert_eq!(
                run.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name} {what}: {:?}",
                run.body
            );
            assert_eq!(run.code(), "step_failed");
            let message = run.body["error"]["message"].as_str().unwrap();
            assert!(
                kinds.iter().any(|k| message.starts_with(k)),
                "{name} {what}: {message}"
            );
            let fine = app
                .post(
                    &format!("/api/v1/plugins/{id}/dry-run"),
                    &admin,
                    json!({"config": {}, "trigger": {"type": "entered"}}),
                )
                .await;
            assert_eq!(
                fine.status,
                StatusCode::OK,
                "{name} after {what}: {:?}",
                fine.body
            );
            assert_eq!(fine.body["next"], json!({"type": "exit", "exit": "next"}));
        }
        let metrics = app.get(&format!("/api/v1/plugins/{id}"), &admin).await;
        let failures = &metrics.body["metrics"]["failures"];
        let failed: u64 = failures
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(failed, 4, "{name}: {failures}");
    }
}
