//! Flows and their published revisions.

use chrono::Utc;
use sea_orm::sea_query::LockType;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{flow, flow_revision};
use super::{StoreError, TenantId, find_in_tenant, unique_violation};
use crate::directory::{Page, PageRequest};
use crate::flow::graph::Graph;
use crate::flow::revisions::{Flow, PinnedNode, Revision, RevisionSummary, Verdict};

/// Flows listed by name.
const BY_NAME: &[(flow::Column, Order)] = &[
    (flow::Column::Name, Order::Asc),
    (flow::Column::Id, Order::Asc),
];

fn corrupt(what: &str, id: Uuid, e: serde_json::Error) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!(
        "{what} of {id} is unreadable: {e}"
    )))
}

fn to_flow(m: flow::Model) -> Result<Flow, StoreError> {
    let draft: Graph = serde_json::from_str(&m.draft).map_err(|e| corrupt("draft", m.id, e))?;
    Ok(Flow {
        id: m.id,
        name: m.name,
        description: m.description,
        draft,
        live_revision: m.live_revision,
        latest_revision: m.latest_revision,
        // An unreadable verdict is checked again, like a missing one.
        checked: m
            .draft_verdict
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok()),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_summary(m: &flow_revision::Model) -> RevisionSummary {
    RevisionSummary {
        number: m.number,
        restored_from: m.restored_from,
        note: m.note.clone(),
        published_by: m.published_by,
        published_at: m.published_at,
    }
}

fn to_revision(m: flow_revision::Model) -> Result<Revision, StoreError> {
    let graph: Graph = serde_json::from_str(&m.graph).map_err(|e| corrupt("graph", m.id, e))?;
    let nodes: Vec<PinnedNode> =
        serde_json::from_str(&m.nodes).map_err(|e| corrupt("nodes", m.id, e))?;
    Ok(Revision {
        id: m.id,
        flow_id: m.flow_id,
        summary: to_summary(&m),
        graph,
        nodes,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn name_conflict(e: sea_orm::DbErr) -> StoreError {
    if unique_violation(&e).is_some() {
        StoreError::conflict("flow_name_taken", "another flow already has this name")
    } else {
        e.into()
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
    description: &str,
    draft: &Graph,
) -> Result<Flow, StoreError> {
    let now = Utc::now();
    let model = flow::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        name: Set(name.to_owned()),
        description: Set(description.to_owned()),
        draft: Set(json(draft)),
        live_revision: Set(None),
        latest_revision: Set(0),
        draft_verdict: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    to_flow(model.insert(db).await.map_err(name_conflict)?)
}

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Flow, StoreError> {
    to_flow(find_in_tenant(db, flow::Column::TenantId, tenant, id).await?)
}

/// Finds a flow by name, for the demo seed.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
) -> Result<Option<Flow>, StoreError> {
    flow::Entity::find()
        .filter(flow::Column::TenantId.eq(tenant.0))
        .filter(flow::Column::Name.eq(name))
        .one(db)
        .await?
        .map(to_flow)
        .transpose()
}

pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    page: PageRequest,
) -> Result<Page<Flow>, StoreError> {
    let query = flow::Entity::find().filter(flow::Column::TenantId.eq(tenant.0));
    super::page_of(db, query, BY_NAME, page)
        .await?
        .try_map(to_flow)
}

/// Changes a flow's name, description or draft; `None` leaves a part as it is.
pub async fn update(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
    draft: Option<&Graph>,
) -> Result<Flow, StoreError> {
    let m = find_in_tenant(db, flow::Column::TenantId, tenant, id).await?;
    let mut active: flow::ActiveModel = m.into();
    if let Some(name) = name {
        active.name = Set(name.to_owned());
    }
    if let Some(description) = description {
        active.description = Set(description.to_owned());
    }
    if let Some(draft) = draft {
        active.draft = Set(json(draft));
        active.draft_verdict = Set(None);
    }
    active.updated_at = Set(Utc::now());
    to_flow(active.update(db).await.map_err(name_conflict)?)
}

/// Keeps the verdict on a flow's draft, if the draft is still `draft` (an admin may
/// have saved another meanwhile).
pub async fn set_verdict(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
    draft: &Graph,
    verdict: &Verdict,
) -> Result<(), StoreError> {
    flow::Entity::update_many()
        .col_expr(
            flow::Column::DraftVerdict,
            sea_orm::sea_query::Expr::value(json(verdict)),
        )
        .filter(flow::Column::TenantId.eq(tenant.0))
        .filter(flow::Column::Id.eq(id))
        .filter(flow::Column::Draft.eq(json(draft)))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a flow with its revisions.
pub async fn delete(db: &DatabaseConnection, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    find_in_tenant(&txn, flow::Column::TenantId, tenant, id).await?;
    flow_revision::Entity::delete_many()
        .filter(flow_revision::Column::TenantId.eq(tenant.0))
        .filter(flow_revision::Column::FlowId.eq(id))
        .exec(&txn)
        .await?;
    flow::Entity::delete_many()
        .filter(flow::Column::TenantId.eq(tenant.0))
        .filter(flow::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// What a new revision is made of.
#[derive(Debug)]
pub struct NewRevision<'a> {
    pub graph: &'a Graph,
    pub nodes: &'a [PinnedNode],
    pub restored_from: Option<i32>,
    pub note: &'a str,
    pub published_by: Option<Uuid>,
}

/// Writes the next numbered revision of a flow and makes it live, atomically: two
/// publications at once get consecutive numbers (the flow row is locked on PostgreSQL;
/// SQLite runs one writer at a time).
pub async fn publish(
    db: &DatabaseConnection,
    tenant: TenantId,
    flow_id: Uuid,
    new: NewRevision<'_>,
) -> Result<Revision, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let mut query = flow::Entity::find_by_id(flow_id).filter(flow::Column::TenantId.eq(tenant.0));
    if db.get_database_backend() == DatabaseBackend::Postgres {
        query = query.lock(LockType::Update);
    }
    let m = query.one(&txn).await?.ok_or(StoreError::NotFound)?;
    let number = m.latest_revision + 1;
    let now = Utc::now();
    let revision = flow_revision::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tenant.0),
        flow_id: Set(flow_id),
        number: Set(number),
        graph: Set(json(new.graph)),
        nodes: Set(json(&new.nodes)),
        restored_from: Set(new.restored_from),
        note: Set(new.note.to_owned()),
        published_by: Set(new.published_by),
        published_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let mut active: flow::ActiveModel = m.into();
    active.live_revision = Set(Some(number));
    active.latest_revision = Set(number);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    txn.commit().await?;
    to_revision(revision)
}

/// A flow's revisions, newest first.
pub async fn revisions(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    flow_id: Uuid,
) -> Result<Vec<RevisionSummary>, StoreError> {
    find_in_tenant(db, flow::Column::TenantId, tenant, flow_id).await?;
    Ok(flow_revision::Entity::find()
        .filter(flow_revision::Column::TenantId.eq(tenant.0))
        .filter(flow_revision::Column::FlowId.eq(flow_id))
        .order_by_desc(flow_revision::Column::Number)
        .all(db)
        .await?
        .iter()
        .map(to_summary)
        .collect())
}

/// One revision of a flow, by number.
pub async fn revision(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    flow_id: Uuid,
    number: i32,
) -> Result<Revision, StoreError> {
    let m = flow_revision::Entity::find()
        .filter(flow_revision::Column::TenantId.eq(tenant.0))
        .filter(flow_revision::Column::FlowId.eq(flow_id))
        .filter(flow_revision::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_revision(m)
}

/// A revision by its id, as sessions refer to it.
pub async fn revision_by_id(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<Revision, StoreError> {
    let m = flow_revision::Entity::find_by_id(id)
        .filter(flow_revision::Column::TenantId.eq(tenant.0))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_revision(m)
}

/// The live revisions that run a module installation: `(flow name, revision)`. Built-in
/// installations serve every tenant, so for them every tenant's flows are searched.
pub async fn live_revisions_using(
    db: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    plugin_id: Uuid,
) -> Result<Vec<(String, i32)>, StoreError> {
    let mut query = flow::Entity::find().filter(flow::Column::LiveRevision.is_not_null());
    if let Some(tenant) = tenant {
        query = query.filter(flow::Column::TenantId.eq(tenant.0));
    }
    let mut using = Vec::new();
    for f in query.all(db).await? {
        let Some(live) = f.live_revision else {
            continue;
        };
        let Some(r) = flow_revision::Entity::find()
            .filter(flow_revision::Column::TenantId.eq(f.tenant_id))
            .filter(flow_revision::Column::FlowId.eq(f.id))
            .filter(flow_revision::Column::Number.eq(live))
            .filter(flow_revision::Column::Nodes.contains(plugin_id.to_string()))
            .one(db)
            .await?
        else {
            continue;
        };
        let nodes: Vec<PinnedNode> =
            serde_json::from_str(&r.nodes).map_err(|e| corrupt("nodes", r.id, e))?;
        if nodes.iter().any(|n| n.plugin_id == plugin_id) {
            using.push((f.name, live));
        }
    }
    Ok(using)
}
