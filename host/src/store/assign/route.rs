//! Routing a queue: its head to the best members who can take a session now, claimed
//! in the caller's transaction (a turn that just queued its session, or a drain).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::{Routed, claim_agent, queue_query};
use crate::directory::{AcceptMode, RoutingStrategy, SkillGroup};
use crate::routing::events::EventKind;
use crate::routing::ranking::{Candidate, Claim, Shortlist, rank};
use crate::sessions::{Session, Status};
use crate::store::entity::session;
use crate::store::presence::{self, Effects};
use crate::store::session_rows::to_session;
use crate::store::write::{begin_write, stmt};
use crate::store::{StoreError, TenantId};

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

impl<'a> Wanted<'a> {
    /// The members a turn routing `limit` sessions reads: twice as many as it may
    /// need, and a few more for claims that fail.
    fn best(limit: u64) -> Self {
        Self {
            except: &[],
            only: None,
            limit: (limit as usize) * 2 + 8,
        }
    }

    /// A few of the best, past the members who passed a session over.
    fn past(except: &'a [Uuid]) -> Self {
        Self {
            except,
            only: None,
            limit: 4,
        }
    }

    /// The one member, if free enough to take a session.
    fn only(member: Uuid) -> Self {
        Self {
            except: &[],
            only: Some(member),
            limit: 1,
        }
    }
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
    let read = async |wanted: Wanted<'_>| candidates(txn, tenant, group, now, cutoff, wanted).await;
    let wanted = Wanted::best(limit);
    // A list read before the turn may be stale: once no member of it can be claimed,
    // it is read again here, once.
    let (mut free, mut cut_short, mut read_outside) =
        match read_before.filter(|l| l.group == group.id && !l.is_empty()) {
            Some(list) => (list.members, !list.complete, true),
            None => {
                let free = read(wanted).await?;
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
            free = read(wanted).await?;
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
            for c in read(Wanted::past(&skipped)).await? {
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
                None => match read(Wanted::only(last)).await?.pop() {
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
                free = read(wanted).await?;
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
