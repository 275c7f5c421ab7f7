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

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entity::session;
use super::presence::{self, Effects};
use super::sessions::to_session;
use super::write::{begin_write, stmt};
use super::{StoreError, TenantId};
use crate::directory::{AcceptMode, Page, PageRequest, RoutingStrategy, SkillGroup};
use crate::routing::events::{self, EventKind, Withdrawn};
use crate::routing::status::{Chosen, MISSED};
use crate::sessions::{Session, Status, end_status};

/// What one attempt to route a queue did.
#[derive(Debug)]
pub enum Routed {
    /// These sessions went to agents (offered, or assigned at once), in queue order.
    /// Fewer than asked for means the queue or the free agents ran out.
    Assigned(Vec<Session>),
    /// Nothing waits in the queue (or every waiting session is being routed by
    /// another node).
    Empty,
    /// Sessions wait but no member can take any of them now.
    NoAgent,
}

fn queue_query(tenant: TenantId, group: Uuid) -> sea_orm::Select<session::Entity> {
    session::Entity::find()
        .filter(session::Column::TenantId.eq(tenant.0))
        .filter(session::Column::SkillGroupId.eq(group))
        .filter(session::Column::Status.eq(Status::Queued.as_str()))
        .order_by_desc(session::Column::Priority)
        .order_by_asc(session::Column::QueuedAt)
        .order_by_asc(session::Column::Id)
}

/// A member who could take a session, with what the strategy orders by.
#[derive(Debug, Clone)]
struct Candidate {
    agent: Uuid,
    priority: i32,
    active: i32,
    cap: i32,
    idle_since: DateTime<Utc>,
    last_offered: Option<DateTime<Utc>>,
}

/// Orders members best first: by their priority in the group (1 first), then by the
/// group's strategy.
fn rank(candidates: &mut [Candidate], strategy: RoutingStrategy) {
    candidates.sort_by(|a, b| {
        let by_strategy = match strategy {
            // Idle agents first, the one idle longest before the others.
            RoutingStrategy::LongestIdle => (a.active > 0)
                .cmp(&(b.active > 0))
                .then(a.idle_since.cmp(&b.idle_since)),
            RoutingStrategy::LeastLoaded => (i64::from(a.active) * i64::from(b.cap))
                .cmp(&(i64::from(b.active) * i64::from(a.cap)))
                .then(a.idle_since.cmp(&b.idle_since)),
            // Never offered first, then the one offered longest ago.
            RoutingStrategy::RoundRobin => a.last_offered.cmp(&b.last_offered),
        };
        a.priority
            .cmp(&b.priority)
            .then(by_strategy)
            .then(a.agent.cmp(&b.agent))
    });
}

/// Which members to read.
#[derive(Debug, Clone, Copy)]
struct Wanted<'a> {
    /// Members passed over (they declined or missed the session).
    except: &'a [Uuid],
    /// Only this member (the user's last agent).
    only: Option<Uuid>,
    /// At most this many, best first.
    limit: usize,
}

/// The best members of `group` who could take a session now, best first by the
/// group's rules, at most `wanted.limit` of them: a group of hundreds is ranked by the
/// database, and only its first few are read. Read without locks: the claim re-checks
/// everything.
async fn candidates(
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
    // The same order as `rank`, which keeps the list in order as claims change it.
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
    let mut out = rows
        .into_iter()
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
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Ties the database may break otherwise (equal times) are broken the same way.
    rank(&mut out, group.routing.strategy);
    Ok(out)
}

/// Takes one session slot of the agent, if the agent can still take it: chose
/// `free`, is under the cap, not wrapping up, and has a live connection. Answers the
/// agent's sessions after the claim, or `None` when the agent could not take it.
async fn claim_agent(
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
async fn free_slot(
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

/// The agent who last served this user on this channel, within `window_secs`.
async fn last_agent(
    c: &impl ConnectionTrait,
    s: &session::Model,
    now: DateTime<Utc>,
    window_secs: i32,
) -> Result<Option<Uuid>, StoreError> {
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

/// Sessions routed in one transaction at most: enough to drain a burst quickly, few
/// enough that the first of them reaches its agent without waiting for the others.
pub const BATCH: u64 = 16;

/// Routes the first sessions of `group`'s queue, in order, each to the best member
/// who can take it now. A session no free member may take (everyone free declined it)
/// is passed over for the next one; it keeps its place.
pub async fn route_next(
    db: &DatabaseConnection,
    tenant: TenantId,
    group: &SkillGroup,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Routed, StoreError> {
    let (txn, _writer) = begin_write(db).await?;
    let routed = route_in(&txn, tenant, group, now, cutoff, BATCH, None, effects).await?;
    if matches!(routed, Routed::Assigned(_)) {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    Ok(routed)
}

/// Members of a group who could take a session, best first, read before a write
/// turn: ranking a group of hundreds then costs the turn nothing, while every other
/// writer waits for it. Read without locks, like every list of candidates: the claim
/// in the turn re-checks each member, and a list found stale there is read again.
///
/// A node may keep a list for the turns that follow, told of each claim they make
/// (`claimed`, `lost`): while the list still holds a member, its first is the best
/// member of the group but for changes made elsewhere since the read.
#[derive(Debug, Clone)]
pub struct Shortlist {
    group: Uuid,
    strategy: RoutingStrategy,
    members: Vec<Candidate>,
    /// Every member who could take a session was read (the list was not cut short).
    complete: bool,
}

impl Shortlist {
    pub fn group(&self) -> Uuid {
        self.group
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Another transaction gave the agent a session; they now hold `active`. In a
    /// list cut short the agent leaves it: where they rank now among the members never
    /// read is unknown, while every member left still ranks above those.
    pub fn claimed(&mut self, agent: Uuid, active: i32, at: DateTime<Utc>) {
        let Some(i) = self.members.iter().position(|c| c.agent == agent) else {
            return;
        };
        if !self.complete || active >= self.members[i].cap {
            self.members.remove(i);
            return;
        }
        self.members[i].active = active;
        self.members[i].last_offered = Some(at);
        rank(&mut self.members, self.strategy);
    }

    /// The agent could not be claimed: they cannot take a session now.
    pub fn lost(&mut self, agent: Uuid) {
        self.members.retain(|c| c.agent != agent);
    }
}

/// A change to a member's standing made by a committed transaction: what a kept
/// shortlist of the group must learn.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub tenant: Uuid,
    pub group: Uuid,
    pub agent: Uuid,
    /// The sessions the agent holds after the claim, or `None` when the agent could
    /// not be claimed.
    pub active: Option<i32>,
    pub at: DateTime<Utc>,
}

/// Reads the `size` best members of `group` who could take a session now.
pub async fn shortlist(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    group: &SkillGroup,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    size: usize,
) -> Result<Shortlist, StoreError> {
    let wanted = Wanted {
        except: &[],
        only: None,
        limit: size,
    };
    let members = candidates(db, tenant, group, now, cutoff, wanted).await?;
    Ok(Shortlist {
        group: group.id,
        strategy: group.routing.strategy,
        complete: members.len() < size,
        members,
    })
}

/// The members a turn routing `limit` sessions reads: twice as many as it may need,
/// and a few more for claims that fail.
fn best(limit: u64) -> Wanted<'static> {
    Wanted {
        except: &[],
        only: None,
        limit: (limit as usize) * 2 + 8,
    }
}

/// Routes at most `limit` sessions from the head of `group`'s queue inside the
/// caller's write transaction, which must not hold any agent's row yet (locks go
/// session first, agent second). A turn that just queued its session calls this
/// before committing, so that a session arriving to a free agent is theirs in the
/// same transaction, with no second write and no wait for the router; it may bring
/// the group's shortlist, read before the turn.
#[allow(clippy::too_many_arguments)]
pub async fn route_in(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    group: &SkillGroup,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    limit: u64,
    read_before: Option<Shortlist>,
    effects: &mut Effects,
) -> Result<Routed, StoreError> {
    let mut heads: std::collections::VecDeque<session::Model> = queue_query(tenant, group.id)
        .limit(limit * 2)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(txn)
        .await?
        .into();
    if heads.is_empty() {
        return Ok(Routed::Empty);
    }
    // A shortlist of the best members. While it still holds a member not given a
    // session in this transaction, its first is the group's best (members beyond it
    // rank below every such member, and nothing here changed them); once it holds
    // none and was cut short, it is read again.
    let wanted = best(limit);
    // A list read before the turn may be stale: once no member of it can be claimed,
    // it is read again here, once.
    let (mut free, mut cut_short, mut read_outside) =
        match read_before.filter(|l| l.group == group.id && !l.is_empty()) {
            Some(list) => (list.members, !list.complete, true),
            None => {
                let free = candidates(txn, tenant, group, now, cutoff, wanted).await?;
                let cut_short = free.len() == wanted.limit;
                (free, cut_short, false)
            }
        };
    let mut given: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    let manual = group.routing.accept_mode == AcceptMode::Manual;
    let mut assigned = Vec::new();
    while let Some(head) = heads.pop_front() {
        if assigned.len() as u64 >= limit {
            break;
        }
        if cut_short && free.iter().all(|c| given.contains(&c.agent)) {
            free = candidates(txn, tenant, group, now, cutoff, wanted).await?;
            cut_short = free.len() == wanted.limit;
        }
        if free.is_empty() {
            break;
        }
        let skipped: Vec<Uuid> = serde_json::from_str(&head.skipped_agents).unwrap_or_default();
        let mut order: Vec<usize> = (0..free.len())
            .filter(|i| !skipped.contains(&free[*i].agent))
            .collect();
        if order.is_empty() && cut_short {
            // Everyone listed passed this session over; look past them.
            for c in candidates(
                txn,
                tenant,
                group,
                now,
                cutoff,
                Wanted {
                    except: &skipped,
                    only: None,
                    limit: 4,
                },
            )
            .await?
            {
                if !free.iter().any(|f| f.agent == c.agent) {
                    free.push(c);
                    order.push(free.len() - 1);
                }
            }
        }
        if order.is_empty() {
            continue;
        }
        if group.routing.prefer_last_agent
            && let Some(last) =
                last_agent(txn, &head, now, group.routing.last_agent_window_secs).await?
            && !skipped.contains(&last)
        {
            let at = match order.iter().position(|i| free[*i].agent == last) {
                Some(at) => Some(at),
                // Not on the shortlist: free enough to take it?
                None => match candidates(
                    txn,
                    tenant,
                    group,
                    now,
                    cutoff,
                    Wanted {
                        except: &[],
                        only: Some(last),
                        limit: 1,
                    },
                )
                .await?
                .pop()
                {
                    Some(c) if !free.iter().any(|f| f.agent == c.agent) => {
                        free.push(c);
                        order.push(free.len() - 1);
                        Some(order.len() - 1)
                    }
                    _ => None,
                },
            };
            if let Some(at) = at {
                let last = order.remove(at);
                order.insert(0, last);
            }
        }
        let mut chosen = None;
        let mut gone = Vec::new();
        for i in order {
            let claimed = claim_agent(txn, free[i].agent, now, cutoff).await?;
            effects.claims.push(Claim {
                tenant: tenant.0,
                group: group.id,
                agent: free[i].agent,
                active: claimed,
                at: now,
            });
            if let Some(active) = claimed {
                // The stored count, not the one read before: another transaction may
                // have given the agent a session meanwhile.
                free[i].active = active;
                chosen = Some(i);
                break;
            }
            // Changed meanwhile (another node, a status change): not a candidate now.
            gone.push(i);
        }
        let Some(i) = chosen else {
            if std::mem::take(&mut read_outside) {
                free = candidates(txn, tenant, group, now, cutoff, wanted).await?;
                cut_short = free.len() == wanted.limit;
                heads.push_front(head);
                continue;
            }
            break;
        };
        let agent = free[i].agent;
        given.insert(agent);
        assigned.push(assign(txn, tenant, head, agent, group, manual, now, effects).await?);
        free[i].last_offered = Some(now);
        if free[i].active >= free[i].cap {
            presence::refresh(txn, tenant, agent, now, cutoff, effects).await?;
            gone.push(i);
        }
        gone.sort_unstable();
        for i in gone.into_iter().rev() {
            free.remove(i);
        }
        rank(&mut free, group.routing.strategy);
    }
    if assigned.is_empty() {
        return Ok(Routed::NoAgent);
    }
    Ok(Routed::Assigned(assigned))
}

/// Gives the session to the agent, whose slot is already claimed.
#[allow(clippy::too_many_arguments)]
async fn assign(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    head: session::Model,
    agent: Uuid,
    group: &SkillGroup,
    manual: bool,
    now: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Session, StoreError> {
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
            head.id.into(),
        ],
    ))
    .await?;
    let mut s = to_session(head)?;
    s.status = status;
    s.agent_id = Some(agent);
    s.offered_at = Some(now);
    s.offer_expires_at = expires;
    s.assigned_at = (!manual).then_some(now);
    s.version += 1;
    s.updated_at = now;
    super::records::track_routing(txn, &s, Status::Queued, now).await?;
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

/// The session as seen by `agent`: `NotFound` unless it is or was theirs to handle.
async fn agents_session(
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
    let m = agents_session(&txn, tenant, agent, id).await?;
    if m.status != Status::Offered.as_str() || m.agent_id != Some(agent) {
        return Err(AgentOpError::OfferGone);
    }
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
    super::records::track_routing(&txn, &s, Status::Offered, now).await?;
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
    let m = agents_session(&txn, tenant, agent, id).await?;
    if m.status != Status::Offered.as_str() || m.agent_id != Some(agent) {
        return Err(AgentOpError::OfferGone);
    }
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
    super::records::track_routing(&txn, &s, Status::Offered, now).await?;
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

/// Sessions whose manual offer has expired.
pub async fn expired_offers(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, StoreError> {
    session::Entity::find()
        .filter(session::Column::Status.eq(Status::Offered.as_str()))
        .filter(session::Column::OfferExpiresAt.lte(now))
        .order_by_asc(session::Column::OfferExpiresAt)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(to_session)
        .collect()
}

/// The sessions offered to `agent`.
pub async fn offers_of(db: &impl ConnectionTrait, agent: Uuid) -> Result<Vec<Session>, StoreError> {
    session::Entity::find()
        .filter(session::Column::AgentId.eq(agent))
        .filter(session::Column::Status.eq(Status::Offered.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(to_session)
        .collect()
}

/// The agent's offered and ongoing sessions, oldest first.
pub async fn sessions_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
) -> Result<Vec<Session>, StoreError> {
    session::Entity::find()
        .filter(session::Column::TenantId.eq(tenant.0))
        .filter(session::Column::AgentId.eq(agent))
        .filter(
            session::Column::Status.is_in([Status::Offered.as_str(), Status::WithAgent.as_str()]),
        )
        .order_by_asc(session::Column::OfferedAt)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(to_session)
        .collect()
}

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

/// Queued sessions that must leave the queue: waited past the group's limit, or
/// behind the group's length limit. Oldest first.
pub async fn overdue(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    group: &SkillGroup,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, StoreError> {
    let limit = now - chrono::Duration::seconds(i64::from(group.routing.queue_max_wait_secs));
    let mut out: Vec<Session> = queue_query(tenant, group.id)
        .filter(session::Column::QueuedAt.lte(limit))
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(to_session)
        .collect::<Result<_, _>>()?;
    let beyond: Vec<Session> = queue_query(tenant, group.id)
        .offset(group.routing.queue_max_length.max(0) as u64)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(to_session)
        .collect::<Result<_, _>>()?;
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
    let total = queue_query(tenant, group).count(db).await?;
    let items = queue_query(tenant, group)
        .offset(page.offset())
        .limit(page.page_size)
        .all(db)
        .await?
        .into_iter()
        .map(to_session)
        .collect::<Result<_, _>>()?;
    Ok(Page {
        items,
        total,
        page: page.page,
        page_size: page.page_size,
    })
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

/// The groups an agent is a member of.
pub async fn groups_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT g.id, g.name FROM agent_skill_groups m JOIN skill_groups g ON g.id = m.skill_group_id \
             WHERE m.agent_id = ? AND m.tenant_id = ? ORDER BY g.name",
            vec![agent.into(), tenant.0.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "name")?)))
        .collect()
}

/// The tenant and the (skill group, name) memberships of each of `agents`, in one
/// query per chunk. Agents who no longer exist are left out.
pub async fn memberships(
    db: &impl ConnectionTrait,
    agents: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (Uuid, Vec<(Uuid, String)>)>, StoreError> {
    let mut out: std::collections::HashMap<Uuid, (Uuid, Vec<(Uuid, String)>)> =
        std::collections::HashMap::new();
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
    let mut model = super::sessions::session_model(old, old.version + 1);
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
    super::sessions::session_model(next, next.version + 1)
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
        super::records::track(&txn, &change).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn member(n: u128, active: i32, idle_secs_ago: i64) -> Candidate {
        Candidate {
            agent: Uuid::from_u128(n),
            priority: 1,
            active,
            cap: 2,
            idle_since: Utc::now() - chrono::Duration::seconds(idle_secs_ago),
            last_offered: None,
        }
    }

    fn list(members: Vec<Candidate>, complete: bool) -> Shortlist {
        let mut members = members;
        rank(&mut members, RoutingStrategy::LongestIdle);
        Shortlist {
            group: Uuid::from_u128(99),
            strategy: RoutingStrategy::LongestIdle,
            members,
            complete,
        }
    }

    fn order(l: &Shortlist) -> Vec<u128> {
        l.members.iter().map(|c| c.agent.as_u128()).collect()
    }

    #[test]
    fn a_complete_list_reranks_a_claimed_member_and_drops_them_at_their_cap() {
        let mut l = list(
            vec![member(1, 0, 30), member(2, 0, 20), member(3, 1, 60)],
            true,
        );
        assert_eq!(order(&l), [1, 2, 3]);
        // Agent 1 now has a session: idle agent 2 goes first, 1 ranks by idle time
        // among the busy.
        l.claimed(Uuid::from_u128(1), 1, Utc::now());
        assert_eq!(order(&l), [2, 3, 1]);
        l.claimed(Uuid::from_u128(3), 2, Utc::now());
        assert_eq!(order(&l), [2, 1], "at their cap, agent 3 leaves the list");
        l.lost(Uuid::from_u128(2));
        assert_eq!(order(&l), [1]);
    }

    #[test]
    fn a_list_cut_short_drops_a_claimed_member() {
        // Members beyond the list were never read: after a claim, agent 1 might rank
        // below any of them, so the list must not name agent 1 first again.
        let mut l = list(vec![member(1, 0, 30), member(2, 0, 20)], false);
        l.claimed(Uuid::from_u128(1), 1, Utc::now());
        assert_eq!(order(&l), [2]);
        l.claimed(Uuid::from_u128(2), 1, Utc::now());
        assert!(l.is_empty());
        // A claim of someone not listed changes nothing.
        let mut l = list(vec![member(1, 0, 30)], false);
        l.claimed(Uuid::from_u128(7), 1, Utc::now());
        assert_eq!(order(&l), [1]);
    }
}
