//! The agent workbench in headless Chromium against a real server on loopback:
//!
//! 1. page weight on first load: every byte the browser received for the page and
//!    its assets (compressed bodies, as the Resource Timing API counts them);
//! 2. time from navigation to an interactive sessions list (the page's
//!    `kefu:interactive` mark: signed in, socket ready, list drawn), over repeated
//!    loads with five ongoing sessions;
//! 3. user-message-to-visible latency: 200 IM messages into the open conversation,
//!    each timed from just before kefu's IM ingress is called to the browser frame
//!    that first shows it (a MutationObserver plus requestAnimationFrame in the page).
//!
//! 4. the admin console's first load, in a browser of its own (nothing cached): the
//!    sign-in page, then signed in as an admin up to its first page (the Agents list),
//!    every byte received including the API's answers; and what opening the flow
//!    editor, the records, analytics, live monitor and webhooks pages adds (their
//!    modules load when first opened).
//!
//! `cargo bench -p kefu-tests --bench workbench`. Set `KEFU_BENCH_MESSAGES` and
//! `KEFU_BENCH_LOADS` to change the counts.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../browser/driver.rs"]
#[allow(dead_code)]
mod driver;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kefu_tests::agent_desk::{Desk, WAIT, eventually, say};
use kefu_tests::spawn_app;
use serde_json::json;

use driver::Browser;

const WEIGHT_TARGET: f64 = 150.0 * 1024.0;
const INTERACTIVE_TARGET_MS: f64 = 500.0;
const LATENCY_TARGET_MS: f64 = 100.0;
const CONSOLE_WEIGHT_TARGET: f64 = 250.0 * 1024.0;

/// Bytes received so far by the page: compressed bodies, bodies on the wire with
/// headers, uncompressed, and the number of files.
const RECEIVED: &str = "const n = performance.getEntriesByType('navigation')[0];
     const r = performance.getEntriesByType('resource');
     return {
       body: n.encodedBodySize + r.reduce((s, e) => s + e.encodedBodySize, 0),
       wire: n.transferSize + r.reduce((s, e) => s + e.transferSize, 0),
       raw: n.decodedBodySize + r.reduce((s, e) => s + e.decodedBodySize, 0),
       files: r.length + 1 }";

fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "OVER TARGET" }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let messages = count("KEFU_BENCH_MESSAGES", 200);
    let loads = count("KEFU_BENCH_LOADS", 20);
    let Some(b) = Browser::launch(1440, 900).await else {
        eprintln!("workbench bench: no browser, nothing measured");
        std::process::exit(
            if std::env::var("KEFU_REQUIRE_BROWSER").as_deref() == Ok("1") {
                1
            } else {
                0
            },
        );
    };
    let app = spawn_app().await;
    let desk = Desk::new(
        &app,
        "bench",
        json!({"accept_mode": "auto", "queue_max_length": 1000, "queue_max_wait_secs": 3600}),
    )
    .await;
    let agent = desk.agents(&app, "agent", 1, 10).await.remove(0);

    // 1. Page weight: a fresh profile, nothing cached.
    b.goto(&app.url("/workbench")).await;
    b.find("#login-form").await;
    let weight = b.js(RECEIVED).await;

    // Signed in, free, with five ongoing sessions.
    driver_sign_in(&b, &agent.email).await;
    b.click("#avatar").await;
    b.click("#status-menu [data-set=\"free\"]").await;
    agent.wait_status(&app, "free").await;
    for i in 0..5 {
        say(&app, &desk.account, &format!("user_{i}"), "你好").await;
    }
    eventually(WAIT, "five sessions with the agent", async || {
        let n = agent.session_ids(&app).await.len();
        if n == 5 { Ok(()) } else { Err(n.to_string()) }
    })
    .await;

    // 2. Navigation to an interactive list, the page reloaded (assets cached, as an
    //    agent's browser has them).
    let mut interactive = Vec::with_capacity(loads);
    for _ in 0..loads {
        b.client.refresh().await.unwrap();
        let t = b
            .until_js(
                "the interactive mark",
                "document.querySelectorAll('.session').length === 5 && performance.getEntriesByName('kefu:interactive')[0]?.startTime",
            )
            .await;
        interactive.push(t.as_f64().unwrap());
    }
    interactive.sort_by(f64::total_cmp);

    // 3. Messages into the open conversation.
    b.click(".session[data-kind=\"active\"] .session-open")
        .await;
    b.find("#composer-text").await;
    let user = b
        .js("return document.querySelector('#conversation .conv-title h2').textContent")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    b.js("window.__seen = {};
          new MutationObserver((changes) => {
            for (const c of changes) for (const n of c.addedNodes) {
              const m = n.nodeType === 1 && /bench#(\\d+)#/.exec(n.textContent);
              if (m && !(m[1] in window.__seen)) {
                window.__seen[m[1]] = 0;
                requestAnimationFrame(() => { window.__seen[m[1]] = performance.timeOrigin + performance.now(); });
              }
            }
          }).observe(document.querySelector('#conversation .transcript'), {childList: true});")
        .await;
    let mut sent = Vec::with_capacity(messages);
    for i in 0..messages {
        sent.push(now_ms());
        say(
            &app,
            &desk.account,
            &user,
            &format!("bench#{i}# 我的订单到哪里了？"),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = b
        .until_js(
            "every message on screen",
            &format!("Object.values(window.__seen).filter(t => t > 0).length === {messages} && window.__seen"),
        )
        .await;
    let mut latency: Vec<f64> = (0..messages)
        .map(|i| seen[i.to_string()].as_f64().unwrap() - sent[i])
        .collect();
    latency.sort_by(f64::total_cmp);

    let body = weight["body"].as_f64().unwrap();
    let wire = weight["wire"].as_f64().unwrap();
    let raw = weight["raw"].as_f64().unwrap();
    let p50 = percentile(&interactive, 0.5);
    let (l50, l99) = (percentile(&latency, 0.5), percentile(&latency, 0.99));
    println!("\nworkbench (headless Chromium, loopback, server in this process)");
    println!(
        "  page weight, first load      {:>8.1} KB compressed ({:.1} KB on the wire with headers, {:.1} KB uncompressed, {} files)   target ≤ 150 KB   {}",
        body / 1024.0,
        wire / 1024.0,
        raw / 1024.0,
        weight["files"],
        verdict(body <= WEIGHT_TARGET)
    );
    println!(
        "  navigation → interactive list  p50 {:>6.1} ms, max {:.1} ms over {} loads (5 sessions)   target ≤ 500 ms   {}",
        p50,
        interactive.last().copied().unwrap_or(f64::NAN),
        loads,
        verdict(p50 <= INTERACTIVE_TARGET_MS)
    );
    println!(
        "  user message → visible         p50 {:>6.1} ms, p99 {:.1} ms, max {:.1} ms over {} messages   target p99 ≤ 100 ms   {}",
        l50,
        l99,
        latency.last().copied().unwrap_or(f64::NAN),
        messages,
        verdict(l99 <= LATENCY_TARGET_MS)
    );
    b.close().await;
    console_weight(&app, &desk).await;
}

/// The admin console's first load and the editor's share, in a fresh browser.
async fn console_weight(app: &kefu_tests::TestApp, desk: &Desk) {
    let Some(b) = Browser::launch(1440, 900).await else {
        return;
    };
    let flow = app.get("/api/v1/flows?page_size=1", &desk.admin).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    b.goto(&app.url("/admin")).await;
    b.find("#login-form").await;
    let email = desk.tenant.admin_email.clone();
    for (css, value) in [
        ("#login-tenant", "bench"),
        ("#login-email", email.as_str()),
        ("#login-password", kefu_tests::PASSWORD),
    ] {
        b.type_in(css, value).await;
    }
    b.click("#login-submit").await;
    b.until_js(
        "the console's first page",
        "document.body.dataset.ready === '1' && document.querySelector('#page table')",
    )
    .await;
    let first = b.js(RECEIVED).await;
    b.js_with(
        "location.hash = '#/flows/' + arguments[0]; return null;",
        vec![json!(flow)],
    )
    .await;
    b.until_js("the editor", "document.querySelector('#canvas .node')")
        .await;
    let editor = b.js(RECEIVED).await;
    let kb = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap() / 1024.0;
    println!("\nadmin console (a fresh browser: nothing cached)");
    println!(
        "  first load, signed in to Agents {:>6.1} KB compressed ({:.1} KB on the wire with headers, {:.1} KB uncompressed, {} files)   target ≤ 250 KB   {}",
        kb(&first, "body"),
        kb(&first, "wire"),
        kb(&first, "raw"),
        first["files"],
        verdict(first["body"].as_f64().unwrap() <= CONSOLE_WEIGHT_TARGET)
    );
    println!(
        "  opening the flow editor adds    {:>6.1} KB compressed ({:.1} KB uncompressed, {} files)",
        kb(&editor, "body") - kb(&first, "body"),
        kb(&editor, "raw") - kb(&first, "raw"),
        editor["files"].as_u64().unwrap() - first["files"].as_u64().unwrap()
    );
    // The reporting pages and webhooks, each opened after the one before: what each
    // adds (its module and the API's answers; its texts came with the first load).
    let mut before = editor;
    for (page, ready) in [
        ("records", "#page .list-area table, #page .list-area .empty"),
        ("analytics", "#chart-volume"),
        ("live", "#live-agents table, #live-agents .empty"),
        (
            "webhooks",
            "#page .list-area table, #page .list-area .empty",
        ),
    ] {
        b.js_with(
            "location.hash = '#/' + arguments[0]; return null;",
            vec![json!(page)],
        )
        .await;
        b.until_js(
            &format!("the {page} page"),
            &format!(
                "document.getElementById('page').dataset.page === '{page}' && document.querySelector({})",
                json!(ready)
            ),
        )
        .await;
        let now = b.js(RECEIVED).await;
        println!(
            "  opening {page:<9} adds          {:>6.1} KB compressed ({:.1} KB uncompressed, {} files)",
            kb(&now, "body") - kb(&before, "body"),
            kb(&now, "raw") - kb(&before, "raw"),
            now["files"].as_u64().unwrap() - before["files"].as_u64().unwrap()
        );
        before = now;
    }
    b.close().await;
}

async fn driver_sign_in(b: &Browser, email: &str) {
    for (css, value) in [
        ("#login-tenant", "bench"),
        ("#login-email", email),
        ("#login-password", kefu_tests::PASSWORD),
    ] {
        b.type_in(css, value).await;
    }
    b.click("#login-submit").await;
    b.until_js("the desk", "document.body.dataset.ready === '1'")
        .await;
}
