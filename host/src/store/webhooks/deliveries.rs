//! The webhook outbox as events and the API see it: events put in it inside the
//! transaction of their change, an endpoint's recent deliveries, sending one again,
//! forgetting old ones and counting the pending. Claiming and finishing attempts is
//! the worker's, in `leases.rs`.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, Value};
use uuid::Uuid;

use crate::store::write::{begin_write, stmt, write};
use crate::store::{StoreError, TenantId, like_pattern};
use crate::webhooks::{Delivery, Event};

/// Puts `events` in the outbox of every enabled endpoint of the tenant that wants them,
/// in one statement.
pub async fn enqueue(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    events: &[Event],
) -> Result<(), StoreError> {
    if let Some(statement) = enqueue_statement(c.get_database_backend(), tenant, events) {
        c.execute_raw(statement).await?;
    }
    Ok(())
}

/// [`enqueue`]'s statement, for a caller that sends it with others; `None` without
/// events.
pub(crate) fn enqueue_statement(
    backend: DatabaseBackend,
    tenant: TenantId,
    events: &[Event],
) -> Option<Statement> {
    if events.is_empty() {
        return None;
    }
    let now = Utc::now();
    let rows = vec!["(?, ?, ?, ?)"; events.len()].join(", ");
    let mut values: Vec<Value> = Vec::with_capacity(events.len() * 4 + 3);
    for e in events {
        values.push(e.id.into());
        values.push(e.kind.as_str().into());
        values.push(like_pattern(&format!("\"{}\"", e.kind.as_str())).into());
        values.push(e.body.clone().into());
    }
    values.extend([now.into(), now.into(), tenant.0.into()]);
    let sql = format!(
        "WITH ev (event_id, event_type, pattern, payload) AS (VALUES {rows}) \
         INSERT INTO webhook_deliveries (endpoint_id, event_id, tenant_id, event_type, payload, \
         status, attempts, next_attempt_at, created_at) \
         SELECT e.id, ev.event_id, e.tenant_id, ev.event_type, ev.payload, 'pending', 0, ?, ? \
         FROM webhook_endpoints e JOIN ev ON (e.event_types = '*' OR e.event_types LIKE ev.pattern ESCAPE '\\') \
         WHERE e.tenant_id = ? AND e.enabled = TRUE"
    );
    Some(stmt(backend, &sql, values))
}

/// Puts `event` in one endpoint's outbox (a test ping), enabled or not.
pub async fn enqueue_to(
    db: &DatabaseConnection,
    tenant: TenantId,
    endpoint: Uuid,
    event: &Event,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let values: Vec<Value> = vec![
        event.id.into(),
        event.kind.as_str().into(),
        event.body.clone().into(),
        now.into(),
        now.into(),
        endpoint.into(),
        tenant.0.into(),
    ];
    let done = write(db, |db| async move {
        db.execute_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, tenant_id, event_type, payload, \
             status, attempts, next_attempt_at, created_at) \
             SELECT e.id, ?, e.tenant_id, ?, ?, 'pending', 0, ?, ? FROM webhook_endpoints e \
             WHERE e.id = ? AND e.tenant_id = ?",
            values,
        ))
        .await
    })
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The recent deliveries of an endpoint, newest event first, at most `limit`.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    endpoint: Uuid,
    status: Option<&str>,
    limit: u64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut sql = String::from(
        "SELECT event_id, event_type, status, attempts, last_status, last_latency_ms, last_error, \
         created_at, last_attempt_at, next_attempt_at, delivered_at FROM webhook_deliveries \
         WHERE endpoint_id = ? AND tenant_id = ?",
    );
    let mut values: Vec<Value> = vec![endpoint.into(), tenant.0.into()];
    if let Some(s) = status {
        sql.push_str(" AND status = ?");
        values.push(s.into());
    }
    sql.push_str(" ORDER BY event_id DESC LIMIT ?");
    values.push((limit as i64).into());
    let rows = db
        .query_all_raw(stmt(db.get_database_backend(), &sql, values))
        .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("", "status")?;
            let pending = status == "pending";
            Ok(Delivery {
                event_id: r.try_get("", "event_id")?,
                event_type: r.try_get("", "event_type")?,
                attempts: r.try_get::<i32>("", "attempts")?.max(0) as u32,
                response_status: r
                    .try_get::<Option<i32>>("", "last_status")?
                    .map(|s| s.clamp(0, 999) as u16),
                latency_ms: r
                    .try_get::<Option<i32>>("", "last_latency_ms")?
                    .map(|l| l.max(0) as u32),
                last_error: r.try_get("", "last_error")?,
                created_at: r.try_get("", "created_at")?,
                last_attempt_at: r.try_get("", "last_attempt_at")?,
                next_attempt_at: if pending {
                    r.try_get("", "next_attempt_at")?
                } else {
                    None
                },
                delivered_at: r.try_get("", "delivered_at")?,
                status,
            })
        })
        .collect()
}

/// Sends a delivery again, at once: it goes back to its place in the endpoint's order
/// (its event id), and the endpoint's pause, if any, ends.
pub async fn redeliver(
    db: &DatabaseConnection,
    tenant: TenantId,
    endpoint: Uuid,
    event: Uuid,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let (txn, _writer) = begin_write(db).await?;
    let b = txn.get_database_backend();
    let done = txn
        .execute_raw(stmt(
            b,
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, \
             delivered_at = NULL WHERE endpoint_id = ? AND event_id = ? AND tenant_id = ?",
            vec![now.into(), endpoint.into(), event.into(), tenant.0.into()],
        ))
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    txn.execute_raw(stmt(
        b,
        "UPDATE webhook_endpoints SET retry_at = NULL WHERE id = ? AND tenant_id = ?",
        vec![endpoint.into(), tenant.0.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Forgets delivered and failed deliveries made before `before`.
pub async fn purge(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = write(db, |db| async move {
        db.execute_raw(stmt(
            db.get_database_backend(),
            "DELETE FROM webhook_deliveries WHERE created_at < ? AND status <> 'pending'",
            vec![before.into()],
        ))
        .await
    })
    .await?;
    Ok(done.rows_affected())
}

/// Pending deliveries, over all tenants (a metric).
pub async fn pending_count(db: &impl ConnectionTrait) -> Result<i64, StoreError> {
    Ok(db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'",
            vec![],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}
