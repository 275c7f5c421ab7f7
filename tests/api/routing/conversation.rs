//! An agent's work on a session once it has it: talking with the user (messages both
//! ways, the paged transcript, validation), ending it, the user's history, transfers
//! to an agent or a group, and the satisfaction survey. How the session reached the
//! agent is in `load.rs` and `offers.rs`.

use kefu_tests::agent_desk::{
    Agent, Desk, SDKAPPID, WAIT, create_agents, eventually, flow_channel, id_of, is_event,
    online_and_free, say, skill_group, survey_graph, ts,
};
use kefu_tests::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    act, assert_names_field, assert_not_json_refused, assert_refused, assert_unprocessable, auto,
    desk_with, desk_with_free, end, send, with_agent,
};

/// The seqs of a page of a session's messages through the agent API.
async fn page_seqs(app: &TestApp, agent: &Agent, sid: &str, query: &str) -> Vec<u64> {
    let r = agent
        .get(app, &format!("/sessions/{sid}/messages?{query}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn agents_talk_with_users_page_the_transcript_and_end_sessions() {
    let app = spawn_app().await;
    let (desk, agents, mut sockets) = desk_with_free(&app, auto(), 1, 3).await;
    let agent = &agents[0];
    let socket = &mut sockets[0];

    desk.say(&app, "user_1", "人工").await;
    let session = with_agent(&app, &desk, "user_1", "the session with the agent").await;
    let sid = id_of(&session);
    assert_eq!(session["agent_id"], agent.id.as_str());
    let assigned = socket.event_about("assigned", &sid, WAIT).await;
    assert_eq!(assigned["data"]["session"]["status"], "with_agent");
    assert_eq!(agent.session_ids(&app).await, vec![sid.clone()]);

    desk.say(&app, "user_1", "我的订单还没到").await;
    let incoming = socket.event_about("message", &sid, WAIT).await;
    assert_eq!(incoming["data"]["message"]["text"], "我的订单还没到");
    assert_eq!(incoming["data"]["message"]["direction"], "in");

    let body =
        json!({"elements": [{"type": "text", "text": "您好，我来查一下。"}], "client_id": "c-1"});
    let sent = send(&app, agent, &sid, body).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sent.body["session_id"], sid.as_str());
    assert_eq!(sent.body["direction"], "out");
    assert_eq!(sent.body["sender"], "agent");
    assert_eq!(sent.body["text"], "您好，我来查一下。");
    assert_eq!(sent.body["elements"][0]["type"], "text");
    assert!(sent.body["seq"].is_u64());
    let echoed = socket
        .frame_where(WAIT, "the agent's own message", |f| {
            is_event(f, "message") && f["data"]["message"]["id"] == sent.body["id"]
        })
        .await;
    assert_eq!(echoed["data"]["session_id"], sid.as_str());
    let card = json!({"type": "custom", "data": "{\"order\":42}", "desc": "订单", "ext": "card"});
    let custom = send(&app, agent, &sid, json!({"elements": [card]})).await;
    assert_eq!(custom.status, StatusCode::CREATED, "{:?}", custom.body);
    assert_eq!(custom.body["elements"][0]["type"], "custom");
    assert_eq!(custom.body["elements"][0]["data"], "{\"order\":42}");

    // The user gets the agent's words through IM.
    eventually(WAIT, "the agent's reply at IM", async || {
        let got = desk.im.received();
        if got
            .iter()
            .any(|d| d.to() == "user_1" && d.text() == "您好，我来查一下。")
        {
            Ok(())
        } else {
            Err(format!("{} message(s)", got.len()))
        }
    })
    .await;
    let transcript = app
        .get(&format!("/api/v1/sessions/{sid}/messages"), &desk.admin)
        .await;
    let lines = transcript.body.as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|m| m["id"] == sent.body["id"] && m["sender"] == "agent"),
        "{lines:?}"
    );
    let total = lines.len();
    assert!(total >= 4, "{lines:?}");

    assert_eq!(page_seqs(&app, agent, &sid, "Limit=2").await, [1, 2]);
    assert_eq!(
        page_seqs(&app, agent, &sid, "Limit=2&Offset=2").await,
        [3, 4]
    );
    assert_eq!(
        page_seqs(&app, agent, &sid, "Limit=1&Order=desc").await,
        [total as u64]
    );
    assert_eq!(page_seqs(&app, agent, &sid, "Limit=100").await.len(), total);
    let too_many = agent
        .get(&app, &format!("/sessions/{sid}/messages?Limit=101"))
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);

    let text = |t: String| json!({"type": "text", "text": t});
    let bad = [
        (json!({"elements": []}), "elements"),
        (
            json!({"elements": (0..11).map(|i| text(format!("m{i}"))).collect::<Vec<_>>()}),
            "elements",
        ),
        (json!({"elements": [text(String::new())]}), "elements"),
        (json!({"elements": [text("长".repeat(2001))]}), "elements"),
        (
            json!({"elements": [{"type": "video", "url": "x"}]}),
            "elements",
        ),
        (
            json!({"elements": [text("hi".into())], "client_id": "c".repeat(65)}),
            "client_id",
        ),
    ];
    for (body, field) in bad {
        let r = send(&app, agent, &sid, body.clone()).await;
        assert_names_field(&r, &body, field);
        assert_eq!(r.code(), "validation_failed");
    }
    let path = format!("/api/v1/agent/sessions/{sid}/messages");
    assert_not_json_refused(&app, Method::POST, &path, &agent.token, "{\"elements\": [").await;
    let nothing = send(&app, agent, &sid, json!({})).await;
    assert_eq!(
        nothing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        nothing.body
    );
    assert_eq!(
        page_seqs(&app, agent, &sid, "Limit=100").await.len(),
        total,
        "nothing was stored"
    );

    let ended = end(&app, agent, &sid).await;
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["end_status"], 1);
    let note = socket.event_about("session_ended", &sid, WAIT).await;
    assert_eq!(note["data"]["end_status"], 1);
    assert!(agent.session_ids(&app).await.is_empty());
    let late = send(
        &app,
        agent,
        &sid,
        json!({"elements": [text("还在吗".into())]}),
    )
    .await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "session_not_active")
    );

    // The user's next session comes with the earlier one as history.
    desk.say(&app, "user_1", "人工").await;
    let second = desk
        .wait_user_session(&app, "user_1", "a second session with the agent", |s| {
            s["status"] == "with_agent" && s["id"] != sid.as_str()
        })
        .await;
    let history = agent
        .get(&app, &format!("/sessions/{}/history", id_of(&second)))
        .await;
    assert_eq!(history.status, StatusCode::OK, "{:?}", history.body);
    assert_eq!(history.body["total"], 1, "{:?}", history.body);
    assert_eq!(history.body["items"][0]["id"], sid.as_str());
}

#[tokio::test]
async fn agents_transfer_sessions_to_agents_and_to_groups() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let vip = skill_group(&app, &desk.admin, "贵宾 VIP", auto()).await;
    let pair = desk.agents(&app, "agent", 2, 3).await;
    let (a, b) = (&pair[0], &pair[1]);
    let c = create_agents(&app, &desk, "vip", 1, 3, &[vip.as_str()])
        .await
        .remove(0);
    let mut sa = a.connect(&app).await;
    let mut sb = b.connect(&app).await;
    let mut sc = c.connect(&app).await;
    a.free(&app).await;
    assert_eq!(
        b.set_status(&app, "notReady", None).await.status,
        StatusCode::OK
    );
    c.free(&app).await;

    desk.say(&app, "user_1", "人工").await;
    let first = with_agent(&app, &desk, "user_1", "the session with a").await;
    let sid = id_of(&first);
    assert_eq!(first["agent_id"], a.id.as_str());
    sa.event_about("assigned", &sid, WAIT).await;

    let path = format!("/sessions/{sid}/transfer");
    let unavailable = a.post(&app, &path, json!({"agent_id": b.id})).await;
    assert_refused(&unavailable, StatusCode::CONFLICT, "agent_unavailable");
    let offline = create_agents(&app, &desk, "away", 1, 3, &[desk.group.as_str()])
        .await
        .remove(0);
    let r = a.post(&app, &path, json!({"agent_id": offline.id})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "agent_unavailable"),
        "nobody without a socket: {:?}",
        r.body
    );
    for body in [
        json!({"agent_id": uuid::Uuid::now_v7()}),
        json!({"skill_group_id": uuid::Uuid::now_v7()}),
        json!({"agent_id": b.id, "skill_group_id": vip}),
        json!({"note": "nobody named"}),
        json!({}),
    ] {
        let r = a.post(&app, &path, body.clone()).await;
        assert_unprocessable(&r, &body);
        assert!(!r.code().is_empty());
    }
    assert_eq!(desk.session(&app, &sid).await["status"], "with_agent");

    b.free(&app).await;
    let moved = a
        .post(
            &app,
            &path,
            json!({"agent_id": b.id, "note": "老客户，请优先处理"}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let ended = &moved.body["ended"];
    assert_eq!(id_of(ended), sid);
    assert_eq!(ended["status"], "ended");
    assert_eq!(ended["end_status"], 101);
    let next = &moved.body["next"];
    let second = id_of(next);
    assert_ne!(second, sid);
    assert_eq!(next["status"], "with_agent");
    assert_eq!(next["agent_id"], b.id.as_str());
    assert_eq!(next["parent_id"], sid.as_str());
    assert_eq!(next["user_id"], "user_1");
    sb.event_about("assigned", &second, WAIT).await;
    assert_eq!(desk.session(&app, &sid).await["end_status"], 101);
    assert!(a.session_ids(&app).await.is_empty());
    assert_eq!(b.session_ids(&app).await, vec![second.clone()]);

    // The user's next words reach the new leg's agent.
    desk.say(&app, "user_1", "还在吗？").await;
    let m = sb.event_about("message", &second, WAIT).await;
    assert_eq!(m["data"]["message"]["text"], "还在吗？");

    let to_group = b
        .post(
            &app,
            &format!("/sessions/{second}/transfer"),
            json!({"skill_group_id": vip}),
        )
        .await;
    assert_eq!(to_group.status, StatusCode::OK, "{:?}", to_group.body);
    assert_eq!(to_group.body["ended"]["end_status"], 101);
    let third = &to_group.body["next"];
    let third_id = id_of(third);
    assert_eq!(third["skill_group_id"], vip.as_str());
    assert_eq!(third["parent_id"], second.as_str());
    assert!(
        ["queued", "offered", "with_agent"].contains(&third["status"].as_str().unwrap_or("")),
        "{third}"
    );
    sc.event_about("assigned", &third_id, WAIT).await;
    let stored = desk.session(&app, &third_id).await;
    assert_eq!(stored["status"], "with_agent");
    assert_eq!(stored["agent_id"], c.id.as_str());
    assert!(b.session_ids(&app).await.is_empty());
}

#[tokio::test]
async fn the_agent_sends_the_survey_and_the_rating_lands_on_the_service_record() {
    let app = spawn_app().await;
    let (desk, agents) = desk_with(&app, auto(), 1, 3).await;
    let agent = &agents[0];
    let named = app
        .patch(
            &format!("/api/v1/agents/{}", agent.id),
            &desk.admin,
            json!({"nickname": "小美", "staff_no": "A007"}),
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{:?}", named.body);
    let _sockets = online_and_free(&app, &agents).await;

    let account = "kefu_rated";
    let flow = survey_graph(&desk.group);
    flow_channel(&app, &desk.admin, &desk.im, account, flow, None).await;
    let said_to_user = async |what: &str, text: String| desk.told(&text, "user_1", what).await;
    say(&app, account, "user_1", "你好").await;
    said_to_user(
        "the welcome names the channel",
        format!("欢迎来到 Channel kefu_rated（{SDKAPPID}）"),
    )
    .await;
    let sessions = agent.session_ids(&app).await;
    assert_eq!(sessions.len(), 1, "the agent has the session");
    let sid = sessions[0].clone();
    let before = desk.session(&app, &sid).await;
    assert!(before["survey"].is_null(), "{before}");

    let sent = act(&app, agent, &sid, "survey").await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    assert_eq!(sent.body["status"], "survey");
    said_to_user(
        "the invitation names the agent",
        "请为客服 小美（工号 A007）评分".to_owned(),
    )
    .await;
    let invited = desk.session(&app, &sid).await;
    assert!(invited["survey"]["invited_at"].is_string(), "{invited}");
    assert!(invited["survey"]["score"].is_null(), "{invited}");

    say(&app, account, "user_1", "5").await;
    said_to_user("the thanks", "感谢您的评价（非常满意）！".to_owned()).await;
    let rated = desk.session(&app, &sid).await;
    assert_eq!(rated["status"], "ended", "{rated}");
    assert_eq!(rated["end_status"], 1);
    let survey = &rated["survey"];
    assert_eq!(survey["score"], 5, "{rated}");
    assert_eq!(survey["label"], "非常满意");
    assert!(survey["comment"].is_null());
    assert!(
        ts(&survey["rated_at"]) >= ts(&survey["invited_at"]),
        "{survey}"
    );
    // A session that was never rated says so.
    say(&app, account, "user_2", "你好").await;
    let other = with_agent(&app, &desk, "user_2", "the second session").await;
    assert!(other["survey"].is_null(), "{other}");
}
