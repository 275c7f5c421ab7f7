//! The end users' web chat in a real browser: the welcome is waiting, a typed message
//! gets the flow's answer, a reload shows the same conversation (the browser keeps the
//! visitor's secret, and the account agents see is not that secret), and a site that
//! embeds the chat vouches for its signed-in user through the page's fragment.

use kefu_tests::agent_desk::{Desk, flow_channel};
use kefu_tests::spawn_app;
use serde_json::{Value, json};

use crate::driver::Browser;

const ACCOUNT: &str = "kefu_chat";

fn graph() -> Value {
    json!({
        "start": "welcome",
        "nodes": [
            {"id": "welcome", "module": "send-message", "config": {"messages": [{"text": "您好，欢迎光临！"}]}},
            {"id": "menu", "module": "branch", "config": {
                "prompt": "请问有什么可以帮您？",
                "branches": [{"name": "faq", "conditions": [{"type": "keyword_any", "keywords": ["问题"]}]}],
                "timeout_secs": 600
            }},
            {"id": "answer", "module": "end", "config": {"end_status": 1, "message": "这是答案。"}},
            {"id": "again", "module": "send-message", "config": {"messages": [{"text": "没听懂。"}]}}
        ],
        "edges": [
            {"from": "welcome", "exit": "next", "to": "menu"},
            {"from": "menu", "exit": "faq", "to": "answer"},
            {"from": "menu", "exit": "no-match", "to": "again"},
            {"from": "menu", "exit": "timeout", "to": "answer"},
            {"from": "again", "exit": "next", "to": "menu"}
        ]
    })
}

/// The user ids of the channel's sessions.
async fn users(app: &kefu_tests::TestApp, admin: &str) -> Vec<String> {
    app.get("/api/v1/sessions?page_size=100", admin).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_chats_comes_back_and_a_site_vouches_for_its_user() {
    let Some(b) = Browser::launch(375, 812).await else {
        return;
    };
    let app = spawn_app().await;
    let desk = Desk::new(&app, "shop", json!({})).await;
    let channel = flow_channel(&app, &desk.admin, &desk.im, ACCOUNT, graph(), None).await;
    let page = app.url(&format!("/chat/{channel}"));

    b.goto(&page).await;
    b.wait_text("#log", "您好，欢迎光临！").await;
    b.wait_text("#log", "请问有什么可以帮您？").await;
    b.type_in("#input", "我有个问题\n").await;
    b.wait_text("#log", "这是答案。").await;
    b.shot("chat").await;

    // The browser keeps the visitor's secret; agents see an account derived from it.
    let key = format!("kefu.visitor-token.{channel}");
    let token = b
        .js_with(
            "return localStorage.getItem(arguments[0]);",
            vec![json!(key)],
        )
        .await;
    let token = token.as_str().expect("a stored visitor token").to_owned();
    let account = kefu::im::webchat::identity::anonymous_account(channel.parse().unwrap(), &token);
    assert_eq!(
        users(&app, &desk.admin).await,
        std::slice::from_ref(&account)
    );
    assert!(!account.contains(&token[..12]));

    // Back later: the same conversation, no new session.
    b.goto(&page).await;
    b.wait_text("#log", "我有个问题").await;
    b.wait_text("#log", "这是答案。").await;
    assert_eq!(users(&app, &desk.admin).await.len(), 1);

    // A site's signed-in user, vouched for by a token signed with the channel's key.
    let rotated = app
        .post(
            &format!("/api/v1/channels/{channel}/rotate-secrets"),
            &desk.admin,
            json!({}),
        )
        .await;
    let secret = rotated.body["webchat_identity_secret"].as_str().unwrap();
    let exp = chrono::Utc::now().timestamp() + 600;
    let identity = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": "member.7", "name": "李雷", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    b.js("localStorage.clear(); return null;").await;
    b.goto(&format!("{page}#identity={identity}")).await;
    b.wait_text("#log", "您好，欢迎光临！").await;
    // The fragment is dropped from the address once read.
    assert_eq!(b.js("return location.hash;").await, json!(""));
    let all = users(&app, &desk.admin).await;
    assert!(all.contains(&"u_member.7".to_owned()), "{all:?}");
    b.close().await;
}
