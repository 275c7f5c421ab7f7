//! The agent workbench and the web chat in a real browser: headless Chromium driven through
//! chromedriver against the real server, as agents use it — at 375 px (a phone) and
//! 1440 px (a desk). Screenshots of the main screens go to `target/screenshots/`
//! (`KEFU_SCREENSHOT_DIR`). Without Chromium the tests warn loudly and skip, unless
//! `KEFU_REQUIRE_BROWSER=1`.

// Tests fail loudly, which is what they are for.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod admin_flows;
mod admin_people;
mod admin_reports;
mod admin_setup;
mod admin_support;
mod admin_webhooks;
mod cases;
mod chat;
mod driver;
mod story;
mod support;
