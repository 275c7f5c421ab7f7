//! What fuzzing the API from its OpenAPI document found, kept as regressions: the
//! document's word on numbers and node configurations holds, and IM's endpoints answer
//! in IM's shape whatever the method.

use kefu_tests::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// To JSON Schema, and so to the document, `30.0` is the integer 30.
#[tokio::test]
async fn whole_numbers_written_with_a_fraction_are_integers() {
    let app = spawn_app().await;
    let tenant = app.tenant("floats").await;
    let token = app.admin_token(&tenant).await;
    let created = app
        .post(
            "/api/v1/skill-groups",
            &token,
            json!({"name": "售后", "routing": {"offer_timeout_secs": 30.0, "queue_max_length": 2e2}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["routing"]["offer_timeout_secs"], 30);
    assert_eq!(created.body["routing"]["queue_max_length"], 200);

    let fraction = app
        .post(
            "/api/v1/skill-groups",
            &token,
            json!({"name": "售前", "routing": {"offer_timeout_secs": 30.5}}),
        )
        .await;
    assert_eq!(fraction.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        fraction.body["error"]["fields"]["routing.offer_timeout_secs"].is_string(),
        "{}",
        fraction.body
    );
    let negative = app
        .post(
            "/api/v1/skill-groups",
            &token,
            json!({"name": "售中", "routing": {"queue_max_wait_secs": -10.0}}),
        )
        .await;
    assert_eq!(negative.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        negative.body["error"]["fields"]["routing.queue_max_wait_secs"],
        "must be between 10 and 86400"
    );
}

/// A node's configuration is whatever JSON the admin saved; the answer gives it back
/// as saved and the document does not promise an object.
#[tokio::test]
async fn a_node_configuration_may_be_any_json_value() {
    let app = spawn_app().await;
    let tenant = app.tenant("configs").await;
    let token = app.admin_token(&tenant).await;
    let draft = json!({
        "start": "a",
        "nodes": [{"id": "a", "module": "send-message", "config": [null, 1.5]}],
    });
    let created = app
        .post(
            "/api/v1/flows",
            &token,
            json!({"name": "odd", "draft": draft}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["draft"]["nodes"][0]["config"],
        json!([null, 1.5])
    );
    assert_eq!(created.body["validation"]["valid"], false);

    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let config = &doc.body["components"]["schemas"]["Node"]["properties"]["config"];
    assert!(config.is_object(), "{config}");
    assert!(config.get("type").is_none(), "any JSON value: {config}");
}

/// IM answers every request in its own shape and HTTP 200, another method included.
#[tokio::test]
async fn im_endpoints_answer_other_methods_in_ims_shape() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for path in ["/v4/openim/sendmsg?sdkappid=1", "/im/callback?SdkAppid=1"] {
        for method in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
            let answer = client
                .request(method.clone(), app.url(path))
                .body("{}")
                .send()
                .await
                .expect("sent");
            assert_eq!(answer.status(), StatusCode::OK, "{method} {path}");
            let body: Value = answer.json().await.expect("JSON");
            assert_eq!(body["ActionStatus"], "FAIL", "{method} {path}: {body}");
            assert_eq!(body["ErrorCode"], 60002, "{method} {path}: {body}");
            assert!(
                body["ErrorInfo"]
                    .as_str()
                    .is_some_and(|i| i.contains("POST"))
            );
        }
    }
}

/// Every status an operation can answer because of what it declares is in the
/// document, with kefu's error body.
#[tokio::test]
async fn the_document_lists_the_errors_each_operation_can_answer() {
    let app = spawn_app().await;
    let doc = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .body;
    let responses = &doc["components"]["responses"];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let listed = |status: &str| {
                let r = &op["responses"][status];
                let r = match r["$ref"].as_str() {
                    Some(name) => &responses[name.trim_start_matches("#/components/responses/")],
                    None => r,
                };
                r["content"]["application/json"]["schema"]["$ref"]
                    == "#/components/schemas/ErrorBody"
            };
            let mut expected = Vec::new();
            if let Some(scopes) = op["security"][0]["bearer"].as_array() {
                expected.push("401");
                if !scopes.is_empty() {
                    expected.push("403");
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                expected.push("404");
            }
            if params.iter().any(|p| p["in"] == "query") {
                expected.push("422");
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                expected.extend(["400", "413", "415"]);
                if content.contains_key("application/json") {
                    expected.push("422");
                }
            }
            for status in expected {
                assert!(listed(status), "{method} {path} does not list {status}");
            }
        }
    }
}
