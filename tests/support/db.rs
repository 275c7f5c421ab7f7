//! A fresh, empty database for each test: a SQLite file in a temporary directory, or,
//! when `KEFU_TEST_DATABASE_URL` names a PostgreSQL server (any database on it that
//! the user may connect to), a newly created database on that server.

use sea_orm::{ConnectionTrait, Database};

/// The environment variable that switches the suite to PostgreSQL.
pub const PG_ENV: &str = "KEFU_TEST_DATABASE_URL";

/// A database URL for one test, and what keeps it alive.
pub struct TestDatabase {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub postgres: bool,
}

pub async fn fresh_database() -> TestDatabase {
    let dir = tempfile::tempdir().expect("temporary directory");
    match std::env::var(PG_ENV) {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("kefu_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(admin_url.as_str())
                .await
                .expect("connecting to the PostgreSQL test server");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("creating a test database");
            admin.close().await.ok();
            TestDatabase {
                url: replace_database(&admin_url, &name),
                dir,
                postgres: true,
            }
        }
        _ => {
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display());
            TestDatabase {
                url,
                dir,
                postgres: false,
            }
        }
    }
}

/// `postgres://u:p@h:5432/postgres?x=y` with its database replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}
