//! The flow editor in a real browser, driven with the mouse: a flow built from an
//! empty canvas (modules dragged in, exits connected, forms filled), the problems the
//! validation pins fixed, published, talked to in "try it" and through the web chat,
//! changed, published again and rolled back. Then a flow of 200 nodes is panned and
//! a node dragged, and the frame times are printed.

use std::time::Duration;

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use kefu_tests::spawn_app;
use serde_json::{Value, json};

use crate::admin_support::{console, open_page, retype};
use crate::driver::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_is_drawn_fixed_published_tried_and_rolled_back() {
    let Some(mut b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    console(&b, &app, "acme", &tenant.admin_email).await;
    open_page(&b, "flows").await;
    b.click("#flow-new").await;
    retype(&b, "#f-name", "演示 Demo").await;
    b.click("#dialog button[type=submit]").await;
    b.find("#canvas").await;
    let flow_id = b.js("return location.hash.split('/')[2]").await;
    let flow_id = flow_id.as_str().unwrap().to_owned();

    // An empty canvas: the starting nodes a new flow gets are deleted.
    for _ in 0..2 {
        b.click("#canvas .node .node-head").await;
        b.click("#node-delete").await;
    }
    b.until_js(
        "an empty canvas",
        "!document.querySelector('#canvas .node')",
    )
    .await;

    // Three modules dragged in from the palette.
    for (module, x, y) in [
        ("send-message", 80.0, 80.0),
        ("collect-input", 380.0, 80.0),
        ("end", 680.0, 120.0),
    ] {
        let to = canvas_point(&b, x, y).await;
        let from = center(&b, &format!("#palette [data-module=\"{module}\"]")).await;
        drag(&b, from, to).await;
        b.find(&format!("#canvas .node[data-id=\"{module}-1\"]"))
            .await;
    }
    // The validation pins what the new nodes lack to them and to their fields.
    b.until_js(
        "problems pinned to the new nodes",
        "document.querySelector('#canvas .node[data-id=\"collect-input-1\"] .badge')",
    )
    .await;
    assert!(
        b.js("return document.getElementById('ed-publish').disabled")
            .await
            .as_bool()
            .unwrap()
    );
    b.shot("admin-flow-problems").await;

    // The welcome message, in the form generated from send-message's schema.
    b.click("#canvas .node[data-id=\"send-message-1\"] .node-head")
        .await;
    b.click("#node-form .sf-add").await;
    retype(
        &b,
        "#node-form textarea",
        "您好 ${SystemClientNickName}，欢迎！",
    )
    .await;
    // The question: its required fields are marked beside them until filled.
    b.click("#canvas .node[data-id=\"collect-input-1\"] .node-head")
        .await;
    b.until_js(
        "a problem beside the prompt",
        "document.querySelector('#node-form [data-problem-for=\"/prompt\"]')?.textContent || document.querySelector('#node-problems')?.textContent",
    )
    .await;
    retype(
        &b,
        "#node-form textarea[data-pointer=\"/prompt\"], #node-form input[data-pointer=\"/prompt\"]",
        "请问您的订单号？",
    )
    .await;
    retype(&b, "#node-form input[data-pointer=\"/variable\"], #node-form textarea[data-pointer=\"/variable\"]", "order").await;
    b.click("#canvas .node[data-id=\"end-1\"] .node-head").await;
    retype(&b, "#node-label", "Goodbye").await;

    // Exits connected by dragging from their ports onto the next node.
    connect(&b, "send-message-1", "next", "collect-input-1").await;
    for exit in ["ok", "failed"] {
        connect(&b, "collect-input-1", exit, "end-1").await;
    }
    // Or without the mouse: the exit's target chosen in the inspector.
    b.click("#canvas .node[data-id=\"collect-input-1\"] .node-head")
        .await;
    b.find("#exit-timeout")
        .await
        .select_by_value("end-1")
        .await
        .unwrap();
    b.find("#canvas path.wire[data-edge=\"collect-input-1:timeout\"]")
        .await;
    b.until_js(
        "no problems left",
        "!document.getElementById('ed-publish').disabled",
    )
    .await;
    b.click("#ed-save").await;
    b.wait_text("#ed-status", "Saved, ready to publish").await;
    b.click("#ed-layout").await;
    b.shot("admin-flow-built").await;
    // Undo puts the nodes back where they were; redo arranges them again.
    b.click("#ed-undo").await;
    b.click("#ed-redo").await;

    // Publish with a note.
    b.until_js(
        "publish to be possible",
        "!document.getElementById('ed-publish').disabled",
    )
    .await;
    b.click("#ed-publish").await;
    b.type_in("#f-note", "第一版 first").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text(".ed-head", "revision 1 is live").await;
    let flow = app.get(&format!("/api/v1/flows/{flow_id}"), &admin).await;
    assert_eq!(flow.body["live_revision"], 1, "{:?}", flow.body);
    assert!(flow.body["draft"]["nodes"][0]["position"]["x"].is_number());

    // Try it: the steps, their exits and actions; no session is opened.
    b.click("#ed-try").await;
    b.wait_text("#try-log", "您好 Tester，欢迎！").await;
    b.wait_text("#try-log", "请问您的订单号？").await;
    b.type_in("#try-text", "A-1001").await;
    b.click("#try-form button[type=submit]").await;
    b.wait_text("#try-log", "→ ok").await;
    b.wait_text("#try-log", "end status 1").await;
    b.shot("admin-flow-try").await;
    let sessions = app.get("/api/v1/sessions", &admin).await;
    assert_eq!(sessions.body["total"], 0, "{:?}", sessions.body);

    // The web chat of a channel on this flow says the same.
    let channel = app
        .post(
            "/api/v1/channels",
            &admin,
            json!({"name": "Web", "account": "kefu_web", "sdkappid": 1400000001, "flow_id": flow_id}),
        )
        .await;
    let chat = app.url(channel.body["webchat_path"].as_str().unwrap());
    let editor = b.client.current_url().await.unwrap();
    b.goto(&chat).await;
    b.wait_text("#log", "请问您的订单号？").await;
    b.goto(editor.as_str()).await;
    b.find("#canvas .node").await;

    // A second revision, then back to the first.
    b.click("#canvas .node[data-id=\"end-1\"] .node-head").await;
    retype(&b, "#node-label", "Bye").await;
    b.wait_text("#ed-status", "Unsaved").await;
    b.until_js(
        "publish to be possible",
        "!document.getElementById('ed-publish').disabled",
    )
    .await;
    b.click("#ed-publish").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text(".ed-head", "revision 2 is live").await;
    b.click("#ed-revisions").await;
    b.wait_text("#dialog table", "第一版 first").await;
    b.click("#dialog [data-view=\"1\"]").await;
    b.wait_text("#ed-banner", "Revision 1").await;
    b.fit(1024, 768).await;
    b.shot("admin-flow-revision").await;
    b.click("#ed-rollback").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text(".ed-head", "revision 3 is live").await;
    let revisions = app
        .get(&format!("/api/v1/flows/{flow_id}/revisions"), &admin)
        .await;
    let third = revisions
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["number"] == 3)
        .unwrap()
        .clone();
    assert_eq!(third["restored_from"], 1, "{third}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_of_200_nodes_pans_and_drags_smoothly() {
    let Some(b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let nodes: Vec<Value> = (0..200)
        .map(|i| json!({"id": format!("n{i}"), "module": "send-message", "config": {"messages": [{"text": "hi"}]}}))
        .collect();
    let edges: Vec<Value> = (0..199)
        .map(|i| json!({"from": format!("n{i}"), "exit": "next", "to": format!("n{}", i + 1)}))
        .collect();
    let flow = app
        .post(
            "/api/v1/flows",
            &admin,
            json!({"name": "Big", "draft": {"start": "n0", "nodes": nodes, "edges": edges}}),
        )
        .await;
    let id = flow.body["id"].as_str().unwrap().to_owned();
    console(&b, &app, "acme", &tenant.admin_email).await;
    b.goto(&app.url(&format!("/admin#/flows/{id}"))).await;
    b.until_js(
        "200 nodes drawn",
        "document.querySelectorAll('#canvas .node').length === 200",
    )
    .await;
    // Pan by the background and drag a node, one pointer move per frame, timing the frames.
    let figures = b
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const canvas = document.getElementById('canvas');
            const node = canvas.querySelector('.node[data-id="n1"] .node-head');
            const fire = (el, type, x, y) => el.dispatchEvent(new PointerEvent(type, {bubbles: true, clientX: x, clientY: y, pointerId: 1, button: 0, buttons: 1, isPrimary: true}));
            const times = { pan: [], drag: [] };
            const run = (what, el, x0, y0, frames, next) => {
              let i = 0, last = performance.now();
              fire(el, 'pointerdown', x0, y0);
              const step = (now) => {
                if (i > 0) times[what].push(now - last);
                last = now;
                if (i++ === frames) { fire(canvas, 'pointerup', x0 + frames * 2, y0 + frames); return next(); }
                fire(canvas, 'pointermove', x0 + i * 2, y0 + i);
                requestAnimationFrame(step);
              };
              requestAnimationFrame(step);
            };
            const r = canvas.getBoundingClientRect();
            const n = node.getBoundingClientRect();
            run('pan', canvas, r.right - 20, r.bottom - 20, 120, () =>
              run('drag', node, n.left + 10, n.top + 5, 120, () => done(times)));"#,
            vec![],
        )
        .await
        .unwrap();
    for what in ["pan", "drag"] {
        let mut ms: Vec<f64> = figures[what]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let pick = |q: f64| ms[((ms.len() - 1) as f64 * q) as usize];
        println!(
            "editor, 200 nodes, {what}: {} frames, frame time p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({:.0} fps at p50)",
            ms.len(),
            pick(0.5),
            pick(0.95),
            ms[ms.len() - 1],
            1000.0 / pick(0.5)
        );
    }
    b.shot("admin-flow-200").await;
    b.close().await;
}

/// The viewport position of the point (x, y) of the canvas's box.
async fn canvas_point(b: &Browser, x: f64, y: f64) -> (f64, f64) {
    let r = b.js("const r = document.getElementById('canvas').getBoundingClientRect(); return [r.left, r.top]").await;
    (r[0].as_f64().unwrap() + x, r[1].as_f64().unwrap() + y)
}

async fn center(b: &Browser, css: &str) -> (f64, f64) {
    b.find(css).await;
    let r = b
        .js_with(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]",
            vec![json!(css)],
        )
        .await;
    (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())
}

/// Presses the mouse at `from`, moves it to `to` in a few steps and lets go.
async fn drag(b: &Browser, from: (f64, f64), to: (f64, f64)) {
    let step = |f: f64| PointerAction::MoveTo {
        duration: Some(Duration::from_millis(60)),
        x: (from.0 + (to.0 - from.0) * f).round(),
        y: (from.1 + (to.1 - from.1) * f).round(),
    };
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x: from.0.round(),
            y: from.1.round(),
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(step(0.3))
        .then(step(0.7))
        .then(step(1.0))
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(mouse).await.unwrap();
}

/// Drags from a node's exit port onto another node.
async fn connect(b: &Browser, from: &str, exit: &str, to: &str) {
    let port = center(
        b,
        &format!("#canvas .node[data-id=\"{from}\"] .port[data-exit=\"{exit}\"]"),
    )
    .await;
    let target = center(b, &format!("#canvas .node[data-id=\"{to}\"] .node-module")).await;
    drag(b, port, target).await;
    b.until_js(
        &format!("the {from} {exit} edge"),
        &format!("document.querySelector('#canvas path.wire[data-edge=\"{from}:{exit}\"]')"),
    )
    .await;
}
