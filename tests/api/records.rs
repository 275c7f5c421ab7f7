//! Service records: what a served, transferred and rated conversation leaves behind,
//! the filters and cursor pages of `/api/v1/records`, and its CSV and JSON-lines
//! exports.

use reqwest::StatusCode;
use serde_json::{Value, json};

use kefu_tests::agent_desk::{Desk, WAIT, eventually, online_and_free};
use kefu_tests::spawn_app;

fn auto() -> Value {
    json!({"accept_mode": "auto", "queue_max_length": 100, "queue_max_wait_secs": 3600})
}

async fn records(app: &kefu_tests::TestApp, token: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/records?{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
    r.body
}

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_served_and_transferred_conversation_leaves_one_record_per_leg() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let pair = desk.agents(&app, "agent", 2, 3).await;
    let (a, b) = (&pair[0], &pair[1]);
    let named = app
        .patch(
            &format!("/api/v1/agents/{}", a.id),
            &desk.admin,
            json!({"nickname": "小美", "staff_no": "A007"}),
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{:?}", named.body);
    let _sockets = online_and_free(&app, std::slice::from_ref(a)).await;

    desk.say(&app, "user_1", "人工").await;
    let first = desk
        .wait_user_session(&app, "user_1", "the session with a", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let sid = first["id"].as_str().expect("id").to_owned();
    desk.say(&app, "user_1", "我的订单还没到").await;
    let sent = a
        .post(
            &app,
            &format!("/sessions/{sid}/messages"),
            json!({"elements": [{"type": "text", "text": "您好，我来查一下。"}]}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    // b comes online and takes the user over.
    let _b_socket = online_and_free(&app, std::slice::from_ref(b)).await;
    let moved = a
        .post(
            &app,
            &format!("/sessions/{sid}/transfer"),
            json!({"agent_id": b.id, "note": "物流问题"}),
        )
        .await;
    assert!(moved.status.is_success(), "{:?}", moved.body);
    let second = desk
        .wait_user_session(&app, "user_1", "the leg with b", |s| {
            s["status"] == "with_agent" && s["agent_id"] == b.id.as_str()
        })
        .await;
    let second_id = second["id"].as_str().expect("id").to_owned();
    assert_ne!(second_id, sid);
    let ended = b
        .post(&app, &format!("/sessions/{second_id}/end"), json!({}))
        .await;
    assert!(ended.status.is_success(), "{:?}", ended.body);
    // A second user, served by whoever is free, still talking.
    desk.say(&app, "user_2", "你好").await;

    let page = eventually(WAIT, "three records", async || {
        let page = records(&app, &desk.admin, "").await;
        let list = items(&page);
        let done = list
            .iter()
            .any(|r| r["id"] == second_id.as_str() && r["status"] == "ended")
            && list
                .iter()
                .any(|r| r["user"]["id"] == "user_2" && r["status"] == "with_agent");
        if list.len() == 3 && done {
            Ok(page)
        } else {
            Err(format!("{page}"))
        }
    })
    .await;
    let list = items(&page);
    // Newest first: user_2's leg, then the leg b served, then a's.
    assert_eq!(list[0]["user"]["id"], "user_2");
    let (to_b, to_a) = (&list[1], &list[2]);
    assert_eq!(to_a["id"], sid.as_str());
    assert_eq!(to_a["session_id"], sid.as_str());
    assert_eq!(
        to_b["session_id"],
        sid.as_str(),
        "one conversation, two legs"
    );
    assert_eq!(to_a["end_status"], 101);
    assert_eq!(to_a["end_status_name"], "transferred manually");
    assert_eq!(to_a["ended_by"], "agent");
    assert_eq!(to_a["agent"]["id"], a.id.as_str());
    assert_eq!(to_a["agent"]["nickname"], "小美");
    assert_eq!(to_a["agent"]["staff_no"], "A007");
    assert_eq!(to_a["skill_group"]["id"], desk.group.as_str());
    assert_eq!(to_a["skill_group"]["name"], "售后 After-sales");
    assert_eq!(to_a["channel"]["id"], desk.channel.as_str());
    assert_eq!(to_a["channel"]["source"], "im");
    assert_eq!(to_a["transferred_to"]["record_id"], second_id.as_str());
    assert_eq!(to_a["transferred_to"]["agent_id"], b.id.as_str());
    assert_eq!(to_a["messages"]["user"], 2);
    assert_eq!(to_a["messages"]["agent"], 1);
    assert_eq!(to_a["bot_only"], false);
    assert!(to_a["queue_wait_secs"].as_f64().is_some(), "{to_a}");
    assert!(to_a["first_reply_secs"].as_f64().is_some(), "{to_a}");
    assert!(to_a["duration_secs"].as_f64().is_some(), "{to_a}");
    assert_eq!(to_b["transferred_from"]["record_id"], sid.as_str());
    assert_eq!(to_b["transferred_from"]["agent_id"], a.id.as_str());
    assert_eq!(to_b["agent"]["id"], b.id.as_str());
    assert_eq!(to_b["end_status"], 1);
    assert_eq!(to_b["ended_by"], "agent");
    assert!(to_b["first_reply_secs"].is_null(), "b never wrote: {to_b}");
    assert_eq!(list[0]["status"], "with_agent");
    assert!(list[0]["ended_at"].is_null());
    assert!(list[0]["accepted_at"].is_string(), "{}", list[0]);

    // One record; the conversation's legs; filters.
    let one = app
        .get(&format!("/api/v1/records/{sid}"), &desk.admin)
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["id"], sid.as_str());
    let legs = records(&app, &desk.admin, &format!("session_id={sid}")).await;
    assert_eq!(items(&legs).len(), 2);
    for (query, expect) in [
        (format!("agent_id={}", b.id), vec![second_id.as_str()]),
        ("end_status=101".to_owned(), vec![sid.as_str()]),
        (
            "user_id=user_2".to_owned(),
            vec![list[0]["id"].as_str().unwrap_or("")],
        ),
        ("rated=true".to_owned(), vec![]),
        (
            "rated=false&end_status=1".to_owned(),
            vec![second_id.as_str()],
        ),
        (format!("skill_group_id={}", uuid::Uuid::now_v7()), vec![]),
        ("from=2000-01-01&to=2000-01-02".to_owned(), vec![]),
    ] {
        let got: Vec<String> = items(&records(&app, &desk.admin, &query).await)
            .iter()
            .map(|r| r["id"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(got, expect, "{query}");
    }

    // Pages by cursor, without repeats or gaps.
    let first_page = records(&app, &desk.admin, "limit=2").await;
    assert_eq!(items(&first_page).len(), 2);
    let cursor = first_page["next_cursor"].as_str().expect("a next page");
    let rest = records(&app, &desk.admin, &format!("limit=2&cursor={cursor}")).await;
    assert_eq!(items(&rest).len(), 1);
    assert!(rest["next_cursor"].is_null());
    assert_eq!(items(&rest)[0]["id"], sid.as_str());

    // Bad input gets field errors.
    for query in [
        "limit=0",
        "limit=101",
        "score=9",
        "cursor=zzz",
        "from=yesterday",
        "format=csv",
    ] {
        let r = app
            .get(&format!("/api/v1/records?{query}"), &desk.admin)
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {:?}",
            r.body
        );
    }
    let r = app.get("/api/v1/records?colour=red", &desk.admin).await;
    assert!(r.status.is_client_error(), "{:?}", r.body);

    // Agents may not read records; a supervisor of another group sees none of these.
    let agent = app.get("/api/v1/records", &a.token).await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);
    let other = kefu_tests::agent_desk::skill_group(&app, &desk.admin, "VIP", auto()).await;
    let created = app
        .post(
            "/api/v1/agents",
            &desk.admin,
            json!({"email": "lead@acme.test", "name": "Lead", "password": kefu_tests::PASSWORD,
                   "role": "supervisor", "skill_groups": [{"skill_group_id": other}]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let lead_token = app.token(&desk.tenant.slug, "lead@acme.test").await;
    let theirs = records(&app, &lead_token, "").await;
    assert!(items(&theirs).is_empty(), "{theirs}");
    let missing = app
        .get(&format!("/api/v1/records/{sid}"), &lead_token)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // CSV: a byte-order mark, a header, one line per record, formulas defused.
    let csv = app
        .client
        .get(app.url("/api/v1/records/export?format=csv"))
        .bearer_auth(&desk.admin)
        .send()
        .await
        .expect("export");
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv"),
    );
    let bytes = csv.bytes().await.expect("csv body");
    assert_eq!(&bytes[..3], &[0xef, 0xbb, 0xbf], "UTF-8 byte-order mark");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("record_id,session_id,status,"));
    assert!(text.contains("小美"), "{text}");
    assert!(text.contains("售后 After-sales"));
    assert!(lines[1].contains("user_2"));
    let jsonl = app
        .client
        .get(app.url("/api/v1/records/export?format=jsonl&end_status=101"))
        .bearer_auth(&desk.admin)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    let rows: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], sid.as_str());
    let paged = app.get("/api/v1/records/export?limit=5", &desk.admin).await;
    assert_eq!(paged.status, StatusCode::UNPROCESSABLE_ENTITY);
}
