//! Many sessions at once: every agent filled to its cap and no further, the rest
//! queued in order (priority first), a freed slot refilled in the end's own commit,
//! status changes racing with arrivals, and two servers sharing one PostgreSQL
//! database. Offers, the agent's own API and the
//! socket have files of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use kefu_tests::agent_desk::{
    Desk, WAIT, by_agent, event_session, eventually, id_of, is_event, online_and_free, say,
    transfer_channel,
};
use kefu_tests::{spawn_app, spawn_two_nodes};
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    assert_queue_order, auto, census, desk_with, desk_with_free, end, ids, queue_users,
    wait_counts, with_agent, within_cap,
};

#[tokio::test]
async fn two_hundred_sessions_at_once_fill_every_agent_to_the_cap_and_queue_the_rest() {
    let app = spawn_app().await;
    let (desk, agents, mut sockets) = desk_with_free(&app, auto(), 20, 3).await;

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
        let ended = end(&app, agent, &held[&agent.id][0]).await;
        assert_eq!(ended["status"], "ended");
        assert_eq!(ended["end_status"], 1);
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

/// An agent who ends a session gets the longest-waiting session of their queues in the
/// same commit: it is theirs when the end is answered, and their socket reads the end
/// before the new session. An agent in after-call work gets nothing until it is over.
#[tokio::test]
async fn an_end_hands_the_freed_slot_to_the_queue_in_the_same_commit() {
    let app = spawn_app().await;
    let (desk, agents, mut sockets) = desk_with_free(&app, auto(), 1, 1).await;
    let agent = &agents[0];
    desk.say(&app, "user_a", "人工").await;
    let first = id_of(&with_agent(&app, &desk, "user_a", "user_a's session").await);
    desk.say(&app, "user_b", "人工").await;
    desk.say(&app, "user_c", "人工").await;
    wait_counts(&app, &desk, 1, 2).await;
    let queue = desk.queue_ids(&app).await;

    end(&app, agent, &first).await;
    // Read at once: no router round has run in between.
    let next = desk.session(&app, &queue[0]).await;
    assert_eq!(next["status"], "with_agent", "{next}");
    assert_eq!(next["agent_id"], agent.id.as_str(), "{next}");
    assert_eq!(desk.queue_ids(&app).await, queue[1..].to_vec());
    let events = sockets[0]
        .events_until(WAIT, "the next session assigned", |e| {
            is_event(e, "assigned") && event_session(e).as_deref() == Some(queue[0].as_str())
        })
        .await;
    let ended_at = events
        .iter()
        .position(|e| {
            is_event(e, "session_ended") && event_session(e).as_deref() == Some(first.as_str())
        })
        .expect("the end is on the socket before the next session");
    assert!(ended_at < events.len() - 1, "{events:?}");

    let settings = app
        .call(
            Method::PUT,
            "/api/v1/routing/settings",
            Some(&desk.admin),
            Some(json!({"after_call_work_secs": 60})),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{:?}", settings.body);
    end(&app, agent, &queue[0]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(desk.queue_ids(&app).await, queue[1..].to_vec());
    let status = agent.status(&app).await;
    assert_eq!(status["status"], "afterCallWork", "{status}");
    assert_eq!(status["active_sessions"], 0, "{status}");
}

/// More members than a node keeps ranked between sessions: sessions arriving one after
/// another still go to every idle member before anyone gets a second one.
#[tokio::test]
async fn sessions_arriving_one_by_one_reach_every_idle_member_of_a_large_group_first() {
    let app = spawn_app().await;
    let (desk, agents, _sockets) = desk_with_free(&app, auto(), 40, 2).await;
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
    let first = with_agent(&app, &desk, "first", "the first session with the agent").await;
    for user in ["n1", "n2", "n3"] {
        desk.say(&app, user, "人工").await;
    }
    for user in ["v1", "v2"] {
        say(&app, "kefu_vip", user, "人工").await;
    }
    let queue = desk.queue(&app).await;
    assert_queue_order(&queue);
    assert_eq!(queue_users(&queue), ["v1", "v2", "n1", "n2", "n3"]);
    assert_eq!(queue[0]["session"]["priority"], 8);
    assert_eq!(queue[2]["session"]["priority"], 5);

    end(&app, &agents[0], &id_of(&first)).await;
    let v1 = with_agent(&app, &desk, "v1", "v1 with the agent").await;
    assert_eq!(v1["agent_id"], agents[0].id.as_str());
    assert_eq!(
        queue_users(&desk.queue(&app).await),
        ["v2", "n1", "n2", "n3"]
    );
}

#[tokio::test]
async fn status_changes_racing_with_arrivals_never_overfill_or_feed_an_unavailable_agent() {
    let app = spawn_app().await;
    let (desk, agents) = desk_with(&app, auto(), 11, 2).await;
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
async fn two_nodes_on_one_database_share_agents_queues_and_events() {
    let Some((a, b)) = spawn_two_nodes().await else {
        return;
    };
    let nodes = [&a, &b];
    let (desk, agents) = desk_with(&a, auto(), 10, 2).await;
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
    end(&b, &agents[0], &held[&agents[0].id][0]).await;
    sockets[0].event_about("assigned", &head, WAIT).await;
    wait_counts(&b, &desk, 20, 19).await;
    within_cap(&desk.sessions(&a, Some("with_agent")).await, 2);
}
