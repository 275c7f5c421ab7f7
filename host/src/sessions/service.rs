//! The sessions service: turns what reaches a channel into session turns.
//!
//! Every input for one user of one channel is handled under that user's lock, in
//! arrival order, and each turn is written in one transaction checked against the
//! session's version, so that concurrent messages — on one node or several — are
//! applied one after the other and never twice (the turn itself is `turn`, the
//! timers that start turns without input are `timers`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, Notify, broadcast};
use uuid::Uuid;

use super::turn::user_message;
use super::{Direction, Element, Message, Sender, Session, Source, Status};
use crate::cache::Fresh;
use crate::directory::{Channel, SkillGroup};
use crate::feeds::Feeds;
use crate::flow::engine::FlowState;
use crate::flow::revisions::Revision;
use crate::flow::{MessageElement, Trigger};
use crate::plugin::Registry;
use crate::routing::Signals;
use crate::routing::ranking::Shortlist;
use crate::store::sessions::{self as store, NewMessage};
use crate::store::{StoreError, TenantId, flows};
use crate::turns::Turns;

/// How sessions behave, server-wide: `config::SessionsConfig` as the server reads it,
/// with its defaults.
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
    pub(super) db: DatabaseConnection,
    pub(super) plugins: Arc<Registry>,
    pub(super) config: SessionsConfig,
    locks: Turns<String>,
    revisions: StdMutex<HashMap<Uuid, Arc<Revision>>>,
    /// The revision each flow's new sessions start on, by tenant and flow.
    live: Fresh<(Uuid, Uuid), Option<Arc<Revision>>>,
    /// Each tenant's time zone, which flow steps are given.
    pub(super) time_zones: Fresh<Uuid, String>,
    /// The active sessions this node's turns left, by active key: a user's next
    /// message starts from the copy instead of reading the session again. A copy that
    /// is no longer the stored session costs a redo, never a wrong write: every change
    /// of a session moves its version, and a turn writes only over the version it
    /// started from (see `store::sessions::write_turn`).
    pub(super) active: Fresh<String, Session>,
    /// Live events of each user's sessions, by channel and user (the web chat).
    events: Feeds<(Uuid, String), SessionEvent>,
    pub(super) outbox: Arc<Notify>,
    pub(super) signals: Signals,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

/// How often a turn is redone when the session changed meanwhile.
pub(super) const MAX_ATTEMPTS: u32 = 8;

/// How long a turn's session is kept for the user's next message. Another node's
/// change makes the copy stale (the next turn is then redone from the stored
/// session), so the copy is dropped after a while even when nothing here changed it.
const ACTIVE_FRESH: std::time::Duration = std::time::Duration::from_secs(60);

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
            active: Fresh::new(ACTIVE_FRESH),
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
        // Opening the chat only looks: it must see the stored session.
        let kept = match inbound {
            Inbound::Opened => None,
            _ => self.active.get(&store::active_key(channel.id, &user.id)),
        };
        let existing = match kept {
            Some(session) => Some(session),
            None => store::find_active(&self.db, channel.id, &user.id).await?,
        };
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
    pub(super) async fn shortlist(
        &self,
        tenant: TenantId,
        group: &SkillGroup,
        cutoff: DateTime<Utc>,
    ) -> Option<Shortlist> {
        let kept = &self.signals.shortlists;
        if let Some(list) = kept.get(tenant.0, group.id) {
            return Some(list);
        }
        let list = crate::routing::dispatch::shortlist(
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

    pub(super) async fn revision(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Arc<Revision>, StoreError> {
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

    pub(super) fn publish(&self, session: &Session, kind: EventKind) {
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
}
