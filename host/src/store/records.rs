//! Service records (`session_records`): written in the transaction of every change of
//! a session leg, read by the records API, the statistics and webhooks.
//!
//! [`track`] is the one call the places that change legs make (a turn, an offer, an
//! acceptance, a withdrawn offer, a transfer): it brings the leg's record up to date
//! in one statement and puts the webhook events the change makes in the outbox, so
//! that neither can disagree with the change or outlive a rolled-back one.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult, Statement, Value};
use uuid::Uuid;

use super::session_rows::visible_to;
use super::write::{Batch, stmt};
use super::{StoreError, TenantId, webhooks};
use crate::records::{Change, Stored, ms};
use crate::sessions::{Status, Visibility};

/// Brings the leg's record up to date with `change` and queues its webhook events.
pub async fn track(c: &impl ConnectionTrait, change: &Change<'_>) -> Result<(), StoreError> {
    let mut batch = Batch::new(c.get_database_backend());
    let events_later = track_in(&mut batch, change);
    batch.run(c).await?;
    if events_later {
        queue_final_events(c, change).await?;
    }
    Ok(())
}

/// Adds [`track`]'s statements to `batch`, for a caller that sends them with its own.
/// Answers `true` when the change ends the leg: its events carry the final record,
/// which is read once the batch has run, so call [`queue_final_events`] then.
pub(crate) fn track_in(batch: &mut Batch, change: &Change<'_>) -> bool {
    batch.push(upsert(batch.backend(), change));
    if change.ended_now() {
        return true;
    }
    let events = crate::webhooks::events::of_change(change, None);
    if let Some(enqueue) =
        webhooks::enqueue_statement(batch.backend(), TenantId(change.session.tenant_id), &events)
    {
        batch.push(enqueue);
    }
    false
}

/// Queues the webhook events of a change that ended the leg, with its final record
/// (read here, after the record's upsert).
pub(crate) async fn queue_final_events(
    c: &impl ConnectionTrait,
    change: &Change<'_>,
) -> Result<(), StoreError> {
    let s = change.session;
    let tenant = TenantId(s.tenant_id);
    // A failed read inside the transaction must fail it: PostgreSQL would refuse every
    // later statement of it anyway.
    let record = crate::records::Record::from(&get(c, tenant, s.id, &Visibility::All).await?);
    let events = crate::webhooks::events::of_change(change, Some(&record));
    webhooks::enqueue(c, tenant, &events).await
}

/// A leg that routing changed (offered, accepted, taken back): its record and events.
pub async fn track_routing(
    c: &impl ConnectionTrait,
    session: &crate::sessions::Session,
    before: Status,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let change = Change {
        session,
        before: Some(before),
        messages: Vec::new(),
        at,
        transfer: None,
    };
    track(c, &change).await
}

/// The record's new state: times that happen once keep their first value, counts add
/// up, the rest follows the leg. A record already rolled up into the statistics is
/// final and left alone.
fn upsert(backend: DatabaseBackend, change: &Change<'_>) -> Statement {
    let s = change.session;
    let accepted = change
        .accepted_now()
        .then(|| s.assigned_at.unwrap_or(change.at));
    let offered = accepted.map(|a| Ord::min(s.offered_at.unwrap_or(a), a));
    let ended = s.status == Status::Ended;
    let (to_leg, to_agent, to_group, from_leg, from_agent) = match &change.transfer {
        Some(t) if t.from == s.id => (Some(t.to), t.to_agent, t.to_group, None, None),
        Some(t) if t.to == s.id => (None, None, None, Some(t.from), Some(t.by_agent)),
        _ => (None, None, None, None, None),
    };
    let parent = from_leg.or(s.parent_id);
    let counts = change.counts();
    let reply = change.agent_reply_at().map(ms);
    let waiting = change.user_waiting_at().map(ms);
    let survey = s.survey.as_ref();
    let values: Vec<Value> = vec![
        s.id.into(),
        s.tenant_id.into(),
        parent.into(),
        s.id.into(),
        s.channel_id.into(),
        s.source.as_str().into(),
        s.user_id.clone().into(),
        s.user_nickname.clone().into(),
        s.skill_group_id.into(),
        s.agent_id.into(),
        s.status.as_str().into(),
        ms(s.created_at).into(),
        (s.status == Status::Queued)
            .then_some(s.queued_at)
            .flatten()
            .map(ms)
            .into(),
        change
            .left_queue_without_agent()
            .then(|| ms(change.at))
            .into(),
        offered.map(ms).into(),
        accepted.map(ms).into(),
        reply.into(),
        ended.then_some(s.ended_at).flatten().map(ms).into(),
        ended
            .then_some(s.end_status)
            .flatten()
            .map(i32::from)
            .into(),
        change.ended_by().map(|e| e.as_str()).into(),
        from_leg.into(),
        from_agent.into(),
        to_leg.into(),
        to_agent.into(),
        to_group.into(),
        counts[0].into(),
        counts[1].into(),
        counts[2].into(),
        counts[3].into(),
        waiting.into(),
        survey.and_then(|r| r.invited_at).map(ms).into(),
        survey.and_then(|r| r.score).map(i16::from).into(),
        survey.and_then(|r| r.label.clone()).into(),
        survey.and_then(|r| r.comment.clone()).into(),
        survey.and_then(|r| r.rated_at).map(ms).into(),
        // For the update: did the agent reply (and when)?
        reply.is_some().into(),
        reply.is_some().into(),
        reply.into(),
        reply.is_some().into(),
    ];
    stmt(backend, UPSERT, values)
}

const UPSERT: &str = "INSERT INTO session_records (id, tenant_id, conversation_id, channel_id, source, \
     user_id, user_nickname, skill_group_id, agent_id, status, started_ms, queued_ms, left_queue_ms, \
     offered_ms, accepted_ms, first_reply_ms, ended_ms, end_status, ended_by, transferred_from, \
     from_agent_id, transferred_to, to_agent_id, to_skill_group_id, user_messages, bot_messages, \
     agent_messages, system_messages, pending_user_ms, response_ms, responses, survey_invited_ms, \
     survey_score, survey_label, survey_comment, survey_rated_ms, rolled_up) \
     VALUES (?, ?, COALESCE((SELECT p.conversation_id FROM session_records p WHERE p.id = ?), ?), \
     ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, FALSE) \
     ON CONFLICT (id) DO UPDATE SET \
     user_nickname = excluded.user_nickname, skill_group_id = excluded.skill_group_id, \
     agent_id = excluded.agent_id, status = excluded.status, \
     queued_ms = COALESCE(session_records.queued_ms, excluded.queued_ms), \
     left_queue_ms = COALESCE(session_records.left_queue_ms, excluded.left_queue_ms), \
     offered_ms = COALESCE(session_records.offered_ms, excluded.offered_ms), \
     accepted_ms = COALESCE(session_records.accepted_ms, excluded.accepted_ms), \
     first_reply_ms = COALESCE(session_records.first_reply_ms, excluded.first_reply_ms), \
     ended_ms = excluded.ended_ms, end_status = excluded.end_status, \
     ended_by = COALESCE(session_records.ended_by, excluded.ended_by), \
     transferred_to = COALESCE(session_records.transferred_to, excluded.transferred_to), \
     to_agent_id = COALESCE(session_records.to_agent_id, excluded.to_agent_id), \
     to_skill_group_id = COALESCE(session_records.to_skill_group_id, excluded.to_skill_group_id), \
     user_messages = session_records.user_messages + excluded.user_messages, \
     bot_messages = session_records.bot_messages + excluded.bot_messages, \
     agent_messages = session_records.agent_messages + excluded.agent_messages, \
     system_messages = session_records.system_messages + excluded.system_messages, \
     responses = session_records.responses + \
       CASE WHEN ? AND session_records.pending_user_ms IS NOT NULL THEN 1 ELSE 0 END, \
     response_ms = session_records.response_ms + \
       CASE WHEN ? AND session_records.pending_user_ms IS NOT NULL \
       THEN ? - session_records.pending_user_ms ELSE 0 END, \
     pending_user_ms = CASE WHEN ? THEN excluded.pending_user_ms \
       ELSE COALESCE(session_records.pending_user_ms, excluded.pending_user_ms) END, \
     survey_invited_ms = excluded.survey_invited_ms, survey_score = excluded.survey_score, \
     survey_label = excluded.survey_label, survey_comment = excluded.survey_comment, \
     survey_rated_ms = excluded.survey_rated_ms \
     WHERE session_records.rolled_up = FALSE";

/// Which records a list or export shows.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Started at or after (ms).
    pub from_ms: Option<i64>,
    /// Started before (ms).
    pub to_ms: Option<i64>,
    pub channel_id: Option<Uuid>,
    pub skill_group_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub end_status: Option<i32>,
    pub user_id: Option<String>,
    /// The conversation (first leg's id).
    pub session_id: Option<Uuid>,
    pub rated: Option<bool>,
    pub score: Option<i16>,
}

/// Where a page starts: after the record `(started_ms, id)`, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub started_ms: i64,
    pub id: Uuid,
}

const COLUMNS: &str = "r.id, r.tenant_id, r.conversation_id, r.channel_id, r.source, r.user_id, \
     r.user_nickname, r.skill_group_id, r.agent_id, r.status, r.started_ms, r.queued_ms, \
     r.left_queue_ms, r.offered_ms, r.accepted_ms, r.first_reply_ms, r.ended_ms, r.end_status, \
     r.ended_by, r.transferred_from, r.from_agent_id, r.transferred_to, r.to_agent_id, \
     r.to_skill_group_id, r.user_messages, r.bot_messages, r.agent_messages, r.system_messages, \
     r.response_ms, r.responses, r.survey_invited_ms, r.survey_score, r.survey_label, \
     r.survey_comment, r.survey_rated_ms, r.rolled_up";

/// `SELECT` of records with the names they refer to, as `who` may see them.
fn select(tenant: TenantId, who: &Visibility, names: bool) -> SelectStatement {
    let mut q = Query::select();
    q.expr(Expr::cust(COLUMNS))
        .from_as(Alias::new("session_records"), Alias::new("r"))
        .and_where(Expr::cust("r.tenant_id").eq(tenant.0));
    if names {
        q.expr(Expr::cust(
            "c.name AS channel_name, g.name AS skill_group_name, a.nickname AS agent_nickname, \
             a.staff_no AS agent_staff_no",
        ))
        .join_as(
            JoinType::LeftJoin,
            Alias::new("channels"),
            Alias::new("c"),
            Expr::cust("c.id = r.channel_id"),
        )
        .join_as(
            JoinType::LeftJoin,
            Alias::new("skill_groups"),
            Alias::new("g"),
            Expr::cust("g.id = r.skill_group_id"),
        )
        .join_as(
            JoinType::LeftJoin,
            Alias::new("agents"),
            Alias::new("a"),
            Expr::cust("a.id = r.agent_id"),
        );
    }
    // The one rule of which sessions a caller may read, on the leg's session row.
    if let Some(visible) = visible_to(who) {
        q.join(
            JoinType::InnerJoin,
            Alias::new("sessions"),
            Expr::cust("sessions.id = r.id"),
        )
        .cond_where(visible);
    }
    q
}

fn filtered(q: &mut SelectStatement, f: &RecordFilter) {
    // Values are bound by the query builder (`$n` on PostgreSQL, `?` on SQLite).
    let col = Expr::cust;
    if let Some(v) = f.from_ms {
        q.and_where(col("r.started_ms").gte(v));
    }
    if let Some(v) = f.to_ms {
        q.and_where(col("r.started_ms").lt(v));
    }
    let mut equal = |name: &'static str, v: Value| {
        q.and_where(col(name).eq(v));
    };
    if let Some(v) = f.channel_id {
        equal("r.channel_id", v.into());
    }
    if let Some(v) = f.skill_group_id {
        equal("r.skill_group_id", v.into());
    }
    if let Some(v) = f.agent_id {
        equal("r.agent_id", v.into());
    }
    if let Some(v) = f.end_status {
        equal("r.end_status", v.into());
    }
    if let Some(v) = &f.user_id {
        equal("r.user_id", v.clone().into());
    }
    if let Some(v) = f.session_id {
        equal("r.conversation_id", v.into());
    }
    if let Some(v) = f.score {
        equal("r.survey_score", v.into());
    }
    match f.rated {
        Some(true) => {
            q.and_where(Expr::cust("r.survey_score IS NOT NULL"));
        }
        Some(false) => {
            q.and_where(Expr::cust("r.survey_score IS NULL"));
        }
        None => {}
    }
}

/// Up to `limit` records matching `filter`, newest first, after `after`.
pub async fn list(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    who: &Visibility,
    filter: &RecordFilter,
    after: Option<After>,
    limit: u64,
) -> Result<Vec<Stored>, StoreError> {
    let mut q = select(tenant, who, true);
    filtered(&mut q, filter);
    if let Some(a) = after {
        q.and_where(
            Expr::cust("r.started_ms")
                .lt(a.started_ms)
                .or(Expr::cust("r.started_ms")
                    .eq(a.started_ms)
                    .and(Expr::cust("r.id").lt(a.id))),
        );
    }
    q.order_by_expr(Expr::cust("r.started_ms"), Order::Desc)
        .order_by_expr(Expr::cust("r.id"), Order::Desc)
        .limit(limit);
    let rows = c.query_all_raw(c.get_database_backend().build(&q)).await?;
    rows.iter().map(|r| row(r, true)).collect()
}

/// One record the caller may see; another is not found.
pub async fn get(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
    who: &Visibility,
) -> Result<Stored, StoreError> {
    let mut q = select(tenant, who, true);
    q.and_where(Expr::cust("r.id").eq(id));
    let row_ = c
        .query_one_raw(c.get_database_backend().build(&q))
        .await?
        .ok_or(StoreError::NotFound)?;
    row(&row_, true)
}

/// The tenant's records not yet rolled up that started in `[from_ms, to_ms)`, for
/// the statistics' live part: legs still going on and those that ended since the
/// last rollup.
pub async fn pending(
    c: &impl ConnectionTrait,
    tenant: TenantId,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Stored>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM session_records r WHERE r.rolled_up = FALSE AND r.tenant_id = ? \
         AND r.started_ms >= ? AND r.started_ms < ?"
    );
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            &sql,
            vec![tenant.0.into(), from_ms.into(), to_ms.into()],
        ))
        .await?;
    rows.iter().map(|r| row(r, false)).collect()
}

/// Ended records not yet rolled up, oldest end first, at most `limit` (any tenant).
pub async fn ended_not_rolled_up(
    c: &impl ConnectionTrait,
    limit: u64,
    lock: bool,
) -> Result<Vec<Stored>, StoreError> {
    // On PostgreSQL two nodes may roll up at once: each takes rows the other does not
    // hold, so no leg is added twice.
    let lock = if lock { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM session_records r WHERE r.rolled_up = FALSE \
         AND r.ended_ms IS NOT NULL LIMIT ?{lock}"
    );
    let rows = c
        .query_all_raw(stmt(
            c.get_database_backend(),
            &sql,
            vec![(limit as i64).into()],
        ))
        .await?;
    rows.iter().map(|r| row(r, false)).collect()
}

/// Marks records as rolled up.
pub async fn mark_rolled_up(c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        c.execute_raw(stmt(
            c.get_database_backend(),
            &format!("UPDATE session_records SET rolled_up = TRUE WHERE id IN ({marks})"),
            chunk.iter().map(|id| (*id).into()).collect(),
        ))
        .await?;
    }
    Ok(())
}

fn row(r: &QueryResult, names: bool) -> Result<Stored, StoreError> {
    let name = |col: &str| -> Result<Option<String>, StoreError> {
        if names {
            Ok(r.try_get("", col)?)
        } else {
            Ok(None)
        }
    };
    Ok(Stored {
        id: r.try_get("", "id")?,
        tenant_id: r.try_get("", "tenant_id")?,
        conversation_id: r.try_get("", "conversation_id")?,
        channel_id: r.try_get("", "channel_id")?,
        source: r.try_get("", "source")?,
        user_id: r.try_get("", "user_id")?,
        user_nickname: r.try_get("", "user_nickname")?,
        skill_group_id: r.try_get("", "skill_group_id")?,
        agent_id: r.try_get("", "agent_id")?,
        status: r.try_get("", "status")?,
        started_ms: r.try_get("", "started_ms")?,
        queued_ms: r.try_get("", "queued_ms")?,
        left_queue_ms: r.try_get("", "left_queue_ms")?,
        offered_ms: r.try_get("", "offered_ms")?,
        accepted_ms: r.try_get("", "accepted_ms")?,
        first_reply_ms: r.try_get("", "first_reply_ms")?,
        ended_ms: r.try_get("", "ended_ms")?,
        end_status: r.try_get("", "end_status")?,
        ended_by: r.try_get("", "ended_by")?,
        transferred_from: r.try_get("", "transferred_from")?,
        from_agent_id: r.try_get("", "from_agent_id")?,
        transferred_to: r.try_get("", "transferred_to")?,
        to_agent_id: r.try_get("", "to_agent_id")?,
        to_skill_group_id: r.try_get("", "to_skill_group_id")?,
        user_messages: r.try_get("", "user_messages")?,
        bot_messages: r.try_get("", "bot_messages")?,
        agent_messages: r.try_get("", "agent_messages")?,
        system_messages: r.try_get("", "system_messages")?,
        response_ms: r.try_get("", "response_ms")?,
        responses: r.try_get("", "responses")?,
        survey_invited_ms: r.try_get("", "survey_invited_ms")?,
        survey_score: r.try_get("", "survey_score")?,
        survey_label: r.try_get("", "survey_label")?,
        survey_comment: r.try_get("", "survey_comment")?,
        survey_rated_ms: r.try_get("", "survey_rated_ms")?,
        rolled_up: r.try_get("", "rolled_up")?,
        channel_name: name("channel_name")?,
        skill_group_name: name("skill_group_name")?,
        agent_nickname: name("agent_nickname")?,
        agent_staff_no: name("agent_staff_no")?,
    })
}
