//! `/api/v1/agents`: admins manage the people of their tenant.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, Id, Json, Query};
use crate::auth::password;
use crate::directory::{Agent, AgentFilter, AgentPatch, FieldErrors, NewAgent, Page, PageRequest};
use crate::state::AppState;
use crate::store::agents;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(get_agent, update_agent))
        .routes(routes!(deactivate_agent))
        .routes(routes!(reactivate_agent))
}

/// Query of the agent list: paging and filters, flat as a query string is.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAgents {
    /// Page number, from 1. Default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page, 1–100. Default 20.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u64>,
    /// Case-insensitive text found in the name, nickname, e-mail or staff number.
    #[param(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub q: Option<String>,
    pub role: Option<crate::directory::Role>,
    /// `true` for active agents only, `false` for deactivated ones only.
    pub active: Option<bool>,
    /// Only members of this skill group.
    pub skill_group_id: Option<Uuid>,
}

/// Lists agents, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/agents",
    tag = "agents",
    security(("bearer" = ["admin"])),
    params(ListAgents),
    responses(
        (status = 200, body = Page<Agent>),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn list_agents(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Query(query): Query<ListAgents>,
) -> Result<axum::Json<Page<Agent>>> {
    let defaults = PageRequest::default();
    let page = PageRequest {
        page: query.page.unwrap_or(defaults.page),
        page_size: query.page_size.unwrap_or(defaults.page_size),
    };
    let mut filter = AgentFilter {
        q: query.q,
        role: query.role,
        active: query.active,
        skill_group_id: query.skill_group_id,
    };
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    filter.validate(&mut errors);
    errors.into_result()?;
    Ok(axum::Json(
        agents::list(&state.db, auth.tenant, &filter, page).await?,
    ))
}

/// Creates an agent (or an admin) with an initial password.
#[utoipa::path(
    post,
    path = "/api/v1/agents",
    tag = "agents",
    security(("bearer" = ["admin"])),
    request_body = NewAgent,
    responses(
        (status = 201, body = Agent),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`email_taken` or `staff_no_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_agent(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Json(mut new): Json<NewAgent>,
) -> Result<(StatusCode, axum::Json<Agent>)> {
    new.validate()?;
    let hash = password::hash_blocking(new.password.clone()).await?;
    let agent = agents::create(&state.db, auth.tenant, new, hash).await?;
    tracing::info!(agent_id = %agent.id, by = %auth.agent_id, "agent created");
    Ok((StatusCode::CREATED, axum::Json(agent)))
}

/// One agent.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}",
    tag = "agents",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Agent id")),
    responses((status = 200, body = Agent), (status = 404, body = ErrorBody))
)]
async fn get_agent(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<Agent>> {
    Ok(axum::Json(
        agents::get(&state.db, auth.tenant, id)
            .await
            .or_not_found("agent")?,
    ))
}

/// Changes some fields of an agent. A new password signs the agent out everywhere;
/// `skill_groups`, when given, replaces the agent's memberships.
#[utoipa::path(
    patch,
    path = "/api/v1/agents/{id}",
    tag = "agents",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Agent id")),
    request_body = AgentPatch,
    responses(
        (status = 200, body = Agent),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`email_taken`, `staff_no_taken` or `last_admin`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn update_agent(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(mut patch): Json<AgentPatch>,
) -> Result<axum::Json<Agent>> {
    patch.validate()?;
    if patch.is_empty() {
        return Err(FieldErrors::single("body", "nothing to change").into());
    }
    let hash = match &patch.password {
        Some(p) => Some(password::hash_blocking(p.clone()).await?),
        None => None,
    };
    let agent = agents::update(&state.db, auth.tenant, id, patch, hash)
        .await
        .or_not_found("agent")?;
    // A higher cap or new skill groups may let queues move at once.
    state
        .router
        .signals()
        .kick(crate::routing::Kick::Agent(agent.id));
    Ok(axum::Json(agent))
}

/// Deactivates an agent: they are signed out everywhere, cannot log in, and are never
/// routed sessions. Their history stays.
#[utoipa::path(
    post,
    path = "/api/v1/agents/{id}/deactivate",
    tag = "agents",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Agent id")),
    responses(
        (status = 200, body = Agent),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`cannot_deactivate_self` or `last_admin`", body = ErrorBody),
    )
)]
async fn deactivate_agent(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<Agent>> {
    set_active(&state, auth.tenant, id, false, auth.agent_id).await
}

/// Reactivates a deactivated agent.
#[utoipa::path(
    post,
    path = "/api/v1/agents/{id}/reactivate",
    tag = "agents",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Agent id")),
    responses((status = 200, body = Agent), (status = 404, body = ErrorBody))
)]
async fn reactivate_agent(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<Agent>> {
    set_active(&state, auth.tenant, id, true, auth.agent_id).await
}

async fn set_active(
    state: &AppState,
    tenant: crate::store::TenantId,
    id: Uuid,
    active: bool,
    actor: Uuid,
) -> Result<axum::Json<Agent>> {
    let agent = agents::set_active(&state.db, tenant, id, active, actor)
        .await
        .or_not_found("agent")?;
    tracing::info!(agent_id = %id, by = %actor, active, "agent activation changed");
    Ok(axum::Json(agent))
}
