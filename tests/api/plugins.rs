//! Flow modules through the admin API: installation (and every way to be refused),
//! dry-run steps, containment of hostile modules, limits, metrics, the compile cache.

use kefu_tests::fixtures;
use kefu_tests::{Reply, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn upload(app: &TestApp, token: &str, path: &str) -> Reply {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
    upload_bytes(app, token, bytes).await
}

async fn upload_bytes(app: &TestApp, token: &str, bytes: Vec<u8>) -> Reply {
    let resp = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(token)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .unwrap();
    TestApp::reply(resp).await
}

async fn dry_run(app: &TestApp, token: &str, id: &str, body: Value) -> Reply {
    app.post(&format!("/api/v1/plugins/{id}/dry-run"), token, body)
        .await
}

fn id(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn built_in_modules_are_installed_at_start_up() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let list = app.get("/api/v1/plugins", &admin).await;
    assert_eq!(list.status, StatusCode::OK);
    let end = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "end")
        .expect("the end module");
    assert_eq!(end["builtin"], true);
    assert_eq!(end["enabled"], true);
    assert!(end["config_schema"].is_object());
    let end_id = end["id"].as_str().unwrap();

    let run = dry_run(
        &app,
        &admin,
        end_id,
        json!({"config": {"end_status": 1, "message": "再见"}, "trigger": {"type": "entered"}}),
    )
    .await;
    assert_eq!(run.status, StatusCode::OK, "{:?}", run.body);
    assert_eq!(
        run.body["actions"],
        json!([
            {"action": "send", "message": {"type": "text", "text": "再见"}},
            {"action": "end_session", "end_status": 1}
        ])
    );
    assert_eq!(run.body["next"], json!({"type": "suspend"}));

    let verdict = app
        .post(
            &format!("/api/v1/plugins/{end_id}/validate-config"),
            &admin,
            json!({"config": {"end_status": 42}}),
        )
        .await;
    assert_eq!(verdict.status, StatusCode::OK);
    assert_eq!(verdict.body["valid"], false);
    assert_eq!(verdict.body["problems"][0]["path"], "/end_status");

    let refused = app
        .delete(&format!("/api/v1/plugins/{end_id}"), &admin)
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "builtin_plugin")
    );
}

#[tokio::test]
async fn an_installed_module_is_used_at_once() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let installed = upload(&app, &admin, fixtures::ECHO).await;
    let echo = id(&installed);
    assert_eq!(installed.body["name"], "echo");
    assert_eq!(installed.body["version"], "0.1.0");
    assert_eq!(installed.body["exits"][0]["name"], "next");
    assert_eq!(installed.body["limits"]["fuel"], 50_000_000);
    assert_eq!(
        installed.body["limits"]["deadline_ms"], 100,
        "compiled code starts with the default deadline"
    );

    let entered = dry_run(
        &app,
        &admin,
        &echo,
        json!({"config": {}, "trigger": {"type": "entered"}, "user_nickname": "小明"}),
    )
    .await;
    assert_eq!(entered.status, StatusCode::OK, "{:?}", entered.body);
    assert_eq!(entered.body["actions"][0]["message"]["text"], "hello 小明");
    assert_eq!(
        entered.body["next"],
        json!({"type": "wait", "timeout_ms": 60000})
    );

    let state = entered.body["state"].clone();
    let reply = dry_run(&app, &admin, &echo, json!({"config": {}, "trigger": {"type": "user_message", "text": "你好"}, "state": state, "turn": 1})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["actions"][0]["message"]["text"], "你好");
    assert_eq!(
        reply.body["actions"][1],
        json!({"action": "set_variable", "name": "last", "value": "\"你好\""})
    );

    let bye = dry_run(&app, &admin, &echo, json!({"config": {}, "trigger": {"type": "user_message", "text": "bye"}, "state": reply.body["state"]})).await;
    assert_eq!(bye.body["next"], json!({"type": "exit", "exit": "next"}));

    let again = upload(&app, &admin, fixtures::ECHO).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "plugin_exists")
    );

    // Another tenant neither sees nor runs it.
    let other = app.tenant("globex").await;
    let other_admin = app.admin_token(&other).await;
    assert_eq!(
        app.get(&format!("/api/v1/plugins/{echo}"), &other_admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let theirs = app.get("/api/v1/plugins", &other_admin).await;
    assert!(
        theirs
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "echo")
    );
    // But may install the same module for themselves.
    assert_eq!(
        upload(&app, &other_admin, fixtures::ECHO).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn components_kefu_cannot_run_are_refused_at_upload() {
    let app = spawn_app_with(|c| c.plugins.max_component_bytes = 4 * 1024 * 1024).await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    for (path, code) in [
        (fixtures::CORE_MODULE, "not_a_component"),
        (fixtures::RANDOM_BYTES, "not_wasm"),
        (fixtures::OTHERWORLD, "wrong_world"),
        (fixtures::SOCKETS, "unsupported_import"),
    ] {
        let reply = upload(&app, &admin, path).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), code, "{path}: {:?}", reply.body);
    }
    let sockets = upload(&app, &admin, fixtures::SOCKETS).await;
    assert!(
        sockets.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("wasi:sockets"),
        "{:?}",
        sockets.body
    );

    let mut broken = std::fs::read(fixtures::ECHO).unwrap();
    broken.truncate(broken.len() / 2);
    assert_eq!(
        upload_bytes(&app, &admin, broken).await.code(),
        "invalid_component"
    );

    let resp = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(
        TestApp::reply(resp).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = upload_bytes(&app, &admin, vec![0u8; 5 * 1024 * 1024]).await;
    assert_eq!(
        (huge.status, huge.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );

    // Nothing was installed by any of these.
    let list = app.get("/api/v1/plugins", &admin).await;
    assert!(
        list.body
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["builtin"] == true),
        "{:?}",
        list.body
    );

    // Agents may not install.
    app.account(tenant.id, "a@acme.test", kefu::directory::Role::Agent)
        .await;
    let agent_token = app.token("acme", "a@acme.test").await;
    assert_eq!(
        upload(&app, &agent_token, fixtures::ECHO).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn hostile_modules_are_contained_while_other_sessions_carry_on() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let echo = id(&upload(&app, &admin, fixtures::ECHO).await);
    let cases = [
        (fixtures::SPIN, &["out_of_fuel", "deadline"][..]),
        (fixtures::HOG, &["out_of_memory"][..]),
        (
            fixtures::BIGSTRING,
            &["out_of_memory", "oversized_output"][..],
        ),
        (
            fixtures::FLOOD,
            &["oversized_output", "out_of_memory", "out_of_fuel"][..],
        ),
        (fixtures::PANIC, &["trap"][..]),
        (fixtures::UNREACHABLE, &["trap"][..]),
        (fixtures::BADEXIT, &["invalid_output"][..]),
        (fixtures::FILES, &["module_error", "trap"][..]),
    ];
    let mut hostile = Vec::new();
    for (path, kinds) in cases {
        hostile.push((id(&upload(&app, &admin, path).await), kinds, path));
    }

    // Every hostile step runs at the same time as a stream of well-behaved ones.
    let good = async {
        let mut ok = 0;
        for i in 0..40 {
            let text = format!("message {i}");
            let r = dry_run(
                &app,
                &admin,
                &echo,
                json!({"config": {}, "trigger": {"type": "user_message", "text": text}}),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            assert_eq!(r.body["actions"][0]["message"]["text"], text);
            ok += 1;
        }
        ok
    };
    let (app_ref, admin_ref) = (&app, &admin);
    let bad = async {
        let runs = hostile.iter().map(|(id, kinds, path)| async move {
            let (app, admin) = (app_ref, admin_ref);
            let r = dry_run(
                app,
                admin,
                id,
                json!({"config": {}, "trigger": {"type": "entered"}}),
            )
            .await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "step_failed"),
                "{path}: {:?}",
                r.body
            );
            let message = r.body["error"]["message"].as_str().unwrap().to_owned();
            assert!(
                kinds.iter().any(|k| message.starts_with(k)),
                "{path}: {message}"
            );
            (path.to_owned(), message)
        });
        futures::future::join_all(runs).await
    };
    let (ok, failures) = tokio::join!(good, bad);
    assert_eq!(ok, 40);
    let panic = failures
        .iter()
        .find(|(p, _)| p.ends_with("panic.wasm"))
        .unwrap();
    assert!(
        panic.1.contains("panicked"),
        "the panic message is kept: {}",
        panic.1
    );

    // Failures are counted per module, by kind.
    let spin = &hostile[0].0;
    let got = app.get(&format!("/api/v1/plugins/{spin}"), &admin).await;
    let metrics = &got.body["metrics"];
    assert_eq!(metrics["steps"], 1);
    let counted: u64 = metrics["failures"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(counted, 1);
    let good_metrics = app
        .get(&format!("/api/v1/plugins/{echo}"), &admin)
        .await
        .body["metrics"]
        .clone();
    assert_eq!(good_metrics["steps"], 40);
    assert!(good_metrics["latency_p50_us"].as_u64().unwrap() > 0);
    assert!(good_metrics["fuel_used"].as_u64().unwrap() > 0);
    assert_eq!(good_metrics["failures"], json!({}));
}

#[tokio::test]
async fn limits_are_tuned_within_the_server_maximum() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let echo = id(&upload(&app, &admin, fixtures::ECHO).await);
    let long = "长".repeat(100); // 300 bytes
    let before = dry_run(
        &app,
        &admin,
        &echo,
        json!({"config": {}, "trigger": {"type": "user_message", "text": long}}),
    )
    .await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    let tight = app
        .patch(
            &format!("/api/v1/plugins/{echo}"),
            &admin,
            json!({"limits": {"max_string_bytes": 256}}),
        )
        .await;
    assert_eq!(tight.status, StatusCode::OK, "{:?}", tight.body);
    assert_eq!(tight.body["limits"]["max_string_bytes"], 256);
    assert_eq!(
        tight.body["limits"]["fuel"], 50_000_000,
        "omitted limits take their defaults"
    );
    let after = dry_run(
        &app,
        &admin,
        &echo,
        json!({"config": {}, "trigger": {"type": "user_message", "text": long}}),
    )
    .await;
    assert_eq!(
        after.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        after.body
    );
    assert!(
        after.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("oversized_output"),
        "{:?}",
        after.body
    );

    let too_much = app
        .patch(
            &format!("/api/v1/plugins/{echo}"),
            &admin,
            json!({"limits": {"memory_bytes": 1u64 << 40}}),
        )
        .await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_much.field("limits.memory_bytes").is_some());

    let off = app
        .patch(
            &format!("/api/v1/plugins/{echo}"),
            &admin,
            json!({"enabled": false, "limits": {}}),
        )
        .await;
    assert_eq!(off.body["enabled"], false);
    assert_eq!(off.body["limits"]["fuel"], 50_000_000);

    assert_eq!(
        app.delete(&format!("/api/v1/plugins/{echo}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v1/plugins/{echo}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Installable again after deletion.
    assert_eq!(
        upload(&app, &admin, fixtures::ECHO).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_restart_reloads_modules_from_the_compile_cache() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let echo = id(&upload(&app, &admin, fixtures::ECHO).await);
    let cache = app.config.data_dir.join("module-cache");
    let cached = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .count();
    assert!(cached >= 2, "echo and the built-ins are cached: {cached}");
    let app = app.restart().await;
    let admin = app.admin_token(&tenant).await;
    let r = dry_run(
        &app,
        &admin,
        &echo,
        json!({"config": {}, "trigger": {"type": "entered"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// `kefu:flow` versions: a module built against the frozen 0.1.0 (`wit/released/`)
/// still installs and steps on this kefu, whose current version (0.1.1) adds the
/// `directory` interface; a module of the current version uses that interface; and
/// both run in one flow.
#[tokio::test]
async fn a_module_built_against_the_frozen_version_installs_and_steps_beside_the_current_one() {
    let frozen = std::fs::read(fixtures::FROZEN).unwrap();
    let current = std::fs::read(fixtures::DIRECTORY).unwrap();
    let names = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    // The fixtures are what they claim: the names of the interfaces are in the binary.
    assert!(names(&frozen).contains("kefu:flow/host@0.1.0"));
    assert!(names(&frozen).contains("kefu:flow/module@0.1.0"));
    assert!(!names(&frozen).contains("@0.1.1"));
    assert!(names(&current).contains("kefu:flow/directory@0.1.1"));

    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let group =
        kefu_tests::agent_desk::skill_group(&app, &admin, "Pre-sales 售前", json!({})).await;
    kefu_tests::agent_desk::skill_group(&app, &admin, "After-sales 售后", json!({})).await;
    let installed = upload_bytes(&app, &admin, frozen).await;
    assert_eq!(
        installed.status,
        StatusCode::CREATED,
        "{:?}",
        installed.body
    );
    assert_eq!(installed.body["name"], "frozen");
    let installed = upload_bytes(&app, &admin, current).await;
    assert_eq!(
        installed.status,
        StatusCode::CREATED,
        "{:?}",
        installed.body
    );

    let graph = json!({
        "start": "old",
        "nodes": [
            {"id": "old", "module": "frozen", "config": {"group": group}},
            {"id": "new", "module": "directory", "config": {}},
            {"id": "bye", "module": "end", "config": {"end_status": 1, "message": "bye"}}
        ],
        "edges": [
            {"from": "old", "exit": "next", "to": "new"},
            {"from": "new", "exit": "next", "to": "bye"}
        ]
    });
    let flow = app
        .post(
            "/api/v1/flows",
            &admin,
            json!({"name": "versions", "draft": graph}),
        )
        .await;
    assert_eq!(flow.status, StatusCode::CREATED, "{:?}", flow.body);
    let path = format!("/api/v1/flows/{}/try", flow.body["id"].as_str().unwrap());
    let entered = app
        .post(&path, &admin, json!({"input": {"type": "entered"}}))
        .await;
    assert_eq!(entered.status, StatusCode::OK, "{:?}", entered.body);
    let said = crate::flow_try::texts(&entered.body);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("0.1.0 at ") && said[0].ends_with(": 0 waiting, 0 online"),
        "{said:?}"
    );
    assert_eq!(entered.body["outcome"]["type"], "waiting");

    let wrote = app
        .post(
            &path,
            &admin,
            json!({"state": entered.body["state"], "input": {"type": "user_message", "text": "hi"}}),
        )
        .await;
    assert_eq!(wrote.status, StatusCode::OK, "{:?}", wrote.body);
    assert_eq!(
        crate::flow_try::texts(&wrote.body),
        ["groups: After-sales 售后, Pre-sales 售前", "bye"]
    );
    assert_eq!(
        wrote.body["outcome"],
        json!({"type": "ended", "end_status": 1})
    );
}
