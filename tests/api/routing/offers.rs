//! Offers in manual accept mode: the countdown, accepting, declining, missing one
//! (the agent rested), a session nobody takes, an agent gone mid-offer; and offers or
//! sessions that are not the caller's. Assignment under load lives in `load.rs`.

use kefu::directory::Role;
use kefu_tests::agent_desk::{Agent, AgentSocket, Desk, WAIT, id_of, is_event, ts};
use kefu_tests::{TestApp, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    act, assert_refused, auto, desk_with_free, index_of, manual, offered_to_another,
    quick_heartbeat, with_agent,
};

/// Waits until `user`'s session is offered to an agent not in `excluded` and that
/// agent's socket hears of it; returns the session's id, the agent's index and the
/// offer event.
async fn next_offer(
    app: &TestApp,
    desk: &Desk,
    agents: &[Agent],
    sockets: &mut [AgentSocket],
    user: &str,
    excluded: &[String],
) -> (String, usize, Value) {
    let offered = offered_to_another(app, desk, user, excluded).await;
    let sid = id_of(&offered);
    let who = index_of(agents, &offered["agent_id"]);
    let offer = sockets[who].event_about("offer", &sid, WAIT).await;
    (sid, who, offer)
}

/// The agent declines its offer of `sid`, failing the test when refused.
async fn decline(app: &TestApp, agent: &Agent, sid: &str) {
    let declined = act(app, agent, sid, "decline").await;
    assert_eq!(
        declined.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        declined.body
    );
}

#[tokio::test]
async fn an_unanswered_offer_expires_rests_the_agent_and_goes_to_the_next() {
    let app = spawn_app().await;
    let (desk, agents, mut sockets) = desk_with_free(&app, manual(5), 3, 3).await;

    desk.say(&app, "user_1", "人工").await;
    let (sid, x1, offer) = next_offer(&app, &desk, &agents, &mut sockets, "user_1", &[]).await;
    let session = &offer["data"]["session"];
    assert_eq!(session["status"], "offered");
    let window = ts(&session["offer_expires_at"]) - ts(&session["offered_at"]);
    assert!(
        (4..=6).contains(&window.num_seconds()),
        "the countdown is the group's 5 s: {session}"
    );

    // Nobody answers: withdrawn, the agent rested for having missed it.
    let withdrawn = sockets[x1].event_about("offer_withdrawn", &sid, WAIT).await;
    assert_eq!(withdrawn["data"]["reason"], "expired", "{withdrawn}");
    let rest = agents[x1].wait_status(&app, "rest").await;
    assert_eq!(rest["chosen"], "rest");
    assert_eq!(rest["reason"], "missed");
    sockets[x1]
        .event_seen(WAIT, "a status event saying rest", |f| {
            is_event(f, "status") && f["data"]["status"] == "rest"
        })
        .await;

    let again = offered_to_another(&app, &desk, "user_1", &[agents[x1].id.clone()]).await;
    let x2 = index_of(&agents, &again["agent_id"]);
    sockets[x2].event_about("offer", &sid, WAIT).await;
    assert!(agents[x2].session_ids(&app).await.contains(&sid));
    let accepted = act(&app, &agents[x2], &sid, "accept").await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    assert_eq!(accepted.body["status"], "with_agent");
    assert_eq!(accepted.body["agent_id"], agents[x2].id.as_str());
    assert!(!accepted.body["assigned_at"].is_null());
    sockets[x2].event_about("assigned", &sid, WAIT).await;
    let stored = desk.session(&app, &sid).await;
    assert_eq!(stored["status"], "with_agent");
    assert_eq!(stored["agent_id"], agents[x2].id.as_str());
    let twice = act(&app, &agents[x2], &sid, "accept").await;
    assert_refused(&twice, StatusCode::CONFLICT, "offer_gone");

    // A decline sends the session on, and never back to who declined it.
    desk.say(&app, "user_2", "人工").await;
    let excluded = [agents[x1].id.clone()];
    let (sid2, y1, _) = next_offer(&app, &desk, &agents, &mut sockets, "user_2", &excluded).await;
    decline(&app, &agents[y1], &sid2).await;
    let gone = sockets[y1]
        .event_about("offer_withdrawn", &sid2, WAIT)
        .await;
    assert_eq!(gone["data"]["reason"], "declined");
    let twice = act(&app, &agents[y1], &sid2, "decline").await;
    assert_refused(&twice, StatusCode::CONFLICT, "offer_gone");
    let next = offered_to_another(
        &app,
        &desk,
        "user_2",
        &[agents[x1].id.clone(), agents[y1].id.clone()],
    )
    .await;
    let y2 = index_of(&agents, &next["agent_id"]);
    sockets[y2].event_about("offer", &sid2, WAIT).await;
    assert_eq!(
        agents[y1].status(&app).await["status"],
        "free",
        "declining is not missing"
    );
}

#[tokio::test]
async fn a_session_every_member_declined_or_missed_ends_with_17() {
    let app = spawn_app().await;
    let (desk, agents, mut sockets) = desk_with_free(&app, manual(5), 3, 3).await;

    desk.say(&app, "user_1", "人工").await;
    let mut refused: Vec<String> = Vec::new();
    let mut sid = String::new();
    for _ in 0..2 {
        let (offered, who, _) =
            next_offer(&app, &desk, &agents, &mut sockets, "user_1", &refused).await;
        sid = offered;
        decline(&app, &agents[who], &sid).await;
        refused.push(agents[who].id.clone());
    }
    let last = offered_to_another(&app, &desk, "user_1", &refused).await;
    assert_eq!(id_of(&last), sid, "the same session goes round");
    let z = index_of(&agents, &last["agent_id"]);
    let withdrawn = sockets[z].event_about("offer_withdrawn", &sid, WAIT).await;
    assert_eq!(withdrawn["data"]["reason"], "expired");

    let ended = desk
        .wait_user_session(&app, "user_1", "the session to end", |s| {
            s["status"] == "ended"
        })
        .await;
    assert_eq!(ended["end_status"], 17, "nobody accepted: {ended}");
    assert_eq!(
        agents[z].wait_status(&app, "rest").await["reason"],
        "missed"
    );
    assert_eq!(desk.count(&app, Some("queued")).await, 0);
}

#[tokio::test]
async fn an_agent_who_disconnects_mid_offer_loses_it_to_another_and_goes_offline() {
    let app = spawn_app_with(quick_heartbeat).await;
    // A countdown far longer than the test: only the disconnection moves the offer.
    let (desk, agents, mut sockets) = desk_with_free(&app, manual(600), 2, 3).await;

    desk.say(&app, "user_1", "人工").await;
    let (sid, x, _) = next_offer(&app, &desk, &agents, &mut sockets, "user_1", &[]).await;
    let y = 1 - x;
    let last_seen = sockets[x].last_seq;
    let gone = sockets.remove(x);
    gone.close().await;
    let remaining = &mut sockets[0];

    let moved = offered_to_another(&app, &desk, "user_1", &[agents[x].id.clone()]).await;
    assert_eq!(moved["agent_id"], agents[y].id.as_str());
    remaining.event_about("offer", &sid, WAIT).await;
    let status = agents[x].wait_status(&app, "offline").await;
    assert_eq!(status["online"], false, "{status}");

    // Back again, the agent learns why the offer went.
    let mut back = agents[x].resume(&app, last_seen).await;
    let withdrawn = back.event_about("offer_withdrawn", &sid, WAIT).await;
    assert_eq!(withdrawn["data"]["reason"], "disconnected", "{withdrawn}");
}

#[tokio::test]
async fn offers_and_sessions_that_are_not_the_callers_are_refused() {
    let app = spawn_app().await;
    let (desk, agents, _sockets) = desk_with_free(&app, auto(), 2, 3).await;
    desk.say(&app, "user_1", "人工").await;
    let session = with_agent(&app, &desk, "user_1", "the session with an agent").await;
    let sid = id_of(&session);
    let owner = index_of(&agents, &session["agent_id"]);
    let (owner, other) = (&agents[owner], &agents[1 - owner]);

    for action in ["accept", "decline"] {
        let mine = act(&app, owner, &sid, action).await;
        assert_eq!(
            (mine.status, mine.code()),
            (StatusCode::CONFLICT, "offer_gone"),
            "{action} of a session already assigned: {:?}",
            mine.body
        );
        let theirs = act(&app, other, &sid, action).await;
        assert_eq!(
            theirs.status,
            StatusCode::NOT_FOUND,
            "{action}: {:?}",
            theirs.body
        );
        let unknown = act(&app, owner, &uuid::Uuid::now_v7().to_string(), action).await;
        assert_eq!(
            unknown.status,
            StatusCode::NOT_FOUND,
            "{action}: {:?}",
            unknown.body
        );
    }

    // Another tenant's account knows nothing of it.
    let elsewhere = app.tenant("globex").await;
    app.account(elsewhere.id, "agent@globex.test", Role::Agent)
        .await;
    let token = app.token("globex", "agent@globex.test").await;
    let r = app
        .post(
            &format!("/api/v1/agent/sessions/{sid}/accept"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert_eq!(
        desk.session(&app, &sid).await["agent_id"],
        owner.id.as_str()
    );

    let anonymous = app
        .call(Method::GET, "/api/v1/agent/status", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(AgentSocket::refused(&app, "").await, 401);
    assert_eq!(AgentSocket::refused(&app, "?token=not-a-token").await, 401);
}
