//! A fake Tencent IM server for tests that check what kefu sends to IM: a real HTTP
//! server on 127.0.0.1 (ephemeral port) serving `POST /v4/openim/sendmsg`.
//!
//! It checks every request as IM does (the query string, the administrator, the UserSig,
//! the body), answers in IM's shape, and records what arrived. Like IM, it treats a
//! repeated `(From_Account, To_Account, MsgRandom)` as the same message: answered OK
//! again (with the first answer's `MsgTime`/`MsgKey`) but recorded as a duplicate.
//! Tests can make it unavailable ([`FakeIm::set_down`]) or fail the next requests
//! ([`FakeIm::fail_next`]) to exercise kefu's retries, and hold the answers to one
//! user's requests ([`FakeIm::hold`]) to play a slow IM.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use kefu::im::usersig;
use kefu::im::wire::{
    self, ImError, SendMsgQuery, SendMsgRequest, SendMsgResponse, fail_response, ok_response,
};
use tokio::sync::{Notify, oneshot};

/// A request that reached the fake while it was up, accepted or not.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The query string as sent.
    pub raw_query: String,
    /// The query string parsed (empty when it did not parse).
    pub query: SendMsgQuery,
    /// The body as sent (lossy UTF-8).
    pub raw_body: String,
    /// The body, when it is a valid `sendmsg` request.
    pub request: Option<SendMsgRequest>,
    /// Whether the query named the administrator with a UserSig that verifies.
    pub usersig_valid: bool,
    /// What the fake answered.
    pub response: SendMsgResponse,
}

/// A message the fake accepted.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The query string it came with.
    pub query: SendMsgQuery,
    /// The request.
    pub request: SendMsgRequest,
    /// Always true: only requests with a valid UserSig are accepted.
    pub usersig_valid: bool,
    /// Whether an earlier request already delivered this message.
    pub duplicate: bool,
    /// The `MsgTime` answered.
    pub msg_time: u64,
    /// The `MsgKey` answered.
    pub msg_key: String,
}

impl Delivery {
    /// The sender (`None`: the administrator).
    pub fn from(&self) -> Option<&str> {
        self.request.from_account.as_deref()
    }

    /// The receiver.
    pub fn to(&self) -> &str {
        &self.request.to_account
    }

    /// The message's text elements, concatenated.
    pub fn text(&self) -> String {
        wire::plain_text(&self.request.msg_body)
    }

    /// The `Data` of the message's `TIMCustomElem`, if it has one.
    pub fn custom_data(&self) -> Option<String> {
        self.request.msg_body.iter().find_map(|e| match e.decode() {
            Ok(wire::Elem::Custom(c)) => Some(c.data),
            _ => None,
        })
    }
}

/// A running fake IM server. Stops when dropped.
pub struct FakeIm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

struct Shared {
    sdkappid: u64,
    key: String,
    admin: String,
    /// UserSigs checked already, as IM remembers them.
    sigs: kefu::im::usersig::Remembered,
    inner: Mutex<Inner>,
    arrived: Notify,
    /// Told when a held user is let go.
    let_go: Notify,
}

#[derive(Default)]
struct Inner {
    down: bool,
    failures: Vec<ImError>,
    attempts: usize,
    next_seq: u32,
    requests: Vec<Recorded>,
    deliveries: Vec<Delivery>,
    unique: Vec<Delivery>,
    answered: HashMap<(Option<String>, String, u32), (u64, String)>,
    /// Users whose requests are not answered for now.
    held: std::collections::HashSet<String>,
    /// Requests waiting for their user to be let go.
    waiting: usize,
}

impl FakeIm {
    /// Starts a fake for application `sdkappid` whose secret key is `secret_key` and
    /// whose administrator is `admin_identifier`.
    pub async fn start(sdkappid: u64, secret_key: &str, admin_identifier: &str) -> FakeIm {
        let shared = Arc::new(Shared {
            sdkappid,
            key: secret_key.to_owned(),
            admin: admin_identifier.to_owned(),
            sigs: Default::default(),
            inner: Mutex::new(Inner::default()),
            arrived: Notify::new(),
            let_go: Notify::new(),
        });
        let app = Router::new()
            .route(wire::SENDMSG_PATH, post(sendmsg))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the fake IM server");
        let addr = listener.local_addr().expect("fake IM address");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .ok();
        });
        FakeIm {
            addr,
            shared,
            shutdown: Some(tx),
        }
    }

    /// `http://127.0.0.1:PORT`, the base URL to configure kefu's IM egress with.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full URL of `sendmsg`, without a query string.
    pub fn sendmsg_url(&self) -> String {
        format!("{}{}", self.base_url(), wire::SENDMSG_PATH)
    }

    /// While down, every request is answered HTTP 503 and nothing is recorded.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// Answers the next `n` requests with IM's FAIL (90994, internal error: retry).
    pub fn fail_next(&self, n: usize) {
        self.fail_next_with(n, ImError::internal());
    }

    /// Answers the next `n` requests with FAIL and `error`.
    pub fn fail_next_with(&self, n: usize, error: ImError) {
        self.lock().failures.extend(std::iter::repeat_n(error, n));
    }

    /// Answers no request to `user` (its `To_Account`) until [`FakeIm::let_go`]: each
    /// waits, unanswered, as behind a slow IM.
    pub fn hold(&self, user: &str) {
        self.lock().held.insert(user.to_owned());
    }

    /// Answers the requests to `user` held so far, and the next ones at once.
    pub fn let_go(&self, user: &str) {
        self.lock().held.remove(user);
        self.shared.let_go.notify_waiters();
    }

    /// How many requests are waiting, held, for their answer.
    pub fn waiting(&self) -> usize {
        self.lock().waiting
    }

    /// The messages accepted, each once, in arrival order.
    pub fn received(&self) -> Vec<Delivery> {
        self.lock().unique.clone()
    }

    /// Every accepted delivery, duplicates included.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.clone()
    }

    /// How many accepted deliveries repeated an earlier message.
    pub fn duplicates(&self) -> usize {
        self.lock()
            .deliveries
            .iter()
            .filter(|d| d.duplicate)
            .count()
    }

    /// Every request that reached the fake while up, refused ones included.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// How many HTTP requests arrived, including those answered 503.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    /// Waits until `n` distinct messages have been accepted and returns all accepted so
    /// far; panics after `timeout` with what did arrive.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            // Registered before looking, so an arrival in between is not missed.
            notified.as_mut().enable();
            {
                let inner = self.lock();
                if inner.unique.len() >= n {
                    return inner.unique.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let inner = self.lock();
                panic!(
                    "fake IM: waited {timeout:?} for {n} message(s) but {} arrived \
                     ({} HTTP attempt(s)).\naccepted:\n{}\nall requests:\n{}",
                    inner.unique.len(),
                    inner.attempts,
                    summary(&inner.unique),
                    inner
                        .requests
                        .iter()
                        .map(|r| format!(
                            "  {} {} usersig_valid={} -> {} {}",
                            r.raw_query,
                            r.raw_body,
                            r.usersig_valid,
                            r.response.error_code,
                            r.response.error_info
                        ))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared.lock()
    }
}

impl Drop for FakeIm {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock must not hide the real failure.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn summary(deliveries: &[Delivery]) -> String {
    if deliveries.is_empty() {
        return "  (none)".into();
    }
    deliveries
        .iter()
        .map(|d| {
            format!(
                "  {:?} -> {} random={} text={:?} custom={:?}",
                d.from(),
                d.to(),
                d.request.msg_random,
                d.text(),
                d.custom_data()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Returns once `to` is not held.
async fn wait_while_held(shared: &Shared, to: &str) {
    let mut counted = false;
    loop {
        let let_go = shared.let_go.notified();
        tokio::pin!(let_go);
        // Registered before looking, so a let-go in between is not missed.
        let_go.as_mut().enable();
        {
            let mut inner = shared.lock();
            if !inner.held.contains(to) {
                if counted {
                    inner.waiting -= 1;
                }
                return;
            }
            if !counted {
                inner.waiting += 1;
                counted = true;
            }
        }
        let_go.await;
    }
}

async fn sendmsg(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw_query): RawQuery,
    body: Bytes,
) -> Response {
    let raw_query = raw_query.unwrap_or_default();
    if let Ok(request) = wire::parse_sendmsg(&body) {
        wait_while_held(&shared, &request.to_account).await;
    }
    let mut inner = shared.lock();
    inner.attempts += 1;
    if inner.down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }

    let (query, auth) = match SendMsgQuery::parse(&raw_query) {
        Ok(q) => {
            let auth = q.validate().and_then(|a| {
                a.authenticate(
                    &shared.sigs,
                    shared.sdkappid,
                    &shared.key,
                    &shared.admin,
                    unix_now(),
                )
            });
            (q, auth)
        }
        Err(e) => (SendMsgQuery::default(), Err(e)),
    };
    let usersig_valid = auth.is_ok();
    let parsed = wire::parse_sendmsg(&body);
    let forced = if inner.failures.is_empty() {
        None
    } else {
        Some(inner.failures.remove(0))
    };
    let outcome = match (forced, auth, &parsed) {
        (Some(e), _, _) | (None, Err(e), _) => Err(e),
        (None, Ok(_), Err(e)) => Err(e.clone()),
        (None, Ok(_), Ok(req)) => Ok(req.clone()),
    };

    let response = match outcome {
        Err(e) => fail_response(&e),
        Ok(request) => {
            let delivery = accept(&mut inner, query.clone(), request);
            let response = ok_response(delivery.msg_time, &delivery.msg_key);
            inner.deliveries.push(delivery.clone());
            if !delivery.duplicate {
                inner.unique.push(delivery);
                shared.arrived.notify_waiters();
            }
            response
        }
    };
    inner.requests.push(Recorded {
        raw_query,
        query,
        raw_body: String::from_utf8_lossy(&body).into_owned(),
        request: parsed.ok(),
        usersig_valid,
        response: response.clone(),
    });
    Json(response).into_response()
}

/// Gives an accepted request its `MsgTime` and `MsgKey`, or the first ones if it
/// repeats a message already delivered.
fn accept(inner: &mut Inner, query: SendMsgQuery, request: SendMsgRequest) -> Delivery {
    let key = (
        request.from_account.clone(),
        request.to_account.clone(),
        request.msg_random,
    );
    let (duplicate, msg_time, msg_key) = match inner.answered.get(&key) {
        Some((time, msg_key)) => (true, *time, msg_key.clone()),
        None => {
            inner.next_seq += 1;
            let seq = request.msg_seq.unwrap_or(inner.next_seq);
            let time = unix_now();
            let msg_key = wire::msg_key(seq, request.msg_random, time);
            inner.answered.insert(key, (time, msg_key.clone()));
            (false, time, msg_key)
        }
    };
    Delivery {
        query,
        request,
        usersig_valid: true,
        duplicate,
        msg_time,
        msg_key,
    }
}

/// The query string for `sendmsg` as an app server would send it: a fresh UserSig for
/// `identifier` (valid one hour) and a fresh `random`.
pub fn admin_query(sdkappid: u64, key: &str, identifier: &str) -> String {
    let sig = usersig::generate(sdkappid, key, identifier, 3600, unix_now());
    let random = uuid::Uuid::new_v4().as_u128() as u32;
    wire::sendmsg_query_string(sdkappid, identifier, &sig, random)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const APP: u64 = 1_400_000_042;
    const KEY: &str = "fake-im-secret";
    const ADMIN: &str = "administrator";

    fn message(random: u32, text: &str) -> Value {
        json!({
            "SyncOtherMachine": 2,
            "From_Account": "kefu_virtual_1",
            "To_Account": "user_42",
            "MsgRandom": random,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]
        })
    }

    async fn post(im: &FakeIm, query: &str, body: &Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}?{query}", im.sendmsg_url()))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn records_accepted_messages_once() {
        let im = FakeIm::start(APP, KEY, ADMIN).await;
        let query = admin_query(APP, KEY, ADMIN);
        let (status, answer) = post(&im, &query, &message(7, "hello")).await;
        assert_eq!(status, 200);
        assert_eq!(answer["ActionStatus"], "OK");
        assert_eq!(answer["ErrorCode"], 0);
        assert!(answer["MsgKey"].as_str().is_some_and(|k| k.contains("_7_")));

        // A retry of the same message: OK again, with the same key, kept once.
        let (_, again) = post(&im, &admin_query(APP, KEY, ADMIN), &message(7, "hello")).await;
        assert_eq!(again["MsgKey"], answer["MsgKey"]);
        post(&im, &query, &message(8, "second")).await;

        let got = im.wait_for(2, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].text(), "hello");
        assert_eq!(got[0].from(), Some("kefu_virtual_1"));
        assert_eq!(got[0].to(), "user_42");
        assert!(got[0].usersig_valid);
        assert_eq!(im.deliveries().len(), 3);
        assert_eq!(im.duplicates(), 1);
        assert_eq!(im.attempts(), 3);
    }

    #[tokio::test]
    async fn refuses_bad_credentials_and_bodies() {
        let im = FakeIm::start(APP, KEY, ADMIN).await;
        let (status, answer) =
            post(&im, &admin_query(APP, "wrong key", ADMIN), &message(1, "x")).await;
        assert_eq!(status, 200);
        assert_eq!(answer["ActionStatus"], "FAIL");
        assert_eq!(answer["ErrorCode"], 70009);

        let (_, answer) = post(&im, &admin_query(APP, KEY, "not_admin"), &message(1, "x")).await;
        assert_eq!(answer["ErrorCode"], 60010);

        let (_, answer) = post(
            &im,
            &admin_query(APP, KEY, ADMIN),
            &json!({"To_Account": "u"}),
        )
        .await;
        assert_eq!(answer["ErrorCode"], 90005);

        assert!(im.received().is_empty());
        let requests = im.requests();
        assert_eq!(requests.len(), 3);
        assert!(!requests[0].usersig_valid);
        assert!(requests[2].usersig_valid);
        assert!(requests[2].request.is_none());
    }

    #[tokio::test]
    async fn can_be_down_or_fail() {
        let im = FakeIm::start(APP, KEY, ADMIN).await;
        im.set_down(true);
        let (status, _) = post(&im, &admin_query(APP, KEY, ADMIN), &message(3, "x")).await;
        assert_eq!(status, 503);
        im.set_down(false);

        im.fail_next(1);
        let (_, answer) = post(&im, &admin_query(APP, KEY, ADMIN), &message(3, "x")).await;
        assert_eq!(answer["ActionStatus"], "FAIL");
        assert_eq!(answer["ErrorCode"], 90994);
        let (_, answer) = post(&im, &admin_query(APP, KEY, ADMIN), &message(3, "x")).await;
        assert_eq!(answer["ActionStatus"], "OK");

        assert_eq!(im.attempts(), 3);
        assert_eq!(im.received().len(), 1);
    }

    #[tokio::test]
    #[should_panic(expected = "waited")]
    async fn wait_for_says_what_arrived() {
        let im = FakeIm::start(APP, KEY, ADMIN).await;
        im.wait_for(1, Duration::from_millis(50)).await;
    }
}
