//! A turn: the flow run for one input (a message, a timer, a resume), its outcome
//! applied to the session, and everything it produced written in one transaction
//! checked against the session's version.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Direction, Element, Message, Sender, Session, Source, Status, end_status};
use crate::directory::Channel;
use crate::flow::engine::{self, Outcome, TurnContext};
use crate::flow::{MessageElement, SessionInfo, Trigger, UserMessage};
use crate::plugin::LogBudget;
use crate::store::sessions::{CommitError, NewDelivery, NewMessage};
use crate::store::{StoreError, TenantId, tenants};

use super::commit::{Turn, commit};
use super::service::{Delivered, EventKind, SessionError, Sessions};
use super::steps::RegistryRunner;

impl Sessions {
    /// Runs one turn of the session's flow and applies its outcome.
    pub(super) async fn run(
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
        let turn = Turn {
            session: session.clone(),
            is_new,
            messages: messages.clone(),
            receipt: receipt.map(|(key, response)| (key.to_owned(), response.to_owned())),
            deliveries: deliveries.clone(),
            before_agent,
            before,
            cutoff,
            group,
            shortlist,
            node: self.signals.node,
        };
        let committed = commit(&self.db, turn).await.map(|(routed, effects)| {
            self.signals.apply(effects);
            routed
        });
        let routed = match committed {
            Ok(routed) => {
                crate::metrics::session_turn(is_new, before, &session);
                crate::metrics::routed(&routed);
                routed
            }
            Err(CommitError::Raced) => {
                self.forget_active(&session);
                return Err(SessionError::Raced);
            }
            // Nothing was written: a kept copy is still the stored session.
            Err(CommitError::Duplicate) => return Err(SessionError::Duplicate),
            Err(CommitError::Store(e)) => {
                self.forget_active(&session);
                return Err(e.into());
            }
        };
        session.version += 1;
        // Routed in the same transaction: this session (now with an agent) or the
        // queue's head before it.
        for r in routed {
            if r.id == session.id {
                session = r;
            } else {
                self.publish_status(&r);
                self.keep_active(&r);
            }
        }
        self.keep_active(&session);
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

    /// Keeps `session`, as just stored, for its user's next message (an ended one is
    /// no longer the user's active session).
    fn keep_active(&self, session: &Session) {
        let key = crate::store::sessions::active_key(session.channel_id, &session.user_id);
        if session.status == Status::Ended {
            self.active.forget(&key);
        } else {
            self.active.put(key, session.clone());
        }
    }

    /// Drops the kept copy of `session`'s user's active session.
    fn forget_active(&self, session: &Session) {
        self.active.forget(&crate::store::sessions::active_key(
            session.channel_id,
            &session.user_id,
        ));
    }
}

/// Sets the session's status and deadlines from how its turn ended.
pub(super) fn apply_outcome(session: &mut Session, outcome: Outcome, now: DateTime<Utc>) {
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

pub(super) fn user_message(elements: &[MessageElement], now: DateTime<Utc>) -> UserMessage {
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
