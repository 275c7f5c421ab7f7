//! What an agent's sessions list shows beside each session: its last message, how
//! many of the user's messages the agent has not read, and since when the user has
//! been waiting for an answer; the agent's recently ended sessions; how far the
//! agent has read; colleagues with their live status, for transfers; and whether an
//! agent has served a user (who may then read that user's conversations).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::entity::session;
use super::session_rows::{agents_sessions, all_sessions};
use super::sessions::messages;
use super::write::{stmt, write};
use super::{StoreError, TenantId};
use crate::routing::status::Shown;
use crate::sessions::{Message, Session, Status};

/// A session as the agent's list shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub session: Session,
    pub last_message: Option<Message>,
    /// The user's messages after the last one the agent read.
    pub unread: u32,
    /// The number of the last message the agent read (0: none).
    pub read_seq: u32,
    /// When the first of the user's messages not yet answered by an agent arrived.
    pub waiting_since: Option<DateTime<Utc>>,
}

/// The list's figures for one session seen by `agent`.
pub async fn summary(
    db: &impl ConnectionTrait,
    agent: Uuid,
    s: Session,
) -> Result<Summary, StoreError> {
    let b = db.get_database_backend();
    let read_seq: i32 = db
        .query_one_raw(stmt(
            b,
            "SELECT seq FROM session_reads WHERE session_id = ? AND agent_id = ?",
            vec![s.id.into(), agent.into()],
        ))
        .await?
        .map(|r| r.try_get("", "seq"))
        .transpose()?
        .unwrap_or(0);
    let unread: i64 = db
        .query_one_raw(stmt(
            b,
            "SELECT COUNT(*) AS n FROM session_messages WHERE session_id = ? AND direction = 'in' AND seq > ?",
            vec![s.id.into(), read_seq.into()],
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    let waiting_since: Option<DateTime<Utc>> = db
        .query_one_raw(stmt(
            b,
            "SELECT created_at FROM session_messages WHERE session_id = ? AND sender = 'user' \
             AND seq > (SELECT COALESCE(MAX(seq), 0) FROM session_messages WHERE session_id = ? AND sender = 'agent') \
             ORDER BY seq LIMIT 1",
            vec![s.id.into(), s.id.into()],
        ))
        .await?
        .map(|r| r.try_get("", "created_at"))
        .transpose()?;
    let last_message = messages(db, s.id, 1, 0, true).await?.into_iter().next();
    Ok(Summary {
        session: s,
        last_message,
        unread: u32::try_from(unread).unwrap_or(0),
        read_seq: read_seq.max(0) as u32,
        waiting_since,
    })
}

/// Most recently ended sessions listed.
pub const MAX_ENDED: u64 = 20;

/// The sessions `agent` served that left them since `since` (ended, transferred,
/// or back in their flow for a survey), newest first.
pub async fn ended_of(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    agent: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Session>, StoreError> {
    all_sessions(
        db,
        agents_sessions(tenant, agent)
            .filter(session::Column::AssignedAt.is_not_null())
            .filter(
                session::Column::Status.is_in([Status::Survey.as_str(), Status::Ended.as_str()]),
            )
            .filter(session::Column::UpdatedAt.gte(since))
            .order_by_desc(session::Column::UpdatedAt)
            .limit(MAX_ENDED),
    )
    .await
}

/// Records that `agent` has read `session` up to message `seq`; the mark never goes
/// back (two tabs reading at once keep the further one).
pub async fn mark_read(
    db: &DatabaseConnection,
    tenant: TenantId,
    session: Uuid,
    agent: Uuid,
    seq: u32,
) -> Result<(), StoreError> {
    let b = db.get_database_backend();
    let seq = i32::try_from(seq).unwrap_or(i32::MAX);
    let sql = stmt(
        b,
        "INSERT INTO session_reads (session_id, agent_id, tenant_id, seq, updated_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (session_id, agent_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at \
         WHERE session_reads.seq < excluded.seq",
        vec![
            session.into(),
            agent.into(),
            tenant.0.into(),
            seq.into(),
            Utc::now().into(),
        ],
    );
    write(db, |c| async move {
        c.execute_raw(sql).await?;
        Ok(())
    })
    .await
}

/// A colleague as an agent may see them: no e-mail, no phone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Colleague {
    pub agent_id: Uuid,
    pub name: String,
    pub nickname: String,
    pub status: Shown,
    /// Sessions held now, and the cap at which the agent is busy.
    pub active_sessions: i32,
    pub max_concurrent_sessions: i32,
}

/// Most colleagues listed.
pub const MAX_COLLEAGUES: u64 = 1000;

/// The tenant's active agents with their shown status (offline when they never
/// opened a workbench or none is live since `cutoff`), free ones first, then by name.
pub async fn colleagues(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Colleague>, StoreError> {
    let b = db.get_database_backend();
    let rows = db
        .query_all_raw(stmt(
            b,
            &format!(
                "SELECT a.id, a.name, a.nickname, a.max_concurrent_sessions, p.shown, \
                 COALESCE(p.active_sessions, 0) AS active_sessions, \
                 EXISTS (SELECT 1 FROM agent_connections c WHERE c.agent_id = a.id AND c.seen_at > ?) AS online \
                 FROM agents a LEFT JOIN agent_presence p ON p.agent_id = a.id \
                 WHERE a.tenant_id = ? AND a.active = TRUE ORDER BY a.name, a.id LIMIT {MAX_COLLEAGUES}"
            ),
            vec![cutoff.into(), tenant.0.into()],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let shown: Option<String> = r.try_get("", "shown")?;
        let online: bool = r.try_get("", "online")?;
        let status = match shown.as_deref().and_then(Shown::parse) {
            Some(s) if online => s,
            _ => Shown::Offline,
        };
        out.push(Colleague {
            agent_id: r.try_get("", "id")?,
            name: r.try_get("", "name")?,
            nickname: r.try_get("", "nickname")?,
            status,
            active_sessions: r.try_get("", "active_sessions")?,
            max_concurrent_sessions: r.try_get("", "max_concurrent_sessions")?,
        });
    }
    out.sort_by_key(|c| c.status != Shown::Free);
    Ok(out)
}
