//! Quick replies: the tenant's shared list and each agent's own. A shortcut is unique
//! within its list; the two lists may share one (the agent's own wins in the
//! workbench). Who may change which list is the API's rule, not the store's.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::entity::quick_reply;
use super::write::write;
use super::{StoreError, TenantId, unique_violation};

/// Whose list a quick reply is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The tenant's shared list, managed by admins.
    Tenant,
    /// The caller's own list.
    Personal,
}

/// A canned response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuickReply {
    pub id: Uuid,
    pub scope: Scope,
    /// Typed after `/` in the composer: 1–32 letters, digits, `-` or `_` (any script).
    pub shortcut: String,
    /// The text inserted; `${Name}` variables are filled from the session.
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The agent whose own list it is in.
    #[serde(skip)]
    pub owner_id: Option<Uuid>,
}

/// Most quick replies in the shared list, and in one agent's list.
pub const MAX_TENANT: u64 = 500;
pub const MAX_PERSONAL: u64 = 200;

const TENANT_KEY: &str = "tenant";

fn owner_key(owner: Option<Uuid>) -> String {
    owner.map_or_else(|| TENANT_KEY.to_owned(), |o| o.to_string())
}

fn to_domain(m: quick_reply::Model) -> QuickReply {
    QuickReply {
        id: m.id,
        scope: if m.owner_id.is_some() {
            Scope::Personal
        } else {
            Scope::Tenant
        },
        shortcut: m.shortcut,
        text: m.text,
        created_at: m.created_at,
        updated_at: m.updated_at,
        owner_id: m.owner_id,
    }
}

fn shortcut_taken(e: sea_orm::DbErr) -> StoreError {
    match unique_violation(&e) {
        Some(_) => StoreError::conflict(
            "shortcut_taken",
            "this list already has a quick reply with that shortcut",
        ),
        None => e.into(),
    }
}

/// The shared list and `agent`'s own, shared first, each by shortcut.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    scope: Option<Scope>,
) -> Result<Vec<QuickReply>, StoreError> {
    let keys = match scope {
        Some(Scope::Tenant) => vec![owner_key(None)],
        Some(Scope::Personal) => vec![owner_key(Some(agent))],
        None => vec![owner_key(None), owner_key(Some(agent))],
    };
    let mut found: Vec<QuickReply> = quick_reply::Entity::find()
        .filter(quick_reply::Column::TenantId.eq(tenant.0))
        .filter(quick_reply::Column::OwnerKey.is_in(keys))
        .order_by_asc(quick_reply::Column::Shortcut)
        .limit(MAX_TENANT + MAX_PERSONAL)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect();
    found.sort_by_key(|q| q.scope == Scope::Personal);
    Ok(found)
}

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<QuickReply, StoreError> {
    quick_reply::Entity::find_by_id(id)
        .filter(quick_reply::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .map(to_domain)
        .ok_or(StoreError::NotFound)
}

/// Adds a quick reply to the shared list (`owner` none) or to `owner`'s.
pub async fn create(
    db: &DatabaseConnection,
    tenant: TenantId,
    owner: Option<Uuid>,
    shortcut: String,
    text: String,
) -> Result<QuickReply, StoreError> {
    let key = owner_key(owner);
    let cap = if owner.is_some() {
        MAX_PERSONAL
    } else {
        MAX_TENANT
    };
    write(db, |c| async move {
        let held = quick_reply::Entity::find()
            .filter(
                Condition::all()
                    .add(quick_reply::Column::TenantId.eq(tenant.0))
                    .add(quick_reply::Column::OwnerKey.eq(key.as_str())),
            )
            .count(&c)
            .await?;
        if held >= cap {
            return Err(StoreError::conflict(
                "too_many_quick_replies",
                format!("a list holds at most {cap} quick replies"),
            ));
        }
        let now = Utc::now();
        quick_reply::ActiveModel {
            id: Set(Uuid::now_v7()),
            tenant_id: Set(tenant.0),
            owner_id: Set(owner),
            owner_key: Set(key),
            shortcut: Set(shortcut),
            text: Set(text),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&c)
        .await
        .map(to_domain)
        .map_err(shortcut_taken)
    })
    .await
}

/// Changes a quick reply's shortcut or text (absent: kept).
pub async fn update(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    shortcut: Option<String>,
    text: Option<String>,
) -> Result<QuickReply, StoreError> {
    write(db, |c| async move {
        let m = quick_reply::Entity::find_by_id(id)
            .filter(quick_reply::Column::TenantId.eq(tenant.0))
            .one(&c)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut am: quick_reply::ActiveModel = m.into();
        if let Some(s) = shortcut {
            am.shortcut = Set(s);
        }
        if let Some(t) = text {
            am.text = Set(t);
        }
        am.updated_at = Set(Utc::now());
        am.update(&c).await.map(to_domain).map_err(shortcut_taken)
    })
    .await
}

pub async fn delete(db: &DatabaseConnection, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
    write(db, |c| async move {
        let done = quick_reply::Entity::delete_many()
            .filter(quick_reply::Column::Id.eq(id))
            .filter(quick_reply::Column::TenantId.eq(tenant.0))
            .exec(&c)
            .await?;
        if done.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    })
    .await
}
