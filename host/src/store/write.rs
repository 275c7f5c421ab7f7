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
//!
//! Write transactions that many requests make at once (a session's turn) can also
//! share their commit on SQLite: [`grouped`] hands the transaction's statements to
//! the file's committer, which runs every group waiting in one transaction, one
//! group after the other, and commits them together. A group that fails undoes the
//! shared transaction, and each group is then run again in a transaction of its
//! own, so a group's writes are all or nothing, whatever the others do, and its
//! caller hears back only once they are committed.
//!
//! A [`Batch`] sends several writes to the database in one call, on either database:
//! a turn's writes cost one hand-off to SQLite's driver thread, or one round trip to
//! PostgreSQL.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

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
    /// The committer's queue, once a grouped write started it.
    committer: std::sync::Mutex<Option<mpsc::UnboundedSender<Box<dyn Member>>>>,
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
                committer: std::sync::Mutex::new(None),
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

/// How often the write-ahead log is copied back into the database file. The copy
/// takes a core from the requests while it runs, for as long as the log grew since the
/// last one: at a busy second's worth of writes, long enough to show in the slowest
/// requests. In the ingress benchmark on SQLite, p99 at half the saturation rate was
/// about 40 ms with a checkpoint a second, about 23 ms with one every 250 ms (for 7 %
/// less at saturation), and 18–20 ms every 100 ms (for 12 % less: each checkpoint
/// ends with an fsync).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Copies SQLite's write-ahead log back into the database file every
/// [`CHECKPOINT_EVERY`], from a connection of the pool. Left to the writer, that copy
/// (and its fsync) would happen inside a commit, once the log reached the writing
/// connection's `wal_autocheckpoint` (see `writer_conn`), and every writer queued
/// behind it would wait; a passive checkpoint takes no lock from writers. Does nothing
/// on PostgreSQL.
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
pub struct Writer(Option<(tokio::sync::OwnedMutexGuard<()>, Instant)>);

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some((_, since)) = &self.0 {
            crate::metrics::sqlite_writer_busy(since.elapsed(), 0);
        }
    }
}

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
    let since = Instant::now();
    let txn = writer_conn(db, &file)
        .await?
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    Ok((txn, Writer(Some((turn, since)))))
}

/// The statements of one write transaction, which may run again (alone) when the
/// transaction it shared fails.
pub type Statements<T, E> =
    Box<dyn for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, Result<T, E>> + Send + Sync>;

/// Groups a committer runs in one transaction at most.
const MAX_GROUPS: usize = 16;

/// Runs `statements` in a write transaction and commits it: on SQLite together with
/// the other grouped writes waiting for the writer (see the module's header), on
/// PostgreSQL in a transaction of its own. An error of `statements` undoes its writes
/// and is the answer.
pub async fn grouped<T, E>(db: &DatabaseConnection, statements: Statements<T, E>) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbErr> + Send + 'static,
{
    let Some(file) = file_of(db) else {
        let txn = db.begin().await?;
        return match statements(&txn).await {
            Ok(v) => {
                txn.commit().await?;
                Ok(v)
            }
            Err(e) => {
                txn.rollback().await.ok();
                Err(e)
            }
        };
    };
    let conn = writer_conn(db, &file).await?.clone();
    let (answer, answered) = oneshot::channel();
    let mut member: Box<dyn Member> = Box::new(Group {
        statements,
        result: None,
        answer,
    });
    loop {
        let queue = {
            let mut committer = file
                .committer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            committer
                .get_or_insert_with(|| start_committer(conn.clone(), file.turn.clone()))
                .clone()
        };
        match queue.send(member) {
            Ok(()) => break,
            // Its runtime ended (a server stopped in this process): start another.
            Err(mpsc::error::SendError(back)) => {
                member = back;
                *file
                    .committer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            }
        }
    }
    answered
        .await
        .unwrap_or_else(|_| Err(DbErr::Custom("the grouped write was dropped".into()).into()))
}

/// A grouped write as its committer sees it, whatever it answers.
trait Member: Send {
    /// Runs the statements in `txn`; `false` when they failed (their error is kept).
    fn run<'a>(&'a mut self, txn: &'a DatabaseTransaction) -> BoxFuture<'a, bool>;
    /// The shared commit failed with `error`.
    fn fail(&mut self, error: DbErr);
    /// Answers the caller with what the last run (and its commit) gave.
    fn answer(self: Box<Self>);
}

struct Group<T, E> {
    statements: Statements<T, E>,
    result: Option<Result<T, E>>,
    answer: oneshot::Sender<Result<T, E>>,
}

impl<T: Send + 'static, E: From<DbErr> + Send + 'static> Member for Group<T, E> {
    fn run<'a>(&'a mut self, txn: &'a DatabaseTransaction) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let result = (self.statements)(txn).await;
            let ok = result.is_ok();
            self.result = Some(result);
            ok
        })
    }

    fn fail(&mut self, error: DbErr) {
        self.result = Some(Err(error.into()));
    }

    fn answer(self: Box<Self>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(DbErr::Custom("the grouped write never ran".into()).into()));
        // The caller may have gone: its write stands all the same.
        self.answer.send(result).ok();
    }
}

/// Starts the task that runs a file's grouped writes, in turn with its other writes.
fn start_committer(
    conn: DatabaseConnection,
    turn: Arc<tokio::sync::Mutex<()>>,
) -> mpsc::UnboundedSender<Box<dyn Member>> {
    let (queue, mut waiting) = mpsc::unbounded_channel::<Box<dyn Member>>();
    tokio::spawn(async move {
        while let Some(first) = waiting.recv().await {
            let _turn = turn.lock().await;
            let since = Instant::now();
            // What came while waiting for the turn goes in the same commit.
            let mut members = vec![first];
            while members.len() < MAX_GROUPS
                && let Ok(m) = waiting.try_recv()
            {
                members.push(m);
            }
            commit_together(&conn, &mut members).await;
            crate::metrics::sqlite_writer_busy(since.elapsed(), members.len());
            for m in members {
                m.answer();
            }
        }
    });
    queue
}

fn begin_immediate(conn: &DatabaseConnection) -> BoxFuture<'_, Result<DatabaseTransaction, DbErr>> {
    Box::pin(conn.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    }))
}

/// Runs `members` in one transaction; when one of them fails, each alone.
async fn commit_together(conn: &DatabaseConnection, members: &mut [Box<dyn Member>]) {
    if members.len() > 1 {
        match begin_immediate(conn).await {
            Ok(txn) => {
                let mut all = true;
                for m in members.iter_mut() {
                    if !m.run(&txn).await {
                        all = false;
                        break;
                    }
                }
                if all {
                    if let Err(e) = txn.commit().await {
                        for m in members.iter_mut() {
                            m.fail(clone_err(&e));
                        }
                    }
                    return;
                }
                txn.rollback().await.ok();
            }
            Err(e) => {
                for m in members.iter_mut() {
                    m.fail(clone_err(&e));
                }
                return;
            }
        }
    }
    for m in members.iter_mut() {
        match begin_immediate(conn).await {
            Ok(txn) => {
                if m.run(&txn).await {
                    if let Err(e) = txn.commit().await {
                        m.fail(e);
                    }
                } else {
                    txn.rollback().await.ok();
                }
            }
            Err(e) => m.fail(e),
        }
    }
}

/// `DbErr` is not `Clone`: the same failure, told to each member.
fn clone_err(e: &DbErr) -> DbErr {
    DbErr::Custom(e.to_string())
}

/// Writes to run in the caller's transaction, sent to the database in one call.
///
/// - On SQLite they go as one text, which the driver's thread prepares statement by
///   statement, binding each one's values after the previous one's: every call is a
///   hand-off to that thread and back, so a turn's writes cost one hand-off, not six.
/// - On PostgreSQL, whose extended protocol takes one statement per query, each becomes
///   a data-modifying `WITH` query of one statement: one round trip to the server. They
///   then all see the database as it was before the batch, so a batch must not hold
///   two writes of one row, nor a write that needs to read another's.
///
/// A statement added with [`Batch::push_returning`] tells how many rows it wrote (an
/// `UPDATE` that matched, an `INSERT … ON CONFLICT DO NOTHING` that inserted): the
/// batch gives it a `RETURNING` clause naming its place, and [`Batch::run`] counts
/// the rows by place. A statement that fails fails the batch, and the caller's
/// transaction must be undone (on SQLite, the statements before it have run).
pub(crate) struct Batch {
    backend: DatabaseBackend,
    statements: Vec<(Statement, bool)>,
}

impl Batch {
    pub(crate) fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            statements: Vec::new(),
        }
    }

    pub(crate) fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// Adds a statement whose rows written nobody needs.
    pub(crate) fn push(&mut self, statement: Statement) {
        self.statements.push((statement, false));
    }

    /// Adds an `INSERT`, `UPDATE` or `DELETE` without a `RETURNING` clause, and
    /// answers its place, under which [`Batch::run`] tells the rows it wrote.
    pub(crate) fn push_returning(&mut self, mut statement: Statement) -> usize {
        let place = self.statements.len();
        statement
            .sql
            .push_str(&format!(" RETURNING CAST({place} AS BIGINT)"));
        self.statements.push((statement, true));
        place
    }

    /// Adds an `INSERT` that leaves out a row clashing with one already stored
    /// (`ON CONFLICT DO NOTHING`), and answers its place, under which [`Batch::run`]
    /// tells whether it inserted.
    pub(crate) fn push_inserted(&mut self, mut insert: Statement) -> usize {
        insert.sql.push_str(" ON CONFLICT DO NOTHING");
        self.push_returning(insert)
    }

    /// Runs the statements in `c`'s transaction. Answers, for each place, the rows
    /// the statement there wrote (counted for statements added with
    /// [`Batch::push_returning`] only; 0 for the others).
    pub(crate) async fn run(self, c: &impl ConnectionTrait) -> Result<Vec<usize>, DbErr> {
        let mut rows = vec![0; self.statements.len()];
        let mut statements = self.statements;
        if statements.len() < 2 {
            let Some((statement, returning)) = statements.pop() else {
                return Ok(rows);
            };
            if returning {
                rows[0] = c.query_all_raw(statement).await?.len();
            } else {
                c.execute_raw(statement).await?;
            }
            return Ok(rows);
        }
        let mut sql = String::new();
        let mut values = Vec::new();
        let mut returned = Vec::new();
        for (place, (statement, returning)) in statements.into_iter().enumerate() {
            if self.backend == DatabaseBackend::Postgres {
                sql.push_str(if place == 0 { "WITH " } else { ", " });
                sql.push_str(&format!("b{place} AS ("));
                sql.push_str(&shift_placeholders(&statement.sql, values.len()));
                sql.push(')');
                if returning {
                    returned.push(format!("SELECT * FROM b{place}"));
                }
            } else {
                if place > 0 {
                    sql.push_str(";\n");
                }
                sql.push_str(&statement.sql);
            }
            values.extend(statement.values.map(|v| v.0).unwrap_or_default());
        }
        if self.backend == DatabaseBackend::Postgres {
            if returned.is_empty() {
                sql.push_str(" SELECT CAST(NULL AS BIGINT) WHERE FALSE");
            } else {
                sql.push(' ');
                sql.push_str(&returned.join(" UNION ALL "));
            }
        }
        let joined = Statement::from_sql_and_values(self.backend, sql, values);
        for row in c.query_all_raw(joined).await? {
            let place: i64 = row.try_get_by_index(0)?;
            if let Some(n) = usize::try_from(place).ok().and_then(|p| rows.get_mut(p)) {
                *n += 1;
            }
        }
        Ok(rows)
    }
}

/// PostgreSQL's numbered placeholders `$1`, `$2` … of `sql` moved up by `by`, outside
/// quoted strings and names.
fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push_str(&format!("${}", n + by));
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
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
    let since = Instant::now();
    let conn = writer_conn(db, &file).await?.clone();
    let written = f(conn).await;
    crate::metrics::sqlite_writer_busy(since.elapsed(), 0);
    written
}

#[cfg(test)]
mod tests {
    use super::shift_placeholders;

    #[test]
    fn placeholders_move_up_but_not_inside_quotes() {
        assert_eq!(
            shift_placeholders("UPDATE t SET a = $1, b = $12 WHERE c = $2", 3),
            "UPDATE t SET a = $4, b = $15 WHERE c = $5"
        );
        assert_eq!(
            shift_placeholders(r#"SELECT '$1', "$2", $1 LIKE 'a\' ESCAPE '\'"#, 10),
            r#"SELECT '$1', "$2", $11 LIKE 'a\' ESCAPE '\'"#
        );
        assert_eq!(shift_placeholders("SELECT $ FROM t", 1), "SELECT $ FROM t");
    }
}
