//! The console's Webhooks page in a real browser against a receiver on loopback: an
//! endpoint refused beside its field then created, its secret shown once; a test
//! event delivered and signed with that secret; the delivery listed and delivered
//! again; the secret rotated; the endpoint edited and deleted.

use kefu_tests::agent_desk::{WAIT, eventually};
use kefu_tests::receiver::{Received, Receiver};
use kefu_tests::spawn_app_with;

use crate::admin_support::{console, open_page, retype};
use crate::driver::Browser;

async fn received(receiver: &Receiver, n: usize) -> Vec<Received> {
    eventually(WAIT, "the receiver's requests", async || {
        let got = receiver.received();
        if got.len() >= n {
            Ok(got)
        } else {
            Err(format!("{} so far", got.len()))
        }
    })
    .await
}

async fn secret_shown(b: &Browser) -> String {
    let secret = b
        .until_js(
            "the secret shown",
            "document.querySelector('#dialog #copy-webhook-secret')?.value",
        )
        .await;
    let secret = secret.as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    b.click("#dialog button[data-copy=\"webhook-secret\"]")
        .await;
    b.wait_text("#toast", "copied").await;
    b.click("#dialog .dialog-actions button").await;
    secret
}

/// Clicks "refresh" until the deliveries table reads `want`.
async fn deliveries_read(b: &Browser, want: &str) {
    b.until(&format!("the deliveries to read {want}"), async || {
        b.click("#webhook-detail button[data-act=\"refresh\"]")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let text = b
            .find("#webhook-detail")
            .await
            .text()
            .await
            .unwrap_or_default();
        if text.contains(want) {
            Ok(())
        } else {
            Err(text)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_a_webhook_and_watches_its_deliveries() {
    let Some(mut b) = Browser::launch(1440, 900).await else {
        return;
    };
    let app = spawn_app_with(|c| {
        c.webhooks.retry_delays_secs = vec![1, 1];
        c.webhooks.timeout_ms = 2_000;
    })
    .await;
    let tenant = app.tenant("acme").await;
    let admin = app.admin_token(&tenant).await;
    let receiver = Receiver::start().await;
    console(&b, &app, "acme", &tenant.admin_email).await;
    open_page(&b, "webhooks").await;

    // A URL that is no URL is refused beside its field.
    b.click("#webhook-new").await;
    retype(&b, "#f-url", "not a url").await;
    retype(&b, "#f-description", "CRM 同步").await;
    b.click("#dialog button[type=submit]").await;
    b.until_js(
        "the URL refused beside its field",
        "document.querySelector('#dialog [data-error-for=\"url\"]').textContent.length > 0",
    )
    .await;
    retype(&b, "#f-url", &receiver.url).await;
    b.click("#dialog button[type=submit]").await;
    let secret = secret_shown(&b).await;
    b.wait_text("#page table", &receiver.url).await;
    b.wait_text("#webhook-detail", "CRM 同步").await;
    // Shown once: the page now holds only its end.
    let masked = b.find("#webhook-detail .facts").await.text().await.unwrap();
    assert!(!masked.contains(&secret), "{masked}");

    // A test event, signed with the secret the page showed.
    b.click("#webhook-detail button[data-act=\"test\"]").await;
    let got = received(&receiver, 1).await;
    assert_eq!(got[0].kind(), "webhook.test");
    assert!(got[0].signed_by(&secret), "signed with the shown secret");
    deliveries_read(&b, "delivered").await;
    b.wait_text("#webhook-detail", "HTTP 200").await;
    b.wait_text("#webhook-detail", &got[0].id).await;
    b.shot("admin-webhooks").await;
    b.fit(1024, 768).await;
    b.find("#webhook-detail button[data-act=\"redeliver\"]")
        .await;
    b.shot("admin-webhooks").await;
    b.fit(1440, 900).await;

    // Delivered again: the same event, the same webhook-id.
    b.click("#webhook-detail button[data-act=\"redeliver\"]")
        .await;
    let again = received(&receiver, 2).await;
    assert_eq!(again[1].id, got[0].id);
    b.wait_text("#toast", "delivered again").await;

    // A rotation: an overlap out of bounds is refused beside its field.
    b.click("#webhook-detail button[data-act=\"rotate\"]").await;
    retype(&b, "#f-overlap_secs", "100000").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#dialog [data-error-for=\"overlap_secs\"]", "86400")
        .await;
    retype(&b, "#f-overlap_secs", "0").await;
    b.click("#dialog button[type=submit]").await;
    let rotated = secret_shown(&b).await;
    assert_ne!(rotated, secret);
    b.click("#webhook-detail button[data-act=\"test\"]").await;
    let third = received(&receiver, 3).await;
    assert!(third[2].signed_by(&rotated), "signed with the new secret");
    assert!(
        !third[2].signed_by(&secret),
        "the old secret had no overlap"
    );

    // Edited, then deleted.
    b.click("#webhook-detail button[data-act=\"edit\"]").await;
    retype(&b, "#f-description", "CRM 正式").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#page table", "CRM 正式").await;
    b.click("#webhook-detail button[data-act=\"delete\"]").await;
    b.click("#dialog button[type=submit]").await;
    b.wait_text("#page .list-area", "No endpoints yet").await;
    let left = app.get("/api/v1/webhooks", &admin).await;
    assert_eq!(left.body, serde_json::json!([]), "{:?}", left.body);
    b.close().await;
}
