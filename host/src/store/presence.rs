//! Agents' presence: the status each agent chose and the one shown, their live
//! workbench connections on any node, the history of status changes, the numbered
//! event stream each workbench reads, and each tenant's reception settings.
//!
//! Everything that changes what an agent is told is written in the same transaction
//! as the event that tells it, numbered from a counter on the agent's row: the row
//! lock orders the numbers, so a workbench that saw event `n` has seen every event
//! before it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, QuerySelect};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    Statement, Value,
};
use uuid::Uuid;

use super::entity::{agent_connection, agent_event, tenant_routing};
use super::write::stmt;
use super::write::write;
use super::{StoreError, TenantId};
use crate::directory::PageRequest;
use crate::routing::events::{self, EventKind};
use crate::routing::status::{Chosen, Inputs, Shown, StatusView, TenantRouting, derive};

/// Work to do once a transaction has committed: events to hand to live sockets and
/// skill groups or agents whose queue should be looked at again.
#[derive(Debug, Default)]
pub struct Effects {
    /// The node the transaction runs on, named on its notifications.
    pub node: Uuid,
    pub pushed: Vec<Pushed>,
    /// (tenant, skill group) whose queue may move.
    pub groups: Vec<(Uuid, Uuid)>,
    /// Agents who may take a session now.
    pub agents: Vec<Uuid>,
    /// Members claimed for a session, or found unable to take one, while routing.
    pub claims: Vec<crate::routing::ranking::Claim>,
}

/// An event stored for an agent, ready to send.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub agent_id: Uuid,
    pub seq: i64,
    pub frame: String,
}

/// An agent's presence row with what it is derived from.
#[derive(Debug, Clone)]
pub struct Presence {
    pub agent_id: Uuid,
    pub tenant_id: Uuid,
    pub chosen: Chosen,
    pub reason: Option<String>,
    pub shown: Shown,
    pub shown_since: DateTime<Utc>,
    pub active_sessions: i32,
    pub max_sessions: i32,
    pub acw_until: Option<DateTime<Utc>>,
    pub last_online_at: Option<DateTime<Utc>>,
    pub online: bool,
    pub event_seq: i64,
}

impl Presence {
    pub fn view(&self) -> StatusView {
        StatusView {
            status: self.shown,
            chosen: self.chosen,
            reason: self.reason.clone(),
            since: self.shown_since,
            online: self.online,
            active_sessions: self.active_sessions,
            max_concurrent_sessions: self.max_sessions,
            after_call_work_until: self.acw_until,
            last_online_at: self.last_online_at,
            last_status_at: self.shown_since,
        }
    }
}

/// Creates the agent's presence row if it has none: `notReady` by choice, offline.
pub async fn ensure(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    let inserted = c
        .execute_raw(stmt(
            b,
            "INSERT INTO agent_presence (agent_id, tenant_id, chosen, reason, shown, shown_since, \
             active_sessions, acw_until, idle_since, last_offered_at, last_online_at, event_seq, updated_at) \
             VALUES (?, ?, 'notReady', NULL, 'offline', ?, 0, NULL, ?, NULL, NULL, 0, ?) \
             ON CONFLICT (agent_id) DO NOTHING",
            vec![agent.into(), tenant.0.into(), now.into(), now.into(), now.into()],
        ))
        .await?;
    if inserted.rows_affected() == 1 {
        log_status(c, tenant.0, agent, Shown::Offline, None, now).await?;
    }
    Ok(())
}

/// Reads an agent's presence; `cutoff` is the oldest heartbeat that still counts as live.
pub async fn load(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    cutoff: DateTime<Utc>,
) -> Result<Option<Presence>, StoreError> {
    let b = c.get_database_backend();
    let row = c
        .query_one_raw(stmt(
            b,
            &format!(
                "SELECT {PRESENCE_COLUMNS} FROM agent_presence p JOIN agents a ON a.id = p.agent_id \
                 WHERE p.agent_id = ? AND p.tenant_id = ?"
            ),
            vec![cutoff.into(), agent.into(), tenant.0.into()],
        ))
        .await?;
    row.map(|row| presence_of(&row)).transpose()
}

/// The columns [`presence_of`] reads, from `agent_presence p JOIN agents a`, with the
/// oldest live heartbeat as the one parameter.
const PRESENCE_COLUMNS: &str = "p.agent_id, p.tenant_id, p.chosen, p.reason, p.shown, p.shown_since, \
     p.active_sessions, p.acw_until, p.last_online_at, p.event_seq, a.max_concurrent_sessions, \
     EXISTS (SELECT 1 FROM agent_connections c WHERE c.agent_id = p.agent_id AND c.seen_at > ?) AS online";

fn presence_of(row: &sea_orm::QueryResult) -> Result<Presence, StoreError> {
    let chosen: String = row.try_get("", "chosen")?;
    let shown: String = row.try_get("", "shown")?;
    Ok(Presence {
        agent_id: row.try_get("", "agent_id")?,
        tenant_id: row.try_get("", "tenant_id")?,
        chosen: Chosen::parse(&chosen).unwrap_or(Chosen::NotReady),
        reason: row.try_get("", "reason")?,
        shown: Shown::parse(&shown).unwrap_or(Shown::Offline),
        shown_since: row.try_get("", "shown_since")?,
        active_sessions: row.try_get("", "active_sessions")?,
        max_sessions: row.try_get("", "max_concurrent_sessions")?,
        acw_until: row.try_get("", "acw_until")?,
        last_online_at: row.try_get("", "last_online_at")?,
        online: row.try_get("", "online")?,
        event_seq: row.try_get("", "event_seq")?,
    })
}

/// The agent's status, whether or not they ever connected.
pub async fn view(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<StatusView, StoreError> {
    ensure(c, tenant, agent, now).await?;
    load(c, tenant, agent, cutoff)
        .await?
        .map(|p| p.view())
        .ok_or(StoreError::NotFound)
}

async fn log_status(
    c: &impl ConnectionTrait,
    tenant: Uuid,
    agent: Uuid,
    shown: Shown,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let b = c.get_database_backend();
    c.execute_raw(stmt(
        b,
        "UPDATE agent_status_log SET ended_at = ? WHERE agent_id = ? AND ended_at IS NULL",
        vec![now.into(), agent.into()],
    ))
    .await?;
    c.execute_raw(stmt(
        b,
        "INSERT INTO agent_status_log (id, tenant_id, agent_id, status, reason, started_at, ended_at) \
         VALUES (?, ?, ?, ?, ?, ?, NULL)",
        vec![
            Uuid::now_v7().into(),
            tenant.into(),
            agent.into(),
            shown.as_str().into(),
            reason.map(str::to_owned).into(),
            now.into(),
        ],
    ))
    .await?;
    let event = crate::webhooks::events::agent_status(agent, shown.as_str(), reason, now);
    super::webhooks::enqueue(c, TenantId(tenant), &[event]).await
}

/// Derives the agent's shown status again; a change is logged, told to the agent,
/// and, when the agent can take sessions now, noted in `effects`.
pub async fn refresh(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<Option<StatusView>, StoreError> {
    let Some(mut p) = load(c, tenant, agent, cutoff).await? else {
        return Ok(None);
    };
    let shown = derive(
        Inputs {
            chosen: p.chosen,
            online: p.online,
            active_sessions: p.active_sessions,
            max_sessions: p.max_sessions,
            acw_until: p.acw_until,
        },
        now,
    );
    let shown_reason = (shown == Shown::Rest).then(|| p.reason.clone()).flatten();
    let old_reason = (p.shown == Shown::Rest).then(|| p.reason.clone()).flatten();
    if shown == p.shown && (shown != Shown::Rest || shown_reason == old_reason) {
        return Ok(Some(p.view()));
    }
    let b = c.get_database_backend();
    // Coming back to work starts a new idle period for longest-idle routing.
    let back =
        shown == Shown::Free && matches!(p.shown, Shown::Offline | Shown::NotReady | Shown::Rest);
    let (sql, values): (&str, Vec<Value>) = if back {
        (
            "UPDATE agent_presence SET shown = ?, shown_since = ?, idle_since = ?, updated_at = ? WHERE agent_id = ?",
            vec![
                shown.as_str().into(),
                now.into(),
                now.into(),
                now.into(),
                agent.into(),
            ],
        )
    } else {
        (
            "UPDATE agent_presence SET shown = ?, shown_since = ?, updated_at = ? WHERE agent_id = ?",
            vec![shown.as_str().into(), now.into(), now.into(), agent.into()],
        )
    };
    c.execute_raw(stmt(b, sql, values)).await?;
    log_status(c, p.tenant_id, agent, shown, shown_reason.as_deref(), now).await?;
    p.shown = shown;
    p.shown_since = now;
    let view = p.view();
    push(
        c,
        tenant,
        agent,
        EventKind::Status,
        serde_json::to_value(&view).unwrap_or_default(),
        now,
        effects,
    )
    .await?;
    if shown == Shown::Free {
        effects.agents.push(agent);
    }
    Ok(Some(view))
}

/// Stores an event for the agent under the next number of their stream.
pub async fn push(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    kind: EventKind,
    data: serde_json::Value,
    now: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<i64, StoreError> {
    let b = c.get_database_backend();
    let payload = data.to_string();
    let seq = if b == DatabaseBackend::Postgres {
        push_postgres(c, tenant, agent, kind, &payload, now, effects.node).await?
    } else {
        // SQLite has no writing `WITH`: the number, then the event.
        let bump = stmt(
            b,
            "UPDATE agent_presence SET event_seq = event_seq + 1 WHERE agent_id = ? RETURNING event_seq",
            vec![agent.into()],
        );
        let row = match c.query_one_raw(bump.clone()).await? {
            Some(row) => row,
            None => {
                ensure(c, tenant, agent, now).await?;
                c.query_one_raw(bump).await?.ok_or(StoreError::NotFound)?
            }
        };
        let seq: i64 = row.try_get("", "event_seq")?;
        c.execute_raw(stmt(
            b,
            "INSERT INTO agent_events (agent_id, seq, tenant_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                agent.into(),
                seq.into(),
                tenant.0.into(),
                kind.as_str().into(),
                payload.clone().into(),
                now.into(),
            ],
        ))
        .await?;
        seq
    };
    effects.pushed.push(Pushed {
        agent_id: agent,
        seq,
        frame: events::frame(seq, kind.as_str(), now, &payload),
    });
    Ok(seq)
}

/// `push` on PostgreSQL, in one statement: numbers the event, stores it, and
/// notifies other nodes when a socket of the agent is open on one of them (the
/// notification is delivered at commit; notifying takes a lock every notifying
/// commit of the database waits for, so an agent whose sockets are all here, handed
/// the event by the hub, costs none). No socket can open unseen in between: opening
/// one updates the agent's presence row, which the transaction holds from the
/// numbering on.
async fn push_postgres(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    kind: EventKind,
    payload: &str,
    now: DateTime<Utc>,
    node: Uuid,
) -> Result<i64, StoreError> {
    let one = || {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "WITH bumped AS (\
               UPDATE agent_presence SET event_seq = event_seq + 1 WHERE agent_id = $1 RETURNING event_seq\
             ), stored AS (\
               INSERT INTO agent_events (agent_id, seq, tenant_id, kind, payload, created_at) \
               SELECT $1, event_seq, $2, $3, $4, $5 FROM bumped RETURNING seq\
             ) \
             SELECT stored.seq, (SELECT count(*) FROM (\
               SELECT pg_notify($8, $6 || ':' || $1::text || ':' || stored.seq::text) \
               FROM agent_connections WHERE agent_id = $1 AND node_id <> $7 LIMIT 1) n) AS notified \
             FROM stored",
            vec![
                agent.into(),
                tenant.0.into(),
                kind.as_str().into(),
                payload.to_owned().into(),
                now.into(),
                node.to_string().into(),
                node.into(),
                super::notify::CHANNEL.into(),
            ],
        )
    };
    let row = match c.query_one_raw(one()).await? {
        Some(row) => row,
        None => {
            ensure(c, tenant, agent, now).await?;
            c.query_one_raw(one()).await?.ok_or(StoreError::NotFound)?
        }
    };
    Ok(row.try_get("", "seq")?)
}

/// The agent's stored events after `after`, oldest first, at most `limit`.
pub async fn events_after(
    db: &impl ConnectionTrait,
    agent: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(agent_event::Entity::find()
        .filter(agent_event::Column::AgentId.eq(agent))
        .filter(agent_event::Column::Seq.gt(after))
        .order_by_asc(agent_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|e| {
            (
                e.seq,
                events::frame(e.seq, &e.kind, e.created_at, &e.payload),
            )
        })
        .collect())
}

/// The oldest event still kept for the agent.
pub async fn first_kept_event(
    db: &impl ConnectionTrait,
    agent: Uuid,
) -> Result<Option<i64>, StoreError> {
    Ok(agent_event::Entity::find()
        .filter(agent_event::Column::AgentId.eq(agent))
        .order_by_asc(agent_event::Column::Seq)
        .one(db)
        .await?
        .map(|e| e.seq))
}

/// Forgets events older than `before`.
pub async fn purge_events(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let q = agent_event::Entity::delete_many().filter(agent_event::Column::CreatedAt.lt(before));
    Ok(write(db, |db| async move { q.exec(&db).await })
        .await?
        .rows_affected)
}

/// Chooses a status for the agent.
#[allow(clippy::too_many_arguments)]
pub async fn set_chosen(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    chosen: Chosen,
    reason: Option<&str>,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<StatusView, StoreError> {
    ensure(c, tenant, agent, now).await?;
    let b = c.get_database_backend();
    c.execute_raw(stmt(
        b,
        "UPDATE agent_presence SET chosen = ?, reason = ?, updated_at = ? WHERE agent_id = ? AND tenant_id = ?",
        vec![
            chosen.as_str().into(),
            reason.map(str::to_owned).into(),
            now.into(),
            agent.into(),
            tenant.0.into(),
        ],
    ))
    .await?;
    refresh(c, tenant, agent, now, cutoff, effects)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Registers the live workbench socket `id` on `node`.
#[allow(clippy::too_many_arguments)]
pub async fn connect(
    c: &impl ConnectionTrait,
    id: Uuid,
    tenant: TenantId,
    agent: Uuid,
    node: Uuid,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    effects: &mut Effects,
) -> Result<(), StoreError> {
    ensure(c, tenant, agent, now).await?;
    let b = c.get_database_backend();
    c.execute_raw(stmt(
        b,
        "INSERT INTO agent_connections (id, agent_id, tenant_id, node_id, connected_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
        vec![id.into(), agent.into(), tenant.0.into(), node.into(), now.into(), now.into()],
    ))
    .await?;
    c.execute_raw(stmt(
        b,
        "UPDATE agent_presence SET last_online_at = ? WHERE agent_id = ?",
        vec![now.into(), agent.into()],
    ))
    .await?;
    refresh(c, tenant, agent, now, cutoff, effects).await?;
    Ok(())
}

/// Marks this node's sockets `connections` as alive, and their agents as online now,
/// in one statement each per chunk. Answers the connections whose rows are gone (swept
/// as stale while this node stalled), for the caller to make again.
pub async fn keep_alive(
    c: &impl ConnectionTrait,
    node: Uuid,
    connections: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, StoreError> {
    let b = c.get_database_backend();
    let mut missing = Vec::new();
    for chunk in connections.chunks(KEEP_ALIVE_CHUNK) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut values: Vec<sea_orm::Value> = vec![now.into(), node.into()];
        values.extend(chunk.iter().map(|id| (*id).into()));
        let seen = c
            .execute_raw(stmt(
                b,
                &format!(
                    "UPDATE agent_connections SET seen_at = ? WHERE node_id = ? AND id IN ({marks})"
                ),
                values,
            ))
            .await?
            .rows_affected();
        if seen < chunk.len() as u64 {
            let present: std::collections::HashSet<Uuid> = c
                .query_all_raw(stmt(
                    b,
                    &format!("SELECT id FROM agent_connections WHERE id IN ({marks})"),
                    chunk.iter().map(|id| (*id).into()).collect(),
                ))
                .await?
                .into_iter()
                .map(|r| r.try_get::<Uuid>("", "id"))
                .collect::<Result<_, _>>()?;
            missing.extend(chunk.iter().filter(|id| !present.contains(id)));
        }
    }
    // On PostgreSQL, rows a routing transaction holds are left for the next beat:
    // taking them here, in no particular order, could deadlock with it.
    let sql = if b == DatabaseBackend::Postgres {
        "UPDATE agent_presence SET last_online_at = ? WHERE agent_id IN (\
           SELECT p.agent_id FROM agent_presence p JOIN agent_connections c ON c.agent_id = p.agent_id \
           WHERE c.node_id = ? FOR UPDATE OF p SKIP LOCKED)"
    } else {
        "UPDATE agent_presence SET last_online_at = ? \
         WHERE agent_id IN (SELECT agent_id FROM agent_connections WHERE node_id = ?)"
    };
    c.execute_raw(stmt(b, sql, vec![now.into(), node.into()]))
        .await?;
    Ok(missing)
}

/// Connections per statement when keeping them alive (well below SQLite's limit on
/// bound values).
const KEEP_ALIVE_CHUNK: usize = 500;

/// Removes a socket's row.
pub async fn disconnect(db: &DatabaseConnection, connection: Uuid) -> Result<(), StoreError> {
    write(db, |db| async move {
        agent_connection::Entity::delete_by_id(connection)
            .exec(&db)
            .await
    })
    .await?;
    Ok(())
}

/// Removes every socket row of `node` (it is stopping).
pub async fn disconnect_node(db: &DatabaseConnection, node: Uuid) -> Result<u64, StoreError> {
    let q =
        agent_connection::Entity::delete_many().filter(agent_connection::Column::NodeId.eq(node));
    Ok(write(db, |db| async move { q.exec(&db).await })
        .await?
        .rows_affected)
}

/// Removes sockets not heard from since `cutoff` (their node died or hung), and
/// returns their agents.
pub async fn sweep_connections(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let stale = agent_connection::Entity::find()
        .filter(agent_connection::Column::SeenAt.lte(cutoff))
        .limit(500)
        .all(db)
        .await?;
    let mut agents = Vec::new();
    for c in stale {
        write(db, |db| async move {
            agent_connection::Entity::delete_by_id(c.id).exec(&db).await
        })
        .await?;
        if !agents.contains(&(c.tenant_id, c.agent_id)) {
            agents.push((c.tenant_id, c.agent_id));
        }
    }
    Ok(agents)
}

/// Agents whose shown status may have changed with time alone (wrap-up over) or with
/// their connections (gone stale).
pub async fn due_refresh(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    let b = db.get_database_backend();
    let rows = db
        .query_all_raw(stmt(
            b,
            "SELECT p.tenant_id, p.agent_id FROM agent_presence p \
             WHERE (p.shown = 'afterCallWork' AND (p.acw_until IS NULL OR p.acw_until <= ?)) \
             OR (p.shown <> 'offline' AND NOT EXISTS (SELECT 1 FROM agent_connections c WHERE c.agent_id = p.agent_id AND c.seen_at > ?)) \
             LIMIT 500",
            vec![now.into(), cutoff.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("", "tenant_id")?, r.try_get("", "agent_id")?)))
        .collect()
}

/// Seconds spent in each shown status between `from` and `to` (open periods count
/// up to `now`).
pub async fn status_seconds(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<HashMap<Shown, i64>, StoreError> {
    let b = db.get_database_backend();
    let rows = db
        .query_all_raw(stmt(
            b,
            "SELECT status, started_at, ended_at FROM agent_status_log \
             WHERE agent_id = ? AND tenant_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?)",
            vec![agent.into(), tenant.0.into(), to.into(), from.into()],
        ))
        .await?;
    let mut out: HashMap<Shown, i64> = Shown::ALL.into_iter().map(|s| (s, 0)).collect();
    for r in rows {
        let status: String = r.try_get("", "status")?;
        let started: DateTime<Utc> = r.try_get("", "started_at")?;
        let ended: Option<DateTime<Utc>> = r.try_get("", "ended_at")?;
        let Some(status) = Shown::parse(&status) else {
            continue;
        };
        let start = started.max(from);
        let end = ended.unwrap_or(now).min(to).min(now);
        if end > start {
            *out.entry(status).or_default() += (end - start).num_seconds();
        }
    }
    Ok(out)
}

/// A tenant's reception settings (the defaults until an admin changes them).
pub async fn tenant_routing(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<TenantRouting, StoreError> {
    Ok(
        match tenant_routing::Entity::find_by_id(tenant.0).one(db).await? {
            Some(m) => TenantRouting {
                rest_reasons: serde_json::from_str(&m.rest_reasons).unwrap_or_default(),
                after_call_work_secs: m.after_call_work_secs,
                rest_on_missed_offer: m.rest_on_missed_offer,
            },
            None => TenantRouting::default(),
        },
    )
}

pub async fn save_tenant_routing(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    settings: &TenantRouting,
) -> Result<(), StoreError> {
    let b = db.get_database_backend();
    db.execute_raw(stmt(
        b,
        "INSERT INTO tenant_routing (tenant_id, rest_reasons, after_call_work_secs, rest_on_missed_offer, updated_at) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET rest_reasons = excluded.rest_reasons, \
         after_call_work_secs = excluded.after_call_work_secs, rest_on_missed_offer = excluded.rest_on_missed_offer, \
         updated_at = excluded.updated_at",
        vec![
            tenant.0.into(),
            serde_json::to_string(&settings.rest_reasons).unwrap_or_default().into(),
            settings.after_call_work_secs.into(),
            settings.rest_on_missed_offer.into(),
            Utc::now().into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Which agents a monitoring board lists, of the tenant's active agents who ever
/// opened the workbench.
#[derive(Debug, Default)]
pub struct BoardFilter<'a> {
    /// Text the name contains, any case.
    pub q: Option<&'a str>,
    /// Only agents shown in this status.
    pub status: Option<Shown>,
    /// Only members of this skill group.
    pub skill_group: Option<Uuid>,
    /// Only these agents.
    pub agents: Option<&'a [Uuid]>,
    /// A supervisor's reach: the members of these groups, and the supervisor.
    pub within: Option<(Uuid, &'a [Uuid])>,
}

/// A page of the agents `filter` lets through, by name, with their presence, and how
/// many there are in all: two statements, whatever the page's size.
pub async fn board(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    cutoff: DateTime<Utc>,
    filter: &BoardFilter<'_>,
    page: PageRequest,
) -> Result<(Vec<(Uuid, String, Presence)>, u64), StoreError> {
    let b = db.get_database_backend();
    let mut sql = String::from(
        "FROM agent_presence p JOIN agents a ON a.id = p.agent_id \
         WHERE p.tenant_id = ? AND a.tenant_id = ? AND a.active = TRUE",
    );
    let mut values: Vec<sea_orm::Value> = vec![tenant.0.into(), tenant.0.into()];
    let placeholders = |n: usize| vec!["?"; n].join(", ");
    if let Some(q) = filter.q {
        sql.push_str(" AND LOWER(a.name) LIKE ? ESCAPE '\\'");
        values.push(super::like_pattern(q).into());
    }
    if let Some(status) = filter.status {
        sql.push_str(" AND p.shown = ?");
        values.push(status.as_str().into());
    }
    if let Some(group) = filter.skill_group {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM agent_skill_groups m \
             WHERE m.agent_id = a.id AND m.tenant_id = ? AND m.skill_group_id = ?)",
        );
        values.extend([tenant.0.into(), group.into()]);
    }
    if let Some(ids) = filter.agents {
        if ids.is_empty() {
            return Ok((Vec::new(), 0));
        }
        sql.push_str(&format!(" AND a.id IN ({})", placeholders(ids.len())));
        values.extend(ids.iter().map(|&id| sea_orm::Value::from(id)));
    }
    if let Some((me, groups)) = filter.within {
        if groups.is_empty() {
            sql.push_str(" AND a.id = ?");
            values.push(me.into());
        } else {
            sql.push_str(&format!(
                " AND (a.id = ? OR EXISTS (SELECT 1 FROM agent_skill_groups m \
                 WHERE m.agent_id = a.id AND m.tenant_id = ? AND m.skill_group_id IN ({})))",
                placeholders(groups.len())
            ));
            values.extend([me.into(), tenant.0.into()]);
            values.extend(groups.iter().map(|&g| sea_orm::Value::from(g)));
        }
    }
    let total = db
        .query_one_raw(stmt(
            b,
            &format!("SELECT COUNT(*) AS n {sql}"),
            values.clone(),
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    let mut page_values: Vec<sea_orm::Value> = vec![cutoff.into()];
    page_values.extend(values);
    page_values.extend([
        i64::try_from(page.page_size).unwrap_or(i64::MAX).into(),
        i64::try_from(page.offset()).unwrap_or(i64::MAX).into(),
    ]);
    let rows = db
        .query_all_raw(stmt(
            b,
            &format!(
                "SELECT {PRESENCE_COLUMNS}, a.name {sql} ORDER BY a.name, a.id LIMIT ? OFFSET ?"
            ),
            page_values,
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let presence = presence_of(&row)?;
        out.push((presence.agent_id, row.try_get("", "name")?, presence));
    }
    Ok((out, u64::try_from(total).unwrap_or(0)))
}
