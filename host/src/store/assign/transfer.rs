//! A session handed on by its agent: to a group's queue or to a named agent, the old
//! leg ended and the new one started in one transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{AgentOpError, claim_agent, release};
use crate::routing::events::EventKind;
use crate::sessions::{Session, Status};
use crate::store::entity::session;
use crate::store::presence::{self, Effects};
use crate::store::write::{begin_write, stmt};
use crate::store::{StoreError, TenantId};

/// Claims a slot of `agent` for a session transferred to them by name.
pub async fn claim_for_transfer(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let in_tenant = c
        .query_one_raw(stmt(
            c.get_database_backend(),
            "SELECT 1 AS x FROM agents WHERE id = ? AND tenant_id = ?",
            vec![agent.into(), tenant.0.into()],
        ))
        .await?
        .is_some();
    Ok(in_tenant && claim_agent(c, agent, now, cutoff).await?.is_some())
}

/// Writes a manual transfer: the old leg ends (its status set by the caller, 101) and
/// the new leg starts, queued or with the target agent, in one transaction. The old
/// agent's slot is freed without wrap-up: they handed the user on.
#[allow(clippy::too_many_arguments)]
pub async fn commit_transfer(
    db: &DatabaseConnection,
    old: &Session,
    from_agent: Uuid,
    next: &Session,
    note: Option<&str>,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<(), AgentOpError> {
    use sea_orm::ActiveModelTrait;
    let tenant = TenantId(old.tenant_id);
    let (txn, _writer) = begin_write(db).await?;
    let mut model = crate::store::session_rows::session_model(old, old.version + 1);
    model.id = sea_orm::ActiveValue::NotSet;
    model.tenant_id = sea_orm::ActiveValue::NotSet;
    model.created_at = sea_orm::ActiveValue::NotSet;
    let updated = session::Entity::update_many()
        .set(model)
        .filter(session::Column::Id.eq(old.id))
        .filter(session::Column::Version.eq(old.version))
        .filter(session::Column::Status.eq(Status::WithAgent.as_str()))
        .filter(session::Column::AgentId.eq(from_agent))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AgentOpError::NotActive);
    }
    crate::store::session_rows::session_model(next, next.version + 1)
        .insert(&txn)
        .await?;
    let transfer = crate::records::Transfer {
        from: old.id,
        to: next.id,
        by_agent: from_agent,
        to_agent: next.agent_id,
        to_group: next.skill_group_id,
        note: note.map(str::to_owned),
    };
    for (leg, before) in [(old, Some(Status::WithAgent)), (next, None)] {
        let change = crate::records::Change {
            session: leg,
            before,
            messages: Vec::new(),
            at: now,
            transfer: Some(transfer.clone()),
        };
        crate::store::records::track(&txn, &change).await?;
    }
    // Two agents' rows: lock them in id order so that crossing transfers never wait
    // on each other.
    let target = next.agent_id;
    if target.is_some_and(|t| t < from_agent) {
        claim_target(&txn, tenant, next, from_agent, note, now, cutoff, effects).await?;
        release(
            &txn, tenant, from_agent, old, false, false, now, cutoff, effects,
        )
        .await?;
    } else {
        release(
            &txn, tenant, from_agent, old, false, false, now, cutoff, effects,
        )
        .await?;
        if target.is_some() {
            claim_target(&txn, tenant, next, from_agent, note, now, cutoff, effects).await?;
        }
    }
    txn.commit().await?;
    crate::metrics::session_ended(old);
    crate::metrics::session_turn(true, Status::Ended, next);
    if next.status == Status::Queued
        && let Some(g) = next.skill_group_id
    {
        effects.groups.push((tenant.0, g));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn claim_target(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    next: &Session,
    from_agent: Uuid,
    note: Option<&str>,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<(), AgentOpError> {
    let Some(target) = next.agent_id else {
        return Ok(());
    };
    if !claim_for_transfer(txn, tenant, target, now, cutoff).await? {
        return Err(AgentOpError::AgentUnavailable);
    }
    let mut shown = next.clone();
    shown.version += 1;
    let data = serde_json::json!({ "session": shown, "transferred_by": from_agent, "note": note });
    presence::push(txn, tenant, target, EventKind::Assigned, data, now, effects).await?;
    presence::refresh(txn, tenant, target, now, cutoff, effects).await?;
    Ok(())
}
