use kefu_tests::spawn_app;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn probes_answer_when_the_server_and_database_are_up() {
    let app = spawn_app().await;
    let live = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body["status"], "ok");
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["status"], "ok");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app().await;
    let missing = app
        .call(Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
    let wrong_method = app.call(Method::DELETE, "/healthz", None, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "method_not_allowed");
}

#[tokio::test]
async fn a_restarted_server_keeps_its_data_and_signing_key() {
    // No configured secret: the key is generated once and kept in the database, so
    // tokens issued before a restart stay valid after it.
    let app = kefu_tests::spawn_app_with(|c| c.auth.jwt_secret = None).await;
    let tenant = app.tenant("acme").await;
    let token = app.admin_token(&tenant).await;
    let app = app.restart().await;
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["email"], tenant.admin_email);
}
