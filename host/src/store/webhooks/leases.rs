//! The delivery worker's side of the webhook outbox: claiming each endpoint's first
//! due deliveries in order under a lease, recording an attempt and what follows it
//! (a retry pauses the endpoint, 410 Gone disables it), and giving a claim back.
//! Endpoints' settings are in `endpoints.rs`; what the API reads is in `deliveries.rs`.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use uuid::Uuid;

use crate::store::StoreError;
use crate::store::write::{begin_write, stmt, write};

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct Due {
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    pub body: String,
    pub attempts: u32,
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

fn clip(text: &str) -> String {
    text.chars().take(500).collect()
}
