//! Webhook endpoints as stored: creating, reading, changing, deleting and rotating
//! the secret of each, and the enabled ones whose queue may move. Their deliveries
//! are in `deliveries.rs` and the worker's leases in `leases.rs`; nothing here writes
//! `webhook_deliveries`.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Value};
use uuid::Uuid;

use crate::store::write::{begin_write, stmt, write};
use crate::store::{StoreError, TenantId};
use crate::webhooks::Endpoint;
use crate::webhooks::sign::masked;

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
