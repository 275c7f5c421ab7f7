//! Sign-in sessions and rotating refresh tokens.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entity::{agent, auth_session, refresh_token};
use super::{StoreError, TenantId};
use crate::directory::Role;

/// A live sign-in session, as the request extractor checks it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub role: Role,
}

/// Where a new sign-in comes from, recorded for the admin's audit.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Opens a session with its first refresh token (stored as `refresh_hash`).
pub async fn open(
    db: &sea_orm::DatabaseConnection,
    tenant: TenantId,
    agent_id: Uuid,
    origin: Origin,
    refresh_hash: String,
    lifetime: Duration,
) -> Result<Uuid, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    auth_session::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.0),
        agent_id: Set(agent_id),
        client_ip: Set(origin.client_ip.map(|s| truncate(s, 64))),
        user_agent: Set(origin.user_agent.map(|s| truncate(s, 256))),
        created_at: Set(now),
        expires_at: Set(now + lifetime),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    insert_refresh(&txn, id, refresh_hash, now + lifetime).await?;
    txn.commit().await?;
    Ok(id)
}

/// Returns the session when it is live (not revoked, not expired) and its agent is
/// still active in `tenant`; `None` otherwise.
pub async fn live(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    session_id: Uuid,
    agent_id: Uuid,
) -> Result<Option<LiveSession>, StoreError> {
    let session = auth_session::Entity::find_by_id(session_id)
        .filter(auth_session::Column::TenantId.eq(tenant.0))
        .filter(auth_session::Column::AgentId.eq(agent_id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .filter(auth_session::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?;
    if session.is_none() {
        return Ok(None);
    }
    let agent = agent::Entity::find_by_id(agent_id)
        .filter(agent::Column::TenantId.eq(tenant.0))
        .filter(agent::Column::Active.eq(true))
        .one(db)
        .await?;
    Ok(agent.map(|a| LiveSession {
        role: Role::parse(&a.role).unwrap_or(Role::Agent),
    }))
}

/// Which of `sign_ins` are still live, as `live` judges one: not revoked, not
/// expired, and of an agent still active in the sign-in's tenant.
pub async fn live_among(
    db: &impl ConnectionTrait,
    sign_ins: &[Uuid],
    now: DateTime<Utc>,
) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    let mut out = std::collections::HashSet::new();
    for chunk in sign_ins.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut values: Vec<sea_orm::Value> = vec![now.into()];
        values.extend(chunk.iter().map(|id| (*id).into()));
        let rows = db
            .query_all_raw(super::write::stmt(
                db.get_database_backend(),
                &format!(
                    "SELECT s.id FROM auth_sessions s \
                     JOIN agents a ON a.id = s.agent_id AND a.tenant_id = s.tenant_id \
                     WHERE s.revoked_at IS NULL AND s.expires_at > ? AND a.active = TRUE \
                     AND s.id IN ({marks})"
                ),
                values,
            ))
            .await?;
        for r in rows {
            out.insert(r.try_get::<Uuid>("", "id")?);
        }
    }
    Ok(out)
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// The token was valid and is now spent; the new one is stored.
    Rotated {
        tenant: TenantId,
        agent_id: Uuid,
        session_id: Uuid,
        role: Role,
    },
    /// Unknown, expired, or its session is over.
    Invalid,
    /// The token had already been used: someone replayed it, so the whole session is
    /// revoked (refresh-token reuse detection).
    Reused,
}

/// Spends the refresh token whose hash is `presented` and stores `replacement`.
pub async fn rotate(
    db: &sea_orm::DatabaseConnection,
    presented: &str,
    replacement: String,
) -> Result<Rotation, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let now = Utc::now();
    let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(presented))
        .one(&txn)
        .await?
    else {
        return Ok(Rotation::Invalid);
    };
    let Some(session) = auth_session::Entity::find_by_id(token.session_id)
        .one(&txn)
        .await?
    else {
        return Ok(Rotation::Invalid);
    };
    if token.used_at.is_some() {
        revoke_session_row(&txn, session.id, now).await?;
        txn.commit().await?;
        return Ok(Rotation::Reused);
    }
    if token.expires_at <= now || session.revoked_at.is_some() || session.expires_at <= now {
        return Ok(Rotation::Invalid);
    }
    let tenant = TenantId(session.tenant_id);
    let Some(live) = live(&txn, tenant, session.id, session.agent_id).await? else {
        return Ok(Rotation::Invalid);
    };
    // Spend the token only if nobody else spent it since we read it: two concurrent
    // refreshes with one token must not both succeed.
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        revoke_session_row(&txn, session.id, now).await?;
        txn.commit().await?;
        return Ok(Rotation::Reused);
    }
    insert_refresh(&txn, session.id, replacement, session.expires_at).await?;
    txn.commit().await?;
    Ok(Rotation::Rotated {
        tenant,
        agent_id: session.agent_id,
        session_id: session.id,
        role: live.role,
    })
}

/// Ends one session: its access and refresh tokens stop working at once.
pub async fn revoke(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    session_id: Uuid,
) -> Result<(), StoreError> {
    auth_session::Entity::update_many()
        .col_expr(auth_session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(auth_session::Column::TenantId.eq(tenant.0))
        .filter(auth_session::Column::Id.eq(session_id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of an agent (deactivation, password change).
pub async fn revoke_all_for_agent(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent_id: Uuid,
) -> Result<(), StoreError> {
    auth_session::Entity::update_many()
        .col_expr(auth_session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(auth_session::Column::TenantId.eq(tenant.0))
        .filter(auth_session::Column::AgentId.eq(agent_id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes sessions that expired more than a day ago, and their tokens.
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    let cutoff = Utc::now() - Duration::days(1);
    let res = auth_session::Entity::delete_many()
        .filter(auth_session::Column::ExpiresAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

async fn revoke_session_row(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    auth_session::Entity::update_many()
        .col_expr(auth_session::Column::RevokedAt, Expr::value(now))
        .filter(auth_session::Column::Id.eq(id))
        .filter(auth_session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

async fn insert_refresh(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    hash: String,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(hash),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

fn truncate(mut s: String, max_chars: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max_chars) {
        s.truncate(i);
    }
    s
}
