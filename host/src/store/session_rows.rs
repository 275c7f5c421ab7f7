//! Session rows and sessions: the mapping between them both ways, the reads that
//! answer sessions, and which rows a reader may see (`visible_to`), for every part of
//! `store` that reads or writes sessions (turns in `sessions.rs`, routing in
//! `assign/`, reports in `records.rs`).

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Select, Set};
use uuid::Uuid;

use super::entity::session;
use super::{StoreError, TenantId};
use crate::flow::engine::FlowState;
use crate::sessions::{Session, Source, Status, SurveyRecord, Visibility};

pub(super) fn corrupt(what: &str, id: Uuid, e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!(
        "{what} of {id} is unreadable: {e}"
    )))
}

/// The tenant's sessions that are or were `agent`'s.
pub(crate) fn agents_sessions(tenant: TenantId, agent: Uuid) -> Select<session::Entity> {
    session::Entity::find()
        .filter(session::Column::TenantId.eq(tenant.0))
        .filter(session::Column::AgentId.eq(agent))
}

/// Every session `query` finds, in its order.
pub(crate) async fn all_sessions(
    db: &impl ConnectionTrait,
    query: Select<session::Entity>,
) -> Result<Vec<Session>, StoreError> {
    query.all(db).await?.into_iter().map(to_session).collect()
}

/// The first session `query` finds, if any.
pub(crate) async fn first_session(
    db: &impl ConnectionTrait,
    query: Select<session::Entity>,
) -> Result<Option<Session>, StoreError> {
    query.one(db).await?.map(to_session).transpose()
}

pub(crate) fn to_session(m: session::Model) -> Result<Session, StoreError> {
    let flow: FlowState =
        serde_json::from_str(&m.flow).map_err(|e| corrupt("flow state", m.id, e))?;
    let status = Status::parse(&m.status).ok_or_else(|| corrupt("status", m.id, &m.status))?;
    let variables = flow
        .variables
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.clone())),
            )
        })
        .collect();
    Ok(Session {
        id: m.id,
        tenant_id: m.tenant_id,
        channel_id: m.channel_id,
        user_id: m.user_id,
        user_nickname: m.user_nickname,
        source: Source::parse(&m.source),
        status,
        revision_id: m.revision_id,
        node: flow.node.clone(),
        variables,
        flow,
        wait_until: m.wait_until,
        idle_deadline: m.idle_deadline,
        skill_group_id: m.skill_group_id,
        priority: m.priority.clamp(0, 255) as u8,
        queued_at: m.queued_at,
        end_status: m.end_status.map(|s| s.clamp(0, 65535) as u16),
        ended_at: m.ended_at,
        message_count: m.message_count.max(0) as u32,
        agent_id: m.agent_id,
        offered_at: m.offered_at,
        offer_expires_at: m.offer_expires_at,
        assigned_at: m.assigned_at,
        parent_id: m.parent_id,
        skipped_agents: serde_json::from_str(&m.skipped_agents).unwrap_or_default(),
        survey: (m.survey_invited_at.is_some() || m.survey_rated_at.is_some()).then(|| {
            SurveyRecord {
                invited_at: m.survey_invited_at,
                score: m.survey_score.map(|s| s.clamp(0, 255) as u8),
                label: m.survey_label,
                comment: m.survey_comment,
                rated_at: m.survey_rated_at,
            }
        }),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// The key that allows one active session per channel and user.
pub fn active_key(channel_id: Uuid, user_id: &str) -> String {
    format!("{channel_id}/{user_id}")
}

pub(crate) fn session_model(s: &Session, version: i64) -> session::ActiveModel {
    let ended = s.status == Status::Ended;
    session::ActiveModel {
        id: Set(s.id),
        tenant_id: Set(s.tenant_id),
        channel_id: Set(s.channel_id),
        user_id: Set(s.user_id.clone()),
        user_nickname: Set(s.user_nickname.clone()),
        source: Set(s.source.as_str().to_owned()),
        active_key: Set((!ended).then(|| active_key(s.channel_id, &s.user_id))),
        status: Set(s.status.as_str().to_owned()),
        revision_id: Set(s.revision_id),
        flow: Set(serde_json::to_string(&s.flow).unwrap_or_default()),
        wait_until: Set(s.wait_until),
        idle_deadline: Set(s.idle_deadline),
        skill_group_id: Set(s.skill_group_id),
        priority: Set(i32::from(s.priority)),
        queued_at: Set(s.queued_at),
        end_status: Set(s.end_status.map(i32::from)),
        ended_at: Set(s.ended_at),
        message_count: Set(s.message_count as i32),
        version: Set(version),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
        agent_id: Set(s.agent_id),
        offered_at: Set(s.offered_at),
        offer_expires_at: Set(s.offer_expires_at),
        assigned_at: Set(s.assigned_at),
        parent_id: Set(s.parent_id),
        skipped_agents: Set(
            serde_json::to_string(&s.skipped_agents).unwrap_or_else(|_| "[]".into())
        ),
        survey_invited_at: Set(s.survey.as_ref().and_then(|r| r.invited_at)),
        survey_score: Set(s.survey.as_ref().and_then(|r| r.score).map(i16::from)),
        survey_label: Set(s.survey.as_ref().and_then(|r| r.label.clone())),
        survey_comment: Set(s.survey.as_ref().and_then(|r| r.comment.clone())),
        survey_rated_at: Set(s.survey.as_ref().and_then(|r| r.rated_at)),
    }
}

/// The sessions `who` may read, as a condition on `sessions` (the rule is explained in
/// `sessions::visibility`); `None` for everything.
pub(crate) fn visible_to(who: &Visibility) -> Option<Condition> {
    let (agent, groups, queued_only) = match who {
        Visibility::All => return None,
        Visibility::Groups { agent, groups } => (*agent, groups, false),
        Visibility::Own { agent, groups } => (*agent, groups, true),
    };
    // Declined and missed offers are kept in `skipped_agents`, a JSON list of ids.
    let offered = format!("%{agent}%");
    let mut any = Condition::any()
        .add(session::Column::AgentId.eq(agent))
        .add(session::Column::SkippedAgents.like(offered));
    if !groups.is_empty() {
        let in_groups = session::Column::SkillGroupId.is_in(groups.iter().copied());
        any = if queued_only {
            any.add(
                Condition::all()
                    .add(session::Column::Status.eq(Status::Queued.as_str()))
                    .add(in_groups),
            )
        } else {
            any.add(in_groups)
        };
    }
    Some(any.add(Expr::exists(served_the_same_user(agent))))
}

/// `SELECT` of a session that `agent` serves or served (or is offered), of the same
/// user on the same channel as the `sessions` row in hand.
fn served_the_same_user(agent: Uuid) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, ExprTrait, Query};
    let s2 = Alias::new("s2");
    let outer = |c: session::Column| Expr::col((session::Entity, c));
    let inner = |c: session::Column| Expr::col((s2.clone(), c));
    Query::select()
        .expr(Expr::val(1))
        .from_as(session::Entity, s2.clone())
        .and_where(inner(session::Column::TenantId).eq(outer(session::Column::TenantId)))
        .and_where(inner(session::Column::ChannelId).eq(outer(session::Column::ChannelId)))
        .and_where(inner(session::Column::UserId).eq(outer(session::Column::UserId)))
        .and_where(inner(session::Column::AgentId).eq(agent))
        .to_owned()
}
