//! Channels. Admin calls are scoped to a tenant; IM ingress finds a channel by its
//! app and account first (IM requests name no tenant) and then works in its tenant.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{channel, flow, skill_group};
use super::{StoreError, TenantId, unique_violation};
use crate::directory::{Channel, ChannelPatch, FieldErrors, NewChannel, Page, PageRequest};

fn to_domain(m: channel::Model) -> Channel {
    Channel {
        id: m.id,
        tenant_id: m.tenant_id,
        name: m.name,
        account: m.account,
        sdkappid: m.sdkappid.max(0) as u64,
        admin_identifier: m.admin_identifier,
        secret_key: m.secret_key,
        callback_token: m.callback_token,
        flow_id: m.flow_id,
        default_skill_group_id: m.default_skill_group_id,
        im_base_url: m.im_base_url,
        webchat_enabled: m.webchat_enabled,
        idle_timeout_secs: m.idle_timeout_secs.max(0) as u32,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn conflict(e: sea_orm::DbErr) -> StoreError {
    match unique_violation(&e) {
        Some(msg) if msg.contains("name") => StoreError::conflict(
            "channel_name_taken",
            "another channel already has this name",
        ),
        Some(_) => StoreError::conflict(
            "channel_account_taken",
            "this IM app already has a channel for this account",
        ),
        None => e.into(),
    }
}

/// Checks that the flow and skill group a channel names exist in the tenant.
async fn check_references(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    flow_id: Option<Uuid>,
    group_id: Option<Uuid>,
) -> Result<(), StoreError> {
    let mut errors = FieldErrors::new();
    if let Some(id) = flow_id {
        let found = flow::Entity::find_by_id(id)
            .filter(flow::Column::TenantId.eq(tenant.0))
            .count(db)
            .await?;
        if found == 0 {
            errors.add("flow_id", "no such flow");
        }
    }
    if let Some(id) = group_id {
        let found = skill_group::Entity::find_by_id(id)
            .filter(skill_group::Column::TenantId.eq(tenant.0))
            .count(db)
            .await?;
        if found == 0 {
            errors.add("default_skill_group_id", "no such skill group");
        }
    }
    errors.into_result().map_err(StoreError::Invalid)
}

/// Creates a channel; `secret_key` and `callback_token` must be set by the caller
/// (generated when the admin gave none).
pub async fn create(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    new: &NewChannel,
    secret_key: &str,
    callback_token: &str,
) -> Result<Channel, StoreError> {
    check_references(db, tenant, new.flow_id, new.default_skill_group_id).await?;
    let now = Utc::now();
    let model = channel::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        name: Set(new.name.clone()),
        account: Set(new.account.clone()),
        sdkappid: Set(new.sdkappid as i64),
        admin_identifier: Set(new.admin_identifier.clone()),
        secret_key: Set(secret_key.to_owned()),
        callback_token: Set(callback_token.to_owned()),
        flow_id: Set(new.flow_id),
        default_skill_group_id: Set(new.default_skill_group_id),
        im_base_url: Set(new.im_base_url.clone()),
        webchat_enabled: Set(new.webchat_enabled),
        idle_timeout_secs: Set(new.idle_timeout_secs as i32),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Ok(to_domain(model.insert(db).await.map_err(conflict)?))
}

async fn find_model(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<channel::Model, StoreError> {
    channel::Entity::find_by_id(id)
        .filter(channel::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Channel, StoreError> {
    Ok(to_domain(find_model(db, tenant, id).await?))
}

/// A channel by id alone, for the public web chat page (the id is in its URL).
pub async fn get_public(db: &impl ConnectionTrait, id: Uuid) -> Result<Channel, StoreError> {
    channel::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_domain)
        .ok_or(StoreError::NotFound)
}

/// The channels of an IM app (for ingress: the request names the app, the body the
/// accounts).
pub async fn by_app(db: &impl ConnectionTrait, sdkappid: u64) -> Result<Vec<Channel>, StoreError> {
    Ok(channel::Entity::find()
        .filter(channel::Column::Sdkappid.eq(sdkappid as i64))
        .limit(1000)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect())
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
) -> Result<Option<Channel>, StoreError> {
    Ok(channel::Entity::find()
        .filter(channel::Column::TenantId.eq(tenant.0))
        .filter(channel::Column::Name.eq(name))
        .one(db)
        .await?
        .map(to_domain))
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    page: PageRequest,
) -> Result<Page<Channel>, StoreError> {
    let query = channel::Entity::find().filter(channel::Column::TenantId.eq(tenant.0));
    let total = query.clone().count(db).await?;
    let items = query
        .order_by_asc(channel::Column::Name)
        .order_by_asc(channel::Column::Id)
        .offset(page.offset())
        .limit(page.page_size)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect();
    Ok(Page {
        items,
        total,
        page: page.page,
        page_size: page.page_size,
    })
}

pub async fn update(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
    patch: &ChannelPatch,
) -> Result<Channel, StoreError> {
    let m = find_model(db, tenant, id).await?;
    check_references(
        db,
        tenant,
        patch.flow_id.flatten(),
        patch.default_skill_group_id.flatten(),
    )
    .await?;
    let mut active: channel::ActiveModel = m.into();
    if let Some(v) = &patch.name {
        active.name = Set(v.clone());
    }
    if let Some(v) = &patch.admin_identifier {
        active.admin_identifier = Set(v.clone());
    }
    if let Some(v) = &patch.secret_key {
        active.secret_key = Set(v.clone());
    }
    if let Some(v) = &patch.callback_token {
        active.callback_token = Set(v.clone());
    }
    if let Some(v) = patch.flow_id {
        active.flow_id = Set(v);
    }
    if let Some(v) = patch.default_skill_group_id {
        active.default_skill_group_id = Set(v);
    }
    if let Some(v) = &patch.im_base_url {
        active.im_base_url = Set(v.clone());
    }
    if let Some(v) = patch.webchat_enabled {
        active.webchat_enabled = Set(v);
    }
    if let Some(v) = patch.idle_timeout_secs {
        active.idle_timeout_secs = Set(v as i32);
    }
    active.updated_at = Set(Utc::now());
    Ok(to_domain(active.update(db).await.map_err(conflict)?))
}

/// Deletes a channel with its sessions and their transcripts.
pub async fn delete(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<(), StoreError> {
    find_model(db, tenant, id).await?;
    channel::Entity::delete_many()
        .filter(channel::Column::TenantId.eq(tenant.0))
        .filter(channel::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
