//! The pages kefu serves from its binary: the workbench at `/workbench`, its assets
//! under a versioned address cached for a year, revalidated by ETag, gzipped, under a
//! Content-Security-Policy that allows nothing from elsewhere and no inline script.

use kefu_tests::spawn_app;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH,
};

#[tokio::test]
async fn the_workbench_is_served_with_cacheable_compressed_assets_and_a_strict_policy() {
    let app = spawn_app().await;
    // reqwest here has no gzip support: bodies arrive as sent.
    let get = |path: &str| app.client.get(app.url(path));

    let page = get("/workbench").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers().clone();
    assert_eq!(h[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(h[CACHE_CONTROL], "no-cache");
    let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("http"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("{{ASSETS}}"),
        "asset addresses are filled in"
    );
    assert!(!html.contains("<script>"), "no inline script");
    let start = html.find("/assets/").expect("an asset address");
    let version: String = html[start + 8..]
        .chars()
        .take_while(|c| *c != '/')
        .collect();
    assert_eq!(version.len(), 16, "{version}");
    let app_js = format!("/assets/{version}/workbench/app.js");
    assert!(html.contains(&format!("src=\"{app_js}\"")), "{html}");

    // An asset of the current version: cached for a year, gzipped when asked.
    let plain = get(&app_js).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        plain.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        plain.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let etag = plain.headers()[ETAG].clone();
    let size = plain.bytes().await.unwrap().len();
    let zipped = get(&app_js)
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(zipped.headers()[ETAG], etag);
    let zsize = zipped.bytes().await.unwrap().len();
    assert!(zsize * 2 < size, "{zsize} of {size} bytes");
    let again = get(&app_js)
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
    // A page of another version gets today's file, not to be kept.
    let old = get("/assets/0000000000000000/workbench/app.js")
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::OK);
    assert_eq!(old.headers()[CACHE_CONTROL], "no-cache");
    // Only the page's own files.
    for path in [
        format!("/assets/{version}/../Cargo.toml"),
        format!("/assets/{version}/workbench/%2e%2e/%2e%2e/mod.rs"),
        format!("/assets/{version}/nothing.js"),
        format!("/assets/{version}/workbench//app.js"),
    ] {
        let r = get(&path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let same = get("/workbench")
        .header(IF_NONE_MATCH, h[ETAG].clone())
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn the_admin_console_is_served_like_the_workbench() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    let start = html.find("/assets/").expect("an asset address");
    let version: String = html[start + 8..]
        .chars()
        .take_while(|c| *c != '/')
        .collect();
    // Every module the console loads, also those it loads when a page is opened.
    for file in [
        "admin/app.js",
        "admin/agents.js",
        "admin/groups.js",
        "admin/settings.js",
        "admin/channels.js",
        "admin/modules.js",
        "admin/flows.js",
        "admin/editor.js",
        "admin/canvas.js",
        "admin/schema-form.js",
        "admin/revisions.js",
        "admin/try.js",
        "admin/records.js",
        "admin/analytics.js",
        "admin/live.js",
        "admin/webhooks.js",
        "admin/editor.css",
        "shared/login.js",
    ] {
        let asset = app
            .client
            .get(app.url(&format!("/assets/{version}/{file}")))
            .header(ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), StatusCode::OK, "{file}");
        assert_eq!(asset.headers()[CONTENT_ENCODING], "gzip", "{file}");
    }
    let trailing = app.client.get(app.url("/admin/")).send().await.unwrap();
    assert_eq!(trailing.url().path(), "/admin");
}
