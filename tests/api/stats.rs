//! Statistics over a known history: legs at fixed instants around the end of summer
//! time in Berlin (a 25-hour day), written as records, and every figure of the
//! session and agent reports asserted — while the legs are still waiting for the
//! rollup and again once every ended leg has been rolled up. Also the live figures.

use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use kefu::store::entity::session_record::Model as Row;
use kefu_tests::agent_desk::{Desk, WAIT, eventually, online_and_free};
use kefu_tests::{TestApp, spawn_app};

/// Milliseconds of a local Berlin time given with its offset.
fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

fn leg(desk: &Desk, started: &str) -> Row {
    let id = Uuid::now_v7();
    Row {
        id,
        tenant_id: desk.tenant.id.0,
        conversation_id: id,
        channel_id: desk.channel.parse().expect("channel id"),
        source: "im".into(),
        user_id: format!("u-{id}"),
        user_nickname: "用户".into(),
        skill_group_id: None,
        agent_id: None,
        status: "ended".into(),
        started_ms: at(started),
        queued_ms: None,
        left_queue_ms: None,
        offered_ms: None,
        accepted_ms: None,
        first_reply_ms: None,
        ended_ms: None,
        end_status: None,
        ended_by: None,
        transferred_from: None,
        from_agent_id: None,
        transferred_to: None,
        to_agent_id: None,
        to_skill_group_id: None,
        user_messages: 1,
        bot_messages: 1,
        agent_messages: 0,
        system_messages: 0,
        pending_user_ms: None,
        response_ms: 0,
        responses: 0,
        survey_invited_ms: None,
        survey_score: None,
        survey_label: None,
        survey_comment: None,
        survey_rated_ms: None,
        rolled_up: false,
    }
}

const S: i64 = 1000;

/// The history; answers the two agents' ids.
async fn history(app: &TestApp, desk: &Desk, a: Uuid, b: Uuid) {
    let group: Uuid = desk.group.parse().expect("group id");
    let mut rows = Vec::new();
    // 24 Oct, a bot-only leg.
    let mut l1 = leg(desk, "2026-10-24T10:00:00+02:00");
    l1.ended_ms = Some(l1.started_ms + 60 * S);
    l1.end_status = Some(1);
    rows.push(l1);
    // 25 Oct 01:30 (summer time): queued 10 s after the start, offered after 30 s in
    // the queue, accepted 5 s later, first reply 10 s after that, two responses of
    // 8 s in all, ended 300 s after acceptance, rated 5.
    let mut l2 = leg(desk, "2026-10-25T01:30:00+02:00");
    let t = l2.started_ms;
    l2.skill_group_id = Some(group);
    l2.agent_id = Some(a);
    l2.queued_ms = Some(t + 10 * S);
    l2.offered_ms = Some(t + 40 * S);
    l2.accepted_ms = Some(t + 45 * S);
    l2.first_reply_ms = Some(t + 55 * S);
    l2.responses = 2;
    l2.response_ms = 8 * S;
    l2.agent_messages = 3;
    l2.ended_ms = Some(t + 345 * S);
    l2.end_status = Some(1);
    l2.survey_invited_ms = Some(t + 345 * S);
    l2.survey_score = Some(5);
    rows.push(l2);
    // 25 Oct 02:30 in the repeated hour (winter time): 120 s in the queue, then the
    // user timed out.
    let mut l3 = leg(desk, "2026-10-25T02:30:00+01:00");
    let t = l3.started_ms;
    l3.skill_group_id = Some(group);
    l3.queued_ms = Some(t);
    l3.left_queue_ms = Some(t + 120 * S);
    l3.ended_ms = Some(t + 120 * S);
    l3.end_status = Some(108);
    rows.push(l3);
    // The last second of 25 Oct: 5 s in the queue, assigned at once, first reply
    // after 60 s, ended 600 s after the start, rated 3.
    let mut l4 = leg(desk, "2026-10-25T23:59:59+01:00");
    let t = l4.started_ms;
    l4.skill_group_id = Some(group);
    l4.agent_id = Some(b);
    l4.queued_ms = Some(t);
    l4.offered_ms = Some(t + 5 * S);
    l4.accepted_ms = Some(t + 5 * S);
    l4.first_reply_ms = Some(t + 65 * S);
    l4.agent_messages = 1;
    l4.ended_ms = Some(t + 600 * S);
    l4.end_status = Some(101);
    l4.survey_invited_ms = Some(t + 600 * S);
    l4.survey_score = Some(3);
    let l4_id = l4.id;
    rows.push(l4);
    // 26 Oct at midnight: the user left in the flow.
    let mut l5 = leg(desk, "2026-10-26T00:00:00+01:00");
    l5.ended_ms = Some(l5.started_ms + 30 * S);
    l5.end_status = Some(102);
    rows.push(l5);
    // 26 Oct: the leg l4's transfer started, with a, still going on.
    let mut l6 = leg(desk, "2026-10-26T09:00:00+01:00");
    let t = l6.started_ms;
    l6.status = "with_agent".into();
    l6.skill_group_id = Some(group);
    l6.agent_id = Some(a);
    l6.transferred_from = Some(l4_id);
    l6.from_agent_id = Some(b);
    l6.accepted_ms = Some(t);
    l6.offered_ms = Some(t);
    l6.first_reply_ms = Some(t + 20 * S);
    l6.agent_messages = 1;
    rows.push(l6);
    // Outside the range, and another tenant's.
    let mut before = leg(desk, "2026-10-23T23:59:59+02:00");
    before.ended_ms = Some(before.started_ms + S);
    rows.push(before);
    for r in rows {
        r.into_active_model().insert(&app.db).await.expect("a leg");
    }
    // Agent a: free for two hours, then resting for half an hour, on 25 Oct.
    for (status, from, to) in [
        (
            "free",
            "2026-10-25T09:00:00+01:00",
            "2026-10-25T11:00:00+01:00",
        ),
        (
            "rest",
            "2026-10-25T11:00:00+01:00",
            "2026-10-25T11:30:00+01:00",
        ),
    ] {
        let b = app.db.get_database_backend();
        app.db
            .execute_raw(Statement::from_sql_and_values(
                b,
                match b {
                    sea_orm::DatabaseBackend::Postgres => {
                        "INSERT INTO agent_status_log (id, tenant_id, agent_id, status, reason, started_at, ended_at) \
                         VALUES ($1, $2, $3, $4, NULL, $5, $6)"
                    }
                    _ => {
                        "INSERT INTO agent_status_log (id, tenant_id, agent_id, status, reason, started_at, ended_at) \
                         VALUES (?, ?, ?, ?, NULL, ?, ?)"
                    }
                },
                [
                    Uuid::now_v7().into(),
                    desk.tenant.id.0.into(),
                    a.into(),
                    status.into(),
                    chrono::DateTime::parse_from_rfc3339(from).expect("t").to_utc().into(),
                    chrono::DateTime::parse_from_rfc3339(to).expect("t").to_utc().into(),
                ],
            ))
            .await
            .expect("a status period");
    }
}

fn figures(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("start");
        o.remove("end");
    }
    v
}

fn scores(s: [i64; 5]) -> Value {
    json!({"1": s[0], "2": s[1], "3": s[2], "4": s[3], "5": s[4]})
}

/// Every figure of the three days, as the README defines them.
fn expected_days() -> Vec<Value> {
    let empty = |incoming: i64| {
        json!({
            "incoming": incoming, "agent_transfers": 0, "transferred_to_agent": 0,
            "accepted": 0, "acceptance_rate": null, "abandoned_in_flow": 0,
            "abandoned_in_queue": 0, "user_timeouts": 0, "queue_waits": 0,
            "average_queue_wait_secs": null, "p90_queue_wait_secs": null,
            "average_accept_secs": null, "average_first_response_secs": null,
            "average_response_secs": null, "average_handling_secs": null,
            "satisfaction_invitations": 0, "ratings": 0, "ratings_by_score": scores([0; 5]),
            "csat": null, "bot_contained": 0, "bot_contained_share": null,
        })
    };
    let mut d24 = empty(1);
    d24["bot_contained"] = json!(1);
    d24["bot_contained_share"] = json!(1.0);
    d24["acceptance_rate"] = json!(0.0);
    let d25 = json!({
        "incoming": 3, "agent_transfers": 0, "transferred_to_agent": 3,
        "accepted": 2, "acceptance_rate": 0.6667, "abandoned_in_flow": 0,
        "abandoned_in_queue": 1, "user_timeouts": 1, "queue_waits": 3,
        "average_queue_wait_secs": 51.667, "p90_queue_wait_secs": 120,
        "average_accept_secs": 2.5, "average_first_response_secs": 35.0,
        "average_response_secs": 4.0, "average_handling_secs": 447.5,
        "satisfaction_invitations": 2, "ratings": 2, "ratings_by_score": scores([0, 0, 1, 0, 1]),
        "csat": 0.5, "bot_contained": 0, "bot_contained_share": 0.0,
    });
    let d26 = json!({
        "incoming": 2, "agent_transfers": 1, "transferred_to_agent": 1,
        "accepted": 1, "acceptance_rate": 0.5, "abandoned_in_flow": 1,
        "abandoned_in_queue": 0, "user_timeouts": 0, "queue_waits": 0,
        "average_queue_wait_secs": null, "p90_queue_wait_secs": null,
        "average_accept_secs": 0.0, "average_first_response_secs": 20.0,
        "average_response_secs": null, "average_handling_secs": null,
        "satisfaction_invitations": 0, "ratings": 0, "ratings_by_score": scores([0; 5]),
        "csat": null, "bot_contained": 1, "bot_contained_share": 0.5,
    });
    vec![d24, d25, d26]
}

async fn check_reports(app: &TestApp, desk: &Desk, a: Uuid, b: Uuid, when: &str) {
    let days = app
        .get(
            "/api/v1/stats/sessions?from=2026-10-24&to=2026-10-26&interval=day",
            &desk.admin,
        )
        .await;
    assert_eq!(days.status, StatusCode::OK, "{:?}", days.body);
    assert_eq!(days.body["time_zone"], "Europe/Berlin");
    let buckets = days.body["buckets"].as_array().expect("buckets");
    let starts: Vec<&str> = buckets
        .iter()
        .map(|b| b["start"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        starts,
        [
            "2026-10-24T00:00:00+02:00",
            "2026-10-25T00:00:00+02:00",
            "2026-10-26T00:00:00+01:00"
        ],
        "{when}"
    );
    for (i, want) in expected_days().iter().enumerate() {
        assert_eq!(&figures(&buckets[i]), want, "{when}: day {i}");
    }
    assert_eq!(days.body["total"]["incoming"], 6, "{when}");
    assert_eq!(days.body["total"]["accepted"], 3, "{when}");
    assert_eq!(days.body["total"]["ratings"], 2, "{when}");

    // Hours of the 25-hour day: the repeated hour is two buckets.
    let hours = app
        .get(
            "/api/v1/stats/sessions?from=2026-10-25&to=2026-10-25&interval=hour",
            &desk.admin,
        )
        .await;
    assert_eq!(hours.status, StatusCode::OK, "{:?}", hours.body);
    let hours = hours.body["buckets"].as_array().expect("buckets").clone();
    assert_eq!(hours.len(), 25, "{when}");
    let busy: Vec<(String, i64)> = hours
        .iter()
        .filter(|h| h["incoming"].as_i64() != Some(0))
        .map(|h| {
            (
                h["start"].as_str().unwrap_or("").to_owned(),
                h["incoming"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        busy,
        [
            ("2026-10-25T01:00:00+02:00".to_owned(), 1),
            ("2026-10-25T02:00:00+01:00".to_owned(), 1),
            ("2026-10-25T23:00:00+01:00".to_owned(), 1),
        ],
        "{when}"
    );

    // One skill group, or a channel of nobody's: the bot-only legs have no group.
    let scoped = app
        .get(
            &format!(
                "/api/v1/stats/sessions?from=2026-10-24&to=2026-10-26&skill_group_id={}",
                desk.group
            ),
            &desk.admin,
        )
        .await;
    assert_eq!(
        scoped.body["total"]["incoming"], 4,
        "{when}: {:?}",
        scoped.body
    );
    let none = app
        .get(
            &format!(
                "/api/v1/stats/sessions?from=2026-10-24&to=2026-10-26&channel_id={}",
                Uuid::now_v7()
            ),
            &desk.admin,
        )
        .await;
    assert_eq!(none.body["total"]["incoming"], 0, "{when}");

    let agents = app
        .get(
            "/api/v1/stats/agents?from=2026-10-24&to=2026-10-26",
            &desk.admin,
        )
        .await;
    assert_eq!(agents.status, StatusCode::OK, "{:?}", agents.body);
    let line = |id: Uuid| {
        agents.body["items"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["agent_id"] == id.to_string().as_str()))
            .cloned()
            .unwrap_or_else(|| panic!("{when}: no line for {id}: {}", agents.body))
    };
    let la = line(a);
    assert_eq!(la["sessions_served"], 2, "{when}: {la}");
    assert_eq!(la["messages_sent"], 4);
    assert_eq!(la["average_first_response_secs"], 15.0);
    assert_eq!(la["first_responses_within_30s_share"], 1.0);
    assert_eq!(la["average_response_secs"], 4.0);
    assert_eq!(la["average_handling_secs"], 300.0);
    assert_eq!(la["ratings"], 1);
    assert_eq!(la["ratings_by_score"], scores([0, 0, 0, 0, 1]));
    assert_eq!(la["average_score"], 5.0);
    assert_eq!(la["status_seconds"]["free"], 7200, "{when}: {la}");
    assert_eq!(la["status_seconds"]["rest"], 1800);
    let lb = line(b);
    assert_eq!(lb["sessions_served"], 1, "{when}: {lb}");
    assert_eq!(lb["average_first_response_secs"], 60.0);
    assert_eq!(lb["first_responses_within_30s_share"], 0.0);
    assert_eq!(lb["average_handling_secs"], 595.0);
    assert_eq!(lb["average_score"], 3.0);
}

#[tokio::test]
async fn every_figure_of_a_known_history_across_a_dst_change() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", json!({"accept_mode": "auto"})).await;
    let pair = desk.agents(&app, "agent", 2, 3).await;
    let (a, b): (Uuid, Uuid) = (
        pair[0].id.parse().expect("id"),
        pair[1].id.parse().expect("id"),
    );
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE tenants SET time_zone = $1 WHERE id = $2",
        _ => "UPDATE tenants SET time_zone = ? WHERE id = ?",
    };
    app.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            ["Europe/Berlin".into(), desk.tenant.id.0.into()],
        ))
        .await
        .expect("time zone");
    history(&app, &desk, a, b).await;
    check_reports(&app, &desk, a, b, "as written").await;
    // The rollup adds every ended leg once; the figures stay what they were.
    eventually(WAIT, "every ended leg rolled up", async || {
        let left = app
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM session_records WHERE rolled_up = FALSE AND ended_ms IS NOT NULL",
            ))
            .await
            .map_err(|e| e.to_string())?
            .map(|r| r.try_get::<i64>("", "n").unwrap_or(-1))
            .unwrap_or(-1);
        if left == 0 { Ok(()) } else { Err(format!("{left} left")) }
    })
    .await;
    check_reports(&app, &desk, a, b, "rolled up").await;

    // Bad ranges.
    for query in [
        "from=2026-10-26&to=2026-10-24",
        "from=2026-01-01&to=2026-03-01&interval=hour",
        "from=2025-01-01&to=2026-12-31",
    ] {
        let r = app
            .get(&format!("/api/v1/stats/sessions?{query}"), &desk.admin)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {:?}",
            r.body
        );
    }
    let r = app
        .get("/api/v1/stats/sessions?from=x&to=y", &desk.admin)
        .await;
    assert!(r.status.is_client_error());
    let r = app
        .get(
            "/api/v1/stats/sessions?from=2026-10-24&to=2026-10-26",
            &pair[0].token,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn live_figures_count_queues_and_agents_as_they_are() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", json!({"accept_mode": "auto"})).await;
    let pair = desk.agents(&app, "agent", 2, 1).await;
    let _sockets = online_and_free(&app, &pair[..1]).await;
    desk.say(&app, "user_1", "人工").await;
    desk.say(&app, "user_2", "人工").await;
    let live = eventually(WAIT, "one served, one queued", async || {
        let r = app.get("/api/v1/stats/live", &desk.admin).await;
        let o = &r.body["overall"];
        if o["with_agents"] == 1 && o["queued"] == 1 {
            Ok(r.body)
        } else {
            Err(format!("{:?}", r.body))
        }
    })
    .await;
    let o = &live["overall"];
    assert_eq!(o["agents"]["busy"], 1, "{live}");
    // The second agent and the admin (every account is an agent) are offline; only
    // the agent is a member of the group.
    assert_eq!(o["agents"]["offline"], 2, "{live}");
    assert_eq!(live["skill_groups"][0]["agents"]["offline"], 1, "{live}");
    assert_eq!(o["in_flows"], 0);
    let group = &live["skill_groups"][0];
    assert_eq!(group["skill_group_id"], desk.group.as_str());
    assert_eq!(group["queued"], 1);
    assert!(group["longest_wait_secs"].as_u64().is_some());

    // The stream sends the figures at once.
    let mut stream = app
        .client
        .get(app.url("/api/v1/stats/live/stream"))
        .bearer_auth(&desk.admin)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let chunk = tokio::time::timeout(WAIT, stream.chunk())
        .await
        .expect("an event in time")
        .expect("a chunk")
        .expect("not the end");
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.starts_with("event: live"), "{text}");
    assert!(text.contains("\"queued\":1"), "{text}");
}
