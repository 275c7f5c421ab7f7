//! `/api/v1/sessions`: the tenant's sessions and their transcripts (service records),
//! as far as the caller may see them: everything for an admin, their groups' for a
//! supervisor, their own work for an agent (`sessions::visibility`).

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{ErrorBody, NotFoundAs, Result};
use super::extract::{Auth, Id, Query};
use crate::directory::{FieldErrors, Page, PageRequest};
use crate::sessions::{Message, Session, Status};
use crate::state::AppState;
use crate::store::sessions::{self as store, SessionFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(get_session))
        .routes(routes!(session_messages))
}

/// Which sessions to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// Page number, from 1. Default 1.
    #[serde(default = "first_page")]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: u64,
    /// Items per page, 1–100. Default 20.
    #[serde(default = "twenty")]
    #[param(minimum = 1, maximum = 100)]
    pub page_size: u64,
    /// Only sessions in this status.
    pub status: Option<Status>,
    pub channel_id: Option<Uuid>,
    /// Only this end user's sessions.
    #[param(max_length = 128)]
    pub user_id: Option<String>,
}

fn first_page() -> u64 {
    1
}

fn twenty() -> u64 {
    20
}

/// Lists sessions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/sessions",
    tag = "sessions",
    security(("bearer" = [])),
    params(SessionQuery),
    responses((status = 200, body = Page<Session>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_sessions(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SessionQuery>,
) -> Result<axum::Json<Page<Session>>> {
    let page = PageRequest {
        page: q.page,
        page_size: q.page_size,
    };
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    if q.user_id.as_ref().is_some_and(|u| u.chars().count() > 128) {
        errors.add("user_id", "must be at most 128 characters");
    }
    errors.into_result()?;
    let filter = SessionFilter {
        visibility: auth.visibility(&state).await?,
        status: q.status,
        channel_id: q.channel_id,
        user_id: q.user_id,
    };
    Ok(axum::Json(
        store::list(&state.db, auth.tenant, &filter, page).await?,
    ))
}

/// One session: its status, flow position, variables, queue and end.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody))
)]
async fn get_session(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<axum::Json<Session>> {
    Ok(axum::Json(visible(&state, &auth, id).await?))
}

/// The session if the caller may read it (`sessions::visibility`): as an agent, what
/// they serve, served or were offered, what is queued for their groups, and every
/// session of a user they serve or served on the channel; a supervisor also their
/// groups', an admin everything.
pub(super) async fn visible(state: &AppState, auth: &Auth, id: Uuid) -> Result<Session> {
    let who = auth.visibility(state).await?;
    store::get_visible(&state.db, auth.tenant, id, &who)
        .await
        .or_not_found("session")
}

/// A page of a transcript.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// Messages per page, 1–100 (default 100).
    #[serde(default = "hundred", rename = "Limit", alias = "limit")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: u64,
    /// Messages to skip, at most 1000000.
    #[serde(default, rename = "Offset", alias = "offset")]
    #[param(maximum = 1000000)]
    pub offset: u64,
    /// `asc` (oldest first, the default) or `desc`, in any case.
    #[serde(default = "ascending", rename = "Order", alias = "order")]
    #[param(pattern = "^([aA][sS][cC]|[dD][eE][sS][cC])$")]
    pub order: String,
}

impl TranscriptQuery {
    /// `(limit, offset, newest_first)`, or every bad parameter named.
    pub fn checked(&self) -> std::result::Result<(u64, u64, bool), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.limit == 0 || self.limit > 100 {
            errors.add("Limit", "must be between 1 and 100");
        }
        if self.offset > 1_000_000 {
            errors.add("Offset", "must be at most 1000000");
        }
        let newest_first = match self.order.to_ascii_lowercase().as_str() {
            "asc" => false,
            "desc" => true,
            _ => {
                errors.add("Order", "must be `asc` or `desc`");
                false
            }
        };
        errors.into_result()?;
        Ok((self.limit, self.offset, newest_first))
    }
}

fn hundred() -> u64 {
    100
}

fn ascending() -> String {
    "asc".into()
}

/// A session's transcript, paged (`Limit` ≤ 100, `Offset`, `Order`).
#[utoipa::path(
    get,
    path = "/api/v1/sessions/{id}/messages",
    tag = "sessions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id"), TranscriptQuery),
    responses((status = 200, body = Vec<Message>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn session_messages(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(q): Query<TranscriptQuery>,
) -> Result<axum::Json<Vec<Message>>> {
    transcript(&state, &auth, id, &q).await
}

/// The page of session `id`'s transcript that `q` asks for, if the caller may see
/// the session.
pub(super) async fn transcript(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    q: &TranscriptQuery,
) -> Result<axum::Json<Vec<Message>>> {
    let (limit, offset, newest_first) = q.checked()?;
    visible(state, auth, id).await?;
    Ok(axum::Json(
        store::messages(&state.db, id, limit, offset, newest_first).await?,
    ))
}
