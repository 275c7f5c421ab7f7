//! `GET /metrics`: off by default, behind its bearer token when one is set, and in
//! Prometheus' text format with the figures of what the server did.

use reqwest::StatusCode;
use serde_json::json;

use kefu_tests::agent_desk::{Desk, WAIT, eventually};
use kefu_tests::{spawn_app, spawn_app_with};

const TOKEN: &str = "scrape-token-0123456789";

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_what_sessions_did() {
    let app = spawn_app_with(|c| {
        c.metrics.enabled = true;
        c.metrics.bearer_token = Some(TOKEN.to_owned());
    })
    .await;
    let desk = Desk::new(&app, "acme", json!({"accept_mode": "auto"})).await;
    desk.say(&app, "user_1", "人工").await;
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), StatusCode::OK);
    let session = desk
        .wait_user_session(&app, "user_1", "queued", |s| s["status"] == "queued")
        .await;
    let sid = session["id"].as_str().expect("id");
    let one = app
        .get(&format!("/api/v1/sessions/{sid}"), &desk.admin)
        .await;
    assert_eq!(one.status, StatusCode::OK);

    let bare = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-token-0123456780")
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let text = eventually(WAIT, "the queue in the metrics", async || {
        let r = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let text = r.text().await.map_err(|e| e.to_string())?;
        if text.contains("kefu_queue_sessions{") {
            Ok(text)
        } else {
            Err(text)
        }
    })
    .await;
    for needle in [
        // Counters are the process's: other tests' servers in this process add to
        // them, so only their presence is certain here.
        "kefu_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}",
        // The route template, never the session's id.
        "route=\"/api/v1/sessions/{id}\",status=\"200\"",
        "kefu_http_request_duration_seconds_bucket{",
        "kefu_im_ingress_requests_total{endpoint=\"sendmsg\",result=\"ok\"}",
        "kefu_sessions_opened_total",
        "kefu_flow_steps_total{module=\"transfer\"}",
        "kefu_flow_step_duration_seconds_bucket{",
        "kefu_agents{status=\"offline\"}",
        "kefu_queue_oldest_wait_seconds{",
        "kefu_webhook_outbox_pending 0",
        "kefu_im_outbox_pending",
        "kefu_db_pool_max_connections 8",
        "kefu_db_statements_total{result=\"ok\"}",
        "kefu_db_statement_duration_seconds_bucket{",
        "kefu_sqlite_writer_busy_seconds_total",
        "kefu_sqlite_grouped_commits_total",
        "kefu_sqlite_grouped_writes_total",
        "# EOF",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
    // The user's turns were committed by SQLite's writer (on PostgreSQL, writers do
    // not take turns, and these stay at zero).
    if !app.database.postgres {
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in:\n{text}"))
        };
        assert!(value("kefu_sqlite_grouped_commits_total") >= 1.0);
        let commits = value("kefu_sqlite_grouped_commits_total");
        assert!(value("kefu_sqlite_grouped_writes_total") >= commits);
        assert!(value("kefu_sqlite_writer_busy_seconds_total") > 0.0);
    }
    assert!(!text.contains(sid), "no session ids as label values");
}
