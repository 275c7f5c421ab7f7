//! `/api/v1/flows`: admins edit conversation service flows, check them, publish them
//! as numbered revisions and roll back to an earlier one.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, BodyLimit, Id, Json, Query};
use crate::directory::{FieldErrors, Page, PageRequest};
use crate::flow::catalog::{self, PublishError};
use crate::flow::graph::Graph;
use crate::flow::revisions::{Flow, Revision, RevisionSummary, Verdict};
use crate::state::AppState;
use crate::store::{StoreError, flows};

/// Largest request body on these routes: a flow with a large knowledge base.
pub const MAX_FLOW_BODY_BYTES: usize = 2 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_flows, create_flow))
        .routes(routes!(get_flow, update_flow, delete_flow))
        .routes(routes!(validate_flow))
        .routes(routes!(publish_flow))
        .routes(routes!(list_revisions))
        .routes(routes!(get_revision))
        .routes(routes!(rollback_flow))
        .layer(middleware::from_fn(tag_flow_body_limit))
        .layer(DefaultBodyLimit::max(MAX_FLOW_BODY_BYTES))
}

async fn tag_flow_body_limit(mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(BodyLimit(MAX_FLOW_BODY_BYTES));
    next.run(req).await
}

/// A new flow. Without a draft it starts as a welcome message and an end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFlow {
    /// Unique in the tenant (409 `flow_name_taken`).
    #[schema(max_length = 100, pattern = r"^[\s\S]*\S[\s\S]*$")]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub description: String,
    pub draft: Option<Graph>,
}

/// Changes to a flow; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowPatch {
    #[schema(max_length = 100, pattern = r"^[\s\S]*\S[\s\S]*$")]
    pub name: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    pub draft: Option<Graph>,
}

/// A flow with the verdict on its draft.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct FlowWithVerdict {
    #[serde(flatten)]
    pub flow: Flow,
    /// Whether the draft could be published as it is, and what is wrong with it.
    pub validation: Verdict,
}

/// What to publish with.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    /// Why, for the history (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

/// Which revision to go back to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollback {
    /// A revision of this flow (404 when there is none with this number).
    #[schema(minimum = 1, maximum = 2147483647)]
    pub revision: i32,
    /// At most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

fn check_texts(name: Option<&str>, description: Option<&str>, note: Option<&str>) -> Result<()> {
    let mut errors = FieldErrors::new();
    if let Some(name) = name {
        let len = name.trim().chars().count();
        if len == 0 || len > 100 {
            errors.add("name", "must be 1 to 100 characters");
        }
    }
    if description.is_some_and(|d| d.chars().count() > 1000) {
        errors.add("description", "must be at most 1000 characters");
    }
    if note.is_some_and(|n| n.chars().count() > 500) {
        errors.add("note", "must be at most 500 characters");
    }
    Ok(errors.into_result()?)
}

fn starter_graph() -> Graph {
    serde_json::from_value(serde_json::json!({
        "start": "welcome",
        "nodes": [
            {"id": "welcome", "module": "send-message", "version": "^1",
             "config": {"messages": [{"text": "您好，请问有什么可以帮您？"}]}},
            {"id": "end", "module": "end", "version": "^1", "config": {"end_status": 1}}
        ],
        "edges": [{"from": "welcome", "exit": "next", "to": "end"}]
    }))
    .unwrap_or_else(|_| Graph {
        start: String::new(),
        nodes: Vec::new(),
        edges: Vec::new(),
    })
}

fn publish_error(e: PublishError, what: &'static str) -> Error {
    match e {
        PublishError::Invalid(problems) => invalid_flow(&problems),
        PublishError::Store(StoreError::NotFound) => Error::NotFound(what),
        PublishError::Store(e) => e.into(),
    }
}

/// 422 `flow_invalid`, every problem in `fields` keyed by its JSON pointer.
pub(super) fn invalid_flow(problems: &[crate::flow::ConfigProblem]) -> Error {
    let mut fields = FieldErrors::new();
    for p in problems {
        let key = if p.path.is_empty() { "/" } else { &p.path };
        match fields.get(key) {
            Some(existing) => {
                let joined = format!("{existing}; {}", p.message);
                fields.set(key, joined);
            }
            None => fields.add(key, p.message.clone()),
        }
    }
    Error::InvalidWith {
        code: "flow_invalid",
        message: format!(
            "the flow cannot be published: {} problem{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        ),
        fields,
    }
}

/// Lists the tenant's flows by name, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/flows",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(PageRequest),
    responses((status = 200, body = Page<Flow>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_flows(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Query(page): Query<PageRequest>,
) -> Result<axum::Json<Page<Flow>>> {
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    errors.into_result()?;
    Ok(axum::Json(flows::list(&state.db, auth.tenant, page).await?))
}

/// Creates a flow from a draft (or a starter draft). The draft is saved even when it
/// is not valid yet; the answer says what is wrong with it.
#[utoipa::path(
    post,
    path = "/api/v1/flows",
    tag = "flows",
    security(("bearer" = ["admin"])),
    request_body = NewFlow,
    responses(
        (status = 201, body = FlowWithVerdict),
        (status = 409, description = "`flow_name_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Json(new): Json<NewFlow>,
) -> Result<(StatusCode, axum::Json<FlowWithVerdict>)> {
    check_texts(Some(&new.name), Some(&new.description), None)?;
    let draft = new.draft.unwrap_or_else(starter_graph);
    let flow = flows::create(
        &state.db,
        auth.tenant,
        new.name.trim(),
        &new.description,
        &draft,
    )
    .await?;
    tracing::info!(flow = %flow.id, by = %auth.agent_id, "flow created");
    let validation = catalog::draft_verdict(&state.db, &state.plugins, auth.tenant, &flow).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FlowWithVerdict { flow, validation }),
    ))
}

/// One flow, with the verdict on its draft as it was checked when saved: reading a
/// flow runs no module.
#[utoipa::path(
    get,
    path = "/api/v1/flows/{id}",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Flow id")),
    responses((status = 200, body = FlowWithVerdict), (status = 404, body = ErrorBody))
)]
async fn get_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<FlowWithVerdict>> {
    let flow = flows::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("flow")?;
    let validation = catalog::draft_verdict(&state.db, &state.plugins, auth.tenant, &flow).await?;
    Ok(axum::Json(FlowWithVerdict { flow, validation }))
}

/// Renames a flow or saves its draft. The live revision is not affected until the
/// draft is published.
#[utoipa::path(
    patch,
    path = "/api/v1/flows/{id}",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Flow id")),
    request_body = FlowPatch,
    responses(
        (status = 200, body = FlowWithVerdict),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`flow_name_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn update_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(patch): Json<FlowPatch>,
) -> Result<axum::Json<FlowWithVerdict>> {
    check_texts(patch.name.as_deref(), patch.description.as_deref(), None)?;
    let flow = flows::update(
        &state.db,
        auth.tenant,
        id,
        patch.name.as_deref().map(str::trim),
        patch.description.as_deref(),
        patch.draft.as_ref(),
    )
    .await
    .or_not_found("flow")?;
    let validation = catalog::draft_verdict(&state.db, &state.plugins, auth.tenant, &flow).await?;
    Ok(axum::Json(FlowWithVerdict { flow, validation }))
}

/// Deletes a flow and its revisions.
#[utoipa::path(
    delete,
    path = "/api/v1/flows/{id}",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Flow id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody))
)]
async fn delete_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<StatusCode> {
    flows::delete(&state.db, auth.tenant, id)
        .await
        .or_not_found("flow")?;
    state.sessions.flow_changed(auth.tenant, id);
    tracing::info!(flow = %id, by = %auth.agent_id, "flow deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Checks a graph without saving it: every problem, with the JSON pointer of what is
/// wrong (`/nodes/2/config/choices/0/label`).
#[utoipa::path(
    post,
    path = "/api/v1/flows/validate",
    tag = "flows",
    security(("bearer" = ["admin"])),
    request_body = Graph,
    responses((status = 200, body = Verdict), (status = 422, body = ErrorBody))
)]
async fn validate_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Json(graph): Json<Graph>,
) -> Result<axum::Json<Verdict>> {
    Ok(axum::Json(
        catalog::check(&state.plugins, auth.tenant, &graph).await?,
    ))
}

/// Publishes the draft as the next numbered revision, which new sessions start on.
/// Refused with 422 `flow_invalid` (every problem in `fields`) when it is not valid.
#[utoipa::path(
    post,
    path = "/api/v1/flows/{id}/publish",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Flow id")),
    request_body = Publication,
    responses(
        (status = 201, body = Revision),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`flow_invalid`", body = ErrorBody),
    )
)]
async fn publish_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(publication): Json<Publication>,
) -> Result<(StatusCode, axum::Json<Revision>)> {
    check_texts(None, None, Some(&publication.note))?;
    let revision = catalog::publish(
        &state.db,
        &state.plugins,
        auth.tenant,
        id,
        &publication.note,
        Some(auth.agent_id),
    )
    .await
    .map_err(|e| publish_error(e, "flow"))?;
    state.sessions.flow_changed(auth.tenant, id);
    Ok((StatusCode::CREATED, axum::Json(revision)))
}

/// A flow's revisions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/flows/{id}/revisions",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Flow id")),
    responses((status = 200, body = Vec<RevisionSummary>), (status = 404, body = ErrorBody))
)]
async fn list_revisions(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<Vec<RevisionSummary>>> {
    Ok(axum::Json(
        flows::revisions(&state.db, auth.tenant, id)
            .await
            .or_not_found("flow")?,
    ))
}

/// One revision: its graph and the module version pinned for each node.
#[utoipa::path(
    get,
    path = "/api/v1/flows/{id}/revisions/{number}",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(
        ("id" = Uuid, Path, description = "Flow id"),
        ("number" = i32, Path, description = "Revision number"),
    ),
    responses((status = 200, body = Revision), (status = 404, body = ErrorBody))
)]
async fn get_revision(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Path((id, number)): Path<(String, String)>,
) -> Result<axum::Json<Revision>> {
    let id = Uuid::parse_str(&id).map_err(|_| Error::NotFound("flow"))?;
    let number: i32 = number.parse().map_err(|_| Error::NotFound("revision"))?;
    Ok(axum::Json(
        flows::revision(&state.db, auth.tenant, id, number)
            .await
            .or_not_found("revision")?,
    ))
}

/// Publishes an earlier revision's graph again, as the next revision (checked against
/// the modules installed now).
#[utoipa::path(
    post,
    path = "/api/v1/flows/{id}/rollback",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Flow id")),
    request_body = Rollback,
    responses(
        (status = 201, body = Revision),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`flow_invalid`", body = ErrorBody),
    )
)]
async fn rollback_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(rollback): Json<Rollback>,
) -> Result<(StatusCode, axum::Json<Revision>)> {
    check_texts(None, None, Some(&rollback.note))?;
    flows::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("flow")?;
    let note = if rollback.note.trim().is_empty() {
        format!("rollback to revision {}", rollback.revision)
    } else {
        rollback.note.clone()
    };
    let revision = catalog::rollback(
        &state.db,
        &state.plugins,
        auth.tenant,
        id,
        rollback.revision,
        &note,
        Some(auth.agent_id),
    )
    .await
    .map_err(|e| publish_error(e, "revision"))?;
    state.sessions.flow_changed(auth.tenant, id);
    Ok((StatusCode::CREATED, axum::Json(revision)))
}
