//! What the browser tests share: the tenant they run in and the workbench's sign-in.

use kefu_tests::agent_desk::{Agent, Desk, flow_channel};
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

/// A flow that greets the user, transfers to `group`, and after the agent runs the
/// satisfaction survey, which names the agent.
pub fn survey_graph(group: &str) -> Value {
    json!({
        "start": "welcome",
        "nodes": [
            {"id": "welcome", "module": "send-message", "config": {"messages": [
                {"text": "欢迎光临，正在为您转接人工客服。"}
            ]}},
            {"id": "human", "module": "transfer", "config": {
                "skill_group_id": group, "require_online_agent": false, "queued_message": ""
            }},
            {"id": "rate", "module": "survey", "config": {
                "invitation": "请为客服 ${StaffNickName} 的服务评分",
                "thanks_message": "感谢您的评价！"
            }},
            {"id": "bye", "module": "end", "config": {"end_status": 1}}
        ],
        "edges": [
            {"from": "welcome", "exit": "next", "to": "human"},
            {"from": "human", "exit": "done", "to": "rate"},
            {"from": "human", "exit": "failed", "to": "bye"},
            {"from": "human", "exit": "no-agent", "to": "bye"},
            {"from": "rate", "exit": "rated", "to": "bye"},
            {"from": "rate", "exit": "skipped", "to": "bye"},
            {"from": "rate", "exit": "expired", "to": "bye"}
        ]
    })
}

/// The IM account of the channel whose flow has a survey.
pub const RATED: &str = "kefu_rated";

/// A desk with two agents (nicknames 小一 and Bea), the channel with a survey, two
/// rest reasons and a shared quick reply.
pub async fn workplace(app: &TestApp, slug: &str) -> (Desk, Vec<Agent>) {
    let desk = Desk::new(app, slug, manual()).await;
    let agents = desk.agents(app, "agent", 2, 3).await;
    for (agent, nickname) in agents.iter().zip(["小一", "Bea"]) {
        let r = app
            .patch(
                &format!("/api/v1/agents/{}", agent.id),
                &desk.admin,
                json!({"nickname": nickname}),
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
