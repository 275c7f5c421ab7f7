//! Sessions, their transcripts and the IM requests already answered (the outbox they
//! write replies to is `outbox`; the mapping of session rows is `session_rows`).
//!
//! A turn of a session is written in one transaction (`sessions::commit` holds it):
//! [`write_turn`] writes the session's new state (checked against the version it was
//! read at, so that two nodes never both apply a turn), its new messages, its record,
//! the IM receipt that makes a retried request answer the same and the outbox rows of
//! replies to deliver, sent to the database together.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set, Statement,
};
use uuid::Uuid;

use super::entity::{im_outbox, im_receipt, session, session_message};
pub use super::session_rows::active_key;
use super::session_rows::{
    all_sessions, corrupt, first_session, session_model, to_session, visible_to,
};
use super::write::{Batch, write};
use super::{StoreError, TenantId};
use crate::directory::{Page, PageRequest};
use crate::sessions::{Direction, Element, Message, Sender, Session, Status, Visibility};

fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
    }
}

fn sender_str(s: Sender) -> &'static str {
    match s {
        Sender::User => "user",
        Sender::Bot => "bot",
        Sender::Agent => "agent",
        Sender::System => "system",
    }
}

fn to_message(m: session_message::Model) -> Result<Message, StoreError> {
    let elements: Vec<Element> =
        serde_json::from_str(&m.elements).map_err(|e| corrupt("message", m.id, e))?;
    Ok(Message {
        id: m.id,
        session_id: m.session_id,
        seq: m.seq.max(0) as u32,
        client_id: m.client_id,
        direction: if m.direction == "in" {
            Direction::In
        } else {
            Direction::Out
        },
        sender: match m.sender.as_str() {
            "user" => Sender::User,
            "agent" => Sender::Agent,
            "system" => Sender::System,
            _ => Sender::Bot,
        },
        sender_name: m.sender_name,
        at: m.created_at,
        text: m.text,
        elements,
    })
}

/// The user's active session on a channel.
pub async fn find_active(
    db: &impl ConnectionTrait,
    channel_id: Uuid,
    user_id: &str,
) -> Result<Option<Session>, StoreError> {
    let active = session::Entity::find()
        .filter(session::Column::ActiveKey.eq(active_key(channel_id, user_id)));
    first_session(db, active).await
}

/// The user's newest session on a channel, active or not.
pub async fn latest_for_user(
    db: &impl ConnectionTrait,
    channel_id: Uuid,
    user_id: &str,
) -> Result<Option<Session>, StoreError> {
    let newest_first = session::Entity::find()
        .filter(session::Column::ChannelId.eq(channel_id))
        .filter(session::Column::UserId.eq(user_id))
        .order_by_desc(session::Column::CreatedAt)
        .order_by_desc(session::Column::Id);
    first_session(db, newest_first).await
}

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Session, StoreError> {
    first_session(
        db,
        session::Entity::find_by_id(id).filter(session::Column::TenantId.eq(tenant.0)),
    )
    .await?
    .ok_or(StoreError::NotFound)
}

/// A session of the tenant that `who` may read; another is not found.
pub async fn get_visible(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
    who: &Visibility,
) -> Result<Session, StoreError> {
    let mut query = session::Entity::find_by_id(id).filter(session::Column::TenantId.eq(tenant.0));
    if let Some(visible) = visible_to(who) {
        query = query.filter(visible);
    }
    first_session(db, query).await?.ok_or(StoreError::NotFound)
}

/// Which sessions a list shows.
#[derive(Debug, Clone)]
pub struct SessionFilter {
    /// Whose list it is: only what they may read is in it.
    pub visibility: Visibility,
    pub status: Option<Status>,
    pub channel_id: Option<Uuid>,
    pub user_id: Option<String>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &SessionFilter,
    page: PageRequest,
) -> Result<Page<Session>, StoreError> {
    let mut query = session::Entity::find().filter(session::Column::TenantId.eq(tenant.0));
    if let Some(visible) = visible_to(&filter.visibility) {
        query = query.filter(visible);
    }
    if let Some(status) = filter.status {
        query = query.filter(session::Column::Status.eq(status.as_str()));
    }
    if let Some(channel) = filter.channel_id {
        query = query.filter(session::Column::ChannelId.eq(channel));
    }
    if let Some(user) = &filter.user_id {
        query = query.filter(session::Column::UserId.eq(user.as_str()));
    }
    let order = [
        (session::Column::CreatedAt, Order::Desc),
        (session::Column::Id, Order::Desc),
    ];
    super::page_of(db, query, &order, page)
        .await?
        .try_map(to_session)
}

/// A page of a session's transcript: `limit` messages after skipping `offset`, oldest
/// first or newest first.
pub async fn messages(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    limit: u64,
    offset: u64,
    newest_first: bool,
) -> Result<Vec<Message>, StoreError> {
    let query =
        session_message::Entity::find().filter(session_message::Column::SessionId.eq(session_id));
    let query = if newest_first {
        query.order_by_desc(session_message::Column::Seq)
    } else {
        query.order_by_asc(session_message::Column::Seq)
    };
    query
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_message)
        .collect()
}

/// The message a web chat page sent with this client id, if stored already.
pub async fn message_by_client_id(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    client_id: &str,
) -> Result<Option<Message>, StoreError> {
    session_message::Entity::find()
        .filter(session_message::Column::SessionId.eq(session_id))
        .filter(session_message::Column::ClientId.eq(client_id))
        .one(db)
        .await?
        .map(to_message)
        .transpose()
}

/// Sessions whose wait has timed out by `now`.
pub async fn due_waits(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Session>, StoreError> {
    let waiting =
        session::Entity::find().filter(session::Column::Status.eq(Status::InFlow.as_str()));
    due_by(db, waiting, session::Column::WaitUntil, now, limit).await
}

/// Active sessions whose user has been silent past their idle deadline.
pub async fn due_idle(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Session>, StoreError> {
    let active = session::Entity::find()
        .filter(session::Column::ActiveKey.is_not_null())
        .filter(session::Column::Status.is_in([
            Status::InFlow.as_str(),
            Status::WithAgent.as_str(),
            Status::Survey.as_str(),
        ]));
    due_by(db, active, session::Column::IdleDeadline, now, limit).await
}

/// The sessions of `query` whose `deadline` has passed by `now`, the longest past
/// first, at most `limit`.
async fn due_by(
    db: &impl ConnectionTrait,
    query: Select<session::Entity>,
    deadline: session::Column,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Session>, StoreError> {
    let due = query
        .filter(deadline.lte(now))
        .order_by_asc(deadline)
        .limit(limit);
    all_sessions(db, due).await
}

/// The stored answer to an IM request already handled.
pub async fn receipt(
    db: &impl ConnectionTrait,
    channel_id: Uuid,
    key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(im_receipt::Entity::find()
        .filter(im_receipt::Column::ChannelId.eq(channel_id))
        .filter(im_receipt::Column::MessageKey.eq(key))
        .one(db)
        .await?
        .map(|m| m.response))
}

/// Forgets receipts older than `before` (IM retries within minutes).
pub async fn purge_receipts(
    db: &DatabaseConnection,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let q = im_receipt::Entity::delete_many().filter(im_receipt::Column::CreatedAt.lt(before));
    Ok(write(db, |db| async move { q.exec(&db).await })
        .await?
        .rows_affected)
}

/// A message to append to a session's transcript.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: Uuid,
    pub direction: Direction,
    pub sender: Sender,
    pub sender_name: Option<String>,
    pub client_id: Option<String>,
    pub elements: Vec<Element>,
    pub at: DateTime<Utc>,
}

impl NewMessage {
    /// The message as stored, with its place in the transcript.
    pub fn stored(&self, session_id: Uuid, seq: u32) -> Message {
        Message {
            id: self.id,
            session_id,
            seq,
            client_id: self.client_id.clone(),
            direction: self.direction,
            sender: self.sender,
            sender_name: self.sender_name.clone(),
            at: self.at,
            text: self.text(),
            elements: self.elements.clone(),
        }
    }

    pub fn text(&self) -> String {
        self.elements
            .iter()
            .map(Element::plain_text)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A reply to deliver to an IM user.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub message_id: Uuid,
    pub to_account: String,
    /// Stable across retries, so that IM deduplicates.
    pub msg_random: u32,
    pub elements: Vec<Element>,
}

/// Everything one turn writes.
#[derive(Debug)]
pub struct TurnWrite<'a> {
    /// The session as it is after the turn; `version` is the one it was read at.
    pub session: &'a Session,
    /// The session did not exist before this turn.
    pub is_new: bool,
    pub messages: &'a [NewMessage],
    /// The IM request this turn answers: its key and its response.
    pub receipt: Option<(&'a str, &'a str)>,
    pub deliveries: &'a [NewDelivery],
    /// The agent the session was with or offered to before the turn, and its status
    /// then: when the session leaves them, their slot is freed.
    pub before_agent: Option<(Uuid, Status)>,
    /// The status before the turn.
    pub before: Status,
    /// The oldest heartbeat that still counts as live, for agents' derived status.
    pub cutoff: DateTime<Utc>,
}

/// Why a turn was not written.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Someone else changed the session (or opened one) since it was read: read
    /// again and redo the turn.
    #[error("the session changed meanwhile")]
    Raced,
    /// The IM request was answered already (by another node).
    #[error("the request was handled already")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for CommitError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

/// Writes a turn's rows in the caller's write transaction, checked against the
/// session's version: the session (stored at `session.version + 1`), the IM receipt
/// that makes a retried request answer the same, its messages, its record and
/// webhook events, and the outbox rows of its replies to deliver. They go to the
/// database as one batch (one call on SQLite); on an error the caller's transaction
/// must be undone. Answers the sequence number of its first message.
pub async fn write_turn(txn: &DatabaseTransaction, w: &TurnWrite<'_>) -> Result<i32, CommitError> {
    let mut batch = Batch::new(txn.get_database_backend());
    let next_version = w.session.version + 1;
    // Written only over the version the turn started from, or (a new session) only
    // when no other active session of the user took its place: no row means another
    // turn got there first.
    let session = if w.is_new {
        batch.push_inserted(
            session::Entity::insert(session_model(w.session, next_version)).build(batch.backend()),
        )
    } else {
        let mut model = session_model(w.session, next_version);
        model.id = sea_orm::ActiveValue::NotSet;
        model.tenant_id = sea_orm::ActiveValue::NotSet;
        model.created_at = sea_orm::ActiveValue::NotSet;
        batch.push_returning(
            session::Entity::update_many()
                .set(model)
                .filter(session::Column::Id.eq(w.session.id))
                .filter(session::Column::Version.eq(w.session.version))
                .build(batch.backend()),
        )
    };
    // No row: the request was answered already.
    let receipt = w.receipt.map(|(key, response)| {
        batch.push_inserted(
            im_receipt::Entity::insert(im_receipt::ActiveModel {
                id: Set(Uuid::now_v7()),
                channel_id: Set(w.session.channel_id),
                message_key: Set(key.to_owned()),
                response: Set(response.to_owned()),
                created_at: Set(Utc::now()),
            })
            .build(batch.backend()),
        )
    });
    let first_seq = w.session.message_count as i32 - w.messages.len() as i32 + 1;
    // Each kind of row in one statement.
    if !w.messages.is_empty() {
        let messages = w
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| session_message::ActiveModel {
                id: Set(m.id),
                tenant_id: Set(w.session.tenant_id),
                session_id: Set(w.session.id),
                seq: Set(first_seq + i as i32),
                direction: Set(direction_str(m.direction).to_owned()),
                sender: Set(sender_str(m.sender).to_owned()),
                sender_name: Set(m.sender_name.clone()),
                client_id: Set(m.client_id.clone()),
                elements: Set(serde_json::to_string(&m.elements).unwrap_or_default()),
                text: Set(m.text()),
                created_at: Set(m.at),
            });
        batch.push(session_message::Entity::insert_many(messages).build(batch.backend()));
    }
    let stored: Vec<Message> = w
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| m.stored(w.session.id, (first_seq + i as i32).max(0) as u32))
        .collect();
    // Before routing: a leg routed here is tracked again, as routing leaves it.
    let change = crate::records::Change {
        session: w.session,
        before: (!w.is_new).then_some(w.before),
        messages: stored,
        at: w.session.updated_at,
        transfer: None,
    };
    let events_later = super::records::track_in(&mut batch, &change);
    if let Some(outbox) = deliveries_statement(batch.backend(), w.session, w.deliveries) {
        batch.push(outbox);
    }
    let rows = match batch.run(txn).await {
        Ok(rows) => rows,
        // A row another turn wrote at the same place (the user's next active session,
        // the session's next message), or a message of a new session that another
        // turn's session kept out.
        Err(e) if super::clashed(&e) => return Err(CommitError::Raced),
        Err(e) => return Err(e.into()),
    };
    if rows[session] == 0 {
        return Err(CommitError::Raced);
    }
    if receipt.is_some_and(|r| rows[r] == 0) {
        return Err(CommitError::Duplicate);
    }
    if events_later {
        super::records::queue_final_events(txn, &change).await?;
    }
    Ok(first_seq)
}

/// The outbox rows of a turn's replies to deliver to IM; `None` without replies.
fn deliveries_statement(
    backend: DatabaseBackend,
    session: &Session,
    deliveries: &[NewDelivery],
) -> Option<Statement> {
    if deliveries.is_empty() {
        return None;
    }
    let now = Utc::now();
    let rows = deliveries.iter().map(|d| im_outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(session.tenant_id),
        channel_id: Set(session.channel_id),
        session_id: Set(session.id),
        message_id: Set(d.message_id),
        to_account: Set(d.to_account.clone()),
        msg_random: Set(i64::from(d.msg_random)),
        body: Set(serde_json::to_string(&d.elements).unwrap_or_default()),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    });
    Some(im_outbox::Entity::insert_many(rows).build(backend))
}
