//! The console's reporting pages in a real browser, over sessions made through the
//! real APIs: service records filtered, one opened (transcript, note, rating) and the
//! filtered list exported; the analytics page's figures and charts agreeing with the
//! statistics API; the live monitor updating as a user joins the queue.

use kefu_tests::agent_desk::{Desk, WAIT, eventually, online_and_free};
use kefu_tests::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin_support::{console, open_page};
use crate::driver::Browser;

/// Each agent takes one user at a time, so that a third user queues.
fn one_at_a_time() -> Value {
    json!({"accept_mode": "auto", "queue_max_length": 100, "queue_max_wait_secs": 3600})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_analytics_and_the_live_monitor() {
    let Some(mut b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app().await;
    let desk = Desk::new(&app, "acme", one_at_a_time()).await;
    let agents = desk.agents(&app, "agent", 1, 1).await;
    let agent = &agents[0];
    let _socket = online_and_free(&app, &agents).await;

    // user_done is served, gets a note, and the agent ends the session.
    desk.say(&app, "user_done", "人工").await;
    let done = desk
        .wait_user_session(&app, "user_done", "user_done with the agent", |s| {
            s["status"] == "with_agent"
        })
        .await;
    let done_id = done["id"].as_str().unwrap().to_owned();
    desk.say(&app, "user_done", "我的订单还没到").await;
    let sent = agent
        .post(
            &app,
            &format!("/sessions/{done_id}/messages"),
            json!({"elements": [{"type": "text", "text": "您好，我来查一下。"}]}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let note = agent
        .post(
            &app,
            &format!("/sessions/{done_id}/notes"),
            json!({"text": "物流延误，已催单"}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{:?}", note.body);
    let ended = agent
        .post(&app, &format!("/sessions/{done_id}/end"), json!({}))
        .await;
    assert!(ended.status.is_success(), "{:?}", ended.body);
    // user_open is still being served when the console looks.
    desk.say(&app, "user_open", "你好").await;
    desk.wait_user_session(&app, "user_open", "user_open with the agent", |s| {
        s["status"] == "with_agent"
    })
    .await;
    wait_records(&app, &desk, 2).await;

    console(&b, &app, "acme", &desk.tenant.admin_email).await;
    records(&b, &done_id).await;
    analytics(&b, &app, &desk, &agent.name).await;
    live(&b, &app, &desk).await;
    // A smaller screen: the same pages, still whole.
    b.fit(1024, 768).await;
    b.wait_text("#live-waiting", "user_waits").await;
    b.shot("admin-live").await;
    // More records than a page holds: the rest come with "Load more".
    for i in 0..20 {
        desk.say(&app, &format!("user_more_{i}"), "在吗").await;
    }
    wait_records(&app, &desk, 23).await;
    open_page(&b, "records").await;
    b.wait_text("#records-count", "more match").await;
    let rows = "document.querySelectorAll('#page .list-area tbody tr').length";
    assert_eq!(b.js(&format!("return {rows}")).await, json!(20));
    b.click("#records-more").await;
    b.until_js("the next page of records", &format!("{rows} === 23"))
        .await;
    b.wait_text("#records-count", "Records shown: 23.").await;
    b.wait_text("#page table", "user_done").await;
    assert_eq!(
        b.js("return document.getElementById('records-more').hidden")
            .await,
        json!(true),
        "nothing more to load"
    );
    b.shot("admin-records").await;
    open_page(&b, "analytics").await;
    b.find("#chart-volume").await;
    b.shot("admin-analytics").await;
    b.close().await;
}

async fn wait_records(app: &kefu_tests::TestApp, desk: &Desk, n: usize) {
    eventually(WAIT, "the records", async || {
        let r = app.get("/api/v1/records?limit=100", &desk.admin).await;
        let got = r.body["items"].as_array().map(Vec::len).unwrap_or(0);
        if got == n {
            Ok(())
        } else {
            Err(format!("{:?}", r.body))
        }
    })
    .await;
}

/// The list, filtered by end status; the ended record opened; the filtered export.
async fn records(b: &Browser, done_id: &str) {
    open_page(b, "records").await;
    b.wait_text("#page table", "user_open").await;
    b.wait_text("#page table", "user_done").await;
    b.find("#rf-end_status")
        .await
        .select_by_value("1")
        .await
        .unwrap();
    b.until_js(
        "the list filtered to sessions ended normally",
        "!document.querySelector('#page table').textContent.includes('user_open')",
    )
    .await;
    b.wait_text("#page table", "user_done").await;
    b.wait_text("#records-count", "1").await;
    b.click("#page table button[data-act=\"open\"]").await;
    b.wait_text("#record-detail", done_id).await;
    b.wait_text("#record-detail .transcript", "我的订单还没到")
        .await;
    b.wait_text(
        "#record-detail .said[data-sender=\"agent\"]",
        "您好，我来查一下。",
    )
    .await;
    b.wait_text("#record-detail .notes", "物流延误，已催单")
        .await;
    b.wait_text("#record-detail .record-facts", "ended normally (1)")
        .await;
    b.shot("admin-records").await;

    // The export carries the same filter: the served user, not the ongoing one.
    b.js("const made = URL.createObjectURL; URL.createObjectURL = (blob) => { blob.text().then((t) => { window.exported = t; }); return made.call(URL, blob); };")
        .await;
    b.click("#records-export").await;
    let csv = b
        .until_js("the exported file", "window.exported")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert!(csv.contains("user_done"), "{csv}");
    assert!(!csv.contains("user_open"), "{csv}");
    assert!(csv.contains(done_id), "{csv}");
    b.wait_text("#toast", "exported").await;
}

/// The figures shown are the statistics API's for today.
async fn analytics(b: &Browser, app: &kefu_tests::TestApp, desk: &Desk, agent_name: &str) {
    open_page(b, "analytics").await;
    b.find("#chart-volume").await;
    let today = b
        .js("return document.getElementById('af-from').value")
        .await;
    let today = today.as_str().unwrap();
    let stats = app
        .get(
            &format!("/api/v1/stats/sessions?from={today}&to={today}&interval=hour"),
            &desk.admin,
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{:?}", stats.body);
    let total = &stats.body["total"];
    assert!(total["incoming"].as_i64().unwrap() >= 2, "{total}");
    for (figure, value) in [
        ("incoming", total["incoming"].to_string()),
        ("accepted", total["accepted"].to_string()),
    ] {
        b.wait_text(
            &format!(".tile[data-figure=\"{figure}\"] .tile-value"),
            &value,
        )
        .await;
        b.wait_text(
            &format!("#analytics-figures tr[data-id=\"{figure}\"] td:last-child"),
            &value,
        )
        .await;
    }
    b.wait_text("#analytics-figures", "Incoming sessions (TotalSessionCnt)")
        .await;
    // One pair of bars per hour of the day, their heights drawn from the figures.
    let bars = b
        .js("return document.querySelectorAll('#chart-volume rect.bar').length")
        .await;
    assert_eq!(
        bars.as_u64(),
        Some(2 * stats.body["buckets"].as_array().unwrap().len() as u64)
    );
    let drawn = b
        .js("return [...document.querySelectorAll('#chart-volume rect.bar.s0')].filter((r) => Number(r.getAttribute('height')) > 0).length")
        .await;
    let busy_hours = stats.body["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["incoming"].as_i64() > Some(0))
        .count();
    assert_eq!(drawn.as_u64(), Some(busy_hours as u64));
    b.wait_text("#analytics-agents", agent_name).await;
    b.shot("admin-analytics").await;
}

/// Wraps the page's `fetch` so that the first live stream ends after one chunk.
const DROP_FIRST_STREAM: &str = "const real = window.fetch; window.streams = 0;
    window.fetch = async (url, options) => {
      const resp = await real(url, options);
      if (!String(url).includes('/stats/live/stream') || ++window.streams > 1) return resp;
      const reader = resp.body.getReader();
      const { value } = await reader.read();
      reader.cancel();
      const cut = new ReadableStream({ start(c) { c.enqueue(value); c.close(); } });
      return new Response(cut, { status: resp.status, headers: resp.headers });
    };";

/// A user joining the queue shows on the open page without a reload, also after
/// the stream dropped once.
async fn live(b: &Browser, app: &kefu_tests::TestApp, desk: &Desk) {
    // The first stream drops after its first chunk, as a connection does when a
    // proxy or the network cuts it: the page must open another.
    b.js(DROP_FIRST_STREAM).await;
    open_page(b, "live").await;
    b.until_js("a second stream", "window.streams === 2").await;
    b.wait_text("#live-conn", "Live").await;
    b.wait_text(".tile[data-figure=\"queued\"] .tile-value", "0")
        .await;
    b.wait_text("#live-agents", "Busy").await;
    let at = b
        .js("return document.querySelector('.live').dataset.at")
        .await;
    desk.say(app, "user_waits", "有人吗").await;
    b.wait_text(".tile[data-figure=\"queued\"] .tile-value", "1")
        .await;
    b.wait_text("#live-waiting", "user_waits").await;
    b.find("#live-waiting .wait.longest").await;
    b.wait_text("#live-groups", "售后 After-sales").await;
    let now = b
        .js("return document.querySelector('.live').dataset.at")
        .await;
    assert_ne!(at, now, "the figures came from a newer event");
    b.shot("admin-live").await;
    // Agents are found by their status and by name.
    let status = async |value: &str| {
        b.find(".live select[name=status]")
            .await
            .select_by_value(value)
            .await
            .unwrap();
    };
    status("free").await;
    b.wait_text("#live-agents", "No agent matches.").await;
    status("busy").await;
    b.wait_text("#live-agents", "Busy").await;
    b.type_in(".live input[name=q]", "nobody by this name")
        .await;
    b.wait_text("#live-agents", "No agent matches.").await;
    status("").await;
    b.wait_text("#live-agents", "No agent matches.").await;
}
