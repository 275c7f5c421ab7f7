//! The console's shell and its Agents page in a real browser: a non-admin is turned
//! away, an admin signs in, switches language, creates an agent (a refused field is
//! explained beside it), edits and deactivates them, and sees their day.

use kefu::directory::Role;
use kefu_tests::spawn_app;
use serde_json::json;

use crate::admin_support::{console, open_page, retype};
use crate::driver::Browser;
use crate::support::fill_login;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_agents_and_an_agent_is_turned_away() {
    let Some(mut b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    app.account(tenant.id, "agent@acme.test", Role::Agent).await;
    let group = app
        .post(
            "/api/v1/skill-groups",
            &admin,
            json!({"name": "售后 After-sales"}),
        )
        .await;
    let group_id = group.body["id"].as_str().unwrap().to_owned();

    // An agent signs in and is told the console is not theirs.
    b.goto(&app.url("/admin")).await;
    b.find("#login-form").await;
    fill_login(&b, "acme", "agent@acme.test", kefu_tests::PASSWORD).await;
    b.wait_text("#denied", "for admins").await;
    b.find("#denied a[href=\"/workbench\"]").await;
    b.shot("admin-denied").await;
    b.click("#denied-sign-out").await;
    b.find("#login-form").await;

    for (width, height) in [(1440, 900), (1024, 768)] {
        b.fit(width, height).await;
        console(&b, &app, "acme", &tenant.admin_email).await;
        if width == 1440 {
            // An admin is also an agent: to the workbench and back, still signed in.
            b.click("#to-workbench").await;
            b.until_js(
                "the workbench's desk",
                "document.body.dataset.ready === '1' && location.pathname === '/workbench'",
            )
            .await;
            b.click("#to-console").await;
            b.until_js(
                "the console again",
                "document.body.dataset.ready === '1' && location.pathname === '/admin'",
            )
            .await;
        }
        // The page speaks Chinese on request and English again.
        b.js("localStorage.removeItem('kefu.lang')").await;
        b.find("#menu-lang")
            .await
            .select_by_value("zh-CN")
            .await
            .unwrap();
        b.wait_text(".brand", "管理台").await;
        b.shot("admin-agents-zh").await;
        b.find("#menu-lang")
            .await
            .select_by_value("en")
            .await
            .unwrap();
        b.wait_text(".brand", "Admin console").await;
        open_page(&b, "agents").await;
        b.wait_text("#page table", &tenant.admin_email).await;
        b.click("#page #agent-new").await;
        b.find("#dialog form").await;
        break_and_fix_agent(&b, width, &group_id).await;
        b.shot("admin-agents").await;
        b.click("#sign-out").await;
        b.find("#login-form").await;
    }

    // What the page did is what the API holds.
    let list = app.get("/api/v1/agents?q=bea&active=false", &admin).await;
    assert_eq!(list.body["total"], 2, "{:?}", list.body);
    for a in list.body["items"].as_array().unwrap() {
        assert_eq!(a["nickname"], "小贝");
        assert_eq!(a["skill_groups"][0]["skill_group_id"], group_id.as_str());
        assert_eq!(a["skill_groups"][0]["priority"], 2);
        assert_eq!(a["max_concurrent_sessions"], 4);
    }
    let email = list.body["items"][0]["email"].as_str().unwrap().to_owned();
    // The password the admin set is the one that signs in (once reactivated).
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/agents/{id}/reactivate"),
        &admin,
        json!({}),
    )
    .await;
    let login = app.login("acme", &email, "a-new-secret-9").await;
    assert_eq!(login.status, reqwest::StatusCode::OK, "{:?}", login.body);
    b.close().await;
}

/// In the open "new agent" dialog: a refused e-mail is explained beside its field;
/// then the agent is created, edited, given a password, looked at and deactivated.
async fn break_and_fix_agent(b: &Browser, width: u32, group: &str) {
    let email = format!("bea{width}@acme.test");
    retype(b, "#f-email", "not-an-address").await;
    retype(b, "#f-name", &format!("Bea {width}")).await;
    retype(b, "#f-password", "first-secret-1").await;
    b.click(&format!("#f-member-{group}")).await;
    retype(b, &format!("#f-priority-{group}"), "2").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#dialog [data-error-for=\"email\"]", "e-mail address")
        .await;
    b.shot("admin-agent-refused").await;
    retype(b, "#f-email", &email).await;
    b.click("#dialog button[type=submit]").await;
    b.until_js(
        "the dialog to close",
        "!document.getElementById('dialog').open",
    )
    .await;
    b.wait_text("#page table", &email).await;
    // Edit: nickname and cap.
    let edit = format!("//tr[.//div[text()='{email}']]//button[@data-act='edit']");
    click_xpath(b, &edit).await;
    retype(b, "#f-nickname", "小贝").await;
    retype(b, "#f-max_concurrent_sessions", "4").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#page table", "小贝").await;
    // A new password.
    click_xpath(
        b,
        &format!("//tr[.//div[text()='{email}']]//button[@data-act='password']"),
    )
    .await;
    retype(b, "#f-password", "a-new-secret-9").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#toast", "password is changed").await;
    // Today's time per status.
    click_xpath(
        b,
        &format!("//tr[.//div[text()='{email}']]//button[@data-act='day']"),
    )
    .await;
    b.wait_text("#dialog", "Offline").await;
    b.click("#dialog .dialog-actions button").await;
    // Deactivate: the row leaves the list of active agents.
    click_xpath(
        b,
        &format!("//tr[.//div[text()='{email}']]//button[@data-act='deactivate']"),
    )
    .await;
    b.click("#dialog button[type=submit]").await;
    b.until_js(
        "the deactivated agent to leave the list",
        &format!("!document.querySelector('#page table').textContent.includes('{email}')"),
    )
    .await;
    b.find("select[name=active]")
        .await
        .select_by_value("false")
        .await
        .unwrap();
    b.wait_text("#page table", &email).await;
    b.find("select[name=active]")
        .await
        .select_by_value("true")
        .await
        .unwrap();
}

async fn click_xpath(b: &Browser, xpath: &str) {
    b.until(&format!("a click on {xpath}"), async || {
        let e = b
            .client
            .find(fantoccini::Locator::XPath(xpath))
            .await
            .map_err(|e| e.to_string())?;
        e.click().await.map_err(|e| e.to_string())
    })
    .await
}
