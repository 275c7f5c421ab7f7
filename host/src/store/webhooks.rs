//! Webhook endpoints and their delivery outbox.
//!
//! [`enqueue`] runs inside the transaction of the change that made the events: one
//! statement puts a row per event and interested endpoint in `webhook_deliveries`, so
//! an event exists exactly when its change does. The worker claims an endpoint's first
//! pending deliveries in order under a lease (another node takes them over only when
//! the lease ends), and an endpoint whose first delivery failed is left alone until
//! its retry (`retry_at`), so a dead endpoint costs the others nothing.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Value};
use uuid::Uuid;

use super::write::{begin_write, stmt, write};
use super::{StoreError, TenantId, like_pattern};
use crate::webhooks::sign::masked;
use crate::webhooks::{Delivery, Endpoint, Event};

/// Puts `events` in the outbox of every enabled endpoint of the tenant that wants them,
/// in one statement.
pub async fn enqueue(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    events: &[Event],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
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
    c.execute_raw(stmt(c.get_database_backend(), &sql, values))
        .await?;
    Ok(())
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

/// An endpoint as stored.
#[derive(Debug, Clone)]
pub struct StoredEndpoint {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StoredEndpoint {
    /// The endpoint as the API shows it; the whole secret only when `reveal`.
    pub fn view(&self, reveal: bool) -> Endpoint {
        Endpoint {
            id: self.id,
            url: self.url.clone(),
            description: self.description.clone(),
            event_types: self.event_types.clone(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.clone(),
            secret: if reveal {
                self.secret.clone()
            } else {
                masked(&self.secret)
            },
            previous_secret_expires_at: self
                .previous_expires_at
                .filter(|_| self.previous_secret.is_some()),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The secrets that sign at `now`: the current one, and the previous one while
    /// the rotation overlaps.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut out = vec![self.secret.clone()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_expires_at)
            && until > now
        {
            out.push(old.clone());
        }
        out
    }
}

const ENDPOINT_COLUMNS: &str = "id, tenant_id, url, description, event_types, enabled, secret, \
     previous_secret, previous_expires_at, disabled_reason, created_at, updated_at";

fn endpoint(r: &QueryResult) -> Result<StoredEndpoint, StoreError> {
    let types: String = r.try_get("", "event_types")?;
    Ok(StoredEndpoint {
        id: r.try_get("", "id")?,
        tenant_id: r.try_get("", "tenant_id")?,
        url: r.try_get("", "url")?,
        description: r.try_get("", "description")?,
        event_types: if types == "*" {
            vec!["*".to_owned()]
        } else {
            serde_json::from_str(&types).unwrap_or_default()
        },
        enabled: r.try_get("", "enabled")?,
        secret: r.try_get("", "secret")?,
        previous_secret: r.try_get("", "previous_secret")?,
        previous_expires_at: r.try_get("", "previous_expires_at")?,
        disabled_reason: r.try_get("", "disabled_reason")?,
        created_at: r.try_get("", "created_at")?,
        updated_at: r.try_get("", "updated_at")?,
    })
}

/// How event types are stored: `*`, or a JSON list that `LIKE '%"type"%'` finds.
fn stored_types(types: &[String]) -> String {
    if types.iter().any(|t| t == "*") {
        "*".to_owned()
    } else {
        serde_json::to_string(types).unwrap_or_else(|_| "[]".into())
    }
}

/// A new endpoint's settings, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub secret: String,
}

/// Creates an endpoint, unless the tenant has `max` already (409 `webhook_quota`).
pub async fn create(
    db: &DatabaseConnection,
    tenant: TenantId,
    new: NewEndpoint,
    max: u32,
) -> Result<StoredEndpoint, StoreError> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    let (txn, _writer) = begin_write(db).await?;
    let b = txn.get_database_backend();
    let count = txn
        .query_one_raw(stmt(
            b,
            "SELECT COUNT(*) AS n FROM webhook_endpoints WHERE tenant_id = ?",
            vec![tenant.0.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if count >= i64::from(max) {
        return Err(StoreError::conflict(
            "webhook_quota",
            format!("a tenant may register at most {max} webhook endpoints"),
        ));
    }
    txn.execute_raw(stmt(
        b,
        "INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, enabled, secret, \
         previous_secret, previous_expires_at, disabled_reason, retry_at, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?, ?)",
        vec![
            id.into(),
            tenant.0.into(),
            new.url.into(),
            new.description.into(),
            stored_types(&new.event_types).into(),
            new.enabled.into(),
            new.secret.into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    txn.commit().await?;
    get(db, tenant, id).await
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<StoredEndpoint>, StoreError> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            &format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = ? ORDER BY created_at, id"
            ),
            vec![tenant.0.into()],
        ))
        .await?;
    rows.iter().map(endpoint).collect()
}

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<StoredEndpoint, StoreError> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            &format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ? AND tenant_id = ?"
            ),
            vec![id.into(), tenant.0.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    endpoint(&row)
}

/// What a change of an endpoint sets; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

pub async fn update(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    change: EndpointChange,
) -> Result<StoredEndpoint, StoreError> {
    let mut current = get(db, tenant, id).await?;
    if let Some(url) = change.url {
        current.url = url;
    }
    if let Some(d) = change.description {
        current.description = d;
    }
    if let Some(t) = change.event_types {
        current.event_types = t;
    }
    // Enabling again forgets why kefu disabled it, and any pause it was in.
    let reenabled = change.enabled == Some(true) && !current.enabled;
    if let Some(e) = change.enabled {
        current.enabled = e;
    }
    let values: Vec<Value> = vec![
        current.url.clone().into(),
        current.description.clone().into(),
        stored_types(&current.event_types).into(),
        current.enabled.into(),
        reenabled.into(),
        reenabled.into(),
        Utc::now().into(),
        id.into(),
        tenant.0.into(),
    ];
    write(db, |db| async move {
        db.execute_raw(stmt(
            db.get_database_backend(),
            "UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, enabled = ?, \
             disabled_reason = CASE WHEN ? THEN NULL ELSE disabled_reason END, \
             retry_at = CASE WHEN ? THEN NULL ELSE retry_at END, updated_at = ? \
             WHERE id = ? AND tenant_id = ?",
            values,
        ))
        .await
    })
    .await?;
    get(db, tenant, id).await
}

pub async fn delete(db: &DatabaseConnection, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
    let done = write(db, |db| async move {
        db.execute_raw(stmt(
            db.get_database_backend(),
            "DELETE FROM webhook_endpoints WHERE id = ? AND tenant_id = ?",
            vec![id.into(), tenant.0.into()],
        ))
        .await
    })
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A new signing secret; the current one keeps signing until `overlap_until`.
pub async fn rotate(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    secret: String,
    overlap_until: DateTime<Utc>,
) -> Result<StoredEndpoint, StoreError> {
    let now = Utc::now();
    let done = write(db, |db| async move {
        db.execute_raw(stmt(
            db.get_database_backend(),
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_expires_at = ?, \
             secret = ?, updated_at = ? WHERE id = ? AND tenant_id = ?",
            vec![
                overlap_until.into(),
                secret.into(),
                now.into(),
                id.into(),
                tenant.0.into(),
            ],
        ))
        .await
    })
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    get(db, tenant, id).await
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

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct Due {
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    pub body: String,
    pub attempts: u32,
}

/// Enabled endpoints whose queue may move at `now` (not pausing after a failure).
pub async fn ready_endpoints(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<StoredEndpoint>, StoreError> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            &format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE enabled = TRUE \
                 AND (retry_at IS NULL OR retry_at <= ?) LIMIT 10000"
            ),
            vec![now.into()],
        ))
        .await?;
    rows.iter().map(endpoint).collect()
}

/// Endpoints read per statement when looking for work.
const ENDPOINTS_AT_ONCE: usize = 50;

/// Claims the first deliveries of each of `endpoints`, in order, at most `per_endpoint`
/// each: those due at `now`, up to the first that is not (leased by another node, or
/// waiting for its retry), so an endpoint's deliveries never overtake each other. The
/// `i`-th delivery claimed for an endpoint is leased for `lease + i × attempt`, time
/// enough for the ones before it.
pub async fn claim(
    db: &DatabaseConnection,
    endpoints: &[Uuid],
    now: DateTime<Utc>,
    lease: chrono::Duration,
    attempt: chrono::Duration,
    per_endpoint: u64,
) -> Result<Vec<Due>, StoreError> {
    let mut out = Vec::new();
    for chunk in endpoints.chunks(ENDPOINTS_AT_ONCE) {
        let one = "SELECT * FROM (SELECT endpoint_id, event_id, tenant_id, payload, attempts, \
                   next_attempt_at FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'pending' \
                   ORDER BY event_id LIMIT ?) q";
        let sql = vec![one; chunk.len()].join(" UNION ALL ");
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2);
        for e in chunk {
            values.push((*e).into());
            values.push((per_endpoint as i64).into());
        }
        let rows = db
            .query_all_raw(stmt(db.get_database_backend(), &sql, values))
            .await?;
        let mut heads: std::collections::BTreeMap<Uuid, Vec<(Due, DateTime<Utc>)>> =
            std::collections::BTreeMap::new();
        for r in rows {
            let d = Due {
                endpoint_id: r.try_get("", "endpoint_id")?,
                event_id: r.try_get("", "event_id")?,
                tenant_id: r.try_get("", "tenant_id")?,
                body: r.try_get("", "payload")?,
                attempts: r.try_get::<i32>("", "attempts")?.max(0) as u32,
            };
            let next: DateTime<Utc> = r.try_get("", "next_attempt_at")?;
            heads.entry(d.endpoint_id).or_default().push((d, next));
        }
        for (_, mut list) in heads {
            list.sort_by_key(|(d, _)| d.event_id);
            for (i, (d, next)) in list.into_iter().enumerate() {
                if next > now {
                    break;
                }
                let until = now + lease + attempt * i as i32;
                let values: Vec<Value> = vec![
                    until.into(),
                    d.endpoint_id.into(),
                    d.event_id.into(),
                    next.into(),
                ];
                let taken = write(db, |db| async move {
                    db.execute_raw(stmt(
                        db.get_database_backend(),
                        "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE endpoint_id = ? \
                         AND event_id = ? AND next_attempt_at = ? AND status = 'pending'",
                        values,
                    ))
                    .await
                })
                .await?;
                if taken.rows_affected() != 1 {
                    break;
                }
                out.push(d);
            }
        }
    }
    Ok(out)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered,
    /// Failed; tried again at `at`, nothing after it going out before.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Failed for good (attempts used up); the endpoint moves on.
    Failed {
        error: String,
    },
    /// The endpoint answered 410 Gone: it is disabled.
    Gone,
}

/// Records an attempt: its answer's status and latency, and what follows.
pub async fn finish(
    db: &DatabaseConnection,
    d: &Due,
    response_status: Option<u16>,
    latency_ms: u32,
    outcome: &Outcome,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let (status, next, error, delivered) = match outcome {
        Outcome::Delivered => ("delivered", now, None, Some(now)),
        Outcome::Retry { at, error } => ("pending", *at, Some(clip(error)), None),
        Outcome::Failed { error } => ("failed", now, Some(clip(error)), None),
        Outcome::Gone => (
            "failed",
            now,
            Some("the endpoint answered 410 Gone and was disabled".to_owned()),
            None,
        ),
    };
    let (txn, _writer) = begin_write(db).await?;
    let b = txn.get_database_backend();
    txn.execute_raw(stmt(
        b,
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, \
         last_attempt_at = ?, last_status = ?, last_latency_ms = ?, last_error = ?, delivered_at = ? \
         WHERE endpoint_id = ? AND event_id = ?",
        vec![
            status.into(),
            next.into(),
            now.into(),
            response_status.map(i32::from).into(),
            (latency_ms.min(i32::MAX as u32) as i32).into(),
            error.into(),
            delivered.into(),
            d.endpoint_id.into(),
            d.event_id.into(),
        ],
    ))
    .await?;
    let (sql, values): (&str, Vec<Value>) = match outcome {
        Outcome::Retry { at, .. } => (
            "UPDATE webhook_endpoints SET retry_at = ? WHERE id = ?",
            vec![(*at).into(), d.endpoint_id.into()],
        ),
        Outcome::Gone => (
            "UPDATE webhook_endpoints SET enabled = FALSE, retry_at = NULL, \
             disabled_reason = 'the endpoint answered 410 Gone', updated_at = ? WHERE id = ?",
            vec![now.into(), d.endpoint_id.into()],
        ),
        Outcome::Delivered | Outcome::Failed { .. } => (
            "UPDATE webhook_endpoints SET retry_at = NULL WHERE id = ? AND retry_at IS NOT NULL",
            vec![d.endpoint_id.into()],
        ),
    };
    txn.execute_raw(stmt(b, sql, values)).await?;
    txn.commit().await?;
    Ok(())
}

/// Gives a claimed delivery back without an attempt (one before it failed).
pub async fn release(db: &DatabaseConnection, d: &Due) -> Result<(), StoreError> {
    let values: Vec<Value> = vec![Utc::now().into(), d.endpoint_id.into(), d.event_id.into()];
    write(db, |db| async move {
        db.execute_raw(stmt(
            db.get_database_backend(),
            "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE endpoint_id = ? AND event_id = ? \
             AND status = 'pending'",
            values,
        ))
        .await
    })
    .await?;
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

fn clip(text: &str) -> String {
    text.chars().take(500).collect()
}
