//! Skill groups and their routing settings.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{agent_skill_group, skill_group};
use super::{StoreError, TenantId, find_in_tenant, unique_violation};
use crate::directory::{
    AcceptMode, NewSkillGroup, Page, PageRequest, RoutingSettings, RoutingStrategy, SkillGroup,
    SkillGroupPatch,
};

pub async fn create(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    new: NewSkillGroup,
) -> Result<SkillGroup, StoreError> {
    let now = Utc::now();
    let r = new.routing;
    let model = skill_group::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        name: Set(new.name),
        description: Set(new.description),
        strategy: Set(r.strategy.as_str().to_owned()),
        prefer_last_agent: Set(r.prefer_last_agent),
        last_agent_window_secs: Set(r.last_agent_window_secs),
        accept_mode: Set(r.accept_mode.as_str().to_owned()),
        offer_timeout_secs: Set(r.offer_timeout_secs),
        queue_max_length: Set(r.queue_max_length),
        queue_max_wait_secs: Set(r.queue_max_wait_secs),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let m = model.insert(db).await.map_err(name_conflict)?;
    Ok(to_domain(m, 0))
}

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<SkillGroup, StoreError> {
    let m = find_in_tenant(db, skill_group::Column::TenantId, tenant, id).await?;
    let count = member_count(db, tenant, id).await?;
    Ok(to_domain(m, count))
}

/// Finds a group by name, for the demo seed and imports.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
) -> Result<Option<SkillGroup>, StoreError> {
    let Some(m) = skill_group::Entity::find()
        .filter(skill_group::Column::TenantId.eq(tenant.0))
        .filter(skill_group::Column::Name.eq(name))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let count = member_count(db, tenant, m.id).await?;
    Ok(Some(to_domain(m, count)))
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    page: PageRequest,
) -> Result<Page<SkillGroup>, StoreError> {
    let query = skill_group::Entity::find().filter(skill_group::Column::TenantId.eq(tenant.0));
    let order = [
        (skill_group::Column::Name, Order::Asc),
        (skill_group::Column::Id, Order::Asc),
    ];
    let models = super::page_of(db, query, &order, page).await?;
    let ids: Vec<Uuid> = models.items.iter().map(|m| m.id).collect();
    let counts: HashMap<Uuid, i64> = if ids.is_empty() {
        HashMap::new()
    } else {
        agent_skill_group::Entity::find()
            .select_only()
            .column(agent_skill_group::Column::SkillGroupId)
            .column_as(agent_skill_group::Column::AgentId.count(), "n")
            .filter(agent_skill_group::Column::TenantId.eq(tenant.0))
            .filter(agent_skill_group::Column::SkillGroupId.is_in(ids))
            .group_by(agent_skill_group::Column::SkillGroupId)
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(models.map(|m| {
        let n = counts.get(&m.id).copied().unwrap_or(0);
        to_domain(m, u64::try_from(n).unwrap_or(0))
    }))
}

/// Applies a patch; `routing` is the validated result of applying its routing part.
pub async fn update(
    db: &sea_orm::DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    patch: SkillGroupPatch,
    routing: RoutingSettings,
) -> Result<SkillGroup, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let current = find_in_tenant(&txn, skill_group::Column::TenantId, tenant, id).await?;
    let mut model: skill_group::ActiveModel = current.into();
    if let Some(v) = patch.name {
        model.name = Set(v);
    }
    if let Some(v) = patch.description {
        model.description = Set(v);
    }
    model.strategy = Set(routing.strategy.as_str().to_owned());
    model.prefer_last_agent = Set(routing.prefer_last_agent);
    model.last_agent_window_secs = Set(routing.last_agent_window_secs);
    model.accept_mode = Set(routing.accept_mode.as_str().to_owned());
    model.offer_timeout_secs = Set(routing.offer_timeout_secs);
    model.queue_max_length = Set(routing.queue_max_length);
    model.queue_max_wait_secs = Set(routing.queue_max_wait_secs);
    model.updated_at = Set(Utc::now());
    model.update(&txn).await.map_err(name_conflict)?;
    let group = get(&txn, tenant, id).await?;
    txn.commit().await?;
    Ok(group)
}

/// Deletes a group that no agent is a member of.
pub async fn delete(
    db: &sea_orm::DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
) -> Result<(), StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    find_in_tenant(&txn, skill_group::Column::TenantId, tenant, id).await?;
    let members = member_count(&txn, tenant, id).await?;
    if members > 0 {
        return Err(StoreError::conflict(
            "skill_group_in_use",
            format!("{members} agent(s) are members of this skill group; remove them first"),
        ));
    }
    skill_group::Entity::delete_many()
        .filter(skill_group::Column::TenantId.eq(tenant.0))
        .filter(skill_group::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

async fn member_count(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<u64, StoreError> {
    Ok(agent_skill_group::Entity::find()
        .filter(agent_skill_group::Column::TenantId.eq(tenant.0))
        .filter(agent_skill_group::Column::SkillGroupId.eq(id))
        .count(db)
        .await?)
}

fn to_domain(m: skill_group::Model, agent_count: u64) -> SkillGroup {
    let defaults = RoutingSettings::default();
    SkillGroup {
        id: m.id,
        name: m.name,
        description: m.description,
        routing: RoutingSettings {
            strategy: RoutingStrategy::parse(&m.strategy).unwrap_or(defaults.strategy),
            prefer_last_agent: m.prefer_last_agent,
            last_agent_window_secs: m.last_agent_window_secs,
            accept_mode: AcceptMode::parse(&m.accept_mode).unwrap_or(defaults.accept_mode),
            offer_timeout_secs: m.offer_timeout_secs,
            queue_max_length: m.queue_max_length,
            queue_max_wait_secs: m.queue_max_wait_secs,
        },
        agent_count,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn name_conflict(e: sea_orm::DbErr) -> StoreError {
    if unique_violation(&e).is_some() {
        StoreError::conflict(
            "skill_group_name_taken",
            "another skill group of this tenant has this name",
        )
    } else {
        e.into()
    }
}
