//! Writing on SQLite and PostgreSQL alike.
//!
//! SQLite allows one writer at a time. A writer that finds the lock taken sleeps in
//! SQLite's busy handler and retries (1 ms, 2 ms, 5 ms … up to 100 ms between tries,
//! in no order), and everything queued behind it waits as long: under load, that is
//! where latency goes. So every write of this process on SQLite takes its turn here
//! first, and the lock passes from one writer to the next at once, first come first
//! served. The writes of a file all go through one connection kept for them, and the
//! write-ahead log is copied back by a background task rather than inside a commit.
//! On PostgreSQL writers lock only the rows they touch, and nothing waits here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, SqlxSqliteConnector, Statement, TransactionOptions, TransactionTrait,
    Value,
};

/// One SQLite database file as this process writes it: writers take turns on `turn`,
/// and write through `conn`, a connection of their own. SQLite throws away a
/// connection's page cache whenever another connection has written; with every write
/// on one connection, its cache stays warm from one write to the next, and the pool's
/// connections are left to readers.
struct File {
    turn: Arc<tokio::sync::Mutex<()>>,
    conn: tokio::sync::OnceCell<DatabaseConnection>,
}

/// The files this process writes, by path.
static FILES: std::sync::Mutex<Option<HashMap<PathBuf, Arc<File>>>> = std::sync::Mutex::new(None);

/// The file `db` is open on; `None` on PostgreSQL and for in-memory SQLite (where
/// every connection is a database of its own, so writes stay on the pool's).
fn file_of(db: &DatabaseConnection) -> Option<Arc<File>> {
    let path = path_of(db)?;
    let mut files = FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let file = files
        .get_or_insert_with(HashMap::new)
        .entry(path)
        .or_insert_with(|| {
            Arc::new(File {
                turn: Arc::new(tokio::sync::Mutex::new(())),
                conn: tokio::sync::OnceCell::new(),
            })
        })
        .clone();
    Some(file)
}

/// The path of the SQLite file `db` is open on; `None` on PostgreSQL and for
/// in-memory SQLite.
fn path_of(db: &DatabaseConnection) -> Option<PathBuf> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
        return None;
    }
    Some(path.to_path_buf())
}

/// The writing connection of `file`, opened with the pool's settings on first use.
async fn writer_conn<'f>(
    db: &DatabaseConnection,
    file: &'f File,
) -> Result<&'f DatabaseConnection, DbErr> {
    file.conn
        .get_or_try_init(|| async {
            let options = (*db.get_sqlite_connection_pool().connect_options()).clone();
            // Its cache holds the pages writes touch (the queue, presence, the newest
            // sessions and messages): 32 MiB rather than SQLite's 2 MiB.
            let options = options.pragma("cache_size", "-32768");
            // `checkpoint_forever` copies the log back into the database outside the
            // turn; this is only the backstop, should it fall behind.
            let options = options.pragma("wal_autocheckpoint", "16384");
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(std::time::Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
            Ok(super::observed(SqlxSqliteConnector::from_sqlx_sqlite_pool(
                pool,
            )))
        })
        .await
}

/// How often the write-ahead log is copied back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Copies SQLite's write-ahead log back into the database file every second, from a
/// connection of the pool. Left to the writer, that copy (and its fsync) happens
/// inside a commit every thousand pages, and every writer queued behind it waits; a
/// passive checkpoint takes no lock from writers. Does nothing on PostgreSQL.
pub async fn checkpoint_forever(db: DatabaseConnection) {
    if path_of(&db).is_none() {
        return;
    }
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = db
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            tracing::warn!(error = %e, "checkpointing the SQLite log failed");
        }
    }
}

/// Closes the writing connection of `db`'s file, when it has one: call it when
/// closing the database.
pub async fn close(db: &DatabaseConnection) {
    let Some(path) = path_of(db) else {
        return;
    };
    let file = FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_mut()
        .and_then(|files| files.remove(&path));
    if let Some(conn) = file
        .and_then(Arc::into_inner)
        .and_then(|f| f.conn.into_inner())
    {
        conn.close().await.ok();
    }
}

/// Held for the life of a write transaction on SQLite; nothing on PostgreSQL.
#[derive(Debug)]
pub struct Writer(#[allow(dead_code)] Option<tokio::sync::OwnedMutexGuard<()>>);

/// Starts a transaction that writes. On SQLite it waits for its turn, then begins on
/// the file's writing connection with `BEGIN IMMEDIATE`: a deferred transaction gets
/// the write lock only at its first write, and fails if another writer committed
/// since its first read; taking the lock first makes the transaction's reads current
/// and its writes certain. PostgreSQL locks the rows it touches instead. Keep the
/// `Writer` until the transaction is over.
pub async fn begin_write(db: &DatabaseConnection) -> Result<(DatabaseTransaction, Writer), DbErr> {
    let Some(file) = file_of(db) else {
        return Ok((db.begin().await?, Writer(None)));
    };
    let turn = file.turn.clone().lock_owned().await;
    let txn = writer_conn(db, &file)
        .await?
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
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
/// together) in its turn: `f` gets the connection to write with (on SQLite, the
/// file's writing connection).
pub async fn write<F, Fut, T, E>(db: &DatabaseConnection, f: F) -> Result<T, E>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: From<DbErr>,
{
    let Some(file) = file_of(db) else {
        return f(db.clone()).await;
    };
    let _turn = file.turn.lock().await;
    let conn = writer_conn(db, &file).await?.clone();
    f(conn).await
}
