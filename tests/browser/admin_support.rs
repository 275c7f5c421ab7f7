//! What the console's tests share: signing in at `/admin` and opening a page.

use kefu_tests::{PASSWORD, TestApp};

use crate::driver::Browser;
use crate::support::fill_login;

/// Signs in on the console's form and waits for its first page.
pub async fn console(b: &Browser, app: &TestApp, tenant: &str, email: &str) {
    b.goto(&app.url("/admin")).await;
    b.find("#login-form").await;
    fill_login(b, tenant, email, PASSWORD).await;
    b.until_js(
        "the console to be ready",
        "document.body.dataset.ready === '1'",
    )
    .await;
}

/// Opens a page from the navigation (through the drawer when the screen is narrow).
pub async fn open_page(b: &Browser, page: &str) {
    let drawer = b
        .js("return getComputedStyle(document.getElementById('nav-toggle')).display !== 'none'")
        .await;
    if drawer.as_bool() == Some(true) {
        b.click("#nav-toggle").await;
    }
    b.click(&format!("#nav a[data-page=\"{page}\"]")).await;
    b.until_js(
        &format!("the {page} page"),
        &format!("document.getElementById('page').dataset.page === '{page}' && document.querySelector('#page .page-head')"),
    )
    .await;
}

/// Sets the value of a form control the way typing would (clearing it first).
pub async fn retype(b: &Browser, css: &str, text: &str) {
    b.find(css).await.clear().await.ok();
    b.type_in(css, text).await;
}
