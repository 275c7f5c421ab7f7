//! The statements routing a queue is made of: the queue's head locked for this
//! transaction, the members who could take a session now as the database ranks them,
//! the user's last agent, and a session given to a member whose slot is claimed. Which
//! member gets which session is `routing::dispatch`'s to decide.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::queue_query;
use crate::directory::{RoutingStrategy, SkillGroup};
use crate::routing::events::EventKind;
use crate::routing::ranking::Candidate;
use crate::sessions::{Session, Status};
use crate::store::entity::session;
use crate::store::presence::{self, Effects};
use crate::store::session_rows::to_session;
use crate::store::write::stmt;
use crate::store::{StoreError, TenantId};

/// Which members to read.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// Members passed over (they declined or missed the session).
    pub except: &'a [Uuid],
    /// Only this member (the user's last agent).
    pub only: Option<Uuid>,
    /// At most this many, best first.
    pub limit: usize,
}

/// A session at the head of a queue, its row locked by the transaction that read it.
#[derive(Debug)]
pub struct Head {
    row: session::Model,
    /// The members who passed this session over (declined it or let the offer lapse).
    pub skipped: Vec<Uuid>,
}

impl Head {
    /// The session's id.
    pub fn id(&self) -> Uuid {
        self.row.id
    }
}

/// The first `limit` sessions waiting in `group`'s queue, in queue order, each locked
/// for the caller's transaction; sessions another transaction holds are left out.
pub async fn heads(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    group: Uuid,
    limit: u64,
) -> Result<Vec<Head>, StoreError> {
    Ok(queue_query(tenant, group)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(txn)
        .await?
        .into_iter()
        .map(|row| Head {
            skipped: serde_json::from_str(&row.skipped_agents).unwrap_or_default(),
            row,
        })
        .collect())
}

/// The best members of `group` who could take a session now, best first by the
/// group's strategy, at most `wanted.limit` of them: a group of hundreds is ranked by
/// the database, and only its first few are read. Read without locks: the claim
/// re-checks everything. Ties (equal times) come in the database's order.
pub async fn candidates(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    group: &SkillGroup,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    wanted: Wanted<'_>,
) -> Result<Vec<Candidate>, StoreError> {
    let mut sql = String::from(
        "SELECT p.agent_id, m.priority, p.active_sessions, a.max_concurrent_sessions, p.idle_since, p.last_offered_at \
         FROM agent_skill_groups m \
         JOIN agents a ON a.id = m.agent_id \
         JOIN agent_presence p ON p.agent_id = m.agent_id \
         WHERE m.skill_group_id = ? AND m.tenant_id = ? AND a.active = TRUE \
         AND p.chosen = 'free' AND p.active_sessions < a.max_concurrent_sessions \
         AND (p.acw_until IS NULL OR p.acw_until <= ?) \
         AND EXISTS (SELECT 1 FROM agent_connections c WHERE c.agent_id = p.agent_id AND c.seen_at > ?)",
    );
    let mut values: Vec<sea_orm::Value> =
        vec![group.id.into(), tenant.0.into(), now.into(), cutoff.into()];
    if let Some(only) = wanted.only {
        sql.push_str(" AND p.agent_id = ?");
        values.push(only.into());
    }
    if !wanted.except.is_empty() {
        sql.push_str(" AND p.agent_id NOT IN (");
        sql.push_str(&vec!["?"; wanted.except.len()].join(", "));
        sql.push(')');
        values.extend(wanted.except.iter().map(|a| (*a).into()));
    }
    // The order of `routing::ranking::rank`.
    sql.push_str(match group.routing.strategy {
        RoutingStrategy::LongestIdle => {
            " ORDER BY m.priority, CASE WHEN p.active_sessions > 0 THEN 1 ELSE 0 END, p.idle_since, p.agent_id"
        }
        RoutingStrategy::LeastLoaded => {
            " ORDER BY m.priority, CAST(p.active_sessions AS REAL) / a.max_concurrent_sessions, p.idle_since, p.agent_id"
        }
        RoutingStrategy::RoundRobin => {
            " ORDER BY m.priority, CASE WHEN p.last_offered_at IS NULL THEN 0 ELSE 1 END, p.last_offered_at, p.agent_id"
        }
    });
    sql.push_str(" LIMIT ?");
    values.push((wanted.limit as i64).into());
    let rows = c
        .query_all_raw(stmt(c.get_database_backend(), &sql, values))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Candidate {
                agent: r.try_get("", "agent_id")?,
                priority: r.try_get("", "priority")?,
                active: r.try_get("", "active_sessions")?,
                cap: r.try_get("", "max_concurrent_sessions")?,
                idle_since: r.try_get("", "idle_since")?,
                last_offered: r.try_get("", "last_offered_at")?,
            })
        })
        .collect()
}

/// The agent who last served the user of `head` on its channel, within `window_secs`.
pub async fn last_agent(
    c: &impl ConnectionTrait,
    head: &Head,
    now: DateTime<Utc>,
    window_secs: i32,
) -> Result<Option<Uuid>, StoreError> {
    let s = &head.row;
    let since = now - chrono::Duration::seconds(i64::from(window_secs));
    Ok(session::Entity::find()
        .filter(session::Column::ChannelId.eq(s.channel_id))
        .filter(session::Column::UserId.eq(s.user_id.as_str()))
        .filter(session::Column::Id.ne(s.id))
        .filter(session::Column::AgentId.is_not_null())
        .filter(session::Column::AssignedAt.gt(since))
        .order_by_desc(session::Column::AssignedAt)
        .one(c)
        .await?
        .and_then(|m| m.agent_id))
}

/// Gives the session to the agent, whose slot is already claimed: offered in a group
/// that accepts by hand, with them at once otherwise.
pub async fn assign(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    head: Head,
    agent: Uuid,
    group: &SkillGroup,
    now: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Session, StoreError> {
    let manual = group.routing.accept_mode == crate::directory::AcceptMode::Manual;
    let expires = manual
        .then(|| now + chrono::Duration::seconds(i64::from(group.routing.offer_timeout_secs)));
    let status = if manual {
        Status::Offered
    } else {
        Status::WithAgent
    };
    // The row is locked (PostgreSQL) or the transaction holds the write lock (SQLite):
    // the version cannot have moved.
    txn.execute_raw(stmt(
        txn.get_database_backend(),
        "UPDATE sessions SET status = ?, agent_id = ?, offered_at = ?, offer_expires_at = ?, assigned_at = ?, \
         version = version + 1, updated_at = ? WHERE id = ? AND status = 'queued'",
        vec![
            status.as_str().into(),
            agent.into(),
            now.into(),
            expires.into(),
            (!manual).then_some(now).into(),
            now.into(),
            head.row.id.into(),
        ],
    ))
    .await?;
    let mut s = to_session(head.row)?;
    s.status = status;
    s.agent_id = Some(agent);
    s.offered_at = Some(now);
    s.offer_expires_at = expires;
    s.assigned_at = (!manual).then_some(now);
    s.version += 1;
    s.updated_at = now;
    crate::store::records::track_routing(txn, &s, Status::Queued, now).await?;
    let kind = if manual {
        EventKind::Offer
    } else {
        EventKind::Assigned
    };
    presence::push(
        txn,
        tenant,
        agent,
        kind,
        serde_json::json!({ "session": &s }),
        now,
        effects,
    )
    .await?;
    Ok(s)
}
