//! Live figures: what is waiting, who is doing what, now — per skill group and over
//! the tenant. Read from sessions and agents' presence, kept for a second per tenant
//! so that many dashboards (and their streams) cost one set of queries, and cut to
//! what each caller may see.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::cache::Fresh;
use crate::sessions::Visibility;
use crate::store::stats::{self, LiveSessions};
use crate::store::{StoreError, TenantId};

/// Agents by the status shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgentCounts {
    pub free: u32,
    pub rest: u32,
    #[serde(rename = "notReady")]
    pub not_ready: u32,
    pub busy: u32,
    #[serde(rename = "afterCallWork")]
    pub after_call_work: u32,
    pub offline: u32,
}

impl AgentCounts {
    fn count(&mut self, shown: &str) {
        let slot = match shown {
            "free" => &mut self.free,
            "rest" => &mut self.rest,
            "notReady" => &mut self.not_ready,
            "busy" => &mut self.busy,
            "afterCallWork" => &mut self.after_call_work,
            _ => &mut self.offline,
        };
        *slot += 1;
    }
}

/// The live figures of a skill group, or of everything the caller sees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct LiveCounts {
    /// Sessions waiting in the queue.
    pub queued: u32,
    /// Sessions offered to an agent who has not accepted yet.
    pub offered: u32,
    /// How long the session waiting longest (queued or offered) has waited.
    pub longest_wait_secs: u32,
    /// Sessions an agent is serving.
    pub with_agents: u32,
    /// Sessions in their flow (before an agent, or in the survey after one).
    pub in_flows: u32,
    pub agents: AgentCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LiveGroup {
    pub skill_group_id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub counts: LiveCounts,
}

/// Live figures as one caller sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LiveFigures {
    pub at: DateTime<Utc>,
    /// Over every session and agent the caller sees (each agent once).
    pub overall: LiveCounts,
    pub skill_groups: Vec<LiveGroup>,
}

/// What a tenant's live figures are made from, read at once.
#[derive(Debug)]
struct Snapshot {
    at: DateTime<Utc>,
    sessions: Vec<LiveSessions>,
    agents: Vec<(Uuid, String, Vec<Uuid>)>,
    groups: Vec<(Uuid, String)>,
}

impl Snapshot {
    async fn read(db: &DatabaseConnection, tenant: TenantId) -> Result<Self, StoreError> {
        Ok(Snapshot {
            at: Utc::now(),
            sessions: stats::live_sessions(db, tenant).await?,
            agents: stats::live_agents(db, tenant).await?,
            groups: stats::group_names(db, tenant).await?,
        })
    }

    fn figures(&self, who: &Visibility) -> LiveFigures {
        let seen: Vec<&(Uuid, String)> = self
            .groups
            .iter()
            .filter(|(id, _)| who.sees_group(*id))
            .collect();
        let all = *who == Visibility::All;
        let mut per_group: BTreeMap<Uuid, LiveCounts> = seen
            .iter()
            .map(|(id, _)| (*id, LiveCounts::default()))
            .collect();
        let mut overall = LiveCounts::default();
        let mut oldest: HashMap<Option<Uuid>, DateTime<Utc>> = HashMap::new();
        for s in &self.sessions {
            let counted_overall =
                all || s.skill_group_id.is_some_and(|g| per_group.contains_key(&g));
            let n = s.count.clamp(0, i64::from(u32::MAX)) as u32;
            let add = |c: &mut LiveCounts| match s.status.as_str() {
                "queued" => c.queued += n,
                "offered" => c.offered += n,
                "with_agent" => c.with_agents += n,
                _ => c.in_flows += n,
            };
            if counted_overall {
                add(&mut overall);
            }
            if let Some(c) = s.skill_group_id.and_then(|g| per_group.get_mut(&g)) {
                add(c);
            }
            if matches!(s.status.as_str(), "queued" | "offered")
                && counted_overall
                && let Some(t) = s.oldest_queued
            {
                let entry = oldest.entry(s.skill_group_id).or_insert(t);
                *entry = (*entry).min(t);
            }
        }
        let wait =
            |t: DateTime<Utc>| (self.at - t).num_seconds().clamp(0, i64::from(u32::MAX)) as u32;
        for (group, t) in &oldest {
            let w = wait(*t);
            overall.longest_wait_secs = overall.longest_wait_secs.max(w);
            if let Some(c) = group.and_then(|g| per_group.get_mut(&g)) {
                c.longest_wait_secs = c.longest_wait_secs.max(w);
            }
        }
        let mut counted: HashSet<Uuid> = HashSet::new();
        for (agent, shown, groups) in &self.agents {
            let mine: Vec<&Uuid> = groups
                .iter()
                .filter(|g| per_group.contains_key(g))
                .collect();
            if (all || !mine.is_empty()) && counted.insert(*agent) {
                overall.agents.count(shown);
            }
            for g in mine {
                if let Some(c) = per_group.get_mut(g) {
                    c.agents.count(shown);
                }
            }
        }
        LiveFigures {
            at: self.at,
            overall,
            skill_groups: seen
                .into_iter()
                .map(|(id, name)| LiveGroup {
                    skill_group_id: *id,
                    name: name.clone(),
                    counts: per_group.remove(id).unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// This node's live figures and the streams and exports it serves, per tenant.
#[derive(Debug, Default)]
pub struct Live {
    snapshots: Fresh<Uuid, Arc<Snapshot>>,
    streams: Mutex<HashMap<Uuid, usize>>,
    exports: Mutex<HashMap<Uuid, usize>>,
}

/// A stream or export in progress; dropping it frees its place.
#[derive(Debug)]
pub struct Slot {
    live: Arc<Live>,
    tenant: Uuid,
    exports: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let counts = if self.exports {
            &self.live.exports
        } else {
            &self.live.streams
        };
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.tenant);
            }
        }
    }
}

impl Live {
    /// The live figures of the tenant as `who` sees them, at most a second old.
    pub async fn figures(
        &self,
        db: &DatabaseConnection,
        tenant: TenantId,
        who: &Visibility,
    ) -> Result<LiveFigures, StoreError> {
        let snapshot = self
            .snapshots
            .get_or_load(tenant.0, || async {
                Snapshot::read(db, tenant).await.map(Arc::new)
            })
            .await?;
        Ok(snapshot.figures(who))
    }

    fn take(self: &Arc<Self>, tenant: TenantId, max: usize, exports: bool) -> Option<Slot> {
        let counts = if exports {
            &self.exports
        } else {
            &self.streams
        };
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(tenant.0).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            live: self.clone(),
            tenant: tenant.0,
            exports,
        })
    }

    /// A place for a live stream of the tenant, if it has fewer than `max`.
    pub fn open_stream(self: &Arc<Self>, tenant: TenantId, max: usize) -> Option<Slot> {
        self.take(tenant, max, false)
    }

    /// A place for an export of the tenant, if it has fewer than `max` running.
    pub fn start_export(self: &Arc<Self>, tenant: TenantId, max: usize) -> Option<Slot> {
        self.take(tenant, max, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(
        group: Option<Uuid>,
        status: &str,
        n: i64,
        oldest: Option<DateTime<Utc>>,
    ) -> LiveSessions {
        LiveSessions {
            skill_group_id: group,
            status: status.into(),
            count: n,
            oldest_queued: oldest,
        }
    }

    #[test]
    fn a_supervisor_sees_their_groups_and_counts_each_agent_once() {
        let (g1, g2, me) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(9));
        let at = Utc::now();
        let snap = Snapshot {
            at,
            sessions: vec![
                sessions(
                    Some(g1),
                    "queued",
                    2,
                    Some(at - chrono::Duration::seconds(40)),
                ),
                sessions(
                    Some(g2),
                    "queued",
                    5,
                    Some(at - chrono::Duration::seconds(90)),
                ),
                sessions(Some(g1), "with_agent", 1, None),
                sessions(None, "in_flow", 7, None),
            ],
            agents: vec![
                (Uuid::from_u128(10), "free".into(), vec![g1, g2]),
                (Uuid::from_u128(11), "busy".into(), vec![g2]),
                (Uuid::from_u128(12), "rest".into(), vec![]),
            ],
            groups: vec![(g1, "a".into()), (g2, "b".into())],
        };
        let admin = snap.figures(&Visibility::All);
        assert_eq!(admin.overall.queued, 7);
        assert_eq!(admin.overall.in_flows, 7);
        assert_eq!(admin.overall.longest_wait_secs, 90);
        assert_eq!(
            (
                admin.overall.agents.free,
                admin.overall.agents.busy,
                admin.overall.agents.rest
            ),
            (1, 1, 1)
        );
        let lead = snap.figures(&Visibility::Groups {
            agent: me,
            groups: vec![g1],
        });
        assert_eq!(lead.skill_groups.len(), 1);
        assert_eq!(lead.overall.queued, 2);
        assert_eq!(lead.overall.in_flows, 0);
        assert_eq!(lead.overall.longest_wait_secs, 40);
        assert_eq!(lead.overall.agents.free, 1);
        assert_eq!(lead.overall.agents.busy, 0);
        assert_eq!(lead.skill_groups[0].counts.with_agents, 1);
    }
}
