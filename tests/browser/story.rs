//! One working session of the whole story, as two agents live it: sign in, go free,
//! take an offer, talk with a user writing through IM, a quick reply, a note, a
//! dropped connection that loses nothing, a transfer to a colleague signed in on
//! another device, the survey, a refused survey (409) and an ended session, sign out.

use fantoccini::key::Key;
use kefu_tests::agent_desk::{ACCOUNT, say};
use kefu_tests::spawn_app;
use reqwest::StatusCode;

use crate::driver::Browser;
use crate::support::{RATED, choose_status, said_by, say_elements, sign_in, workplace};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_work_through_a_day_in_the_workbench() {
    let Some(mut a) = Browser::launch(375, 812).await else {
        return;
    };
    let app = spawn_app().await;
    let (desk, agents) = workplace(&app, "wb").await;
    let (one, two) = (&agents[0], &agents[1]);
    let told_user = async |user: &str, text: &str| {
        desk.told(text, user, &format!("IM to deliver `{text}` to {user}"))
            .await
    };

    // Sign in, in Chinese.
    a.goto(&app.url("/workbench")).await;
    a.find("#login-form").await;
    a.shot("login").await;
    a.find("#login-lang")
        .await
        .select_by_value("zh-CN")
        .await
        .unwrap();
    a.wait_text("#login-submit", "登录").await;
    crate::support::fill_login(&a, "wb", &one.email, kefu_tests::PASSWORD).await;
    a.until_js("the desk", "document.body.dataset.ready === '1'")
        .await;
    a.wait_text("#me-name", "小一").await;
    // Online now, and not ready until the agent says otherwise.
    a.wait_text("#status-text", "示忙").await;

    // The page asks politely for notifications, once.
    a.wait_text("#banner", "通知").await;
    a.click("#banner button").await;
    a.find("#toast").await;

    // Status from the avatar menu: a rest with a reason, then free.
    choose_status(&a, "rest", Some("午饭 Lunch")).await;
    a.wait_text("#status-text", "小休 · 午饭 Lunch").await;
    choose_status(&a, "free", None).await;
    a.wait_text("#status-text", "示闲").await;
    assert_eq!(one.status(&app).await["status"], "free");

    // A user writes through IM; the flow transfers; the offer rings with its countdown.
    say(&app, RATED, "user_1", "我要人工").await;
    a.wait_text(".session[data-kind=\"offer\"] .countdown", "秒内接入")
        .await;
    a.until_js("a ring", "Number(document.body.dataset.rings) >= 1")
        .await;
    a.until_js("the count in the title", "document.title.startsWith('(1)')")
        .await;
    a.shot("offer").await;

    // Accept from the keyboard.
    a.client
        .active_element()
        .await
        .unwrap()
        .send_keys(&(Key::Alt + "a"))
        .await
        .unwrap();
    a.wait_text("#conversation .conv-title h2", "user_1").await;
    a.until_js(
        "the list to show it ongoing",
        "document.querySelector('.session[data-kind=\"active\"]')",
    )
    .await;
    a.until("the bot's welcome in the transcript", async || {
        let said = said_by(&a, "bot").await;
        if said
            .iter()
            .any(|t| t.contains("欢迎来到 Channel kefu_rated"))
        {
            Ok(())
        } else {
            Err(format!("{said:?}"))
        }
    })
    .await;

    // Messages both ways.
    say(&app, RATED, "user_1", "你好，我的订单还没到").await;
    a.until("the user's message", async || {
        let said = said_by(&a, "user").await;
        if said.iter().any(|t| t.contains("我的订单还没到")) {
            Ok(())
        } else {
            Err(format!("{said:?}"))
        }
    })
    .await;
    // Elements other than text are drawn as what they are.
    say_elements(
        &app,
        RATED,
        "user_1",
        4_000_001,
        json!([
            {"MsgType": "TIMImageElem", "MsgContent": {"UUID": "img1", "ImageFormat": 1, "ImageInfoArray": [
                {"Type": 1, "Size": 2048, "Width": 64, "Height": 64, "URL": "https://im.example/img1.jpg"}
            ]}},
            {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"order\":\"A123\"}", "Desc": "订单 A123", "Ext": ""}}
        ]),
    )
    .await;
    a.wait_text(
        "#conversation .el-placeholder[data-type=\"TIMImageElem\"]",
        "[图片]",
    )
    .await;
    a.wait_text("#conversation .el-card .el-card-title", "订单 A123")
        .await;
    let link = a
        .js("return document.querySelector('#conversation .el-placeholder a').getAttribute('href')")
        .await;
    assert_eq!(link, "https://im.example/img1.jpg");

    a.type_in("#composer-text", "/hi").await;
    a.find("#quick-picker li[data-shortcut=\"hi\"]").await;
    a.type_in("#composer-text", &Key::Enter.to_string()).await;
    let filled = a
        .js("return document.querySelector('#composer-text').value")
        .await;
    assert_eq!(
        filled, "您好，我是小一，很高兴为您服务！",
        "the variable is filled in"
    );
    a.wait_text("#composer-count", "16 / 2000").await;
    a.type_in("#composer-text", &Key::Enter.to_string()).await;
    told_user("user_1", "您好，我是小一，很高兴为您服务！").await;
    a.until("the agent's reply in the transcript", async || {
        let said = said_by(&a, "agent").await;
        if said.iter().any(|t| t.contains("很高兴为您服务")) {
            Ok(())
        } else {
            Err(format!("{said:?}"))
        }
    })
    .await;
    a.until_js(
        "no reply left pending",
        "!document.querySelector('.pending-msg')",
    )
    .await;

    // An internal note: in the transcript, marked, never sent.
    a.click("#note-mode").await;
    a.type_in("#composer-text", &format!("客户很着急{}", Key::Enter))
        .await;
    a.wait_text("#conversation .msg.note", "客户很着急").await;
    a.wait_text("#conversation .msg.note .note-mark", "内部备注")
        .await;
    a.shot("conversation").await;
    a.click(".tab[aria-pressed=\"false\"]").await; // back to replies

    // The connection drops; what happens meanwhile arrives once it is back.
    a.js("window.dispatchEvent(new Event('offline'))").await;
    a.wait_text("#conn", "网络已断开").await;
    one.wait_status(&app, "offline").await;
    say(&app, RATED, "user_1", "第一条：在吗？").await;
    say(&app, RATED, "user_1", "第二条：快递单号 SF123").await;
    a.js("window.dispatchEvent(new Event('online'))").await;
    a.until("both missed messages, once each, in order", async || {
        let said = said_by(&a, "user").await;
        let first = said.iter().filter(|t| t.contains("第一条")).count();
        let second = said.iter().filter(|t| t.contains("第二条")).count();
        let order = said.iter().position(|t| t.contains("第一条"))
            < said.iter().position(|t| t.contains("第二条"));
        if first == 1 && second == 1 && order {
            Ok(())
        } else {
            Err(format!("{said:?}"))
        }
    })
    .await;
    one.wait_status(&app, "free").await;

    // A colleague signs in on a desk-sized screen.
    let b = Browser::launch(1440, 900).await.expect("a second browser");
    sign_in(&b, &app, "wb", &two.email).await;
    b.wait_text("#status-text", "Not ready").await;
    choose_status(&b, "free", None).await;
    b.wait_text("#status-text", "Free").await;
    b.shot("desk-empty").await;

    // Transfer to the colleague, who is shown free, with a note.
    a.click("#transfer").await;
    let option = format!("input[value=\"agent:{}\"]", two.id);
    a.wait_text(&format!("label[for=\"target-agent:{}\"]", two.id), "示闲")
        .await;
    a.click(&option).await;
    a.type_in("#transfer-note", "VIP 客户，请优先处理").await;
    a.shot("transfer").await;
    a.click("#transfer-submit").await;
    a.wait_text("#toast", "已转接").await;
    a.wait_text("#conversation .conv-title", "已结束").await;
    a.wait_text("#conversation .composer-reason", "只能查看")
        .await;
    a.click("#back").await;
    a.wait_text(".session[data-kind=\"ended\"] .session-meta", "已转接")
        .await;

    // The colleague has it, with the note and everything said before.
    b.wait_text(".session[data-kind=\"active\"] .session-name", "user_1")
        .await;
    b.click(".session[data-kind=\"active\"] .session-open")
        .await;
    b.wait_text("#conversation .msg.note", "VIP 客户").await;
    b.until("the transcript before the transfer", async || {
        let said = said_by(&b, "user").await;
        if said.iter().any(|t| t.contains("快递单号")) {
            Ok(())
        } else {
            Err(format!("{said:?}"))
        }
    })
    .await;
    b.until_js("the earlier internal note", "[...document.querySelectorAll('#conversation .msg.note')].some(n => n.textContent.includes('客户很着急'))").await;
    b.wait_text("kefu-user-panel .user-id", "user_1").await;
    b.type_in("#composer-text", "Hello, I am checking your parcel now.")
        .await;
    b.click("#send").await;
    told_user("user_1", "I am checking your parcel").await;
    b.shot("conversation").await;

    // The colleague invites the survey, which names them.
    b.click("#survey").await;
    told_user("user_1", "请为客服 Bea（工号 B02）评分").await;
    b.wait_text(".session[data-kind=\"ended\"] .session-meta", "survey")
        .await;

    // A session on a channel without a survey: a 409 becomes a clear message; then end.
    choose_status(&b, "notReady", None).await;
    b.wait_text("#status-text", "Not ready").await;
    say(&app, ACCOUNT, "user_2", "hello").await;
    a.click(".session[data-kind=\"offer\"] .accept").await;
    a.wait_text("#conversation .conv-title h2", "user_2").await;
    a.click("#survey").await;
    a.wait_text("#toast", "没有满意度评价").await;
    a.shot("refused-survey").await;
    a.click("#end").await;
    a.wait_text("#toast", "会话已结束").await;
    let ended = desk.user_session(&app, "user_2").await.unwrap();
    assert_eq!(ended["status"], "ended", "{ended}");
    assert_eq!(ended["end_status"], 1, "{ended}");

    // The phone turns to a desk: the same page uses the room.
    a.fit(1440, 900).await;
    a.shot("desk").await;

    // Mute, then sign out: the sign-in is over for the server too.
    a.click("#mute").await;
    a.until_js(
        "muted",
        "document.querySelector('#mute').getAttribute('aria-pressed') === 'true'",
    )
    .await;
    let token = a
        .js("return JSON.parse(sessionStorage.getItem('kefu.tokens')).access")
        .await;
    let token = token.as_str().unwrap().to_owned();
    a.click("#avatar").await;
    a.click("#sign-out").await;
    a.wait_text("#login-error", "您已退出登录").await;
    let after = app.get("/api/v1/me", &token).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{:?}", after.body);
    b.close().await;
    a.close().await;
}
