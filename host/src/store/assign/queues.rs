//! Queues as read: which groups have sessions waiting (all of them, or an agent's),
//! which must leave their queue, a page of a queue in order, and a queue's live
//! figures.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::queue_query;
use crate::directory::{Page, PageRequest, SkillGroup};
use crate::sessions::{Session, Status};
use crate::store::entity::session;
use crate::store::session_rows::{all_sessions, to_session};
use crate::store::write::stmt;
use crate::store::{StoreError, TenantId};

/// Every (tenant, skill group) with sessions waiting.
pub async fn queued_groups(db: &impl ConnectionTrait) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT DISTINCT tenant_id, skill_group_id FROM sessions WHERE status = 'queued' AND skill_group_id IS NOT NULL",
            vec![],
        ))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get("", "tenant_id")?,
                r.try_get("", "skill_group_id")?,
            ))
        })
        .collect()
}

/// Of the queues `agent` serves in `tenant`, the one whose head has waited longest
/// (highest priority first), if any of them has a session waiting.
pub async fn longest_waiting_of(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    let row = c
        .query_one_raw(stmt(
            c.get_database_backend(),
            "SELECT s.skill_group_id FROM agent_skill_groups m \
             JOIN sessions s ON s.skill_group_id = m.skill_group_id AND s.status = 'queued' \
             WHERE m.agent_id = ? AND m.tenant_id = ? AND s.tenant_id = ? \
             ORDER BY s.priority DESC, s.queued_at, s.id LIMIT 1",
            vec![agent.into(), tenant.0.into(), tenant.0.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("", "skill_group_id")?),
        None => None,
    })
}

/// Queued sessions that must leave the queue: waited past the group's limit, or
/// behind the group's length limit. Oldest first.
pub async fn overdue(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    group: &SkillGroup,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, StoreError> {
    let limit = now - chrono::Duration::seconds(i64::from(group.routing.queue_max_wait_secs));
    let mut out: Vec<Session> = all_sessions(
        db,
        queue_query(tenant, group.id)
            .filter(session::Column::QueuedAt.lte(limit))
            .limit(200),
    )
    .await?;
    let beyond: Vec<Session> = all_sessions(
        db,
        queue_query(tenant, group.id)
            .offset(group.routing.queue_max_length.max(0) as u64)
            .limit(200),
    )
    .await?;
    for s in beyond {
        if !out.iter().any(|o| o.id == s.id) {
            out.push(s);
        }
    }
    Ok(out)
}

/// A page of the group's queue, in queue order.
pub async fn queue_page(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    group: Uuid,
    page: PageRequest,
) -> Result<Page<Session>, StoreError> {
    // The queue's own order is the page's.
    crate::store::page_of(db, queue_query(tenant, group), &[], page)
        .await?
        .try_map(to_session)
}

/// Live figures of a skill group's queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub waiting: u32,
    pub agents_online: u32,
    pub agents_free: u32,
    pub longest_wait_secs: u32,
    pub estimated_wait_secs: u32,
}

/// How long a session stays with an agent when nothing is known yet.
const DEFAULT_HANDLE_SECS: i64 = 180;

pub async fn figures(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    group: Uuid,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<Figures, StoreError> {
    let b = db.get_database_backend();
    let waiting = queue_query(tenant, group).count(db).await?;
    let oldest = queue_query(tenant, group)
        .order_by_asc(session::Column::QueuedAt)
        .one(db)
        .await?
        .and_then(|m| m.queued_at);
    let row = db
        .query_one_raw(stmt(
            b,
            "SELECT \
             COALESCE(SUM(CASE WHEN p.shown <> 'offline' THEN 1 ELSE 0 END), 0) AS online, \
             COALESCE(SUM(CASE WHEN p.chosen = 'free' AND p.active_sessions < a.max_concurrent_sessions \
               AND (p.acw_until IS NULL OR p.acw_until <= ?) THEN 1 ELSE 0 END), 0) AS free, \
             COALESCE(SUM(CASE WHEN p.chosen = 'free' THEN a.max_concurrent_sessions ELSE 0 END), 0) AS capacity \
             FROM agent_skill_groups m JOIN agents a ON a.id = m.agent_id JOIN agent_presence p ON p.agent_id = m.agent_id \
             WHERE m.skill_group_id = ? AND m.tenant_id = ? AND a.active = TRUE \
             AND EXISTS (SELECT 1 FROM agent_connections c WHERE c.agent_id = p.agent_id AND c.seen_at > ?)",
            vec![now.into(), group.into(), tenant.0.into(), cutoff.into()],
        ))
        .await?;
    let (online, free, capacity): (i64, i64, i64) = match row {
        Some(r) => (
            r.try_get("", "online")?,
            r.try_get("", "free")?,
            r.try_get("", "capacity")?,
        ),
        None => (0, 0, 0),
    };
    let handle = average_handle_secs(db, tenant, group).await?;
    let estimated = if free > 0 && waiting == 0 {
        0
    } else if capacity == 0 {
        // Nobody to serve: the wait is unknown; say one handling time per session ahead.
        handle * (waiting as i64 + 1)
    } else {
        handle * (waiting as i64 + 1) / capacity
    };
    Ok(Figures {
        waiting: waiting.min(u64::from(u32::MAX)) as u32,
        agents_online: online.clamp(0, i64::from(u32::MAX)) as u32,
        agents_free: free.clamp(0, i64::from(u32::MAX)) as u32,
        longest_wait_secs: oldest
            .map(|t| (now - t).num_seconds().clamp(0, i64::from(u32::MAX)) as u32)
            .unwrap_or(0),
        estimated_wait_secs: estimated.clamp(0, i64::from(u32::MAX)) as u32,
    })
}

/// The mean time the group's last 50 served sessions spent with their agent.
async fn average_handle_secs(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    group: Uuid,
) -> Result<i64, StoreError> {
    let recent = session::Entity::find()
        .filter(session::Column::TenantId.eq(tenant.0))
        .filter(session::Column::SkillGroupId.eq(group))
        .filter(session::Column::Status.eq(Status::Ended.as_str()))
        .filter(session::Column::AssignedAt.is_not_null())
        .order_by_desc(session::Column::EndedAt)
        .limit(50)
        .all(db)
        .await?;
    let spans: Vec<i64> = recent
        .iter()
        .filter_map(|m| Some((m.ended_at? - m.assigned_at?).num_seconds()))
        .filter(|s| *s > 0)
        .collect();
    if spans.is_empty() {
        Ok(DEFAULT_HANDLE_SECS)
    } else {
        Ok(spans.iter().sum::<i64>() / spans.len() as i64)
    }
}
