//! Storage: the database connection, migrations at start-up, sea-orm entities and the
//! statements the rest of kefu calls: guarded writes, reads, row mapping. The rules
//! that decide what to write live with their folders (`routing`, `sessions`, `flow`,
//! `records`, `webhooks`); what must hold across nodes is enforced here, by the guard
//! of the statement that would break it.
//!
//! A function that looks up one tenant's data by what a request names takes a
//! [`TenantId`] and puts it in the `WHERE` clause of its statements
//! ([`find_in_tenant`] for a row by id), so a row of another tenant is simply not
//! found: a 404, never a leak. Some reads are keyed by a row the caller already holds
//! through such a lookup (a session's transcript by its session, a user's session by
//! its channel). The work that serves every tenant at once (the routing sweep, due
//! timers, the IM and webhook outboxes, retention) reads across tenants by design and
//! carries each row's tenant on. Lists are paged by [`page_of`]. Must not know about
//! HTTP.

pub mod agents;
pub mod assign;
pub mod auth_sessions;
pub mod channels;
pub mod entity;
pub mod flows;
pub mod inbox;
pub mod notes;
pub mod notify;
pub mod outbox;
pub mod plugins;
pub mod presence;
pub mod quick_replies;
pub mod records;
pub mod secrets;
pub mod session_rows;
pub mod sessions;
pub mod skill_groups;
pub mod stats;
pub mod tenants;
pub mod webhooks;
pub mod write;

use std::time::Duration;

use kefu_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, EntityTrait,
    Order, PaginatorTrait, PrimaryKeyTrait, QueryFilter, QueryOrder, QuerySelect, Select, SqlErr,
};
use uuid::Uuid;

use crate::directory::{FieldErrors, Page, PageRequest};

/// The tenant a query is scoped to. Only obtained from a verified token, a login, or
/// the command line, and required by every repository function on tenant data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(pub Uuid);

/// What a repository call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row in this tenant.
    #[error("not found")]
    NotFound,
    /// The change would break a uniqueness or in-use rule. `code` is stable.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The request refers to things that do not exist in this tenant.
    #[error("invalid reference")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl StoreError {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
}

/// Returns the unique-constraint message when `err` is a uniqueness violation.
pub(crate) fn unique_violation(err: &DbErr) -> Option<String> {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => Some(msg),
        _ => None,
    }
}

/// Whether `err` is a row that clashed with another one written meanwhile: the same
/// unique key, or a reference to a row another write kept out.
pub(crate) fn clashed(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// The row with this id in the tenant whose id `tenant_column` holds, or `NotFound`:
/// a row of another tenant is not told apart from no row.
pub(crate) async fn find_in_tenant<C>(
    db: &impl ConnectionTrait,
    tenant_column: C,
    tenant: TenantId,
    id: Uuid,
) -> Result<<C::EntityName as EntityTrait>::Model, StoreError>
where
    C: ColumnTrait,
    C::EntityName: EntityTrait<Column = C>,
    <<C::EntityName as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    C::EntityName::find_by_id(id)
        .filter(tenant_column.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
}

/// One page of `query`'s rows in the order `order` adds to it, with the count of its
/// rows across all pages.
pub(crate) async fn page_of<E>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    order: &[(E::Column, Order)],
    page: PageRequest,
) -> Result<Page<E::Model>, StoreError>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let total = query.clone().count(db).await?;
    let items = order
        .iter()
        .fold(query, |q, (column, direction)| {
            q.order_by(*column, direction.clone())
        })
        .offset(page.offset())
        .limit(page.page_size)
        .all(db)
        .await?;
    Ok(Page::of(items, total, page))
}

/// How much of a SQLite database is mapped into memory (256 MiB).
const MMAP_SIZE: &str = "268435456";

/// What is told of every statement a connection of this process runs: its duration
/// and whether it failed (the metrics, set once at start-up).
pub type StatementObserver = fn(Duration, bool);

static OBSERVER: std::sync::OnceLock<StatementObserver> = std::sync::OnceLock::new();

/// Sets what every connection opened from now on tells of its statements (the pool's
/// and SQLite's writing connection). The first call wins.
pub fn observe_statements(observer: StatementObserver) {
    let _ = OBSERVER.set(observer);
}

/// Makes `db` tell the observer of its statements, if one is set.
fn observed(mut db: DatabaseConnection) -> DatabaseConnection {
    if let Some(observer) = OBSERVER.get().copied() {
        db.set_metric_callback(move |info| observer(info.elapsed, info.failed));
    }
    db
}

/// Opens the database. SQLite runs in WAL mode with foreign keys on and a busy timeout,
/// so that readers never block the writer and short write bursts queue instead of
/// failing.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if is_sqlite(url) {
        opts.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Pages are read in place from the mapped file rather than copied
                // in by a system call each time a connection's cache misses.
                .pragma("mmap_size", MMAP_SIZE)
        });
    }
    Database::connect(opts).await.map(observed)
}

pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// `SELECT 1`, for the readiness probe.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Escapes `%`, `_` and `\` so user text can sit inside a `LIKE` pattern literally.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
