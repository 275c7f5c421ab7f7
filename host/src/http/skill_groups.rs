//! `/api/v1/skill-groups`: admins manage the teams sessions are routed to.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, Auth, Id, Json, Query};
use crate::directory::{
    FieldErrors, NewSkillGroup, Page, PageRequest, SkillGroup, SkillGroupPatch,
};
use crate::state::AppState;
use crate::store::skill_groups;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_skill_groups, create_skill_group))
        .routes(routes!(
            get_skill_group,
            update_skill_group,
            delete_skill_group
        ))
}

/// Lists skill groups by name, a page at a time. Agents may read them too (to pick a
/// transfer target); only admins change them.
#[utoipa::path(
    get,
    path = "/api/v1/skill-groups",
    tag = "skill-groups",
    security(("bearer" = [])),
    params(PageRequest),
    responses((status = 200, body = Page<SkillGroup>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_skill_groups(
    State(state): State<AppState>,
    auth: Auth,
    Query(page): Query<PageRequest>,
) -> Result<axum::Json<Page<SkillGroup>>> {
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    errors.into_result()?;
    Ok(axum::Json(
        skill_groups::list(&state.db, auth.tenant, page).await?,
    ))
}

/// Creates a skill group; routing settings not given take their defaults.
#[utoipa::path(
    post,
    path = "/api/v1/skill-groups",
    tag = "skill-groups",
    security(("bearer" = ["admin"])),
    request_body = NewSkillGroup,
    responses(
        (status = 201, body = SkillGroup),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`skill_group_name_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_skill_group(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Json(mut new): Json<NewSkillGroup>,
) -> Result<(StatusCode, axum::Json<SkillGroup>)> {
    new.validate()?;
    let group = skill_groups::create(&state.db, auth.tenant, new).await?;
    tracing::info!(skill_group_id = %group.id, by = %auth.agent_id, "skill group created");
    Ok((StatusCode::CREATED, axum::Json(group)))
}

/// One skill group.
#[utoipa::path(
    get,
    path = "/api/v1/skill-groups/{id}",
    tag = "skill-groups",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Skill group id")),
    responses((status = 200, body = SkillGroup), (status = 404, body = ErrorBody))
)]
async fn get_skill_group(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<axum::Json<SkillGroup>> {
    Ok(axum::Json(
        skill_groups::get(&state.db, auth.tenant, id)
            .await
            .or_not_found("skill group")?,
    ))
}

/// Changes the name, description or some routing settings of a skill group.
#[utoipa::path(
    patch,
    path = "/api/v1/skill-groups/{id}",
    tag = "skill-groups",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Skill group id")),
    request_body = SkillGroupPatch,
    responses(
        (status = 200, body = SkillGroup),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`skill_group_name_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn update_skill_group(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(mut patch): Json<SkillGroupPatch>,
) -> Result<axum::Json<SkillGroup>> {
    let current = skill_groups::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("skill group")?;
    let routing = patch.validate(&current.routing)?;
    let group = skill_groups::update(&state.db, auth.tenant, id, patch, routing)
        .await
        .or_not_found("skill group")?;
    state.router.signals().group_changed(auth.tenant, id);
    Ok(axum::Json(group))
}

/// Deletes a skill group. Refused with 409 `skill_group_in_use` while agents are
/// members of it.
#[utoipa::path(
    delete,
    path = "/api/v1/skill-groups/{id}",
    tag = "skill-groups",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Skill group id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`skill_group_in_use`", body = ErrorBody),
    )
)]
async fn delete_skill_group(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<StatusCode> {
    skill_groups::delete(&state.db, auth.tenant, id)
        .await
        .or_not_found("skill group")?;
    state.router.signals().group_changed(auth.tenant, id);
    tracing::info!(skill_group_id = %id, by = %auth.agent_id, "skill group deleted");
    Ok(StatusCode::NO_CONTENT)
}
