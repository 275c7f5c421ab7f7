//! Who gets the sessions at the head of a queue: the group's best members in its
//! strategy's order, past the members who passed a session over, its user's last agent
//! first when the group prefers them; and which waiting session refills a slot the
//! moment an agent frees it. Runs inside the caller's write transaction (a turn that
//! just queued its session or freed an agent, or the router's drain), on the
//! statements of `store::assign`, whose guards keep the rules that must hold across
//! nodes.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use super::ranking::{Candidate, Claim, Shortlist, rank};
use crate::directory::SkillGroup;
use crate::sessions::Session;
use crate::store::assign::{self, Head, Wanted};
use crate::store::presence::{self, Effects};
use crate::store::write::begin_write;
use crate::store::{StoreError, TenantId, skill_groups};

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

/// Sessions routed in one transaction at most: enough to drain a burst quickly, few
/// enough that the first of them reaches its agent without waiting for the others.
pub const BATCH: u64 = 16;

/// The members a transaction routing `limit` sessions reads: twice as many as it may
/// need, and a few more for claims that fail.
fn best(limit: u64) -> Wanted<'static> {
    Wanted {
        except: &[],
        only: None,
        limit: (limit as usize) * 2 + 8,
    }
}

/// A few of the best, past the members who passed a session over.
fn past(except: &[Uuid]) -> Wanted<'_> {
    Wanted {
        except,
        only: None,
        limit: 4,
    }
}

/// The one member, if free enough to take a session.
fn only(member: Uuid) -> Wanted<'static> {
    Wanted {
        except: &[],
        only: Some(member),
        limit: 1,
    }
}

/// The members `wanted` names, in the group's order (ties broken as `rank` breaks
/// them, which keeps the list in order as claims change it).
async fn read(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    group: &SkillGroup,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    wanted: Wanted<'_>,
) -> Result<Vec<Candidate>, StoreError> {
    let mut members = assign::candidates(c, tenant, group, now, cutoff, wanted).await?;
    rank(&mut members, group.routing.strategy);
    Ok(members)
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
    let members = read(db, tenant, group, now, cutoff, wanted).await?;
    Ok(Shortlist {
        group: group.id,
        strategy: group.routing.strategy,
        complete: members.len() < size,
        members,
    })
}

/// Routes the first sessions of `group`'s queue, in order, each to the best member
/// who can take it now, in a transaction of its own. A session no free member may
/// take (everyone free declined it) is passed over for the next one; it keeps its
/// place.
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
    let mut heads: VecDeque<Head> = assign::heads(txn, tenant, group.id, limit * 2)
        .await?
        .into();
    if heads.is_empty() {
        return Ok(Routed::Empty);
    }
    // A shortlist of the best members. While it still holds a member not given a
    // session in this transaction, its first is the group's best (members beyond it
    // rank below every such member, and nothing here changed them); once it holds
    // none and was cut short, it is read again.
    let members = async |wanted: Wanted<'_>| read(txn, tenant, group, now, cutoff, wanted).await;
    let wanted = best(limit);
    // A list read before the turn may be stale: once no member of it can be claimed,
    // it is read again here, once.
    let (mut free, mut cut_short, mut read_outside) =
        match read_before.filter(|l| l.group == group.id && !l.is_empty()) {
            Some(list) => (list.members, !list.complete, true),
            None => {
                let free = members(wanted).await?;
                let cut_short = free.len() == wanted.limit;
                (free, cut_short, false)
            }
        };
    let mut given: HashSet<Uuid> = HashSet::new();
    let mut assigned = Vec::new();
    while let Some(head) = heads.pop_front() {
        if assigned.len() as u64 >= limit {
            break;
        }
        if cut_short && free.iter().all(|c| given.contains(&c.agent)) {
            free = members(wanted).await?;
            cut_short = free.len() == wanted.limit;
        }
        if free.is_empty() {
            break;
        }
        let mut order: Vec<usize> = (0..free.len())
            .filter(|i| !head.skipped.contains(&free[*i].agent))
            .collect();
        if order.is_empty() && cut_short {
            // Everyone listed passed this session over; look past them.
            for c in members(past(&head.skipped)).await? {
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
                assign::last_agent(txn, &head, now, group.routing.last_agent_window_secs).await?
            && !head.skipped.contains(&last)
        {
            let at = match order.iter().position(|i| free[*i].agent == last) {
                Some(at) => Some(at),
                // Not on the shortlist: free enough to take it?
                None => match members(only(last)).await?.pop() {
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
            let claimed = assign::claim_agent(txn, free[i].agent, now, cutoff).await?;
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
                free = members(wanted).await?;
                cut_short = free.len() == wanted.limit;
                heads.push_front(head);
                continue;
            }
            break;
        };
        let agent = free[i].agent;
        given.insert(agent);
        assigned.push(assign::assign(txn, tenant, head, agent, group, now, effects).await?);
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

/// Refills the slot `agent` just freed, inside the transaction that freed it: the
/// head of the longest-waiting queue among the agent's groups goes to them at once,
/// with no wait for the router. Runs after the agent's row was written (it holds that
/// lock), so it takes no other agent's row and never waits on a session another
/// transaction holds: it cannot close a cycle of waits.
///
/// A queue that waits has no free member but the one just freed (the router would have
/// given them its head), so the group's strategy has no one else to choose. The head
/// is left to the router when the agent passed it over, or when the group prefers the
/// user's last agent and that other member is free.
pub async fn refill(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Option<Session>, StoreError> {
    let Some(group) = assign::longest_waiting_of(txn, tenant, agent).await? else {
        return Ok(None);
    };
    let group = match skill_groups::get(txn, tenant, group).await {
        Ok(g) => g,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(me) = read(txn, tenant, &group, now, cutoff, only(agent))
        .await?
        .pop()
    else {
        // Wrapping up, away, or at the cap still.
        return Ok(None);
    };
    let Some(head) = assign::heads(txn, tenant, group.id, 4)
        .await?
        .into_iter()
        .find(|h| !h.skipped.contains(&agent))
    else {
        return Ok(None);
    };
    if group.routing.prefer_last_agent
        && let Some(last) =
            assign::last_agent(txn, &head, now, group.routing.last_agent_window_secs).await?
        && last != agent
        && !head.skipped.contains(&last)
        && !read(txn, tenant, &group, now, cutoff, only(last))
            .await?
            .is_empty()
    {
        return Ok(None);
    }
    let claimed = assign::claim_agent(txn, agent, now, cutoff).await?;
    effects.claims.push(Claim {
        tenant: tenant.0,
        group: group.id,
        agent,
        active: claimed,
        at: now,
    });
    let Some(active) = claimed else {
        return Ok(None);
    };
    let session = assign::assign(txn, tenant, head, agent, &group, now, effects).await?;
    if active >= me.cap {
        presence::refresh(txn, tenant, agent, now, cutoff, effects).await?;
        // Full again: nothing for the router to do for them.
        effects.agents.retain(|a| *a != agent);
    }
    Ok(Some(session))
}
