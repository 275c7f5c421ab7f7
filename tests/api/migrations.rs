use kefu_migrations::{Migrator, MigratorTrait};
use kefu_tests::fresh_database;
use sea_orm::{ConnectionTrait, Database};

async fn tables(db: &sea_orm::DatabaseConnection, postgres: bool) -> Vec<String> {
    let sql = if postgres {
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    };
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .filter(|n| n != "seaql_migrations")
        .collect()
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let database = fresh_database().await;
    let db = kefu::store::connect(&database.url, 2).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let all = tables(&db, database.postgres).await;
    for t in [
        "tenants",
        "agents",
        "skill_groups",
        "agent_skill_groups",
        "auth_sessions",
        "refresh_tokens",
        "server_secrets",
        "plugins",
        "plugin_blobs",
        "flows",
        "flow_revisions",
        "quick_replies",
        "session_notes",
        "session_reads",
    ] {
        assert!(all.contains(&t.to_owned()), "{t} missing from {all:?}");
    }
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(tables(&db, database.postgres).await, Vec::<String>::new());
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(tables(&db, database.postgres).await, all);
    // Up again is a no-op.
    Migrator::up(&db, None).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    db.close().await.unwrap();
    let _ = Database::connect(database.url.as_str()).await.unwrap();
}
