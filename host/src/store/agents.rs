//! Agents and their skill-group memberships.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{agent, agent_skill_group, skill_group};
use super::write::stmt;
use super::{StoreError, TenantId, auth_sessions, find_in_tenant, like_pattern, unique_violation};
use crate::directory::{
    Agent, AgentFilter, AgentPatch, FieldErrors, Membership, NewAgent, Page, PageRequest, Role,
};

/// What login needs to know about an account.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub agent_id: Uuid,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
}

/// Creates an agent with its memberships. `new` must already be validated.
pub async fn create(
    db: &sea_orm::DatabaseConnection,
    tenant: TenantId,
    new: NewAgent,
    password_hash: String,
) -> Result<Agent, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    check_groups_exist(&txn, tenant, &new.skill_groups).await?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let model = agent::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.0),
        email: Set(new.email),
        nickname: Set(new.nickname.unwrap_or_else(|| new.name.clone())),
        name: Set(new.name),
        phone: Set(new.phone),
        staff_no: Set(new.staff_no),
        role: Set(new.role.as_str().to_owned()),
        max_concurrent_sessions: Set(new.max_concurrent_sessions),
        password_hash: Set(password_hash),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        deactivated_at: Set(None),
    };
    model.insert(&txn).await.map_err(agent_conflict)?;
    replace_memberships(&txn, tenant, id, &new.skill_groups).await?;
    let agent = get(&txn, tenant, id).await?;
    txn.commit().await?;
    Ok(agent)
}

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Agent, StoreError> {
    let model = find_in_tenant(db, agent::Column::TenantId, tenant, id).await?;
    let mut memberships = memberships_of(db, &[id]).await?;
    Ok(to_domain(
        model,
        memberships.remove(&id).unwrap_or_default(),
    ))
}

/// The skill groups agent `id` is a member of.
pub async fn groups_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(agent_skill_group::Entity::find()
        .filter(agent_skill_group::Column::TenantId.eq(tenant.0))
        .filter(agent_skill_group::Column::AgentId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.skill_group_id)
        .collect())
}

/// An agent's tenant and the (skill group, name) of each group they are a member of,
/// by name.
pub type Memberships = (Uuid, Vec<(Uuid, String)>);

/// The memberships of each of `agents`, in one query per chunk: the one reader of who
/// is in which group for routing. Agents who no longer exist are left out.
pub async fn memberships(
    db: &impl ConnectionTrait,
    agents: &[Uuid],
) -> Result<HashMap<Uuid, Memberships>, StoreError> {
    let mut out: HashMap<Uuid, Memberships> = HashMap::new();
    for chunk in agents.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let rows = db
            .query_all_raw(stmt(
                db.get_database_backend(),
                &format!(
                    "SELECT a.id AS agent_id, a.tenant_id, g.id AS group_id, g.name \
                     FROM agents a \
                     LEFT JOIN agent_skill_groups m ON m.agent_id = a.id AND m.tenant_id = a.tenant_id \
                     LEFT JOIN skill_groups g ON g.id = m.skill_group_id \
                     WHERE a.id IN ({marks}) ORDER BY a.id, g.name"
                ),
                chunk.iter().map(|a| (*a).into()).collect(),
            ))
            .await?;
        for r in rows {
            let agent: Uuid = r.try_get("", "agent_id")?;
            let tenant: Uuid = r.try_get("", "tenant_id")?;
            let entry = out.entry(agent).or_insert_with(|| (tenant, Vec::new()));
            let group: Option<Uuid> = r.try_get("", "group_id")?;
            let name: Option<String> = r.try_get("", "name")?;
            if let (Some(group), Some(name)) = (group, name) {
                entry.1.push((group, name));
            }
        }
    }
    Ok(out)
}

/// The skill groups of each of `ids` (agents without any are left out).
pub async fn groups_of_many(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>, StoreError> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for m in agent_skill_group::Entity::find()
        .filter(agent_skill_group::Column::TenantId.eq(tenant.0))
        .filter(agent_skill_group::Column::AgentId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        out.entry(m.agent_id).or_default().push(m.skill_group_id);
    }
    Ok(out)
}

/// What end users are told of an agent: nickname and staff number (one row read,
/// without the memberships `get` adds).
pub async fn shown_to_users(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<(String, Option<String>), StoreError> {
    let model = find_in_tenant(db, agent::Column::TenantId, tenant, id).await?;
    Ok((model.nickname, model.staff_no))
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &AgentFilter,
    page: PageRequest,
) -> Result<Page<Agent>, StoreError> {
    let mut query = agent::Entity::find().filter(agent::Column::TenantId.eq(tenant.0));
    if let Some(q) = &filter.q {
        let pattern = like_pattern(q);
        let mut any = Condition::any();
        for col in [
            agent::Column::Name,
            agent::Column::Nickname,
            agent::Column::Email,
            agent::Column::StaffNo,
        ] {
            any = any.add(
                Expr::expr(Func::lower(Expr::col(col)))
                    .like(LikeExpr::new(pattern.as_str()).escape('\\')),
            );
        }
        query = query.filter(any);
    }
    if let Some(role) = filter.role {
        query = query.filter(agent::Column::Role.eq(role.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(agent::Column::Active.eq(active));
    }
    if let Some(group) = filter.skill_group_id {
        query = query.filter(
            agent::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(agent_skill_group::Column::AgentId)
                    .from(agent_skill_group::Entity)
                    .and_where(agent_skill_group::Column::TenantId.eq(tenant.0))
                    .and_where(agent_skill_group::Column::SkillGroupId.eq(group))
                    .to_owned(),
            ),
        );
    }
    let order = [
        (agent::Column::CreatedAt, Order::Asc),
        (agent::Column::Id, Order::Asc),
    ];
    let models = super::page_of(db, query, &order, page).await?;
    let ids: Vec<Uuid> = models.items.iter().map(|m| m.id).collect();
    let mut memberships = memberships_of(db, &ids).await?;
    Ok(models.map(|m| {
        let groups = memberships.remove(&m.id).unwrap_or_default();
        to_domain(m, groups)
    }))
}

/// Applies a validated patch. A new password or a deactivation elsewhere signs the
/// agent out everywhere; demoting the last active admin is refused.
pub async fn update(
    db: &sea_orm::DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    patch: AgentPatch,
    password_hash: Option<String>,
) -> Result<Agent, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let current = find_in_tenant(&txn, agent::Column::TenantId, tenant, id).await?;
    if let Some(groups) = &patch.skill_groups {
        check_groups_exist(&txn, tenant, groups).await?;
    }
    if patch.role.is_some_and(|r| r != Role::Admin)
        && current.role == Role::Admin.as_str()
        && current.active
    {
        ensure_another_admin(&txn, tenant, id).await?;
    }
    let mut model: agent::ActiveModel = current.into();
    if let Some(v) = patch.email {
        model.email = Set(v);
    }
    if let Some(v) = patch.name {
        model.name = Set(v);
    }
    if let Some(v) = patch.nickname {
        model.nickname = Set(v);
    }
    if let Some(v) = patch.phone {
        model.phone = Set(v);
    }
    if let Some(v) = patch.staff_no {
        model.staff_no = Set(v);
    }
    if let Some(v) = patch.role {
        model.role = Set(v.as_str().to_owned());
    }
    if let Some(v) = patch.max_concurrent_sessions {
        model.max_concurrent_sessions = Set(v);
    }
    let signs_out = password_hash.is_some();
    if let Some(hash) = password_hash {
        model.password_hash = Set(hash);
    }
    model.updated_at = Set(Utc::now());
    model.update(&txn).await.map_err(agent_conflict)?;
    if let Some(groups) = &patch.skill_groups {
        replace_memberships(&txn, tenant, id, groups).await?;
    }
    if signs_out {
        auth_sessions::revoke_all_for_agent(&txn, tenant, id).await?;
    }
    let agent = get(&txn, tenant, id).await?;
    txn.commit().await?;
    Ok(agent)
}

/// Deactivates (signing the agent out everywhere) or reactivates an agent. An admin
/// cannot deactivate themselves, and a tenant always keeps one active admin.
pub async fn set_active(
    db: &sea_orm::DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    active: bool,
    actor: Uuid,
) -> Result<Agent, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let current = find_in_tenant(&txn, agent::Column::TenantId, tenant, id).await?;
    if current.active != active {
        if !active {
            if id == actor {
                return Err(StoreError::conflict(
                    "cannot_deactivate_self",
                    "you cannot deactivate your own account",
                ));
            }
            if current.role == Role::Admin.as_str() {
                ensure_another_admin(&txn, tenant, id).await?;
            }
            auth_sessions::revoke_all_for_agent(&txn, tenant, id).await?;
        }
        let mut model: agent::ActiveModel = current.into();
        let now = Utc::now();
        model.active = Set(active);
        model.deactivated_at = Set(if active { None } else { Some(now) });
        model.updated_at = Set(now);
        model.update(&txn).await?;
    }
    let agent = get(&txn, tenant, id).await?;
    txn.commit().await?;
    Ok(agent)
}

/// Looks up an account by e-mail for login.
pub async fn credentials(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    email: &str,
) -> Result<Option<Credentials>, StoreError> {
    let model = agent::Entity::find()
        .filter(agent::Column::TenantId.eq(tenant.0))
        .filter(agent::Column::Email.eq(email))
        .one(db)
        .await?;
    Ok(model.map(|m| Credentials {
        agent_id: m.id,
        role: Role::parse(&m.role).unwrap_or(Role::Agent),
        active: m.active,
        password_hash: m.password_hash,
    }))
}

/// Sets an account's password hash and signs it out everywhere.
pub async fn set_password(
    db: &sea_orm::DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
    password_hash: String,
) -> Result<(), StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let mut model: agent::ActiveModel = find_in_tenant(&txn, agent::Column::TenantId, tenant, id)
        .await?
        .into();
    model.password_hash = Set(password_hash);
    model.updated_at = Set(Utc::now());
    model.update(&txn).await?;
    auth_sessions::revoke_all_for_agent(&txn, tenant, id).await?;
    txn.commit().await?;
    Ok(())
}

async fn ensure_another_admin(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    except: Uuid,
) -> Result<(), StoreError> {
    let others = agent::Entity::find()
        .filter(agent::Column::TenantId.eq(tenant.0))
        .filter(agent::Column::Role.eq(Role::Admin.as_str()))
        .filter(agent::Column::Active.eq(true))
        .filter(agent::Column::Id.ne(except))
        .count(db)
        .await?;
    if others == 0 {
        return Err(StoreError::conflict(
            "last_admin",
            "the tenant must keep at least one active admin",
        ));
    }
    Ok(())
}

async fn check_groups_exist(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    groups: &[Membership],
) -> Result<(), StoreError> {
    if groups.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = groups.iter().map(|m| m.skill_group_id).collect();
    let found: HashSet<Uuid> = skill_group::Entity::find()
        .select_only()
        .column(skill_group::Column::Id)
        .filter(skill_group::Column::TenantId.eq(tenant.0))
        .filter(skill_group::Column::Id.is_in(ids))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut errors = FieldErrors::new();
    for (i, m) in groups.iter().enumerate() {
        if !found.contains(&m.skill_group_id) {
            errors.add(
                format!("skill_groups[{i}].skill_group_id"),
                "no such skill group",
            );
        }
    }
    errors.into_result().map_err(StoreError::Invalid)
}

async fn replace_memberships(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent_id: Uuid,
    groups: &[Membership],
) -> Result<(), StoreError> {
    agent_skill_group::Entity::delete_many()
        .filter(agent_skill_group::Column::TenantId.eq(tenant.0))
        .filter(agent_skill_group::Column::AgentId.eq(agent_id))
        .exec(db)
        .await?;
    if groups.is_empty() {
        return Ok(());
    }
    let rows = groups.iter().map(|m| agent_skill_group::ActiveModel {
        agent_id: Set(agent_id),
        skill_group_id: Set(m.skill_group_id),
        tenant_id: Set(tenant.0),
        priority: Set(m.priority),
    });
    agent_skill_group::Entity::insert_many(rows)
        .exec(db)
        .await?;
    Ok(())
}

async fn memberships_of(
    db: &impl ConnectionTrait,
    agents: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Membership>>, StoreError> {
    let mut out: HashMap<Uuid, Vec<Membership>> = HashMap::new();
    if agents.is_empty() {
        return Ok(out);
    }
    let rows = agent_skill_group::Entity::find()
        .filter(agent_skill_group::Column::AgentId.is_in(agents.iter().copied()))
        .order_by_asc(agent_skill_group::Column::Priority)
        .order_by_asc(agent_skill_group::Column::SkillGroupId)
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.agent_id).or_default().push(Membership {
            skill_group_id: r.skill_group_id,
            priority: r.priority,
        });
    }
    Ok(out)
}

fn to_domain(m: agent::Model, skill_groups: Vec<Membership>) -> Agent {
    Agent {
        id: m.id,
        role: Role::parse(&m.role).unwrap_or(Role::Agent),
        email: m.email,
        name: m.name,
        nickname: m.nickname,
        phone: m.phone,
        staff_no: m.staff_no,
        max_concurrent_sessions: m.max_concurrent_sessions,
        skill_groups,
        active: m.active,
        created_at: m.created_at,
        updated_at: m.updated_at,
        deactivated_at: m.deactivated_at,
    }
}

fn agent_conflict(e: sea_orm::DbErr) -> StoreError {
    match unique_violation(&e) {
        Some(msg) if msg.contains("staff_no") => StoreError::conflict(
            "staff_no_taken",
            "another agent of this tenant has this staff number",
        ),
        Some(_) => StoreError::conflict(
            "email_taken",
            "another agent of this tenant has this e-mail address",
        ),
        None => e.into(),
    }
}
