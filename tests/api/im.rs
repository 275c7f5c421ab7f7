//! Sessions through IM: kefu driven entirely in Tencent IM's format by an app server,
//! replies going out to a fake IM server on loopback that checks what kefu sends and
//! its UserSig; IM's callbacks; the web chat over its WebSocket; restarts and timers.

use std::time::Duration;

use futures::SinkExt;
use kefu_tests::fake_im::{FakeIm, admin_query};
use kefu_tests::webchat::{self, frame_where, next_frame};
use kefu_tests::{TestApp, spawn_app, spawn_app_with, spawn_two_nodes};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

const SDKAPPID: u64 = 1_400_000_123;
const SECRET: &str = "test-secret-key-0123456789abcdef";
const TOKEN: &str = "callback-token-0123456789";
const ACCOUNT: &str = "kefu_shop";

struct Shop {
    token: String,
    channel: String,
}

/// The flow of these tests: welcome → menu → FAQ bot → transfer, which finds nobody
/// online and ends with status 3; a menu left unanswered times out to a goodbye.
fn graph(group: &str, menu_timeout_secs: u32) -> Value {
    json!({
        "start": "welcome",
        "nodes": [
            {"id": "welcome", "module": "send-message", "config": {"messages": [{"text": "您好，欢迎光临！"}]}},
            {"id": "menu", "module": "branch", "config": {
                "menu": {"title": "请选择", "choices": [
                    {"id": "faq", "label": "常见问题", "branch": "faq"},
                    {"id": "human", "label": "人工客服", "branch": "human"}
                ]},
                "branches": [
                    {"name": "faq", "conditions": [{"type": "keyword_any", "keywords": ["问题"]}]},
                    {"name": "human", "conditions": [{"type": "keyword_any", "keywords": ["人工"]}]}
                ],
                "timeout_secs": menu_timeout_secs
            }},
            {"id": "bot", "module": "text-bot", "config": {
                "welcome": "请输入您的问题。",
                "faqs": [
                    {"id": "refund", "question": "如何申请退款？", "alternatives": ["怎么退款", "How do I get a refund?"],
                     "answer": "在订单页点击申请退款即可。"},
                    {"id": "ship", "question": "什么时候发货？", "alternatives": ["多久发货", "When will my order ship?"],
                     "answer": "下单后24小时内发货。"}
                ]
            }},
            {"id": "human", "module": "transfer", "config": {"skill_group_id": group, "no_agent_message": "当前没有客服在线。"}},
            {"id": "bye", "module": "end", "config": {"end_status": 1, "message": "再见！"}},
            {"id": "no-agent", "module": "end", "config": {"end_status": 3}}
        ],
        "edges": [
            {"from": "welcome", "exit": "next", "to": "menu"},
            {"from": "menu", "exit": "faq", "to": "bot"},
            {"from": "menu", "exit": "human", "to": "human"},
            {"from": "menu", "exit": "no-match", "to": "bot"},
            {"from": "menu", "exit": "timeout", "to": "bye"},
            {"from": "bot", "exit": "transfer", "to": "human"},
            {"from": "bot", "exit": "done", "to": "bye"},
            {"from": "bot", "exit": "timeout", "to": "bye"},
            {"from": "human", "exit": "done", "to": "bye"},
            {"from": "human", "exit": "failed", "to": "no-agent"},
            {"from": "human", "exit": "no-agent", "to": "no-agent"}
        ]
    })
}

/// A tenant with a published flow and a channel; replies go to `im` when given.
async fn shop(app: &TestApp, im: Option<&FakeIm>, menu_timeout_secs: u32, idle_secs: u32) -> Shop {
    let tenant = app.tenant("shop").await;
    let token = app.admin_token(&tenant).await;
    let group = app
        .post(
            "/api/v1/skill-groups",
            &token,
            json!({"name": "售后 After-sales"}),
        )
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let group = group.body["id"].as_str().unwrap().to_owned();
    let flow = app
        .post(
            "/api/v1/flows",
            &token,
            json!({"name": "shop flow", "draft": graph(&group, menu_timeout_secs)}),
        )
        .await;
    assert_eq!(flow.status, 201, "{:?}", flow.body);
    let flow_id = flow.body["id"].as_str().unwrap().to_owned();
    let published = app
        .post(
            &format!("/api/v1/flows/{flow_id}/publish"),
            &token,
            json!({}),
        )
        .await;
    assert!(published.status.is_success(), "{:?}", published.body);
    let channel = app
        .post(
            "/api/v1/channels",
            &token,
            json!({
                "name": "Shop", "account": ACCOUNT, "sdkappid": SDKAPPID,
                "secret_key": SECRET, "callback_token": TOKEN, "flow_id": flow_id,
                "im_base_url": im.map(|i| i.base_url()), "idle_timeout_secs": idle_secs,
            }),
        )
        .await;
    assert_eq!(channel.status, 201, "{:?}", channel.body);
    assert_eq!(channel.body["secret_key"], SECRET);
    Shop {
        token,
        channel: channel.body["id"].as_str().unwrap().to_owned(),
    }
}

fn text(from: &str, to: &str, random: u32, text: &str) -> Value {
    json!({
        "SyncOtherMachine": 2, "From_Account": from, "To_Account": to,
        "MsgSeq": random, "MsgRandom": random,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]
    })
}

/// Posts to kefu's `sendmsg` as the app server; answers IM's JSON.
async fn sendmsg_raw(app: &TestApp, query: &str, body: Vec<u8>) -> Value {
    let resp = app
        .client
        .post(app.url(&format!("/v4/openim/sendmsg?{query}")))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "IM answers HTTP 200 whatever the outcome"
    );
    resp.json().await.unwrap()
}

async fn sendmsg(app: &TestApp, body: &Value) -> Value {
    sendmsg_raw(
        app,
        &admin_query(SDKAPPID, SECRET, "administrator"),
        body.to_string().into_bytes(),
    )
    .await
}

async fn say(app: &TestApp, user: &str, random: u32, words: &str) -> Value {
    let answer = sendmsg(app, &text(user, ACCOUNT, random, words)).await;
    assert_eq!(answer["ActionStatus"], "OK", "{answer}");
    answer
}

async fn sessions(app: &TestApp, shop: &Shop, user: &str) -> Vec<Value> {
    let list = app
        .get(&format!("/api/v1/sessions?user_id={user}"), &shop.token)
        .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    list.body["items"].as_array().unwrap().clone()
}

async fn transcript(app: &TestApp, shop: &Shop, session: &str) -> Vec<Value> {
    let t = app
        .get(
            &format!("/api/v1/sessions/{session}/messages?Limit=100"),
            &shop.token,
        )
        .await;
    assert_eq!(t.status, 200, "{:?}", t.body);
    t.body.as_array().unwrap().clone()
}

/// The transcript is numbered 1, 2, 3… without a gap, and the session counts it all.
fn assert_gapless(session: &Value, messages: &[Value]) {
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=messages.len() as u64).collect::<Vec<_>>());
    assert_eq!(session["message_count"], messages.len());
}

/// Waits until the user's newest session satisfies `done`.
async fn wait_session(
    app: &TestApp,
    shop: &Shop,
    user: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..100 {
        if let Some(s) = sessions(app, shop, user).await.first()
            && done(s)
        {
            return s.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the session never got there: {:?}",
        sessions(app, shop, user).await
    );
}

#[tokio::test]
async fn a_full_conversation_in_im_format_from_activation_to_the_end() {
    let app = spawn_app().await;
    let im = FakeIm::start(SDKAPPID, SECRET, "administrator").await;
    let shop = shop(&app, Some(&im), 600, 1800).await;

    // The app server activates the flow for user_42 by writing as the virtual account.
    let activation = sendmsg(&app, &text(ACCOUNT, "user_42", 7, "您好，这里是客服")).await;
    assert_eq!(activation["ActionStatus"], "OK", "{activation}");
    assert_eq!(activation["ErrorCode"], 0);
    assert!(
        activation["MsgKey"]
            .as_str()
            .unwrap()
            .ends_with(&activation["MsgTime"].to_string())
    );
    let sent = im.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(sent[0].text(), "您好，欢迎光临！");
    assert!(
        sent[1]
            .text()
            .starts_with("请选择\n1. 常见问题\n2. 人工客服"),
        "{}",
        sent[1].text()
    );
    assert!(sent[1].custom_data().unwrap().contains("kefu.menu"));
    for d in &sent {
        assert!(d.usersig_valid, "kefu signs its calls as the administrator");
        assert_eq!(d.from(), Some(ACCOUNT));
        assert_eq!(d.to(), "user_42");
    }

    say(&app, "user_42", 100, "1").await;
    im.wait_for(3, Duration::from_secs(10)).await;
    say(&app, "user_42", 101, "怎么退款呀").await;
    let sent = im.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(sent[3].text(), "在订单页点击申请退款即可。");
    say(&app, "user_42", 102, "转人工").await;
    let sent = im.wait_for(5, Duration::from_secs(10)).await;
    assert_eq!(sent[4].text(), "当前没有客服在线。");

    let session = wait_session(&app, &shop, "user_42", |s| s["status"] == "ended").await;
    assert_eq!(
        session["end_status"], 3,
        "nobody online: TCCC's end status 3"
    );
    assert_eq!(session["source"], "im");
    let messages = transcript(&app, &shop, session["id"].as_str().unwrap()).await;
    let lines: Vec<(String, String)> = messages
        .iter()
        .map(|m| {
            (
                m["sender"].as_str().unwrap().to_owned(),
                m["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(lines[0], ("system".into(), "您好，这里是客服".into()));
    assert_eq!(lines[1], ("bot".into(), "您好，欢迎光临！".into()));
    assert_eq!(lines[3], ("user".into(), "1".into()));
    assert_eq!(lines[4], ("bot".into(), "请输入您的问题。".into()));
    assert_eq!(lines[5], ("user".into(), "怎么退款呀".into()));
    assert_eq!(
        lines[6],
        ("bot".into(), "在订单页点击申请退款即可。".into())
    );
    assert_eq!(
        lines.last().unwrap(),
        &("bot".into(), "当前没有客服在线。".into())
    );
    let seqs: Vec<u64> = messages
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=messages.len() as u64).collect::<Vec<_>>());
    assert_eq!(im.duplicates(), 0);
    let randoms: std::collections::HashSet<u32> =
        im.received().iter().map(|d| d.request.msg_random).collect();
    assert_eq!(randoms.len(), 5, "every reply has its own MsgRandom");

    // Writing again after the end starts a new session with the flow from the top.
    say(&app, "user_42", 103, "在吗").await;
    let sent = im.wait_for(7, Duration::from_secs(10)).await;
    assert_eq!(sent[5].text(), "您好，欢迎光临！");
    assert_eq!(sessions(&app, &shop, "user_42").await.len(), 2);
}

#[tokio::test]
async fn a_retried_message_is_handled_once_and_answered_the_same() {
    let app = spawn_app().await;
    let shop = shop(&app, None, 600, 1800).await;
    let first = say(&app, "user_7", 555, "你好").await;
    let again = say(&app, "user_7", 555, "你好").await;
    assert_eq!(
        first, again,
        "a retry is answered exactly as the first time"
    );
    let other = say(&app, "user_7", 556, "你好").await;
    assert_ne!(first["MsgKey"], other["MsgKey"]);
    let list = sessions(&app, &shop, "user_7").await;
    assert_eq!(list.len(), 1);
    let messages = transcript(&app, &shop, list[0]["id"].as_str().unwrap()).await;
    let from_user = messages.iter().filter(|m| m["direction"] == "in").count();
    assert_eq!(from_user, 2, "the retry was not stored again: {messages:?}");
}

#[tokio::test]
async fn bad_requests_get_im_errors_and_write_nothing() {
    let app = spawn_app().await;
    let shop = shop(&app, None, 600, 1800).await;
    let good = admin_query(SDKAPPID, SECRET, "administrator");
    let body = |v: Value| v.to_string().into_bytes();

    let cases: Vec<(&str, String, Vec<u8>, u64)> = vec![
        (
            "not JSON",
            good.clone(),
            b"{\"To_Account\":".to_vec(),
            90001,
        ),
        (
            "no To_Account",
            good.clone(),
            body(
                json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]}),
            ),
            90003,
        ),
        (
            "no MsgRandom",
            good.clone(),
            body(
                json!({"From_Account": "u1", "To_Account": ACCOUNT, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]}),
            ),
            90005,
        ),
        (
            "MsgBody not an array",
            good.clone(),
            body(
                json!({"From_Account": "u1", "To_Account": ACCOUNT, "MsgRandom": 1, "MsgBody": {"MsgType": "TIMTextElem"}}),
            ),
            90007,
        ),
        (
            "unknown SDKAppID",
            admin_query(1_400_999_999, SECRET, "administrator"),
            body(text("u1", ACCOUNT, 1, "x")),
            70020,
        ),
        (
            "UserSig made with another key",
            admin_query(SDKAPPID, "another-key-0000000000000000", "administrator"),
            body(text("u1", ACCOUNT, 1, "x")),
            70009,
        ),
        (
            "not the administrator",
            admin_query(SDKAPPID, SECRET, "someone"),
            body(text("u1", ACCOUNT, 1, "x")),
            60010,
        ),
        (
            "oversize body",
            good.clone(),
            body(text("u1", ACCOUNT, 1, &"长".repeat(30_000))),
            93000,
        ),
        (
            "neither account is the virtual account",
            good.clone(),
            body(text("u1", "u2", 1, "x")),
            90003,
        ),
    ];
    for (what, query, payload, code) in cases {
        let answer = sendmsg_raw(&app, &query, payload).await;
        assert_eq!(answer["ActionStatus"], "FAIL", "{what}: {answer}");
        assert_eq!(answer["ErrorCode"], code, "{what}: {answer}");
        assert!(!answer["ErrorInfo"].as_str().unwrap().is_empty(), "{what}");
    }
    let all = app.get("/api/v1/sessions", &shop.token).await;
    assert_eq!(all.body["total"], 0, "nothing was written: {:?}", all.body);
}

#[tokio::test]
async fn concurrent_messages_of_one_session_are_all_applied_one_after_the_other() {
    let app = spawn_app().await;
    let shop = shop(&app, None, 600, 1800).await;
    // At the FAQ bot, which answers each question and keeps waiting.
    say(&app, "user_c", 1, "你好").await;
    say(&app, "user_c", 2, "1").await;
    let sends = (0..12u32).map(|i| {
        let app = &app;
        async move { say(app, "user_c", 1000 + i, "怎么退款").await }
    });
    futures::future::join_all(sends).await;
    let list = sessions(&app, &shop, "user_c").await;
    assert_eq!(list.len(), 1, "one session, not one per concurrent message");
    let messages = transcript(&app, &shop, list[0]["id"].as_str().unwrap()).await;
    let inbound = messages.iter().filter(|m| m["direction"] == "in").count();
    assert_eq!(inbound, 14, "every message stored once");
    let answers = messages
        .iter()
        .filter(|m| m["text"] == "在订单页点击申请退款即可。")
        .count();
    assert_eq!(answers, 12, "each message had its own turn");
    assert_eq!(list[0]["status"], "in_flow");
    assert_gapless(&list[0], &messages);
}

#[tokio::test]
async fn a_user_s_messages_through_two_nodes_each_continue_from_the_other_s_turn() {
    let Some((a, b)) = spawn_two_nodes().await else {
        return;
    };
    let shop = shop(&a, None, 600, 1800).await;
    say(&a, "user_n", 1, "你好").await;
    say(&b, "user_n", 2, "1").await;
    // Each node keeps the session its turn left; the other node's turn makes that copy
    // stale, and the next turn here must start from the stored session.
    for i in 0..6u32 {
        let node = if i % 2 == 0 { &a } else { &b };
        say(node, "user_n", 10 + i, "怎么退款").await;
    }
    say(&a, "user_n", 20, "再见").await;
    // Ended on a: b's copy is of a session that is over, so this opens a new one.
    say(&b, "user_n", 21, "你好").await;
    let list = sessions(&a, &shop, "user_n").await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["status"], "in_flow");
    assert_eq!(list[1]["status"], "ended");
    let ended = transcript(&a, &shop, list[1]["id"].as_str().unwrap()).await;
    let inbound = ended.iter().filter(|m| m["direction"] == "in").count();
    assert_eq!(
        inbound, 9,
        "every message stored once, in the session it was for"
    );
    let answers = ended
        .iter()
        .filter(|m| m["text"] == "在订单页点击申请退款即可。")
        .count();
    assert_eq!(answers, 6, "each question answered once");
    assert_eq!(ended.last().unwrap()["text"], "再见！");
    assert_gapless(&list[1], &ended);
    let opened = transcript(&b, &shop, list[0]["id"].as_str().unwrap()).await;
    assert_eq!(opened[0]["text"], "你好");
    assert_eq!(opened[1]["text"], "您好，欢迎光临！");
    b.stop().await;
}

#[tokio::test]
async fn a_restart_loses_nothing_and_a_pending_wait_still_times_out() {
    let app = spawn_app().await;
    let shop = shop(&app, None, 2, 1800).await;
    // user_a is at the menu when the server restarts; the reply goes on from there.
    say(&app, "user_a", 1, "你好").await;
    say(&app, "user_b", 2, "你好").await;
    let app = app.restart().await;
    say(&app, "user_a", 3, "1").await;
    let a = sessions(&app, &shop, "user_a").await;
    assert_eq!(a[0]["node"], "bot", "{:?}", a[0]);
    let messages = transcript(&app, &shop, a[0]["id"].as_str().unwrap()).await;
    assert_eq!(messages.last().unwrap()["text"], "请输入您的问题。");
    // user_b never answers: the menu's 2-second wait fires after the restart.
    let b = wait_session(&app, &shop, "user_b", |s| s["status"] == "ended").await;
    assert_eq!(b["end_status"], 1);
    let messages = transcript(&app, &shop, b["id"].as_str().unwrap()).await;
    assert_eq!(messages.last().unwrap()["text"], "再见！");
}

#[tokio::test]
async fn a_user_who_stops_replying_is_ended_with_108() {
    let app = spawn_app().await;
    let shop = shop(&app, None, 600, 1).await;
    say(&app, "user_idle", 1, "你好").await;
    let s = wait_session(&app, &shop, "user_idle", |s| s["status"] == "ended").await;
    assert_eq!(s["end_status"], 108);
}

#[tokio::test]
async fn replies_are_retried_until_im_is_back_and_delivered_once() {
    let app = spawn_app().await;
    let im = FakeIm::start(SDKAPPID, SECRET, "administrator").await;
    let shop = shop(&app, Some(&im), 600, 1800).await;
    im.set_down(true);
    say(&app, "user_r", 1, "你好").await;
    for _ in 0..100 {
        if im.attempts() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(im.attempts() >= 2, "kefu kept trying while IM was down");
    assert!(im.received().is_empty());
    im.set_down(false);
    im.fail_next(1);
    let sent = im.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(sent[0].text(), "您好，欢迎光临！");
    assert_eq!(im.received().len(), 2, "each reply delivered once");
    let _ = shop;
}

#[tokio::test]
async fn a_slow_answer_from_im_to_one_user_holds_up_nobody_else() {
    let app = spawn_app().await;
    let im = FakeIm::start(SDKAPPID, SECRET, "administrator").await;
    let shop = shop(&app, Some(&im), 600, 1800).await;
    im.hold("user_slow");
    say(&app, "user_slow", 1, "你好").await;
    for _ in 0..100 {
        if im.waiting() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(im.waiting(), 1, "the first reply to user_slow reached IM");
    say(&app, "user_quick", 2, "你好").await;
    // Well within kefu's 5 s wait for IM's answer to user_slow: sent alongside it.
    let sent = im.wait_for(2, Duration::from_secs(4)).await;
    let to: Vec<&str> = sent.iter().map(|d| d.to()).collect();
    assert_eq!(to, ["user_quick", "user_quick"], "{sent:?}");
    assert_eq!(sent[0].text(), "您好，欢迎光临！");
    assert_eq!(
        im.waiting(),
        1,
        "user_slow's second reply waits for the first"
    );
    im.let_go("user_slow");
    let sent = im.wait_for(4, Duration::from_secs(10)).await;
    let slow: Vec<String> = sent
        .iter()
        .filter(|d| d.to() == "user_slow")
        .map(|d| d.text())
        .collect();
    assert_eq!(slow.len(), 2, "{sent:?}");
    assert_eq!(slow[0], "您好，欢迎光临！", "in order for each user");
    assert_eq!(im.duplicates(), 0);
    let _ = shop;
}

/// The query of an IM callback with a valid `Sign`.
fn callback_query(token: &str) -> String {
    use sha2::Digest;
    let time = chrono::Utc::now().timestamp().to_string();
    let sign = hex::encode(sha2::Sha256::digest(format!("{token}{time}").as_bytes()));
    format!(
        "SdkAppid={SDKAPPID}&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI&RequestTime={time}&Sign={sign}"
    )
}

async fn callback(app: &TestApp, query: &str, body: &Value) -> Value {
    let resp = app
        .client
        .post(app.url(&format!("/im/callback?{query}")))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn callback_body(from: &str, to: &str, random: u32, words: &str) -> Value {
    json!({
        "CallbackCommand": "C2C.CallbackAfterSendMsg",
        "From_Account": from, "To_Account": to,
        "MsgSeq": random, "MsgRandom": random, "MsgTime": 1_557_481_126,
        "MsgKey": format!("{random}_{random}_1557481126"), "OnlineOnlyFlag": 0,
        "SendMsgResult": 0, "ErrorInfo": "send msg succeed", "UnreadMsgNum": 0,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": words}}],
        "CloudCustomData": ""
    })
}

#[tokio::test]
async fn im_callbacks_bring_user_input_and_kefus_own_replies_are_ignored() {
    let app = spawn_app().await;
    let im = FakeIm::start(SDKAPPID, SECRET, "administrator").await;
    let shop = shop(&app, Some(&im), 600, 1800).await;

    let refused = callback(
        &app,
        &callback_query("wrong-token"),
        &callback_body("u9", ACCOUNT, 1, "hi"),
    )
    .await;
    assert_eq!(refused["ActionStatus"], "FAIL", "{refused}");
    assert!(sessions(&app, &shop, "u9").await.is_empty());

    let ok = callback(
        &app,
        &callback_query(TOKEN),
        &callback_body("u9", ACCOUNT, 1, "你好"),
    )
    .await;
    assert_eq!(
        ok,
        json!({"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0})
    );
    let sent = im.wait_for(2, Duration::from_secs(10)).await;
    let session = sessions(&app, &shop, "u9").await.remove(0);
    let before = transcript(&app, &shop, session["id"].as_str().unwrap())
        .await
        .len();

    // IM reports kefu's own replies too: they must not come back as input.
    for d in &sent {
        let echo = callback_body(ACCOUNT, "u9", d.request.msg_random, &d.text());
        let answer = callback(&app, &callback_query(TOKEN), &echo).await;
        assert_eq!(answer["ActionStatus"], "OK");
    }
    // A callback retried by IM is taken once.
    callback(
        &app,
        &callback_query(TOKEN),
        &callback_body("u9", ACCOUNT, 2, "1"),
    )
    .await;
    callback(
        &app,
        &callback_query(TOKEN),
        &callback_body("u9", ACCOUNT, 2, "1"),
    )
    .await;
    let after = transcript(&app, &shop, session["id"].as_str().unwrap()).await;
    let inbound = after.iter().filter(|m| m["direction"] == "in").count();
    assert_eq!(inbound, 2, "{after:?}");
    assert!(after.len() > before);
    assert!(
        after.iter().all(|m| m["sender"] != "system"),
        "kefu's own replies were not taken for an activation"
    );
}

#[tokio::test]
async fn the_web_chat_talks_to_the_flow_over_its_websocket() {
    let app = spawn_app_with(|_| {}).await;
    let shop = shop(&app, None, 600, 1800).await;
    let page = app
        .client
        .get(app.url(&format!("/chat/{}", shop.channel)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<html"));
    let info = app
        .client
        .get(app.url(&format!("/chat/{}/info", shop.channel)))
        .send()
        .await
        .unwrap();
    assert_eq!(info.json::<Value>().await.unwrap()["account"], ACCOUNT);
    let missing = app
        .client
        .get(app.url(&format!("/chat/{}/info", uuid::Uuid::now_v7())))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let mut ws = webchat::visit(&app, &shop.channel, "alice", "Alice").await;
    let ready = next_frame(&mut ws).await;
    assert_eq!(ready["type"], "ready");
    let account = ready["user_id"].as_str().unwrap().to_owned();
    assert!(account.starts_with("web_"), "{ready}");
    assert!(
        !account.contains(&webchat::token("alice")[..8]),
        "the account never shows the secret token"
    );
    assert_eq!(
        ready["session"]["status"], "in_flow",
        "opening the chat starts the flow"
    );
    let history = next_frame(&mut ws).await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], "您好，欢迎光临！");
    assert_eq!(history["messages"][1]["elements"][0]["type"], "menu");

    ws.send(Ws::Text(
        json!({"type": "message", "client_id": "c1", "text": "1"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let ack = frame_where(&mut ws, |f| f["type"] == "ack").await;
    assert_eq!(ack["client_id"], "c1");
    let reply = frame_where(&mut ws, |f| {
        f["type"] == "message" && f["message"]["direction"] == "out"
    })
    .await;
    assert_eq!(reply["message"]["text"], "请输入您的问题。");

    // A page retrying a message it got no ack for is acknowledged, not stored twice.
    ws.send(Ws::Text(
        json!({"type": "message", "client_id": "c1", "text": "1"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let again = frame_where(&mut ws, |f| f["type"] == "ack").await;
    assert_eq!(again["message_id"], ack["message_id"]);
    ws.send(Ws::Text(
        json!({"type": "message", "client_id": "c2", "text": " "})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let empty = frame_where(&mut ws, |f| f["type"] == "error").await;
    assert_eq!(empty["code"], "empty_message");
    ws.send(Ws::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .unwrap();
    frame_where(&mut ws, |f| f["type"] == "pong").await;

    // Reconnecting shows the same conversation, without starting the flow again.
    drop(ws);
    let mut ws = webchat::visit(&app, &shop.channel, "alice", "Alice").await;
    assert_eq!(next_frame(&mut ws).await["user_id"], account.as_str());
    let history = next_frame(&mut ws).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "{messages:?}");
    let list = app
        .get("/api/v1/sessions?status=in_flow", &shop.token)
        .await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0]["source"], "webchat");
    assert_eq!(list.body["items"][0]["user_nickname"], "Alice");
    assert_eq!(list.body["items"][0]["user_id"], account.as_str());
}

/// A flow whose second node runs the `panic` fixture; with `error_edge` its failure
/// leads to a goodbye, otherwise the session falls back.
async fn panicking_shop(
    app: &TestApp,
    error_edge: bool,
    with_default_group: bool,
) -> (Shop, String) {
    let tenant = app.tenant("hostile").await;
    let token = app.admin_token(&tenant).await;
    let bytes = std::fs::read(kefu_tests::fixtures::PANIC).unwrap();
    let installed = app
        .client
        .post(app.url("/api/v1/plugins"))
        .bearer_auth(&token)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), 201);
    let group = app
        .post(
            "/api/v1/skill-groups",
            &token,
            json!({"name": "兜底 Fallback"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut edges = vec![
        json!({"from": "welcome", "exit": "next", "to": "boom"}),
        json!({"from": "boom", "exit": "next", "to": "bye"}),
    ];
    if error_edge {
        edges.push(json!({"from": "boom", "exit": "error", "to": "sorry"}));
    }
    let mut nodes = vec![
        json!({"id": "welcome", "module": "send-message", "config": {"messages": [{"text": "您好"}]}}),
        json!({"id": "boom", "module": "panic", "version": "*"}),
        json!({"id": "bye", "module": "end", "config": {"end_status": 1}}),
    ];
    if error_edge {
        nodes.push(json!({"id": "sorry", "module": "end", "config": {"end_status": 1, "message": "抱歉，系统出了点问题。"}}));
    }
    let draft = json!({"start": "welcome", "nodes": nodes, "edges": edges});
    let flow = app
        .post(
            "/api/v1/flows",
            &token,
            json!({"name": "hostile", "draft": draft}),
        )
        .await;
    let flow_id = flow.body["id"].as_str().unwrap().to_owned();
    let published = app
        .post(
            &format!("/api/v1/flows/{flow_id}/publish"),
            &token,
            json!({}),
        )
        .await;
    assert!(published.status.is_success(), "{:?}", published.body);
    let channel = app
        .post(
            "/api/v1/channels",
            &token,
            json!({
                "name": "Hostile", "account": ACCOUNT, "sdkappid": SDKAPPID,
                "secret_key": SECRET, "flow_id": flow_id,
                "default_skill_group_id": with_default_group.then_some(&group),
            }),
        )
        .await;
    assert_eq!(channel.status, 201, "{:?}", channel.body);
    (
        Shop {
            token,
            channel: channel.body["id"].as_str().unwrap().to_owned(),
        },
        group,
    )
}

#[tokio::test]
async fn a_module_that_fails_takes_its_error_edge_or_the_safe_fallback() {
    // With an error edge: the flow goes on there.
    let app = spawn_app().await;
    let (shop, _) = panicking_shop(&app, true, false).await;
    say(&app, "user_e", 1, "你好").await;
    let s = wait_session(&app, &shop, "user_e", |s| s["status"] == "ended").await;
    assert_eq!(s["end_status"], 1);
    let messages = transcript(&app, &shop, s["id"].as_str().unwrap()).await;
    assert_eq!(messages.last().unwrap()["text"], "抱歉，系统出了点问题。");

    // Without one, on a channel with a default group: queued there.
    let app = spawn_app().await;
    let (shop, group) = panicking_shop(&app, false, true).await;
    say(&app, "user_f", 1, "你好").await;
    let s = wait_session(&app, &shop, "user_f", |s| s["status"] == "queued").await;
    assert_eq!(s["skill_group_id"], group.as_str());

    // Without either: ended abnormally, status 0; the server carries on.
    let app = spawn_app().await;
    let (shop, _) = panicking_shop(&app, false, false).await;
    say(&app, "user_g", 1, "你好").await;
    let s = wait_session(&app, &shop, "user_g", |s| s["status"] == "ended").await;
    assert_eq!(s["end_status"], 0);
    say(&app, "user_h", 2, "你好").await;
    assert_eq!(sessions(&app, &shop, "user_h").await.len(), 1);
}

#[tokio::test]
async fn bad_channels_and_transcript_queries_are_refused_with_every_field_named() {
    let app = spawn_app().await;
    let shop = shop(&app, None, 600, 1800).await;
    let bad = app
        .post(
            "/api/v1/channels",
            &shop.token,
            json!({
                "name": "", "account": "has space", "sdkappid": 0,
                "secret_key": "short", "im_base_url": "ftp://im", "idle_timeout_secs": 999_999_999u32,
            }),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    for field in [
        "name",
        "account",
        "sdkappid",
        "secret_key",
        "im_base_url",
        "idle_timeout_secs",
    ] {
        assert!(bad.field(field).is_some(), "{field}: {:?}", bad.body);
    }
    let taken = app
        .post(
            "/api/v1/channels",
            &shop.token,
            json!({"name": "Other", "account": ACCOUNT, "sdkappid": SDKAPPID}),
        )
        .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.code(), "channel_account_taken");
    let unknown_flow = app
        .post(
            "/api/v1/channels",
            &shop.token,
            json!({"name": "Third", "account": "kefu_3", "sdkappid": SDKAPPID, "flow_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(unknown_flow.status, 422);
    assert!(unknown_flow.field("flow_id").is_some());
    let list = app.get("/api/v1/channels", &shop.token).await;
    assert_eq!(
        list.body["total"], 1,
        "nothing half-written: {:?}",
        list.body
    );
    let shown = app
        .get(&format!("/api/v1/channels/{}", shop.channel), &shop.token)
        .await;
    assert_eq!(shown.body["secret_key_hint"], "****cdef");
    assert!(
        shown.body.get("secret_key").is_none(),
        "the key is not shown again"
    );

    say(&app, "user_q", 1, "你好").await;
    let session = sessions(&app, &shop, "user_q").await.remove(0);
    let id = session["id"].as_str().unwrap();
    for query in ["Limit=0", "Limit=101", "Order=sideways"] {
        let r = app
            .get(
                &format!("/api/v1/sessions/{id}/messages?{query}"),
                &shop.token,
            )
            .await;
        assert_eq!(r.status, 422, "{query}: {:?}", r.body);
    }
    let newest = app
        .get(
            &format!("/api/v1/sessions/{id}/messages?Limit=1&Order=desc"),
            &shop.token,
        )
        .await;
    assert_eq!(newest.body.as_array().unwrap().len(), 1);
    assert_eq!(newest.body[0]["seq"], session["message_count"]);
}

/// Ingress keeps what every message reads (the app's channels, the flow's published
/// revision) for a moment; an admin's change through this server applies to the very
/// next message all the same.
#[tokio::test]
async fn rotated_secrets_and_a_newly_published_flow_apply_to_the_next_message() {
    let app = spawn_app().await;
    let shop = shop(&app, None, 600, 1800).await;
    say(&app, "user_before", 1, "你好").await;

    let rotated = app
        .post(
            &format!("/api/v1/channels/{}/rotate-secrets", shop.channel),
            &shop.token,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new_secret = rotated.body["secret_key"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, SECRET);
    let old_key = sendmsg(&app, &text("user_before", ACCOUNT, 2, "还在吗")).await;
    assert_eq!(
        old_key["ActionStatus"], "FAIL",
        "a UserSig of the old key is refused at once: {old_key}"
    );
    let new_key = sendmsg_raw(
        &app,
        &admin_query(SDKAPPID, &new_secret, "administrator"),
        text("user_before", ACCOUNT, 3, "还在吗")
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(new_key["ActionStatus"], "OK", "{new_key}");

    let channel = app
        .get(&format!("/api/v1/channels/{}", shop.channel), &shop.token)
        .await;
    let flow_id = channel.body["flow_id"].as_str().unwrap().to_owned();
    let groups = app.get("/api/v1/skill-groups", &shop.token).await;
    let group = groups.body["items"][0]["id"].as_str().unwrap().to_owned();
    let mut draft = graph(&group, 600);
    draft["nodes"][0]["config"]["messages"][0]["text"] = json!("新版欢迎语");
    let updated = app
        .patch(
            &format!("/api/v1/flows/{flow_id}"),
            &shop.token,
            json!({ "draft": draft }),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    let published = app
        .post(
            &format!("/api/v1/flows/{flow_id}/publish"),
            &shop.token,
            json!({}),
        )
        .await;
    assert!(published.status.is_success(), "{:?}", published.body);
    let after = sendmsg_raw(
        &app,
        &admin_query(SDKAPPID, &new_secret, "administrator"),
        text("user_after", ACCOUNT, 4, "你好")
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(after["ActionStatus"], "OK", "{after}");
    let session = sessions(&app, &shop, "user_after").await;
    let messages = transcript(&app, &shop, session[0]["id"].as_str().unwrap()).await;
    let welcome = messages.iter().find(|m| m["direction"] == "out").unwrap();
    assert_eq!(
        welcome["text"], "新版欢迎语",
        "a session opened right after publishing starts on the new revision: {messages:?}"
    );
}
