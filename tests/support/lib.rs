//! Helpers for kefu's integration tests: boot the real server on an ephemeral port
//! against a fresh database, then talk HTTP to it.

// Test helpers fail the test loudly, which is what they are for.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::field_reassign_with_default
)]

// Not `agents`: that name is taken here by `kefu::store::agents`.
#[path = "agents.rs"]
pub mod agent_desk;
#[path = "db.rs"]
pub mod db;
pub mod fake_im;
#[path = "modules.rs"]
pub mod modules;
pub mod receiver;
pub mod webchat;

use std::net::SocketAddr;

use kefu::app::Application;
use kefu::auth::password;
use kefu::config::Config;
use kefu::directory::{NewAgent, Role};
use kefu::store::{TenantId, agents, tenants};
use reqwest::{Method, StatusCode};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use db::fresh_database;

/// The password every account made by these helpers has.
pub const PASSWORD: &str = "correct horse battery";

/// A running kefu server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub config: Config,
    pub database: db::TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Boots kefu with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Boots two servers on one fresh database, as two nodes of one deployment: on
/// PostgreSQL only (`None` on SQLite, where two servers on one file is not a supported
/// deployment).
pub async fn spawn_two_nodes() -> Option<(TestApp, TestApp)> {
    let a = spawn_app().await;
    if !a.database.postgres {
        return None;
    }
    let b = a.sibling().await;
    Some((a, b))
}

/// Boots kefu after `configure` has adjusted the configuration.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let database = fresh_database().await;
    let mut config = Config::default();
    config.listen = "127.0.0.1:0".parse().expect("address");
    config.database_url = Some(database.url.clone());
    config.data_dir = database.dir.path().to_path_buf();
    config.database.max_connections = 8;
    // Many test servers share one process: keep each one's instance pool small.
    config.plugins.max_instances = 32;
    config.auth.jwt_secret = Some(format!("test-secret-{}", uuid::Uuid::new_v4().simple()));
    // The fake IM servers and webhook receivers of the tests listen on loopback.
    config.outbound.allow_private_addresses = true;
    configure(&mut config);
    // `KEFU_TEST_LOG=1` shows the servers' logs (`RUST_LOG` filters them).
    if std::env::var_os("KEFU_TEST_LOG").is_some() {
        kefu::telemetry::init(&config.log);
    }
    boot(config, database).await
}

async fn boot(config: Config, database: db::TestDatabase) -> TestApp {
    let app = Application::build(config.clone())
        .await
        .expect("building kefu");
    let addr = app.local_addr().expect("bound address");
    let db = app.state().db.clone();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        db,
        config,
        database,
        shutdown: Some(tx),
        server: Some(server),
    }
}

/// A JSON response: status and parsed body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The stable error code of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.body["error"]["fields"][name].as_str()
    }
}

/// A tenant made for a test, with its first admin.
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub admin_email: String,
    pub admin_id: uuid::Uuid,
}

impl TestApp {
    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> db::TestDatabase {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        kefu::store::write::close(&self.db).await;
        self.db.clone().close().await.ok();
        std::mem::replace(
            &mut self.database,
            db::TestDatabase {
                url: String::new(),
                dir: tempfile::tempdir().expect("tmp"),
                postgres: false,
            },
        )
    }

    /// Starts a second server on the same database and configuration, as after a restart.
    pub async fn restart(self) -> TestApp {
        let config = self.config.clone();
        let database = self.stop().await;
        boot(config, database).await
    }

    /// Boots a second server on the same database and configuration, as a second
    /// node of one deployment. The database stays the first one's to clean up.
    pub async fn sibling(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().expect("address");
        config.data_dir = dir.path().to_path_buf();
        let database = db::TestDatabase {
            url: self.database.url.clone(),
            dir,
            postgres: self.database.postgres,
        };
        boot(config, database).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional JSON body and bearer token.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        Self::reply(resp).await
    }

    pub async fn reply(resp: reqwest::Response) -> Reply {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "non-JSON body for {status}: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Creates a tenant and its first admin directly in the store.
    pub async fn tenant(&self, slug: &str) -> Tenant {
        let (t, _) = tenants::ensure(&self.db, slug, slug, "Asia/Shanghai")
            .await
            .expect("tenant");
        let email = format!("admin@{slug}.test");
        let admin = self.account(t.id, &email, Role::Admin).await;
        Tenant {
            id: t.id,
            slug: slug.to_owned(),
            admin_email: email,
            admin_id: admin,
        }
    }

    /// Creates an account directly in the store.
    pub async fn account(&self, tenant: TenantId, email: &str, role: Role) -> uuid::Uuid {
        let new = NewAgent {
            email: email.to_owned(),
            name: email.split('@').next().unwrap_or("x").to_owned(),
            nickname: None,
            phone: None,
            staff_no: None,
            role,
            max_concurrent_sessions: 3,
            password: PASSWORD.to_owned(),
            skill_groups: vec![],
        };
        let hash = password::hash(PASSWORD).expect("hash");
        agents::create(&self.db, tenant, new, hash)
            .await
            .expect("account")
            .id
    }

    /// Logs in and returns the whole token reply.
    pub async fn login(&self, tenant: &str, email: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"tenant": tenant, "email": email, "password": password})),
        )
        .await
    }

    /// Logs in as the tenant's admin and returns the access token.
    pub async fn admin_token(&self, tenant: &Tenant) -> String {
        self.token(&tenant.slug, &tenant.admin_email).await
    }

    /// Logs in and returns the access token, failing the test otherwise.
    pub async fn token(&self, tenant: &str, email: &str) -> String {
        let reply = self.login(tenant, email, PASSWORD).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "login failed: {:?}",
            reply.body
        );
        reply.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Paths of the guest components in `tests/fixtures/`, built by `build.rs`.
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}
