//! Routing to agents: sessions handed by the flow to a skill group, offered or
//! assigned to agents signed in on the agent WebSocket, within each agent's cap, in
//! queue order; the agent API (status, messages, transfers, ends); the agent event
//! stream and its resumption; two servers on one PostgreSQL database; status time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use kefu::config::Config;
use kefu::directory::Role;
use kefu_tests::agent_desk::{
    Agent, AgentSocket, Desk, WAIT, by_agent, create_agents, event_session, eventually,
    flow_channel, id_of, is_event, names_field, online_and_free, say, skill_group, survey_graph,
    transfer_channel, ts,
};
use kefu_tests::{TestApp, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// For the big batches: a debug build on SQLite takes a while over 200 sessions.
const LONG_WAIT: Duration = Duration::from_secs(60);

fn auto() -> Value {
    json!({"accept_mode": "auto", "queue_max_length": 10000, "queue_max_wait_secs": 86400})
}

fn manual(offer_timeout_secs: u32) -> Value {
    json!({
        "accept_mode": "manual", "offer_timeout_secs": offer_timeout_secs,
        "queue_max_length": 10000, "queue_max_wait_secs": 86400
    })
}

/// A heartbeat short enough for a test to see an agent go offline.
fn quick_heartbeat(c: &mut Config) {
    c.routing.heartbeat_timeout_secs = 3;
}

/// Queue order: priority descending, then queued_at ascending, then id.
fn assert_queue_order(items: &[Value]) {
    for pair in items.windows(2) {
        let (a, b) = (&pair[0]["session"], &pair[1]["session"]);
        assert_eq!(a["status"], "queued", "{a}");
        let (pa, pb) = (a["priority"].as_u64(), b["priority"].as_u64());
        assert!(pa.is_some() && pb.is_some(), "priorities: {a} {b}");
        let in_order = match pa.cmp(&pb) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                let (qa, qb) = (ts(&a["queued_at"]), ts(&b["queued_at"]));
                qa < qb || (qa == qb && id_of(a) < id_of(b))
            }
        };
        assert!(in_order, "out of queue order:\n  {a}\n  {b}");
    }
}

/// Checks nobody holds more than `cap` sessions; returns the ids per agent.
fn within_cap(with_agent: &[Value], cap: usize) -> BTreeMap<String, Vec<String>> {
    let map = by_agent(with_agent);
    assert_eq!(
        map.values().map(Vec::len).sum::<usize>(),
        with_agent.len(),
        "every session with an agent names it"
    );
    for (agent, sessions) in &map {
        assert!(
            sessions.len() <= cap,
            "agent {agent} holds {} sessions, over the cap of {cap}: {sessions:?}",
            sessions.len()
        );
    }
    map
}

fn ids(sessions: &[Value]) -> BTreeSet<String> {
    sessions.iter().map(id_of).collect()
}

fn index_of(agents: &[Agent], id: &Value) -> usize {
    agents
        .iter()
        .position(|a| id.as_str() == Some(a.id.as_str()))
        .unwrap_or_else(|| panic!("{id} is none of the agents"))
}

/// Waits until `user`'s session is offered to an agent not in `excluded`.
async fn offered_to_another(app: &TestApp, desk: &Desk, user: &str, excluded: &[String]) -> Value {
    desk.wait_user_session(app, user, "an offer to another agent", |s| {
        s["status"] == "offered"
            && s["agent_id"]
                .as_str()
                .is_some_and(|a| !excluded.iter().any(|e| e == a))
    })
    .await
}

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

/// How many sessions there are per status (and end status), for failure messages.
async fn census(app: &TestApp, desk: &Desk) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for s in desk.sessions(app, None).await {
        let key = format!("{} {}", s["status"], s["end_status"]);
        *counts.entry(key).or_default() += 1;
    }
    format!("{counts:?}")
}

async fn wait_counts(app: &TestApp, desk: &Desk, with_agent: u64, queued: u64) {
    eventually(
        LONG_WAIT,
        &format!("{with_agent} sessions with agents and {queued} queued"),
        async || {
            let w = desk.count(app, Some("with_agent")).await;
            let q = desk.count(app, Some("queued")).await;
            if (w, q) == (with_agent, queued) {
                Ok(())
            } else {
                Err(format!(
                    "{w} with agents, {q} queued; all: {}",
                    census(app, desk).await
                ))
            }
        },
    )
    .await;
}

#[tokio::test]
async fn two_hundred_sessions_at_once_fill_every_agent_to_the_cap_and_queue_the_rest() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 20, 3).await;
    let mut sockets = online_and_free(&app, &agents).await;

    let users: Vec<String> = (0..200).map(|i| format!("user_{i:03}")).collect();
    for chunk in users.chunks(25) {
        join_all(chunk.iter().map(|u| desk.say(&app, u, "人工"))).await;
    }
    assert_eq!(desk.count(&app, None).await, 200);
    wait_counts(&app, &desk, 60, 140).await;
    // A few more routing rounds change nothing: everyone is at the cap.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(desk.count(&app, Some("with_agent")).await, 60);
    assert_eq!(desk.count(&app, Some("queued")).await, 140);
    assert_eq!(desk.count(&app, Some("offered")).await, 0, "auto accept");

    let with = desk.sessions(&app, Some("with_agent")).await;
    let held = within_cap(&with, 3);
    for (agent, socket) in agents.iter().zip(sockets.iter_mut()) {
        let mine: BTreeSet<String> = held
            .get(&agent.id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        assert_eq!(mine.len(), 3, "{} is at the cap", agent.email);
        let assigned: BTreeSet<String> = socket
            .take_events("assigned", 3, WAIT)
            .await
            .iter()
            .map(|e| event_session(e).expect("assigned names its session"))
            .collect();
        assert_eq!(assigned, mine, "{} was told of its sessions", agent.email);
        let status = agent.status(&app).await;
        assert_eq!(status["status"], "busy", "{status}");
        assert_eq!(status["chosen"], "free");
        assert_eq!(status["active_sessions"], 3);
    }

    let queue = desk.queue(&app).await;
    assert_eq!(queue.len(), 140);
    assert_queue_order(&queue);
    let queue_ids: Vec<String> = queue.iter().map(|i| id_of(&i["session"])).collect();
    assert_eq!(
        queue_ids.iter().cloned().collect::<BTreeSet<_>>(),
        ids(&desk.sessions(&app, Some("queued")).await),
        "the queue is exactly the queued sessions"
    );

    // Ten agents each end one session: the first ten of the queue take their places.
    let enders = &agents[..10];
    for agent in enders {
        let session = &held[&agent.id][0];
        let ended = agent
            .post(&app, &format!("/sessions/{session}/end"), json!({}))
            .await;
        assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
        assert_eq!(ended.body["status"], "ended");
        assert_eq!(ended.body["end_status"], 1);
    }
    wait_counts(&app, &desk, 60, 130).await;
    let with = desk.sessions(&app, Some("with_agent")).await;
    let held_now = within_cap(&with, 3);
    assert!(held_now.values().all(|s| s.len() == 3), "{held_now:?}");
    let mut takers = BTreeSet::new();
    for id in &queue_ids[..10] {
        let s = desk.session(&app, id).await;
        assert_eq!(s["status"], "with_agent", "{s}");
        assert!(!s["assigned_at"].is_null(), "{s}");
        takers.insert(s["agent_id"].as_str().unwrap().to_owned());
    }
    let enders_ids: BTreeSet<String> = enders.iter().map(|a| a.id.clone()).collect();
    assert_eq!(takers, enders_ids, "only agents with room took sessions");
    assert_eq!(
        desk.queue_ids(&app).await,
        queue_ids[10..].to_vec(),
        "the rest of the queue kept its order"
    );
}

/// More members than a node keeps ranked between sessions: sessions arriving one after
/// another still go to every idle member before anyone gets a second one.
#[tokio::test]
async fn sessions_arriving_one_by_one_reach_every_idle_member_of_a_large_group_first() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 40, 2).await;
    let _sockets = online_and_free(&app, &agents).await;
    for round in 1..=2usize {
        for i in 0..agents.len() {
            desk.say(&app, &format!("user_{round}_{i:02}"), "人工")
                .await;
        }
        let with = desk.sessions(&app, Some("with_agent")).await;
        assert_eq!(with.len(), 40 * round);
        let held = by_agent(&with);
        assert_eq!(held.len(), 40, "every member has a session: {held:?}");
        assert!(
            held.values().all(|s| s.len() == round),
            "round {round}: nobody gets another session while a member has fewer: {held:?}"
        );
    }
}

#[tokio::test]
async fn higher_priority_sessions_are_served_first() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let vip_channel =
        transfer_channel(&app, &desk.admin, &desk.im, &desk.group, "kefu_vip", 8).await;
    assert_ne!(vip_channel, desk.channel);
    let agents = desk.agents(&app, "agent", 1, 1).await;
    let _sockets = online_and_free(&app, &agents).await;

    desk.say(&app, "first", "人工").await;
    let first = desk
        .wait_user_session(&app, "first", "the first session with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    for user in ["n1", "n2", "n3"] {
        desk.say(&app, user, "人工").await;
    }
    for user in ["v1", "v2"] {
        say(&app, "kefu_vip", user, "人工").await;
    }
    let queue = desk.queue(&app).await;
    assert_queue_order(&queue);
    let users: Vec<&str> = queue
        .iter()
        .map(|i| i["session"]["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["v1", "v2", "n1", "n2", "n3"]);
    assert_eq!(queue[0]["session"]["priority"], 8);
    assert_eq!(queue[2]["session"]["priority"], 5);

    let ended = agents[0]
        .post(&app, &format!("/sessions/{}/end", id_of(&first)), json!({}))
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    let v1 = desk
        .wait_user_session(&app, "v1", "v1 with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    assert_eq!(v1["agent_id"], agents[0].id.as_str());
    let users: Vec<String> = desk
        .queue(&app)
        .await
        .iter()
        .map(|i| i["session"]["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["v2", "n1", "n2", "n3"]);
}

#[tokio::test]
async fn an_unanswered_offer_expires_rests_the_agent_and_goes_to_the_next() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", manual(5)).await;
    let agents = desk.agents(&app, "agent", 3, 3).await;
    let mut sockets = online_and_free(&app, &agents).await;

    desk.say(&app, "user_1", "人工").await;
    let offered = offered_to_another(&app, &desk, "user_1", &[]).await;
    let sid = id_of(&offered);
    let x1 = index_of(&agents, &offered["agent_id"]);
    let offer = sockets[x1].event_about("offer", &sid, WAIT).await;
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
    let accepted = agents[x2]
        .post(&app, &format!("/sessions/{sid}/accept"), json!({}))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    assert_eq!(accepted.body["status"], "with_agent");
    assert_eq!(accepted.body["agent_id"], agents[x2].id.as_str());
    assert!(!accepted.body["assigned_at"].is_null());
    sockets[x2].event_about("assigned", &sid, WAIT).await;
    let stored = desk.session(&app, &sid).await;
    assert_eq!(stored["status"], "with_agent");
    assert_eq!(stored["agent_id"], agents[x2].id.as_str());
    let twice = agents[x2]
        .post(&app, &format!("/sessions/{sid}/accept"), json!({}))
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "offer_gone")
    );

    // A decline sends the session on, and never back to who declined it.
    desk.say(&app, "user_2", "人工").await;
    let offered = offered_to_another(&app, &desk, "user_2", &[agents[x1].id.clone()]).await;
    let sid2 = id_of(&offered);
    let y1 = index_of(&agents, &offered["agent_id"]);
    sockets[y1].event_about("offer", &sid2, WAIT).await;
    let declined = agents[y1]
        .post(&app, &format!("/sessions/{sid2}/decline"), json!({}))
        .await;
    assert_eq!(
        declined.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        declined.body
    );
    let gone = sockets[y1]
        .event_about("offer_withdrawn", &sid2, WAIT)
        .await;
    assert_eq!(gone["data"]["reason"], "declined");
    let twice = agents[y1]
        .post(&app, &format!("/sessions/{sid2}/decline"), json!({}))
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "offer_gone")
    );
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
    let desk = Desk::new(&app, "acme", manual(5)).await;
    let agents = desk.agents(&app, "agent", 3, 3).await;
    let mut sockets = online_and_free(&app, &agents).await;

    desk.say(&app, "user_1", "人工").await;
    let mut refused: Vec<String> = Vec::new();
    let mut sid = String::new();
    for _ in 0..2 {
        let offered = offered_to_another(&app, &desk, "user_1", &refused).await;
        sid = id_of(&offered);
        let who = index_of(&agents, &offered["agent_id"]);
        sockets[who].event_about("offer", &sid, WAIT).await;
        let declined = agents[who]
            .post(&app, &format!("/sessions/{sid}/decline"), json!({}))
            .await;
        assert_eq!(
            declined.status,
            StatusCode::NO_CONTENT,
            "{:?}",
            declined.body
        );
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
    let desk = Desk::new(&app, "acme", manual(600)).await;
    let agents = desk.agents(&app, "agent", 2, 3).await;
    let mut sockets = online_and_free(&app, &agents).await;

    desk.say(&app, "user_1", "人工").await;
    let offered = offered_to_another(&app, &desk, "user_1", &[]).await;
    let sid = id_of(&offered);
    let x = index_of(&agents, &offered["agent_id"]);
    let y = 1 - x;
    sockets[x].event_about("offer", &sid, WAIT).await;
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
async fn a_silent_socket_is_given_up_after_the_heartbeat_timeout() {
    let app = spawn_app_with(quick_heartbeat).await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 2, 3).await;
    let sockets = online_and_free(&app, &agents).await;

    sockets[0].freeze();
    let status = agents[0].wait_status(&app, "offline").await;
    assert_eq!(status["online"], false);
    // The other socket answered every ping meanwhile, well past the timeout.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let healthy = agents[1].status(&app).await;
    assert_eq!(healthy["status"], "free", "{healthy}");
    assert_eq!(healthy["online"], true);

    desk.say(&app, "user_1", "人工").await;
    let s = desk
        .wait_user_session(&app, "user_1", "the session with the live agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    assert_eq!(s["agent_id"], agents[1].id.as_str());
}

#[tokio::test]
async fn signing_out_closes_the_workbench_and_takes_the_agent_offline() {
    let app = spawn_app_with(quick_heartbeat).await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 2, 3).await;
    let mut sockets = online_and_free(&app, &agents).await;

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
    let admin_view = |agent: &Agent| {
        let path = format!("/api/v1/agents/{}/status", agent.id);
        let (app, admin) = (&app, desk.admin.clone());
        async move {
            let r = app.get(&path, &admin).await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            r.body
        }
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
    let s = desk
        .wait_user_session(
            &app,
            "user_1",
            "the session with the agent still signed in",
            |s| s["status"] == "with_agent",
        )
        .await;
    assert_eq!(s["agent_id"], agents[1].id.as_str());
    sockets[1]
        .frame_where(WAIT, "the assignment", |f| is_event(f, "assigned"))
        .await;
}

#[tokio::test]
async fn status_changes_racing_with_arrivals_never_overfill_or_feed_an_unavailable_agent() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 11, 2).await;
    let mut sockets = Vec::new();
    for agent in &agents {
        sockets.push(agent.connect(&app).await);
    }
    // The last agent never chooses free during the race.
    let (togglers, bystander) = agents.split_at(10);
    let bystander = &bystander[0];
    let r = bystander.set_status(&app, "notReady", None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let toggling = join_all(togglers.iter().enumerate().map(|(i, agent)| {
        let app = &app;
        async move {
            for k in 0..12usize {
                let status = if (i + k) % 2 == 0 { "free" } else { "notReady" };
                let r = agent.set_status(app, status, None).await;
                assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
                let pause = ((i * 7 + k * 13) % 40) as u64;
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        }
    }));
    let users: Vec<String> = (0..30).map(|i| format!("user_{i:02}")).collect();
    let arriving = async {
        for chunk in users.chunks(10) {
            join_all(chunk.iter().map(|u| desk.say(&app, u, "人工"))).await;
        }
    };
    tokio::join!(toggling, arriving);

    let stops = join_all(
        togglers
            .iter()
            .map(|a| a.set_status(&app, "notReady", None)),
    )
    .await;
    assert!(stops.iter().all(|r| r.status == StatusCode::OK));
    // From here on nobody may get anything.
    let with = desk.sessions(&app, Some("with_agent")).await;
    let queue = desk.queue_ids(&app).await;
    assert_eq!(
        with.len() + queue.len(),
        30,
        "every session is with an agent or queued: {}",
        census(&app, &desk).await
    );
    let held = within_cap(&with, 2);
    assert!(
        !held.contains_key(&bystander.id),
        "an agent who never chose free got sessions"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let with_later = desk.sessions(&app, Some("with_agent")).await;
    assert_eq!(
        ids(&with_later),
        ids(&with),
        "no assignment to unavailable agents"
    );
    assert_eq!(
        desk.queue_ids(&app).await,
        queue,
        "the queue stays as it is"
    );
    for agent in &agents {
        let s = agent.status(&app).await;
        assert_eq!(s["status"], "notReady", "{}: {s}", agent.email);
        let n = held.get(&agent.id).map_or(0, Vec::len);
        assert_eq!(s["active_sessions"], n, "{}: {s}", agent.email);
    }

    // One agent becomes free: it takes the head of the queue, up to its cap.
    assert!(queue.len() >= 10);
    bystander.free(&app).await;
    let mine = eventually(WAIT, "the bystander to fill up", async || {
        let with = desk.sessions(&app, Some("with_agent")).await;
        let mine = by_agent(&with).remove(&bystander.id).unwrap_or_default();
        if mine.len() == 2 {
            Ok(mine)
        } else {
            Err(format!("{mine:?}"))
        }
    })
    .await;
    assert_eq!(
        mine.iter().cloned().collect::<BTreeSet<_>>(),
        queue[..2].iter().cloned().collect::<BTreeSet<_>>()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(desk.queue_ids(&app).await, queue[2..].to_vec());
    let with_now = desk.sessions(&app, Some("with_agent")).await;
    assert_eq!(with_now.len(), with.len() + 2);
    within_cap(&with_now, 2);
    let bystander_socket = sockets.last_mut().unwrap();
    bystander_socket.take_events("assigned", 2, WAIT).await;
}

#[tokio::test]
async fn agent_status_is_chosen_validated_and_derived() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 1, 1).await;
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
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert_eq!(r.code(), "validation_failed", "{body}");
        assert!(
            r.field(field).is_some(),
            "{body}: {field} not named: {:?}",
            r.body
        );
    }
    let not_json = app
        .client
        .put(app.url("/api/v1/agent/status"))
        .bearer_auth(&agent.token)
        .header("content-type", "application/json")
        .body("{\"status\":")
        .send()
        .await
        .unwrap();
    let not_json = TestApp::reply(not_json).await;
    assert_eq!(
        (not_json.status, not_json.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
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
    let first = desk
        .wait_user_session(&app, "user_1", "the session with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
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
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 1, 3).await;
    let agent = &agents[0];

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
        let r = app
            .call(
                Method::PUT,
                "/api/v1/routing/settings",
                Some(&desk.admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert!(
            names_field(&r, field),
            "{body}: {field} not named: {:?}",
            r.body
        );
    }
    let by_agent = app
        .call(
            Method::PUT,
            "/api/v1/routing/settings",
            Some(&agent.token),
            Some(json!({"after_call_work_secs": 5})),
        )
        .await;
    assert_eq!(by_agent.status, StatusCode::FORBIDDEN);
    let unchanged = app.get("/api/v1/routing/settings", &desk.admin).await;
    assert_eq!(unchanged.body, settings.body, "nothing half-written");

    let changed = app
        .call(
            Method::PUT,
            "/api/v1/routing/settings",
            Some(&desk.admin),
            Some(
                json!({"rest_reasons": ["开会 Meeting", "休息 Break"], "after_call_work_secs": 30}),
            ),
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
async fn agents_talk_with_users_page_the_transcript_and_end_sessions() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 1, 3).await;
    let agent = &agents[0];
    let mut sockets = online_and_free(&app, &agents).await;
    let socket = &mut sockets[0];

    desk.say(&app, "user_1", "人工").await;
    let session = desk
        .wait_user_session(&app, "user_1", "the session with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let sid = id_of(&session);
    assert_eq!(session["agent_id"], agent.id.as_str());
    let assigned = socket.event_about("assigned", &sid, WAIT).await;
    assert_eq!(assigned["data"]["session"]["status"], "with_agent");
    assert_eq!(agent.session_ids(&app).await, vec![sid.clone()]);

    desk.say(&app, "user_1", "我的订单还没到").await;
    let incoming = socket.event_about("message", &sid, WAIT).await;
    assert_eq!(incoming["data"]["message"]["text"], "我的订单还没到");
    assert_eq!(incoming["data"]["message"]["direction"], "in");

    let sent = agent
        .post(
            &app,
            &format!("/sessions/{sid}/messages"),
            json!({"elements": [{"type": "text", "text": "您好，我来查一下。"}], "client_id": "c-1"}),
        )
        .await;
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
    let custom = agent
        .post(
            &app,
            &format!("/sessions/{sid}/messages"),
            json!({"elements": [{"type": "custom", "data": "{\"order\":42}", "desc": "订单", "ext": "card"}]}),
        )
        .await;
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
        let r = agent
            .post(&app, &format!("/sessions/{sid}/messages"), body.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert_eq!(r.code(), "validation_failed");
        assert!(
            names_field(&r, field),
            "{body}: {field} not named: {:?}",
            r.body
        );
    }
    let not_json = app
        .client
        .post(app.url(&format!("/api/v1/agent/sessions/{sid}/messages")))
        .bearer_auth(&agent.token)
        .header("content-type", "application/json")
        .body("{\"elements\": [")
        .send()
        .await
        .unwrap();
    let not_json = TestApp::reply(not_json).await;
    assert_eq!(
        (not_json.status, not_json.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let nothing = agent
        .post(&app, &format!("/sessions/{sid}/messages"), json!({}))
        .await;
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

    let ended = agent
        .post(&app, &format!("/sessions/{sid}/end"), json!({}))
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    assert_eq!(ended.body["status"], "ended");
    assert_eq!(ended.body["end_status"], 1);
    let note = socket.event_about("session_ended", &sid, WAIT).await;
    assert_eq!(note["data"]["end_status"], 1);
    assert!(agent.session_ids(&app).await.is_empty());
    let late = agent
        .post(
            &app,
            &format!("/sessions/{sid}/messages"),
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
    let first = desk
        .wait_user_session(&app, "user_1", "the session with a", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let sid = id_of(&first);
    assert_eq!(first["agent_id"], a.id.as_str());
    sa.event_about("assigned", &sid, WAIT).await;

    let path = format!("/sessions/{sid}/transfer");
    let unavailable = a.post(&app, &path, json!({"agent_id": b.id})).await;
    assert_eq!(
        (unavailable.status, unavailable.code()),
        (StatusCode::CONFLICT, "agent_unavailable"),
        "{:?}",
        unavailable.body
    );
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
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
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
async fn offers_and_sessions_that_are_not_the_callers_are_refused() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 2, 3).await;
    let _sockets = online_and_free(&app, &agents).await;
    desk.say(&app, "user_1", "人工").await;
    let session = desk
        .wait_user_session(&app, "user_1", "the session with an agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let sid = id_of(&session);
    let owner = index_of(&agents, &session["agent_id"]);
    let (owner, other) = (&agents[owner], &agents[1 - owner]);

    for action in ["accept", "decline"] {
        let path = format!("/sessions/{sid}/{action}");
        let mine = owner.post(&app, &path, json!({})).await;
        assert_eq!(
            (mine.status, mine.code()),
            (StatusCode::CONFLICT, "offer_gone"),
            "{action} of a session already assigned: {:?}",
            mine.body
        );
        let theirs = other.post(&app, &path, json!({})).await;
        assert_eq!(
            theirs.status,
            StatusCode::NOT_FOUND,
            "{action}: {:?}",
            theirs.body
        );
        let unknown = owner
            .post(
                &app,
                &format!("/sessions/{}/{action}", uuid::Uuid::now_v7()),
                json!({}),
            )
            .await;
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

#[tokio::test]
async fn the_agent_socket_answers_pings_and_refuses_nonsense() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 1, 3).await;
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
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 1, 3).await;
    let agent = &agents[0];
    // This one stays open throughout, so that the agent stays online and sees all.
    let mut keeper = agent.connect(&app).await;
    let mut first = agent.connect(&app).await;
    agent.free(&app).await;

    desk.say(&app, "user_1", "人工").await;
    let session = desk
        .wait_user_session(&app, "user_1", "the session with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let sid = id_of(&session);
    first.event_about("assigned", &sid, WAIT).await;
    desk.say(&app, "user_1", "在吗").await;
    first
        .frame_where(WAIT, "the user's first words", |f| {
            is_event(f, "message") && f["data"]["message"]["text"] == "在吗"
        })
        .await;
    let seen = first.last_seq;
    let first_seqs: Vec<u64> = first
        .events
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    let from = first.ready_seq() + 1;
    assert_eq!(first_seqs, (from..=seen).collect::<Vec<_>>(), "no gaps");
    first.close().await;

    for i in 0..5 {
        desk.say(&app, "user_1", &format!("断线后第{i}句")).await;
    }
    let reply = agent
        .post(
            &app,
            &format!("/sessions/{sid}/messages"),
            json!({"elements": [{"type": "text", "text": "我在"}]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    desk.say(&app, "user_2", "人工").await;
    desk.say(&app, "user_1", "最后一句").await;
    keeper
        .frame_where(WAIT, "the last message on the open socket", |f| {
            is_event(f, "message") && f["data"]["message"]["text"] == "最后一句"
        })
        .await;

    let mut again = agent.resume(&app, seen).await;
    let latest = again.ready_seq();
    assert!(latest > seen, "{}", again.ready);
    let replayed = again.until_seq(latest, WAIT).await;
    let seqs: Vec<u64> = replayed
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
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
    again
        .frame_where(WAIT, "the next live message", |f| {
            is_event(f, "message") && f["data"]["message"]["text"] == "重连之后"
        })
        .await;
    let all: Vec<u64> = again
        .events
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(all, (seen + 1..=again.last_seq).collect::<Vec<_>>());

    // From the very start: every event since the first, numbered from 1.
    let mut whole = agent.resume(&app, 0).await;
    let everything = whole.until_seq(whole.ready_seq(), WAIT).await;
    let seqs: Vec<u64> = everything
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=whole.ready_seq()).collect::<Vec<_>>());
}

#[tokio::test]
async fn two_nodes_on_one_database_share_agents_queues_and_events() {
    let a = spawn_app().await;
    if !a.database.postgres {
        // Two servers on one SQLite file is not a supported deployment.
        return;
    }
    let b = a.sibling().await;
    let nodes = [&a, &b];
    let desk = Desk::new(&a, "acme", auto()).await;
    let agents = desk.agents(&a, "agent", 10, 2).await;
    let mut sockets = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let node = nodes[i % 2];
        sockets.push(agent.connect(node).await);
        agent.free(node).await;
    }
    for (i, agent) in agents.iter().enumerate() {
        agent.wait_status(nodes[(i + 1) % 2], "free").await;
    }

    let users: Vec<String> = (0..40).map(|i| format!("user_{i:02}")).collect();
    for chunk in users.chunks(10) {
        join_all(
            chunk
                .iter()
                .enumerate()
                .map(|(i, u)| desk.say(nodes[i % 2], u, "人工")),
        )
        .await;
    }
    wait_counts(&a, &desk, 20, 20).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(desk.count(&b, Some("with_agent")).await, 20);
    assert_eq!(desk.count(&b, Some("queued")).await, 20);

    let with = desk.sessions(&b, Some("with_agent")).await;
    let held = within_cap(&with, 2);
    assert_eq!(held.len(), 10, "{held:?}");
    let mut told: BTreeMap<String, String> = BTreeMap::new();
    for (i, (agent, socket)) in agents.iter().zip(sockets.iter_mut()).enumerate() {
        let mine: BTreeSet<String> = held[&agent.id].iter().cloned().collect();
        assert_eq!(mine.len(), 2);
        for e in socket.take_events("assigned", 2, WAIT).await {
            let session = event_session(&e).unwrap();
            assert!(mine.contains(&session), "{} told of {session}", agent.email);
            if let Some(earlier) = told.insert(session.clone(), agent.id.clone()) {
                panic!("{session} went to {earlier} and to {}", agent.id);
            }
        }
        let status = agent.status(nodes[(i + 1) % 2]).await;
        assert_eq!(status["active_sessions"], 2, "{status}");
        assert_eq!(status["status"], "busy");
    }
    let queue_a = desk.queue(&a).await;
    assert_queue_order(&queue_a);
    assert_eq!(
        desk.queue_ids(&b).await,
        queue_a
            .iter()
            .map(|i| id_of(&i["session"]))
            .collect::<Vec<_>>()
    );

    // Events cross nodes: a user writes through one, the agent listens on the other.
    for (i, agent) in agents.iter().enumerate().take(2) {
        let sid = held[&agent.id][0].clone();
        let user = desk.session(&a, &sid).await["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let other_node = nodes[(i + 1) % 2];
        say(other_node, &desk.account, &user, "跨节点").await;
        let m = sockets[i].event_about("message", &sid, WAIT).await;
        assert_eq!(m["data"]["message"]["text"], "跨节点");
    }
    // An end on one node frees room that the head of the queue takes, whichever node
    // routes it, and the agent hears of it on its own node.
    let head = id_of(&queue_a[0]["session"]);
    let agent = &agents[0];
    let ended = agent
        .post(
            &b,
            &format!("/sessions/{}/end", held[&agent.id][0]),
            json!({}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    sockets[0].event_about("assigned", &head, WAIT).await;
    wait_counts(&b, &desk, 20, 19).await;
    within_cap(&desk.sessions(&a, Some("with_agent")).await, 2);
}

#[tokio::test]
async fn time_in_each_status_is_counted_and_agents_are_monitored() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 1, 3).await;
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
    let s = app
        .get(&format!("/api/v1/agents/{}/status", agent.id), &desk.admin)
        .await;
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

    let long_ago = app
        .get(
            &format!("/api/v1/agents/{}/status?date=2000-01-01", agent.id),
            &desk.admin,
        )
        .await;
    assert_eq!(long_ago.status, StatusCode::OK, "{:?}", long_ago.body);
    assert_eq!(long_ago.body["date"], "2000-01-01");
    assert_eq!(long_ago.body["seconds"]["free"].as_f64(), Some(0.0));
    let bad_date = app
        .get(
            &format!("/api/v1/agents/{}/status?date=2024-13-45", agent.id),
            &desk.admin,
        )
        .await;
    assert_eq!(bad_date.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_date.field("date").is_some(), "{:?}", bad_date.body);
    let unknown = app
        .get(
            &format!("/api/v1/agents/{}/status", uuid::Uuid::now_v7()),
            &desk.admin,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let as_agent = app
        .get(&format!("/api/v1/agents/{}/status", agent.id), &agent.token)
        .await;
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
async fn the_agent_sends_the_survey_and_the_rating_lands_on_the_service_record() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", auto()).await;
    let agents = desk.agents(&app, "agent", 1, 3).await;
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
    flow_channel(
        &app,
        &desk.admin,
        &desk.im,
        account,
        survey_graph(&desk.group),
        None,
    )
    .await;
    let said_to_user = async |what: &str, text: String| desk.told(&text, "user_1", what).await;
    say(&app, account, "user_1", "你好").await;
    said_to_user(
        "the welcome names the channel",
        format!(
            "欢迎来到 Channel kefu_rated（{}）",
            kefu_tests::agent_desk::SDKAPPID
        ),
    )
    .await;
    let sessions = agent.session_ids(&app).await;
    assert_eq!(sessions.len(), 1, "the agent has the session");
    let sid = sessions[0].clone();
    let before = desk.session(&app, &sid).await;
    assert!(before["survey"].is_null(), "{before}");

    let sent = agent
        .post(&app, &format!("/sessions/{sid}/survey"), json!({}))
        .await;
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
    let other = desk
        .wait_user_session(&app, "user_2", "the second session", |s| {
            s["status"] == "with_agent"
        })
        .await;
    assert!(other["survey"].is_null(), "{other}");
}
