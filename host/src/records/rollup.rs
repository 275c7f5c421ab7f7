//! Adds ended legs to the statistics rollups, each exactly once: the legs' sums are
//! added and the legs marked in one transaction, and on PostgreSQL each node takes
//! legs the others do not hold.

use std::collections::BTreeMap;
use std::time::Duration;

use sea_orm::{DatabaseBackend, DatabaseConnection};
use uuid::Uuid;

use super::buckets::slot_of;
use super::figures::{AgentSums, SessionSums};
use crate::store::write::begin_write;
use crate::store::{StoreError, records, stats};

/// Legs rolled up per transaction.
const BATCH: u64 = 1000;
/// How often ended legs are looked for.
const EVERY: Duration = Duration::from_secs(1);

/// Rolls up one batch; answers how many legs it added.
pub async fn roll_up_once(db: &DatabaseConnection, limit: u64) -> Result<usize, StoreError> {
    let (txn, _writer) = begin_write(db).await?;
    let lock = db.get_database_backend() == DatabaseBackend::Postgres;
    let legs = records::ended_not_rolled_up(&txn, limit, lock).await?;
    if legs.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    let mut sessions: BTreeMap<stats::SessionKey, SessionSums> = BTreeMap::new();
    let mut agents: BTreeMap<stats::AgentKey, AgentSums> = BTreeMap::new();
    for leg in &legs {
        let slot = slot_of(leg.started_ms);
        let group = leg.skill_group_id.unwrap_or(Uuid::nil());
        sessions
            .entry((leg.tenant_id, slot, leg.channel_id, group))
            .or_default()
            .add(&SessionSums::of(leg));
        if let Some((agent, sums)) = AgentSums::of(leg) {
            agents
                .entry((leg.tenant_id, slot, agent))
                .or_default()
                .add(&sums);
        }
    }
    stats::add_sessions(&txn, &sessions).await?;
    stats::add_agents(&txn, &agents).await?;
    let ids: Vec<Uuid> = legs.iter().map(|l| l.id).collect();
    records::mark_rolled_up(&txn, &ids).await?;
    txn.commit().await?;
    Ok(legs.len())
}

/// Rolls up until no ended leg is left; answers how many were added.
pub async fn catch_up(db: &DatabaseConnection) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let n = roll_up_once(db, BATCH).await?;
        total += n;
        if (n as u64) < BATCH {
            return Ok(total);
        }
    }
}

/// Rolls up every second until the task is dropped.
pub async fn run(db: DatabaseConnection) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = catch_up(&db).await {
            tracing::warn!(error = %e, "rolling up ended sessions failed");
        }
    }
}
