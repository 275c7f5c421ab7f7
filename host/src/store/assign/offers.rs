//! Offers and slots: an agent accepts or declines, an offer expires or is withdrawn,
//! a session leaving its agent frees their slot; and the offers and sessions an agent
//! holds.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{AgentOpError, free_slot};
use crate::routing::events::{self, EventKind, Withdrawn};
use crate::routing::status::{Chosen, MISSED};
use crate::sessions::{Session, Status, end_status};
use crate::store::entity::session;
use crate::store::presence::{self, Effects};
use crate::store::session_rows::{agents_sessions, all_sessions, to_session};
use crate::store::write::{begin_write, stmt};
use crate::store::{StoreError, TenantId};

/// The session as seen by `agent`: `NotFound` unless it is or was theirs to handle.
pub(super) async fn agents_session(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    id: Uuid,
) -> Result<session::Model, AgentOpError> {
    let m = session::Entity::find_by_id(id)
        .filter(session::Column::TenantId.eq(tenant.0))
        .one(c)
        .await?
        .ok_or(AgentOpError::NotFound)?;
    let skipped: Vec<Uuid> = serde_json::from_str(&m.skipped_agents).unwrap_or_default();
    if m.agent_id == Some(agent) || skipped.contains(&agent) {
        Ok(m)
    } else {
        Err(AgentOpError::NotFound)
    }
}

/// The session as it stands while it is still offered to `agent`: `OfferGone` once
/// the offer was accepted, withdrawn or moved on.
async fn offered_to(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    id: Uuid,
) -> Result<session::Model, AgentOpError> {
    let m = agents_session(c, tenant, agent, id).await?;
    if m.status != Status::Offered.as_str() || m.agent_id != Some(agent) {
        return Err(AgentOpError::OfferGone);
    }
    Ok(m)
}

/// The agent accepts a session offered to them.
pub async fn accept(
    db: &DatabaseConnection,
    tenant: TenantId,
    agent: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Session, AgentOpError> {
    let (txn, _writer) = begin_write(db).await?;
    let m = offered_to(&txn, tenant, agent, id).await?;
    let updated = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE sessions SET status = 'with_agent', assigned_at = ?, offer_expires_at = NULL, version = version + 1, \
             updated_at = ? WHERE id = ? AND status = 'offered' AND agent_id = ?",
            vec![now.into(), now.into(), id.into(), agent.into()],
        ))
        .await?;
    if updated.rows_affected() != 1 {
        return Err(AgentOpError::OfferGone);
    }
    let mut s = to_session(m)?;
    s.status = Status::WithAgent;
    s.assigned_at = Some(now);
    s.offer_expires_at = None;
    s.version += 1;
    s.updated_at = now;
    crate::store::records::track_routing(&txn, &s, Status::Offered, now).await?;
    presence::push(
        &txn,
        tenant,
        agent,
        EventKind::Assigned,
        serde_json::json!({ "session": &s }),
        now,
        effects,
    )
    .await?;
    txn.commit().await?;
    Ok(s)
}

/// Takes an offer back from its agent: the session returns to its place in the queue
/// (its `queued_at` is kept) and is not offered to that agent again. A missed offer
/// may put the agent on rest. Returns the session as it is now.
#[allow(clippy::too_many_arguments)]
pub async fn withdraw(
    db: &DatabaseConnection,
    tenant: TenantId,
    agent: Uuid,
    id: Uuid,
    reason: Withdrawn,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Session, AgentOpError> {
    let (txn, _writer) = begin_write(db).await?;
    let m = offered_to(&txn, tenant, agent, id).await?;
    let mut s = to_session(m)?;
    // A disconnected agent may come back: only a refusal or a miss skips them.
    if reason != Withdrawn::Disconnected && !s.skipped_agents.contains(&agent) {
        s.skipped_agents.push(agent);
    }
    let group = s.skill_group_id;
    let exhausted = match group {
        Some(g) if reason != Withdrawn::Disconnected => {
            every_member_skipped(&txn, tenant, g, &s.skipped_agents).await?
        }
        _ => false,
    };
    let (status, end) = if exhausted {
        (Status::Ended, Some(end_status::NOT_ACCEPTED))
    } else {
        (Status::Queued, None)
    };
    let updated = txn
        .execute_raw(stmt(
            txn.get_database_backend(),
            "UPDATE sessions SET status = ?, agent_id = NULL, offered_at = NULL, offer_expires_at = NULL, \
             skipped_agents = ?, end_status = ?, ended_at = ?, active_key = CASE WHEN ? THEN NULL ELSE active_key END, \
             idle_deadline = CASE WHEN ? THEN NULL ELSE idle_deadline END, \
             version = version + 1, updated_at = ? WHERE id = ? AND status = 'offered' AND agent_id = ?",
            vec![
                status.as_str().into(),
                serde_json::to_string(&s.skipped_agents).unwrap_or_default().into(),
                end.map(i32::from).into(),
                exhausted.then_some(now).into(),
                exhausted.into(),
                exhausted.into(),
                now.into(),
                id.into(),
                agent.into(),
            ],
        ))
        .await?;
    if updated.rows_affected() != 1 {
        return Err(AgentOpError::OfferGone);
    }
    s.status = status;
    s.agent_id = None;
    s.offered_at = None;
    s.offer_expires_at = None;
    s.end_status = end;
    if exhausted {
        s.ended_at = Some(now);
        s.idle_deadline = None;
    }
    s.version += 1;
    s.updated_at = now;
    crate::store::records::track_routing(&txn, &s, Status::Offered, now).await?;
    free_slot(&txn, agent, now, None).await?;
    presence::push(
        &txn,
        tenant,
        agent,
        EventKind::OfferWithdrawn,
        events::withdrawn(id, reason),
        now,
        effects,
    )
    .await?;
    if reason == Withdrawn::Expired
        && presence::tenant_routing(&txn, tenant)
            .await?
            .rest_on_missed_offer
    {
        presence::set_chosen(
            &txn,
            tenant,
            agent,
            Chosen::Rest,
            Some(MISSED),
            now,
            cutoff,
            effects,
        )
        .await?;
    } else {
        presence::refresh(&txn, tenant, agent, now, cutoff, effects).await?;
    }
    txn.commit().await?;
    if let Some(g) = group {
        effects.groups.push((tenant.0, g));
    }
    effects.agents.push(agent);
    crate::metrics::offer(match reason {
        Withdrawn::Declined => "declined",
        Withdrawn::Expired => "expired",
        _ => "withdrawn",
    });
    if s.status == Status::Ended {
        crate::metrics::session_ended(&s);
    }
    Ok(s)
}

async fn every_member_skipped(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    group: Uuid,
    skipped: &[Uuid],
) -> Result<bool, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT m.agent_id FROM agent_skill_groups m JOIN agents a ON a.id = m.agent_id \
             WHERE m.skill_group_id = ? AND m.tenant_id = ? AND a.active = TRUE",
            vec![group.into(), tenant.0.into()],
        ))
        .await?;
    let mut any = false;
    for r in rows {
        any = true;
        let id: Uuid = r.try_get("", "agent_id")?;
        if !skipped.contains(&id) {
            return Ok(false);
        }
    }
    Ok(any)
}

/// Frees the agent's slot of a session that left them (ended, transferred, or taken
/// back while offered) and tells them. Runs inside the caller's transaction, after
/// the session row was written.
#[allow(clippy::too_many_arguments)]
pub async fn release(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    s: &Session,
    was_offered: bool,
    wrap_up: bool,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<(), StoreError> {
    if was_offered {
        free_slot(c, agent, now, None).await?;
        presence::push(
            c,
            tenant,
            agent,
            EventKind::OfferWithdrawn,
            events::withdrawn(s.id, Withdrawn::Ended),
            now,
            effects,
        )
        .await?;
    } else {
        let acw = if wrap_up {
            presence::tenant_routing(c, tenant)
                .await?
                .after_call_work_secs
        } else {
            0
        };
        free_slot(c, agent, now, Some(acw)).await?;
        presence::push(
            c,
            tenant,
            agent,
            EventKind::SessionEnded,
            serde_json::json!({"session_id": s.id, "status": s.status, "end_status": s.end_status}),
            now,
            effects,
        )
        .await?;
    }
    presence::refresh(c, tenant, agent, now, cutoff, effects).await?;
    effects.agents.push(agent);
    Ok(())
}

/// Sessions whose manual offer has expired.
pub async fn expired_offers(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, StoreError> {
    all_sessions(
        db,
        session::Entity::find()
            .filter(session::Column::Status.eq(Status::Offered.as_str()))
            .filter(session::Column::OfferExpiresAt.lte(now))
            .order_by_asc(session::Column::OfferExpiresAt)
            .limit(200),
    )
    .await
}

/// The sessions offered to `agent`.
pub async fn offers_of(db: &impl ConnectionTrait, agent: Uuid) -> Result<Vec<Session>, StoreError> {
    all_sessions(
        db,
        session::Entity::find()
            .filter(session::Column::AgentId.eq(agent))
            .filter(session::Column::Status.eq(Status::Offered.as_str())),
    )
    .await
}

/// The agent's offered and ongoing sessions, oldest first.
pub async fn sessions_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
) -> Result<Vec<Session>, StoreError> {
    all_sessions(
        db,
        agents_sessions(tenant, agent)
            .filter(
                session::Column::Status
                    .is_in([Status::Offered.as_str(), Status::WithAgent.as_str()]),
            )
            .order_by_asc(session::Column::OfferedAt)
            .limit(200),
    )
    .await
}
