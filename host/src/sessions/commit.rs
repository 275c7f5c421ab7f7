//! A turn's transaction: its rows, what it means for agents, and its replies to
//! deliver, committed together. The session's messages reach its agent's workbench, a
//! session that leaves its agent frees their slot (refilled at once from the agent's
//! queues), and a session that joins a queue goes to a free member at once when it is
//! the queue's head.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use uuid::Uuid;

use super::{Session, Status};
use crate::directory::SkillGroup;
use crate::routing::dispatch::{self, Routed};
use crate::routing::events::EventKind;
use crate::routing::ranking::Shortlist;
use crate::store::presence::{self, Effects};
use crate::store::sessions::{self as store, CommitError, NewDelivery, NewMessage, TurnWrite};
use crate::store::write::grouped;
use crate::store::{StoreError, TenantId, assign, skill_groups};

/// Everything one turn writes, owned: the write may run twice (when the transaction
/// it shared with other turns failed, it runs again alone).
#[derive(Debug)]
pub(super) struct Turn {
    /// The session as it is after the turn; `version` is the one it was read at.
    pub session: Session,
    pub is_new: bool,
    pub messages: Vec<NewMessage>,
    /// The IM request this turn answers: its key and its response.
    pub receipt: Option<(String, String)>,
    pub deliveries: Vec<NewDelivery>,
    pub before_agent: Option<(Uuid, Status)>,
    pub before: Status,
    pub cutoff: DateTime<Utc>,
    /// The settings of the skill group the session joins, when it joins one (read in
    /// the turn otherwise).
    pub group: Option<SkillGroup>,
    /// That group's best members (read in the turn otherwise).
    pub shortlist: Option<Shortlist>,
    /// The node the turn runs on, named in its effects.
    pub node: Uuid,
}

impl Turn {
    fn write(&self) -> TurnWrite<'_> {
        TurnWrite {
            session: &self.session,
            is_new: self.is_new,
            messages: &self.messages,
            receipt: self
                .receipt
                .as_ref()
                .map(|(key, response)| (key.as_str(), response.as_str())),
            deliveries: &self.deliveries,
            before_agent: self.before_agent,
            before: self.before,
            cutoff: self.cutoff,
        }
    }
}

/// Writes a turn atomically, its commit shared with the turns writing at the same
/// time; on success the session's stored version is `session.version + 1`. A turn
/// that queues its session also routes the head of the queue in the same
/// transaction: the sessions that went to agents so (the turn's own among them, when
/// it was the head and a member was free) are the answer, with the work to do now
/// that it is committed.
pub(super) async fn commit(
    db: &DatabaseConnection,
    turn: Turn,
) -> Result<(Vec<Session>, Effects), CommitError> {
    let turn = Arc::new(turn);
    grouped(
        db,
        Box::new(move |txn| {
            let turn = turn.clone();
            Box::pin(async move {
                let mut effects = Effects {
                    node: turn.node,
                    ..Effects::default()
                };
                let w = turn.write();
                let first_seq = store::write_turn(txn, &w).await?;
                let now = Utc::now();
                let routed = agent_side(txn, &w, &turn, first_seq, now, &mut effects).await?;
                Ok((routed, effects))
            })
        }),
    )
    .await
}

/// What a turn means for agents. Answers the sessions routed here.
async fn agent_side(
    txn: &DatabaseTransaction,
    w: &TurnWrite<'_>,
    turn: &Turn,
    first_seq: i32,
    now: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Vec<Session>, StoreError> {
    let s = w.session;
    let tenant = TenantId(s.tenant_id);
    let holds = |agent: Uuid| {
        matches!(s.status, Status::Offered | Status::WithAgent) && s.agent_id == Some(agent)
    };
    if let Some(agent) = s.agent_id
        && holds(agent)
    {
        for (i, m) in w.messages.iter().enumerate() {
            let message = m.stored(s.id, (first_seq + i as i32).max(0) as u32);
            presence::push(
                txn,
                tenant,
                agent,
                EventKind::Message,
                serde_json::json!({"session_id": s.id, "message": message}),
                now,
                effects,
            )
            .await?;
        }
    }
    let mut released = false;
    let mut routed = Vec::new();
    if let Some((agent, was)) = w.before_agent
        && matches!(was, Status::Offered | Status::WithAgent)
        && !holds(agent)
    {
        assign::release(
            txn,
            tenant,
            agent,
            s,
            was == Status::Offered,
            true,
            now,
            w.cutoff,
            effects,
        )
        .await?;
        released = true;
        // The freed slot goes to the next waiting session at once, unless the session
        // is joining a queue itself (a transfer: the router hands it on).
        if s.status != Status::Queued
            && let Some(next) = dispatch::refill(txn, tenant, agent, now, w.cutoff, effects).await?
        {
            routed.push(next);
        }
    }
    if s.status == Status::Queued
        && w.before != Status::Queued
        && let Some(group) = s.skill_group_id
    {
        // Routing here holds an agent's row; with another agent's row already held
        // (the one just released) two transactions could wait on each other, so that
        // case is left to the router.
        if !released {
            let read = match &turn.group {
                Some(g) if g.id == group => Ok(g.clone()),
                _ => skill_groups::get(txn, tenant, group).await,
            };
            match read {
                Ok(g) => {
                    let kicks = effects.agents.len();
                    if let Routed::Assigned(list) = dispatch::route_in(
                        txn,
                        tenant,
                        &g,
                        now,
                        w.cutoff,
                        1,
                        turn.shortlist.clone(),
                        effects,
                    )
                    .await?
                    {
                        routed.extend(list);
                    }
                    // Agents who just took a session would only send the router here.
                    effects.agents.truncate(kicks);
                }
                // Deleted meanwhile: the router ends the session's wait.
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        if !routed.iter().any(|r| r.id == s.id) {
            effects.groups.push((s.tenant_id, group));
        }
    }
    Ok(routed)
}
