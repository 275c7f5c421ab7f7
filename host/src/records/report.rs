//! Statistics reports: the rollups' slots plus the legs not yet rolled up, read in one
//! snapshot of the database (so that a leg rolled up meanwhile counts once, not twice
//! or never), added up into the report's buckets.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use sea_orm::{
    AccessMode, DatabaseBackend, DatabaseConnection, DatabaseTransaction, IsolationLevel,
    TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::buckets::{Interval, Range, bucket_of};
use super::figures::{AgentFigures, AgentSums, SessionFigures, SessionSums};
use super::{Stored, ms};
use crate::routing::status::Shown;
use crate::sessions::Visibility;
use crate::store::stats::{self, SessionScope};
use crate::store::{StoreError, TenantId, records};

/// A read-only transaction that sees one state of the database throughout.
async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, StoreError> {
    Ok(match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        // A SQLite read transaction keeps the snapshot of its first read.
        _ => db.begin().await?,
    })
}

/// The session figures of a tenant over whole local days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionReport {
    pub time_zone: String,
    pub interval: Interval,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub buckets: Vec<SessionBucket>,
    /// The figures of the whole range.
    pub total: SessionFigures,
}

/// One hour or day of a report, from `start` to `end` (local times with offsets).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionBucket {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    #[serde(flatten)]
    pub figures: SessionFigures,
}

fn in_scope(r: &Stored, scope: &SessionScope) -> bool {
    scope.channel_id.is_none_or(|c| c == r.channel_id)
        && scope
            .groups
            .as_ref()
            .is_none_or(|gs| r.skill_group_id.is_some_and(|g| gs.contains(&g)))
}

/// The session report of `range` in buckets of `interval`.
pub async fn sessions(
    db: &DatabaseConnection,
    tenant: TenantId,
    range: &Range,
    interval: Interval,
    scope: &SessionScope,
) -> Result<SessionReport, StoreError> {
    let buckets = range.buckets(interval);
    let (Some(start), Some(end)) = (range.start(), range.end()) else {
        return Err(StoreError::NotFound);
    };
    let txn = snapshot(db).await?;
    let slots =
        stats::session_slots(&txn, tenant, start.timestamp(), end.timestamp(), scope).await?;
    let pending = records::pending(&txn, tenant, ms(start), ms(end)).await?;
    txn.commit().await?;
    let mut sums = vec![SessionSums::default(); buckets.len()];
    for (slot, s) in &slots {
        if let Some(i) = bucket_of(&buckets, *slot) {
            sums[i].add(s);
        }
    }
    for r in pending.iter().filter(|r| in_scope(r, scope)) {
        if let Some(i) = bucket_of(&buckets, r.started_ms.div_euclid(1000)) {
            sums[i].add(&SessionSums::of(r));
        }
    }
    let mut total = SessionSums::default();
    for s in &sums {
        total.add(s);
    }
    Ok(SessionReport {
        time_zone: range.tz.name().to_owned(),
        interval,
        from: range.from,
        to: range.to,
        buckets: buckets
            .iter()
            .zip(&sums)
            .map(|(b, s)| SessionBucket {
                start: b.label,
                end: b.end.with_timezone(&range.tz).fixed_offset(),
                figures: SessionFigures::from(s),
            })
            .collect(),
        total: SessionFigures::from(&total),
    })
}

/// Each agent's figures over whole local days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentReport {
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<AgentLine>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentLine {
    pub agent_id: Uuid,
    pub name: String,
    pub nickname: String,
    pub staff_no: Option<String>,
    /// Seconds in each status shown (`free`, `notReady`, `rest`, `busy`,
    /// `afterCallWork`, `offline`) within the range, up to now.
    #[schema(value_type = Object)]
    pub status_seconds: BTreeMap<String, i64>,
    #[serde(flatten)]
    pub figures: AgentFigures,
}

/// The agent report of `range`, for the agents `who` may see (`groups` are each
/// agent's skill groups).
pub async fn agents(
    db: &DatabaseConnection,
    tenant: TenantId,
    range: &Range,
    who: &Visibility,
    groups: &HashMap<Uuid, Vec<Uuid>>,
    now: DateTime<Utc>,
) -> Result<AgentReport, StoreError> {
    let (Some(start), Some(end)) = (range.start(), range.end()) else {
        return Err(StoreError::NotFound);
    };
    let txn = snapshot(db).await?;
    let mut sums = stats::agent_totals(&txn, tenant, start.timestamp(), end.timestamp()).await?;
    let pending = records::pending(&txn, tenant, ms(start), ms(end)).await?;
    let periods = stats::status_periods(&txn, tenant, start, end).await?;
    let names = stats::agent_names(&txn, tenant).await?;
    txn.commit().await?;
    for r in &pending {
        if let Some((agent, s)) = AgentSums::of(r) {
            sums.entry(agent).or_default().add(&s);
        }
    }
    let until = end.min(now);
    let mut seconds: HashMap<Uuid, BTreeMap<String, i64>> = HashMap::new();
    for p in &periods {
        let from = p.started_at.max(start);
        let to = p.ended_at.unwrap_or(now).min(until);
        if to > from && Shown::parse(&p.status).is_some() {
            *seconds
                .entry(p.agent_id)
                .or_default()
                .entry(p.status.clone())
                .or_default() += (to - from).num_seconds();
        }
    }
    let items = names
        .into_iter()
        .filter(|a| {
            who.sees_agent(
                a.id,
                groups.get(&a.id).map(Vec::as_slice).unwrap_or_default(),
            )
        })
        .filter(|a| a.active || sums.contains_key(&a.id) || seconds.contains_key(&a.id))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|a| {
            let spent = seconds.remove(&a.id).unwrap_or_default();
            AgentLine {
                agent_id: a.id,
                status_seconds: Shown::ALL
                    .iter()
                    .map(|s| {
                        (
                            s.as_str().to_owned(),
                            spent.get(s.as_str()).copied().unwrap_or(0),
                        )
                    })
                    .collect(),
                figures: AgentFigures::from(&sums.get(&a.id).copied().unwrap_or_default()),
                name: a.name,
                nickname: a.nickname,
                staff_no: a.staff_no,
            }
        })
        .collect();
    Ok(AgentReport {
        time_zone: range.tz.name().to_owned(),
        from: range.from,
        to: range.to,
        items,
    })
}
