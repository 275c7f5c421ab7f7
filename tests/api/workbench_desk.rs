//! What the workbench page reads and writes beyond the agent API's actions: quick
//! replies (shared and personal, and who may change which), internal notes (read by
//! agents and admins, never sent to the user), the inbox with unread counts and
//! waiting times, read marks, colleagues with their status, rest reasons, and who may
//! read which conversation.

use kefu::directory::Role;
use kefu_tests::agent_desk::{Desk, WAIT, eventually, online_and_free};
use kefu_tests::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn auto() -> Value {
    json!({"accept_mode": "auto", "queue_max_length": 1000, "queue_max_wait_secs": 3600})
}

#[tokio::test]
async fn quick_replies_are_shared_by_admins_and_personal_to_each_agent() {
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    app.account(tenant.id, "ann@acme.test", Role::Agent).await;
    app.account(tenant.id, "bob@acme.test", Role::Agent).await;
    let ann = app.token("acme", "ann@acme.test").await;
    let bob = app.token("acme", "bob@acme.test").await;

    let shared = app
        .post(
            "/api/v1/quick-replies",
            &admin,
            json!({"scope": "tenant", "shortcut": "hi", "text": "您好，我是${StaffNickName}"}),
        )
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{:?}", shared.body);
    assert_eq!(shared.body["scope"], "tenant");
    let shared_id = shared.body["id"].as_str().unwrap().to_owned();
    // An agent cannot add to, change or delete the shared list.
    let refused = app
        .post(
            "/api/v1/quick-replies",
            &ann,
            json!({"scope": "tenant", "shortcut": "x", "text": "y"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let refused = app
        .patch(
            &format!("/api/v1/quick-replies/{shared_id}"),
            &ann,
            json!({"text": "mine now"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete(&format!("/api/v1/quick-replies/{shared_id}"), &ann)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Each agent's own list: the same shortcut as the shared one is allowed, twice in
    // one list is not; other agents never see it.
    let mine = app
        .post(
            "/api/v1/quick-replies",
            &ann,
            json!({"scope": "personal", "shortcut": "hi", "text": "Hi, Ann here"}),
        )
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{:?}", mine.body);
    let mine_id = mine.body["id"].as_str().unwrap().to_owned();
    let again = app
        .post(
            "/api/v1/quick-replies",
            &ann,
            json!({"scope": "personal", "shortcut": "hi", "text": "again"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "shortcut_taken")
    );
    let list = app.get("/api/v1/quick-replies", &ann).await;
    let scopes: Vec<(&str, &str)> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["scope"].as_str().unwrap(), q["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        scopes,
        [
            ("tenant", "您好，我是${StaffNickName}"),
            ("personal", "Hi, Ann here")
        ]
    );
    let bobs = app.get("/api/v1/quick-replies", &bob).await;
    assert_eq!(
        bobs.body["items"].as_array().unwrap().len(),
        1,
        "{:?}",
        bobs.body
    );
    let personal = app.get("/api/v1/quick-replies?scope=personal", &ann).await;
    assert_eq!(personal.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.delete(&format!("/api/v1/quick-replies/{mine_id}"), &bob)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "another agent's quick reply is not found"
    );

    // Bad input names its field.
    let bad = app
        .post(
            "/api/v1/quick-replies",
            &ann,
            json!({"scope": "personal", "shortcut": "has space", "text": "x".repeat(2001)}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.field("shortcut").is_some() && bad.field("text").is_some(),
        "{:?}",
        bad.body
    );

    let changed = app
        .patch(
            &format!("/api/v1/quick-replies/{mine_id}"),
            &ann,
            json!({"shortcut": "你好", "text": "Hello from Ann"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["shortcut"], "你好");
    let admin_change = app
        .patch(
            &format!("/api/v1/quick-replies/{shared_id}"),
            &admin,
            json!({"text": "您好"}),
        )
        .await;
    assert_eq!(admin_change.body["text"], "您好");
    assert_eq!(
        app.delete(&format!("/api/v1/quick-replies/{mine_id}"), &ann)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Another tenant sees none of it.
    let other = app.tenant("other").await;
    let other_admin = app.admin_token(&other).await;
    let theirs = app.get("/api/v1/quick-replies", &other_admin).await;
    assert_eq!(theirs.body["items"], json!([]));
    assert_eq!(
        app.delete(&format!("/api/v1/quick-replies/{shared_id}"), &other_admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_inbox_counts_unread_and_waiting_and_notes_stay_internal() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 2, 3).await;
    let (one, two) = (&agents[0], &agents[1]);
    let _sockets = online_and_free(&app, &agents[..1]).await;

    desk.say(&app, "user_1", "第一个问题").await;
    let sid = eventually(WAIT, "the session with agent 0", async || {
        let ids = one.session_ids(&app).await;
        ids.first().cloned().ok_or_else(|| format!("{ids:?}"))
    })
    .await;
    desk.say(&app, "user_1", "第二个问题").await;
    let inbox = eventually(WAIT, "two unread messages", async || {
        let r = one.get(&app, "/inbox").await;
        match r.body["active"][0]["unread"].as_u64() {
            Some(2) => Ok(r.body),
            _ => Err(r.body.to_string()),
        }
    })
    .await;
    let item = &inbox["active"][0];
    assert_eq!(item["session"]["id"], sid.as_str());
    assert_eq!(item["last_message"]["text"], "第二个问题");
    let waiting = item["waiting_since"].as_str().expect("the user is waiting");
    assert_eq!(inbox["ended"], json!([]));

    // Read up to the first message: one unread left; marks never move back.
    let count = item["session"]["message_count"].as_u64().unwrap();
    let read_path = format!("/api/v1/agent/sessions/{sid}/read");
    let mark = async |seq: u64| {
        app.call(
            Method::PUT,
            &read_path,
            Some(&one.token),
            Some(json!({"seq": seq})),
        )
        .await
    };
    assert_eq!(mark(count - 1).await.status, StatusCode::NO_CONTENT);
    assert_eq!(mark(1).await.status, StatusCode::NO_CONTENT);
    let r = one.get(&app, "/inbox").await;
    assert_eq!(r.body["active"][0]["unread"], 1, "{:?}", r.body);
    assert_eq!(r.body["active"][0]["read_seq"], count - 1);
    let too_far = mark(count + 5).await;
    assert_eq!(too_far.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_far.field("seq").is_some());

    // The agent answers: nobody waits any more.
    let sent = one
        .post(
            &app,
            &format!("/sessions/{sid}/messages"),
            json!({"elements": [{"type": "text", "text": "您好"}], "client_id": "c-1"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let r = one.get(&app, "/inbox").await;
    assert!(
        r.body["active"][0]["waiting_since"].is_null(),
        "{:?}",
        r.body
    );
    assert!(waiting <= r.body["active"][0]["last_message"]["at"].as_str().unwrap());

    // A note: agents and admins read it; the user's transcript and IM never carry it.
    let note = one
        .post(
            &app,
            &format!("/sessions/{sid}/notes"),
            json!({"text": "VIP，注意语气"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{:?}", note.body);
    assert_eq!(note.body["author_name"], one.name.as_str());
    let empty = one
        .post(
            &app,
            &format!("/sessions/{sid}/notes"),
            json!({"text": "  "}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let admin_notes = app
        .get(&format!("/api/v1/agent/sessions/{sid}/notes"), &desk.admin)
        .await;
    assert_eq!(admin_notes.body["items"][0]["text"], "VIP，注意语气");
    let transcript = app
        .get(
            &format!("/api/v1/sessions/{sid}/messages?Limit=100"),
            &desk.admin,
        )
        .await;
    assert!(
        !transcript.body.to_string().contains("VIP，注意语气"),
        "{:?}",
        transcript.body
    );
    assert!(desk.im.received().iter().all(|d| !d.text().contains("VIP")));
    // Another agent, who never served the user, neither reads the session nor its notes.
    for path in [
        format!("/sessions/{sid}"),
        format!("/sessions/{sid}/notes"),
        format!("/sessions/{sid}/messages"),
    ] {
        assert_eq!(
            two.get(&app, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // Colleagues: names, status and load; no e-mail; not the caller.
    let colleagues = two.get(&app, "/colleagues").await;
    assert_eq!(colleagues.status, StatusCode::OK);
    let items = colleagues.body["items"].as_array().unwrap();
    assert!(items.iter().all(|c| c["agent_id"] != two.id.as_str()));
    let first = &items[0];
    assert_eq!(
        first["agent_id"],
        one.id.as_str(),
        "the free one first: {items:?}"
    );
    assert_eq!(first["status"], "free");
    assert_eq!(first["active_sessions"], 1);
    assert!(!colleagues.body.to_string().contains("@acme.test"));

    // Transferred: the next agent reads the leg before, and its notes.
    let _two_socket = online_and_free(&app, &agents[1..]).await;
    let moved = one
        .post(
            &app,
            &format!("/sessions/{sid}/transfer"),
            json!({"agent_id": two.id, "note": "请跟进"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let next = moved.body["next"]["id"].as_str().unwrap().to_owned();
    let earlier = two.get(&app, &format!("/sessions/{sid}/messages")).await;
    assert_eq!(earlier.status, StatusCode::OK);
    assert_eq!(earlier.body.as_array().unwrap().len() as u64, count + 1);
    let notes = two.get(&app, &format!("/sessions/{next}/notes")).await;
    assert_eq!(
        notes.body["items"][0]["text"], "VIP，注意语气",
        "{:?}",
        notes.body
    );
    let leg = two.get(&app, &format!("/sessions/{next}")).await;
    assert_eq!(leg.body["parent_id"], sid.as_str());
    // The first agent's inbox lists it among the recently ended.
    let r = one.get(&app, "/inbox").await;
    assert_eq!(r.body["active"], json!([]));
    assert_eq!(r.body["ended"][0]["session"]["end_status"], 101);

    // Rest reasons, for the status menu.
    app.call(
        Method::PUT,
        "/api/v1/routing/settings",
        Some(&desk.admin),
        Some(json!({"rest_reasons": ["午饭", "培训"]})),
    )
    .await;
    let reasons = two.get(&app, "/rest-reasons").await;
    assert_eq!(reasons.body["items"], json!(["午饭", "培训"]));
}
