//! What agents do to their sessions through the sessions service: write to the user,
//! hand the session back to its flow when they finish (or start the survey), and
//! transfer it. Each runs under the user's lock like any other input, so it is
//! ordered with the user's own messages.

use chrono::Utc;
use uuid::Uuid;

use super::service::{SessionError, Sessions};
use super::{Direction, Element, Message, Sender, Session, Status, end_status};
use crate::directory::{Channel, FieldErrors};
use crate::flow::{ResumeReason, Trigger};
use crate::store::assign::{self, AgentOpError};
use crate::store::sessions::{self as store, NewMessage};
use crate::store::{StoreError, TenantId, channels};

/// The agent acting.
#[derive(Debug, Clone)]
pub struct Acting {
    pub tenant: TenantId,
    pub agent_id: Uuid,
    /// The name the user sees (`${StaffNickName}`).
    pub nickname: String,
}

/// Where an agent transfers a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Agent(Uuid),
    Group(Uuid),
}

/// Why an agent's action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AgentActionError {
    #[error("no such session")]
    NotFound,
    #[error("the session is not with you")]
    NotActive,
    #[error("the agent cannot take a session now")]
    AgentUnavailable,
    #[error("the session's flow has no satisfaction survey")]
    NoSurvey,
    #[error("invalid target")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Session(#[from] SessionError),
}

impl From<StoreError> for AgentActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            e => Self::Session(e.into()),
        }
    }
}

impl From<AgentOpError> for AgentActionError {
    fn from(e: AgentOpError) -> Self {
        match e {
            AgentOpError::NotFound => Self::NotFound,
            AgentOpError::NotActive | AgentOpError::OfferGone => Self::NotActive,
            AgentOpError::AgentUnavailable => Self::AgentUnavailable,
            AgentOpError::Store(e) => e.into(),
        }
    }
}

/// How often an action is redone when the session changed under it.
const ATTEMPTS: u32 = 8;

impl Sessions {
    /// The session, its channel, and whether `agent` is serving it; someone else's
    /// session is not found.
    async fn agents_session(
        &self,
        who: &Acting,
        id: Uuid,
    ) -> Result<(Session, Channel), AgentActionError> {
        let s = store::get(self.db(), who.tenant, id).await?;
        if s.agent_id != Some(who.agent_id) && !s.skipped_agents.contains(&who.agent_id) {
            return Err(AgentActionError::NotFound);
        }
        let channel = channels::get(self.db(), who.tenant, s.channel_id).await?;
        Ok((s, channel))
    }

    /// The session again under the user's lock, if the agent still serves it.
    async fn serving(&self, who: &Acting, s: &Session) -> Result<Session, AgentActionError> {
        match store::find_active(self.db(), s.channel_id, &s.user_id).await? {
            Some(now)
                if now.id == s.id
                    && now.status == Status::WithAgent
                    && now.agent_id == Some(who.agent_id) =>
            {
                Ok(now)
            }
            _ => Err(AgentActionError::NotActive),
        }
    }

    /// The agent writes to the user.
    #[tracing::instrument(skip(self, who, elements), fields(agent = %who.agent_id))]
    pub async fn agent_message(
        &self,
        who: &Acting,
        id: Uuid,
        elements: Vec<Element>,
        client_id: Option<String>,
    ) -> Result<(Message, bool), AgentActionError> {
        let (s, channel) = self.agents_session(who, id).await?;
        let lock = self.lock_for(s.channel_id, &s.user_id);
        let _guard = lock.lock().await;
        for _ in 0..ATTEMPTS {
            let session = self.serving(who, &s).await?;
            if let Some(cid) = &client_id
                && let Some(m) = store::message_by_client_id(self.db(), session.id, cid).await?
            {
                return Ok((m, true));
            }
            let now = Utc::now();
            let message = NewMessage {
                id: Uuid::now_v7(),
                direction: Direction::Out,
                sender: Sender::Agent,
                sender_name: Some(who.nickname.clone()),
                client_id: client_id.clone(),
                elements: elements.clone(),
                at: now,
            };
            let before = (
                session.status,
                session.agent_id.map(|a| (a, session.status)),
            );
            match self
                .commit(&channel, session, false, vec![message], None, before, now)
                .await
            {
                Ok(d) => {
                    let m = d
                        .messages
                        .into_iter()
                        .next()
                        .ok_or(AgentActionError::NotActive)?;
                    return Ok((m, false));
                }
                Err(SessionError::Raced) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(SessionError::Busy.into())
    }

    /// The agent is done: the session goes back to its flow, at the node that
    /// transferred it (`Resumed(AgentFinished)`), or, with `survey`, at the flow's
    /// satisfaction survey.
    #[tracing::instrument(skip(self, who), fields(agent = %who.agent_id))]
    pub async fn agent_finish(
        &self,
        who: &Acting,
        id: Uuid,
        survey: bool,
    ) -> Result<Session, AgentActionError> {
        let (s, channel) = self.agents_session(who, id).await?;
        let lock = self.lock_for(s.channel_id, &s.user_id);
        let _guard = lock.lock().await;
        for _ in 0..ATTEMPTS {
            let mut session = self.serving(who, &s).await?;
            if survey {
                let node = self.survey_node(&session).await?;
                session.flow.node = Some(node);
            }
            match self
                .resume_now(&channel, session, ResumeReason::AgentFinished)
                .await
            {
                Ok(s) => return Ok(s),
                Err(SessionError::Raced) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(SessionError::Busy.into())
    }

    /// The first node of the session's flow that runs the survey module.
    async fn survey_node(&self, s: &Session) -> Result<String, AgentActionError> {
        let Some(revision) = s.revision_id else {
            return Err(AgentActionError::NoSurvey);
        };
        let revision = self.revision_of(TenantId(s.tenant_id), revision).await?;
        revision
            .nodes
            .iter()
            .find(|n| n.module == "survey")
            .map(|n| n.id.clone())
            .ok_or(AgentActionError::NoSurvey)
    }

    /// Brings a session back to its flow with `reason`, if it is still the user's
    /// active session and in status `expect` (a queue that gave up, for instance).
    pub async fn resume(
        &self,
        channel_id: Uuid,
        user_id: &str,
        id: Uuid,
        expect: Status,
        reason: ResumeReason,
    ) -> Result<Option<Session>, SessionError> {
        let lock = self.lock_for(channel_id, user_id);
        let _guard = lock.lock().await;
        for _ in 0..ATTEMPTS {
            let Some(session) = store::find_active(self.db(), channel_id, user_id).await? else {
                return Ok(None);
            };
            if session.id != id || session.status != expect {
                return Ok(None);
            }
            let channel = channels::get(self.db(), TenantId(session.tenant_id), channel_id).await?;
            match self.resume_now(&channel, session, reason).await {
                Ok(s) => return Ok(Some(s)),
                Err(SessionError::Raced) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(SessionError::Busy)
    }

    /// Runs the flow from where the session left it. Without a flow node to go back
    /// to (no published flow, or a fallback transfer), the session ends: 3 when the
    /// queue gave up, 1 when the agent finished.
    async fn resume_now(
        &self,
        channel: &Channel,
        mut session: Session,
        reason: ResumeReason,
    ) -> Result<Session, SessionError> {
        let now = Utc::now();
        let before = (
            session.status,
            session.agent_id.map(|a| (a, session.status)),
        );
        let mut messages = Vec::new();
        // After the agent the flow may go on talking (a survey): `survey` until it ends.
        session.status = match reason {
            ResumeReason::TransferFailed => Status::InFlow,
            ResumeReason::AgentFinished | ResumeReason::SessionEnded => Status::Survey,
        };
        session.queued_at = None;
        // The flow goes on after an agent: its messages (a survey's invitation) may
        // name who served the user.
        if !matches!(reason, ResumeReason::TransferFailed)
            && let Some(agent) = session.agent_id
        {
            let tenant = TenantId(session.tenant_id);
            match crate::store::agents::shown_to_users(self.db(), tenant, agent).await {
                Ok((nickname, staff_no)) => {
                    session.set_known_variable("StaffNickName", serde_json::json!(nickname));
                    session.set_known_variable("StaffNo", serde_json::json!(staff_no));
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if session.revision_id.is_some() && session.flow.node.is_some() {
            self.run_flow(
                channel,
                &mut session,
                Trigger::Resumed(reason),
                now,
                &mut messages,
            )
            .await?;
        } else {
            let code = match reason {
                ResumeReason::TransferFailed => end_status::NO_AGENT,
                _ => end_status::NORMAL,
            };
            super::turn::end(&mut session, code, now);
        }
        if session.status == Status::Survey && session.flow.node.is_none() {
            super::turn::end(&mut session, end_status::NORMAL, now);
        }
        let d = self
            .commit(channel, session, false, messages, None, before, now)
            .await?;
        d.session.ok_or(SessionError::Busy)
    }

    /// The agent hands the session to another agent or skill group: this leg ends
    /// with 101 and a new leg of the same conversation starts, keeping the flow's
    /// state so that the flow goes on after the next agent.
    #[tracing::instrument(skip(self, who), fields(agent = %who.agent_id))]
    pub async fn agent_transfer(
        &self,
        who: &Acting,
        id: Uuid,
        target: Target,
        note: Option<String>,
    ) -> Result<(Session, Session), AgentActionError> {
        let (s, _channel) = self.agents_session(who, id).await?;
        match target {
            Target::Agent(a) if a == who.agent_id => {
                return Err(AgentActionError::Invalid(FieldErrors::single(
                    "agent_id",
                    "the session is already yours",
                )));
            }
            Target::Group(g) => {
                if crate::store::skill_groups::get(self.db(), who.tenant, g)
                    .await
                    .is_err()
                {
                    return Err(AgentActionError::Invalid(FieldErrors::single(
                        "skill_group_id",
                        "no such skill group",
                    )));
                }
            }
            Target::Agent(a) => {
                if crate::store::agents::get(self.db(), who.tenant, a)
                    .await
                    .is_err()
                {
                    return Err(AgentActionError::Invalid(FieldErrors::single(
                        "agent_id",
                        "no such agent",
                    )));
                }
            }
        }
        let lock = self.lock_for(s.channel_id, &s.user_id);
        let _guard = lock.lock().await;
        let session = self.serving(who, &s).await?;
        let now = Utc::now();
        let mut old = session.clone();
        super::turn::end(&mut old, end_status::TRANSFERRED, now);
        old.updated_at = now;
        let mut next = session;
        next.id = Uuid::now_v7();
        next.parent_id = Some(old.id);
        next.message_count = 0;
        next.version = 0;
        next.created_at = now;
        next.updated_at = now;
        next.skipped_agents = vec![who.agent_id];
        next.survey = None;
        next.offer_expires_at = None;
        next.end_status = None;
        next.ended_at = None;
        match target {
            Target::Agent(a) => {
                next.status = Status::WithAgent;
                next.agent_id = Some(a);
                next.offered_at = Some(now);
                next.assigned_at = Some(now);
            }
            Target::Group(g) => {
                next.status = Status::Queued;
                next.skill_group_id = Some(g);
                next.agent_id = None;
                next.offered_at = None;
                next.assigned_at = None;
                next.queued_at = Some(now);
            }
        }
        let mut effects = self.signals().effects();
        let cutoff = self.signals().cutoff(now);
        let done = assign::commit_transfer(
            self.db(),
            &old,
            who.agent_id,
            &next,
            note.as_deref(),
            now,
            cutoff,
            &mut effects,
        )
        .await;
        if done.is_ok() {
            self.signals().apply(effects);
        }
        done?;
        old.version += 1;
        next.version += 1;
        self.publish_status(&old);
        self.publish_status(&next);
        Ok((old, next))
    }
}
