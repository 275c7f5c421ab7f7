//! The `kefu` binary as the end-to-end tests run it: a command on a test database, and
//! `kefu serve --demo` on an ephemeral port with its banner read from standard output.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::db;

pub const KEFU: &str = env!("CARGO_BIN_EXE_kefu");

pub fn kefu(database: &db::TestDatabase) -> Command {
    let mut cmd = Command::new(KEFU);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KEFU_DATABASE_URL", &database.url)
        .env("KEFU_DATA_DIR", database.dir.path())
        .env("RUST_LOG", "warn")
        .current_dir(database.dir.path());
    cmd
}

/// `kefu serve --demo` on an ephemeral port, its banner read from standard output.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub banner: String,
}

impl Server {
    pub fn start(database: &db::TestDatabase, env: &[(&str, &str)]) -> Self {
        let mut cmd = kefu(database);
        cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let done = line.trim_start().starts_with("Log in:");
                banner.push_str(&line);
                banner.push('\n');
                if done {
                    let _ = tx.send(banner.clone());
                }
            }
        });
        let banner = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the demo banner");
        let base = banner
            .lines()
            .find_map(|l| l.trim().strip_prefix("API"))
            .map(|u| u.trim().trim_end_matches("/api/v1").to_owned())
            .expect("the API URL");
        Self {
            child,
            base,
            banner,
        }
    }

    pub async fn login(&self, tenant: &str, email: &str, password: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"tenant": tenant, "email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, token: &str, path: &str) -> serde_json::Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// SIGKILL: the process dies at once, in the middle of whatever it was doing.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the process must exit 0 promptly.
    pub fn stop(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "kefu exited with {status} after SIGTERM");
                return;
            }
            assert!(Instant::now() < deadline, "kefu did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
