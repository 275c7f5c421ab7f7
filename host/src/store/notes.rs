//! Internal notes on sessions: written by agents and admins, read by them, never sent
//! to the user. Kept apart from the transcript so that nothing that reads messages
//! for the user (the web chat's history, IM egress) can ever see one.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::entity::session_note;
use super::write::write;
use super::{StoreError, TenantId};

/// A note on a session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Note {
    pub id: Uuid,
    pub session_id: Uuid,
    /// The agent or admin who wrote it (none once their account is gone).
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// Most notes read at once (of one conversation's legs).
pub const MAX_LISTED: u64 = 500;

fn to_domain(m: session_note::Model) -> Note {
    Note {
        id: m.id,
        session_id: m.session_id,
        author_id: m.author_id,
        author_name: m.author_name,
        text: m.text,
        created_at: m.created_at,
    }
}

pub async fn add(
    db: &DatabaseConnection,
    tenant: TenantId,
    session_id: Uuid,
    author: (Uuid, String),
    text: String,
) -> Result<Note, StoreError> {
    let model = session_note::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        session_id: Set(session_id),
        author_id: Set(Some(author.0)),
        author_name: Set(author.1),
        text: Set(text),
        created_at: Set(Utc::now()),
    };
    write(
        db,
        |c| async move { Ok(to_domain(model.insert(&c).await?)) },
    )
    .await
}

/// The notes of `sessions`, oldest first.
pub async fn of_sessions(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    sessions: &[Uuid],
) -> Result<Vec<Note>, StoreError> {
    Ok(session_note::Entity::find()
        .filter(session_note::Column::TenantId.eq(tenant.0))
        .filter(session_note::Column::SessionId.is_in(sessions.iter().copied()))
        .order_by_asc(session_note::Column::CreatedAt)
        .order_by_asc(session_note::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect())
}
