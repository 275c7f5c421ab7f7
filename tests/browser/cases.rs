//! What the story does not go through: the sign-in form's refusals (wrong password,
//! throttled, deactivated), the token renewed before it expires, the agent's own quick
//! replies, and a sign-in that ends while the page is open.

use kefu::directory::Role;
use kefu_tests::{PASSWORD, spawn_app_with};
use serde_json::json;

use crate::driver::Browser;
use crate::support::{fill_login, sign_in};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_form_says_why_it_refuses() {
    let Some(b) = Browser::launch(375, 812).await else {
        return;
    };
    let app = spawn_app_with(|c| {
        c.auth.login_failures_per_account = 2;
        c.auth.login_delay_secs = 30;
        // The socket of an ended sign-in closes on the next keep-alive beat.
        c.routing.heartbeat_timeout_secs = 3;
        // The page renews a token a minute before it expires: here, soon after sign-in.
        c.auth.access_token_ttl_secs = 63;
    })
    .await;
    let tenant = app.tenant("acme").await;
    app.account(tenant.id, "gone@acme.test", Role::Agent).await;
    app.account(tenant.id, "kept@acme.test", Role::Agent).await;
    let admin = app.admin_token(&tenant).await;
    let gone = app.get("/api/v1/agents?q=gone", &admin).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/agents/{gone}/deactivate"),
        &admin,
        json!({}),
    )
    .await;

    b.goto(&app.url("/workbench")).await;
    b.find("#login-form").await;
    // Wrong password: the form says so, and keeps what was typed but the password.
    fill_login(&b, "acme", "kept@acme.test", "not the password").await;
    b.wait_text("#login-error", "Wrong instance, e-mail or password")
        .await;
    // A deactivated account with its right password is refused the same way: kefu
    // does not tell a stranger which accounts exist; the message names the case.
    fill_login(&b, "acme", "gone@acme.test", PASSWORD).await;
    b.wait_text("#login-error", "deactivated").await;
    b.shot("login-refused").await;
    // Throttled: past two failures the server answers 429 with Retry-After.
    fill_login(&b, "acme", "kept@acme.test", "still wrong").await;
    fill_login(&b, "acme", "kept@acme.test", PASSWORD).await;
    b.wait_text("#login-error", "Too many failed sign-ins. Try again in")
        .await;
    let text = b.find("#login-error").await.text().await.unwrap();
    let secs: u64 = text
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("the wait in seconds");
    assert!((1..=30).contains(&secs), "{text}");

    // Signed in elsewhere, then deactivated: the page goes back to the sign-in form.
    let other = app.tenant("other").await;
    let id = app.account(other.id, "soon@other.test", Role::Agent).await;
    sign_in(&b, &app, "other", "soon@other.test").await;
    let token = "JSON.parse(sessionStorage.getItem('kefu.tokens')).access";
    let first = b.js(&format!("return {token}")).await;
    b.until_js(
        "the access token renewed before it expires",
        &format!("{token} !== {first}"),
    )
    .await;
    let renewed = b.js(&format!("return {token}")).await;
    let me = app.get("/api/v1/me", renewed.as_str().unwrap()).await;
    assert_eq!(me.status, reqwest::StatusCode::OK, "{:?}", me.body);

    // The agent's own quick replies: a refused shortcut is explained beside its field.
    b.click("#avatar").await;
    b.click("#my-quick").await;
    b.type_in("#quick-shortcut", "has space").await;
    b.type_in("#quick-text", "再见，${SystemClientNickName}")
        .await;
    b.click(".quick-form button[type=submit]").await;
    b.wait_text("[data-error-for=\"shortcut\"]", "letters, digits")
        .await;
    b.find("#quick-shortcut").await.clear().await.unwrap();
    b.type_in("#quick-shortcut", "bye").await;
    b.click(".quick-form button[type=submit]").await;
    b.wait_text(".my-quick", "/bye").await;
    b.shot("my-quick-replies").await;
    let mine = app
        .get(
            "/api/v1/quick-replies?scope=personal",
            &app.token("other", "soon@other.test").await,
        )
        .await;
    assert_eq!(
        mine.body["items"][0]["text"],
        "再见，${SystemClientNickName}"
    );
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(&fantoccini::key::Key::Escape.to_string())
        .await
        .unwrap();
    let other_admin = app.admin_token(&other).await;
    app.post(
        &format!("/api/v1/agents/{id}/deactivate"),
        &other_admin,
        json!({}),
    )
    .await;
    b.wait_text("#login-error", "sign-in has ended").await;
    b.close().await;
}
