//! Queues, offers and assignment, atomic in the database.
//!
//! Three invariants hold whatever the number of nodes: a session is never with two
//! agents, an agent never holds more sessions than their cap, and a session only goes
//! to an agent who chose `free`. Each is enforced by the guard of the `UPDATE` that
//! would break it, not by what was read before: the queue's head is claimed with
//! `FOR UPDATE SKIP LOCKED` (so nodes routing the same queue take different
//! sessions), and an agent is claimed by an `UPDATE … WHERE active_sessions < cap AND
//! chosen = 'free'` on their row, which PostgreSQL re-checks under the row lock.
//! Locks are always taken session first, agent second, so transactions never wait on
//! each other in a cycle.
//!
//! - `route`: the statements of routing a queue (its head, the members who could take
//!   a session, a session given to one); `routing::dispatch` decides who gets what;
//! - `offers`: accepting, declining, expiring and withdrawing offers, and freeing slots;
//! - `transfer`: a session handed on by its agent, to a group or a named agent;
//! - `queues`: which queues wait, what must leave them, and their figures.

mod offers;
mod queues;
mod route;
mod transfer;

pub use offers::*;
pub use queues::*;
pub use route::*;
pub use transfer::*;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::sessions::Status;
use crate::store::entity::session;
use crate::store::write::stmt;
use crate::store::{StoreError, TenantId};

pub(super) fn queue_query(tenant: TenantId, group: Uuid) -> sea_orm::Select<session::Entity> {
    session::Entity::find()
        .filter(session::Column::TenantId.eq(tenant.0))
        .filter(session::Column::SkillGroupId.eq(group))
        .filter(session::Column::Status.eq(Status::Queued.as_str()))
        .order_by_desc(session::Column::Priority)
        .order_by_asc(session::Column::QueuedAt)
        .order_by_asc(session::Column::Id)
}

/// Takes one session slot of the agent, if the agent can still take it: chose
/// `free`, is under the cap, not wrapping up, and has a live connection. Answers the
/// agent's sessions after the claim, or `None` when the agent could not take it.
pub async fn claim_agent(
    c: &impl ConnectionTrait,
    agent: Uuid,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<Option<i32>, StoreError> {
    let row = c
        .query_one_raw(stmt(
            c.get_database_backend(),
            "UPDATE agent_presence SET active_sessions = active_sessions + 1, last_offered_at = ?, updated_at = ? \
             WHERE agent_id = ? AND chosen = 'free' \
             AND active_sessions < (SELECT a.max_concurrent_sessions FROM agents a WHERE a.id = agent_presence.agent_id AND a.active = TRUE) \
             AND (acw_until IS NULL OR acw_until <= ?) \
             AND EXISTS (SELECT 1 FROM agent_connections c WHERE c.agent_id = agent_presence.agent_id AND c.seen_at > ?) \
             RETURNING active_sessions",
            vec![now.into(), now.into(), agent.into(), now.into(), cutoff.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("", "active_sessions")?),
        None => None,
    })
}

/// Gives back one session slot of the agent. `wrap_up` starts after-call work and a
/// new idle period.
pub(super) async fn free_slot(
    c: &impl ConnectionTrait,
    agent: Uuid,
    now: DateTime<Utc>,
    wrap_up: Option<i32>,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    match wrap_up {
        Some(secs) => {
            let acw: Option<DateTime<Utc>> =
                (secs > 0).then(|| now + chrono::Duration::seconds(i64::from(secs)));
            c.execute_raw(stmt(
                b,
                "UPDATE agent_presence SET active_sessions = CASE WHEN active_sessions > 0 THEN active_sessions - 1 ELSE 0 END, \
                 acw_until = ?, idle_since = ?, updated_at = ? WHERE agent_id = ?",
                vec![acw.into(), now.into(), now.into(), agent.into()],
            ))
            .await?;
        }
        None => {
            c.execute_raw(stmt(
                b,
                "UPDATE agent_presence SET active_sessions = CASE WHEN active_sessions > 0 THEN active_sessions - 1 ELSE 0 END, \
                 updated_at = ? WHERE agent_id = ?",
                vec![now.into(), agent.into()],
            ))
            .await?;
        }
    }
    Ok(())
}

/// Why an agent's action on a session was refused.
#[derive(Debug, thiserror::Error)]
pub enum AgentOpError {
    /// Not a session of this tenant the agent has anything to do with.
    #[error("no such session")]
    NotFound,
    /// The offer expired, was withdrawn, or was never the agent's.
    #[error("the offer is no longer yours")]
    OfferGone,
    /// The session is not with this agent (any more).
    #[error("the session is not with you")]
    NotActive,
    /// The target agent cannot take a session now.
    #[error("the agent cannot take a session now")]
    AgentUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for AgentOpError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}
