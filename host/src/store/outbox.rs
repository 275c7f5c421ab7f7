//! The IM outbox: replies a turn stored for IM, claimed under a lease by one node at a
//! time, sent in order per user, finished with IM's answer or retried later.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entity::im_outbox;
use super::session_rows::corrupt;
use super::write::{stmt, write};
use super::{StoreError, TenantId};
use crate::sessions::Element;

/// A reply waiting in the IM outbox.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub channel_id: Uuid,
    pub session_id: Uuid,
    pub to_account: String,
    pub msg_random: u32,
    pub elements: Vec<Element>,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// What a claim took.
#[derive(Debug, Default)]
pub struct Claimed {
    pub deliveries: Vec<Delivery>,
    /// The claim read as many due rows as it could take: more may be due.
    pub more: bool,
}

/// Claims up to `limit` deliveries due by `now` for `lease`: a claimed row is not due
/// again until the lease ends, so two nodes never send the same row at once (and a
/// node that dies mid-send leaves it to be retried).
pub async fn claim_deliveries(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: u64,
) -> Result<Claimed, StoreError> {
    // A row is due when every older pending row to the same user is due too, so that
    // the rows of a user come out as the head of their queue; oldest first, so a batch
    // never holds a user's later reply without the earlier ones, and a user whose
    // oldest reply waits for a retry holds up nobody else's.
    let due = im_outbox::Entity::find()
        .filter(sea_orm::sea_query::ExprTrait::eq(
            Expr::col((im_outbox::Entity, im_outbox::Column::Status)),
            pending(),
        ))
        .filter(im_outbox::Column::NextAttemptAt.lte(now))
        .filter(Expr::not_exists(older_pending_not_due(now)))
        .order_by_asc(im_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    if due.is_empty() {
        return Ok(Claimed::default());
    }
    let more = due.len() as u64 >= limit;
    // One statement claims them all; a row another node leased meanwhile is no longer
    // due and stays out.
    let ids: Vec<Uuid> = due.iter().map(|m| m.id).collect();
    let b = db.get_database_backend();
    let sql = format!(
        "UPDATE im_outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at <= ? AND id IN ({}) RETURNING id",
        vec!["?"; ids.len()].join(", ")
    );
    let mut values: Vec<sea_orm::Value> = vec![(now + lease).into(), now.into()];
    values.extend(ids.iter().map(|id| (*id).into()));
    let taken: std::collections::HashSet<Uuid> = write(db, |db| async move {
        let rows = db.query_all_raw(stmt(b, &sql, values)).await?;
        rows.iter()
            .map(|r| r.try_get::<Uuid>("", "id"))
            .collect::<Result<_, _>>()
    })
    .await?;
    // Replies to one user go out in order: once one of theirs was not taken (another
    // node has it), their later ones wait too, and are given back.
    let mut held_up: Vec<(Uuid, String)> = Vec::new();
    let mut given_back = Vec::new();
    let mut claimed = Vec::with_capacity(taken.len());
    for m in due {
        let user = (m.channel_id, m.to_account.clone());
        if !taken.contains(&m.id) {
            held_up.push(user);
            continue;
        }
        if held_up.contains(&user) {
            given_back.push(m.id);
            continue;
        }
        let elements: Vec<Element> =
            serde_json::from_str(&m.body).map_err(|e| corrupt("outbox row", m.id, e))?;
        claimed.push(Delivery {
            id: m.id,
            tenant_id: m.tenant_id,
            channel_id: m.channel_id,
            session_id: m.session_id,
            to_account: m.to_account,
            msg_random: m.msg_random.clamp(0, i64::from(u32::MAX)) as u32,
            elements,
            attempts: m.attempts.max(0) as u32,
            created_at: m.created_at,
        });
    }
    for id in given_back {
        release_delivery(db, id).await?;
    }
    Ok(Claimed {
        deliveries: claimed,
        more,
    })
}

/// `SELECT` of a pending row older than the `im_outbox` row in hand, to the same user,
/// that is not due at `now`.
fn older_pending_not_due(now: DateTime<Utc>) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, ExprTrait, Query};
    let p = Alias::new("p");
    let outer = |c: im_outbox::Column| Expr::col((im_outbox::Entity, c));
    let inner = |c: im_outbox::Column| Expr::col((p.clone(), c));
    Query::select()
        .expr(Expr::val(1))
        .from_as(im_outbox::Entity, p.clone())
        .and_where(inner(im_outbox::Column::ChannelId).eq(outer(im_outbox::Column::ChannelId)))
        .and_where(inner(im_outbox::Column::ToAccount).eq(outer(im_outbox::Column::ToAccount)))
        .and_where(inner(im_outbox::Column::Status).eq(pending()))
        .and_where(inner(im_outbox::Column::Id).lt(outer(im_outbox::Column::Id)))
        .and_where(inner(im_outbox::Column::NextAttemptAt).gt(now))
        .to_owned()
}

/// The status of a row still to send, written in the statement's text rather than
/// bound: the database uses the index of pending rows (`ix_im_outbox_pending`) only
/// for a condition it can read in the text.
fn pending() -> Expr {
    Expr::cust("'pending'")
}

/// Records a failed attempt: to retry at `at`, or given up (sent ones are recorded
/// together by [`finish_sent`]).
pub async fn finish_delivery(
    db: &DatabaseConnection,
    id: Uuid,
    outcome: DeliveryOutcome<'_>,
) -> Result<(), StoreError> {
    let mut update = im_outbox::Entity::update_many()
        .col_expr(
            im_outbox::Column::Attempts,
            sea_orm::sea_query::ExprTrait::add(Expr::col(im_outbox::Column::Attempts), 1),
        )
        .filter(im_outbox::Column::Id.eq(id));
    update = match outcome {
        DeliveryOutcome::Retry { at, error } => update
            .col_expr(im_outbox::Column::NextAttemptAt, Expr::value(at))
            .col_expr(im_outbox::Column::LastError, Expr::value(Some(clip(error)))),
        DeliveryOutcome::GiveUp { error } => update
            .col_expr(im_outbox::Column::Status, Expr::value("failed"))
            .col_expr(im_outbox::Column::LastError, Expr::value(Some(clip(error)))),
    };
    write(db, |db| async move { update.exec(&db).await }).await?;
    Ok(())
}

/// Records that these deliveries were sent, in one statement.
pub async fn finish_sent(db: &DatabaseConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let update = im_outbox::Entity::update_many()
        .col_expr(
            im_outbox::Column::Attempts,
            sea_orm::sea_query::ExprTrait::add(Expr::col(im_outbox::Column::Attempts), 1),
        )
        .col_expr(im_outbox::Column::Status, Expr::value("sent"))
        .col_expr(im_outbox::Column::SentAt, Expr::value(Some(Utc::now())))
        .col_expr(
            im_outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(im_outbox::Column::Id.is_in(ids.iter().copied()));
    write(db, |db| async move { update.exec(&db).await }).await?;
    Ok(())
}

fn clip(text: &str) -> String {
    text.chars().take(500).collect()
}

/// What became of a delivery attempt that failed.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryOutcome<'a> {
    Retry { at: DateTime<Utc>, error: &'a str },
    GiveUp { error: &'a str },
}

/// Gives a claimed delivery back without counting an attempt (an older reply to the
/// same user failed, so this one must wait for it).
pub async fn release_delivery(db: &DatabaseConnection, id: Uuid) -> Result<(), StoreError> {
    let q = im_outbox::Entity::update_many()
        .col_expr(im_outbox::Column::NextAttemptAt, Expr::value(Utc::now()))
        .filter(im_outbox::Column::Id.eq(id));
    write(db, |db| async move { q.exec(&db).await }).await?;
    Ok(())
}

/// Whether kefu itself sent this message to `to_account` (IM's callback reports
/// kefu's own replies too; they must not be taken for user input).
pub async fn is_own_delivery(
    db: &impl ConnectionTrait,
    channel_id: Uuid,
    to_account: &str,
    msg_random: u32,
) -> Result<bool, StoreError> {
    Ok(im_outbox::Entity::find()
        .filter(im_outbox::Column::ChannelId.eq(channel_id))
        .filter(im_outbox::Column::ToAccount.eq(to_account))
        .filter(im_outbox::Column::MsgRandom.eq(i64::from(msg_random)))
        .count(db)
        .await?
        > 0)
}

/// Counts of the outbox by status, for monitoring and tests.
pub async fn outbox_counts(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<(u64, u64, u64), StoreError> {
    let count = |status: &'static str| {
        im_outbox::Entity::find()
            .filter(
                Condition::all()
                    .add(im_outbox::Column::TenantId.eq(tenant.0))
                    .add(im_outbox::Column::Status.eq(status)),
            )
            .count(db)
    };
    Ok((
        count("pending").await?,
        count("sent").await?,
        count("failed").await?,
    ))
}
