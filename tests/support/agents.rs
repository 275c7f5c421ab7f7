//! Agents and routing for the integration tests: a tenant whose only flow hands every
//! user straight to a skill group, agents made through the admin API, users writing
//! through IM's `sendmsg`, and the agent WebSocket.
//!
//! The agent socket is read by a background task from the moment it opens, so that
//! the server's pings are answered while a test is busy with HTTP calls: an agent
//! must only look offline when a test means it to.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message as Ws};

use crate::fake_im::{FakeIm, admin_query};
use crate::{PASSWORD, Reply, Tenant, TestApp};

pub const SDKAPPID: u64 = 1_400_000_321;
pub const SECRET: &str = "routing-secret-key-0123456789abcdef";
pub const CALLBACK_TOKEN: &str = "routing-callback-token-0123456";
/// The IM account users write to on the desk's main channel.
pub const ACCOUNT: &str = "kefu_desk";

/// How long a test waits for something the server does on its own.
pub const WAIT: Duration = Duration::from_secs(20);

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Waits until `probe` answers `Ok`, polling; panics after `timeout` with `what` and
/// the probe's last `Err`, which should describe what it saw instead.
pub async fn eventually<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("waited {timeout:?} for {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(150)).await,
        }
    }
}

/// The transfer-only flow of the contract: straight to `group` at `priority`, saying
/// nothing to the user, and ending with 1 after the agent.
pub fn transfer_graph(group: &str, priority: u8) -> Value {
    json!({
        "start": "human",
        "nodes": [
            {"id": "human", "module": "transfer", "config": {
                "skill_group_id": group, "priority": priority,
                "require_online_agent": false, "queued_message": ""
            }},
            {"id": "bye", "module": "end", "config": {"end_status": 1}},
            {"id": "fail", "module": "end", "config": {"end_status": 3}}
        ],
        "edges": [
            {"from": "human", "exit": "done", "to": "bye"},
            {"from": "human", "exit": "failed", "to": "fail"},
            {"from": "human", "exit": "no-agent", "to": "fail"}
        ]
    })
}

/// The flow of the survey test: a welcome naming the channel, the transfer, and the
/// survey after the agent.
pub fn survey_graph(group: &str) -> Value {
    json!({
        "start": "welcome",
        "nodes": [
            {"id": "welcome", "module": "send-message", "config": {"messages": [
                {"text": "欢迎来到 ${ClientAppName}（${ClientAppID}）"}
            ]}},
            {"id": "human", "module": "transfer", "config": {
                "skill_group_id": group, "require_online_agent": false, "queued_message": ""
            }},
            {"id": "rate", "module": "survey", "config": {
                "invitation": "请为客服 ${StaffNickName}（工号 ${StaffNo}）评分",
                "thanks_message": "感谢您的评价（${Label}）！"
            }},
            {"id": "bye", "module": "end", "config": {"end_status": 1}}
        ],
        "edges": [
            {"from": "welcome", "exit": "next", "to": "human"},
            {"from": "human", "exit": "done", "to": "rate"},
            {"from": "human", "exit": "failed", "to": "bye"},
            {"from": "human", "exit": "no-agent", "to": "bye"},
            {"from": "rate", "exit": "rated", "to": "bye"},
            {"from": "rate", "exit": "skipped", "to": "bye"},
            {"from": "rate", "exit": "expired", "to": "bye"}
        ]
    })
}

/// Creates a skill group with `routing` settings and returns its id.
pub async fn skill_group(app: &TestApp, admin: &str, name: &str, routing: Value) -> String {
    let created = app
        .post(
            "/api/v1/skill-groups",
            admin,
            json!({"name": name, "routing": routing}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    id_of(&created.body)
}

/// Publishes a transfer-only flow to `group` and opens an IM channel on `account`
/// running it, its replies going to `im`; returns the channel id.
pub async fn transfer_channel(
    app: &TestApp,
    admin: &str,
    im: &FakeIm,
    group: &str,
    account: &str,
    priority: u8,
) -> String {
    // A flow step that fails under load falls back to the same group, so that
    // routing, not the flow engine, is what these tests see.
    flow_channel(
        app,
        admin,
        im,
        account,
        transfer_graph(group, priority),
        Some(group),
    )
    .await
}

/// Publishes a flow of `graph` and opens an IM channel named `Channel <account>` on
/// `account` running it, its replies going to `im`; returns the channel id.
pub async fn flow_channel(
    app: &TestApp,
    admin: &str,
    im: &FakeIm,
    account: &str,
    graph: Value,
    default_group: Option<&str>,
) -> String {
    let flow = app
        .post(
            "/api/v1/flows",
            admin,
            json!({"name": format!("to {account}"), "draft": graph}),
        )
        .await;
    assert_eq!(flow.status, StatusCode::CREATED, "{:?}", flow.body);
    let flow_id = id_of(&flow.body);
    let published = app
        .post(
            &format!("/api/v1/flows/{flow_id}/publish"),
            admin,
            json!({}),
        )
        .await;
    assert!(published.status.is_success(), "{:?}", published.body);
    let channel = app
        .post(
            "/api/v1/channels",
            admin,
            json!({
                "name": format!("Channel {account}"), "account": account, "sdkappid": SDKAPPID,
                "secret_key": SECRET, "callback_token": CALLBACK_TOKEN, "flow_id": flow_id,
                "im_base_url": im.base_url(), "default_skill_group_id": default_group,
            }),
        )
        .await;
    assert_eq!(channel.status, StatusCode::CREATED, "{:?}", channel.body);
    id_of(&channel.body)
}

/// A user message into kefu through IM's `sendmsg`, as the app server would post it.
pub async fn say(app: &TestApp, account: &str, user: &str, text: &str) {
    // Distinct per message: IM takes a repeated MsgRandom from one sender for a retry.
    static RANDOM: AtomicU32 = AtomicU32::new(1);
    let random = RANDOM.fetch_add(1, Ordering::Relaxed);
    let body = json!({
        "SyncOtherMachine": 2, "From_Account": user, "To_Account": account,
        "MsgSeq": random, "MsgRandom": random,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]
    });
    let query = admin_query(SDKAPPID, SECRET, "administrator");
    let resp = app
        .client
        .post(app.url(&format!("/v4/openim/sendmsg?{query}")))
        .json(&body)
        .send()
        .await
        .expect("sendmsg sent");
    assert_eq!(
        resp.status(),
        200,
        "IM answers HTTP 200 whatever the outcome"
    );
    let answer: Value = resp.json().await.expect("IM's JSON answer");
    assert_eq!(answer["ActionStatus"], "OK", "{user} → {account}: {answer}");
}

/// A tenant with one skill group, a fake IM server and a channel whose flow transfers
/// every user to that group.
pub struct Desk {
    pub tenant: Tenant,
    /// The admin's access token.
    pub admin: String,
    pub group: String,
    pub channel: String,
    pub account: String,
    pub im: FakeIm,
}

impl Desk {
    /// Sets the desk up in a new tenant `slug`, the group having `routing` settings.
    pub async fn new(app: &TestApp, slug: &str, routing: Value) -> Desk {
        let tenant = app.tenant(slug).await;
        let admin = app.admin_token(&tenant).await;
        let group = skill_group(app, &admin, "售后 After-sales", routing).await;
        let im = FakeIm::start(SDKAPPID, SECRET, "administrator").await;
        let channel = transfer_channel(app, &admin, &im, &group, ACCOUNT, 5).await;
        Desk {
            tenant,
            admin,
            group,
            channel,
            account: ACCOUNT.to_owned(),
            im,
        }
    }

    /// Creates `n` agents with cap `cap` in the desk's group and signs them in.
    pub async fn agents(&self, app: &TestApp, prefix: &str, n: usize, cap: u32) -> Vec<Agent> {
        create_agents(app, self, prefix, n, cap, &[self.group.as_str()]).await
    }

    /// `user` writes `text` to the desk's channel.
    pub async fn say(&self, app: &TestApp, user: &str, text: &str) {
        say(app, &self.account, user, text).await;
    }

    /// Waits until IM has been asked to deliver a message to `user` containing `text`.
    pub async fn told(&self, text: &str, user: &str, what: &str) {
        eventually(WAIT, what, async || {
            let got = self.im.received();
            if got
                .iter()
                .any(|d| d.to() == user && d.text().contains(text))
            {
                Ok(())
            } else {
                Err(format!(
                    "{:?}",
                    got.iter().map(|d| d.text()).collect::<Vec<_>>()
                ))
            }
        })
        .await
    }

    /// How many sessions there are, in `status` when given.
    pub async fn count(&self, app: &TestApp, status: Option<&str>) -> u64 {
        let filter = status.map(|s| format!("&status={s}")).unwrap_or_default();
        let page = app
            .get(
                &format!("/api/v1/sessions?page_size=1{filter}"),
                &self.admin,
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        page.body["total"].as_u64().expect("total")
    }

    /// Every session in `status` (all of them when `None`), all pages.
    pub async fn sessions(&self, app: &TestApp, status: Option<&str>) -> Vec<Value> {
        let filter = status.map(|s| format!("&status={s}")).unwrap_or_default();
        all_pages(app, &self.admin, &format!("/api/v1/sessions?{filter}")).await
    }

    pub async fn session(&self, app: &TestApp, id: &str) -> Value {
        let s = app
            .get(&format!("/api/v1/sessions/{id}"), &self.admin)
            .await;
        assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
        s.body
    }

    /// The newest session of `user`, if any.
    pub async fn user_session(&self, app: &TestApp, user: &str) -> Option<Value> {
        let list = app
            .get(&format!("/api/v1/sessions?user_id={user}"), &self.admin)
            .await;
        assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
        list.body["items"]
            .as_array()
            .and_then(|a| a.first())
            .cloned()
    }

    /// Waits until the newest session of `user` satisfies `done`.
    pub async fn wait_user_session(
        &self,
        app: &TestApp,
        user: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(WAIT, what, async || {
            match self.user_session(app, user).await {
                Some(s) if done(&s) => Ok(s),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    }

    /// The group's queue, all pages: the items, each `{"position", "session"}`.
    pub async fn queue(&self, app: &TestApp) -> Vec<Value> {
        queue(app, &self.admin, &self.group).await
    }

    /// The ids of the sessions in the group's queue, in queue order.
    pub async fn queue_ids(&self, app: &TestApp) -> Vec<String> {
        self.queue(app)
            .await
            .iter()
            .map(|i| id_of(&i["session"]))
            .collect()
    }
}

/// A skill group's queue, all pages, checking that positions count from 1.
pub async fn queue(app: &TestApp, admin: &str, group: &str) -> Vec<Value> {
    let items = all_pages(app, admin, &format!("/api/v1/skill-groups/{group}/queue?")).await;
    for (i, item) in items.iter().enumerate() {
        assert_eq!(
            item["position"].as_u64(),
            Some(i as u64 + 1),
            "queue positions count from 1 without gaps: {item}"
        );
    }
    items
}

/// Every item of a paged list; `path` ends with `?` or with a parameter.
pub async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let sep = if path.ends_with('?') { "" } else { "&" };
    let mut items = Vec::new();
    for page in 1.. {
        let reply = app
            .get(&format!("{path}{sep}page={page}&page_size=100"), token)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        let batch = reply.body["items"].as_array().expect("items").clone();
        let total = reply.body["total"].as_u64().expect("total") as usize;
        let done = batch.is_empty();
        items.extend(batch);
        if done || items.len() >= total {
            break;
        }
    }
    items
}

/// The sessions' ids grouped by `agent_id` (sessions without an agent left out).
pub fn by_agent(sessions: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in sessions {
        if let Some(agent) = s["agent_id"].as_str() {
            map.entry(agent.to_owned()).or_default().push(id_of(s));
        }
    }
    map
}

/// The `"id"` of a JSON object.
pub fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}

/// Whether a 422 names a field equal to `prefix` or under it (`prefix[0].text`,
/// `prefix.x`).
pub fn names_field(reply: &Reply, prefix: &str) -> bool {
    reply.body["error"]["fields"]
        .as_object()
        .is_some_and(|fields| {
            fields.keys().any(|k| {
                k == prefix
                    || k.strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
            })
        })
}

/// A timestamp of the API.
pub fn ts(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("timestamp {s}: {e}"))
}

/// An account made through the admin API and signed in.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub email: String,
    pub name: String,
    pub token: String,
}

/// Creates `n` agents `<prefix>N@<tenant>.test` with cap `cap`, members of `groups`
/// at priority 5, and signs each in.
pub async fn create_agents(
    app: &TestApp,
    desk: &Desk,
    prefix: &str,
    n: usize,
    cap: u32,
    groups: &[&str],
) -> Vec<Agent> {
    let memberships: Vec<Value> = groups
        .iter()
        .map(|g| json!({"skill_group_id": g, "priority": 5}))
        .collect();
    let make = |i: usize| {
        let memberships = memberships.clone();
        async move {
            let email = format!("{prefix}{i}@{}.test", desk.tenant.slug);
            let name = format!("{prefix} {i}");
            let created = app
                .post(
                    "/api/v1/agents",
                    &desk.admin,
                    json!({
                        "email": email, "name": name, "password": PASSWORD,
                        "max_concurrent_sessions": cap, "skill_groups": memberships,
                    }),
                )
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
            let token = app.token(&desk.tenant.slug, &email).await;
            Agent {
                id: id_of(&created.body),
                email,
                name,
                token,
            }
        }
    };
    // One at a time: making agents is not what these tests are about, and concurrent
    // writers only add noise on SQLite.
    let mut agents = Vec::with_capacity(n);
    for i in 0..n {
        agents.push(make(i).await);
    }
    agents
}

/// Connects every agent's socket and makes each `free`, waiting until each is.
pub async fn online_and_free(app: &TestApp, agents: &[Agent]) -> Vec<AgentSocket> {
    let mut sockets = Vec::with_capacity(agents.len());
    for agent in agents {
        sockets.push(agent.connect(app).await);
        agent.free(app).await;
    }
    for agent in agents {
        agent.wait_status(app, "free").await;
    }
    sockets
}

impl Agent {
    /// Opens an agent socket without `after`.
    pub async fn connect(&self, app: &TestApp) -> AgentSocket {
        AgentSocket::connect(app, &self.token, None).await
    }

    /// Opens an agent socket asking for the events after `after`.
    pub async fn resume(&self, app: &TestApp, after: u64) -> AgentSocket {
        AgentSocket::connect(app, &self.token, Some(after)).await
    }

    /// A call to the agent API; `path` is under `/api/v1/agent`.
    pub async fn call(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        app.call(
            method,
            &format!("/api/v1/agent{path}"),
            Some(&self.token),
            body,
        )
        .await
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> Reply {
        self.call(app, Method::GET, path, None).await
    }

    pub async fn post(&self, app: &TestApp, path: &str, body: Value) -> Reply {
        self.call(app, Method::POST, path, Some(body)).await
    }

    /// `PUT /status`, answered as is.
    pub async fn set_status(&self, app: &TestApp, status: &str, reason: Option<&str>) -> Reply {
        let body = match reason {
            Some(r) => json!({"status": status, "reason": r}),
            None => json!({"status": status}),
        };
        self.call(app, Method::PUT, "/status", Some(body)).await
    }

    /// Chooses `free`, failing the test when refused; returns the status object.
    pub async fn free(&self, app: &TestApp) -> Value {
        let r = self.set_status(app, "free", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {:?}", self.email, r.body);
        r.body
    }

    /// `GET /status`.
    pub async fn status(&self, app: &TestApp) -> Value {
        let r = self.get(app, "/status").await;
        assert_eq!(r.status, StatusCode::OK, "{}: {:?}", self.email, r.body);
        r.body
    }

    /// Waits until the derived status is `status`; returns the status object.
    pub async fn wait_status(&self, app: &TestApp, status: &str) -> Value {
        let what = format!("{} to be {status}", self.email);
        eventually(WAIT, &what, async || {
            let s = self.status(app).await;
            if s["status"] == status {
                Ok(s)
            } else {
                Err(s.to_string())
            }
        })
        .await
    }

    /// The session ids of `GET /sessions` (offered and with the agent).
    pub async fn session_ids(&self, app: &TestApp) -> Vec<String> {
        let r = self.get(app, "/sessions").await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id_of)
            .collect()
    }
}

enum Command {
    Send(Ws),
    Close,
    Freeze,
}

/// An open agent WebSocket.
pub struct AgentSocket {
    /// The first frame, `{"type":"ready",...}`.
    pub ready: Value,
    pub agent_id: String,
    /// The seq of the last event read (or of `ready`, or `after`, before any).
    pub last_seq: u64,
    /// Every event frame read so far, in order.
    pub events: Vec<Value>,
    recent: VecDeque<Value>,
    frames: mpsc::UnboundedReceiver<Value>,
    commands: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<()>,
}

fn ws_url(app: &TestApp, query: &str) -> String {
    format!("ws://{}/api/v1/agent/ws{query}", app.addr)
}

impl AgentSocket {
    /// Connects with `token` (and `after`), reads the `ready` frame.
    pub async fn connect(app: &TestApp, token: &str, after: Option<u64>) -> AgentSocket {
        let after_param = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let url = ws_url(app, &format!("?token={token}{after_param}"));
        let (ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .unwrap_or_else(|e| panic!("opening the agent socket: {e}"));
        let (frames_tx, frames) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(pump(ws, frames_tx, commands_rx));
        let mut socket = AgentSocket {
            ready: Value::Null,
            agent_id: String::new(),
            last_seq: 0,
            events: Vec::new(),
            recent: VecDeque::new(),
            frames,
            commands,
            task,
        };
        let first = socket
            .next_frame(WAIT)
            .await
            .expect("a first frame on the agent socket");
        assert_eq!(first["type"], "ready", "the first frame is ready: {first}");
        socket.agent_id = first["agent_id"].as_str().unwrap_or_default().to_owned();
        let latest = first["seq"].as_u64().expect("ready has a seq");
        socket.last_seq = after.unwrap_or(latest);
        socket.ready = first;
        socket
    }

    /// The HTTP status a socket request with `query` (`?token=...`) is refused with.
    pub async fn refused(app: &TestApp, query: &str) -> u16 {
        match tokio_tungstenite::connect_async(ws_url(app, query)).await {
            Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
            Err(e) => panic!("the socket request failed otherwise: {e}"),
            Ok(_) => panic!("the socket was opened with {query:?}"),
        }
    }

    /// The seq of `ready`: the latest event when the socket opened.
    pub fn ready_seq(&self) -> u64 {
        self.ready["seq"].as_u64().unwrap_or(0)
    }

    /// Sends a JSON text frame.
    pub fn send_json(&self, v: &Value) {
        self.send_text(&v.to_string());
    }

    pub fn send_text(&self, text: &str) {
        let _ = self.commands.send(Command::Send(Ws::Text(text.into())));
    }

    /// Whether the connection ended: the server closed it, or it broke.
    pub fn is_closed(&self) -> bool {
        self.task.is_finished()
    }

    /// Closes the socket properly and waits until it is closed.
    pub async fn close(self) {
        let _ = self.commands.send(Command::Close);
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }

    /// Stops reading the socket but keeps its connection open, like a peer that went
    /// away without closing: the server's pings go unanswered from now on.
    pub fn freeze(&self) {
        let _ = self.commands.send(Command::Freeze);
    }

    /// The next frame of any type, or `None` after `timeout` or when the socket closed.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Value> {
        let frame = tokio::time::timeout(timeout, self.frames.recv())
            .await
            .ok()
            .flatten()?;
        match frame["type"].as_str() {
            Some("event") => {
                if let Some(seq) = frame["seq"].as_u64() {
                    self.last_seq = seq;
                }
                self.events.push(frame.clone());
            }
            Some("resync") => {
                if let Some(seq) = frame["seq"].as_u64() {
                    self.last_seq = seq;
                }
            }
            _ => {}
        }
        self.recent.push_back(frame.clone());
        if self.recent.len() > 30 {
            self.recent.pop_front();
        }
        Some(frame)
    }

    /// Reads frames until one satisfies `want` and returns it; panics after `timeout`
    /// with the last frames read.
    pub async fn frame_where(
        &mut self,
        timeout: Duration,
        what: &str,
        want: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                Some(f) if want(&f) => return f,
                Some(_) => {}
                None => panic!(
                    "agent {}: no {what} within {timeout:?}; last frames read:\n{}",
                    self.agent_id,
                    self.recent_frames()
                ),
            }
        }
    }

    /// An event satisfying `want` among those read so far, or else the next one to
    /// come: for events whose order against others is not promised.
    pub async fn event_seen(
        &mut self,
        timeout: Duration,
        what: &str,
        want: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(e) = self.events.iter().find(|e| want(e)) {
            return e.clone();
        }
        self.frame_where(timeout, what, |f| f["type"] == "event" && want(f))
            .await
    }

    /// The next event of `kind`, skipping other frames.
    pub async fn next_event(&mut self, kind: &str, timeout: Duration) -> Value {
        self.frame_where(timeout, &format!("{kind} event"), |f| is_event(f, kind))
            .await
    }

    /// The next event of `kind` about session `session_id`.
    pub async fn event_about(&mut self, kind: &str, session_id: &str, timeout: Duration) -> Value {
        self.frame_where(timeout, &format!("{kind} event about {session_id}"), |f| {
            is_event(f, kind) && event_session(f).as_deref() == Some(session_id)
        })
        .await
    }

    /// Events from now up to and including the first satisfying `want`.
    pub async fn events_until(
        &mut self,
        timeout: Duration,
        what: &str,
        want: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let from = self.events.len();
        self.frame_where(timeout, what, |f| f["type"] == "event" && want(f))
            .await;
        self.events[from..].to_vec()
    }

    /// Events from now until one with seq `seq` (at least) has been read.
    pub async fn until_seq(&mut self, seq: u64, timeout: Duration) -> Vec<Value> {
        let from = self.events.len();
        if self.last_seq < seq {
            self.frame_where(timeout, &format!("event {seq}"), |f| {
                f["type"] == "event" && f["seq"].as_u64().is_some_and(|s| s >= seq)
            })
            .await;
        }
        self.events[from..].to_vec()
    }

    /// `n` events of `kind`, skipping other frames; returns them.
    pub async fn take_events(&mut self, kind: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let what = format!("{kind} event {} of {n}", got.len() + 1);
            got.push(self.frame_where(left, &what, |f| is_event(f, kind)).await);
        }
        got
    }

    fn recent_frames(&self) -> String {
        self.recent
            .iter()
            .map(|f| format!("  {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether a frame is an event of `kind`.
pub fn is_event(frame: &Value, kind: &str) -> bool {
    frame["type"] == "event" && frame["kind"] == kind
}

/// The session an event is about: `data.session.id` or `data.session_id`.
pub fn event_session(frame: &Value) -> Option<String> {
    let data = &frame["data"];
    data["session"]["id"]
        .as_str()
        .or_else(|| data["session_id"].as_str())
        .map(str::to_owned)
}

/// Owns the connection: forwards every text frame as JSON and sends what it is told,
/// reading all the while (which is what answers the server's pings).
async fn pump(
    mut ws: Stream,
    frames: mpsc::UnboundedSender<Value>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Send(m)) => {
                    if ws.send(m).await.is_err() {
                        return;
                    }
                }
                Some(Command::Freeze) => {
                    // The connection stays open, unread, until told to close or dropped.
                    while let Some(c) = commands.recv().await {
                        if matches!(c, Command::Close) {
                            break;
                        }
                    }
                    return;
                }
                Some(Command::Close) | None => {
                    let _ = ws.close(None).await;
                    let _ = tokio::time::timeout(Duration::from_secs(5), async {
                        while let Some(Ok(_)) = ws.next().await {}
                    })
                    .await;
                    return;
                }
            },
            frame = ws.next() => match frame {
                Some(Ok(Ws::Text(t))) => {
                    let v = serde_json::from_str(&t)
                        .unwrap_or_else(|_| json!({"type": "not_json", "text": t.as_str()}));
                    if frames.send(v).is_err() {
                        return;
                    }
                }
                Some(Ok(Ws::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
