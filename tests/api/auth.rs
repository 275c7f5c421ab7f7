use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kefu::directory::Role;
use kefu_tests::{PASSWORD, TestApp, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(app: &TestApp, claims: &Value) -> String {
    let secret = app.config.auth.jwt_secret.as_ref().unwrap();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn login_returns_tokens_that_open_the_api() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let reply = app.login("acme", "ADMIN@acme.test", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert!(reply.body["refresh_token"].as_str().unwrap().len() > 40);
    let token = reply.body["access_token"].as_str().unwrap();
    let claims = claims_of(token);
    assert_eq!(claims["sub"], tenant.admin_id.to_string());
    assert_eq!(claims["tenant"], tenant.id.0.to_string());
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["aud"], "kefu-api");
    for claim in ["iat", "exp", "jti", "sid"] {
        assert!(!claims[claim].is_null(), "{claim} missing");
    }
    let me = app.get("/api/v1/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "admin@acme.test");
    assert!(me.body.get("password_hash").is_none());
}

#[tokio::test]
async fn login_failures_say_nothing_about_which_part_was_wrong() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let agent = app.account(tenant.id, "gone@acme.test", Role::Agent).await;
    let admin = app.admin_token(&tenant).await;
    assert_eq!(
        app.post(
            &format!("/api/v1/agents/{agent}/deactivate"),
            &admin,
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    for (tenant, email, password) in [
        ("acme", "admin@acme.test", "wrong password"),
        ("acme", "nobody@acme.test", PASSWORD),
        ("nowhere", "admin@acme.test", PASSWORD),
        ("acme", "gone@acme.test", PASSWORD),
    ] {
        let reply = app.login(tenant, email, password).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{tenant}/{email}");
        assert_eq!(reply.code(), "invalid_credentials");
        assert_eq!(
            reply.body["error"]["message"],
            "wrong tenant, e-mail or password"
        );
    }
}

#[tokio::test]
async fn malformed_login_requests_get_precise_errors() {
    let app = spawn_app().await;
    let missing = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"tenant": "a", "email": "x@y.z"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.code(), "validation_failed");
    assert!(
        missing.field("body").unwrap().contains("password"),
        "{:?}",
        missing.body
    );

    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"tenant\": ")
        .send()
        .await
        .unwrap();
    let bad_json = TestApp::reply(resp).await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_json.code(), "invalid_json");

    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .body("tenant=a")
        .send()
        .await
        .unwrap();
    let not_json = TestApp::reply(resp).await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(not_json.code(), "unsupported_media_type");
}

#[tokio::test]
async fn every_kind_of_bad_token_is_refused() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let token = app.admin_token(&tenant).await;
    let claims = claims_of(&token);

    let missing = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::UNAUTHORIZED, "missing_token")
    );
    assert_eq!(missing.headers["www-authenticate"], "Bearer");

    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    let wrong_scheme = TestApp::reply(resp).await;
    assert_eq!(
        (wrong_scheme.status, wrong_scheme.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    let garbage = app.get("/api/v1/me", "not.a.jwt").await;
    assert_eq!(
        (garbage.status, garbage.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"somebody else's secret, long enough"),
    )
    .unwrap();
    let reply = app.get("/api/v1/me", &forged).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let reply = app.get("/api/v1/me", &format!("{header}.{payload}.")).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    let mut expired = claims.clone();
    expired["iat"] = json!(claims["iat"].as_u64().unwrap() - 7200);
    expired["exp"] = json!(claims["iat"].as_u64().unwrap() - 3600);
    let reply = app.get("/api/v1/me", &sign(&app, &expired)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "token_expired")
    );

    let mut audience = claims.clone();
    audience["aud"] = json!("some-other-service");
    let reply = app.get("/api/v1/me", &sign(&app, &audience)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    // A validly signed token whose tenant claim was changed names no live sign-in.
    let other = app.tenant("other").await;
    let mut moved = claims.clone();
    moved["tenant"] = json!(other.id.0.to_string());
    let reply = app.get("/api/v1/me", &sign(&app, &moved)).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "token_revoked")
    );

    // And the real one still works.
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn agents_are_refused_admin_routes_but_reach_their_own() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    app.account(tenant.id, "agent@acme.test", Role::Agent).await;
    let token = app.token("acme", "agent@acme.test").await;
    for (method, path) in [
        (Method::GET, "/api/v1/agents".to_owned()),
        (Method::POST, "/api/v1/agents".to_owned()),
        (Method::GET, format!("/api/v1/agents/{}", tenant.admin_id)),
        (
            Method::POST,
            format!("/api/v1/agents/{}/deactivate", tenant.admin_id),
        ),
        (Method::POST, "/api/v1/skill-groups".to_owned()),
    ] {
        let body = (method == Method::POST).then(|| json!({}));
        let reply = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(reply.code(), "forbidden");
    }
    assert_eq!(app.get("/api/v1/me", &token).await.body["role"], "agent");
    assert_eq!(
        app.get("/api/v1/skill-groups", &token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_sign_in() {
    let app = spawn_app().await;
    app.tenant("acme").await;
    let first = app.login("acme", "admin@acme.test", PASSWORD).await.body;
    let refresh = |token: &str| {
        let body = json!({"refresh_token": token});
        app.call(Method::POST, "/api/v1/auth/refresh", None, Some(body))
    };
    let second = refresh(first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.body);
    assert_ne!(second.body["refresh_token"], first["refresh_token"]);
    let new_access = second.body["access_token"].as_str().unwrap();
    assert_eq!(
        claims_of(new_access)["sid"],
        claims_of(first["access_token"].as_str().unwrap())["sid"]
    );
    assert_eq!(
        app.get("/api/v1/me", new_access).await.status,
        StatusCode::OK
    );

    // Replaying the spent token: refused, and the whole sign-in is ended.
    let replay = refresh(first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (replay.status, replay.code()),
        (StatusCode::UNAUTHORIZED, "refresh_token_reused")
    );
    let after = app.get("/api/v1/me", new_access).await;
    assert_eq!(
        (after.status, after.code()),
        (StatusCode::UNAUTHORIZED, "token_revoked")
    );
    let third = refresh(second.body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (third.status, third.code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );

    let unknown = refresh("kefu_rt_made-up").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
}

#[tokio::test]
async fn logout_revokes_the_access_and_refresh_tokens() {
    let app = spawn_app().await;
    app.tenant("acme").await;
    let pair = app.login("acme", "admin@acme.test", PASSWORD).await.body;
    let other_device = app.token("acme", "admin@acme.test").await;
    let access = pair["access_token"].as_str().unwrap();
    let out = app.post("/api/v1/auth/logout", access, json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let reply = app.get("/api/v1/me", access).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "token_revoked")
    );
    let refreshed = app
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": pair["refresh_token"]})),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED);
    // Only that sign-in ended.
    assert_eq!(
        app.get("/api/v1/me", &other_device).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn repeated_failures_are_slowed_with_retry_after() {
    let app = spawn_app_with(|c| c.auth.login_failures_per_account = 3).await;
    let tenant = app.tenant("acme").await;
    for _ in 0..3 {
        assert_eq!(
            app.login("acme", "admin@acme.test", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Blocked now, even with the right password.
    let blocked = app.login("acme", "admin@acme.test", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(blocked.code(), "too_many_attempts");
    let retry: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    // Another account is not affected.
    app.account(tenant.id, "second@acme.test", Role::Agent)
        .await;
    assert_eq!(
        app.login("acme", "second@acme.test", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn short_delays_expire() {
    let app = spawn_app_with(|c| {
        c.auth.login_failures_per_account = 1;
        c.auth.login_delay_secs = 1;
    })
    .await;
    app.tenant("acme").await;
    assert_eq!(
        app.login("acme", "admin@acme.test", "guess").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("acme", "admin@acme.test", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        app.login("acme", "admin@acme.test", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_change_signs_the_agent_out_everywhere() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let agent = app.account(tenant.id, "agent@acme.test", Role::Agent).await;
    let agent_token = app.token("acme", "agent@acme.test").await;
    let admin = app.admin_token(&tenant).await;
    let changed = app
        .patch(
            &format!("/api/v1/agents/{agent}"),
            &admin,
            json!({"password": "a brand new one"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &agent_token).await.code(),
        "token_revoked"
    );
    assert_eq!(
        app.login("acme", "agent@acme.test", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("acme", "agent@acme.test", "a brand new one")
            .await
            .status,
        StatusCode::OK
    );
}
