//! Crash safety: `kill -9` of the real `kefu` binary in the middle of a load of IM
//! messages, agent replies and routing, then a restart. Every message answered `OK`
//! and every agent reply answered 201 must be in the transcript; every reply must
//! reach IM exactly once (a resend after the crash carries the same `MsgRandom`, which
//! IM takes for the same message); no session may be left stuck; timers fire and
//! offers resume after the restart. On PostgreSQL, the same with two nodes sharing the
//! database, killing the one that took the load: the survivor takes over its timers,
//! outbox and offers. Throughout, a webhook endpoint subscribed to messages must get
//! an event, correctly signed, for every message acknowledged before the kill.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../../tests/support/db.rs"]
mod db;
#[allow(dead_code)]
#[path = "../../tests/support/fake_im.rs"]
mod fake_im;
#[allow(dead_code)]
#[path = "../../tests/support/receiver.rs"]
mod receiver;
#[allow(dead_code)]
mod server;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_im::{FakeIm, admin_query};
use futures::StreamExt;
use kefu::store::entity::{agent_presence, agent_skill_group, im_outbox, session, session_message};
use receiver::Receiver;
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use server::Server;

const SDKAPPID: &str = "1400000777";
const SECRET: &str = "crash-test-secret-key-0123456789";
const PASSWORD: &str = "crash test password";
const ACCOUNT: &str = "kefu_demo";
/// Users writing during the load.
const USERS: usize = 16;
/// How long the load runs before the kill.
const LOAD: Duration = Duration::from_millis(3000);
/// How long the system may take to settle after the restart.
const SETTLE: Duration = Duration::from_secs(60);

/// The flow under load: a welcome and a menu that waits 3 s (a timer that must fire
/// after the crash); 人工 goes to a group whose agents accept by hand (offers that
/// must resume); anything else is answered and asked again.
fn graph(group: &str) -> Value {
    json!({
        "start": "welcome",
        "nodes": [
            {"id": "welcome", "module": "send-message", "config": {"messages": [{"text": "欢迎"}]}},
            {"id": "menu", "module": "branch", "config": {
                "menu": {"title": "请选择", "choices": [{"id": "human", "label": "人工", "branch": "human"}]},
                "branches": [{"name": "human", "conditions": [{"type": "keyword_any", "keywords": ["人工"]}]}],
                "timeout_secs": 3
            }},
            {"id": "again", "module": "send-message", "config": {"messages": [{"text": "收到"}]}},
            {"id": "human", "module": "transfer", "config": {
                "skill_group_id": group, "require_online_agent": false, "queued_message": "请稍候"
            }},
            {"id": "bye", "module": "end", "config": {"end_status": 1, "message": "再见"}},
            {"id": "fail", "module": "end", "config": {"end_status": 3}}
        ],
        "edges": [
            {"from": "welcome", "exit": "next", "to": "menu"},
            {"from": "menu", "exit": "human", "to": "human"},
            {"from": "menu", "exit": "no-match", "to": "again"},
            {"from": "again", "exit": "next", "to": "menu"},
            {"from": "menu", "exit": "timeout", "to": "bye"},
            {"from": "human", "exit": "done", "to": "bye"},
            {"from": "human", "exit": "failed", "to": "fail"},
            {"from": "human", "exit": "no-agent", "to": "fail"}
        ]
    })
}

/// A node of the cluster under test.
struct Node {
    server: Server,
    api: Api,
}

/// How the test talks to a node.
#[derive(Clone)]
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Node {
    fn start(database: &db::TestDatabase, im: &FakeIm) -> Node {
        let im_url = im.base_url();
        let server = Server::start(
            database,
            &[
                ("KEFU_DEMO_PASSWORD", PASSWORD),
                ("KEFU_DEMO_SDKAPPID", SDKAPPID),
                ("KEFU_DEMO_IM_SECRET", SECRET),
                ("KEFU_DEMO_IM_BASE_URL", im_url.as_str()),
                ("KEFU_OUTBOUND__ALLOW_PRIVATE_ADDRESSES", "true"),
                ("KEFU_IM__EGRESS_LEASE_SECS", "3"),
                ("KEFU_IM__EGRESS_TIMEOUT_MS", "1000"),
                ("KEFU_ROUTING__HEARTBEAT_TIMEOUT_SECS", "3"),
                ("KEFU_SESSIONS__TIMER_TICK_MS", "200"),
                ("KEFU_ROUTING__TICK_MS", "200"),
                ("KEFU_WEBHOOKS__LEASE_SECS", "3"),
                ("KEFU_WEBHOOKS__TIMEOUT_MS", "1000"),
            ],
        );
        let api = Api {
            base: server.base.clone(),
            http: reqwest::Client::new(),
        };
        Node { server, api }
    }
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    async fn token(&self, email: &str) -> String {
        let (status, reply) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                "",
                Some(json!({"tenant": "demo", "email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "login of {email}: {reply}");
        reply["access_token"].as_str().unwrap().to_owned()
    }
}

/// What the load saw acknowledged before the kill.
#[derive(Default)]
struct Acked {
    /// `(user, text)` of every user message answered `OK`.
    messages: Mutex<Vec<(String, String)>>,
    /// `client_id` of every agent reply answered 201.
    replies: Mutex<Vec<String>>,
}

/// Users writing through IM's `sendmsg` until `stop`: 你好, then 人工 for every
/// other user, then numbered messages.
async fn users(base: String, acked: Arc<Acked>, stop: Arc<AtomicBool>) {
    let http = reqwest::Client::new();
    let random = Arc::new(AtomicU32::new(1));
    let tasks = (0..USERS).map(|u| {
        let (http, base, acked, stop, random) = (
            http.clone(),
            base.clone(),
            acked.clone(),
            stop.clone(),
            random.clone(),
        );
        async move {
            let user = format!("user_{u}");
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let text = match n {
                    0 => "你好".to_owned(),
                    1 if u % 2 == 0 => "人工".to_owned(),
                    _ => format!("{user} 第{n}条"),
                };
                let r = random.fetch_add(1, Ordering::Relaxed);
                let body = json!({
                    "From_Account": user, "To_Account": ACCOUNT, "MsgRandom": r, "MsgSeq": r,
                    "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]
                });
                let query = admin_query(SDKAPPID.parse().unwrap(), SECRET, "administrator");
                let answer = http
                    .post(format!("{base}/v4/openim/sendmsg?{query}"))
                    .json(&body)
                    .send()
                    .await;
                let Ok(answer) = answer else { break };
                if let Ok(v) = answer.json::<Value>().await
                    && v["ActionStatus"] == "OK"
                {
                    acked.messages.lock().unwrap().push((user.clone(), text));
                }
                n += 1;
                tokio::time::sleep(Duration::from_millis(120)).await;
            }
        }
    });
    futures::future::join_all(tasks).await;
}

/// An agent at work until `stop`: the workbench socket open (read in the background so
/// pings are answered), status free, offers accepted and, when `reply`, a reply to
/// every ongoing session.
async fn agent(
    node: Api,
    token: String,
    who: usize,
    reply: bool,
    acked: Arc<Acked>,
    stop: Arc<AtomicBool>,
) {
    let ws_url = format!(
        "{}/api/v1/agent/ws?token={token}",
        node.base.replacen("http", "ws", 1)
    );
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&ws_url).await else {
        return;
    };
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
    node.call(
        reqwest::Method::PUT,
        "/api/v1/agent/status",
        &token,
        Some(json!({"status": "free"})),
    )
    .await;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let (status, mine) = node
            .call(reqwest::Method::GET, "/api/v1/agent/sessions", &token, None)
            .await;
        if status == 0 {
            break;
        }
        for s in mine["items"].as_array().into_iter().flatten() {
            let id = s["id"].as_str().unwrap_or_default();
            if s["status"] == "offered" {
                node.call(
                    reqwest::Method::POST,
                    &format!("/api/v1/agent/sessions/{id}/accept"),
                    &token,
                    Some(json!({})),
                )
                .await;
            } else if reply && s["status"] == "with_agent" {
                n += 1;
                let client_id = format!("agent{who}-{n}");
                let (status, _) = node
                    .call(
                        reqwest::Method::POST,
                        &format!("/api/v1/agent/sessions/{id}/messages"),
                        &token,
                        Some(json!({"elements": [{"type": "text", "text": format!("回复 {client_id}")}], "client_id": client_id})),
                    )
                    .await;
                if status == 201 {
                    acked.replies.lock().unwrap().push(client_id);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    reader.abort();
}

/// Sets the demo tenant up for the load: a group with manual accept, the flow above on
/// the demo channel, a webhook endpoint for user and agent messages at `hook`.
/// Answers the endpoint's signing secret.
async fn prepare(node: &Api, hook: &Receiver) -> String {
    let admin = node.token("admin@demo.kefu").await;
    let (status, group) = node
        .call(
            reqwest::Method::POST,
            "/api/v1/skill-groups",
            &admin,
            Some(json!({"name": "crash", "routing": {"accept_mode": "manual", "offer_timeout_secs": 5}})),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group = group["id"].as_str().unwrap().to_owned();
    for n in 1..=3 {
        let (_, agents) = node
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/agents?q=agent{n}@"),
                &admin,
                None,
            )
            .await;
        let id = agents["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, body) = node
            .call(
                reqwest::Method::PATCH,
                &format!("/api/v1/agents/{id}"),
                &admin,
                Some(json!({"skill_groups": [{"skill_group_id": group}], "max_concurrent_sessions": 10})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, flow) = node
        .call(
            reqwest::Method::POST,
            "/api/v1/flows",
            &admin,
            Some(json!({"name": "crash", "draft": graph(&group)})),
        )
        .await;
    assert_eq!(status, 201, "{flow}");
    let flow = flow["id"].as_str().unwrap().to_owned();
    let (status, body) = node
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/flows/{flow}/publish"),
            &admin,
            Some(json!({})),
        )
        .await;
    assert!(status == 200 || status == 201, "{body}");
    let (_, channels) = node
        .call(reqwest::Method::GET, "/api/v1/channels", &admin, None)
        .await;
    let channel = channels["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = node
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/channels/{channel}"),
            &admin,
            // A step that runs past its deadline under this load falls back to the
            // channel's default group: the agents must be there too.
            Some(json!({"flow_id": flow, "default_skill_group_id": group, "idle_timeout_secs": 0})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, endpoint) = node
        .call(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            &admin,
            Some(json!({"url": hook.url, "event_types": ["message.user", "message.agent"]})),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");
    endpoint["secret"].as_str().unwrap().to_owned()
}

/// Waits until the webhook endpoint has an event for every acknowledged message and
/// reply, or gives up after [`SETTLE`]; answers `(expected, found, signed, duplicates)`.
async fn webhook_events(
    hook: &Receiver,
    secret: &str,
    acked: &Acked,
) -> (usize, usize, usize, usize) {
    let mut expected: BTreeSet<(String, String)> = acked
        .messages
        .lock()
        .unwrap()
        .iter()
        .map(|(user, text)| ("message.user".to_owned(), format!("{user}|{text}")))
        .collect();
    expected.extend(
        acked
            .replies
            .lock()
            .unwrap()
            .iter()
            .map(|c| ("message.agent".to_owned(), format!("回复 {c}"))),
    );
    let started = Instant::now();
    loop {
        let got = hook.received();
        let mut seen = BTreeSet::new();
        let mut ids = BTreeMap::<String, usize>::new();
        let mut signed = 0;
        for r in &got {
            *ids.entry(r.id.clone()).or_default() += 1;
            let body = r.json();
            let data = &body["data"];
            let text = data["message"]["text"].as_str().unwrap_or_default();
            let kind = body["type"].as_str().unwrap_or_default();
            let key = match kind {
                "message.user" => format!(
                    "{}|{text}",
                    data["session"]["user_id"].as_str().unwrap_or_default()
                ),
                _ => text.to_owned(),
            };
            let item = (kind.to_owned(), key);
            if expected.contains(&item) && seen.insert(item) && r.signed_by(secret) {
                signed += 1;
            }
        }
        let duplicates = ids.values().map(|n| n - 1).sum();
        if seen.len() == expected.len() || started.elapsed() > SETTLE {
            return (expected.len(), seen.len(), signed, duplicates);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Runs users and agents against `load` (agents on `agents_on`) for [`LOAD`], then
/// kills `load` with SIGKILL while they are still at it.
async fn load_then_kill(load: &mut Node, agents_on: Option<&Node>, acked: &Arc<Acked>) {
    let stop = Arc::new(AtomicBool::new(false));
    let agent_node = agents_on.map_or_else(|| load.api.clone(), |n| n.api.clone());
    let mut tokens = Vec::new();
    for n in 1..=3 {
        tokens.push(agent_node.token(&format!("agent{n}@demo.kefu")).await);
    }
    let users = tokio::spawn(users(load.api.base.clone(), acked.clone(), stop.clone()));
    let agents = futures::future::join_all(
        tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| agent(agent_node.clone(), t, i, true, acked.clone(), stop.clone())),
    );
    let killer = async {
        tokio::time::sleep(LOAD).await;
        load.server.kill9();
        // The survivor's agents carry on a little, then everyone stops.
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::Relaxed);
    };
    tokio::join!(agents, killer);
    users.await.unwrap();
}

/// After the crash: agents back on `node`, taking what is offered (and writing
/// nothing new), until nothing waits for an agent, every timer has fired and every
/// reply is sent. Answers how long that took.
async fn settle(node: &Api, db: &DatabaseConnection, acked: &Arc<Acked>) -> Duration {
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tokens = Vec::new();
    for n in 1..=3 {
        tokens.push(node.token(&format!("agent{n}@demo.kefu")).await);
    }
    let watcher = async {
        loop {
            let sessions = session::Entity::find().all(db).await.unwrap();
            let waiting = sessions
                .iter()
                .filter(|s| s.status == "queued" || s.status == "offered")
                .count();
            // Every wait of the flow ends in a timer (the menu's 3 s): settled means
            // they have all fired, not only those already due.
            let due = sessions
                .iter()
                .filter(|s| s.status == "in_flow" && s.wait_until.is_some())
                .count();
            let unsent_rows = im_outbox::Entity::find()
                .filter(im_outbox::Column::Status.ne("sent"))
                .all(db)
                .await
                .unwrap();
            let unsent = unsent_rows.len();
            if waiting == 0 && due == 0 && unsent == 0 {
                break;
            }
            if started.elapsed() >= SETTLE {
                let waiting: Vec<_> = sessions
                    .iter()
                    .filter(|s| s.status == "queued" || s.status == "offered")
                    .map(|s| {
                        (
                            &s.status,
                            s.skill_group_id,
                            &s.skipped_agents,
                            s.offer_expires_at,
                        )
                    })
                    .take(3)
                    .collect();
                let agents: Vec<_> = agent_presence::Entity::find()
                    .all(db)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|p| {
                        (
                            p.agent_id,
                            p.chosen,
                            p.shown,
                            p.active_sessions,
                            p.acw_until,
                        )
                    })
                    .collect();
                let members: Vec<_> = agent_skill_group::Entity::find()
                    .all(db)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|m| (m.agent_id, m.skill_group_id))
                    .collect();
                panic!(
                    "not settled after {SETTLE:?}: {waiting:?} waiting for an agent (status, group, passed over by, offer expires), \
                     {due} timers to fire, {unsent} replies unsent, e.g. {:?}; \
                     agents (id, chosen, shown, sessions, wrap-up until) {agents:?}, \
                     members (agent, group) {members:?}",
                    unsent_rows.iter().take(3).collect::<Vec<_>>(),
                );
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        stop.store(true, Ordering::Relaxed);
    };
    let agents = futures::future::join_all(
        tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| agent(node.clone(), t, 10 + i, false, acked.clone(), stop.clone())),
    );
    tokio::join!(agents, watcher);
    started.elapsed()
}

/// Checks everything acknowledged is stored, every reply reached IM once, nothing is
/// stuck; prints the figures.
async fn verify(
    label: &str,
    db: &DatabaseConnection,
    im: &FakeIm,
    hook: (&Receiver, &str),
    acked: &Acked,
    settled: Duration,
) {
    let (events_expected, events_found, events_signed, events_resent) =
        webhook_events(hook.0, hook.1, acked).await;
    let messages = session_message::Entity::find().all(db).await.unwrap();
    let sessions: HashMap<uuid::Uuid, session::Model> = session::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let stored: BTreeSet<(String, String)> = messages
        .iter()
        .filter(|m| m.direction == "in")
        .map(|m| (sessions[&m.session_id].user_id.clone(), m.text.clone()))
        .collect();
    let acked_messages = acked.messages.lock().unwrap().clone();
    let lost: Vec<_> = acked_messages
        .iter()
        .filter(|m| !stored.contains(*m))
        .collect();
    let client_ids: BTreeSet<String> = messages
        .iter()
        .filter_map(|m| m.client_id.clone())
        .collect();
    let acked_replies = acked.replies.lock().unwrap().clone();
    let lost_replies: Vec<_> = acked_replies
        .iter()
        .filter(|c| !client_ids.contains(*c))
        .collect();

    let outbox = im_outbox::Entity::find().all(db).await.unwrap();
    let received = im.received();
    let mut by_random: BTreeMap<(String, u32), usize> = BTreeMap::new();
    for d in &received {
        *by_random
            .entry((d.to().to_owned(), d.request.msg_random))
            .or_default() += 1;
    }
    let never_delivered: Vec<_> = outbox
        .iter()
        .filter(|r| !by_random.contains_key(&(r.to_account.clone(), r.msg_random as u32)))
        .collect();
    let unknown = by_random.len() as i64 - outbox.len() as i64;
    let resent: usize = by_random.values().map(|n| n - 1).sum();
    let stuck: Vec<_> = sessions
        .values()
        .filter(|s| {
            matches!(s.status.as_str(), "queued" | "offered")
                || (s.status == "in_flow" && s.wait_until.is_none_or(|w| w <= chrono::Utc::now()))
        })
        .collect();
    let timed_out = messages.iter().filter(|m| m.text == "再见").count();
    let with_agent = sessions
        .values()
        .filter(|s| s.status == "with_agent")
        .count();
    println!(
        "crash safety ({label}):\n\
         \x20 user messages answered OK  {:>5}   found in transcripts {:>5}   lost {}\n\
         \x20 agent replies answered 201 {:>5}   found in transcripts {:>5}   lost {}\n\
         \x20 replies in the outbox      {:>5}   delivered to IM      {:>5}   never {}   resent with the same MsgRandom {resent}   under another MsgRandom {unknown}\n\
         \x20 sessions {:>5}: with an agent {with_agent}, ended by their menu timer {timed_out}, stuck {}\n\
         \x20 webhook events for them    {events_expected:>5}   received             {events_found:>5}   correctly signed {events_signed}   delivered again with the same webhook-id {events_resent}\n\
         \x20 settled {:.1} s after the restart",
        acked_messages.len(),
        acked_messages.len() - lost.len(),
        lost.len(),
        acked_replies.len(),
        acked_replies.len() - lost_replies.len(),
        lost_replies.len(),
        outbox.len(),
        by_random.len(),
        never_delivered.len(),
        sessions.len(),
        stuck.len(),
        settled.as_secs_f64(),
    );
    assert!(
        acked_messages.len() > USERS,
        "the load was too light to mean anything"
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(
        lost_replies.is_empty(),
        "acknowledged agent replies lost: {lost_replies:?}"
    );
    assert!(
        never_delivered.is_empty(),
        "never delivered: {never_delivered:?}"
    );
    assert_eq!(
        unknown, 0,
        "a reply went out under a MsgRandom the outbox does not know"
    );
    assert!(outbox.iter().all(|r| r.status == "sent"));
    assert!(stuck.is_empty(), "stuck sessions: {stuck:?}");
    assert!(timed_out > 0, "no menu timer fired");
    assert_eq!(
        events_found, events_expected,
        "webhook events lost across the kill"
    );
    assert_eq!(events_signed, events_found, "webhook events badly signed");
    assert!(with_agent > 0, "no session reached an agent");
}

#[tokio::test]
async fn a_killed_server_loses_nothing_it_acknowledged() {
    let database = db::fresh_database().await;
    let im = FakeIm::start(SDKAPPID.parse().unwrap(), SECRET, "administrator").await;
    let hook = Receiver::start().await;
    let mut node = Node::start(&database, &im);
    let secret = prepare(&node.api, &hook).await;
    let acked = Arc::new(Acked::default());
    load_then_kill(&mut node, None, &acked).await;
    let node = Node::start(&database, &im);
    let db = Database::connect(database.url.as_str()).await.unwrap();
    let settled = settle(&node.api, &db, &acked).await;
    verify(
        if database.postgres {
            "PostgreSQL, one node"
        } else {
            "SQLite"
        },
        &db,
        &im,
        (&hook, &secret),
        &acked,
        settled,
    )
    .await;
    db.close().await.ok();
}

#[tokio::test]
async fn the_surviving_node_takes_over_timers_outbox_and_offers() {
    let database = db::fresh_database().await;
    if !database.postgres {
        // Several nodes share a database only on PostgreSQL.
        return;
    }
    let im = FakeIm::start(SDKAPPID.parse().unwrap(), SECRET, "administrator").await;
    let mut first = Node::start(&database, &im);
    let survivor = Node::start(&database, &im);
    let hook = Receiver::start().await;
    let secret = prepare(&first.api, &hook).await;
    let acked = Arc::new(Acked::default());
    load_then_kill(&mut first, Some(&survivor), &acked).await;
    let db = Database::connect(database.url.as_str()).await.unwrap();
    let settled = settle(&survivor.api, &db, &acked).await;
    verify(
        "PostgreSQL, two nodes, one killed",
        &db,
        &im,
        (&hook, &secret),
        &acked,
        settled,
    )
    .await;
    db.close().await.ok();
}
