//! Routing to agents: sessions handed by the flow to a skill group, offered or
//! assigned to agents signed in on the agent WebSocket, within each agent's cap, in
//! queue order; the agent API (status, messages, transfers, ends); the agent event
//! stream and its resumption; two servers on one PostgreSQL database; status time.
//!
//! One file a topic; this one holds what their scenarios share: the desk set-ups,
//! the waits and the checks that every topic makes the same way. It must not hold a
//! test, nor anything the other suites use (that belongs in `kefu_tests`).

mod conversation;
mod load;
mod offers;
mod socket;
mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kefu::config::Config;
use kefu_tests::agent_desk::{Agent, AgentSocket, Desk, by_agent, eventually, id_of, is_event, ts};
use kefu_tests::{Reply, TestApp};
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

/// The desk of tenant `acme` with `n` agents `agentN` of cap `cap`, none signed in.
async fn desk_with(app: &TestApp, routing: Value, n: usize, cap: u32) -> (Desk, Vec<Agent>) {
    let desk = Desk::new(app, "acme", routing).await;
    let agents = desk.agents(app, "agent", n, cap).await;
    (desk, agents)
}

/// As [`desk_with`], every agent then online and free, with its open socket.
async fn desk_with_free(
    app: &TestApp,
    routing: Value,
    n: usize,
    cap: u32,
) -> (Desk, Vec<Agent>, Vec<AgentSocket>) {
    let (desk, agents) = desk_with(app, routing, n, cap).await;
    let sockets = kefu_tests::agent_desk::online_and_free(app, &agents).await;
    (desk, agents, sockets)
}

/// Waits until `user`'s newest session is with an agent; `what` names it for failures.
async fn with_agent(app: &TestApp, desk: &Desk, user: &str, what: &str) -> Value {
    desk.wait_user_session(app, user, what, |s| s["status"] == "with_agent")
        .await
}

/// The agent's `POST /sessions/{sid}/{action}` with an empty body, answered as is.
async fn act(app: &TestApp, agent: &Agent, sid: &str, action: &str) -> Reply {
    agent
        .post(app, &format!("/sessions/{sid}/{action}"), json!({}))
        .await
}

/// The agent ends `sid`, failing the test when refused; returns the ended session.
async fn end(app: &TestApp, agent: &Agent, sid: &str) -> Value {
    let ended = act(app, agent, sid, "end").await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    ended.body
}

/// The agent sends `elements` to `sid`, answered as is.
async fn send(app: &TestApp, agent: &Agent, sid: &str, body: Value) -> Reply {
    agent
        .post(app, &format!("/sessions/{sid}/messages"), body)
        .await
}

/// The admin's view of an agent's status time; `query` is empty or starts with `?`.
async fn status_time(app: &TestApp, token: &str, agent_id: &str, query: &str) -> Reply {
    app.get(&format!("/api/v1/agents/{agent_id}/status{query}"), token)
        .await
}

/// Asserts that `reply` is refused with `status` and the stable error `code`.
fn assert_refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        (reply.status, reply.code()),
        (status, code),
        "{:?}",
        reply.body
    );
}

/// Asserts that `body` was answered 422.
fn assert_unprocessable(reply: &Reply, body: &Value) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{body}: {:?}",
        reply.body
    );
}

/// Asserts that `body` was answered 422, naming `field` or a field under it.
fn assert_names_field(reply: &Reply, body: &Value, field: &str) {
    assert_unprocessable(reply, body);
    assert!(
        kefu_tests::agent_desk::names_field(reply, field),
        "{body}: {field} not named: {:?}",
        reply.body
    );
}

/// Sends `text`, which is not JSON, as a JSON body: refused with `invalid_json`.
async fn assert_not_json_refused(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    text: &str,
) {
    let reply = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(text.to_owned())
        .send()
        .await
        .unwrap();
    let reply = TestApp::reply(reply).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
}

/// Waits until `socket` sees a message event whose text is `text`.
async fn message_seen(socket: &mut AgentSocket, what: &str, text: &str) -> Value {
    socket
        .frame_where(kefu_tests::agent_desk::WAIT, what, |f| {
            is_event(f, "message") && f["data"]["message"]["text"] == text
        })
        .await
}

/// The `seq` of each event.
fn seqs<'a>(events: impl IntoIterator<Item = &'a Value>) -> Vec<u64> {
    events
        .into_iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
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

/// The users of the queue's sessions, in queue order.
fn queue_users(queue: &[Value]) -> Vec<String> {
    queue
        .iter()
        .map(|i| i["session"]["user_id"].as_str().unwrap().to_owned())
        .collect()
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

/// How many sessions there are per status (and end status), for failure messages.
async fn census(app: &TestApp, desk: &Desk) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for s in desk.sessions(app, None).await {
        let key = format!("{} {}", s["status"], s["end_status"]);
        *counts.entry(key).or_default() += 1;
    }
    format!("{counts:?}")
}

/// Waits until exactly `with_agent` sessions are with agents and `queued` queued.
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
