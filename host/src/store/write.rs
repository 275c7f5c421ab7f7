//! Writing on SQLite and PostgreSQL alike.
//!
//! SQLite allows one writer at a time. A writer that finds the lock taken sleeps in
//! SQLite's busy handler and retries (1 ms, 2 ms, 5 ms … up to 100 ms between tries,
//! in no order), and everything queued behind it waits as long: under load, that is
//! where latency goes. So every write of this process on SQLite takes its turn here
//! first, and the lock passes from one writer to the next at once, first come first
//! served. On PostgreSQL writers lock only the rows they touch, and nothing waits
//! here.

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, Statement,
    TransactionTrait, Value,
};

/// Writers of this process on SQLite, in turn.
static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Held for the life of a write transaction on SQLite; nothing on PostgreSQL.
#[derive(Debug)]
pub struct Writer(#[allow(dead_code)] Option<tokio::sync::MutexGuard<'static, ()>>);

/// Starts a transaction that writes. SQLite gives a deferred transaction the write
/// lock only at its first write, and fails it if another writer committed since its
/// first read; taking the lock first makes the transaction's reads current and its
/// writes certain. PostgreSQL locks the rows it touches instead. Keep the `Writer`
/// until the transaction is over.
pub async fn begin_write(db: &DatabaseConnection) -> Result<(DatabaseTransaction, Writer), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok((db.begin().await?, Writer(None)));
    }
    let turn = SQLITE_WRITER.lock().await;
    let txn = db.begin().await?;
    txn.execute_unprepared("UPDATE agent_presence SET event_seq = event_seq WHERE 1 = 0")
        .await?;
    Ok((txn, Writer(Some(turn))))
}

/// A statement written with `?` placeholders, numbered for PostgreSQL.
pub(crate) fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        Statement::from_sql_and_values(backend, out, values)
    } else {
        Statement::from_sql_and_values(backend, sql, values)
    }
}

/// Runs a write outside any transaction (one statement, or a few that need none
/// together) in its turn: `f` gets the connection to write with.
pub async fn write<'a, F, Fut, T, E>(db: &'a DatabaseConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&'a DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let _turn = if db.get_database_backend() == DatabaseBackend::Sqlite {
        Some(SQLITE_WRITER.lock().await)
    } else {
        None
    };
    f(db).await
}
