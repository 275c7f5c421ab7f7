//! The sessions service: turns what reaches a channel into session turns.
//!
//! Every input for one user of one channel is handled under that user's lock, in
//! arrival order, and each turn is written in one transaction checked against the
//! session's version, so that concurrent messages — on one node or several — are
//! applied one after the other and never twice. Timers are rows, not tasks: a wait's
//! deadline and the idle deadline are columns of the session, and a ticker fires the
//! ones that are due, so they survive a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, Notify, broadcast};
use uuid::Uuid;

use super::{Direction, Element, Message, Sender, Session, Source, Status, end_status};
use crate::cache::Fresh;
use crate::directory::{Channel, SkillGroup};
use crate::feeds::Feeds;
use crate::flow::catalog::{PinnedNode, Revision};
use crate::flow::engine::{self, FlowState, NodeRunner, Outcome, TurnContext};
use crate::flow::{MessageElement, SessionInfo, StepInput, StepOutput, Trigger, UserMessage};
use crate::plugin::{LogBudget, Registry, StepContext, StepFailure};
use crate::routing::{Groups, Signals};
use crate::store::sessions::{self as store, CommitError, NewDelivery, NewMessage, TurnWrite};
use crate::store::{StoreError, TenantId, assign, flows, tenants};
use crate::turns::Turns;

/// How sessions behave, server-wide.
#[derive(Debug, Clone)]
pub struct SessionsConfig {
    /// Most steps one turn may run before it is stopped as a runaway loop.
    pub max_steps_per_turn: u32,
    /// How often due timers are looked for.
    pub timer_tick: Duration,
    /// How long one turn's steps may take in all.
    pub max_turn: Duration,
    /// Most bytes of messages one turn may send.
    pub max_turn_output_bytes: u64,
    /// Most bytes a session's variables and module states may hold.
    pub max_flow_state_bytes: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            max_steps_per_turn: 50,
            timer_tick: Duration::from_millis(500),
            max_turn: Duration::from_secs(3),
            max_turn_output_bytes: 1024 * 1024,
            max_flow_state_bytes: 1024 * 1024,
        }
    }
}

/// Who wrote to the channel.
#[derive(Debug, Clone)]
pub struct EndUser {
    pub id: String,
    pub nickname: String,
    pub source: Source,
}

/// What reached a channel for one end user.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// The user wrote. `client_id` deduplicates a web chat page's retries.
    Message {
        elements: Vec<MessageElement>,
        client_id: Option<String>,
    },
    /// The virtual account wrote to the user (TCCC's activation): starts the flow
    /// when the user has no session.
    Activation { elements: Vec<MessageElement> },
    /// The user opened the web chat: starts the flow when the user never had a
    /// session.
    Opened,
}

/// What happened to a session, for whoever shows it live.
#[derive(Debug, Clone)]
pub struct SessionEvent {
    pub channel_id: Uuid,
    pub user_id: String,
    pub kind: EventKind,
}

#[derive(Debug, Clone)]
pub enum EventKind {
    Message(Box<Message>),
    Status {
        session_id: Uuid,
        status: Status,
        end_status: Option<u16>,
    },
}

/// The outcome of handing input to a session.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The session after the turn; `None` when nothing was started (a web chat page
    /// opened by a user who had a session before).
    pub session: Option<Session>,
    /// The messages the turn stored, in order.
    pub messages: Vec<Message>,
    /// The input was a retry of one already handled (same client id).
    pub duplicate: bool,
}

/// Why input could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The IM request was answered already, by a concurrent retry.
    #[error("the request was handled already")]
    Duplicate,
    /// The session kept changing under us.
    #[error("the session is too busy; try again")]
    Busy,
    /// Someone else changed the session since it was read: redo the turn.
    #[error("the session changed meanwhile")]
    Raced,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Turns input into session turns. One per server.
pub struct Sessions {
    db: DatabaseConnection,
    plugins: Arc<Registry>,
    config: SessionsConfig,
    locks: Turns<String>,
    revisions: StdMutex<HashMap<Uuid, Arc<Revision>>>,
    /// The revision each flow's new sessions start on, by tenant and flow.
    live: Fresh<(Uuid, Uuid), Option<Arc<Revision>>>,
    /// Each tenant's time zone, which flow steps are given.
    time_zones: Fresh<Uuid, String>,
    /// Live events of each user's sessions, by channel and user (the web chat).
    events: Feeds<(Uuid, String), SessionEvent>,
    outbox: Arc<Notify>,
    signals: Signals,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

/// How often a turn is redone when the session changed meanwhile.
const MAX_ATTEMPTS: u32 = 8;
/// Due timers handled at once.
const TIMERS_AT_ONCE: usize = 16;

impl Sessions {
    pub fn new(
        db: DatabaseConnection,
        plugins: Arc<Registry>,
        config: SessionsConfig,
        signals: Signals,
    ) -> Self {
        Self {
            signals,
            db,
            plugins,
            config,
            locks: Turns::default(),
            revisions: StdMutex::default(),
            live: Fresh::default(),
            time_zones: Fresh::default(),
            events: Feeds::new(64),
            outbox: Arc::new(Notify::new()),
        }
    }

    pub(super) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(super) fn signals(&self) -> &Signals {
        &self.signals
    }

    pub(super) async fn revision_of(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Arc<Revision>, StoreError> {
        self.revision(tenant, id).await
    }

    /// Runs one turn of the session's flow (see `run`).
    pub(super) async fn run_flow(
        &self,
        channel: &Channel,
        session: &mut Session,
        trigger: Trigger,
        now: DateTime<Utc>,
        messages: &mut Vec<NewMessage>,
    ) -> Result<(), SessionError> {
        let tenant = TenantId(session.tenant_id);
        self.run(channel, tenant, session, trigger, now, messages)
            .await
    }

    /// Live events of one user's sessions on a channel, on this node.
    pub fn subscribe(&self, channel_id: Uuid, user_id: &str) -> broadcast::Receiver<SessionEvent> {
        self.events.subscribe((channel_id, user_id.to_owned()))
    }

    /// Notified whenever a turn queued replies for IM.
    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox.clone()
    }

    /// The lock that orders one user's input on one channel.
    pub(super) fn lock_for(&self, channel_id: Uuid, user_id: &str) -> Arc<Mutex<()>> {
        self.locks.of(store::active_key(channel_id, user_id))
    }

    /// Hands input to the user's session on `channel`, opening one when needed,
    /// running the flow and storing everything in one transaction. `receipt` is the
    /// IM request's key and the answer to store with the turn.
    pub async fn handle(
        &self,
        channel: &Channel,
        user: &EndUser,
        inbound: Inbound,
        receipt: Option<(&str, &str)>,
    ) -> Result<Delivered, SessionError> {
        let lock = self.lock_for(channel.id, &user.id);
        let _guard = lock.lock().await;
        for _ in 0..MAX_ATTEMPTS {
            match self.attempt(channel, user, &inbound, receipt).await {
                Err(SessionError::Raced) => tokio::task::yield_now().await,
                other => return other,
            }
        }
        Err(SessionError::Busy)
    }

    async fn attempt(
        &self,
        channel: &Channel,
        user: &EndUser,
        inbound: &Inbound,
        receipt: Option<(&str, &str)>,
    ) -> Result<Delivered, SessionError> {
        let now = Utc::now();
        let tenant = TenantId(channel.tenant_id);
        let existing = store::find_active(&self.db, channel.id, &user.id).await?;
        let mut messages = Vec::new();
        let (mut session, is_new, trigger) = match (existing, inbound) {
            (Some(s), Inbound::Opened) => {
                return Ok(Delivered {
                    session: Some(s),
                    messages: vec![],
                    duplicate: false,
                });
            }
            (None, Inbound::Opened) => {
                if store::latest_for_user(&self.db, channel.id, &user.id)
                    .await?
                    .is_some()
                {
                    return Ok(Delivered {
                        session: None,
                        messages: vec![],
                        duplicate: false,
                    });
                }
                (
                    self.open(channel, user, now).await?,
                    true,
                    Some(Trigger::Entered),
                )
            }
            (
                existing,
                Inbound::Message {
                    elements,
                    client_id,
                },
            ) => {
                let (session, is_new) = match existing {
                    Some(s) => (s, false),
                    None => (self.open(channel, user, now).await?, true),
                };
                if let (false, Some(id)) = (is_new, client_id)
                    && let Some(m) = store::message_by_client_id(&self.db, session.id, id).await?
                {
                    return Ok(Delivered {
                        session: Some(session),
                        messages: vec![m],
                        duplicate: true,
                    });
                }
                messages.push(NewMessage {
                    id: Uuid::now_v7(),
                    direction: Direction::In,
                    sender: Sender::User,
                    sender_name: Some(user.nickname.clone()).filter(|n| !n.is_empty()),
                    client_id: client_id.clone(),
                    elements: elements.iter().map(Element::from).collect(),
                    at: now,
                });
                let trigger = if is_new {
                    Some(Trigger::Entered)
                } else if matches!(session.status, Status::InFlow | Status::Survey) {
                    Some(Trigger::UserMessage(user_message(elements, now)))
                } else {
                    None
                };
                (session, is_new, trigger)
            }
            (existing, Inbound::Activation { elements }) => {
                let (session, is_new) = match existing {
                    Some(s) => (s, false),
                    None => (self.open(channel, user, now).await?, true),
                };
                messages.push(NewMessage {
                    id: Uuid::now_v7(),
                    direction: Direction::Out,
                    sender: Sender::System,
                    sender_name: Some(channel.account.clone()),
                    client_id: None,
                    elements: elements.iter().map(Element::from).collect(),
                    at: now,
                });
                (session, is_new, is_new.then_some(Trigger::Entered))
            }
        };
        if messages.iter().any(|m| m.direction == Direction::In) && channel.idle_timeout_secs > 0 {
            session.idle_deadline =
                Some(now + chrono::Duration::seconds(i64::from(channel.idle_timeout_secs)));
        }
        let before = session.status;
        let before_agent = session.agent_id.map(|a| (a, session.status));
        if let Some(trigger) = trigger {
            self.run(channel, tenant, &mut session, trigger, now, &mut messages)
                .await?;
        }
        self.commit(
            channel,
            session,
            is_new,
            messages,
            receipt,
            (before, before_agent),
            now,
        )
        .await
    }

    /// A new session on the channel's live flow revision, not yet stored.
    async fn open(
        &self,
        channel: &Channel,
        user: &EndUser,
        now: DateTime<Utc>,
    ) -> Result<Session, SessionError> {
        let revision = self.live_revision(channel).await?;
        Ok(Session {
            id: Uuid::now_v7(),
            tenant_id: channel.tenant_id,
            channel_id: channel.id,
            user_id: user.id.clone(),
            user_nickname: user.nickname.clone(),
            source: user.source,
            status: Status::InFlow,
            revision_id: revision.map(|r| r.id),
            node: None,
            variables: Default::default(),
            flow: FlowState::default(),
            wait_until: None,
            idle_deadline: (channel.idle_timeout_secs > 0)
                .then(|| now + chrono::Duration::seconds(i64::from(channel.idle_timeout_secs))),
            skill_group_id: None,
            priority: 0,
            queued_at: None,
            end_status: None,
            ended_at: None,
            message_count: 0,
            agent_id: None,
            offered_at: None,
            offer_expires_at: None,
            assigned_at: None,
            parent_id: None,
            skipped_agents: Vec::new(),
            survey: None,
            version: 0,
            created_at: now,
            updated_at: now,
        })
    }

    /// The group's best members for a session that joins its queue: the node's kept
    /// list while it is fresh, else a new read, kept for the turns that follow. `None`
    /// when the read fails: the turn then ranks the members itself.
    async fn shortlist(
        &self,
        tenant: TenantId,
        group: &SkillGroup,
        cutoff: DateTime<Utc>,
    ) -> Option<assign::Shortlist> {
        let kept = &self.signals.shortlists;
        if let Some(list) = kept.get(tenant.0, group.id) {
            return Some(list);
        }
        let list = assign::shortlist(
            &self.db,
            tenant,
            group,
            Utc::now(),
            cutoff,
            crate::routing::shortlists::SIZE,
        )
        .await
        .ok()?;
        kept.put(tenant.0, list.clone());
        Some(list)
    }

    /// The revision new sessions of the channel start on, if its flow is published.
    async fn live_revision(&self, channel: &Channel) -> Result<Option<Arc<Revision>>, StoreError> {
        let Some(flow_id) = channel.flow_id else {
            return Ok(None);
        };
        let tenant = TenantId(channel.tenant_id);
        self.live
            .get_or_load((tenant.0, flow_id), || {
                self.read_live_revision(tenant, flow_id)
            })
            .await
    }

    /// A flow was published, rolled back or deleted on this node: its new sessions
    /// start on what it is now.
    pub fn flow_changed(&self, tenant: TenantId, flow_id: Uuid) {
        self.live.forget(&(tenant.0, flow_id));
    }

    async fn read_live_revision(
        &self,
        tenant: TenantId,
        flow_id: Uuid,
    ) -> Result<Option<Arc<Revision>>, StoreError> {
        let flow = match flows::get(&self.db, tenant, flow_id).await {
            Ok(f) => f,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(number) = flow.live_revision else {
            return Ok(None);
        };
        let revision = flows::revision(&self.db, tenant, flow_id, number).await?;
        Ok(Some(self.remember(revision)))
    }

    fn remember(&self, revision: Revision) -> Arc<Revision> {
        let revision = Arc::new(revision);
        let mut cache = self.revisions.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 1_000 {
            cache.clear();
        }
        cache.insert(revision.id, revision.clone());
        revision
    }

    async fn revision(&self, tenant: TenantId, id: Uuid) -> Result<Arc<Revision>, StoreError> {
        if let Some(r) = self
            .revisions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(r.clone());
        }
        let revision = flows::revision_by_id(&self.db, tenant, id).await?;
        Ok(self.remember(revision))
    }

    /// Runs one turn of the session's flow and applies its outcome.
    async fn run(
        &self,
        channel: &Channel,
        tenant: TenantId,
        session: &mut Session,
        trigger: Trigger,
        now: DateTime<Utc>,
        messages: &mut Vec<NewMessage>,
    ) -> Result<(), SessionError> {
        let Some(revision_id) = session.revision_id else {
            // No published flow: straight to the fallback.
            tracing::warn!(channel = %channel.id, "the channel has no published flow");
            let outcome = match channel.default_skill_group_id {
                Some(group) => Outcome::Transfer {
                    skill_group_id: group,
                    priority: engine::FALLBACK_PRIORITY,
                },
                None => Outcome::Ended {
                    end_status: end_status::ABNORMAL,
                },
            };
            apply_outcome(session, outcome, now);
            return Ok(());
        };
        let revision = self.revision(tenant, revision_id).await?;
        let time_zone = self
            .time_zones
            .get_or_load(tenant.0, || async {
                Ok::<_, StoreError>(tenants::get(&self.db, tenant).await?.time_zone)
            })
            .await?;
        let runner = RegistryRunner {
            registry: &self.plugins,
            groups: &self.signals.groups,
            db: &self.db,
            tenant,
            time_zone,
            session_id: session.id.to_string(),
            turn_log: Arc::new(LogBudget::new(crate::plugin::logs::PER_TURN)),
        };
        let ctx = TurnContext {
            session: SessionInfo {
                id: session.id.to_string(),
                tenant_id: tenant.0.to_string(),
                channel_id: channel.id.to_string(),
                user_id: session.user_id.clone(),
                user_nickname: session.user_nickname.clone(),
            },
            revision: &revision,
            fallback_group: channel.default_skill_group_id,
            max_steps: self.config.max_steps_per_turn,
            max_time: self.config.max_turn,
            max_sent_bytes: self.config.max_turn_output_bytes,
            max_state_bytes: self.config.max_flow_state_bytes,
            now,
        };
        session.set_known_variable("ClientAppID", serde_json::json!(channel.sdkappid));
        session.set_known_variable("ClientAppName", serde_json::json!(channel.name));
        let turn = engine::run_turn(&ctx, &runner, &mut session.flow, trigger).await;
        for survey in &turn.surveys {
            super::SurveyRecord::apply(&mut session.survey, survey, now);
        }
        for message in &turn.sends {
            messages.push(NewMessage {
                id: Uuid::now_v7(),
                direction: Direction::Out,
                sender: Sender::Bot,
                sender_name: None,
                client_id: None,
                elements: vec![Element::from(message)],
                at: Utc::now(),
            });
        }
        apply_outcome(session, turn.outcome, now);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn commit(
        &self,
        channel: &Channel,
        mut session: Session,
        is_new: bool,
        messages: Vec<NewMessage>,
        receipt: Option<(&str, &str)>,
        (before, before_agent): (Status, Option<(Uuid, Status)>),
        now: DateTime<Utc>,
    ) -> Result<Delivered, SessionError> {
        // An offer taken back by the session's end is no longer the agent's; an agent
        // who served the session stays on its record.
        if before == Status::Offered && session.status != Status::Offered {
            session.agent_id = None;
            session.offered_at = None;
            session.offer_expires_at = None;
        }
        session.message_count += messages.len() as u32;
        session.updated_at = now;
        session.node = session.flow.node.clone();
        let deliveries: Vec<NewDelivery> =
            if session.source == Source::Im && channel.im_base_url.is_some() {
                messages
                    .iter()
                    .filter(|m| m.direction == Direction::Out && m.sender != Sender::System)
                    .map(|m| NewDelivery {
                        message_id: m.id,
                        to_account: session.user_id.clone(),
                        msg_random: crate::auth::service::random_u32(),
                        elements: m.elements.clone(),
                    })
                    .collect()
            } else {
                vec![]
            };
        // A session that joins a queue is routed in its turn, by the group's settings.
        let group = match session.skill_group_id {
            Some(id) if session.status == Status::Queued && before != Status::Queued => self
                .signals
                .groups
                .get(&self.db, TenantId(session.tenant_id), id)
                .await
                .ok(),
            _ => None,
        };
        let cutoff = self.signals.cutoff(now);
        // Its best members are ranked before the turn, not while other writers wait,
        // and the ranking serves the turns that follow it.
        let shortlist = match &group {
            Some(g) => self.shortlist(TenantId(session.tenant_id), g, cutoff).await,
            None => None,
        };
        let write = TurnWrite {
            session: &session,
            is_new,
            messages: &messages,
            receipt,
            deliveries: &deliveries,
            before_agent,
            before,
            cutoff,
            group: group.as_ref(),
            shortlist,
        };
        let mut effects = self.signals.effects();
        let committed = store::commit_turn(&self.db, write, &mut effects).await;
        if committed.is_ok() {
            self.signals.apply(effects);
        }
        let routed = match committed {
            Ok(routed) => {
                crate::metrics::session_turn(is_new, before, &session);
                crate::metrics::routed(&routed);
                routed
            }
            Err(CommitError::Raced) => return Err(SessionError::Raced),
            Err(CommitError::Duplicate) => return Err(SessionError::Duplicate),
            Err(CommitError::Store(e)) => return Err(e.into()),
        };
        session.version += 1;
        // Routed in the same transaction: this session (now with an agent) or the
        // queue's head before it.
        for r in routed {
            if r.id == session.id {
                session = r;
            } else {
                self.publish_status(&r);
            }
        }
        if !deliveries.is_empty() {
            self.outbox.notify_one();
        }
        let first_seq = session.message_count - messages.len() as u32 + 1;
        let stored: Vec<Message> = messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| Message {
                text: m.text(),
                id: m.id,
                session_id: session.id,
                seq: first_seq + i as u32,
                client_id: m.client_id,
                direction: m.direction,
                sender: m.sender,
                sender_name: m.sender_name,
                at: m.at,
                elements: m.elements,
            })
            .collect();
        for m in &stored {
            self.publish(&session, EventKind::Message(Box::new(m.clone())));
        }
        if is_new || session.status != before {
            self.publish(
                &session,
                EventKind::Status {
                    session_id: session.id,
                    status: session.status,
                    end_status: session.end_status,
                },
            );
        }
        if session.status == Status::Ended {
            tracing::info!(session = %session.id, end_status = ?session.end_status, "session ended");
        }
        Ok(Delivered {
            session: Some(session),
            messages: stored,
            duplicate: false,
        })
    }

    /// Tells live pages that the session's status changed (routing changes it too).
    pub fn publish_status(&self, session: &Session) {
        self.publish(
            session,
            EventKind::Status {
                session_id: session.id,
                status: session.status,
                end_status: session.end_status,
            },
        );
    }

    fn publish(&self, session: &Session, kind: EventKind) {
        let key = (session.channel_id, session.user_id.clone());
        self.events.publish(
            &key,
            SessionEvent {
                channel_id: session.channel_id,
                user_id: session.user_id.clone(),
                kind,
            },
        );
    }

    /// Fires every due timer once: waits that timed out step their node with
    /// `wait-timed-out`; silent users' sessions end with 108. Sessions are handled a
    /// few at a time, so that one whose turn is slow (or whose user's lock is held)
    /// does not hold up every other tenant's timers.
    pub async fn fire_due_timers(&self) -> Result<usize, StoreError> {
        let now = Utc::now();
        let waits = store::due_waits(&self.db, now, 200).await?;
        let mut fired = self.fire(waits, Timer::Wait).await;
        let idle = store::due_idle(&self.db, now, 200).await?;
        fired += self.fire(idle, Timer::Idle).await;
        Ok(fired)
    }

    async fn fire(&self, due: Vec<Session>, timer: Timer) -> usize {
        use futures_util::StreamExt;
        use futures_util::stream::FuturesUnordered;

        let mut due = due.into_iter();
        let mut running = FuturesUnordered::new();
        let mut fired = 0;
        loop {
            while running.len() < TIMERS_AT_ONCE {
                let Some(session) = due.next() else { break };
                running.push(self.fire_one(session, timer));
            }
            match running.next().await {
                Some(true) => fired += 1,
                Some(false) => {}
                None => return fired,
            }
        }
    }

    async fn fire_one(&self, session: Session, timer: Timer) -> bool {
        match self
            .on_timer(session.channel_id, &session.user_id, timer)
            .await
        {
            Ok(fired) => fired,
            Err(e) => {
                tracing::warn!(session = %session.id, ?timer, error = %e, "a due timer failed");
                false
            }
        }
    }

    /// Handles one timer under the user's lock, if it is still due.
    async fn on_timer(
        &self,
        channel_id: Uuid,
        user_id: &str,
        timer: Timer,
    ) -> Result<bool, SessionError> {
        let lock = self.lock_for(channel_id, user_id);
        let _guard = lock.lock().await;
        for _ in 0..MAX_ATTEMPTS {
            let now = Utc::now();
            let Some(mut session) = store::find_active(&self.db, channel_id, user_id).await? else {
                return Ok(false);
            };
            let due = match timer {
                Timer::Wait => {
                    session.status == Status::InFlow && session.wait_until.is_some_and(|t| t <= now)
                }
                // A queued or offered session is governed by its queue's limits.
                Timer::Idle => {
                    matches!(
                        session.status,
                        Status::InFlow | Status::WithAgent | Status::Survey
                    ) && session.idle_deadline.is_some_and(|t| t <= now)
                }
            };
            if !due {
                return Ok(false);
            }
            let channel =
                crate::store::channels::get(&self.db, TenantId(session.tenant_id), channel_id)
                    .await?;
            let before = (
                session.status,
                session.agent_id.map(|a| (a, session.status)),
            );
            let mut messages = Vec::new();
            match timer {
                Timer::Wait => {
                    session.wait_until = None;
                    self.run(
                        &channel,
                        TenantId(session.tenant_id),
                        &mut session,
                        Trigger::WaitTimedOut,
                        now,
                        &mut messages,
                    )
                    .await?;
                }
                Timer::Idle => apply_outcome(
                    &mut session,
                    Outcome::Ended {
                        end_status: end_status::USER_TIMEOUT,
                    },
                    now,
                ),
            }
            match self
                .commit(&channel, session, false, messages, None, before, now)
                .await
            {
                Err(SessionError::Raced) => continue,
                Err(e) => return Err(e),
                Ok(_) => return Ok(true),
            }
        }
        Err(SessionError::Busy)
    }

    /// Fires due timers every tick until the task is dropped.
    pub async fn run_timers(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.config.timer_tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.fire_due_timers().await {
                tracing::warn!(error = %e, "looking for due session timers failed");
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Timer {
    Wait,
    Idle,
}

/// Sets the session's status and deadlines from how its turn ended.
fn apply_outcome(session: &mut Session, outcome: Outcome, now: DateTime<Utc>) {
    match outcome {
        Outcome::Waiting { until } => {
            session.wait_until = until;
        }
        Outcome::Suspended => session.wait_until = None,
        Outcome::Transfer {
            skill_group_id,
            priority,
        } => {
            session.wait_until = None;
            session.status = Status::Queued;
            session.skill_group_id = Some(skill_group_id);
            session.priority = priority;
            // The wait starts when the flow transfers, not when the turn began.
            session.queued_at = Some(now.max(Utc::now()));
        }
        Outcome::Ended { end_status } => {
            session.wait_until = None;
            session.idle_deadline = None;
            session.status = Status::Ended;
            session.end_status = Some(end_status);
            session.ended_at = Some(now);
        }
    }
}

/// Ends the session with `code`.
pub(super) fn end(session: &mut Session, code: u16, now: DateTime<Utc>) {
    apply_outcome(session, Outcome::Ended { end_status: code }, now);
}

fn user_message(elements: &[MessageElement], now: DateTime<Utc>) -> UserMessage {
    let text = elements
        .iter()
        .filter_map(|e| match e {
            MessageElement::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    UserMessage {
        elements: elements.to_vec(),
        text,
        sent_at_ms: now.timestamp_millis(),
    }
}

/// Steps nodes with the installed modules they are pinned to (also the flow
/// editor's trial turns, `http::flow_try`).
pub(crate) struct RegistryRunner<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) groups: &'a Groups,
    pub(crate) db: &'a DatabaseConnection,
    pub(crate) tenant: TenantId,
    pub(crate) time_zone: String,
    pub(crate) session_id: String,
    /// What the turn's steps may still log, together.
    pub(crate) turn_log: Arc<LogBudget>,
}

#[async_trait::async_trait]
impl NodeRunner for RegistryRunner<'_> {
    async fn step(
        &self,
        node: &PinnedNode,
        config: &str,
        mut input: StepInput,
    ) -> Result<StepOutput, StepFailure> {
        let row = self
            .registry
            .get_for_step(self.tenant, node.plugin_id)
            .await
            .map_err(|e| {
                StepFailure::new(
                    crate::plugin::FailureKind::Trap,
                    format!("the module of node {:?} is not installed: {e}", node.id),
                )
            })?;
        let prepared = self.registry.prepare(self.tenant, &row, config).await?;
        if !prepared.is_empty() {
            input.prepared = Some(prepared.as_ref().clone());
        }
        let ctx = StepContext {
            tenant_id: self.tenant.0.to_string(),
            time_zone: self.time_zone.clone(),
            session_id: self.session_id.clone(),
            node_id: node.id.clone(),
            exits: Some(node.exits.iter().cloned().collect()),
            turn_log: Some(self.turn_log.clone()),
        };
        self.registry.step(&row, &ctx, input).await
    }

    async fn skill_group(&self, id: &str) -> Option<Uuid> {
        let id = Uuid::parse_str(id).ok()?;
        self.groups
            .get(self.db, self.tenant, id)
            .await
            .ok()
            .map(|g| g.id)
    }
}
