//! The statistics rollups (`session_stats`, `agent_stats`) and the reads behind live
//! figures, agents' time per status and the metrics that are counted from the
//! database. Column lists come from `records::figures`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::write::stmt;
use super::{StoreError, TenantId};
use crate::records::figures::{AGENT_COLUMNS, AgentSums, SessionSums, session_columns};

/// Rows of a multi-row statement (well under both databases' bound-value limits).
const ROWS_AT_ONCE: usize = 100;

/// A rollup key of `session_stats`: tenant, slot, channel, skill group (nil for none).
pub type SessionKey = (Uuid, i64, Uuid, Uuid);
/// A rollup key of `agent_stats`: tenant, slot, agent.
pub type AgentKey = (Uuid, i64, Uuid);

/// `name = table.name + excluded.name` for each column.
fn additions(table: &str, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds sums to the session rollup.
pub async fn add_sessions(
    c: &impl ConnectionTrait,
    sums: &BTreeMap<SessionKey, SessionSums>,
) -> Result<(), StoreError> {
    let columns = session_columns();
    let rows: Vec<(&SessionKey, &SessionSums)> = sums.iter().collect();
    for chunk in rows.chunks(ROWS_AT_ONCE) {
        let marks = format!("({})", vec!["?"; 4 + columns.len()].join(", "));
        let sql = format!(
            "INSERT INTO session_stats (tenant_id, slot, channel_id, skill_group_id, {cols}) VALUES {rows} \
             ON CONFLICT (tenant_id, slot, channel_id, skill_group_id) DO UPDATE SET {adds}",
            cols = columns.join(", "),
            rows = vec![marks; chunk.len()].join(", "),
            adds = additions("session_stats", &columns),
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * (4 + columns.len()));
        for ((tenant, slot, channel, group), s) in chunk {
            values.extend([
                (*tenant).into(),
                (*slot).into(),
                (*channel).into(),
                (*group).into(),
            ]);
            values.extend(s.values().into_iter().map(Value::from));
        }
        c.execute_raw(stmt(c.get_database_backend(), &sql, values))
            .await?;
    }
    Ok(())
}

/// Adds sums to the agent rollup.
pub async fn add_agents(
    c: &impl ConnectionTrait,
    sums: &BTreeMap<AgentKey, AgentSums>,
) -> Result<(), StoreError> {
    let columns: Vec<String> = AGENT_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let rows: Vec<(&AgentKey, &AgentSums)> = sums.iter().collect();
    for chunk in rows.chunks(ROWS_AT_ONCE) {
        let marks = format!("({})", vec!["?"; 3 + columns.len()].join(", "));
        let sql = format!(
            "INSERT INTO agent_stats (tenant_id, slot, agent_id, {cols}) VALUES {rows} \
             ON CONFLICT (tenant_id, slot, agent_id) DO UPDATE SET {adds}",
            cols = columns.join(", "),
            rows = vec![marks; chunk.len()].join(", "),
            adds = additions("agent_stats", &columns),
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * (3 + columns.len()));
        for ((tenant, slot, agent), s) in chunk {
            values.extend([(*tenant).into(), (*slot).into(), (*agent).into()]);
            values.extend(s.values().into_iter().map(Value::from));
        }
        c.execute_raw(stmt(c.get_database_backend(), &sql, values))
            .await?;
    }
    Ok(())
}

/// What a session report reads of the rollup: one channel, or some skill groups.
#[derive(Debug, Clone, Default)]
pub struct SessionScope {
    pub channel_id: Option<Uuid>,
    /// Only these skill groups (a supervisor's, or the one asked for).
    pub groups: Option<Vec<Uuid>>,
}

/// The session rollup's sums per slot in `[from_slot, to_slot)`.
pub async fn session_slots(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    from_slot: i64,
    to_slot: i64,
    scope: &SessionScope,
) -> Result<Vec<(i64, SessionSums)>, StoreError> {
    let columns = session_columns();
    let sums = columns
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "SELECT slot, {sums} FROM session_stats WHERE tenant_id = ? AND slot >= ? AND slot < ?"
    );
    let mut values: Vec<Value> = vec![tenant.0.into(), from_slot.into(), to_slot.into()];
    if let Some(channel) = scope.channel_id {
        sql.push_str(" AND channel_id = ?");
        values.push(channel.into());
    }
    if let Some(groups) = &scope.groups {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(
            " AND skill_group_id IN ({})",
            vec!["?"; groups.len()].join(", ")
        ));
        values.extend(groups.iter().map(|g| Value::from(*g)));
    }
    sql.push_str(" GROUP BY slot ORDER BY slot");
    let rows = c
        .query_all_raw(stmt(c.get_database_backend(), &sql, values))
        .await?;
    rows.iter()
        .map(|r| {
            let slot: i64 = r.try_get("", "slot")?;
            let v = columns
                .iter()
                .map(|col| r.try_get::<Option<i64>>("", col).map(|n| n.unwrap_or(0)))
                .collect::<Result<Vec<i64>, _>>()?;
            Ok((slot, SessionSums::from_values(&v)))
        })
        .collect()
}

/// The agent rollup's sums per agent over `[from_slot, to_slot)`.
pub async fn agent_totals(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    from_slot: i64,
    to_slot: i64,
) -> Result<BTreeMap<Uuid, AgentSums>, StoreError> {
    let sums = AGENT_COLUMNS
        .iter()
        .map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT agent_id, {sums} FROM agent_stats WHERE tenant_id = ? AND slot >= ? AND slot < ? \
         GROUP BY agent_id"
    );
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            &sql,
            vec![tenant.0.into(), from_slot.into(), to_slot.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            let agent: Uuid = r.try_get("", "agent_id")?;
            let v = AGENT_COLUMNS
                .iter()
                .map(|col| r.try_get::<Option<i64>>("", col).map(|n| n.unwrap_or(0)))
                .collect::<Result<Vec<i64>, _>>()?;
            Ok((agent, AgentSums::from_values(&v)))
        })
        .collect()
}

/// A period of an agent's status log that overlaps a report.
#[derive(Debug, Clone)]
pub struct Period {
    pub agent_id: Uuid,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// The tenant's status periods that overlap `[from, to)`.
pub async fn status_periods(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Period>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT agent_id, status, started_at, ended_at FROM agent_status_log \
             WHERE tenant_id = ? AND (ended_at IS NULL OR ended_at > ?) AND started_at < ?",
            vec![tenant.0.into(), from.into(), to.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Period {
                agent_id: r.try_get("", "agent_id")?,
                status: r.try_get("", "status")?,
                started_at: r.try_get("", "started_at")?,
                ended_at: r.try_get("", "ended_at")?,
            })
        })
        .collect()
}

/// An agent of the tenant, as reports name them.
#[derive(Debug, Clone)]
pub struct AgentName {
    pub id: Uuid,
    pub name: String,
    pub nickname: String,
    pub staff_no: Option<String>,
    pub active: bool,
}

pub async fn agent_names(
    c: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<AgentName>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT id, name, nickname, staff_no, active FROM agents WHERE tenant_id = ? \
             ORDER BY name, id LIMIT 5000",
            vec![tenant.0.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AgentName {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
                nickname: r.try_get("", "nickname")?,
                staff_no: r.try_get("", "staff_no")?,
                active: r.try_get("", "active")?,
            })
        })
        .collect()
}

/// Live sessions of the tenant by skill group and status, with the oldest queue entry.
#[derive(Debug, Clone)]
pub struct LiveSessions {
    pub skill_group_id: Option<Uuid>,
    pub status: String,
    pub count: i64,
    pub oldest_queued: Option<DateTime<Utc>>,
}

pub async fn live_sessions(
    c: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<LiveSessions>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT skill_group_id, status, COUNT(*) AS n, MIN(queued_at) AS oldest FROM sessions \
             WHERE tenant_id = ? AND status IN ('in_flow', 'queued', 'offered', 'with_agent', 'survey') \
             GROUP BY skill_group_id, status",
            vec![tenant.0.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(LiveSessions {
                skill_group_id: r.try_get("", "skill_group_id")?,
                status: r.try_get("", "status")?,
                count: r.try_get("", "n")?,
                oldest_queued: r.try_get("", "oldest")?,
            })
        })
        .collect()
}

/// Every active agent of the tenant with the status shown (`offline` without a
/// presence row) and their skill groups.
pub async fn live_agents(
    c: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<(Uuid, String, Vec<Uuid>)>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT a.id, COALESCE(p.shown, 'offline') AS shown, m.skill_group_id FROM agents a \
             LEFT JOIN agent_presence p ON p.agent_id = a.id \
             LEFT JOIN agent_skill_groups m ON m.agent_id = a.id AND m.tenant_id = a.tenant_id \
             WHERE a.tenant_id = ? AND a.active = TRUE ORDER BY a.id",
            vec![tenant.0.into()],
        ))
        .await?;
    let mut out: Vec<(Uuid, String, Vec<Uuid>)> = Vec::new();
    for r in rows {
        let id: Uuid = r.try_get("", "id")?;
        let shown: String = r.try_get("", "shown")?;
        let group: Option<Uuid> = r.try_get("", "skill_group_id")?;
        match out.last_mut() {
            Some((last, _, groups)) if *last == id => groups.extend(group),
            _ => out.push((id, shown, group.into_iter().collect())),
        }
    }
    Ok(out)
}

/// The tenant's skill groups, by name.
pub async fn group_names(
    c: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT id, name FROM skill_groups WHERE tenant_id = ? ORDER BY name, id",
            vec![tenant.0.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "name")?)))
        .collect()
}

/// Every queue with sessions waiting (queued or offered), over all tenants: the
/// tenant's slug, the group, how many wait and since when the oldest does.
pub async fn queues(
    c: &impl ConnectionTrait,
) -> Result<Vec<(String, Uuid, i64, Option<DateTime<Utc>>)>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT t.slug, s.skill_group_id, COUNT(*) AS n, MIN(s.queued_at) AS oldest \
             FROM sessions s JOIN tenants t ON t.id = s.tenant_id \
             WHERE s.status IN ('queued', 'offered') AND s.skill_group_id IS NOT NULL \
             GROUP BY t.slug, s.skill_group_id",
            vec![],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "slug")?,
                r.try_get("", "skill_group_id")?,
                r.try_get("", "n")?,
                r.try_get("", "oldest")?,
            ))
        })
        .collect()
}

/// Active agents by status shown, over all tenants.
pub async fn agents_by_status(c: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            "SELECT COALESCE(p.shown, 'offline') AS shown, COUNT(*) AS n FROM agents a \
             LEFT JOIN agent_presence p ON p.agent_id = a.id WHERE a.active = TRUE \
             GROUP BY COALESCE(p.shown, 'offline')",
            vec![],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "shown")?, r.try_get("", "n")?)))
        .collect()
}

/// IM replies waiting to be sent, over all tenants.
pub async fn im_outbox_pending(c: &impl ConnectionTrait) -> Result<i64, StoreError> {
    Ok(c.query_one_raw(stmt(
        c.get_database_backend(),
        "SELECT COUNT(*) AS n FROM im_outbox WHERE status = 'pending'",
        vec![],
    ))
    .await?
    .map(|r| r.try_get::<i64>("", "n"))
    .transpose()?
    .unwrap_or(0))
}
