//! The console's set-up pages in a real browser: skill groups with their members and
//! routing settings, the tenant's routing settings and quick replies; channels with
//! their secrets shown once, the IM set-up and the web chat; modules with their
//! figures, uploads refused in sentences, enabling and a dry run.

use kefu::directory::Role;
use kefu_tests::{fixtures, spawn_app, spawn_app_with};
use serde_json::json;

use crate::admin_support::{console, open_page, retype};
use crate::driver::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_routing_settings_and_quick_replies() {
    let Some(mut b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    app.account(tenant.id, "li@acme.test", Role::Agent).await;
    console(&b, &app, "acme", &tenant.admin_email).await;
    open_page(&b, "groups").await;

    // A new group with a countdown out of bounds: refused beside the field.
    b.click("#group-new").await;
    retype(&b, "#f-name", "售前 Pre-sales").await;
    b.find("#f-routing-accept_mode")
        .await
        .select_by_value("manual")
        .await
        .unwrap();
    retype(&b, "#f-routing-offer_timeout_secs", "3").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text(
        "#dialog [data-error-for=\"routing.offer_timeout_secs\"]",
        "between 5 and 600",
    )
    .await;
    retype(&b, "#f-routing-offer_timeout_secs", "45").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text(".detail", "manual, 45 s to accept").await;
    b.wait_text(".detail", "must accept within the countdown")
        .await;
    // A member, then a priority.
    b.find("#member-add")
        .await
        .select_by_label("li (li@acme.test)")
        .await
        .unwrap();
    b.click("#member-add-go").await;
    b.wait_text(".detail table", "li@acme.test").await;
    retype(&b, ".detail table input[type=number]", "3").await;
    b.js("document.querySelector('.detail table input[type=number]').dispatchEvent(new Event('change'))")
        .await;
    b.wait_text("#toast", "Priority saved").await;
    b.shot("admin-groups").await;
    // A group with members cannot be deleted; the dialog says why.
    b.click("#group-delete").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#dialog [data-error-for=\"form\"]", "still members")
        .await;
    b.click("#dialog .dialog-actions button").await;
    let li = app.get("/api/v1/agents?q=li@", &admin).await;
    assert_eq!(
        li.body["items"][0]["skill_groups"][0]["priority"], 3,
        "{:?}",
        li.body
    );
    let groups = app.get("/api/v1/skill-groups", &admin).await;
    assert_eq!(groups.body["items"][0]["routing"]["offer_timeout_secs"], 45);

    // Rest reasons, wrap-up and quick replies.
    open_page(&b, "settings").await;
    b.click("#reason-add").await;
    b.type_in("#reasons li:last-child input", "外出 Errand")
        .await;
    retype(&b, "#f-after_call_work_secs", "5000").await;
    b.click("#routing-form button[type=submit]").await;
    b.wait_text(
        "#routing-form [data-error-for=\"after_call_work_secs\"]",
        "between 0 and 3600",
    )
    .await;
    retype(&b, "#f-after_call_work_secs", "30").await;
    b.click("#routing-form button[type=submit]").await;
    b.wait_text("#toast", "Routing settings saved").await;
    let settings = app.get("/api/v1/routing/settings", &admin).await;
    assert_eq!(settings.body["after_call_work_secs"], 30);
    assert!(
        settings.body["rest_reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("外出 Errand")),
        "{:?}",
        settings.body
    );
    for shortcut in ["hi", "hi"] {
        b.click("#quick-new").await;
        retype(&b, "#f-shortcut", shortcut).await;
        retype(&b, "#f-text", "您好，我是${StaffNickName}").await;
        b.click("#dialog button[type=submit]").await;
    }
    // The second "hi" is refused beside the shortcut.
    b.wait_text("#dialog [data-error-for=\"shortcut\"]", "")
        .await;
    b.until_js(
        "the taken shortcut explained",
        "document.querySelector('#dialog [data-error-for=\"shortcut\"]').textContent.length > 0",
    )
    .await;
    b.click("#dialog .dialog-actions button").await;
    b.wait_text("#quick-list", "/hi").await;
    b.fit(1024, 768).await;
    b.shot("admin-settings").await;
    let quick = app.get("/api/v1/quick-replies?scope=tenant", &admin).await;
    assert_eq!(quick.body["items"].as_array().unwrap().len(), 1);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_show_their_secrets_once_and_how_to_set_them_up() {
    let Some(mut b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app().await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    console(&b, &app, "acme", &tenant.admin_email).await;
    open_page(&b, "channels").await;
    b.click("#channel-new").await;
    retype(&b, "#f-name", "官网 Website").await;
    retype(&b, "#f-account", "kefu_web").await;
    retype(&b, "#f-sdkappid", "1400000123").await;
    b.click("#dialog button[type=submit]").await;
    // Secrets, once, with copy buttons.
    b.wait_text("#dialog", "shown only now").await;
    let secret = b
        .js("return document.getElementById('copy-secret_key').value")
        .await;
    let token = b
        .js("return document.getElementById('copy-callback_token').value")
        .await;
    assert!(secret.as_str().unwrap().len() >= 16, "{secret}");
    b.click("#dialog [data-copy=secret_key]").await;
    b.wait_text("#toast", "Secret key copied").await;
    b.shot("admin-channel-secrets").await;
    b.click("#dialog .dialog-actions button").await;
    // The IM set-up names this channel's addresses and accounts.
    let setup = b.wait_text("#im-setup", "1400000123").await;
    assert!(setup.contains("kefu_web"), "{setup}");
    let sendmsg = b
        .js("return document.getElementById('copy-sendmsg').value")
        .await;
    assert!(
        sendmsg.as_str().unwrap().starts_with(
            &app.url("/v4/openim/sendmsg?sdkappid=1400000123&identifier=administrator")
        ),
        "{sendmsg}"
    );
    let chat = b
        .js("return document.getElementById('copy-chat').value")
        .await;
    let embed = b
        .js("return document.getElementById('copy-embed').value")
        .await;
    assert!(
        embed.as_str().unwrap().contains(chat.as_str().unwrap()),
        "{embed}"
    );
    b.fit(1024, 768).await;
    b.shot("admin-channel").await;
    // Rotating makes new secrets; the old hint changes with them.
    b.click("#channel-rotate").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#dialog", "shown only now").await;
    let rotated = b
        .js("return document.getElementById('copy-callback_token').value")
        .await;
    assert_ne!(rotated, token);
    b.click("#dialog .dialog-actions button").await;
    let listed = app.get("/api/v1/channels", &admin).await;
    let hint = listed.body["items"][0]["callback_token_hint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        rotated
            .as_str()
            .unwrap()
            .ends_with(hint.trim_start_matches('*')),
        "{hint}"
    );
    // The web chat link is the channel's chat.
    b.goto(chat.as_str().unwrap()).await;
    b.find("#composer, textarea, form").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_are_described_uploaded_refused_in_sentences_and_tried() {
    let Some(mut b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app_with(|c| c.plugins.max_component_bytes = 4 * 1024 * 1024).await;
    let tenant = app.tenant("acme").await;
    console(&b, &app, "acme", &tenant.admin_email).await;
    open_page(&b, "modules").await;
    // A built-in module: description, exits, limits.
    b.click("button[data-open]:not([disabled])").await;
    b.find("#module-limits").await;
    let upload = async |path: &str| {
        let input = b
            .client
            .find(fantoccini::Locator::Css("#upload-file"))
            .await
            .unwrap();
        input.send_keys(path).await.unwrap();
    };
    upload(fixtures::CORE_MODULE).await;
    b.wait_text("#upload-status", "core WebAssembly module, not a component")
        .await;
    upload(fixtures::SOCKETS).await;
    b.wait_text("#upload-status", "imports wasi:sockets").await;
    b.wait_text("#upload-status", "which kefu does not provide")
        .await;
    b.shot("admin-module-refused").await;
    upload(fixtures::ECHO).await;
    b.wait_text("#upload-status", "is installed").await;
    b.find("#module-toggle").await;
    // Disable and enable again.
    b.click("#module-toggle").await;
    b.wait_text("#module-toggle", "Enable").await;
    b.click("#module-toggle").await;
    b.wait_text("#module-toggle", "Disable").await;
    // A dry run: one step, its actions and what comes next.
    b.find("#dry-config").await.clear().await.unwrap();
    b.type_in("#dry-config", "{}").await;
    b.find("#dry-trigger")
        .await
        .select_by_value("user_message")
        .await
        .unwrap();
    b.type_in("#dry-text", "hello").await;
    b.click("#dry-form button[type=submit]").await;
    b.until_js(
        "the dry run's answer",
        "document.getElementById('dry-out').textContent.length > 0",
    )
    .await;
    let out = b.find("#dry-out").await.text().await.unwrap();
    assert!(out.contains("Then") || out.contains("failed"), "{out}");
    b.fit(1024, 768).await;
    b.shot("admin-modules").await;
    b.close().await;
}
