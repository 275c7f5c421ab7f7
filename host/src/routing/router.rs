//! The router of one node: drains a skill group's queue the moment something may let
//! it move, sweeps for what time alone changes, and carries out agents' routing
//! actions. Several nodes may run one each on a shared PostgreSQL: every decision is
//! re-checked in the database (`store::assign`), and events stored on one node reach
//! sockets on the others through `LISTEN/NOTIFY`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures_util::StreamExt;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::dispatch::{self, Routed};
use super::events::Withdrawn;
use super::sockets::{Held, Sockets};
use super::status::{SetStatus, StatusView};
use super::{Kick, Signals};
use crate::cache::Fresh;
use crate::directory::{FieldErrors, SkillGroup};
use crate::flow::ResumeReason;
use crate::sessions::{Session, Sessions, Status};
use crate::store::agents::{self, Memberships};
use crate::store::assign::{self, AgentOpError};
use crate::store::presence::{self, Effects};
use crate::store::write::begin_write;
use crate::store::{StoreError, TenantId, auth_sessions, notify, skill_groups};
use crate::turns::Turns;

/// Live figures of one queue, for agents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct QueueView {
    pub skill_group_id: Uuid,
    pub name: String,
    pub waiting: u32,
    pub agents_online: u32,
    pub agents_free: u32,
    pub longest_wait_secs: u32,
    pub estimated_wait_secs: u32,
}

/// Why a status change was refused.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("invalid status")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Queues swept side by side.
const SWEEP_GROUPS_AT_ONCE: usize = 8;
/// Sessions taken out of one queue side by side (each resumes its flow).
const RESUMES_AT_ONCE: usize = 8;
/// Agents told their queue figures at once, and the pause before the next ones.
const TELL_AT_ONCE: usize = 50;
const TELL_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

pub struct Router {
    db: DatabaseConnection,
    sessions: Arc<Sessions>,
    signals: Signals,
    /// This node, in `agent_connections` (`Signals::node`).
    node: Uuid,
    /// What each local agent was last told about queues, to send only changes.
    told: Mutex<HashMap<Uuid, String>>,
    /// Each local agent's tenant and groups, read again after a while.
    memberships: Mutex<HashMap<Uuid, (std::time::Instant, Memberships)>>,
    /// Each queue's figures, for a second: a socket that opens is told them, and
    /// 10,000 workbenches reconnecting at once must not count a large group's members
    /// 10,000 times.
    figures: Fresh<(TenantId, Uuid), assign::Figures>,
    /// The workbench sockets open on this node.
    sockets: Sockets,
    /// One drain of a queue at a time on this node: two side by side would each skip
    /// the sessions the other holds, and hand later sessions out before earlier ones.
    draining: Turns<(TenantId, Uuid)>,
}

/// How long an agent's memberships are reused for queue figures.
const MEMBERSHIPS_FRESH: std::time::Duration = std::time::Duration::from_secs(10);

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl Router {
    pub fn new(db: DatabaseConnection, sessions: Arc<Sessions>, signals: Signals) -> Self {
        Self {
            db,
            sessions,
            node: signals.node,
            signals,
            told: Mutex::default(),
            memberships: Mutex::default(),
            figures: Fresh::default(),
            sockets: Sockets::default(),
            draining: Turns::default(),
        }
    }

    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    fn finish(&self, effects: Effects) {
        self.signals.apply(effects);
    }

    /// Routes on every kick until the task is dropped. Time-driven work runs in its
    /// own task (`sweep_forever`), never in front of the kicks: a session that just
    /// queued must not wait for a sweep of every agent.
    pub async fn run(self: Arc<Self>, mut kicks: mpsc::UnboundedReceiver<Kick>) {
        while let Some(kick) = kicks.recv().await {
            // Take everything already waiting: one drain serves many kicks.
            let mut batch = HashSet::from([kick]);
            while let Ok(k) = kicks.try_recv() {
                batch.insert(k);
            }
            self.route(batch).await;
        }
    }

    /// Sweeps on every tick, and tells agents their queues' figures, until dropped.
    pub async fn sweep_forever(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.signals.config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks += 1;
            if let Err(e) = self.sweep().await {
                tracing::warn!(error = %e, "the routing sweep failed");
            }
            if ticks.is_multiple_of(2) {
                self.tell_queues().await;
            }
        }
    }

    async fn route(&self, kicks: HashSet<Kick>) {
        let mut groups: HashSet<(Uuid, Uuid)> = HashSet::new();
        for kick in kicks {
            match kick {
                Kick::Group(t, g) => {
                    groups.insert((t, g));
                }
                Kick::Agent(a) => match agents::memberships(&self.db, &[a]).await {
                    Ok(read) => groups.extend(read.into_values().flat_map(|(tenant, gs)| {
                        gs.into_iter().map(move |(group, _)| (tenant, group))
                    })),
                    Err(e) => {
                        tracing::warn!(agent = %a, error = %e, "reading an agent's groups failed")
                    }
                },
            }
        }
        for (tenant, group) in groups {
            self.drain(TenantId(tenant), group).await;
        }
    }

    async fn group(&self, tenant: TenantId, id: Uuid) -> Result<SkillGroup, StoreError> {
        self.signals.groups.get(&self.db, tenant, id).await
    }

    /// Hands the group's queue to its members until one of them runs out.
    #[tracing::instrument(skip(self), fields(tenant = %tenant.0))]
    pub async fn drain(&self, tenant: TenantId, group: Uuid) {
        let group = match self.group(tenant, group).await {
            Ok(g) => g,
            Err(StoreError::NotFound) => return,
            Err(e) => {
                tracing::warn!(error = %e, "reading a skill group failed");
                return;
            }
        };
        let turn = self.draining.of((tenant, group.id));
        let _turn = turn.lock().await;
        loop {
            let now = Utc::now();
            let mut effects = self.signals.effects();
            match dispatch::route_next(
                &self.db,
                tenant,
                &group,
                now,
                self.signals.cutoff(now),
                &mut effects,
            )
            .await
            {
                Ok(Routed::Assigned(sessions)) => {
                    crate::metrics::routed(&sessions);
                    // Kicks for agents who just became busy would only re-drain this group.
                    effects.agents.clear();
                    self.finish(effects);
                    for s in &sessions {
                        self.sessions.publish_status(s);
                    }
                    if (sessions.len() as u64) < dispatch::BATCH {
                        return;
                    }
                }
                Ok(Routed::Empty | Routed::NoAgent) => return,
                Err(e) => {
                    tracing::warn!(group = %group.id, error = %e, "routing a session failed");
                    return;
                }
            }
        }
    }

    /// What time alone changes: offers that expire, sockets that went quiet, wrap-ups
    /// that end, sessions that waited too long or overflow their queue. Then every
    /// queue is drained once, in case a kick was missed (another node's change).
    async fn sweep(&self) -> Result<(), StoreError> {
        let now = Utc::now();
        let cutoff = self.signals.cutoff(now);
        for s in assign::expired_offers(&self.db, now).await? {
            if let Some(agent) = s.agent_id {
                self.withdraw(TenantId(s.tenant_id), agent, s.id, Withdrawn::Expired)
                    .await;
            }
        }
        for (tenant, agent) in presence::sweep_connections(&self.db, cutoff).await? {
            self.went_quiet(TenantId(tenant), agent).await;
        }
        for (tenant, agent) in presence::due_refresh(&self.db, now, cutoff).await? {
            self.went_quiet(TenantId(tenant), agent).await;
        }
        // Groups side by side: one tenant's slow session never holds up another's queue.
        let groups = assign::queued_groups(&self.db).await?;
        futures_util::stream::iter(groups)
            .for_each_concurrent(SWEEP_GROUPS_AT_ONCE, |(tenant, group)| async move {
                let tenant = TenantId(tenant);
                let Ok(g) = skill_groups::get(&self.db, tenant, group).await else {
                    return;
                };
                self.expire_queue(tenant, &g).await;
                self.drain(tenant, group).await;
            })
            .await;
        Ok(())
    }

    async fn expire_queue(&self, tenant: TenantId, group: &SkillGroup) {
        let now = Utc::now();
        let overdue = match assign::overdue(&self.db, tenant, group, now).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "reading overdue sessions failed");
                return;
            }
        };
        // Each resumes its flow (a module's turn, bounded in time); a few at once, so one
        // slow session does not hold up the others.
        futures_util::stream::iter(overdue)
            .for_each_concurrent(RESUMES_AT_ONCE, |s| async move {
                if let Err(e) = self
                    .sessions
                    .resume(
                        s.channel_id,
                        &s.user_id,
                        s.id,
                        Status::Queued,
                        ResumeReason::TransferFailed,
                    )
                    .await
                {
                    tracing::warn!(session = %s.id, error = %e, "taking a session out of its queue failed");
                }
            })
            .await;
    }

    /// Re-derives the status of an agent whose sockets or wrap-up may have ended; an
    /// agent gone offline loses their pending offers.
    async fn went_quiet(&self, tenant: TenantId, agent: Uuid) {
        let now = Utc::now();
        let cutoff = self.signals.cutoff(now);
        let mut effects = self.signals.effects();
        let refreshed = async {
            let (txn, _writer) = begin_write(&self.db).await?;
            let view = presence::refresh(&txn, tenant, agent, now, cutoff, &mut effects).await?;
            txn.commit().await?;
            Ok::<_, StoreError>(view)
        }
        .await;
        self.finish(effects);
        match refreshed {
            Ok(Some(view)) if !view.online => {
                self.withdraw_all(tenant, agent, Withdrawn::Disconnected)
                    .await
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(agent = %agent, error = %e, "refreshing an agent's status failed")
            }
        }
    }

    async fn withdraw_all(&self, tenant: TenantId, agent: Uuid, reason: Withdrawn) {
        match assign::offers_of(&self.db, agent).await {
            Ok(offers) => {
                for s in offers {
                    self.withdraw(tenant, agent, s.id, reason).await;
                }
            }
            Err(e) => {
                tracing::warn!(agent = %agent, error = %e, "reading an agent's offers failed")
            }
        }
    }

    async fn withdraw(&self, tenant: TenantId, agent: Uuid, session: Uuid, reason: Withdrawn) {
        let now = Utc::now();
        let mut effects = self.signals.effects();
        let done = assign::withdraw(
            &self.db,
            tenant,
            agent,
            session,
            reason,
            now,
            self.signals.cutoff(now),
            &mut effects,
        )
        .await;
        self.finish(effects);
        match done {
            Ok(s) => self.sessions.publish_status(&s),
            Err(AgentOpError::OfferGone | AgentOpError::NotFound) => {}
            Err(e) => tracing::warn!(session = %session, error = %e, "withdrawing an offer failed"),
        }
    }

    /// The agent's status as shown.
    pub async fn status(&self, tenant: TenantId, agent: Uuid) -> Result<StatusView, StoreError> {
        let now = Utc::now();
        presence::view(&self.db, tenant, agent, self.signals.cutoff(now), now).await
    }

    /// The agent chooses a status.
    #[tracing::instrument(skip(self, set), fields(tenant = %tenant.0))]
    pub async fn set_status(
        &self,
        tenant: TenantId,
        agent: Uuid,
        set: &SetStatus,
    ) -> Result<StatusView, StatusError> {
        let settings = presence::tenant_routing(&self.db, tenant).await?;
        let (chosen, reason) = set.validate(&settings).map_err(StatusError::Invalid)?;
        let now = Utc::now();
        let mut effects = self.signals.effects();
        let view = async {
            let (txn, _writer) = begin_write(&self.db).await?;
            let view = presence::set_chosen(
                &txn,
                tenant,
                agent,
                chosen,
                reason.as_deref(),
                now,
                self.signals.cutoff(now),
                &mut effects,
            )
            .await?;
            txn.commit().await?;
            Ok::<_, StoreError>(view)
        }
        .await?;
        self.finish(effects);
        Ok(view)
    }

    /// The agent accepts an offer.
    pub async fn accept(
        &self,
        tenant: TenantId,
        agent: Uuid,
        session: Uuid,
    ) -> Result<Session, AgentOpError> {
        let mut effects = self.signals.effects();
        let s = assign::accept(&self.db, tenant, agent, session, Utc::now(), &mut effects).await;
        self.finish(effects);
        let s = s?;
        crate::metrics::offer("accepted");
        self.sessions.publish_status(&s);
        Ok(s)
    }

    /// The agent declines an offer: it goes to the next agent.
    pub async fn decline(
        &self,
        tenant: TenantId,
        agent: Uuid,
        session: Uuid,
    ) -> Result<Session, AgentOpError> {
        let now = Utc::now();
        let mut effects = self.signals.effects();
        let s = assign::withdraw(
            &self.db,
            tenant,
            agent,
            session,
            Withdrawn::Declined,
            now,
            self.signals.cutoff(now),
            &mut effects,
        )
        .await;
        self.finish(effects);
        let s = s?;
        self.sessions.publish_status(&s);
        Ok(s)
    }

    /// A workbench socket opened on this node, by the sign-in `sign_in`. Answers its
    /// connection and what tells the socket to close (its sign-in ended, or the server
    /// is stopping).
    pub async fn connect(
        &self,
        tenant: TenantId,
        agent: Uuid,
        sign_in: Uuid,
    ) -> Result<(Uuid, Arc<tokio::sync::Notify>), StoreError> {
        let connection = Uuid::now_v7();
        self.insert_connection(tenant, agent, connection).await?;
        let close = self.sockets.hold(Held {
            connection,
            tenant,
            agent,
            sign_in,
        });
        Ok((connection, close))
    }

    async fn insert_connection(
        &self,
        tenant: TenantId,
        agent: Uuid,
        connection: Uuid,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let mut effects = self.signals.effects();
        async {
            let (txn, _writer) = begin_write(&self.db).await?;
            presence::connect(
                &txn,
                connection,
                tenant,
                agent,
                self.node,
                now,
                self.signals.cutoff(now),
                &mut effects,
            )
            .await?;
            txn.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await?;
        self.finish(effects);
        Ok(())
    }

    /// A socket closed. Its row goes and its agent's status is derived again, unless
    /// the server is stopping (`close_sockets` removes the node's rows at once); the
    /// socket counts as held until then, so that a stopping server waits for it.
    pub async fn disconnect(&self, tenant: TenantId, agent: Uuid, connection: Uuid) {
        if !self.sockets.stopping() {
            if let Err(e) = presence::disconnect(&self.db, connection).await {
                tracing::warn!(agent = %agent, error = %e, "removing a closed connection failed");
            }
            self.went_quiet(tenant, agent).await;
        }
        self.sockets.release(connection);
    }

    /// Keeps this node's sockets alive in the database, a third of the heartbeat
    /// timeout apart, until the task is dropped.
    pub async fn keep_alive_forever(self: Arc<Self>) {
        let every =
            (self.signals.config.heartbeat_timeout / 3).max(std::time::Duration::from_millis(200));
        let mut beat = tokio::time::interval(every);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            beat.tick().await;
            if let Err(e) = self.keep_alive().await {
                tracing::warn!(error = %e, "keeping workbench connections alive failed");
            }
        }
    }

    /// One beat: every socket held here is seen now (one write for the node), a row
    /// swept while this node stalled is made again, and sockets whose sign-in ended
    /// (sign-out, password change, agent disabled) are told to close.
    async fn keep_alive(&self) -> Result<(), StoreError> {
        let held = self.sockets.all();
        if held.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let ids: Vec<Uuid> = held.iter().map(|h| h.connection).collect();
        let missing = {
            let (txn, _writer) = begin_write(&self.db).await?;
            let missing = presence::keep_alive(&txn, self.node, &ids, now).await?;
            txn.commit().await?;
            missing
        };
        for id in missing {
            // Closed since the list was taken: nothing to make again.
            let Some(h) = self.sockets.all().into_iter().find(|h| h.connection == id) else {
                continue;
            };
            tracing::info!(agent = %h.agent, "a workbench connection swept as stale is alive again");
            if let Err(e) = self.insert_connection(h.tenant, h.agent, id).await {
                tracing::warn!(agent = %h.agent, error = %e, "registering a workbench again failed");
            }
        }
        let sign_ins: Vec<Uuid> = held
            .iter()
            .map(|h| h.sign_in)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let live = auth_sessions::live_among(&self.db, &sign_ins, now).await?;
        for h in held.iter().filter(|h| !live.contains(&h.sign_in)) {
            tracing::info!(agent = %h.agent, "a workbench's sign-in ended; closing it");
            self.sockets.close(h.connection);
        }
        Ok(())
    }

    /// The server is stopping: asks every socket of this node to close, waits (at
    /// most `patience`) until they have, and removes the node's connections in one
    /// write. Their agents show `offline` from the next sweep (of any node, or of
    /// this one when it starts again).
    pub async fn close_sockets(&self, patience: std::time::Duration) {
        self.sockets.close_all();
        let deadline = tokio::time::Instant::now() + patience;
        while !self.sockets.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if let Err(e) = presence::disconnect_node(&self.db, self.node).await {
            tracing::warn!(error = %e, "removing this node's connections failed");
        }
    }

    /// Live figures of the agent's queues.
    pub async fn queues_of(
        &self,
        tenant: TenantId,
        agent: Uuid,
    ) -> Result<Vec<QueueView>, StoreError> {
        let now = Utc::now();
        let cutoff = self.signals.cutoff(now);
        let mut out = Vec::new();
        let groups = agents::memberships(&self.db, &[agent])
            .await?
            .remove(&agent)
            .filter(|(of, _)| *of == tenant.0)
            .map(|(_, groups)| groups)
            .unwrap_or_default();
        for (id, name) in groups {
            let f = self
                .figures
                .get_or_load((tenant, id), || {
                    assign::figures(&self.db, tenant, id, now, cutoff)
                })
                .await?;
            out.push(QueueView {
                skill_group_id: id,
                name,
                waiting: f.waiting,
                agents_online: f.agents_online,
                agents_free: f.agents_free,
                longest_wait_secs: f.longest_wait_secs,
                estimated_wait_secs: f.estimated_wait_secs,
            });
        }
        Ok(out)
    }

    /// Sends each agent connected here their queues' figures when they changed, a
    /// few dozen sockets at a time: woken all at once, a thousand sockets would stand
    /// in front of an offer that arrives meanwhile.
    async fn tell_queues(&self) {
        let agents = self.signals.hub.agents();
        if agents.is_empty() {
            return;
        }
        let now = Utc::now();
        let cutoff = self.signals.cutoff(now);
        let memberships = self.memberships_of(&agents).await;
        let mut figures: HashMap<(Uuid, Uuid), serde_json::Value> = HashMap::new();
        let mut told_now = 0;
        for agent in agents {
            let Some((tenant, groups)) = memberships.get(&agent).cloned() else {
                continue;
            };
            let mut items = Vec::new();
            for (id, name) in groups {
                let key = (tenant, id);
                if let std::collections::hash_map::Entry::Vacant(slot) = figures.entry(key) {
                    let Ok(f) = assign::figures(&self.db, TenantId(tenant), id, now, cutoff).await
                    else {
                        continue;
                    };
                    self.figures.put((TenantId(tenant), id), f);
                    slot.insert(serde_json::json!({
                        "skill_group_id": id, "name": name, "waiting": f.waiting,
                        "agents_online": f.agents_online, "agents_free": f.agents_free,
                        "longest_wait_secs": f.longest_wait_secs,
                        "estimated_wait_secs": f.estimated_wait_secs,
                    }));
                }
                if let Some(v) = figures.get(&key) {
                    items.push(v.clone());
                }
            }
            let body = serde_json::Value::Array(items).to_string();
            let changed = {
                let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
                told.get(&agent) != Some(&body) && {
                    told.insert(agent, body.clone());
                    true
                }
            };
            if changed {
                // Number 0: a snapshot, not part of the stored stream.
                self.signals.hub.deliver(agent, 0, Arc::from(body));
                told_now += 1;
                if told_now % TELL_AT_ONCE == 0 {
                    tokio::time::sleep(TELL_PAUSE).await;
                }
            }
        }
    }

    /// The memberships of `agents`, those not read for a while read again at once.
    async fn memberships_of(&self, agents: &[Uuid]) -> HashMap<Uuid, Memberships> {
        let mut out = HashMap::with_capacity(agents.len());
        let mut stale = Vec::new();
        {
            let known = self.memberships.lock().unwrap_or_else(|p| p.into_inner());
            for agent in agents {
                match known.get(agent) {
                    Some((at, m)) if at.elapsed() < MEMBERSHIPS_FRESH => {
                        out.insert(*agent, m.clone());
                    }
                    _ => stale.push(*agent),
                }
            }
        }
        if stale.is_empty() {
            return out;
        }
        match agents::memberships(&self.db, &stale).await {
            Ok(read) => {
                let now = std::time::Instant::now();
                let mut known = self.memberships.lock().unwrap_or_else(|p| p.into_inner());
                for (agent, m) in read {
                    known.insert(agent, (now, m.clone()));
                    out.insert(agent, m);
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading agents' skill groups failed"),
        }
        out
    }

    /// Forgets what was told to an agent whose socket closed, so that a new socket
    /// gets the figures again.
    pub fn forget(&self, agent: Uuid) {
        self.told
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&agent);
        self.memberships
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&agent);
    }

    /// Listens for events stored on other nodes (PostgreSQL only) and pokes the
    /// sockets of this node that need them (this node's own events reached its
    /// sockets already).
    pub async fn listen(self: Arc<Self>, url: String) {
        notify::listen(&url, |stored| {
            if stored.node != self.node && self.signals.hub.has(stored.agent) {
                self.signals.hub.poke(stored.agent, stored.seq);
            }
        })
        .await;
    }
}
