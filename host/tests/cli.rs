//! The `kefu` binary as a user runs it: `migrate`, `admin create`, and `serve --demo`
//! followed by a login and a graceful SIGTERM shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Shared with the API suite; this binary uses only part of it.
#[allow(dead_code)]
#[path = "../../tests/support/db.rs"]
mod db;
#[allow(dead_code)]
mod server;

use std::io::Write;
use std::process::{Command, Stdio};

use server::{KEFU, Server, kefu};

#[tokio::test]
async fn migrate_then_admin_create_then_login() {
    let database = db::fresh_database().await;
    let out = kefu(&database).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));

    // Password on standard input.
    let mut child = kefu(&database)
        .args([
            "admin",
            "create",
            "--tenant",
            "acme",
            "--email",
            "Boss@Acme.test",
            "--name",
            "Boss",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("created tenant acme"), "{stdout}");
    assert!(stdout.contains("created admin boss@acme.test"), "{stdout}");

    // Password from the environment; a duplicate is refused with a clear message.
    let refused =
        refused_admin_create(&database, "acme", "boss@acme.test", "another long password");
    assert!(refused.contains("e-mail"), "{refused}");
    let refused = refused_admin_create(&database, "Bad Slug", "x@y.test", "another long password");
    assert!(refused.contains("--tenant"), "{refused}");
    let refused = refused_admin_create(&database, "acme", "weak@acme.test", "short");
    assert!(
        refused.contains("password: must be at least 8 characters"),
        "{refused}"
    );

    let mut server = Server::start(&database, &[]);
    let reply = server
        .login("acme", "boss@acme.test", "a long enough password")
        .await;
    assert_eq!(reply.status(), 200);
    server.stop();
}

#[tokio::test]
async fn serve_demo_seeds_idempotently_and_stops_on_sigterm() {
    let database = db::fresh_database().await;
    let mut server = Server::start(&database, &[("KEFU_DEMO_PASSWORD", "demo password 1")]);
    assert!(
        server.banner.contains("admin@demo.kefu"),
        "{}",
        server.banner
    );
    // The banner names the workbench, which the binary serves.
    let workbench = format!("{}/workbench", server.base);
    assert!(server.banner.contains(&workbench), "{}", server.banner);
    let page = reqwest::get(&workbench).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("/workbench/app.js") && page.contains("/shared/login.js"),
        "the page loads the workbench and its sign-in: {page}"
    );
    let reply = server
        .login("demo", "admin@demo.kefu", "demo password 1")
        .await;
    assert_eq!(reply.status(), 200);
    let token = access_token(reply).await;
    assert_eq!(server.get(&token, "/api/v1/agents").await["total"], 4);
    assert_eq!(server.get(&token, "/api/v1/skill-groups").await["total"], 2);
    // The demo flow is published: welcome → service time → menu → bot → transfer →
    // survey, on the built-in modules, transferring to the pre-sales group.
    let flows = server.get(&token, "/api/v1/flows").await;
    assert_eq!(flows["total"], 1, "{flows}");
    let flow = &flows["items"][0];
    assert_eq!(flow["live_revision"], 1, "{}", server.banner);
    let id = flow["id"].as_str().unwrap();
    let revision = server
        .get(&token, &format!("/api/v1/flows/{id}/revisions/1"))
        .await;
    let modules: Vec<&str> = revision["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["module"].as_str().unwrap())
        .collect();
    for module in [
        "send-message",
        "service-time",
        "branch",
        "text-bot",
        "transfer",
        "survey",
        "end",
    ] {
        assert!(
            modules.contains(&module),
            "{module} missing from {modules:?}"
        );
    }
    let groups = server.get(&token, "/api/v1/skill-groups").await;
    let presales = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"].as_str().unwrap().starts_with("售前"))
        .unwrap()["id"]
        .clone();
    let transfer = revision["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["module"] == "transfer")
        .unwrap();
    assert_eq!(transfer["config"]["skill_group_id"], presales);
    server.stop();

    // A second start seeds nothing new; a changed KEFU_DEMO_PASSWORD takes effect.
    let mut server = Server::start(&database, &[("KEFU_DEMO_PASSWORD", "demo password 2")]);
    assert_eq!(
        server
            .login("demo", "agent3@demo.kefu", "demo password 1")
            .await
            .status(),
        401
    );
    let reply = server
        .login("demo", "agent3@demo.kefu", "demo password 2")
        .await;
    assert_eq!(reply.status(), 200);
    let token = access_token(reply).await;
    let me = server.get(&token, "/api/v1/me").await;
    assert_eq!(me["skill_groups"].as_array().unwrap().len(), 1);
    let admin = access_token(
        server
            .login("demo", "admin@demo.kefu", "demo password 2")
            .await,
    )
    .await;
    let flows = server.get(&admin, "/api/v1/flows").await;
    assert_eq!(flows["total"], 1, "the demo flow is seeded once");
    assert_eq!(flows["items"][0]["live_revision"], 1);
    server.stop();

    // Without KEFU_DEMO_PASSWORD the existing accounts keep theirs.
    let mut server = Server::start(&database, &[]);
    assert!(server.banner.contains("unchanged"), "{}", server.banner);
    assert_eq!(
        server
            .login("demo", "admin@demo.kefu", "demo password 2")
            .await
            .status(),
        200
    );
    server.stop();
}

#[tokio::test]
async fn a_generated_demo_password_is_printed_and_works() {
    let database = db::fresh_database().await;
    let mut server = Server::start(&database, &[]);
    let password = server
        .banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("Password"))
        .map(|p| p.trim().to_owned())
        .expect("a password line");
    assert!(password.len() >= 12, "{password}");
    assert_eq!(
        server
            .login("demo", "agent1@demo.kefu", &password)
            .await
            .status(),
        200
    );
    server.stop();
}

#[test]
fn bad_configuration_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kefu.toml"), "listen = 'nowhere'\n").unwrap();
    let out = Command::new(KEFU)
        .arg("migrate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("listen"), "{stderr}");

    let out = Command::new(KEFU)
        .args(["--config", "missing.toml", "migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

/// Runs `kefu admin create` with the password in the environment, expects it to fail,
/// and returns what it said.
fn refused_admin_create(
    database: &db::TestDatabase,
    tenant: &str,
    email: &str,
    password: &str,
) -> String {
    let out = kefu(database)
        .args(["admin", "create", "--tenant", tenant, "--email", email])
        .env("KEFU_ADMIN_PASSWORD", password)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "admin create {tenant} {email} succeeded"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn access_token(reply: reqwest::Response) -> String {
    let body: serde_json::Value = reply.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}
