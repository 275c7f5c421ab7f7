//! An agent's status: chosen, validated and derived (busy at the cap, offline without
//! a socket), the tenant's routing settings that bound it, the time counted in each
//! status and the admins' monitor. The socket's own life is in `socket.rs`.

use std::time::Duration;

use kefu_tests::agent_desk::{WAIT, eventually, id_of, is_event};
use kefu_tests::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    assert_names_field, assert_not_json_refused, assert_unprocessable, auto, desk_with,
    status_time, with_agent,
};

#[tokio::test]
async fn agent_status_is_chosen_validated_and_derived() {
    let app = spawn_app().await;
    let (desk, agents) = desk_with(&app, auto(), 1, 1).await;
    let agent = &agents[0];

    let before = agent.status(&app).await;
    assert_eq!(before["status"], "offline", "no socket yet: {before}");
    assert_eq!(before["online"], false);
    assert_eq!(before["max_concurrent_sessions"], 1);
    assert_eq!(before["active_sessions"], 0);

    let mut socket = agent.connect(&app).await;
    assert_eq!(socket.ready["agent_id"], agent.id.as_str());
    assert_eq!(socket.ready["status"]["max_concurrent_sessions"], 1);
    let free = agent.free(&app).await;
    assert_eq!(free["status"], "free", "{free}");
    assert_eq!(free["chosen"], "free");
    assert_eq!(free["reason"], Value::Null);
    assert_eq!(free["online"], true);
    for key in [
        "since",
        "last_status_at",
        "after_call_work_until",
        "last_online_at",
    ] {
        assert!(free.get(key).is_some(), "{key} missing: {free}");
    }

    let cases: [(Value, &str); 7] = [
        (json!({"status": "rest"}), "reason"),
        (json!({"status": "rest", "reason": "睡觉 Nap"}), "reason"),
        (json!({"status": "rest", "reason": ""}), "reason"),
        (json!({"status": "busy"}), "status"),
        (json!({"status": "afterCallWork"}), "status"),
        (json!({"status": "offline"}), "status"),
        (json!({"status": "sleeping"}), "status"),
    ];
    for (body, field) in cases {
        let r = agent
            .call(&app, Method::PUT, "/status", Some(body.clone()))
            .await;
        assert_unprocessable(&r, &body);
        assert_eq!(r.code(), "validation_failed", "{body}");
        assert!(
            r.field(field).is_some(),
            "{body}: {field} not named: {:?}",
            r.body
        );
    }
    let path = "/api/v1/agent/status";
    assert_not_json_refused(&app, Method::PUT, path, &agent.token, "{\"status\":").await;
    assert_eq!(
        agent.status(&app).await["status"],
        "free",
        "nothing changed"
    );

    let rest = agent.set_status(&app, "rest", Some("午餐 Lunch")).await;
    assert_eq!(rest.status, StatusCode::OK, "{:?}", rest.body);
    assert_eq!(rest.body["status"], "rest");
    assert_eq!(rest.body["chosen"], "rest");
    assert_eq!(rest.body["reason"], "午餐 Lunch");
    socket
        .frame_where(WAIT, "a status event saying rest", |f| {
            is_event(f, "status") && f["data"]["reason"] == "午餐 Lunch"
        })
        .await;
    let not_ready = agent.set_status(&app, "notReady", None).await;
    assert_eq!(not_ready.body["status"], "notReady");
    assert_eq!(not_ready.body["reason"], Value::Null);
    agent.free(&app).await;

    // At its cap the agent is busy, still having chosen free.
    desk.say(&app, "user_1", "人工").await;
    let first = with_agent(&app, &desk, "user_1", "the session with the agent").await;
    socket.event_about("assigned", &id_of(&first), WAIT).await;
    let busy = agent.status(&app).await;
    assert_eq!(busy["status"], "busy", "{busy}");
    assert_eq!(busy["chosen"], "free");
    assert_eq!(busy["active_sessions"], 1);
    // Not-ready outranks busy.
    let nr = agent.set_status(&app, "notReady", None).await;
    assert_eq!(nr.body["status"], "notReady");
    agent.free(&app).await;

    desk.say(&app, "user_2", "人工").await;
    let queues = eventually(WAIT, "the queue figures to show one waiting", async || {
        let q = agent.get(&app, "/queues").await;
        assert_eq!(q.status, StatusCode::OK, "{:?}", q.body);
        let item = q.body["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i["skill_group_id"] == desk.group.as_str())
            })
            .cloned();
        match item {
            Some(i) if i["waiting"] == 1 => Ok(i),
            _ => Err(q.body.to_string()),
        }
    })
    .await;
    assert_eq!(queues["name"], "售后 After-sales");
    assert_eq!(queues["agents_online"], 1);
    assert_eq!(queues["agents_free"], 0);
    for key in ["longest_wait_secs", "estimated_wait_secs"] {
        assert!(queues[key].is_number(), "{key}: {queues}");
    }
    let snapshot = socket
        .frame_where(WAIT, "a queues frame with one waiting", |f| {
            f["type"] == "queues"
                && f["items"].as_array().is_some_and(|items| {
                    items
                        .iter()
                        .any(|i| i["skill_group_id"] == desk.group.as_str() && i["waiting"] == 1)
                })
        })
        .await;
    assert!(snapshot["seq"].is_u64(), "{snapshot}");
}

#[tokio::test]
async fn routing_settings_have_defaults_and_refuse_bad_values() {
    let app = spawn_app().await;
    let (desk, agents) = desk_with(&app, auto(), 1, 3).await;
    let agent = &agents[0];
    let put = async |token: &str, body: Value| {
        app.call(
            Method::PUT,
            "/api/v1/routing/settings",
            Some(token),
            Some(body),
        )
        .await
    };

    let settings = app.get("/api/v1/routing/settings", &desk.admin).await;
    assert_eq!(settings.status, StatusCode::OK, "{:?}", settings.body);
    assert_eq!(
        settings.body,
        json!({
            "rest_reasons": ["午餐 Lunch", "会议 Meeting", "培训 Training", "小休 Break"],
            "after_call_work_secs": 0, "rest_on_missed_offer": true
        })
    );

    let bad = [
        (
            json!({"after_call_work_secs": 3601}),
            "after_call_work_secs",
        ),
        (json!({"rest_reasons": []}), "rest_reasons"),
        (
            json!({"rest_reasons": ["同 Same", "同 Same"]}),
            "rest_reasons",
        ),
        (json!({"rest_reasons": ["x".repeat(33)]}), "rest_reasons"),
        (json!({"rest_reasons": [""]}), "rest_reasons"),
        (
            json!({"rest_reasons": (0..21).map(|i| format!("r{i}")).collect::<Vec<_>>()}),
            "rest_reasons",
        ),
    ];
    for (body, field) in bad {
        let r = put(&desk.admin, body.clone()).await;
        assert_names_field(&r, &body, field);
    }
    let by_agent = put(&agent.token, json!({"after_call_work_secs": 5})).await;
    assert_eq!(by_agent.status, StatusCode::FORBIDDEN);
    let unchanged = app.get("/api/v1/routing/settings", &desk.admin).await;
    assert_eq!(unchanged.body, settings.body, "nothing half-written");

    let changed = put(
        &desk.admin,
        json!({"rest_reasons": ["开会 Meeting", "休息 Break"], "after_call_work_secs": 30}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let expected = json!({
        "rest_reasons": ["开会 Meeting", "休息 Break"],
        "after_call_work_secs": 30, "rest_on_missed_offer": true
    });
    assert_eq!(changed.body, expected, "absent fields are kept");
    assert_eq!(
        app.get("/api/v1/routing/settings", &desk.admin).await.body,
        expected
    );

    let _socket = agent.connect(&app).await;
    let old = agent.set_status(&app, "rest", Some("午餐 Lunch")).await;
    assert_eq!(
        old.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        old.body
    );
    assert!(old.field("reason").is_some());
    let new = agent.set_status(&app, "rest", Some("开会 Meeting")).await;
    assert_eq!(new.status, StatusCode::OK, "{:?}", new.body);
    assert_eq!(new.body["reason"], "开会 Meeting");
}

#[tokio::test]
async fn time_in_each_status_is_counted_and_agents_are_monitored() {
    let app = spawn_app().await;
    let (desk, agents) = desk_with(&app, auto(), 1, 3).await;
    let agent = &agents[0];
    let _socket = agent.connect(&app).await;
    agent.free(&app).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let nr = agent.set_status(&app, "notReady", None).await;
    assert_eq!(nr.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let today = || {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive()
            .to_string()
    };
    let before = today();
    let s = status_time(&app, &desk.admin, &agent.id, "").await;
    let after = today();
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    let s = s.body;
    assert_eq!(s["agent_id"], agent.id.as_str());
    let date = s["date"].as_str().unwrap();
    assert!(
        date == before || date == after,
        "{date}: the tenant's today"
    );
    assert_eq!(s["status"], "notReady");
    assert_eq!(s["chosen"], "notReady");
    assert_eq!(s["online"], true);
    let seconds = &s["seconds"];
    for key in [
        "free",
        "notReady",
        "rest",
        "busy",
        "afterCallWork",
        "offline",
    ] {
        assert!(
            seconds[key].as_f64().is_some_and(|n| n >= 0.0),
            "{key}: {seconds}"
        );
    }
    assert!(seconds["free"].as_f64().unwrap() > 0.0, "{seconds}");
    assert_eq!(seconds["rest"].as_f64(), Some(0.0));

    let long_ago = status_time(&app, &desk.admin, &agent.id, "?date=2000-01-01").await;
    assert_eq!(long_ago.status, StatusCode::OK, "{:?}", long_ago.body);
    assert_eq!(long_ago.body["date"], "2000-01-01");
    assert_eq!(long_ago.body["seconds"]["free"].as_f64(), Some(0.0));
    let bad_date = status_time(&app, &desk.admin, &agent.id, "?date=2024-13-45").await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.field("date").is_some(), "{:?}", bad_date.body);
    let nobody = uuid::Uuid::now_v7().to_string();
    let unknown = status_time(&app, &desk.admin, &nobody, "").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let as_agent = status_time(&app, &agent.token, &agent.id, "").await;
    assert_eq!(as_agent.status, StatusCode::FORBIDDEN);

    let monitor = app.get("/api/v1/monitor/agents", &desk.admin).await;
    assert_eq!(monitor.status, StatusCode::OK, "{:?}", monitor.body);
    let row = monitor.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["agent_id"] == agent.id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the agent is not listed: {:?}", monitor.body));
    assert_eq!(row["name"], agent.name.as_str());
    assert_eq!(row["status"], "notReady");
    assert_eq!(row["online"], true);
    assert_eq!(
        app.get("/api/v1/monitor/agents", &agent.token).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_monitor_board_pages_finds_and_filters_within_the_tenant() {
    let app = spawn_app().await;
    let (desk, agents) = desk_with(&app, auto(), 5, 2).await;
    // Three online and free; two who only asked for their status (offline).
    let _sockets = kefu_tests::agent_desk::online_and_free(&app, &agents[..3]).await;
    for agent in &agents[3..] {
        assert_eq!(agent.status(&app).await["status"], "offline");
    }
    // Another tenant's agents are never on this tenant's board.
    let globex = app.tenant("globex").await;
    let globex_admin = app.admin_token(&globex).await;
    let created = app
        .post(
            "/api/v1/agents",
            &globex_admin,
            json!({"email": "agent0@globex.test", "name": "agent 0", "password": kefu_tests::PASSWORD}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let theirs = id_of(&created.body);
    let their_token = app.token("globex", "agent0@globex.test").await;
    let their_status = app.get("/api/v1/agent/status", &their_token).await;
    assert_eq!(
        their_status.status,
        StatusCode::OK,
        "{:?}",
        their_status.body
    );
    let board = async |query: &str| {
        let reply = app
            .get(&format!("/api/v1/monitor/agents{query}"), &desk.admin)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.body);
        reply.body
    };
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let all = board("").await;
    assert_eq!(all["total"], 5, "{all}");
    assert_eq!(all["page_size"], 100);
    assert_eq!(
        names(&all),
        ["agent 0", "agent 1", "agent 2", "agent 3", "agent 4"]
    );
    let first = board("?page_size=2").await;
    assert_eq!(
        (first["total"].as_u64(), first["page"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(names(&first), ["agent 0", "agent 1"]);
    let last = board("?page_size=2&page=3").await;
    assert_eq!(names(&last), ["agent 4"]);
    assert!(names(&board("?page_size=2&page=4").await).is_empty());

    let free = board("?status=free").await;
    assert_eq!(free["total"], 3, "{free}");
    assert!(
        free["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "free" && a["online"] == true)
    );
    let offline = board("?status=offline").await;
    assert_eq!(names(&offline), ["agent 3", "agent 4"]);
    assert_eq!(names(&board("?q=NT%203").await), ["agent 3"]);
    // `%` and `_` are letters here, not patterns.
    assert_eq!(board("?q=%25").await["total"], 0);
    let group = board(&format!("?skill_group_id={}", desk.group)).await;
    assert_eq!(group["total"], 5);
    let picked = board(&format!("?agent_ids={},{}", agents[4].id, agents[0].id)).await;
    assert_eq!(names(&picked), ["agent 0", "agent 4"]);
    let foreign = board(&format!("?agent_ids={theirs}")).await;
    assert_eq!(foreign["total"], 0, "{foreign}");
    let theirs_board = app.get("/api/v1/monitor/agents", &globex_admin).await;
    assert_eq!(theirs_board.body["total"], 1, "{:?}", theirs_board.body);

    for (query, field) in [
        ("?page_size=101", "page_size"),
        ("?page=0", "page"),
        ("?agent_ids=nope", "agent_ids"),
        ("?q=a%01b", "q"),
    ] {
        let reply = app
            .get(&format!("/api/v1/monitor/agents{query}"), &desk.admin)
            .await;
        assert_unprocessable(&reply, &json!(query));
        assert!(reply.field(field).is_some(), "{query}: {:?}", reply.body);
    }
    let many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let too_many = app
        .get(
            &format!("/api/v1/monitor/agents?agent_ids={}", many.join(",")),
            &desk.admin,
        )
        .await;
    assert_unprocessable(&too_many, &json!("101 agent ids"));
    assert!(too_many.field("agent_ids").is_some(), "{:?}", too_many.body);
    let bad_status = app
        .get("/api/v1/monitor/agents?status=sleeping", &desk.admin)
        .await;
    assert_unprocessable(&bad_status, &json!("status=sleeping"));
}
