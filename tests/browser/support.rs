//! What the browser tests share: the tenant they run in and the workbench's sign-in.

use kefu_tests::agent_desk::{Agent, Desk, flow_channel, survey_graph};
use kefu_tests::{PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::driver::Browser;

/// Manual accept with a long countdown: the tests accept by hand.
pub fn manual() -> Value {
    json!({
        "accept_mode": "manual", "offer_timeout_secs": 120,
        "queue_max_length": 1000, "queue_max_wait_secs": 3600
    })
}

/// The IM account of the channel whose flow has a survey.
pub const RATED: &str = "kefu_rated";

/// A desk with two agents (小一, staff number A01, and Bea, B02), the channel with a survey, two
/// rest reasons and a shared quick reply.
pub async fn workplace(app: &TestApp, slug: &str) -> (Desk, Vec<Agent>) {
    let desk = Desk::new(app, slug, manual()).await;
    let agents = desk.agents(app, "agent", 2, 3).await;
    for (agent, (nickname, staff_no)) in agents.iter().zip([("小一", "A01"), ("Bea", "B02")]) {
        let r = app
            .patch(
                &format!("/api/v1/agents/{}", agent.id),
                &desk.admin,
                json!({"nickname": nickname, "staff_no": staff_no}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    flow_channel(
        app,
        &desk.admin,
        &desk.im,
        RATED,
        survey_graph(&desk.group),
        None,
    )
    .await;
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/routing/settings",
            Some(&desk.admin),
            Some(json!({"rest_reasons": ["午饭 Lunch", "培训 Training"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/quick-replies",
            &desk.admin,
            json!({"scope": "tenant", "shortcut": "hi", "text": "您好，我是${StaffNickName}，很高兴为您服务！"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (desk, agents)
}

/// Signs in on the workbench's form and waits for the desk.
pub async fn sign_in(b: &Browser, app: &TestApp, tenant: &str, email: &str) {
    b.goto(&app.url("/workbench")).await;
    b.find("#login-form").await;
    fill_login(b, tenant, email, PASSWORD).await;
    b.until_js(
        "the desk to be ready",
        "document.body.dataset.ready === '1'",
    )
    .await;
}

pub async fn fill_login(b: &Browser, tenant: &str, email: &str, password: &str) {
    for (css, value) in [
        ("#login-tenant", tenant),
        ("#login-email", email),
        ("#login-password", password),
    ] {
        b.find(css).await.clear().await.ok();
        b.type_in(css, value).await;
    }
    b.click("#login-submit").await;
}

/// Picks a status from the avatar menu (`reason` for a rest).
pub async fn choose_status(b: &Browser, status: &str, reason: Option<&str>) {
    b.click("#avatar").await;
    let css = match reason {
        Some(r) => format!("#status-menu [data-set=\"rest\"][data-reason=\"{r}\"]"),
        None => format!("#status-menu [data-set=\"{status}\"]"),
    };
    b.click(&css).await;
}

/// The texts of the transcript's messages from `sender`.
pub async fn said_by(b: &Browser, sender: &str) -> Vec<String> {
    let v = b
        .js_with(
            "return [...document.querySelectorAll(`#conversation .msg[data-sender=\"${arguments[0]}\"] .bubble`)].map(e => e.textContent)",
            vec![json!(sender)],
        )
        .await;
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A user message of any IM elements, posted to kefu's `sendmsg` ingress as IM would.
pub async fn say_elements(app: &TestApp, account: &str, user: &str, random: u32, body: Value) {
    let query = kefu_tests::fake_im::admin_query(
        kefu_tests::agent_desk::SDKAPPID,
        kefu_tests::agent_desk::SECRET,
        "administrator",
    );
    let answer: Value = app
        .client
        .post(app.url(&format!("/v4/openim/sendmsg?{query}")))
        .json(&json!({
            "SyncOtherMachine": 2, "From_Account": user, "To_Account": account,
            "MsgSeq": random, "MsgRandom": random, "MsgBody": body
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ActionStatus"], "OK", "{answer}");
}
