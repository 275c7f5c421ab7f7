//! The agent WebSocket: pings and nonsense, a silent socket given up after the
//! heartbeat timeout, signing out closing it, and a reconnecting agent replayed
//! exactly the events it missed. What the agent chooses as its status is in
//! `status.rs`.

use std::time::Duration;

use kefu_tests::agent_desk::{Agent, WAIT, eventually, id_of, is_event};
use kefu_tests::{spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    auto, desk_with, desk_with_free, message_seen, quick_heartbeat, send, seqs, status_time,
    with_agent,
};

#[tokio::test]
async fn a_silent_socket_is_given_up_after_the_heartbeat_timeout() {
    let app = spawn_app_with(quick_heartbeat).await;
    let (desk, agents, sockets) = desk_with_free(&app, auto(), 2, 3).await;

    sockets[0].freeze();
    let status = agents[0].wait_status(&app, "offline").await;
    assert_eq!(status["online"], false);
    // The other socket answered every ping meanwhile, well past the timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let healthy = agents[1].status(&app).await;
    assert_eq!(healthy["status"], "free", "{healthy}");
    assert_eq!(healthy["online"], true);

    desk.say(&app, "user_1", "人工").await;
    let s = with_agent(&app, &desk, "user_1", "the session with the live agent").await;
    assert_eq!(s["agent_id"], agents[1].id.as_str());
}

#[tokio::test]
async fn signing_out_closes_the_workbench_and_takes_the_agent_offline() {
    let app = spawn_app_with(quick_heartbeat).await;
    let (desk, agents, mut sockets) = desk_with_free(&app, auto(), 2, 3).await;

    let out = app
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&agents[0].token),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{:?}", out.body);
    // The server closes the socket at its next beat (a third of the timeout): reading
    // stops well before the timeout itself would have ended a silent socket.
    let closed = eventually(
        Duration::from_secs(3),
        "the socket to close",
        async || match sockets[0].next_frame(Duration::from_millis(100)).await {
            None if sockets[0].is_closed() => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    closed.await;
    let admin_view = async |agent: &Agent| {
        let r = status_time(&app, &desk.admin, &agent.id, "").await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body
    };
    let gone = eventually(WAIT, "the signed-out agent to be offline", async || {
        let s = admin_view(&agents[0]).await;
        if s["status"] == "offline" {
            Ok(s)
        } else {
            Err(s.to_string())
        }
    })
    .await;
    assert_eq!(gone["online"], false);

    // The other agent's socket lives on, and takes the next user.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(admin_view(&agents[1]).await["status"], "free");
    desk.say(&app, "user_1", "人工").await;
    let s = with_agent(
        &app,
        &desk,
        "user_1",
        "the session with the agent still signed in",
    )
    .await;
    assert_eq!(s["agent_id"], agents[1].id.as_str());
    sockets[1]
        .frame_where(WAIT, "the assignment", |f| is_event(f, "assigned"))
        .await;
}

#[tokio::test]
async fn the_agent_socket_answers_pings_and_refuses_nonsense() {
    let app = spawn_app().await;
    let (_desk, agents) = desk_with(&app, auto(), 1, 3).await;
    let mut socket = agents[0].connect(&app).await;
    assert_eq!(socket.ready["type"], "ready");
    assert!(socket.ready["status"].is_object(), "{}", socket.ready);

    socket.send_json(&json!({"type": "ping"}));
    socket
        .frame_where(WAIT, "a pong", |f| f["type"] == "pong")
        .await;
    socket.send_json(&json!({"type": "dance"}));
    socket
        .frame_where(WAIT, "an error for an unknown type", |f| {
            f["type"] == "error"
        })
        .await;
    socket.send_text("not json at all");
    socket
        .frame_where(WAIT, "an error for text that is not JSON", |f| {
            f["type"] == "error"
        })
        .await;
    // Still open and answering.
    socket.send_json(&json!({"type": "ping"}));
    socket
        .frame_where(WAIT, "a pong after the errors", |f| f["type"] == "pong")
        .await;
}

#[tokio::test]
async fn a_reconnecting_agent_gets_exactly_the_events_it_missed() {
    let app = spawn_app().await;
    let (desk, agents) = desk_with(&app, auto(), 1, 3).await;
    let agent = &agents[0];
    // This one stays open throughout, so that the agent stays online and sees all.
    let mut keeper = agent.connect(&app).await;
    let mut first = agent.connect(&app).await;
    agent.free(&app).await;

    desk.say(&app, "user_1", "人工").await;
    let session = with_agent(&app, &desk, "user_1", "the session with the agent").await;
    let sid = id_of(&session);
    first.event_about("assigned", &sid, WAIT).await;
    desk.say(&app, "user_1", "在吗").await;
    message_seen(&mut first, "the user's first words", "在吗").await;
    let seen = first.last_seq;
    let from = first.ready_seq() + 1;
    assert_eq!(
        seqs(&first.events),
        (from..=seen).collect::<Vec<_>>(),
        "no gaps"
    );
    first.close().await;

    for i in 0..5 {
        desk.say(&app, "user_1", &format!("断线后第{i}句")).await;
    }
    let body = json!({"elements": [{"type": "text", "text": "我在"}]});
    let reply = send(&app, agent, &sid, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    desk.say(&app, "user_2", "人工").await;
    desk.say(&app, "user_1", "最后一句").await;
    let what = "the last message on the open socket";
    message_seen(&mut keeper, what, "最后一句").await;

    let mut again = agent.resume(&app, seen).await;
    let latest = again.ready_seq();
    assert!(latest > seen, "{}", again.ready);
    let replayed = again.until_seq(latest, WAIT).await;
    assert_eq!(
        seqs(&replayed),
        (seen + 1..=latest).collect::<Vec<_>>(),
        "the missed events, in order, each once"
    );
    keeper.until_seq(latest, WAIT).await;
    let live: Vec<&Value> = keeper
        .events
        .iter()
        .filter(|e| (seen + 1..=latest).contains(&e["seq"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        replayed.iter().collect::<Vec<_>>(),
        live,
        "replayed as they were sent live"
    );
    let texts: Vec<&str> = replayed
        .iter()
        .filter(|e| is_event(e, "message"))
        .filter_map(|e| e["data"]["message"]["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "断线后第0句",
            "断线后第1句",
            "断线后第2句",
            "断线后第3句",
            "断线后第4句",
            "我在",
            "最后一句"
        ]
    );
    assert!(
        replayed
            .iter()
            .any(|e| is_event(e, "assigned") && e["data"]["session"]["user_id"] == "user_2"),
        "{replayed:?}"
    );

    // Live events carry on from there without a gap or a repeat.
    desk.say(&app, "user_1", "重连之后").await;
    message_seen(&mut again, "the next live message", "重连之后").await;
    assert_eq!(
        seqs(&again.events),
        (seen + 1..=again.last_seq).collect::<Vec<_>>()
    );

    // From the very start: every event since the first, numbered from 1.
    let mut whole = agent.resume(&app, 0).await;
    let everything = whole.until_seq(whole.ready_seq(), WAIT).await;
    assert_eq!(
        seqs(&everything),
        (1..=whole.ready_seq()).collect::<Vec<_>>()
    );
}
