//! `/api/v1/quick-replies`: canned responses for the workbench's composer. The
//! tenant's shared list is managed by admins and read by everyone; each agent manages
//! their own list, which nobody else sees (another agent's is simply not found).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Auth, Id, Json, Query};
use crate::directory::{FieldErrors, Role};
use crate::state::AppState;
use crate::store::quick_replies::{self, QuickReply, Scope};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_quick_replies, create_quick_reply))
        .routes(routes!(update_quick_reply, delete_quick_reply))
}

/// Longest quick reply, in characters: what one agent message may hold.
pub const MAX_TEXT_CHARS: usize = super::workbench::MAX_TEXT_CHARS;
/// Longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;

fn check_shortcut(errors: &mut FieldErrors, shortcut: &str) {
    let n = shortcut.chars().count();
    if n == 0
        || n > MAX_SHORTCUT_CHARS
        || !shortcut
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        errors.add(
            "shortcut",
            format!("must be 1 to {MAX_SHORTCUT_CHARS} letters, digits, `-` or `_`"),
        );
    }
}

fn check_text(errors: &mut FieldErrors, text: &str) {
    let n = text.chars().count();
    if text.trim().is_empty() || n > MAX_TEXT_CHARS {
        errors.add("text", format!("must be 1 to {MAX_TEXT_CHARS} characters"));
    }
}

/// Which list to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    /// `tenant` or `personal`; both when absent.
    pub scope: Option<Scope>,
}

/// The quick replies.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct QuickReplyList {
    pub items: Vec<QuickReply>,
}

/// The tenant's shared quick replies and the caller's own, shared first, each by
/// shortcut.
#[utoipa::path(
    get,
    path = "/api/v1/quick-replies",
    tag = "quick-replies",
    security(("bearer" = [])),
    params(ScopeQuery),
    responses((status = 200, body = QuickReplyList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_quick_replies(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ScopeQuery>,
) -> Result<axum::Json<QuickReplyList>> {
    Ok(axum::Json(QuickReplyList {
        items: quick_replies::list(&state.db, auth.tenant, auth.agent_id, q.scope).await?,
    }))
}

/// A new quick reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuickReply {
    /// `tenant` (admins only) or `personal`.
    pub scope: Scope,
    /// 1 to 32 letters, digits, `-` or `_` (letters of any script; the pattern shows
    /// the ASCII ones).
    #[schema(min_length = 1, max_length = 32, pattern = r"^[0-9A-Za-z_-]+$")]
    pub shortcut: String,
    /// May hold `${Name}` variables, filled from the session when inserted.
    #[schema(max_length = 2000, pattern = r"^[\s\S]*\S[\s\S]*$")]
    pub text: String,
}

/// Adds a quick reply to the shared list (admins) or to the caller's own.
#[utoipa::path(
    post,
    path = "/api/v1/quick-replies",
    tag = "quick-replies",
    security(("bearer" = [])),
    request_body = NewQuickReply,
    responses(
        (status = 201, body = QuickReply),
        (status = 403, description = "an agent adding to the shared list", body = ErrorBody),
        (status = 409, description = "`shortcut_taken`, `too_many_quick_replies`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_quick_reply(
    State(state): State<AppState>,
    auth: Auth,
    Json(new): Json<NewQuickReply>,
) -> Result<(StatusCode, axum::Json<QuickReply>)> {
    let shortcut = new.shortcut.trim().to_owned();
    let mut errors = FieldErrors::new();
    check_shortcut(&mut errors, &shortcut);
    check_text(&mut errors, &new.text);
    errors.into_result()?;
    let owner = match new.scope {
        Scope::Tenant if auth.role != Role::Admin => return Err(Error::Forbidden),
        Scope::Tenant => None,
        Scope::Personal => Some(auth.agent_id),
    };
    let created = quick_replies::create(&state.db, auth.tenant, owner, shortcut, new.text).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// The quick reply if the caller may change it: their own, or a shared one for an
/// admin. Another agent's is not found; a shared one is forbidden to an agent.
async fn changeable(state: &AppState, auth: &Auth, id: uuid::Uuid) -> Result<QuickReply> {
    let q = quick_replies::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("quick reply")?;
    match q.owner_id {
        Some(owner) if owner == auth.agent_id => Ok(q),
        Some(_) => Err(Error::NotFound("quick reply")),
        None if auth.role == Role::Admin => Ok(q),
        None => Err(Error::Forbidden),
    }
}

/// Changes to a quick reply; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuickReplyPatch {
    /// 1 to 32 letters, digits, `-` or `_` (letters of any script; the pattern shows
    /// the ASCII ones).
    #[schema(min_length = 1, max_length = 32, pattern = r"^[0-9A-Za-z_-]+$")]
    pub shortcut: Option<String>,
    #[schema(max_length = 2000, pattern = r"^[\s\S]*\S[\s\S]*$")]
    pub text: Option<String>,
}

/// Changes a quick reply of the caller's own list, or (admins) of the shared list.
#[utoipa::path(
    patch,
    path = "/api/v1/quick-replies/{id}",
    tag = "quick-replies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Quick reply id")),
    request_body = QuickReplyPatch,
    responses(
        (status = 200, body = QuickReply),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`shortcut_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn update_quick_reply(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(patch): Json<QuickReplyPatch>,
) -> Result<axum::Json<QuickReply>> {
    let shortcut = patch.shortcut.map(|s| s.trim().to_owned());
    let mut errors = FieldErrors::new();
    if let Some(s) = &shortcut {
        check_shortcut(&mut errors, s);
    }
    if let Some(t) = &patch.text {
        check_text(&mut errors, t);
    }
    errors.into_result()?;
    changeable(&state, &auth, id).await?;
    let updated = quick_replies::update(&state.db, auth.tenant, id, shortcut, patch.text)
        .await
        .or_not_found("quick reply")?;
    Ok(axum::Json(updated))
}

/// Deletes a quick reply of the caller's own list, or (admins) of the shared list.
#[utoipa::path(
    delete,
    path = "/api/v1/quick-replies/{id}",
    tag = "quick-replies",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Quick reply id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn delete_quick_reply(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<StatusCode> {
    changeable(&state, &auth, id).await?;
    quick_replies::delete(&state.db, auth.tenant, id)
        .await
        .or_not_found("quick reply")?;
    Ok(StatusCode::NO_CONTENT)
}
