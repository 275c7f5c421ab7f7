//! Webhooks delivered to real receivers on loopback: every event of a served session,
//! signed as the Standard Webhooks specification says (checked by the receiver's own
//! implementation), in order, with one id per event across retries; retries after
//! downtime; 410 disabling the endpoint; secret rotation with an overlap; the test
//! ping, the deliveries list and a manual redelivery; the API's validation.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use kefu_tests::agent_desk::{Desk, WAIT, eventually, online_and_free};
use kefu_tests::receiver::{Received, Receiver};
use kefu_tests::{TestApp, spawn_app_with};

fn auto() -> Value {
    json!({"accept_mode": "auto"})
}

async fn quick_app() -> TestApp {
    spawn_app_with(|c| {
        c.webhooks.retry_delays_secs = vec![1, 1, 1];
        c.webhooks.timeout_ms = 2_000;
        c.webhooks.lease_secs = 5;
    })
    .await
}

async fn endpoint(app: &TestApp, admin: &str, url: &str, types: Value) -> (String, String) {
    let created = app
        .post(
            "/api/v1/webhooks",
            admin,
            json!({"url": url, "event_types": types, "description": "CRM"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let secret = created.body["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (created.body["id"].as_str().expect("id").to_owned(), secret)
}

async fn wait_for(
    receiver: &Receiver,
    what: &str,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    eventually(WAIT, what, async || {
        let got = receiver.received();
        if done(&got) {
            Ok(got)
        } else {
            Err(format!(
                "{:?}",
                got.iter().map(Received::kind).collect::<Vec<_>>()
            ))
        }
    })
    .await
}

#[tokio::test]
async fn a_served_session_is_pushed_signed_and_in_order() {
    let app = quick_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let receiver = Receiver::start().await;
    let (_, secret) = endpoint(&app, &desk.admin, &receiver.url, json!(["*"])).await;
    let agents = desk.agents(&app, "agent", 1, 3).await;
    let _sockets = online_and_free(&app, &agents).await;
    desk.say(&app, "user_1", "人工").await;
    let s = desk
        .wait_user_session(&app, "user_1", "with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let sid = s["id"].as_str().expect("id").to_owned();
    let sent = agents[0]
        .post(
            &app,
            &format!("/sessions/{sid}/messages"),
            json!({"elements": [{"type": "text", "text": "您好"}]}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED);
    let ended = agents[0]
        .post(&app, &format!("/sessions/{sid}/end"), json!({}))
        .await;
    assert!(ended.status.is_success(), "{:?}", ended.body);
    let got = wait_for(&receiver, "the session's end", |got| {
        got.iter().any(|r| r.kind() == "session.ended")
    })
    .await;
    for r in &got {
        assert!(
            r.signed_by(&secret),
            "signature of {}: {}",
            r.kind(),
            r.signature
        );
        assert!(!r.signed_by("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        let ts: i64 = r.timestamp.parse().expect("a Unix timestamp");
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 120);
    }
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), got.len(), "one id per event");
    let session_kinds: Vec<String> = got
        .iter()
        .filter(|r| r.json()["data"]["session"]["id"] == sid.as_str())
        .map(Received::kind)
        .collect();
    assert_eq!(
        session_kinds,
        [
            "session.started",
            "message.user",
            "session.queued",
            "session.accepted",
            "message.agent",
            "session.ended"
        ],
        "in the order they happened"
    );
    assert!(got.iter().any(|r| r.kind() == "agent.status_changed"));
    let end = got
        .iter()
        .find(|r| r.kind() == "session.ended")
        .expect("ended")
        .json();
    assert_eq!(end["data"]["record"]["id"], sid.as_str());
    assert_eq!(end["data"]["record"]["messages"]["agent"], 1);
    assert_eq!(end["data"]["record"]["agent"]["id"], agents[0].id.as_str());
    assert!(end["timestamp"].is_string());
}

#[tokio::test]
async fn deliveries_are_retried_after_downtime_redelivered_and_stopped_by_410() {
    let app = quick_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let (id, secret) = endpoint(&app, &desk.admin, &receiver.url, json!(["webhook.test"])).await;
    let mut pings = Vec::new();
    for _ in 0..3 {
        let ping = app
            .post(
                &format!("/api/v1/webhooks/{id}/test"),
                &desk.admin,
                json!({}),
            )
            .await;
        assert_eq!(ping.status, StatusCode::ACCEPTED, "{:?}", ping.body);
        pings.push(ping.body["event_id"].as_str().expect("event id").to_owned());
    }
    // Down: the first event is tried again and the others wait behind it.
    wait_for(&receiver, "two attempts of the first", |got| got.len() >= 2).await;
    let early = receiver.received();
    assert!(
        early.iter().all(|r| r.id == pings[0]),
        "order kept while failing"
    );
    receiver.answer(200);
    let got = wait_for(&receiver, "every ping delivered", |got| {
        pings
            .iter()
            .all(|p| got.iter().any(|r| &r.id == p && r.signed_by(&secret)))
    })
    .await;
    let order: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    let firsts: Vec<usize> = pings
        .iter()
        .map(|p| order.iter().position(|o| o == p).unwrap_or(usize::MAX))
        .collect();
    assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // The same body each time.
    let bodies: std::collections::HashSet<&str> = got
        .iter()
        .filter(|r| r.id == pings[0])
        .map(|r| r.body.as_str())
        .collect();
    assert_eq!(bodies.len(), 1);

    let list = eventually(WAIT, "the deliveries, delivered", async || {
        let r = app
            .get(&format!("/api/v1/webhooks/{id}/deliveries"), &desk.admin)
            .await;
        let items = r.body.as_array().cloned().unwrap_or_default();
        if items.len() == 3 && items.iter().all(|d| d["status"] == "delivered") {
            Ok(items)
        } else {
            Err(format!("{:?}", r.body))
        }
    })
    .await;
    let first = list
        .iter()
        .find(|d| d["event_id"] == pings[0].as_str())
        .expect("the first ping");
    assert!(first["attempts"].as_u64().unwrap_or(0) >= 2, "{first}");
    assert_eq!(first["response_status"], 200);
    assert!(first["latency_ms"].is_u64());
    assert_eq!(first["event_type"], "webhook.test");

    // A manual redelivery sends the same event again.
    let before = receiver.received().len();
    let again = app
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/{}/redeliver", pings[1]),
            &desk.admin,
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{:?}", again.body);
    let got = wait_for(&receiver, "the redelivery", |got| got.len() > before).await;
    assert_eq!(got[before].id, pings[1]);
    let unknown = app
        .post(
            &format!(
                "/api/v1/webhooks/{id}/deliveries/{}/redeliver",
                uuid::Uuid::now_v7()
            ),
            &desk.admin,
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Rotation: both secrets sign during the overlap.
    let rotated = app
        .post(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            &desk.admin,
            json!({"overlap_secs": 3600}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new_secret, secret);
    let before = receiver.received().len();
    app.post(
        &format!("/api/v1/webhooks/{id}/test"),
        &desk.admin,
        json!({}),
    )
    .await;
    let got = wait_for(&receiver, "a ping after rotation", |got| got.len() > before).await;
    assert!(got[before].signed_by(&new_secret) && got[before].signed_by(&secret));
    let shown = app
        .get(&format!("/api/v1/webhooks/{id}"), &desk.admin)
        .await;
    assert!(
        !shown.body["secret"]
            .as_str()
            .unwrap_or("")
            .contains(&new_secret[6..])
    );
    assert!(shown.body["previous_secret_expires_at"].is_string());

    // 410 Gone disables the endpoint.
    receiver.answer(410);
    app.post(
        &format!("/api/v1/webhooks/{id}/test"),
        &desk.admin,
        json!({}),
    )
    .await;
    let disabled = eventually(WAIT, "the endpoint disabled", async || {
        let r = app
            .get(&format!("/api/v1/webhooks/{id}"), &desk.admin)
            .await;
        if r.body["enabled"] == false {
            Ok(r.body)
        } else {
            Err(format!("{:?}", r.body))
        }
    })
    .await;
    assert!(disabled["disabled_reason"].is_string(), "{disabled}");
}

#[tokio::test]
async fn a_dead_endpoint_of_one_tenant_does_not_hold_up_another() {
    let app = quick_app().await;
    let slow = Desk::new(&app, "slow", auto()).await;
    let fast = app.tenant("fast").await;
    let fast_admin = app.admin_token(&fast).await;
    let dead = Receiver::start().await;
    dead.answer(500);
    let alive = Receiver::start().await;
    let (dead_id, _) = endpoint(&app, &slow.admin, &dead.url, json!(["webhook.test"])).await;
    let (alive_id, _) = endpoint(&app, &fast_admin, &alive.url, json!(["webhook.test"])).await;
    for _ in 0..5 {
        app.post(
            &format!("/api/v1/webhooks/{dead_id}/test"),
            &slow.admin,
            json!({}),
        )
        .await;
    }
    let started = std::time::Instant::now();
    app.post(
        &format!("/api/v1/webhooks/{alive_id}/test"),
        &fast_admin,
        json!({}),
    )
    .await;
    wait_for(&alive, "the other tenant's ping", |got| !got.is_empty()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Another tenant's endpoint is not there for this one.
    let foreign = app
        .get(&format!("/api/v1/webhooks/{dead_id}"), &fast_admin)
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn endpoints_are_validated_and_admins_only() {
    let app = spawn_app_with(|c| c.outbound.allow_private_addresses = false).await;
    let desk = Desk::new(&app, "acme", auto()).await;
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://127.0.0.1:9/x", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "http://169.254.169.254/latest", "event_types": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/x", "event_types": ["session.nope"]}),
            "event_types",
        ),
        (
            json!({"url": "https://example.com/x", "event_types": []}),
            "event_types",
        ),
    ] {
        let r = app
            .post("/api/v1/webhooks", &desk.admin, body.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert!(r.field(field).is_some(), "{body}: {:?}", r.body);
    }
    let made = app
        .post(
            "/api/v1/webhooks",
            &desk.admin,
            json!({"url": "https://example.com/hook", "event_types": ["session.ended", "survey.rated"]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let id = made.body["id"].as_str().expect("id").to_owned();
    let listed = app.get("/api/v1/webhooks", &desk.admin).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert!(
        listed.body[0]["secret"]
            .as_str()
            .unwrap_or("")
            .starts_with("whsec_…")
    );
    let off = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &desk.admin,
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(off.body["enabled"], false);
    let agents = desk.agents(&app, "agent", 1, 1).await;
    let r = app.get("/api/v1/webhooks", &agents[0].token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let gone = app
        .delete(&format!("/api/v1/webhooks/{id}"), &desk.admin)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = app
        .get(&format!("/api/v1/webhooks/{id}"), &desk.admin)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
