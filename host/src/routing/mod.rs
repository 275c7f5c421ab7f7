//! Routing: agent status, skill-group queues, offers and assignment, and the live
//! stream of events to agents' workbenches.
//!
//! The rules that must hold across nodes are enforced by the guarded statements of
//! `store::assign`; this module decides who gets a session (`dispatch`) and when to
//! route (the moment a session queues or capacity frees up, plus a periodic sweep for
//! offers that expire and sessions that wait too long), and hands stored events to
//! the sockets of this node. Must not send IM messages.

pub mod dispatch;
pub mod events;
pub mod groups;
pub mod hub;
pub mod ranking;
pub mod router;
pub mod shortlists;
pub mod sockets;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use groups::Groups;
pub use hub::Hub;
pub use router::Router;
pub use shortlists::Shortlists;

use crate::cache::Fresh;
use crate::directory::{MAX_PAGE_SIZE, PageRequest};
use crate::flow::{GroupEntry, QueueStatus};
use crate::plugin::HostServices;
use crate::store::presence::Effects;
use crate::store::{TenantId, assign, skill_groups};
use crate::turns::Turns;

/// Server-wide routing settings.
#[derive(Debug, Clone)]
pub struct RoutingConfig {
    /// An agent with no workbench heard from for this long is offline.
    pub heartbeat_timeout: Duration,
    /// How often offers, queue waits, wrap-up ends and stale connections are looked for.
    pub tick: Duration,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            heartbeat_timeout: Duration::from_secs(30),
            tick: Duration::from_millis(500),
        }
    }
}

/// Something that may let a queue move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kick {
    /// A session queued in (tenant, group), or went back to it.
    Group(Uuid, Uuid),
    /// The agent may take a session now.
    Agent(Uuid),
}

/// What the rest of kefu hands routing after a commit: stored events to deliver and
/// queues to look at again. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Signals {
    /// This node: in `agent_connections`, and on the notifications it sends.
    pub node: Uuid,
    pub hub: Arc<Hub>,
    /// Skill groups' settings, as routing reads them.
    pub groups: Arc<Groups>,
    /// The best members of busy queues, as routing keeps them between turns.
    pub shortlists: Arc<Shortlists>,
    kicks: mpsc::UnboundedSender<Kick>,
    pub config: RoutingConfig,
}

impl Signals {
    pub fn new(config: RoutingConfig) -> (Self, mpsc::UnboundedReceiver<Kick>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Self {
                node: Uuid::now_v7(),
                hub: Arc::new(Hub::default()),
                groups: Arc::new(Groups::default()),
                shortlists: Arc::new(Shortlists::default()),
                kicks: tx,
                config,
            },
            rx,
        )
    }

    /// An empty record of a transaction's effects, made on this node.
    pub fn effects(&self) -> Effects {
        Effects {
            node: self.node,
            ..Effects::default()
        }
    }

    /// A skill group's settings or members were changed (or it was deleted) here.
    pub fn group_changed(&self, tenant: TenantId, id: Uuid) {
        self.groups.forget(tenant, id);
        self.shortlists.forget(tenant.0, id);
    }

    /// The oldest heartbeat that still counts as a live connection at `now`.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(self.config.heartbeat_timeout)
            .unwrap_or(chrono::Duration::seconds(30))
    }

    pub fn kick(&self, kick: Kick) {
        if let Kick::Agent(_) = kick {
            // The agent may rank anywhere in their groups now.
            self.shortlists.clear();
        }
        // The router stops only with the server.
        let _ = self.kicks.send(kick);
    }

    /// Delivers what a committed transaction produced.
    pub fn apply(&self, effects: Effects) {
        self.shortlists.note(&effects.claims);
        for p in effects.pushed {
            self.hub.deliver(p.agent_id, p.seq, Arc::from(p.frame));
        }
        for (tenant, group) in effects.groups {
            self.kick(Kick::Group(tenant, group));
        }
        for agent in effects.agents {
            self.kick(Kick::Agent(agent));
        }
    }
}

/// Answers modules' questions about queues and skill groups (the `skill-group-queue`
/// and `skill-groups` host imports).
///
/// A module's step has a wall-clock deadline that includes its host calls, and a
/// burst of sessions transferring at once all ask about the same queue: answers are
/// kept for a second, and only one set of queries runs at a time, so that the burst
/// costs one set, not one per session (the figures a user is told are at most a
/// second old).
#[derive(Debug)]
pub struct QueueFigures {
    db: DatabaseConnection,
    heartbeat_timeout: Duration,
    recent: Fresh<(TenantId, Uuid), Option<QueueStatus>>,
    /// Each tenant's skill groups, kept for a second like the queues.
    groups: Fresh<TenantId, Arc<[GroupEntry]>>,
    /// Per tenant, held while a set of queries runs: those of the tenant who wait for
    /// it find its answer, and a tenant asking about many groups waits only on itself.
    computing: Turns<TenantId>,
}

impl QueueFigures {
    pub fn new(db: DatabaseConnection, heartbeat_timeout: Duration) -> Self {
        Self {
            db,
            heartbeat_timeout,
            recent: Fresh::default(),
            groups: Fresh::default(),
            computing: Turns::default(),
        }
    }

    async fn compute(&self, tenant: TenantId, group: Uuid) -> Option<QueueStatus> {
        skill_groups::get(&self.db, tenant, group).await.ok()?;
        let now = Utc::now();
        let cutoff = now - chrono::Duration::from_std(self.heartbeat_timeout).ok()?;
        let f = assign::figures(&self.db, tenant, group, now, cutoff)
            .await
            .ok()?;
        Some(QueueStatus {
            agents_online: f.agents_online,
            agents_free: f.agents_free,
            sessions_waiting: f.waiting,
            estimated_wait_secs: f.estimated_wait_secs,
        })
    }
}

#[async_trait]
impl HostServices for QueueFigures {
    /// A group of another tenant, or no group at all, is `None`.
    async fn queue_status(&self, tenant: &str, skill_group_id: &str) -> Option<QueueStatus> {
        let tenant = TenantId(Uuid::parse_str(tenant).ok()?);
        let group = Uuid::parse_str(skill_group_id).ok()?;
        let key = (tenant, group);
        if let Some(status) = self.recent.get(&key) {
            return status;
        }
        let turn = self.computing.of(tenant);
        let _turn = turn.lock().await;
        if let Some(status) = self.recent.get(&key) {
            return status;
        }
        let status = self.compute(tenant, group).await;
        self.recent.put(key, status);
        status
    }

    /// A tenant that cannot be read answers no groups: the module sees an empty list.
    async fn skill_groups(&self, tenant: &str) -> Vec<GroupEntry> {
        let Ok(tenant) = Uuid::parse_str(tenant).map(TenantId) else {
            return Vec::new();
        };
        let page = PageRequest {
            page: 1,
            page_size: MAX_PAGE_SIZE,
        };
        let groups = self
            .groups
            .get_or_load(tenant, || async {
                let page = skill_groups::list(&self.db, tenant, page).await?;
                let entries: Arc<[GroupEntry]> = page
                    .items
                    .into_iter()
                    .map(|g| GroupEntry {
                        id: g.id.to_string(),
                        name: g.name,
                    })
                    .collect();
                Ok::<_, crate::store::StoreError>(entries)
            })
            .await;
        groups.map(|g| g.to_vec()).unwrap_or_default()
    }
}
