//! Attacks on the real server, each refused or contained: claiming another tenant's IM
//! app, speaking for a channel with another channel's key, impersonating a web chat
//! visitor, reading sessions beyond one's role, guessing passwords in parallel, and
//! making kefu call addresses a tenant must not reach.

use std::time::Duration;

use futures::future::join_all;
use kefu::store::entity::channel;
use kefu_tests::agent_desk::{
    ACCOUNT, Desk, SDKAPPID, SECRET, WAIT, create_agents, eventually, id_of, online_and_free,
    skill_group, transfer_channel,
};
use kefu_tests::fake_im::{FakeIm, admin_query};
use kefu_tests::webchat::{self, frame_where, next_frame};
use kefu_tests::{PASSWORD, TestApp, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

const ATTACKER_KEY: &str = "the-attackers-own-key-0123456789";

fn text(from: &str, to: &str, random: u32, words: &str) -> Value {
    json!({
        "SyncOtherMachine": 2, "From_Account": from, "To_Account": to,
        "MsgSeq": random, "MsgRandom": random,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": words}}]
    })
}

/// Posts a `sendmsg` signed with `key` as the app's administrator; answers IM's JSON.
async fn sendmsg_with(app: &TestApp, key: &str, body: &Value) -> Value {
    let query = admin_query(SDKAPPID, key, "administrator");
    app.client
        .post(app.url(&format!("/v4/openim/sendmsg?{query}")))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn user_ids(app: &TestApp, admin: &str) -> Vec<String> {
    let list = app.get("/api/v1/sessions?page_size=100", admin).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn another_tenant_can_neither_claim_an_im_app_nor_speak_for_its_channels() {
    let app = spawn_app().await;
    let victim = Desk::new(&app, "victim", json!({})).await;
    victim.say(&app, "real_user", "你好").await;

    // The attacker's admin makes a channel of the victim's app with a key of their own.
    let attacker = app.tenant("attacker").await;
    let token = app.admin_token(&attacker).await;
    let claim = app
        .post(
            "/api/v1/channels",
            &token,
            json!({"name": "Mine", "account": "evil_account", "sdkappid": SDKAPPID,
                   "secret_key": ATTACKER_KEY}),
        )
        .await;
    assert_eq!(claim.status, StatusCode::CONFLICT, "{:?}", claim.body);
    assert_eq!(claim.code(), "im_app_taken");

    // A channel of the app left in the attacker's tenant from before apps had owners.
    let now = chrono::Utc::now();
    channel::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        tenant_id: Set(attacker.id.0),
        name: Set("Left over".into()),
        account: Set("evil_account".into()),
        sdkappid: Set(SDKAPPID as i64),
        admin_identifier: Set("administrator".into()),
        secret_key: Set(ATTACKER_KEY.into()),
        callback_token: Set("attacker-callback-token".into()),
        flow_id: Set(None),
        default_skill_group_id: Set(None),
        im_base_url: Set(None),
        webchat_enabled: Set(true),
        idle_timeout_secs: Set(0),
        webchat_identity_secret: Set(None),
        webchat_require_identity: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();

    // Signed with the attacker's key: a forged user writing to the victim's account,
    // the victim's bot activated towards anyone, and the attacker's own account.
    for (random, body) in [
        (11, text("forged_user", ACCOUNT, 11, "我是别人")),
        (12, text(ACCOUNT, "anyone_at_all", 12, "hello")),
        (13, text("forged_user", "evil_account", 13, "hi")),
    ] {
        let answer = sendmsg_with(&app, ATTACKER_KEY, &body).await;
        assert_eq!(answer["ActionStatus"], "FAIL", "{random}: {answer}");
        assert_eq!(answer["ErrorCode"], 70009, "{random}: {answer}");
    }
    let users = user_ids(&app, &victim.admin).await;
    assert_eq!(users, ["real_user"], "nothing forged reached the victim");
    assert!(user_ids(&app, &token).await.is_empty());

    // The victim's own key still works.
    let ok = sendmsg_with(&app, SECRET, &text("real_user", ACCOUNT, 14, "还在吗")).await;
    assert_eq!(ok["ActionStatus"], "OK", "{ok}");

    // Deleting the victim's last channel of the app releases it.
    let deleted = app
        .delete(
            &format!("/api/v1/channels/{}", victim.channel),
            &victim.admin,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let claim = app
        .post(
            "/api/v1/channels",
            &token,
            json!({"name": "Now mine", "account": "evil_2", "sdkappid": SDKAPPID,
                   "secret_key": ATTACKER_KEY}),
        )
        .await;
    assert_eq!(claim.status, StatusCode::CREATED, "{:?}", claim.body);
}

#[tokio::test]
async fn a_channels_key_speaks_for_that_channel_only() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "shop", json!({})).await;
    // A second channel of the same app, in the same tenant, with another key.
    let other = app
        .post(
            "/api/v1/channels",
            &desk.admin,
            json!({"name": "Other", "account": "kefu_other", "sdkappid": SDKAPPID,
                   "secret_key": ATTACKER_KEY}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{:?}", other.body);
    let answer = sendmsg_with(&app, ATTACKER_KEY, &text("u1", ACCOUNT, 1, "hi")).await;
    assert_eq!(answer["ErrorCode"], 70009, "{answer}");
    let answer = sendmsg_with(&app, SECRET, &text("u1", "kefu_other", 2, "hi")).await;
    assert_eq!(answer["ErrorCode"], 70009, "{answer}");
    assert!(user_ids(&app, &desk.admin).await.is_empty());
    let answer = sendmsg_with(&app, ATTACKER_KEY, &text("u1", "kefu_other", 3, "hi")).await;
    assert_eq!(answer["ActionStatus"], "OK", "{answer}");
}

/// A JWT signed with `key`, as a site's server would make one.
fn identity_token(key: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_web_chat_visitor_is_known_by_a_secret_only_their_browser_holds() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "shop", json!({})).await;
    let mut alice = webchat::visit(&app, &desk.channel, "alice's browser", "Alice").await;
    let ready = next_frame(&mut alice).await;
    let account = ready["user_id"].as_str().unwrap().to_owned();
    webchat::send(
        &mut alice,
        json!({"type": "message", "client_id": "a1", "text": "我的地址是幸福路 1 号"}),
    )
    .await;
    frame_where(&mut alice, |f| f["type"] == "ack").await;

    // Mallory read Alice's account in a session list. Anything she says at hello is
    // another visitor, who sees nothing of Alice's.
    for token in [account.clone(), webchat::token("mallory")] {
        let mut mallory = webchat::open(
            &app,
            &desk.channel,
            json!({"token": token, "nickname": "Alice"}),
        )
        .await;
        let first = next_frame(&mut mallory).await;
        if first["type"] == "error" {
            assert_eq!(first["code"], "invalid_visitor_token", "{first}");
            continue;
        }
        assert_ne!(first["user_id"], account.as_str());
        let history = next_frame(&mut mallory).await;
        assert!(
            !history.to_string().contains("幸福路"),
            "another visitor read Alice's history: {history}"
        );
    }

    // A socket must say hello first.
    let url = format!("ws://{}/chat/{}/ws", app.addr, desk.channel);
    let (mut rude, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    webchat::send(
        &mut rude,
        json!({"type": "message", "client_id": "x", "text": "hi"}),
    )
    .await;
    assert_eq!(next_frame(&mut rude).await["code"], "hello_expected");

    // A signed-in site vouches for its user with a token signed by the channel's key.
    let rotated = app
        .post(
            &format!("/api/v1/channels/{}/rotate-secrets", desk.channel),
            &desk.admin,
            json!({}),
        )
        .await;
    let key = rotated.body["webchat_identity_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(key.len() >= 32);
    let exp = chrono::Utc::now().timestamp() + 600;
    let good = identity_token(
        &key,
        json!({"sub": "member.42", "name": "王小明", "exp": exp}),
    );
    let mut member = webchat::open(&app, &desk.channel, json!({"identity": good})).await;
    let ready = next_frame(&mut member).await;
    assert_eq!(ready["user_id"], "u_member.42", "{ready}");
    assert_eq!(ready["verified"], true);
    let forged = identity_token(ATTACKER_KEY, json!({"sub": "member.42", "exp": exp}));
    let mut forger = webchat::open(&app, &desk.channel, json!({"identity": forged})).await;
    assert_eq!(next_frame(&mut forger).await["code"], "invalid_identity");

    // A channel for signed-in users only turns anonymous visitors away.
    let patched = app
        .patch(
            &format!("/api/v1/channels/{}", desk.channel),
            &desk.admin,
            json!({"webchat_require_identity": true}),
        )
        .await;
    assert_eq!(patched.body["webchat_require_identity"], true);
    let mut anonymous = webchat::visit(&app, &desk.channel, "someone", "").await;
    assert_eq!(
        next_frame(&mut anonymous).await["code"],
        "identity_required"
    );
    let sessions = user_ids(&app, &desk.admin).await;
    assert!(sessions.contains(&account) && sessions.contains(&"u_member.42".to_owned()));
    assert_eq!(
        sessions.len(),
        3,
        "alice, mallory's visitor, the member: {sessions:?}"
    );
}

#[tokio::test]
async fn one_address_can_hold_and_open_only_so_many_chats() {
    let app = spawn_app_with(|c| {
        c.webchat.max_sockets_per_address = 2;
        c.webchat.connects_per_minute_per_address = 3;
    })
    .await;
    let desk = Desk::new(&app, "shop", json!({})).await;
    let mut first = webchat::visit(&app, &desk.channel, "v1", "").await;
    let mut second = webchat::visit(&app, &desk.channel, "v2", "").await;
    next_frame(&mut first).await;
    next_frame(&mut second).await;
    let url = format!("ws://{}/chat/{}/ws", app.addr, desk.channel);
    let refused = tokio_tungstenite::connect_async(&url).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 429),
        other => panic!("a third socket was let in: {:?}", other.map(|_| ())),
    }
    drop(first);
    // Its place is free again once the server has seen it close, but only three may
    // be opened a minute.
    let mut third = eventually(WAIT, "a free place", async || {
        tokio_tungstenite::connect_async(&url)
            .await
            .map(|(ws, _)| ws)
            .map_err(|e| e.to_string())
    })
    .await;
    webchat::send(
        &mut third,
        json!({"type": "hello", "token": webchat::token("v3")}),
    )
    .await;
    assert_eq!(next_frame(&mut third).await["type"], "ready");
    drop(second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 429),
        other => panic!(
            "a fourth socket this minute was let in: {:?}",
            other.map(|_| ())
        ),
    }
}

/// Sessions `token` can list, by user.
async fn visible_users(app: &TestApp, token: &str) -> Vec<String> {
    let mut users = user_ids(app, token).await;
    users.sort();
    users
}

#[tokio::test]
async fn agents_see_their_own_work_supervisors_their_groups_admins_everything() {
    let app = spawn_app().await;
    let desk = Desk::new(&app, "shop", json!({"accept_mode": "auto"})).await;
    let g2 = skill_group(&app, &desk.admin, "VIP", json!({})).await;
    transfer_channel(&app, &desk.admin, &desk.im, &g2, "kefu_vip", 5).await;
    let g1_agents = create_agents(&app, &desk, "g1-", 2, 1, &[desk.group.as_str()]).await;
    let g2_agent = create_agents(&app, &desk, "g2-", 1, 1, &[g2.as_str()]).await;
    let lead = app
        .post(
            "/api/v1/agents",
            &desk.admin,
            json!({"email": "lead@shop.test", "name": "Lead", "password": PASSWORD,
                   "role": "supervisor", "skill_groups": [{"skill_group_id": desk.group}]}),
        )
        .await;
    assert_eq!(lead.status, StatusCode::CREATED, "{:?}", lead.body);
    assert_eq!(lead.body["role"], "supervisor");
    let lead = app.token("shop", "lead@shop.test").await;
    let (a1, a2, a4) = (&g1_agents[0], &g1_agents[1], &g2_agent[0]);

    // a1 (cap 1) takes the first user of group 1; the second waits in its queue;
    // a VIP user waits in group 2.
    let _sockets = online_and_free(&app, std::slice::from_ref(a1)).await;
    desk.say(&app, "u1", "人工").await;
    let served = desk
        .wait_user_session(&app, "u1", "u1 with a1", |s| s["status"] == "with_agent")
        .await;
    desk.say(&app, "u3", "人工").await;
    desk.wait_user_session(&app, "u3", "u3 queued", |s| s["status"] == "queued")
        .await;
    kefu_tests::agent_desk::say(&app, "kefu_vip", "u2", "人工").await;
    eventually(WAIT, "u2 queued", async || {
        let all = visible_users(&app, &desk.admin).await;
        if all.len() == 3 {
            Ok(())
        } else {
            Err(format!("{all:?}"))
        }
    })
    .await;

    assert_eq!(visible_users(&app, &desk.admin).await, ["u1", "u2", "u3"]);
    assert_eq!(visible_users(&app, &lead).await, ["u1", "u3"]);
    assert_eq!(visible_users(&app, &a1.token).await, ["u1", "u3"]);
    assert_eq!(visible_users(&app, &a2.token).await, ["u3"]);
    assert_eq!(visible_users(&app, &a4.token).await, ["u2"]);
    let id = id_of(&served);
    for path in [
        format!("/api/v1/sessions/{id}"),
        format!("/api/v1/sessions/{id}/messages"),
    ] {
        assert_eq!(
            app.get(&path, &a1.token).await.status,
            StatusCode::OK,
            "{path}"
        );
        assert_eq!(app.get(&path, &lead).await.status, StatusCode::OK, "{path}");
        assert_eq!(
            app.get(&path, &a2.token).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            app.get(&path, &a4.token).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    // The live board and queues: a supervisor's groups only; agents none.
    let board = app.get("/api/v1/monitor/agents", &lead).await;
    assert_eq!(board.status, StatusCode::OK, "{:?}", board.body);
    let names: Vec<&str> = board.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&a1.name.as_str()), "{names:?}");
    assert!(!names.contains(&a4.name.as_str()), "{names:?}");
    // The count is of what the supervisor may see, too.
    assert_eq!(board.body["total"].as_u64(), Some(names.len() as u64));
    assert_eq!(
        app.get("/api/v1/monitor/agents", &a1.token).await.status,
        StatusCode::FORBIDDEN
    );
    let queue = |g: &str| format!("/api/v1/skill-groups/{g}/queue");
    assert_eq!(
        app.get(&queue(&desk.group), &lead).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&queue(&g2), &lead).await.status,
        StatusCode::NOT_FOUND
    );
    let status_of = |a: &str| format!("/api/v1/agents/{a}/status");
    assert_eq!(
        app.get(&status_of(&a1.id), &lead).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&status_of(&a4.id), &lead).await.status,
        StatusCode::NOT_FOUND
    );
    // Managing stays with admins.
    let managed = app
        .post("/api/v1/skill-groups", &lead, json!({"name": "mine"}))
        .await;
    assert_eq!(managed.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn parallel_guesses_get_no_more_tries_and_the_tenant_cannot_be_respelled() {
    let app = spawn_app().await;
    let tenant = app.tenant("shop").await;
    let email = tenant.admin_email.clone();
    let guesses = join_all((0..20).map(|i| {
        let (app, email) = (&app, email.clone());
        async move {
            app.login("shop", &email, &format!("guess {i}"))
                .await
                .status
        }
    }))
    .await;
    let wrong = guesses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let held = guesses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(wrong + held, 20, "{guesses:?}");
    assert!(
        wrong <= 5,
        "{wrong} guesses were checked in parallel: {guesses:?}"
    );
    for spelling in [" shop", "SHOP", "shop "] {
        let r = app.login(spelling, &email, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{spelling:?}: {:?}",
            r.body
        );
        assert!(r.headers.get("retry-after").is_some());
    }
}

#[tokio::test]
async fn replies_never_go_to_addresses_a_tenant_must_not_reach() {
    let app = spawn_app_with(|c| c.outbound.allow_private_addresses = false).await;
    let desk = Desk::new(&app, "shop", json!({"accept_mode": "auto"})).await;
    let agents = create_agents(&app, &desk, "a", 1, 3, &[desk.group.as_str()]).await;
    let _sockets = online_and_free(&app, &agents).await;
    desk.say(&app, "u1", "人工").await;
    let s = desk
        .wait_user_session(&app, "u1", "u1 with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let sent = agents[0]
        .post(
            &app,
            &format!("/sessions/{}/messages", id_of(&s)),
            json!({"elements": [{"type": "text", "text": "您好"}]}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    use kefu::store::entity::im_outbox;
    let error = eventually(WAIT, "the refusal recorded", async || {
        let rows = im_outbox::Entity::find()
            .filter(im_outbox::Column::ToAccount.eq("u1"))
            .all(&app.db)
            .await
            .map_err(|e| e.to_string())?;
        rows.iter()
            .find_map(|r| r.last_error.clone())
            .ok_or_else(|| format!("{rows:?}"))
    })
    .await;
    assert!(error.contains("not a public address"), "{error}");
    assert!(desk.im.received().is_empty(), "the loopback IM got nothing");
}

/// An endpoint that answers every request with `status`, `location` and `body`.
async fn hostile_endpoint(status: u16, location: Option<String>, body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || {
        let (location, body) = (location.clone(), body.clone());
        async move {
            let mut r = axum::response::Response::new(axum::body::Body::from(body));
            *r.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
            if let Some(l) = location {
                r.headers_mut().insert("location", l.parse().unwrap());
            }
            r
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn replies_follow_no_redirect_and_read_no_huge_answer() {
    let app = spawn_app().await;
    let im = FakeIm::start(SDKAPPID, SECRET, "administrator").await;
    let redirect = hostile_endpoint(307, Some(im.sendmsg_url()), vec![]).await;
    let huge = hostile_endpoint(200, None, vec![b' '; 4 << 20]).await;
    let desk = Desk::new(&app, "shop", json!({"accept_mode": "auto"})).await;
    let agents = create_agents(&app, &desk, "a", 1, 3, &[desk.group.as_str()]).await;
    let _sockets = online_and_free(&app, &agents).await;
    use kefu::store::entity::im_outbox;
    for (user, base, expected) in [("u1", &redirect, "HTTP 307"), ("u2", &huge, "larger than")] {
        let patched = app
            .patch(
                &format!("/api/v1/channels/{}", desk.channel),
                &desk.admin,
                json!({"im_base_url": base}),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
        desk.say(&app, user, "人工").await;
        let s = desk
            .wait_user_session(&app, user, "with the agent", |s| {
                s["status"] == "with_agent"
            })
            .await;
        let sent = agents[0]
            .post(
                &app,
                &format!("/sessions/{}/messages", id_of(&s)),
                json!({"elements": [{"type": "text", "text": "您好"}]}),
            )
            .await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
        let error = eventually(WAIT, "the failure recorded", async || {
            let rows = im_outbox::Entity::find()
                .filter(im_outbox::Column::ToAccount.eq(user))
                .all(&app.db)
                .await
                .map_err(|e| e.to_string())?;
            rows.iter()
                .find_map(|r| r.last_error.clone())
                .ok_or_else(|| format!("{rows:?}"))
        })
        .await;
        assert!(error.contains(expected), "{user}: {error}");
    }
    assert!(im.received().is_empty(), "the redirect was not followed");
}
