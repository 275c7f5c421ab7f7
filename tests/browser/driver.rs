//! Headless Chromium driven through chromedriver (WebDriver), as a person would use
//! the page: find, click, type, wait for what appears, take screenshots.
//!
//! Each `Browser` is its own chromedriver and Chromium with a fresh profile, so two
//! of them are two agents on two devices. Without Chromium or chromedriver the tests
//! say so loudly and skip, unless `KEFU_REQUIRE_BROWSER=1` (CI) makes that a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long to wait for something the page does.
pub const WAIT: Duration = Duration::from_secs(15);

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// Chromium and chromedriver, or `None` (after a loud warning) when either is
/// missing and the run does not require them.
pub fn programs() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_program(
        "KEFU_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let driver = find_program("KEFU_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        (c, d) => {
            let missing = [
                c.is_none().then_some("chromium"),
                d.is_none().then_some("chromedriver"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ");
            if std::env::var("KEFU_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!(
                    "KEFU_REQUIRE_BROWSER=1 but {missing} is not installed (apt-get install chromium chromium-driver fonts-noto-cjk)"
                );
            }
            eprintln!(
                "\n{bar}\n!! BROWSER TESTS SKIPPED: {missing} not found.\n!! The workbench was NOT tested in a browser. Install them with\n!!   apt-get install chromium chromium-driver fonts-noto-cjk\n!! or set KEFU_REQUIRE_BROWSER=1 to make this a failure.\n{bar}\n",
                bar = "!".repeat(72)
            );
            None
        }
    }
}

/// Where screenshots go: `KEFU_SCREENSHOT_DIR`, or `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("KEFU_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
                .join("screenshots")
        })
}

pub struct Browser {
    pub client: Client,
    pub width: u32,
    chromium: Child,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// A fresh Chromium showing a `width` × `height` viewport, or `None` when the
    /// browser is not installed (see [`programs`]). The test starts Chromium itself
    /// and has chromedriver attach to it, so that dropping the browser ends every
    /// process it started, whatever happened to the test.
    pub async fn launch(width: u32, height: u32) -> Option<Browser> {
        let (chromium_bin, chromedriver) = programs()?;
        let profile = tempfile::tempdir().expect("a profile directory");
        let chromium = Command::new(&chromium_bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--autoplay-policy=no-user-gesture-required",
                "--remote-debugging-port=0",
                "--lang=en-US",
                "--accept-lang=en-US,en",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},{height}"))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it took into the profile.
        let active = profile.path().join("DevToolsActivePort");
        let mut debug_port = None;
        for _ in 0..200 {
            if let Some(p) = std::fs::read_to_string(&active)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u16>().ok()))
            {
                debug_port = Some(p);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let debug_port = debug_port.expect("chromium opened its debugging port");
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"debuggerAddress": format!("127.0.0.1:{debug_port}")}
        });
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let mut b = Browser {
                        client,
                        width,
                        chromium,
                        driver,
                        _profile: profile,
                    };
                    b.fit(width, height).await;
                    return Some(b);
                }
                Err(e) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("chromedriver did not attach to chromium: {last:?}");
    }

    /// Makes the viewport (not the window) `width` × `height`.
    pub async fn fit(&mut self, width: u32, height: u32) {
        self.width = width;
        self.client.set_window_size(width, height).await.ok();
        let inner = self.js("return [innerWidth, innerHeight]").await;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(0) as u32,
            inner[1].as_u64().unwrap_or(0) as u32,
        );
        if w != width || h != height {
            self.client
                .set_window_size(
                    width + (width - w.min(width)),
                    height + (height - h.min(height)),
                )
                .await
                .ok();
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {script}: {e}"))
    }

    pub async fn js_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {script}: {e}"))
    }

    /// Waits until `css` matches a displayed element.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(found) = self.client.find_all(Locator::Css(css)).await {
                for e in found {
                    if e.is_displayed().await.unwrap_or(false) {
                        return e;
                    }
                }
            }
            if tokio::time::Instant::now() > deadline {
                self.shot(&format!("failed-{}", sanitize(css))).await;
                panic!("waited {WAIT:?} for a visible `{css}`");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the first visible `css`; a list redrawn between finding and clicking
    /// (a stale element) is looked up again.
    pub async fn click(&self, css: &str) {
        self.until(&format!("a click on `{css}`"), async || {
            self.find(css)
                .await
                .click()
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    pub async fn type_in(&self, css: &str, text: &str) {
        self.until(&format!("typing into `{css}`"), async || {
            self.find(css)
                .await
                .send_keys(text)
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// Waits until the text of the first visible `css` contains `want`; answers it.
    pub async fn wait_text(&self, css: &str, want: &str) -> String {
        self.until(&format!("`{css}` to read `{want}`"), async || {
            let e = self.find(css).await;
            let text = e.text().await.unwrap_or_default();
            if text.contains(want) {
                Ok(text)
            } else {
                Err(text)
            }
        })
        .await
    }

    /// Polls `probe` until it answers `Ok`; fails with its last `Err` after [`WAIT`].
    pub async fn until<T>(
        &self,
        what: &str,
        mut probe: impl AsyncFnMut() -> Result<T, String>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match probe().await {
                Ok(v) => return v,
                Err(last) if tokio::time::Instant::now() > deadline => {
                    self.shot(&format!("failed-{}", sanitize(what))).await;
                    panic!("waited {WAIT:?} for {what}; last seen: {last}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Waits until `script` (an expression) is truthy.
    pub async fn until_js(&self, what: &str, script: &str) -> Value {
        let body = format!("return ({script});");
        self.until(what, async || {
            let v = self.js(&body).await;
            match &v {
                Value::Null | Value::Bool(false) => Err(v.to_string()),
                Value::String(s) if s.is_empty() => Err(v.to_string()),
                _ => Ok(v),
            }
        })
        .await
    }

    /// Saves a screenshot as `<width>-<name>.png` where CI keeps them.
    pub async fn shot(&self, name: &str) {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).ok();
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(dir.join(format!("{}-{name}.png", self.width)), png).ok();
        }
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        for child in [&mut self.chromium, &mut self.driver] {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(60)
        .collect()
}
